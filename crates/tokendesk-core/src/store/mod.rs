//! SQLite storage: profiles, token metadata, token history and the exchange log. WAL mode, so
//! the app and the command line share one file. No secret value is ever written here.

mod exchanges;
mod history;
mod migrations;
mod profiles;
mod settings;
mod workspaces;
pub use profiles::ProfileSummary;
pub use workspaces::Origin;
mod tokens;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::Result;

pub use exchanges::EXCHANGES_KEPT_PER_PROFILE;
pub use history::EVENTS_KEPT_PER_PROFILE;

/// The writes of a batch ([`Store::batch`]), on its transaction.
pub struct Tx<'a>(&'a Connection);

pub struct Store {
    conn: Mutex<Connection>,
}

/// Keeps the newest `keep` rows of a profile in a per-profile log table (`exchanges`,
/// `refresh_events`); older ones go.
fn trim(conn: &Connection, table: &str, profile: &str, keep: usize) -> rusqlite::Result<usize> {
    conn.execute(
        &format!(
            "DELETE FROM {table} WHERE profile_id = ?1 AND id <= (
                SELECT id FROM {table} WHERE profile_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)"
        ),
        rusqlite::params![profile, keep as i64],
    )
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` in one immediate transaction holding the connection: a whole workspace sync is
    /// one write instead of one per profile and origin. A statement that fails (a name taken)
    /// fails alone, as outside a batch; `f` must not call the store's own methods.
    pub fn batch<R>(&self, f: impl FnOnce(&Tx<'_>) -> R) -> Result<R> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let r = f(&Tx(&tx));
        tx.commit()?;
        Ok(r)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}
