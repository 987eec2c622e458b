use reqwest::StatusCode;
use tokendesk_sandbox::{CC_CLIENT, DEMO_USER, PUBLIC_CLIENT, Style};

use crate::common::{Auth, GENERAL, get, login_and_redeem, start, token};

#[tokio::test]
async fn userinfo_returns_the_demo_user_for_a_valid_token() {
    let sandbox = start().await;
    for style in GENERAL {
        let issuer = sandbox.issuer(style);
        let body = login_and_redeem(
            &issuer,
            Auth::Public(PUBLIC_CLIENT),
            "openid profile email",
            "n",
        )
        .await;
        let access = body["access_token"].as_str().expect("access token");
        let r = get(&format!("{issuer}/userinfo"), Some(access)).await;
        assert_eq!(r.status, StatusCode::OK, "{style:?}: {}", r.body);
        let claims = r.json();
        assert_eq!(claims["sub"], DEMO_USER.sub);
        assert_eq!(claims["name"], DEMO_USER.name);
        assert_eq!(claims["email"], DEMO_USER.email);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn userinfo_rejects_missing_bad_and_non_openid_tokens() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let url = format!("{issuer}/userinfo");

    let missing = get(&url, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(
        missing
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );

    let bad = get(&url, Some("not-a-token")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(
        bad.header("www-authenticate")
            .is_some_and(|v| v.contains("error=\"invalid_token\"")),
        "RFC 6750 challenge names invalid_token"
    );

    let cc = token(
        &issuer,
        Auth::Basic(CC_CLIENT.0, CC_CLIENT.1),
        &[("grant_type", "client_credentials")],
    )
    .await
    .json();
    let no_openid = get(&url, cc["access_token"].as_str()).await;
    assert_eq!(
        no_openid.status,
        StatusCode::FORBIDDEN,
        "a token without openid has no userinfo"
    );
    sandbox.shutdown().await;
}
