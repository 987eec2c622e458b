//! Operations on a token the provider issued: revocation (RFC 7009), introspection (RFC 7662)
//! and the userinfo endpoint (OIDC Core §5.3). Each uses the profile's client authentication and
//! extra headers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{assertion, require_secret};
use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::inspect;
use crate::profile::{AuthMethod, Endpoint, Profile};
use crate::provider::hints::{self, Operation};
use crate::provider::response::ProviderError;
use crate::secret::Sensitive;

/// Which token to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenHint {
    AccessToken,
    RefreshToken,
}

impl TokenHint {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenHint::AccessToken => "access_token",
            TokenHint::RefreshToken => "refresh_token",
        }
    }
}

/// A client-authenticated form POST (RFC 6749 §2.3.1 for basic: url-encoded id and secret).
/// With `private_key_jwt`, a signed client assertion (RFC 7523 §2.2) instead of a secret.
pub(super) fn authenticated_post<'a>(
    profile: &'a Profile,
    secret: Option<&'a Sensitive<String>>,
    url: &str,
    mut form: Vec<(&'a str, &'a str)>,
    now: Millis,
) -> Result<oauth2::HttpRequest> {
    let secret = require_secret(profile, secret)?;
    let assertion = assertion::params(profile, secret, now)?;
    let c = &profile.config;
    let mut builder = http::Request::post(url)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    match (c.auth_method, secret) {
        (AuthMethod::ClientSecretBasic, Some(s)) => {
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let credential = STANDARD.encode(format!("{}:{}", enc(&c.client_id), enc(s.expose())));
            builder = builder.header(http::header::AUTHORIZATION, format!("Basic {credential}"));
        }
        (AuthMethod::ClientSecretPost, Some(s)) => {
            form.push(("client_id", &c.client_id));
            form.push(("client_secret", s.expose()));
        }
        _ => form.push(("client_id", &c.client_id)),
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .extend_pairs(assertion)
        .finish();
    builder
        .body(body.into_bytes())
        .map_err(|e| Error::internal(e.to_string()))
}

fn unsupported(profile: &Profile, what: &str, endpoint: Endpoint) -> Error {
    Error::new(
        ErrorCode::Unsupported,
        format!(
            "Profile \"{}\" cannot {what}: the provider has no {} (set one in the profile if it \
             has one).",
            profile.config.name,
            endpoint.label()
        ),
    )
}

/// An error answer, or an answer that is not JSON, as a user-facing error.
fn refusal(response: &oauth2::HttpResponse, what: &str) -> Error {
    let status = response.status().as_u16();
    match serde_json::from_slice::<ProviderError>(response.body()) {
        Ok(pe) => {
            let mut message = format!("The provider refused to {what} (HTTP {status}): {pe}.");
            if let Some(h) = hints::hint(&pe.error, Operation::ClientCredentials)
                .filter(|_| pe.error == "invalid_client")
            {
                message.push(' ');
                message.push_str(h);
            }
            let code = if pe.error == "invalid_client" {
                ErrorCode::InvalidClient
            } else {
                ErrorCode::ProviderError
            };
            Error::new(code, message)
        }
        Err(_) => Error::new(
            ErrorCode::BadResponse,
            format!(
                "The provider answered HTTP {status} with no usable error when asked to {what}."
            ),
        ),
    }
}

/// Posts a token to the revocation or introspection endpoint, client-authenticated.
async fn post_token(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    token: &Sensitive<String>,
    hint: TokenHint,
    endpoint: Endpoint,
    what: &str,
    call: &Call<'_>,
) -> Result<oauth2::HttpResponse> {
    let url = profile
        .endpoint(endpoint)
        .ok_or_else(|| unsupported(profile, what, endpoint))?;
    let form = vec![
        ("token", token.expose().as_str()),
        ("token_type_hint", hint.as_str()),
    ];
    Ok(call
        .send(authenticated_post(
            profile,
            secret,
            url,
            form,
            call.now_ms(),
        )?)
        .await?)
}

/// A token request that cannot succeed — a code exchange with a made-up code — to learn whether
/// the client authenticates (the setup check): a provider answers `invalid_grant` when it does,
/// `invalid_client` when it does not. Nothing can be issued.
pub async fn probe_client_auth(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    redirect_uri: &str,
    call: &Call<'_>,
) -> Result<oauth2::HttpResponse> {
    let url = profile.require_endpoint(Endpoint::Token)?;
    let code = format!("tokendesk-setup-check-{}", uuid::Uuid::new_v4().simple());
    let verifier = "tokendesk-setup-check-verifier-that-matches-no-challenge-00000";
    let form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let request = authenticated_post(profile, secret, url, form, call.now_ms())?;
    Ok(call.send(request).await?)
}

/// Revokes a token (RFC 7009). Success is HTTP 200 whatever the token was.
pub async fn revoke(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    token: &Sensitive<String>,
    hint: TokenHint,
    call: &Call<'_>,
) -> Result<()> {
    let response = post_token(
        profile,
        secret,
        token,
        hint,
        Endpoint::Revocation,
        "revoke tokens",
        call,
    )
    .await?;
    if response.status() == 200 {
        Ok(())
    } else {
        Err(refusal(&response, "revoke the token"))
    }
}

/// Introspects a token (RFC 7662); returns the provider's answer as sent (`active`, ...).
pub async fn introspect(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    token: &Sensitive<String>,
    hint: TokenHint,
    call: &Call<'_>,
) -> Result<Value> {
    let response = post_token(
        profile,
        secret,
        token,
        hint,
        Endpoint::Introspection,
        "introspect tokens",
        call,
    )
    .await?;
    if response.status() != 200 {
        return Err(refusal(&response, "introspect the token"));
    }
    let v: Value = serde_json::from_slice(response.body()).map_err(|e| {
        Error::new(
            ErrorCode::BadResponse,
            format!("The introspection answer is not JSON ({e})."),
        )
    })?;
    if !v.get("active").is_some_and(Value::is_boolean) {
        return Err(Error::new(
            ErrorCode::BadResponse,
            "The introspection answer has no boolean \"active\" (RFC 7662 §2.2).",
        ));
    }
    Ok(v)
}

/// Calls the userinfo endpoint with the access token; a signed (JWT) answer is decoded.
/// `scheme`: `Bearer`, or `DPoP` for a DPoP-bound token (the call then adds the proof).
pub async fn userinfo(
    profile: &Profile,
    access_token: &Sensitive<String>,
    scheme: &str,
    call: &Call<'_>,
) -> Result<Value> {
    let url = profile
        .endpoint(Endpoint::Userinfo)
        .ok_or_else(|| unsupported(profile, "call userinfo", Endpoint::Userinfo))?;
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::AUTHORIZATION,
            format!("{scheme} {}", access_token.expose()),
        )
        .body(Vec::new())
        .map_err(|e| Error::internal(e.to_string()))?;
    let response = call.send(request).await?;
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        let challenge = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        return Err(Error::new(
            ErrorCode::InvalidGrant,
            format!(
                "The userinfo endpoint refused the access token (HTTP {status}){challenge}. It may \
                 have expired or been revoked, or lack the openid scope: refresh or sign in again."
            ),
        ));
    }
    if status != 200 {
        return Err(refusal(&response, "return userinfo"));
    }
    let body = String::from_utf8_lossy(response.body());
    match serde_json::from_str::<Value>(&body) {
        Ok(v) => Ok(v),
        Err(_) => inspect::decode_jwt(body.trim())
            .map(|j| j.claims)
            .map_err(|e| {
                Error::new(
                    ErrorCode::BadResponse,
                    format!("The userinfo answer is neither JSON nor a JWT: {e}."),
                )
            }),
    }
}
