//! OAuth 2.0 protected-resource metadata (RFC 9728): the document, where to look for it, and
//! whether its `resource` may stand for the URL the user gave (§3.3).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use url::Url;

use crate::json_object;

/// What an API says about itself (RFC 9728 §2). `raw` keeps the whole document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ResourceMetadata {
    /// The resource identifier tokens are requested for.
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
    #[ts(optional = nullable)]
    pub resource_name: Option<String>,
    #[ts(optional = nullable)]
    pub resource_documentation: Option<String>,
    /// Where the document came from.
    pub source_url: String,
    pub raw: Value,
}

impl ResourceMetadata {
    /// The metadata in a document; the error says which member is wrong.
    pub fn from_document(doc: Value, source_url: &str) -> Result<Self, String> {
        let Value::Object(object) = &doc else {
            return Err("it is not a JSON object".into());
        };
        let mut meta: ResourceMetadata = json_object::read(object)
            .map_err(|e| format!("its member \"{}\" is wrong ({})", e.member, e.why))?;
        if meta.resource.is_empty() {
            return Err("it has no \"resource\" (RFC 9728 §2 requires it)".into());
        }
        meta.source_url = source_url.to_owned();
        meta.raw = doc;
        Ok(meta)
    }
}

/// The well-known locations of an API's metadata (RFC 9728 §3.1), in the order to try them:
/// the well-known path inserted before the URL's path, then at the root (as MCP clients do).
pub fn well_known_urls(api_url: &Url) -> Vec<String> {
    let origin = api_url.origin().ascii_serialization();
    let root = format!("{origin}/.well-known/oauth-protected-resource");
    let path = api_url.path().trim_end_matches('/');
    if path.is_empty() {
        vec![root]
    } else {
        vec![format!("{root}{path}"), root]
    }
}

/// Whether the metadata's `resource` may stand for the requested URL (RFC 9728 §3.3): the very
/// same string, or — as MCP clients and the RFC 9728 revision draft accept — the same origin
/// and a path prefix of it on a segment boundary (`…/api` for `…/api/me`, not for `…/apix`).
/// `Err` says why not.
pub fn check_resource(requested: &Url, resource: &str) -> Result<(), String> {
    if resource == requested.as_str() {
        return Ok(());
    }
    let parsed = Url::parse(resource).map_err(|e| format!("\"{resource}\" is not a URL ({e})"))?;
    if parsed.fragment().is_some() {
        return Err(format!(
            "\"{resource}\" has a fragment, which a resource identifier must not have (RFC 8707 §2)"
        ));
    }
    if parsed.origin() != requested.origin() {
        return Err(format!(
            "\"{resource}\" is on another origin than {} (scheme, host and port must be the same)",
            requested.origin().ascii_serialization()
        ));
    }
    if parsed.query().is_some() {
        return Err(format!(
            "\"{resource}\" has a query, so it can only stand for exactly that URL"
        ));
    }
    let prefix = parsed.path().trim_end_matches('/');
    let path = requested.path();
    let under = path == prefix
        || prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'));
    if under {
        Ok(())
    } else {
        Err(format!(
            "the path of \"{resource}\" is not a prefix of {}'s path \"{path}\"",
            requested.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn well_known_is_path_inserted_first_then_root() {
        assert_eq!(
            well_known_urls(&url("https://api.example/v1/mcp")),
            [
                "https://api.example/.well-known/oauth-protected-resource/v1/mcp",
                "https://api.example/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            well_known_urls(&url("https://api.example:8443/")),
            ["https://api.example:8443/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn resource_is_the_url_or_a_same_origin_path_prefix() {
        let me = url("https://api.example/api/me");
        assert!(check_resource(&me, "https://api.example/api/me").is_ok());
        assert!(check_resource(&me, "https://api.example/api").is_ok());
        assert!(check_resource(&me, "https://api.example/api/").is_ok());
        assert!(check_resource(&me, "https://api.example").is_ok());
        assert!(check_resource(&me, "https://api.example/").is_ok());
        let why = check_resource(&me, "https://api.example/ap").unwrap_err();
        assert!(why.contains("not a prefix"), "{why}");
        assert!(check_resource(&me, "https://api.example/other").is_err());
        let why = check_resource(&me, "https://elsewhere.example/api").unwrap_err();
        assert!(why.contains("another origin"), "{why}");
        assert!(check_resource(&me, "http://api.example/api").is_err());
        assert!(check_resource(&me, "https://api.example:444/api").is_err());
        assert!(check_resource(&me, "https://api.example/api#x").is_err());
        assert!(check_resource(&me, "https://api.example/api?x=1").is_err());
        assert!(check_resource(&me, "not a url").is_err());
    }

    #[test]
    fn metadata_needs_a_resource_and_keeps_the_rest() {
        let doc = serde_json::json!({
            "resource": "https://api.example/api", "authorization_servers": ["https://as.example"],
            "resource_name": "Example", "x_vendor": true
        });
        let m = ResourceMetadata::from_document(doc, "https://api.example/wk").unwrap();
        assert_eq!(m.authorization_servers, ["https://as.example"]);
        assert_eq!(m.resource_name.as_deref(), Some("Example"));
        assert_eq!(m.raw["x_vendor"], true);
        assert!(ResourceMetadata::from_document(serde_json::json!({}), "u").is_err());
        assert!(ResourceMetadata::from_document(serde_json::json!([1]), "u").is_err());
        let bad = serde_json::json!({"resource": "r", "authorization_servers": "x"});
        assert!(
            ResourceMetadata::from_document(bad, "u")
                .unwrap_err()
                .contains("authorization_servers")
        );
    }
}
