//! ID tokens (OpenID Connect Core §2): who signed in, for which client, and the hashes of what
//! they came with — from the token endpoint, and from the bank's `/authorize` (hybrid).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::bank::BANK_ACR_SCA;
use crate::clients::DEMO_USER;
use crate::oauth_error::OAuthError;
use crate::state::Issuer;

/// What one ID token says.
pub(crate) struct IdToken<'a> {
    pub client_id: &'a str,
    pub subject: &'a str,
    /// The granted scope: `profile` and `email` add the demo user's claims.
    pub scope: &'a [String],
    pub auth_time_s: Option<u64>,
    pub nonce: Option<&'a str>,
    /// The bank's registered authorization: `authorizationId`, and `acr` (SCA) with it.
    pub authorization_id: Option<&'a str>,
    /// `("at_hash", access token)`, `("c_hash", code)`, `("s_hash", state)`.
    pub hashes: &'a [(&'a str, &'a str)],
}

/// Signs the ID token (the issuer's key: PS256 at the FAPI issuer, RS256 elsewhere) issued at
/// `now_ms`.
pub(crate) fn sign(issuer: &Issuer, t: &IdToken<'_>, now_ms: u64) -> Result<String, OAuthError> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer.url()));
    claims.insert("sub".into(), json!(t.subject));
    claims.insert("aud".into(), json!(t.client_id));
    claims.insert("azp".into(), json!(t.client_id));
    claims.insert("iat".into(), json!(now_ms / 1000));
    claims.insert(
        "exp".into(),
        json!(now_ms.saturating_add(issuer.shared.ttls.id_ms) / 1000),
    );
    if let Some(auth_time) = t.auth_time_s {
        claims.insert("auth_time".into(), json!(auth_time));
    }
    if let Some(nonce) = t.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if t.scope.iter().any(|s| s == "profile") {
        claims.insert("name".into(), json!(DEMO_USER.name));
    }
    if t.scope.iter().any(|s| s == "email") {
        claims.insert("email".into(), json!(DEMO_USER.email));
        claims.insert("email_verified".into(), json!(true));
    }
    if let Some(id) = t.authorization_id {
        claims.insert("authorizationId".into(), json!(id));
        claims.insert("acr".into(), json!(BANK_ACR_SCA));
    }
    for (claim, value) in t.hashes {
        claims.insert((*claim).into(), json!(half_hash(value)));
    }
    issuer
        .shared
        .key
        .sign_with(issuer.style.signing_alg(), "JWT", &Value::Object(claims))
        .map_err(|e| OAuthError::server_error(format!("could not sign the ID token: {e}")))
}

/// `at_hash` / `c_hash` / `s_hash` of an RS256 or PS256 token: base64url of the left half of the
/// SHA-256 of the value (OIDC Core §3.3.2.11).
pub(crate) fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::half_hash;

    #[test]
    fn half_hash_matches_the_oidc_example() {
        // OpenID Connect Core, Appendix A.4: the c_hash of code Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk.
        assert_eq!(
            half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }
}
