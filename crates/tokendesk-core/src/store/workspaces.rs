//! Which profiles come from which workspace file, and the file's stamp (size and modification
//! time) when it was last read: an unchanged file is not read again.

use rusqlite::{OptionalExtension, params};

use super::{Store, Tx};
use crate::error::Result;
use crate::profile::ProfileId;

/// Where a workspace profile comes from: the workspace folder and the file's path inside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Origin {
    pub profile_id: ProfileId,
    pub workspace: String,
    pub file: String,
    /// The file's size and modification time when last read (not for the UI).
    #[serde(skip)]
    #[ts(skip)]
    pub stamp: String,
    /// When its file left the workspace (epoch ms): the profile is parked, hidden from every
    /// list, its tokens, history and keychain entries kept until the file comes back.
    #[ts(optional = nullable)]
    pub departed_at: Option<i64>,
}

fn origin(r: &rusqlite::Row<'_>) -> rusqlite::Result<Origin> {
    Ok(Origin {
        profile_id: ProfileId::from(r.get::<_, String>(0)?.as_str()),
        workspace: r.get(1)?,
        file: r.get(2)?,
        stamp: r.get(3)?,
        departed_at: r.get(4)?,
    })
}

impl Tx<'_> {
    pub fn put_origin(&self, o: &Origin) -> Result<()> {
        self.0.execute(
            "INSERT INTO workspace_files (profile_id, workspace, file, stamp) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(profile_id) DO UPDATE SET workspace = excluded.workspace,
                 file = excluded.file, stamp = excluded.stamp",
            params![o.profile_id.as_str(), o.workspace, o.file, o.stamp],
        )?;
        Ok(())
    }

    /// Parks a workspace profile whose file left the workspace (`at`, epoch ms).
    pub fn park(&self, id: &ProfileId, at: i64) -> Result<()> {
        self.0.execute(
            "UPDATE workspace_files SET departed_at = ?2 WHERE profile_id = ?1",
            params![id.as_str(), at],
        )?;
        Ok(())
    }

    /// Brings a parked profile back (its file is in the workspace again); `true` if it was parked.
    pub fn unpark(&self, id: &ProfileId) -> Result<bool> {
        Ok(self.0.execute(
            "UPDATE workspace_files SET departed_at = NULL
             WHERE profile_id = ?1 AND departed_at IS NOT NULL",
            [id.as_str()],
        )? > 0)
    }
}

impl Store {
    pub fn put_origin(&self, o: &Origin) -> Result<()> {
        Tx(&self.conn()).put_origin(o)
    }

    pub fn origin(&self, id: &ProfileId) -> Result<Option<Origin>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT profile_id, workspace, file, stamp, departed_at FROM workspace_files WHERE profile_id = ?1",
                [id.as_str()],
                origin,
            )
            .optional()?)
    }

    /// Every workspace profile, or those of one workspace.
    pub fn origins(&self, workspace: Option<&str>) -> Result<Vec<Origin>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT profile_id, workspace, file, stamp, departed_at FROM workspace_files
             WHERE ?1 IS NULL OR workspace = ?1 ORDER BY workspace, file",
        )?;
        let rows = stmt.query_map([workspace], origin)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
