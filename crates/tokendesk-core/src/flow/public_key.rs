//! The public half of the client's signing key as a JWK (RFC 7517) with its thumbprint (RFC
//! 7638): what a provider registers for `private_key_jwt` and request objects.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::profile::AssertionAlg;

/// The public JWK of a PEM private key (PKCS#8, or PKCS#1 for RSA), for `alg`.
pub fn public_jwk(alg: AssertionAlg, pem: &str) -> Result<Value, String> {
    let (label, der) =
        der::pem::decode_vec(pem.trim().as_bytes()).map_err(|e| format!("not PEM ({e})"))?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let mut jwk = match alg {
        AssertionAlg::RS256 | AssertionAlg::PS256 => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            use rsa::pkcs8::DecodePrivateKey;
            use rsa::traits::PublicKeyParts;
            let key = match label {
                "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(&der)
                    .map_err(|e| format!("not an RSA private key ({e})"))?,
                _ => rsa::RsaPrivateKey::from_pkcs8_der(&der)
                    .map_err(|e| format!("not an RSA private key ({e})"))?,
            };
            json!({
                "kty": "RSA",
                "n": b64(&key.n().to_bytes_be()),
                "e": b64(&key.e().to_bytes_be()),
            })
        }
        AssertionAlg::ES256 => {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            use p256::pkcs8::DecodePrivateKey;
            let key = match label {
                "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der),
                _ => p256::SecretKey::from_pkcs8_der(&der).map_err(|e| e.into()),
            }
            .map_err(|e| format!("not a P-256 private key ({e})"))?;
            let point = key.public_key().to_encoded_point(false);
            json!({
                "kty": "EC",
                "crv": "P-256",
                "x": b64(point.x().ok_or("no x coordinate")?),
                "y": b64(point.y().ok_or("no y coordinate")?),
            })
        }
        other => return Err(format!("{} is keyed by the client secret", other.as_str())),
    };
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    jwk["kid"] = json!(crate::dpop::thumbprint(&jwk));
    Ok(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_half_matches_the_key_that_signs() {
        let rsa = public_jwk(AssertionAlg::PS256, include_str!("testdata/rsa-2048.pem")).unwrap();
        assert_eq!(rsa["kty"], "RSA");
        assert_eq!(rsa["e"], "AQAB");
        // The JWK verifies what the private key signed.
        let key = super::super::assertion::signing_key(
            AssertionAlg::RS256,
            include_str!("testdata/rsa-2048.pem"),
        )
        .unwrap();
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &json!({"sub": "x"}),
            &key,
        )
        .unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
            rsa["n"].as_str().unwrap(),
            rsa["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(&token, &decoding, &v).unwrap();
        assert_eq!(
            rsa["kid"].as_str().unwrap().len(),
            43,
            "a SHA-256 thumbprint"
        );

        let ec = public_jwk(AssertionAlg::ES256, include_str!("testdata/ec-p256.pem")).unwrap();
        assert_eq!(
            (ec["kty"].as_str(), ec["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert!(public_jwk(AssertionAlg::ES256, include_str!("testdata/rsa-2048.pem")).is_err());
        assert!(public_jwk(AssertionAlg::RS256, "not a key").is_err());
    }
}
