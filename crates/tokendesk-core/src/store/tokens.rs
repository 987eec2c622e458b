use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::profile::ProfileId;
use crate::token::TokenSet;

/// Writes a token set's metadata (one row per profile), on `conn` or its transaction.
pub(super) fn put(conn: &Connection, t: &TokenSet) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (profile_id, data, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(profile_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
    )?
    .execute(params![
        t.profile_id.as_str(),
        serde_json::to_string(t)?,
        t.obtained_at
    ])?;
    Ok(())
}

impl Store {
    pub fn put_token(&self, t: &TokenSet) -> Result<()> {
        put(&self.conn(), t)
    }

    pub fn get_token(&self, id: &ProfileId) -> Result<Option<TokenSet>> {
        let data: Option<String> = self
            .conn()
            .prepare_cached("SELECT data FROM tokens WHERE profile_id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
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
        let mut stmt = conn.prepare_cached("SELECT data FROM tokens ORDER BY profile_id")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
    }
}
