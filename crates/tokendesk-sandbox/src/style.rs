//! The response styles (one per issuer) and how each one shapes token responses and errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::clients::DemoClient;
use crate::oauth_error::OAuthError;

/// How an issuer answers at its token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// RFC 6749 / OIDC: JWT access tokens, `token_type: "Bearer"`, numbers as numbers.
    Standard,
    /// An Apigee-based bank API gateway: opaque tokens, `token_type: "BearerToken"`, every
    /// number a JSON string, epoch milliseconds, `refresh_count`, `status`, API products, and
    /// `{"ErrorCode": …, "Error": …}` error bodies.
    Gateway,
    /// A PSD2 bank in the manner of OP Financial Group (see [`crate::bank`]): RFC 6749 bodies
    /// with opaque access tokens, for its one TPP client only, behind the bank's rules —
    /// `x-api-key`, signed request objects, `code id_token`, registered authorizations.
    Bank,
    /// A FAPI 2.0 Security Profile server (see [`crate::fapi`]): RFC 6749 bodies with
    /// `token_type: "DPoP"` and JWT access tokens bound to the DPoP key (`cnf.jkt`), for its one
    /// client only — PAR, PKCE S256, `private_key_jwt`, DPoP with nonces.
    Fapi,
}

impl Style {
    /// Every style, in the order they are listed.
    pub const ALL: [Style; 4] = [Style::Standard, Style::Gateway, Style::Bank, Style::Fapi];

    /// The path segment of the issuer: `standard`, `gateway`, `bank` or `fapi`.
    pub fn path(self) -> &'static str {
        match self {
            Style::Standard => "standard",
            Style::Gateway => "gateway",
            Style::Bank => "bank",
            Style::Fapi => "fapi",
        }
    }

    /// What the issuer signs its ID tokens and JWT access tokens with: FAPI 2.0 §5.4 allows
    /// PS256, ES256 and EdDSA only, so its issuer signs PS256 (the same RSA key); the others RS256.
    pub(crate) fn signing_alg(self) -> jsonwebtoken::Algorithm {
        match self {
            Style::Fapi => jsonwebtoken::Algorithm::PS256,
            Style::Standard | Style::Gateway | Style::Bank => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// The header that hands out a DPoP nonce (RFC 9449 §8).
pub(crate) const DPOP_NONCE: &str = "dpop-nonce";

/// The API product the gateway style pretends every client is subscribed to.
pub(crate) const API_PRODUCT: &str = "sandbox-accounts";
const ORGANIZATION: &str = "tokendesk-sandbox";

/// What one successful `/token` call issued, before it is shaped into a style.
pub(crate) struct Issued {
    pub client: &'static DemoClient,
    pub access_token: String,
    pub issued_ms: u64,
    pub expires_in_s: u64,
    pub scope: Vec<String>,
    pub refresh: Option<IssuedRefresh>,
    pub refresh_count: u32,
    pub id_token: Option<String>,
    /// The authorization details granted (RFC 9396 §7), if the grant has any.
    pub authorization_details: Option<serde_json::Value>,
}

pub(crate) struct IssuedRefresh {
    pub token: String,
    pub issued_ms: u64,
    pub expires_in_s: u64,
}

/// A 200 token response in the issuer's style, never cached (RFC 6749 §5.1).
pub(crate) fn token_response(style: Style, issued: &Issued) -> Response {
    let body = match style {
        Style::Standard | Style::Bank => standard_body(issued),
        Style::Fapi => {
            let mut body = standard_body(issued);
            // Every FAPI access token is bound to the DPoP key of the request (RFC 9449 §5).
            body["token_type"] = json!("DPoP");
            body
        }
        Style::Gateway => gateway_body(issued),
    };
    no_store(StatusCode::OK, axum::Json(body).into_response())
}

fn standard_body(issued: &Issued) -> Value {
    let mut body = Map::new();
    body.insert("access_token".into(), json!(issued.access_token));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(issued.expires_in_s));
    if !issued.scope.is_empty() {
        body.insert("scope".into(), json!(issued.scope.join(" ")));
    }
    if let Some(refresh) = &issued.refresh {
        body.insert("refresh_token".into(), json!(refresh.token));
        body.insert(
            "refresh_token_expires_in".into(),
            json!(refresh.expires_in_s),
        );
    }
    if let Some(details) = &issued.authorization_details {
        body.insert("authorization_details".into(), details.clone());
    }
    if let Some(id_token) = &issued.id_token {
        body.insert("id_token".into(), json!(id_token));
    }
    Value::Object(body)
}

/// Field order and spelling follow what Apigee-based gateways send.
fn gateway_body(issued: &Issued) -> Value {
    let mut body = Map::new();
    if let Some(refresh) = &issued.refresh {
        body.insert(
            "refresh_token_expires_in".into(),
            json!(refresh.expires_in_s.to_string()),
        );
    }
    body.insert("api_product_list".into(), json!(format!("[{API_PRODUCT}]")));
    body.insert("api_product_list_json".into(), json!([API_PRODUCT]));
    body.insert("organization_name".into(), json!(ORGANIZATION));
    body.insert("token_type".into(), json!("BearerToken"));
    body.insert("issued_at".into(), json!(issued.issued_ms.to_string()));
    body.insert("client_id".into(), json!(issued.client.id));
    body.insert("access_token".into(), json!(issued.access_token));
    body.insert(
        "application_name".into(),
        json!(issued.client.application_name),
    );
    body.insert("scope".into(), json!(issued.scope.join(" ")));
    body.insert("expires_in".into(), json!(issued.expires_in_s.to_string()));
    body.insert(
        "refresh_count".into(),
        json!(issued.refresh_count.to_string()),
    );
    body.insert("status".into(), json!("approved"));
    if let Some(refresh) = &issued.refresh {
        body.insert("refresh_token".into(), json!(refresh.token));
        body.insert(
            "refresh_token_issued_at".into(),
            json!(refresh.issued_ms.to_string()),
        );
        body.insert("refresh_token_status".into(), json!("approved"));
    }
    if let Some(id_token) = &issued.id_token {
        body.insert("id_token".into(), json!(id_token));
    }
    Value::Object(body)
}

/// An error response in the issuer's style. `invalid_client` answers 401 with
/// `WWW-Authenticate: Basic`; an error that hands out a DPoP nonce carries it in `DPoP-Nonce`.
pub(crate) fn error_response(style: Style, error: &OAuthError) -> Response {
    tracing::info!(style = style.path(), error = error.code, description = %error.description, "request refused");
    let body = match style {
        Style::Standard | Style::Bank | Style::Fapi => json!({
            "error": error.code,
            "error_description": error.description,
        }),
        Style::Gateway => json!({
            "ErrorCode": error.code,
            "Error": gateway_message(error),
        }),
    };
    let mut response = no_store(error.status, axum::Json(body).into_response());
    if error.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tokendesk-sandbox\""),
        );
    }
    if let Some(nonce) = error.dpop_nonce.as_deref()
        && let Ok(value) = HeaderValue::from_str(nonce)
    {
        response.headers_mut().insert(DPOP_NONCE, value);
    }
    response
}

/// Apigee's terse messages where it has a well-known one, the detailed description otherwise.
fn gateway_message(error: &OAuthError) -> String {
    match error.code {
        "invalid_client" => "ClientId is Invalid".to_owned(),
        _ => error.description.clone(),
    }
}

pub(crate) fn no_store(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
