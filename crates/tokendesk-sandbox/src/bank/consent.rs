//! `POST {bank}/accounts-psd2/v1/authorizations`: registers an account-information consent for
//! a client-credentials token with scope `accounts` → `201 {"authorizationId", "status"}`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::api::{self, ApiError, Caller};
use super::registry::Purpose;
use crate::state::{Issuer, now_ms};

/// The fields a consent must carry (not read further: the demo accounts are always there).
const REQUIRED: [&str; 3] = ["expires", "transactionFrom", "transactionTo"];

pub(crate) async fn register(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let mut store = issuer.store(now);
    let caller = Caller::of(&issuer, &store, &headers, now)?;
    caller.require_scope(Purpose::Consent.scope())?;
    let consent = api::json_object(&body)?;
    for field in REQUIRED {
        let missing = match consent.get(field) {
            None | Some(serde_json::Value::Null) => true,
            Some(v) => v.as_str() == Some(""),
        };
        if missing {
            return Err(
                ApiError::bad_request("invalid_request", format!("missing field {field}"))
                    .about("field", field),
            );
        }
    }
    let id = store.bank.register(caller.client_id, Purpose::Consent, now);
    drop(store);
    tracing::info!(client_id = caller.client_id, "bank consent registered");
    Ok(api::created(
        json!({ "authorizationId": id, "status": "pending" }),
    ))
}
