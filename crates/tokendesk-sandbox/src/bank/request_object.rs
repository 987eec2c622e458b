//! The bank's `/authorize` takes signed request objects only (RFC 9101): `request=<JWS>`, signed
//! PS256 with the TPP's key, `iss` and `client_id` the client, `aud` the bank's issuer, an `exp`
//! not past. Its parameters supersede the query's (OIDC Core §6.1).

use serde_json::Value;

use crate::client_key::check_lifetime;
use crate::params::Params;
use crate::state::Issuer;

/// The registered claims of the JWT itself, which are no authorization parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// A refusal for the client's redirect URI: `(error, error_description)`.
pub(crate) type Refusal = (&'static str, String);

/// The query overlaid with the request object's parameters, and whether the object is
/// acceptable. The parameters are read before the signature is checked, so that a refusal
/// still reaches the (loopback) redirect URI and `state` the request names.
pub(crate) fn open(
    issuer: &Issuer,
    mut params: Params,
    now_s: u64,
) -> (Params, Result<(), Refusal>) {
    if params.get("request_uri").is_some() {
        let why = "the bank takes the request object by value (request=<JWS>), not request_uri";
        return (params, Err(("request_uri_not_supported", why.into())));
    }
    let Some(jws) = params.get("request").map(str::to_owned) else {
        let why = "the bank accepts signed request objects only: send request=<JWS>, signed PS256 \
                   with the TPP's key (RFC 9101)";
        return (params, Err(("invalid_request", why.into())));
    };
    let client_id = params.get("client_id").unwrap_or_default().to_owned();
    for (name, value) in unverified_claims(&jws).unwrap_or_default() {
        if let Some(value) = as_param(&value)
            && !JWT_CLAIMS.contains(&name.as_str())
        {
            params.set(&name, value);
        }
    }
    let verdict = verify(issuer, &jws, &client_id, now_s).map_err(|why| {
        (
            "invalid_request_object",
            format!("the request object {why}"),
        )
    });
    (params, verdict)
}

fn verify(issuer: &Issuer, jws: &str, client_id: &str, now_s: u64) -> Result<(), String> {
    let claims = issuer.shared.tpp.verify(jws)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) {
        return Err(format!(
            "must have iss = the client_id \"{client_id}\", it has {}",
            claims.get("iss").unwrap_or(&Value::Null)
        ));
    }
    if claims.contains_key("client_id") && text("client_id") != Some(client_id) {
        return Err(format!(
            "names client_id {}, but the request is for \"{client_id}\"",
            claims["client_id"]
        ));
    }
    let bank = issuer.url();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == bank,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(bank.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(format!(
            "must have aud = the bank's issuer \"{bank}\", it has {}",
            claims.get("aud").unwrap_or(&Value::Null)
        ));
    }
    check_lifetime(&claims, now_s)
}

/// The payload of a compact JWS, read without checking anything.
fn unverified_claims(jws: &str) -> Option<serde_json::Map<String, Value>> {
    use base64::Engine;
    let payload = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// A claim as a query parameter: strings as they are, `claims` and other objects as JSON.
fn as_param(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
