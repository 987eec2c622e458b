//! Against a deliberately hostile provider (tokendesk-testkit's `hostile`): every ID token
//! that fails a check fails the sign-in — nothing stored, the previous token kept, the checks in
//! the error and in the exchange log — and token endpoints that answer nonsense are named.
//!
//! The malicious-provider suite (issue 16): each case is a test of its own that asserts the
//! token when it is genuinely usable, otherwise a clear error within a generous bound, no panic,
//! and the store as it was (profile, token set, token values). The 200 MB body, whose memory is
//! measured, runs alone in `tests/hostile_body.rs`.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokendesk_core::ErrorCode;
use tokendesk_core::error::Error;
use tokendesk_core::history::Trigger;
use tokendesk_core::http::HttpOptions;
use tokendesk_core::profile::{AuthMethod, Endpoints, GrantKind, Profile, ProfileConfig};
use tokendesk_core::secret::SecretKind;
use tokendesk_testkit::hostile::{
    Answer, CLIENT_ID, CLIENT_SECRET, ELSEWHERE, Hostile, Scenario, Signing, Stored, peak_rss,
    sign_in,
};
use tokendesk_testkit::*;

fn web_profile(h: &Hostile) -> ProfileConfig {
    h.web_config()
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
            name: "wrong aud",
            scenario: Scenario {
                set: claims(json!({"aud": "someone-else"})),
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
    let (t, profile) = signed_in(&h).await;
    for case in refusals() {
        assert_id_token_refused(&t, &h, &profile, case).await;
    }
}

/// Signs in with the case's scenario: the sign-in fails on the named check, the store is as it
/// was, and the decoded token with its checks is in the exchange log.
async fn assert_id_token_refused(t: &TestCore, h: &Hostile, profile: &Profile, case: Case) {
    let before = Stored::of(t, &profile.id).await;
    h.set(case.scenario.clone());
    let e = sign_in(t, profile)
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
    assert!(
        e.message.contains(case.failed),
        "{}: the message names the check: {}",
        case.name,
        e.message
    );
    assert_eq!(
        Stored::of(t, &profile.id).await,
        before,
        "{}: the previous token and ID token stay",
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
        checks.response_body.contains("\"claims\"") && checks.response_body.contains(case.failed),
        "{}: the decoded token and its checks are logged: {}",
        case.name,
        checks.response_body
    );
}

/// A web profile on the hostile provider, signed in honestly once: what a refusal must keep.
async fn signed_in(h: &Hostile) -> (TestCore, Profile) {
    let t = TestCore::new();
    let profile = t.add(web_profile(h), Some(CLIENT_SECRET)).await;
    let good = sign_in(&t, &profile)
        .await
        .expect("an honest sign-in works");
    assert!(good.id_token_validation.as_ref().unwrap().valid());
    (t, profile)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_id_token_alg_none_is_refused() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    let case = Case {
        name: "alg none",
        scenario: Scenario {
            signing: Signing::Unsigned,
            ..Default::default()
        },
        failed: "signature",
    };
    assert_id_token_refused(&t, &h, &profile, case).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hs256_keyed_with_the_providers_rsa_public_key_is_refused() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    let case = Case {
        name: "HS256 keyed with the provider's RSA public key (key confusion)",
        scenario: Scenario {
            signing: Signing::Hs256WithPublicKey,
            ..Default::default()
        },
        failed: "signature",
    };
    assert_id_token_refused(&t, &h, &profile, case).await;
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
async fn issuers_and_audiences_compare_exactly_not_up_to_a_slash_or_case() {
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
        (
            "ID token aud with a trailing slash",
            Scenario {
                set: claims(json!({"aud": format!("{CLIENT_ID}/")})),
                ..Default::default()
            },
            ErrorCode::CheckFailed,
        ),
        (
            "ID token aud in other letter case",
            Scenario {
                set: claims(json!({"aud": CLIENT_ID.to_uppercase()})),
                ..Default::default()
            },
            ErrorCode::CheckFailed,
        ),
    ] {
        h.set(scenario);
        let stored = Stored::of(&t, &profile.id).await;
        let e = sign_in(&t, &profile).await.unwrap_err();
        assert_eq!(e.code, code, "{name}: {}", e.message);
        let named = if name.contains("aud") { "aud" } else { "iss" };
        assert!(
            e.message.contains(named),
            "{name}: the message names {named}: {}",
            e.message
        );
        assert_eq!(t.core.token(&profile.id).unwrap(), before, "{name}");
        assert_eq!(Stored::of(&t, &profile.id).await, stored, "{name}");
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

// ---- The malicious-provider suite: answers no provider should send -------------------------

/// Generous bound for a refusal: it catches a hang, not a slow machine.
const REFUSED_WITHIN: Duration = Duration::from_secs(20);
/// The process's peak RSS must stay under this whatever the provider sends (a bomb inflated
/// would be 1 GiB). Process-wide: other tests of this binary run alongside.
const PEAK_RSS_BOUND: u64 = 300 << 20;

/// A client-credentials profile on the hostile provider's `/token/cc`, with an honest token
/// already stored: what a misbehaving answer must leave in place.
async fn cc_with_token(t: &TestCore, h: &Hostile) -> Profile {
    let profile = t.add(cc_profile(h, "/token/cc"), Some(CLIENT_SECRET)).await;
    t.core
        .fetch_token(&profile.id)
        .await
        .expect("an honest answer first");
    profile
}

/// Runs `op` against a misbehaving provider: it must fail within [`REFUSED_WITHIN`] and leave
/// the store as it was. Returns the error and how long the refusal took.
async fn refused<T: std::fmt::Debug>(
    t: &TestCore,
    profile: &Profile,
    case: &str,
    op: impl Future<Output = Result<T, Error>>,
) -> (Error, Duration) {
    let before = Stored::of(t, &profile.id).await;
    let started = Instant::now();
    let outcome = tokio::time::timeout(REFUSED_WITHIN, op)
        .await
        .unwrap_or_else(|_| panic!("{case}: no answer within {REFUSED_WITHIN:?}"));
    let took = started.elapsed();
    let e = outcome.expect_err(&format!("{case}: must be refused"));
    assert_eq!(
        Stored::of(t, &profile.id).await,
        before,
        "{case}: the profile, its token and the token values are as they were"
    );
    eprintln!("{case}: refused in {took:?} ({:?}): {}", e.code, e.message);
    (e, took)
}

fn assert_memory_bounded(case: &str) {
    if let Some(peak) = peak_rss() {
        eprintln!(
            "{case}: peak RSS of the test process so far {} MiB",
            peak >> 20
        );
        assert!(
            peak < PEAK_RSS_BOUND,
            "{case}: peak RSS {} MiB, bound {} MiB",
            peak >> 20,
            PEAK_RSS_BOUND >> 20
        );
    }
}

fn answer(a: Answer) -> Scenario {
    Scenario {
        token_answer: Some(a),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb_is_refused_fast_and_never_inflated() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    h.set(answer(Answer::GzipBomb));
    let (e, took) = refused(&t, &profile, "gzip bomb (1 GiB of zeros)", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("compressed as \"gzip\"") && e.message.contains("does not decode"),
        "{}",
        e.message
    );
    eprintln!("gzip bomb: refused in {took:?}");
    assert_memory_bounded("gzip bomb");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_brotli_bomb_is_refused_fast_and_never_inflated() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    h.set(answer(Answer::BrotliBomb));
    let (e, took) = refused(&t, &profile, "brotli bomb (1 GiB of zeros)", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("compressed as \"br\"") && e.message.contains("does not decode"),
        "{}",
        e.message
    );
    eprintln!("brotli bomb: refused in {took:?}");
    assert_memory_bounded("brotli bomb");
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_junk_declared_json_is_named() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    h.set(answer(Answer::Junk));
    let (e, _) = refused(&t, &profile, "64 KiB of binary junk as JSON", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("not valid JSON") && e.message.contains("exchange log"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_drip_times_out_at_the_configured_limit() {
    let h = Hostile::start().await;
    let t = TestCore::with_http(HttpOptions {
        timeout: Duration::from_secs(2),
        ..Default::default()
    });
    let profile = cc_with_token(&t, &h).await;
    h.set(answer(Answer::SlowDrip));
    let (e, took) = refused(&t, &profile, "one byte a second", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    assert!(
        e.message.contains("did not answer within 2 s") && e.message.contains("/token/cc"),
        "{}",
        e.message
    );
    // The whole answer would take over a minute: the limit cut it, not the end of the body.
    assert!(took < Duration::from_secs(10), "cut at the limit: {took:?}");
}

/// Discovery, the JWKS and the token endpoint each answer `how`: each refusal names the
/// redirect's target and says it was not followed; nothing stored changes.
async fn redirects_are_never_followed(how: Answer, target: impl Fn(&Hostile, &str) -> String) {
    let h = Hostile::start().await;
    let (t, web) = signed_in(&h).await;

    h.set(Scenario {
        discovery_answer: Some(how.clone()),
        ..Default::default()
    });
    let (e, _) = refused(&t, &web, "discovery redirected", t.core.discover(&web.id)).await;
    let to = target(&h, "/.well-known/openid-configuration");
    assert!(
        e.message
            .contains(&format!("HTTP 302, a redirect to {to}: not followed")),
        "{}",
        e.message
    );

    h.set(Scenario {
        jwks_answer: Some(how.clone()),
        ..Default::default()
    });
    let (e, _) = refused(&t, &web, "JWKS redirected", sign_in(&t, &web)).await;
    assert_eq!(e.code, ErrorCode::CheckFailed, "{}", e.message);
    let to = target(&h, "/jwks");
    assert!(
        e.message.contains("jwks:")
            && e.message.contains(&format!("a redirect to {to}"))
            && e.message.contains("does not follow"),
        "{}",
        e.message
    );

    let cc = cc_with_token(&t, &h).await;
    h.set(answer(how));
    let (e, _) = refused(&t, &cc, "token endpoint redirected", async {
        t.core.fetch_token(&cc.id).await
    })
    .await;
    let to = target(&h, "/token/cc");
    assert!(
        e.message.contains(&format!("HTTP 302, a redirect to {to}"))
            && e.message.contains("does not follow"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_loop_is_never_followed() {
    redirects_are_never_followed(Answer::RedirectLoop, |h, path| h.url(path)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_another_host_is_never_followed() {
    redirects_are_never_followed(Answer::RedirectAway, |_, path| format!("{ELSEWHERE}{path}"))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_key_of_a_megabyte_is_refused_in_bounded_time() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    h.set(Scenario {
        jwks_huge_key: true,
        ..Default::default()
    });
    let (e, took) = refused(
        &t,
        &profile,
        "RSA key with a 1 MB modulus",
        sign_in(&t, &profile),
    )
    .await;
    assert_eq!(e.code, ErrorCode::CheckFailed);
    let sig = e.checks.iter().find(|c| c.name == "signature").unwrap();
    assert!(
        !sig.ok
            && sig
                .detail
                .contains("key k1 has an RSA modulus of 6000000 bits, more than the 4096"),
        "the key and its size are named: {}",
        sig.detail
    );
    eprintln!("JWKS with a 1 MB key: refused in {took:?}: {}", sig.detail);
    assert_memory_bounded("JWKS with a 1 MB key");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_with_a_claim_of_100000_elements_is_validated() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    let big: Vec<u32> = (0..100_000).collect();
    h.set(Scenario {
        set: claims(json!({ "groups": big })),
        ..Default::default()
    });
    let started = Instant::now();
    let token = tokio::time::timeout(REFUSED_WITHIN, sign_in(&t, &profile))
        .await
        .expect("bounded")
        .expect("an otherwise valid ID token is genuinely usable");
    eprintln!(
        "ID token with a 100,000-element claim: validated and stored in {:?}",
        started.elapsed()
    );
    assert!(token.id_token_validation.unwrap().valid());
    let inspected = t
        .core
        .inspect(&profile.id, SecretKind::IdToken)
        .await
        .unwrap();
    let groups = &inspected.jwt.expect("decoded").claims["groups"];
    assert_eq!(
        groups.as_array().map(Vec::len),
        Some(100_000),
        "the claim is kept whole"
    );
    assert_memory_bounded("100,000-element claim");
}

/// `{"deep": [[[…]]]}` 10,000 levels deep, as claim text.
fn deep_claim() -> String {
    format!("\"deep\":{}{}", "[".repeat(10_000), "]".repeat(10_000))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_nested_10000_levels_deep_is_refused_without_overflowing() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    h.set(Scenario {
        raw_claims: Some(deep_claim()),
        ..Default::default()
    });
    let (e, _) = refused(
        &t,
        &profile,
        "claims 10,000 levels deep",
        sign_in(&t, &profile),
    )
    .await;
    assert_eq!(e.code, ErrorCode::CheckFailed, "{}", e.message);
    assert!(
        e.message.contains("format") && e.message.contains("recursion limit"),
        "the decoder's depth limit is named: {}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_naming_sub_twice_is_refused_though_its_signature_holds() {
    // Signed by the provider's real key: one reader would take "alice", another "mallory".
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    h.set(Scenario {
        raw_claims: Some(r#""sub":"mallory""#.into()),
        ..Default::default()
    });
    let (e, _) = refused(&t, &profile, "sub named twice", sign_in(&t, &profile)).await;
    assert_eq!(e.code, ErrorCode::CheckFailed, "{}", e.message);
    assert!(
        e.message.contains("format") && e.message.contains("sub appears twice"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_token_nested_10000_levels_deep_is_kept_and_inspected_without_overflowing() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    let jwt = format!(
        "{}.{}.sig",
        b64(r#"{"alg":"RS256","typ":"at+jwt"}"#),
        b64(&format!("{{{}}}", deep_claim()))
    );
    h.set(answer(Answer::Raw(
        format!(r#"{{"access_token":"{jwt}","token_type":"Bearer","expires_in":300}}"#).into(),
    )));
    // An access token is opaque to its client: however odd its payload, it is the token.
    let token = t.core.fetch_token(&profile.id).await.expect("usable");
    assert!(token.access_expires_at.is_some(), "expires_in read");
    let inspected = t
        .core
        .inspect(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert!(inspected.jwt.is_none());
    let why = inspected
        .not_jwt
        .expect("the inspector says why it shows no claims");
    assert!(why.contains("recursion limit"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_members_in_a_token_response_are_refused() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    h.set(answer(Answer::Raw(
        br#"{"access_token":"first","token_type":"Bearer","expires_in":300,"access_token":"second"}"#
            .to_vec(),
    )));
    let (e, _) = refused(&t, &profile, "access_token twice", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("access_token appears twice"),
        "the member is named: {}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_in_a_token_response_is_named() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    let mut body = br#"{"access_token":"ab"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(br#"cd","token_type":"Bearer"}"#);
    h.set(answer(Answer::Raw(body)));
    let (e, _) = refused(&t, &profile, "invalid UTF-8", async {
        t.core.fetch_token(&profile.id).await
    })
    .await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("not valid JSON") && e.message.contains("line 1 column"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_beyond_i64_and_f64_are_refused_by_name() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let profile = cc_with_token(&t, &h).await;
    for (name, body, named) in [
        (
            "expires_in 1e400 (beyond f64)",
            r#"{"access_token":"x","token_type":"Bearer","expires_in":1e400}"#,
            "number too large",
        ),
        (
            "expires_in 99999999999999999999999 (beyond i64 and u64)",
            r#"{"access_token":"x","token_type":"Bearer","expires_in":99999999999999999999999}"#,
            "expires_in is",
        ),
        (
            "expires_in 1e300",
            r#"{"access_token":"x","token_type":"Bearer","expires_in":"1e300"}"#,
            "expires_in is",
        ),
        (
            "refresh_token_expires_in beyond i64 milliseconds",
            r#"{"access_token":"x","token_type":"Bearer","expires_in":60,"refresh_token":"r","refresh_token_expires_in":9223372036854775807}"#,
            "refresh_token_expires_in is",
        ),
    ] {
        h.set(answer(Answer::Raw(body.into())));
        let (e, _) = refused(&t, &profile, name, async {
            t.core.fetch_token(&profile.id).await
        })
        .await;
        assert_eq!(e.code, ErrorCode::BadResponse, "{name}");
        assert!(e.message.contains(named), "{name}: {}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_discovery_document_naming_another_host_is_refused() {
    let h = Hostile::start().await;
    let (t, profile) = signed_in(&h).await;
    h.set_issuer("https://other-host.example");
    let (e, _) = refused(
        &t,
        &profile,
        "issuer on another host",
        t.core.discover(&profile.id),
    )
    .await;
    assert_eq!(e.code, ErrorCode::IssuerMismatch, "{}", e.message);
    assert!(
        e.message.contains("\"https://other-host.example\"") && e.message.contains(&h.base),
        "both issuers are named: {}",
        e.message
    );
}
