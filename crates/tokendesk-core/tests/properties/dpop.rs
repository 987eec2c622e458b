//! DPoP: the `METHOD URL` targets the CLI and the agent take, a provider's request for a nonce
//! (a 400 `use_dpop_nonce` body, a 401 `WWW-Authenticate` challenge), and `htu`.

use http::{HeaderMap, HeaderValue, header::WWW_AUTHENTICATE};
use proptest::prelude::*;
use serde_json::Value;
use tokendesk_core::dpop::{asks_for_nonce, htu, parse_target};

use crate::config::config;
use crate::input;

/// A target: the method upper-cased and a URL, or an error that says what a target looks like.
pub fn target(text: &str) {
    match parse_target(text) {
        Ok((method, url)) => {
            assert!(!method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(url::Url::parse(&url).is_ok());
            assert!(text.contains(&url));
        }
        Err(e) => assert!(
            e.message.contains("METHOD") || e.message.contains("method"),
            "{}",
            e.message
        ),
    }
}

/// A 401 challenge: asks for a nonce exactly when its `error` parameter says `use_dpop_nonce`.
pub fn challenge(text: &str) {
    let Ok(value) = HeaderValue::from_str(text) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(WWW_AUTHENTICATE, value);
    let asks = asks_for_nonce(401, &headers, b"");
    if asks {
        assert!(text.contains("use_dpop_nonce"), "{text}");
    }
    for status in [200u16, 403, 500] {
        assert!(!asks_for_nonce(status, &headers, text.as_bytes()));
    }
}

/// A 400 body: asks for a nonce exactly when it is JSON with `error: use_dpop_nonce`.
pub fn nonce_body(bytes: &[u8]) {
    let want = serde_json::from_slice::<Value>(bytes)
        .ok()
        .is_some_and(|v| v.get("error").and_then(Value::as_str) == Some("use_dpop_nonce"));
    assert_eq!(asks_for_nonce(400, &HeaderMap::new(), bytes), want);
}

fn url_text() -> impl Strategy<Value = String> {
    "https?://[a-z0-9.-]{1,16}(:[0-9]{1,5})?(/[A-Za-z0-9%._~-]{0,8}){0,3}(\\?[a-z=&%0-9]{0,12})?(#[a-z0-9]{0,6})?"
}

/// A challenge's auth-params: `name=token` or `name="quoted, with \"escapes\""`.
fn param() -> impl Strategy<Value = String> {
    (
        "[a-z_]{1,12}",
        prop_oneof![
            "[A-Za-z0-9_.-]{0,16}",
            "[ -~]{0,24}".prop_map(|s| format!("{:?}", s)),
            Just("\"send use_dpop_nonce, error=use_dpop_nonce\"".to_owned()),
        ],
    )
        .prop_map(|(k, v)| format!("{k}={v}"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_a_target(text in prop_oneof![
        input::text(),
        ("[A-Za-z]{0,8}", "[ \\t]{0,3}", url_text()).prop_map(|(m, s, u)| format!("{m}{s}{u}")),
    ]) {
        target(&text);
    }

    #[test]
    fn a_method_and_url_round_trip(method in "[A-Za-z]{1,8}", url in url_text(), pad in "[ \\t]{0,3}") {
        prop_assume!(url::Url::parse(&url).is_ok());
        let (m, u) = parse_target(&format!("{pad}{method} {url}{pad}")).unwrap();
        prop_assert_eq!(m, method.to_ascii_uppercase());
        prop_assert_eq!(u, url);
    }

    #[test]
    fn any_challenge_text(text in prop_oneof![input::text(), "[ -~]{0,60}"]) {
        challenge(&text);
    }

    #[test]
    fn a_challenge_asks_for_a_nonce_only_when_its_error_says_so(
        scheme in prop::sample::select(&["DPoP", "dpop", "Bearer"][..]),
        before in prop::collection::vec(param(), 0..3),
        error in prop_oneof![Just("use_dpop_nonce".to_owned()), Just("invalid_token".to_owned()), "[a-z_]{1,16}"],
        quoted in any::<bool>(),
        after in prop::collection::vec(param(), 0..3),
    ) {
        prop_assume!(!before.iter().chain(&after).any(|p| p.starts_with("error=")));
        let error_param = if quoted { format!("error=\"{error}\"") } else { format!("error={error}") };
        let params: Vec<String> = before.iter().cloned().chain([error_param]).chain(after.iter().cloned()).collect();
        let text = format!("{scheme} {}", params.join(", "));
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_str(&text).unwrap());
        prop_assert_eq!(asks_for_nonce(401, &headers, b""), error == "use_dpop_nonce", "{}", text);
        challenge(&text);
    }

    #[test]
    fn any_400_body(bytes in input::json_bytes(&["error", "error_description"])) {
        nonce_body(&bytes);
    }

    #[test]
    fn htu_drops_query_and_fragment(url in prop_oneof![url_text(), input::text()]) {
        let h = htu(&url);
        if let Ok(u) = url::Url::parse(&url) {
            let parsed = url::Url::parse(&h).unwrap();
            prop_assert!(parsed.query().is_none() && parsed.fragment().is_none());
            if u.origin().is_tuple() {
                prop_assert_eq!(parsed.origin(), u.origin());
            }
            prop_assert_eq!(parsed.path(), u.path());
        } else {
            prop_assert!(!h.contains('?') && !h.contains('#'));
        }
    }
}
