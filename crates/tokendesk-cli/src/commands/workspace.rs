//! `tokendesk workspace init|status|add|remove`, and opening the workspaces of a run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokendesk_core::workspace::{self, WorkspaceStatus};
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::WorkspaceCommand;

/// Opens the run's workspaces; a file with a problem is one warning line, the rest still open.
pub fn open(core: &Core, dirs: &[PathBuf], quiet: bool) -> Vec<WorkspaceStatus> {
    let statuses = core.open_workspaces(dirs);
    if !quiet {
        for s in &statuses {
            say_removed(s);
            if let Some(p) = &s.problem {
                eprintln!("warning: {p}");
            } else if s.problem_count() > 0 {
                eprintln!(
                    "warning: workspace {}: {} file(s) with problems; see `tokendesk workspace status`.",
                    s.dir,
                    s.problem_count()
                );
            }
        }
    }
    statuses
}

pub fn run(core: &Core, c: &WorkspaceCommand, dirs: &[PathBuf]) -> Result<ExitCode> {
    match c {
        WorkspaceCommand::Init { dir } => {
            let written = core.init_workspace(dir)?;
            for p in &written {
                println!("{}", p.display());
            }
            eprintln!(
                "Wrote {} file(s) into {}. Commit them, then open the folder with `tokendesk \
                 workspace add {}` (or --workspace).",
                written.len(),
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        WorkspaceCommand::Status => status(core, dirs),
        WorkspaceCommand::Add { dir } => {
            if !dir.is_dir() {
                return Err(Error::new(
                    ErrorCode::NotFound,
                    format!("{} is not a folder.", dir.display()),
                ));
            }
            let dir = absolute(dir);
            let mut saved = core.saved_workspaces()?;
            if !saved.contains(&dir) {
                saved.push(dir.clone());
                core.set_saved_workspaces(&saved)?;
            }
            let s = core.sync_workspace(Path::new(&dir), true);
            say_removed(&s);
            eprintln!(
                "Opened workspace {dir}: {} profile file(s), {} with problems.",
                s.files.len(),
                s.problem_count()
            );
            Ok(ExitCode::SUCCESS)
        }
        WorkspaceCommand::Remove { dir } => {
            let dir = absolute(dir);
            let mut saved = core.saved_workspaces()?;
            let before = saved.len();
            saved.retain(|d| d != &dir);
            if saved.len() == before {
                return Err(Error::not_found(format!(
                    "{dir} is not in the saved workspaces."
                )));
            }
            core.set_saved_workspaces(&saved)?;
            eprintln!("Workspace {dir} is no longer opened.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line on stderr for each profile a sync removed (its file gone from the workspace).
fn say_removed(s: &WorkspaceStatus) {
    for r in &s.removed {
        eprintln!(
            "{} ({}) is no longer in workspace {}: its local tokens, history and keychain \
             entries were deleted.",
            r.name, r.file, s.dir
        );
    }
}

fn absolute(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

fn status(core: &Core, dirs: &[PathBuf]) -> Result<ExitCode> {
    if dirs.is_empty() {
        eprintln!(
            "No workspace open: use --workspace DIR, ${} or `tokendesk workspace add DIR`.",
            workspace::ENV
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut bad = false;
    for d in dirs {
        let s = core.sync_workspace(d, true);
        say_removed(&s);
        println!("{}", s.dir);
        if let Some(p) = &s.problem {
            println!("  {p}");
            bad = true;
        }
        for f in &s.files {
            match (&f.name, f.problems.is_empty()) {
                (Some(name), true) => println!("  {}  {name}", f.file),
                _ => {
                    bad = true;
                    for p in &f.problems {
                        match (p.line, p.column) {
                            (Some(l), Some(c)) => println!("  {}:{l}:{c}: {}", f.file, p.message),
                            _ => println!("  {}: {}", f.file, p.message),
                        }
                    }
                }
            }
        }
    }
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
