use reqwest::StatusCode;
use tokendesk_sandbox::{CC_CLIENT, PUBLIC_CLIENT, Style, WEB_CLIENT};

use crate::common::{Auth, GENERAL, call, introspect, login_and_redeem, start, token};

#[tokio::test]
async fn revoked_access_token_introspects_inactive() {
    let sandbox = start().await;
    for style in GENERAL {
        let issuer = sandbox.issuer(style);
        let cc = Auth::Basic(CC_CLIENT.0, CC_CLIENT.1);
        let body = token(
            &issuer,
            cc,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "payments:write"),
            ],
        )
        .await
        .json();
        let access = body["access_token"].as_str().expect("access token");
        let before = introspect(&issuer, access).await;
        assert_eq!(before["active"], true, "{style:?}");
        assert_eq!(before["client_id"], CC_CLIENT.0);
        assert_eq!(before["scope"], "payments:write");
        assert_eq!(before["token_type"], "Bearer");
        let exp = before["exp"].as_u64().expect("exp is a number");
        let iat = before["iat"].as_u64().expect("iat is a number");
        assert_eq!(exp - iat, 120);

        let r = call(&issuer, "/revoke", cc, &[("token", access)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            introspect(&issuer, access).await,
            serde_json::json!({"active": false}),
            "{style:?}: a revoked token is inactive"
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let web = Auth::Post(WEB_CLIENT.0, WEB_CLIENT.1);
    let body = login_and_redeem(&issuer, web, "openid", "n").await;
    let access = body["access_token"].as_str().expect("access token");
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let r = call(
        &issuer,
        "/revoke",
        web,
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(introspect(&issuer, refresh).await["active"], false);
    assert_eq!(
        introspect(&issuer, access).await["active"],
        false,
        "the grant's access token goes too"
    );
    let refused = token(
        &issuer,
        web,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(refused.json()["error"], "invalid_grant");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn revocation_and_introspection_edge_cases() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let public = Auth::Public(PUBLIC_CLIENT);
    let unknown = call(&issuer, "/revoke", public, &[("token", "never-issued")]).await;
    assert_eq!(
        unknown.status,
        StatusCode::OK,
        "RFC 7009 §2.2: unknown tokens get 200"
    );

    let unauthenticated =
        crate::common::post_form(&format!("{issuer}/introspect"), &[("token", "x")], None).await;
    assert_eq!(
        unauthenticated.status,
        StatusCode::UNAUTHORIZED,
        "introspection needs a client"
    );

    // The public client sees only its own tokens.
    let cc = Auth::Basic(CC_CLIENT.0, CC_CLIENT.1);
    let cc_token = token(&issuer, cc, &[("grant_type", "client_credentials")])
        .await
        .json();
    let access = cc_token["access_token"].as_str().expect("access token");
    let seen = call(&issuer, "/introspect", public, &[("token", access)])
        .await
        .json();
    assert_eq!(seen["active"], false);

    // Tokens of one issuer are unknown to the other.
    let other = introspect(&sandbox.issuer(Style::Gateway), access).await;
    assert_eq!(other["active"], false);
    sandbox.shutdown().await;
}
