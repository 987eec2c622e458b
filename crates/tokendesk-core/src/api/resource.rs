//! Starting from an API URL: the discovery walk (RFC 9728 → RFC 8414), which stores nothing; a
//! profile made from it with a pre-registered or dynamically registered client (RFC 7591);
//! the registration's management (RFC 7592).

use serde::Deserialize;
use serde_json::Value;
use ts_rs::TS;

use super::Core;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::http::Call;
use crate::profile::{AuthMethod, Profile, ProfileConfig, ProfileId};
use crate::resource::registration::{self, ClientRequest, LOOPBACK_REDIRECT_URIS, Registered};
use crate::resource::software_statement;
use crate::resource::step_up::LoginDemand;
use crate::resource::{DiscoverOptions, Discovered, Walk, chain};
use crate::secret::{SecretKind, Sensitive};

/// Where the client of a profile made from an API comes from.
#[derive(Debug)]
pub enum ClientSource {
    /// A client the user registered by hand; its secret, if it has one.
    PreRegistered {
        client_id: String,
        secret: Option<Sensitive<String>>,
    },
    /// A client ID metadata document the user hosts at this https URL, which is the client id
    /// (for servers that advertise `client_id_metadata_document_supported`).
    MetadataDocument { url: String },
    /// Dynamic registration (RFC 7591) at the server's `registration_endpoint`.
    Register {
        /// A confidential client (`client_secret_basic`) instead of a public one.
        confidential: bool,
        initial_access_token: Option<Sensitive<String>>,
        /// A signed JWT of client metadata the user provides (RFC 7591 §2.3).
        software_statement: Option<String>,
    },
}

/// The client the app asks for (`ClientSource` as it crosses from the UI): the secrets are
/// plain strings until they are wrapped here.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientChoice {
    PreRegistered {
        client_id: String,
        #[serde(default)]
        #[ts(optional = nullable)]
        client_secret: Option<String>,
    },
    MetadataDocument {
        url: String,
    },
    Register {
        #[serde(default)]
        confidential: bool,
        #[serde(default)]
        #[ts(optional = nullable)]
        initial_access_token: Option<String>,
        /// A signed JWT of client metadata (RFC 7591 §2.3), pasted as given.
        #[serde(default)]
        #[ts(optional = nullable)]
        software_statement: Option<String>,
    },
}

impl From<ClientChoice> for ClientSource {
    fn from(c: ClientChoice) -> Self {
        let secret = |s: Option<String>| s.filter(|s| !s.is_empty()).map(Sensitive::new);
        match c {
            ClientChoice::PreRegistered {
                client_id,
                client_secret,
            } => ClientSource::PreRegistered {
                client_id,
                secret: secret(client_secret),
            },
            ClientChoice::MetadataDocument { url } => ClientSource::MetadataDocument { url },
            ClientChoice::Register {
                confidential,
                initial_access_token,
                software_statement,
            } => ClientSource::Register {
                confidential,
                initial_access_token: secret(initial_access_token),
                software_statement: software_statement.filter(|s| !s.trim().is_empty()),
            },
        }
    }
}

/// A profile made from an API, and the chain that led to it.
#[derive(Debug)]
pub struct FromApi {
    pub profile: Profile,
    pub discovered: Discovered,
    /// The client was registered dynamically.
    pub registered: bool,
}

impl Core {
    fn anonymous_call(&self, operation: &str) -> Call<'_> {
        Call::new(
            &self.http,
            self.clock.as_ref(),
            ProfileId::from("-"),
            operation,
            &[],
        )
    }

    /// Walks from an API URL to its authorization server; every request is a step of the
    /// answer. Sends no token, stores nothing, records nothing in the exchange log.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn discover_api(&self, api_url: &str, options: &DiscoverOptions) -> Result<Walk> {
        let call = self.anonymous_call("api_discovery");
        Ok(chain::walk(&call, api_url, options).await)
    }

    /// [`Core::discover_api`] with a profile's TLS settings: its CA certificates, and its TLS
    /// client certificate when its key is stored (an API behind mutual TLS). Sends no token.
    #[tracing::instrument(skip_all, fields(profile = %id), err(level = "debug"))]
    pub async fn discover_api_as(
        &self,
        id: &ProfileId,
        api_url: &str,
        options: &DiscoverOptions,
    ) -> Result<Walk> {
        let profile = self.profile_by_id(id)?;
        let tls = self.tls_setup(&profile, false).await?;
        let call = self.anonymous_call("api_discovery").with_tls(tls);
        Ok(chain::walk(&call, api_url, options).await)
    }

    /// Makes a profile from `base` (its name, scopes, headers…) and the API at `base.api_url`:
    /// the authorization server, the `resource` and the metadata from the walk, the client from
    /// `client`. Nothing half-made is kept: a registration whose profile could not be stored is
    /// deleted again, or the error says it could not be.
    #[tracing::instrument(skip_all, err)]
    pub async fn create_profile_from_api(
        &self,
        base: ProfileConfig,
        options: &DiscoverOptions,
        client: ClientSource,
    ) -> Result<FromApi> {
        let Some(api_url) = base.api_url.clone() else {
            return Err(Error::invalid_field("api_url", "Give the API's URL."));
        };
        if self.store.find_profile(&base.name)?.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("A profile named \"{}\" exists already.", base.name),
            ));
        }
        let discovered = self.discover_api(&api_url, options).await?.into_result()?;
        let mut config = base;
        config.issuer = Some(discovered.authorization_server.clone());
        config.resource = Some(discovered.resource.clone());
        config.api_url = Some(discovered.api_url.clone());
        if config.scopes.is_empty() {
            config.scopes = discovered.scopes.clone();
        }
        let (profile, registered) = match client {
            ClientSource::PreRegistered { client_id, secret } => {
                config.client_id = client_id;
                (self.create_profile(config, secret).await?, false)
            }
            ClientSource::MetadataDocument { url } => {
                registration::check_client_metadata_url(&url)
                    .map_err(|m| Error::invalid_field("client_metadata_url", m))?;
                if !discovered
                    .client_options
                    .iter()
                    .any(|o| o == "client_id_metadata_document")
                {
                    return Err(Error::new(
                        ErrorCode::Unsupported,
                        format!(
                            "The authorization server {} does not accept client ID metadata \
                             documents (its metadata has no \
                             client_id_metadata_document_supported: true). Use a client \
                             registered there (--client-id) or dynamic registration.",
                            discovered.authorization_server
                        ),
                    ));
                }
                config.client_id = url;
                config.auth_method = AuthMethod::None;
                (self.create_profile(config, None).await?, false)
            }
            ClientSource::Register {
                confidential,
                initial_access_token,
                software_statement,
            } => {
                let profile = self
                    .register_and_create(
                        config,
                        &discovered,
                        confidential,
                        initial_access_token,
                        software_statement,
                    )
                    .await?;
                (profile, true)
            }
        };
        let mut profile = profile;
        profile.metadata = Some(discovered.provider.clone());
        self.store.update_profile(&profile)?;
        self.emit(CoreEvent::ProfilesChanged);
        Ok(FromApi {
            profile,
            discovered,
            registered,
        })
    }

    async fn register_and_create(
        &self,
        mut config: ProfileConfig,
        discovered: &Discovered,
        confidential: bool,
        initial_access_token: Option<Sensitive<String>>,
        software_statement: Option<String>,
    ) -> Result<Profile> {
        let Some(endpoint) = discovered
            .provider
            .raw
            .get("registration_endpoint")
            .and_then(Value::as_str)
        else {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "The authorization server {} offers no dynamic registration (its metadata \
                     has no registration_endpoint). Register a client there by hand and give \
                     it with --client-id.",
                    discovered.authorization_server
                ),
            ));
        };
        // Whatever would refuse the profile must refuse it before a client is registered.
        config.client_id = "(registered)".into();
        config.auth_method = if confidential {
            AuthMethod::ClientSecretBasic
        } else {
            AuthMethod::None
        };
        config.validate()?;
        let software_statement = software_statement
            .as_deref()
            .map(software_statement::check)
            .transpose()?;
        let request = ClientRequest {
            client_name: format!("TokenDesk: {}", config.name),
            redirect_uris: match &config.redirect_uri {
                Some(r) => vec![r.clone()],
                None => LOOPBACK_REDIRECT_URIS.map(String::from).to_vec(),
            },
            confidential,
            scopes: Vec::new(),
            software_statement,
        };
        let call = self.anonymous_call("registration");
        let reg = registration::register(&call, endpoint, &request, initial_access_token.as_ref())
            .await?;
        let Registered {
            client_id,
            client_secret,
            registration_access_token,
            registration_client_uri,
            token_endpoint_auth_method,
            ..
        } = reg;
        config.client_id = client_id.clone();
        config.registration_client_uri = registration_client_uri.clone();
        let method = match token_endpoint_auth_method.as_str() {
            "none" => Some(AuthMethod::None),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            _ => None,
        };
        let orphan = Orphan {
            call: &call,
            client_id: &client_id,
            server: &discovered.authorization_server,
            uri: registration_client_uri.as_deref(),
            token: registration_access_token.as_ref(),
        };
        let Some(method) = method else {
            return Err(orphan
                .undo(Error::new(
                    ErrorCode::Unsupported,
                    format!(
                        "The server registered the client with token_endpoint_auth_method \
                     \"{token_endpoint_auth_method}\", which TokenDesk does not set up by itself."
                    ),
                ))
                .await);
        };
        config.auth_method = method;
        if method.needs_secret() && client_secret.is_none() {
            return Err(orphan
                .undo(Error::new(
                    ErrorCode::BadResponse,
                    "The server registered a confidential client but sent no client_secret.",
                ))
                .await);
        }
        let profile = match self.create_profile(config, client_secret).await {
            Ok(p) => p,
            Err(e) => return Err(orphan.undo(e).await),
        };
        if let Some(token) = &registration_access_token
            && let Err(e) = self
                .keychain_set(
                    &profile.id,
                    SecretKind::RegistrationAccessToken,
                    token.clone(),
                )
                .await
        {
            let e = orphan.undo(e).await;
            self.delete_profile(&profile.id).await?;
            return Err(e);
        }
        Ok(profile)
    }

    /// Signs a software statement (RFC 7591 §2.3) from `claims` with `key_pem` (see
    /// [`software_statement::sign`]), dated by the core's clock.
    pub fn sign_software_statement(
        &self,
        claims: &Value,
        key_pem: &Sensitive<String>,
        alg: Option<crate::profile::AssertionAlg>,
        kid: Option<&str>,
    ) -> Result<String> {
        software_statement::sign(claims, key_pem, alg, kid, self.now() / 1000)
    }

    /// Stops sending the profile's `resource` after the provider refused it (`invalid_target`):
    /// the resource moves to `resource_refused`, so the profile says what it no longer sends.
    /// Setting a resource again clears it.
    pub async fn stop_sending_resource(&self, id: &ProfileId) -> Result<Profile> {
        let profile = self.profile_by_id(id)?;
        let mut config = profile.config.clone();
        let Some(resource) = config.resource.take() else {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "Profile \"{}\" sends no resource: there is none to stop sending.",
                    config.name
                ),
            ));
        };
        config.resource_refused = Some(resource);
        self.update_profile(id, config).await
    }

    /// Adds scopes (space-separated entries allowed) to a profile, as a step-up for
    /// `insufficient_scope` asks; the profile unchanged when it has them all.
    pub async fn add_scopes(&self, id: &ProfileId, scopes: &[String]) -> Result<Profile> {
        let profile = self.profile_by_id(id)?;
        let mut config = profile.config.clone();
        let before = config.scopes.len();
        for s in scopes.iter().flat_map(|s| s.split_whitespace()) {
            if !config.scopes.iter().any(|have| have == s) {
                config.scopes.push(s.to_owned());
            }
        }
        if config.scopes.len() == before {
            return Ok(profile);
        }
        self.update_profile(id, config).await
    }

    /// Whether the token of the sign-in that just finished meets a step-up demand (RFC 9470):
    /// the ID token's `acr` and `auth_time`, else a JWT access token's. `Ok(false)` when no
    /// token says (no ID token, an opaque access token): the API has the last word.
    pub async fn check_login_demand(&self, id: &ProfileId, demand: &LoginDemand) -> Result<bool> {
        if demand.is_empty() {
            return Ok(true);
        }
        for (kind, what) in [
            (SecretKind::IdToken, "ID token"),
            (SecretKind::AccessToken, "access token"),
        ] {
            let Some(value) = self.token_value(id, kind).await? else {
                continue;
            };
            let Ok(jwt) = crate::inspect::decode_jwt(value.expose()) else {
                continue;
            };
            demand.check(&jwt.claims, what, self.now() / 1000)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The registration access token and URI of a dynamically registered profile.
    pub(super) async fn registration_handle(
        &self,
        id: &ProfileId,
    ) -> Result<(Profile, String, Sensitive<String>)> {
        let profile = self.profile_by_id(id)?;
        let Some(uri) = profile.config.registration_client_uri.clone() else {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "Profile \"{}\" has no dynamic registration to manage (no \
                     registration_client_uri).",
                    profile.config.name
                ),
            ));
        };
        let Some(token) = self
            .keychain_get(id, SecretKind::RegistrationAccessToken)
            .await?
        else {
            return Err(Error::not_found(format!(
                "Profile \"{}\" has no registration access token in the keychain; the \
                 registration at {uri} can only be managed at the server.",
                profile.config.name
            )));
        };
        Ok((profile, uri, token))
    }

    /// The registration as the server has it (RFC 7592 §2.1), without its secrets.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn registration(&self, id: &ProfileId) -> Result<Value> {
        let (_, uri, token) = self.registration_handle(id).await?;
        let call = self.anonymous_call("registration");
        let reg = registration::read(&call, &uri, &token).await?;
        self.keep_rotated(id, &reg).await?;
        Ok(reg.metadata)
    }

    /// Changes the registration (RFC 7592 §2.2): adds and removes redirect URIs. Returns the
    /// metadata the server now has.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn update_registration(
        &self,
        id: &ProfileId,
        add_redirect_uris: &[String],
        remove_redirect_uris: &[String],
    ) -> Result<Value> {
        let (_, uri, token) = self.registration_handle(id).await?;
        let call = self.anonymous_call("registration");
        let current = registration::read(&call, &uri, &token).await?;
        let mut metadata = current.metadata;
        let mut uris: Vec<String> = metadata
            .get("redirect_uris")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for u in add_redirect_uris {
            crate::profile::check_http_url(u)
                .map_err(|m| Error::invalid_field("redirect_uri", m))?;
            if !uris.contains(u) {
                uris.push(u.clone());
            }
        }
        uris.retain(|u| !remove_redirect_uris.contains(u));
        if uris.is_empty() {
            return Err(Error::invalid_field(
                "redirect_uri",
                "A registration needs at least one redirect URI.",
            ));
        }
        metadata["redirect_uris"] = serde_json::json!(uris);
        // The secret is part of the client's metadata the server replaces (RFC 7592 §2.2).
        if let Some(secret) = self.keychain_get(id, SecretKind::ClientSecret).await?
            && let Some(o) = metadata.as_object_mut()
        {
            o.insert(
                "client_secret".into(),
                Value::String(secret.expose().clone()),
            );
        }
        let updated = registration::update(
            &call,
            &uri,
            current_token(&current.registration_access_token, &token),
            &metadata,
        )
        .await?;
        self.keep_rotated(id, &updated).await?;
        Ok(updated.metadata)
    }

    /// Keeps a rotated registration access token or client secret.
    pub(super) async fn keep_rotated(&self, id: &ProfileId, reg: &Registered) -> Result<()> {
        if let Some(t) = &reg.registration_access_token {
            self.keychain_set(id, SecretKind::RegistrationAccessToken, t.clone())
                .await?;
        }
        if let Some(s) = &reg.client_secret {
            self.keychain_set(id, SecretKind::ClientSecret, s.clone())
                .await?;
        }
        Ok(())
    }

    /// Deletes the registration at the server (RFC 7592 §2.3); the profile stays, without it.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn delete_registration(&self, id: &ProfileId) -> Result<Profile> {
        let (mut profile, uri, token) = self.registration_handle(id).await?;
        let call = self.anonymous_call("registration");
        registration::delete(&call, &uri, &token).await?;
        self.keychain_delete(id, SecretKind::RegistrationAccessToken)
            .await?;
        profile.config.registration_client_uri = None;
        profile.updated_at = self.now();
        self.store.update_profile(&profile)?;
        self.emit(CoreEvent::ProfilesChanged);
        Ok(profile)
    }

    /// Deletes the registration at the server, then the profile. When the registration cannot
    /// be deleted, the profile stays (so the deletion can be tried again).
    pub async fn delete_profile_and_registration(&self, id: &ProfileId) -> Result<()> {
        let profile = self.profile_by_id(id)?;
        if profile.config.registration_client_uri.is_some() {
            self.delete_registration(id).await.map_err(|e| {
                Error::new(
                    e.code,
                    format!(
                        "{} The profile was kept; remove it without --deregister to keep the \
                         registration.",
                        e.message.trim_end()
                    ),
                )
            })?;
        }
        self.delete_profile(id).await
    }
}

/// A client registered for a profile that could not be made: deleted again, or named.
struct Orphan<'a> {
    call: &'a Call<'a>,
    client_id: &'a str,
    server: &'a str,
    uri: Option<&'a str>,
    token: Option<&'a Sensitive<String>>,
}

impl Orphan<'_> {
    /// `why`, with what became of the registration.
    async fn undo(&self, why: Error) -> Error {
        let (client_id, server) = (self.client_id, self.server);
        let note = match (self.uri, self.token) {
            (Some(uri), Some(token)) => match registration::delete(self.call, uri, token).await {
                Ok(()) => format!(
                    " The client {client_id} registered at the server was deleted again \
                     (RFC 7592); nothing was kept."
                ),
                Err(e) => format!(
                    " The client {client_id} stays registered at {server}: deleting it failed \
                     ({}). Ask the server's operator to delete it.",
                    e.message
                ),
            },
            _ => format!(
                " The client {client_id} stays registered at {server}: the server gave no \
                 registration_client_uri and registration access token to delete it with \
                 (RFC 7592). Ask the server's operator to delete it."
            ),
        };
        Error::new(why.code, format!("{}{note}", why.message.trim_end()))
    }
}

/// The registration access token to use next: a rotated one if the last answer had it.
fn current_token<'a>(
    rotated: &'a Option<Sensitive<String>>,
    stored: &'a Sensitive<String>,
) -> &'a Sensitive<String> {
    rotated.as_ref().unwrap_or(stored)
}
