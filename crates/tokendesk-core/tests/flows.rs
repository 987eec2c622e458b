//! The grants against a real authorization server (oidc-provider on loopback) and the real
//! keychain.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::{EventKind, Outcome, Trigger};
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{AuthMethod, GrantKind, ProfileConfig};
use tokendesk_core::secret::{SecretKind, SecretStore, Sensitive};
use tokendesk_core::token::TokenState;
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn discovery_fills_the_endpoints_and_remembers_iss_support() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .core
        .create_profile(web_config(&p, &["openid"]), None)
        .await
        .unwrap();
    assert!(profile.metadata.is_none());
    let profile = t.core.discover(&profile.id).await.unwrap();
    let meta = profile
        .metadata
        .as_ref()
        .expect("discovery stores the metadata");
    assert_eq!(meta.issuer, p.issuer);
    assert_eq!(
        meta.token_endpoint.as_deref(),
        Some(p.url("/token").as_str())
    );
    assert!(meta.authorization_endpoint.is_some() && meta.jwks_uri.is_some());
    assert!(meta.revocation_endpoint.is_some() && meta.introspection_endpoint.is_some());
    assert!(meta.authorization_response_iss_parameter_supported);
    assert!(
        meta.raw.get("claims_supported").is_some(),
        "the whole document is kept"
    );
    // The metadata survives a reload from the database.
    let again = t.core.profile(&profile.config.name).unwrap();
    assert_eq!(again.metadata, profile.metadata);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_with_basic_and_with_post_auth() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    for (client, method) in [
        ("cc-basic", AuthMethod::ClientSecretBasic),
        ("cc-post", AuthMethod::ClientSecretPost),
    ] {
        let secret = Sensitive::new(format!("{client}-secret"));
        let profile = t
            .core
            .create_profile(cc_config(&p, client, method), Some(secret))
            .await
            .unwrap();
        let before = t.core.now();
        let token = t.core.fetch_token(&profile.id).await.unwrap();
        assert_eq!(token.grant, GrantKind::ClientCredentials);
        assert_eq!(token.token_type, "Bearer");
        let left = token.access_expires_at.unwrap() - before;
        assert!(
            (115_000..=125_000).contains(&left),
            "expires_in 120 s became {left} ms"
        );
        let value = t
            .core
            .reveal(&profile.id, SecretKind::AccessToken)
            .await
            .unwrap();
        let jwt = decode_jwt(value.expose()).expect("resource-server tokens are JWTs");
        assert_eq!(jwt.claims["client_id"], client);
        assert_eq!(jwt.claims["scope"], "api:read");
        assert_eq!(
            token.access.fingerprint,
            tokendesk_core::secret::fingerprint(value.expose())
        );
        let log = t.core.exchanges(&profile.id, 10).unwrap();
        let req = log
            .iter()
            .find(|e| e.operation == "token:client_credentials")
            .unwrap();
        match method {
            AuthMethod::ClientSecretBasic => assert!(
                req.request_headers
                    .iter()
                    .any(|h| h.name == "authorization" && h.value == "Basic <redacted>")
            ),
            _ => assert!(
                req.request_body.contains("client_secret=<redacted>"),
                "{}",
                req.request_body
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_says_what_to_check_and_keeps_the_stored_token() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t.add_cc_basic(&p).await;
    let good = t.core.fetch_token(&profile.id).await.unwrap();
    t.core
        .set_client_secret(&profile.id, Some(Sensitive::new("not-the-secret".into())))
        .await
        .unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(e.message.contains("invalid_client"), "{}", e.message);
    assert!(
        e.message.contains("client secret") && e.message.contains("authentication method"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("not-the-secret"));
    assert_eq!(
        t.core.token(&profile.id).unwrap().unwrap(),
        good,
        "the stored token is untouched"
    );
    // Both fetches are acquisitions in the history: the failed one with its error, linked to
    // the refused request in the exchange log.
    let history = t.core.history(&profile.id, 10).unwrap();
    let kinds: Vec<_> = history.iter().map(|e| (e.kind, e.outcome)).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Acquisition, Outcome::Failure),
            (EventKind::Acquisition, Outcome::Success)
        ]
    );
    let failed = &history[0];
    assert_eq!(failed.method, "client_credentials");
    assert_eq!(failed.trigger, Trigger::Manual);
    assert_eq!(failed.error_code, Some(ErrorCode::InvalidClient));
    assert_eq!(failed.error_message.as_deref(), Some(e.message.as_str()));
    assert_eq!(history[1].access_expires_at, good.access_expires_at);
    let log = t.core.exchanges(&profile.id, 20).unwrap();
    let linked = |id: Option<i64>| log.iter().find(|x| Some(x.id) == id).unwrap();
    assert_eq!(linked(failed.exchange_id).status, Some(401));
    let ok = linked(history[1].exchange_id);
    assert_eq!(
        (ok.operation.as_str(), ok.status),
        ("token:client_credentials", Some(200))
    );
    let text = serde_json::to_string(&history).unwrap();
    assert!(!text.contains("not-the-secret") && !text.contains("cc-basic-secret"));

    // The right secret with the wrong method is the same error, with the same hint.
    let mut config = profile.config.clone();
    config.auth_method = AuthMethod::ClientSecretPost;
    t.core.update_profile(&profile.id, config).await.unwrap();
    t.core
        .set_client_secret(&profile.id, Some(Sensitive::new("cc-basic-secret".into())))
        .await
        .unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
}

async fn signed_in(
    t: &TestCore,
    config: ProfileConfig,
    secret: Option<&str>,
) -> (
    tokendesk_core::profile::Profile,
    tokendesk_core::token::TokenSet,
) {
    let profile = t
        .core
        .create_profile(config, secret.map(|s| Sensitive::new(s.to_owned())))
        .await
        .unwrap();
    let browser = HeadlessLogin::default();
    let token = t
        .core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap();
    (profile, token)
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_code_with_pkce_lands_on_our_listener_and_validates_the_id_token() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (profile, token) = signed_in(
        &t,
        web_config(&p, &["openid", "profile", "email", "offline_access"]),
        Some("web-app-secret"),
    )
    .await;
    assert_eq!(token.grant, GrantKind::AuthorizationCode);
    assert!(
        token.refresh.is_some(),
        "the provider issues a refresh token"
    );
    assert!(token.id_token.is_some());
    let v = token
        .id_token_validation
        .as_ref()
        .expect("the ID token was validated");
    let names: Vec<_> = v.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["signature", "iss", "aud", "exp", "iat", "sub", "nonce"]
    );
    assert!(v.valid(), "every check passes: {:?}", v.failures());
    assert_eq!(token.state(t.core.now()), TokenState::Valid);

    let inspection = t
        .core
        .inspect(&profile.id, SecretKind::IdToken)
        .await
        .unwrap();
    let claims = &inspection.jwt.as_ref().unwrap().claims;
    assert_eq!(claims["aud"], "web-app");
    assert!(claims["nonce"].is_string());
    // The inspector re-runs the checks now, and keeps the sign-in's nonce check.
    let live = inspection.validation.as_ref().unwrap();
    assert!(live.valid(), "{:?}", live.failures());
    assert_eq!(
        live.checks
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        names
    );
    assert!(live.checks.last().unwrap().detail.starts_with("At sign-in"));
    let access = t
        .core
        .inspect(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert!(access.not_jwt.as_deref().unwrap().contains("opaque"));

    // The exchange log shows the code redemption, redacted.
    let log = t.core.exchanges(&profile.id, 20).unwrap();
    let redeem = log
        .iter()
        .find(|e| e.operation == "token:authorization_code")
        .unwrap();
    assert_eq!(redeem.status, Some(200));
    assert!(redeem.request_body.contains("code=<redacted>"));
    assert!(redeem.request_body.contains("code_verifier=<redacted>"));
    assert!(
        redeem
            .response_body
            .contains("\"access_token\": \"<redacted>\""),
        "{}",
        redeem.response_body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_and_the_old_refresh_token_is_dead() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (profile, first) = signed_in(
        &t,
        web_config(&p, &["openid", "offline_access"]),
        Some("web-app-secret"),
    )
    .await;
    let old_refresh = t
        .core
        .reveal(&profile.id, SecretKind::RefreshToken)
        .await
        .unwrap();

    let second = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_ne!(second.access.fingerprint, first.access.fingerprint);
    assert_ne!(
        second.refresh.as_ref().unwrap().fingerprint,
        first.refresh.as_ref().unwrap().fingerprint
    );
    assert!(
        second.id_token.is_some(),
        "the ID token is kept (this provider re-issues it on refresh)"
    );
    let new_refresh = t
        .core
        .reveal(&profile.id, SecretKind::RefreshToken)
        .await
        .unwrap();
    assert_ne!(
        new_refresh.expose(),
        old_refresh.expose(),
        "the keychain holds the rotated token"
    );

    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(history.len(), 2, "the sign-in, then the refresh");
    let e = &history[0];
    assert_eq!(
        (e.kind, e.trigger, e.method.as_str(), e.outcome),
        (
            EventKind::Refresh,
            Trigger::Manual,
            "refresh_token",
            Outcome::Success
        )
    );
    assert!(e.rotated);
    assert_eq!(e.access_expires_at, second.access_expires_at);
    let signed = &history[1];
    assert_eq!(
        (
            signed.kind,
            signed.trigger,
            signed.method.as_str(),
            signed.outcome
        ),
        (
            EventKind::Acquisition,
            Trigger::Manual,
            "authorization_code",
            Outcome::Success
        )
    );
    assert_eq!(signed.access_expires_at, first.access_expires_at);
    assert_eq!(signed.refresh_expires_at, first.refresh_expires_at);
    assert!(signed.at <= e.at);
    // Each links to its own token request in the exchange log.
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    let op = |id: Option<i64>| {
        log.iter()
            .find(|x| Some(x.id) == id)
            .map(|x| x.operation.clone())
    };
    assert_eq!(
        op(signed.exchange_id).as_deref(),
        Some("token:authorization_code")
    );
    assert_eq!(op(e.exchange_id).as_deref(), Some("token:refresh_token"));

    // The provider refuses the old refresh token now (and, being a replay, revokes the grant).
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", old_refresh.expose().as_str()),
    ];
    tokendesk_core::http::install_tls_provider();
    let r = reqwest::Client::new()
        .post(p.url("/token"))
        .basic_auth("web-app", Some("web-app-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("invalid_grant"));

    // So our next refresh fails with invalid_grant: the token needs a new login, and says so.
    let err = t
        .core
        .refresh(&profile.id, Trigger::Automatic)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidGrant);
    assert!(err.message.contains("Sign in again"), "{}", err.message);
    let stored = t.core.token(&profile.id).unwrap().unwrap();
    assert!(stored.needs_login.is_some());
    assert_eq!(stored.access, second.access, "nothing stored was lost");
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(history[0].outcome, Outcome::Failure);
    assert_eq!(history[0].error_code, Some(ErrorCode::InvalidGrant));
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    let refused = log.iter().find(|x| Some(x.id) == history[0].exchange_id);
    assert_eq!(
        refused.map(|x| (x.operation.as_str(), x.status)),
        Some(("token:refresh_token", Some(400))),
        "the failure links to the refused request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_state_is_rejected_and_the_code_never_redeemed() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(web_config(&p, &["openid"]), Some("web-app-secret"))
        .await;
    // The listener turns the forged redirect away (the sign-in keeps waiting for its own); when
    // none comes, the error says what came instead.
    let browser = HeadlessLogin::with_args(&["--set", "state=forged-state"]);
    let e = t
        .core
        .login(&profile.id, &browser, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::StateMismatch);
    assert!(
        e.message.contains("1 response without it") && e.message.contains("was not used"),
        "{}",
        e.message
    );
    assert!(
        browser.redirect().unwrap().contains("code="),
        "the provider did issue a code"
    );
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    assert!(
        log.iter().all(|x| !x.operation.starts_with("token:")),
        "no token request was made: {:?}",
        log.iter().map(|x| &x.operation).collect::<Vec<_>>()
    );
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_iss_is_rejected_and_the_code_never_redeemed() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(web_config(&p, &["openid"]), Some("web-app-secret"))
        .await;
    for set in ["iss=http://evil.example", "iss="] {
        let browser = HeadlessLogin::with_args(&["--set", set]);
        let e = t
            .core
            .login(&profile.id, &browser, LOGIN_TIMEOUT)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::IssuerMismatch, "{set}: {}", e.message);
    }
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    assert!(log.iter().all(|x| !x.operation.starts_with("token:")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pasted_redirect_url_path_and_a_fixed_port() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = web_config(&p, &["openid"]);
    config.redirect_uri = Some(format!("http://localhost:{port}/callback"));
    config.auth_method = AuthMethod::None;
    config.client_id = "public-app".into();
    let profile = t.core.create_profile(config, None).await.unwrap();
    let started = t.core.begin_login(&profile.id).await.unwrap();
    assert_eq!(
        started.redirect_uri,
        format!("http://localhost:{port}/callback")
    );
    assert!(started.listening);
    // The browser walks the login but does not follow the last redirect: the user pastes it.
    let browser = HeadlessLogin::with_args(&["--no-follow"]);
    tokendesk_core::browser::BrowserLauncher::open(&browser, &started.auth_url).unwrap();
    let pasted = browser.redirect().expect("login.mjs prints the redirect");
    assert!(pasted.starts_with(&started.redirect_uri));
    let token = t
        .core
        .complete_login(&started.login_id, &pasted)
        .await
        .unwrap();
    assert!(token.id_token_validation.as_ref().unwrap().valid());
    // The same address pasted again gets the same outcome, without a second code exchange.
    let again = t
        .core
        .complete_login(&started.login_id, &pasted)
        .await
        .unwrap();
    assert_eq!(again.access.fingerprint, token.access.fingerprint);
    let exchanges = t
        .core
        .exchanges(&profile.id, 100)
        .unwrap()
        .iter()
        .filter(|x| x.operation == "token:authorization_code")
        .count();
    assert_eq!(exchanges, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_sign_in_ends_at_once() {
    let p = Provider::start(&[]);
    let t = std::sync::Arc::new(TestCore::new());
    let profile = t
        .add(web_config(&p, &["openid"]), Some("web-app-secret"))
        .await;
    let started = t.core.begin_login(&profile.id).await.unwrap();
    let waiter = {
        let t = t.clone();
        let id = started.login_id.clone();
        tokio::spawn(async move { t.core.wait_login(&id, Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    t.core.cancel_login(&started.login_id);
    let e = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_shaped_responses_keep_every_field_and_count_refreshes() {
    let p = Provider::start(&["--access-ttl", "300", "--gateway-refresh-ttl", "60"]);
    let t = TestCore::new();
    let profile = t.add(gateway_config(&p), Some("gw-secret")).await;
    let now = t.core.now();
    let first = t.core.fetch_token(&profile.id).await.unwrap();
    assert_eq!(first.token_type, "BearerToken");
    assert_eq!(first.status.as_deref(), Some("approved"));
    assert_eq!(first.refresh_count, Some(0));
    let access_left = first.access_expires_at.unwrap() - now;
    let refresh_left = first.refresh_expires_at.unwrap() - now;
    assert!((295_000..=305_000).contains(&access_left), "{access_left}");
    assert!(
        (55_000..=65_000).contains(&refresh_left),
        "the refresh token expires first: {refresh_left}"
    );
    for field in [
        "api_product_list",
        "api_product_list_json",
        "organization_name",
        "developer.email",
        "issued_at",
        "client_id",
        "application_name",
        "refresh_token_issued_at",
        "refresh_token_status",
        "refresh_token_expires_in",
    ] {
        assert!(first.raw.contains_key(field), "raw field {field} is kept");
    }
    assert_eq!(
        first.raw["request_attributes"]["tpp_role"], "AISP",
        "extra token parameters are sent"
    );
    assert_eq!(first.raw["access_token"], "<redacted>");
    let exchange = &t.core.exchanges(&profile.id, 5).unwrap()[0];
    assert!(
        exchange
            .request_headers
            .iter()
            .any(|h| h.name == "x-request-id" && h.value == "req-123")
    );
    assert!(
        exchange
            .request_headers
            .iter()
            .any(|h| h.name == "x-api-key" && h.value == "<redacted>")
    );

    let second = t
        .core
        .refresh(&profile.id, Trigger::CommandLine)
        .await
        .unwrap();
    let third = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_eq!(
        (second.refresh_count, third.refresh_count),
        (Some(1), Some(2))
    );
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(
        history.iter().map(|e| e.refresh_count).collect::<Vec<_>>(),
        [Some(2), Some(1), Some(0)]
    );
    assert!(
        history[..2]
            .iter()
            .all(|e| e.rotated && e.method == "refresh_token")
    );
    assert_eq!(history[1].trigger, Trigger::CommandLine);
    assert_eq!(history[2].kind, EventKind::Acquisition);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_token_of_a_client_credentials_profile_is_replaced_by_a_new_grant() {
    // The gateway gives client-credentials tokens a refresh token and accepts each once. One
    // spent elsewhere (another tool, a restarted sandbox) is refused: the profile's own grant
    // answers instead, and nobody is asked to sign in.
    let p = Provider::start(&["--access-ttl", "300", "--gateway-refresh-ttl", "600"]);
    let t = TestCore::new();
    let profile = t.add(gateway_config(&p), Some("gw-secret")).await;
    t.core.fetch_token(&profile.id).await.unwrap();
    t.core
        .refresh(&profile.id, Trigger::Manual)
        .await
        .expect("a first refresh by refresh token");
    let spent = t
        .core
        .reveal(&profile.id, SecretKind::RefreshToken)
        .await
        .unwrap();
    let elsewhere = reqwest::Client::new()
        .post(p.url("/gateway/token"))
        .header("x-api-key", "gw-client")
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", spent.expose().as_str()),
            ("client_id", "gw-client"),
            ("client_secret", "gw-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 200, "the token is spent elsewhere");

    let renewed = t
        .core
        .refresh(&profile.id, Trigger::Automatic)
        .await
        .expect("a new token by client credentials");
    assert_eq!(renewed.refresh_count, Some(0), "a new grant, not a refresh");
    assert!(renewed.needs_login.is_none());
    assert_eq!(renewed.state(t.core.now()), TokenState::Valid);
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(history[0].kind, EventKind::Refresh);
    assert_eq!(history[0].outcome, Outcome::Success);
    assert_eq!(history[0].method, "client_credentials");
    // The attempt's two requests, both in the exchange log.
    let exchanges = t.core.exchanges(&profile.id, 2).unwrap();
    let refused = exchanges
        .iter()
        .find(|x| x.status == Some(400))
        .expect("the refused refresh");
    assert!(refused.request_body.contains("grant_type=refresh_token"));
    assert!(refused.response_body.contains("invalid_grant"));
    let granted = exchanges
        .iter()
        .find(|x| x.status == Some(200))
        .expect("the new grant");
    assert!(
        granted
            .request_body
            .contains("grant_type=client_credentials")
    );
    // And the new refresh token works again.
    let next = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_eq!(next.refresh_count, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_grant_after_the_refresh_token_expired_leaves_no_stale_refresh_token_behind() {
    // A client-credentials profile moved from the gateway (refresh tokens) to a plain token
    // endpoint (none) once its refresh token has expired: client credentials answer, and the
    // new grant must not leave the old refresh token in the keychain or in the token set.
    let p = Provider::start(&["--access-ttl", "300", "--gateway-refresh-ttl", "1"]);
    let t = TestCore::new();
    let profile = t.add(gateway_config(&p), Some("gw-secret")).await;
    let first = t.core.fetch_token(&profile.id).await.unwrap();
    assert!(first.refresh.is_some(), "the gateway gives a refresh token");
    let mut plain = cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic);
    plain.name = profile.config.name.clone();
    t.core.update_profile(&profile.id, plain).await.unwrap();
    t.core
        .set_client_secret(&profile.id, Some(Sensitive::new("cc-basic-secret".into())))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        !first.refresh_usable(t.core.now()),
        "the refresh token expired"
    );

    let renewed = t
        .core
        .refresh(&profile.id, Trigger::Manual)
        .await
        .expect("a new token by client credentials");
    assert!(renewed.refresh.is_none(), "{:?}", renewed.refresh);
    assert_eq!(t.core.token(&profile.id).unwrap().unwrap().refresh, None);
    let e = t
        .core
        .reveal(&profile.id, SecretKind::RefreshToken)
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "the keychain entry is gone too"
    );
    let history = t.core.history(&profile.id, 10).unwrap();
    assert_eq!(
        (history[0].method.as_str(), history[0].outcome),
        ("client_credentials", Outcome::Success)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_gateway_header_is_a_clear_provider_error() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = gateway_config(&p);
    config.headers.clear();
    let profile = t.add(config, Some("gw-secret")).await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ProviderError);
    assert!(
        e.message.contains("HTTP 401") && e.message.contains("x-api-key"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ensure_token_reuses_a_fresh_token_and_renews_a_stale_one() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t.add_cc_basic(&p).await;
    let a = t
        .core
        .ensure_token(&profile.id, Duration::from_secs(60), Trigger::CommandLine)
        .await
        .unwrap();
    let b = t
        .core
        .ensure_token(&profile.id, Duration::from_secs(60), Trigger::CommandLine)
        .await
        .unwrap();
    assert_eq!(a.access, b.access, "a token valid for 120 s is reused");
    assert_eq!(
        t.core
            .exchanges(&profile.id, 10)
            .unwrap()
            .iter()
            .filter(|e| e.operation.starts_with("token:"))
            .count(),
        1
    );
    let c = t
        .core
        .ensure_token(&profile.id, Duration::from_secs(600), Trigger::CommandLine)
        .await
        .unwrap();
    assert_ne!(
        a.access, c.access,
        "a token valid for less than asked is renewed"
    );
    let history = t.core.history(&profile.id, 5).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| (e.kind, e.method.as_str(), e.trigger))
            .collect::<Vec<_>>(),
        [
            (
                EventKind::Refresh,
                "client_credentials",
                Trigger::CommandLine
            ),
            (
                EventKind::Acquisition,
                "client_credentials",
                Trigger::CommandLine
            )
        ],
        "the first token is an acquisition, the renewal a refresh; the reused one is neither"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_profile_removes_its_keychain_entries() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
            Some("cc-post-secret"),
        )
        .await;
    t.core.fetch_token(&profile.id).await.unwrap();
    assert!(
        t.keychain
            .get(&profile.id, SecretKind::ClientSecret)
            .unwrap()
            .is_some()
    );
    assert!(
        t.keychain
            .get(&profile.id, SecretKind::AccessToken)
            .unwrap()
            .is_some()
    );
    t.core.delete_profile(&profile.id).await.unwrap();
    for kind in SecretKind::ALL {
        assert!(
            t.keychain.get(&profile.id, kind).unwrap().is_none(),
            "{kind:?} is gone"
        );
    }
    assert!(t.core.list_profiles().unwrap().is_empty());
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_introspection_and_revocation() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (profile, _) = signed_in(
        &t,
        web_config(&p, &["openid", "profile", "email", "offline_access"]),
        Some("web-app-secret"),
    )
    .await;
    let claims = t.core.userinfo(&profile.id).await.unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    let answer = t
        .core
        .introspect(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "web-app");

    t.core
        .revoke(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    let answer = t
        .core
        .introspect(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    assert_eq!(
        answer["active"], false,
        "the provider forgot the revoked token"
    );
    let stored = t.core.token(&profile.id).unwrap().unwrap();
    assert_eq!(stored.state(t.core.now()), TokenState::Revoked);
    let e = t.core.userinfo(&profile.id).await.unwrap_err();
    assert!(e.message.contains("HTTP 401"), "{}", e.message);

    // This provider ends the whole grant with its access token, so renewing fails and the
    // token is marked as needing a new sign-in.
    let e = t
        .core
        .ensure_token(&profile.id, Duration::from_secs(10), Trigger::CommandLine)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    assert!(
        t.core
            .token(&profile.id)
            .unwrap()
            .unwrap()
            .needs_login
            .is_some()
    );

    let browser = HeadlessLogin::default();
    t.core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap();
    t.core
        .revoke(&profile.id, TokenHint::RefreshToken)
        .await
        .unwrap();
    assert_eq!(
        t.core
            .introspect(&profile.id, TokenHint::RefreshToken)
            .await
            .unwrap()["active"],
        false
    );
    let e = t
        .core
        .ensure_token(&profile.id, Duration::from_secs(10), Trigger::CommandLine)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NeedsLogin);
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_without_an_endpoint_say_so() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t.add(gateway_config(&p), Some("gw-secret")).await;
    t.core.fetch_token(&profile.id).await.unwrap();
    for e in [
        t.core
            .revoke(&profile.id, TokenHint::AccessToken)
            .await
            .unwrap_err(),
        t.core
            .introspect(&profile.id, TokenHint::AccessToken)
            .await
            .unwrap_err(),
        t.core.userinfo(&profile.id).await.unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::Unsupported);
        assert!(e.message.contains("the provider has no"), "{}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pushed_authorization_requests_send_the_browser_only_a_request_uri() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = web_config(&p, &["openid", "offline_access"]);
    config.name = "par".into();
    config.client_id = "web-app-par".into();
    let profile = t.add(config.clone(), Some("web-app-par-secret")).await;
    // This client must push: a plain request is refused at the provider.
    let e = t
        .core
        .login(
            &profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("refused the sign-in"), "{}", e.message);

    config.par = true;
    t.core.update_profile(&profile.id, config).await.unwrap();
    let started = t.core.begin_login(&profile.id).await.unwrap();
    let url = url::Url::parse(&started.auth_url).unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    t.core.cancel_login(&started.login_id);
    let token = t
        .core
        .login(
            &profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert!(token.id_token_validation.unwrap().valid());
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    let pushed = log.iter().rev().find(|x| x.operation == "par").unwrap();
    assert_eq!(pushed.status, Some(201));
    assert!(
        pushed.request_body.contains("code_challenge=")
            && pushed
                .request_headers
                .iter()
                .any(|h| h.name == "authorization" && h.value == "Basic <redacted>"),
        "the request is pushed with client authentication: {} {:?}",
        pushed.request_body,
        pushed.request_headers
    );
}
