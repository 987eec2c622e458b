use rusqlite::params;

use super::Store;
use crate::error::Result;
use crate::history::RefreshEvent;
use crate::profile::ProfileId;

impl Store {
    /// Appends an event and returns its id.
    pub fn append_event(&self, e: &RefreshEvent) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO refresh_events (profile_id, at, data) VALUES (?1, ?2, ?3)",
            params![e.profile_id.as_str(), e.at, serde_json::to_string(e)?],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The newest `limit` events of a profile, newest first.
    pub fn events(&self, id: &ProfileId, limit: usize) -> Result<Vec<RefreshEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, data FROM refresh_events WHERE profile_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![id.as_str(), limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, d)| {
                let mut e: RefreshEvent = serde_json::from_str(&d)?;
                e.id = rowid;
                Ok(e)
            })
            .collect()
    }
}
