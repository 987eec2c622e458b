//! Ready-made profiles: the built-in sandbox provider, one profile per grant and response style.

use crate::profile::{AuthMethod, GrantKind, Param, ProfileConfig};
use crate::secret::Sensitive;

/// The environment label of sandbox profiles.
pub const SANDBOX_ENVIRONMENT: &str = "sandbox";

/// What the sandbox offers, as its crate describes it.
pub struct SandboxClients<'a> {
    pub standard_issuer: &'a str,
    pub gateway_issuer: &'a str,
    /// Client-credentials client: id and secret.
    pub cc: (&'a str, &'a str),
    pub cc_scopes: &'a str,
    /// Confidential sign-in client: id and secret.
    pub web: (&'a str, &'a str),
    pub user_scopes: &'a str,
}

/// A profile to create, with its client secret.
pub type Preset = (ProfileConfig, Option<Sensitive<String>>);

/// One profile per grant (client credentials, authorization code) and response style (standard
/// RFC 6749, bank-gateway).
pub fn sandbox(c: &SandboxClients<'_>) -> Vec<Preset> {
    let scopes = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let base = |name: &str, issuer: &str, grant: GrantKind, client: (&str, &str), scope: &str| {
        (
            ProfileConfig {
                name: name.to_owned(),
                environment: SANDBOX_ENVIRONMENT.to_owned(),
                issuer: Some(issuer.to_owned()),
                client_id: client.0.to_owned(),
                auth_method: AuthMethod::ClientSecretBasic,
                grant,
                scopes: scopes(scope),
                ..Default::default()
            },
            Some(Sensitive::new(client.1.to_owned())),
        )
    };
    let mut gateway_cc = base(
        "Sandbox gateway · client credentials",
        c.gateway_issuer,
        GrantKind::ClientCredentials,
        c.cc,
        c.cc_scopes,
    );
    gateway_cc.0.auth_method = AuthMethod::ClientSecretPost;
    gateway_cc.0.headers = vec![Param::new("x-api-key", c.cc.0)];
    vec![
        base(
            "Sandbox · client credentials",
            c.standard_issuer,
            GrantKind::ClientCredentials,
            c.cc,
            c.cc_scopes,
        ),
        base(
            "Sandbox · sign-in (authorization code)",
            c.standard_issuer,
            GrantKind::AuthorizationCode,
            c.web,
            c.user_scopes,
        ),
        gateway_cc,
        base(
            "Sandbox gateway · sign-in",
            c.gateway_issuer,
            GrantKind::AuthorizationCode,
            c.web,
            c.user_scopes,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_presets_cover_both_grants_and_styles_and_are_valid() {
        let presets = sandbox(&SandboxClients {
            standard_issuer: "http://127.0.0.1:47111/standard",
            gateway_issuer: "http://127.0.0.1:47111/gateway",
            cc: ("cc", "cc-secret"),
            cc_scopes: "a b",
            web: ("web", "web-secret"),
            user_scopes: "openid offline_access",
        });
        assert_eq!(presets.len(), 4);
        for (config, secret) in &presets {
            config.validate().unwrap();
            assert!(secret.is_some());
        }
        let grants: Vec<_> = presets
            .iter()
            .map(|p| (p.0.grant, p.0.issuer.clone().unwrap()))
            .collect();
        assert!(grants.contains(&(
            GrantKind::ClientCredentials,
            "http://127.0.0.1:47111/gateway".into()
        )));
        assert!(grants.contains(&(
            GrantKind::AuthorizationCode,
            "http://127.0.0.1:47111/standard".into()
        )));
    }
}
