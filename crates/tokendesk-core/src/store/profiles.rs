use std::sync::Arc;

use rusqlite::{OptionalExtension, params};

use super::profile_cache::RowRef;
use super::{Store, Tx};
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{GrantKind, Profile, ProfileConfig, ProfileId};
use crate::provider::discovery::ProviderMetadata;
use crate::token::TokenGlance;

/// A line of the profile list: what `tokendesk list` shows, read without the profiles'
/// configuration and provider metadata (kilobytes of JSON each).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSummary {
    pub id: ProfileId,
    pub name: String,
    pub environment: String,
    pub grant: GrantKind,
    /// The profile's token, in brief; `None` without one.
    pub token: Option<TokenGlance>,
    /// The workspace folder and file the profile comes from; `None` for a local one.
    pub origin: Option<(String, String)>,
}

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

/// A profile by id, and by name (statements kept prepared: a renewal reads its profile).
const BY_ID: &str =
    "SELECT id, config, metadata, created_at, updated_at FROM profiles WHERE id = ?1";
const BY_NAME: &str =
    "SELECT id, config, metadata, created_at, updated_at FROM profiles WHERE name = ?1";
/// The profile list with tokens and origins, from indexes alone: the profiles' columns from
/// `profiles_in_list_order`, each token's glance from `tokens_glance`.
const SUMMARIES: &str =
    "SELECT p.id, p.name, p.environment, p.grant_kind, t.glance, w.workspace, w.file
     FROM profiles p
     LEFT JOIN tokens t INDEXED BY tokens_glance ON t.profile_id = p.id
     LEFT JOIN workspace_files w ON w.profile_id = p.id
     WHERE w.departed_at IS NULL
     ORDER BY p.environment, p.name COLLATE NOCASE";
/// Every profile in list order, read along the index `profiles_in_list_order` (no sort).
const LIST: &str = "SELECT id, config, metadata, created_at, updated_at FROM profiles \
                    WHERE id NOT IN (SELECT profile_id FROM workspace_files \
                                     WHERE departed_at IS NOT NULL) \
                    ORDER BY environment, name COLLATE NOCASE";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, Option<String>, i64, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn decode(
    (id, config, metadata, created_at, updated_at): (String, String, Option<String>, i64, i64),
) -> Result<Profile> {
    decode_row(
        ProfileId::from(id.as_str()),
        &RowRef {
            config: &config,
            metadata: metadata.as_deref(),
            created_at,
            updated_at,
        },
    )
}

fn decode_row(id: ProfileId, row: &RowRef<'_>) -> Result<Profile> {
    Ok(Profile {
        id,
        config: serde_json::from_str::<ProfileConfig>(row.config)?,
        metadata: row
            .metadata
            .map(serde_json::from_str::<ProviderMetadata>)
            .transpose()?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

impl Tx<'_> {
    pub fn insert_profile(&self, p: &Profile) -> Result<()> {
        self.0
            .execute(
                "INSERT INTO profiles (id, name, environment, config, metadata, created_at, updated_at,
                                       grant_kind, secrets_stamp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, random())",
                params![
                    p.id.as_str(),
                    p.config.name,
                    p.config.environment,
                    serde_json::to_string(&p.config)?,
                    p.metadata.as_ref().map(serde_json::to_string).transpose()?,
                    p.created_at,
                    p.updated_at,
                    p.config.grant.as_str(),
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
                 updated_at = ?6, grant_kind = ?7 WHERE id = ?1",
                params![
                    p.id.as_str(),
                    p.config.name,
                    p.config.environment,
                    serde_json::to_string(&p.config)?,
                    p.metadata.as_ref().map(serde_json::to_string).transpose()?,
                    p.updated_at,
                    p.config.grant.as_str(),
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
            .prepare_cached(BY_ID)?
            .query_row([id.as_str()], row)
            .optional()?
            .map(decode)
            .transpose()
    }
}

impl Store {
    pub fn insert_profile(&self, p: &Profile) -> Result<()> {
        Tx(&self.conn()).insert_profile(p)?;
        self.profiles_changed();
        Ok(())
    }

    pub fn update_profile(&self, p: &Profile) -> Result<()> {
        Tx(&self.conn()).update_profile(p)
    }

    /// Deletes the profile and, by cascade, its token metadata, history and exchange log.
    pub fn delete_profile(&self, id: &ProfileId) -> Result<bool> {
        let deleted = Tx(&self.conn()).delete_profile(id)?;
        self.profiles.remove(id);
        self.profiles_changed();
        Ok(deleted)
    }

    pub fn get_profile(&self, id: &ProfileId) -> Result<Option<Profile>> {
        Ok(self.shared_profile(id)?.map(|p| Profile::clone(&p)))
    }

    /// A profile by id, shared: its row is read every time, and decoded only when it differs
    /// from the one the kept profile came from ([`super::profile_cache`]).
    pub fn shared_profile(&self, id: &ProfileId) -> Result<Option<Arc<Profile>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(BY_ID)?;
        let mut rows = stmt.query([id.as_str()])?;
        let Some(r) = rows.next()? else {
            self.profiles.remove(id);
            return Ok(None);
        };
        let row = RowRef {
            config: r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
            metadata: r
                .get_ref(2)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        };
        if let Some(p) = self.profiles.get(id, &row) {
            return Ok(Some(p));
        }
        let profile = Arc::new(decode_row(id.clone(), &row)?);
        self.profiles.put(&row, profile.clone());
        Ok(Some(profile))
    }

    /// The stamp of the profile's credentials in the keychain (`None`: no such profile); it
    /// changes with each write of one ([`Store::restamp_secrets`]).
    pub fn secrets_stamp(&self, id: &ProfileId) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT secrets_stamp FROM profiles WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?)
    }

    /// Gives the profile's credentials a new stamp: one was written or removed in the keychain.
    pub fn restamp_secrets(&self, id: &ProfileId) -> Result<()> {
        self.conn().execute(
            "UPDATE profiles SET secrets_stamp = random() WHERE id = ?1",
            [id.as_str()],
        )?;
        Ok(())
    }

    /// A profile by exact id or by name (names first: they are what people type).
    pub fn find_profile(&self, name_or_id: &str) -> Result<Option<Profile>> {
        let by_name = self
            .conn()
            .prepare_cached(BY_NAME)?
            .query_row([name_or_id], row)
            .optional()?;
        match by_name {
            Some(r) => decode(r).map(Some),
            None => self.get_profile(&ProfileId::from(name_or_id)),
        }
    }

    /// Every profile but the parked ones (their workspace file gone) in list order, with its
    /// token and origin: one query, the profiles' part from the index alone.
    pub fn list_summaries(&self) -> Result<Vec<ProfileSummary>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(SUMMARIES)?;
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows = stmt
            .query_map([], |r| -> rusqlite::Result<Row> {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, name, environment, grant, token, workspace, file)| {
                Ok(ProfileSummary {
                    id: ProfileId::from(id.as_str()),
                    name,
                    environment,
                    grant: serde_json::from_value(serde_json::Value::String(grant))?,
                    token: token
                        .as_deref()
                        .map(super::tokens::glance)
                        .transpose()?
                        .flatten(),
                    origin: workspace.zip(file),
                })
            })
            .collect()
    }

    /// All profiles but the parked ones (their workspace file gone), by environment then name.
    pub fn list_profiles(&self) -> Result<Vec<Profile>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(LIST)?;
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

    /// Each profile gets a stamp of its own on insert, and a new one with each restamp; an
    /// update of its settings leaves it (only a credential's write changes it).
    #[test]
    fn secrets_stamps_differ_between_profiles_and_change_only_when_restamped() {
        let s = Store::open_in_memory().unwrap();
        let (a, mut b) = (profile("alpha"), profile("beta"));
        s.insert_profile(&a).unwrap();
        s.insert_profile(&b).unwrap();
        let stamp = |p: &Profile| s.secrets_stamp(&p.id).unwrap().unwrap();
        let (sa, sb) = (stamp(&a), stamp(&b));
        assert_ne!(sa, sb);
        b.config.client_id = "d".into();
        s.update_profile(&b).unwrap();
        assert_eq!(stamp(&b), sb, "settings are not credentials");
        s.restamp_secrets(&b.id).unwrap();
        assert_ne!(stamp(&b), sb);
        assert_eq!(stamp(&a), sa, "one profile's stamp moves alone");
        assert_eq!(s.secrets_stamp(&ProfileId::random()).unwrap(), None);
    }

    #[test]
    fn summaries_list_every_profile_in_order_with_its_grant_and_token() {
        let s = Store::open_in_memory().unwrap();
        let mut b = profile("b");
        b.config.grant = GrantKind::AuthorizationCode;
        s.insert_profile(&b).unwrap();
        let a = profile("a");
        s.insert_profile(&a).unwrap();
        let mut token: crate::token::TokenSet = serde_json::from_value(serde_json::json!({
            "profile_id": a.id.as_str(), "grant": "client_credentials", "token_type": "Bearer",
            "obtained_at": 1, "access_expires_at": 60_001,
            "access": { "preview": "x", "fingerprint": "f", "is_jwt": false }, "raw": {}
        }))
        .unwrap();
        s.put_token(&token).unwrap();
        let list = s.list_summaries().unwrap();
        assert_eq!(
            list.iter()
                .map(|p| (p.name.as_str(), p.grant))
                .collect::<Vec<_>>(),
            [("a", a.config.grant), ("b", GrantKind::AuthorizationCode)]
        );
        assert_eq!(list[0].token, Some(token.glance()));
        assert_eq!(list[0].id, a.id);
        // The glance follows the token set it was stored with.
        token.needs_login = Some("the refresh token was refused".into());
        token.refresh_count = Some(3);
        s.put_token(&token).unwrap();
        let glance = s.list_summaries().unwrap()[0].token.unwrap();
        assert_eq!(glance, token.glance());
        assert!(glance.needs_login && glance.refresh_count == Some(3));
        assert!(list[1].token.is_none() && list[1].origin.is_none());
        // A changed grant is listed as changed.
        b.config.grant = GrantKind::ClientCredentials;
        s.update_profile(&b).unwrap();
        assert_eq!(
            s.list_summaries().unwrap()[1].grant,
            GrantKind::ClientCredentials
        );
    }

    #[test]
    fn profiles_are_listed_in_order_along_an_index_without_a_sort() {
        let s = Store::open_in_memory().unwrap();
        for (name, env) in [("b", "prod"), ("A", "prod"), ("c", ""), ("a2", "dev")] {
            let mut p = profile(name);
            p.config.environment = env.into();
            s.insert_profile(&p).unwrap();
        }
        let names: Vec<String> = s
            .list_profiles()
            .unwrap()
            .into_iter()
            .map(|p| p.config.name)
            .collect();
        assert_eq!(names, ["c", "a2", "A", "b"]);
        // With 10,000 profiles a sort of the rows goes through a temporary file (bench/list).
        let plan = |sql: &str| -> Vec<String> {
            s.conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let list = plan(LIST);
        assert!(
            list.iter().any(|d| d.contains("profiles_in_list_order")),
            "{list:?}"
        );
        assert!(!list.iter().any(|d| d.contains("TEMP B-TREE")), "{list:?}");
        // The summaries read no profile row (kilobytes of configuration and metadata each)
        // and no token set (the provider's raw answer among them): indexes alone.
        let summaries = plan(SUMMARIES);
        for index in ["profiles_in_list_order", "tokens_glance"] {
            assert!(
                summaries
                    .iter()
                    .any(|d| d.contains(&format!("COVERING INDEX {index}"))),
                "{summaries:?}"
            );
        }
        assert!(
            !summaries.iter().any(|d| d.contains("TEMP B-TREE")),
            "{summaries:?}"
        );
    }
}
