//! JWT decoding for display, and ID-token validation results (each check with its reason).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::clock::Millis;
use crate::provider::lenient;

/// A JWT's header and claims, decoded without verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DecodedJwt {
    pub header: Value,
    pub claims: Value,
}

/// Decodes a compact JWS's header and claims. Errors say why the value is not a JWT.
pub fn decode_jwt(token: &str) -> Result<DecodedJwt, String> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() == 5 {
        return Err("an encrypted JWT (JWE): its claims cannot be read without the key".into());
    }
    if parts.len() != 3 {
        return Err("not a JWT (an opaque token)".into());
    }
    let part = |i: usize, what: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts[i].trim_end_matches('='))
            .map_err(|e| format!("the {what} is not base64url ({e})"))?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("the {what} is not JSON ({e})"))?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(format!("the {what} is not a JSON object"))
        }
    };
    Ok(DecodedJwt {
        header: part(0, "header")?,
        claims: part(1, "payload")?,
    })
}

/// One check of an ID token's validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// The result of validating an ID token: every check, passed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IdTokenValidation {
    pub checks: Vec<Check>,
}

impl IdTokenValidation {
    pub fn valid(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }
}

/// What an ID token is checked against.
pub struct IdTokenExpectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub now: Millis,
    /// Tolerated clock difference.
    pub leeway_ms: Millis,
}

/// Validates signature (against the JWKS), `iss`, `aud`, `exp` and `nonce`.
pub fn validate_id_token(
    token: &str,
    jwks: Option<&JwkSet>,
    expect: &IdTokenExpectations<'_>,
) -> IdTokenValidation {
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
            check("format", false, format!("The ID token is {e}."));
            return IdTokenValidation { checks };
        }
    };
    let (ok, detail) = verify_signature(token, &decoded.header, jwks);
    check("signature", ok, detail);

    let claims = &decoded.claims;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let iss_ok = iss.trim_end_matches('/') == expect.issuer.trim_end_matches('/');
    check(
        "iss",
        iss_ok,
        if iss_ok {
            format!("Issued by {iss}.")
        } else {
            format!("iss is \"{iss}\", expected \"{}\".", expect.issuer)
        },
    );

    let aud: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let aud_ok = aud.iter().any(|a| a == expect.client_id);
    check(
        "aud",
        aud_ok,
        if aud_ok {
            format!("Audience includes the client id {}.", expect.client_id)
        } else {
            format!(
                "aud is {aud:?}, which does not include the client id \"{}\".",
                expect.client_id
            )
        },
    );

    match claims.get("exp").and_then(lenient::epoch_ms) {
        Some(exp) if exp + expect.leeway_ms > expect.now => check(
            "exp",
            true,
            format!("Valid for {} more seconds.", (exp - expect.now) / 1000),
        ),
        Some(exp) => check(
            "exp",
            false,
            format!(
                "Expired {} seconds ago. If it was just issued, this machine's clock or the \
                 provider's is off.",
                (expect.now - exp) / 1000
            ),
        ),
        None => check("exp", false, "The ID token has no exp claim.".into()),
    }

    if let Some(expected) = expect.nonce {
        let got = claims.get("nonce").and_then(Value::as_str);
        let ok = got == Some(expected);
        check(
            "nonce",
            ok,
            match got {
                _ if ok => "Matches the nonce sent with the authorization request.".into(),
                Some(_) => "Does not match the nonce sent: the response may be replayed.".into(),
                None => "The ID token has no nonce, though one was sent.".into(),
            },
        );
    }
    IdTokenValidation { checks }
}

fn verify_signature(token: &str, header: &Value, jwks: Option<&JwkSet>) -> (bool, String) {
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg_name.eq_ignore_ascii_case("none") {
        return (false, "The ID token is unsigned (alg none).".into());
    }
    let Ok(alg) = alg_name.parse::<Algorithm>() else {
        return (
            false,
            format!("Unsupported signing algorithm \"{alg_name}\"."),
        );
    };
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return (
            false,
            format!(
                "Signed with {alg_name} (the client secret); only JWKS-signed tokens are verified here."
            ),
        );
    }
    let Some(jwks) = jwks else {
        return (
            false,
            "No JWKS to verify against: set the JWKS URI or an issuer.".into(),
        );
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<_> = jwks
        .keys
        .iter()
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .collect();
    if candidates.is_empty() {
        return (
            false,
            format!(
                "No key with kid {:?} in the provider's JWKS; the keys may have rotated.",
                kid.unwrap_or("")
            ),
        );
    }
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut last_err = String::new();
    for jwk in candidates {
        match DecodingKey::from_jwk(jwk)
            .and_then(|key| jsonwebtoken::decode::<Value>(token, &key, &validation))
        {
            Ok(_) => {
                return (
                    true,
                    format!(
                        "{alg_name} signature verified with key {}.",
                        jwk.common.key_id.as_deref().unwrap_or("(no kid)")
                    ),
                );
            }
            Err(e) => last_err = e.to_string(),
        }
    }
    (false, format!("The signature does not verify: {last_err}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn decodes_header_and_claims_and_names_non_jwts() {
        let t = jwt(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"sub":"alice","exp":1700000000}"#,
        );
        let d = decode_jwt(&t).unwrap();
        assert_eq!(d.header["kid"], "k1");
        assert_eq!(d.claims["sub"], "alice");
        assert!(decode_jwt("opaque-token").unwrap_err().contains("opaque"));
        assert!(decode_jwt("a.b.c.d.e").unwrap_err().contains("encrypted"));
        assert!(
            decode_jwt("e30.bm90anNvbg.x")
                .unwrap_err()
                .contains("payload is not JSON")
        );
    }

    #[test]
    fn claim_checks_report_each_failure() {
        let t = jwt(
            r#"{"alg":"none"}"#,
            r#"{"iss":"https://evil","aud":["other"],"exp":100,"nonce":"n2"}"#,
        );
        let v = validate_id_token(
            &t,
            None,
            &IdTokenExpectations {
                issuer: "https://op",
                client_id: "app",
                nonce: Some("n1"),
                now: 200_000,
                leeway_ms: 0,
            },
        );
        let failed: Vec<_> = v.failures().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(failed, ["signature", "iss", "aud", "exp", "nonce"]);
        assert!(!v.valid());
    }

    #[test]
    fn good_claims_pass() {
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://op/","aud":"app","exp":1000,"nonce":"n"}"#,
        );
        let v = validate_id_token(
            &t,
            None,
            &IdTokenExpectations {
                issuer: "https://op",
                client_id: "app",
                nonce: Some("n"),
                now: 500_000,
                leeway_ms: 0,
            },
        );
        let failed: Vec<_> = v.failures().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            failed,
            ["signature"],
            "only the signature fails without a JWKS"
        );
    }
}
