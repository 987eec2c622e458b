//! Ready-made profiles: the built-in sandbox provider, one profile per grant and response style,
//! the sandbox bank's PSD2 pair, and a FAPI 2.0 sign-in.

use crate::Core;
use crate::dpop::DpopAlg;
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
/// The sandbox bank's CIBA profile: a payment of 12.34 EUR approved on the user's "phone" (the
/// sandbox page `{bank}/ciba`).
pub const BANK_CIBA_PRESET: &str = "Sandbox bank · CIBA payment";
/// The sandbox's FAPI 2.0 sign-in: PAR, PKCE, private_key_jwt to the issuer, DPoP-bound tokens.
pub const FAPI_PRESET: &str = "Sandbox FAPI 2.0";
/// The profile made from the sandbox's protected API URL (RFC 9728): what
/// `tokendesk profile add … --from-api {base}/api/me --client-id sandbox-web` makes.
pub const API_PRESET: &str = "Sandbox API · from its URL";

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
    pub fapi: SandboxFapi<'a>,
    pub api: SandboxApi<'a>,
}

/// The sandbox's protected API, as its metadata (RFC 9728) describes it.
pub struct SandboxApi<'a> {
    /// The URL a user would start from (`{base}/api/me`).
    pub url: &'a str,
    /// The metadata's `resource` (`{base}/api`).
    pub resource: &'a str,
    /// The scope its challenge names.
    pub scope: &'a str,
}

/// What the sandbox's FAPI 2.0 issuer offers.
pub struct SandboxFapi<'a> {
    pub issuer: &'a str,
    /// Its one client, which authenticates with `private_key_jwt` only.
    pub client_id: &'a str,
    /// The client's private key (PEM, RSA: PS256) and its `kid`.
    pub signing_key: &'a str,
    pub kid: &'a str,
    /// Where the DPoP-bound token is used: the issuer's userinfo endpoint.
    pub userinfo_url: &'a str,
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
/// RFC 6749, bank-gateway), the sandbox bank's PSD2 pair, and the FAPI 2.0 sign-in.
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
        bank_ciba(&c.bank),
        fapi(&c.fapi),
        api(c),
    ]
}

/// The profile "start from an API URL" makes from the sandbox's API: the standard issuer its
/// metadata names, the `resource` every request carries, the scope its challenge asks for.
fn api(c: &SandboxClients<'_>) -> Preset {
    let mut p = base(
        API_PRESET,
        c.standard_issuer,
        GrantKind::AuthorizationCode,
        c.web,
        c.api.scope,
    );
    p.config.resource = Some(c.api.resource.to_owned());
    p.config.api_url = Some(c.api.url.to_owned());
    p
}

/// The bank's CIBA profile: the TPP asks the bank to reach "alice", who approves a payment of
/// 12.34 EUR (`payment_initiation` authorization details) on the sandbox's approval page,
/// checking the binding message; TokenDesk polls meanwhile.
fn bank_ciba(b: &SandboxBank<'_>) -> Preset {
    let mut p = base(
        BANK_CIBA_PRESET,
        b.issuer,
        GrantKind::Ciba,
        b.client,
        "openid offline_access payments",
    );
    let c = &mut p.config;
    c.auth_method = AuthMethod::ClientSecretPost;
    c.headers = vec![Param::new("x-api-key", b.client.0)];
    c.ciba.login_hint = Some("alice".into());
    c.ciba.binding_message = Some("PAY-1234".into());
    c.authorization_details = Some(
        serde_json::json!([{
            "type": "payment_initiation",
            "instructedAmount": {"currency": "EUR", "amount": "12.34"},
            "creditorName": "Merchant A",
            "creditorAccount": {"iban": "DE02100100109307118603"}
        }])
        .to_string(),
    );
    p
}

/// The FAPI 2.0 sign-in (Security Profile): the request pushed (PAR) with PKCE S256, the client
/// authenticated by a PS256 assertion whose audience is the issuer — set here, so it holds
/// whatever the FAPI mode's own rules do — and tokens bound to an ES256 DPoP key; the token is
/// used at the issuer's userinfo endpoint.
fn fapi(f: &SandboxFapi<'_>) -> Preset {
    Preset {
        config: ProfileConfig {
            name: FAPI_PRESET.to_owned(),
            environment: SANDBOX_ENVIRONMENT.to_owned(),
            issuer: Some(f.issuer.to_owned()),
            client_id: f.client_id.to_owned(),
            auth_method: AuthMethod::PrivateKeyJwt,
            client_assertion: ClientAssertion {
                alg: AssertionAlg::PS256,
                kid: Some(f.kid.to_owned()),
                audience: Some(f.issuer.to_owned()),
            },
            fapi2: true,
            par: true,
            dpop: Some(DpopAlg::ES256),
            grant: GrantKind::AuthorizationCode,
            scopes: vec!["openid".into(), "offline_access".into()],
            api_url: Some(f.userinfo_url.to_owned()),
            ..Default::default()
        },
        // For private_key_jwt the key is the client's credential.
        secret: Some(Sensitive::new(f.signing_key.to_owned())),
        signing_key: None,
    }
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

/// The sandbox makes its clients' keys (the bank's TPP, the FAPI client) anew at every start: the
/// sandbox profiles that sign as that client at that issuer (the preset, and copies of it) get
/// the new key, else their signed sign-ins and assertions would be refused. Returns how many got
/// it.
pub async fn renew_sandbox_client_key(
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
            fapi: SandboxFapi {
                issuer: "http://127.0.0.1:47111/fapi",
                client_id: "fapi-client",
                signing_key: "-----BEGIN PRIVATE KEY-----\nfapi…",
                kid: "fapi-rsa",
                userinfo_url: "http://127.0.0.1:47111/fapi/userinfo",
            },
            api: SandboxApi {
                url: "http://127.0.0.1:47111/api/me",
                resource: "http://127.0.0.1:47111/api",
                scope: "accounts:read",
            },
        }
    }

    #[test]
    fn sandbox_presets_cover_both_grants_and_styles_and_are_valid() {
        let presets = sandbox(&clients());
        assert_eq!(presets.len(), 9);
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
    fn the_fapi_preset_pushes_signs_for_the_issuer_and_binds_with_dpop() {
        let presets = sandbox(&clients());
        let p = presets
            .iter()
            .find(|p| p.config.name == FAPI_PRESET)
            .unwrap();
        let c = &p.config;
        assert!(c.fapi2 && c.par, "FAPI mode, pushed requests");
        assert_eq!(c.dpop, Some(DpopAlg::ES256));
        assert_eq!(c.grant, GrantKind::AuthorizationCode);
        assert_eq!(c.auth_method, AuthMethod::PrivateKeyJwt);
        assert_eq!(c.client_id, "fapi-client");
        assert_eq!(
            c.client_assertion,
            ClientAssertion {
                alg: AssertionAlg::PS256,
                kid: Some("fapi-rsa".into()),
                audience: Some("http://127.0.0.1:47111/fapi".into()),
            },
            "FAPI 2.0 §5.3.2.1: the issuer is the audience, not the token endpoint"
        );
        assert_eq!(c.scopes, ["openid", "offline_access"]);
        assert_eq!(
            c.api_url.as_deref(),
            Some("http://127.0.0.1:47111/fapi/userinfo")
        );
        assert_eq!(
            p.secret.as_ref().map(|k| k.expose().as_str()),
            Some("-----BEGIN PRIVATE KEY-----\nfapi…"),
            "the private key is the client's credential"
        );
        assert!(c.signs());
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
