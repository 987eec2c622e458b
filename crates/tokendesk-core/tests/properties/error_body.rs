//! OAuth error bodies (RFC 6749 and gateways' own shapes) and the messages built from them.

use proptest::prelude::*;
use serde_json::{Value, json};
use tokendesk_core::ErrorCode;
use tokendesk_core::http::LastResponse;
use tokendesk_core::provider::hints::{Operation, hint, provider_error, token_answer};
use tokendesk_core::provider::response::ProviderError;

use crate::config::config;
use crate::input;

pub const FIELDS: &[&str] = &[
    "error",
    "error_description",
    "error_uri",
    "ErrorCode",
    "Error",
    "errorCode",
    "errorMessage",
    "error_code",
    "fault",
    "faultstring",
    "detail",
    "errorcode",
    "code",
    "message",
    "access_token",
    "refresh_token",
    "client_secret",
];

const OPS: &[Operation] = &[
    Operation::ClientCredentials,
    Operation::CodeExchange,
    Operation::Refresh,
    Operation::JwtBearer,
    Operation::PushedAuthorization,
    Operation::TokenExchange,
    Operation::DeviceAuthorization,
    Operation::DeviceToken,
];

/// A refusal's body: whatever it holds, a non-2xx answer is never a token; the message names
/// the status and the provider's code, carries no control characters (terminal escapes), and
/// never a value sent under a secret's name.
pub fn body(bytes: &[u8]) {
    for status in [400u16, 401, 500] {
        let response = http::Response::builder()
            .status(status)
            .body(bytes.to_vec())
            .unwrap();
        let last = LastResponse {
            status: Some(status),
            ..LastResponse::default()
        };
        for op in OPS {
            let e = token_answer(&response, &last, *op).expect_err("a refusal is no token");
            assert_no_control(&e.message);
            if let Ok(pe) = serde_json::from_slice::<ProviderError>(bytes) {
                assert!(
                    e.message.contains(&format!("HTTP {status}")),
                    "{}",
                    e.message
                );
                if !pe.error.is_empty() {
                    assert!(e.message.contains(&pe.error), "{}", e.message);
                }
                assert_eq!(e.message, provider_error(&pe, Some(status), *op).message);
                if let Some(h) = hint(&pe.error, *op) {
                    assert!(
                        e.message.ends_with(h),
                        "the hint for {}: {}",
                        pe.error,
                        e.message
                    );
                }
            }
        }
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        secrets_stay_out(&v);
    }
}

fn assert_no_control(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "a control character reaches the message: {message:?}"
    );
}

/// Values under secret names, at any depth, never reach the message.
fn secrets_stay_out(v: &Value) {
    let Ok(pe) = serde_json::from_value::<ProviderError>(v.clone()) else {
        return;
    };
    let mut secrets = Vec::new();
    collect_secrets(v, &mut secrets);
    let message = provider_error(&pe, Some(400), Operation::Refresh).message;
    for s in secrets.iter().filter(|s| s.len() >= 12) {
        let elsewhere = v.to_string().matches(s.as_str()).count() > 1;
        if !elsewhere {
            assert!(!message.contains(s.as_str()), "{s} in {message}");
            assert!(
                !pe.raw.to_string().contains(s.as_str()),
                "{s} in the raw answer kept"
            );
        }
    }
}

fn collect_secrets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                match val {
                    // `code` in an error answer is the error's code (`{"code": 401}`), read
                    // as such; the other secret names are secrets wherever they stand.
                    Value::String(s)
                        if tokendesk_core::redact::is_secret_name(k) && k != "code" =>
                    {
                        out.push(s.clone())
                    }
                    other => collect_secrets(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_secrets(i, out)),
        _ => {}
    }
}

/// An error object with a secret planted under a secret's name, beside or inside the error.
fn with_secret() -> impl Strategy<Value = Value> {
    (
        input::object(FIELDS),
        prop::sample::select(&["access_token", "refresh_token", "client_secret", "id_token"][..]),
        "SECRET-[A-Za-z0-9]{12}",
        any::<bool>(),
    )
        .prop_map(|(mut m, name, secret, nested)| {
            if nested {
                m.insert(
                    "error".into(),
                    json!({"code": "E1", "message": "no", name: secret}),
                );
            } else {
                m.insert(name.into(), Value::String(secret));
            }
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_error_body_text_or_bytes(bytes in input::json_bytes(FIELDS)) {
        body(&bytes);
    }

    #[test]
    fn any_error_object(m in input::object(FIELDS)) {
        body(Value::Object(m).to_string().as_bytes());
    }

    #[test]
    fn secrets_in_an_error_answer_stay_out_of_the_message(v in with_secret()) {
        body(v.to_string().as_bytes());
    }

    #[test]
    fn rfc6749_errors_keep_their_code_and_description(
        code in "[a-z_]{1,24}",
        description in input::text(),
        op in prop::sample::select(OPS),
    ) {
        let pe: ProviderError = serde_json::from_value(json!({"error": code, "error_description": description})).unwrap();
        prop_assert_eq!(&pe.error, &code);
        let e = provider_error(&pe, Some(400), op);
        prop_assert!(e.message.contains(&code));
        let expected = match code.as_str() {
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "invalid_scope" => ErrorCode::InvalidScope,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "invalid_target" => ErrorCode::InvalidTarget,
            "access_denied" => ErrorCode::AuthorizationDenied,
            _ => ErrorCode::ProviderError,
        };
        prop_assert_eq!(e.code, expected);
        assert_no_control(&e.message);
    }
}
