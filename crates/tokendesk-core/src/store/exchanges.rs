use rusqlite::params;

use super::Store;
use crate::error::Result;
use crate::http::Exchange;
use crate::profile::ProfileId;

/// The exchange log keeps this many exchanges per profile; older ones are dropped.
pub const EXCHANGES_KEPT_PER_PROFILE: usize = 300;

impl Store {
    pub fn append_exchanges(&self, records: &[Exchange]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for r in records {
            tx.execute(
                "INSERT INTO exchanges (profile_id, at, operation, data) VALUES (?1, ?2, ?3, ?4)",
                params![
                    r.profile_id.as_str(),
                    r.at,
                    r.operation,
                    serde_json::to_string(r)?
                ],
            )?;
        }
        let mut profiles: Vec<&str> = records.iter().map(|r| r.profile_id.as_str()).collect();
        profiles.dedup();
        for p in profiles {
            super::trim(&tx, "exchanges", p, EXCHANGES_KEPT_PER_PROFILE)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` exchanges of a profile, oldest first (reading order).
    pub fn exchanges(&self, id: &ProfileId, limit: usize) -> Result<Vec<Exchange>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT data FROM (SELECT id, data FROM exchanges WHERE profile_id = ?1
             ORDER BY id DESC LIMIT ?2) ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![id.as_str(), limit as i64], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
    }
}
