use rusqlite::{OptionalExtension, params};

use super::{Store, Tx};
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::provider::discovery::ProviderMetadata;

fn conflict(name: &str) -> Error {
    Error::new(
        ErrorCode::Conflict,
        format!("A profile named \"{name}\" already exists; choose another name."),
    )
}

fn map_unique(e: rusqlite::Error, name: &str) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            conflict(name)
        }
        _ => e.into(),
    }
}

const COLUMNS: &str = "id, config, metadata, created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Option<String>, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn decode(
    (id, config, metadata, created_at, updated_at): (String, String, Option<String>, i64, i64),
) -> Result<Profile> {
    Ok(Profile {
        id: ProfileId::from(id.as_str()),
        config: serde_json::from_str::<ProfileConfig>(&config)?,
        metadata: metadata
            .map(|m| serde_json::from_str::<ProviderMetadata>(&m))
            .transpose()?,
        created_at,
        updated_at,
    })
}

impl Tx<'_> {
    pub fn insert_profile(&self, p: &Profile) -> Result<()> {
        self.0
            .execute(
                "INSERT INTO profiles (id, name, environment, config, metadata, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.id.as_str(),
                    p.config.name,
                    p.config.environment,
                    serde_json::to_string(&p.config)?,
                    p.metadata.as_ref().map(serde_json::to_string).transpose()?,
                    p.created_at,
                    p.updated_at
                ],
            )
            .map_err(|e| map_unique(e, &p.config.name))?;
        Ok(())
    }

    pub fn update_profile(&self, p: &Profile) -> Result<()> {
        let n = self
            .0
            .execute(
                "UPDATE profiles SET name = ?2, environment = ?3, config = ?4, metadata = ?5,
                 updated_at = ?6 WHERE id = ?1",
                params![
                    p.id.as_str(),
                    p.config.name,
                    p.config.environment,
                    serde_json::to_string(&p.config)?,
                    p.metadata.as_ref().map(serde_json::to_string).transpose()?,
                    p.updated_at
                ],
            )
            .map_err(|e| map_unique(e, &p.config.name))?;
        if n == 0 {
            return Err(Error::not_found(format!("No profile with id {}.", p.id)));
        }
        Ok(())
    }

    /// Deletes the profile and, by cascade, its token metadata, history and exchange log.
    pub fn delete_profile(&self, id: &ProfileId) -> Result<bool> {
        Ok(self
            .0
            .execute("DELETE FROM profiles WHERE id = ?1", [id.as_str()])?
            > 0)
    }

    pub fn get_profile(&self, id: &ProfileId) -> Result<Option<Profile>> {
        self.0
            .query_row(
                &format!("SELECT {COLUMNS} FROM profiles WHERE id = ?1"),
                [id.as_str()],
                row,
            )
            .optional()?
            .map(decode)
            .transpose()
    }
}

impl Store {
    pub fn insert_profile(&self, p: &Profile) -> Result<()> {
        Tx(&self.conn()).insert_profile(p)
    }

    pub fn update_profile(&self, p: &Profile) -> Result<()> {
        Tx(&self.conn()).update_profile(p)
    }

    /// Deletes the profile and, by cascade, its token metadata, history and exchange log.
    pub fn delete_profile(&self, id: &ProfileId) -> Result<bool> {
        Tx(&self.conn()).delete_profile(id)
    }

    pub fn get_profile(&self, id: &ProfileId) -> Result<Option<Profile>> {
        Tx(&self.conn()).get_profile(id)
    }

    /// A profile by exact id or by name (names first: they are what people type).
    pub fn find_profile(&self, name_or_id: &str) -> Result<Option<Profile>> {
        let by_name = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM profiles WHERE name = ?1"),
                [name_or_id],
                row,
            )
            .optional()?;
        match by_name {
            Some(r) => decode(r).map(Some),
            None => self.get_profile(&ProfileId::from(name_or_id)),
        }
    }

    /// All profiles but the parked ones (their workspace file gone), by environment then name.
    pub fn list_profiles(&self) -> Result<Vec<Profile>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM profiles WHERE id NOT IN (
                SELECT profile_id FROM workspace_files WHERE departed_at IS NOT NULL)
             ORDER BY environment, name COLLATE NOCASE"
        ))?;
        let rows = stmt
            .query_map([], row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> Profile {
        Profile {
            id: ProfileId::random(),
            config: ProfileConfig {
                name: name.into(),
                client_id: "c".into(),
                ..Default::default()
            },
            metadata: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn profiles_round_trip_and_names_are_unique() {
        let s = Store::open_in_memory().unwrap();
        let a = profile("alpha");
        s.insert_profile(&a).unwrap();
        assert_eq!(s.find_profile("alpha").unwrap().unwrap(), a);
        assert_eq!(s.find_profile(a.id.as_str()).unwrap().unwrap(), a);
        let e = s.insert_profile(&profile("alpha")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        let mut b = profile("beta");
        s.insert_profile(&b).unwrap();
        b.config.name = "alpha".into();
        assert_eq!(s.update_profile(&b).unwrap_err().code, ErrorCode::Conflict);
        assert_eq!(s.list_profiles().unwrap().len(), 2);
        assert!(s.delete_profile(&a.id).unwrap());
        assert!(s.find_profile("alpha").unwrap().is_none());
    }
}
