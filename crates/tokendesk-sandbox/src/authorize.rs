//! `/authorize` (GET) and `/authorize/decision` (POST): the authorization-code front channel.
//!
//! Problems with the client or its redirect URI show an error page; every other problem is
//! sent back to the (validated) redirect URI as `error=…` with `state` and `iss` (RFC 9207).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::clients::{self, DEMO_USER};
use crate::pages;
use crate::params::Params;
use crate::pkce;
use crate::random;
use crate::state::{
    AuthorizationCode, CODE_TTL_MS, CodeUse, Issuer, PENDING_TTL_MS, PendingAuthorization, now_ms,
};

/// GET `/authorize`: validates the request and shows the demo login.
pub(crate) async fn authorize(State(issuer): State<Issuer>, uri: Uri) -> Response {
    let params = match Params::parse(uri.query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(problem) => return pages::error(StatusCode::BAD_REQUEST, &problem),
    };
    let Some(client_id) = params.get("client_id") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The request has no client_id parameter.",
        );
    };
    let Some(client) = clients::find(client_id) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!("Unknown client_id `{client_id}`."),
        );
    };
    if !client.allows_grant("authorization_code") {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Client {} may not use the authorization code flow (it is a client-credentials client).",
                client.id
            ),
        );
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The request has no redirect_uri parameter.",
        );
    };
    if !client.accepts_redirect_uri(redirect_uri) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            &format!(
                "redirect_uri `{redirect_uri}` is not allowed: the sandbox clients accept only loopback \
                 http URIs (http://127.0.0.1:PORT/…, http://[::1]:PORT/…, http://localhost:PORT/…) without a fragment."
            ),
        );
    }

    // From here on, errors go back to the client.
    let state = params.get("state");
    let back = |code: &str, description: &str| {
        redirect(
            StatusCode::FOUND,
            &issuer,
            redirect_uri,
            &[("error", code), ("error_description", description)],
            state,
        )
    };
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => {
            return back(
                "unsupported_response_type",
                &format!("response_type `{other}` is not supported; use `code`"),
            );
        }
        None => {
            return back(
                "invalid_request",
                "missing required parameter `response_type`",
            );
        }
    }
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return back(
            "request_not_supported",
            "the sandbox does not accept request objects; send plain query parameters",
        );
    }
    if params
        .get("response_mode")
        .is_some_and(|mode| mode != "query")
    {
        return back("invalid_request", "only response_mode=query is supported");
    }
    let Some(code_challenge) = params.get("code_challenge") else {
        return back(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        );
    };
    match params.get("code_challenge_method") {
        Some("S256") => {}
        Some("plain") => {
            return back(
                "invalid_request",
                "code_challenge_method=plain is not accepted; use S256",
            );
        }
        Some(other) => {
            return back(
                "invalid_request",
                &format!("code_challenge_method `{other}` is not supported; use S256"),
            );
        }
        None => {
            return back(
                "invalid_request",
                "code_challenge_method is required and must be S256 (plain is the default and is not accepted)",
            );
        }
    }
    if !pkce::is_valid_s256_challenge(code_challenge) {
        return back(
            "invalid_request",
            "code_challenge must be base64url(SHA-256(code_verifier)) without padding: 43 characters",
        );
    }
    let scope = match client.grant_scopes(params.get("scope")) {
        Ok(scope) => scope,
        Err(problem) => return back("invalid_scope", &problem),
    };

    let request_id = random::url_safe(24);
    let pending = PendingAuthorization {
        style: issuer.style,
        client,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state.map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        expires_ms: now_ms().saturating_add(PENDING_TTL_MS),
    };
    let page = pages::login(
        &issuer.endpoint("/authorize/decision"),
        &request_id,
        client,
        &pending.scope,
        redirect_uri,
    );
    issuer.store(now_ms()).pending.insert(request_id, pending);
    tracing::info!(
        style = issuer.style.path(),
        client_id = client.id,
        "login page shown"
    );
    page
}

/// POST `/authorize/decision`: Approve issues a code, Deny sends `access_denied`.
pub(crate) async fn decision(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match Params::from_form(&headers, &body) {
        Ok(params) => params,
        Err(problem) => return pages::error(StatusCode::BAD_REQUEST, &problem),
    };
    let Some(request_id) = params.get("request_id") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The form has no request_id: open the sign-in page from the app again.",
        );
    };
    let approve = match params.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "The form must send decision=approve or decision=deny.",
            );
        }
    };

    let now = now_ms();
    let mut store = issuer.store(now);
    let pending = match store.pending.remove(request_id) {
        Some(p) if p.style == issuer.style => p,
        Some(p) => {
            // Wrong issuer: put it back untouched.
            store.pending.insert(request_id.to_owned(), p);
            return pages::error(
                StatusCode::BAD_REQUEST,
                "This sign-in request belongs to the other sandbox issuer.",
            );
        }
        None => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "This sign-in request is unknown, was already answered, or has expired (10 minutes).",
            );
        }
    };

    if !approve {
        drop(store);
        tracing::info!(
            style = issuer.style.path(),
            client_id = pending.client.id,
            "login denied"
        );
        return redirect(
            StatusCode::SEE_OTHER,
            &issuer,
            &pending.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the demo user denied the request"),
            ],
            pending.state.as_deref(),
        );
    }

    let code = random::url_safe(32);
    store.codes.insert(
        code.clone(),
        AuthorizationCode {
            style: issuer.style,
            client_id: pending.client.id,
            redirect_uri: pending.redirect_uri.clone(),
            code_challenge: pending.code_challenge,
            scope: pending.scope,
            nonce: pending.nonce,
            subject: DEMO_USER.sub.to_owned(),
            auth_time_s: now / 1000,
            expires_ms: now.saturating_add(CODE_TTL_MS),
            keep_until_ms: now.saturating_add(CODE_TTL_MS),
            used: CodeUse::Fresh,
        },
    );
    drop(store);
    tracing::info!(
        style = issuer.style.path(),
        client_id = pending.client.id,
        "login approved, code issued"
    );
    redirect(
        StatusCode::SEE_OTHER,
        &issuer,
        &pending.redirect_uri,
        &[("code", &code)],
        pending.state.as_deref(),
    )
}

/// Redirects to an already validated redirect URI with `pairs`, `state` and `iss` appended
/// to its query.
fn redirect(
    status: StatusCode,
    issuer: &Issuer,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The redirect_uri cannot be parsed.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &issuer.url());
    }
    let mut response = crate::style::no_store(status, ().into_response());
    match url.as_str().parse() {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => pages::error(
            StatusCode::BAD_REQUEST,
            "The redirect_uri cannot be used in a Location header.",
        ),
    }
}
