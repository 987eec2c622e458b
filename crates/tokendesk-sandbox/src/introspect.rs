//! `/introspect` (RFC 7662). Confidential clients may introspect any token of the issuer
//! (they stand in for resource servers); the public client only its own tokens.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::client_auth;
use crate::clients::DemoClient;
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::state::{Issuer, TokenRecord, now_ms};
use crate::style::{self, API_PRODUCT};

pub(crate) async fn introspect(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&issuer, &headers, &body) {
        Ok(body) => style::no_store(StatusCode::OK, Json(body).into_response()),
        Err(error) => style::error_response(issuer.style, &error),
    }
}

fn answer(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    let caller = client_auth::authenticate_at(issuer, headers, &params)?;
    let token = params
        .require("token")
        .map_err(OAuthError::invalid_request)?;
    let now = now_ms();
    let store = issuer.store(now);
    // The hint only changes the lookup order (RFC 7662 §2.1).
    let lookups = if params.get("token_type_hint") == Some("refresh_token") {
        [(&store.refresh, "refresh_token"), (&store.access, "Bearer")]
    } else {
        [(&store.access, "Bearer"), (&store.refresh, "refresh_token")]
    };
    let found = lookups
        .into_iter()
        .find_map(|(map, kind)| map.get(token).map(|record| (record, kind)));
    let body = match found {
        Some((record, kind)) if visible(issuer, caller, record, now) => {
            let mut body = describe(issuer, record, kind);
            // The bank's tokens say which authorization they were given for.
            if let Some(id) = store
                .grants
                .get(&record.grant_id)
                .and_then(|g| g.authorization_id.as_deref())
            {
                body.insert("authorizationId".into(), json!(id));
            }
            Value::Object(body)
        }
        _ => json!({ "active": false }),
    };
    Ok(body)
}

fn visible(issuer: &Issuer, caller: &DemoClient, record: &TokenRecord, now: u64) -> bool {
    record.style == issuer.style
        && record.is_active(now)
        && (!caller.is_public() || record.client_id == caller.id)
}

fn describe(issuer: &Issuer, record: &TokenRecord, kind: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("active".into(), json!(true));
    body.insert("scope".into(), json!(record.scope.join(" ")));
    body.insert("client_id".into(), json!(record.client_id));
    body.insert("sub".into(), json!(record.subject));
    body.insert("exp".into(), json!(record.expires_ms / 1000));
    body.insert("iat".into(), json!(record.issued_ms / 1000));
    match &record.jkt {
        // RFC 9449 §6.2: a DPoP-bound token says so, and to which key.
        Some(jkt) => {
            body.insert("token_type".into(), json!("DPoP"));
            body.insert("cnf".into(), json!({ "jkt": jkt }));
        }
        None => {
            body.insert("token_type".into(), json!(kind));
        }
    }
    body.insert("iss".into(), json!(issuer.url()));
    if kind == "Bearer" {
        body.insert("aud".into(), json!(API_PRODUCT));
    }
    body
}
