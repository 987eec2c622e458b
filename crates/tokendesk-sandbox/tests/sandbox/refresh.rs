use reqwest::StatusCode;
use tokendesk_sandbox::{CC_CLIENT, PUBLIC_CLIENT, Style};

use crate::common::{Auth, introspect, login_and_redeem, start, token};

const PUBLIC: Auth = Auth::Public(PUBLIC_CLIENT);

#[tokio::test]
async fn gateway_refresh_rotates_and_counts_up() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Gateway);
    let first = login_and_redeem(&issuer, PUBLIC, "openid accounts:read", "n").await;
    assert_eq!(first["refresh_count"], "0");
    let mut refresh = first["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let original = refresh.clone();

    for expected_count in ["1", "2"] {
        let r = token(
            &issuer,
            PUBLIC,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let body = r.json();
        assert_eq!(
            body["refresh_count"], expected_count,
            "refresh_count counts refreshes"
        );
        assert_eq!(body["token_type"], "BearerToken");
        assert_eq!(body["scope"], "openid accounts:read", "the scope is kept");
        let next = body["refresh_token"].as_str().expect("a new refresh token");
        assert_ne!(next, refresh, "each refresh rotates the refresh token");
        refresh = next.to_owned();
    }

    let replay = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &original),
        ],
    )
    .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        replay.json()["ErrorCode"],
        "invalid_grant",
        "a rotated refresh token is dead"
    );
    assert_eq!(
        introspect(&issuer, &refresh).await["active"],
        false,
        "reuse of a rotated refresh token revokes the whole grant"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn standard_refresh_can_narrow_but_not_widen_scope() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    let first = login_and_redeem(&issuer, PUBLIC, "openid accounts:read", "n").await;
    let refresh = first["refresh_token"].as_str().expect("refresh token");

    let wider = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "accounts:read payments:write"),
        ],
    )
    .await;
    assert_eq!(wider.json()["error"], "invalid_scope");

    let narrower = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "accounts:read"),
        ],
    )
    .await;
    assert_eq!(narrower.status, StatusCode::OK, "{}", narrower.body);
    let body = narrower.json();
    assert_eq!(body["scope"], "accounts:read");
    assert_eq!(body["expires_in"], 120);
    assert!(
        body.get("id_token").is_none(),
        "no openid in the narrowed scope, no ID token"
    );
    let old = token(
        &issuer,
        PUBLIC,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(old.json()["error"], "invalid_grant");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn gateway_client_credentials_refresh_token_works() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Gateway);
    let cc = Auth::Post(CC_CLIENT.0, CC_CLIENT.1);
    let first = token(&issuer, cc, &[("grant_type", "client_credentials")])
        .await
        .json();
    let r = token(
        &issuer,
        cc,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh token"),
            ),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["refresh_count"], "1");

    let stolen = token(
        &issuer,
        PUBLIC,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                r.json()["refresh_token"].as_str().expect("refresh token"),
            ),
        ],
    )
    .await;
    assert_eq!(
        stolen.json()["ErrorCode"],
        "invalid_grant",
        "a refresh token works only for the client it was issued to"
    );
    sandbox.shutdown().await;
}
