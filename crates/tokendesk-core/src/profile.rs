//! Client profiles: everything needed to talk to one client registration at one provider.
//! A profile holds secret *references* (the keychain entries named by its id), never values.

use std::fmt;
use ts_rs::TS;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, FieldError, Result};

pub mod export;
use crate::provider::discovery::ProviderMetadata;
use crate::secret::SecretKind;

/// A profile's stable id, also the keychain account prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct ProfileId(String);

impl ProfileId {
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string()[..16].to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ProfileId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with the url-encoded id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A public client: `client_id` in the body, no secret.
    None,
    /// A JWT signed with the client's private key as `client_assertion` (RFC 7523 §2.2,
    /// OIDC Core §9): no shared secret; the provider holds the public key.
    PrivateKeyJwt,
    /// A JWT signed with the client secret (HS256/384/512) as `client_assertion` (OIDC Core
    /// §9): the secret itself never goes on the wire.
    ClientSecretJwt,
    /// The TLS client certificate, issued by a CA the provider trusts, authenticates the client
    /// (RFC 8705 §2.1); `client_id` in the body.
    TlsClientAuth,
    /// A self-signed TLS client certificate registered with the provider (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

impl AuthMethod {
    /// Whether the method needs a stored credential (a secret or a private key).
    pub fn needs_secret(self) -> bool {
        self.credential().is_some()
    }
    /// The keychain entry holding the credential this method needs.
    pub fn credential(self) -> Option<SecretKind> {
        match self {
            AuthMethod::ClientSecretBasic
            | AuthMethod::ClientSecretPost
            | AuthMethod::ClientSecretJwt => Some(SecretKind::ClientSecret),
            AuthMethod::PrivateKeyJwt => Some(SecretKind::PrivateKey),
            // The certificate's key is the profile's TLS key, needed for any auth method.
            AuthMethod::None | AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
                None
            }
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }
    /// Whether the method sends a client secret as it is (Basic or in the body).
    pub fn sends_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    }
    /// Whether the method is a TLS client certificate (RFC 8705).
    pub fn is_mtls(self) -> bool {
        matches!(
            self,
            AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
        )
    }
}

/// The JWS algorithm of a client assertion (`private_key_jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: an RSA key.
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256 (what FAPI asks for): an RSA key.
    PS256,
    /// ECDSA on P-256 with SHA-256: an EC key.
    ES256,
    /// HMAC with SHA-256, keyed by the client secret (`client_secret_jwt` only).
    HS256,
    HS384,
    HS512,
}

impl AssertionAlg {
    /// Whether it is keyed by the client secret (HMAC) rather than a private key.
    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            AssertionAlg::HS256 | AssertionAlg::HS384 | AssertionAlg::HS512
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlg::RS256 => "RS256",
            AssertionAlg::PS256 => "PS256",
            AssertionAlg::ES256 => "ES256",
            AssertionAlg::HS256 => "HS256",
            AssertionAlg::HS384 => "HS384",
            AssertionAlg::HS512 => "HS512",
        }
    }
}

/// How a `private_key_jwt` client signs its assertions; the key itself is in the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ClientAssertion {
    pub alg: AssertionAlg,
    /// `kid` in the JWT header, when the provider holds several keys of the client.
    pub kid: Option<String>,
    /// `aud` of the assertion; `None`: the token endpoint URL (RFC 7523 §3, OIDC Core §9).
    pub audience: Option<String>,
}

/// A client secret TokenDesk makes instead of storing one: a JWT signed with the profile's
/// private key (its signing algorithm), `sub` the client id, made fresh for every request that
/// authenticates the client — so it never runs out. Sign in with Apple's shape: ES256, `kid`
/// the Key ID, `iss` the Team ID, `aud` `https://appleid.apple.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GeneratedSecret {
    /// `iss` (Apple: the Team ID).
    pub issuer: String,
    /// `kid` in the header (Apple: the Key ID).
    pub key_id: String,
    /// `aud` (Apple: `https://appleid.apple.com`).
    pub audience: String,
    /// How long each secret is valid, in seconds: at most 15,777,000 (Apple's six months).
    pub lifetime_secs: u32,
}

/// The longest a generated client secret may live: Apple's six months.
pub const GENERATED_SECRET_MAX_SECS: u32 = 15_777_000;

/// Which grant a profile uses: one per file in [`crate::flow`], registered there.
pub use crate::flow::GrantKind;

/// Endpoints set by hand; each overrides what discovery found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Endpoints {
    pub authorization: Option<String>,
    pub token: Option<String>,
    pub revocation: Option<String>,
    pub introspection: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    /// The pushed authorization request endpoint (RFC 9126).
    pub par: Option<String>,
    /// The device authorization endpoint (RFC 8628): where a device sign-in starts.
    pub device_authorization: Option<String>,
    /// The backchannel authentication endpoint (OpenID CIBA): where a CIBA sign-in starts.
    #[ts(optional = nullable)]
    pub backchannel_authentication: Option<String>,
}

/// A name/value pair: an extra parameter or header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Param {
    pub name: String,
    pub value: String,
}

impl Param {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// When the background refresher renews a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct RefreshPolicy {
    pub auto: bool,
    /// Refresh when this share of the lifetime (percent) is left.
    pub remaining_percent: u8,
    /// ... and never later than this many seconds before expiry.
    pub min_seconds_before: u32,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            auto: true,
            remaining_percent: 20,
            min_seconds_before: 30,
        }
    }
}

/// The ID-token signing algorithms a profile can expect (`none` only from the token endpoint).
pub const ID_TOKEN_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256",
    "HS384", "HS512", "none",
];

/// Everything a user edits about a profile; also the export/import shape. No secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ProfileConfig {
    pub name: String,
    /// A free label such as "sandbox", "test", "production"; the UI groups by it.
    pub environment: String,
    /// Issuer to discover endpoints from (OIDC discovery, then RFC 8414).
    pub issuer: Option<String>,
    pub endpoints: Endpoints,
    pub client_id: String,
    pub auth_method: AuthMethod,
    /// With `private_key_jwt`: how to sign the client assertion.
    pub client_assertion: ClientAssertion,
    /// The client secret is a JWT TokenDesk signs with the private key (Sign in with Apple),
    /// sent as the auth method sends a secret.
    #[ts(optional = nullable)]
    pub generated_secret: Option<GeneratedSecret>,
    /// Push the authorization request to the provider first (PAR, RFC 9126) and send the
    /// browser only `client_id` and the `request_uri` it returns. Also done whenever the
    /// provider requires it (`require_pushed_authorization_requests`).
    pub par: bool,
    /// FAPI 2.0 Security Profile mode: the profile must use PAR, PKCE S256, `private_key_jwt`
    /// (the issuer as the assertion's audience) or mTLS client authentication, DPoP or
    /// mTLS-bound tokens, PS256/ES256/EdDSA only, and the `iss` of authorization responses. A
    /// setup that breaks a rule is refused when the profile is saved, naming the rule.
    pub fapi2: bool,
    /// Ask for a signed authorization response (JARM, `response_mode=jwt`): `code` and `state`
    /// are read only from a response JWT whose signature, `iss`, `aud` and `exp` pass.
    pub jarm: bool,
    /// Send the authorization request as a signed request object (`request=<JWT>`, RFC 9101),
    /// signed with the client's private key and algorithm (so: with `private_key_jwt`).
    pub signed_request: bool,
    /// The client certificate (chain) for mutual TLS, PEM (RFC 8705). Its private key is in
    /// the keychain. Sent whenever the provider asks for one, whatever the auth method.
    pub tls_client_cert: Option<String>,
    /// CA certificates (PEM) to trust for this provider beside the system's: a sandbox or test
    /// environment with a private CA.
    pub tls_ca: Option<String>,
    /// Sender-constrained tokens with DPoP (RFC 9449): the algorithm of the profile's proof
    /// key (made by TokenDesk, kept in the keychain). Every token, refresh, revocation,
    /// introspection and userinfo request carries a proof; the token is bound to the key.
    pub dpop: Option<crate::dpop::DpopAlg>,
    /// The algorithm the client registered for ID tokens (`id_token_signed_response_alg`): an
    /// ID token signed otherwise fails its checks. `none` accepts an unsigned ID token from the
    /// token endpoint — never the default, never from the authorization response.
    pub id_token_alg: Option<String>,
    pub grant: GrantKind,
    /// With the JWT-bearer grant: what the assertion says.
    pub jwt_bearer: crate::flow::jwt_bearer::JwtBearer,
    /// With the token-exchange grant: whose tokens are exchanged, and for what.
    pub token_exchange: crate::flow::token_exchange::TokenExchange,
    /// With the CIBA grant: whom to authenticate, the binding message, poll or ping.
    pub ciba: crate::flow::ciba::Ciba,
    /// Rich Authorization Requests (RFC 9396): a JSON array template of objects with a `type`
    /// (`[{"type": "payment_initiation", "instructedAmount": {…}}]`), sent as
    /// `authorization_details` on the authorization request (plain, signed or pushed), the
    /// client-credentials, token-exchange and CIBA requests.
    #[ts(optional = nullable)]
    pub authorization_details: Option<String>,
    pub scopes: Vec<String>,
    /// Sent as `audience` on token requests (Auth0 and others).
    pub audience: Option<String>,
    /// Sent as `resource` (RFC 8707) on authorize and token requests.
    pub resource: Option<String>,
    /// The resource TokenDesk stopped sending because the provider refused it
    /// (`invalid_target`): said with the profile, cleared when a resource is set again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub resource_refused: Option<String>,
    /// `None`: a loopback listener on 127.0.0.1 with an ephemeral port at `/callback`.
    pub redirect_uri: Option<String>,
    pub authorize_params: Vec<Param>,
    /// The OpenID Connect `claims` request (a JSON template): `{"id_token": {"authorizationId":
    /// {"value": "{{authorizationId}}", "essential": true}}}`. Inside the request object when
    /// the profile signs its sign-in request.
    pub claims: Option<String>,
    /// `max_age` of the sign-in: the longest ago, in seconds, the user may have authenticated.
    pub max_age: Option<u32>,
    /// Requests sent before a sign-in or token request (a consent registration); their
    /// captured values feed the templates.
    pub steps: Vec<crate::steps::Step>,
    pub token_params: Vec<Param>,
    pub headers: Vec<Param>,
    pub refresh: RefreshPolicy,
    /// An API URL to put in copied curl lines.
    pub api_url: Option<String>,
    /// Where the client's dynamic registration is managed (RFC 7592 `registration_client_uri`);
    /// its registration access token is in the keychain.
    #[ts(optional = nullable)]
    pub registration_client_uri: Option<String>,
    /// The provider preset the profile was made from: its quirks apply, its known errors
    /// are explained.
    pub preset: Option<crate::catalog::PresetRef>,
    /// Where the client secret, private key and TLS key come from: the OS keychain (default),
    /// a command or an environment variable. Sources only, never values.
    pub secrets: crate::secret_source::SecretSources,
}

/// A stored profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Profile {
    pub id: ProfileId,
    #[serde(flatten)]
    pub config: ProfileConfig,
    /// What discovery found, if it ran.
    pub metadata: Option<ProviderMetadata>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which endpoint of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Authorization,
    Token,
    Revocation,
    Introspection,
    Userinfo,
    Jwks,
    /// RFC 9126: where the authorization request is pushed before the browser goes.
    PushedAuthorization,
    /// RFC 8628: where a device sign-in gets its user code.
    DeviceAuthorization,
    /// OpenID CIBA: where a decoupled sign-in is asked for.
    BackchannelAuthentication,
}

impl Endpoint {
    pub const ALL: [Endpoint; 9] = [
        Endpoint::Authorization,
        Endpoint::Token,
        Endpoint::Revocation,
        Endpoint::Introspection,
        Endpoint::Userinfo,
        Endpoint::Jwks,
        Endpoint::PushedAuthorization,
        Endpoint::DeviceAuthorization,
        Endpoint::BackchannelAuthentication,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Authorization => "authorization endpoint",
            Endpoint::Token => "token endpoint",
            Endpoint::Revocation => "revocation endpoint",
            Endpoint::Introspection => "introspection endpoint",
            Endpoint::Userinfo => "userinfo endpoint",
            Endpoint::Jwks => "JWKS URI",
            Endpoint::PushedAuthorization => "pushed authorization request endpoint",
            Endpoint::DeviceAuthorization => "device authorization endpoint",
            Endpoint::BackchannelAuthentication => "backchannel authentication endpoint",
        }
    }
}

impl Endpoints {
    /// The endpoint typed by hand, if any.
    pub fn get(&self, which: Endpoint) -> Option<&str> {
        match which {
            Endpoint::Authorization => &self.authorization,
            Endpoint::Token => &self.token,
            Endpoint::Revocation => &self.revocation,
            Endpoint::Introspection => &self.introspection,
            Endpoint::Userinfo => &self.userinfo,
            Endpoint::Jwks => &self.jwks,
            Endpoint::PushedAuthorization => &self.par,
            Endpoint::DeviceAuthorization => &self.device_authorization,
            Endpoint::BackchannelAuthentication => &self.backchannel_authentication,
        }
        .as_deref()
    }
}

impl Profile {
    /// Whether discovery must run before a request: the profile names an issuer and nothing
    /// was discovered yet.
    pub fn needs_discovery(&self) -> bool {
        self.config.issuer.is_some() && self.metadata.is_none()
    }

    /// The issuer every check compares against: the provider's own (from discovery), else the
    /// one the profile names.
    pub fn issuer(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .map(|m| m.issuer.as_str())
            .or(self.config.issuer.as_deref())
    }

    /// The endpoint to use: the one set by hand, else — with a TLS client certificate — the
    /// provider's mTLS alias (RFC 8705 §5), else the discovered one.
    pub fn endpoint(&self, which: Endpoint) -> Option<&str> {
        let meta = self.metadata.as_ref();
        self.config
            .endpoints
            .get(which)
            .or_else(|| {
                self.config
                    .tls_client_cert
                    .as_ref()
                    .and(meta)
                    .and_then(|m| m.mtls_alias(which))
            })
            .or_else(|| meta.and_then(|m| m.endpoint(which)))
    }

    /// The endpoint, or an error that says how to get one.
    pub fn require_endpoint(&self, which: Endpoint) -> Result<&str> {
        self.endpoint(which).ok_or_else(|| {
            let how = if self.config.issuer.is_some() {
                "run discovery again, or set it by hand in the profile"
            } else {
                "set an issuer URL to discover it, or set it by hand in the profile"
            };
            Error::new(
                crate::error::ErrorCode::Unsupported,
                format!(
                    "Profile \"{}\" has no {}: {how}.",
                    self.config.name,
                    which.label()
                ),
            )
        })
    }
}

/// Names TokenDesk sets itself on authorize requests; extra parameters may not override them.
/// (`response_type` may be set, e.g. to `code id_token` for a hybrid flow.)
const RESERVED_AUTHORIZE: &[&str] = &[
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];
/// Names TokenDesk sets itself on token requests.
const RESERVED_TOKEN: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "code",
    "code_verifier",
    "redirect_uri",
    "refresh_token",
];

impl ProfileConfig {
    /// Whether the background refresher renews this profile's token by itself. Not a headless
    /// grant with steps before it: every renewal would register a new consent or initiate a
    /// new payment, so those are renewed only when someone asks (Refresh, `tokendesk token`).
    pub fn renews_by_itself(&self) -> bool {
        self.refresh.auto && (self.grant.interactive() || self.steps.is_empty())
    }

    /// Whether the client's credential is its private key (`private_key_jwt`, or a client
    /// secret generated from the key) rather than a stored secret.
    pub fn key_is_credential(&self) -> bool {
        self.auth_method == AuthMethod::PrivateKeyJwt
            || (self.generated_secret.is_some() && self.auth_method.sends_secret())
    }

    /// The keychain entry (and so the source) of the client's credential: the private key when
    /// the key is the credential (`private_key_jwt`, a generated secret), else the client
    /// secret — kept for a public client too, so switching methods does not lose it.
    pub fn credential_kind(&self) -> SecretKind {
        if self.key_is_credential() {
            return SecretKind::PrivateKey;
        }
        self.auth_method
            .credential()
            .unwrap_or(SecretKind::ClientSecret)
    }

    /// Whether the profile signs anything with the client's private key: assertions, request
    /// objects, a JWT-bearer grant, step bodies.
    pub fn signs(&self) -> bool {
        self.key_is_credential()
            || self.signed_request
            || self.grant.spec().signs
            || self.steps.iter().any(|s| s.jws_header.is_some())
    }

    /// Checks every field and reports all problems at once.
    pub fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        let mut err = |field: &str, message: String| {
            errs.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };

        if self.name.trim().is_empty() {
            err("name", "Give the profile a name.".into());
        } else if self.name.chars().count() > 100 {
            err("name", "Keep the name under 100 characters.".into());
        }
        if self.client_id.trim().is_empty() {
            err("client_id", "The client id is required.".into());
        }
        for f in self.secrets.check() {
            err(&f.field, f.message);
        }
        if let Some(issuer) = &self.issuer
            && let Err(m) = check_issuer(issuer)
        {
            err("issuer", m);
        }
        if let Some(claims) = self.claims.as_deref().filter(|c| !c.trim().is_empty()) {
            match serde_json::from_str::<serde_json::Value>(claims) {
                Ok(serde_json::Value::Object(_)) => {}
                Ok(_) => err(
                    "claims",
                    "The claims request is a JSON object: {\"id_token\": {…}, \"userinfo\": {…}}."
                        .into(),
                ),
                Err(e) => err("claims", format!("The claims request is not JSON ({e}).")),
            }
        }
        if let Some(claims) = self
            .jwt_bearer
            .claims
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            && !matches!(
                serde_json::from_str::<serde_json::Value>(claims),
                Ok(serde_json::Value::Object(_))
            )
        {
            err(
                "jwt_bearer.claims",
                "The assertion's extra claims are a JSON object.".into(),
            );
        }
        let hmac = self.client_assertion.alg.is_hmac();
        if self.auth_method == AuthMethod::ClientSecretJwt && !hmac {
            err(
                "client_assertion.alg",
                "client_secret_jwt signs with the client secret: choose HS256, HS384 or HS512."
                    .into(),
            );
        } else if hmac && self.auth_method != AuthMethod::ClientSecretJwt && self.signs() {
            err(
                "client_assertion.alg",
                format!(
                    "{} is keyed by the client secret; what this profile signs with its private \
                     key needs RS256, PS256 or ES256.",
                    self.client_assertion.alg.as_str()
                ),
            );
        }
        let mut step_errs = Vec::new();
        crate::steps::validate(&self.steps, &self.name, &mut step_errs);
        crate::flow::token_exchange::validate(self, &mut step_errs);
        crate::flow::ciba::validate(self, &mut step_errs);
        if let Some(details) = self
            .authorization_details
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            && let Err(m) = crate::flow::rar::parse(details)
        {
            step_errs.push(("authorization_details".into(), m));
        }
        for (f, m) in step_errs {
            err(&f, m);
        }
        if let Some(alg) = &self.id_token_alg
            && !ID_TOKEN_ALGS.contains(&alg.as_str())
        {
            err(
                "id_token_alg",
                format!(
                    "\"{alg}\" is not a JWS algorithm TokenDesk verifies; use one of {}.",
                    ID_TOKEN_ALGS.join(", ")
                ),
            );
        }
        let e = &self.endpoints;
        for (field, value) in [
            ("endpoints.authorization", &e.authorization),
            ("endpoints.token", &e.token),
            ("endpoints.revocation", &e.revocation),
            ("endpoints.introspection", &e.introspection),
            ("endpoints.userinfo", &e.userinfo),
            ("endpoints.jwks", &e.jwks),
            ("endpoints.par", &e.par),
            ("endpoints.device_authorization", &e.device_authorization),
            (
                "endpoints.backchannel_authentication",
                &e.backchannel_authentication,
            ),
            ("api_url", &self.api_url),
            ("registration_client_uri", &self.registration_client_uri),
        ] {
            if let Some(v) = value
                && let Err(m) = check_http_url(v)
            {
                err(field, m);
            }
        }
        for (field, value) in [
            ("tls_client_cert", &self.tls_client_cert),
            ("tls_ca", &self.tls_ca),
        ] {
            if let Some(pem) = value
                && let Err(m) = check_certificates(pem)
            {
                err(field, m);
            }
        }
        if self.auth_method.is_mtls() && self.tls_client_cert.is_none() {
            err(
                "tls_client_cert",
                format!(
                    "{} authenticates with the TLS client certificate: add it (PEM), and its key.",
                    self.auth_method.as_str()
                ),
            );
        }
        if let Some(g) = &self.generated_secret {
            if !self.auth_method.sends_secret() {
                err(
                    "generated_secret",
                    format!(
                        "A generated client secret is sent as a client secret: use \
                         client_secret_post or client_secret_basic, not {}.",
                        self.auth_method.as_str()
                    ),
                );
            }
            for (field, value) in [
                ("generated_secret.issuer", &g.issuer),
                ("generated_secret.key_id", &g.key_id),
                ("generated_secret.audience", &g.audience),
            ] {
                if value.trim().is_empty() {
                    err(field, "Needed to make the client secret.".into());
                }
            }
            if g.lifetime_secs == 0 || g.lifetime_secs > GENERATED_SECRET_MAX_SECS {
                err(
                    "generated_secret.lifetime_secs",
                    format!(
                        "Between 1 and {GENERATED_SECRET_MAX_SECS} seconds (six months, Apple's \
                         limit)."
                    ),
                );
            }
        }
        let a = &self.client_assertion;
        for (field, value) in [
            ("client_assertion.kid", &a.kid),
            ("client_assertion.audience", &a.audience),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                err(field, "Leave it unset rather than empty.".into());
            }
        }
        if self.issuer.is_none() && e.token.is_none() {
            err(
                "endpoints.token",
                "Set an issuer URL to discover the endpoints, or the token endpoint by hand."
                    .into(),
            );
        }
        if self.grant == GrantKind::AuthorizationCode
            && self.issuer.is_none()
            && e.authorization.is_none()
        {
            err(
                "endpoints.authorization",
                "The authorization-code grant needs an authorization endpoint (or an issuer to \
                 discover it)."
                    .into(),
            );
        }
        if self.grant == GrantKind::DeviceCode
            && self.issuer.is_none()
            && e.device_authorization.is_none()
        {
            err(
                "endpoints.device_authorization",
                "The device-code grant needs a device authorization endpoint (or an issuer to \
                 discover it)."
                    .into(),
            );
        }
        if let Some(r) = &self.redirect_uri {
            match Url::parse(r) {
                Err(_) => err(
                    "redirect_uri",
                    format!("\"{r}\" is not a URL (e.g. http://127.0.0.1:8765/callback)."),
                ),
                Ok(u) if u.fragment().is_some() => err(
                    "redirect_uri",
                    "A redirect URI must not contain a fragment (RFC 6749 §3.1.2).".into(),
                ),
                Ok(_) => {}
            }
        }
        for (i, s) in self.scopes.iter().enumerate() {
            if s.is_empty()
                || s.chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\\')
            {
                err(
                    &format!("scopes[{i}]"),
                    format!(
                        "\"{s}\" is not a scope token: one word per scope, no spaces or quotes."
                    ),
                );
            }
        }
        for (i, p) in self.authorize_params.iter().enumerate() {
            if let Some(m) = check_param(p, RESERVED_AUTHORIZE) {
                err(&format!("authorize_params[{i}]"), m);
            }
        }
        for (i, p) in self.token_params.iter().enumerate() {
            if let Some(m) = check_param(p, RESERVED_TOKEN) {
                err(&format!("token_params[{i}]"), m);
            }
        }
        for (i, h) in self.headers.iter().enumerate() {
            if http::HeaderName::from_bytes(h.name.as_bytes()).is_err() {
                err(
                    &format!("headers[{i}]"),
                    format!("\"{}\" is not a valid HTTP header name.", h.name),
                );
            } else if http::HeaderValue::from_str(&h.value).is_err() {
                err(
                    &format!("headers[{i}]"),
                    format!(
                        "The value of header \"{}\" has characters HTTP does not allow.",
                        h.name
                    ),
                );
            }
        }
        if self.refresh.remaining_percent > 90 {
            err(
                "refresh.remaining_percent",
                "Refresh with at most 90% of the lifetime left.".into(),
            );
        }
        errs.extend(crate::fapi::violations(self));
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(errs))
        }
    }
}

/// An issuer: an http(s) URL with a host and no query or fragment.
pub(crate) fn check_issuer(issuer: &str) -> std::result::Result<(), String> {
    check_http_url(issuer)?;
    if Url::parse(issuer).is_ok_and(|u| u.query().is_some() || u.fragment().is_some()) {
        return Err("An issuer URL has no query or fragment.".into());
    }
    Ok(())
}

pub(crate) fn check_http_url(value: &str) -> std::result::Result<(), String> {
    match Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "\"{value}\" must be an http(s) URL (scheme \"{}\" given).",
            u.scheme()
        )),
        Err(e) => Err(format!("\"{value}\" is not a valid URL ({e}).")),
    }
}

/// PEM certificates: at least one, all of them parseable.
fn check_certificates(pem: &str) -> std::result::Result<(), String> {
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(
            "Paste certificates in PEM (-----BEGIN CERTIFICATE-----); a private key goes in \
             the key field."
                .into(),
        );
    }
    match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        Ok(_) => Err("No certificate found in it.".into()),
        Err(e) => Err(format!("Not a readable PEM certificate ({e}).")),
    }
}

fn check_param(p: &Param, reserved: &[&str]) -> Option<String> {
    if p.name.trim().is_empty() {
        Some("A parameter needs a name.".into())
    } else if reserved.contains(&p.name.as_str()) {
        Some(format!(
            "\"{}\" is set by TokenDesk itself and cannot be overridden.",
            p.name
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc_profile() -> ProfileConfig {
        ProfileConfig {
            name: "gateway".into(),
            client_id: "abc".into(),
            grant: GrantKind::ClientCredentials,
            endpoints: Endpoints {
                token: Some("https://gw.example/oauth/token".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_client_credentials_profile_is_valid() {
        cc_profile().validate().unwrap();
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut p = cc_profile();
        p.name = " ".into();
        p.endpoints.token = Some("ftp://x".into());
        p.scopes = vec!["a b".into()];
        p.headers = vec![Param::new("x api key", "v")];
        p.token_params = vec![Param::new("grant_type", "password")];
        let e = p.validate().unwrap_err();
        let fields: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "endpoints.token",
                "scopes[0]",
                "token_params[0]",
                "headers[0]"
            ]
        );
        assert!(
            e.message.contains("must be an http(s) URL"),
            "{}",
            e.message
        );
    }

    #[test]
    fn no_issuer_and_no_token_endpoint_is_refused() {
        let mut p = cc_profile();
        p.endpoints.token = None;
        let e = p.validate().unwrap_err();
        assert_eq!(e.fields[0].field, "endpoints.token");
    }

    #[test]
    fn auth_code_needs_an_authorization_endpoint_or_issuer() {
        let mut p = cc_profile();
        p.grant = GrantKind::AuthorizationCode;
        assert_eq!(
            p.validate().unwrap_err().fields[0].field,
            "endpoints.authorization"
        );
        p.issuer = Some("https://login.example".into());
        p.validate().unwrap();
    }

    #[test]
    fn manual_endpoints_override_discovered_ones() {
        let meta = ProviderMetadata {
            token_endpoint: Some("https://discovered/token".into()),
            userinfo_endpoint: Some("https://discovered/userinfo".into()),
            ..Default::default()
        };
        let p = Profile {
            id: ProfileId::from("x"),
            config: cc_profile(),
            metadata: Some(meta),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            p.endpoint(Endpoint::Token),
            Some("https://gw.example/oauth/token")
        );
        assert_eq!(
            p.endpoint(Endpoint::Userinfo),
            Some("https://discovered/userinfo")
        );
        assert!(
            p.require_endpoint(Endpoint::Revocation)
                .unwrap_err()
                .message
                .contains("revocation endpoint")
        );
    }

    #[test]
    fn a_client_certificate_uses_the_mtls_aliases() {
        let meta = ProviderMetadata {
            token_endpoint: Some("https://idp/token".into()),
            userinfo_endpoint: Some("https://idp/userinfo".into()),
            raw: serde_json::json!({
                "mtls_endpoint_aliases": { "token_endpoint": "https://mtls.idp/token" }
            }),
            ..Default::default()
        };
        let mut p = Profile {
            id: ProfileId::from("x"),
            config: ProfileConfig {
                endpoints: Endpoints::default(),
                ..cc_profile()
            },
            metadata: Some(meta),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(p.endpoint(Endpoint::Token), Some("https://idp/token"));
        p.config.tls_client_cert = Some("-----BEGIN CERTIFICATE-----".into());
        assert_eq!(p.endpoint(Endpoint::Token), Some("https://mtls.idp/token"));
        assert_eq!(p.endpoint(Endpoint::Userinfo), Some("https://idp/userinfo"));
        p.config.endpoints.token = Some("https://by-hand/token".into());
        assert_eq!(p.endpoint(Endpoint::Token), Some("https://by-hand/token"));
    }
}
