//! Workspaces: folders of profile files a team keeps in git, opened beside the local profiles.
//! The files are the source of truth for configuration; tokens, history and exchange logs stay
//! local, keyed by each file's stable `id`. [`file`] reads and writes one file; [`scan`] reads a
//! folder; the core syncs the result into its store (`Core::open_workspaces`).

pub mod file;
pub mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

pub use file::{FileProblem, ProfileFile};

/// The environment variable naming workspaces to open (a path list, like `PATH`).
pub const ENV: &str = "TOKENDESK_WORKSPACE";

/// One file of a workspace as last read.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FileStatus {
    /// The path inside the workspace (`test/gateway.toml`).
    pub file: String,
    /// The profile's id and name, when the file could be read.
    #[ts(optional = nullable)]
    pub id: Option<String>,
    #[ts(optional = nullable)]
    pub name: Option<String>,
    pub problems: Vec<FileProblem>,
}

/// How long a parked profile (its file gone from the workspace) is kept before a sync deletes
/// it with everything kept for it.
pub const PARKED_DAYS: i64 = 30;

/// A workspace profile parked by a sync: its file is gone and no other file of the workspace
/// has its id. It is hidden, but its tokens, history, exchange log and keychain entries are
/// kept: a file with its id brings it back as it was; `tokendesk workspace prune` deletes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RemovedProfile {
    pub id: String,
    pub name: String,
    /// The file it came from.
    pub file: String,
}

/// A parked workspace profile: hidden since its file left the workspace, with what is kept
/// for it (tokens, history, keychain entries) until the file comes back or it is pruned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ParkedProfile {
    pub id: String,
    pub name: String,
    pub workspace: String,
    /// The file it came from, inside the workspace.
    pub file: String,
    /// When the file left (epoch ms).
    pub since: i64,
}

/// A workspace and its files.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WorkspaceStatus {
    pub dir: String,
    pub files: Vec<FileStatus>,
    /// Profiles this sync parked (their file gone, their id in no other file).
    pub removed: Vec<RemovedProfile>,
    /// Every profile of this workspace parked now (this sync's and earlier ones).
    pub parked: Vec<ParkedProfile>,
    /// A problem with the folder itself (missing, unreadable).
    #[ts(optional = nullable)]
    pub problem: Option<String>,
}

impl WorkspaceStatus {
    pub fn problem_count(&self) -> usize {
        self.files.iter().filter(|f| !f.problems.is_empty()).count()
            + usize::from(self.problem.is_some())
    }
}

/// A file read: its relative path and the profile or its problems.
pub struct Read {
    pub file: String,
    pub result: Result<ProfileFile, Vec<FileProblem>>,
}

/// The profile files of a folder (`*.toml`, in subfolders too; hidden folders such as `.git`
/// skipped), sorted by path.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else if is_profile_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

pub fn is_profile_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// The path of `path` inside `dir`, with `/` separators.
pub fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads one file. A profile without an environment in a subfolder gets the folder's name.
pub fn read(dir: &Path, path: &Path) -> Read {
    let file = relative(dir, path);
    let result = match std::fs::read_to_string(path) {
        Ok(text) => file::parse(&text).map(|mut p| {
            if p.config.environment.is_empty()
                && let Some((folder, _)) = file.split_once('/')
            {
                p.config.environment = folder.to_owned();
            }
            p
        }),
        Err(e) => Err(vec![FileProblem {
            line: None,
            column: None,
            message: format!("Cannot read the file: {e}."),
        }]),
    };
    Read { file, result }
}

/// The id a file that does not parse still names (a top-level `id = "…"` line before any
/// table): such a file may be a moved profile whose tokens must not be deleted.
pub fn claimed_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            return None;
        }
        let Some(rest) = line.strip_prefix("id") else {
            continue;
        };
        let Some(value) = rest.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let end = value[1..].find(quote)?;
        return Some(value[1..1 + end].to_owned());
    }
    None
}

/// Marks every file but one that claims an id as a duplicate: the one that already had it
/// (`owner`: a copy does not take over the original's tokens), else the first in path order.
pub fn refuse_duplicates(reads: &mut [Read], owner: &dyn Fn(&str, &str) -> bool) {
    let mut first: HashMap<String, String> = HashMap::new();
    for r in reads.iter() {
        if let Ok(p) = &r.result
            && owner(p.id.as_str(), &r.file)
        {
            first.insert(p.id.to_string(), r.file.clone());
        }
    }
    for r in reads.iter_mut() {
        let Ok(p) = &r.result else { continue };
        let id = p.id.to_string();
        match first.get(&id) {
            Some(other) if *other == r.file => {}
            Some(other) => {
                r.result = Err(vec![FileProblem {
                    line: None,
                    column: None,
                    message: format!(
                        "Duplicate id \"{id}\": {other} has it too. Give this file a new id (a \
                         copied file keeps the original's)."
                    ),
                }]);
            }
            None => {
                first.insert(id, r.file.clone());
            }
        }
    }
}

/// The file name for a profile: its name in lower case, letters, digits and `-`.
pub fn file_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-');
    format!("{}.toml", if s.is_empty() { "profile" } else { s })
}

/// The README `tokendesk workspace init` writes for the team.
pub const README: &str = "# TokenDesk workspace

Each `.toml` file here is one TokenDesk client profile: endpoints, client id, scopes, headers and
where its secret comes from. Open this folder in TokenDesk (Settings → Workspaces), or on the
command line with `--workspace DIR` or `TOKENDESK_WORKSPACE=DIR`.

- **No secret values in these files.** A profile names where its secret comes from:
  `[secrets.client_secret]` with `from = \"command\"` and an `argv` list (run without a shell:
  `[\"pass\", \"show\", \"team/op/client\"]`, `[\"op\", \"read\", \"op://team/op/secret\"]`,
  `[\"vault\", \"kv\", \"get\", \"-field=secret\", \"kv/op\"]`), `from = \"env\"` with a `var`
  (CI), or `from = \"keychain\"` (each person stores it once on their machine). The same for
  `private_key` and `tls_key`.
- **Keep each file's `id`.** Tokens, history and exchange logs stay on each machine, keyed by it;
  a renamed profile keeps its tokens. A copied file needs a new id.
- Subfolders (`dev/`, `test/`, `prod/`) are environments: a profile without an `environment`
  gets its folder's name.
- Edits made in TokenDesk are written back to the file, keeping its comments and key order.
- `tokendesk workspace status` lists the files and what is wrong with any of them (the line
  and column of a syntax error, an unknown field, a duplicate id, a missing endpoint).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_tidy() {
        assert_eq!(file_name("Gateway (prod)"), "gateway-prod.toml");
        assert_eq!(file_name("***"), "profile.toml");
    }

    #[test]
    fn a_copied_file_is_a_duplicate_and_the_first_by_path_wins() {
        let dir = tempfile::tempdir().unwrap();
        let text = "id = \"a1\"\nname = \"x\"\nclient_id = \"c\"\nissuer = \"https://a.example\"\n";
        std::fs::create_dir(dir.path().join("test")).unwrap();
        std::fs::write(dir.path().join("b.toml"), text).unwrap();
        std::fs::write(
            dir.path().join("test/a.toml"),
            text.replace("\"x\"", "\"y\""),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/c.toml"), "junk").unwrap();
        let mut reads: Vec<Read> = files(dir.path())
            .unwrap()
            .iter()
            .map(|p| read(dir.path(), p))
            .collect();
        let mut again: Vec<Read> = files(dir.path())
            .unwrap()
            .iter()
            .map(|p| read(dir.path(), p))
            .collect();
        refuse_duplicates(&mut reads, &|_, _| false);
        assert_eq!(reads.len(), 2, "hidden folders are skipped");
        assert_eq!(reads[0].file, "b.toml");
        assert!(reads[0].result.is_ok());
        let e = reads[1].result.as_ref().unwrap_err();
        assert!(e[0].message.contains("b.toml has it too"), "{e:?}");
        // The file that had the id keeps it, wherever it sorts.
        refuse_duplicates(&mut again, &|_, file| file == "test/a.toml");
        assert!(again[1].result.is_ok());
        assert!(again[0].result.is_err());
    }

    #[test]
    fn a_broken_file_still_names_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.toml");
        std::fs::write(&path, "# moved\nid = \"a1\"   # kept\nname = \n").unwrap();
        assert_eq!(claimed_id(&path).as_deref(), Some("a1"));
        std::fs::write(&path, "name = \"x\"\n[endpoints]\nid = \"b2\"\n").unwrap();
        assert_eq!(claimed_id(&path), None, "only a top-level id counts");
        std::fs::write(&path, "identity = \"x\"\nid = 'c3'\n").unwrap();
        assert_eq!(claimed_id(&path).as_deref(), Some("c3"));
    }

    #[test]
    fn a_subfolder_is_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("prod")).unwrap();
        let path = dir.path().join("prod/gw.toml");
        std::fs::write(
            &path,
            "id = \"a1\"\nname = \"x\"\nclient_id = \"c\"\nissuer = \"https://a.example\"\n",
        )
        .unwrap();
        let r = read(dir.path(), &path);
        assert_eq!(r.file, "prod/gw.toml");
        assert_eq!(r.result.unwrap().config.environment, "prod");
    }
}
