//! The demo clients, the demo user and the scopes they may use.

use url::{Host, Url};

use crate::style::Style;

/// Confidential client for the client-credentials grant: `(client_id, client_secret)`.
pub const CC_CLIENT: (&str, &str) = ("sandbox-cc", "sandbox-cc-secret");
/// Confidential client for the authorization-code grant: `(client_id, client_secret)`.
pub const WEB_CLIENT: (&str, &str) = ("sandbox-web", "sandbox-web-secret");
/// Public client (no secret, `token_endpoint_auth_method=none`) for the authorization-code grant.
pub const PUBLIC_CLIENT: &str = "sandbox-public";
/// The bank's one TPP (third-party provider) client, `client_secret_post` only, known to the
/// bank issuer alone: `(client_id, client_secret)`. Its `x-api-key` is its client id; its
/// signing key is [`crate::Sandbox::bank_tpp_key_pem`].
pub const BANK_CLIENT: (&str, &str) = ("sandbox-bank-tpp", "sandbox-bank-tpp-secret");

/// The FAPI issuer's one client, `private_key_jwt` only (no secret), known to the FAPI issuer
/// alone. Its key is [`crate::Sandbox::fapi_client_key_pem`] (`kid` [`crate::FAPI_CLIENT_KID`]).
pub const FAPI_CLIENT: &str = "sandbox-fapi-client";

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
/// Every scope the bank knows, which its TPP client ([`BANK_CLIENT`]) may all use.
pub const BANK_SCOPES: &[&str] = &["openid", "offline_access", "accounts", "payments"];
/// Every scope the FAPI issuer knows, which its client ([`FAPI_CLIENT`]) may all use.
pub const FAPI_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access", "accounts"];

const CC_SCOPE_LIST: &[&str] = &["accounts:read", "payments:write"];
const GENERAL: &[Style] = &[Style::Standard, Style::Gateway];
const SECRET_METHODS: &[&str] = &["client_secret_basic", "client_secret_post"];

/// One registered demo client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoClient {
    pub id: &'static str,
    /// `None` for the public client and the `private_key_jwt` one.
    pub secret: Option<&'static str>,
    /// Shown on the login page and as `application_name` in gateway responses.
    pub application_name: &'static str,
    /// Grant types this client may use at `/token`.
    pub grant_types: &'static [&'static str],
    /// Scopes this client may request.
    pub scopes: &'static [&'static str],
    /// How it authenticates at `/token`, `/revoke` and `/introspect`; `none` for the public one.
    pub auth_methods: &'static [&'static str],
    /// The issuers that know it.
    pub issuers: &'static [Style],
}

/// All demo clients. Redirecting clients accept any loopback redirect URI.
pub const DEMO_CLIENTS: &[DemoClient] = &[
    DemoClient {
        id: CC_CLIENT.0,
        secret: Some(CC_CLIENT.1),
        application_name: "TokenDesk sandbox service",
        grant_types: &["client_credentials", "refresh_token"],
        scopes: CC_SCOPE_LIST,
        auth_methods: SECRET_METHODS,
        issuers: GENERAL,
    },
    DemoClient {
        id: WEB_CLIENT.0,
        secret: Some(WEB_CLIENT.1),
        application_name: "TokenDesk sandbox web app",
        grant_types: &["authorization_code", "refresh_token"],
        scopes: SUPPORTED_SCOPES,
        auth_methods: SECRET_METHODS,
        issuers: GENERAL,
    },
    DemoClient {
        id: PUBLIC_CLIENT,
        secret: None,
        application_name: "TokenDesk sandbox desktop app",
        grant_types: &["authorization_code", "refresh_token"],
        scopes: SUPPORTED_SCOPES,
        auth_methods: &["none"],
        issuers: GENERAL,
    },
    DemoClient {
        id: BANK_CLIENT.0,
        secret: Some(BANK_CLIENT.1),
        application_name: "TokenDesk sandbox TPP",
        grant_types: &[
            "authorization_code",
            "refresh_token",
            "client_credentials",
            JWT_BEARER,
            crate::bank::ciba::GRANT_TYPE,
        ],
        scopes: BANK_SCOPES,
        auth_methods: &["client_secret_post"],
        issuers: &[Style::Bank],
    },
    DemoClient {
        id: FAPI_CLIENT,
        secret: None,
        application_name: "TokenDesk sandbox FAPI 2.0 client",
        grant_types: &["authorization_code", "refresh_token"],
        scopes: FAPI_SCOPES,
        auth_methods: &["private_key_jwt"],
        issuers: &[Style::Fapi],
    },
];

/// The JWT-bearer grant type (RFC 7523 §2.1), which only the bank accepts.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The scopes an issuer knows, in discovery order.
pub(crate) fn supported_scopes(style: Style) -> &'static [&'static str] {
    match style {
        Style::Standard | Style::Gateway => SUPPORTED_SCOPES,
        Style::Bank => BANK_SCOPES,
        Style::Fapi => FAPI_SCOPES,
    }
}

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
    /// A client that does not authenticate (`none`).
    pub fn is_public(&self) -> bool {
        self.auth_methods.contains(&"none")
    }

    pub(crate) fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// Demo clients that use the authorization code grant accept any loopback redirect.
    pub(crate) fn accepts_redirect_uri(&self, uri: &str) -> bool {
        self.allows_grant("authorization_code") && is_loopback_redirect(uri)
    }

    /// Checks a space-separated scope request at the issuer of `style` against what this
    /// client may use and returns the granted scopes (deduplicated, in request order). No scope
    /// requested → none granted.
    pub(crate) fn grant_scopes(
        &self,
        style: Style,
        requested: Option<&str>,
    ) -> Result<Vec<String>, String> {
        let known = supported_scopes(style);
        let mut granted: Vec<String> = Vec::new();
        for scope in requested.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
            if !known.contains(&scope) {
                return Err(format!(
                    "unknown scope `{scope}`; this issuer knows: {}",
                    known.join(" ")
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

/// Looks a client up by id among those the issuer of `style` knows.
pub(crate) fn find(style: Style, id: &str) -> Option<&'static DemoClient> {
    DEMO_CLIENTS
        .iter()
        .find(|c| c.id == id && c.issuers.contains(&style))
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
        let cc = find(Style::Standard, CC_CLIENT.0).expect("cc client is registered");
        let grant = |requested| cc.grant_scopes(Style::Standard, requested);
        assert_eq!(
            grant(Some("accounts:read  accounts:read")).as_deref(),
            Ok(&["accounts:read".to_owned()][..])
        );
        assert!(
            grant(Some("openid")).is_err(),
            "cc has no user, so no openid"
        );
        assert!(grant(Some("nope")).is_err());
        assert!(
            grant(Some("accounts")).is_err(),
            "the bank's scopes are the bank's"
        );
        assert_eq!(grant(None), Ok(vec![]));
    }

    #[test]
    fn each_issuer_knows_its_own_clients() {
        assert!(find(Style::Bank, BANK_CLIENT.0).is_some());
        assert!(find(Style::Standard, BANK_CLIENT.0).is_none());
        assert!(find(Style::Bank, WEB_CLIENT.0).is_none());
        assert!(find(Style::Gateway, PUBLIC_CLIENT).is_some());
    }

    #[test]
    fn only_code_clients_accept_redirects() {
        let cc = find(Style::Standard, CC_CLIENT.0).expect("cc client is registered");
        let web = find(Style::Standard, WEB_CLIENT.0).expect("web client is registered");
        assert!(!cc.accepts_redirect_uri("http://127.0.0.1:1/cb"));
        assert!(web.accepts_redirect_uri("http://127.0.0.1:1/cb"));
    }
}
