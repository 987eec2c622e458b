use rusqlite::params;

use super::Store;
use crate::error::Result;
use crate::history::TokenEvent;
use crate::profile::ProfileId;

/// The token history keeps this many events per profile; older ones are dropped.
pub const EVENTS_KEPT_PER_PROFILE: usize = 1_000;

impl Store {
    /// Appends an event and returns its id.
    pub fn append_event(&self, e: &TokenEvent) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO refresh_events (profile_id, at, data) VALUES (?1, ?2, ?3)",
            params![e.profile_id.as_str(), e.at, serde_json::to_string(e)?],
        )?;
        let id = conn.last_insert_rowid();
        super::trim(
            &conn,
            "refresh_events",
            e.profile_id.as_str(),
            EVENTS_KEPT_PER_PROFILE,
        )?;
        Ok(id)
    }

    /// The newest `limit` events of a profile, newest first.
    pub fn events(&self, id: &ProfileId, limit: usize) -> Result<Vec<TokenEvent>> {
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
                let mut e: TokenEvent = serde_json::from_str(&d)?;
                e.id = rowid;
                Ok(e)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventKind, Outcome, Trigger};
    use crate::profile::{Profile, ProfileConfig};

    /// A store holding one profile, "p".
    fn store_with_profile() -> (Store, ProfileId) {
        let s = Store::open_in_memory().unwrap();
        let id = ProfileId::from("p");
        s.insert_profile(&Profile {
            id: id.clone(),
            config: ProfileConfig {
                name: "p".into(),
                ..Default::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        })
        .unwrap();
        (s, id)
    }

    #[test]
    fn the_history_keeps_the_newest_events_per_profile() {
        let (s, id) = store_with_profile();
        let event = |at| TokenEvent {
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
        };
        for at in 0..(EVENTS_KEPT_PER_PROFILE as i64 + 5) {
            s.append_event(&event(at)).unwrap();
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
