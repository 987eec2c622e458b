//! Mutual TLS (RFC 8705) against a real authorization server: oidc-provider over HTTPS with a
//! test CA, asking for client certificates; the certificate authenticates the client
//! (`tls_client_auth`) and the access token is bound to it (`cnf.x5t#S256`).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::Digest as _;
use tokendesk_core::ErrorCode;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{AuthMethod, ProfileConfig};
use tokendesk_core::secret::{SecretKind, SecretStore, Sensitive};
use tokendesk_testkit::*;

fn mtls_config(p: &Provider, tls: &TlsFixture, cert: &str) -> ProfileConfig {
    ProfileConfig {
        tls_client_cert: Some(cert.to_owned()),
        tls_ca: Some(tls.ca_pem.clone()),
        ..cc_config(p, "cc-mtls", AuthMethod::TlsClientAuth)
    }
}

/// A profile with the given certificate's key stored.
async fn mtls_profile(
    t: &TestCore,
    config: ProfileConfig,
    key: &str,
) -> tokendesk_core::profile::Profile {
    let profile = t.core.create_profile(config, None).await.unwrap();
    t.core
        .set_tls_key(&profile.id, Some(Sensitive::new(key.to_owned())))
        .await
        .unwrap();
    profile
}

/// The SHA-256 thumbprint of a PEM certificate, as `x5t#S256` carries it.
fn thumbprint(pem: &str) -> String {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(STANDARD.decode(body).unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_certificate_authenticates_and_binds_the_token() {
    let tls = TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let t = TestCore::new();
    let profile = t
        .core
        .create_profile(mtls_config(&p, &tls, &tls.client_cert_pem), None)
        .await
        .unwrap();
    // Discovery reads a public document: it needs the CA, not the certificate's key.
    t.core.discover(&profile.id).await.unwrap();
    // The certificate without its key: says what is missing.
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(
        e.message.contains("private key is not stored"),
        "{}",
        e.message
    );

    t.core
        .set_tls_key(
            &profile.id,
            Some(Sensitive::new(tls.client_key_pem.clone())),
        )
        .await
        .unwrap();
    assert!(t.core.has_tls_key(&profile.id).await.unwrap());
    let token = t.core.fetch_token(&profile.id).await.unwrap();
    let value = t
        .core
        .reveal(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let jwt = decode_jwt(value.expose()).unwrap();
    assert_eq!(jwt.claims["client_id"], "cc-mtls");
    assert_eq!(
        jwt.claims["cnf"]["x5t#S256"],
        thumbprint(&tls.client_cert_pem),
        "the token is bound to our certificate"
    );
    assert!(token.access_expires_at.is_some());
    // The token request went to the provider's mTLS alias of the token endpoint (RFC 8705 §5).
    let log = t.core.exchanges(&profile.id, 10).unwrap();
    let request = log
        .iter()
        .find(|x| x.operation == "token:client_credentials")
        .unwrap();
    assert!(
        request.url.starts_with("https://localhost:") && request.url.ends_with("/token"),
        "{}",
        request.url
    );
    // The key is in the keychain only.
    assert_eq!(
        t.keychain
            .get(&profile.id, SecretKind::TlsKey)
            .unwrap()
            .map(|k| k.expose().clone()),
        Some(tls.client_key_pem.clone())
    );
    for (path, bytes) in all_bytes(t.home.path()) {
        assert!(
            !contains(&bytes, "PRIVATE KEY"),
            "{} holds the key",
            path.display()
        );
    }
    // A duplicate carries the certificate and its key: it gets a token of its own.
    let copy = t
        .core
        .duplicate_profile(&profile.id, "mtls copy")
        .await
        .unwrap();
    assert!(t.core.has_tls_key(&copy.id).await.unwrap());
    t.core.fetch_token(&copy.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_from_an_untrusted_ca_is_refused_with_what_to_check() {
    let tls = TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let t = TestCore::new();
    let profile = mtls_profile(
        &t,
        mtls_config(&p, &tls, &tls.rogue_cert_pem),
        &tls.rogue_key_pem,
    )
    .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(
        e.message.contains("tls_client_auth") && e.message.contains("CA the provider trusts"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_and_certificates_are_checked_before_they_are_stored() {
    let tls = TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let t = TestCore::new();
    // tls_client_auth without a certificate; a key where a certificate belongs.
    let mut config = cc_config(&p, "cc-mtls", AuthMethod::TlsClientAuth);
    let e = t
        .core
        .create_profile(config.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "tls_client_cert");
    config.tls_client_cert = Some(tls.client_key_pem.clone());
    let e = t
        .core
        .create_profile(config.clone(), None)
        .await
        .unwrap_err();
    assert!(
        e.fields
            .iter()
            .any(|f| f.field == "tls_client_cert" && f.message.contains("BEGIN CERTIFICATE"))
    );

    let profile = t
        .core
        .create_profile(mtls_config(&p, &tls, &tls.client_cert_pem), None)
        .await
        .unwrap();
    // Another certificate's key does not pair with this certificate.
    let e = t
        .core
        .set_tls_key(&profile.id, Some(Sensitive::new(tls.rogue_key_pem.clone())))
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "tls_key");
    assert!(!t.core.has_tls_key(&profile.id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_test_ca_the_server_certificate_is_not_trusted() {
    let tls = TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let t = TestCore::new();
    let mut config = mtls_config(&p, &tls, &tls.client_cert_pem);
    config.tls_ca = None;
    let profile = mtls_profile(&t, config, &tls.client_key_pem).await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Tls, "{}", e.message);
    assert!(e.message.contains("certificate"), "{}", e.message);
}
