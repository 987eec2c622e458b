//! Schema migrations, tracked in `PRAGMA user_version`. Append only: never edit a shipped step.

use rusqlite::Connection;

use crate::error::{Error, ErrorCode, Result};

/// One schema step: SQL, then optionally code that fills what SQL alone cannot (a value only
/// the Rust types can derive), in the same transaction.
struct Step(&'static str, Option<fn(&Connection) -> Result<()>>);

const fn sql(s: &'static str) -> Step {
    Step(s, None)
}

const STEPS: &[Step] = &[
    // 1: profiles, tokens, history, exchange log.
    sql("CREATE TABLE profiles (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        environment TEXT NOT NULL DEFAULT '',
        config TEXT NOT NULL,
        metadata TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        profile_id TEXT PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE refresh_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX refresh_events_by_profile ON refresh_events(profile_id, id);
    CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        operation TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX exchanges_by_profile ON exchanges(profile_id, id);"),
    // 2: application settings.
    sql("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"),
    // 3: profiles that come from a workspace folder's files (issue #15): which file, and the
    // file's size and modification time when it was last read.
    sql("CREATE TABLE workspace_files (
        profile_id TEXT PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
        workspace TEXT NOT NULL,
        file TEXT NOT NULL,
        stamp TEXT NOT NULL
    );
    CREATE INDEX workspace_files_by_workspace ON workspace_files(workspace);"),
    // 4: a workspace profile whose file left the workspace is parked, not deleted: hidden, its
    // tokens, history and keychain entries kept until the file comes back or it is pruned.
    sql("ALTER TABLE workspace_files ADD COLUMN departed_at INTEGER;"),
    // 5: the profile list from an index alone (bench/list): in list order without a sort (with
    // 10,000 profiles SQLite otherwise sorts some 50 MB of rows, configuration and provider
    // metadata, through a temporary file), and with the grant beside the name, so a listing
    // reads no profile's row at all.
    sql(
        "ALTER TABLE profiles ADD COLUMN grant_kind TEXT NOT NULL DEFAULT '';
    UPDATE profiles SET grant_kind = coalesce(json_extract(config, '$.grant'), '');
    CREATE INDEX profiles_in_list_order
        ON profiles(environment, name COLLATE NOCASE, id, grant_kind);",
    ),
    // 6: beside each token set, its glance (state, expiries, counter: `TokenGlance`), in an
    // index with the profile id, so a listing reads neither the token sets (0.7 KB of JSON
    // each, the provider's raw answer included) nor the tokens table (bench/list).
    Step(
        "ALTER TABLE tokens ADD COLUMN glance TEXT NOT NULL DEFAULT '';
        CREATE INDEX tokens_glance ON tokens(profile_id, glance);",
        Some(super::tokens::fill_glances),
    ),
    // 7: a stamp of each profile's credentials in the keychain (client secret, keys), changed
    // at random with every write of one: a process keeps a credential it read in memory while
    // the stamp stays what it was (`api/secrets.rs`), instead of asking the keychain on every
    // renewal. New rows get theirs on insert.
    sql(
        "ALTER TABLE profiles ADD COLUMN secrets_stamp INTEGER NOT NULL DEFAULT 0;
    UPDATE profiles SET secrets_stamp = random();",
    ),
];

pub fn migrate(conn: &mut Connection) -> Result<()> {
    // One immediate transaction from reading the version to the last step: two processes
    // opening a new store at once (the app and `tokendesk`, a script's parallel calls) take
    // turns (the busy timeout), and the second finds the schema the first made.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > STEPS.len() {
        return Err(Error::new(
            ErrorCode::Storage,
            format!(
                "The TokenDesk database is from a newer version (schema {current}, this build \
                 knows {}). Update TokenDesk.",
                STEPS.len()
            ),
        ));
    }
    for (i, Step(step, then)) in STEPS.iter().enumerate().skip(current) {
        tx.execute_batch(step)?;
        if let Some(then) = then {
            then(&tx)?;
        }
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Processes opening a new store at the same moment each get the whole schema, none fails
    /// on a table another one made.
    #[test]
    fn stores_opened_at_once_migrate_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = Connection::open(&path).unwrap();
                    conn.busy_timeout(std::time::Duration::from_secs(10))
                        .unwrap();
                    migrate(&mut conn)
                })
            })
            .collect();
        for t in threads {
            t.join()
                .unwrap()
                .expect("every opener migrates or finds it done");
        }
        let conn = Connection::open(&path).unwrap();
        let v: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, STEPS.len());
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, STEPS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert_eq!(migrate(&mut conn).unwrap_err().code, ErrorCode::Storage);
    }

    /// A store made by a build that knew the first `version` steps.
    fn at_schema(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for Step(step, _) in &STEPS[..version] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "user_version", version).unwrap();
        conn
    }

    /// Profiles stored before secrets stamps (schema 6) get one each on opening: distinct, so a
    /// credential kept in memory for one is never taken for another's.
    #[test]
    fn profiles_stored_before_secrets_stamps_get_distinct_ones() {
        let mut conn = at_schema(6);
        conn.execute_batch(
            "INSERT INTO profiles (id, name, config, created_at, updated_at)
                 VALUES ('a', 'a', '{}', 1, 1), ('b', 'b', '{}', 1, 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let stamps: Vec<i64> = conn
            .prepare("SELECT secrets_stamp FROM profiles ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(stamps.len(), 2);
        assert_ne!(stamps[0], stamps[1]);
    }

    /// A store made before glances (schema 5) gets every stored token set's glance on opening.
    #[test]
    fn token_sets_stored_before_glances_get_theirs() {
        let mut conn = at_schema(5);
        let token = serde_json::json!({
            "profile_id": "p", "grant": "authorization_code", "token_type": "Bearer",
            "status": "revoked", "obtained_at": 1, "access_expires_at": 60_001,
            "refresh_expires_at": 90_001, "refresh_count": 4,
            "access": { "preview": "x", "fingerprint": "f", "is_jwt": false },
            "refresh": { "preview": "r", "fingerprint": "g", "is_jwt": false }, "raw": {}
        });
        conn.execute_batch(&format!(
            "INSERT INTO profiles (id, name, config, created_at, updated_at)
                 VALUES ('p', 'p', '{{}}', 1, 1);
             INSERT INTO tokens (profile_id, data, updated_at) VALUES ('p', '{token}', 1);"
        ))
        .unwrap();
        migrate(&mut conn).unwrap();
        let stored: String = conn
            .query_row("SELECT glance FROM tokens", [], |r| r.get(0))
            .unwrap();
        let set: crate::token::TokenSet = serde_json::from_value(token).unwrap();
        let glance: crate::token::TokenGlance = serde_json::from_str(&stored).unwrap();
        assert_eq!(glance, set.glance());
        assert!(glance.not_approved && glance.has_refresh && glance.refresh_count == Some(4));
    }
}
