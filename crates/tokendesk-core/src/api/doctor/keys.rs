//! Keys: the provider's JWKS (reachable, a JWKS, holding a key for the algorithm the profile
//! expects) and the client's own — the signing key (it parses, and its public half ready to
//! register), the TLS client certificate (its key matches, days to expiry), the DPoP key.

use jsonwebtoken::jwk::AlgorithmParameters;

use super::{Core, Creds};
use crate::doctor::{CheckRow, Layer, Status, certificate};
use crate::flow::SignIn;
use crate::http::TlsSetup;
use crate::profile::{AuthMethod, Endpoint, Profile};

impl Core {
    pub(super) async fn check_keys(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        creds: &Creds,
    ) -> (Vec<CheckRow>, ()) {
        let c = &profile.config;
        let mut rows = Vec::new();
        let wants_jwks = c.jarm
            || (c.grant.spec().sign_in != SignIn::None && c.scopes.iter().any(|s| s == "openid"));
        if wants_jwks {
            rows.push(self.check_jwks(profile, tls).await);
        }
        if c.auth_method == AuthMethod::PrivateKeyJwt || c.signed_request {
            let row = CheckRow::new("client:signing_key", Layer::Client, "Signing key");
            let alg = c.client_assertion.alg;
            rows.push(match creds.signing_key(c) {
                None => row.fail(
                    "No signing key is stored for the profile.",
                    "Add the client's private key (PEM) to the profile; it is kept in the OS \
                     keychain.",
                ),
                Some(pem) => match crate::flow::assertion::signing_key(alg, pem.expose()) {
                    Err(e) => row.fail(
                        e.message,
                        "Store the private key that belongs to the \
                                                   registered public key, in PEM.",
                    ),
                    Ok(_) => match crate::flow::public_key::public_jwk(alg, pem.expose()) {
                        Ok(jwk) => row.pass(format!(
                            "The key signs with {}. Its public half, to register with the provider \
                             (thumbprint {}): {jwk}",
                            alg.as_str(),
                            jwk["kid"].as_str().unwrap_or_default()
                        )),
                        Err(e) => row.pass(format!(
                            "The key signs with {} (its public JWK could not be derived: {e}).",
                            alg.as_str()
                        )),
                    },
                },
            });
        }
        if let Some(cert) = &c.tls_client_cert {
            let row = CheckRow::new(
                "client:tls_certificate",
                Layer::Client,
                "Client certificate",
            );
            let row = match certificate::from_pem(cert) {
                Err(e) => row.fail(
                    format!("The profile's client certificate is {e}."),
                    "Paste the client certificate (chain) in PEM into the profile.",
                ),
                Ok(facts) => {
                    let (status, said) = facts.judge(self.now());
                    let key = match (&creds.tls_key, tls.check()) {
                        (None, _) => Err("its private key is not stored".to_owned()),
                        (Some(_), Err(e)) => Err(e.message),
                        (Some(_), Ok(())) => Ok(()),
                    };
                    match (status, key) {
                        (_, Err(e)) => row.fail(
                            format!("{said}, but {e}"),
                            "Store the private key that belongs to this certificate (PEM); it \
                             is kept in the OS keychain.",
                        ),
                        (Status::Fail, _) => row.fail(
                            format!("{said} (issued by {}).", facts.issuer),
                            "Get a new client certificate, register it with the provider, and \
                             put it in the profile.",
                        ),
                        (Status::Warn, _) => row.warn(
                            format!("{said} (issued by {}); its key matches.", facts.issuer),
                            "Renew the client certificate before it expires, and register the new \
                             one with the provider.",
                        ),
                        _ => row.pass(format!(
                            "{said} (issued by {}); its key matches.",
                            facts.issuer
                        )),
                    }
                }
            };
            rows.push(row);
        }
        if c.dpop.is_some() {
            let row = CheckRow::new("client:dpop_key", Layer::Client, "DPoP key");
            rows.push(
                match creds
                    .dpop_key
                    .as_ref()
                    .map(|k| crate::dpop::DpopKey::from_private_jwk(k.expose()))
                {
                    None => row.pass("No DPoP key yet: TokenDesk makes one at the first sign-in."),
                    Some(Ok(key)) => row.pass(format!(
                        "Tokens are bound to the key with thumbprint (jkt) {}; public JWK {}",
                        key.thumbprint(),
                        key.public_jwk()
                    )),
                    Some(Err(e)) => row.fail(
                        e.message,
                        "Forget the stored DPoP key (a new one is made at the next sign-in).",
                    ),
                },
            );
        }
        (rows, ())
    }

    async fn check_jwks(&self, profile: &Profile, tls: &TlsSetup) -> CheckRow {
        let row = CheckRow::new("provider:jwks", Layer::Provider, "Signing keys (JWKS)");
        let Some(uri) = profile.endpoint(Endpoint::Jwks) else {
            return row.fail(
                "The provider names no JWKS URI: ID tokens cannot be verified.",
                "Set the JWKS URI in the profile (or an issuer to discover it from).",
            );
        };
        let call = self.plain_call(profile, "jwks").with_tls(tls.clone());
        let fetched = super::super::calls::fetch_jwks(&call, uri).await;
        let exchanges = call.take_records();
        let jwks = match fetched {
            Ok(j) => j,
            Err(e) => {
                return row
                    .fail(
                        e.message,
                        "Check the JWKS URI (the profile's, or discovery's jwks_uri).",
                    )
                    .with_exchanges(exchanges);
            }
        };
        // The algorithm the profile expects; without one, any public-key signature will do.
        let expected = profile.config.id_token_alg.clone();
        let fits = |k: &jsonwebtoken::jwk::Jwk| {
            let Some(expected) = expected.as_deref() else {
                return !matches!(k.algorithm, AlgorithmParameters::OctetKey(_));
            };
            let family = match &k.algorithm {
                AlgorithmParameters::RSA(_) => {
                    expected.starts_with("RS") || expected.starts_with("PS")
                }
                AlgorithmParameters::EllipticCurve(_) => expected.starts_with("ES"),
                AlgorithmParameters::OctetKeyPair(_) => expected == "EdDSA",
                AlgorithmParameters::OctetKey(_) => false,
            };
            let named = k
                .common
                .key_algorithm
                .map(|a| format!("{a:?}") == expected)
                .unwrap_or(true);
            family && named
        };
        let wanted = expected
            .clone()
            .unwrap_or_else(|| "a public-key signature".into());
        let usable: Vec<String> = jwks
            .keys
            .iter()
            .filter(|k| fits(k))
            .map(|k| k.common.key_id.clone().unwrap_or_else(|| "(no kid)".into()))
            .collect();
        let row = if usable.is_empty() {
            row.fail(
                format!(
                    "{uri} holds {} key{}, none for {wanted}.",
                    jwks.keys.len(),
                    if jwks.keys.len() == 1 { "" } else { "s" }
                ),
                format!(
                    "The profile expects ID tokens signed with {wanted}: set the algorithm the \
                     provider signs with, or ask the provider for a {wanted} key."
                ),
            )
        } else {
            row.pass(format!(
                "{uri} holds {} key{}; for {wanted}: {}.",
                jwks.keys.len(),
                if jwks.keys.len() == 1 { "" } else { "s" },
                usable.join(", ")
            ))
        };
        row.with_exchanges(exchanges)
    }
}
