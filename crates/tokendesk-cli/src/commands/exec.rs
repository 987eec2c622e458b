//! `tokendesk exec PROFILE [--env NAME] [--min-valid N] -- COMMAND ARGS…`: runs COMMAND with a
//! valid access token in its environment — never in an argument list, which other users of the
//! machine can read in `/proc/*/cmdline`. On UNIX this process becomes COMMAND (exec), so its
//! exit code and the signals sent to it are COMMAND's own.

use std::ffi::OsString;
use std::process::ExitCode;

use tokendesk_core::{Core, Error, Result};

use super::token::{self, Served};
use crate::cli::ExecArgs;
use crate::exit;

/// The variable that holds the token unless `--env` names another.
pub const DEFAULT_VAR: &str = "TOKENDESK_ACCESS_TOKEN";
/// When the token expires (epoch seconds), as `tokendesk token --env` says it.
pub const EXPIRES_VAR: &str = "TOKENDESK_EXPIRES_AT";

/// `exec PROFILE [--env NAME] [--min-valid N] [--] COMMAND ARGS…` read without the parser (the
/// door's fast path); `None` for anything else, which the parser then reads (and explains).
pub fn quick_args(args: &[OsString]) -> Option<ExecArgs> {
    let mut rest = args.iter();
    if rest.next()?.to_str()? != "exec" {
        return None;
    }
    let mut out = ExecArgs {
        profile: String::new(),
        env: DEFAULT_VAR.to_owned(),
        min_valid: 60,
        command: Vec::new(),
    };
    let mut profile = None;
    while let Some(a) = rest.next() {
        let a = a.to_str()?;
        match a {
            "--" => break,
            "--env" => out.env = rest.next()?.to_str()?.to_owned(),
            "--min-valid" => out.min_valid = rest.next()?.to_str()?.parse().ok()?,
            _ if a.starts_with("--env=") => out.env = a["--env=".len()..].to_owned(),
            _ if a.starts_with("--min-valid=") => {
                out.min_valid = a["--min-valid=".len()..].parse().ok()?
            }
            _ if a.starts_with('-') => return None,
            _ if profile.is_none() => profile = Some(a.to_owned()),
            _ => {
                out.command.push(a.into());
                break;
            }
        }
    }
    out.command.extend(rest.cloned());
    out.profile = profile?;
    (!out.command.is_empty() && valid_var(&out.env)).then_some(out)
}

/// Runs the command with a token from the agent; `None` when no agent answers.
pub fn fast_path(args: &ExecArgs, workspaces: &[std::path::PathBuf]) -> Option<ExitCode> {
    match token::from_agent(&args.profile, args.min_valid, false, None, workspaces)? {
        Ok(served) => Some(run_with(args, &served)),
        Err(e) => Some(exit::report(&exit::with_login_hint(e, &args.profile))),
    }
}

/// Runs the command with a token from the store (the agent did not answer).
pub async fn run(core: &Core, args: &ExecArgs) -> Result<ExitCode> {
    if !valid_var(&args.env) {
        return Err(Error::invalid_field(
            "env",
            format!(
                "\"{}\" cannot name an environment variable: use letters, digits and _ \
                 (not starting with a digit).",
                args.env
            ),
        ));
    }
    let served = token::from_core(core, &args.profile, args.min_valid)
        .await
        .map_err(|e| exit::with_login_hint(e, &args.profile))?;
    Ok(run_with(args, &served))
}

/// A portable variable name: what every shell can read back.
fn valid_var(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Starts the command (on UNIX: becomes it). Returns only when it cannot be started, or (not
/// on UNIX) when it ended.
fn run_with(args: &ExecArgs, served: &Served) -> ExitCode {
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap and quick_args require a command");
    let mut command = std::process::Command::new(program);
    command.args(rest).env(&args.env, &served.token);
    match served.expires_at {
        Some(at) => command.env(EXPIRES_VAR, (at / 1000).to_string()),
        None => command.env_remove(EXPIRES_VAR),
    };
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => return ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(e) => e,
    };
    let shown = program.to_string_lossy();
    let (code, why) = match error.kind() {
        std::io::ErrorKind::NotFound => (
            exit::COMMAND_NOT_FOUND,
            "command not found (check its name and PATH)".to_owned(),
        ),
        std::io::ErrorKind::PermissionDenied => (
            exit::CANNOT_EXECUTE,
            "permission denied (is it executable?)".to_owned(),
        ),
        _ => (exit::CANNOT_EXECUTE, error.to_string()),
    };
    errln!("tokendesk exec: {shown}: {why}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(line: &str) -> Option<ExecArgs> {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        quick_args(&args)
    }

    #[test]
    fn the_door_reads_plain_exec_lines_and_leaves_the_rest_to_the_parser() {
        let a = quick("exec gw -- curl -s -H x https://api").unwrap();
        assert_eq!(a.profile, "gw");
        assert_eq!(a.env, DEFAULT_VAR);
        assert_eq!(
            a.command,
            ["curl", "-s", "-H", "x", "https://api"].map(OsString::from)
        );
        let a = quick("exec --env=GH_TOKEN --min-valid 300 gw git push").unwrap();
        assert_eq!((a.env.as_str(), a.min_valid), ("GH_TOKEN", 300));
        assert_eq!(a.command, ["git", "push"].map(OsString::from));
        let a = quick("exec gw -- --weird-program").unwrap();
        assert_eq!(a.command, [OsString::from("--weird-program")]);
        assert!(quick("exec gw").is_none(), "no command: clap says so");
        assert!(quick("exec gw --").is_none());
        assert!(
            quick("exec gw --env 1BAD -- true").is_none(),
            "clap/run reports it"
        );
        assert!(quick("exec gw --help").is_none());
        assert!(quick("exec --min-valid soon gw true").is_none());
        assert!(quick("token gw").is_none());
    }

    #[test]
    fn variable_names() {
        assert!(valid_var("TOKENDESK_ACCESS_TOKEN") && valid_var("_x1"));
        assert!(!valid_var("") && !valid_var("1A") && !valid_var("A=B") && !valid_var("A-B"));
    }
}
