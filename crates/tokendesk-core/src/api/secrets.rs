//! A profile's client secret and keys from where its sources say: the keychain, a command (its
//! answer held in this process's memory only, never written anywhere) or an environment variable.

use std::collections::HashMap;

use super::Core;
use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::secret::{SecretKind, Sensitive};
use crate::secret_source::{self, SecretSource};

/// Command answers this process has read, by profile and kind, with the source that gave them:
/// a changed source is asked again.
pub(super) type CommandAnswers =
    HashMap<(ProfileId, SecretKind), (SecretSource, Sensitive<String>)>;

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
        let source = config.secrets.of(kind).clone();
        match &source {
            SecretSource::Keychain => self.vault.get(id, kind).await,
            SecretSource::Env { .. } => secret_source::read(&source, kind),
            SecretSource::Command { .. } => {
                let key = (id.clone(), kind);
                if let Some((s, v)) = self.command_answers.lock().expect("answers").get(&key)
                    && *s == source
                {
                    return Ok(Some(v.clone()));
                }
                let asked = source.clone();
                let value = tokio::task::spawn_blocking(move || secret_source::read(&asked, kind))
                    .await
                    .map_err(|e| Error::internal(format!("secret command task failed: {e}")))??;
                if let Some(v) = &value {
                    self.command_answers
                        .lock()
                        .expect("answers")
                        .insert(key, (source, v.clone()));
                }
                Ok(value)
            }
        }
    }

    /// Forgets the command answers of a profile (its sources changed, or it was deleted).
    pub(super) fn forget_command_answers(&self, id: &ProfileId) {
        self.command_answers
            .lock()
            .expect("answers")
            .retain(|(p, _), _| p != id);
    }
}
