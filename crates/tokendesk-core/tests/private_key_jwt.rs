//! `private_key_jwt` client authentication (RFC 7523 §2.2) against a real authorization server
//! (oidc-provider on loopback, clients registered with the public keys) and the real keychain.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::Trigger;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{AssertionAlg, AuthMethod, ClientAssertion, GrantKind};
use tokendesk_core::secret::{SecretKind, SecretStore, Sensitive};
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

fn key(p: &Provider, client: &str) -> Sensitive<String> {
    Sensitive::new(p.client_keys[client].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_with_rs256_ps256_and_es256_assertions() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    for (client, alg, kid) in [
        ("cc-jwt", AssertionAlg::RS256, "cc-jwt-rsa"),
        ("cc-jwt", AssertionAlg::PS256, "cc-jwt-rsa"),
        ("cc-jwt-ec", AssertionAlg::ES256, "cc-jwt-ec"),
    ] {
        let mut config = cc_config(&p, client, AuthMethod::PrivateKeyJwt);
        config.name = format!("{client}-{}", alg.as_str());
        config.client_assertion = ClientAssertion {
            alg,
            kid: Some(kid.into()),
            audience: None,
        };
        let profile = t
            .core
            .create_profile(config, Some(key(&p, client)))
            .await
            .unwrap();
        assert!(t.core.has_client_secret(&profile.id).await.unwrap());
        let token = t
            .core
            .fetch_token(&profile.id)
            .await
            .unwrap_or_else(|e| panic!("{}: {}", alg.as_str(), e.message));
        assert_eq!(token.grant, GrantKind::ClientCredentials);
        let value = t
            .core
            .reveal(&profile.id, SecretKind::AccessToken)
            .await
            .unwrap();
        let jwt = decode_jwt(value.expose()).expect("resource-server tokens are JWTs");
        assert_eq!(jwt.claims["client_id"], client, "{}", alg.as_str());

        // What went over the wire: an assertion and its type, no secret, and the exchange log
        // keeps the assertion out.
        let log = t.core.exchanges(&profile.id, 10).unwrap();
        let req = log
            .iter()
            .find(|e| e.operation == "token:client_credentials")
            .unwrap();
        assert!(
            req.request_body.contains("client_assertion=<redacted>")
                && req.request_body.contains(
                    "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                )
                && !req.request_body.contains("client_secret")
                && !req.request_body.contains("eyJ"),
            "{}",
            req.request_body
        );
        assert!(
            !req.request_headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("authorization"))
        );
    }
    // The private keys are in the keychain, under the profile's private_key entry, and nowhere
    // in the app's files.
    let pem = &p.client_keys["cc-jwt"];
    let body_line = pem.lines().nth(2).unwrap();
    for (path, bytes) in all_bytes(t.home.path()) {
        assert!(
            !contains(&bytes, body_line) && !contains(&bytes, "PRIVATE KEY"),
            "{} holds the private key",
            path.display()
        );
    }
    let id = t.core.profile("cc-jwt-RS256").unwrap().id;
    let stored = t.keychain.get(&id, SecretKind::PrivateKey).unwrap();
    assert_eq!(stored.map(|s| s.expose().clone()), Some(pem.clone()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_provider_does_not_hold_says_what_to_check_and_keeps_the_token() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .core
        .create_profile(
            cc_config(&p, "cc-jwt", AuthMethod::PrivateKeyJwt),
            Some(key(&p, "cc-jwt")),
        )
        .await
        .unwrap();
    let good = t.core.fetch_token(&profile.id).await.unwrap();
    // Another client's key: a valid RSA key, but not the one cc-jwt registered.
    t.core
        .set_client_secret(&profile.id, Some(key(&p, "web-app-jwt")))
        .await
        .unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(
        e.message.contains("private_key_jwt") && e.message.contains("public half"),
        "{}",
        e.message
    );
    let kept = t.core.token(&profile.id).unwrap().unwrap();
    assert_eq!(kept.access.fingerprint, good.access.fingerprint);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_not_a_signing_key_is_refused_before_it_is_stored() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let config = cc_config(&p, "cc-jwt", AuthMethod::PrivateKeyJwt);
    // At creation: nothing is created.
    let e = t
        .core
        .create_profile(
            config.clone(),
            Some(Sensitive::new("-----BEGIN PUBLIC KEY-----\nMIIB\n".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.fields[0].field, "private_key");
    assert!(t.core.list_profiles().unwrap().is_empty());
    // On replacing: the stored key stays.
    let profile = t
        .core
        .create_profile(config, Some(key(&p, "cc-jwt")))
        .await
        .unwrap();
    let e = t
        .core
        .set_client_secret(&profile.id, Some(key(&p, "cc-jwt-ec")))
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "private_key");
    assert!(e.message.contains("RS256") || e.fields[0].message.contains("RS256"));
    t.core.fetch_token(&profile.id).await.unwrap();
    // Without a key: says where to put one.
    t.core.set_client_secret(&profile.id, None).await.unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(
        e.message.contains("no private key is stored"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_refresh_introspect_and_revoke_authenticate_with_the_key() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = web_config(&p, &["openid", "offline_access"]);
    config.name = "web-app-jwt".into();
    config.client_id = "web-app-jwt".into();
    config.auth_method = AuthMethod::PrivateKeyJwt;
    let profile = t
        .core
        .create_profile(config, Some(key(&p, "web-app-jwt")))
        .await
        .unwrap();
    let browser = HeadlessLogin::default();
    let first = t
        .core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap();
    assert!(
        first.refresh.is_some(),
        "offline_access gives a refresh token"
    );
    let renewed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_ne!(renewed.access.fingerprint, first.access.fingerprint);
    let answer = t
        .core
        .introspect(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "web-app-jwt");
    t.core
        .revoke(&profile.id, TokenHint::RefreshToken)
        .await
        .unwrap();
    assert_eq!(
        t.core
            .introspect(&profile.id, TokenHint::RefreshToken)
            .await
            .unwrap()["active"],
        false
    );
    // Every client-authenticated request carried an assertion, none a secret.
    for x in t.core.exchanges(&profile.id, 50).unwrap() {
        if x.url.contains("/token") {
            assert!(
                x.request_body.contains("client_assertion=<redacted>"),
                "{} {}",
                x.operation,
                x.request_body
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_request_object_carries_the_authorization_request() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = web_config(&p, &["openid", "offline_access"]);
    config.name = "web-app-jar".into();
    config.client_id = "web-app-jar".into();
    config.auth_method = AuthMethod::PrivateKeyJwt;
    config.client_assertion = ClientAssertion {
        alg: AssertionAlg::ES256,
        kid: Some("web-app-jar-ec".into()),
        audience: None,
    };
    // This client must sign its requests: a plain one is refused at the provider.
    let profile = t
        .core
        .create_profile(config.clone(), Some(key(&p, "web-app-jar")))
        .await
        .unwrap();
    let browser = HeadlessLogin::default();
    let e = t
        .core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap_err();
    assert!(e.message.contains("refused the sign-in"), "{}", e.message);

    config.signed_request = true;
    t.core.update_profile(&profile.id, config).await.unwrap();
    let started = t.core.begin_login(&profile.id).await.unwrap();
    let url = url::Url::parse(&started.auth_url).unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["response_type", "client_id", "scope", "request"]);
    t.core.cancel_login(&started.login_id);
    let token = t
        .core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap();
    assert!(
        token.id_token.is_some(),
        "signed in: the ID token came back"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_jwt_signs_with_the_secret_and_never_sends_it() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    const SECRET: &str = "cc-secret-jwt-0123456789abcdef0123456789abcdef0123456789abcdef0123";
    for alg in [AssertionAlg::HS256, AssertionAlg::HS512] {
        let mut config = cc_config(&p, "cc-secret-jwt", AuthMethod::ClientSecretJwt);
        config.name = format!("secret-jwt-{}", alg.as_str());
        config.client_assertion.alg = alg;
        let profile = t.add(config, Some(SECRET)).await;
        t.core
            .fetch_token(&profile.id)
            .await
            .unwrap_or_else(|e| panic!("{}: {}", alg.as_str(), e.message));
        let log = t.core.exchanges(&profile.id, 10).unwrap();
        let request = &log.last().unwrap().request_body;
        assert!(
            request.contains("client_assertion=<redacted>")
                && request.contains("client_assertion_type=")
                && !request.contains("client_secret="),
            "{request}"
        );
    }
    // A wrong secret is refused by the provider, with the usual hint.
    let mut config = cc_config(&p, "cc-secret-jwt", AuthMethod::ClientSecretJwt);
    config.name = "secret-jwt-wrong".into();
    config.client_assertion.alg = AssertionAlg::HS256;
    let profile = t
        .add(
            config,
            Some("not-the-secret-0123456789abcdef0123456789abcdef"),
        )
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e.message);
    // client_secret_jwt with a key algorithm is refused when saved.
    let mut config = cc_config(&p, "cc-secret-jwt", AuthMethod::ClientSecretJwt);
    config.name = "secret-jwt-rs".into();
    let e = t
        .core
        .create_profile(config, Some(Sensitive::new(SECRET.into())))
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "client_assertion.alg");
}
