//! The bank's gateway in front of every back-channel route: `x-api-key` must name a client of
//! the bank, and the request's `x-request-id` and `x-fapi-interaction-id` come back on the
//! answer, errors included.

use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::ApiError;
use crate::clients;
use crate::style::Style;

const ECHOED: [HeaderName; 2] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-fapi-interaction-id"),
];

/// Middleware: refuses a request without a known `x-api-key` with a 401 JSON answer.
pub(crate) async fn require(request: Request, next: Next) -> Response {
    let echo: Vec<_> = ECHOED
        .iter()
        .filter_map(|name| {
            request
                .headers()
                .get(name)
                .map(|value| (name.clone(), value.clone()))
        })
        .collect();
    let key = request
        .headers()
        .get("x-api-key")
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let mut response = match key {
        None | Some("") => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_api_key",
            "the x-api-key header is required: the TPP's client id",
        )
        .into_response(),
        Some(key) if clients::find(Style::Bank, key).is_none() => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            format!("unknown x-api-key \"{key}\": it is the TPP's client id"),
        )
        .into_response(),
        Some(_) => next.run(request).await,
    };
    for (name, value) in echo {
        response.headers_mut().insert(name, value);
    }
    response
}
