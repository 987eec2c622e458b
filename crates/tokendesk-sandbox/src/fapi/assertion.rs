//! `private_key_jwt` (RFC 7523 §2.2) as FAPI 2.0 asks it (§5.3.2.1): the only client
//! authentication at this issuer, an assertion signed with the client's registered key (PS256;
//! the registered key is RSA), `iss` and `sub` the client id, `aud` the issuer identifier as a
//! single string — not the token endpoint, not an array — a near `exp`, and a `jti` used once.

use axum::http::{HeaderMap, header};
use serde_json::Value;

use crate::client_key::{LEEWAY_S, check_lifetime};
use crate::clients::{self, DemoClient};
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::state::{Issuer, now_ms};

/// `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Authenticates the calling client at the FAPI issuer.
pub(crate) fn authenticate(
    issuer: &Issuer,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'static DemoClient, OAuthError> {
    if headers.contains_key(header::AUTHORIZATION) || params.get("client_secret").is_some() {
        return Err(OAuthError::invalid_client(
            "this issuer (FAPI 2.0) authenticates clients with private_key_jwt only: send \
             client_assertion_type and client_assertion, no client secret",
        ));
    }
    let Some(assertion) = params.get("client_assertion") else {
        return Err(OAuthError::invalid_client(
            "no client authentication: this issuer (FAPI 2.0) needs private_key_jwt \
             (client_assertion_type and client_assertion, RFC 7523)",
        ));
    };
    if params.get("client_assertion_type") != Some(ASSERTION_TYPE) {
        return Err(OAuthError::invalid_client(format!(
            "client_assertion_type must be {ASSERTION_TYPE}"
        )));
    }
    let invalid = |why: String| OAuthError::invalid_client(format!("client_assertion {why}"));
    // Who claims to sign, before the signature tells whether it did.
    let claimed =
        unverified_issuer(assertion).ok_or_else(|| invalid("has no iss (the client id)".into()))?;
    let client = clients::find(issuer.style, &claimed)
        .ok_or_else(|| invalid(format!("names unknown client \"{claimed}\" as iss")))?;
    if let Some(form_id) = params.get("client_id")
        && form_id != client.id
    {
        return Err(invalid(format!(
            "is signed as {} but the form's client_id is {form_id}",
            client.id
        )));
    }
    let claims = issuer
        .shared
        .fapi_client
        .verify(assertion)
        .map_err(invalid)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("sub") != Some(client.id) {
        return Err(invalid(format!(
            "sub must be the client id \"{}\", got {}",
            client.id,
            claims.get("sub").unwrap_or(&Value::Null)
        )));
    }
    let expected_aud = issuer.url();
    match claims.get("aud") {
        Some(Value::String(aud)) if *aud == expected_aud => {}
        other => {
            return Err(invalid(format!(
                "aud must be this issuer's identifier {expected_aud}, as a single string (FAPI \
                 2.0 §5.3.2.1 accepts no other value: not the token or PAR endpoint URL, not an \
                 array); got {}",
                other.unwrap_or(&Value::Null)
            )));
        }
    }
    let now = now_ms();
    check_lifetime(&claims, now / 1000).map_err(invalid)?;
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return Err(invalid("has no jti".into()));
    };
    let until_ms = claims
        .get("exp")
        .and_then(Value::as_u64)
        .unwrap_or_default()
        .saturating_add(LEEWAY_S)
        .saturating_mul(1000);
    if !issuer
        .store(now)
        .fapi
        .use_assertion(client.id, jti, until_ms)
    {
        return Err(invalid(format!(
            "jti \"{jti}\" was used already: sign a new assertion for each request"
        )));
    }
    Ok(client)
}

/// The `iss` of a compact JWS, read without verifying it.
fn unverified_issuer(jws: &str) -> Option<String> {
    use base64::Engine;
    let payload = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["iss"].as_str().map(str::to_owned)
}
