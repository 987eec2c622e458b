//! JARM (signed authorization responses) against a real authorization server: oidc-provider
//! with `jwtResponseModes`, a client that signs its responses RS256. The code is read only from
//! a response whose checks pass; a tampered or plain one redeems nothing.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::browser::BrowserLauncher;
use tokendesk_core::profile::Profile;
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

async fn jarm_profile(t: &TestCore, p: &Provider) -> Profile {
    let mut config = web_config(p, &["openid", "offline_access"]);
    config.client_id = "jarm-app".into();
    config.jarm = true;
    t.add(config, Some("jarm-app-secret")).await
}

/// Starts a sign-in and walks the provider's pages without following the redirect: the
/// sign-in's id and the address the provider sent the browser to.
async fn redirect_of(t: &TestCore, profile: &Profile) -> (String, String) {
    let started = t.core.begin_login(&profile.id).await.unwrap();
    let browser = HeadlessLogin::with_args(&["--no-follow"]);
    browser.open(&started.auth_url).unwrap();
    let redirect = tokio::task::spawn_blocking(move || browser.redirect())
        .await
        .unwrap()
        .expect("the provider redirected");
    (started.login_id, redirect)
}

fn no_code_redeemed(t: &TestCore, profile: &Profile) {
    let log = t.core.exchanges(&profile.id, 100).unwrap();
    assert!(
        log.iter()
            .all(|e| e.operation != "token:authorization_code"),
        "a code was redeemed: {:?}",
        log.iter().map(|e| &e.operation).collect::<Vec<_>>()
    );
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_response_is_checked_then_its_code_redeemed() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = jarm_profile(&t, &p).await;
    let token = t
        .core
        .login(&profile.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap();
    assert!(token.id_token.is_some());
    let log = t.core.exchanges(&profile.id, 100).unwrap();
    let checks = log
        .iter()
        .find(|e| e.operation == "jarm:checks")
        .expect("the response's checks are in the log");
    assert!(checks.error.is_none(), "{:?}", checks.error);
    for name in ["signature", "iss", "aud", "exp"] {
        assert!(
            checks
                .response_body
                .contains(&format!("\"name\": \"{name}\"")),
            "{name}: {}",
            checks.response_body
        );
    }
    assert!(
        checks.response_body.contains("\"code\": \"<redacted>\""),
        "the code is not kept: {}",
        checks.response_body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_asks_for_jwt_and_the_answer_comes_as_one() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = jarm_profile(&t, &p).await;
    let (login_id, redirect) = redirect_of(&t, &profile).await;
    let url = url::Url::parse(&redirect).unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, vec!["response"], "only the signed response travels");
    t.core.complete_login(&login_id, &redirect).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_response_redeems_nothing() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = jarm_profile(&t, &p).await;
    let (login_id, redirect) = redirect_of(&t, &profile).await;
    let mut url = url::Url::parse(&redirect).unwrap();
    let jwt = url
        .query_pairs()
        .find(|(k, _)| k == "response")
        .unwrap()
        .1
        .into_owned();
    // Flip the last signature character.
    let mut forged = jwt.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    url.query_pairs_mut()
        .clear()
        .append_pair("response", &forged);
    let e = t
        .core
        .complete_login(&login_id, url.as_str())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CheckFailed, "{}", e.message);
    assert!(e.message.contains("signature"), "{}", e.message);
    assert!(e.checks.iter().any(|c| c.name == "signature" && !c.ok));
    no_code_redeemed(&t, &profile);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_answer_where_a_signed_one_was_asked_for_is_refused() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = jarm_profile(&t, &p).await;
    let (login_id, redirect) = redirect_of(&t, &profile).await;
    let url = url::Url::parse(&redirect).unwrap();
    let jwt = url.query_pairs().next().unwrap().1.into_owned();
    let claims = tokendesk_core::inspect::decode_jwt(&jwt).unwrap().claims;
    // The same code and state, but as plain parameters: what a forged redirect would carry.
    let mut plain = url.clone();
    plain
        .query_pairs_mut()
        .clear()
        .append_pair("code", claims["code"].as_str().unwrap())
        .append_pair("state", claims["state"].as_str().unwrap())
        .append_pair("iss", &p.issuer);
    let e = t
        .core
        .complete_login(&login_id, plain.as_str())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CheckFailed, "{}", e.message);
    assert!(e.message.contains("JARM"), "{}", e.message);
    no_code_redeemed(&t, &profile);
}
