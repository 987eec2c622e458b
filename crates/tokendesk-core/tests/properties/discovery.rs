//! Discovery documents (`ProviderMetadata`) and the addresses tried for an issuer.

use proptest::prelude::*;
use serde_json::Value;
use tokendesk_core::ErrorCode;
use tokendesk_core::provider::discovery::{ProviderMetadata, candidate_urls};

use crate::config::config;
use crate::input;

pub const FIELDS: &[&str] = &[
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "pushed_authorization_request_endpoint",
    "require_pushed_authorization_requests",
    "device_authorization_endpoint",
    "authorization_response_iss_parameter_supported",
    "code_challenge_methods_supported",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "scopes_supported",
    "response_types_supported",
    "dpop_signing_alg_values_supported",
    "mtls_endpoint_aliases",
    "notes",
];

/// A discovery document's text: metadata that keeps the whole document, or an error naming
/// the member that is wrong.
pub fn document(bytes: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
        return; // discovery tries the next address: nothing is parsed
    };
    match ProviderMetadata::from_document(doc.clone(), "https://op.example/d".into(), 7) {
        Ok(meta) => {
            assert_eq!(meta.raw, doc);
            assert_eq!(
                meta.issuer,
                doc.get("issuer").and_then(Value::as_str).unwrap_or("")
            );
            assert_eq!(
                meta.token_endpoint.as_deref(),
                doc.get("token_endpoint").and_then(Value::as_str)
            );
            assert_eq!(
                (meta.source_url.as_str(), meta.fetched_at),
                ("https://op.example/d", 7)
            );
            for which in [
                tokendesk_core::profile::Endpoint::Token,
                tokendesk_core::profile::Endpoint::Userinfo,
            ] {
                let _ = meta.mtls_alias(which);
            }
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::BadResponse);
            match doc.as_object() {
                Some(object) => assert!(
                    object
                        .keys()
                        .any(|k| e.message.contains(&format!("\"{k}\""))),
                    "the error names the member: {}",
                    e.message
                ),
                None => assert!(e.message.contains("not a JSON object"), "{}", e.message),
            }
        }
    }
}

/// The addresses tried for an issuer: an http(s) issuer's own origin, the well-known paths; or
/// an error on the `issuer` field.
pub fn issuer(text: &str) {
    match candidate_urls(text) {
        Ok(urls) => {
            let issuer = url::Url::parse(text).expect("only a URL gives candidates");
            assert!(matches!(issuer.scheme(), "http" | "https"));
            assert!((2..=3).contains(&urls.len()), "{urls:?}");
            for u in &urls {
                let parsed = url::Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
                assert_eq!(
                    parsed.origin(),
                    issuer.origin(),
                    "{u} leaves the issuer's origin"
                );
                assert!(parsed.path().contains("/.well-known/"), "{u}");
                assert!(
                    parsed.query().is_none() && parsed.fragment().is_none(),
                    "{u}"
                );
            }
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidInput);
            assert_eq!(e.fields[0].field, "issuer");
        }
    }
}

fn issuer_text() -> impl Strategy<Value = String> {
    prop_oneof![
        input::text(),
        "(https?|ftp|mailto|data|file|javascript):(//)?[a-zA-Z0-9.@:\\[\\]-]{0,20}(/[a-z%./?#=]{0,12}){0,3}/?",
    ]
}

fn metadata() -> impl Strategy<Value = ProviderMetadata> {
    let opt = || prop::option::of(input::text());
    let list = || prop::collection::vec(input::text(), 0..3);
    (
        (
            input::text(),
            opt(),
            opt(),
            opt(),
            opt(),
            opt(),
            opt(),
            opt(),
        ),
        (
            any::<bool>(),
            opt(),
            any::<bool>(),
            list(),
            list(),
            list(),
            list(),
            list(),
        ),
        list(),
    )
        .prop_map(
            |((issuer, a, t, r, i, u, j, p), (rp, d, iss, cc, gt, am, sc, rt), dp)| {
                ProviderMetadata {
                    issuer,
                    authorization_endpoint: a,
                    token_endpoint: t,
                    revocation_endpoint: r,
                    introspection_endpoint: i,
                    userinfo_endpoint: u,
                    jwks_uri: j,
                    pushed_authorization_request_endpoint: p,
                    require_pushed_authorization_requests: rp,
                    backchannel_authentication_endpoint: None,
                    device_authorization_endpoint: d,
                    authorization_response_iss_parameter_supported: iss,
                    code_challenge_methods_supported: cc,
                    grant_types_supported: gt,
                    token_endpoint_auth_methods_supported: am,
                    scopes_supported: sc,
                    response_types_supported: rt,
                    dpop_signing_alg_values_supported: dp,
                    source_url: "https://op.example/d".into(),
                    notes: Vec::new(),
                    fetched_at: 7,
                    raw: Value::Null,
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_document_text_or_bytes(bytes in input::json_bytes(FIELDS)) {
        document(&bytes);
    }

    #[test]
    fn any_document_object(m in input::object(FIELDS)) {
        document(Value::Object(m).to_string().as_bytes());
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named(
        (m, _name) in input::with_odd_field(
            serde_json::from_value(serde_json::json!({"issuer": "https://op.example"})).unwrap(),
            FIELDS,
        )
    ) {
        document(Value::Object(m).to_string().as_bytes());
    }

    #[test]
    fn metadata_round_trips(meta in metadata()) {
        let doc = serde_json::to_value(&meta).unwrap();
        let mut back = ProviderMetadata::from_document(doc.clone(), meta.source_url.clone(), 7).unwrap();
        prop_assert_eq!(&back.raw, &doc);
        back.raw = Value::Null;
        prop_assert_eq!(back, meta);
    }

    #[test]
    fn any_issuer(text in issuer_text()) {
        issuer(&text);
    }
}
