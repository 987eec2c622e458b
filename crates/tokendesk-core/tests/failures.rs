//! Bad answers and broken providers: each gives a clear error and loses nothing stored.

use std::time::Duration;

use tokendesk_core::http::HttpOptions;
use tokendesk_core::profile::{AuthMethod, Endpoints, GrantKind, ProfileConfig};
use tokendesk_core::{Error, ErrorCode};
use tokendesk_testkit::*;

fn config_for(token_url: String) -> ProfileConfig {
    ProfileConfig {
        name: "broken".into(),
        client_id: "cc-basic".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        grant: GrantKind::ClientCredentials,
        endpoints: Endpoints {
            token: Some(token_url),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Gets a good token first, points the profile at `token_url`, fetches again and returns the
/// error — after checking that the good token is still stored.
async fn fetch_against(t: &TestCore, p: &Provider, token_url: String) -> Error {
    let profile = t
        .add(config_for(p.url("/token")), Some("cc-basic-secret"))
        .await;
    let good = t.core.fetch_token(&profile.id).await.unwrap();
    t.core
        .update_profile(&profile.id, config_for(token_url))
        .await
        .unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(
        t.core.token(&profile.id).unwrap(),
        Some(good),
        "the stored token is intact"
    );
    t.core.delete_profile(&profile.id).await.unwrap();
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_error_page_is_named_as_such() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let e = fetch_against(&t, &p, p.url("/broken/html")).await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("HTTP 502") && e.message.contains("HTML page"),
        "{}",
        e.message
    );
    assert!(e.message.contains("token endpoint URL"), "{}", e.message);
    let e = fetch_against(&t, &p, p.url("/broken/html200")).await;
    assert!(e.message.contains("HTML page"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_and_malformed_bodies_are_told_apart() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let e = fetch_against(&t, &p, p.url("/broken/empty")).await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(
        e.message.contains("HTTP 500") && e.message.contains("empty body"),
        "{}",
        e.message
    );
    let e = fetch_against(&t, &p, p.url("/broken/badjson")).await;
    assert_eq!(e.code, ErrorCode::BadResponse);
    assert!(e.message.contains("not valid JSON"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_sent_as_text_plain_is_accepted() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(config_for(p.url("/broken/textjson")), Some("x-secret"))
        .await;
    let token = t.core.fetch_token(&profile.id).await.unwrap();
    assert!(token.access_expires_at.is_some());
    let log = t.core.exchanges(&profile.id, 5).unwrap();
    assert!(
        log[0]
            .response_headers
            .iter()
            .any(|h| h.name == "content-type" && h.value.starts_with("text/plain")),
        "the log shows the header as it came"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_and_a_provider_that_is_down() {
    let p = Provider::start(&[]);
    let t = TestCore::with_http(HttpOptions {
        timeout: Duration::from_millis(800),
        connect_timeout: Duration::from_millis(800),
    });
    let e = fetch_against(&t, &p, p.url("/broken/slow?ms=3000")).await;
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(
        e.message.contains("did not answer within 800 ms"),
        "{}",
        e.message
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = fetch_against(&t, &p, format!("http://127.0.0.1:{closed}/token")).await;
    assert_eq!(e.code, ErrorCode::Network);
    assert!(
        e.message.contains("Could not connect") && e.message.contains("running"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_without_secret_or_endpoint_says_what_to_set() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .core
        .create_profile(config_for(p.url("/token")), None)
        .await
        .unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(
        e.message.contains("no client secret is stored"),
        "{}",
        e.message
    );

    let e = t
        .core
        .create_profile(
            ProfileConfig {
                name: "x".into(),
                client_id: "c".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.fields.iter().any(|f| f.field == "endpoints.token"));

    let mut bad_issuer = config_for(p.url("/token"));
    bad_issuer.name = "wrong issuer".into();
    bad_issuer.issuer = Some(p.url("/nowhere"));
    let profile = t.core.create_profile(bad_issuer, None).await.unwrap();
    let e = t.core.discover(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(
        e.message.contains("No discovery document") && e.message.contains("HTTP 404"),
        "{}",
        e.message
    );
}

/// A renewal is written in one transaction (token set, exchange, history event). When that
/// transaction fails (here a trigger refuses the success event, as a full disk would refuse
/// any write), the renewal fails, the previous token set stays, and the failure is recorded
/// with the exchange of the request.
#[tokio::test(flavor = "multi_thread")]
async fn a_renewal_whose_store_write_fails_leaves_the_previous_token() {
    use tokendesk_core::history::{Outcome, Trigger};
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(config_for(p.url("/token")), Some("cc-basic-secret"))
        .await;
    let good = t.core.fetch_token(&profile.id).await.unwrap();
    let exchanges_before = t.core.exchanges(&profile.id, 100).unwrap().len();
    let db = rusqlite::Connection::open(t.core.home().db_path()).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse_success BEFORE INSERT ON refresh_events
         WHEN json_extract(NEW.data, '$.outcome') = 'success'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();
    let e = t
        .core
        .refresh(&profile.id, Trigger::Manual)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Storage, "{}", e.message);
    assert_eq!(
        t.core.token(&profile.id).unwrap(),
        Some(good.clone()),
        "the previous token set stays"
    );
    let history = t.core.history(&profile.id, 1).unwrap();
    assert_eq!(history[0].outcome, Outcome::Failure);
    let exchanges = t.core.exchanges(&profile.id, 100).unwrap();
    assert_eq!(
        exchanges.len(),
        exchanges_before + 1,
        "the request is in the exchange log"
    );
    assert_eq!(history[0].exchange_id, Some(exchanges.last().unwrap().id));

    db.execute_batch("DROP TRIGGER refuse_success").unwrap();
    let renewed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_ne!(renewed.access.fingerprint, good.access.fingerprint);
    assert_eq!(t.core.token(&profile.id).unwrap(), Some(renewed));
    let history = t.core.history(&profile.id, 1).unwrap();
    assert_eq!(history[0].outcome, Outcome::Success);
    let exchanges = t.core.exchanges(&profile.id, 100).unwrap();
    assert_eq!(history[0].exchange_id, Some(exchanges.last().unwrap().id));
}
