use reqwest::StatusCode;

use crate::common::{GENERAL, get, get_json, start};

#[tokio::test]
async fn both_issuers_publish_discovery_and_jwks() {
    let sandbox = start().await;
    let base = sandbox.base_url().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "loopback only: {base}"
    );
    for style in GENERAL {
        let issuer = sandbox.issuer(style);
        assert_eq!(issuer, format!("{base}/{}", style.path()));
        let by_path = get_json(&format!(
            "{base}/.well-known/oauth-authorization-server/{}",
            style.path()
        ))
        .await;
        for doc_path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let doc = get_json(&format!("{issuer}{doc_path}")).await;
            assert_eq!(
                doc["issuer"],
                issuer.as_str(),
                "{doc_path} names its issuer"
            );
            for (field, path) in [
                ("authorization_endpoint", "/authorize"),
                ("token_endpoint", "/token"),
                ("revocation_endpoint", "/revoke"),
                ("introspection_endpoint", "/introspect"),
                ("userinfo_endpoint", "/userinfo"),
                ("jwks_uri", "/jwks"),
            ] {
                assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
            }
            assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
            assert_eq!(
                doc["code_challenge_methods_supported"],
                serde_json::json!(["S256"])
            );
            assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
            assert_eq!(
                doc["id_token_signing_alg_values_supported"],
                serde_json::json!(["RS256"])
            );
            assert_eq!(
                doc["token_endpoint_auth_methods_supported"],
                serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
            );
            let grants = doc["grant_types_supported"].to_string();
            for grant in ["authorization_code", "refresh_token", "client_credentials"] {
                assert!(grants.contains(grant), "{grant} is advertised");
            }
            let scopes = doc["scopes_supported"].to_string();
            for scope in tokendesk_sandbox::SUPPORTED_SCOPES {
                assert!(scopes.contains(scope), "scope {scope} is advertised");
            }
            assert_eq!(
                doc, by_path,
                "RFC 8414 path-inserted metadata is the same document"
            );
        }
        let jwks = get_json(&format!("{issuer}/jwks")).await;
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert!(
            key["kid"].as_str().is_some_and(|k| !k.is_empty()),
            "the key has a kid"
        );
        assert!(
            key.get("d").is_none(),
            "no private key material in the JWKS"
        );
    }
    let unknown = get(
        &format!("{base}/.well-known/oauth-authorization-server/nope"),
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let index = get(&format!("{base}/"), None).await;
    assert!(
        index.body.contains("not for production"),
        "the index page warns it is a demo"
    );
    sandbox.shutdown().await;
}
