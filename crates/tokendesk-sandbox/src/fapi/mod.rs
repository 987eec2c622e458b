//! `{base}/fapi`: "Sandbox FAPI 2.0", an authorization server held to the FAPI 2.0 Security
//! Profile, for its one client [`crate::FAPI_CLIENT`]. **Demo only.** What it asks:
//!
//! * pushed authorization requests (RFC 9126, [`par`]): the parameters go to `{fapi}/par` over a
//!   client-authenticated POST and come back as a single-use `request_uri` (60 s); `/authorize`
//!   takes `client_id` and `request_uri` and nothing else; PKCE S256 always;
//! * `private_key_jwt` only ([`assertion`]), the assertion signed PS256 by the client's registered
//!   key ([`crate::Sandbox::fapi_client_key_pem`]) with the issuer identifier — and nothing else —
//!   as `aud` (FAPI 2.0 §5.3.2.1);
//! * DPoP (RFC 9449, [`dpop`]) at the token endpoint and at userinfo: proofs checked for real
//!   (typ, ES256 or EdDSA, the signature with the embedded key, htm, htu, iat, single-use jti,
//!   ath), a server nonce demanded the way oidc-provider's `requireNonce` does; the code bound to
//!   the key named at PAR (`dpop_jkt`, or the PAR request's own proof), and every access token
//!   bound to the key of its token request: `token_type: "DPoP"`, a JWT with `cnf.jkt`;
//! * `iss` in the authorization response (RFC 9207), ID tokens and access tokens signed PS256.
//!
//! Refresh tokens are not DPoP-bound: this client is confidential, and RFC 9449 §5 binds a
//! confidential client's refresh token to its client authentication instead. A refresh still
//! needs a proof; the new access token is bound to its key.

pub(crate) mod assertion;
pub(crate) mod dpop;
pub(crate) mod par;
mod registry;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};

pub(crate) use registry::Registry;

use crate::state::Issuer;

/// The `kid` of the FAPI client's key: its assertions may name it.
pub const FAPI_CLIENT_KID: &str = "sandbox-fapi-client-rsa";
/// The DPoP proof algorithms the FAPI issuer accepts, in discovery order.
pub(crate) const DPOP_ALGS: &[&str] = &["ES256", "EdDSA"];
/// Where the pushed authorization requests go.
pub(crate) const PAR_PATH: &str = "/par";

/// The routes only the FAPI issuer has.
pub(crate) fn routes() -> Router<Issuer> {
    Router::new().route(PAR_PATH, post(par::push))
}

/// What FAPI 2.0 changes in the discovery document.
pub(crate) fn discovery_rules(issuer: &Issuer, doc: &mut Value) {
    let methods = json!(["private_key_jwt"]);
    let signing = json!(["PS256", "ES256"]);
    for (field, value) in [
        (
            "pushed_authorization_request_endpoint",
            json!(issuer.endpoint(PAR_PATH)),
        ),
        ("require_pushed_authorization_requests", json!(true)),
        ("dpop_signing_alg_values_supported", json!(DPOP_ALGS)),
        ("token_endpoint_auth_methods_supported", methods.clone()),
        (
            "token_endpoint_auth_signing_alg_values_supported",
            signing.clone(),
        ),
        (
            "revocation_endpoint_auth_methods_supported",
            methods.clone(),
        ),
        (
            "revocation_endpoint_auth_signing_alg_values_supported",
            signing.clone(),
        ),
        ("introspection_endpoint_auth_methods_supported", methods),
        (
            "introspection_endpoint_auth_signing_alg_values_supported",
            signing,
        ),
        ("id_token_signing_alg_values_supported", json!(["PS256"])),
        ("response_types_supported", json!(["code"])),
        ("response_modes_supported", json!(["query"])),
        ("code_challenge_methods_supported", json!(["S256"])),
        (
            "authorization_response_iss_parameter_supported",
            json!(true),
        ),
    ] {
        doc[field] = value;
    }
}
