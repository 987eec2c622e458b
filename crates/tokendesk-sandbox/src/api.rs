//! A protected demo API that describes itself (RFC 9728): `GET /api/me` answers 401 with
//! `WWW-Authenticate: Bearer resource_metadata=…` without a token, and the demo user for an
//! access token of the standard issuer; its metadata names the standard issuer. It is what
//! "start from an API URL" finds in the sandbox.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::state::{Issuer, Shared, now_ms};
use crate::style::Style;

/// The API's path under the sandbox's base URL; its resource identifier is `{base}/api`.
pub const API_PATH: &str = "/api";
/// The scope the API asks for.
pub const API_SCOPE: &str = "accounts:read";

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/.well-known/oauth-protected-resource/api", get(metadata))
        .route("/api", get(me))
        .route("/api/me", get(me))
        .with_state(shared)
}

fn standard(shared: &Arc<Shared>) -> Issuer {
    Issuer {
        shared: shared.clone(),
        style: Style::Standard,
    }
}

async fn metadata(State(shared): State<Arc<Shared>>) -> Response {
    let base = &shared.base_url;
    Json(json!({
        "resource": format!("{base}{API_PATH}"),
        "authorization_servers": [standard(&shared).url()],
        "scopes_supported": [API_SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "TokenDesk sandbox API",
    }))
    .into_response()
}

async fn me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let issuer = standard(&shared);
    let meta = format!(
        "{}/.well-known/oauth-protected-resource/api",
        shared.base_url
    );
    let refuse = |error: Option<&str>| {
        let mut challenge = format!("Bearer resource_metadata=\"{meta}\", scope=\"{API_SCOPE}\"");
        if let Some(e) = error {
            challenge.push_str(&format!(", error=\"{e}\""));
        }
        let mut r = (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": error.unwrap_or("unauthorized")})),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    };
    let Some(token) = token else {
        return refuse(None);
    };
    let now = now_ms();
    let store = issuer.store(now);
    match store.access.get(token) {
        Some(r) if r.style == Style::Standard && r.is_active(now) && r.jkt.is_none() => {
            Json(json!({"sub": r.subject, "scope": r.scope.join(" "), "client_id": r.client_id}))
                .into_response()
        }
        _ => refuse(Some("invalid_token")),
    }
}
