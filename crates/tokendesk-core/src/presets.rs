//! Ready-made profiles: the built-in sandbox provider, one profile per grant and response style,
//! and the sandbox bank's PSD2 pair.

use crate::Core;
use crate::error::Result;
use crate::profile::{AssertionAlg, AuthMethod, ClientAssertion, GrantKind, Param, ProfileConfig};
use crate::secret::Sensitive;
use crate::steps::{Capture, Step};

/// The environment label of sandbox profiles.
pub const SANDBOX_ENVIRONMENT: &str = "sandbox";

/// The sandbox bank's client-credentials profile: its token registers the consents.
pub const BANK_CC_PRESET: &str = "Sandbox bank · PSD2 client credentials";
/// The sandbox bank's sign-in profile: a consent, a signed hybrid sign-in, the accounts API.
pub const BANK_ACCOUNTS_PRESET: &str = "Sandbox bank · PSD2 accounts";

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
    pub bank: SandboxBank<'a>,
}

/// What the sandbox bank (a PSD2 bank in OP Financial Group's manner) offers.
pub struct SandboxBank<'a> {
    pub issuer: &'a str,
    /// The TPP client: id (also its `x-api-key`) and secret, sent in the form.
    pub client: (&'a str, &'a str),
    /// The TPP's private key (PEM) and its `kid`: it signs request objects (PS256).
    pub signing_key: &'a str,
    pub kid: &'a str,
    /// Where a consent is registered (`POST`, answers `{"authorizationId": …}`).
    pub consents_url: &'a str,
    /// The accounts API, for a token given for a consent.
    pub accounts_url: &'a str,
}

/// A profile to create, with its client secret and its signing key.
pub struct Preset {
    pub config: ProfileConfig,
    pub secret: Option<Sensitive<String>>,
    /// The key the profile signs with (request objects, assertions, step bodies).
    pub signing_key: Option<Sensitive<String>>,
}

/// The OpenID Connect claims the bank sign-in asks for: the consent, and strong authentication.
const BANK_CLAIMS: &str = r#"{
  "userinfo": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}},
  "id_token": {
    "authorizationId": {"value": "{{authorizationId}}", "essential": true},
    "acr": {"essential": true, "values": ["urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"]}
  }
}"#;
const CONSENT_BODY: &str = r#"{"expires": "{{now_iso+90d}}", "transactionFrom": "{{date-90d}}", "transactionTo": "{{date}}"}"#;

/// One profile per grant (client credentials, authorization code) and response style (standard
/// RFC 6749, bank-gateway), and the sandbox bank's PSD2 pair.
pub fn sandbox(c: &SandboxClients<'_>) -> Vec<Preset> {
    let mut gateway_cc = base(
        "Sandbox gateway · client credentials",
        c.gateway_issuer,
        GrantKind::ClientCredentials,
        c.cc,
        c.cc_scopes,
    );
    gateway_cc.config.auth_method = AuthMethod::ClientSecretPost;
    gateway_cc.config.headers = vec![Param::new("x-api-key", c.cc.0)];
    let [bank_cc, bank_accounts] = bank(&c.bank);
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
        bank_cc,
        bank_accounts,
    ]
}

/// A sandbox profile of `client` at `issuer`, the secret in the keychain, nothing to sign with.
fn base(name: &str, issuer: &str, grant: GrantKind, client: (&str, &str), scope: &str) -> Preset {
    Preset {
        config: ProfileConfig {
            name: name.to_owned(),
            environment: SANDBOX_ENVIRONMENT.to_owned(),
            issuer: Some(issuer.to_owned()),
            client_id: client.0.to_owned(),
            auth_method: AuthMethod::ClientSecretBasic,
            grant,
            scopes: scope.split_whitespace().map(str::to_owned).collect(),
            ..Default::default()
        },
        secret: Some(Sensitive::new(client.1.to_owned())),
        signing_key: None,
    }
}

/// The PSD2 pair: a client-credentials profile whose token registers the consent, and the
/// sign-in profile that runs the whole sequence — the consent step, a request object signed
/// PS256 asking for the consent's `authorizationId`, `code id_token`, the accounts API.
fn bank(b: &SandboxBank<'_>) -> [Preset; 2] {
    let psd2 = |name: &str, grant: GrantKind, scope: &str| {
        let mut p = base(name, b.issuer, grant, b.client, scope);
        p.config.auth_method = AuthMethod::ClientSecretPost;
        p.config.headers = vec![
            Param::new("x-api-key", b.client.0),
            Param::new("x-request-id", "{{uuid}}"),
        ];
        p
    };
    let cc = psd2(BANK_CC_PRESET, GrantKind::ClientCredentials, "accounts");
    let mut accounts = psd2(
        BANK_ACCOUNTS_PRESET,
        GrantKind::AuthorizationCode,
        "openid accounts",
    );
    let a = &mut accounts.config;
    a.authorize_params = vec![Param::new("response_type", "code id_token")];
    a.signed_request = true;
    a.client_assertion = ClientAssertion {
        alg: AssertionAlg::PS256,
        kid: Some(b.kid.to_owned()),
        audience: None,
    };
    a.claims = Some(BANK_CLAIMS.to_owned());
    a.max_age = Some(3600);
    a.steps = vec![Step {
        name: "Register the account-information consent".into(),
        method: "POST".into(),
        url: b.consents_url.to_owned(),
        headers: vec![Param::new("x-fapi-interaction-id", "{{uuid}}")],
        body: Some(CONSENT_BODY.to_owned()),
        token_from: Some(BANK_CC_PRESET.to_owned()),
        jws_header: None,
        capture: vec![Capture {
            name: "authorizationId".into(),
            pointer: "/authorizationId".into(),
        }],
    }];
    a.api_url = Some(b.accounts_url.to_owned());
    accounts.signing_key = Some(Sensitive::new(b.signing_key.to_owned()));
    [cc, accounts]
}

/// The sandbox makes its bank's TPP key anew at every start: the sandbox profiles that sign as
/// that TPP at that bank (the preset, and copies of it) get the new key, else their signed
/// sign-ins would be refused. Returns how many got it.
pub async fn renew_sandbox_bank_key(
    core: &Core,
    issuer: &str,
    client_id: &str,
    key_pem: &str,
) -> Result<usize> {
    let mut renewed = 0;
    for p in core.list_profiles()? {
        let c = &p.config;
        if c.environment == SANDBOX_ENVIRONMENT
            && c.issuer.as_deref() == Some(issuer)
            && c.client_id == client_id
            && c.signs()
        {
            core.set_signing_key(&p.id, Some(Sensitive::new(key_pem.to_owned())))
                .await?;
            renewed += 1;
        }
    }
    Ok(renewed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> SandboxClients<'static> {
        SandboxClients {
            standard_issuer: "http://127.0.0.1:47111/standard",
            gateway_issuer: "http://127.0.0.1:47111/gateway",
            cc: ("cc", "cc-secret"),
            cc_scopes: "a b",
            web: ("web", "web-secret"),
            user_scopes: "openid offline_access",
            bank: SandboxBank {
                issuer: "http://127.0.0.1:47111/bank",
                client: ("tpp", "tpp-secret"),
                signing_key: "-----BEGIN PRIVATE KEY-----\n…",
                kid: "tpp-rsa",
                consents_url: "http://127.0.0.1:47111/bank/consents",
                accounts_url: "http://127.0.0.1:47111/bank/accounts",
            },
        }
    }

    #[test]
    fn sandbox_presets_cover_both_grants_and_styles_and_are_valid() {
        let presets = sandbox(&clients());
        assert_eq!(presets.len(), 6);
        for p in &presets {
            p.config.validate().unwrap();
            assert!(p.secret.is_some());
        }
        let grants: Vec<_> = presets
            .iter()
            .map(|p| (p.config.grant, p.config.issuer.clone().unwrap()))
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

    #[test]
    fn the_bank_pair_signs_in_with_the_consent_of_its_sibling() {
        let presets = sandbox(&clients());
        let find = |name: &str| presets.iter().find(|p| p.config.name == name).unwrap();
        let (cc, accounts) = (find(BANK_CC_PRESET), find(BANK_ACCOUNTS_PRESET));
        assert_eq!(cc.config.grant, GrantKind::ClientCredentials);
        assert_eq!(cc.config.scopes, ["accounts"]);
        assert!(cc.signing_key.is_none());
        for p in [cc, accounts] {
            assert_eq!(p.config.auth_method, AuthMethod::ClientSecretPost);
            assert_eq!(p.config.client_id, "tpp");
            assert_eq!(p.config.headers[0], Param::new("x-api-key", "tpp"));
            assert_eq!(p.config.headers[1], Param::new("x-request-id", "{{uuid}}"));
        }
        let a = &accounts.config;
        assert!(a.signs() && a.signed_request);
        assert_eq!(
            accounts.signing_key.as_ref().map(|k| k.expose().as_str()),
            Some("-----BEGIN PRIVATE KEY-----\n…")
        );
        assert_eq!(a.client_assertion.alg, AssertionAlg::PS256);
        assert_eq!(a.client_assertion.kid.as_deref(), Some("tpp-rsa"));
        assert_eq!(
            a.authorize_params,
            [Param::new("response_type", "code id_token")]
        );
        let step = &a.steps[0];
        assert_eq!(step.token_from.as_deref(), Some(cc.config.name.as_str()));
        assert_eq!(step.url, "http://127.0.0.1:47111/bank/consents");
        assert_eq!(step.capture[0].pointer, "/authorizationId");
        let claims: serde_json::Value = serde_json::from_str(a.claims.as_deref().unwrap()).unwrap();
        for container in ["id_token", "userinfo"] {
            assert_eq!(
                claims[container]["authorizationId"]["value"],
                "{{authorizationId}}"
            );
        }
        assert_eq!(
            a.api_url.as_deref(),
            Some("http://127.0.0.1:47111/bank/accounts")
        );
    }
}
