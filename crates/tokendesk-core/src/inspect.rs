//! JWT decoding for display, and ID-token validation results (each check with its reason;
//! the checks themselves are in [`crate::id_token`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

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
        if !v.is_object() {
            return Err(format!("the {what} is not a JSON object"));
        }
        // A claim (or header parameter) named twice: refused rather than read last-wins.
        crate::json_object::unique(&bytes)
            .map(Value::Object)
            .map_err(|e| format!("the {what} is ambiguous: {e}"))
    };
    Ok(DecodedJwt {
        header: part(0, "header")?,
        claims: part(1, "payload")?,
    })
}

/// The `sub` of a JWT, when it is one and names one.
pub fn subject(token: &str) -> Option<String> {
    decode_jwt(token)
        .ok()?
        .claims
        .get("sub")?
        .as_str()
        .map(str::to_owned)
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

/// A JWT with the given header and claims and a dummy signature, for tests.
#[cfg(test)]
pub(crate) fn test_jwt(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

#[cfg(test)]
mod tests {
    use super::test_jwt as jwt;
    use super::*;

    #[test]
    fn a_claim_or_header_parameter_named_twice_is_refused() {
        let e = decode_jwt(&jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"sub":"alice","sub":"mallory"}"#,
        ))
        .unwrap_err();
        assert!(
            e.contains("payload is ambiguous") && e.contains("sub appears twice"),
            "{e}"
        );
        let e = decode_jwt(&jwt(r#"{"alg":"RS256","alg":"none"}"#, r#"{"sub":"a"}"#)).unwrap_err();
        assert!(e.contains("header is ambiguous"), "{e}");
        assert_eq!(
            decode_jwt(&jwt(r#"{"alg":"RS256"}"#, "[1]")).unwrap_err(),
            "the payload is not a JSON object"
        );
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
}
