//! Token responses: JSON and form-encoded bodies, every standard field with odd types, the
//! bank-gateway fields (`status`, `refresh_count`, `refresh_token_expires_in`,
//! `refresh_token_issued_at`), and the token set built from them.

use oauth2::TokenResponse as _;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tokendesk_core::http::{LastResponse, form_as_json};
use tokendesk_core::profile::{GrantKind, ProfileId};
use tokendesk_core::provider::hints::{Operation, token_answer};
use tokendesk_core::provider::lenient;
use tokendesk_core::provider::response::TokenResponse;
use tokendesk_core::token::TokenSet;

use crate::config::config;
use crate::input;

pub const FIELDS: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
    "refresh_token_expires_in",
    "expires_at",
    "refresh_token_expires_at",
    "status",
    "refresh_count",
    "refresh_token_issued_at",
    "issued_at",
    "client_id",
    "api_product_list",
    "issued_token_type",
];

const NOW: i64 = 1_700_000_000_000;

/// A parsed token response keeps every member as sent, and the token set built from it never
/// panics and never puts an expiry before `now` for a positive lifetime. A refused one names
/// the member that is wrong.
pub fn object(input: &Map<String, Value>) {
    match serde_json::from_value::<TokenResponse>(Value::Object(input.clone())) {
        Ok(r) => {
            let sent = input.get("access_token").and_then(Value::as_str);
            assert_eq!(sent, Some(r.access_token().secret().as_str()));
            assert!(!r.access_token().secret().is_empty());
            for (k, v) in input {
                assert_eq!(r.raw_field(k), Some(v), "member {k} kept as sent");
            }
            let safe = r.raw_redacted();
            assert_eq!(safe["access_token"], "<redacted>");
            let set = TokenSet::from_response(
                ProfileId::from("p"),
                GrantKind::AuthorizationCode,
                &r,
                NOW,
                None,
            );
            if let Some(n) = input.get("expires_in").and_then(lenient::number)
                && n > 0.0
            {
                let at = set.access_expires_at.expect("a lifetime gives an expiry");
                assert!(at >= NOW, "expires_in {n} gave an expiry before now: {at}");
            }
            let refresh_sent = input
                .get("refresh_token")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            assert_eq!(set.refresh.is_some(), refresh_sent);
            if refresh_sent
                && let Some(n) = input
                    .get("refresh_token_expires_in")
                    .and_then(lenient::number)
            {
                let at = set.refresh_expires_at.expect("a lifetime gives an expiry");
                assert!(at >= NOW, "refresh_token_expires_in {n} gave {at}");
            }
            assert_eq!(
                set.refresh_count,
                input.get("refresh_count").and_then(lenient::integer)
            );
            let status = match input.get("status") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            };
            assert_eq!(set.status, status);
            assert_eq!(
                set.token_type,
                input
                    .get("token_type")
                    .and_then(Value::as_str)
                    .unwrap_or("Bearer")
            );
            let _ = r.expiry_problem(NOW);
        }
        Err(e) => {
            let e = e.to_string();
            assert!(
                FIELDS.iter().any(|f| e.contains(f)),
                "the error names the member: {e}"
            );
        }
    }
}

/// A 200 answer's body, read as the token endpoint's: a token (then as [`object`]) or a
/// bad-response error that never repeats the access token.
pub fn body(bytes: &[u8]) {
    let response = http::Response::builder()
        .status(200)
        .body(bytes.to_vec())
        .unwrap();
    let last = LastResponse {
        status: Some(200),
        content_type: Some("application/json".into()),
        ..LastResponse::default()
    };
    match token_answer(&response, &last, Operation::CodeExchange) {
        Ok(r) => {
            let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(bytes) else {
                panic!("a token from a body that is not a JSON object");
            };
            // The token and the raw fields agree (a repeated member is refused before this).
            assert_eq!(
                r.raw_field("access_token").and_then(Value::as_str),
                Some(r.access_token().secret().as_str())
            );
            object(&input);
        }
        Err(e) => {
            assert_eq!(
                e.code,
                tokendesk_core::ErrorCode::BadResponse,
                "{}",
                e.message
            );
            let token = serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| v.get("access_token")?.as_str().map(str::to_owned))
                .filter(|t| {
                    t.len() >= 8 && String::from_utf8_lossy(bytes).matches(t.as_str()).count() == 1
                });
            if let Some(t) = token {
                assert!(
                    !e.message.contains(&t),
                    "the error repeats the token: {}",
                    e.message
                );
            }
        }
    }
}

/// A form-encoded body: read as a JSON object of strings (the last of repeated names), or not
/// at all when it is not one; either way never a panic.
pub fn form(bytes: &[u8]) {
    let Some(json) = form_as_json(bytes) else {
        let text = std::str::from_utf8(bytes).map(str::trim);
        assert!(
            text.is_err()
                || text.is_ok_and(|t| t.is_empty()
                    || !t.contains('=')
                    || t.starts_with('{')
                    || t.starts_with('<')),
            "a form body was not read"
        );
        return;
    };
    let map: Map<String, Value> = serde_json::from_slice(&json).expect("JSON object");
    let mut want = Map::new();
    for (k, v) in url::form_urlencoded::parse(std::str::from_utf8(bytes).unwrap().trim().as_bytes())
    {
        want.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    assert_eq!(map, want);
    body(&json);
}

fn gateway(
    expires_in: u32,
    refresh_in: u32,
    count: u32,
    status: &str,
    issued_at: u64,
    as_strings: bool,
) -> Value {
    let n = |x: u64| {
        if as_strings {
            json!(x.to_string())
        } else {
            json!(x)
        }
    };
    json!({
        "access_token": "AT-gateway-0001", "token_type": "BearerToken",
        "expires_in": n(expires_in.into()), "refresh_token": "RT-gateway-0001",
        "refresh_token_expires_in": n(refresh_in.into()), "refresh_count": n(count.into()),
        "status": status, "refresh_token_issued_at": n(issued_at), "issued_at": n(issued_at),
        "api_product_list": "[psd2-accounts]", "scope": "",
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_json_object_is_read_or_refused_naming_the_member(input in input::object(FIELDS)) {
        object(&input);
    }

    #[test]
    fn every_standard_field_with_an_odd_type(
        (input, _field) in input::with_odd_field(
            Map::from_iter([("access_token".to_owned(), json!("AT-odd-000000001"))]),
            FIELDS,
        )
    ) {
        object(&input);
    }

    #[test]
    fn any_body_text_or_bytes(bytes in input::json_bytes(FIELDS)) {
        body(&bytes);
    }

    #[test]
    fn any_form_body(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        input::text().prop_map(String::into_bytes),
    ]) {
        form(&bytes);
    }

    #[test]
    fn form_pairs_round_trip(pairs in prop::collection::vec((input::key(FIELDS), input::text()), 1..8)) {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            s.append_pair(k, v);
        }
        let text = s.finish();
        form(text.as_bytes());
        if let Some(json) = form_as_json(text.as_bytes()) {
            let map: Map<String, Value> = serde_json::from_slice(&json).unwrap();
            for (k, v) in &pairs {
                let last = pairs.iter().rev().find(|(k2, _)| k2 == k).unwrap();
                prop_assert_eq!(&map[k.as_str()], &Value::String(last.1.clone()), "{} = {}", k, v);
            }
        }
    }

    #[test]
    fn gateway_fields_are_read_as_numbers_whether_sent_as_numbers_or_strings(
        expires_in in 1u32..10_000_000,
        refresh_in in 0u32..10_000_000,
        count in any::<u32>(),
        status in prop_oneof![Just("approved".to_owned()), Just("revoked".to_owned()), input::text()],
        issued_at in any::<u64>(),
        as_strings in any::<bool>(),
    ) {
        let v = gateway(expires_in, refresh_in, count, &status, issued_at, as_strings);
        let r: TokenResponse = serde_json::from_value(v.clone()).unwrap();
        let set = TokenSet::from_response(ProfileId::from("p"), GrantKind::ClientCredentials, &r, NOW, None);
        prop_assert_eq!(set.access_expires_at, Some(NOW + i64::from(expires_in) * 1000));
        prop_assert_eq!(set.refresh_expires_at, Some(NOW + i64::from(refresh_in) * 1000));
        prop_assert_eq!(set.refresh_count, Some(i64::from(count)));
        prop_assert_eq!(set.status.as_deref(), Some(status.as_str()));
        prop_assert_eq!(&set.raw["refresh_token_issued_at"], &v["refresh_token_issued_at"]);
        prop_assert_eq!(set.token_type.as_str(), "BearerToken");
        object(v.as_object().unwrap());
    }
}
