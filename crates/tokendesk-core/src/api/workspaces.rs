//! Workspaces opened beside the local profiles: each file synced into the store under its
//! stable id (so tokens, history, the refresher and the agent work as for any profile), edits
//! written back to the file, and every file's problems said without disturbing the others.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::Core;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::store::{Origin, Tx};
use crate::workspace::{
    self, FileProblem, FileStatus, PARKED_DAYS, ParkedProfile, RemovedProfile, WorkspaceStatus,
};

/// The store's state entry holding the workspaces opened from Settings (a JSON list of paths).
const SAVED: &str = "workspaces";

/// A file's size and modification time: a changed stamp means read it again.
fn stamp(path: &Path) -> String {
    std::fs::metadata(path)
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!("{}:{t}", m.len())
        })
        .unwrap_or_default()
}

/// `None` for a file not read again (nothing to write), else its stamp.
fn unchanged_stamp(st: String, unchanged: bool) -> Option<String> {
    (!unchanged).then_some(st)
}

fn key(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

fn problem(message: String) -> FileProblem {
    FileProblem {
        line: None,
        column: None,
        message,
    }
}

impl Core {
    /// The workspaces saved in settings (the app's list, `tokendesk workspace add`).
    pub fn saved_workspaces(&self) -> Result<Vec<String>> {
        Ok(self
            .store
            .state(SAVED)?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// The workspaces to open: `extra` (the command line's `--workspace`), then
    /// `$TOKENDESK_WORKSPACE` (a path list), then the saved ones; each once.
    pub fn workspace_dirs(&self, extra: &[PathBuf]) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = extra.to_vec();
        if let Some(v) = std::env::var_os(workspace::ENV) {
            out.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        out.extend(
            self.saved_workspaces()
                .unwrap_or_default()
                .into_iter()
                .map(PathBuf::from),
        );
        let mut seen = Vec::new();
        out.retain(|d| {
            let key = key(d);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        out
    }

    pub fn set_saved_workspaces(&self, dirs: &[String]) -> Result<()> {
        self.store.put_state(SAVED, &serde_json::to_string(dirs)?)
    }

    /// Adds a folder to the saved workspaces (once) and reads it in full.
    pub fn add_saved_workspace(&self, dir: &Path) -> Result<WorkspaceStatus> {
        if !dir.is_dir() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("{} is not a folder.", dir.display()),
            ));
        }
        let dir = key(dir);
        let mut saved = self.saved_workspaces()?;
        if !saved.iter().any(|d| key(Path::new(d)) == dir) {
            saved.push(dir.clone());
            self.set_saved_workspaces(&saved)?;
        }
        Ok(self.sync_workspace(Path::new(&dir), true))
    }

    /// Removes a folder from the saved workspaces: no longer opened or watched (its profiles
    /// stay in the store, as with `tokendesk workspace remove`).
    pub fn remove_saved_workspace(&self, dir: &str) -> Result<()> {
        let mut saved = self.saved_workspaces()?;
        let before = saved.len();
        let k = key(Path::new(dir));
        saved.retain(|d| d != dir && key(Path::new(d)) != k);
        if saved.len() == before {
            return Err(Error::not_found(format!(
                "{dir} is not in the saved workspaces."
            )));
        }
        self.set_saved_workspaces(&saved)
    }

    /// The open workspaces (command line, environment, saved) synced and their status; `full`
    /// reads every file again.
    pub fn workspace_statuses(&self, full: bool) -> Vec<WorkspaceStatus> {
        self.workspace_dirs(&[])
            .iter()
            .map(|d| self.sync_workspace(d, full))
            .collect()
    }

    /// Opens workspaces: each one's files read (unchanged ones skipped) and synced into the
    /// store. A folder or file with a problem is reported in its status, never raised.
    pub fn open_workspaces(&self, dirs: &[PathBuf]) -> Vec<WorkspaceStatus> {
        dirs.iter().map(|d| self.sync_workspace(d, false)).collect()
    }

    /// Reads a workspace (every file with `full`, else only the files changed since the last
    /// read) and syncs it; profiles whose file is gone are parked (hidden, everything kept), a
    /// parked profile whose file is back returns, and one parked for over [`PARKED_DAYS`] is
    /// deleted with what is kept for it.
    pub fn sync_workspace(&self, dir: &Path, full: bool) -> WorkspaceStatus {
        let ws = key(dir);
        let mut status = WorkspaceStatus {
            dir: dir.display().to_string(),
            files: Vec::new(),
            removed: Vec::new(),
            parked: Vec::new(),
            problem: None,
        };
        let paths = match workspace::files(dir) {
            Ok(p) => p,
            Err(e) => {
                status.problem = Some(format!(
                    "Cannot read workspace {}: {e}. Check the path (Settings, --workspace, \
                     ${}).",
                    dir.display(),
                    workspace::ENV
                ));
                return status;
            }
        };
        let known = self.store.origins(Some(&ws)).unwrap_or_default();
        let by_file: HashMap<&str, &Origin> = known.iter().map(|o| (o.file.as_str(), o)).collect();
        let mut stored: HashMap<ProfileId, Profile> = match full {
            true => HashMap::new(),
            false => self
                .store
                .list_profiles()
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect(),
        };
        let mut reads = Vec::with_capacity(paths.len());
        let mut stamps = Vec::with_capacity(paths.len());
        for path in &paths {
            let rel = workspace::relative(dir, path);
            let st = stamp(path);
            // An unchanged file (same size and time) is not read again, nor written.
            let unchanged = by_file
                .get(rel.as_str())
                .filter(|o| o.stamp == st)
                .and_then(|o| stored.remove(&o.profile_id));
            stamps.push(unchanged_stamp(st, unchanged.is_some()));
            reads.push(match unchanged {
                Some(p) => workspace::Read {
                    file: rel,
                    result: Ok(workspace::ProfileFile {
                        id: p.id,
                        config: p.config,
                    }),
                },
                None => workspace::read(dir, path),
            });
        }
        workspace::refuse_duplicates(&mut reads, &|id, file| {
            known
                .iter()
                .any(|o| o.profile_id.as_str() == id && o.file == file)
        });
        // Every write of the sync in one transaction (issue #15: one per profile and origin made
        // a first open of 1,000 files take over a second).
        let files = &mut status.files;
        let removed = &mut status.removed;
        let folder_problem = &mut status.problem;
        let batch = self.store.batch(|tx| {
            let mut changed = false;
            for (read, st) in reads.into_iter().zip(stamps) {
                let mut file = FileStatus {
                    file: read.file.clone(),
                    id: None,
                    name: None,
                    problems: Vec::new(),
                };
                match read.result {
                    Ok(p) => {
                        file.id = Some(p.id.to_string());
                        file.name = Some(p.config.name.clone());
                        let Some(st) = st else {
                            files.push(file);
                            continue;
                        };
                        match self.adopt(tx, &ws, &read.file, &st, p) {
                            Ok(c) => changed |= c,
                            Err(e) => file.problems.push(problem(e.message)),
                        }
                    }
                    Err(problems) => file.problems = problems,
                }
                files.push(file);
            }
            // Profiles whose file is gone (deleted, or now holding another id) and whose id no
            // other file has: parked, hidden with everything kept locally for them (a branch
            // switched, a pull that drops the file for a while). A file that does not parse
            // keeps its last good profile; a moved file (its id in another file, even one that
            // does not parse) keeps it too.
            let now: HashMap<&str, Option<&str>> = files
                .iter()
                .map(|f| (f.file.as_str(), f.id.as_deref()))
                .collect();
            let present: HashSet<String> = files
                .iter()
                .filter_map(|f| match (&f.id, f.problems.is_empty()) {
                    (Some(id), true) => Some(id.clone()),
                    _ => workspace::claimed_id(&dir.join(&f.file)),
                })
                .collect();
            let at = self.now();
            for o in &known {
                let keep = match now.get(o.file.as_str()) {
                    Some(Some(id)) if *id == o.profile_id.as_str() => true,
                    Some(None) => true,
                    _ => present.contains(o.profile_id.as_str()),
                };
                if keep || o.departed_at.is_some() {
                    continue;
                }
                let name = tx
                    .get_profile(&o.profile_id)
                    .ok()
                    .flatten()
                    .map(|p| p.config.name)
                    .unwrap_or_default();
                if let Err(e) = tx.park(&o.profile_id, at) {
                    *folder_problem = Some(format!(
                        "{name} ({}) is no longer in the workspace, but could not be parked: {}",
                        o.file, e.message
                    ));
                    continue;
                }
                removed.push(RemovedProfile {
                    id: o.profile_id.to_string(),
                    name,
                    file: o.file.clone(),
                });
                changed = true;
            }
            changed
        });
        let changed = match batch {
            Ok(changed) => changed,
            Err(e) => {
                status.problem = Some(format!("Cannot save the workspace: {}", e.message));
                false
            }
        };
        // Parked for too long: deleted with everything kept for it, so nothing stays forever.
        let cutoff = self.now() - PARKED_DAYS * 86_400_000;
        for p in self.parked_profiles(Some(&ws)).unwrap_or_default() {
            if p.since >= cutoff {
                status.parked.push(p);
                continue;
            }
            match self.delete_parked(&ProfileId::from(p.id.as_str())) {
                Ok(_) => {
                    tracing::info!(profile = %p.id, file = %p.file, "parked workspace profile purged");
                }
                Err(e) => {
                    status.problem = Some(e.message);
                    status.parked.push(p);
                }
            }
        }
        if changed {
            self.emit(CoreEvent::ProfilesChanged);
        }
        for r in &status.removed {
            tracing::info!(profile = %r.id, file = %r.file, "workspace profile parked: its file left");
        }
        if !status.removed.is_empty() {
            self.emit(CoreEvent::WorkspacesChanged {
                removed: status.removed.iter().map(|r| r.name.clone()).collect(),
            });
        }
        status
    }

    /// The parked profiles (their file gone from the workspace), of one workspace or all,
    /// oldest first.
    pub fn parked_profiles(&self, workspace: Option<&str>) -> Result<Vec<ParkedProfile>> {
        let mut out = Vec::new();
        for o in self.store.origins(workspace)? {
            let Some(since) = o.departed_at else { continue };
            let name = self
                .store
                .get_profile(&o.profile_id)?
                .map(|p| p.config.name)
                .unwrap_or_default();
            out.push(ParkedProfile {
                id: o.profile_id.to_string(),
                name,
                workspace: o.workspace,
                file: o.file,
                since,
            });
        }
        out.sort_by_key(|p| p.since);
        Ok(out)
    }

    /// Deletes a parked profile with everything kept for it: its keychain entries (tokens, a
    /// client secret or key kept there), then its tokens, history and exchange log. A keychain
    /// that refuses leaves it parked, and the error says so.
    pub fn delete_parked(&self, id: &ProfileId) -> Result<ParkedProfile> {
        let parked = self
            .parked_profiles(None)?
            .into_iter()
            .find(|p| p.id == id.as_str())
            .ok_or_else(|| Error::not_found(format!("No parked workspace profile {id}.")))?;
        if let Err(mut e) = self.forget_profile_locally(id) {
            e.message = format!(
                "{} ({}) stays parked: its keychain entries could not be deleted: {}",
                parked.name, parked.file, e.message
            );
            return Err(e);
        }
        self.store.delete_profile(id)?;
        // Its token set went with it: whoever shows it drops it (parked, it was still listed).
        self.emit(CoreEvent::TokenRemoved {
            profile_id: id.clone(),
        });
        self.workspace_files_changed();
        Ok(parked)
    }

    /// What a parked profile is, as an error for whoever asks for it by name or id.
    pub(super) fn refuse_if_parked(&self, profile: &Profile) -> Result<()> {
        match self.store.origin(&profile.id)? {
            Some(o) if o.departed_at.is_some() => Err(Error::not_found(format!(
                "{} left workspace {} (file {}) on {}; it comes back with its secrets when the \
                 file does; `tokendesk workspace prune` deletes what is kept for it.",
                profile.config.name,
                o.workspace,
                o.file,
                crate::clock::date(o.departed_at.unwrap_or_default())
            ))),
            _ => Ok(()),
        }
    }

    /// Deletes what this machine keeps for a profile outside the store: its keychain entries
    /// (tokens, DPoP key, a client secret or key kept there) and the values held in memory.
    /// Runs on a thread of its own: the keychain client blocks, and callers may be async.
    fn forget_profile_locally(&self, id: &ProfileId) -> Result<()> {
        self.forget_values(id);
        self.forget_dpop_key(id);
        std::thread::scope(|s| {
            s.spawn(|| self.keychain_delete_all_now(id))
                .join()
                .unwrap_or_else(|_| Err(Error::internal("keychain thread failed")))
        })
    }

    /// Tells listeners (the app's Settings) that workspace files changed on disk.
    pub fn workspace_files_changed(&self) {
        self.emit(CoreEvent::WorkspacesChanged {
            removed: Vec::new(),
        });
    }

    /// Re-reads one file of a workspace (a watcher saw it change) and syncs it; a deleted file
    /// removes its profile.
    pub fn sync_workspace_file(&self, dir: &Path, path: &Path) -> FileStatus {
        let ws = key(dir);
        let rel = workspace::relative(dir, path);
        let mut file = FileStatus {
            file: rel.clone(),
            id: None,
            name: None,
            problems: Vec::new(),
        };
        let previous = self
            .store
            .origins(Some(&ws))
            .unwrap_or_default()
            .into_iter()
            .find(|o| o.file == rel);
        // A file gone, or now holding another id: whether its profile moved to another file
        // or left the workspace is for the whole workspace's sync to say.
        let whole = |file: FileStatus| {
            let s = self.sync_workspace(dir, false);
            s.files.into_iter().find(|f| f.file == rel).unwrap_or(file)
        };
        if !path.exists() {
            return match previous {
                Some(_) => whole(file),
                None => file,
            };
        }
        let read = workspace::read(dir, path);
        match read.result {
            Ok(p) => {
                file.id = Some(p.id.to_string());
                file.name = Some(p.config.name.clone());
                // Another file of the workspace already has this id: a duplicate.
                let taken =
                    self.store.origin(&p.id).ok().flatten().filter(|o| {
                        o.workspace == ws && o.file != rel && dir.join(&o.file).exists()
                    });
                if let Some(o) = taken {
                    file.problems.push(problem(format!(
                        "Duplicate id \"{}\": {} has it too. Give this file a new id.",
                        p.id, o.file
                    )));
                    return file;
                }
                if previous.is_some_and(|o| o.profile_id != p.id) {
                    return whole(file);
                }
                let st = stamp(path);
                match self.store.batch(|tx| self.adopt(tx, &ws, &rel, &st, p)) {
                    Ok(Ok(true)) => self.emit(CoreEvent::ProfilesChanged),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) | Err(e) => file.problems.push(problem(e.message)),
                }
            }
            Err(problems) => file.problems = problems,
        }
        file
    }

    /// Puts a file's profile in the store under its id; `true` when something changed.
    fn adopt(
        &self,
        tx: &Tx<'_>,
        ws: &str,
        file: &str,
        st: &str,
        p: workspace::ProfileFile,
    ) -> Result<bool> {
        let origin = Origin {
            profile_id: p.id.clone(),
            workspace: ws.to_owned(),
            file: file.to_owned(),
            stamp: st.to_owned(),
            departed_at: None,
        };
        let changed = match tx.get_profile(&p.id)? {
            Some(existing) if existing.config == p.config => false,
            Some(mut existing) => {
                if existing.config.issuer != p.config.issuer {
                    existing.metadata = None;
                }
                if existing.config.secrets != p.config.secrets {
                    self.forget_secrets(&p.id);
                }
                existing.config = p.config;
                existing.updated_at = self.now();
                tx.update_profile(&existing).map_err(|e| named(e, file))?;
                true
            }
            None => {
                let now = self.now();
                tx.insert_profile(&Profile {
                    id: p.id.clone(),
                    config: p.config,
                    metadata: None,
                    created_at: now,
                    updated_at: now,
                })
                .map_err(|e| named(e, file))?;
                true
            }
        };
        // A parked profile whose file is back: it returns as it was, tokens and secrets kept.
        let returned = tx.unpark(&p.id)?;
        tx.put_origin(&origin)?;
        Ok(changed || returned)
    }

    /// Where a profile comes from: its workspace and file, `None` for a local profile.
    pub fn origin(&self, id: &ProfileId) -> Result<Option<Origin>> {
        self.store.origin(id)
    }

    pub fn origins(&self) -> Result<Vec<Origin>> {
        self.store.origins(None)
    }

    /// Writes an edit of a workspace profile back to its file, in place (comments and key order
    /// kept). Called before the store changes, so a file that cannot be written changes nothing.
    pub(super) fn write_back(&self, id: &ProfileId, config: &ProfileConfig) -> Result<()> {
        let Some(o) = self.store.origin(id)? else {
            return Ok(());
        };
        let path = Path::new(&o.workspace).join(&o.file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                ErrorCode::Storage,
                format!("Cannot read the profile's file {}: {e}.", path.display()),
            )
        })?;
        let updated = workspace::file::update(&text, id, config).map_err(|p| {
            Error::new(
                ErrorCode::Conflict,
                format!(
                    "The profile's file {} does not parse ({p}); fix it first.",
                    path.display()
                ),
            )
        })?;
        write_atomic(&path, &updated)?;
        self.store.put_origin(&Origin {
            stamp: stamp(&path),
            ..o
        })
    }

    /// Writes the local profiles as files into `dir` (no secret values: sources only) with a
    /// README for the team; returns the files written. Existing files are not overwritten.
    pub fn init_workspace(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut written = Vec::new();
        let readme = dir.join("README.md");
        if !readme.exists() {
            std::fs::write(&readme, workspace::README).map_err(|e| io(&readme, e))?;
            written.push(readme);
        }
        for p in self.store.list_profiles()? {
            if self.store.origin(&p.id)?.is_some() {
                continue;
            }
            let folder = match p.config.environment.trim() {
                "" => dir.to_path_buf(),
                env => dir.join(workspace::file_name(env).trim_end_matches(".toml")),
            };
            std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
            let path = folder.join(workspace::file_name(&p.config.name));
            if path.exists() {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    format!(
                        "{} exists already; nothing was overwritten. Move it away or init \
                         another folder.",
                        path.display()
                    ),
                ));
            }
            std::fs::write(&path, workspace::file::render(&p.id, &p.config))
                .map_err(|e| io(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }

    /// A workspace profile is removed by removing its file.
    pub(super) fn refuse_if_from_workspace(&self, id: &ProfileId) -> Result<()> {
        match self.store.origin(id)? {
            Some(o) => Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "This profile comes from the workspace file {}/{}: delete the file (and \
                     commit) to remove it for the team.",
                    o.workspace, o.file
                ),
            )),
            None => Ok(()),
        }
    }
}

fn named(mut e: Error, file: &str) -> Error {
    if e.code == ErrorCode::Conflict {
        e.message = format!(
            "{} (a local profile or another workspace has this name; rename one).",
            e.message.trim_end_matches('.')
        );
    }
    let _ = file;
    e
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("Cannot write {}: {e}.", path.display()),
    )
}

/// Writes through a temporary file and a rename: a watcher or a reader never sees half a file.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("toml.tokendesk-tmp");
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}
