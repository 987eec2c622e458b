//! The operations the desktop shell and the command line call. Each takes ids and plain data,
//! does its work through the store, the keychain and the flows, and reports changes through the
//! [`EventSink`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ts_rs::TS;

use oauth2::TokenResponse as _;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::browser::BrowserLauncher;
use crate::clock::{Clock, Millis, SystemClock};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{CoreEvent, EventSink, NoEvents};
use crate::flow::token_ops::TokenHint;
use crate::flow::{self, auth_code::Authorization};
use crate::history::{Method, Outcome, RefreshEvent, Trigger};
use crate::home::Home;
use crate::http::TlsSetup;
use crate::http::{Call, Exchange, Http, HttpOptions};
use crate::inspect::{self, DecodedJwt, IdTokenExpectations, IdTokenValidation};
use crate::loopback::{Callback, Listener, RedirectTarget};
use crate::presets::Preset;
use crate::profile::{AuthMethod, Endpoint, GrantKind, Profile, ProfileConfig, ProfileId};
use crate::provider::discovery::{self, ProviderMetadata};
use crate::provider::response::TokenResponse;
use crate::secret::{Keychain, SecretKind, SecretStore, Sensitive, Vault, fingerprint};
use crate::settings::Settings;
use crate::store::Store;
use crate::token::{TokenRef, TokenSet, TokenState};

/// How long a sign-in may take in the browser before the listener gives up.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// Tolerated clock difference when checking ID-token expiry.
const CLOCK_LEEWAY_MS: Millis = 60_000;

pub struct CoreOptions {
    pub http: HttpOptions,
    pub clock: Arc<dyn Clock>,
    pub events: Arc<dyn EventSink>,
}

impl Default for CoreOptions {
    fn default() -> Self {
        Self {
            http: HttpOptions::default(),
            clock: Arc::new(SystemClock),
            events: Arc::new(NoEvents),
        }
    }
}

/// A sign-in that has started and waits for the browser (or a pasted URL).
#[derive(Debug, Clone, Serialize, TS)]
pub struct LoginStarted {
    pub login_id: String,
    pub profile_id: ProfileId,
    /// Open this in a browser. It carries no secret (PKCE keeps the verifier here).
    pub auth_url: String,
    pub redirect_uri: String,
    /// Whether a loopback listener waits; if not, the user pastes the redirect URL.
    pub listening: bool,
}

struct PendingLogin {
    profile_id: ProfileId,
    auth: Authorization,
    listener: Option<Listener>,
    cancel: CancellationToken,
}

/// How to hand out an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The token alone.
    Raw,
    /// `Authorization: Bearer …`
    Header,
    /// A curl command line with the profile's extra headers.
    Curl,
}

/// A token decoded for display.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TokenInspection {
    pub kind: SecretKind,
    pub token: TokenRef,
    pub jwt: Option<DecodedJwt>,
    /// Why the value could not be decoded as a JWT (opaque, encrypted, malformed).
    pub not_jwt: Option<String>,
    pub validation: Option<IdTokenValidation>,
}

pub struct Core {
    home: Home,
    store: Store,
    vault: Vault,
    http: Http,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventSink>,
    logins: Mutex<HashMap<String, PendingLogin>>,
    flights: Mutex<HashMap<ProfileId, Arc<tokio::sync::Mutex<()>>>>,
    /// Woken on every change of profiles or tokens in this process (the refresher waits on it).
    changed: tokio::sync::Notify,
    /// Token values this process wrote or read, by fingerprint: a value is served from here only
    /// while the store's token set names the same fingerprint, so another process's newer token
    /// is always read from the keychain.
    memo: Mutex<Memo>,
}

impl Core {
    pub fn open(home: Home, secrets: Arc<dyn SecretStore>, options: CoreOptions) -> Result<Self> {
        Ok(Self {
            store: Store::open(&home.db_path())?,
            home,
            vault: Vault::new(secrets),
            http: Http::new(&options.http)?,
            clock: options.clock,
            events: options.events,
            logins: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
            memo: Mutex::new(HashMap::new()),
        })
    }

    /// The user's TokenDesk: `$TOKENDESK_HOME` or the OS data dir, and the OS keychain.
    pub fn open_default(events: Arc<dyn EventSink>) -> Result<Self> {
        let home = Home::from_env()?;
        let keychain = Arc::new(Keychain::new(home.keychain_service()));
        Self::open(
            home,
            keychain,
            CoreOptions {
                events,
                ..Default::default()
            },
        )
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    // ---- profiles -----------------------------------------------------------------------

    pub fn list_profiles(&self) -> Result<Vec<Profile>> {
        self.store.list_profiles()
    }

    /// A profile by name or id.
    pub fn profile(&self, name_or_id: &str) -> Result<Profile> {
        self.store.find_profile(name_or_id)?.ok_or_else(|| {
            Error::not_found(format!(
                "No profile named \"{name_or_id}\" (see the profile list)."
            ))
        })
    }

    fn profile_by_id(&self, id: &ProfileId) -> Result<Profile> {
        self.store
            .get_profile(id)?
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
        if let Some(secret) = &client_secret {
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
                .vault
                .set(&profile.id, credential_kind(&profile.config), secret)
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
    pub async fn update_profile(&self, id: &ProfileId, config: ProfileConfig) -> Result<Profile> {
        config.validate()?;
        let mut profile = self.profile_by_id(id)?;
        if profile.config.issuer != config.issuer {
            profile.metadata = None;
        }
        profile.config = config;
        profile.updated_at = self.now();
        self.store.update_profile(&profile)?;
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
        let secret = self.vault.get(id, credential_kind(&config)).await?;
        let tls_key = self.vault.get(id, SecretKind::TlsKey).await?;
        let mut copy = self.create_profile(config, secret).await?;
        if let Some(key) = tls_key
            && let Err(e) = self.vault.set(&copy.id, SecretKind::TlsKey, key).await
        {
            self.delete_profile(&copy.id).await?;
            return Err(e);
        }
        copy.metadata = source.metadata;
        self.store.update_profile(&copy)?;
        Ok(copy)
    }

    /// Deletes a profile and everything it has: keychain entries first, so a keychain failure
    /// leaves the profile in place to try again.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn delete_profile(&self, id: &ProfileId) -> Result<()> {
        self.profile_by_id(id)?;
        self.forget_values(id);
        self.vault.delete_all(id).await?;
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
                check_credential(&profile.config, &s)?;
                self.vault.set(id, kind, s).await
            }
            _ => self.vault.delete(id, kind).await,
        }
    }

    /// Whether the credential the profile's auth method needs is stored.
    pub async fn has_client_secret(&self, id: &ProfileId) -> Result<bool> {
        let profile = self.profile_by_id(id)?;
        Ok(self
            .vault
            .get(id, credential_kind(&profile.config))
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
                self.vault.set(id, SecretKind::TlsKey, k).await
            }
            _ => self.vault.delete(id, SecretKind::TlsKey).await,
        }
    }

    pub async fn has_tls_key(&self, id: &ProfileId) -> Result<bool> {
        self.profile_by_id(id)?;
        Ok(self.vault.get(id, SecretKind::TlsKey).await?.is_some())
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
        let result = discovery::discover(&call, &issuer, self.now()).await;
        self.record(&call);
        profile.metadata = Some(result?);
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
        discovery::discover(&call, issuer, self.now()).await
    }

    /// The profile, with discovery run first if it has an issuer and no metadata yet.
    async fn ready_profile(&self, id: &ProfileId) -> Result<Profile> {
        let profile = self.profile_by_id(id)?;
        if profile.config.issuer.is_some() && profile.metadata.is_none() {
            return self.discover(id).await;
        }
        Ok(profile)
    }

    // ---- tokens -------------------------------------------------------------------------

    pub fn token(&self, id: &ProfileId) -> Result<Option<TokenSet>> {
        self.store.get_token(id)
    }

    pub fn tokens(&self) -> Result<Vec<TokenSet>> {
        self.store.list_tokens()
    }

    /// Gets a new token with the client-credentials grant.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn fetch_client_credentials(&self, id: &ProfileId) -> Result<TokenSet> {
        let _flight = self.enter_flight(id).await?;
        let profile = self.ready_profile(id).await?;
        self.client_credentials_locked(&profile).await
    }

    async fn client_credentials_locked(&self, profile: &Profile) -> Result<TokenSet> {
        let (call, secret) = self
            .authed_call(profile, "token:client_credentials", &[])
            .await?;
        let result = flow::client_credentials::request(profile, secret.as_ref(), &call).await;
        self.record(&call);
        let response = result?;
        self.persist(profile, GrantKind::ClientCredentials, &response, None, None)
            .await
    }

    /// Starts a sign-in: builds the authorization request and, for a loopback redirect URI,
    /// starts listening. Open `auth_url` in a browser, then [`Core::wait_login`] (or
    /// [`Core::complete_login`] with a pasted redirect URL).
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn begin_login(&self, id: &ProfileId) -> Result<LoginStarted> {
        let profile = self.ready_profile(id).await?;
        let target = RedirectTarget::parse(profile.config.redirect_uri.as_deref())?;
        let (listener, redirect_uri) = match &target {
            RedirectTarget::Loopback { .. } => {
                let l = Listener::bind(&target).await?;
                let uri = l.redirect_uri().to_owned();
                (Some(l), uri)
            }
            RedirectTarget::Manual(uri) => (None, uri.clone()),
        };
        let mut auth = flow::auth_code::authorization(&profile, &redirect_uri)?;
        if profile.config.signed_request {
            let key = self.vault.get(&profile.id, SecretKind::PrivateKey).await?;
            auth.url = flow::request_object::wrap(&profile, &auth.url, key.as_ref(), self.now())?;
        }
        let started = LoginStarted {
            login_id: uuid::Uuid::new_v4().simple().to_string(),
            profile_id: profile.id.clone(),
            auth_url: auth.url.to_string(),
            redirect_uri,
            listening: listener.is_some(),
        };
        self.lock_logins().insert(
            started.login_id.clone(),
            PendingLogin {
                profile_id: profile.id,
                auth,
                listener,
                cancel: CancellationToken::new(),
            },
        );
        Ok(started)
    }

    /// Waits for the browser to come back to the loopback listener, then redeems the code.
    pub async fn wait_login(&self, login_id: &str, timeout: Duration) -> Result<TokenSet> {
        let (listener, cancel) = {
            let mut logins = self.lock_logins();
            let pending = logins
                .get_mut(login_id)
                .ok_or_else(|| unknown_login(login_id))?;
            let listener = pending.listener.take().ok_or_else(|| {
                Error::new(
                    ErrorCode::Conflict,
                    "This sign-in is not waiting on a loopback listener: paste the redirect URL.",
                )
            })?;
            (listener, pending.cancel.clone())
        };
        let waited = listener.wait(timeout, &cancel).await;
        let pending = self.lock_logins().remove(login_id);
        let callback = waited?;
        let pending = pending.ok_or_else(|| unknown_login(login_id))?;
        self.finish_login(pending, &callback).await
    }

    /// Completes a sign-in from the redirect URL the user pasted.
    pub async fn complete_login(&self, login_id: &str, redirect_url: &str) -> Result<TokenSet> {
        let callback = Callback::from_url(redirect_url)?;
        let pending = self
            .lock_logins()
            .remove(login_id)
            .ok_or_else(|| unknown_login(login_id))?;
        pending.cancel.cancel();
        self.finish_login(pending, &callback).await
    }

    /// Cancels a sign-in; a waiting [`Core::wait_login`] returns `Cancelled`.
    pub fn cancel_login(&self, login_id: &str) {
        if let Some(p) = self.lock_logins().get(login_id) {
            p.cancel.cancel();
        }
    }

    /// The whole sign-in: begin, open the browser, wait, redeem.
    pub async fn login(
        &self,
        id: &ProfileId,
        browser: &dyn BrowserLauncher,
        timeout: Duration,
    ) -> Result<TokenSet> {
        let started = self.begin_login(id).await?;
        if let Err(e) = browser.open(&started.auth_url) {
            self.lock_logins().remove(&started.login_id);
            return Err(e);
        }
        if !started.listening {
            self.lock_logins().remove(&started.login_id);
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "The redirect URI {} is not a loopback address TokenDesk can listen on: \
                     paste the address the browser lands on instead.",
                    started.redirect_uri
                ),
            ));
        }
        self.wait_login(&started.login_id, timeout).await
    }

    #[tracing::instrument(skip_all, fields(profile = %pending.profile_id), err)]
    async fn finish_login(&self, pending: PendingLogin, callback: &Callback) -> Result<TokenSet> {
        let _flight = self.enter_flight(&pending.profile_id).await?;
        let profile = self.profile_by_id(&pending.profile_id)?;
        let code = flow::auth_code::check_response(&profile, &pending.auth, callback)?;
        let (call, secret) = self
            .authed_call(
                &profile,
                "token:authorization_code",
                &[&code, pending.auth.pkce_verifier.expose()],
            )
            .await?;
        let result =
            flow::auth_code::redeem(&profile, secret.as_ref(), &pending.auth, code, &call).await;
        self.record(&call);
        let response = result?;
        let validation = match response.id_token() {
            Some(id_token) => Some(
                self.validate_id_token(&profile, id_token, &pending.auth)
                    .await,
            ),
            None => None,
        };
        tracing::info!("signed in");
        self.persist(
            &profile,
            GrantKind::AuthorizationCode,
            &response,
            None,
            validation,
        )
        .await
    }

    async fn validate_id_token(
        &self,
        profile: &Profile,
        id_token: &str,
        auth: &Authorization,
    ) -> IdTokenValidation {
        let jwks = match profile.endpoint(Endpoint::Jwks) {
            // Without a JWKS (not even a usable call to fetch it) the signature check says so.
            Some(uri) => match self.public_call(profile, "jwks").await {
                Ok(call) => {
                    let fetched = fetch_json(&call, uri).await;
                    self.record(&call);
                    fetched.ok().and_then(|v| serde_json::from_value(v).ok())
                }
                Err(_) => None,
            },
            None => None,
        };
        let issuer = profile
            .metadata
            .as_ref()
            .map(|m| m.issuer.clone())
            .or_else(|| profile.config.issuer.clone())
            .unwrap_or_default();
        inspect::validate_id_token(
            id_token,
            jwks.as_ref(),
            &IdTokenExpectations {
                issuer: &issuer,
                client_id: &profile.config.client_id,
                nonce: auth.nonce.as_ref().map(|n| n.expose().as_str()),
                now: self.now(),
                leeway_ms: CLOCK_LEEWAY_MS,
            },
        )
    }

    /// Refreshes the token now: with the refresh token if there is a usable one, else (for
    /// client-credentials profiles) with a new client-credentials request.
    pub async fn refresh(&self, id: &ProfileId, trigger: Trigger) -> Result<TokenSet> {
        let _flight = self.enter_flight(id).await?;
        self.refresh_locked(id, trigger).await
    }

    /// A token valid for at least `min_valid`, refreshing or fetching only when needed.
    pub async fn ensure_token(
        &self,
        id: &ProfileId,
        min_valid: Duration,
        trigger: Trigger,
    ) -> Result<TokenSet> {
        let fresh = |t: &TokenSet, now: Millis| {
            t.state(now) == TokenState::Valid
                && t.access_valid_for(now)
                    .is_none_or(|left| left >= min_valid.as_millis() as Millis)
        };
        if let Some(t) = self.store.get_token(id)?
            && fresh(&t, self.now())
        {
            return Ok(t);
        }
        let _flight = self.enter_flight(id).await?;
        match self.store.get_token(id)? {
            Some(t) if fresh(&t, self.now()) => Ok(t),
            Some(_) => self.refresh_locked(id, trigger).await,
            None => {
                let profile = self.ready_profile(id).await?;
                match profile.config.grant {
                    GrantKind::ClientCredentials => self.client_credentials_locked(&profile).await,
                    GrantKind::AuthorizationCode => {
                        Err(needs_login(&profile, "it has no token yet"))
                    }
                }
            }
        }
    }

    #[tracing::instrument(skip_all, fields(profile = %id, ?trigger), err)]
    async fn refresh_locked(&self, id: &ProfileId, trigger: Trigger) -> Result<TokenSet> {
        let profile = self.ready_profile(id).await?;
        let previous = self.store.get_token(id)?;
        let refresh_token = match &previous {
            Some(p) if p.refresh_usable(self.now()) => {
                self.token_value(id, SecretKind::RefreshToken).await?
            }
            _ => None,
        };
        let method = match (&refresh_token, profile.config.grant) {
            (Some(_), _) => Method::RefreshToken,
            (None, GrantKind::ClientCredentials) => Method::ClientCredentials,
            (None, GrantKind::AuthorizationCode) => {
                let why = match &previous {
                    None => "it has no token yet",
                    Some(p) if p.refresh.is_some() => "its refresh token has expired",
                    Some(_) => "the provider gave no refresh token",
                };
                let e = needs_login(&profile, why);
                if let Some(p) = &previous {
                    self.mark_needs_login(p, &e.message)?;
                }
                return Err(e);
            }
        };
        let started = Instant::now();
        let result = match &refresh_token {
            Some(rt) => {
                let (call, secret) = self
                    .authed_call(&profile, "token:refresh_token", &[rt.expose()])
                    .await?;
                let r = flow::refresh::request(&profile, secret.as_ref(), rt, &call).await;
                self.record(&call);
                match r {
                    Ok(response) => {
                        self.persist(
                            &profile,
                            profile.config.grant,
                            &response,
                            previous.as_ref(),
                            None,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
            }
            None => self.client_credentials_locked(&profile).await,
        };
        let mut event = RefreshEvent {
            id: 0,
            profile_id: id.clone(),
            at: self.now(),
            trigger,
            method,
            outcome: Outcome::Success,
            duration_ms: started.elapsed().as_millis() as u64,
            access_expires_at: None,
            refresh_expires_at: None,
            refresh_count: None,
            rotated: false,
            error_code: None,
            error_message: None,
        };
        match &result {
            Ok(t) => {
                event.access_expires_at = t.access_expires_at;
                event.refresh_expires_at = t.refresh_expires_at;
                event.refresh_count = t.refresh_count;
                event.rotated = t.rotated_from(previous.as_ref());
            }
            Err(e) => {
                event.outcome = Outcome::Failure;
                event.error_code = Some(e.code);
                event.error_message = Some(e.message.clone());
                if e.code == ErrorCode::InvalidGrant
                    && method == Method::RefreshToken
                    && let Some(p) = &previous
                {
                    self.mark_needs_login(p, &e.message)?;
                }
            }
        }
        self.store.append_event(&event)?;
        self.emit(CoreEvent::HistoryAppended {
            profile_id: id.clone(),
        });
        result
    }

    fn mark_needs_login(&self, token: &TokenSet, why: &str) -> Result<()> {
        let mut t = token.clone();
        t.needs_login = Some(why.to_owned());
        self.store.put_token(&t)?;
        self.emit(CoreEvent::TokenChanged {
            profile_id: t.profile_id,
        });
        Ok(())
    }

    /// Stores a token response: the new refresh token first (a crash after the provider
    /// rotated it must not lose it), then the access and ID tokens, then the metadata.
    async fn persist(
        &self,
        profile: &Profile,
        grant: GrantKind,
        response: &TokenResponse,
        previous: Option<&TokenSet>,
        validation: Option<IdTokenValidation>,
    ) -> Result<TokenSet> {
        let id = &profile.id;
        let new_grant = previous.is_none();
        // A new grant replaces what is stored: entries it does not renew are removed.
        let stored = match previous {
            Some(_) => None,
            None => self.store.get_token(id)?,
        };
        let had = |f: fn(&TokenSet) -> bool| stored.as_ref().is_some_and(f);
        match response.refresh_token() {
            Some(rt) => {
                self.put_value(id, SecretKind::RefreshToken, rt.secret())
                    .await?
            }
            None if new_grant && had(|t| t.refresh.is_some()) => {
                self.drop_value(id, SecretKind::RefreshToken).await?
            }
            None => {}
        }
        self.put_value(
            id,
            SecretKind::AccessToken,
            response.access_token().secret(),
        )
        .await?;
        match response.id_token() {
            Some(t) => self.put_value(id, SecretKind::IdToken, t).await?,
            None if new_grant && had(|t| t.id_token.is_some()) => {
                self.drop_value(id, SecretKind::IdToken).await?
            }
            None => {}
        }
        let mut token = TokenSet::from_response(id.clone(), grant, response, self.now(), previous);
        if validation.is_some() {
            token.id_token_validation = validation;
        }
        self.store.put_token(&token)?;
        tracing::info!(profile = %id, "token stored");
        self.emit(CoreEvent::TokenChanged {
            profile_id: id.clone(),
        });
        Ok(token)
    }

    async fn put_value(&self, id: &ProfileId, kind: SecretKind, value: &str) -> Result<()> {
        let value = Sensitive::new(value.to_owned());
        self.vault.set(id, kind, value.clone()).await?;
        self.lock_memo()
            .insert((id.clone(), kind), (fingerprint(value.expose()), value));
        Ok(())
    }

    async fn drop_value(&self, id: &ProfileId, kind: SecretKind) -> Result<()> {
        self.lock_memo().remove(&(id.clone(), kind));
        self.vault.delete(id, kind).await
    }

    /// A token value: from memory when the stored token set still names it, else the keychain.
    async fn token_value(
        &self,
        id: &ProfileId,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        let expected = self.store.get_token(id)?.and_then(|t| match kind {
            SecretKind::AccessToken => Some(t.access.fingerprint),
            SecretKind::RefreshToken => t.refresh.map(|r| r.fingerprint),
            SecretKind::IdToken => t.id_token.map(|r| r.fingerprint),
            _ => None,
        });
        if let Some(fp) = &expected
            && let Some((memo_fp, value)) = self.lock_memo().get(&(id.clone(), kind))
            && memo_fp == fp
        {
            return Ok(Some(value.clone()));
        }
        let value = self.vault.get(id, kind).await?;
        if let Some(v) = &value {
            self.lock_memo()
                .insert((id.clone(), kind), (fingerprint(v.expose()), v.clone()));
        }
        Ok(value)
    }

    fn forget_values(&self, id: &ProfileId) {
        self.lock_memo().retain(|(p, _), _| p != id);
    }

    fn lock_memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the token set: keychain entries and metadata.
    pub async fn forget_token(&self, id: &ProfileId) -> Result<()> {
        self.forget_values(id);
        for kind in [
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::IdToken,
        ] {
            self.vault.delete(id, kind).await?;
        }
        self.store.delete_token(id)?;
        self.emit(CoreEvent::TokenRemoved {
            profile_id: id.clone(),
        });
        Ok(())
    }

    /// Revokes the access or the refresh token at the provider (RFC 7009) and marks the token
    /// set revoked; the next use renews it (or, when the refresh token is gone, asks for a new
    /// sign-in). Revoking a refresh token ends the whole grant at most providers.
    #[tracing::instrument(skip_all, fields(profile = %id, ?which), err)]
    pub async fn revoke(&self, id: &ProfileId, which: TokenHint) -> Result<()> {
        let _flight = self.enter_flight(id).await?;
        let (profile, token) = self.provider_token(id, which).await?;
        let (call, secret) = self
            .authed_call(&profile, "revoke", &[token.expose()])
            .await?;
        let result = flow::token_ops::revoke(&profile, secret.as_ref(), &token, which, &call).await;
        self.record(&call);
        result?;
        // The values stay in the keychain, so the user can introspect them and see them dead.
        if let Some(mut t) = self.store.get_token(id)? {
            let now = self.now();
            t.revoked_at = Some(now);
            if which == TokenHint::RefreshToken {
                t.refresh_expires_at = Some(now);
                t.needs_login = (profile.config.grant == GrantKind::AuthorizationCode)
                    .then(|| "The refresh token was revoked: sign in again.".to_owned());
            }
            self.store.put_token(&t)?;
            self.emit(CoreEvent::TokenChanged {
                profile_id: id.clone(),
            });
        }
        Ok(())
    }

    /// Asks the provider about a token (RFC 7662) and returns its answer.
    #[tracing::instrument(skip_all, fields(profile = %id, ?which), err)]
    pub async fn introspect(&self, id: &ProfileId, which: TokenHint) -> Result<serde_json::Value> {
        let (profile, token) = self.provider_token(id, which).await?;
        let (call, secret) = self
            .authed_call(&profile, "introspect", &[token.expose()])
            .await?;
        let result =
            flow::token_ops::introspect(&profile, secret.as_ref(), &token, which, &call).await;
        self.record(&call);
        result
    }

    /// Calls the userinfo endpoint with the access token and returns the claims.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn userinfo(&self, id: &ProfileId) -> Result<serde_json::Value> {
        let profile = self.ready_profile(id).await?;
        let token = self.reveal(id, SecretKind::AccessToken).await?;
        let mut call = self.call(&profile, "userinfo").await?;
        call.scrub(token.expose());
        let result = flow::token_ops::userinfo(&profile, &token, &call).await;
        self.record(&call);
        result
    }

    /// A token's value, for an explicit reveal or copy.
    pub async fn reveal(&self, id: &ProfileId, kind: SecretKind) -> Result<Sensitive<String>> {
        if matches!(
            kind,
            SecretKind::ClientSecret | SecretKind::PrivateKey | SecretKind::TlsKey
        ) {
            return Err(Error::new(
                ErrorCode::Unsupported,
                "Client secrets and keys are never shown back.",
            ));
        }
        self.token_value(id, kind).await?.ok_or_else(|| {
            Error::not_found(format!(
                "No {} is stored for this profile.",
                kind.as_str().replace('_', " ")
            ))
        })
    }

    /// The access token as text to hand out (clipboard, scripts).
    pub async fn export(&self, id: &ProfileId, format: ExportFormat) -> Result<Sensitive<String>> {
        let profile = self.profile_by_id(id)?;
        let token = self.reveal(id, SecretKind::AccessToken).await?;
        Ok(Sensitive::new(format_token(
            &profile,
            token.expose(),
            format,
        )))
    }

    /// A stored token decoded for display.
    pub async fn inspect(&self, id: &ProfileId, kind: SecretKind) -> Result<TokenInspection> {
        let value = self.reveal(id, kind).await?;
        let set = self.store.get_token(id)?;
        let (jwt, not_jwt) = match inspect::decode_jwt(value.expose()) {
            Ok(j) => (Some(j), None),
            Err(e) => (None, Some(e)),
        };
        Ok(TokenInspection {
            kind,
            token: TokenRef::of(value.expose()),
            jwt,
            not_jwt,
            validation: (kind == SecretKind::IdToken)
                .then(|| set.and_then(|s| s.id_token_validation))
                .flatten(),
        })
    }

    pub fn history(&self, id: &ProfileId, limit: usize) -> Result<Vec<RefreshEvent>> {
        self.store.events(id, limit)
    }

    pub fn exchanges(&self, id: &ProfileId, limit: usize) -> Result<Vec<Exchange>> {
        self.store.exchanges(id, limit)
    }

    /// A redacted text bundle of the profile's setup, token, history and exchanges, for a
    /// support ticket.
    pub async fn support_bundle(&self, id: &ProfileId) -> Result<String> {
        let profile = self.profile_by_id(id)?;
        let secret_stored = self.has_client_secret(id).await?;
        let token = self.store.get_token(id)?;
        let history = self.store.events(id, 100)?;
        let exchanges = self
            .store
            .exchanges(id, crate::store::EXCHANGES_KEPT_PER_PROFILE)?;
        Ok(crate::bundle::render(
            &profile,
            secret_stored,
            token.as_ref(),
            &history,
            &exchanges,
            self.now(),
        ))
    }

    // ---- settings and presets -----------------------------------------------------------

    pub fn settings(&self) -> Result<Settings> {
        self.store.settings()
    }

    pub fn set_settings(&self, settings: &Settings) -> Result<()> {
        settings.validate()?;
        self.store.put_settings(settings)
    }

    /// Creates the presets whose names are not taken yet; returns the profiles created.
    pub async fn add_presets(&self, presets: Vec<Preset>) -> Result<Vec<Profile>> {
        let taken: Vec<String> = self
            .list_profiles()?
            .into_iter()
            .map(|p| p.config.name)
            .collect();
        let mut created = Vec::new();
        for (config, secret) in presets {
            if !taken.contains(&config.name) {
                created.push(self.create_profile(config, secret).await?);
            }
        }
        Ok(created)
    }

    // ---- automatic refresh ----------------------------------------------------------------

    /// Resolves at the next change of profiles or tokens made in this process. It listens
    /// from the moment it is called, not from when it is first polled.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Renews the token if its profile's refresh policy says it is due — checked again inside
    /// the single flight, so a token another caller or process renewed meanwhile is left alone.
    /// `Ok(None)`: nothing was due.
    /// `slack_ms`: a token due within that much counts as due now (the refresher batches).
    pub async fn renew_if_due(&self, id: &ProfileId, slack_ms: Millis) -> Result<Option<TokenSet>> {
        let _flight = self.enter_flight(id).await?;
        let profile = self.profile_by_id(id)?;
        let Some(token) = self.store.get_token(id)? else {
            return Ok(None);
        };
        match crate::refresher::due_at(&token, &profile.config.refresh) {
            Some(due) if due <= self.now() + slack_ms => {
                self.refresh_locked(id, Trigger::Automatic).await.map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Records that an automatic refresh failed and when it is tried again.
    pub fn mark_retry(
        &self,
        id: &ProfileId,
        retry_at: Option<Millis>,
        error: Option<&Error>,
    ) -> Result<()> {
        if let Some(mut t) = self.store.get_token(id)? {
            t.retry_at = retry_at;
            t.last_error = error.map(|e| e.message.clone());
            self.store.put_token(&t)?;
            self.emit(CoreEvent::TokenChanged {
                profile_id: id.clone(),
            });
        }
        Ok(())
    }

    /// Tells listeners that a profile needs the user to sign in again.
    pub fn announce_needs_login(&self, id: &ProfileId, message: &str) {
        self.emit(CoreEvent::NeedsLogin {
            profile_id: id.clone(),
            message: message.to_owned(),
        });
    }

    // ---- plumbing -----------------------------------------------------------------------

    /// A call authenticated as the profile's client: the client secret (if any) and the given
    /// values are scrubbed from what the exchange log records.
    async fn authed_call<'a>(
        &'a self,
        profile: &Profile,
        operation: &str,
        scrub: &[&str],
    ) -> Result<(Call<'a>, Option<Sensitive<String>>)> {
        let secret = self
            .vault
            .get(&profile.id, credential_kind(&profile.config))
            .await?;
        let mut call = self.call(profile, operation).await?;
        for value in scrub
            .iter()
            .copied()
            .chain(secret.as_ref().map(|s| s.expose().as_str()))
        {
            call.scrub(value);
        }
        Ok((call, secret))
    }

    /// The profile (discovered) and the token to send to its revocation or introspection
    /// endpoint.
    async fn provider_token(
        &self,
        id: &ProfileId,
        which: TokenHint,
    ) -> Result<(Profile, Sensitive<String>)> {
        let profile = self.ready_profile(id).await?;
        let kind = match which {
            TokenHint::AccessToken => SecretKind::AccessToken,
            TokenHint::RefreshToken => SecretKind::RefreshToken,
        };
        Ok((profile, self.reveal(id, kind).await?))
    }

    fn emit(&self, event: CoreEvent) {
        if !matches!(
            event,
            CoreEvent::ExchangesAppended { .. } | CoreEvent::HistoryAppended { .. }
        ) {
            self.changed.notify_waiters();
        }
        self.events.emit(event);
    }

    /// A call for one of the profile's operations as its client, over its own TLS settings
    /// (trusted CAs, the client certificate with its key from the keychain — required when the
    /// profile has a certificate).
    async fn call<'a>(&'a self, profile: &Profile, operation: &str) -> Result<Call<'a>> {
        let tls = self.tls_setup(profile, true).await?;
        Ok(self.plain_call(profile, operation).with_tls(tls))
    }

    /// A call for the provider's public documents (discovery, JWKS): the profile's CAs, and its
    /// certificate only if the key is stored — a missing key must not stop discovery.
    async fn public_call<'a>(&'a self, profile: &Profile, operation: &str) -> Result<Call<'a>> {
        let tls = self.tls_setup(profile, false).await?;
        Ok(self.plain_call(profile, operation).with_tls(tls))
    }

    fn plain_call<'a>(&'a self, profile: &Profile, operation: &str) -> Call<'a> {
        Call::new(
            &self.http,
            self.clock.as_ref(),
            profile.id.clone(),
            operation,
            &profile.config.headers,
        )
    }

    async fn tls_setup(&self, profile: &Profile, key_required: bool) -> Result<TlsSetup> {
        let c = &profile.config;
        let identity_pem = match &c.tls_client_cert {
            None => None,
            Some(cert) => match self.vault.get(&profile.id, SecretKind::TlsKey).await? {
                Some(key) => Some(TlsSetup::identity(cert, &key)),
                None if !key_required => None,
                None => {
                    return Err(Error::new(
                        ErrorCode::InvalidClient,
                        format!(
                            "Profile \"{}\" has a TLS client certificate but its private key is \
                             not stored. Add the key (PEM) in the profile; it is kept in the OS \
                             keychain.",
                            c.name
                        ),
                    ));
                }
            },
        };
        Ok(TlsSetup {
            ca_pem: c.tls_ca.clone(),
            identity_pem,
        })
    }

    /// Saves a call's exchanges to the log. A failure here is logged, not raised: it must not
    /// hide the operation's own result.
    fn record(&self, call: &Call<'_>) {
        let records = call.take_records();
        let Some(first) = records.first() else { return };
        let profile_id = first.profile_id.clone();
        match self.store.append_exchanges(&records) {
            Ok(()) => self
                .events
                .emit(CoreEvent::ExchangesAppended { profile_id }),
            Err(e) => tracing::warn!(profile = %profile_id, error = %e, "exchange log not written"),
        }
    }

    /// Enters the single flight of a profile's token operations: one at a time per profile,
    /// in this process (an async mutex) and across processes (a lock file in the home), so a
    /// rotating refresh token is never sent twice. Callers re-read the token after entering.
    async fn enter_flight(&self, id: &ProfileId) -> Result<Flight> {
        let mutex = self
            .flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.clone())
            .or_default()
            .clone();
        let in_process = mutex.lock_owned().await;
        let path = self.home.lock_dir().join(format!("{id}.lock"));
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| Error::internal(format!("lock task failed: {e}")))?
        .map_err(|e| {
            Error::new(
                ErrorCode::Storage,
                format!("Cannot take the token lock: {e}."),
            )
        })?;
        Ok(Flight {
            _in_process: in_process,
            _across_processes: file,
        })
    }

    fn lock_logins(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingLogin>> {
        self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Token values by (profile, kind), with the fingerprint each was stored under.
type Memo = HashMap<(ProfileId, SecretKind), (String, Sensitive<String>)>;

/// Held while a profile's token operation runs; dropping it releases both locks.
struct Flight {
    _in_process: tokio::sync::OwnedMutexGuard<()>,
    /// Closing the file releases its lock.
    _across_processes: std::fs::File,
}

fn unknown_login(login_id: &str) -> Error {
    Error::not_found(format!(
        "No sign-in {login_id} is in progress (it finished, was cancelled, or timed out). Start again."
    ))
}

fn needs_login(profile: &Profile, why: &str) -> Error {
    Error::new(
        ErrorCode::NeedsLogin,
        format!(
            "Profile \"{}\" needs you to sign in again: {why}.",
            profile.config.name
        ),
    )
}

async fn fetch_json(call: &Call<'_>, uri: &str) -> Result<serde_json::Value> {
    let request = http::Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| Error::internal(e.to_string()))?;
    let response = call.send(request).await?;
    if response.status() != 200 {
        return Err(Error::new(
            ErrorCode::BadResponse,
            format!("{uri} answered HTTP {}.", response.status().as_u16()),
        ));
    }
    serde_json::from_slice(response.body()).map_err(|e| {
        Error::new(
            ErrorCode::BadResponse,
            format!("{uri} did not answer JSON ({e})."),
        )
    })
}

/// Quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The token as raw text, an `Authorization` header, or a curl line.
pub fn format_token(profile: &Profile, token: &str, format: ExportFormat) -> String {
    match format {
        ExportFormat::Raw => token.to_owned(),
        ExportFormat::Header => format!("Authorization: Bearer {token}"),
        ExportFormat::Curl => {
            let mut line = format!(
                "curl -H {}",
                shell_quote(&format!("Authorization: Bearer {token}"))
            );
            for h in &profile.config.headers {
                line.push_str(&format!(
                    " -H {}",
                    shell_quote(&format!("{}: {}", h.name, h.value))
                ));
            }
            let url = profile
                .config
                .api_url
                .as_deref()
                .or_else(|| profile.endpoint(Endpoint::Userinfo))
                .map(shell_quote)
                .unwrap_or_else(|| "\"$API_URL\"".to_owned());
            line.push(' ');
            line.push_str(&url);
            line
        }
    }
}

/// The shell runs these on a multi-threaded runtime: their futures must be `Send`.
#[allow(dead_code)]
fn futures_are_send(core: &'static Core, id: &'static ProfileId) {
    fn is_send<T: Send>(_: T) {}
    is_send(core.fetch_client_credentials(id));
    is_send(core.discover(id));
    is_send(core.refresh(id, Trigger::Manual));
    is_send(core.begin_login(id));
    is_send(core.wait_login("x", Duration::from_secs(1)));
    is_send(core.complete_login("x", "y"));
}

/// The keychain entry of the client's credential: the private key for `private_key_jwt`, else
/// the client secret (kept for a public client too, so switching methods does not lose it).
fn credential_kind(config: &ProfileConfig) -> SecretKind {
    config
        .auth_method
        .credential()
        .unwrap_or(SecretKind::ClientSecret)
}

/// A private key must sign with the profile's algorithm before it is stored.
fn check_credential(config: &ProfileConfig, value: &Sensitive<String>) -> Result<()> {
    if config.auth_method == AuthMethod::PrivateKeyJwt {
        crate::flow::assertion::signing_key(config.client_assertion.alg, value.expose())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Param;

    #[test]
    fn curl_lines_quote_and_carry_extra_headers() {
        let profile = Profile {
            id: ProfileId::from("p"),
            config: ProfileConfig {
                headers: vec![Param::new("x-api-key", "k'1")],
                api_url: Some("https://api.example/v1/accounts".into()),
                ..Default::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(format_token(&profile, "T", ExportFormat::Raw), "T");
        assert_eq!(
            format_token(&profile, "T", ExportFormat::Header),
            "Authorization: Bearer T"
        );
        assert_eq!(
            format_token(&profile, "T", ExportFormat::Curl),
            r"curl -H 'Authorization: Bearer T' -H 'x-api-key: k'\''1' 'https://api.example/v1/accounts'"
        );
    }
}
