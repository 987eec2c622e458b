//! `/authorize` (GET) and `/authorize/decision` (POST): the authorization-code front channel.
//!
//! Problems with the client or its redirect URI show an error page; every other problem is
//! sent back to the (validated) redirect URI as `error=…` with `state` and `iss` (RFC 9207).
//!
//! The bank reads the request from a signed request object ([`crate::bank::request_object`]),
//! signs in only for a registered authorization named in the claims request, and answers
//! `code id_token` in the fragment with an ID token carrying `c_hash` and `s_hash`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::bank;
use crate::clients::{self, DEMO_USER};
use crate::id_token::{self, IdToken};
use crate::pages;
use crate::params::Params;
use crate::pkce;
use crate::random;
use crate::state::{
    AuthorizationCode, CODE_TTL_MS, CodeUse, Issuer, PENDING_TTL_MS, PendingAuthorization, now_ms,
};
use crate::style::Style;

/// Where the answer goes: the query, or — when it carries an ID token — the fragment (OAuth 2.0
/// Multiple Response Type Encoding Practices §5), errors included.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
}

impl ResponseMode {
    fn of(response_type: Option<&str>) -> ResponseMode {
        match response_type {
            Some(rt) if rt.split(' ').any(|t| t == "id_token") => ResponseMode::Fragment,
            _ => ResponseMode::Query,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
        }
    }
}

/// `code id_token`, in either order.
fn is_code_id_token(response_type: &str) -> bool {
    let mut types: Vec<&str> = response_type.split(' ').filter(|t| !t.is_empty()).collect();
    types.sort_unstable();
    types == ["code", "id_token"]
}

/// GET `/authorize`: validates the request and shows the demo login.
pub(crate) async fn authorize(State(issuer): State<Issuer>, uri: Uri) -> Response {
    if issuer.style == Style::Fapi {
        return crate::fapi::par::authorize(&issuer, &uri);
    }
    let query = match Params::parse(uri.query().unwrap_or("").as_bytes()) {
        Ok(params) => params,
        Err(problem) => return pages::error(StatusCode::BAD_REQUEST, &problem),
    };
    // The bank's parameters come from the signed request object; one that does not verify is
    // refused once the redirect URI is known.
    let (params, request_object) = match issuer.style {
        Style::Bank => bank::request_object::open(&issuer, query, now_ms() / 1000),
        Style::Standard | Style::Gateway | Style::Fapi => (query, Ok(())),
    };
    let Some(client_id) = params.get("client_id") else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The request has no client_id parameter.",
        );
    };
    let Some(client) = clients::find(issuer.style, client_id) else {
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
    let response_type = params.get("response_type");
    let mode = ResponseMode::of(response_type);
    let back = |code: &str, description: &str| {
        redirect(
            StatusCode::FOUND,
            &issuer,
            redirect_uri,
            mode,
            &[("error", code), ("error_description", description)],
            state,
        )
    };
    if let Err((code, why)) = &request_object {
        return back(code, why);
    }
    let bank = issuer.style == Style::Bank;
    let hybrid = match response_type {
        Some("code") => false,
        Some(rt) if bank && is_code_id_token(rt) => true,
        Some(other) => {
            let supported = if bank {
                "`code id_token` or `code`"
            } else {
                "`code`"
            };
            return back(
                "unsupported_response_type",
                &format!("response_type `{other}` is not supported; use {supported}"),
            );
        }
        None => {
            return back(
                "invalid_request",
                "missing required parameter `response_type`",
            );
        }
    };
    if !bank && (params.get("request").is_some() || params.get("request_uri").is_some()) {
        return back(
            "request_not_supported",
            "this issuer does not accept request objects; send plain query parameters",
        );
    }
    if params
        .get("response_mode")
        .is_some_and(|m| m != mode.as_str())
    {
        return back(
            "invalid_request",
            &format!(
                "only response_mode={} is supported for this response type",
                mode.as_str()
            ),
        );
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
    let scope = match client.grant_scopes(issuer.style, params.get("scope")) {
        Ok(scope) => scope,
        Err(problem) => return back("invalid_scope", &problem),
    };
    let nonce = params.get("nonce");
    if hybrid && (nonce.is_none() || !scope.iter().any(|s| s == "openid")) {
        return back(
            "invalid_request",
            "response_type `code id_token` needs the openid scope and a nonce (OIDC Core §3.3.2.11)",
        );
    }
    let authorization_id = if bank {
        match registered_authorization(&issuer, client.id, params.get("claims")) {
            Ok(id) => Some(id),
            Err(problem) => return back("invalid_request", &problem),
        }
    } else {
        None
    };

    let pending = PendingAuthorization {
        style: issuer.style,
        client,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: state.map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        hybrid,
        authorization_id,
        dpop_jkt: None,
        expires_ms: now_ms().saturating_add(PENDING_TTL_MS),
    };
    show_login(&issuer, pending)
}

/// Keeps a checked authorization request until Approve or Deny and shows its login page.
pub(crate) fn show_login(issuer: &Issuer, pending: PendingAuthorization) -> Response {
    let request_id = random::url_safe(24);
    let page = pages::login(
        &issuer.endpoint("/authorize/decision"),
        &request_id,
        pending.client,
        &pending.scope,
        &pending.redirect_uri,
    );
    let client_id = pending.client.id;
    issuer.store(now_ms()).pending.insert(request_id, pending);
    tracing::info!(style = issuer.style.path(), client_id, "login page shown");
    page
}

/// The bank signs in for a registered authorization only: the one the claims request names.
fn registered_authorization(
    issuer: &Issuer,
    client_id: &str,
    claims: Option<&str>,
) -> Result<String, String> {
    let id = bank::requested_authorization_id(claims)?;
    if issuer
        .store(now_ms())
        .bank
        .authorization(&id, client_id)
        .is_none()
    {
        return Err(format!(
            "unknown authorizationId \"{id}\": register a consent or a payment first"
        ));
    }
    Ok(id)
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

    let mode = if pending.hybrid {
        ResponseMode::Fragment
    } else {
        ResponseMode::Query
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
            mode,
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
            scope: pending.scope.clone(),
            nonce: pending.nonce.clone(),
            subject: DEMO_USER.sub.to_owned(),
            auth_time_s: now / 1000,
            authorization_id: pending.authorization_id.clone(),
            dpop_jkt: pending.dpop_jkt.clone(),
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
    let mut answer = vec![("code", code.clone())];
    if pending.hybrid {
        // The front-channel ID token: what the client checks before it redeems the code.
        let mut hashes = vec![("c_hash", code.as_str())];
        if let Some(state) = &pending.state {
            hashes.push(("s_hash", state));
        }
        let signed = id_token::sign(
            &issuer,
            &IdToken {
                client_id: pending.client.id,
                subject: DEMO_USER.sub,
                scope: &pending.scope,
                auth_time_s: Some(now / 1000),
                nonce: pending.nonce.as_deref(),
                authorization_id: pending.authorization_id.as_deref(),
                hashes: &hashes,
            },
            now,
        );
        match signed {
            Ok(token) => answer.push(("id_token", token)),
            Err(e) => return pages::error(StatusCode::INTERNAL_SERVER_ERROR, &e.description),
        }
    }
    let pairs: Vec<(&str, &str)> = answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
    redirect(
        StatusCode::SEE_OTHER,
        &issuer,
        &pending.redirect_uri,
        mode,
        &pairs,
        pending.state.as_deref(),
    )
}

/// Redirects to an already validated redirect URI with `pairs`, `state` and `iss` appended
/// to its query, or put in its fragment.
fn redirect(
    status: StatusCode,
    issuer: &Issuer,
    redirect_uri: &str,
    mode: ResponseMode,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "The redirect_uri cannot be parsed.",
        );
    };
    let iss = issuer.url();
    let all = pairs
        .iter()
        .copied()
        .chain(state.map(|s| ("state", s)))
        .chain([("iss", iss.as_str())]);
    match mode {
        ResponseMode::Query => {
            url.query_pairs_mut().extend_pairs(all);
        }
        ResponseMode::Fragment => {
            let fragment = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(all)
                .finish();
            url.set_fragment(Some(&fragment));
        }
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
