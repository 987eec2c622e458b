//! `tokendesk workspace init|status|add|remove|prune`, and opening the workspaces of a run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokendesk_core::clock::date;
use tokendesk_core::profile::ProfileId;
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
                errln!("warning: {p}");
            } else if s.problem_count() > 0 {
                errln!(
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
                outln!("{}", p.display());
            }
            errln!(
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
            errln!(
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
            errln!("Workspace {dir} is no longer opened.");
            Ok(ExitCode::SUCCESS)
        }
        WorkspaceCommand::Prune {
            older_than,
            dry_run,
        } => prune(core, *older_than, *dry_run),
    }
}

/// Deletes the parked profiles (all, or those parked for more than `older_than` days), one line
/// each on stdout; a keychain that refuses keeps its profile parked and sets the exit code.
fn prune(core: &Core, older_than: Option<u32>, dry_run: bool) -> Result<ExitCode> {
    let cutoff = older_than.map(|d| core.now() - i64::from(d) * 86_400_000);
    let parked: Vec<_> = core
        .parked_profiles(None)?
        .into_iter()
        .filter(|p| cutoff.is_none_or(|c| p.since < c))
        .collect();
    let mut failed: Option<Error> = None;
    for p in &parked {
        let line = format!(
            "{}  {}/{}  parked since {}",
            p.name,
            p.workspace,
            p.file,
            date(p.since)
        );
        if dry_run {
            outln!("{line}");
            continue;
        }
        match core.delete_parked(&ProfileId::from(p.id.as_str())) {
            Ok(_) => outln!("{line}: deleted"),
            Err(e) => {
                errln!("error: {}", e.message);
                failed = Some(e);
            }
        }
    }
    if parked.is_empty() {
        errln!("No parked profile to delete.");
    } else if dry_run {
        errln!(
            "{} parked profile(s) would be deleted with their keychain entries (--dry-run: \
             nothing deleted).",
            parked.len()
        );
    }
    Ok(match failed {
        Some(e) => ExitCode::from(crate::exit::code_for(&e)),
        None => ExitCode::SUCCESS,
    })
}

/// One line on stderr for each profile a sync parked (its file gone from the workspace).
fn say_removed(s: &WorkspaceStatus) {
    for r in &s.removed {
        errln!(
            "{} ({}) left workspace {}: parked, not deleted; its tokens, history and keychain \
             entries are kept and come back with the file (`tokendesk workspace prune` \
             deletes them).",
            r.name,
            r.file,
            s.dir
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
        errln!(
            "No workspace open: use --workspace DIR, ${} or `tokendesk workspace add DIR`.",
            workspace::ENV
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut bad = false;
    for d in dirs {
        let s = core.sync_workspace(d, true);
        say_removed(&s);
        outln!("{}", s.dir);
        if let Some(p) = &s.problem {
            outln!("  {p}");
            bad = true;
        }
        for f in &s.files {
            match (&f.name, f.problems.is_empty()) {
                (Some(name), true) => outln!("  {}  {name}", f.file),
                _ => {
                    bad = true;
                    for p in &f.problems {
                        match (p.line, p.column) {
                            (Some(l), Some(c)) => outln!("  {}:{l}:{c}: {}", f.file, p.message),
                            _ => outln!("  {}: {}", f.file, p.message),
                        }
                    }
                }
            }
        }
        for p in &s.parked {
            outln!(
                "  {}  {}  parked since {} (file gone; `tokendesk workspace prune` deletes it)",
                p.file,
                p.name,
                date(p.since)
            );
        }
    }
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
