//! `POST {bank}/payments-psd2/v1/sepa-payments`: initiates a SEPA payment for a token with scope
//! `payments`. The body is signed by the TPP in a detached JWS (`x-jws-signature`), the request
//! names itself (`x-idempotency-key`, `x-fapi-interaction-id`) → `201 {"authorizationId",
//! "paymentId", "status"}`; the same key with the same body gets the same answer again, with
//! another body `409 idempotency_key_reused`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::api::{self, ApiError, Caller};
use super::registry::Purpose;
use crate::state::{Issuer, now_ms};

const NAMING_HEADERS: [&str; 2] = ["x-idempotency-key", "x-fapi-interaction-id"];

pub(crate) async fn initiate(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let client_id = {
        let now = now_ms();
        let store = issuer.store(now);
        let caller = Caller::of(&issuer, &store, &headers, now)?;
        caller.require_scope(Purpose::Payment.scope())?;
        caller.client_id
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    for name in NAMING_HEADERS {
        if header(name).is_none() {
            return Err(ApiError::bad_request(
                "missing_header",
                format!("the {name} header is required"),
            )
            .about("header", name));
        }
    }
    let signature = header("x-jws-signature").ok_or_else(|| {
        ApiError::bad_request(
            "invalid_signature",
            "x-jws-signature header is missing: sign the body in a detached JWS (PS256)",
        )
    })?;
    issuer
        .shared
        .tpp
        .verify_detached(signature, &body)
        .map_err(|why| {
            ApiError::bad_request("invalid_signature", format!("x-jws-signature header {why}"))
        })?;
    api::json_object(&body)?;

    let idempotency_key = header("x-idempotency-key").unwrap_or_default();
    let now = now_ms();
    let mut store = issuer.store(now);
    if let Some(earlier) = store.bank.payment(client_id, idempotency_key) {
        if earlier.body != body {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "x-idempotency-key was used for another payment",
            ));
        }
        return Ok(api::created(earlier.answer.clone()));
    }
    let authorization_id = store.bank.register(client_id, Purpose::Payment, now);
    let answer = json!({
        "authorizationId": authorization_id,
        "paymentId": uuid::Uuid::new_v4().to_string(),
        "status": "pending",
    });
    store.bank.remember_payment(
        client_id,
        idempotency_key,
        body.to_vec(),
        answer.clone(),
        now,
    );
    drop(store);
    tracing::info!(client_id, "bank payment initiated");
    Ok(api::created(answer))
}
