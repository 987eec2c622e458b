//! The device authorization answer (RFC 8628 §3.2) and the polls' answers (§3.5).

use proptest::prelude::*;
use serde_json::json;
use tokendesk_core::ErrorCode;
use tokendesk_core::flow::device::{
    MAX_EXPIRES_SECS, MAX_INTERVAL_SECS, Poll, classify, read_authorization,
};
use tokendesk_core::http::LastResponse;

use crate::config::config;
use crate::input;

const FIELDS: &[&str] = &[
    "device_code",
    "user_code",
    "verification_uri",
    "verification_url",
    "verification_uri_complete",
    "expires_in",
    "interval",
    "error",
];

fn answer(status: u16, bytes: &[u8]) -> (oauth2::HttpResponse, LastResponse) {
    let response = http::Response::builder()
        .status(status)
        .body(bytes.to_vec())
        .unwrap();
    let last = LastResponse {
        status: Some(status),
        ..LastResponse::default()
    };
    (response, last)
}

/// A device authorization answer: codes and an http(s) address with a lifetime and interval
/// that fit a deadline, or an error naming what is missing; a poll's answer sorted, never a
/// panic.
pub fn authorization(bytes: &[u8]) {
    let (response, last) = answer(200, bytes);
    match read_authorization(&response, &last) {
        Ok(a) => {
            assert!((1..=MAX_EXPIRES_SECS).contains(&a.expires_in_secs));
            assert!((1..=MAX_INTERVAL_SECS).contains(&a.interval_secs));
            // What the core does with them: a deadline from now.
            let _ = std::time::Instant::now() + std::time::Duration::from_secs(a.expires_in_secs);
            assert!(a.verification_uri.starts_with("http"));
            assert!(!a.user_code.is_empty());
        }
        Err(e) => assert_eq!(e.code, ErrorCode::BadResponse, "{}", e.message),
    }
    for status in [200u16, 400] {
        let (response, last) = answer(status, bytes);
        if let Poll::Token(_) = classify(
            &response,
            &last,
            tokendesk_core::provider::hints::Operation::DeviceToken,
        ) {
            assert_eq!(status, 200, "a refusal is no token");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_device_answer(bytes in input::json_bytes(FIELDS)) {
        authorization(&bytes);
    }

    #[test]
    fn any_lifetime_and_interval(
        expires_in in input::value(FIELDS),
        interval in input::value(FIELDS),
    ) {
        let body = json!({
            "device_code": "dc-1", "user_code": "ABCD-EFGH",
            "verification_uri": "https://op.example/device",
            "expires_in": expires_in, "interval": interval,
        });
        authorization(body.to_string().as_bytes());
    }
}
