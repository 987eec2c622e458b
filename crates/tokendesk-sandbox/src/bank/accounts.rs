//! `GET {bank}/accounts-psd2/v1/accounts`: the demo accounts, for a token given for a
//! registered authorization (a code-flow token whose request asked for it, a JWT-bearer token);
//! `403 consent_required` for any other, such as a client-credentials token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::api::{ApiError, Caller};
use crate::state::{Issuer, now_ms};
use crate::style::no_store;

pub(crate) async fn list(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let store = issuer.store(now);
    let caller = Caller::of(&issuer, &store, &headers, now)?;
    let consented = caller
        .authorization_id
        .filter(|id| store.bank.authorization(id, caller.client_id).is_some());
    drop(store);
    let Some(id) = consented else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "consent_required",
            "the access token was not issued for a registered authorizationId: sign in with a \
             consent, or use the JWT-bearer grant for a payment",
        ));
    };
    Ok(no_store(
        StatusCode::OK,
        Json(json!({
            "accounts": [{"iban": "FI00 0000 0000 0000 00", "name": "Sandbox account"}],
            "authorizationId": id,
        }))
        .into_response(),
    ))
}
