//! `/userinfo` (OIDC Core §5.3): the demo user's claims for a Bearer access token that was
//! granted `openid`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::clients::DEMO_USER;
use crate::state::{Issuer, now_ms};
use crate::style;

pub(crate) async fn userinfo(State(issuer): State<Issuer>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        // RFC 6750 §3.1: no error code when the request carried no token at all.
        return challenge(&issuer, StatusCode::UNAUTHORIZED, None);
    };
    let now = now_ms();
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
