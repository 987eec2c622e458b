//! OpenID Connect discovery and RFC 8414 authorization-server metadata.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use url::Url;

use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::ident;
use crate::json_object;
use crate::profile::Endpoint;

/// What a provider says about itself. `raw` keeps the whole document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    /// RFC 9126.
    pub pushed_authorization_request_endpoint: Option<String>,
    pub require_pushed_authorization_requests: bool,
    /// RFC 8628.
    pub device_authorization_endpoint: Option<String>,
    /// OpenID CIBA.
    #[ts(optional = nullable)]
    pub backchannel_authentication_endpoint: Option<String>,
    /// RFC 9207: the provider puts `iss` in authorization responses, so we require it.
    pub authorization_response_iss_parameter_supported: bool,
    pub code_challenge_methods_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    /// RFC 9449: the algorithms the provider accepts in DPoP proofs (it supports DPoP).
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Where the document came from.
    pub source_url: String,
    /// What discovery noticed and the user should know (an issuer typed with another trailing
    /// slash than the provider's own, which is what every check then uses).
    pub notes: Vec<String>,
    pub fetched_at: i64,
    pub raw: Value,
}

impl ProviderMetadata {
    pub fn endpoint(&self, which: Endpoint) -> Option<&str> {
        match which {
            Endpoint::Authorization => self.authorization_endpoint.as_deref(),
            Endpoint::Token => self.token_endpoint.as_deref(),
            Endpoint::Revocation => self.revocation_endpoint.as_deref(),
            Endpoint::Introspection => self.introspection_endpoint.as_deref(),
            Endpoint::Userinfo => self.userinfo_endpoint.as_deref(),
            Endpoint::Jwks => self.jwks_uri.as_deref(),
            Endpoint::PushedAuthorization => self.pushed_authorization_request_endpoint.as_deref(),
            Endpoint::DeviceAuthorization => self.device_authorization_endpoint.as_deref(),
            Endpoint::BackchannelAuthentication => {
                self.backchannel_authentication_endpoint.as_deref()
            }
        }
    }

    /// The endpoint a client with a TLS certificate uses instead, when the provider lists one
    /// in `mtls_endpoint_aliases` (RFC 8705 §5).
    pub fn mtls_alias(&self, which: Endpoint) -> Option<&str> {
        let key = match which {
            Endpoint::Token => "token_endpoint",
            Endpoint::Revocation => "revocation_endpoint",
            Endpoint::Introspection => "introspection_endpoint",
            Endpoint::Userinfo => "userinfo_endpoint",
            Endpoint::PushedAuthorization => "pushed_authorization_request_endpoint",
            Endpoint::DeviceAuthorization => "device_authorization_endpoint",
            Endpoint::BackchannelAuthentication => "backchannel_authentication_endpoint",
            Endpoint::Authorization | Endpoint::Jwks => return None,
        };
        self.raw.get("mtls_endpoint_aliases")?.get(key)?.as_str()
    }

    /// The metadata in a discovery document; an error names the member that is wrong.
    pub fn from_document(doc: Value, source_url: String, fetched_at: i64) -> Result<Self> {
        let Value::Object(object) = &doc else {
            return Err(bad_document(&source_url, "it is not a JSON object"));
        };
        let mut meta: ProviderMetadata = json_object::read(object).map_err(|e| {
            bad_document(
                &source_url,
                &format!("its member \"{}\" is wrong ({})", e.member, e.why),
            )
        })?;
        meta.source_url = source_url;
        meta.fetched_at = fetched_at;
        meta.raw = doc;
        Ok(meta)
    }
}

fn bad_document(url: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::BadResponse,
        format!("The discovery document at {url} is not usable: {why}."),
    )
}

/// Where to look for metadata, in order: OIDC discovery (issuer + path), then RFC 8414
/// (well-known inserted before the issuer's path).
pub fn candidate_urls(issuer: &str) -> Result<Vec<String>> {
    // Only an http(s) issuer without query or fragment: "mailto:x" gave the candidate
    // "null/.well-known/…" (an opaque origin), which failed later as an internal error.
    crate::profile::check_issuer(issuer).map_err(|m| Error::invalid_field("issuer", m))?;
    let url = Url::parse(issuer)
        .map_err(|e| Error::invalid_field("issuer", format!("\"{issuer}\" is not a URL ({e}).")))?;
    let trimmed = issuer.trim_end_matches('/');
    let mut out = vec![format!("{trimmed}/.well-known/openid-configuration")];
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    out.push(format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    ));
    if !path.is_empty() {
        out.push(format!("{origin}/.well-known/openid-configuration{path}"));
    }
    Ok(out)
}

/// Fetches and checks the provider metadata for `issuer`. `template`: a templated issuer the
/// profile's preset documents for it (Entra's multi-tenant `…/{tenantid}/v2.0`), accepted in
/// the document's `issuer` in place of `issuer`.
pub async fn discover(
    call: &Call<'_>,
    issuer: &str,
    template: Option<&crate::catalog::FilledTemplate>,
    now_ms: i64,
) -> Result<ProviderMetadata> {
    let mut tried = Vec::new();
    for url in candidate_urls(issuer)? {
        let request = http::Request::get(&url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Error::internal(e.to_string()))?;
        let response = call.send(request).await?;
        let status = response.status().as_u16();
        if status != 200 {
            match crate::http::redirect_target(&response) {
                Some(to) => tried.push(format!(
                    "{url} (HTTP {status}, a redirect to {to}: not followed)"
                )),
                None => tried.push(format!("{url} (HTTP {status})")),
            }
            continue;
        }
        let doc: Value = match serde_json::from_slice(response.body()) {
            Ok(v) => v,
            Err(_) => {
                tried.push(format!("{url} (not JSON)"));
                continue;
            }
        };
        let mut meta = ProviderMetadata::from_document(doc, url.clone(), now_ms)?;
        if ident::differ_only_by_trailing_slash(&meta.issuer, issuer) {
            // The document was found where the typed issuer points; from here on the
            // provider's own spelling is the issuer, compared exactly everywhere.
            meta.notes.push(format!(
                "The issuer was given as \"{issuer}\", but the provider calls itself \"{}\" \
                 (a different trailing slash). TokenDesk uses \"{}\": ID tokens and sign-in \
                 responses must name exactly that.",
                meta.issuer, meta.issuer
            ));
        } else if let Some(t) = template.filter(|t| ident::same(&meta.issuer, &t.template)) {
            // The provider's documented multi-tenant template: the profile's issuer stays, and
            // each ID token is checked against the template filled from its own claim.
            meta.notes.push(format!(
                "The provider calls itself \"{}\", a template for every tenant: its preset \
                 documents this. TokenDesk keeps \"{issuer}\" as the issuer and checks each ID \
                 token's iss against the template with {} filled from the token's {} claim.",
                meta.issuer, t.placeholder, t.claim
            ));
            meta.issuer = issuer.to_owned();
        } else if !ident::same(&meta.issuer, issuer) {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                format!(
                    "The provider at {url} calls itself \"{}\", but the profile's issuer is \
                     \"{issuer}\". Set the issuer to exactly \"{}\" (RFC 8414 §3.3 requires them \
                     to match).",
                    meta.issuer, meta.issuer
                ),
            ));
        }
        return Ok(meta);
    }
    Err(Error::new(
        ErrorCode::NotFound,
        format!(
            "No discovery document was found for issuer {issuer}. Tried: {}. Check the issuer \
             URL, or set the endpoints by hand.",
            tried.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_oidc_then_rfc8414() {
        assert_eq!(
            candidate_urls("https://login.example/").unwrap(),
            [
                "https://login.example/.well-known/openid-configuration",
                "https://login.example/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(
            candidate_urls("https://id.example/realms/dev").unwrap(),
            [
                "https://id.example/realms/dev/.well-known/openid-configuration",
                "https://id.example/.well-known/oauth-authorization-server/realms/dev",
                "https://id.example/.well-known/openid-configuration/realms/dev",
            ]
        );
    }

    #[test]
    fn metadata_keeps_the_raw_document_and_the_iss_flag() {
        let doc = serde_json::json!({
            "issuer": "https://op.example", "token_endpoint": "https://op.example/token",
            "authorization_response_iss_parameter_supported": true, "x_vendor": 1
        });
        let m = ProviderMetadata::from_document(doc, "u".into(), 5).unwrap();
        assert!(m.authorization_response_iss_parameter_supported);
        assert_eq!(
            m.endpoint(Endpoint::Token),
            Some("https://op.example/token")
        );
        assert_eq!(m.raw["x_vendor"], 1);
    }
}
