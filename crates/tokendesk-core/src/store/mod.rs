//! SQLite storage: profiles, token metadata, token history and the exchange log. WAL mode, so
//! the app and the command line share one file. No secret value is ever written here.

mod attempts;
mod exchanges;
mod history;
mod migrations;
mod profile_cache;
mod profiles;
mod settings;
mod workspaces;
pub use attempts::AttemptWrites;
pub use profiles::ProfileSummary;
pub use workspaces::Origin;
mod tokens;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::Result;

pub use exchanges::EXCHANGES_KEPT_PER_PROFILE;
pub use history::EVENTS_KEPT_PER_PROFILE;

/// The writes of a batch ([`Store::batch`]), on its transaction.
pub struct Tx<'a>(&'a Connection);

pub struct Store {
    conn: Mutex<Connection>,
    /// Per profile, how many more inserts each log table takes before it is trimmed
    /// ([`Store::trim`]); a profile not in the map is trimmed on its next insert.
    untrimmed: Mutex<HashMap<String, [usize; LOGS]>>,
    /// How many profiles the store held when last counted, and when: what the logs' share of
    /// their budgets is reckoned from ([`Store::kept`]).
    profile_count: Mutex<Option<(usize, Instant)>>,
    /// Profiles decoded by [`Store::shared_profile`], reused while their rows are unchanged.
    profiles: profile_cache::ProfileCache,
}

/// A per-profile log table that keeps the newest rows of each profile: `cap` of them, and fewer
/// in a store of so many profiles that the table would hold more than its `budget`, but never
/// fewer than `floor`. Without the budget, 10,000 profiles on one-minute tokens fill the two
/// logs to 6–7 GB within a day (bench/store); with it they stay under about 400 MB.
#[derive(Clone, Copy)]
struct Log {
    table: &'static str,
    cap: usize,
    floor: usize,
    budget: usize,
    /// Its slot in [`Store::untrimmed`].
    slot: usize,
}

const LOGS: usize = 2;
const EXCHANGE_LOG: Log = Log {
    table: "exchanges",
    cap: EXCHANGES_KEPT_PER_PROFILE,
    floor: 20,
    // About 170 MB: an exchange's row is 0.7–0.9 KB with its index entry.
    budget: 200_000,
    slot: 0,
};
const HISTORY_LOG: Log = Log {
    table: "refresh_events",
    cap: EVENTS_KEPT_PER_PROFILE,
    floor: 50,
    // About 220 MB: an event's row is 0.4–0.45 KB with its index entry.
    budget: 500_000,
    slot: 1,
};

impl Log {
    /// The rows of each profile it keeps in a store of `profiles` profiles.
    fn kept(self, profiles: usize) -> usize {
        (self.budget / profiles.max(1)).clamp(self.floor, self.cap)
    }

    /// Inserts between two trims of a profile that keeps `kept` rows: the table holds at most
    /// this many rows of a profile above that (about 10 %); readers never return more than it.
    fn margin(kept: usize) -> usize {
        (kept / 10).max(1)
    }
}

/// How long a count of the store's profiles is used before it is made again: other processes
/// add and remove profiles too, and a share of a log's budget may be a minute out of date.
const PROFILE_COUNT_KEPT: Duration = Duration::from_secs(60);

/// The statement cache of the connection: every statement of the hot paths (a renewal's
/// reads and writes, the refresher's scan) stays prepared.
const STATEMENT_CACHE: usize = 64;

/// How much of the database file SQLite reads through a memory mapping.
const MMAP_BYTES: i64 = 256 << 20;

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        // A store that does not exist yet is created without waiting for the disk: switching a
        // new file to WAL goes through a rollback journal (four fsyncs: journal, folder,
        // journal, file) and the first WAL write syncs the WAL and the folder again, ~4 ms each
        // here, on the app's first start, on its main thread while the window loads
        // (bench/startup). What is lost to a power cut in those first milliseconds is an empty
        // store; from the first checkpoint on, the file is as durable as with NORMAL, which
        // every later commit uses.
        let new = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        if new {
            conn.pragma_update(None, "synchronous", "OFF")?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Pages are read from a memory mapping instead of a read() into the page cache each:
        // with 10,000 profiles (a 100 MB file) every renewal's reads miss SQLite's own 2 MB
        // cache. Writes still go through the WAL as before.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        let store = Self::init(conn)?;
        store.conn().pragma_update(None, "synchronous", "NORMAL")?;
        Ok(store)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            untrimmed: Mutex::default(),
            profile_count: Mutex::default(),
            profiles: Default::default(),
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
        self.profiles_changed();
        Ok(r)
    }

    /// A number that changes when another connection (another process: the command line, a
    /// second app) has committed to the store since the previous call, and only then: SQLite's
    /// `PRAGMA data_version`. This process's own writes leave it as it is.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many rows of each profile `log` keeps now ([`Log::kept`]), from a count of the
    /// profiles at most [`PROFILE_COUNT_KEPT`] old.
    fn kept(&self, conn: &Connection, log: Log) -> rusqlite::Result<usize> {
        let mut counted = self.profile_count.lock().unwrap_or_else(|p| p.into_inner());
        let profiles = match *counted {
            Some((n, at)) if at.elapsed() < PROFILE_COUNT_KEPT => n,
            _ => {
                let n = conn
                    .query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))?
                    as usize;
                *counted = Some((n, Instant::now()));
                n
            }
        };
        Ok(log.kept(profiles))
    }

    /// Profiles were added or removed here: the logs' shares are reckoned again.
    fn profiles_changed(&self) {
        *self.profile_count.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// After an insert into a profile's log: keeps the profile's newest rows ([`Store::kept`]),
    /// older ones go. The DELETE walks that many index entries, so it runs on the profile's
    /// first insert in this process and then once every [`Log::margin`] inserts, not on every
    /// insert.
    fn trim(&self, conn: &Connection, log: Log, profile: &str) -> rusqlite::Result<()> {
        let kept = self.kept(conn, log)?;
        let margin = Log::margin(kept);
        let due = {
            let mut untrimmed = self.untrimmed.lock().unwrap_or_else(|p| p.into_inner());
            match untrimmed.get_mut(profile) {
                Some(left) if left[log.slot] > 0 => {
                    left[log.slot] -= 1;
                    false
                }
                Some(left) => {
                    left[log.slot] = margin - 1;
                    true
                }
                None => {
                    let mut left = [0; LOGS];
                    left[log.slot] = margin - 1;
                    untrimmed.insert(profile.to_owned(), left);
                    true
                }
            }
        };
        if due {
            conn.prepare_cached(&format!(
                "DELETE FROM {table} WHERE profile_id = ?1 AND id <= (
                    SELECT id FROM {table} WHERE profile_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                table = log.table
            ))?
            .execute(rusqlite::params![profile, kept as i64])?;
        }
        Ok(())
    }
}

/// Rows for the store's tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::Store;
    use crate::history::{EventKind, Outcome, TokenEvent, Trigger};
    use crate::http::Exchange;
    use crate::profile::{GrantKind, ProfileId};

    /// A store holding one profile, "p".
    pub fn store_with_profile() -> (Store, ProfileId) {
        let s = Store::open_in_memory().unwrap();
        let p = crate::tray::tests::profile("p", GrantKind::ClientCredentials);
        s.insert_profile(&p).unwrap();
        (s, p.id)
    }

    /// A successful automatic refresh of `id` at `at`.
    pub fn event(id: &ProfileId, at: i64) -> TokenEvent {
        TokenEvent {
            id: 0,
            profile_id: id.clone(),
            at,
            kind: EventKind::Refresh,
            trigger: Trigger::Automatic,
            method: "refresh_token".into(),
            outcome: Outcome::Success,
            duration_ms: 1,
            access_expires_at: None,
            refresh_expires_at: None,
            refresh_count: None,
            rotated: false,
            error_code: None,
            error_message: None,
            exchange_id: None,
            authorization_details: None,
        }
    }

    /// An exchange of `id` for `operation` at `at`.
    pub fn exchange(id: &ProfileId, at: i64, operation: &str) -> Exchange {
        Exchange {
            id: 0,
            profile_id: id.clone(),
            operation: operation.into(),
            at,
            method: "POST".into(),
            url: "https://as.example/token".into(),
            status: Some(200),
            duration_ms: 1,
            request_headers: Vec::new(),
            request_body: String::new(),
            response_headers: Vec::new(),
            response_body: "{}".into(),
            error: None,
        }
    }

    /// How many rows of `id` a log table holds.
    pub fn rows(s: &Store, table: &str, id: &ProfileId) -> usize {
        s.conn()
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE profile_id = ?1"),
                [id.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .unwrap() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::profile::GrantKind;

    /// What the refresher relies on to skip re-reading the store: the version moves with another
    /// connection's commit (the command line, another process), never with this one's own.
    #[test]
    fn the_data_version_moves_only_with_another_connections_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let (app, cli) = (Store::open(&path).unwrap(), Store::open(&path).unwrap());
        let before = app.data_version().unwrap();
        let p = crate::tray::tests::profile("p", crate::profile::GrantKind::ClientCredentials);
        app.insert_profile(&p).unwrap();
        assert_eq!(app.data_version().unwrap(), before, "its own write");
        cli.delete_profile(&p.id).unwrap();
        assert_ne!(
            app.data_version().unwrap(),
            before,
            "another connection's write"
        );
        let again = app.data_version().unwrap();
        assert_eq!(app.data_version().unwrap(), again, "nothing since");
    }

    /// A new store is created without fsyncs, but what it commits afterwards (and what an
    /// existing store commits) is synced as NORMAL in WAL mode: creating must not leave it off.
    #[test]
    fn a_store_new_or_existing_commits_in_wal_with_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let modes = |s: &Store| {
            let c = s.conn();
            let journal: String = c
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap();
            let sync: i64 = c
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap();
            (journal, sync)
        };
        let new = Store::open(&path).unwrap();
        assert_eq!(modes(&new), ("wal".to_owned(), 1), "new store");
        let p = crate::tray::tests::profile("p", crate::profile::GrantKind::ClientCredentials);
        new.insert_profile(&p).unwrap();
        drop(new);
        let again = Store::open(&path).unwrap();
        assert_eq!(modes(&again), ("wal".to_owned(), 1), "existing store");
        assert_eq!(
            again.list_profiles().unwrap().len(),
            1,
            "the profile was kept"
        );
    }

    #[test]
    fn a_log_keeps_its_cap_per_profile_until_its_budget_is_shared_then_never_below_its_floor() {
        for log in [EXCHANGE_LOG, HISTORY_LOG] {
            assert_eq!(log.kept(0), log.cap, "{}: an empty store", log.table);
            assert_eq!(log.kept(1), log.cap);
            let full = log.budget / log.cap;
            assert_eq!(log.kept(full), log.cap, "{}: as many as fit", log.table);
            assert!(log.kept(full + 1) < log.cap);
            assert!(log.kept(10_000) * 10_000 <= log.budget, "{}", log.table);
            assert_eq!(log.kept(1_000_000), log.floor, "{}: the floor", log.table);
        }
        assert_eq!(EXCHANGE_LOG.kept(2_000), 100);
        assert_eq!(HISTORY_LOG.kept(2_000), 250);
        assert_eq!(HISTORY_LOG.kept(10_000), 50);
    }

    /// A store of 2,000 profiles keeps 100 exchanges and 250 events of each, not 300 and 1,000;
    /// when profiles go, the others keep more again.
    #[test]
    fn a_store_of_many_profiles_keeps_fewer_rows_of_each_and_more_again_when_they_go() {
        let (s, id) = store_with_profile();
        let others: Vec<_> = (1..2_000)
            .map(|i| {
                let p = crate::tray::tests::profile(&format!("p{i}"), GrantKind::ClientCredentials);
                s.insert_profile(&p).unwrap();
                p.id
            })
            .collect();
        let fill = |from: i64, n: i64| {
            for at in from..from + n {
                s.append_exchanges(&[exchange(&id, at, "token:client_credentials")])
                    .unwrap();
                s.append_event(&event(&id, at)).unwrap();
            }
        };
        fill(0, 1_200);
        let (exchanges, events) = (EXCHANGE_LOG.kept(2_000), HISTORY_LOG.kept(2_000));
        assert!(rows(&s, "exchanges", &id) < exchanges + Log::margin(exchanges));
        assert!(rows(&s, "refresh_events", &id) < events + Log::margin(events));
        let shown = s.exchanges(&id, usize::MAX >> 1).unwrap();
        assert_eq!(shown.len(), exchanges);
        assert_eq!(shown.last().unwrap().at, 1_199, "the newest kept");
        let shown = s.events(&id, usize::MAX >> 1).unwrap();
        assert_eq!(shown.len(), events);
        assert_eq!(shown[0].at, 1_199);

        for other in &others[..1_700] {
            s.delete_profile(other).unwrap();
        }
        fill(1_200, 1_200);
        assert_eq!(
            s.exchanges(&id, usize::MAX >> 1).unwrap().len(),
            EXCHANGES_KEPT_PER_PROFILE,
            "300 profiles: the full cap again"
        );
        assert_eq!(
            s.events(&id, usize::MAX >> 1).unwrap().len(),
            EVENTS_KEPT_PER_PROFILE
        );
    }

    #[test]
    fn the_logs_hold_at_most_a_margin_above_their_caps_and_show_the_caps() {
        let (s, id) = store_with_profile();
        let within_margin = |log: Log, insert: &dyn Fn(i64)| {
            for at in 0..(3 * log.cap) as i64 {
                insert(at);
                let held = rows(&s, log.table, &id);
                assert!(
                    held < log.cap + Log::margin(log.cap),
                    "{}: {held} rows after {} inserts",
                    log.table,
                    at + 1
                );
            }
        };
        within_margin(EXCHANGE_LOG, &|at| {
            s.append_exchanges(&[exchange(&id, at, "token:client_credentials")])
                .unwrap()
        });
        within_margin(HISTORY_LOG, &|at| {
            s.append_event(&event(&id, at)).unwrap();
        });
        let newest = 3 * EXCHANGES_KEPT_PER_PROFILE as i64 - 1;
        let shown = s.exchanges(&id, usize::MAX >> 1).unwrap();
        assert_eq!(shown.len(), EXCHANGES_KEPT_PER_PROFILE);
        assert_eq!(
            shown.last().unwrap().at,
            newest,
            "oldest first, the newest kept"
        );
        assert_eq!(shown[0].at, newest + 1 - EXCHANGES_KEPT_PER_PROFILE as i64);
        let newest = 3 * EVENTS_KEPT_PER_PROFILE as i64 - 1;
        let shown = s.events(&id, usize::MAX >> 1).unwrap();
        assert_eq!(shown.len(), EVENTS_KEPT_PER_PROFILE);
        assert_eq!(shown[0].at, newest, "newest first");
        assert_eq!(
            shown.last().unwrap().at,
            newest + 1 - EVENTS_KEPT_PER_PROFILE as i64
        );
    }
}
