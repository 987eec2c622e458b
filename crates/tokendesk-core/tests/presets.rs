//! Profiles made from provider presets, against a provider on loopback that answers the way
//! the preset's provider does: the preset's endpoints are the ones called, and an error the
//! preset knows comes back with the provider-specific cause and fix.

use std::time::Duration;

use tokendesk_core::ErrorCode;
use tokendesk_core::catalog;
use tokendesk_core::profile::GrantKind;
use tokendesk_testkit::TestCore;
use tokendesk_testkit::hostile::{
    Answer, CLIENT_ID, CLIENT_SECRET, Hostile, Scenario, Stored, sign_in,
};

/// The preset's profile with every host parameter pointed at the imitation.
fn imitating(h: &Hostile, preset: &str, hosts: &[&str]) -> tokendesk_core::profile::ProfileConfig {
    let base = h.url("");
    let base = base.trim_end_matches('/');
    let mut config = catalog::find(preset)
        .unwrap()
        .profile(
            &hosts
                .iter()
                .map(|p| ((*p).to_owned(), base.to_owned()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    config.name = format!("{preset}-imitation");
    config.client_id = CLIENT_ID.into();
    config
}

/// Parameter pairs as `Preset::profile` takes them.
fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The `iss` check of the profile's stored ID token, as the inspector shows it.
async fn iss_check(
    t: &TestCore,
    profile: &tokendesk_core::profile::Profile,
) -> tokendesk_core::inspect::Check {
    let inspection = t
        .core
        .inspect(&profile.id, tokendesk_core::secret::SecretKind::IdToken)
        .await
        .unwrap();
    inspection
        .validation
        .as_ref()
        .and_then(|v| v.checks.iter().find(|c| c.name == "iss").cloned())
        .expect("an iss check")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_google_error_is_explained_with_googles_cause_and_fix() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    // Google's preset with both of its hosts pointed at the imitation: the token request goes
    // to {token_base_url}/token as the preset builds it.
    let mut config = imitating(&h, "google", &["base_url", "token_base_url"]);
    assert_eq!(
        config.endpoints.token.as_deref(),
        Some(h.url("/token").as_str())
    );
    config.issuer = None; // the imitation's discovery is not Google's
    config.grant = GrantKind::ClientCredentials;
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let before = Stored::of(&t, &profile.id).await;

    h.set(Scenario {
        token_answer: Some(Answer::Body(
            400,
            "application/json",
            br#"{"error":"invalid_request","error_description":"client_secret is missing."}"#
                .to_vec(),
        )),
        ..Default::default()
    });
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ProviderError, "{}", e.message);
    assert!(
        e.message.contains("client_secret is missing")
            && e.message
                .contains("Google: Google Desktop app clients must send their client secret")
            && e.message.contains("Fix: Store the client secret"),
        "the provider's words, then Google's cause and fix: {}",
        e.message
    );
    assert_eq!(
        Stored::of(&t, &profile.id).await,
        before,
        "nothing stored changed"
    );

    // The same answer for a profile without a preset gets the generic words only.
    h.set(Scenario {
        token_answer: Some(Answer::Body(
            400,
            "application/json",
            br#"{"error":"invalid_request","error_description":"client_secret is missing."}"#
                .to_vec(),
        )),
        ..Default::default()
    });
    let mut plain = profile.config.clone();
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, Some(CLIENT_SECRET)).await;
    let e = t.core.fetch_token(&plain.id).await.unwrap_err();
    assert!(!e.message.contains("Google:"), "{}", e.message);
}

/// GitHub answers some errors with HTTP 200 and an `error` member; Slack with `"ok": false`.
/// Either is the provider's error, named as such, never "an unusable answer".
#[tokio::test(flavor = "multi_thread")]
async fn errors_in_a_200_answer_are_the_providers_errors() {
    let h = Hostile::start().await;
    let t = TestCore::new();
    let mut config = imitating(&h, "github", &["base_url", "api_base_url"]);
    config.grant = GrantKind::ClientCredentials;
    config.endpoints.token = Some(h.url("/token"));
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let before = Stored::of(&t, &profile.id).await;
    for (content_type, body, says) in [
        (
            "application/json",
            &br#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/apps"}"#[..],
            "bad_verification_code",
        ),
        (
            "application/x-www-form-urlencoded",
            &b"error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."[..],
            "bad_verification_code",
        ),
        (
            "application/json; charset=utf-8",
            &br#"{"ok":false,"error":"invalid_code"}"#[..],
            "invalid_code",
        ),
    ] {
        h.set(Scenario {
            token_answer: Some(Answer::Body(200, content_type, body.to_vec())),
            ..Default::default()
        });
        let e = t.core.fetch_token(&profile.id).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderError, "{}", e.message);
        assert!(
            e.message.contains("refused")
                && e.message.contains(says)
                && e.message.contains("HTTP 200"),
            "{}",
            e.message
        );
        assert_eq!(Stored::of(&t, &profile.id).await, before, "nothing stored changed");
    }
}

/// Google documents ID tokens whose `iss` is `accounts.google.com`, without the scheme. A
/// profile made from the Google preset accepts that spelling — for Google's issuer, and says
/// so in the check — while a profile without the preset refuses it, as does any other spelling.
#[tokio::test(flavor = "multi_thread")]
async fn googles_scheme_less_iss_is_accepted_only_through_the_preset() {
    use serde_json::json;
    let h = Hostile::start().await;
    let t = TestCore::new();
    let base = h.url("");
    let host = base
        .trim_end_matches('/')
        .split_once("://")
        .unwrap()
        .1
        .to_owned();
    let mut config = imitating(&h, "google", &["base_url", "token_base_url"]);
    // The imitation's own endpoints (its paths are not Google's); the issuer is the preset's.
    config.endpoints = Default::default();
    config.authorize_params.clear();
    config.scopes = vec!["openid".into()];
    let google = t.add(config.clone(), Some(CLIENT_SECRET)).await;
    let mut plain = config;
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, Some(CLIENT_SECRET)).await;

    let scheme_less = |iss: &str| Scenario {
        set: json!({ "iss": iss }).as_object().unwrap().clone(),
        ..Default::default()
    };
    h.set(scheme_less(&host));
    sign_in(&t, &google)
        .await
        .expect("the documented spelling, through the preset");
    let iss = iss_check(&t, &google).await;
    assert!(iss.ok && iss.detail.contains("documents"), "{iss:?}");

    h.set(scheme_less(&host));
    let e = sign_in(&t, &plain).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::CheckFailed,
        "no preset, no alias: {}",
        e.message
    );

    let before = t.core.token(&google.id).unwrap();
    h.set(scheme_less(&format!("{host}/")));
    let e = sign_in(&t, &google).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::CheckFailed,
        "another spelling: {}",
        e.message
    );
    assert_eq!(
        t.core.token(&google.id).unwrap(),
        before,
        "nothing stored changed"
    );
}

/// Salesforce sends no `expires_in` and serves its APIs on the `instance_url` of the token
/// answer. The preset's profile gets a usable token whose lifetime is unknown (said in its
/// notes), and a request path without a host goes to the instance — for the preset's profile
/// only.
#[tokio::test(flavor = "multi_thread")]
async fn salesforce_answers_without_a_lifetime_and_with_its_instance() {
    use tokendesk_core::api::ApiRequest;
    use tokendesk_core::history::Trigger;
    let h = Hostile::start().await;
    let t = TestCore::new();
    let mut config = imitating(&h, "salesforce", &["base_url"]);
    config.issuer = None;
    config.endpoints.token = Some(h.url("/token"));
    config.grant = GrantKind::ClientCredentials;
    assert_eq!(config.api_url, None, "the preset names no fixed API host");
    let profile = t.add(config.clone(), Some(CLIENT_SECRET)).await;
    let answer = format!(
        r#"{{"access_token":"00D5g000004ABCD!AQ0AQNotAJwtAtAll","signature":"Zm9vYmFy","scope":"api","instance_url":"{}","id":"{}/id/00D5g000004ABCD/0055g00000ABCDE","token_type":"Bearer","issued_at":"1764855600000"}}"#,
        h.url("").trim_end_matches('/'),
        h.url("")
    );
    let sf = || Scenario {
        token_answer: Some(Answer::Body(
            200,
            "application/json",
            answer.clone().into_bytes(),
        )),
        ..Default::default()
    };
    h.set(sf());
    t.core
        .fetch_token(&profile.id)
        .await
        .expect("a usable token");
    let token = t.core.token(&profile.id).unwrap().expect("stored");
    assert_eq!(
        token.access_expires_at, None,
        "no lifetime was sent or invented"
    );
    assert_eq!(
        token.state(i64::MAX / 2),
        tokendesk_core::token::TokenState::Valid,
        "valid until an API says otherwise"
    );
    let note = |kind: &str| {
        token
            .notes
            .iter()
            .find(|n| n.kind == kind)
            .map(|n| n.text.clone())
            .unwrap_or_else(|| panic!("a {kind} note in {:?}", token.notes))
    };
    assert!(note("no_expires_in").contains("Salesforce is known for it"));
    assert!(note("instance_url").contains(h.url("").trim_end_matches('/')));

    let get = |url: &str| ApiRequest {
        method: "GET".into(),
        url: url.into(),
        ..Default::default()
    };
    let response = t
        .core
        .request(
            &profile.id,
            &get("/userinfo"),
            Duration::ZERO,
            Trigger::Manual,
        )
        .await
        .expect("the path goes to the instance");
    assert_eq!(response.url, h.url("/userinfo"));

    // Without the preset the same answer is read the same, but nothing says where APIs live.
    let mut plain = config;
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, Some(CLIENT_SECRET)).await;
    h.set(sf());
    t.core.fetch_token(&plain.id).await.unwrap();
    let e = t
        .core
        .request(
            &plain.id,
            &get("/userinfo"),
            Duration::ZERO,
            Trigger::Manual,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("no API URL"), "{}", e.message);
}

/// Cognito answers a refresh without a new refresh token: the one held is kept, and the note
/// says so and that Cognito is known for it.
#[tokio::test(flavor = "multi_thread")]
async fn cognito_refreshes_without_a_new_refresh_token() {
    use tokendesk_core::history::Trigger;
    let h = Hostile::start().await;
    let t = TestCore::new();
    let base = h.url("");
    let base = base.trim_end_matches('/');
    let params = owned(&[
        ("region", "eu-west-1"),
        ("user_pool_id", "eu-west-1_AbCdEf123"),
        ("base_url", base),
        ("idp_base_url", base),
    ]);
    let mut config = catalog::find("cognito").unwrap().profile(&params).unwrap();
    config.name = "cognito-imitation".into();
    config.client_id = CLIENT_ID.into();
    // The imitation's own endpoints and issuer (its paths are not Cognito's).
    config.issuer = Some(base.to_owned());
    config.endpoints = Default::default();
    config.scopes = vec!["openid".into()];
    let profile = t.add(config, Some(CLIENT_SECRET)).await;
    let first = sign_in(&t, &profile).await.expect("signed in");
    assert!(
        first.refresh.is_some() && first.notes.is_empty(),
        "{:?}",
        first.notes
    );

    h.set(Scenario {
        token_answer: Some(Answer::Body(
            200,
            "application/json",
            br#"{"access_token":"eyJraWQiOiJub3QtYS1qd3QifQ.cognito-access","expires_in":3600,"token_type":"Bearer"}"#.to_vec(),
        )),
        ..Default::default()
    });
    let refreshed = t
        .core
        .refresh(&profile.id, Trigger::Manual)
        .await
        .expect("refreshed");
    assert_eq!(
        refreshed.refresh, first.refresh,
        "the refresh token held is kept"
    );
    assert!(refreshed.refresh_usable(refreshed.obtained_at));
    let note = refreshed
        .notes
        .iter()
        .find(|n| n.kind == "kept_refresh_token")
        .expect("a note");
    assert!(
        note.text.contains("Amazon Cognito is known for it"),
        "{}",
        note.text
    );
}

/// Entra: multi-tenant discovery names the issuer `…/{tenantid}/v2.0`, and each ID token's
/// `iss` carries the user's tenant (its `tid`). Through the preset, discovery accepts the
/// template and an ID token is checked against the template filled from its own `tid`; a
/// token whose `iss` names another tenant than its `tid`, or a `tid` that would reshape the
/// URL, is refused. Without the preset, the template is an issuer mismatch. AADSTS errors are
/// explained with Entra's cause and fix.
#[tokio::test(flavor = "multi_thread")]
async fn entras_tenant_template_and_its_errors() {
    use serde_json::json;
    let h = Hostile::start().await;
    let t = TestCore::new();
    let base = h.url("");
    let base = base.trim_end_matches('/').to_owned();
    h.set_issuer(&format!("{base}/{{tenantid}}/v2.0"));
    let mut config = imitating(&h, "entra", &["base_url"]);
    assert_eq!(
        config.issuer.as_deref(),
        Some(format!("{base}/organizations/v2.0").as_str())
    );
    config.endpoints = Default::default(); // the imitation's paths are not Entra's
    config.scopes = vec!["openid".into()];
    let entra = t.add(config.clone(), None).await;
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let tenant = |iss_tenant: &str, tid: &str| Scenario {
        set: json!({ "iss": format!("{base}/{iss_tenant}/v2.0"), "tid": tid })
            .as_object()
            .unwrap()
            .clone(),
        iss_param: Some(String::new()), // Entra sends no iss in the redirect
        ..Default::default()
    };

    h.set(tenant(tid, tid));
    sign_in(&t, &entra)
        .await
        .expect("the user's tenant, through the template");
    let profile = t.core.profile(entra.id.as_str()).unwrap();
    assert_eq!(
        profile.config.issuer, config.issuer,
        "the profile keeps its issuer"
    );
    let notes = &profile.metadata.as_ref().unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("{tenantid}") && n.contains("tid")),
        "{notes:?}"
    );
    let iss = iss_check(&t, &entra).await;
    assert!(iss.ok && iss.detail.contains(tid), "{iss:?}");

    let before = t.core.token(&entra.id).unwrap();
    for (iss_tenant, claimed, why) in [
        (
            "0000aaaa-11bb-cccc-dd22-eeeeee333333",
            tid,
            "iss names another tenant than tid",
        ),
        ("..", "..", "a tid that reshapes the URL"),
        ("{tenantid}", "{tenantid}", "the template itself"),
    ] {
        h.set(tenant(iss_tenant, claimed));
        let e = sign_in(&t, &entra).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::CheckFailed, "{why}: {}", e.message);
        assert_eq!(
            t.core.token(&entra.id).unwrap(),
            before,
            "{why}: nothing stored"
        );
    }

    let mut plain = config;
    plain.name = "plain".into();
    plain.preset = None;
    let plain = t.add(plain, None).await;
    let e = t.core.discover(&plain.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::IssuerMismatch, "{}", e.message);

    // An AADSTS error body, as Entra sends it.
    let mut cc = imitating(&h, "entra", &["base_url"]);
    cc.name = "entra-cc".into();
    cc.issuer = None;
    cc.endpoints.token = Some(h.url("/token"));
    cc.grant = GrantKind::ClientCredentials;
    cc.scopes = vec!["api://tokendesk-test/.default".into()];
    let cc = t.add(cc, None).await;
    h.set(Scenario {
        token_answer: Some(Answer::Body(
            401,
            "application/json; charset=utf-8",
            br#"{"error":"invalid_client","error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'. Trace ID: 0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9 Correlation ID: 11111111-2222-3333-4444-555555555555 Timestamp: 2026-12-04 21:00:00Z","error_codes":[7000218],"timestamp":"2026-12-04 21:00:00Z","trace_id":"0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9","correlation_id":"11111111-2222-3333-4444-555555555555","error_uri":"https://login.microsoftonline.com/error?code=7000218"}"#.to_vec(),
        )),
        ..Default::default()
    });
    let e = t.core.fetch_token(&cc.id).await.unwrap_err();
    assert!(
        e.message.contains("AADSTS7000218")
            && e.message
                .contains("Microsoft Entra ID: Entra treats this client as confidential")
            && e.message
                .contains("Fix: Add the loopback redirect under 'Mobile and desktop"),
        "{}",
        e.message
    );
}

/// Sign in with Apple takes no stored client secret: it wants an ES256 JWT made from the
/// developer's .p8 key (kid the Key ID, iss the Team ID, sub the Services ID, aud Apple). The
/// preset's profile keeps the key in the keychain and sends a JWT made fresh for the request;
/// neither the key nor the JWT reaches the exchange log. Without the key, the error says how to
/// store it.
#[tokio::test(flavor = "multi_thread")]
async fn apples_client_secret_is_made_from_the_key() {
    const EC_KEY: &str = include_str!("../src/flow/testdata/ec-p256.pem");
    const EC_PUB: &str = include_str!("../src/flow/testdata/ec-p256.pub.pem");
    let h = Hostile::start().await;
    let t = TestCore::new();
    let base = h.url("");
    let base = base.trim_end_matches('/').to_owned();
    let params = owned(&[
        ("base_url", base.as_str()),
        ("team_id", "A1B2C3D4E5"),
        ("key_id", "ABC123DEFG"),
    ]);
    let mut config = catalog::find("apple").unwrap().profile(&params).unwrap();
    config.name = "apple-imitation".into();
    config.client_id = "com.example.web".into();
    assert!(config.key_is_credential(), "{:?}", config.generated_secret);
    config.issuer = None;
    config.endpoints.token = Some(h.url("/token"));
    config.grant = GrantKind::ClientCredentials;

    let keyless = t.add(config.clone(), None).await;
    let e = t.core.fetch_token(&keyless.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e.message);
    assert!(
        e.message
            .contains("tokendesk profile set-key apple-imitation"),
        "{}",
        e.message
    );

    config.name = "apple".into();
    let profile = t.add(config, Some(EC_KEY)).await;
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    t.core.fetch_token(&profile.id).await.expect("a token");
    let sent = h.last_token_form();
    let secret = sent
        .get("client_secret")
        .expect("a client secret sent")
        .clone();
    assert_eq!(
        sent.get("client_id").map(String::as_str),
        Some("com.example.web")
    );
    let header = jsonwebtoken::decode_header(&secret).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("ABC123DEFG"));
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[base.as_str()]);
    v.set_issuer(&["A1B2C3D4E5"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &secret,
        &jsonwebtoken::DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(),
        &v,
    )
    .expect("signed with the profile's key")
    .claims;
    assert_eq!(claims["sub"], "com.example.web");
    let iat = claims["iat"].as_i64().unwrap();
    assert!(
        (started - 5..=started + 60).contains(&iat),
        "made now: {iat}"
    );
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 300);

    let log = serde_json::to_string(&t.core.exchanges(&profile.id, 50).unwrap()).unwrap();
    assert!(
        !log.contains(&secret),
        "the generated secret is scrubbed from the log"
    );
    assert!(!log.contains("BEGIN"), "the key never appears");
}
