//! FAPI 2.0 through the core, against the built-in sandbox's FAPI issuer (a real server on
//! loopback): the ready-made "Sandbox FAPI 2.0" profile signs in — PAR with a private_key_jwt
//! assertion for the issuer, PKCE, the code bound to the profile's DPoP key, a DPoP-bound token
//! — then uses the token at userinfo, refreshes it, and hands out a curl line that the real
//! `curl` runs against the sandbox's userinfo.

use std::process::Command;
use std::time::Duration;

use tokendesk_core::ExportFormat;
use tokendesk_core::history::Trigger;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::presets::FAPI_PRESET;
use tokendesk_core::profile::AuthMethod;
use tokendesk_testkit::*;

const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_fapi_preset_signs_in_with_par_and_dpop_end_to_end() {
    let sandbox = tokendesk_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let fapi = sandbox.issuer(tokendesk_sandbox::Style::Fapi);
    let t = TestCore::new();
    t.core
        .add_presets(tokendesk_sandbox::presets::presets(&sandbox))
        .await
        .unwrap();
    let profile = t.core.profile(FAPI_PRESET).unwrap();
    assert_eq!(profile.config.auth_method, AuthMethod::PrivateKeyJwt);
    assert!(
        t.core.has_client_secret(&profile.id).await.unwrap(),
        "the client's private key came with the preset"
    );

    let browser = SandboxLogin::default();
    let token = t
        .core
        .login(&profile.id, &browser, LOGIN_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    let redirect = browser.redirect.lock().unwrap().clone().unwrap();
    assert!(
        redirect.contains("code=") && redirect.contains("iss="),
        "{redirect}"
    );

    // The request was pushed, the browser saw only client_id and request_uri.
    let log = t.core.exchanges(&profile.id, 200).unwrap();
    let par = log
        .iter()
        .filter(|x| x.url.starts_with(&format!("{fapi}/par")))
        .collect::<Vec<_>>();
    assert!(
        par.iter().any(|x| x.status == Some(201)),
        "PAR answered 201: {:?}",
        par.iter()
            .map(|x| (x.status, &x.response_body))
            .collect::<Vec<_>>()
    );

    // The token: DPoP, bound to the profile's key, and the access token says the same.
    assert_eq!(token.token_type, "DPoP");
    let jkt = token.dpop_jkt.clone().expect("dpop_jkt set");
    let at = t
        .core
        .reveal(&profile.id, tokendesk_core::secret::SecretKind::AccessToken)
        .await
        .unwrap();
    let claims = decode_jwt(at.expose()).unwrap().claims;
    assert_eq!(claims["cnf"]["jkt"], jkt.as_str());
    let v = token.id_token_validation.clone().expect("ID token checked");
    assert!(v.valid(), "{:?}", v.failures());

    // Userinfo with Authorization: DPoP and a proof with ath (the nonce asked for first).
    let info = t
        .core
        .userinfo(&profile.id)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(info["sub"], "demo-user");

    // Refresh: a new DPoP token, still bound to the same key.
    let refreshed = t
        .core
        .refresh(&profile.id, Trigger::Manual)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(refreshed.token_type, "DPoP");
    assert_eq!(refreshed.dpop_jkt.as_deref(), Some(jkt.as_str()));
    assert_ne!(refreshed.access, token.access, "a new access token");

    // The copied curl line, run by the real curl: the sandbox's userinfo accepts it.
    let line = t
        .core
        .export(&profile.id, ExportFormat::Curl)
        .await
        .unwrap();
    let line = line.expose();
    assert!(
        line.contains("Authorization: DPoP ") && line.contains("-H 'DPoP: "),
        "{line}"
    );
    assert!(line.ends_with(&format!("'{fapi}/userinfo'")), "{line}");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} -sS -w '\\n%{{http_code}}'"))
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    assert_eq!(
        status,
        "200",
        "curl got {status}: {body} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["sub"], "demo-user");

    // The same line once more is a replayed proof: refused.
    let again = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} -s -o /dev/null -w '%{{http_code}}'"))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&again.stdout), "401");
    sandbox.shutdown().await;
}
