//! `/userinfo` (OIDC Core §5.3): the demo user's claims for a Bearer access token that was
//! granted `openid` — at the FAPI issuer for a DPoP-bound one only, sent as
//! `Authorization: DPoP <token>` with a proof for this request that carries the token's hash
//! (`ath`) and a server nonce (RFC 9449 §7).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::clients::DEMO_USER;
use crate::fapi::DPOP_ALGS;
use crate::fapi::dpop::{self, Expected};
use crate::state::{Issuer, now_ms};
use crate::style::{self, DPOP_NONCE, Style};

pub(crate) async fn userinfo(
    State(issuer): State<Issuer>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let now = now_ms();
    let (token, jkt) = match issuer.style {
        Style::Fapi => match dpop_bound(&issuer, &method, &headers, now) {
            Ok((token, jkt)) => (token, Some(jkt)),
            Err(refused) => return *refused,
        },
        Style::Standard | Style::Gateway | Style::Bank => match bearer(&headers) {
            Some(token) => (token, None),
            // RFC 6750 §3.1: no error code when the request carried no token at all.
            None => return challenge(&issuer, StatusCode::UNAUTHORIZED, None),
        },
    };
    let store = issuer.store(now);
    let record = match store.access.get(token) {
        Some(r) if r.style == issuer.style && r.is_active(now) => r,
        _ => {
            return challenge(
                &issuer,
                StatusCode::UNAUTHORIZED,
                Some((
                    "invalid_token",
                    "the access token is unknown, expired or revoked",
                )),
            );
        }
    };
    if record.jkt != jkt {
        drop(store);
        return dpop_challenge(
            &issuer,
            Some((
                "invalid_token",
                "the access token is bound to another DPoP key than the proof's",
            )),
            None,
        );
    }
    if !record.scope.iter().any(|s| s == "openid") {
        return challenge(
            &issuer,
            StatusCode::FORBIDDEN,
            Some((
                "insufficient_scope",
                "the access token was not granted openid",
            )),
        );
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(record.subject));
    if record.scope.iter().any(|s| s == "profile") {
        claims.insert("name".into(), json!(DEMO_USER.name));
    }
    if record.scope.iter().any(|s| s == "email") {
        claims.insert("email".into(), json!(DEMO_USER.email));
        claims.insert("email_verified".into(), json!(true));
    }
    if let Some(id) = store
        .grants
        .get(&record.grant_id)
        .and_then(|g| g.authorization_id.as_deref())
    {
        claims.insert("authorizationId".into(), json!(id));
    }
    style::no_store(StatusCode::OK, Json(Value::Object(claims)).into_response())
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The FAPI issuer's rule: `Authorization: DPoP <token>` and a valid proof for this request,
/// with `ath`. Returns the token and the proof key's thumbprint, or the 401 to answer (boxed: a
/// response is large).
fn dpop_bound<'h>(
    issuer: &Issuer,
    method: &Method,
    headers: &'h HeaderMap,
    now: u64,
) -> Result<(&'h str, String), Box<Response>> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '));
    let token = match authorization {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("dpop") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => {
            return Err(Box::new(dpop_challenge(
                issuer,
                Some((
                    "invalid_token",
                    "this issuer's access tokens are DPoP-bound: send Authorization: DPoP                      <token> with a DPoP proof, not Bearer",
                )),
                None,
            )));
        }
        _ => return Err(Box::new(dpop_challenge(issuer, None, None))),
    };
    let url = issuer.endpoint("/userinfo");
    let expected = Expected {
        method: method.as_str(),
        url: &url,
        access_token: Some(token),
    };
    match dpop::require(issuer, headers, &expected, now) {
        Ok(jkt) => Ok((token, jkt)),
        Err(refusal) => Err(Box::new(dpop_challenge(
            issuer,
            Some((refusal.code, &refusal.description)),
            refusal.nonce.as_deref(),
        ))),
    }
}

/// 401 with `WWW-Authenticate: DPoP` (RFC 9449 §7.1), and the nonce to use, if one is due.
fn dpop_challenge(issuer: &Issuer, error: Option<(&str, &str)>, nonce: Option<&str>) -> Response {
    let mut value = format!(
        "DPoP realm=\"{}\", algs=\"{}\"",
        issuer.url(),
        DPOP_ALGS.join(" ")
    );
    let body = match error {
        Some((code, description)) => {
            value.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                description.replace('"', "'")
            ));
            json!({ "error": code, "error_description": description })
        }
        None => json!({
            "error": "invalid_request",
            "error_description": "send the access token as Authorization: DPoP <token> with a DPoP proof",
        }),
    };
    let mut response = style::no_store(StatusCode::UNAUTHORIZED, Json(body).into_response());
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    if let Some(nonce) = nonce
        && let Ok(value) = HeaderValue::from_str(nonce)
    {
        response.headers_mut().insert(DPOP_NONCE, value);
    }
    response
}

fn challenge(issuer: &Issuer, status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let mut value = format!("Bearer realm=\"{}\"", issuer.url());
    let body = match error {
        Some((code, description)) => {
            value.push_str(&format!(
                ", error=\"{code}\", error_description=\"{description}\""
            ));
            json!({ "error": code, "error_description": description })
        }
        None => json!({
            "error": "invalid_request",
            "error_description": "send the access token as Authorization: Bearer <token>",
        }),
    };
    let mut response = style::no_store(status, Json(body).into_response());
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}
