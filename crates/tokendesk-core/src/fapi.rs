//! The FAPI 2.0 Security Profile as a profile mode: the rules a setup must follow, checked when
//! the profile is saved (each broken rule named under its field), and the algorithms a FAPI
//! provider's signatures may use, checked on every ID token and signed response.

use crate::error::FieldError;
use crate::profile::{AssertionAlg, AuthMethod, GrantKind, ProfileConfig};

/// The signing algorithms FAPI 2.0 allows (§5.4): PS256, ES256, EdDSA.
pub const ALGS: &[&str] = &["PS256", "ES256", "EdDSA"];

/// Every rule of FAPI 2.0 the setup breaks, as field errors; empty when it follows them all
/// (or is not in FAPI mode).
pub fn violations(c: &ProfileConfig) -> Vec<FieldError> {
    let mut out = Vec::new();
    if !c.fapi2 {
        return out;
    }
    let mut rule = |field: &str, message: &str| {
        out.push(FieldError {
            field: field.to_owned(),
            message: format!("FAPI 2.0: {message}"),
        })
    };
    if !matches!(
        c.grant,
        GrantKind::AuthorizationCode | GrantKind::ClientCredentials
    ) {
        rule(
            "grant",
            "the profile covers the authorization code grant (and client credentials for a \
             client acting on its own); choose one of them, or turn FAPI 2.0 mode off.",
        );
    }
    if c.issuer.as_deref().is_none_or(|i| i.trim().is_empty()) {
        rule(
            "issuer",
            "the issuer is required: every authorization response's iss is checked against it, \
             and it is the client assertion's audience.",
        );
    }
    match c.auth_method {
        AuthMethod::PrivateKeyJwt => {
            if !matches!(
                c.client_assertion.alg,
                AssertionAlg::PS256 | AssertionAlg::ES256
            ) {
                rule(
                    "client_assertion.alg",
                    &format!(
                        "{} is not allowed; sign the client assertion with PS256 (an RSA key) or \
                         ES256 (a P-256 key) (§5.4).",
                        c.client_assertion.alg.as_str()
                    ),
                );
            }
            if let Some(aud) = &c.client_assertion.audience
                && Some(aud.as_str()) != c.issuer.as_deref()
            {
                rule(
                    "client_assertion.audience",
                    "the client assertion's only audience is the issuer (§5.3.2.1); leave the \
                     field empty to use it.",
                );
            }
        }
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {}
        other => rule(
            "auth_method",
            &format!(
                "{} is not allowed; the client authenticates with private_key_jwt or mutual TLS \
                 (tls_client_auth, self_signed_tls_client_auth) (§5.3.2.1).",
                other.as_str()
            ),
        ),
    }
    if c.auth_method.is_mtls() && c.tls_client_cert.is_none() {
        rule(
            "tls_client_cert",
            "mutual TLS client authentication needs the client certificate.",
        );
    }
    if c.dpop.is_none() && c.tls_client_cert.is_none() {
        rule(
            "dpop",
            "tokens must be sender-constrained: turn DPoP on, or give a client certificate for \
             mTLS-bound tokens (§5.3.2.2).",
        );
    }
    if c.grant == GrantKind::AuthorizationCode {
        if !c.par {
            rule(
                "par",
                "authorization requests are pushed first (PAR, §5.3.2.2): turn on \"Push the \
                 request first\".",
            );
        }
        if let Some((i, p)) = c
            .authorize_params
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == "response_type" && p.value.trim() != "code")
        {
            rule(
                &format!("authorize_params[{i}]"),
                &format!(
                    "response_type \"{}\" is not allowed; only code (§5.3.2.2).",
                    p.value
                ),
            );
        }
    }
    if let Some(alg) = c.id_token_alg.as_deref()
        && !ALGS.contains(&alg)
    {
        rule(
            "id_token_alg",
            &format!(
                "{alg} is not allowed for ID tokens; choose PS256, ES256 or EdDSA, or leave it \
                 to the provider."
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpop::DpopAlg;
    use crate::profile::{ClientAssertion, Param};

    fn good() -> ProfileConfig {
        ProfileConfig {
            name: "fapi".into(),
            issuer: Some("https://as.example".into()),
            client_id: "c".into(),
            auth_method: AuthMethod::PrivateKeyJwt,
            client_assertion: ClientAssertion {
                alg: AssertionAlg::PS256,
                kid: None,
                audience: None,
            },
            fapi2: true,
            par: true,
            dpop: Some(DpopAlg::ES256),
            ..Default::default()
        }
    }

    fn fields(c: &ProfileConfig) -> Vec<String> {
        violations(c).into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_fapi_setup_passes_and_the_mode_off_checks_nothing() {
        assert!(violations(&good()).is_empty());
        let mut off = good();
        off.fapi2 = false;
        off.auth_method = AuthMethod::ClientSecretBasic;
        off.par = false;
        off.dpop = None;
        assert!(violations(&off).is_empty());
        let mut mtls = good();
        mtls.auth_method = AuthMethod::TlsClientAuth;
        mtls.tls_client_cert = Some("-----BEGIN CERTIFICATE-----".into());
        mtls.dpop = None;
        assert!(violations(&mtls).is_empty(), "{:?}", fields(&mtls));
    }

    #[test]
    fn each_broken_rule_is_named_under_its_field() {
        type Breaks = fn(&mut ProfileConfig);
        let cases: Vec<(&str, Breaks)> = vec![
            ("auth_method", |c| {
                c.auth_method = AuthMethod::ClientSecretBasic
            }),
            ("client_assertion.alg", |c| {
                c.client_assertion.alg = AssertionAlg::RS256
            }),
            ("client_assertion.audience", |c| {
                c.client_assertion.audience = Some("https://as.example/token".into())
            }),
            ("dpop", |c| c.dpop = None),
            ("par", |c| c.par = false),
            ("issuer", |c| c.issuer = None),
            ("id_token_alg", |c| c.id_token_alg = Some("RS256".into())),
            ("grant", |c| c.grant = GrantKind::JwtBearer),
            ("authorize_params[0]", |c| {
                c.authorize_params = vec![Param::new("response_type", "code id_token")]
            }),
        ];
        for (field, breaks) in cases {
            let mut c = good();
            breaks(&mut c);
            let got = violations(&c);
            assert_eq!(
                got.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                vec![field],
                "{field}"
            );
            assert!(
                got[0].message.starts_with("FAPI 2.0: "),
                "{}",
                got[0].message
            );
        }
    }
}
