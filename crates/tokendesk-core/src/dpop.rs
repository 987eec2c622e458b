//! DPoP (RFC 9449): a key per profile that proves possession on every request — token,
//! refresh, revocation, introspection, userinfo, and each API call made with the token — so a
//! stolen access token is useless without the key.
//!
//! The key is generated on first use and kept in the OS keychain as a private JWK; the public
//! half travels in every proof's header. Providers hand out nonces (`DPoP-Nonce`) that later
//! proofs must carry: [`Nonces`] remembers the newest per origin.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use ts_rs::TS;

use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::secret::Sensitive;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// The `Authorization` scheme of a DPoP-bound token.
pub const SCHEME: &str = "DPoP";
/// How many times one request is sent again because the provider asked for a (new) nonce.
/// RFC 9449 §8 expects one; a provider asking on and on is broken, not strict.
pub const NONCE_RETRIES: usize = 2;

/// The algorithm of a profile's DPoP key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
pub enum DpopAlg {
    /// ECDSA on P-256 with SHA-256: what every DPoP server supports.
    #[default]
    ES256,
    /// Ed25519.
    EdDSA,
}

impl DpopAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            DpopAlg::ES256 => "ES256",
            DpopAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DpopAlg::ES256, DpopAlg::EdDSA]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

enum Signer {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

/// A profile's DPoP key.
pub struct DpopKey {
    signer: Signer,
    /// The public JWK, as it goes into every proof header.
    public: Value,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.alg())
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new random key.
    pub fn generate(alg: DpopAlg) -> Self {
        match alg {
            DpopAlg::ES256 => Self::from_signer(Signer::Es256(p256::ecdsa::SigningKey::random(
                &mut rand::rngs::OsRng,
            ))),
            DpopAlg::EdDSA => Self::from_signer(Signer::EdDsa(
                ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>()),
            )),
        }
    }

    fn from_signer(signer: Signer) -> Self {
        let public = match &signer {
            Signer::Es256(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                json!({
                    "crv": "P-256",
                    "kty": "EC",
                    "x": B64.encode(point.x().expect("uncompressed point")),
                    "y": B64.encode(point.y().expect("uncompressed point")),
                })
            }
            Signer::EdDsa(k) => json!({
                "crv": "Ed25519",
                "kty": "OKP",
                "x": B64.encode(k.verifying_key().as_bytes()),
            }),
        };
        let thumbprint = thumbprint(&public);
        Self {
            signer,
            public,
            thumbprint,
        }
    }

    pub fn alg(&self) -> DpopAlg {
        match self.signer {
            Signer::Es256(_) => DpopAlg::ES256,
            Signer::EdDsa(_) => DpopAlg::EdDSA,
        }
    }

    /// The key's JWK SHA-256 thumbprint (RFC 7638): `jkt`, as `cnf.jkt` and `dpop_jkt` name it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    pub fn public_jwk(&self) -> &Value {
        &self.public
    }

    /// The private JWK, for the keychain.
    pub fn to_private_jwk(&self) -> Sensitive<String> {
        let mut jwk = self.public.clone();
        let d = match &self.signer {
            Signer::Es256(k) => B64.encode(k.to_bytes()),
            Signer::EdDsa(k) => B64.encode(k.to_bytes()),
        };
        jwk["d"] = d.into();
        Sensitive::new(jwk.to_string())
    }

    /// The key from its private JWK (as [`DpopKey::to_private_jwk`] wrote it).
    pub fn from_private_jwk(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::new(
                ErrorCode::Storage,
                format!(
                    "The DPoP key in the keychain cannot be read ({why}). Remove it (a new one is \
                     made on the next request) and sign in again."
                ),
            )
        };
        let jwk: Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
        let d = jwk["d"]
            .as_str()
            .and_then(|d| B64.decode(d).ok())
            .ok_or_else(|| bad("no private part"))?;
        let signer = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
            (Some("EC"), Some("P-256")) => Signer::Es256(
                p256::ecdsa::SigningKey::from_slice(&d).map_err(|_| bad("not a P-256 key"))?,
            ),
            (Some("OKP"), Some("Ed25519")) => {
                let bytes: [u8; 32] = d.try_into().map_err(|_| bad("not an Ed25519 key"))?;
                Signer::EdDsa(ed25519_dalek::SigningKey::from_bytes(&bytes))
            }
            _ => return Err(bad("an unknown key type")),
        };
        Ok(Self::from_signer(signer))
    }

    /// A proof for one request: `htm` and `htu` (the URL without query and fragment), a fresh
    /// `jti`, `iat`, the provider's `nonce` when it gave one, and `ath` — the access token's
    /// hash — when the request carries one.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        now: Millis,
    ) -> String {
        let header = json!({
            "typ": PROOF_TYP,
            "alg": self.alg().as_str(),
            "jwk": self.public,
        });
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method.to_ascii_uppercase(),
            "htu": htu(url),
            "iat": now / 1000,
        });
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        if let Some(t) = access_token {
            claims["ath"] = access_token_hash(t).into();
        }
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = match &self.signer {
            Signer::Es256(k) => {
                use p256::ecdsa::signature::Signer as _;
                let s: p256::ecdsa::Signature = k.sign(input.as_bytes());
                B64.encode(s.to_bytes())
            }
            Signer::EdDsa(k) => {
                use ed25519_dalek::Signer as _;
                B64.encode(k.sign(input.as_bytes()).to_bytes())
            }
        };
        format!("{input}.{signature}")
    }
}

/// The JWK thumbprint (RFC 7638): SHA-256 over the required members in lexicographic order.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        Some("RSA") => &["e", "kty", "n"],
        _ => &[],
    };
    let canonical = members
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                serde_json::to_string(m).unwrap_or_default(),
                serde_json::to_string(&jwk[*m]).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    B64.encode(Sha256::digest(format!("{{{canonical}}}")))
}

/// `ath`: base64url(SHA-256(access token)).
pub fn access_token_hash(token: &str) -> String {
    B64.encode(Sha256::digest(token.as_bytes()))
}

/// `htu`: the request URL without its query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_owned(),
    }
}

/// `METHOD URL` as `--for` and the agent take it: `GET https://api.example/v1/accounts`.
pub fn parse_target(text: &str) -> Result<(String, String)> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidInput,
            format!(
                "\"{text}\" is not a request: give the method and the URL the token is for, e.g. \
                 'GET https://api.example/v1/accounts'."
            ),
        )
    };
    let (method, url) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(bad)?;
    let url = url.trim();
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_alphabetic())
        || url::Url::parse(url).is_err()
    {
        return Err(bad());
    }
    Ok((method.to_ascii_uppercase(), url.to_owned()))
}

/// The newest nonce each origin gave (`DPoP-Nonce`), shared by a core's calls. Those that
/// came in since [`Nonces::take_new`] was last called are kept apart, for the store.
#[derive(Default)]
pub struct Nonces {
    by_origin: Mutex<HashMap<String, String>>,
    new: Mutex<Vec<(String, String)>>,
    loaded: std::sync::OnceLock<()>,
}

impl Nonces {
    pub fn get(&self, url: &str) -> Option<String> {
        self.lock().get(&origin(url)).cloned()
    }

    pub fn set(&self, url: &str, nonce: &str) {
        let origin = origin(url);
        let mut map = self.lock();
        if map.get(&origin).map(String::as_str) != Some(nonce) {
            map.insert(origin.clone(), nonce.to_owned());
            self.new
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((origin, nonce.to_owned()));
        }
    }

    /// The nonces set since the last call, by origin.
    pub fn take_new(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.new.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Adds remembered nonces (once per process) under those already known.
    pub fn load_once(&self, remembered: impl FnOnce() -> Vec<(String, String)>) {
        self.loaded.get_or_init(|| {
            let mut map = self.lock();
            for (origin, nonce) in remembered() {
                map.entry(origin).or_insert(nonce);
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.by_origin.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}

/// Whether an answer asks for a (new) nonce: `use_dpop_nonce` as the token endpoint's error
/// (400, JSON) or a resource's `WWW-Authenticate` challenge (401).
pub fn asks_for_nonce(status: u16, headers: &http::HeaderMap, body: &[u8]) -> bool {
    match status {
        400 => serde_json::from_slice::<Value>(body)
            .ok()
            .is_some_and(|v| v["error"] == "use_dpop_nonce"),
        401 => headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| challenge_error(v).as_deref() == Some("use_dpop_nonce")),
        _ => false,
    }
}

/// The `error` parameter of a `WWW-Authenticate` value's first challenge that has one — not a
/// search for the text `use_dpop_nonce`, which an `error_description` may mention.
fn challenge_error(header: &str) -> Option<String> {
    crate::www_authenticate::parse(header)
        .iter()
        .find_map(|c| c.param("error").map(str::to_owned))
}

/// What a token response must show when the request carried a proof: a DPoP token type, and —
/// where the token says which key it is bound to (`cnf.jkt` in a JWT access token) — ours.
pub fn check_binding(key: &DpopKey, token_type: &str, access_token: &str) -> Result<()> {
    if !token_type.eq_ignore_ascii_case(SCHEME) {
        return Err(Error::new(
            ErrorCode::CheckFailed,
            format!(
                "The provider answered a DPoP request with token_type \"{token_type}\": the \
                 token is not bound to this profile's key, so anyone holding it could use it. It \
                 was not stored. Check that the provider supports DPoP for this client \
                 (dpop_signing_alg_values_supported in its discovery document, \
                 dpop_bound_access_tokens in the client's registration), or turn DPoP off in \
                 the profile."
            ),
        ));
    }
    if let Ok(jwt) = crate::inspect::decode_jwt(access_token)
        && let Some(jkt) = jwt.claims.get("cnf").and_then(|c| c.get("jkt"))
        && jkt.as_str() != Some(key.thumbprint())
    {
        return Err(Error::new(
            ErrorCode::CheckFailed,
            format!(
                "The access token is bound to another key (cnf.jkt {jkt}, this profile's key is \
                 {}): it could not be used with this profile's proofs. It was not stored. The \
                 provider may have bound it to a key from an earlier request; sign in again.",
                key.thumbprint()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_error_parameter_asks_for_a_nonce() {
        for (header, error) in [
            (
                "DPoP error=\"use_dpop_nonce\", error_description=\"x\"",
                Some("use_dpop_nonce"),
            ),
            (
                "DPoP algs=\"ES256\", error = use_dpop_nonce",
                Some("use_dpop_nonce"),
            ),
            (
                "DPoP error=invalid_token, error_description=\"not use_dpop_nonce, error=use_dpop_nonce\"",
                Some("invalid_token"),
            ),
            (
                "DPoP error_description=\"a \\\" error=use_dpop_nonce\"",
                None,
            ),
            ("Bearer realm=\"x\"", None),
        ] {
            assert_eq!(challenge_error(header).as_deref(), error, "{header}");
        }
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
    }

    /// The proof's signature verifies with the public key in its own header.
    fn verifies_with_its_own_key(proof: &str, alg: jsonwebtoken::Algorithm) {
        let header = decode(proof.split('.').next().unwrap());
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(header["jwk"].clone()).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(
            proof,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &v,
        )
        .expect("the proof verifies with its own public key");
    }

    #[test]
    fn an_es256_proof_verifies_with_the_key_in_its_header() {
        let key = DpopKey::generate(DpopAlg::ES256);
        let proof = key.proof(
            "post",
            "https://as.example/token?x=1#f",
            Some("n-1"),
            None,
            1_700_000_000_500,
        );
        let parts: Vec<&str> = proof.split('.').collect();
        let header = decode(parts[0]);
        let claims = decode(parts[1]);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(
            header["jwk"].get("d").is_none(),
            "no private part in a proof"
        );
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://as.example/token");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nonce"], "n-1");
        assert!(claims.get("ath").is_none());
        verifies_with_its_own_key(&proof, jsonwebtoken::Algorithm::ES256);
    }

    #[test]
    fn an_eddsa_proof_verifies_and_carries_the_token_hash() {
        let key = DpopKey::generate(DpopAlg::EdDSA);
        let proof = key.proof("GET", "https://api.example/r", None, Some("AT"), 0);
        let parts: Vec<&str> = proof.split('.').collect();
        let claims = decode(parts[1]);
        // RFC 9449 §4.2: base64url(SHA-256("AT")).
        assert_eq!(
            claims["ath"],
            B64.encode(Sha256::digest(b"AT")),
            "ath is the access token's hash"
        );
        verifies_with_its_own_key(&proof, jsonwebtoken::Algorithm::EdDSA);
    }

    #[test]
    fn every_proof_has_its_own_jti() {
        let key = DpopKey::generate(DpopAlg::ES256);
        let jti = |p: String| decode(p.split('.').nth(1).unwrap())["jti"].clone();
        assert_ne!(
            jti(key.proof("GET", "https://a.example/", None, None, 0)),
            jti(key.proof("GET", "https://a.example/", None, None, 0))
        );
    }

    #[test]
    fn the_key_survives_the_keychain_round_trip() {
        for alg in [DpopAlg::ES256, DpopAlg::EdDSA] {
            let key = DpopKey::generate(alg);
            let again = DpopKey::from_private_jwk(key.to_private_jwk().expose()).unwrap();
            assert_eq!(again.thumbprint(), key.thumbprint());
            assert_eq!(again.alg(), alg);
        }
        assert_eq!(
            DpopKey::from_private_jwk("{}").unwrap_err().code,
            ErrorCode::Storage
        );
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn targets_name_a_method_and_an_absolute_url() {
        assert_eq!(
            parse_target("get  https://api.example/v1?a=b").unwrap(),
            ("GET".into(), "https://api.example/v1?a=b".into())
        );
        for bad in [
            "https://api.example/",
            "GET",
            "GET /relative",
            "G3T https://a/",
        ] {
            assert_eq!(
                parse_target(bad).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn nonce_demands_are_read_from_the_token_endpoint_and_from_resources() {
        let mut h = http::HeaderMap::new();
        assert!(asks_for_nonce(400, &h, br#"{"error":"use_dpop_nonce"}"#));
        assert!(!asks_for_nonce(400, &h, br#"{"error":"invalid_grant"}"#));
        assert!(!asks_for_nonce(401, &h, b""));
        h.insert(
            http::header::WWW_AUTHENTICATE,
            r#"DPoP error="use_dpop_nonce", error_description="x""#
                .parse()
                .unwrap(),
        );
        assert!(asks_for_nonce(401, &h, b""));
    }

    #[test]
    fn nonces_are_kept_per_origin() {
        let n = Nonces::default();
        n.set("https://as.example/token", "a");
        assert_eq!(n.get("https://as.example/other?x").as_deref(), Some("a"));
        assert_eq!(n.get("https://api.example/"), None);
        n.set("https://as.example/again", "a");
        assert_eq!(
            n.take_new(),
            vec![("https://as.example".to_owned(), "a".to_owned())],
            "a nonce given again is not new"
        );
        n.load_once(|| vec![("https://api.example".into(), "r".into())]);
        n.load_once(|| panic!("loaded once"));
        assert_eq!(n.get("https://api.example/x").as_deref(), Some("r"));
    }

    #[test]
    fn a_bearer_answer_or_a_token_for_another_key_is_refused() {
        let key = DpopKey::generate(DpopAlg::ES256);
        assert!(check_binding(&key, "DPoP", "opaque").is_ok());
        assert!(check_binding(&key, "dpop", "opaque").is_ok());
        assert_eq!(
            check_binding(&key, "Bearer", "opaque").unwrap_err().code,
            ErrorCode::CheckFailed
        );
        let jwt_for = |jkt: &str| {
            format!(
                "{}.{}.sig",
                B64.encode(r#"{"alg":"RS256"}"#),
                B64.encode(json!({"cnf": {"jkt": jkt}}).to_string())
            )
        };
        assert!(check_binding(&key, "DPoP", &jwt_for(key.thumbprint())).is_ok());
        let e = check_binding(&key, "DPoP", &jwt_for("someone-elses")).unwrap_err();
        assert!(e.message.contains("another key"), "{}", e.message);
    }
}
