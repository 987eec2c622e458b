//! JWT-secured authorization responses (JARM): the provider signs the authorization response
//! (`response=<JWT>` with `response_mode=jwt`, `query.jwt`, `fragment.jwt` or `form_post.jwt`),
//! so `code` and `state` are read only from a token whose signature, `iss`, `aud` and `exp`
//! pass — a forged or replayed redirect redeems nothing.

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::id_token::{self, Channel, Expectations};
use crate::inspect::{Check, IdTokenValidation, decode_jwt};
use crate::loopback::Callback;
use crate::profile::Profile;

/// Tolerated clock difference on `exp`.
const LEEWAY_MS: Millis = 60_000;

/// Whether the profile asks for signed authorization responses: the JARM switch, or a
/// `response_mode` ending in `jwt` among its extra parameters.
pub fn wanted(profile: &Profile) -> bool {
    profile.config.jarm
        || profile
            .config
            .authorize_params
            .iter()
            .any(|p| p.name == "response_mode" && p.value.trim().ends_with("jwt"))
}

/// The `response_mode` to send: the profile's own when it gives one, else `jwt` (the provider
/// picks `query.jwt` or `fragment.jwt` by response type).
pub fn response_mode(profile: &Profile) -> Option<&'static str> {
    let own = profile
        .config
        .authorize_params
        .iter()
        .any(|p| p.name == "response_mode");
    (profile.config.jarm && !own).then_some("jwt")
}

/// What the response token is checked against.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub now: Millis,
    /// The signing algorithms allowed (FAPI 2.0's in that mode); empty: any.
    pub allowed_algs: &'a [&'a str],
}

/// Checks the response JWT: signature (provider JWKS, or the client secret for HS*), `iss`,
/// `aud`, `exp`. Every check is reported.
pub fn validate(token: &str, jwks: Option<&JwkSet>, expect: &Expect<'_>) -> IdTokenValidation {
    let mut checks = Vec::new();
    let mut check = |name: &str, ok: bool, detail: String| {
        checks.push(Check {
            name: name.to_owned(),
            ok,
            detail,
        })
    };
    let decoded = match decode_jwt(token) {
        Ok(d) => d,
        Err(e) => {
            check(
                "format",
                false,
                format!(
                    "The signed authorization response cannot be read: {e}. Encrypted (JWE) \
                     responses are not supported: register the client for a signed-only \
                     authorization_signed_response_alg."
                ),
            );
            return IdTokenValidation { checks };
        }
    };
    let alg = decoded
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (ok, detail) = if alg.eq_ignore_ascii_case("none") || alg.is_empty() {
        (
            false,
            "The authorization response is unsigned (alg none): JARM responses must be signed."
                .to_owned(),
        )
    } else {
        id_token::verify_signature(
            token,
            alg,
            &decoded.header,
            jwks,
            &Expectations {
                issuer: expect.issuer,
                issuer_alias: None,
                client_id: expect.client_id,
                nonce: None,
                now: expect.now,
                leeway_ms: LEEWAY_MS,
                channel: Channel::FrontChannel,
                client_secret: expect.client_secret,
                expected_alg: None,
                allowed_algs: expect.allowed_algs,
                access_token: None,
                code: None,
                state: None,
                subject: None,
                requested_claims: None,
            },
        )
    };
    check("signature", ok, detail);
    let claims = &decoded.claims;
    let what = "The signed response";
    let (ok, detail) = id_token::issuer_check(claims, expect.issuer, None, what);
    check("iss", ok, detail);
    let (ok, detail, _) = id_token::audience_check(claims, expect.client_id, what);
    check("aud", ok, detail);
    let (ok, detail) = id_token::expiry_check(claims, expect.now, LEEWAY_MS, what);
    check("exp", ok, detail);
    IdTokenValidation { checks }
}

/// The response's parameters (`code`, `state`, `iss`, `error`…) from a token that passed.
pub fn params(token: &str) -> Callback {
    let claims = decode_jwt(token).map(|d| d.claims).unwrap_or_default();
    let params = claims
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "aud" | "exp"))
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            _ => None,
        })
        .collect();
    Callback { params }
}

/// The `state` inside a response JWT, before any check: only to tell which sign-in it is for.
pub fn unverified_state(token: &str) -> Option<String> {
    decode_jwt(token)
        .ok()?
        .claims
        .get("state")?
        .as_str()
        .map(str::to_owned)
}

/// A plain (unsigned) response where a signed one was asked for.
pub fn downgraded() -> Error {
    Error::new(
        ErrorCode::CheckFailed,
        "The sign-in asked for a signed authorization response (JARM), but the answer is plain \
         parameters with no response JWT. It was not trusted and the code was not used: a \
         forged redirect looks like this. Check that the provider supports JARM for this client \
         (response_modes_supported), or turn JARM off in the profile.",
    )
}

/// The one decision on a signed response: every failed check named, nothing redeemed.
pub fn require_valid(validation: &IdTokenValidation) -> Result<()> {
    if validation.valid() {
        return Ok(());
    }
    let failed: Vec<String> = validation
        .failures()
        .iter()
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    let mut e = Error::new(
        ErrorCode::CheckFailed,
        format!(
            "The signed authorization response (JARM) did not pass its checks, so its code was \
             not used. {}",
            failed.join(" ")
        ),
    );
    e.checks = validation.checks.clone();
    Err(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    const RSA_KEY: &str = include_str!("testdata/rsa-2048.pem");
    const EC_KEY: &str = include_str!("testdata/ec-p256.pem");
    const NOW: Millis = 1_700_000_000_000;

    fn jwks() -> JwkSet {
        let key = EncodingKey::from_rsa_pem(RSA_KEY.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some("op-1".into());
        JwkSet { keys: vec![jwk] }
    }

    fn signed(claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("op-1".into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_rsa_pem(RSA_KEY.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn good() -> serde_json::Value {
        json!({
            "iss": "https://op.example", "aud": "app", "exp": NOW / 1000 + 60,
            "code": "c-1", "state": "s-1",
        })
    }

    fn check(token: &str) -> IdTokenValidation {
        validate(
            token,
            Some(&jwks()),
            &Expect {
                issuer: "https://op.example",
                client_id: "app",
                client_secret: None,
                now: NOW,
                allowed_algs: &[],
            },
        )
    }

    fn failed(v: &IdTokenValidation) -> Vec<String> {
        v.failures().iter().map(|c| c.name.clone()).collect()
    }

    #[test]
    fn a_signed_response_for_this_client_passes_and_opens() {
        let token = signed(good());
        let v = check(&token);
        assert!(v.valid(), "{:?}", v.checks);
        let p = params(&token);
        assert_eq!(p.get("code"), Some("c-1"));
        assert_eq!(p.get("state"), Some("s-1"));
        assert_eq!(p.get("iss"), Some("https://op.example"));
        assert_eq!(unverified_state(&token).as_deref(), Some("s-1"));
        assert!(require_valid(&v).is_ok());
    }

    #[test]
    fn another_audience_issuer_or_an_old_response_fails_by_name() {
        for (field, value, name) in [
            ("aud", json!("other-app"), "aud"),
            ("iss", json!("https://evil.example"), "iss"),
            ("exp", json!(NOW / 1000 - 120), "exp"),
        ] {
            let mut claims = good();
            claims[field] = value;
            let v = check(&signed(claims));
            assert_eq!(failed(&v), vec![name.to_owned()], "{field}");
            let e = require_valid(&v).unwrap_err();
            assert_eq!(e.code, ErrorCode::CheckFailed);
            assert!(e.message.contains("code was not used"), "{}", e.message);
        }
    }

    #[test]
    fn a_forged_unsigned_or_foreign_signed_response_fails_its_signature() {
        let token = signed(good());
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.rsplit_once('.').unwrap();
        let forged_body = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            json!({"iss": "https://op.example", "aud": "app", "exp": NOW / 1000 + 60, "code": "evil", "state": "s-1"}).to_string(),
        );
        let forged = format!("{head}.{forged_body}.{sig}");
        assert_eq!(failed(&check(&forged)), vec!["signature"]);
        let unsigned = format!(
            "{}.{forged_body}.",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                r#"{"alg":"none"}"#
            )
        );
        assert_eq!(failed(&check(&unsigned)), vec!["signature"]);
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("op-1".into());
        let other = jsonwebtoken::encode(
            &header,
            &good(),
            &EncodingKey::from_ec_pem(EC_KEY.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(failed(&check(&other)), vec!["signature"]);
        assert!(failed(&check("not-a-jwt")).contains(&"format".to_owned()));
    }
}
