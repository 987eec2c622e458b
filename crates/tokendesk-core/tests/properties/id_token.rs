//! ID-token validation: real tokens signed with the test keys (`src/flow/testdata/`), then
//! bytes, claims and header (`alg`, `kid`, `typ`) changed: a token whose signature fails never
//! validates; any claims, however odd, never panic, and a valid token's claims pass every check.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use tokendesk_core::id_token::{Channel, Expectations, validate};

use crate::config::config;
use crate::input;

const RSA_KEY: &str = include_str!("../../src/flow/testdata/rsa-2048.pem");
const RSA_PUB: &str = include_str!("../../src/flow/testdata/rsa-2048.pub.pem");
const EC_KEY: &str = include_str!("../../src/flow/testdata/ec-p256.pem");
pub const NOW: i64 = 1_700_000_000_000;
pub const ISSUER: &str = "https://op.example";
pub const CLIENT: &str = "app";
const SECRET: &str = "app-secret-0123456789";
const CLAIMS: &[&str] = &[
    "iss", "sub", "aud", "exp", "iat", "nonce", "azp", "at_hash", "c_hash", "s_hash", "acr",
];

pub struct Keys {
    pub rsa: EncodingKey,
    pub ec: EncodingKey,
    pub rs256_token: String,
    pub ps256_token: String,
    pub es256_token: String,
}

/// The test keys and one genuine token per algorithm, made once.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rsa = EncodingKey::from_rsa_pem(RSA_KEY.as_bytes()).unwrap();
        let ec = EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap();
        let claims = genuine_claims();
        Keys {
            rs256_token: sign(Algorithm::RS256, "rsa-1", &claims, &rsa),
            ps256_token: sign(Algorithm::PS256, "rsa-1", &claims, &rsa),
            es256_token: sign(Algorithm::ES256, "ec-1", &claims, &ec),
            rsa,
            ec,
        }
    })
}

pub fn genuine_claims() -> Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "alice", "nonce": "n-1",
        "exp": NOW / 1000 + 600, "iat": NOW / 1000,
    })
}

pub fn sign(alg: Algorithm, kid: &str, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// The provider's JWKS: the RSA key (`rsa-1`) and the EC key (`ec-1`).
pub fn genuine_jwks() -> JwkSet {
    let k = keys();
    let mut rsa = Jwk::from_encoding_key(&k.rsa, Algorithm::RS256).unwrap();
    rsa.common.key_id = Some("rsa-1".into());
    rsa.common.key_algorithm = None;
    let mut ec = Jwk::from_encoding_key(&k.ec, Algorithm::ES256).unwrap();
    ec.common.key_id = Some("ec-1".into());
    JwkSet {
        keys: vec![rsa, ec],
    }
}

fn jwks() -> &'static JwkSet {
    static JWKS: OnceLock<JwkSet> = OnceLock::new();
    JWKS.get_or_init(genuine_jwks)
}

pub fn expectations() -> Expectations<'static> {
    Expectations {
        issuer: ISSUER,
        issuer_alias: None,
        client_id: CLIENT,
        nonce: Some("n-1"),
        now: NOW,
        leeway_ms: 60_000,
        channel: Channel::TokenEndpoint,
        client_secret: Some(SECRET),
        expected_alg: None,
        allowed_algs: &[],
        access_token: None,
        code: None,
        state: None,
        subject: None,
        requested_claims: None,
    }
}

fn genuine(i: usize) -> &'static str {
    let k = keys();
    [&k.rs256_token, &k.ps256_token, &k.es256_token][i % 3]
}

/// A token nobody but the provider signed (a forgery or an altered genuine token) never
/// validates, whatever expectations of the algorithm the profile has.
pub fn forged(text: &str) {
    // (A profile that registered `none` accepts unsigned tokens by design: not a forgery.)
    for expected_alg in [None, Some("RS256"), Some("PS256")] {
        let expect = Expectations {
            expected_alg,
            ..expectations()
        };
        let v = validate(text, Some(jwks()), &expect);
        assert!(
            !v.valid(),
            "a forged token validated ({expected_alg:?}): {v:?}"
        );
    }
}

fn segments(token: &str) -> (String, String, String) {
    let mut parts = token.split('.').map(str::to_owned);
    (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    )
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// An ASCII or any character put in, replacing, or taking out one at `at`.
fn mutate(token: &str, at: Index, how: u8, c: char) -> String {
    let chars: Vec<char> = token.chars().collect();
    let i = at.index(chars.len());
    let mut out = chars.clone();
    match how % 3 {
        0 => out[i] = c,
        1 => out.insert(i, c),
        _ => {
            out.remove(i);
        }
    }
    out.into_iter().collect()
}

#[test]
fn genuine_tokens_validate() {
    for i in 0..3 {
        let v = validate(genuine(i), Some(jwks()), &expectations());
        assert!(v.valid(), "{:?}", v.failures());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_token_with_any_byte_changed_never_validates(
        which in 0usize..3,
        at in any::<Index>(),
        how in any::<u8>(),
        c in prop_oneof![prop::char::range('!', '~'), any::<char>()],
    ) {
        let token = genuine(which);
        let changed = mutate(token, at, how, c);
        if changed != token {
            forged(&changed);
        }
    }

    #[test]
    fn a_token_with_its_claims_changed_never_validates(
        which in 0usize..3,
        claim in input::key(CLAIMS),
        value in prop_oneof![Just(None), input::value(CLAIMS).prop_map(Some)],
    ) {
        let token = genuine(which);
        let (h, p, s) = segments(token);
        let mut claims = genuine_claims();
        match value {
            Some(v) => { claims[claim.as_str()] = v; }
            None => { claims.as_object_mut().unwrap().remove(&claim); }
        }
        let payload = b64(&claims);
        if payload != p {
            forged(&format!("{h}.{payload}.{s}"));
        }
    }

    #[test]
    fn a_token_with_its_header_changed_never_validates(
        which in 0usize..3,
        alg in prop_oneof![
            prop::sample::select(&["none", "None", "NONE", "HS256", "HS512", "RS256", "RS384", "PS256", "ES256", "ES384", "EdDSA", ""][..]).prop_map(Value::from),
            input::leaf(),
        ],
        kid in prop_oneof![Just(None), prop::sample::select(&["rsa-1", "ec-1", "other", ""][..]).prop_map(|s| Some(Value::from(s))), input::leaf().prop_map(Some)],
        typ in prop_oneof![Just(None), prop::sample::select(&["JWT", "at+jwt", "dpop+jwt", "JWE"][..]).prop_map(|s| Some(Value::from(s)))],
        signature in prop_oneof![Just(None), Just(Some(String::new())), "[A-Za-z0-9_-]{0,400}".prop_map(Some)],
    ) {
        let token = genuine(which);
        let (h, p, s) = segments(token);
        let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&h).unwrap()).unwrap();
        header["alg"] = alg;
        if let Some(k) = kid { header["kid"] = k; }
        if let Some(t) = typ { header["typ"] = t; }
        let new_h = b64(&header);
        let sig = signature.unwrap_or(s.clone());
        let changed = format!("{new_h}.{p}.{sig}");
        if changed != token {
            forged(&changed);
        }
    }

    #[test]
    fn a_token_signed_with_the_public_key_as_hmac_secret_never_validates(
        alg in prop::sample::select(&[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512][..]),
        secret_kind in 0usize..3,
        kid in prop::sample::select(&["rsa-1", "ec-1"][..]),
    ) {
        let n = serde_json::to_value(&genuine_jwks().keys[0]).unwrap()["n"].as_str().unwrap().to_owned();
        let secret: Vec<u8> = match secret_kind {
            0 => RSA_PUB.as_bytes().to_vec(),
            1 => n.into_bytes(),
            _ => Vec::new(),
        };
        let token = sign(alg, kid, &genuine_claims(), &EncodingKey::from_secret(&secret));
        forged(&token);
    }

    #[test]
    fn any_claims_signed_by_the_provider_never_panic_and_a_valid_token_passes_every_check(
        claims in prop_oneof![
            input::object(CLAIMS).prop_map(Value::Object),
            (input::key(CLAIMS), input::value(CLAIMS)).prop_map(|(k, v)| { let mut c = genuine_claims(); c[k.as_str()] = v; c }),
        ],
    ) {
        let token = sign(Algorithm::RS256, "rsa-1", &claims, &keys().rsa);
        let v = validate(&token, Some(jwks()), &expectations());
        if v.valid() {
            prop_assert_eq!(claims["iss"].as_str(), Some(ISSUER));
            let aud_ok = claims["aud"] == CLIENT || claims["aud"].as_array().is_some_and(|a| a.contains(&Value::from(CLIENT)));
            prop_assert!(aud_ok, "aud {}", claims["aud"]);
            prop_assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
            prop_assert_eq!(claims["nonce"].as_str(), Some("n-1"));
            let exp = tokendesk_core::provider::lenient::epoch_ms(&claims["exp"]).expect("exp");
            prop_assert!(exp.saturating_add(60_000) > NOW);
        }
    }
}
