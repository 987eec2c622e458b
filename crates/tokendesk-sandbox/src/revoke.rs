//! `/revoke` (RFC 7009). Revoking a refresh token revokes its whole grant; revoking an access
//! token revokes that token. Unknown tokens, and tokens of other clients, still get 200.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::client_auth;
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::state::{Issuer, now_ms};
use crate::style;

pub(crate) async fn revoke(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match apply(&issuer, &headers, &body) {
        Ok(()) => style::no_store(StatusCode::OK, ().into_response()),
        Err(error) => style::error_response(issuer.style, &error),
    }
}

fn apply(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    let client = client_auth::authenticate_at(issuer, headers, &params)?;
    let token = params
        .require("token")
        .map_err(OAuthError::invalid_request)?;
    let mut store = issuer.store(now_ms());
    let owns = |record: &crate::state::TokenRecord| {
        record.style == issuer.style && record.client_id == client.id
    };

    let refresh_grant = store
        .refresh
        .get(token)
        .filter(|r| owns(r))
        .map(|r| r.grant_id.clone());
    if let Some(grant_id) = refresh_grant {
        store.revoke_grant(&grant_id);
        tracing::info!(
            style = issuer.style.path(),
            client_id = client.id,
            "refresh token revoked with its grant"
        );
        return Ok(());
    }
    if store.access.get(token).is_some_and(owns) {
        store.access.remove(token);
        tracing::info!(
            style = issuer.style.path(),
            client_id = client.id,
            "access token revoked"
        );
    }
    Ok(())
}
