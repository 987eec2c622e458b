use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::profile::ProfileId;
use crate::token::{TokenGlance, TokenSet};

impl Store {
    /// Stores the set and its glance (what a listing reads), always together.
    pub fn put_token(&self, t: &TokenSet) -> Result<()> {
        self.conn().execute(
            "INSERT INTO tokens (profile_id, data, updated_at, glance) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(profile_id) DO UPDATE SET data = excluded.data,
                 updated_at = excluded.updated_at, glance = excluded.glance",
            params![
                t.profile_id.as_str(),
                serde_json::to_string(t)?,
                t.obtained_at,
                serde_json::to_string(&t.glance())?
            ],
        )?;
        Ok(())
    }

    pub fn get_token(&self, id: &ProfileId) -> Result<Option<TokenSet>> {
        let data: Option<String> = self
            .conn()
            .query_row(
                "SELECT data FROM tokens WHERE profile_id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    pub fn delete_token(&self, id: &ProfileId) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM tokens WHERE profile_id = ?1", [id.as_str()])?
            > 0)
    }

    pub fn list_tokens(&self) -> Result<Vec<TokenSet>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT data FROM tokens ORDER BY profile_id")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
    }
}

/// Schema step 6: the glance of every token set stored before there were glances.
pub(super) fn fill_glances(conn: &Connection) -> Result<()> {
    let rows = conn
        .prepare("SELECT profile_id, data FROM tokens")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut update = conn.prepare("UPDATE tokens SET glance = ?2 WHERE profile_id = ?1")?;
    for (id, data) in rows {
        let t: TokenSet = serde_json::from_str(&data)?;
        update.execute(params![id, serde_json::to_string(&t.glance())?])?;
    }
    Ok(())
}

/// A glance as stored; an empty one (a row written before step 6 filled it) reads as absent.
pub(super) fn glance(stored: &str) -> Result<Option<TokenGlance>> {
    if stored.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_str(stored)?))
}
