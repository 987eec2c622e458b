use rusqlite::{Connection, OptionalExtension, params};

use super::{EXCHANGE_LOG, Store};
use crate::error::Result;
use crate::http::Exchange;
use crate::profile::ProfileId;

/// The exchange log keeps this many exchanges per profile (fewer in a store of more than 666
/// profiles, down to 20: `store::EXCHANGE_LOG`); older ones are dropped.
pub const EXCHANGES_KEPT_PER_PROFILE: usize = 300;

impl Store {
    pub fn append_exchanges(&self, records: &[Exchange]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        self.insert_exchanges(&tx, records)?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts exchanges on `conn` (in the caller's transaction) and trims their profiles' logs.
    pub(super) fn insert_exchanges(&self, conn: &Connection, records: &[Exchange]) -> Result<()> {
        {
            let mut insert = conn.prepare_cached(
                "INSERT INTO exchanges (profile_id, at, operation, data) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in records {
                insert.execute(params![
                    r.profile_id.as_str(),
                    r.at,
                    r.operation,
                    serde_json::to_string(r)?
                ])?;
            }
        }
        let mut profiles: Vec<&str> = records.iter().map(|r| r.profile_id.as_str()).collect();
        profiles.dedup();
        for p in profiles {
            self.trim(conn, EXCHANGE_LOG, p)?;
        }
        Ok(())
    }

    /// The newest `limit` exchanges of a profile (at most the number kept: [`Store::kept`]),
    /// oldest first (reading order), each with its id.
    pub fn exchanges(&self, id: &ProfileId, limit: usize) -> Result<Vec<Exchange>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, data FROM (SELECT id, data FROM exchanges WHERE profile_id = ?1
             ORDER BY id DESC LIMIT ?2) ORDER BY id",
        )?;
        let limit = limit.min(self.kept(&conn, EXCHANGE_LOG)?);
        let rows = stmt
            .query_map(params![id.as_str(), limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, d)| {
                let mut x: Exchange = serde_json::from_str(&d)?;
                x.id = rowid;
                Ok(x)
            })
            .collect()
    }

    /// The id of the newest exchange of a profile made at or after `since` — with
    /// `token_requests`, the newest token request (`token:*`) — if any.
    pub fn last_exchange_since(
        &self,
        id: &ProfileId,
        since: i64,
        token_requests: bool,
    ) -> Result<Option<i64>> {
        last_exchange_since(&self.conn(), id, since, token_requests)
    }
}

/// [`Store::last_exchange_since`] on `conn` (in the caller's transaction).
pub(super) fn last_exchange_since(
    conn: &Connection,
    id: &ProfileId,
    since: i64,
    token_requests: bool,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM exchanges WHERE profile_id = ?1 AND at >= ?2
             AND (?3 = 0 OR operation LIKE 'token:%') ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![id.as_str(), since, token_requests], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?)
}
