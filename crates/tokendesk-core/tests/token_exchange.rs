//! Token exchange (RFC 8693) against the real test provider, which checks the subject token
//! for real (a token it issued, or an ID token it signed) and issues tokens of its own.

use std::time::{Duration, Instant};

use tokendesk_core::ErrorCode;
use tokendesk_core::flow::token_exchange::{
    ACCESS_TOKEN_TYPE, ExchangeToken, JWT_TOKEN_TYPE, TokenExchange,
};
use tokendesk_core::history::Trigger;
use tokendesk_core::profile::{AuthMethod, GrantKind, Profile, ProfileConfig};
use tokendesk_core::refresher;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::token::TokenSet;
use tokendesk_testkit::*;
use tokio_util::sync::CancellationToken;

fn exchange_config(p: &Provider, name: &str, subject: &str, kind: ExchangeToken) -> ProfileConfig {
    ProfileConfig {
        name: name.into(),
        environment: "test".into(),
        issuer: Some(p.issuer.clone()),
        client_id: "exchanger".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        grant: GrantKind::TokenExchange,
        scopes: vec!["api:read".into()],
        token_exchange: TokenExchange {
            subject_profile: Some(subject.into()),
            subject_token: kind,
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn cc_subject(t: &TestCore, p: &Provider) -> Profile {
    t.add_cc_basic(p).await
}

async fn value(t: &TestCore, p: &Profile, kind: SecretKind) -> String {
    t.core.reveal(&p.id, kind).await.unwrap().expose().clone()
}

async fn introspect(p: &Provider, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(p.url("/token/introspection"))
        .basic_auth("exchanger", Some("exchanger-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|body| serde_json::from_str(&body).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_token_is_exchanged_and_the_chain_is_stored_without_the_value() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let subject = cc_subject(&t, &p).await;
    let dep = t
        .add(
            exchange_config(
                &p,
                "downstream",
                &subject.config.name,
                ExchangeToken::Access,
            ),
            Some("exchanger-secret"),
        )
        .await;
    // No subject token yet: the exchange gets one first (client credentials need no user).
    let token = t.core.fetch_token(&dep.id).await.unwrap();
    let sub_token = t
        .core
        .token(&subject.id)
        .unwrap()
        .expect("subject fetched first");
    assert_eq!(token.grant, GrantKind::TokenExchange);
    assert_eq!(token.issued_token_type.as_deref(), Some(ACCESS_TOKEN_TYPE));
    let chain = token
        .exchanged_from
        .as_ref()
        .expect("the chain is recorded");
    assert_eq!(chain.profile_id, subject.id);
    assert_eq!(chain.profile_name, "cc-basic-client_secret_basic");
    assert_eq!(chain.token, ExchangeToken::Access);
    assert_eq!(
        chain.fingerprint, sub_token.access.fingerprint,
        "the chain names the very subject token that was sent"
    );
    // The provider issued it to the exchanger, for the subject's client.
    let exchanged = value(&t, &dep, SecretKind::AccessToken).await;
    let info = introspect(&p, &exchanged).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], "exchanger");
    assert_eq!(info["exchanged_sub"], "cc-basic");
    // Stored and read back with the chain.
    assert_eq!(t.core.token(&dep.id).unwrap().unwrap(), token);

    // The subject token's value is nowhere but in the keychain: not in the exchange log, the
    // database, the home, the tracing log.
    let secret = value(&t, &subject, SecretKind::AccessToken).await;
    let log = t.core.exchanges(&dep.id, 20).unwrap();
    let sent = log
        .iter()
        .find(|e| e.operation == "token:token_exchange")
        .expect("the exchange is logged");
    assert!(
        sent.request_body.contains("subject_token_type=urn"),
        "{}",
        sent.request_body
    );
    assert!(!contains(
        serde_json::to_string(&log).unwrap().as_bytes(),
        &secret
    ));
    assert!(!contains(
        serde_json::to_string(&log).unwrap().as_bytes(),
        &exchanged
    ));
    let mut files = all_bytes(t.home.path());
    files.push((log_path().to_path_buf(), std::fs::read(log_path()).unwrap()));
    for (path, bytes) in files {
        assert!(!contains(&bytes, &secret), "subject token in {path:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_token_of_a_signed_in_profile_is_exchanged_for_a_jwt_with_token_type_n_a() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
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
    let mut config = exchange_config(&p, "as-jwt", "web-app", ExchangeToken::Id);
    config.token_exchange.requested_token_type = Some(JWT_TOKEN_TYPE.into());
    config.audience = Some("https://api.tokendesk.test".into());
    let dep = t.add(config, Some("exchanger-secret")).await;
    let token = t.core.fetch_token(&dep.id).await.unwrap();
    assert_eq!(
        token.token_type, "N_A",
        "RFC 8693 §2.2.1: not an access token"
    );
    assert_eq!(token.issued_token_type.as_deref(), Some(JWT_TOKEN_TYPE));
    let chain = token.exchanged_from.unwrap();
    assert_eq!(chain.token, ExchangeToken::Id);
    let web_set = t.core.token(&web.id).unwrap().unwrap();
    assert_eq!(chain.fingerprint, web_set.id_token.unwrap().fingerprint);
    let jwt = tokendesk_core::inspect::decode_jwt(&value(&t, &dep, SecretKind::AccessToken).await)
        .unwrap();
    assert_eq!(
        jwt.claims["sub"], "alice",
        "the signed-in user, from the ID token"
    );
    assert_eq!(
        jwt.claims["aud"], "https://api.tokendesk.test",
        "the audience asked for"
    );

    // The subject loses its token (signed out): renewing the dependent cannot work, says whose
    // sign-in it needs, and marks the dependent's token so; the token itself is kept.
    t.core.forget_token(&web.id).await.unwrap();
    let e = t.core.refresh(&dep.id, Trigger::Manual).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NeedsLogin, "{}", e.message);
    assert!(
        e.message.contains("Sign in to profile \"web-app\""),
        "{}",
        e.message
    );
    let marked = t.core.token(&dep.id).unwrap().unwrap();
    assert_eq!(marked.access, token.access, "the exchanged token is kept");
    assert!(
        marked
            .needs_login
            .as_deref()
            .is_some_and(|m| m.contains("\"web-app\"")),
        "{:?}",
        marked.needs_login
    );
    // Signed in again: the dependent's chain no longer matches, so it is due at once.
    t.core
        .login(&web.id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();
    let again = t.core.renew_if_due(&dep.id, 0).await.unwrap().expect("due");
    assert!(again.needs_login.is_none());
    assert_eq!(
        again.exchanged_from.unwrap().fingerprint,
        t.core
            .token(&web.id)
            .unwrap()
            .unwrap()
            .id_token
            .unwrap()
            .fingerprint
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_subject_token_is_renewed_before_the_exchange() {
    let p = Provider::start(&["--cc-ttl", "2"]);
    let t = TestCore::new();
    let subject = cc_subject(&t, &p).await;
    let first = t.core.fetch_token(&subject.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(first.access_expires_at.unwrap() <= t.core.now(), "expired");
    let dep = t
        .add(
            exchange_config(
                &p,
                "downstream",
                &subject.config.name,
                ExchangeToken::Access,
            ),
            Some("exchanger-secret"),
        )
        .await;
    let token = t.core.fetch_token(&dep.id).await.unwrap();
    let renewed = t.core.token(&subject.id).unwrap().unwrap();
    assert_ne!(
        renewed.access, first.access,
        "the subject was renewed first"
    );
    assert_eq!(
        token.exchanged_from.unwrap().fingerprint,
        renewed.access.fingerprint,
        "and its new token was exchanged (the provider refuses an expired one)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subject_without_a_token_is_named_and_nothing_is_stored() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    // A sign-in profile that never signed in: no token, and none without the user.
    t.add(web_config(&p, &["openid"]), Some("web-app-secret"))
        .await;
    let dep = t
        .add(
            exchange_config(&p, "downstream", "web-app", ExchangeToken::Id),
            Some("exchanger-secret"),
        )
        .await;
    let e = t.core.fetch_token(&dep.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NeedsLogin, "{}", e.message);
    assert!(
        e.message.contains("profile \"web-app\"")
            && e.message.contains("Sign in to profile \"web-app\" first"),
        "the error names the subject and what to do: {}",
        e.message
    );
    assert!(t.core.token(&dep.id).unwrap().is_none(), "nothing stored");
    assert!(
        t.core
            .exchanges(&dep.id, 10)
            .unwrap()
            .iter()
            .all(|x| x.operation != "token:token_exchange"),
        "no exchange was sent"
    );
    // ensure_token (what `tokendesk token` runs) says the same.
    let e = t
        .core
        .ensure_token(&dep.id, Duration::from_secs(30), Trigger::CommandLine)
        .await
        .unwrap_err();
    assert!(e.message.contains("\"web-app\""), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subject_token_the_provider_refuses_is_a_clear_error_and_the_previous_token_stays() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let subject = cc_subject(&t, &p).await;
    // Gateway tokens come from another issuer: the provider cannot know them.
    let gateway = t.add(gateway_config(&p), Some("gw-secret")).await;
    let mut config = exchange_config(
        &p,
        "downstream",
        &subject.config.name,
        ExchangeToken::Access,
    );
    let dep = t.add(config.clone(), Some("exchanger-secret")).await;
    let before = t.core.fetch_token(&dep.id).await.unwrap();
    let before_value = value(&t, &dep, SecretKind::AccessToken).await;

    config.token_exchange.subject_profile = Some("gateway".into());
    t.core.update_profile(&dep.id, config).await.unwrap();
    let e = t.core.fetch_token(&dep.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant, "{}", e.message);
    assert!(
        e.message.contains("token exchange") && e.message.contains("subject_token"),
        "says which request and what it refused: {}",
        e.message
    );
    let gw_value = value(&t, &gateway, SecretKind::AccessToken).await;
    assert!(!e.message.contains(&gw_value), "no token value in errors");
    assert_eq!(t.core.token(&dep.id).unwrap().unwrap(), before, "intact");
    assert_eq!(value(&t, &dep, SecretKind::AccessToken).await, before_value);
    // The stored token names the old subject, which is no longer the profile's.
    let stale = t.core.exchange_stale(&before).unwrap().unwrap();
    assert!(stale.contains("\"gateway\""), "{stale}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewed_subject_gets_its_dependents_exchanged_again() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let subject = cc_subject(&t, &p).await;
    let dep = t
        .add(
            exchange_config(
                &p,
                "downstream",
                &subject.config.name,
                ExchangeToken::Access,
            ),
            Some("exchanger-secret"),
        )
        .await;
    let first = t.core.fetch_token(&dep.id).await.unwrap();
    let sub = |t: &TestCore| t.core.token(&subject.id).unwrap().unwrap();

    // 1. The next ensure_token on the dependent (what `tokendesk token` runs) notices.
    t.core.refresh(&subject.id, Trigger::Manual).await.unwrap();
    assert!(t.core.exchange_stale(&first).unwrap().is_some());
    let second = t
        .core
        .ensure_token(&dep.id, Duration::from_secs(30), Trigger::CommandLine)
        .await
        .unwrap();
    assert_ne!(second.access, first.access, "exchanged again");
    assert_eq!(
        second.exchanged_from.as_ref().unwrap().fingerprint,
        sub(&t).access.fingerprint
    );
    let third = t
        .core
        .ensure_token(&dep.id, Duration::from_secs(30), Trigger::CommandLine)
        .await
        .unwrap();
    assert_eq!(third.access, second.access, "a current chain is reused");

    // 2. The background refresher does it by itself, without anyone asking for the token.
    let stop = CancellationToken::new();
    tokio::spawn(refresher::run(t.core.clone(), stop.clone()));
    t.core.refresh(&subject.id, Trigger::Manual).await.unwrap();
    let renewed = sub(&t);
    let start = Instant::now();
    let fourth: TokenSet = loop {
        let now = t.core.token(&dep.id).unwrap().unwrap();
        if now.access != second.access {
            break now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the refresher did not re-exchange"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.cancel();
    assert_eq!(
        fourth.exchanged_from.unwrap().fingerprint,
        renewed.access.fingerprint,
        "the new dependent token is exchanged from the new subject token"
    );
    let history = t.core.history(&dep.id, 5).unwrap();
    assert_eq!(history[0].method, "token_exchange");
    assert_eq!(history[0].trigger, Trigger::Automatic);
}

#[tokio::test(flavor = "multi_thread")]
async fn links_are_checked_cycles_refused_renames_followed_and_a_subject_not_deleted() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let a = cc_subject(&t, &p).await;
    let a_name = a.config.name.clone();
    let b = t
        .add(
            exchange_config(&p, "b", &a_name, ExchangeToken::Access),
            Some("exchanger-secret"),
        )
        .await;

    let field = |e: &tokendesk_core::Error| e.fields.first().map(|f| f.field.clone());
    // A name that does not exist.
    let e = t
        .core
        .create_profile(
            exchange_config(&p, "c", "nobody", ExchangeToken::Access),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(field(&e).as_deref(), Some("token_exchange.subject_profile"));
    assert!(
        e.message.contains("No profile named \"nobody\""),
        "{}",
        e.message
    );
    // Itself.
    let e = t
        .core
        .create_profile(exchange_config(&p, "c", "c", ExchangeToken::Access), None)
        .await
        .unwrap_err();
    assert!(e.message.contains("its own token"), "{}", e.message);
    // A cycle: a would exchange b, which exchanges a.
    let mut a_config = exchange_config(&p, &a_name, "b", ExchangeToken::Access);
    a_config.client_id = "cc-basic".into();
    let e = t.core.update_profile(&a.id, a_config).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(field(&e).as_deref(), Some("token_exchange.subject_profile"));
    assert!(e.message.contains("cycle"), "{}", e.message);
    assert_eq!(
        t.core.profile(&a_name).unwrap().config.grant,
        GrantKind::ClientCredentials
    );
    // Through a third profile too: c exchanges b; then a may not exchange c.
    t.add(exchange_config(&p, "c", "b", ExchangeToken::Access), None)
        .await;
    let e = t
        .core
        .update_profile(
            &a.id,
            exchange_config(&p, &a_name, "c", ExchangeToken::Access),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("\"c\" → \"b\""), "{}", e.message);

    // The subject cannot be deleted from under its dependents.
    let e = t.core.delete_profile(&a.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("\"b\""), "{}", e.message);
    assert!(t.core.profile(&a_name).is_ok());
    // A rename is followed.
    let mut renamed = a.config.clone();
    renamed.name = "upstream".into();
    t.core.update_profile(&a.id, renamed).await.unwrap();
    let b_now = t.core.profile(&b.config.name).unwrap();
    assert_eq!(
        b_now.config.token_exchange.subject_profile.as_deref(),
        Some("upstream")
    );
    t.core.fetch_token(&b.id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exchange_client_authenticating_with_private_key_jwt() {
    // The grant's parameters and the client assertion travel together (the assertion once).
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let subject = cc_subject(&t, &p).await;
    let mut config = exchange_config(
        &p,
        "downstream-jwt",
        &subject.config.name,
        ExchangeToken::Access,
    );
    config.client_id = "exchanger-jwt".into();
    config.auth_method = AuthMethod::PrivateKeyJwt;
    config.client_assertion = tokendesk_core::profile::ClientAssertion {
        alg: tokendesk_core::profile::AssertionAlg::RS256,
        kid: Some("cc-jwt-rsa".into()),
        audience: None,
    };
    let dep = t
        .core
        .create_profile(
            config,
            Some(tokendesk_core::secret::Sensitive::new(
                p.client_keys["cc-jwt"].clone(),
            )),
        )
        .await
        .unwrap();
    let token = t
        .core
        .fetch_token(&dep.id)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(token.grant, GrantKind::TokenExchange);
    let log = t.core.exchanges(&dep.id, 20).unwrap();
    let sent = log
        .iter()
        .find(|e| e.operation.starts_with("token:"))
        .unwrap();
    assert_eq!(
        sent.request_body.matches("client_assertion=").count(),
        1,
        "{}",
        sent.request_body
    );
}
