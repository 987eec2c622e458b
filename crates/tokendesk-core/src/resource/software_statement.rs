//! Software statements (RFC 7591 §2.3): a JWT asserting the client's metadata, sent with a
//! dynamic registration. Either one the user brings (a directory signed it: checked only for
//! being a compact JWS with an `iss`, and sent as given), or one TokenDesk signs with the user's
//! private key from the claims the user gives (UK Open Banking style: `iss`, `iat`, `jti`,
//! `software_id`, …; `iat` and `jti` are added when missing).

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::flow::assertion::{algorithm, signing_key};
use crate::profile::AssertionAlg;
use crate::secret::Sensitive;

/// The field errors of a software statement are reported under.
pub const FIELD: &str = "software_statement";

/// Checks that `jwt` is a signed JWT whose claims name an `iss` (RFC 7591 §2.3), and returns it
/// without surrounding whitespace. Nothing is verified: the server trusts the signer or not.
pub fn check(jwt: &str) -> Result<String> {
    let jwt = jwt.trim();
    let bad = |why: &str| {
        Error::invalid_field(
            FIELD,
            format!(
                "The software statement is not a signed JWT: {why}. Give the JWT itself \
                 (three base64url parts separated by dots), as the directory issued it."
            ),
        )
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(&format!("{} dot-separated parts, not 3", parts.len())));
    }
    let part = |i: usize, name: &str| -> Result<Map<String, Value>> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[i])
            .map_err(|_| bad(&format!("its {name} is not base64url")))?;
        serde_json::from_slice(&bytes).map_err(|_| bad(&format!("its {name} is not a JSON object")))
    };
    let header = part(0, "header")?;
    match header.get("alg").and_then(Value::as_str) {
        None => return Err(bad("its header has no alg")),
        Some("none") => return Err(bad("it is unsigned (alg none)")),
        Some(_) => {}
    }
    let claims = part(1, "claims")?;
    if !claims.get("iss").is_some_and(Value::is_string) {
        return Err(Error::invalid_field(
            FIELD,
            "The software statement has no iss claim (RFC 7591 §2.3 requires one).",
        ));
    }
    Ok(jwt.to_owned())
}

/// The algorithm a key signs with: `alg` if given (the key must fit it), else RS256 for an RSA
/// key and ES256 for a P-256 key.
fn algorithm_for(key_pem: &str, alg: Option<AssertionAlg>) -> Result<(AssertionAlg, EncodingKey)> {
    let refuse_hmac = |a: AssertionAlg| {
        Error::invalid_field(
            "assertion_alg",
            format!(
                "A software statement is signed with a private key (RS256, PS256 or ES256), not \
                 {}.",
                a.as_str()
            ),
        )
    };
    match alg {
        Some(a) if a.is_hmac() => Err(refuse_hmac(a)),
        Some(a) => Ok((a, signing_key(a, key_pem)?)),
        None => signing_key(AssertionAlg::RS256, key_pem)
            .map(|k| (AssertionAlg::RS256, k))
            .or_else(|_| {
                signing_key(AssertionAlg::ES256, key_pem).map(|k| (AssertionAlg::ES256, k))
            })
            .map_err(|_| {
                Error::invalid_field(
                    "private_key",
                    "The key to sign the software statement with is neither an RSA nor a P-256 \
                     EC private key in PEM (\"-----BEGIN PRIVATE KEY-----\"). A public key or a \
                     certificate does not sign.",
                )
            }),
    }
}

/// Signs a software statement from `claims` (a JSON object with at least `iss`) with
/// `key_pem`: `iat` (`now_secs`) and a fresh `jti` are added when missing; the header has
/// `typ: JWT` and `kid` when given. Returns the JWT.
pub fn sign(
    claims: &Value,
    key_pem: &Sensitive<String>,
    alg: Option<AssertionAlg>,
    kid: Option<&str>,
    now_secs: i64,
) -> Result<String> {
    let Some(object) = claims.as_object() else {
        return Err(Error::invalid_field(
            "software_statement_claims",
            "The software statement's claims must be a JSON object ({\"iss\": …, \
             \"software_id\": …}).",
        ));
    };
    if !object.get("iss").is_some_and(Value::is_string) {
        return Err(Error::invalid_field(
            "software_statement_claims",
            "The software statement's claims need an iss (RFC 7591 §2.3): who vouches for the \
             software, e.g. your organisation's id at the directory.",
        ));
    }
    let mut object = object.clone();
    object.entry("iat").or_insert_with(|| now_secs.into());
    object
        .entry("jti")
        .or_insert_with(|| uuid::Uuid::new_v4().to_string().into());
    let (alg, key) = algorithm_for(key_pem.expose(), alg)?;
    let mut header = Header::new(algorithm(alg));
    header.typ = Some("JWT".into());
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &Value::Object(object), &key)
        .map_err(|e| Error::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::json;

    const RSA_KEY: &str = include_str!("../flow/testdata/rsa-2048.pem");
    const RSA_PUB: &str = include_str!("../flow/testdata/rsa-2048.pub.pem");
    const EC_KEY: &str = include_str!("../flow/testdata/ec-p256.pem");
    const EC_PUB: &str = include_str!("../flow/testdata/ec-p256.pub.pem");

    fn decode(jwt: &str, alg: jsonwebtoken::Algorithm, key: DecodingKey) -> Value {
        let mut v = Validation::new(alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(jwt, &key, &v).unwrap().claims
    }

    #[test]
    fn signed_by_the_key_with_iat_and_jti_added() {
        let claims = json!({"iss": "org-1", "software_id": "sw-1", "software_roles": ["AISP"]});
        let key = Sensitive::new(RSA_KEY.to_owned());
        let jwt = sign(&claims, &key, None, Some("k1"), 1_700_000_000).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(
            header.alg,
            jsonwebtoken::Algorithm::RS256,
            "RSA: RS256 by default"
        );
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let got = decode(
            &jwt,
            jsonwebtoken::Algorithm::RS256,
            DecodingKey::from_rsa_pem(RSA_PUB.as_bytes()).unwrap(),
        );
        assert_eq!(got["software_id"], "sw-1");
        assert_eq!(got["iat"], 1_700_000_000);
        assert_eq!(got["jti"].as_str().unwrap().len(), 36);
        let ps = sign(&claims, &key, Some(AssertionAlg::PS256), None, 1).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&ps).unwrap().alg,
            jsonwebtoken::Algorithm::PS256
        );
        let ec = sign(
            &json!({"iss": "o", "iat": 5}),
            &Sensitive::new(EC_KEY.to_owned()),
            None,
            None,
            9,
        )
        .unwrap();
        let got = decode(
            &ec,
            jsonwebtoken::Algorithm::ES256,
            DecodingKey::from_ec_pem(EC_PUB.as_bytes()).unwrap(),
        );
        assert_eq!(got["iat"], 5, "a given iat is kept");
        assert_eq!(check(&format!(" {ec}\n")).unwrap(), ec);
    }

    #[test]
    fn bad_claims_keys_and_statements_are_named() {
        let key = Sensitive::new(RSA_KEY.to_owned());
        let e = sign(&json!({"software_id": "x"}), &key, None, None, 1).unwrap_err();
        assert!(e.message.contains("need an iss"), "{}", e.message);
        assert!(sign(&json!([1]), &key, None, None, 1).is_err());
        let e = sign(
            &json!({"iss": "o"}),
            &key,
            Some(AssertionAlg::ES256),
            None,
            1,
        )
        .unwrap_err();
        assert!(e.message.contains("P-256"), "{}", e.message);
        let e = sign(
            &json!({"iss": "o"}),
            &Sensitive::new(RSA_PUB.to_owned()),
            None,
            None,
            1,
        )
        .unwrap_err();
        assert!(
            e.message.contains("neither an RSA nor a P-256"),
            "{}",
            e.message
        );

        assert!(
            check("abc")
                .unwrap_err()
                .message
                .contains("1 dot-separated parts")
        );
        let none = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJvIn0.x";
        assert!(check(none).unwrap_err().message.contains("alg none"));
        let no_iss = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvIn0.x";
        assert!(check(no_iss).unwrap_err().message.contains("no iss"));
        assert!(check("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJvIn0.x").is_ok());
    }
}
