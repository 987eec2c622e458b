use reqwest::StatusCode;
use serde_json::Value;
use tokendesk_sandbox::{CC_CLIENT, Style};

use crate::common::{Auth, introspect, now_ms, start, token, verify_jwt};

const CC_BASIC: Auth = Auth::Basic(CC_CLIENT.0, CC_CLIENT.1);
const CC_POST: Auth = Auth::Post(CC_CLIENT.0, CC_CLIENT.1);

fn string_field<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("gateway field {field} must be a JSON string: {body}"))
}

#[tokio::test]
async fn standard_client_credentials_with_basic_and_post() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Standard);
    for auth in [CC_BASIC, CC_POST] {
        let r = token(
            &issuer,
            auth,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "accounts:read"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let body = r.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 120, "expires_in is a JSON number");
        assert_eq!(body["scope"], "accounts:read");
        assert!(
            body.get("refresh_token").is_none(),
            "RFC 6749 §4.4.3: no refresh token for client credentials"
        );
        let access = body["access_token"].as_str().expect("access token");
        let claims = verify_jwt(&issuer, access, "sandbox-accounts").await;
        assert_eq!(claims["client_id"], CC_CLIENT.0);
        assert_eq!(claims["sub"], CC_CLIENT.0);
        assert_eq!(claims["scope"], "accounts:read");
        assert!(claims["jti"].is_string(), "the access token has a jti");
        let lifetime = claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat");
        assert_eq!(lifetime, 120);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn gateway_client_credentials_have_the_gateway_shape() {
    let sandbox = start().await;
    let issuer = sandbox.issuer(Style::Gateway);
    for auth in [CC_BASIC, CC_POST] {
        let before = now_ms();
        let r = token(&issuer, auth, &[("grant_type", "client_credentials")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let body = r.json();
        assert_eq!(body["token_type"], "BearerToken");
        assert_eq!(string_field(&body, "expires_in"), "120");
        assert_eq!(string_field(&body, "refresh_count"), "0");
        assert_eq!(string_field(&body, "refresh_token_expires_in"), "900");
        assert_eq!(body["status"], "approved");
        assert_eq!(body["refresh_token_status"], "approved");
        assert_eq!(body["client_id"], CC_CLIENT.0);
        assert_eq!(body["api_product_list"], "[sandbox-accounts]");
        assert_eq!(
            body["api_product_list_json"],
            serde_json::json!(["sandbox-accounts"])
        );
        assert_eq!(body["organization_name"], "tokendesk-sandbox");
        assert!(body["application_name"].is_string());
        assert_eq!(body["scope"], "", "no scope requested → empty scope string");
        for field in ["issued_at", "refresh_token_issued_at"] {
            let ms: u64 = string_field(&body, field)
                .parse()
                .unwrap_or_else(|_| panic!("{field} is a decimal string"));
            assert!(
                ms >= before && ms <= now_ms(),
                "{field} is epoch milliseconds of now, got {ms}"
            );
        }
        let access = string_field(&body, "access_token");
        assert!(
            access.chars().all(|c| c.is_ascii_alphanumeric()),
            "gateway access tokens are opaque, not JWTs"
        );
        assert!(
            !string_field(&body, "refresh_token").is_empty(),
            "the gateway returns a refresh token even for client credentials"
        );
        assert_eq!(introspect(&issuer, access).await["active"], true);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_client_credentials_are_invalid_client_in_each_style() {
    let sandbox = start().await;
    let wrong = Auth::Basic(CC_CLIENT.0, "not-the-secret");
    let standard = token(
        &sandbox.issuer(Style::Standard),
        wrong,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(standard.status, StatusCode::UNAUTHORIZED);
    assert!(
        standard
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic")),
        "401 carries a Basic challenge"
    );
    assert_eq!(standard.json()["error"], "invalid_client");
    assert!(
        !standard.body.contains("not-the-secret"),
        "the error never echoes the secret"
    );

    let gateway = token(
        &sandbox.issuer(Style::Gateway),
        Auth::Post("nobody", "x"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(gateway.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        gateway.json(),
        serde_json::json!({"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"})
    );

    let scope = token(
        &sandbox.issuer(Style::Standard),
        CC_BASIC,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(scope.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        scope.json()["error"],
        "invalid_scope",
        "the CC client has no user scopes"
    );

    let grant = token(
        &sandbox.issuer(Style::Standard),
        CC_BASIC,
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(grant.json()["error"], "unsupported_grant_type");
    sandbox.shutdown().await;
}
