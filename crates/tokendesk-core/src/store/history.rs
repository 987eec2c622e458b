use rusqlite::{Connection, params};

use super::{HISTORY_LOG, Store};
use crate::error::Result;
use crate::history::TokenEvent;
use crate::profile::ProfileId;

/// The token history keeps this many events per profile (fewer in a store of more than 500
/// profiles, down to 50: `store::HISTORY_LOG`); older ones are dropped.
pub const EVENTS_KEPT_PER_PROFILE: usize = 1_000;

impl Store {
    /// Appends an event and returns its id.
    pub fn append_event(&self, e: &TokenEvent) -> Result<i64> {
        self.insert_event(&self.conn(), e)
    }

    /// Inserts an event on `conn` (in the caller's transaction), trims the profile's history,
    /// and returns the event's id.
    pub(super) fn insert_event(&self, conn: &Connection, e: &TokenEvent) -> Result<i64> {
        conn.prepare_cached(
            "INSERT INTO refresh_events (profile_id, at, data) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            e.profile_id.as_str(),
            e.at,
            serde_json::to_string(e)?
        ])?;
        let id = conn.last_insert_rowid();
        self.trim(conn, HISTORY_LOG, e.profile_id.as_str())?;
        Ok(id)
    }

    /// How many events of each profile the history keeps now ([`Store::kept`]).
    pub fn events_kept(&self) -> Result<usize> {
        Ok(self.kept(&self.conn(), HISTORY_LOG)?)
    }

    /// The newest `limit` events of a profile (at most the number kept: [`Store::kept`]),
    /// newest first.
    pub fn events(&self, id: &ProfileId, limit: usize) -> Result<Vec<TokenEvent>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, data FROM refresh_events WHERE profile_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = limit.min(self.kept(&conn, HISTORY_LOG)?);
        let rows = stmt
            .query_map(params![id.as_str(), limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(rowid, d)| {
                let mut e: TokenEvent = serde_json::from_str(&d)?;
                e.id = rowid;
                Ok(e)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, store_with_profile};
    use super::*;
    use crate::history::EventKind;

    #[test]
    fn the_history_keeps_the_newest_events_per_profile() {
        let (s, id) = store_with_profile();
        for at in 0..(EVENTS_KEPT_PER_PROFILE as i64 + 5) {
            s.append_event(&event(&id, at)).unwrap();
        }
        let kept = s.events(&id, usize::MAX >> 1).unwrap();
        assert_eq!(kept.len(), EVENTS_KEPT_PER_PROFILE);
        assert_eq!(
            kept[0].at,
            EVENTS_KEPT_PER_PROFILE as i64 + 4,
            "newest first"
        );
        assert_eq!(kept.last().unwrap().at, 5, "the oldest five went");
    }

    #[test]
    fn events_recorded_before_acquisitions_were_read_as_refreshes() {
        // The history's rows are JSON: a row written by a build that knew only refreshes (no
        // `kind`, no `exchange_id`) needs no schema step, it reads as what it was.
        let (s, id) = store_with_profile();
        let old = r#"{"id":0,"profile_id":"p","at":5,"trigger":"automatic","method":"refresh_token",
            "outcome":"success","duration_ms":3,"access_expires_at":null,"refresh_expires_at":null,
            "refresh_count":2,"rotated":true,"error_code":null,"error_message":null}"#;
        s.conn()
            .execute(
                "INSERT INTO refresh_events (profile_id, at, data) VALUES ('p', 5, ?1)",
                [old],
            )
            .unwrap();
        let read = s.events(&id, 10).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].kind, EventKind::Refresh);
        assert_eq!(read[0].exchange_id, None);
        assert_eq!(read[0].refresh_count, Some(2));
    }
}
