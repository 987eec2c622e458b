//! A sign-in has two channels — the loopback listener and a pasted redirect address — and the
//! first to bring the redirect completes it: the other returns the same outcome, a later paste
//! of the same address is not an error, and a paste from another sign-in is refused without
//! ending this one. One code exchange per sign-in, whatever the order.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::profile::{AuthMethod, GrantKind, Profile, ProfileConfig};
use tokendesk_testkit::hostile::{CLIENT_ID, CLIENT_SECRET, Hostile};
use tokendesk_testkit::*;

async fn profile(t: &TestCore, h: &Hostile) -> Profile {
    t.add(
        ProfileConfig {
            name: "channels".into(),
            issuer: Some(h.base.clone()),
            client_id: CLIENT_ID.into(),
            auth_method: AuthMethod::ClientSecretPost,
            grant: GrantKind::AuthorizationCode,
            scopes: vec!["openid".into()],
            ..Default::default()
        },
        Some(CLIENT_SECRET),
    )
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The address the provider sends the browser to (the listener's, with code and state).
async fn redirect_for(auth_url: &str) -> String {
    let answer = no_redirects().get(auth_url).send().await.unwrap();
    answer.headers()["location"].to_str().unwrap().to_owned()
}

fn code_exchanges(t: &TestCore, p: &Profile) -> usize {
    t.core
        .exchanges(&p.id, 500)
        .unwrap()
        .iter()
        .filter(|x| x.operation == "token:authorization_code")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_channel_completes_the_sign_in_and_the_other_gets_its_outcome() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let p = profile(&t, &h).await;

    // The listener first, then the same address pasted.
    let started = t.core.begin_login(&p.id).await.unwrap();
    let redirect = redirect_for(&started.auth_url).await;
    let core = t.core.clone();
    let id = started.login_id.clone();
    let waiting = tokio::spawn(async move { core.wait_login(&id, Duration::from_secs(30)).await });
    let page = no_redirects().get(&redirect).send().await.unwrap();
    assert!(page.status().is_success());
    let by_listener = waiting.await.unwrap().unwrap();
    let by_paste = t
        .core
        .complete_login(&started.login_id, &redirect)
        .await
        .expect("a paste of the redirect the listener already got is not an error");
    assert_eq!(by_listener.access.fingerprint, by_paste.access.fingerprint);
    assert_eq!(code_exchanges(&t, &p), 1, "one code exchange");

    // The paste first: the listener's waiter returns the same outcome.
    let started = t.core.begin_login(&p.id).await.unwrap();
    let redirect = redirect_for(&started.auth_url).await;
    let core = t.core.clone();
    let id = started.login_id.clone();
    let waiting = tokio::spawn(async move { core.wait_login(&id, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let by_paste = t
        .core
        .complete_login(&started.login_id, &redirect)
        .await
        .unwrap();
    let by_listener = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiter returns promptly")
        .unwrap()
        .expect("with the paste's outcome, not Cancelled");
    assert_eq!(by_listener.access.fingerprint, by_paste.access.fingerprint);
    assert_eq!(code_exchanges(&t, &p), 2);

    // A paste from another sign-in (its state differs) is refused and leaves this one waiting.
    let stale = redirect;
    let started = t.core.begin_login(&p.id).await.unwrap();
    let redirect = redirect_for(&started.auth_url).await;
    let e = t
        .core
        .complete_login(&started.login_id, &stale)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::StateMismatch);
    t.core
        .complete_login(&started.login_id, &redirect)
        .await
        .expect("the sign-in still completes with its own redirect");
    assert_eq!(code_exchanges(&t, &p), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_still_ends_the_wait() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let p = profile(&t, &h).await;
    let started = t.core.begin_login(&p.id).await.unwrap();
    let core = t.core.clone();
    let id = started.login_id.clone();
    let waiting = tokio::spawn(async move { core.wait_login(&id, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    t.core.cancel_login(&started.login_id);
    let e = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
}
