//! OP's PSD2 sequence against a real provider (oidc-provider with the `psd2-tpp` client, the
//! consent and payment routes, the claims parameter, `code id_token` and the JWT-bearer grant;
//! see tests/provider/README.md): a client-credentials token, the consent registered by a step,
//! its `authorizationId` in the signed request object's claims, the hybrid answer checked
//! (c_hash, s_hash, nonce, the claims asked for) before the code is redeemed, the accounts API
//! answering only for the consented token; a payment with a detached JWS and the JWT-bearer
//! exemption. And each bad input stops everything before anything is redeemed or stored.
//! Last, the same sequence against the built-in sandbox bank, from its two ready-made profiles.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::api::LoginStarted;
use tokendesk_core::flow::jwt_bearer::JwtBearer;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{
    AssertionAlg, AuthMethod, ClientAssertion, GrantKind, Param, Profile, ProfileConfig,
};
use tokendesk_core::secret::{SecretKind, Sensitive};
use tokendesk_core::steps::{Capture, Step};
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
const CLIENT: &str = "psd2-tpp";
const SECRET: &str = "psd2-tpp-secret";

const CLAIMS: &str = r#"{
  "userinfo": {"authorizationId": {"value": "{{authorizationId}}", "essential": true}},
  "id_token": {
    "authorizationId": {"value": "{{authorizationId}}", "essential": true},
    "acr": {"essential": true, "values": ["urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"]}
  }
}"#;

fn base(p: &Provider, name: &str, grant: GrantKind, scopes: &[&str]) -> ProfileConfig {
    ProfileConfig {
        name: name.into(),
        environment: "psd2".into(),
        issuer: Some(p.issuer.clone()),
        client_id: CLIENT.into(),
        auth_method: AuthMethod::ClientSecretPost,
        client_assertion: ClientAssertion {
            alg: AssertionAlg::PS256,
            kid: Some("psd2-tpp-rsa".into()),
            audience: None,
        },
        grant,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        headers: vec![
            Param::new("x-api-key", CLIENT),
            Param::new("x-request-id", "{{uuid}}"),
        ],
        ..Default::default()
    }
}

fn consent_step(p: &Provider, token_from: &str) -> Step {
    Step {
        name: "Register the account-information consent".into(),
        method: "POST".into(),
        url: p.url("/accounts-psd2/v1/authorizations"),
        headers: vec![Param::new("x-fapi-interaction-id", "{{uuid}}")],
        body: Some(
            r#"{"expires": "{{now_iso+90d}}", "transactionFrom": "{{date-90d}}", "transactionTo": "{{date}}"}"#
                .into(),
        ),
        token_from: Some(token_from.into()),
        jws_header: None,
        capture: vec![Capture {
            name: "authorizationId".into(),
            pointer: "/authorizationId".into(),
        }],
    }
}

/// The client-credentials sibling and the sign-in profile, OP-shaped.
async fn psd2_pair(t: &TestCore, p: &Provider) -> (Profile, Profile) {
    let cc = t
        .add(
            base(p, "psd2 cc", GrantKind::ClientCredentials, &["accounts"]),
            Some(SECRET),
        )
        .await;
    let mut config = base(
        p,
        "psd2 accounts",
        GrantKind::AuthorizationCode,
        &["openid", "accounts"],
    );
    config.signed_request = true;
    config.authorize_params = vec![Param::new("response_type", "code id_token")];
    config.claims = Some(CLAIMS.into());
    config.max_age = Some(3600);
    config.steps = vec![consent_step(p, "psd2 cc")];
    let web = t.add(config, Some(SECRET)).await;
    t.core
        .set_signing_key(&web.id, Some(Sensitive::new(p.client_keys[CLIENT].clone())))
        .await
        .unwrap();
    (cc, web)
}

async fn accounts(p: &Provider, token: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(p.url("/accounts-psd2/v1/accounts"))
        .header("x-api-key", CLIENT)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

fn operations(t: &TestCore, p: &Profile) -> Vec<String> {
    t.core
        .exchanges(&p.id, 200)
        .unwrap()
        .into_iter()
        .map(|x| x.operation)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_accounts_sequence_runs_end_to_end() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (_cc, web) = psd2_pair(&t, &p).await;

    let token = t
        .core
        .login(&web.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));

    // The consent step ran with the sibling's token, and its answer fed the claims.
    let log = t.core.exchanges(&web.id, 200).unwrap();
    let step = log
        .iter()
        .find(|x| x.operation == "step:1")
        .expect("the step is in the exchange log");
    assert_eq!(step.status, Some(201));
    assert!(step.url.ends_with("/accounts-psd2/v1/authorizations"));
    assert!(
        step.request_headers
            .iter()
            .any(|h| h.name == "authorization" && h.value == "Bearer <redacted>"),
        "the sibling's token is redacted: {:?}",
        step.request_headers
    );
    let authorization_id: String = serde_json::from_str::<serde_json::Value>(&step.response_body)
        .unwrap()["authorizationId"]
        .as_str()
        .unwrap()
        .into();

    // The hybrid answer's ID token was checked before the code was redeemed.
    let ops = operations(&t, &web);
    let front = ops
        .iter()
        .position(|o| o == "id_token:checks")
        .expect("front-channel checks logged");
    let redeem = ops
        .iter()
        .position(|o| o == "token:authorization_code")
        .unwrap();
    assert!(front < redeem, "checked before redeemed: {ops:?}");
    let front_checks = &log
        .iter()
        .find(|x| x.operation == "id_token:checks")
        .unwrap()
        .response_body;
    for check in ["c_hash", "s_hash", "nonce", "authorizationId", "acr"] {
        assert!(
            front_checks.contains(&format!("\"name\": \"{check}\"")),
            "{check} checked in the front channel: {front_checks}"
        );
    }

    // The token endpoint's ID token carries the consent, checked too.
    let v = token.id_token_validation.clone().unwrap();
    assert!(v.valid(), "{:?}", v.failures());
    assert!(v.checks.iter().any(|c| c.name == "authorizationId" && c.ok));
    let id_token = t.core.reveal(&web.id, SecretKind::IdToken).await.unwrap();
    let claims = decode_jwt(id_token.expose()).unwrap().claims;
    assert_eq!(claims["authorizationId"], authorization_id.as_str());
    assert_eq!(claims["acr"], "urn:openbanking:psd2:sca");

    // The accounts API answers the consented token, and refuses the sibling's.
    let access = t
        .core
        .reveal(&web.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let (status, body) = accounts(&p, access.expose()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizationId"], authorization_id.as_str());
    let cc = t.core.profile("psd2 cc").unwrap();
    let cc_token = t
        .core
        .reveal(&cc.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert_eq!(accounts(&p, cc_token.expose()).await.0, 403);

    // Refresh as usual; a refreshed ID token (if any) is checked, unknown fields kept.
    let refreshed = t
        .core
        .refresh(&web.id, tokendesk_core::history::Trigger::Manual)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert!(
        refreshed.rotated_from(Some(&token)),
        "the refresh token rotated"
    );
    if let Some(v) = &refreshed.id_token_validation {
        assert!(v.valid(), "{:?}", v.failures());
    }
    let access = t
        .core
        .reveal(&web.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert_eq!(
        accounts(&p, access.expose()).await.0,
        200,
        "still consented"
    );

    // Every sign-in registers a new consent.
    t.core
        .login(&web.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap();
    let ids: Vec<String> = t
        .core
        .exchanges(&web.id, 200)
        .unwrap()
        .iter()
        .filter(|x| x.operation == "step:1")
        .map(|x| x.response_body.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "a fresh authorizationId per sign-in");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_with_a_detached_jws_and_the_jwt_bearer_exemption() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    t.add(
        base(
            &p,
            "psd2 payments cc",
            GrantKind::ClientCredentials,
            &["payments"],
        ),
        Some(SECRET),
    )
    .await;
    let mut config = base(&p, "psd2 exemption", GrantKind::JwtBearer, &["payments"]);
    config.steps = vec![Step {
        name: "Initiate the payment".into(),
        method: "POST".into(),
        url: p.url("/payments-psd2/v1/sepa-payments"),
        headers: vec![
            Param::new("x-idempotency-key", "{{uuid}}"),
            Param::new("x-fapi-interaction-id", "{{uuid}}"),
        ],
        body: Some(
            r#"{"amount": "12.50", "currency": "EUR", "creditor": {"iban": "FI00 1111 2222 3333 44", "name": "Shop"}}"#
                .into(),
        ),
        token_from: Some("psd2 payments cc".into()),
        jws_header: Some("x-jws-signature".into()),
        capture: vec![Capture {
            name: "authorizationId".into(),
            pointer: "/authorizationId".into(),
        }],
    }];
    config.jwt_bearer = JwtBearer {
        subject: Some("psd2-user".into()),
        claims: Some(
            r#"{"authorizationId": "{{authorizationId}}", "acr": "urn:openbanking:psd2:sca"}"#
                .into(),
        ),
        ..Default::default()
    };
    let profile = t.add(config, Some(SECRET)).await;
    t.core
        .set_signing_key(
            &profile.id,
            Some(Sensitive::new(p.client_keys[CLIENT].clone())),
        )
        .await
        .unwrap();

    let token = t
        .core
        .fetch_token(&profile.id)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(token.grant, GrantKind::JwtBearer);
    let access = t
        .core
        .reveal(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let (status, body) = accounts(&p, access.expose()).await;
    assert_eq!(status, 200, "the exemption token is consented: {body}");

    let log = t.core.exchanges(&profile.id, 50).unwrap();
    let step = log.iter().find(|x| x.operation == "step:1").unwrap();
    assert_eq!(step.status, Some(201), "{}", step.response_body);
    let grant = log
        .iter()
        .find(|x| x.operation == "token:jwt_bearer")
        .unwrap();
    assert!(
        grant.request_body.contains("assertion=<redacted>")
            && grant.request_body.contains("client_secret=<redacted>"),
        "{}",
        grant.request_body
    );
    assert!(
        !grant.request_body.contains(SECRET),
        "the secret is not in the log"
    );

    // The background refresher leaves it alone: a renewal would initiate another payment.
    assert!(
        t.core
            .renew_if_due(&profile.id, i64::MAX / 4)
            .await
            .unwrap()
            .is_none(),
        "a headless grant with steps is renewed only when asked"
    );
    let payments = |t: &TestCore| {
        t.core
            .exchanges(&profile.id, 100)
            .unwrap()
            .iter()
            .filter(|x| x.operation == "step:1")
            .count()
    };
    assert_eq!(payments(&t), 1, "one payment initiated, not two");

    // An assertion for an authorizationId the bank does not know is refused, nothing stored.
    let mut bad = t.core.profile("psd2 exemption").unwrap().config;
    bad.steps.clear();
    bad.jwt_bearer.claims = Some(r#"{"authorizationId": "nope"}"#.into());
    t.core.update_profile(&profile.id, bad).await.unwrap();
    let before = t.core.token(&profile.id).unwrap();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant, "{}", e.message);
    assert!(
        e.message.contains("JWT-bearer") && e.message.contains("authorizationId"),
        "{}",
        e.message
    );
    assert_eq!(t.core.token(&profile.id).unwrap(), before);
}

async fn expect_refused_before_redeeming(t: &TestCore, web: &Profile) -> tokendesk_core::Error {
    let before = t.core.token(&web.id).unwrap();
    let e = t
        .core
        .login(&web.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        !operations(t, web)
            .iter()
            .any(|o| o == "token:authorization_code"),
        "no code was redeemed"
    );
    assert_eq!(t.core.token(&web.id).unwrap(), before, "nothing stored");
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_c_hash_or_s_hash_stops_the_sign_in_before_the_code_is_used() {
    for which in ["c_hash", "s_hash"] {
        let p = Provider::start(&["--tamper-hybrid", which]);
        let t = TestCore::new();
        let (_cc, web) = psd2_pair(&t, &p).await;
        let e = expect_refused_before_redeeming(&t, &web).await;
        assert_eq!(e.code, ErrorCode::CheckFailed, "{which}: {}", e.message);
        assert!(
            e.checks.iter().any(|c| c.name == which && !c.ok),
            "{which}: {:?}",
            e.checks
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_steps_stop_the_sign_in_and_name_the_step() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (_cc, web) = psd2_pair(&t, &p).await;
    let good = web.config.clone();
    let with_step = |f: &dyn Fn(&mut Step)| {
        let mut c = good.clone();
        f(&mut c.steps[0]);
        c
    };

    // The API refuses the step (no token: 401).
    t.core
        .update_profile(&web.id, with_step(&|s| s.token_from = None))
        .await
        .unwrap();
    let e = t.core.begin_login(&web.id).await.unwrap_err();
    assert!(
        e.message
            .contains("Step 1 (Register the account-information consent) got HTTP 401")
            && e.message.contains("invalid_token"),
        "{}",
        e.message
    );

    // An HTML page instead of JSON.
    t.core
        .update_profile(&web.id, with_step(&|s| s.url = p.url("/broken/html")))
        .await
        .unwrap();
    let e = t.core.begin_login(&web.id).await.unwrap_err();
    assert!(e.message.contains("HTML page"), "{}", e.message);

    // A pointer that finds nothing.
    t.core
        .update_profile(
            &web.id,
            with_step(&|s| s.capture[0].pointer = "/consentId".into()),
        )
        .await
        .unwrap();
    let e = t.core.begin_login(&web.id).await.unwrap_err();
    assert!(
        e.message.contains("/consentId") && e.message.contains("authorizationId, status"),
        "{}",
        e.message
    );

    // A template naming a value no step captures: refused before anything is sent.
    let mut c = good.clone();
    c.claims = Some(r#"{"id_token": {"consentId": {"value": "{{consentId}}"}}}"#.into());
    t.core.update_profile(&web.id, c).await.unwrap();
    let e = t.core.begin_login(&web.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("{{consentId}}") && e.message.contains("authorizationId"),
        "names the unknown value and what is known: {}",
        e.message
    );
    assert!(t.core.token(&web.id).unwrap().is_none(), "nothing stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hybrid_answer_without_a_code_or_id_token_is_refused() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (_cc, web) = psd2_pair(&t, &p).await;
    let started: LoginStarted = t.core.begin_login(&web.id).await.unwrap();
    let browser = HeadlessLogin::with_args(&["--no-follow"]);
    tokendesk_core::browser::BrowserLauncher::open(&browser, &started.auth_url).unwrap();
    let redirect = browser.redirect().expect("the provider redirected");
    assert!(
        redirect.contains("#"),
        "a hybrid answer in the fragment: {redirect}"
    );
    let (base_url, fragment) = redirect.split_once('#').unwrap();
    let without = |name: &str| {
        let kept: Vec<&str> = fragment
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{name}=")))
            .collect();
        format!("{base_url}#{}", kept.join("&"))
    };
    let e = t
        .core
        .complete_login(&started.login_id, &without("id_token"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadResponse, "{}", e.message);
    assert!(e.message.contains("carries none"), "{}", e.message);
    let started = t.core.begin_login(&web.id).await.unwrap();
    let browser = HeadlessLogin::with_args(&["--no-follow"]);
    tokendesk_core::browser::BrowserLauncher::open(&browser, &started.auth_url).unwrap();
    let redirect = browser.redirect().unwrap();
    let (base_url, fragment) = redirect.split_once('#').unwrap();
    let no_code: Vec<&str> = fragment
        .split('&')
        .filter(|kv| !kv.starts_with("code="))
        .collect();
    let e = t
        .core
        .complete_login(
            &started.login_id,
            &format!("{base_url}#{}", no_code.join("&")),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("carries no code"), "{}", e.message);
    assert!(
        !operations(&t, &web)
            .iter()
            .any(|o| o == "token:authorization_code"),
        "nothing redeemed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_bank_presets_sign_in_in_one_click() {
    use tokendesk_core::presets::{BANK_ACCOUNTS_PRESET, BANK_CC_PRESET};
    let sandbox = tokendesk_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let t = TestCore::new();
    let created = t
        .core
        .add_presets(tokendesk_sandbox::presets::presets(&sandbox))
        .await
        .unwrap();
    assert_eq!(
        created.len(),
        9,
        "the four sandbox profiles, the bank's three, the FAPI one and the API one"
    );
    let web = t.core.profile(BANK_ACCOUNTS_PRESET).unwrap();
    assert!(
        t.core.has_signing_key(&web.id).await.unwrap(),
        "the TPP key came with the preset"
    );

    // One click: the consent step (with the sibling's token), the signed hybrid sign-in, the
    // checks of the front-channel ID token, the code exchange.
    let browser = SandboxLogin::default();
    let token = t
        .core
        .login(&web.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    let redirect = browser.redirect.lock().unwrap().clone().unwrap();
    assert!(
        redirect.contains("#code="),
        "the answer came in the fragment: {redirect}"
    );
    let log = t.core.exchanges(&web.id, 200).unwrap();
    let step = log.iter().find(|x| x.operation == "step:1").unwrap();
    assert_eq!(step.status, Some(201), "{}", step.response_body);
    let authorization_id: serde_json::Value = serde_json::from_str(&step.response_body).unwrap();
    let authorization_id = authorization_id["authorizationId"].as_str().unwrap();
    let ops = operations(&t, &web);
    let front = ops.iter().position(|o| o == "id_token:checks").unwrap();
    let redeem = ops
        .iter()
        .position(|o| o == "token:authorization_code")
        .unwrap();
    assert!(front < redeem, "checked before redeemed: {ops:?}");
    let front_checks = &log
        .iter()
        .find(|x| x.operation == "id_token:checks")
        .unwrap()
        .response_body;
    for check in [
        "c_hash",
        "s_hash",
        "nonce",
        "authorizationId",
        "acr",
        "signature",
    ] {
        assert!(
            front_checks.contains(&format!("\"name\": \"{check}\"")),
            "{check} checked in the front channel: {front_checks}"
        );
    }
    let v = token.id_token_validation.clone().unwrap();
    assert!(v.valid(), "{:?}", v.failures());
    assert!(v.checks.iter().any(|c| c.name == "at_hash" && c.ok));

    // The stored access token reads the accounts; the sibling's client-credentials token not.
    let accounts_url = web.config.api_url.clone().unwrap();
    let get_accounts = |token: String| {
        let url = accounts_url.clone();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("x-api-key", tokendesk_sandbox::BANK_CLIENT.0)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            )
        }
    };
    let access = t
        .core
        .reveal(&web.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let (status, body) = get_accounts(access.expose().clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authorizationId"], authorization_id);
    let cc = t.core.profile(BANK_CC_PRESET).unwrap();
    let cc_token = t
        .core
        .reveal(&cc.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let (status, body) = get_accounts(cc_token.expose().clone()).await;
    assert_eq!((status, &body["error"]), (403, &"consent_required".into()));

    // A refresh rotates, its ID token passes, the consent stays.
    let refreshed = t
        .core
        .refresh(&web.id, tokendesk_core::history::Trigger::Manual)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert!(refreshed.rotated_from(Some(&token)));
    let access = t
        .core
        .reveal(&web.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert_eq!(get_accounts(access.expose().clone()).await.0, 200);

    // A new start on the same port makes a new TPP key: signed sign-ins are refused until the
    // key is handed to the profiles that sign with it (the app and the CLI do it at each start).
    let port: u16 = sandbox
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    sandbox.shutdown().await;
    let sandbox = tokendesk_sandbox::Sandbox::start(tokendesk_sandbox::SandboxOptions {
        port,
        ..Default::default()
    })
    .await
    .unwrap();
    // The old sandbox's tokens died with it: the consent step needs a fresh one.
    t.core.fetch_token(&cc.id).await.unwrap();
    let e = t
        .core
        .login(&web.id, &SandboxLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("invalid_request_object") && e.message.contains("does not verify"),
        "{}",
        e.message
    );
    let renewed = tokendesk_core::presets::renew_sandbox_client_key(
        &t.core,
        &sandbox.issuer(tokendesk_sandbox::Style::Bank),
        tokendesk_sandbox::BANK_CLIENT.0,
        sandbox.bank_tpp_key_pem(),
    )
    .await
    .unwrap();
    assert_eq!(renewed, 1, "only the profile that signs");
    t.core
        .login(&web.id, &SandboxLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_siblings_token_the_api_refuses_is_renewed_once() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let (cc, web) = psd2_pair(&t, &p).await;
    // The sibling's token looks valid here but is dead at the bank (revoked behind our back).
    t.core.fetch_token(&cc.id).await.unwrap();
    let dead = t
        .core
        .reveal(&cc.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let revoked = reqwest::Client::new()
        .post(p.url("/token/revocation"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "token={}&client_id={CLIENT}&client_secret={SECRET}",
            dead.expose()
        ))
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());

    t.core
        .login(&web.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    let steps: Vec<Option<u16>> = t
        .core
        .exchanges(&web.id, 100)
        .unwrap()
        .iter()
        .filter(|x| x.operation == "step:1")
        .map(|x| x.status)
        .collect();
    assert_eq!(
        steps,
        [Some(401), Some(201)],
        "refused once, renewed, sent again"
    );
    let fresh = t
        .core
        .reveal(&cc.id, SecretKind::AccessToken)
        .await
        .unwrap();
    assert_ne!(fresh.expose(), dead.expose(), "the sibling has a new token");
}

/// The sandbox bank's CIBA preset: the request reaches the sandbox's approval page ("the
/// phone") with its binding message and payment; approved there, the poll brings a token with
/// the payment_initiation details granted as asked; a denial ends the next wait plainly.
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_bank_ciba_preset_is_approved_on_the_sandbox_page() {
    use tokendesk_core::CibaLoginOptions;
    use tokendesk_core::presets::BANK_CIBA_PRESET;
    let sandbox = tokendesk_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let t = TestCore::new();
    t.core
        .add_presets(tokendesk_sandbox::presets::presets(&sandbox))
        .await
        .unwrap();
    let profile = t.core.profile(BANK_CIBA_PRESET).unwrap();
    let page_url = format!("{}/ciba", sandbox.issuer(tokendesk_sandbox::Style::Bank));
    tokendesk_core::http::install_tls_provider();
    let http = reqwest::Client::new();
    for approve in [true, false] {
        let started = t
            .core
            .begin_ciba_login(&profile.id, CibaLoginOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(started.binding_message.as_deref(), Some("PAY-1234"));
        let core = t.core.clone();
        let login_id = started.login_id.clone();
        let waiting = tokio::spawn(async move { core.wait_device_login(&login_id).await });
        let page = http
            .get(&page_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("PAY-1234"),
            "the phone shows the binding message: {page}"
        );
        assert!(page.contains("12.34"), "and the payment");
        let id = page
            .split("name=\"id\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a pending request on the page")
            .to_owned();
        let decision = if approve { "approve" } else { "deny" };
        let r = http
            .post(format!("{page_url}/decision"))
            .form(&[("id", id.as_str()), ("decision", decision)])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        let result = waiting.await.unwrap();
        if approve {
            let token = result.unwrap_or_else(|e| panic!("{}", e.message));
            assert_eq!(token.grant, GrantKind::Ciba);
            let d = token.authorization_details.expect("details granted");
            assert!(d.differences.is_empty(), "{:?}", d.differences);
            assert_eq!(d.granted.unwrap()[0]["instructedAmount"]["amount"], "12.34");
        } else {
            let e = result.unwrap_err();
            assert_eq!(e.code, ErrorCode::AuthorizationDenied, "{}", e.message);
        }
    }
}
