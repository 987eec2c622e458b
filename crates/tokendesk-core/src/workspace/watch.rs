//! Workspaces seen live: a file watcher on each folder; a changed file re-syncs that file only
//! (no full re-read), a changed folder (a checkout that moved files) the workspace's changed
//! files. The sync itself is the core's (`Core::sync_workspace_file`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::api::Core;
use crate::error::{Error, ErrorCode, Result};

/// How long a burst of events (a `git pull` writing many files) is folded into one.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Watches workspaces while it lives.
pub struct WorkspaceWatch {
    _debouncer: Debouncer<notify::RecommendedWatcher>,
}

/// What a changed path means for the workspace `dir` it is in.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    /// A profile file was written or removed.
    File(PathBuf),
    /// A folder changed: re-read the workspace's changed files.
    Folder,
    /// Nothing of ours (`.git`, other files).
    Ignored,
}

/// Classifies a path inside a workspace.
pub fn classify(dir: &Path, path: &Path) -> Change {
    let Ok(rel) = path.strip_prefix(dir) else {
        return Change::Ignored;
    };
    let hidden = rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    if hidden {
        Change::Ignored
    } else if super::is_profile_file(path) {
        Change::File(path.to_path_buf())
    } else if path.is_dir() {
        Change::Folder
    } else {
        Change::Ignored
    }
}

impl WorkspaceWatch {
    /// Starts watching `dirs`; changes are synced into `core` on the watcher's thread.
    pub fn start(core: Arc<Core>, dirs: Vec<PathBuf>) -> Result<Self> {
        let dirs: Vec<PathBuf> = dirs
            .into_iter()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d))
            .collect();
        let watched = dirs.clone();
        let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let mut folders = Vec::new();
            let mut seen = false;
            for event in events {
                let Some(dir) = watched.iter().find(|d| event.path.starts_with(d)) else {
                    continue;
                };
                let change = classify(dir, &event.path);
                seen |= change != Change::Ignored;
                match change {
                    Change::File(path) => {
                        let status = core.sync_workspace_file(dir, &path);
                        for p in &status.problems {
                            tracing::warn!(file = %status.file, problem = %p, "workspace file");
                        }
                    }
                    Change::Folder if !folders.contains(dir) => folders.push(dir.clone()),
                    _ => {}
                }
            }
            for dir in folders {
                core.sync_workspace(&dir, false);
            }
            if seen {
                core.workspace_files_changed();
            }
        })
        .map_err(watch_error)?;
        for d in &dirs {
            debouncer
                .watcher()
                .watch(d, RecursiveMode::Recursive)
                .map_err(|e| {
                    Error::new(
                        ErrorCode::Storage,
                        format!("Cannot watch workspace {}: {e}.", d.display()),
                    )
                })?;
        }
        Ok(Self {
            _debouncer: debouncer,
        })
    }
}

fn watch_error(e: notify::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("Cannot start the workspace file watcher: {e}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_profile_files_outside_hidden_folders_count() {
        let d = Path::new("/ws");
        assert_eq!(
            classify(d, Path::new("/ws/test/gw.toml")),
            Change::File("/ws/test/gw.toml".into())
        );
        assert_eq!(classify(d, Path::new("/ws/.git/index")), Change::Ignored);
        assert_eq!(classify(d, Path::new("/ws/.git/x.toml")), Change::Ignored);
        assert_eq!(classify(d, Path::new("/ws/README.md")), Change::Ignored);
        assert_eq!(classify(d, Path::new("/elsewhere/a.toml")), Change::Ignored);
    }
}
