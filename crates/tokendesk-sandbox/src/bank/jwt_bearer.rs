//! The JWT-bearer grant at the bank (RFC 7523 §2.1), for payment exemptions: the TPP signs an
//! assertion (PS256, its key) naming a registered authorization and trades it for an opaque
//! access token given for that authorization — no refresh token, no ID token.

use serde_json::Value;

use crate::client_key::{LEEWAY_S, check_lifetime};
use crate::clients::DemoClient;
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::state::{Grant, Issuer, Store};
use crate::style::Issued;
use crate::token::{IdTokenWanted, mint};

pub(crate) fn grant(
    issuer: &Issuer,
    store: &mut Store,
    client: &'static DemoClient,
    params: &Params,
    now: u64,
) -> Result<Issued, OAuthError> {
    let assertion = params
        .require("assertion")
        .map_err(OAuthError::invalid_request)?;
    let invalid = |why: String| OAuthError::invalid_grant(format!("assertion {why}"));
    let claims = issuer.shared.tpp.verify(assertion).map_err(invalid)?;
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if text("iss") != Some(client.id) {
        return Err(invalid(format!(
            "iss must be the client_id \"{}\", got {}",
            client.id,
            claims.get("iss").unwrap_or(&Value::Null)
        )));
    }
    let subject = text("sub").ok_or_else(|| invalid("has no sub".into()))?;
    let (token_endpoint, bank) = (issuer.endpoint("/token"), issuer.url());
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == token_endpoint || *a == bank,
        Some(Value::Array(auds)) => auds
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a == token_endpoint || a == bank)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid(format!(
            "aud must be the token endpoint {token_endpoint} or the issuer {bank}, got {}",
            claims.get("aud").unwrap_or(&Value::Null)
        )));
    }
    check_lifetime(&claims, now / 1000).map_err(invalid)?;
    let authorization_id =
        text("authorizationId").ok_or_else(|| invalid("has no authorizationId claim".into()))?;
    let purpose = store
        .bank
        .authorization(authorization_id, client.id)
        .map(|a| a.purpose)
        .ok_or_else(|| {
            OAuthError::invalid_grant(format!("unknown authorizationId \"{authorization_id}\""))
        })?;
    if let Some(jti) = text("jti") {
        // Remembered for as long as the assertion could be accepted.
        let expires_ms = claims
            .get("exp")
            .and_then(Value::as_u64)
            .unwrap_or_default()
            .saturating_add(LEEWAY_S)
            .saturating_mul(1000);
        if !store.bank.use_assertion(client.id, jti, expires_ms) {
            return Err(invalid(format!("jti \"{jti}\" already used")));
        }
    }

    // The PSD2 scopes asked for, else the authorization's own.
    let requested = client
        .grant_scopes(issuer.style, params.get("scope"))
        .map_err(OAuthError::invalid_scope)?;
    let mut scope: Vec<String> = requested
        .into_iter()
        .filter(|s| s == "accounts" || s == "payments")
        .collect();
    if scope.is_empty() {
        scope.push(purpose.scope().to_owned());
    }
    let grant_id = store.add_grant(Grant {
        authorization_id: Some(authorization_id.to_owned()),
        ..Grant::new(client, subject, &scope, now)
    });
    mint(
        issuer,
        store,
        &grant_id,
        &scope,
        false,
        IdTokenWanted::Skip,
        now,
    )
}
