use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::profile::ProfileId;
use crate::token::{TokenGlance, TokenSet};

/// Writes a token set's metadata (one row per profile) and its glance (what a listing reads),
/// always together, on `conn` or its transaction.
pub(super) fn put(conn: &Connection, t: &TokenSet) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tokens (profile_id, data, updated_at, glance) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(profile_id) DO UPDATE SET data = excluded.data,
             updated_at = excluded.updated_at, glance = excluded.glance",
    )?
    .execute(params![
        t.profile_id.as_str(),
        serde_json::to_string(t)?,
        t.obtained_at,
        serde_json::to_string(&t.glance())?
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
        token_sets(
            &self.conn(),
            "SELECT data FROM tokens ORDER BY profile_id",
            [],
        )
    }

    /// The token sets of the profiles `ids` that hold one, by profile id, in one query (the ids
    /// go in as one JSON array parameter, so any number fits). A profile without a token, or
    /// one that does not exist, is simply absent.
    pub fn tokens_of(&self, ids: &[ProfileId]) -> Result<Vec<TokenSet>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        token_sets(&self.conn(), TOKENS_OF, [serde_json::to_string(ids)?])
    }
}

/// The token sets a query selects (its one column: `data`), decoded.
fn token_sets(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<TokenSet>> {
    let rows = conn
        .prepare_cached(sql)?
        .query_map(params, |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
}

/// Looks each id up along the primary key (no scan of the table).
const TOKENS_OF: &str = "SELECT data FROM tokens
     WHERE profile_id IN (SELECT value FROM json_each(?1))
     ORDER BY profile_id";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{GrantKind, Profile, ProfileConfig};
    use crate::tray::tests::token;

    fn profile(store: &Store, name: &str) -> ProfileId {
        let p = Profile {
            id: ProfileId::random(),
            config: ProfileConfig {
                name: name.into(),
                client_id: "c".into(),
                ..Default::default()
            },
            metadata: None,
            created_at: 1,
            updated_at: 1,
        };
        store.insert_profile(&p).unwrap();
        p.id
    }

    #[test]
    fn tokens_of_returns_the_named_profiles_tokens_and_leaves_out_those_without() {
        let s = Store::open_in_memory().unwrap();
        let ids: Vec<ProfileId> = (0..5).map(|i| profile(&s, &format!("p{i}"))).collect();
        let sets: Vec<TokenSet> = ids
            .iter()
            .take(4)
            .enumerate()
            .map(|(i, id)| token(id.as_str(), GrantKind::ClientCredentials, i as i64, 60_000))
            .collect();
        for t in &sets {
            s.put_token(t).unwrap();
        }
        let no_token = &ids[4];
        let unknown = ProfileId::from("no-such-profile");

        let got = s
            .tokens_of(&[
                ids[2].clone(),
                no_token.clone(),
                ids[0].clone(),
                unknown,
                ids[2].clone(),
            ])
            .unwrap();
        let mut want = vec![sets[0].clone(), sets[2].clone()];
        want.sort_by(|a, b| a.profile_id.as_str().cmp(b.profile_id.as_str()));
        assert_eq!(got, want, "each asked-for token once; none for the others");

        // A renewed token comes back as stored now; a forgotten one no more.
        let renewed = token(ids[0].as_str(), GrantKind::ClientCredentials, 99, 120_000);
        s.put_token(&renewed).unwrap();
        s.delete_token(&ids[2]).unwrap();
        assert_eq!(
            s.tokens_of(&[ids[0].clone(), ids[2].clone()]).unwrap(),
            [renewed]
        );
        assert!(s.tokens_of(&[]).unwrap().is_empty());
        assert!(
            s.tokens_of(std::slice::from_ref(no_token))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn tokens_of_looks_ids_up_by_key_and_takes_more_ids_than_sqlite_has_parameters() {
        let s = Store::open_in_memory().unwrap();
        let plan: Vec<String> = s
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {TOKENS_OF}"))
            .unwrap()
            .query_map(["[]"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().any(|d| d.starts_with("SEARCH tokens USING")),
            "the ids are looked up along the key: {plan:?}"
        );
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN tokens")),
            "the token table is not scanned: {plan:?}"
        );

        let id = profile(&s, "only");
        let t = token(id.as_str(), GrantKind::ClientCredentials, 1, 60_000);
        s.put_token(&t).unwrap();
        let mut many: Vec<ProfileId> = (0..40_000)
            .map(|i| ProfileId::from(format!("absent-{i}").as_str()))
            .collect();
        many.push(id);
        assert_eq!(s.tokens_of(&many).unwrap(), [t]);
    }
}
