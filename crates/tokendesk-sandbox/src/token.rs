//! `/token`: client credentials, authorization code (PKCE S256), refresh token (rotation), at
//! the bank the JWT-bearer grant ([`crate::bank::jwt_bearer`]), and at the FAPI issuer a DPoP
//! proof on every request ([`crate::fapi::dpop`]), the tokens bound to its key.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::bank;
use crate::client_auth;
use crate::clients::{DemoClient, JWT_BEARER};
use crate::fapi;
use crate::id_token::{self, IdToken};
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::pkce;
use crate::random;
use crate::state::{CodeUse, Grant, Issuer, Store, TokenRecord, now_ms};
use crate::style::{self, API_PRODUCT, Issued, IssuedRefresh, Style};

const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
const FAPI_GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token"];
const BANK_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    JWT_BEARER,
    bank::ciba::GRANT_TYPE,
];

/// The grant types the issuer of `style` takes at `/token`, in discovery order.
pub(crate) fn grant_types(style: Style) -> &'static [&'static str] {
    match style {
        Style::Standard | Style::Gateway => GRANT_TYPES,
        Style::Bank => BANK_GRANT_TYPES,
        Style::Fapi => FAPI_GRANT_TYPES,
    }
}

pub(crate) async fn token(
    State(issuer): State<Issuer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match exchange(&issuer, &headers, &body) {
        Ok(issued) => {
            tracing::info!(
                style = issuer.style.path(),
                client_id = issued.client.id,
                refresh_count = issued.refresh_count,
                "tokens issued"
            );
            style::token_response(issuer.style, &issued)
        }
        Err(error) => style::error_response(issuer.style, &error),
    }
}

fn exchange(issuer: &Issuer, headers: &HeaderMap, body: &[u8]) -> Result<Issued, OAuthError> {
    let params = Params::from_form(headers, body).map_err(OAuthError::invalid_request)?;
    // The FAPI issuer's proof first: a nonce asked for is answered by the same request sent
    // again, with the same client assertion, which must not have been used up yet.
    let dpop_jkt = match issuer.style {
        Style::Fapi => {
            let url = issuer.endpoint("/token");
            let expected = fapi::dpop::Expected {
                method: "POST",
                url: &url,
                access_token: None,
            };
            let jkt = fapi::dpop::require(issuer, headers, &expected, now_ms())
                .map_err(fapi::dpop::Refusal::into_oauth)?;
            Some(jkt)
        }
        Style::Standard | Style::Gateway | Style::Bank => None,
    };
    let client = client_auth::authenticate_at(issuer, headers, &params)?;
    let grant_type = params
        .require("grant_type")
        .map_err(OAuthError::invalid_request)?;
    let supported = grant_types(issuer.style);
    if !supported.contains(&grant_type) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{grant_type}` is not supported; use one of: {}",
            supported.join(", ")
        )));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "client {} may not use grant_type {grant_type}; it may use: {}",
            client.id,
            client.grant_types.join(", ")
        )));
    }
    let now = now_ms();
    let mut store = issuer.store(now);
    match grant_type {
        "client_credentials" => client_credentials(issuer, &mut store, client, &params, now),
        "authorization_code" => {
            authorization_code(issuer, &mut store, client, &params, dpop_jkt, now)
        }
        JWT_BEARER => bank::jwt_bearer::grant(issuer, &mut store, client, &params, now),
        bank::ciba::GRANT_TYPE => bank::ciba::grant(issuer, &mut store, client, &params, now),
        _ => refresh_token(issuer, &mut store, client, &params, dpop_jkt, now),
    }
}

fn client_credentials(
    issuer: &Issuer,
    store: &mut Store,
    client: &'static DemoClient,
    params: &Params,
    now: u64,
) -> Result<Issued, OAuthError> {
    let scope = client
        .grant_scopes(issuer.style, params.get("scope"))
        .map_err(OAuthError::invalid_scope)?;
    let grant_id = store.add_grant(Grant {
        authorization_details: bank::ciba::details(issuer, params)?,
        ..Grant::new(client, client.id, &scope, now)
    });
    // RFC 6749 §4.4.3: no refresh token for client credentials; the gateway sends one anyway.
    let with_refresh = issuer.style == Style::Gateway;
    mint(
        issuer,
        store,
        &grant_id,
        &scope,
        with_refresh,
        IdTokenWanted::Skip,
        now,
    )
}

/// `dpop_jkt`: the key of the request's DPoP proof (FAPI), which must be the one the code is
/// bound to, if it is bound.
fn authorization_code(
    issuer: &Issuer,
    store: &mut Store,
    client: &'static DemoClient,
    params: &Params,
    dpop_jkt: Option<String>,
    now: u64,
) -> Result<Issued, OAuthError> {
    let code_value = params
        .require("code")
        .map_err(OAuthError::invalid_request)?;
    let redirect_uri = params
        .require("redirect_uri")
        .map_err(OAuthError::invalid_request)?;
    let verifier = params
        .require("code_verifier")
        .map_err(|_| OAuthError::invalid_request("missing `code_verifier`: PKCE is required"))?;

    let unknown = || OAuthError::invalid_grant("unknown or expired authorization code");
    let code = store.codes.get_mut(code_value).ok_or_else(unknown)?;
    if code.style != issuer.style {
        return Err(unknown());
    }
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if let CodeUse::Used { grant_id } = &code.used {
        // RFC 6749 §4.1.2: a replayed code revokes what it produced.
        let grant_id = grant_id.clone();
        if let Some(grant_id) = grant_id {
            store.revoke_grant(&grant_id);
        }
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used; tokens issued from it are now revoked",
        ));
    }
    // Any redemption attempt by the right client uses the code up, successful or not.
    code.used = CodeUse::Used { grant_id: None };
    code.keep_until_ms = code
        .keep_until_ms
        .max(now.saturating_add(issuer.shared.ttls.refresh_ms));
    if now >= code.expires_ms {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired (codes live 60 s)",
        ));
    }
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the one sent to /authorize",
        ));
    }
    if !pkce::is_valid_verifier(verifier) {
        return Err(OAuthError::invalid_grant(
            "code_verifier is malformed: 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        ));
    }
    if !pkce::verifier_matches(verifier, &code.code_challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge (PKCE S256)",
        ));
    }
    if let Some(bound) = &code.dpop_jkt
        && dpop_jkt.as_ref() != Some(bound)
    {
        return Err(OAuthError::invalid_grant(
            "the authorization code is bound to another DPoP key (the dpop_jkt of the pushed \
             request): sign the proof with that key",
        ));
    }

    let grant_id = random::url_safe(16);
    code.used = CodeUse::Used {
        grant_id: Some(grant_id.clone()),
    };
    let scope = code.scope.clone();
    let nonce = code.nonce.clone();
    let grant = Grant {
        authorization_details: None,
        client,
        subject: code.subject.clone(),
        scope: scope.clone(),
        auth_time_s: Some(code.auth_time_s),
        refresh_count: 0,
        authorization_id: code.authorization_id.clone(),
        dpop_jkt,
        live_until_ms: now,
    };
    store.grants.insert(grant_id.clone(), grant);
    mint(
        issuer,
        store,
        &grant_id,
        &scope,
        true,
        IdTokenWanted::Issue { nonce },
        now,
    )
}

/// `dpop_jkt`: the key of the request's DPoP proof (FAPI), which the new access token is bound
/// to; the refresh token itself is not bound (a confidential client's, RFC 9449 §5).
fn refresh_token(
    issuer: &Issuer,
    store: &mut Store,
    client: &'static DemoClient,
    params: &Params,
    dpop_jkt: Option<String>,
    now: u64,
) -> Result<Issued, OAuthError> {
    let presented = params
        .require("refresh_token")
        .map_err(OAuthError::invalid_request)?;

    if let Some((grant_id, _)) = store.rotated.get(presented) {
        // Reuse of a rotated refresh token: someone holds a stolen copy (RFC 9700 §4.14.2).
        let grant_id = grant_id.clone();
        let owned_by_caller = store
            .grants
            .get(&grant_id)
            .is_some_and(|g| g.client.id == client.id);
        if owned_by_caller {
            store.revoke_grant(&grant_id);
        }
        return Err(OAuthError::invalid_grant(
            "the refresh token was already used (rotated); the grant is now revoked, sign in again",
        ));
    }
    let unknown = || OAuthError::invalid_grant("unknown, expired or revoked refresh token");
    let record = store.refresh.get(presented).ok_or_else(unknown)?;
    if record.style != issuer.style {
        return Err(unknown());
    }
    if record.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    let grant_id = record.grant_id.clone();
    let grant_scope = record.scope.clone();
    let scope = match params.get("scope") {
        None => grant_scope,
        Some(requested) => {
            let narrowed = client
                .grant_scopes(issuer.style, Some(requested))
                .map_err(OAuthError::invalid_scope)?;
            if let Some(extra) = narrowed.iter().find(|s| !grant_scope.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{extra}` was not granted originally; a refresh can only narrow the scope"
                )));
            }
            narrowed
        }
    };

    // Rotation: the presented token stops working, its reuse is remembered.
    if let Some(old) = store.refresh.remove(presented) {
        store
            .rotated
            .insert(presented.to_owned(), (grant_id.clone(), old.expires_ms));
    }
    let grant = store.grants.get_mut(&grant_id).ok_or_else(unknown)?;
    grant.refresh_count = grant.refresh_count.saturating_add(1);
    grant.dpop_jkt = dpop_jkt;
    // OIDC Core §12.2: a refresh may return a new ID token for the same user, without nonce.
    let id_token = if grant.auth_time_s.is_some() {
        IdTokenWanted::Issue { nonce: None }
    } else {
        IdTokenWanted::Skip
    };
    mint(issuer, store, &grant_id, &scope, true, id_token, now)
}

/// Whether a token response may carry an ID token (it does only when `openid` was granted).
pub(crate) enum IdTokenWanted {
    Skip,
    Issue { nonce: Option<String> },
}

/// Issues an access token (JWT in standard and FAPI style — bound to the grant's DPoP key at the
/// FAPI issuer — opaque in the others), optionally a refresh
/// token (with the grant's full scope) and an ID token, and records them under `grant_id`.
pub(crate) fn mint(
    issuer: &Issuer,
    store: &mut Store,
    grant_id: &str,
    scope: &[String],
    with_refresh: bool,
    id_token: IdTokenWanted,
    now: u64,
) -> Result<Issued, OAuthError> {
    let ttls = issuer.shared.ttls;
    let grant = store
        .grants
        .get(grant_id)
        .ok_or_else(|| OAuthError::invalid_grant("the grant was revoked"))?;
    let client = grant.client;
    let subject = grant.subject.clone();
    let grant_scope = grant.scope.clone();
    let refresh_count = grant.refresh_count;
    let auth_time_s = grant.auth_time_s;
    let authorization_id = grant.authorization_id.clone();
    let jkt = grant.dpop_jkt.clone();
    let authorization_details = grant.authorization_details.clone();
    let iat = now / 1000;
    let access_expires_ms = now.saturating_add(ttls.access_ms);

    let access_token = match issuer.style {
        Style::Standard => {
            let claims = json!({
                "iss": issuer.url(),
                "sub": subject,
                "aud": API_PRODUCT,
                "client_id": client.id,
                "scope": scope.join(" "),
                "iat": iat,
                "exp": access_expires_ms / 1000,
                "jti": random::url_safe(16),
            });
            issuer.shared.key.sign("at+jwt", &claims).map_err(|e| {
                OAuthError::server_error(format!("could not sign the access token: {e}"))
            })?
        }
        Style::Fapi => {
            let Some(jkt) = &jkt else {
                return Err(OAuthError::server_error(
                    "a FAPI access token needs the DPoP key it is bound to",
                ));
            };
            let claims = json!({
                "iss": issuer.url(),
                "sub": subject,
                "aud": API_PRODUCT,
                "client_id": client.id,
                "scope": scope.join(" "),
                "iat": iat,
                "exp": access_expires_ms / 1000,
                "jti": random::url_safe(16),
                "cnf": {"jkt": jkt},
            });
            issuer
                .shared
                .key
                .sign_with(issuer.style.signing_alg(), "at+jwt", &claims)
                .map_err(|e| {
                    OAuthError::server_error(format!("could not sign the access token: {e}"))
                })?
        }
        Style::Gateway | Style::Bank => random::alphanumeric(28),
    };

    let id_token = match id_token {
        IdTokenWanted::Issue { nonce } if scope.iter().any(|s| s == "openid") => {
            let token = id_token::sign(
                issuer,
                &IdToken {
                    client_id: client.id,
                    subject: &subject,
                    scope,
                    auth_time_s,
                    nonce: nonce.as_deref(),
                    authorization_id: authorization_id.as_deref(),
                    hashes: &[("at_hash", &access_token)],
                },
                now,
            )?;
            Some(token)
        }
        _ => None,
    };

    let record = |expires_ms: u64, scope: Vec<String>, jkt: Option<String>| TokenRecord {
        grant_id: grant_id.to_owned(),
        style: issuer.style,
        client_id: client.id,
        subject: subject.clone(),
        scope,
        issued_ms: now,
        expires_ms,
        jkt,
    };
    store.access.insert(
        access_token.clone(),
        record(access_expires_ms, scope.to_vec(), jkt.clone()),
    );
    store.keep_grant_until(grant_id, access_expires_ms);

    let refresh = if with_refresh {
        let token = match issuer.style {
            Style::Standard | Style::Bank | Style::Fapi => random::url_safe(32),
            Style::Gateway => random::alphanumeric(32),
        };
        let expires_ms = now.saturating_add(ttls.refresh_ms);
        store
            .refresh
            .insert(token.clone(), record(expires_ms, grant_scope, None));
        store.keep_grant_until(grant_id, expires_ms);
        Some(IssuedRefresh {
            token,
            issued_ms: now,
            expires_in_s: ttls.refresh_ms / 1000,
        })
    } else {
        None
    };

    Ok(Issued {
        client,
        access_token,
        issued_ms: now,
        expires_in_s: ttls.access_ms / 1000,
        scope: scope.to_vec(),
        refresh,
        refresh_count,
        id_token,
        authorization_details,
    })
}
