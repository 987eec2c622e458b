//! The RS256 signing key (generated at start) and the JWKS that publishes it; RSA key
//! generation for it and for the bank's demo TPP key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use serde_json::{Value, json};

use crate::Error;

const RSA_BITS: usize = 2048;

pub(crate) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    /// Generates a fresh 2048-bit RSA key with a random `kid`. CPU-heavy: call it off the
    /// async executor.
    pub(crate) fn generate() -> Result<SigningKey, Error> {
        let private = generate_rsa()?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| Error::KeyGeneration(e.to_string()))?;
        let kid = crate::random::url_safe(12);
        let (n, e) = components(private.as_ref());
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": kid,
            "n": n,
            "e": e,
        });
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            jwk,
        })
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid` and the given `typ` header.
    pub(crate) fn sign<T: Serialize>(
        &self,
        typ: &str,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_with(Algorithm::RS256, typ, claims)
    }

    /// Signs `claims` with `alg` (RS256 or PS256: both are RSA signatures), this key's `kid` and
    /// the given `typ` header.
    pub(crate) fn sign_with<T: Serialize>(
        &self,
        alg: Algorithm,
        typ: &str,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(alg);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// `{"keys":[…]}` with the public half only, announced for `alg` (what the issuer signs with).
    pub(crate) fn jwks(&self, alg: Algorithm) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["alg"] = json!(format!("{alg:?}"));
        json!({ "keys": [jwk] })
    }
}

/// A fresh 2048-bit RSA key. CPU-heavy: call it off the async executor.
pub(crate) fn generate_rsa() -> Result<RsaPrivateKey, Error> {
    RsaPrivateKey::new(&mut rand::thread_rng(), RSA_BITS)
        .map_err(|e| Error::KeyGeneration(e.to_string()))
}

/// The modulus and exponent of a public key, base64url: a JWK's `n` and `e`.
pub(crate) fn components(public: &RsaPublicKey) -> (String, String) {
    (
        URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_against_the_published_jwk() {
        let key = SigningKey::generate().expect("key generation works");
        let jwks = key.jwks(Algorithm::RS256);
        assert_eq!(key.jwks(Algorithm::PS256)["keys"][0]["alg"], "PS256");
        let jwk = &jwks["keys"][0];
        assert!(
            jwk.get("d").is_none(),
            "the JWKS must not leak the private exponent"
        );
        let token = key
            .sign("JWT", &json!({"sub": "x", "exp": 4_000_000_000u64}))
            .expect("signing works");
        let header = jsonwebtoken::decode_header(&token).expect("header decodes");
        assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().expect("n"),
            jwk["e"].as_str().expect("e"),
        )
        .expect("jwk components decode");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation)
            .expect("signature verifies");
        assert_eq!(data.claims["sub"], "x");
    }
}
