//! Against a deliberately hostile provider (tokendesk-testkit's `hostile`): every ID token
//! that fails a check fails the sign-in — nothing stored, the previous token kept, the checks in
//! the error and in the exchange log — and token endpoints that answer nonsense are named.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokendesk_core::ErrorCode;
use tokendesk_core::error::Error;
use tokendesk_core::history::Trigger;
use tokendesk_core::profile::{AuthMethod, Endpoints, GrantKind, Profile, ProfileConfig};
use tokendesk_core::token::TokenSet;
use tokendesk_testkit::hostile::{CLIENT_ID, CLIENT_SECRET, Hostile, Scenario, Signing};
use tokendesk_testkit::*;

fn web_profile(h: &Hostile) -> ProfileConfig {
    ProfileConfig {
        name: "victim".into(),
        issuer: Some(h.base.clone()),
        client_id: CLIENT_ID.into(),
        auth_method: AuthMethod::ClientSecretPost,
        grant: GrantKind::AuthorizationCode,
        scopes: vec!["openid".into()],
        ..Default::default()
    }
}

/// One sign-in through the paste path: the provider's 302 is the address the user pastes.
async fn sign_in(t: &TestCore, profile: &Profile) -> Result<TokenSet, Error> {
    let started = t.core.begin_login(&profile.id).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(&started.auth_url).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    t.core.complete_login(&started.login_id, &location).await
}

fn claims(pairs: Value) -> Map<String, Value> {
    pairs.as_object().unwrap().clone()
}

struct Case {
    name: &'static str,
    scenario: Scenario,
    /// The check that must be among the failed ones.
    failed: &'static str,
}

fn refusals() -> Vec<Case> {
    let other_key_sig = Scenario {
        tamper_signature: true,
        ..Default::default()
    };
    vec![
        Case {
            name: "bad RS256 signature",
            scenario: other_key_sig,
            failed: "signature",
        },
        Case {
            name: "bad ES256 signature",
            scenario: Scenario {
                signing: Signing::Es256,
                tamper_signature: true,
                ..Default::default()
            },
            failed: "signature",
        },
        Case {
            name: "HS256 with a secret that is not the client's",
            scenario: Scenario {
                signing: Signing::Hs256("not-the-client-secret".into()),
                ..Default::default()
            },
            failed: "signature",
        },
        Case {
            name: "alg none",
            scenario: Scenario {
                signing: Signing::Unsigned,
                ..Default::default()
            },
            failed: "signature",
        },
        Case {
            name: "HS256 keyed with the provider's RSA public key (key confusion)",
            scenario: Scenario {
                signing: Signing::Hs256WithPublicKey,
                ..Default::default()
            },
            failed: "signature",
        },
        Case {
            name: "wrong aud",
            scenario: Scenario {
                set: claims(json!({"aud": "someone-else"})),
                ..Default::default()
            },
            failed: "aud",
        },
        Case {
            name: "aud differing in case",
            scenario: Scenario {
                set: claims(json!({"aud": CLIENT_ID.to_uppercase()})),
                ..Default::default()
            },
            failed: "aud",
        },
        Case {
            name: "several audiences, azp another client",
            scenario: Scenario {
                set: claims(json!({"aud": [CLIENT_ID, "other"], "azp": "other"})),
                ..Default::default()
            },
            failed: "azp",
        },
        Case {
            name: "missing iat",
            scenario: Scenario {
                remove: vec!["iat".into()],
                ..Default::default()
            },
            failed: "iat",
        },
        Case {
            name: "wrong iss",
            scenario: Scenario {
                set: claims(json!({"iss": "https://evil.example"})),
                ..Default::default()
            },
            failed: "iss",
        },
        Case {
            name: "no sub",
            scenario: Scenario {
                remove: vec!["sub".into()],
                ..Default::default()
            },
            failed: "sub",
        },
        Case {
            name: "a nonce that is not ours (replayed ID token)",
            scenario: Scenario {
                set: claims(json!({"nonce": "from-another-sign-in"})),
                ..Default::default()
            },
            failed: "nonce",
        },
        Case {
            name: "expired",
            scenario: Scenario {
                set: claims(json!({"exp": 1_600_000_000})),
                ..Default::default()
            },
            failed: "exp",
        },
        Case {
            name: "at_hash of another access token",
            scenario: Scenario {
                set: claims(json!({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"})),
                ..Default::default()
            },
            failed: "at_hash",
        },
        Case {
            name: "unknown kid",
            scenario: Scenario {
                kid: Some("rotated-away".into()),
                ..Default::default()
            },
            failed: "signature",
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failed_id_token_check_fails_the_sign_in_and_stores_nothing() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;

    let good = sign_in(&t, &profile)
        .await
        .expect("an honest sign-in works");
    assert!(good.id_token_validation.as_ref().unwrap().valid());
    let good_id = t
        .core
        .reveal(&profile.id, tokendesk_core::secret::SecretKind::IdToken)
        .await
        .unwrap();

    for case in refusals() {
        h.set(case.scenario.clone());
        let e = sign_in(&t, &profile)
            .await
            .expect_err(&format!("{}: the sign-in must fail", case.name));
        assert_eq!(
            e.code,
            ErrorCode::CheckFailed,
            "{}: {}",
            case.name,
            e.message
        );
        let failed: Vec<&str> = e
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.as_str())
            .collect();
        assert!(
            failed.contains(&case.failed),
            "{}: expected {} among the failed checks {failed:?}",
            case.name,
            case.failed
        );
        assert_eq!(
            t.core.token(&profile.id).unwrap().as_ref(),
            Some(&good),
            "{}: the previous token stays",
            case.name
        );
        let id = t
            .core
            .reveal(&profile.id, tokendesk_core::secret::SecretKind::IdToken)
            .await
            .unwrap();
        assert_eq!(
            id.expose(),
            good_id.expose(),
            "{}: the ID token is not replaced",
            case.name
        );
        let log = t.core.exchanges(&profile.id, 5).unwrap();
        let checks = log
            .iter()
            .rev()
            .find(|x| x.operation == "id_token:checks")
            .expect("the checks are in the exchange log");
        assert!(checks.error.is_some(), "{}: logged as failed", case.name);
        assert!(
            checks.response_body.contains("\"claims\"")
                && checks.response_body.contains(case.failed),
            "{}: the decoded token and its checks are logged: {}",
            case.name,
            checks.response_body
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn what_must_be_accepted_is_accepted() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;
    // ES256, HS256 with the client secret (OpenID Connect Core §10.1), several audiences with
    // azp = this client.
    for (name, scenario) in [
        (
            "ES256",
            Scenario {
                signing: Signing::Es256,
                ..Default::default()
            },
        ),
        (
            "HS256 with the client secret",
            Scenario {
                signing: Signing::Hs256(CLIENT_SECRET.into()),
                ..Default::default()
            },
        ),
        (
            "several audiences with azp",
            Scenario {
                set: claims(json!({"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID})),
                ..Default::default()
            },
        ),
    ] {
        h.set(scenario);
        let token = sign_in(&t, &profile)
            .await
            .unwrap_or_else(|e| panic!("{name}: {}", e.message));
        assert!(token.id_token_validation.unwrap().valid(), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_id_token_only_where_the_profile_expects_one() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let mut config = web_profile(&h);
    config.id_token_alg = Some("none".into());
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    h.set(Scenario {
        signing: Signing::Unsigned,
        ..Default::default()
    });
    let token = sign_in(&t, &profile)
        .await
        .expect("unsigned from the token endpoint, as registered");
    let v = token.id_token_validation.unwrap();
    assert!(v.valid() && v.checks[0].detail.contains("as the client registered"));
    // Expecting none does not accept a signed token with another algorithm either way round:
    h.set(Scenario::default());
    let e = sign_in(&t, &profile).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::CheckFailed,
        "RS256 when none was registered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issuers_compare_exactly_in_the_id_token_and_the_authorization_response() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;
    sign_in(&t, &profile).await.unwrap();
    let before = t.core.token(&profile.id).unwrap();

    for (name, scenario, code) in [
        (
            "ID token iss with a trailing slash",
            Scenario {
                set: claims(json!({"iss": format!("{}/", h.base)})),
                ..Default::default()
            },
            ErrorCode::CheckFailed,
        ),
        (
            "ID token iss in other letter case",
            Scenario {
                set: claims(json!({"iss": h.base.to_uppercase()})),
                ..Default::default()
            },
            ErrorCode::CheckFailed,
        ),
        (
            "RFC 9207 iss with a trailing slash",
            Scenario {
                iss_param: Some(format!("{}/", h.base)),
                ..Default::default()
            },
            ErrorCode::IssuerMismatch,
        ),
    ] {
        h.set(scenario);
        let e = sign_in(&t, &profile).await.unwrap_err();
        assert_eq!(e.code, code, "{name}: {}", e.message);
        assert_eq!(t.core.token(&profile.id).unwrap(), before, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issuer_typed_with_another_trailing_slash_uses_the_providers_own() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let mut config = web_profile(&h);
    config.issuer = Some(format!("{}/", h.base));
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let discovered = t.core.discover(&profile.id).await.unwrap();
    assert_eq!(discovered.config.issuer.as_deref(), Some(h.base.as_str()));
    let notes = &discovered.metadata.as_ref().unwrap().notes;
    assert!(
        notes.iter().any(|n| n.contains("trailing slash")),
        "the user is told: {notes:?}"
    );
    // And every check then uses exactly the provider's spelling: a normal sign-in works.
    sign_in(&t, &profile).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_about_another_subject_fails() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;
    sign_in(&t, &profile).await.unwrap();
    assert_eq!(t.core.userinfo(&profile.id).await.unwrap()["sub"], "alice");
    h.set(Scenario {
        userinfo_sub: Some("mallory".into()),
        ..Default::default()
    });
    let e = t.core.userinfo(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CheckFailed);
    assert!(
        e.message.contains("mallory") && e.message.contains("alice"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_of_ten_thousand_keys_with_one_kid_is_bounded() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;
    h.set(Scenario {
        jwks_flood: 10_000,
        ..Default::default()
    });
    let started = Instant::now();
    let e = sign_in(&t, &profile).await.unwrap_err();
    let took = started.elapsed();
    let sig = e.checks.iter().find(|c| c.name == "signature").unwrap();
    assert!(!sig.ok);
    assert!(sig.detail.contains("only the first 4"), "{}", sig.detail);
    eprintln!("sign-in against a JWKS of 10,000 keys with one kid: refused in {took:?}");
    assert!(took < Duration::from_secs(10), "bounded: {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_whose_id_token_fails_stores_nothing() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t.add(web_profile(&h), Some(CLIENT_SECRET)).await;
    sign_in(&t, &profile).await.unwrap();
    let refreshed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert!(
        refreshed.id_token_validation.unwrap().valid(),
        "an honest refresh works"
    );
    let before = t.core.token(&profile.id).unwrap();
    for (name, scenario, failed) in [
        (
            "another subject (OpenID Connect Core §12.2)",
            Scenario {
                set: claims(json!({"sub": "mallory"})),
                ..Default::default()
            },
            "sub",
        ),
        (
            "a forged signature",
            Scenario {
                tamper_signature: true,
                ..Default::default()
            },
            "signature",
        ),
    ] {
        h.set(scenario);
        let e = t
            .core
            .refresh(&profile.id, Trigger::Manual)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::CheckFailed, "{name}: {}", e.message);
        assert!(
            e.checks.iter().any(|c| c.name == failed && !c.ok),
            "{name}: {:?}",
            e.checks
        );
        assert_eq!(
            t.core.token(&profile.id).unwrap(),
            before,
            "{name}: nothing stored"
        );
    }
}

fn cc_profile(h: &Hostile, path: &str) -> ProfileConfig {
    ProfileConfig {
        name: format!("cc{}", path.replace('/', "-")),
        client_id: CLIENT_ID.into(),
        auth_method: AuthMethod::ClientSecretPost,
        grant: GrantKind::ClientCredentials,
        endpoints: Endpoints {
            token: Some(h.url(path)),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_encoded_token_response_is_read_and_json_is_asked_for() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t
        .add(cc_profile(&h, "/token/form"), Some(CLIENT_SECRET))
        .await;
    let token = t.core.fetch_token(&profile.id).await.unwrap();
    assert_eq!(token.scope.as_deref(), Some("repo,gist"));
    assert!(
        token.access_expires_at.is_some(),
        "expires_in read from the form"
    );
    assert_eq!(
        token.raw["x_accept"], "application/json",
        "Accept: application/json is sent on token requests"
    );
    let value = t
        .core
        .reveal(&profile.id, tokendesk_core::secret::SecretKind::AccessToken)
        .await
        .unwrap();
    assert!(value.expose().starts_with("gho_form"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_dead_on_arrival_are_refused_and_never_stored() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    for path in [
        "/token/expires-in-zero",
        "/token/expires-in-negative",
        "/token/expires-at-past",
    ] {
        let profile = t.add(cc_profile(&h, path), Some(CLIENT_SECRET)).await;
        let e = t.core.fetch_token(&profile.id).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::BadResponse, "{path}: {}", e.message);
        assert!(
            e.message.contains("already expired"),
            "{path}: {}",
            e.message
        );
        assert!(
            t.core.token(&profile.id).unwrap().is_none(),
            "{path}: nothing stored"
        );
        assert!(
            t.core
                .ensure_token(&profile.id, Duration::ZERO, Trigger::CommandLine)
                .await
                .is_err(),
            "{path}: never handed out"
        );
    }
    let profile = t
        .add(
            cc_profile(&h, "/token/expires-in-words"),
            Some(CLIENT_SECRET),
        )
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        e.message.contains("expires_in is \"soon\""),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_compression_and_deep_json_are_named() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = t
        .add(cc_profile(&h, "/token/redirect"), Some(CLIENT_SECRET))
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        e.message.contains("HTTP 307")
            && e.message.contains("redirect")
            && e.message.contains("https://elsewhere.example/steal/token")
            && e.message.contains("does not follow"),
        "{}",
        e.message
    );
    let profile = t
        .add(cc_profile(&h, "/token/gzip"), Some(CLIENT_SECRET))
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        e.message.contains("compressed as \"gzip\""),
        "{}",
        e.message
    );
    let profile = t
        .add(cc_profile(&h, "/token/deep"), Some(CLIENT_SECRET))
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    eprintln!("deep JSON: {}", e.message);
    assert!(
        e.message.matches("[0]").count() <= 6 && e.message.contains("levels deep"),
        "the place is named once: {}",
        e.message
    );
}
