//! The demo clients, the demo user and the scopes they may use.

use url::{Host, Url};

/// Confidential client for the client-credentials grant: `(client_id, client_secret)`.
pub const CC_CLIENT: (&str, &str) = ("sandbox-cc", "sandbox-cc-secret");
/// Confidential client for the authorization-code grant: `(client_id, client_secret)`.
pub const WEB_CLIENT: (&str, &str) = ("sandbox-web", "sandbox-web-secret");
/// Public client (no secret, `token_endpoint_auth_method=none`) for the authorization-code grant.
pub const PUBLIC_CLIENT: &str = "sandbox-public";

/// Every scope the sandbox knows, in discovery order.
pub const SUPPORTED_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounts:read",
    "payments:write",
];
/// Scopes [`CC_CLIENT`] may ask for (space-separated).
pub const CC_SCOPES: &str = "accounts:read payments:write";
/// Scopes [`WEB_CLIENT`] and [`PUBLIC_CLIENT`] may ask for (space-separated).
pub const USER_SCOPES: &str = "openid profile email offline_access accounts:read payments:write";

const CC_SCOPE_LIST: &[&str] = &["accounts:read", "payments:write"];

/// One registered demo client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoClient {
    pub id: &'static str,
    /// `None` for the public client.
    pub secret: Option<&'static str>,
    /// Shown on the login page and as `application_name` in gateway responses.
    pub application_name: &'static str,
    /// Grant types this client may use at `/token`.
    pub grant_types: &'static [&'static str],
    /// Scopes this client may request.
    pub scopes: &'static [&'static str],
}

/// All demo clients. Redirecting clients accept any loopback redirect URI.
pub const DEMO_CLIENTS: &[DemoClient] = &[
    DemoClient {
        id: CC_CLIENT.0,
        secret: Some(CC_CLIENT.1),
        application_name: "TokenDesk sandbox service",
        grant_types: &["client_credentials", "refresh_token"],
        scopes: CC_SCOPE_LIST,
    },
    DemoClient {
        id: WEB_CLIENT.0,
        secret: Some(WEB_CLIENT.1),
        application_name: "TokenDesk sandbox web app",
        grant_types: &["authorization_code", "refresh_token"],
        scopes: SUPPORTED_SCOPES,
    },
    DemoClient {
        id: PUBLIC_CLIENT,
        secret: None,
        application_name: "TokenDesk sandbox desktop app",
        grant_types: &["authorization_code", "refresh_token"],
        scopes: SUPPORTED_SCOPES,
    },
];

/// The one user who "logs in" by pressing Approve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoUser {
    pub sub: &'static str,
    pub name: &'static str,
    pub email: &'static str,
}

/// The demo user.
pub const DEMO_USER: DemoUser = DemoUser {
    sub: "demo-user",
    name: "Demo User",
    email: "demo-user@example.com",
};

impl DemoClient {
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    pub(crate) fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// Demo clients that use the authorization code grant accept any loopback redirect.
    pub(crate) fn accepts_redirect_uri(&self, uri: &str) -> bool {
        self.allows_grant("authorization_code") && is_loopback_redirect(uri)
    }

    /// Checks a space-separated scope request against what this client may use and returns
    /// the granted scopes (deduplicated, in request order). No scope requested → none granted.
    pub(crate) fn grant_scopes(&self, requested: Option<&str>) -> Result<Vec<String>, String> {
        let mut granted: Vec<String> = Vec::new();
        for scope in requested.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
            if !SUPPORTED_SCOPES.contains(&scope) {
                return Err(format!(
                    "unknown scope `{scope}`; the sandbox knows: {}",
                    SUPPORTED_SCOPES.join(" ")
                ));
            }
            if !self.scopes.contains(&scope) {
                return Err(format!(
                    "client {} may not request scope `{scope}`; it may use: {}",
                    self.id,
                    self.scopes.join(" ")
                ));
            }
            if !granted.iter().any(|g| g == scope) {
                granted.push(scope.to_owned());
            }
        }
        Ok(granted)
    }
}

/// Looks a client up by id.
pub(crate) fn find(id: &str) -> Option<&'static DemoClient> {
    DEMO_CLIENTS.iter().find(|c| c.id == id)
}

/// `http://127.0.0.1:ANY/…`, `http://[::1]:ANY/…` or `http://localhost:ANY/…`, no fragment,
/// no user info (RFC 8252 §7.3).
pub(crate) fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    let loopback_host = match url.host() {
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    url.scheme() == "http"
        && loopback_host
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_on_any_port_are_accepted() {
        assert!(is_loopback_redirect("http://127.0.0.1:49152/callback"));
        assert!(is_loopback_redirect("http://[::1]:8080/cb?x=1"));
        assert!(is_loopback_redirect("http://localhost:3000/"));
        assert!(is_loopback_redirect("http://127.0.0.1/cb"));
    }

    #[test]
    fn non_loopback_redirects_are_refused() {
        assert!(
            !is_loopback_redirect("https://127.0.0.1:443/cb"),
            "https is not loopback http"
        );
        assert!(!is_loopback_redirect("http://example.com/cb"));
        assert!(!is_loopback_redirect("http://127.0.0.2/cb"));
        assert!(!is_loopback_redirect("http://localhost.example.com/cb"));
        assert!(!is_loopback_redirect("http://127.0.0.1:1/cb#frag"));
        assert!(!is_loopback_redirect("http://user@127.0.0.1:1/cb"));
        assert!(!is_loopback_redirect("/relative"));
    }

    #[test]
    fn scopes_are_checked_against_the_client() {
        let cc = find(CC_CLIENT.0).expect("cc client is registered");
        assert_eq!(
            cc.grant_scopes(Some("accounts:read  accounts:read"))
                .as_deref(),
            Ok(&["accounts:read".to_owned()][..])
        );
        assert!(
            cc.grant_scopes(Some("openid")).is_err(),
            "cc has no user, so no openid"
        );
        assert!(cc.grant_scopes(Some("nope")).is_err());
        assert_eq!(cc.grant_scopes(None), Ok(vec![]));
    }

    #[test]
    fn only_code_clients_accept_redirects() {
        let cc = find(CC_CLIENT.0).expect("cc client is registered");
        let web = find(WEB_CLIENT.0).expect("web client is registered");
        assert!(!cc.accepts_redirect_uri("http://127.0.0.1:1/cb"));
        assert!(web.accepts_redirect_uri("http://127.0.0.1:1/cb"));
    }
}
