//! A profile's secrets: the keychain as the core uses it, and a profile's credentials (client
//! secret, signing key, TLS key) from where its sources say — the keychain, a command or an
//! environment variable — kept in this process's memory between uses, never written anywhere.
//!
//! A renewal needs its profile's credential every time: at 10,000 profiles that is 333 keychain
//! reads a second, each a Secret Service round trip (0.4–4 ms, growing with the keyring:
//! `bench/keychain`). A kept keychain value is served only while the profile's secrets stamp in
//! the store is the one read before the value was: every write of a credential here changes the
//! stamp after the keychain write, so a credential set by another process (the command line)
//! is read again at once. A value changed behind TokenDesk's back (a keyring manager) is
//! forgotten when a token operation of its profile fails.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::Core;
use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::secret::{SecretKind, Sensitive, Vault};
use crate::secret_source::{self, SecretSource};

/// The keychain and the credentials kept from it and from commands. Its fields are private to
/// this module: every keychain write goes through [`Core::keychain_set`] and
/// [`Core::keychain_delete`], which keep the stamps true.
pub(super) struct Secrets {
    vault: Vault,
    kept: Mutex<HashMap<(ProfileId, SecretKind), Kept>>,
}

/// A credential held in memory, and what it stays valid for.
struct Kept {
    from: Origin,
    value: Sensitive<String>,
}

#[derive(PartialEq)]
enum Origin {
    /// A command's answer, while the profile names the same command.
    Command(SecretSource),
    /// The keychain's value, while the profile's secrets stamp is this one.
    Keychain(i64),
}

/// The secrets a profile's source setting covers (and that are kept in memory): its
/// credentials, not its tokens (`tokens::Memo`) or its DPoP key (kept by `dpop`).
fn is_credential(kind: SecretKind) -> bool {
    matches!(
        kind,
        SecretKind::ClientSecret | SecretKind::PrivateKey | SecretKind::TlsKey
    )
}

impl Secrets {
    pub(super) fn new(vault: Vault) -> Self {
        Self {
            vault,
            kept: Mutex::default(),
        }
    }

    fn kept(&self) -> MutexGuard<'_, HashMap<(ProfileId, SecretKind), Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Core {
    /// The value of one of the profile's secrets (client secret, private key, TLS key) from its
    /// source; `None` when the keychain holds none. A failing command or a missing variable is
    /// an error naming it.
    pub(super) async fn secret(
        &self,
        profile: &Profile,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        self.secret_of(&profile.id, &profile.config, kind).await
    }

    /// [`Core::secret`] for a profile's id and settings.
    pub(super) async fn secret_of(
        &self,
        id: &ProfileId,
        config: &ProfileConfig,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        let source = config.secrets.of(kind);
        let origin = match source {
            SecretSource::Env { .. } => return secret_source::read(source, kind),
            SecretSource::Keychain if !is_credential(kind) => {
                return self.keychain_get(id, kind).await;
            }
            SecretSource::Keychain => match self.store.secrets_stamp(id)? {
                Some(stamp) => Origin::Keychain(stamp),
                // A profile not stored (a form being checked) has nothing to keep.
                None => return self.keychain_get(id, kind).await,
            },
            SecretSource::Command { .. } => Origin::Command(source.clone()),
        };
        let key = (id.clone(), kind);
        if let Some(k) = self.secrets.kept().get(&key)
            && k.from == origin
        {
            return Ok(Some(k.value.clone()));
        }
        let value = match &origin {
            Origin::Keychain(_) => self.keychain_get(id, kind).await?,
            Origin::Command(source) => {
                let asked = source.clone();
                tokio::task::spawn_blocking(move || secret_source::read(&asked, kind))
                    .await
                    .map_err(|e| Error::internal(format!("secret command task failed: {e}")))??
            }
        };
        if let Some(value) = &value {
            let value = value.clone();
            let kept = Kept {
                from: origin,
                value,
            };
            self.secrets.kept().insert(key, kept);
        }
        Ok(value)
    }

    /// Forgets what is kept of a profile's secrets (its sources changed, or it was deleted).
    pub(super) fn forget_secrets(&self, id: &ProfileId) {
        self.secrets.kept().retain(|(p, _), _| p != id);
    }

    /// Forgets the keychain values kept of a profile, and keeps its command answers: a token
    /// operation failed, perhaps because a credential was changed outside TokenDesk. A command
    /// (a password manager that may prompt) is not asked again for each retry.
    pub(super) fn forget_keychain_secrets(&self, id: &ProfileId) {
        self.secrets
            .kept()
            .retain(|(p, _), k| p != id || matches!(k.from, Origin::Command(_)));
    }

    /// A keychain entry as it is now, read from the keychain.
    pub(super) async fn keychain_get(
        &self,
        id: &ProfileId,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        self.secrets.vault.get(id, kind).await
    }

    /// Writes a keychain entry. A credential's write changes the profile's secrets stamp after
    /// it, which every process's kept value is checked against.
    pub(super) async fn keychain_set(
        &self,
        id: &ProfileId,
        kind: SecretKind,
        value: Sensitive<String>,
    ) -> Result<()> {
        self.secrets.vault.set(id, kind, value).await?;
        self.credential_changed(id, kind)
    }

    /// Deletes a keychain entry (a missing one is not an error); see [`Core::keychain_set`].
    pub(super) async fn keychain_delete(&self, id: &ProfileId, kind: SecretKind) -> Result<()> {
        self.secrets.vault.delete(id, kind).await?;
        self.credential_changed(id, kind)
    }

    fn credential_changed(&self, id: &ProfileId, kind: SecretKind) -> Result<()> {
        if is_credential(kind) {
            self.secrets.kept().remove(&(id.clone(), kind));
            self.store.restamp_secrets(id)?;
        }
        Ok(())
    }

    /// Deletes every keychain entry a profile may have (it is being deleted).
    pub(super) async fn keychain_delete_all(&self, id: &ProfileId) -> Result<()> {
        self.forget_secrets(id);
        self.secrets.vault.delete_all(id).await
    }

    /// [`Core::keychain_delete_all`], blocking the calling thread (not for a runtime's worker).
    pub(super) fn keychain_delete_all_now(&self, id: &ProfileId) -> Result<()> {
        self.forget_secrets(id);
        self.secrets.vault.delete_all_now(id)
    }
}
