//! Profiles made from provider presets, against a provider on loopback that answers the way
//! the preset's provider does: the preset's endpoints are the ones called, and an error the
//! preset knows comes back with the provider-specific cause and fix.

use tokendesk_core::ErrorCode;
use tokendesk_core::catalog;
use tokendesk_core::profile::GrantKind;
use tokendesk_testkit::TestCore;
use tokendesk_testkit::hostile::{
    Answer, CLIENT_ID, CLIENT_SECRET, Hostile, Scenario, Stored, sign_in,
};

/// The preset's profile with every host parameter pointed at the imitation.
fn imitating(h: &Hostile, preset: &str, hosts: &[&str]) -> tokendesk_core::profile::ProfileConfig {
    let base = h.url("");
    let base = base.trim_end_matches('/');
    let mut config = catalog::find(preset)
        .unwrap()
        .profile(
            &hosts
                .iter()
                .map(|p| ((*p).to_owned(), base.to_owned()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    config.name = format!("{preset}-imitation");
    config.client_id = CLIENT_ID.into();
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn a_google_error_is_explained_with_googles_cause_and_fix() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    // Google's preset with both of its hosts pointed at the imitation: the token request goes
    // to {token_base_url}/token as the preset builds it.
    let mut config = imitating(&h, "google", &["base_url", "token_base_url"]);
    assert_eq!(
        config.endpoints.token.as_deref(),
        Some(h.url("/token").as_str())
    );
    config.issuer = None; // the imitation's discovery is not Google's
    config.grant = GrantKind::ClientCredentials;
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let before = Stored::of(&t, &profile.id).await;

    h.set(Scenario {
        token_answer: Some(Answer::Body(
            400,
            "application/json",
            br#"{"error":"invalid_request","error_description":"client_secret is missing."}"#
                .to_vec(),
        )),
        ..Default::default()
    });
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ProviderError, "{}", e.message);
    assert!(
        e.message.contains("client_secret is missing")
            && e.message
                .contains("Google: Google Desktop app clients must send their client secret")
            && e.message.contains("Fix: Store the client secret"),
        "the provider's words, then Google's cause and fix: {}",
        e.message
    );
    assert_eq!(
        Stored::of(&t, &profile.id).await,
        before,
        "nothing stored changed"
    );

    // The same answer for a profile without a preset gets the generic words only.
    h.set(Scenario {
        token_answer: Some(Answer::Body(
            400,
            "application/json",
            br#"{"error":"invalid_request","error_description":"client_secret is missing."}"#
                .to_vec(),
        )),
        ..Default::default()
    });
    let mut plain = profile.config.clone();
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, Some(CLIENT_SECRET)).await;
    let e = t.core.fetch_token(&plain.id).await.unwrap_err();
    assert!(!e.message.contains("Google:"), "{}", e.message);
}

/// GitHub answers some errors with HTTP 200 and an `error` member; Slack with `"ok": false`.
/// Either is the provider's error, named as such, never "an unusable answer".
#[tokio::test(flavor = "multi_thread")]
async fn errors_in_a_200_answer_are_the_providers_errors() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let mut config = imitating(&h, "github", &["base_url", "api_base_url"]);
    config.grant = GrantKind::ClientCredentials;
    config.endpoints.token = Some(h.url("/token"));
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let before = Stored::of(&t, &profile.id).await;
    for (content_type, body, says) in [
        (
            "application/json",
            &br#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/apps"}"#[..],
            "bad_verification_code",
        ),
        (
            "application/x-www-form-urlencoded",
            &b"error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."[..],
            "bad_verification_code",
        ),
        (
            "application/json; charset=utf-8",
            &br#"{"ok":false,"error":"invalid_code"}"#[..],
            "invalid_code",
        ),
    ] {
        h.set(Scenario {
            token_answer: Some(Answer::Body(200, content_type, body.to_vec())),
            ..Default::default()
        });
        let e = t.core.fetch_token(&profile.id).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderError, "{}", e.message);
        assert!(
            e.message.contains("refused")
                && e.message.contains(says)
                && e.message.contains("HTTP 200"),
            "{}",
            e.message
        );
        assert_eq!(Stored::of(&t, &profile.id).await, before, "nothing stored changed");
    }
}

/// Google documents ID tokens whose `iss` is `accounts.google.com`, without the scheme. A
/// profile made from the Google preset accepts that spelling — for Google's issuer, and says
/// so in the check — while a profile without the preset refuses it, as does any other spelling.
#[tokio::test(flavor = "multi_thread")]
async fn googles_scheme_less_iss_is_accepted_only_through_the_preset() {
    use serde_json::json;
    let h = Hostile::start().await;
    let t = TestCore::new();
    let base = h.url("");
    let host = base
        .trim_end_matches('/')
        .split_once("://")
        .unwrap()
        .1
        .to_owned();
    let mut config = imitating(&h, "google", &["base_url", "token_base_url"]);
    // The imitation's own endpoints (its paths are not Google's); the issuer is the preset's.
    config.endpoints = Default::default();
    config.authorize_params.clear();
    config.scopes = vec!["openid".into()];
    let google = t.add(config.clone(), Some(CLIENT_SECRET)).await;
    let mut plain = config;
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, Some(CLIENT_SECRET)).await;

    let scheme_less = |iss: &str| Scenario {
        set: json!({ "iss": iss }).as_object().unwrap().clone(),
        ..Default::default()
    };
    h.set(scheme_less(&host));
    sign_in(&t, &google)
        .await
        .expect("the documented spelling, through the preset");
    let inspection = t
        .core
        .inspect(&google.id, tokendesk_core::secret::SecretKind::IdToken)
        .await
        .unwrap();
    let iss = inspection
        .validation
        .as_ref()
        .and_then(|v| v.checks.iter().find(|c| c.name == "iss").cloned())
        .expect("an iss check");
    assert!(iss.ok && iss.detail.contains("documents"), "{iss:?}");

    h.set(scheme_less(&host));
    let e = sign_in(&t, &plain).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::CheckFailed,
        "no preset, no alias: {}",
        e.message
    );

    let before = t.core.token(&google.id).unwrap();
    h.set(scheme_less(&format!("{host}/")));
    let e = sign_in(&t, &google).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::CheckFailed,
        "another spelling: {}",
        e.message
    );
    assert_eq!(
        t.core.token(&google.id).unwrap(),
        before,
        "nothing stored changed"
    );
}
