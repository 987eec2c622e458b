use reqwest::StatusCode;
use tokendesk_sandbox::{PUBLIC_CLIENT, Style, WEB_CLIENT};

use crate::common::{
    Auth, REDIRECT_URI, authorize_url, get, introspect, login, login_and_redeem, param, pkce,
    post_form, request_id, start, token,
};

const PUBLIC: Auth = Auth::Public(PUBLIC_CLIENT);
const WEB_BASIC: Auth = Auth::Basic(WEB_CLIENT.0, WEB_CLIENT.1);

#[tokio::test]
async fn public_client_completes_the_code_flow_with_pkce() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let login = login(
        &issuer,
        PUBLIC_CLIENT,
        "openid profile accounts:read",
        "n-1",
    )
    .await;
    assert_eq!(
        param(&login.redirect, "state"),
        Some("state-123"),
        "state comes back"
    );
    assert_eq!(
        param(&login.redirect, "iss"),
        Some(issuer.as_str()),
        "RFC 9207: the redirect names the issuer"
    );
    let r = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "authorization_code"),
            ("code", &login.code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &login.verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile accounts:read");
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["refresh_token_expires_in"], 900);
    assert!(
        body["id_token"].is_string(),
        "openid was granted, so an ID token comes back"
    );
    let active = introspect(
        &issuer,
        body["access_token"].as_str().expect("access token"),
    )
    .await;
    assert_eq!(active["active"], true);
    assert_eq!(active["sub"], "demo-user");
    assert_eq!(active["client_id"], PUBLIC_CLIENT);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn confidential_client_code_flow_in_gateway_style() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Gateway);
    let body = login_and_redeem(&issuer, WEB_BASIC, "openid accounts:read", "n-2").await;
    assert_eq!(body["token_type"], "BearerToken");
    assert_eq!(body["refresh_count"], "0");
    assert_eq!(body["client_id"], WEB_CLIENT.0);
    assert_eq!(body["scope"], "openid accounts:read");
    assert!(body["id_token"].is_string());

    // The confidential client must authenticate: its id alone is not enough.
    let login = login(&issuer, WEB_CLIENT.0, "accounts:read", "n-3").await;
    let r = token(
        &issuer,
        Auth::Public(WEB_CLIENT.0),
        &[
            ("grant_type", "authorization_code"),
            ("code", &login.code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &login.verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["ErrorCode"], "invalid_client");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn wrong_verifier_and_wrong_redirect_uri_are_invalid_grant() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let login1 = login(&issuer, PUBLIC_CLIENT, "openid", "n").await;
    let (other_verifier, _) = pkce("someone-else");
    let r = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "authorization_code"),
            ("code", &login1.code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &other_verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert!(
        r.json()["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("code_verifier"))
    );

    let login2 = login(&issuer, PUBLIC_CLIENT, "openid", "n").await;
    let r = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "authorization_code"),
            ("code", &login2.code),
            ("redirect_uri", "http://127.0.0.1:49153/other"),
            ("code_verifier", &login2.verifier),
        ],
    )
    .await;
    assert_eq!(
        r.json()["error"],
        "invalid_grant",
        "redirect_uri must match exactly"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn plain_or_missing_pkce_is_refused_with_an_error_redirect() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let (verifier, challenge) = pkce("plain");
    let s256 = authorize_url(&issuer, PUBLIC_CLIENT, &challenge, "openid", "st", "n");
    let plain = s256
        .replace("code_challenge_method=S256", "code_challenge_method=plain")
        .replace(&challenge, &verifier);
    let missing_method = s256.replace("&code_challenge_method=S256", "");
    let missing = missing_method.replace(&format!("&code_challenge={challenge}"), "");
    for url in [plain, missing_method, missing] {
        let r = get(&url, None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{url}: {}", r.body);
        let params = r.location_params();
        assert_eq!(param(&params, "error"), Some("invalid_request"), "{url}");
        assert_eq!(param(&params, "state"), Some("st"));
        assert_eq!(param(&params, "iss"), Some(issuer.as_str()));
        assert!(param(&params, "code").is_none());
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_its_tokens() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let login = login(&issuer, PUBLIC_CLIENT, "openid", "n").await;
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", login.code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", login.verifier.as_str()),
    ];
    let first = token(&issuer, PUBLIC, &redeem).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let first = first.json();
    let access = first["access_token"].as_str().expect("access token");
    let refresh = first["refresh_token"].as_str().expect("refresh token");
    assert_eq!(introspect(&issuer, access).await["active"], true);

    let replay = token(&issuer, PUBLIC, &redeem).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert_eq!(
        introspect(&issuer, access).await["active"],
        false,
        "RFC 6749 §4.1.2: tokens issued from a replayed code are revoked"
    );
    assert_eq!(introspect(&issuer, refresh).await["active"], false);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deny_sends_access_denied_with_state_and_iss() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Gateway);
    let (_, challenge) = pkce("deny");
    let page = get(
        &authorize_url(&issuer, PUBLIC_CLIENT, &challenge, "openid", "st-d", "n"),
        None,
    )
    .await;
    let id = request_id(&page.body);
    let decision_url = format!("{issuer}/authorize/decision");
    let r = post_form(
        &decision_url,
        &[("request_id", &id), ("decision", "deny")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let params = r.location_params();
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st-d"));
    assert_eq!(param(&params, "iss"), Some(issuer.as_str()));
    assert!(param(&params, "code").is_none());

    let again = post_form(
        &decision_url,
        &[("request_id", &id), ("decision", "approve")],
        None,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "a login request is answered once"
    );
    assert!(again.header("location").is_none());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let (_, challenge) = pkce("evil");
    let good = authorize_url(&issuer, PUBLIC_CLIENT, &challenge, "openid", "st", "n");
    let encoded_redirect =
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>();
    let cases = [
        good.replace(&encoded_redirect, "https%3A%2F%2Fevil.example%2Fcb"),
        good.replace(&encoded_redirect, "http%3A%2F%2F127.0.0.1%3A1%2Fcb%23frag"),
        good.replace(PUBLIC_CLIENT, "unknown-client"),
        good.replace(PUBLIC_CLIENT, tokendesk_sandbox::CC_CLIENT.0),
    ];
    for url in cases {
        assert_ne!(url, good, "the case must change the request");
        let r = get(&url, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            r.header("location").is_none(),
            "never redirect to an unvalidated URI: {url}"
        );
        assert!(
            r.body.contains("not for production"),
            "error pages carry the banner"
        );
    }
    sandbox.shutdown().await;
}
