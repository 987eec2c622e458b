//! The device authorization grant (RFC 8628) against a real provider (oidc-provider's device
//! flow, approved by tests/provider/device.mjs) and the real keychain: approval, denial,
//! expiry, slow_down, cancellation, and what the exchange log shows of the device code.

use std::sync::Arc;
use std::time::Duration;

use tokendesk_core::history::{EventKind, Outcome, Trigger};
use tokendesk_core::http::Exchange;
use tokendesk_core::profile::{AuthMethod, GrantKind, Profile};
use tokendesk_core::token::TokenSet;
use tokendesk_core::{Core, DeviceLoginStarted, ErrorCode, Result};
use tokendesk_testkit::*;

const POLL: &str = "token:device_code";

fn polls(core: &Core, profile: &Profile) -> Vec<Exchange> {
    exchanges_of(core, profile, POLL)
}

/// Starts waiting for the sign-in in the background.
fn wait_in_background(
    core: &Arc<Core>,
    started: &DeviceLoginStarted,
) -> tokio::task::JoinHandle<Result<TokenSet>> {
    let core = core.clone();
    let login_id = started.login_id.clone();
    tokio::spawn(async move { core.wait_device_login(&login_id).await })
}

async fn approve(started: &DeviceLoginStarted) {
    let (uri, code) = (started.verification_uri.clone(), started.user_code.clone());
    tokio::task::spawn_blocking(move || approve_device(&uri, &code))
        .await
        .unwrap();
}

async fn until_polled(core: &Core, profile: &Profile, n: usize) {
    for _ in 0..200 {
        if polls(core, profile).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never polled {n} times");
}

/// What the log shows of the device code: only `<redacted>`, in the authorization answer and
/// in every poll.
fn assert_device_code_redacted(log: &[Exchange]) {
    let auth = log
        .iter()
        .find(|e| e.operation == "device_authorization")
        .expect("the device authorization request is logged");
    let answer: serde_json::Value = serde_json::from_str(&auth.response_body).unwrap();
    assert_eq!(
        answer["device_code"], "<redacted>",
        "{}",
        auth.response_body
    );
    assert!(
        answer["user_code"]
            .as_str()
            .is_some_and(|c| c != "<redacted>")
    );
    let polls: Vec<&Exchange> = log.iter().filter(|e| e.operation == POLL).collect();
    assert!(!polls.is_empty());
    for p in polls {
        assert!(
            p.request_body.contains("device_code=%3Credacted%3E")
                || p.request_body.contains("device_code=<redacted>"),
            "a poll's body shows the device code: {}",
            p.request_body
        );
        assert!(
            p.request_body
                .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn approved_device_sign_in_stores_a_checked_token_that_refreshes() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            device_config(&p, "device-app", AuthMethod::ClientSecretBasic),
            Some("device-app-secret"),
        )
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    assert_eq!(started.verification_uri, p.url("/device"));
    assert!(!started.user_code.is_empty());
    assert!(
        started
            .verification_uri_complete
            .as_deref()
            .is_some_and(|u| u.contains("user_code=")),
        "{started:?}"
    );
    assert_eq!(started.interval, 1, "the provider's interval is kept");
    let left = started.expires_at - t.core.now();
    assert!((590_000..=600_000).contains(&left), "expires in {left} ms");
    let svg = started.qr_svg.as_deref().expect("a QR code of the address");
    assert!(svg.contains("<svg"));

    let waiting = wait_in_background(&t.core, &started);
    approve(&started).await;
    let token = waiting.await.unwrap().expect("approved: a token");
    assert_eq!(token.grant, GrantKind::DeviceCode);
    assert!(token.refresh.is_some(), "offline_access: a refresh token");
    let v = token
        .id_token_validation
        .as_ref()
        .expect("the ID token was checked");
    assert!(v.failures().is_empty(), "{v:?}");
    assert_eq!(t.core.token(&profile.id).unwrap().as_ref(), Some(&token));

    let log = exchanges(&t.core, &profile);
    assert_device_code_redacted(&log);
    let last_poll = log.iter().rfind(|e| e.operation == POLL).unwrap();
    assert_eq!(last_poll.status, Some(200));
    assert!(
        log.iter().any(|e| e.operation == "id_token:checks"),
        "the ID token's checks are logged"
    );
    // Client authentication as the profile says: basic on both requests.
    for e in log
        .iter()
        .filter(|e| e.operation == POLL || e.operation == "device_authorization")
    {
        assert!(
            e.request_headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("authorization")
                    && h.value.starts_with("Basic")),
            "{}: {:?}",
            e.operation,
            e.request_headers
        );
    }

    // Refresh works as after any sign-in.
    let refreshed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_ne!(refreshed.access.fingerprint, token.access.fingerprint);
    assert_eq!(refreshed.grant, GrantKind::DeviceCode);

    // The history: the device sign-in, linked to the poll that brought the token, then the
    // refresh (newest first).
    let history = t.core.history(&profile.id, 10).unwrap();
    let kinds: Vec<_> = history.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Refresh, EventKind::Acquisition],
        "{history:?}"
    );
    let signed_in = &history[1];
    assert_eq!(signed_in.method, "device_code");
    assert_eq!(signed_in.outcome, Outcome::Success);
    assert_eq!(signed_in.access_expires_at, token.access_expires_at);
    let linked = signed_in.exchange_id.expect("linked to its exchange");
    assert_eq!(
        Some(linked),
        Some(last_poll.id),
        "the poll that brought the token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_sign_in_stores_nothing_and_keeps_the_previous_token() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(device_config(&p, "device-public", AuthMethod::None), None)
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let waiting = wait_in_background(&t.core, &started);
    approve(&started).await;
    let before = waiting.await.unwrap().unwrap();

    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let waiting = wait_in_background(&t.core, &started);
    let (uri, code) = (started.verification_uri.clone(), started.user_code.clone());
    tokio::task::spawn_blocking(move || deny_device(&uri, &code))
        .await
        .unwrap();
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthorizationDenied, "{}", e.message);
    assert!(e.message.contains("denied"), "{}", e.message);
    assert!(!e.message.contains("device_code"), "{}", e.message);
    assert_eq!(
        t.core.token(&profile.id).unwrap().as_ref(),
        Some(&before),
        "a denial changes nothing stored"
    );
    let last_poll = polls(&t.core, &profile).pop().unwrap();
    assert!(last_poll.response_body.contains("access_denied"));
    assert_device_code_redacted(&exchanges(&t.core, &profile));
    // The history: the first sign-in, then the denied one — a failed acquisition with its error,
    // linked to the poll that said so.
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    let denied = &history[0];
    assert_eq!(
        (denied.kind, denied.outcome),
        (EventKind::Acquisition, Outcome::Failure)
    );
    assert_eq!(denied.error_code, Some(ErrorCode::AuthorizationDenied));
    assert_eq!(denied.exchange_id, Some(last_poll.id));
    assert_eq!(history[1].outcome, Outcome::Success);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_token_ends_the_wait() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    // Its codes die after 2 s though the answer says 600: the provider's expired_token ends it.
    let profile = t
        .add(device_config(&p, "device-expiring", AuthMethod::None), None)
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let e = t
        .core
        .wait_device_login(&started.login_id)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    assert!(
        e.message.contains("expired") && e.message.contains("expired_token"),
        "{}",
        e.message
    );
    assert!(
        polls(&t.core, &profile)
            .pop()
            .unwrap()
            .response_body
            .contains("expired_token")
    );
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_code_s_own_expiry_ends_the_wait_without_another_poll() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    // expires_in 2, interval 1: one poll at 1 s, then the deadline.
    let profile = t
        .add(device_config(&p, "device-short", AuthMethod::None), None)
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let e = t
        .core
        .wait_device_login(&started.login_id)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    // On a loaded machine the one poll may reach the provider only after the code died (then it
    // says expired_token); what must hold either way is that no poll is sent after the code's
    // own deadline.
    assert!(
        e.message.contains("not approved within") || e.message.contains("expired_token"),
        "{}",
        e.message
    );
    let issued = exchanges(&t.core, &profile)
        .into_iter()
        .find(|x| x.operation == "device_authorization")
        .unwrap()
        .at;
    let polls = polls(&t.core, &profile);
    assert!(!polls.is_empty());
    assert!(
        polls.iter().all(|x| x.at < issued + 2_000),
        "no poll after the code expired: polls at {:?} ms after it was issued",
        polls.iter().map(|x| x.at - issued).collect::<Vec<_>>()
    );
    if e.message.contains("not approved within") {
        assert!(polls[0].response_body.contains("authorization_pending"));
    }
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_down_adds_five_seconds_to_the_interval() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(device_config(&p, "device-slow", AuthMethod::None), None)
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    assert_eq!(started.interval, 1);
    let waiting = wait_in_background(&t.core, &started);
    // The second poll gets slow_down; approve after it, so the third brings the token.
    until_polled(&t.core, &profile, 2).await;
    approve(&started).await;
    let token = waiting.await.unwrap().expect("a token after slowing down");
    assert_eq!(token.grant, GrantKind::DeviceCode);

    // Answered polls (a dropped connection, retried at the next interval, has no status).
    let polls: Vec<Exchange> = polls(&t.core, &profile)
        .into_iter()
        .filter(|p| p.status.is_some())
        .collect();
    assert_eq!(
        polls.len(),
        3,
        "{:?}",
        polls.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    assert!(polls[1].response_body.contains("slow_down"));
    assert_eq!(polls[2].status, Some(200), "{}", polls[2].response_body);
    let first_gap = polls[1].at - polls[0].at;
    let second_gap = polls[2].at - polls[1].at;
    assert!(
        (1_000..3_000).contains(&first_gap),
        "polled at the provider's interval (1 s): {first_gap} ms"
    );
    assert!(
        second_gap >= 6_000,
        "after slow_down the interval is 1 + 5 s: {second_gap} ms"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_polling() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(device_config(&p, "device-public", AuthMethod::None), None)
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let waiting = wait_in_background(&t.core, &started);
    until_polled(&t.core, &profile, 1).await;
    t.core.cancel_login(&started.login_id);
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled, "{}", e.message);
    let after_cancel = polls(&t.core, &profile).len();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        polls(&t.core, &profile).len(),
        after_cancel,
        "no poll after cancel (the interval is 1 s)"
    );
    // Approving now changes nothing: nobody polls for it.
    approve(&started).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(t.core.token(&profile.id).unwrap().is_none());
    let e = t
        .core
        .wait_device_login(&started.login_id)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound, "a cancelled sign-in is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authorization_code_profile_may_sign_in_on_another_device() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            web_config(&p, &["openid", "offline_access"]),
            Some("web-app-secret"),
        )
        .await;
    let started = t.core.begin_device_login(&profile.id).await.unwrap();
    let waiting = wait_in_background(&t.core, &started);
    approve(&started).await;
    let token = waiting.await.unwrap().unwrap();
    assert_eq!(
        token.grant,
        GrantKind::DeviceCode,
        "stored as what happened"
    );
    assert!(token.id_token_validation.is_some());
    // A headless grant has nobody to sign in.
    let cc = t.add_cc_basic(&p).await;
    let e = t.core.begin_device_login(&cc.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported, "{}", e.message);
    // A device profile does not sign in in a browser.
    let e = t
        .core
        .begin_login(&profile_of(&t, "device-public", &p).await.id)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported, "{}", e.message);
    assert!(e.message.contains("device"), "{}", e.message);
}

async fn profile_of(t: &TestCore, client: &str, p: &Provider) -> Profile {
    t.add(device_config(p, client, AuthMethod::None), None)
        .await
}
