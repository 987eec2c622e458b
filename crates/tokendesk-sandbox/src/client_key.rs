//! A demo client's RSA key pair, generated at every start — the bank's TPP key and the FAPI
//! issuer's client key: the private half (PKCS#8 PEM) goes to TokenDesk, the public half is what
//! the sandbox has registered for the client and verifies what it signs — PS256 only, as PSD2
//! banks and FAPI 2.0 ask.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::pkcs8::EncodePrivateKey;
use serde_json::{Map, Value};

use crate::Error;
use crate::keys;

/// Seconds a signed object may be past its `exp` (or before its `nbf`).
pub(crate) const LEEWAY_S: u64 = 5;

pub(crate) struct ClientKey {
    /// The `kid` the client's signatures may name.
    kid: &'static str,
    pem: String,
    public: DecodingKey,
}

impl ClientKey {
    /// A fresh key pair. CPU-heavy: call it off the async executor.
    pub(crate) fn generate(kid: &'static str) -> Result<ClientKey, Error> {
        let private = keys::generate_rsa()?;
        let der = private
            .to_pkcs8_der()
            .map_err(|e| Error::KeyGeneration(e.to_string()))?;
        let (n, e) = keys::components(private.as_ref());
        let public = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| Error::KeyGeneration(e.to_string()))?;
        Ok(ClientKey {
            kid,
            pem: pem("PRIVATE KEY", der.as_bytes()),
            public,
        })
    }

    /// The private key, PKCS#8 PEM.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// Verifies a compact JWS (a request object, an assertion) and returns its claims. The
    /// error completes "… the JWS …": "has a signature that does not verify …".
    pub(crate) fn verify(&self, jws: &str) -> Result<Map<String, Value>, String> {
        let parts: Vec<&str> = jws.trim().split('.').collect();
        let [header_b64, payload, signature] = parts[..] else {
            return Err("is not a compact JWS (three dot-separated parts)".into());
        };
        let header = protected_header(header_b64, self.kid)?;
        if header.get("b64") == Some(&Value::Bool(false)) {
            return Err("must not use \"b64\": false".into());
        }
        self.check_signature(signature, format!("{header_b64}.{payload}").as_bytes())?;
        let claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match claims {
            Some(Value::Object(claims)) => Ok(claims),
            _ => Err("has a payload that is not a JSON object".into()),
        }
    }

    /// Verifies a detached JWS (`header..signature`, RFC 7515 Appendix F) over `body`, the exact
    /// bytes sent; `"b64": false` (RFC 7797, listed in `crit`) signs them as they are.
    pub(crate) fn verify_detached(&self, jws: &str, body: &[u8]) -> Result<(), String> {
        let parts: Vec<&str> = jws.trim().split('.').collect();
        let [header_b64, payload, signature] = parts[..] else {
            return Err("is not a compact JWS (three dot-separated parts)".into());
        };
        if !payload.is_empty() {
            return Err("must be detached (header..signature), but carries a payload".into());
        }
        let header = protected_header(header_b64, self.kid)?;
        let unencoded = header.get("b64") == Some(&Value::Bool(false));
        let crit_b64 = header
            .get("crit")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|v| v == "b64"));
        if unencoded && !crit_b64 {
            return Err("has \"b64\": false without \"crit\": [\"b64\"]".into());
        }
        let mut input = format!("{header_b64}.").into_bytes();
        if unencoded {
            input.extend_from_slice(body);
        } else {
            input.extend_from_slice(URL_SAFE_NO_PAD.encode(body).as_bytes());
        }
        self.check_signature(signature, &input)
    }

    fn check_signature(&self, signature: &str, input: &[u8]) -> Result<(), String> {
        match jsonwebtoken::crypto::verify(signature, input, &self.public, Algorithm::PS256) {
            Ok(true) => Ok(()),
            _ => {
                Err("has a signature that does not verify with the client's registered key".into())
            }
        }
    }
}

/// The protected header, which must say PS256 and, if it names a key, the registered one.
fn protected_header(b64: &str, registered_kid: &str) -> Result<Map<String, Value>, String> {
    let header = URL_SAFE_NO_PAD
        .decode(b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let Some(Value::Object(header)) = header else {
        return Err("has a protected header that is not base64url JSON".into());
    };
    match header.get("alg").and_then(Value::as_str) {
        Some("PS256") => {}
        other => {
            return Err(format!(
                "must be signed PS256, the header says alg {}",
                other.unwrap_or("(none)")
            ));
        }
    }
    match header.get("kid") {
        None => {}
        Some(kid) if kid == registered_kid => {}
        Some(kid) => {
            return Err(format!(
                "names kid {kid}, which is not a registered key of the client ({registered_kid})"
            ));
        }
    }
    Ok(header)
}

/// Checks `exp` (required, not past) and `nbf` (if present, not future) of a verified JWT.
pub(crate) fn check_lifetime(claims: &Map<String, Value>, now_s: u64) -> Result<(), String> {
    let Some(exp) = claims.get("exp").and_then(Value::as_u64) else {
        return Err("has no exp".into());
    };
    if exp + LEEWAY_S <= now_s {
        return Err(format!("expired (exp {exp}, now {now_s})"));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_u64)
        && nbf > now_s + LEEWAY_S
    {
        return Err(format!("is not valid yet (nbf {nbf}, now {now_s})"));
    }
    Ok(())
}

/// `-----BEGIN {label}-----`, the DER in base64 lines of 64, `-----END {label}-----`.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const KID: &str = "test-client-rsa";

    fn sign(key: &ClientKey, header: &Header, claims: &Value) -> String {
        let encoding = EncodingKey::from_rsa_pem(key.pem().as_bytes()).expect("the PEM reads");
        jsonwebtoken::encode(header, claims, &encoding).expect("signs")
    }

    #[test]
    fn what_the_private_pem_signs_ps256_verifies_and_nothing_else() {
        let key = ClientKey::generate(KID).expect("key generation works");
        assert!(key.pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let mut header = Header::new(Algorithm::PS256);
        header.kid = Some(KID.into());
        let jws = sign(&key, &header, &json!({"iss": "tpp", "exp": 1}));
        assert_eq!(key.verify(&jws).expect("verifies")["iss"], "tpp");

        let rs256 = sign(&key, &Header::new(Algorithm::RS256), &json!({}));
        assert!(key.verify(&rs256).expect_err("RS256").contains("PS256"));
        header.kid = Some("other".into());
        let other_kid = sign(&key, &header, &json!({}));
        assert!(key.verify(&other_kid).expect_err("kid").contains("kid"));
        let mut forged: Vec<&str> = jws.split('.').collect();
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"evil"}"#);
        forged[1] = &payload;
        assert!(
            key.verify(&forged.join("."))
                .expect_err("forged")
                .contains("does not verify")
        );
    }

    #[test]
    fn a_detached_signature_covers_the_exact_body() {
        let key = ClientKey::generate(KID).expect("key generation works");
        let body = br#"{"amount": "1.00"}"#;
        let compact = sign(&key, &Header::new(Algorithm::PS256), &json!({}));
        // Re-sign over the body as base64url payload, then detach it.
        let encoding = EncodingKey::from_rsa_pem(key.pem().as_bytes()).expect("the PEM reads");
        let header_b64 = compact.split('.').next().expect("header");
        let input = format!("{header_b64}.{}", URL_SAFE_NO_PAD.encode(body));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &encoding, Algorithm::PS256)
            .expect("signs");
        let detached = format!("{header_b64}..{signature}");
        key.verify_detached(&detached, body).expect("verifies");
        assert!(
            key.verify_detached(&detached, br#"{"amount": "1000.00"}"#)
                .expect_err("another body")
                .contains("does not verify")
        );
        assert!(
            key.verify_detached(&compact, body)
                .expect_err("not detached")
                .contains("detached")
        );
    }

    #[test]
    fn lifetimes_are_checked_with_a_little_leeway() {
        let claims = |v: Value| v.as_object().cloned().expect("object");
        assert!(check_lifetime(&claims(json!({"exp": 100})), 90).is_ok());
        assert!(check_lifetime(&claims(json!({"exp": 100})), 104).is_ok());
        assert!(
            check_lifetime(&claims(json!({"exp": 100})), 105)
                .expect_err("past")
                .contains("expired")
        );
        assert!(
            check_lifetime(&claims(json!({})), 1)
                .expect_err("none")
                .contains("no exp")
        );
        assert!(check_lifetime(&claims(json!({"exp": 100, "nbf": 80})), 50).is_err());
    }
}
