//! DPoP (RFC 9449) against a real authorization server: oidc-provider on loopback with
//! `dpop_bound_access_tokens` clients and `requireNonce`, so every first proof is answered with
//! `use_dpop_nonce` and a nonce. The key lives in the real keychain.

use std::time::Duration;

use tokendesk_core::dpop::DpopAlg;
use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::Trigger;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{AuthMethod, Endpoints, ProfileConfig};
use tokendesk_core::secret::{SecretKind, SecretStore};
use tokendesk_core::{ErrorCode, ExportFormat};
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

fn header<'a>(e: &'a tokendesk_core::http::Exchange, name: &str) -> Option<&'a str> {
    e.request_headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn proof_claims(e: &tokendesk_core::http::Exchange) -> serde_json::Value {
    decode_jwt(header(e, "dpop").expect("a DPoP proof was sent"))
        .unwrap()
        .claims
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_get_a_token_bound_to_the_profiles_key_after_the_nonce_dance() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    for alg in [DpopAlg::ES256, DpopAlg::EdDSA] {
        let mut config = cc_config(&p, "cc-dpop", AuthMethod::ClientSecretBasic);
        config.name = format!("cc-dpop-{}", alg.as_str());
        config.dpop = Some(alg);
        let profile = t.add(config, Some("cc-dpop-secret")).await;
        let token = t
            .core
            .fetch_token(&profile.id)
            .await
            .unwrap_or_else(|e| panic!("{}: {}", alg.as_str(), e.message));
        let jkt = t.core.dpop_thumbprint(&profile.id).await.unwrap().unwrap();
        assert_eq!(token.token_type, "DPoP");
        assert_eq!(token.dpop_jkt.as_deref(), Some(jkt.as_str()));
        // The provider bound the token to our key: cnf.jkt in the JWT access token.
        let value = t
            .core
            .reveal(&profile.id, SecretKind::AccessToken)
            .await
            .unwrap();
        let at = decode_jwt(value.expose()).unwrap();
        assert_eq!(at.claims["cnf"]["jkt"], jkt.as_str());

        // The first request to the provider carried no nonce and was asked for one; the
        // second carried it. Later requests (the next profile) use the nonce the origin gave.
        let log = t.core.exchanges(&profile.id, 10).unwrap();
        let mut tries: Vec<_> = log
            .iter()
            .filter(|e| e.operation == "token:client_credentials")
            .collect();
        tries.sort_by_key(|e| (e.at, e.status != Some(400)));
        let last = *tries.last().unwrap();
        if alg == DpopAlg::ES256 {
            assert_eq!(tries.len(), 2, "one nonce round trip");
            assert_eq!(tries[0].status, Some(400));
            assert!(tries[0].response_body.contains("use_dpop_nonce"));
            assert!(proof_claims(tries[0]).get("nonce").is_none());
        } else {
            assert_eq!(tries.len(), 1, "the origin's nonce is remembered");
        }
        assert_eq!(last.status, Some(200));
        let claims = proof_claims(last);
        assert!(claims["nonce"].as_str().is_some_and(|n| !n.is_empty()));
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], p.url("/token"));
    }
    // The keys are in the keychain, one per profile, and nowhere in TokenDesk's files.
    let profiles = t.core.list_profiles().unwrap();
    for profile in &profiles {
        let stored = t
            .keychain
            .get(&profile.id, SecretKind::DpopKey)
            .unwrap()
            .expect("the key is in the keychain");
        let d = serde_json::from_str::<serde_json::Value>(stored.expose()).unwrap()["d"]
            .as_str()
            .unwrap()
            .to_owned();
        for (path, bytes) in all_bytes(t.home.path()) {
            assert!(!contains(&bytes, &d), "the private key is in {path:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dpop_sign_in_binds_the_code_the_refresh_and_every_use() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = web_config(&p, &["openid", "profile", "offline_access"]);
    config.client_id = "dpop-app".into();
    config.dpop = Some(DpopAlg::ES256);
    let profile = t.add(config, Some("dpop-app-secret")).await;
    let jkt = t.core.dpop_thumbprint(&profile.id).await.unwrap().unwrap();

    let started = t.core.begin_login(&profile.id).await.unwrap();
    let auth = url::Url::parse(&started.auth_url).unwrap();
    assert_eq!(
        auth.query_pairs()
            .find(|(k, _)| k == "dpop_jkt")
            .map(|(_, v)| v.into_owned()),
        Some(jkt.clone()),
        "the code is bound to the key from the start"
    );
    t.core.cancel_login(&started.login_id);

    let token = t
        .core
        .login(&profile.id, &HeadlessLogin::default(), LOGIN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(token.token_type, "DPoP");
    assert_eq!(token.dpop_jkt.as_deref(), Some(jkt.as_str()));

    // userinfo: `Authorization: DPoP`, a proof with the token's hash, after a 401 asking for
    // the resource's nonce.
    let claims = t.core.userinfo(&profile.id).await.unwrap();
    assert!(claims["sub"].is_string());
    let log = t.core.exchanges(&profile.id, 50).unwrap();
    let calls: Vec<_> = log.iter().filter(|e| e.operation == "userinfo").collect();
    assert!(calls.iter().any(|e| e.status == Some(200)));
    for e in &calls {
        assert!(header(e, "authorization").unwrap().starts_with("DPoP "));
        assert!(
            proof_claims(e)["ath"].is_string(),
            "the proof names the token"
        );
    }

    // A refresh proves the key again and the new token is bound to it.
    let refreshed = t.core.refresh(&profile.id, Trigger::Manual).await.unwrap();
    assert_eq!(refreshed.token_type, "DPoP");
    assert_eq!(refreshed.dpop_jkt.as_deref(), Some(jkt.as_str()));
    assert_ne!(refreshed.access.fingerprint, token.access.fingerprint);

    // The copied headers work at the provider, as a person would use them (the nonce of this
    // origin is known by now).
    let headers = t
        .core
        .export(&profile.id, ExportFormat::Header)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut request = client.get(p.url("/me"));
    for line in headers.expose().lines() {
        let (name, value) = line.split_once(": ").unwrap();
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "{:?}",
        response.headers().get("www-authenticate")
    );
    // The same token without its proof is refused: it is bound.
    let value = t
        .core
        .reveal(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let bare = client
        .get(p.url("/me"))
        .header("authorization", format!("Bearer {}", value.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);

    // Introspection and revocation carry proofs too; the provider reports the binding.
    let info = t
        .core
        .introspect(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    assert_eq!(info["active"], true);
    assert_eq!(info["cnf"]["jkt"], jkt.as_str());
    t.core
        .revoke(&profile.id, TokenHint::AccessToken)
        .await
        .unwrap();
    let log = t.core.exchanges(&profile.id, 100).unwrap();
    for op in ["introspect", "revoke"] {
        let sent: Vec<_> = log.iter().filter(|e| e.operation == op).collect();
        assert!(
            !sent.is_empty() && sent.iter().all(|e| header(e, "dpop").is_some()),
            "{op} carries a proof"
        );
    }

    // A proof is for one request: another URL's proof names that URL.
    let other = t
        .core
        .token_use(&profile.id, "post", "https://api.example/v1/payments?x=1")
        .await
        .unwrap();
    let c = decode_jwt(other.dpop.as_deref().unwrap()).unwrap().claims;
    assert_eq!(c["htm"], "POST");
    assert_eq!(c["htu"], "https://api.example/v1/payments");
}

fn broken(p: &Provider, name: &str) -> ProfileConfig {
    ProfileConfig {
        name: name.into(),
        client_id: "cc-dpop".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        grant: tokendesk_core::profile::GrantKind::ClientCredentials,
        endpoints: Endpoints {
            token: Some(p.url(&format!("/broken/{name}"))),
            ..Default::default()
        },
        dpop: Some(DpopAlg::ES256),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_asks_for_nonces_for_ever_is_given_up_on_after_three_tries() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(broken(&p, "dpop-nonce-loop"), Some("cc-dpop-secret"))
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        e.message.contains("kept asking for a new DPoP nonce"),
        "{}",
        e.message
    );
    let tries = t
        .core
        .exchanges(&profile.id, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.operation == "token:client_credentials")
        .count();
    assert_eq!(tries, 3, "the first try and two with nonces, no more");
    assert!(t.core.token(&profile.id).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbound_or_foreign_bound_token_is_refused_and_the_previous_one_kept() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut config = cc_config(&p, "cc-dpop", AuthMethod::ClientSecretBasic);
    config.dpop = Some(DpopAlg::ES256);
    let profile = t.add(config, Some("cc-dpop-secret")).await;
    let good = t.core.fetch_token(&profile.id).await.unwrap();
    for (name, says) in [
        ("dpop-bearer", "token_type \"Bearer\""),
        ("dpop-other-key", "bound to another key"),
    ] {
        let mut config = t.core.profile(&profile.config.name).unwrap().config;
        config.issuer = None;
        config.endpoints.token = Some(p.url(&format!("/broken/{name}")));
        t.core.update_profile(&profile.id, config).await.unwrap();
        let e = t.core.fetch_token(&profile.id).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::CheckFailed, "{name}: {}", e.message);
        assert!(e.message.contains(says), "{name}: {}", e.message);
        assert_eq!(
            t.core
                .token(&profile.id)
                .unwrap()
                .unwrap()
                .access
                .fingerprint,
            good.access.fingerprint,
            "{name}: the bound token stays"
        );
    }
}
