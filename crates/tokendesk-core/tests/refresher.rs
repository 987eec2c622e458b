//! Automatic refresh against a real provider with short token lifetimes.

use std::time::{Duration, Instant};

use tokendesk_core::history::{EventKind, Outcome, TokenEvent, Trigger};
use tokendesk_core::refresher;
use tokendesk_core::token::TokenSet;
use tokendesk_core::{CancellationToken, ErrorCode};
use tokendesk_testkit::*;

/// A profile's refreshes, newest first (the history holds its acquisitions too).
fn refreshes(
    t: &TestCore,
    id: &tokendesk_core::profile::ProfileId,
    limit: usize,
) -> Vec<TokenEvent> {
    let events = t.core.history(id, limit).unwrap();
    events
        .into_iter()
        .filter(|e| e.kind == EventKind::Refresh)
        .collect()
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_renewed_before_expiry_without_any_caller() {
    let p = Provider::start(&["--access-ttl", "6", "--cc-ttl", "6"]);
    let t = TestCore::new();
    let cc = t.add_cc_basic(&p).await;
    t.core.fetch_token(&cc.id).await.unwrap();
    let web = t
        .add(
            web_config(&p, &["openid", "offline_access"]),
            Some("web-app-secret"),
        )
        .await;
    t.core
        .login(&web.id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();

    let stop = CancellationToken::new();
    tokio::spawn(refresher::run(t.core.clone(), stop.clone()));
    // Watch for 14 s (more than two lifetimes): no token may ever be seen expired.
    let start = Instant::now();
    let mut seen: Vec<(String, String)> = Vec::new();
    while start.elapsed() < Duration::from_secs(14) {
        for id in [&cc.id, &web.id] {
            let token: TokenSet = t.core.token(id).unwrap().unwrap();
            let now = t.core.now();
            assert!(
                token.access_expires_at.unwrap() > now,
                "a token expired before it was renewed"
            );
            let entry = (id.to_string(), token.access.fingerprint.clone());
            if !seen.contains(&entry) {
                seen.push(entry);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.cancel();
    for (id, method) in [(&cc.id, "client_credentials"), (&web.id, "refresh_token")] {
        let events = refreshes(&t, id, 20);
        assert!(
            events.len() >= 2,
            "renewed at least twice: {}",
            events.len()
        );
        assert!(
            events
                .iter()
                .all(|e| e.trigger == Trigger::Automatic && e.outcome == Outcome::Success)
        );
        assert!(events.iter().all(|e| e.method == method), "{method:?}");
        let fingerprints = seen.iter().filter(|(p, _)| p == id.as_str()).count();
        assert!(fingerprints >= 3, "new tokens were stored: {fingerprints}");
    }
    assert!(
        refreshes(&t, &web.id, 20).iter().all(|e| e.rotated),
        "the refresh token rotates each time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_goes_away_is_retried_with_backoff_and_nothing_is_lost() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let args = ["--port", port.as_str(), "--cc-ttl", "4"];
    let p = Provider::start(&args);
    let t = TestCore::new();
    let cc = t.add_cc_basic(&p).await;
    t.core.discover(&cc.id).await.unwrap();
    let before = t.core.fetch_token(&cc.id).await.unwrap();
    drop(p);

    let stop = CancellationToken::new();
    tokio::spawn(refresher::run(t.core.clone(), stop.clone()));
    wait_for(
        "two failed automatic refreshes",
        Duration::from_secs(20),
        || {
            t.core
                .history(&cc.id, 10)
                .unwrap()
                .iter()
                .filter(|e| e.outcome == Outcome::Failure)
                .count()
                >= 2
        },
    )
    .await;
    let during = t.core.token(&cc.id).unwrap().unwrap();
    assert_eq!(
        during.access, before.access,
        "the stored token is unchanged while the provider is down"
    );
    assert!(
        during.retry_at.unwrap() > t.core.now() - 1_000,
        "the next retry is scheduled"
    );
    assert!(
        during
            .last_error
            .as_deref()
            .unwrap()
            .contains("Could not connect"),
        "{:?}",
        during.last_error
    );
    let failures: Vec<_> = t
        .core
        .history(&cc.id, 10)
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == Outcome::Failure)
        .collect();
    assert!(
        failures
            .iter()
            .all(|e| e.error_code == Some(ErrorCode::Network))
    );
    // Backoff: the gap between failures grows.
    if failures.len() >= 3 {
        let gaps: Vec<i64> = failures.windows(2).map(|w| w[0].at - w[1].at).collect();
        assert!(gaps[0] >= gaps[gaps.len() - 1], "gaps grow: {gaps:?}");
    }

    let _back = Provider::start(&args);
    wait_for(
        "a successful refresh after the provider is back",
        Duration::from_secs(30),
        || t.core.token(&cc.id).unwrap().unwrap().access != before.access,
    )
    .await;
    let after = t.core.token(&cc.id).unwrap().unwrap();
    assert!(
        after.retry_at.is_none() && after.last_error.is_none(),
        "the retry state is cleared"
    );
    assert_eq!(
        t.core.history(&cc.id, 1).unwrap()[0].outcome,
        Outcome::Success
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_callers_share_one_refresh() {
    let p = Provider::start(&["--access-ttl", "8"]);
    let t = TestCore::new();
    let web = t
        .add(
            web_config(&p, &["openid", "offline_access"]),
            Some("web-app-secret"),
        )
        .await;
    let first = t
        .core
        .login(&web.id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();
    // Ask for 6 s of validity once less than that is left: one caller refreshes (rotating the
    // refresh token), the others must see the new token, not send the old refresh token again.
    let left = first.access_expires_at.unwrap() - t.core.now();
    tokio::time::sleep(Duration::from_millis((left - 5_000).max(0) as u64)).await;
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let core = t.core.clone();
            let id = web.id.clone();
            tokio::spawn(async move {
                core.ensure_token(&id, Duration::from_secs(6), Trigger::Manual)
                    .await
            })
        })
        .collect();
    let mut fingerprints = Vec::new();
    for c in callers {
        fingerprints.push(c.await.unwrap().unwrap().access.fingerprint);
    }
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "every caller got the same new token");
    assert_ne!(fingerprints[0], first.access.fingerprint);
    let events = refreshes(&t, &web.id, 10);
    assert_eq!(events.len(), 1, "exactly one refresh went to the provider");
    assert_eq!(events[0].outcome, Outcome::Success);
}

/// The token lock is taken without waiting when it is free; when another process holds it
/// (here another open file description of the same lock file, which `flock` treats alike),
/// the token operation waits for it and goes ahead once it is released.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_lock_held_elsewhere_is_waited_for() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let cc = t.add_cc_basic(&p).await;
    t.core.fetch_token(&cc.id).await.unwrap();
    let path = t.core.home().lock_dir().join(format!("{}.lock", cc.id));
    let held = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    held.lock().unwrap();
    let (core, id) = (t.core.clone(), cc.id.clone());
    let refresh = tokio::spawn(async move { core.refresh(&id, Trigger::Manual).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!refresh.is_finished(), "the refresh waits for the lock");
    assert_eq!(refreshes(&t, &cc.id, 10).len(), 0, "nothing was sent");
    held.unlock().unwrap();
    let renewed = tokio::time::timeout(Duration::from_secs(20), refresh)
        .await
        .expect("the refresh goes ahead once the lock is free")
        .unwrap()
        .unwrap();
    assert_eq!(t.core.token(&cc.id).unwrap(), Some(renewed));
    assert_eq!(refreshes(&t, &cc.id, 10).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_another_process_obtained_is_renewed_by_the_running_refresher() {
    // The command line fetches a token while the app's refresher runs: nothing in the app's
    // process hears of it, only the store changes. The refresher's next look (every 15 s) sees
    // that another process wrote, re-reads the store, and renews the token before it expires.
    let p = Provider::start(&["--cc-ttl", "20"]);
    let t = TestCore::new();
    let cc = t.add_cc_basic(&p).await;
    let stop = CancellationToken::new();
    tokio::spawn(refresher::run(t.core.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let elsewhere = t.another_process();
    let fetched = elsewhere.fetch_token(&cc.id).await.unwrap();
    wait_for("the refresher renews it", Duration::from_secs(19), || {
        refreshes(&t, &cc.id, 10)
            .iter()
            .any(|e| e.trigger == Trigger::Automatic && e.outcome == Outcome::Success)
    })
    .await;
    stop.cancel();
    let now = t.core.token(&cc.id).unwrap().unwrap();
    assert_ne!(now.access.fingerprint, fetched.access.fingerprint);
}

/// A profile edited by another core on the same home (as the command line does while the app
/// runs) is renewed as edited: the renewing core keeps decoded profiles but never a stale one.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_edited_elsewhere_is_renewed_as_edited() {
    let p = Provider::start(&["--cc-ttl", "60"]);
    let t = TestCore::new();
    let cc = t.add_cc_basic(&p).await;
    t.core.fetch_token(&cc.id).await.unwrap();
    // Everything due within the hour: the 60-s token is due, and renewed.
    let slack = 3_600_000;
    assert!(t.core.renew_if_due(&cc.id, slack).await.unwrap().is_some());
    let elsewhere = t.another_process();
    let mut config = cc.config.clone();
    config.refresh.auto = false;
    elsewhere
        .update_profile(&cc.id, config.clone())
        .await
        .unwrap();
    assert_eq!(
        t.core.renew_if_due(&cc.id, slack).await.unwrap(),
        None,
        "automatic renewal was turned off elsewhere"
    );
    config.refresh.auto = true;
    elsewhere.update_profile(&cc.id, config).await.unwrap();
    assert!(t.core.renew_if_due(&cc.id, slack).await.unwrap().is_some());
}
