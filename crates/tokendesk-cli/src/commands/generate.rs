//! `tokendesk generate`: the man pages and shell completions, made from the clap definitions in
//! `cli.rs` so they can never say something the command line does not do. The packages install
//! them (scripts/package.sh); a user who built from source can put them where their shell looks.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;
use tokendesk_core::{Error, ErrorCode, Result};

use crate::cli::{Cli, GenerateCommand};

/// One generated file: its name and its content.
pub struct Generated {
    pub name: String,
    pub content: Vec<u8>,
}

pub fn run(command: &GenerateCommand) -> Result<()> {
    match command {
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
            for page in man_pages()? {
                write(&dir.join(&page.name), &page.content)?;
            }
            Ok(())
        }
        GenerateCommand::Completions { shell, dir } => {
            let script = completions(*shell);
            match dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
                    write(&dir.join(&script.name), &script.content)
                }
                None => std::io::stdout()
                    .write_all(&script.content)
                    .map_err(|e| Error::new(ErrorCode::Internal, format!("stdout: {e}"))),
            }
        }
    }
}

/// `tokendesk.1`, one page per command and nested command (`tokendesk-token.1`,
/// `tokendesk-profile-add.1`, …), and `tokendesk-cli.1` pointing at `tokendesk.1` (the two
/// programs take the same command lines).
pub fn man_pages() -> Result<Vec<Generated>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = Vec::new();
    add_pages(command, &mut pages)?;
    pages.push(Generated {
        name: "tokendesk-cli.1".into(),
        content: b".so man1/tokendesk.1\n".to_vec(),
    });
    Ok(pages)
}

fn add_pages(command: clap::Command, pages: &mut Vec<Generated>) -> Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        add_pages(sub.clone(), pages)?;
    }
    // The help's closing text (examples, exit codes, …) is laid out for a terminal: it becomes
    // sections of its own, kept as written, instead of one refilled "EXTRA" section.
    let after_help = command.get_after_help().map(|h| h.to_string());
    let man = clap_mangen::Man::new(command.after_help(None::<&'static str>))
        .manual("TokenDesk")
        .source(format!("TokenDesk {}", env!("CARGO_PKG_VERSION")));
    let mut content = Vec::new();
    man.render(&mut content)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("man page: {e}")))?;
    if let Some(after_help) = after_help {
        content = with_sections(&content, &after_help);
    }
    pages.push(Generated {
        name: man.get_filename(),
        content,
    });
    Ok(())
}

/// `page` with the help's closing text as sections before VERSION (or at the end): each
/// `Heading:` line starts one (`Exit codes` is man's EXIT STATUS), its lines shown as written.
fn with_sections(page: &[u8], after_help: &str) -> Vec<u8> {
    let mut roff = clap_mangen::roff::Roff::new();
    for (heading, body) in sections(after_help) {
        roff.control("SH", [heading.as_str()])
            .control("nf", [])
            .text([clap_mangen::roff::roman(body)])
            .control("fi", []);
    }
    // The apostrophe preamble is in the page already.
    let preamble = clap_mangen::roff::Roff::new().render();
    let rendered = roff.render();
    let sections = rendered.strip_prefix(&preamble).unwrap_or(&rendered);
    let page = String::from_utf8_lossy(page);
    let at = page.find("\n.SH VERSION\n").map_or(page.len(), |i| i + 1);
    format!("{}{sections}{}", &page[..at], &page[at..]).into_bytes()
}

/// The help's closing text split at its `Heading:` lines, the body's two-space indent removed.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_suffix(':').filter(|_| !line.starts_with(' ')) {
            let heading = match heading {
                "Exit codes" => "EXIT STATUS".to_owned(),
                other => other.to_uppercase(),
            };
            sections.push((heading, Vec::new()));
        } else {
            if sections.is_empty() {
                sections.push(("NOTES".to_owned(), Vec::new()));
            }
            let body = &mut sections.last_mut().expect("one section at least").1;
            body.push(line.strip_prefix("  ").unwrap_or(line));
        }
    }
    sections
        .into_iter()
        .map(|(heading, lines)| (heading, lines.join("\n").trim_matches('\n').to_owned()))
        .collect()
}

/// The completion script for `shell`, named as that shell's completion directories expect:
/// `tokendesk` (bash-completion), `_tokendesk` (zsh), `tokendesk.fish`.
pub fn completions(shell: Shell) -> Generated {
    let mut command = Cli::command();
    let mut content = Vec::new();
    clap_complete::generate(shell, &mut command, "tokendesk", &mut content);
    let name = match shell {
        Shell::Bash => "tokendesk".to_owned(),
        other => clap_complete::Generator::file_name(&other, "tokendesk"),
    };
    Generated { name, content }
}

fn write(path: &Path, content: &[u8]) -> Result<()> {
    std::fs::write(path, content).map_err(|e| write_error(path, &e))
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("cannot write {}: {e}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command a user can type, as its man page's name: `tokendesk-profile-add`, …
    fn visible_commands(command: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix}-{}", sub.get_name());
            visible_commands(sub, &name, out);
            out.push(name);
        }
    }

    fn page<'a>(pages: &'a [Generated], name: &str) -> &'a str {
        let page = pages
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no man page {name}"));
        std::str::from_utf8(&page.content).expect("man pages are UTF-8 roff")
    }

    #[test]
    fn a_man_page_for_every_command_and_nested_command() {
        let pages = man_pages().unwrap();
        let mut expected = Vec::new();
        visible_commands(&Cli::command(), "tokendesk", &mut expected);
        expected.push("tokendesk".into());
        for name in &expected {
            let text = page(&pages, &format!("{name}.1"));
            // `man` shows the page's own name in its header and NAME section.
            assert!(
                text.contains(&format!(".TH {name} 1 ")) || text.contains(&format!(".TH {name} ")),
                "{name}.1 is titled after its command: {}",
                text.lines().next().unwrap_or_default()
            );
        }
        assert!(expected.iter().any(|n| n == "tokendesk-profile-add"));
        // The pages and tokendesk-cli.1, nothing else (no page for clap's `help`).
        assert_eq!(pages.len(), expected.len() + 1, "one page per command");
        assert_eq!(page(&pages, "tokendesk-cli.1"), ".so man1/tokendesk.1\n");
    }

    #[test]
    fn the_main_man_page_lists_commands_exit_codes_and_environment() {
        let pages = man_pages().unwrap();
        let main = page(&pages, "tokendesk.1");
        for command in Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
        {
            assert!(
                main.contains(&format!("tokendesk\\-{}", command.get_name()))
                    // roff writes a hyphen as `\-`: `client\-metadata`.
                    || main.contains(&command.get_name().replace('-', "\\-")),
                "tokendesk.1 lists `{}`",
                command.get_name()
            );
        }
        // The help's closing text is there, in sections of their own, every line of it.
        for heading in ["EXAMPLES", "EXIT STATUS", "ENVIRONMENT", "LIMITS"] {
            assert!(
                main.contains(&format!(".SH \"{heading}\"\n"))
                    || main.contains(&format!(".SH {heading}\n")),
                "tokendesk.1 has a section {heading}"
            );
        }
        assert!(!main.contains(".SH EXTRA"), "no refilled catch-all section");
        let after_help = Cli::command().get_after_help().unwrap().to_string();
        // roff's escapes undone: hyphens, backslashes, apostrophes.
        let shown = main
            .replace("\\-", "-")
            .replace("\\*(Aq", "'")
            .replace("\\\\", "\\");
        for line in after_help.lines().filter(|l| l.starts_with("  ")) {
            let line = format!("\n{}\n", &line[2..]);
            assert!(
                shown.contains(&line),
                "tokendesk.1 keeps the line {line:?} as written"
            );
        }
        assert!(
            main.find(".SH \"EXIT STATUS\"") < main.find(".SH VERSION"),
            "the sections come before VERSION, as man pages order them"
        );
        assert!(
            main.contains(env!("CARGO_PKG_VERSION")),
            "tokendesk.1 names the version it documents"
        );
    }

    #[test]
    fn the_token_page_documents_its_flags() {
        let pages = man_pages().unwrap();
        let token = page(&pages, "tokendesk-token.1");
        for flag in ["min\\-valid", "header", "env", "id\\-token"] {
            assert!(token.contains(flag), "tokendesk-token.1 documents --{flag}");
        }
    }

    #[test]
    fn completions_for_bash_zsh_and_fish_know_every_command() {
        let commands: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_owned())
            .collect();
        for (shell, name) in [
            (Shell::Bash, "tokendesk"),
            (Shell::Zsh, "_tokendesk"),
            (Shell::Fish, "tokendesk.fish"),
        ] {
            let script = completions(shell);
            assert_eq!(
                script.name, name,
                "{shell}'s file is named as {shell} looks for it"
            );
            let text = String::from_utf8(script.content).unwrap();
            for command in &commands {
                assert!(
                    text.contains(command.as_str()),
                    "{shell} completes `{command}`"
                );
            }
            // Flags of nested commands too.
            assert!(
                text.contains("min-valid"),
                "{shell} completes token --min-valid"
            );
            assert!(
                text.contains("auth-method"),
                "{shell} completes profile add --auth-method"
            );
        }
    }

    #[test]
    fn generate_writes_the_files_into_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        run(&GenerateCommand::Man {
            dir: dir.path().join("man1"),
        })
        .unwrap();
        run(&GenerateCommand::Completions {
            shell: Shell::Zsh,
            dir: Some(dir.path().join("zsh")),
        })
        .unwrap();
        assert!(dir.path().join("man1/tokendesk.1").is_file());
        assert!(dir.path().join("man1/tokendesk-sandbox.1").is_file());
        assert!(dir.path().join("zsh/_tokendesk").is_file());
    }
}
