//! The kinds of preset parameters, and the check each value passes before any request.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

/// What a preset parameter holds; decides how its value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A scheme and host (and port, and a path for self-hosted servers under one): https, or
    /// http on a loopback address for a local imitation. No query or fragment; a trailing
    /// slash is dropped.
    BaseUrl,
    /// An Entra ID tenant: a GUID, a verified domain, or `common` / `organizations` /
    /// `consumers`.
    Tenant,
    /// A DNS name (an Okta org, an Auth0 tenant domain, a custom domain).
    Domain,
    /// A name used inside a URL: letters, digits, `-`, `_`, `.` (a realm, an authorization
    /// server id, a user-pool domain prefix).
    Slug,
    /// A cloud region such as `eu-west-1`.
    Region,
    /// Any text without control characters (an API identifier, an audience).
    Text,
}

const TENANT_ALIASES: &[&str] = &["common", "organizations", "consumers"];

impl ParamKind {
    /// The value as the preset uses it, or why it cannot be used.
    pub fn check(self, value: &str) -> Result<String, String> {
        let v = value.trim();
        if v.chars().any(char::is_control) {
            return Err("it contains control characters.".into());
        }
        match self {
            ParamKind::BaseUrl => base_url(v),
            ParamKind::Tenant => {
                if TENANT_ALIASES.contains(&v) || is_guid(v) || is_domain(v) {
                    Ok(v.to_owned())
                } else {
                    Err("a tenant is a GUID (the directory id), a verified domain \
                         (contoso.onmicrosoft.com), or common, organizations or consumers."
                        .into())
                }
            }
            ParamKind::Domain => {
                if is_domain(v) {
                    Ok(v.to_ascii_lowercase())
                } else {
                    Err("give a host name such as example.okta.com (no scheme, no path).".into())
                }
            }
            ParamKind::Slug => {
                if !v.is_empty()
                    && v.len() <= 255
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    && v != "."
                    && v != ".."
                {
                    Ok(v.to_owned())
                } else {
                    Err("use letters, digits, '-', '_' and '.' only.".into())
                }
            }
            ParamKind::Region => {
                let parts: Vec<&str> = v.split('-').collect();
                let ok = parts.len() >= 3
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && p.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    })
                    && parts
                        .last()
                        .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
                if ok {
                    Ok(v.to_owned())
                } else {
                    Err("a region looks like eu-west-1 or us-east-2.".into())
                }
            }
            ParamKind::Text => {
                if v.is_empty() {
                    Err("it is empty.".into())
                } else {
                    Ok(v.to_owned())
                }
            }
        }
    }
}

fn base_url(v: &str) -> Result<String, String> {
    let url = Url::parse(v).map_err(|e| {
        format!("not a URL ({e}); give the scheme and host, e.g. https://login.example.com.")
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a base URL has no query or fragment.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a base URL carries no user name or password.".into());
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(
                "http is allowed only on a loopback address (127.0.0.1, [::1], localhost); \
                 use https."
                    .into(),
            );
        }
        s => return Err(format!("the scheme {s} is not https.")),
    }
    Ok(v.trim_end_matches('/').to_owned())
}

fn is_guid(v: &str) -> bool {
    let groups: Vec<&str> = v.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_domain(v: &str) -> bool {
    v.len() <= 253
        && v.contains('.')
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::ParamKind::*;

    #[test]
    fn base_urls_are_https_or_loopback_http() {
        assert_eq!(
            BaseUrl.check("https://github.example.com/").unwrap(),
            "https://github.example.com"
        );
        assert_eq!(
            BaseUrl.check("https://gitlab.corp/gitlab").unwrap(),
            "https://gitlab.corp/gitlab"
        );
        assert_eq!(
            BaseUrl.check("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(BaseUrl.check("http://[::1]:9/").is_ok());
        assert!(BaseUrl.check("http://localhost:9").is_ok());
        let e = BaseUrl.check("http://login.example.com").unwrap_err();
        assert!(e.contains("loopback"), "{e}");
        assert!(
            BaseUrl
                .check("ftp://x.example")
                .unwrap_err()
                .contains("ftp")
        );
        assert!(BaseUrl.check("https://x.example/?a=1").is_err());
        assert!(BaseUrl.check("https://u:p@x.example").is_err());
        assert!(BaseUrl.check("login.example.com").is_err());
    }

    #[test]
    fn tenants_are_guids_domains_or_the_three_aliases() {
        for ok in [
            "common",
            "organizations",
            "consumers",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
        ] {
            assert_eq!(Tenant.check(ok).unwrap(), ok);
        }
        for bad in [
            "contoso",
            "72f988bf-86f1-41af-91ab",
            "a b.com",
            "common/v2.0",
            "",
        ] {
            let e = Tenant.check(bad).unwrap_err();
            assert!(e.contains("GUID"), "{bad}: {e}");
        }
    }

    #[test]
    fn domains_slugs_regions_and_text() {
        assert_eq!(
            Domain.check("Dev-123.Okta.com").unwrap(),
            "dev-123.okta.com"
        );
        assert!(Domain.check("https://dev.okta.com").is_err());
        assert!(Domain.check("dev").is_err());
        assert!(Slug.check("my-realm_1.x").is_ok());
        assert!(Slug.check("a/b").is_err());
        assert!(Slug.check("..").is_err());
        assert!(Region.check("eu-west-1").is_ok());
        assert!(Region.check("us-gov-west-1").is_ok());
        assert!(Region.check("euwest1").is_err());
        assert!(Text.check("https://api.example.com").is_ok());
        assert!(Text.check("a\u{1b}[31m").is_err());
        assert!(Text.check("  ").is_err());
    }
}
