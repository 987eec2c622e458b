//! Profiles: create, change, duplicate, delete; the client credential and TLS key in the
//! keychain; discovery.

use super::Core;
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::http::Call;
use crate::http::TlsSetup;
use crate::presets::Preset;
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::provider::discovery::{self, ProviderMetadata};
use crate::secret::{SecretKind, Sensitive};

impl Core {
    pub fn list_profiles(&self) -> Result<Vec<Profile>> {
        self.store.list_profiles()
    }

    /// Changes when another process has written to the store since the previous call (see
    /// [`crate::store::Store::data_version`]): what the refresher looks at before re-reading
    /// 10,000 profiles for changes made elsewhere.
    pub fn store_version(&self) -> Result<i64> {
        self.store.data_version()
    }

    /// The profile list with each profile's token and origin, in one query and without the
    /// profiles' configuration (what `tokendesk list` shows); parked profiles left out.
    pub fn profile_summaries(&self) -> Result<Vec<crate::store::ProfileSummary>> {
        self.store.list_summaries()
    }

    /// A profile by name or id; a parked one (its workspace file gone) says where it went.
    pub fn profile(&self, name_or_id: &str) -> Result<Profile> {
        let p = self.store.find_profile(name_or_id)?.ok_or_else(|| {
            Error::not_found(format!(
                "No profile named \"{name_or_id}\" (see the profile list)."
            ))
        })?;
        self.refuse_if_parked(&p)?;
        Ok(p)
    }

    pub(super) fn profile_by_id(&self, id: &ProfileId) -> Result<Profile> {
        self.shared_profile_by_id(id).map(|p| Profile::clone(&p))
    }

    /// [`Core::profile_by_id`] without a copy: the store's decoded profile, current (its row is
    /// read and compared on every call).
    pub(super) fn shared_profile_by_id(&self, id: &ProfileId) -> Result<std::sync::Arc<Profile>> {
        self.store
            .shared_profile(id)?
            .ok_or_else(|| Error::not_found(format!("No profile with id {id}.")))
    }

    /// Creates a profile; the secret, if given, goes to the keychain.
    #[tracing::instrument(skip_all, err)]
    pub async fn create_profile(
        &self,
        config: ProfileConfig,
        client_secret: Option<Sensitive<String>>,
    ) -> Result<Profile> {
        config.validate()?;
        self.check_links(None, &config)?;
        if let Some(secret) = &client_secret {
            kept_in_keychain(&config, credential_kind(&config))?;
            check_credential(&config, secret)?;
        }
        let now = self.now();
        let profile = Profile {
            id: ProfileId::random(),
            config,
            metadata: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_profile(&profile)?;
        if let Some(secret) = client_secret
            && let Err(e) = self
                .keychain_set(&profile.id, credential_kind(&profile.config), secret)
                .await
        {
            // Without its secret the profile would be half made: take it back.
            self.store.delete_profile(&profile.id)?;
            return Err(e);
        }
        tracing::info!(profile = %profile.id, "profile created");
        self.emit(CoreEvent::ProfilesChanged);
        Ok(profile)
    }

    /// Replaces a profile's settings. A changed issuer drops the discovered metadata.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn update_profile(
        &self,
        id: &ProfileId,
        mut config: ProfileConfig,
    ) -> Result<Profile> {
        if config.resource.is_some() {
            config.resource_refused = None;
        }
        config.validate()?;
        self.check_links(Some(id), &config)?;
        let mut profile = self.profile_by_id(id)?;
        if profile.config.issuer != config.issuer {
            profile.metadata = None;
        }
        if profile.config.secrets != config.secrets {
            self.forget_secrets(id);
        }
        // A workspace profile's file is the source of truth: it is written first.
        self.write_back(id, &config)?;
        let old_name = std::mem::replace(&mut profile.config, config).name;
        profile.updated_at = self.now();
        self.store.update_profile(&profile)?;
        // Profiles that exchange this one's tokens follow it to its new name.
        self.rename_links(&old_name, &profile.config.name)?;
        self.emit(CoreEvent::ProfilesChanged);
        Ok(profile)
    }

    /// Copies a profile under a new name, its client secret (or key) and TLS key included;
    /// tokens are not copied.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn duplicate_profile(&self, id: &ProfileId, new_name: &str) -> Result<Profile> {
        let source = self.profile_by_id(id)?;
        let mut config = source.config.clone();
        config.name = new_name.to_owned();
        let secret = self.keychain_get(id, credential_kind(&config)).await?;
        let tls_key = self.keychain_get(id, SecretKind::TlsKey).await?;
        let signing_key = match credential_kind(&config) {
            SecretKind::PrivateKey => None,
            _ => self.keychain_get(id, SecretKind::PrivateKey).await?,
        };
        let mut copy = self.create_profile(config, secret).await?;
        for (kind, value) in [
            (SecretKind::TlsKey, tls_key),
            (SecretKind::PrivateKey, signing_key),
        ] {
            if let Some(v) = value
                && let Err(e) = self.keychain_set(&copy.id, kind, v).await
            {
                self.delete_profile(&copy.id).await?;
                return Err(e);
            }
        }
        copy.metadata = source.metadata;
        self.store.update_profile(&copy)?;
        Ok(copy)
    }

    /// Deletes a profile and everything it has: keychain entries first, so a keychain failure
    /// leaves the profile in place to try again.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn delete_profile(&self, id: &ProfileId) -> Result<()> {
        let profile = self.profile_by_id(id)?;
        self.refuse_if_exchanged_from(&profile)?;
        self.refuse_if_from_workspace(id)?;
        self.forget_values(id);
        self.forget_dpop_key(id);
        self.keychain_delete_all(id).await?;
        self.store.delete_profile(id)?;
        tracing::info!("profile deleted");
        self.emit(CoreEvent::TokenRemoved {
            profile_id: id.clone(),
        });
        self.emit(CoreEvent::ProfilesChanged);
        Ok(())
    }

    /// Stores (or with `None`, removes) the client's credential in the keychain: the client
    /// secret, or with `private_key_jwt` the private key (checked first: it must sign).
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn set_client_secret(
        &self,
        id: &ProfileId,
        secret: Option<Sensitive<String>>,
    ) -> Result<()> {
        let profile = self.profile_by_id(id)?;
        let kind = credential_kind(&profile.config);
        match secret {
            Some(s) if !s.expose().is_empty() => {
                kept_in_keychain(&profile.config, kind)?;
                check_credential(&profile.config, &s)?;
                self.keychain_set(id, kind, s).await
            }
            _ => self.keychain_delete(id, kind).await,
        }
    }

    /// Whether the credential the profile's auth method needs is stored.
    /// A secret from a command or an environment variable counts as there (it is not read).
    pub async fn has_client_secret(&self, id: &ProfileId) -> Result<bool> {
        let profile = self.profile_by_id(id)?;
        if !profile
            .config
            .secrets
            .of(credential_kind(&profile.config))
            .is_keychain()
        {
            return Ok(true);
        }
        Ok(self
            .keychain_get(id, credential_kind(&profile.config))
            .await?
            .is_some())
    }

    /// Stores (or with `None`, removes) the private key of the profile's TLS client
    /// certificate; it must match the certificate.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn set_tls_key(&self, id: &ProfileId, key: Option<Sensitive<String>>) -> Result<()> {
        let profile = self.profile_by_id(id)?;
        match key {
            Some(k) if !k.expose().is_empty() => {
                kept_in_keychain(&profile.config, SecretKind::TlsKey)?;
                let Some(cert) = &profile.config.tls_client_cert else {
                    return Err(Error::invalid_field(
                        "tls_key",
                        "Add the client certificate (PEM) to the profile first, then its key.",
                    ));
                };
                TlsSetup {
                    ca_pem: None,
                    identity_pem: Some(TlsSetup::identity(cert, &k)),
                }
                .check()?;
                self.keychain_set(id, SecretKind::TlsKey, k).await
            }
            _ => self.keychain_delete(id, SecretKind::TlsKey).await,
        }
    }

    /// Stores (or with `None`, removes) the client's signing key: what request objects, the
    /// JWT-bearer grant, signed step bodies and `private_key_jwt` sign with. Checked first (it
    /// must sign with the profile's algorithm). For `private_key_jwt` it is the client
    /// credential itself.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn set_signing_key(
        &self,
        id: &ProfileId,
        key: Option<Sensitive<String>>,
    ) -> Result<()> {
        let profile = self.profile_by_id(id)?;
        match key {
            Some(k) if !k.expose().is_empty() => {
                kept_in_keychain(&profile.config, SecretKind::PrivateKey)?;
                crate::flow::assertion::signing_key(
                    profile.config.client_assertion.alg,
                    k.expose(),
                )?;
                self.keychain_set(id, SecretKind::PrivateKey, k).await
            }
            _ => self.keychain_delete(id, SecretKind::PrivateKey).await,
        }
    }

    pub async fn has_signing_key(&self, id: &ProfileId) -> Result<bool> {
        let profile = self.profile_by_id(id)?;
        if !profile.config.secrets.private_key.is_keychain() {
            return Ok(true);
        }
        Ok(self
            .keychain_get(id, SecretKind::PrivateKey)
            .await?
            .is_some())
    }

    pub async fn has_tls_key(&self, id: &ProfileId) -> Result<bool> {
        let profile = self.profile_by_id(id)?;
        if !profile.config.secrets.tls_key.is_keychain() {
            return Ok(true);
        }
        Ok(self.keychain_get(id, SecretKind::TlsKey).await?.is_some())
    }

    /// Runs discovery for a profile's issuer and remembers the metadata.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn discover(&self, id: &ProfileId) -> Result<Profile> {
        let mut profile = self.profile_by_id(id)?;
        let Some(issuer) = profile.config.issuer.clone() else {
            return Err(Error::invalid_field(
                "issuer",
                "Set an issuer URL to discover from.",
            ));
        };
        let call = self.public_call(&profile, "discovery").await?;
        let template = crate::catalog::issuer_template(&profile.config, &issuer);
        let result = discovery::discover(&call, &issuer, template.as_ref(), self.now()).await;
        self.record(&call);
        let metadata = result?;
        // The provider's own spelling of its issuer (a typed trailing slash differs) is kept.
        profile.config.issuer = Some(metadata.issuer.clone());
        profile.metadata = Some(metadata);
        profile.updated_at = self.now();
        self.store.update_profile(&profile)?;
        self.emit(CoreEvent::ProfilesChanged);
        Ok(profile)
    }

    /// Discovery for an issuer not yet in a profile (a form's "discover" button).
    pub async fn discover_issuer(&self, issuer: &str) -> Result<ProviderMetadata> {
        let call = Call::new(
            &self.http,
            self.clock.as_ref(),
            ProfileId::from("-"),
            "discovery",
            &[],
        );
        discovery::discover(&call, issuer, None, self.now()).await
    }

    /// The profile, with discovery run first if it has an issuer and no metadata yet.
    pub(super) async fn ready_profile(&self, id: &ProfileId) -> Result<Profile> {
        let profile = self.profile_by_id(id)?;
        if profile.needs_discovery() {
            return self.discover(id).await;
        }
        Ok(profile)
    }

    /// Creates the presets whose names are not taken yet, each with its secret and signing key;
    /// returns the profiles created.
    pub async fn add_presets(&self, presets: Vec<Preset>) -> Result<Vec<Profile>> {
        let taken: Vec<String> = self
            .list_profiles()?
            .into_iter()
            .map(|p| p.config.name)
            .collect();
        let mut created = Vec::new();
        for preset in presets {
            if taken.contains(&preset.config.name) {
                continue;
            }
            let profile = self.create_profile(preset.config, preset.secret).await?;
            if let Some(key) = preset.signing_key
                && let Err(e) = self.set_signing_key(&profile.id, Some(key)).await
            {
                // A profile that signs could do nothing without its key: take it back.
                self.delete_profile(&profile.id).await?;
                return Err(e);
            }
            created.push(profile);
        }
        Ok(created)
    }
}

/// The keychain entry of the client's credential: the private key for `private_key_jwt`, else
/// the client secret (kept for a public client too, so switching methods does not lose it).
/// A generated client secret is made from the private key too.
pub(super) fn credential_kind(config: &ProfileConfig) -> SecretKind {
    config.credential_kind()
}

/// A private key must sign with the profile's algorithm before it is stored.
pub(super) fn check_credential(config: &ProfileConfig, value: &Sensitive<String>) -> Result<()> {
    if config.key_is_credential() {
        crate::flow::assertion::signing_key(config.client_assertion.alg, value.expose())?;
    }
    Ok(())
}

/// A value typed for a secret whose source is a command or a variable would lie unused in the
/// keychain: refused, naming the source.
fn kept_in_keychain(config: &ProfileConfig, kind: SecretKind) -> Result<()> {
    let source = config.secrets.of(kind);
    if source.is_keychain() {
        return Ok(());
    }
    Err(Error::invalid_field(
        kind.as_str(),
        format!(
            "Profile \"{}\" reads its {} from {}, not from the keychain. Switch its source to \
             the keychain first to store a value.",
            config.name,
            kind.as_str().replace('_', " "),
            source.describe()
        ),
    ))
}
