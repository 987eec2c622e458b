//! DPoP proofs (RFC 9449 §4.3) as the FAPI issuer checks them: one `DPoP` header, a JWT with
//! `typ: dpop+jwt`, `alg` ES256 or EdDSA and the public key in `jwk`, signed by that key; `htm`
//! and `htu` naming this request, `iat` within the window, a `jti` not seen before, `ath` when
//! an access token comes with it, and a nonce this server handed out (§8) — asked for, with a
//! fresh one, when missing or stale.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::DPOP_ALGS;
use crate::oauth_error::OAuthError;
use crate::state::Issuer;

/// How old a proof's `iat` may be.
pub(crate) const WINDOW_S: u64 = 60;
/// How far in the future a proof's `iat` may be (clock skew).
pub(crate) const SKEW_S: u64 = 5;

/// The request a proof must be for.
pub(crate) struct Expected<'a> {
    pub method: &'a str,
    /// The endpoint's URL (compared without query and fragment).
    pub url: &'a str,
    /// The access token sent with the request: the proof must carry its hash (`ath`).
    pub access_token: Option<&'a str>,
}

/// Why a proof was refused: `invalid_dpop_proof`, or `use_dpop_nonce` with the nonce to use.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub description: String,
    pub nonce: Option<String>,
}

impl Refusal {
    fn invalid(description: impl Into<String>) -> Refusal {
        Refusal {
            code: "invalid_dpop_proof",
            description: description.into(),
            nonce: None,
        }
    }

    /// As the token and PAR endpoints answer it (400).
    pub(crate) fn into_oauth(self) -> OAuthError {
        match self.nonce {
            Some(nonce) => OAuthError::use_dpop_nonce(self.description, nonce),
            None => OAuthError::invalid_dpop_proof(self.description),
        }
    }
}

/// The `DPoP` header's proof, or `None` when the request has none.
pub(crate) fn header(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refusal::invalid("send exactly one DPoP header"));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| Refusal::invalid("the DPoP header is not ASCII"))
}

/// Checks the request's proof and returns the thumbprint (`jkt`) of its key; a request without a
/// proof is refused.
pub(crate) fn require(
    issuer: &Issuer,
    headers: &HeaderMap,
    expected: &Expected<'_>,
    now_ms: u64,
) -> Result<String, Refusal> {
    let Some(proof) = header(headers)? else {
        return Err(Refusal::invalid(format!(
            "DPoP is required at this issuer (FAPI 2.0): send a DPoP proof for {} {} in the DPoP \
             header (RFC 9449)",
            expected.method, expected.url
        )));
    };
    check(issuer, proof, expected, now_ms)
}

/// Checks one proof (see the module's text) and returns its key's thumbprint.
pub(crate) fn check(
    issuer: &Issuer,
    proof: &str,
    expected: &Expected<'_>,
    now_ms: u64,
) -> Result<String, Refusal> {
    let (claims, jkt) = verify_signature(proof)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let htm = text("htm").unwrap_or_default();
    if htm != expected.method {
        return Err(Refusal::invalid(format!(
            "the proof's htm is \"{htm}\", but this request is {}",
            expected.method
        )));
    }
    let htu = text("htu").unwrap_or_default();
    if without_query(htu).as_deref() != without_query(expected.url).as_deref() {
        return Err(Refusal::invalid(format!(
            "the proof's htu is \"{htu}\", but this request goes to {}",
            expected.url
        )));
    }
    let now_s = now_ms / 1000;
    let Some(iat) = claims.get("iat").and_then(Value::as_u64) else {
        return Err(Refusal::invalid("the proof has no numeric iat"));
    };
    if iat + WINDOW_S < now_s || iat > now_s + SKEW_S {
        return Err(Refusal::invalid(format!(
            "the proof's iat {iat} is outside the accepted window (now {now_s}, proofs live \
             {WINDOW_S} s): make a new proof for each request, and check the clock"
        )));
    }
    let Some(jti) = text("jti").filter(|j| !j.is_empty()) else {
        return Err(Refusal::invalid("the proof has no jti"));
    };
    match (expected.access_token, text("ath")) {
        (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
        (Some(_), Some(_)) => {
            return Err(Refusal::invalid(
                "the proof's ath is not the hash of the access token sent with it",
            ));
        }
        (Some(_), None) => {
            return Err(Refusal::invalid(
                "the proof has no ath: a request with a DPoP-bound access token needs \
                 ath = base64url(SHA-256(access token))",
            ));
        }
        (None, _) => {}
    }
    let mut store = issuer.store(now_ms);
    let registry = &mut store.fapi;
    let nonce_ok = text("nonce").is_some_and(|n| registry.accepts_nonce(n, now_ms));
    if !nonce_ok {
        let why = if text("nonce").is_some() {
            "the proof's nonce is unknown or expired: use the one in the DPoP-Nonce header"
        } else {
            "this issuer requires a DPoP nonce: use the one in the DPoP-Nonce header"
        };
        return Err(Refusal {
            code: "use_dpop_nonce",
            description: why.to_owned(),
            nonce: Some(registry.nonce(now_ms)),
        });
    }
    let until_ms = (iat + WINDOW_S + SKEW_S + 1).saturating_mul(1000);
    if !registry.use_proof(&jkt, jti, until_ms) {
        return Err(Refusal::invalid(format!(
            "the proof's jti \"{jti}\" was used already: a proof is good for one request"
        )));
    }
    Ok(jkt)
}

/// Checks the header (typ, alg, a public jwk) and the signature with that key; returns the
/// claims and the key's thumbprint.
fn verify_signature(proof: &str) -> Result<(Map<String, Value>, String), Refusal> {
    let parts: Vec<&str> = proof.trim().split('.').collect();
    let [header_b64, payload_b64, signature] = parts[..] else {
        return Err(Refusal::invalid(
            "the DPoP header is not a JWT (three dot-separated parts)",
        ));
    };
    let header = json_object(header_b64)
        .ok_or_else(|| Refusal::invalid("the proof's header is not base64url JSON"))?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(Refusal::invalid(format!(
            "the proof's typ must be \"dpop+jwt\", got {}",
            header.get("typ").unwrap_or(&Value::Null)
        )));
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    let algorithm = match alg {
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => {
            return Err(Refusal::invalid(format!(
                "the proof's alg {other} is not accepted: use one of {}",
                DPOP_ALGS.join(", ")
            )));
        }
    };
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(Refusal::invalid(
            "the proof's header has no jwk (the public key it is signed with)",
        ));
    };
    if jwk.contains_key("d") {
        return Err(Refusal::invalid(
            "the proof's jwk contains a private key (d): send the public key only",
        ));
    }
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
    let key = match (algorithm, member("kty"), member("crv")) {
        (Algorithm::ES256, "EC", "P-256") => {
            DecodingKey::from_ec_components(member("x"), member("y"))
        }
        (Algorithm::EdDSA, "OKP", "Ed25519") => DecodingKey::from_ed_components(member("x")),
        (_, kty, crv) => {
            return Err(Refusal::invalid(format!(
                "the proof's jwk (kty {kty}, crv {crv}) does not fit alg {alg}: ES256 needs an \
                 EC P-256 key, EdDSA an OKP Ed25519 key"
            )));
        }
    }
    .map_err(|e| Refusal::invalid(format!("the proof's jwk cannot be read: {e}")))?;
    let signed = format!("{header_b64}.{payload_b64}");
    match jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, algorithm) {
        Ok(true) => {}
        _ => {
            return Err(Refusal::invalid(
                "the proof's signature does not verify with the jwk in its header",
            ));
        }
    }
    let claims = json_object(payload_b64)
        .ok_or_else(|| Refusal::invalid("the proof's payload is not base64url JSON"))?;
    let jkt = thumbprint(jwk);
    Ok((claims, jkt))
}

fn json_object(b64: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The JWK SHA-256 thumbprint (RFC 7638) of an EC or OKP public key: the required members in
/// lexicographic order, no whitespace.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> String {
    let members: &[&str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical = members
        .iter()
        .map(|m| {
            let value = jwk.get(*m).cloned().unwrap_or(Value::Null);
            format!("\"{m}\":{value}")
        })
        .collect::<Vec<_>>()
        .join(",");
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{{{canonical}}}").as_bytes()))
}

/// `ath`: base64url(SHA-256(access token)).
pub(crate) fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A URL without query and fragment, normalised by parsing; `None` if it does not parse.
fn without_query(url: &str) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thumbprint_hashes_the_required_members_in_order() {
        // RFC 7638 §3: the required members of an EC key, {"crv","kty","x","y"} in this order,
        // no whitespace, others left out. (tests/sandbox/fapi.rs checks the thumbprint against
        // TokenDesk's own, as cnf.jkt.)
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ignored"});
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"a","y":"b"}"#,
        ));
        assert_eq!(thumbprint(jwk.as_object().expect("object")), expected);
    }

    #[test]
    fn htu_comparison_ignores_query_and_fragment_only() {
        assert_eq!(
            without_query("http://127.0.0.1:1/fapi/token?x=1#f"),
            without_query("http://127.0.0.1:1/fapi/token")
        );
        assert_ne!(
            without_query("http://127.0.0.1:1/fapi/userinfo"),
            without_query("http://127.0.0.1:1/fapi/token")
        );
    }
}
