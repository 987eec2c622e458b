//! Pushed authorization requests (RFC 9126) at the FAPI issuer: `POST {fapi}/par` checks the
//! authorization request up front — the client (private_key_jwt), `response_type=code`, the
//! redirect URI, PKCE S256, the scope, and the DPoP key the code will be bound to — and answers a
//! single-use `request_uri`; `GET {fapi}/authorize` then takes `client_id` and that
//! `request_uri`, nothing else.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::registry::{PushedRequest, REQUEST_URI_TTL_S};
use super::{PAR_PATH, assertion, dpop};
use crate::authorize;
use crate::oauth_error::OAuthError;
use crate::pages;
use crate::params::Params;
use crate::pkce;
use crate::state::{Issuer, PENDING_TTL_MS, PendingAuthorization, now_ms};
use crate::style;

/// POST `{fapi}/par`.
pub(crate) async fn push(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match pushed(&issuer, &headers, &body) {
        Ok(request_uri) => {
            tracing::info!(style = issuer.style.path(), "authorization request pushed");
            style::no_store(
                StatusCode::CREATED,
                Json(json!({
                    "request_uri": request_uri,
                    "expires_in": REQUEST_URI_TTL_S,
                }))
                .into_response(),
            )
        }
        Err(error) => style::error_response(issuer.style, &error),
    }
}

fn pushed(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<String, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    let now = now_ms();
    // The proof first: a nonce asked for is answered by the same request sent again, with the
    // same client assertion, which must not have been used up yet.
    let proof_jkt = match dpop::header(headers).map_err(dpop::Refusal::into_oauth)? {
        Some(proof) => {
            let url = issuer.endpoint(PAR_PATH);
            let expected = dpop::Expected {
                method: "POST",
                url: &url,
                access_token: None,
            };
            Some(dpop::check(issuer, proof, &expected, now).map_err(dpop::Refusal::into_oauth)?)
        }
        None => None,
    };
    let client = assertion::authenticate(issuer, headers, &params)?;
    if params.get("request_uri").is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be sent to the PAR endpoint: it is what the endpoint answers \
             (RFC 9126 §2.1)",
        ));
    }
    if params.get("request").is_some() {
        return Err(OAuthError::invalid_request(
            "this issuer takes the authorization request as plain form parameters at PAR, not \
             as a request object",
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::unsupported_response_type(format!(
                "response_type `{other}` is not supported; FAPI 2.0 uses `code`"
            )));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "missing required parameter `response_type` (code)",
            ));
        }
    }
    if let Some(mode) = params.get("response_mode")
        && mode != "query"
    {
        return Err(OAuthError::invalid_request(format!(
            "response_mode `{mode}` is not supported; this issuer answers in the query"
        )));
    }
    let redirect_uri = params
        .require("redirect_uri")
        .map_err(OAuthError::invalid_request)?;
    if !client.accepts_redirect_uri(redirect_uri) {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri `{redirect_uri}` is not allowed: the sandbox clients accept only \
             loopback http URIs (http://127.0.0.1:PORT/…, http://[::1]:PORT/…, \
             http://localhost:PORT/…) without a fragment"
        )));
    }
    let code_challenge = params.get("code_challenge").ok_or_else(|| {
        OAuthError::invalid_request(
            "PKCE is required (FAPI 2.0): send code_challenge with code_challenge_method=S256",
        )
    })?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(format!(
            "code_challenge_method must be S256, got {}",
            params
                .get("code_challenge_method")
                .unwrap_or("none (plain)")
        )));
    }
    if !pkce::is_valid_s256_challenge(code_challenge) {
        return Err(OAuthError::invalid_request(
            "code_challenge must be base64url(SHA-256(code_verifier)) without padding: 43 \
             characters",
        ));
    }
    let scope = client
        .grant_scopes(issuer.style, params.get("scope"))
        .map_err(OAuthError::invalid_scope)?;
    let dpop_jkt = match (params.get("dpop_jkt"), proof_jkt) {
        (Some(named), Some(proved)) if named != proved => {
            return Err(OAuthError::invalid_dpop_proof(
                "dpop_jkt names another key than the one the request's DPoP proof is signed with",
            ));
        }
        (Some(named), _) => Some(named.to_owned()),
        (None, proved) => proved,
    };
    let request = PushedRequest {
        client,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        dpop_jkt,
        expires_ms: now.saturating_add(REQUEST_URI_TTL_S * 1000),
    };
    Ok(issuer.store(now).fapi.push(request))
}

/// GET `{fapi}/authorize`: `client_id` and a pushed `request_uri`, nothing else; the pushed
/// request is used up and its login page shown. Every problem is an error page: nothing in
/// the address is trusted enough to redirect to.
pub(crate) fn authorize(issuer: &Issuer, uri: &Uri) -> Response {
    let params = match Params::parse(uri.query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(problem) => return pages::error(StatusCode::BAD_REQUEST, &problem),
    };
    let par = issuer.endpoint(PAR_PATH);
    let extra = params.names_except(&["client_id", "request_uri"]);
    if !extra.is_empty() {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "This issuer (FAPI 2.0) takes only client_id and request_uri at /authorize; the \
                 request also has: {}. Push the authorization request to {par} first and open \
                 /authorize with the request_uri it answers.",
                extra.join(", ")
            ),
        );
    }
    let (Some(client_id), Some(request_uri)) = (params.get("client_id"), params.get("request_uri"))
    else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "This issuer (FAPI 2.0) needs pushed authorization requests: POST the request to \
                 {par}, then open /authorize with client_id and the request_uri it answers."
            ),
        );
    };
    let now = now_ms();
    let Some(pushed) = issuer.store(now).fapi.take(request_uri) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The request_uri is unknown, was used already, or has expired (60 s): push the \
             authorization request again.",
        );
    };
    if pushed.client.id != client_id {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "The request_uri was pushed by client {}, not {client_id}.",
                pushed.client.id
            ),
        );
    }
    authorize::show_login(
        issuer,
        PendingAuthorization {
            style: issuer.style,
            client: pushed.client,
            redirect_uri: pushed.redirect_uri,
            scope: pushed.scope,
            state: pushed.state,
            nonce: pushed.nonce,
            code_challenge: pushed.code_challenge,
            hybrid: false,
            authorization_id: None,
            dpop_jkt: pushed.dpop_jkt,
            expires_ms: now.saturating_add(PENDING_TTL_MS),
        },
    )
}
