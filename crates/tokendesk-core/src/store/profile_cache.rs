//! Decoded profiles kept between reads. A profile's configuration and provider metadata are
//! kilobytes of JSON; a renewal needs its profile every time (333 a second with 10,000
//! profiles). The row is still read on every lookup, inside the same statement as before, and
//! the decoded profile is reused only when the row's columns are byte for byte the ones it was
//! decoded from: an edit made by another connection or process (the command line) is seen at
//! once, and nothing is ever served stale. What a hit saves is the JSON decoding and its
//! allocations, not the read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::profile::{Profile, ProfileId};

/// The stored columns a profile was decoded from, and the profile.
struct Entry {
    config: Box<str>,
    metadata: Option<Box<str>>,
    created_at: i64,
    updated_at: i64,
    profile: Arc<Profile>,
}

/// A stored profile row as read, borrowed from the statement.
pub(super) struct RowRef<'a> {
    pub config: &'a str,
    pub metadata: Option<&'a str>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Default)]
pub(super) struct ProfileCache(Mutex<HashMap<ProfileId, Entry>>);

impl ProfileCache {
    fn entries(&self) -> MutexGuard<'_, HashMap<ProfileId, Entry>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The profile decoded from exactly this row, if it is kept.
    pub fn get(&self, id: &ProfileId, row: &RowRef<'_>) -> Option<Arc<Profile>> {
        let entries = self.entries();
        let e = entries.get(id)?;
        (*e.config == *row.config
            && e.metadata.as_deref() == row.metadata
            && e.created_at == row.created_at
            && e.updated_at == row.updated_at)
            .then(|| e.profile.clone())
    }

    /// Keeps `profile`, decoded from `row`, in place of what was kept for it.
    pub fn put(&self, row: &RowRef<'_>, profile: Arc<Profile>) {
        let entry = Entry {
            config: row.config.into(),
            metadata: row.metadata.map(Into::into),
            created_at: row.created_at,
            updated_at: row.updated_at,
            profile,
        };
        self.entries().insert(entry.profile.id.clone(), entry);
    }

    /// Forgets a profile that is gone.
    pub fn remove(&self, id: &ProfileId) {
        self.entries().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::profile::GrantKind;
    use crate::store::Store;

    /// Two connections to one file, as the app and the command line have: what one writes,
    /// the other's next read returns, however little changed (here the name alone, in the same
    /// millisecond: `updated_at` is the same).
    #[test]
    fn a_profile_changed_through_another_connection_is_never_served_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokendesk.db");
        let (app, cli) = (Store::open(&path).unwrap(), Store::open(&path).unwrap());
        let mut p = crate::tray::tests::profile("p", GrantKind::ClientCredentials);
        app.insert_profile(&p).unwrap();
        let first = app.shared_profile(&p.id).unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&first, &app.shared_profile(&p.id).unwrap().unwrap()),
            "an unchanged row is decoded once"
        );
        p.config.name = "renamed".into();
        cli.update_profile(&p).unwrap();
        assert_eq!(app.get_profile(&p.id).unwrap(), Some(p.clone()));
        assert_eq!(
            app.shared_profile(&p.id).unwrap().unwrap().config.name,
            "renamed"
        );
        p.metadata = Some(crate::provider::discovery::ProviderMetadata {
            issuer: "https://as.example".into(),
            ..Default::default()
        });
        cli.update_profile(&p).unwrap();
        assert_eq!(app.get_profile(&p.id).unwrap(), Some(p.clone()));
        cli.delete_profile(&p.id).unwrap();
        assert_eq!(app.get_profile(&p.id).unwrap(), None);
        assert!(
            app.profiles.entries().is_empty(),
            "a deleted profile is forgotten"
        );
    }
}
