//! The bank's CIBA (OpenID Client-Initiated Backchannel Authentication, poll mode) and its
//! `payment_initiation` authorization details (RFC 9396). **Demo only.**
//!
//! `POST {bank}/backchannel` (the TPP, `client_secret_post` and `x-api-key`) asks the bank to
//! reach the user named by `login_hint` (any name but one starting with `unknown`); the
//! sandbox's "phone" is the page `GET {bank}/ciba`, which lists the pending requests with their
//! binding message and details and approves or denies them. The TPP polls `/token` with
//! `grant_type=urn:openid:params:grant-type:ciba` and the `auth_req_id`: `authorization_pending`,
//! `slow_down` when it polls sooner than the interval, `access_denied`, `expired_token`, or the
//! tokens (an ID token for `openid`, a refresh token, the details granted).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use crate::client_auth;
use crate::clients::DemoClient;
use crate::oauth_error::OAuthError;
use crate::pages::escape;
use crate::params::Params;
use crate::random;
use crate::state::{Grant, Issuer, Store, now_ms};
use crate::style::{self, Issued, Style};
use crate::token::{IdTokenWanted, mint};

pub const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";
pub const BACKCHANNEL_PATH: &str = "/backchannel";
/// The sandbox user's "phone": the pending requests, to approve or deny.
pub const APPROVE_PATH: &str = "/ciba";
pub(crate) const DECISION_PATH: &str = "/ciba/decision";
/// How long a request waits for the user, and the polling interval the bank asks for.
const EXPIRES_S: u64 = 300;
const INTERVAL_S: u64 = 2;
/// The only details type the bank takes.
pub const DETAILS_TYPE: &str = "payment_initiation";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Pending,
    Approved,
    Denied,
}

pub(crate) struct CibaRequest {
    client: &'static DemoClient,
    subject: String,
    scope: Vec<String>,
    binding_message: Option<String>,
    details: Option<Value>,
    decision: Decision,
    interval_ms: u64,
    last_poll_ms: u64,
    pub expires_ms: u64,
    at_ms: u64,
}

/// The `payment_initiation` details of a request, checked: an array of objects of that type,
/// each with `instructedAmount {currency, amount}`; `invalid_authorization_details` otherwise.
/// Only the bank takes details.
pub(crate) fn details(issuer: &Issuer, params: &Params) -> Result<Option<Value>, OAuthError> {
    let Some(text) = params.get("authorization_details") else {
        return Ok(None);
    };
    if issuer.style != Style::Bank {
        return Err(OAuthError::bad_request(
            "invalid_authorization_details",
            "this issuer takes no authorization_details",
        ));
    }
    let invalid = |m: &str| OAuthError::bad_request("invalid_authorization_details", m);
    let value: Value =
        serde_json::from_str(text).map_err(|_| invalid("authorization_details is not JSON"))?;
    let items = value
        .as_array()
        .ok_or_else(|| invalid("authorization_details is a JSON array"))?;
    for d in items {
        if d.get("type").and_then(Value::as_str) != Some(DETAILS_TYPE) {
            return Err(invalid(
                "the bank takes authorization details of type payment_initiation only",
            ));
        }
        let amount = &d["instructedAmount"];
        let currency_ok = amount["currency"]
            .as_str()
            .is_some_and(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase()));
        let amount_ok = amount["amount"]
            .as_str()
            .is_some_and(|a| a.parse::<f64>().is_ok_and(|n| n > 0.0));
        if !currency_ok || !amount_ok {
            return Err(invalid(
                "payment_initiation needs instructedAmount {\"currency\": \"EUR\", \"amount\": \"12.34\"}",
            ));
        }
    }
    Ok((!items.is_empty()).then_some(value))
}

/// `POST {bank}/backchannel`: a new request → `{auth_req_id, expires_in, interval}`.
pub(crate) async fn backchannel(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match start(&issuer, &headers, &body) {
        Ok(body) => style::no_store(StatusCode::OK, axum::Json(body).into_response()),
        Err(e) => style::error_response(issuer.style, &e),
    }
}

fn start(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    let client = client_auth::authenticate_at(issuer, headers, &params)?;
    if !client.allows_grant(GRANT_TYPE) {
        return Err(OAuthError::unauthorized_client(format!(
            "client {} may not use CIBA",
            client.id
        )));
    }
    let hint = params
        .get("login_hint")
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_request("login_hint is required (the bank knows no other hint)")
        })?;
    if hint.starts_with("unknown") {
        return Err(OAuthError::bad_request(
            "unknown_user_id",
            format!("the bank knows no user {hint}"),
        ));
    }
    let binding_message = params.get("binding_message").map(str::to_owned);
    if binding_message
        .as_deref()
        .is_some_and(|m| m.chars().count() > 32)
    {
        return Err(OAuthError::bad_request(
            "invalid_binding_message",
            "a binding message is at most 32 characters",
        ));
    }
    let scope = client
        .grant_scopes(issuer.style, params.get("scope"))
        .map_err(OAuthError::invalid_scope)?;
    let details = details(issuer, &params)?;
    let now = now_ms();
    let id = random::url_safe(24);
    let mut store = issuer.store(now);
    store.bank.ciba.insert(
        id.clone(),
        CibaRequest {
            client,
            subject: hint.to_owned(),
            scope,
            binding_message,
            details,
            decision: Decision::Pending,
            interval_ms: INTERVAL_S * 1000,
            last_poll_ms: 0,
            expires_ms: now + EXPIRES_S * 1000,
            at_ms: now,
        },
    );
    tracing::info!(client_id = client.id, "CIBA request waiting for the user");
    Ok(json!({"auth_req_id": id, "expires_in": EXPIRES_S, "interval": INTERVAL_S}))
}

/// `grant_type=urn:openid:params:grant-type:ciba` at `/token`.
pub(crate) fn grant(
    issuer: &Issuer,
    store: &mut Store,
    client: &'static DemoClient,
    params: &Params,
    now: u64,
) -> Result<Issued, OAuthError> {
    let id = params
        .require("auth_req_id")
        .map_err(OAuthError::invalid_request)?
        .to_owned();
    let request = store
        .bank
        .ciba
        .get_mut(&id)
        .filter(|r| r.client.id == client.id)
        .ok_or_else(|| OAuthError::invalid_grant("unknown auth_req_id"))?;
    if now >= request.expires_ms {
        store.bank.ciba.remove(&id);
        return Err(OAuthError::bad_request(
            "expired_token",
            "the request expired",
        ));
    }
    let too_soon = request.last_poll_ms != 0 && now < request.last_poll_ms + request.interval_ms;
    request.last_poll_ms = now;
    match request.decision {
        Decision::Pending if too_soon => {
            request.interval_ms += 5000;
            return Err(OAuthError::bad_request("slow_down", "poll less often"));
        }
        Decision::Pending => {
            return Err(OAuthError::bad_request(
                "authorization_pending",
                "the user has not answered yet",
            ));
        }
        Decision::Denied => {
            store.bank.ciba.remove(&id);
            return Err(OAuthError::bad_request(
                "access_denied",
                "the user denied the request",
            ));
        }
        Decision::Approved => {}
    }
    let Some(request) = store.bank.ciba.remove(&id) else {
        return Err(OAuthError::invalid_grant("unknown auth_req_id"));
    };
    let grant_id = store.add_grant(Grant {
        auth_time_s: Some(now / 1000),
        authorization_details: request.details,
        ..Grant::new(client, &request.subject, &request.scope, now)
    });
    mint(
        issuer,
        store,
        &grant_id,
        &request.scope,
        true,
        IdTokenWanted::Issue { nonce: None },
        now,
    )
}

/// `GET {bank}/ciba`: the sandbox user's phone — what each pending request asks, and buttons.
pub(crate) async fn page(State(issuer): State<Issuer>) -> Response {
    let now = now_ms();
    let store = issuer.store(now);
    let mut pending: Vec<(&String, &CibaRequest)> = store
        .bank
        .ciba
        .iter()
        .filter(|(_, r)| r.decision == Decision::Pending && now < r.expires_ms)
        .collect();
    pending.sort_by_key(|(_, r)| std::cmp::Reverse(r.at_ms));
    let action = issuer.endpoint(DECISION_PATH);
    let rows: String = pending
        .iter()
        .map(|(id, r)| {
            format!(
                "<li><p><strong>{app}</strong> asks <strong>{user}</strong> to approve{details}.</p>\
<p>Binding message: <code class=\"binding\">{binding}</code></p>\
<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
<button name=\"decision\" value=\"approve\">Approve</button> \
<button name=\"decision\" value=\"deny\">Deny</button></form></li>",
                app = escape(r.client.application_name),
                user = escape(&r.subject),
                details = r
                    .details
                    .as_ref()
                    .map(|d| format!(": <code>{}</code>", escape(&d.to_string())))
                    .unwrap_or_default(),
                binding = escape(r.binding_message.as_deref().unwrap_or("(none)")),
                action = escape(&action),
                id = escape(id),
            )
        })
        .collect();
    let body = if rows.is_empty() {
        "<h1>No pending requests</h1><p>Start a CIBA sign-in in TokenDesk, then reload.</p>"
            .to_owned()
    } else {
        format!("<h1>Approve on your phone</h1><ul>{rows}</ul>")
    };
    crate::pages::page(StatusCode::OK, "CIBA requests", &body)
}

/// `POST {bank}/ciba/decision`: `id` and `decision=approve|deny`.
pub(crate) async fn decide(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(params) = Params::from_form(&headers, &body) else {
        return crate::pages::error(StatusCode::BAD_REQUEST, "not a form");
    };
    let now = now_ms();
    let mut store = issuer.store(now);
    let found = params
        .get("id")
        .and_then(|id| store.bank.ciba.get_mut(id))
        .filter(|r| r.decision == Decision::Pending);
    let Some(request) = found else {
        return crate::pages::error(StatusCode::NOT_FOUND, "no such pending request");
    };
    request.decision = match params.get("decision") {
        Some("approve") => Decision::Approved,
        _ => Decision::Denied,
    };
    drop(store);
    Redirect::to(&issuer.endpoint(APPROVE_PATH)).into_response()
}
