//! Where TokenDesk keeps its files and under which keychain service its secrets live.
//!
//! `TOKENDESK_HOME`, when set, relocates every file there and gives the keychain entries a
//! service name of their own, so tests and parallel setups never touch a user's real data.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode, Result};

pub use tokendesk_door::home::HOME_ENV;
use tokendesk_door::home::{DATA_DIR_NAME, RUN_DIR};

fn run_dir(home: &Path) -> PathBuf {
    home.join(RUN_DIR)
}
const SERVICE: &str = "tokendesk";

#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
    keychain_service: String,
}

impl Home {
    /// `$TOKENDESK_HOME` if set, else the OS data directory (`~/.local/share/tokendesk`, ...).
    pub fn from_env() -> Result<Self> {
        match std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Self::at(PathBuf::from(dir)),
            None => {
                let base = dirs::data_dir().ok_or_else(|| {
                    Error::new(
                        ErrorCode::Storage,
                        format!("No data directory is known for this user; set {HOME_ENV}."),
                    )
                })?;
                let dir = base.join(DATA_DIR_NAME);
                create(&dir)?;
                Ok(Self {
                    dir,
                    keychain_service: SERVICE.to_owned(),
                })
            }
        }
    }

    /// A relocated home: its own directory and its own keychain namespace.
    pub fn at(dir: PathBuf) -> Result<Self> {
        create(&dir)?;
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let tag: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            dir: canonical,
            keychain_service: format!("{SERVICE}-{tag}"),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("tokendesk.sqlite3")
    }

    /// Lock files that serialise token operations across processes.
    pub fn lock_dir(&self) -> PathBuf {
        self.dir.join("locks")
    }

    /// Where the token agent's socket lives (user-only).
    pub fn run_dir(&self) -> PathBuf {
        run_dir(&self.dir)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    pub fn keychain_service(&self) -> &str {
        &self.keychain_service
    }
}

fn create(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::new(
            ErrorCode::Storage,
            format!(
                "Cannot create the TokenDesk directory {}: {e}",
                dir.display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The door finds the default home without the `dirs` crate (it has no std); both must name
    /// the same directory, or `tokendesk token` would never find the agent.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_door_finds_the_same_data_directory() {
        let var = |name| std::env::var_os(name).map(|v| v.into_encoded_bytes());
        let door = tokendesk_door::home::xdg_data_dir(
            var("XDG_DATA_HOME").as_deref(),
            var("HOME").as_deref(),
        );
        let dirs = dirs::data_dir().map(|d| d.into_os_string().into_encoded_bytes());
        assert!(door.is_some());
        assert_eq!(door, dirs);
    }

    #[test]
    fn relocated_homes_get_distinct_keychain_namespaces() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ha = Home::at(a.path().to_path_buf()).unwrap();
        let hb = Home::at(b.path().to_path_buf()).unwrap();
        assert_ne!(ha.keychain_service(), hb.keychain_service());
        assert_ne!(
            ha.keychain_service(),
            SERVICE,
            "tests must never share the user's service"
        );
        assert!(ha.db_path().starts_with(ha.dir()));
        assert_eq!(
            Home::at(a.path().to_path_buf()).unwrap().keychain_service(),
            ha.keychain_service()
        );
    }
}
