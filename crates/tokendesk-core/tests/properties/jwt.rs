//! JWT decoding for display (`decode_jwt`, `subject`) and JWKS documents.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use proptest::prelude::*;
use serde_json::Value;
use tokendesk_core::id_token;
use tokendesk_core::inspect::{decode_jwt, subject};

use crate::config::config;
use crate::id_token::{expectations, genuine_jwks, keys};
use crate::input;

const CLAIMS: &[&str] = &[
    "iss", "sub", "aud", "exp", "iat", "nonce", "azp", "cnf", "jkt",
];
const JWK_FIELDS: &[&str] = &[
    "keys", "kty", "kid", "use", "alg", "n", "e", "crv", "x", "y", "d", "key_ops", "x5c", "x5t",
];

/// Any text as a JWT: its header and claims (objects both) or a reason, never a panic.
pub fn decode(text: &str) {
    match decode_jwt(text) {
        Ok(d) => {
            assert!(d.header.is_object() && d.claims.is_object());
            assert_eq!(text.trim().split('.').count(), 3);
            assert_eq!(
                subject(text),
                d.claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            );
        }
        Err(why) => {
            assert!(!why.is_empty());
            assert!(subject(text).is_none());
        }
    }
}

/// A JWKS document: read or not, never a panic; the genuine token verifies with it only when
/// it holds the genuine key.
pub fn jwks(bytes: &[u8]) {
    let Ok(set) = serde_json::from_slice::<JwkSet>(bytes) else {
        return;
    };
    for jwk in &set.keys {
        let _ = jsonwebtoken::DecodingKey::from_jwk(jwk);
    }
    let genuine = genuine_jwks();
    let holds_genuine = set
        .keys
        .iter()
        .any(|k| genuine.keys.iter().any(|g| g.algorithm == k.algorithm));
    let token = &keys().rs256_token;
    let v = id_token::validate(token, Some(&set), &expectations());
    if v.valid() {
        assert!(
            holds_genuine,
            "verified with a key that is not the provider's"
        );
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_a_jwt(text in prop_oneof![
        input::text(),
        (input::text(), input::text(), input::text()).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        (input::value(CLAIMS), input::value(CLAIMS)).prop_map(|(h, c)| format!("{}.{}.sig", b64(&h), b64(&c))),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| format!("{}.{}.x", URL_SAFE_NO_PAD.encode(&b), URL_SAFE_NO_PAD.encode(&b))),
    ]) {
        decode(&text);
    }

    #[test]
    fn header_and_claims_round_trip(
        header in input::object(CLAIMS),
        claims in input::object(CLAIMS),
        padded in any::<bool>(),
    ) {
        let (h, c) = (Value::Object(header), Value::Object(claims));
        let pad = if padded { "=" } else { "" };
        let token = format!("{}{pad}.{}.sig", b64(&h), b64(&c));
        let d = decode_jwt(&token).unwrap();
        // As any JSON reader reads the text (serde_json reads a float's last digit loosely
        // without its float_roundtrip feature: 9.173294968420783e28 comes back …785e28).
        let read = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).unwrap();
        prop_assert_eq!(&d.header, &read(&h));
        prop_assert_eq!(&d.claims, &read(&c));
        decode(&token);
    }

    #[test]
    fn any_jwks_document(bytes in input::json_bytes(JWK_FIELDS)) {
        jwks(&bytes);
    }

    #[test]
    fn any_key_in_a_jwks(keys_ in prop::collection::vec(input::object(JWK_FIELDS), 0..4)) {
        let doc = serde_json::json!({"keys": keys_});
        jwks(doc.to_string().as_bytes());
    }

    #[test]
    fn a_genuine_jwks_with_one_member_changed_never_verifies_unless_unchanged(
        index in any::<prop::sample::Index>(),
        member in prop::sample::select(&["n", "e", "kty", "alg", "use", "kid", "crv", "x", "y"][..]),
        value in prop_oneof![input::leaf(), "[A-Za-z0-9_-]{1,400}".prop_map(Value::String)],
    ) {
        let mut doc = serde_json::to_value(genuine_jwks()).unwrap();
        let keys_ = doc["keys"].as_array_mut().unwrap();
        let i = index.index(keys_.len());
        let before = keys_[i].clone();
        keys_[i][member] = value;
        let changed = keys_[i] != before;
        let Ok(set) = serde_json::from_value::<JwkSet>(doc) else { return Ok(()); };
        let token = if before["kty"] == "RSA" { &keys().rs256_token } else { &keys().es256_token };
        let v = id_token::validate(token, Some(&set), &expectations());
        let material: &[&str] = if before["kty"] == "RSA" { &["n", "e", "kty"] } else { &["crv", "x", "y", "kty"] };
        let key_material_changed = changed && material.contains(&member);
        if key_material_changed {
            prop_assert!(!v.valid(), "verified with an altered key ({member})");
        }
    }
}
