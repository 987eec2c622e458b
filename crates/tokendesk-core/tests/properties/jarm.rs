//! JARM responses (`response=<JWT>`): an altered or forged response JWT never validates; the
//! parameters read from one are its string and number claims, never `aud` or `exp`.

use jsonwebtoken::Algorithm;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use tokendesk_core::flow::jarm::{Expect, params, unverified_state, validate};

use crate::config::config;
use crate::id_token::{CLIENT, ISSUER, NOW, genuine_jwks, keys, sign};
use crate::input;

const CLAIMS: &[&str] = &["iss", "aud", "exp", "code", "state", "error", "iss", "iat"];

fn expect() -> Expect<'static> {
    Expect {
        issuer: ISSUER,
        client_id: CLIENT,
        client_secret: Some("app-secret-0123456789"),
        now: NOW,
        allowed_algs: &[],
    }
}

fn genuine() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        let claims = json!({"iss": ISSUER, "aud": CLIENT, "exp": NOW / 1000 + 60, "code": "c-1", "state": "s-1"});
        sign(Algorithm::RS256, "rsa-1", &claims, &keys().rsa)
    })
}

/// A response JWT: read without panicking; only the genuine one validates.
pub fn response(text: &str) {
    let v = validate(text, Some(&genuine_jwks()), &expect());
    assert!(
        !v.valid() || text == genuine(),
        "a forged JARM response validated"
    );
    let p = params(text);
    assert!(p.get("aud").is_none() && p.get("exp").is_none());
    let claims = tokendesk_core::inspect::decode_jwt(text)
        .map(|d| d.claims)
        .ok();
    let state = claims.as_ref().and_then(|c| c.get("state")?.as_str());
    assert_eq!(unverified_state(text).as_deref(), state);
}

#[test]
fn the_genuine_response_validates() {
    let v = validate(genuine(), Some(&genuine_jwks()), &expect());
    assert!(v.valid(), "{:?}", v.failures());
    assert_eq!(params(genuine()).get("code"), Some("c-1"));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_response_with_any_byte_changed_never_validates(
        at in any::<Index>(),
        c in prop_oneof![prop::char::range('!', '~'), any::<char>()],
        insert in any::<bool>(),
    ) {
        let mut chars: Vec<char> = genuine().chars().collect();
        let i = at.index(chars.len());
        if insert { chars.insert(i, c) } else { chars[i] = c }
        response(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn any_text_as_a_response(text in prop_oneof![
        input::text(),
        (input::object(CLAIMS), input::object(CLAIMS)).prop_map(|(h, c)| {
            use base64::Engine as _;
            let e = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", e(Value::Object(h)), e(Value::Object(c)))
        }),
    ]) {
        response(&text);
    }

    #[test]
    fn parameters_are_the_string_and_number_claims(claims in input::object(CLAIMS)) {
        let token = sign(Algorithm::RS256, "rsa-1", &Value::Object(claims.clone()), &keys().rsa);
        let p = params(&token);
        // As a JSON reader reads the claims back (serde_json reads a float's last digit loosely).
        let claims: serde_json::Map<String, Value> = serde_json::from_str(&Value::Object(claims).to_string()).unwrap();
        for (k, v) in &claims {
            let want = match v {
                _ if k == "aud" || k == "exp" => None,
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            prop_assert_eq!(p.get(k).map(str::to_owned), want, "{}", k);
        }
        response(&token);
    }
}
