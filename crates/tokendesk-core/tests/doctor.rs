//! The setup check against oidc-provider with seeded faults, one per check, each of which the
//! check must name — and a healthy profile that passes. Nothing the check does is stored.

use tokendesk_core::doctor::{CheckRow, SetupReport, Status};
use tokendesk_core::profile::{AuthMethod, Endpoints, Profile, ProfileConfig};
use tokendesk_core::secret::Sensitive;
use tokendesk_testkit::*;

fn row<'a>(r: &'a SetupReport, id: &str) -> &'a CheckRow {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id} row in {:#?}", r.checks))
}

fn failed(r: &SetupReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}", c.id, c.seen))
        .collect()
}

async fn check(
    t: &TestCore,
    config: ProfileConfig,
    secret: Option<&str>,
) -> (Profile, SetupReport) {
    let profile = t.add(config, secret).await;
    let report = t.core.check_setup(&profile.id).await.unwrap();
    (profile, report)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_profile_passes_and_nothing_is_stored() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    for (config, secret) in [
        (
            cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic),
            "cc-basic-secret",
        ),
        (
            web_config(&p, &["openid", "offline_access"]),
            "web-app-secret",
        ),
    ] {
        let (profile, report) = check(&t, config, Some(secret)).await;
        assert!(failed(&report).is_empty(), "{:#?}", report.checks);
        assert_eq!(report.worst(), Status::Pass, "{:#?}", report.checks);
        for id in [
            "provider:discovery",
            "provider:clock",
            "client:authentication",
        ] {
            assert_eq!(row(&report, id).status, Status::Pass, "{id}");
        }
        assert!(
            report
                .checks
                .iter()
                .any(|c| c.id.starts_with("network:127.0.0.1:")),
            "{:#?}",
            report.checks
        );
        // What each check sent and received is in its row, not in the exchange log; the
        // discovered metadata was not stored, no token was.
        assert!(!row(&report, "client:authentication").exchanges.is_empty());
        let after = t.core.profile(&profile.config.name).unwrap();
        assert!(after.metadata.is_none(), "discovery stored nothing");
        assert!(t.core.token(&profile.id).unwrap().is_none());
        assert!(t.core.exchanges(&profile.id, 10).unwrap().is_empty());
        eprintln!(
            "{}: checked in {} ms",
            profile.config.name, report.duration_ms
        );
    }
    // The web profile's authorization request was accepted before any sign-in.
    let (_, report) = check(
        &t,
        ProfileConfig {
            name: "web 2".into(),
            ..web_config(&p, &["openid"])
        },
        Some("web-app-secret"),
    )
    .await;
    let redirect = row(&report, "client:redirect");
    assert_eq!(redirect.status, Status::Pass, "{}", redirect.seen);
    assert!(
        redirect.seen.contains("accepted the client id"),
        "{}",
        redirect.seen
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_seeded_fault_is_named_by_its_check() {
    let p = Provider::start(&[]);
    let t = TestCore::new();

    // A wrong secret.
    let (_, r) = check(
        &t,
        cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic),
        Some("wrong"),
    )
    .await;
    let auth = row(&r, "client:authentication");
    assert_eq!(auth.status, Status::Fail);
    assert!(auth.seen.contains("invalid_client"), "{}", auth.seen);
    assert!(
        auth.fix.as_deref().unwrap().contains("secret"),
        "{:?}",
        auth.fix
    );

    // Basic where the client is registered for post: the other method is tried and named.
    let (_, r) = check(
        &t,
        cc_config(&p, "cc-post", AuthMethod::ClientSecretBasic),
        Some("cc-post-secret"),
    )
    .await;
    let auth = row(&r, "client:authentication");
    assert_eq!(auth.status, Status::Fail);
    assert!(
        auth.fix
            .as_deref()
            .unwrap()
            .contains("switch the profile's authentication method")
            && auth.fix.as_deref().unwrap().contains("client_secret_post"),
        "{:?}",
        auth.fix
    );
    // The same fault for a sign-in client (no client-credentials grant): found with a made-up
    // code, without a sign-in.
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "post as basic".into(),
            client_id: "web-app-post".into(),
            ..web_config(&p, &["openid"])
        },
        Some("web-app-post-secret"),
    )
    .await;
    let auth = row(&r, "client:authentication");
    assert_eq!(auth.status, Status::Fail, "{}", auth.seen);
    assert!(
        auth.fix.as_deref().unwrap().contains("client_secret_post"),
        "{:?}",
        auth.fix
    );

    // An issuer with an extra trailing slash.
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "slash".into(),
            issuer: Some(format!("{}/", p.issuer)),
            ..cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic)
        },
        Some("cc-basic-secret"),
    )
    .await;
    let d = row(&r, "provider:discovery");
    assert_eq!(d.status, Status::Warn);
    assert!(d.seen.contains("trailing slash"), "{}", d.seen);

    // A scope the provider does not advertise.
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "scope".into(),
            ..web_config(&p, &["openid", "made-up-scope"])
        },
        Some("web-app-secret"),
    )
    .await;
    let s = row(&r, "provider:scopes");
    assert_eq!(s.status, Status::Warn);
    assert!(s.seen.contains("made-up-scope"), "{}", s.seen);

    // A non-loopback redirect URI the client does not have.
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "redirect".into(),
            redirect_uri: Some("https://app.example/callback".into()),
            ..web_config(&p, &["openid"])
        },
        Some("web-app-secret"),
    )
    .await;
    let red = row(&r, "client:redirect");
    assert_eq!(red.status, Status::Fail, "{}", red.seen);
    assert!(red.seen.contains("redirect_uri"), "{}", red.seen);
    assert!(
        red.fix
            .as_deref()
            .unwrap()
            .contains("https://app.example/callback")
    );

    // An RS256 key where ES256 is expected.
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "es256".into(),
            id_token_alg: Some("ES256".into()),
            ..web_config(&p, &["openid"])
        },
        Some("web-app-secret"),
    )
    .await;
    let keys = row(&r, "provider:jwks");
    assert_eq!(keys.status, Status::Fail, "{}", keys.seen);
    assert!(keys.seen.contains("none for ES256"), "{}", keys.seen);

    // An unreachable endpoint (nothing listens on port 1).
    let (_, r) = check(
        &t,
        ProfileConfig {
            name: "unreachable".into(),
            issuer: None,
            endpoints: Endpoints {
                token: Some("http://127.0.0.1:1/token".into()),
                ..Default::default()
            },
            ..cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic)
        },
        Some("cc-basic-secret"),
    )
    .await;
    let net = row(&r, "network:127.0.0.1:1");
    assert_eq!(net.status, Status::Fail);
    assert!(net.seen.contains("TCP: cannot connect"), "{}", net.seen);
    assert_eq!(row(&r, "provider:discovery").status, Status::Skipped);
    // The other checks still ran.
    assert_eq!(row(&r, "tokens:keychain").status, Status::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_clock_ten_minutes_off_fails() {
    let p = Provider::start(&["--clock-offset=-600"]);
    let t = TestCore::new();
    let (_, r) = check(
        &t,
        cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic),
        Some("cc-basic-secret"),
    )
    .await;
    let clock = row(&r, "provider:clock");
    assert_eq!(clock.status, Status::Fail, "{}", clock.seen);
    assert!(
        clock.seen.contains("10 min") && clock.seen.contains("ahead"),
        "{}",
        clock.seen
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_self_signed_expired_and_good() {
    let tls = TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let t = TestCore::new();
    // The provider's certificate from a CA the profile does not trust.
    let (_, r) = check(
        &t,
        cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic),
        Some("cc-basic-secret"),
    )
    .await;
    let net = r
        .checks
        .iter()
        .find(|c| c.id.starts_with("network:127.0.0.1:"))
        .expect("a network row");
    assert_eq!(net.status, Status::Fail, "{}", net.seen);
    assert!(
        net.fix.as_deref().unwrap().contains("extra CA"),
        "{:?}",
        net.fix
    );
    assert_eq!(row(&r, "provider:discovery").status, Status::Fail);

    // Trusted, with a client certificate that expired.
    let config = |name: &str, cert: &str| ProfileConfig {
        name: name.into(),
        tls_client_cert: Some(cert.to_owned()),
        tls_ca: Some(tls.ca_pem.clone()),
        ..cc_config(&p, "cc-mtls", AuthMethod::TlsClientAuth)
    };
    let profile = t
        .add(config("mtls expired", &tls.expired_cert_pem), None)
        .await;
    t.core
        .set_tls_key(
            &profile.id,
            Some(Sensitive::new(tls.expired_key_pem.clone())),
        )
        .await
        .unwrap();
    let r = t.core.check_setup(&profile.id).await.unwrap();
    let cert = row(&r, "client:tls_certificate");
    assert_eq!(cert.status, Status::Fail, "{}", cert.seen);
    assert!(cert.seen.contains("expired"), "{}", cert.seen);

    // The good one: the provider's certificate is judged, the client certificate accepted.
    let profile = t.add(config("mtls good", &tls.client_cert_pem), None).await;
    t.core
        .set_tls_key(
            &profile.id,
            Some(Sensitive::new(tls.client_key_pem.clone())),
        )
        .await
        .unwrap();
    let r = t.core.check_setup(&profile.id).await.unwrap();
    assert!(failed(&r).is_empty(), "{:#?}", r.checks);
    let net = r
        .checks
        .iter()
        .find(|c| c.id.starts_with("network:127.0.0.1:"))
        .unwrap();
    assert!(
        net.seen.contains("more days") && net.seen.contains("client certificate"),
        "{}",
        net.seen
    );
    assert_eq!(row(&r, "client:authentication").status, Status::Pass);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_not_saved_yet_is_checked_with_the_secret_typed_in_the_form() {
    use tokendesk_core::TypedSecrets;
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let typed = |secret: &str| TypedSecrets {
        credential: Some(Sensitive::new(secret.to_owned())),
        ..Default::default()
    };
    let config = cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic);
    let r = t
        .core
        .check_config(config.clone(), None, typed("cc-basic-secret"))
        .await
        .unwrap();
    assert!(failed(&r).is_empty(), "{:#?}", r.checks);
    assert_eq!(row(&r, "tokens:stored").status, Status::Skipped);
    let r = t
        .core
        .check_config(config.clone(), None, typed("wrong"))
        .await
        .unwrap();
    assert_eq!(row(&r, "client:authentication").status, Status::Fail);
    assert!(
        t.core.list_profiles().unwrap().is_empty(),
        "nothing was saved"
    );
    // Editing a saved profile: its stored secret is used when none is typed, and a change of
    // the form (another client id) is what is checked.
    let saved = t.add(config.clone(), Some("cc-basic-secret")).await;
    let edited = ProfileConfig {
        client_id: "cc-post".into(),
        ..config
    };
    let r = t
        .core
        .check_config(edited, Some(&saved.id), TypedSecrets::default())
        .await
        .unwrap();
    let auth = row(&r, "client:authentication");
    assert_eq!(
        auth.status,
        Status::Fail,
        "cc-post with cc-basic's secret: {}",
        auth.seen
    );
    let r = t
        .core
        .check_config(
            t.core
                .profile("cc-basic-client_secret_basic")
                .unwrap()
                .config,
            Some(&saved.id),
            TypedSecrets::default(),
        )
        .await
        .unwrap();
    assert!(failed(&r).is_empty(), "{:#?}", r.checks);
}
