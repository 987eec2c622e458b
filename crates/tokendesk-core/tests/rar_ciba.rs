//! Rich Authorization Requests (RFC 9396) and CIBA against a real provider (oidc-provider 9 with
//! tests/provider/rar.mjs and ciba.mjs; its /test/ciba/approve route plays the user's phone)
//! and the real keychain: details sent on client credentials, a sign-in (plain and pushed) and
//! a CIBA request, the granted details compared with the asked ones (the provider narrows an
//! amount above 100.00 and drops actions it does not grant), the provider's refusal; CIBA
//! approved, denied, expired, slow_down, cancelled, an unknown user, ping mode with the right
//! and a wrong notification token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokendesk_core::flow::ciba::{DeliveryMode, HintKind};
use tokendesk_core::flow::rar::Difference;
use tokendesk_core::history::{EventKind, Outcome, Trigger};
use tokendesk_core::http::Exchange;
use tokendesk_core::profile::{AuthMethod, GrantKind, Profile, ProfileConfig};
use tokendesk_core::token::TokenSet;
use tokendesk_core::{CibaLoginOptions, CibaLoginStarted, Core, ErrorCode, Result};
use tokendesk_testkit::*;

const POLL: &str = "token:ciba";
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

fn polls(core: &Core, profile: &Profile) -> Vec<Exchange> {
    exchanges_of(core, profile, POLL)
}

fn payment(amount: &str) -> String {
    json!([{
        "type": "payment_initiation",
        "instructedAmount": {"currency": "EUR", "amount": amount},
        "creditorName": "Merchant A",
        "creditorAccount": {"iban": "DE02100100109307118603"}
    }])
    .to_string()
}

fn ciba_config(p: &Provider, client: &str, hint: &str) -> ProfileConfig {
    let mut c = ProfileConfig {
        name: client.into(),
        environment: "test".into(),
        issuer: Some(p.issuer.clone()),
        client_id: client.into(),
        auth_method: AuthMethod::ClientSecretBasic,
        grant: GrantKind::Ciba,
        scopes: vec!["openid".into(), "offline_access".into()],
        ..Default::default()
    };
    c.ciba.login_hint = Some(hint.into());
    c.ciba.binding_message = Some("TD-4711".into());
    c
}

async fn add_ciba(t: &TestCore, config: ProfileConfig) -> Profile {
    let secret = format!("{}-secret", config.client_id);
    t.add(config, Some(&secret)).await
}

fn wait_in_background(
    core: &Arc<Core>,
    started: &CibaLoginStarted,
) -> tokio::task::JoinHandle<Result<TokenSet>> {
    let core = core.clone();
    let id = started.login_id.clone();
    tokio::spawn(async move { core.wait_device_login(&id).await })
}

/// The provider's pending CIBA requests for a login hint (what the phone would show).
async fn pending(p: &Provider, hint: &str) -> Vec<Value> {
    tokendesk_core::http::install_tls_provider();
    reqwest::get(p.url(&format!("/test/ciba/pending?login_hint={hint}")))
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap()
}

/// The user approves (or denies) on the phone.
async fn answer(p: &Provider, hint: &str, deny: bool) {
    let url = p.url(&format!(
        "/test/ciba/approve?login_hint={hint}{}",
        if deny { "&deny=1" } else { "" }
    ));
    tokendesk_core::http::install_tls_provider();
    let r = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// Rich Authorization Requests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_send_details_and_a_narrowed_amount_is_pointed_out() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = cc_config(&p, "rar-cc", AuthMethod::ClientSecretBasic);
    config.authorization_details = Some(payment("150.00"));
    let profile = t.add(config, Some("rar-cc-secret")).await;
    let token = t.core.fetch_token(&profile.id).await.unwrap();

    // Sent as one JSON string (RFC 9396 §3).
    let log = exchanges(&t.core, &profile);
    let request = log
        .iter()
        .rfind(|e| e.operation.starts_with("token:"))
        .unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(request.request_body.as_bytes())
        .into_owned()
        .collect();
    let sent = form
        .iter()
        .find(|(k, _)| k == "authorization_details")
        .map(|(_, v)| serde_json::from_str::<Value>(v).unwrap())
        .expect("authorization_details sent");
    assert_eq!(sent[0]["instructedAmount"]["amount"], "150.00");

    let d = token
        .authorization_details
        .as_ref()
        .expect("the token keeps the details asked and granted");
    let granted = d.granted.as_ref().expect("the provider granted details");
    assert_eq!(granted[0]["instructedAmount"]["amount"], "100.00");
    assert_eq!(
        d.differences,
        vec![Difference::Changed {
            detail_type: "payment_initiation".into(),
            path: "/instructedAmount/amount".into(),
            requested: json!("150.00"),
            granted: json!("100.00"),
        }],
        "the narrowed amount, and nothing else, is pointed out"
    );
    // The history entry keeps them too.
    let history = t.core.history(&profile.id, 5).unwrap();
    assert_eq!(history[0].authorization_details.as_ref(), Some(d));

    // An amount within the limit is granted as asked.
    let mut config = profile.config.clone();
    config.authorization_details = Some(payment("12.34"));
    t.core.update_profile(&profile.id, config).await.unwrap();
    let token = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    let d = token.authorization_details.unwrap();
    assert!(d.differences.is_empty(), "{:?}", d.differences);
    let history = t.core.history(&profile.id, 5).unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history[0].authorization_details.is_some(),
        "the renewal's entry keeps them"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_sends_details_plain_and_pushed_and_dropped_actions_are_shown() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    for par in [false, true] {
        let mut config = web_config(&p, &["openid", "offline_access"]);
        config.name = format!("rar-app-par-{par}");
        config.client_id = "rar-app".into();
        config.par = par;
        config.authorization_details = Some(
            json!([{"type": "account_information",
                    "actions": ["list_accounts", "read_transactions"]}])
            .to_string(),
        );
        let profile = t.add(config, Some("rar-app-secret")).await;
        let token = t
            .core
            .login(&profile.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("par={par}: {}", e.message));
        let d = token.authorization_details.expect("details kept");
        assert_eq!(
            d.granted.unwrap()[0]["actions"],
            json!(["list_accounts"]),
            "par={par}"
        );
        assert!(
            matches!(&d.differences[..], [Difference::Changed { path, .. }] if path == "/actions"),
            "par={par}: {:?}",
            d.differences
        );
        let log = exchanges(&t.core, &profile);
        if par {
            let pushed = log.iter().find(|e| e.operation == "par").expect("pushed");
            assert!(
                pushed.request_body.contains("authorization_details="),
                "{}",
                pushed.request_body
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_details_are_shown_with_the_providers_description_and_nothing_is_stored() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = cc_config(&p, "rar-cc", AuthMethod::ClientSecretBasic);
    config.authorization_details = Some(
        json!([{"type": "payment_initiation",
                "instructedAmount": {"currency": "euro", "amount": "1"}}])
        .to_string(),
    );
    let profile = t.add(config, Some("rar-cc-secret")).await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        e.message.contains("invalid_authorization_details") && e.message.contains("ISO 4217"),
        "the provider's error and description: {}",
        e.message
    );
    assert!(
        t.core.token(&profile.id).unwrap().is_none(),
        "nothing stored"
    );

    // Details that are not an array of objects with a type never reach a profile.
    let mut bad = cc_config(&p, "rar-cc", AuthMethod::ClientSecretBasic);
    bad.name = "bad".into();
    for (details, says) in [
        (r#"{"type":"payment_initiation"}"#, "JSON array"),
        (r#"[{"actions":["x"]}]"#, "no \"type\""),
        ("[1]", "not a JSON object"),
        ("[{", "not JSON"),
    ] {
        bad.authorization_details = Some(details.into());
        let e = t.core.create_profile(bad.clone(), None).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let f = e
            .fields
            .iter()
            .find(|f| f.field == "authorization_details")
            .expect("the field is named");
        assert!(f.message.contains(says), "{details}: {}", f.message);
    }
    assert!(t.core.profile("bad").is_err(), "no profile was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_type_the_provider_does_not_list_is_warned_about() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = cc_config(&p, "rar-cc", AuthMethod::ClientSecretBasic);
    config.authorization_details = Some(r#"[{"type":"crypto_transfer"}]"#.into());
    let profile = t.add(config, Some("rar-cc-secret")).await;
    let profile = t.core.discover(&profile.id).await.unwrap();
    let w = tokendesk_core::flow::rar::unsupported_warning(&profile).expect("a warning");
    assert!(
        w.contains("\"crypto_transfer\"") && w.contains("payment_initiation"),
        "{w}"
    );
}

// ---------------------------------------------------------------------------------------------
// CIBA
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn an_approved_ciba_request_stores_a_checked_token_that_refreshes() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = ciba_config(&p, "ciba-app", "alice");
    config.authorization_details = Some(payment("250.00"));
    let profile = add_ciba(&t, config).await;
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap();
    assert_eq!(started.binding_message.as_deref(), Some("TD-4711"));
    assert_eq!(started.login_hint.as_deref(), Some("alice"));
    assert_eq!(started.interval, 1, "the provider's interval");
    assert_eq!(started.mode, DeliveryMode::Poll);
    let left = started.expires_at - t.core.now();
    assert!((590_000..=600_000).contains(&left), "expires in {left} ms");

    // The phone shows the same binding message and the details.
    let on_phone = pending(&p, "alice").await;
    assert_eq!(on_phone[0]["binding_message"], "TD-4711");
    assert_eq!(
        on_phone[0]["authorization_details"][0]["instructedAmount"]["amount"],
        "250.00"
    );

    let waiting = wait_in_background(&t.core, &started);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !polls(&t.core, &profile).is_empty(),
        "polled while the user had not approved"
    );
    assert!(t.core.token(&profile.id).unwrap().is_none());
    answer(&p, "alice", false).await;
    let token = waiting.await.unwrap().expect("approved: a token");
    assert_eq!(token.grant, GrantKind::Ciba);
    assert!(token.refresh.is_some());
    assert!(
        token
            .id_token_validation
            .as_ref()
            .is_some_and(|v| v.failures().is_empty()),
        "{:?}",
        token.id_token_validation
    );
    let d = token.authorization_details.as_ref().unwrap();
    assert!(
        matches!(&d.differences[..], [Difference::Changed { path, .. }] if path == "/instructedAmount/amount"),
        "{:?}",
        d.differences
    );

    // The auth_req_id is a credential: never in the log.
    let log = exchanges(&t.core, &profile);
    let request = log
        .iter()
        .find(|e| e.operation == "backchannel_authentication")
        .unwrap();
    let body: Value = serde_json::from_str(&request.response_body).unwrap();
    assert_eq!(
        body["auth_req_id"], "<redacted>",
        "{}",
        request.response_body
    );
    assert!(request.request_body.contains("binding_message=TD-4711"));
    assert!(request.request_body.contains("login_hint=alice"));
    for poll in log.iter().filter(|e| e.operation == POLL) {
        assert!(
            poll.request_body.contains("auth_req_id=<redacted>")
                || poll.request_body.contains("auth_req_id=%3Credacted%3E"),
            "{}",
            poll.request_body
        );
    }
    // Client authentication as the profile says.
    assert!(
        request
            .request_headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("authorization") && h.value.starts_with("Basic"))
    );

    let refreshed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_eq!(refreshed.grant, GrantKind::Ciba);
    assert_ne!(refreshed.access.fingerprint, token.access.fingerprint);
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(history[1].kind, EventKind::Acquisition);
    assert_eq!(history[1].method, "ciba", "marked as a CIBA acquisition");
    assert_eq!(history[1].outcome, Outcome::Success);
    assert_eq!(history[0].kind, EventKind::Refresh);
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_expired_and_unknown_user_end_the_wait_and_store_nothing() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = add_ciba(&t, ciba_config(&p, "ciba-app", "bob")).await;

    // Denied on the phone.
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap();
    let waiting = wait_in_background(&t.core, &started);
    answer(&p, "bob", true).await;
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthorizationDenied, "{}", e.message);
    assert!(
        e.message.contains("denied on the user's device"),
        "{}",
        e.message
    );

    // Expired: a request that may live 2 s.
    let mut config = profile.config.clone();
    config.ciba.requested_expiry = Some(2);
    t.core.update_profile(&profile.id, config).await.unwrap();
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap();
    let e = t
        .core
        .wait_device_login(&started.login_id)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    assert!(e.message.contains("request expired"), "{}", e.message);

    // An unknown user: refused at once, with what to check.
    let e = t
        .core
        .begin_ciba_login(
            &profile.id,
            CibaLoginOptions {
                login_hint: Some("unknown-mallory".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("unknown_user_id"), "{}", e.message);
    assert!(e.message.contains("login hint"), "{}", e.message);

    assert!(
        t.core.token(&profile.id).unwrap().is_none(),
        "nothing stored"
    );
    let history = t.core.history(&profile.id, 10).unwrap();
    assert!(
        history
            .iter()
            .all(|e| e.outcome == Outcome::Failure && e.method == "ciba"),
        "{history:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_down_adds_five_seconds_and_cancel_stops_polling() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = add_ciba(&t, ciba_config(&p, "ciba-slow", "carol")).await;
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap();
    let waiting = wait_in_background(&t.core, &started);
    // Poll 1 (pending), poll 2 (slow_down), then 6 s until poll 3.
    for _ in 0..100 {
        if polls(&t.core, &profile).len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    answer(&p, "carol", false).await;
    let token = waiting.await.unwrap().expect("a token after slowing down");
    assert_eq!(token.grant, GrantKind::Ciba);
    let polls = polls(&t.core, &profile);
    let slow = polls
        .iter()
        .position(|e| e.response_body.contains("slow_down"))
        .expect("the provider said slow_down");
    let gap = polls[slow + 1].at - polls[slow].at;
    assert!(
        gap >= 5_900,
        "after slow_down the interval is 1 + 5 s: {gap} ms"
    );

    // Cancel: no poll after it.
    let started = t
        .core
        .begin_ciba_login(
            &profile.id,
            CibaLoginOptions {
                login_hint: Some("dave".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let waiting = wait_in_background(&t.core, &started);
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.core.cancel_login(&started.login_id);
    let e = waiting.await.unwrap().unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
    let after = self::polls(&t.core, &profile).len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        self::polls(&t.core, &profile).len(),
        after,
        "no poll after Cancel"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_mode_polls_on_the_providers_notification_and_ignores_a_wrong_token() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let notify = format!("http://127.0.0.1:{port}/ciba/notify");
    let p = Provider::start(&["--ciba-notify", &notify]);
    let t = TestCore::new();
    let mut config = ciba_config(&p, "ciba-ping", "erin");
    config.ciba.mode = DeliveryMode::Ping;
    config.ciba.notification_endpoint = Some(notify.clone());
    config.ciba.hint_kind = HintKind::LoginHint;
    let profile = add_ciba(&t, config).await;
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap();
    assert_eq!(started.mode, DeliveryMode::Ping);
    let request = exchanges(&t.core, &profile)
        .into_iter()
        .find(|e| e.operation == "backchannel_authentication")
        .unwrap();
    assert!(
        request
            .request_body
            .contains("client_notification_token=<redacted>"),
        "the notification token is redacted: {}",
        request.request_body
    );
    let begun = Instant::now();
    let waiting = wait_in_background(&t.core, &started);

    // A notification with a wrong token: refused, logged, and no poll.
    tokendesk_core::http::install_tls_provider();
    let r = reqwest::Client::new()
        .post(&notify)
        .bearer_auth("not-the-token")
        .header("content-type", "application/json")
        .body(json!({"auth_req_id": "whatever"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = exchanges(&t.core, &profile);
    let ignored = log
        .iter()
        .find(|e| e.operation == "ciba_notification")
        .expect("the ignored notification is logged");
    assert!(
        ignored
            .error
            .as_deref()
            .is_some_and(|m| m.contains("wrong client_notification_token")),
        "{ignored:?}"
    );
    assert!(!format!("{ignored:?}").contains("not-the-token"));
    assert!(
        polls(&t.core, &profile).is_empty(),
        "a wrong ping is not a reason to poll"
    );
    assert!(!waiting.is_finished());

    // The provider's own ping after the approval: one poll, the token.
    answer(&p, "erin", false).await;
    let token = waiting.await.unwrap().expect("a token after the ping");
    assert_eq!(token.grant, GrantKind::Ciba);
    assert!(
        begun.elapsed() < Duration::from_secs(20),
        "the ping, not the 30 s fallback poll, brought it: {:?}",
        begun.elapsed()
    );
    assert_eq!(
        polls(&t.core, &profile).len(),
        1,
        "one poll, after the ping"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_ciba_request_with_private_key_jwt_is_approved() {
    use tokendesk_core::profile::{AssertionAlg, ClientAssertion};
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = ciba_config(&p, "ciba-jar", "frank");
    config.auth_method = AuthMethod::PrivateKeyJwt;
    config.client_assertion = ClientAssertion {
        alg: AssertionAlg::ES256,
        kid: Some("ciba-jar-ec".into()),
        audience: None,
    };
    config.signed_request = true;
    config.authorization_details = Some(payment("20.00"));
    let key = p.client_keys["ciba-jar"].clone();
    let profile = t.add(config, Some(&key)).await;
    let started = t
        .core
        .begin_ciba_login(&profile.id, CibaLoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    let request = exchanges(&t.core, &profile)
        .into_iter()
        .find(|e| e.operation == "backchannel_authentication")
        .unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(request.request_body.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"request"), "{names:?}");
    assert!(
        !names.contains(&"login_hint") && !names.contains(&"binding_message"),
        "only the signed request object carries the parameters: {names:?}"
    );
    let waiting = wait_in_background(&t.core, &started);
    assert_eq!(pending(&p, "frank").await[0]["binding_message"], "TD-4711");
    answer(&p, "frank", false).await;
    let token = waiting
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(token.grant, GrantKind::Ciba);
    assert!(token.authorization_details.unwrap().differences.is_empty());
}
