//! Discovery documents (OIDC Discovery 1.0, RFC 8414) and the JWKS.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::bank::ACR_VALUES;
use crate::clients::supported_scopes;
use crate::state::Issuer;
use crate::style::Style;
use crate::token::grant_types;

/// `{issuer}/.well-known/openid-configuration` and `{issuer}/.well-known/oauth-authorization-server`.
pub(crate) async fn metadata(State(issuer): State<Issuer>) -> Json<Value> {
    Json(document(&issuer))
}

/// `{base}/.well-known/oauth-authorization-server/{style}`: where RFC 8414 §3.1 looks for
/// the metadata of an issuer that has a path.
pub(crate) async fn metadata_by_path(
    State(shared): State<std::sync::Arc<crate::state::Shared>>,
    Path(segment): Path<String>,
) -> Response {
    match Style::ALL.into_iter().find(|s| s.path() == segment) {
        Some(style) => Json(document(&Issuer { shared, style })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "error": "not_found",
                "error_description": "the sandbox's issuers are /standard, /gateway, /bank and /fapi",
            })),
        )
            .into_response(),
    }
}

pub(crate) async fn jwks(State(issuer): State<Issuer>) -> Json<Value> {
    Json(issuer.shared.key.jwks(issuer.style.signing_alg()))
}

fn document(issuer: &Issuer) -> Value {
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    let mut doc = json!({
        "issuer": issuer.url(),
        "authorization_endpoint": issuer.endpoint("/authorize"),
        "token_endpoint": issuer.endpoint("/token"),
        "revocation_endpoint": issuer.endpoint("/revoke"),
        "introspection_endpoint": issuer.endpoint("/introspect"),
        "userinfo_endpoint": issuer.endpoint("/userinfo"),
        "jwks_uri": issuer.endpoint("/jwks"),
        "scopes_supported": supported_scopes(issuer.style),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types(issuer.style),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "service_documentation": format!("{}/", issuer.shared.base_url),
    });
    match issuer.style {
        Style::Bank => bank_rules(&mut doc),
        Style::Fapi => crate::fapi::discovery_rules(issuer, &mut doc),
        Style::Standard | Style::Gateway => {}
    }
    doc
}

/// What the bank asks beyond the others: signed request objects (PS256), the claims parameter,
/// `code id_token`, acr values, and `client_secret_post` only.
fn bank_rules(doc: &mut Value) {
    let methods = json!(["client_secret_post"]);
    let issuer = doc["issuer"].as_str().unwrap_or_default().to_owned();
    for (field, value) in [
        (
            "backchannel_authentication_endpoint",
            json!(format!("{issuer}{}", crate::bank::ciba::BACKCHANNEL_PATH)),
        ),
        (
            "backchannel_token_delivery_modes_supported",
            json!(["poll"]),
        ),
        ("backchannel_user_code_parameter_supported", json!(false)),
        (
            "authorization_details_types_supported",
            json!([crate::bank::ciba::DETAILS_TYPE]),
        ),
        ("response_types_supported", json!(["code id_token", "code"])),
        ("response_modes_supported", json!(["query", "fragment"])),
        ("token_endpoint_auth_methods_supported", methods.clone()),
        (
            "revocation_endpoint_auth_methods_supported",
            methods.clone(),
        ),
        ("introspection_endpoint_auth_methods_supported", methods),
        (
            "claims_supported",
            json!([
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "authorizationId"
            ]),
        ),
        ("claims_parameter_supported", json!(true)),
        ("acr_values_supported", json!(ACR_VALUES)),
        ("request_parameter_supported", json!(true)),
        ("require_signed_request_object", json!(true)),
        (
            "request_object_signing_alg_values_supported",
            json!(["PS256"]),
        ),
    ] {
        doc[field] = value;
    }
}
