use tokendesk_sandbox::{DEMO_USER, PUBLIC_CLIENT, Style, WEB_CLIENT};

use crate::common::{Auth, GENERAL, login_and_redeem, now_ms, start, token, verify_jwt};

#[tokio::test]
async fn id_token_verifies_against_the_jwks_and_carries_the_nonce() {
    let sandbox = start().await;
    for style in GENERAL {
        let issuer = sandbox.issuer(style);
        let web = Auth::Basic(WEB_CLIENT.0, WEB_CLIENT.1);
        let body = login_and_redeem(&issuer, web, "openid profile email", "nonce-xyz").await;
        let id_token = body["id_token"].as_str().expect("an ID token");
        let claims = verify_jwt(&issuer, id_token, WEB_CLIENT.0).await;
        assert_eq!(
            claims["nonce"], "nonce-xyz",
            "{style:?}: the nonce is echoed"
        );
        assert_eq!(claims["sub"], DEMO_USER.sub);
        assert_eq!(claims["aud"], WEB_CLIENT.0);
        assert_eq!(claims["name"], DEMO_USER.name);
        assert_eq!(claims["email"], DEMO_USER.email);
        let now_s = now_ms() / 1000;
        let auth_time = claims["auth_time"].as_u64().expect("auth_time");
        assert!(
            auth_time <= now_s && auth_time + 60 >= now_s,
            "auth_time is the login time"
        );
        assert_eq!(
            claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
            120
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn refreshed_id_token_keeps_subject_and_drops_the_nonce() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let public = Auth::Public(PUBLIC_CLIENT);
    let first = login_and_redeem(&issuer, public, "openid", "nonce-1").await;
    let refreshed = token(
        &issuer,
        public,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh token"),
            ),
        ],
    )
    .await
    .json();
    let claims = verify_jwt(
        &issuer,
        refreshed["id_token"]
            .as_str()
            .expect("a new ID token on refresh"),
        PUBLIC_CLIENT,
    )
    .await;
    assert_eq!(claims["sub"], DEMO_USER.sub);
    assert!(claims.get("nonce").is_none());
    sandbox.shutdown().await;
}
