//! What every PSD2 API route shares: JSON errors, the bearer token and its scope, JSON bodies.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::state::{Issuer, Store};
use crate::style::no_store;
use crate::userinfo::bearer;

/// A refusal of the PSD2 API: `{"error", "error_description"}`, plus the field or header it is
/// about when there is one.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    /// `("field", "transactionTo")`, `("header", "x-idempotency-key")`.
    pub about: Option<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
            about: None,
        }
    }

    pub(crate) fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    pub(crate) fn about(mut self, what: &'static str, name: &str) -> Self {
        self.about = Some((what, name.to_owned()));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::info!(error = self.code, description = %self.description, "bank API request refused");
        let mut body = Map::new();
        body.insert("error".into(), json!(self.code));
        body.insert("error_description".into(), json!(self.description));
        if let Some((what, name)) = &self.about {
            body.insert((*what).into(), json!(name));
        }
        let mut response = no_store(self.status, Json(Value::Object(body)).into_response());
        // RFC 6750 §3: token problems name themselves in the challenge.
        if matches!(self.code, "invalid_token" | "insufficient_scope") {
            let challenge = format!("Bearer realm=\"bank\", error=\"{}\"", self.code);
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// Who calls the API: the bearer token's client, scope and the authorization it was given for.
pub(crate) struct Caller {
    pub client_id: &'static str,
    pub scope: Vec<String>,
    pub authorization_id: Option<String>,
}

impl Caller {
    /// The bearer token of the request: known to the bank, active, and issued to the client
    /// the `x-api-key` names (checked by [`super::require_api_key`] before).
    pub(crate) fn of(
        issuer: &Issuer,
        store: &Store,
        headers: &HeaderMap,
        now: u64,
    ) -> Result<Caller, ApiError> {
        let invalid = |why: String| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", why);
        let token = bearer(headers).ok_or_else(|| {
            invalid("send the access token as Authorization: Bearer <token>".into())
        })?;
        let record = store
            .access
            .get(token)
            .filter(|r| r.style == issuer.style && r.is_active(now))
            .ok_or_else(|| invalid("the access token is unknown, expired or revoked".into()))?;
        let api_key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if record.client_id != api_key {
            return Err(invalid(format!(
                "the access token was issued to {}, not to the x-api-key client {api_key}",
                record.client_id
            )));
        }
        Ok(Caller {
            client_id: record.client_id,
            scope: record.scope.clone(),
            authorization_id: store
                .grants
                .get(&record.grant_id)
                .and_then(|g| g.authorization_id.clone()),
        })
    }

    pub(crate) fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scope.iter().any(|s| s == scope) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "the access token lacks scope {scope} (it has \"{}\")",
                self.scope.join(" ")
            ),
        ))
    }
}

/// A request body that must be a JSON object.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_request",
            "the request body must be a JSON object",
        )),
        Err(_) => Err(ApiError::bad_request(
            "invalid_request",
            "the request body is not JSON",
        )),
    }
}

/// A 201 with a JSON body, never cached.
pub(crate) fn created(body: Value) -> Response {
    no_store(StatusCode::CREATED, Json(body).into_response())
}
