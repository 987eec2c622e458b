//! FAPI 2.0 mode against a real authorization server: oidc-provider with `features.fapi`
//! (profile 2.0) for one client — PAR required, private_key_jwt with the issuer as audience,
//! DPoP-bound tokens, PS256 ID tokens. A setup that breaks a rule is refused before any request.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::dpop::DpopAlg;
use tokendesk_core::profile::{AssertionAlg, AuthMethod, ClientAssertion, ProfileConfig};
use tokendesk_core::secret::Sensitive;
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

fn fapi_config(p: &Provider) -> ProfileConfig {
    let mut c = web_config(p, &["openid", "offline_access"]);
    c.name = "fapi".into();
    c.client_id = "fapi-app".into();
    c.auth_method = AuthMethod::PrivateKeyJwt;
    c.client_assertion = ClientAssertion {
        alg: AssertionAlg::PS256,
        kid: Some("fapi-app-rsa".into()),
        audience: None,
    };
    c.fapi2 = true;
    c.par = true;
    c.dpop = Some(DpopAlg::ES256);
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fapi_profile_signs_in_with_par_dpop_and_an_issuer_addressed_assertion() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let key = Sensitive::new(p.client_keys["fapi-app"].clone());
    let profile = t
        .core
        .create_profile(fapi_config(&p), Some(key))
        .await
        .unwrap();
    let token = t
        .core
        .login(&profile.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(token.token_type, "DPoP");
    assert!(token.dpop_jkt.is_some());
    let v = token.id_token_validation.expect("the ID token was checked");
    assert!(v.valid(), "{:?}", v.checks);
    let log = t.core.exchanges(&profile.id, 100).unwrap();
    let ops: Vec<&str> = log.iter().map(|e| e.operation.as_str()).collect();
    assert!(ops.contains(&"par"), "the request was pushed: {ops:?}");
    assert!(
        log.iter()
            .filter(|e| e.operation == "par" || e.operation == "token:authorization_code")
            .all(|e| e.request_headers.iter().any(|h| h.name == "dpop")),
        "PAR and the code exchange carry DPoP proofs"
    );
    t.core.userinfo(&profile.id).await.unwrap();
    let refreshed = t
        .core
        .refresh(&profile.id, tokendesk_core::history::Trigger::Manual)
        .await
        .unwrap();
    assert_eq!(refreshed.token_type, "DPoP");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_mode_the_same_client_is_refused_by_the_provider() {
    // What FAPI mode guards against: the assertion addressed to the token endpoint (the
    // private_key_jwt default) is not what a FAPI 2.0 provider accepts.
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = fapi_config(&p);
    config.fapi2 = false;
    let key = Sensitive::new(p.client_keys["fapi-app"].clone());
    let profile = t.core.create_profile(config, Some(key)).await.unwrap();
    let e = t
        .core
        .login(&profile.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e.message);
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_setup_that_breaks_a_rule_is_refused_before_any_request() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = fapi_config(&p);
    config.auth_method = AuthMethod::ClientSecretBasic;
    config.dpop = None;
    config.par = false;
    let e = t
        .core
        .create_profile(config, Some(Sensitive::new("s".into())))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["auth_method", "dpop", "par"], "{}", e.message);
    assert!(e.fields.iter().all(|f| f.message.starts_with("FAPI 2.0:")));
    assert!(
        t.core.list_profiles().unwrap().is_empty(),
        "nothing was saved"
    );
    // And an existing FAPI profile cannot be edited into breaking one.
    let key = Sensitive::new(p.client_keys["fapi-app"].clone());
    let profile = t
        .core
        .create_profile(fapi_config(&p), Some(key))
        .await
        .unwrap();
    let mut broken = profile.config.clone();
    broken.client_assertion.alg = AssertionAlg::RS256;
    let e = t
        .core
        .update_profile(&profile.id, broken)
        .await
        .unwrap_err();
    assert_eq!(e.fields[0].field, "client_assertion.alg");
    assert_eq!(
        t.core.profile("fapi").unwrap().config.client_assertion.alg,
        AssertionAlg::PS256,
        "the stored profile is unchanged"
    );
}
