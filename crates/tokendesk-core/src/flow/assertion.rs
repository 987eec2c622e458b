//! Client assertions for `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a short-lived JWT
//! signed with the client's private key stands in for a client secret on every request that
//! authenticates the client (token, refresh, code exchange, revocation, introspection).

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{AssertionAlg, AuthMethod, Endpoint, Profile};
use crate::secret::Sensitive;

/// `client_assertion_type` for a JWT (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion is valid: one request's worth, with room for clock skew.
const LIFETIME_SECS: i64 = 60;

pub(crate) fn algorithm(alg: AssertionAlg) -> Algorithm {
    match alg {
        AssertionAlg::RS256 => Algorithm::RS256,
        AssertionAlg::PS256 => Algorithm::PS256,
        AssertionAlg::ES256 => Algorithm::ES256,
        AssertionAlg::HS256 => Algorithm::HS256,
        AssertionAlg::HS384 => Algorithm::HS384,
        AssertionAlg::HS512 => Algorithm::HS512,
    }
}

/// Reads a PEM private key for `alg`, and proves it can sign. The error names the field
/// `private_key` and says which kind of key the algorithm needs.
pub fn signing_key(alg: AssertionAlg, pem: &str) -> Result<EncodingKey> {
    let (kind, key) = match alg {
        AssertionAlg::RS256 | AssertionAlg::PS256 => {
            ("an RSA", EncodingKey::from_rsa_pem(pem.as_bytes()))
        }
        AssertionAlg::ES256 => ("a P-256 EC", EncodingKey::from_ec_pem(pem.as_bytes())),
        AssertionAlg::HS256 | AssertionAlg::HS384 | AssertionAlg::HS512 => {
            return Err(Error::invalid_field(
                "client_assertion.alg",
                format!(
                    "{} is keyed by the client secret, not a private key: a private key signs \
                     with RS256, PS256 or ES256.",
                    alg.as_str()
                ),
            ));
        }
    };
    let refuse = |why: String| {
        Error::invalid_field(
            "private_key",
            format!(
                "{} needs {kind} private key in PEM (\"-----BEGIN PRIVATE KEY-----\", PKCS#8, or \
                 the traditional RSA / EC form): {why}. A public key or a certificate does not \
                 sign; the provider holds those.",
                alg.as_str()
            ),
        )
    };
    let key = key.map_err(|e| refuse(e.to_string()))?;
    // Parsing alone accepts some keys that cannot sign (a wrong curve, a truncated body).
    jsonwebtoken::encode(&Header::new(algorithm(alg)), &serde_json::json!({}), &key)
        .map_err(|e| refuse(e.to_string()))?;
    Ok(key)
}

/// The form parameters that authenticate a `private_key_jwt` client (an assertion signed with
/// its key) or a `client_secret_jwt` one (signed with its secret); none for other methods.
pub fn params(
    profile: &Profile,
    credential: Option<&Sensitive<String>>,
    now: Millis,
) -> Result<Vec<(String, String)>> {
    let method = profile.config.auth_method;
    if !matches!(
        method,
        AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
    ) {
        return Ok(Vec::new());
    }
    let Some(credential) = credential else {
        let what = match method {
            AuthMethod::PrivateKeyJwt => {
                "no private key is stored. Add the client's private key (PEM)"
            }
            _ => "no client secret is stored. Add the client secret",
        };
        return Err(Error::new(
            ErrorCode::InvalidClient,
            format!(
                "Profile \"{}\" uses {} but {what} in the profile; it is kept in the OS keychain.",
                profile.config.name,
                method.as_str()
            ),
        ));
    };
    Ok(vec![
        ("client_assertion_type".into(), ASSERTION_TYPE.into()),
        ("client_assertion".into(), sign(profile, credential, now)?),
    ])
}

/// Signs one assertion: `iss` and `sub` the client id, `aud` the token endpoint (or the
/// profile's audience; in FAPI 2.0 mode the issuer), a fresh `jti`, valid for
/// [`LIFETIME_SECS`].
pub fn sign(profile: &Profile, key_pem: &Sensitive<String>, now: Millis) -> Result<String> {
    let c = &profile.config;
    let audience = match (&c.client_assertion.audience, profile.issuer()) {
        (Some(a), _) => a.clone(),
        // FAPI 2.0 §5.3.2.1: the issuer is the assertion's only audience.
        (None, Some(issuer)) if c.fapi2 => issuer.to_owned(),
        (None, _) => profile.require_endpoint(Endpoint::Token)?.to_owned(),
    };
    let iat = now / 1000;
    let claims = serde_json::json!({
        "iss": c.client_id,
        "sub": c.client_id,
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": iat,
        "exp": iat + LIFETIME_SECS,
    });
    sign_jwt(profile, key_pem, "JWT", &claims)
}

/// Makes the profile's generated client secret (Sign in with Apple): `iss` and `kid` as the
/// profile says, `sub` the client id, `aud` the audience, valid from `now` for the profile's
/// lifetime; signed with the profile's algorithm. `None` for a profile without one.
pub fn generated_secret(
    profile: &Profile,
    key_pem: &Sensitive<String>,
    now: Millis,
) -> Result<Option<Sensitive<String>>> {
    let Some(g) = &profile.config.generated_secret else {
        return Ok(None);
    };
    let alg = profile.config.client_assertion.alg;
    let key = signing_key(alg, key_pem.expose())?;
    let iat = now / 1000;
    let claims = serde_json::json!({
        "iss": g.issuer,
        "iat": iat,
        "exp": iat + i64::from(g.lifetime_secs),
        "aud": g.audience,
        "sub": profile.config.client_id,
    });
    let mut header = Header::new(algorithm(alg));
    header.kid = Some(g.key_id.clone());
    jsonwebtoken::encode(&header, &claims, &key)
        .map(|jwt| Some(Sensitive::new(jwt)))
        .map_err(|e| Error::internal(e.to_string()))
}

/// Signs `claims` with the client's key, algorithm and `kid`, with the given `typ`.
pub(crate) fn sign_jwt(
    profile: &Profile,
    key_pem: &Sensitive<String>,
    typ: &str,
    claims: &serde_json::Value,
) -> Result<String> {
    let a = &profile.config.client_assertion;
    let key = if a.alg.is_hmac() && profile.config.auth_method == AuthMethod::ClientSecretJwt {
        // client_secret_jwt: the "key" is the client secret.
        EncodingKey::from_secret(key_pem.expose().as_bytes())
    } else {
        signing_key(a.alg, key_pem.expose())?
    };
    let mut header = Header::new(algorithm(a.alg));
    header.typ = Some(typ.into());
    header.kid = a.kid.clone();
    jsonwebtoken::encode(&header, claims, &key).map_err(|e| Error::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Endpoints, ProfileConfig, ProfileId};
    use jsonwebtoken::{DecodingKey, Validation};

    // Test-only keys, generated for these tests (`openssl genpkey`); they sign nothing else.
    const RSA_KEY: &str = include_str!("testdata/rsa-2048.pem");
    const RSA_PUB: &str = include_str!("testdata/rsa-2048.pub.pem");
    const EC_KEY: &str = include_str!("testdata/ec-p256.pem");
    const EC_PUB: &str = include_str!("testdata/ec-p256.pub.pem");

    fn profile(alg: AssertionAlg) -> Profile {
        Profile {
            id: ProfileId::from("p1"),
            config: ProfileConfig {
                name: "psd2".into(),
                client_id: "tpp-1".into(),
                auth_method: AuthMethod::PrivateKeyJwt,
                client_assertion: crate::profile::ClientAssertion {
                    alg,
                    kid: Some("key-1".into()),
                    audience: None,
                },
                endpoints: Endpoints {
                    token: Some("https://bank.example/oauth/token".into()),
                    ..Endpoints::default()
                },
                ..ProfileConfig::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn verify(jwt: &str, alg: Algorithm, key: DecodingKey) -> (Header, serde_json::Value) {
        let mut v = Validation::new(alg);
        v.set_audience(&["https://bank.example/oauth/token"]);
        v.set_issuer(&["tpp-1"]);
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v).expect("verifies");
        (data.header, data.claims)
    }

    #[test]
    fn a_generated_secret_is_apples_es256_jwt_made_fresh() {
        let mut p = profile(AssertionAlg::ES256);
        p.config.auth_method = AuthMethod::ClientSecretPost;
        p.config.client_id = "com.example.web".into();
        p.config.generated_secret = Some(crate::profile::GeneratedSecret {
            issuer: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            audience: "https://appleid.apple.com".into(),
            lifetime_secs: 600,
        });
        let key = Sensitive::new(EC_KEY.to_owned());
        let first = generated_secret(&p, &key, 1_700_000_000_000)
            .unwrap()
            .unwrap();
        let header = jsonwebtoken::decode_header(first.expose()).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&["https://appleid.apple.com"]);
        v.set_issuer(&["TEAM123456"]);
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            first.expose(),
            &DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(),
            &v,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["exp"], 1_700_000_600);
        let later = generated_secret(&p, &key, 1_700_000_300_000)
            .unwrap()
            .unwrap();
        assert_ne!(
            later.expose(),
            first.expose(),
            "made fresh, never reused past its time"
        );

        p.config.generated_secret = None;
        assert!(generated_secret(&p, &key, 0).unwrap().is_none());
        let mut rsa = profile(AssertionAlg::ES256);
        rsa.config.generated_secret = Some(crate::profile::GeneratedSecret {
            issuer: "T".into(),
            key_id: "K".into(),
            audience: "A".into(),
            lifetime_secs: 60,
        });
        let e = generated_secret(&rsa, &Sensitive::new(RSA_KEY.to_owned()), 0).unwrap_err();
        assert!(e.message.contains("P-256"), "{}", e.message);
    }

    #[test]
    fn an_rs256_assertion_verifies_with_the_public_key() {
        let p = profile(AssertionAlg::RS256);
        let jwt = sign(&p, &Sensitive::new(RSA_KEY.into()), 1_700_000_000_000).unwrap();
        let (header, claims) = verify(
            &jwt,
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(RSA_PUB.as_bytes()).unwrap(),
        );
        assert_eq!(header.kid.as_deref(), Some("key-1"));
        assert_eq!(claims["sub"], "tpp-1");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["exp"], 1_700_000_060);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
    }

    #[test]
    fn ps256_and_es256_sign_with_their_keys() {
        let ps = sign(
            &profile(AssertionAlg::PS256),
            &Sensitive::new(RSA_KEY.into()),
            0,
        )
        .unwrap();
        verify(
            &ps,
            Algorithm::PS256,
            DecodingKey::from_rsa_pem(RSA_PUB.as_bytes()).unwrap(),
        );
        let es = sign(
            &profile(AssertionAlg::ES256),
            &Sensitive::new(EC_KEY.into()),
            0,
        )
        .unwrap();
        verify(
            &es,
            Algorithm::ES256,
            DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(),
        );
    }

    #[test]
    fn every_assertion_has_its_own_jti() {
        let p = profile(AssertionAlg::ES256);
        let key = Sensitive::new(EC_KEY.into());
        assert_ne!(sign(&p, &key, 0).unwrap(), sign(&p, &key, 0).unwrap());
    }

    #[test]
    fn a_key_that_does_not_fit_the_algorithm_is_refused_with_what_to_paste() {
        for (alg, pem) in [
            (AssertionAlg::RS256, EC_KEY),
            (AssertionAlg::ES256, RSA_KEY),
            (AssertionAlg::RS256, RSA_PUB),
            (AssertionAlg::RS256, "not a key"),
        ] {
            let Err(e) = signing_key(alg, pem) else {
                panic!("{} accepted a key it cannot use", alg.as_str())
            };
            assert_eq!(e.fields[0].field, "private_key");
            assert!(
                e.fields[0].message.contains("PEM"),
                "{}",
                e.fields[0].message
            );
        }
    }

    #[test]
    fn other_methods_add_nothing_and_a_missing_key_says_where_to_put_it() {
        let mut p = profile(AssertionAlg::RS256);
        assert_eq!(
            params(&p, None, 0).unwrap_err().code,
            ErrorCode::InvalidClient
        );
        let with = params(&p, Some(&Sensitive::new(RSA_KEY.into())), 0).unwrap();
        assert_eq!(
            with[0],
            ("client_assertion_type".into(), ASSERTION_TYPE.into())
        );
        p.config.auth_method = AuthMethod::ClientSecretPost;
        assert!(params(&p, None, 0).unwrap().is_empty());
    }
}
