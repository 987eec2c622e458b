//! ID-token validation (OpenID Connect Core §3.1.3.7, §3.3.2.11–12, §12.2) and the one decision
//! whether a provider's answer is trusted: every check is run and reported with its reason, and
//! a sign-in or refresh whose ID token fails any check fails — nothing of it is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::Digest as _;

use crate::clock::Millis;
use crate::error::{Error, ErrorCode};
use crate::ident;
use crate::inspect::{Check, IdTokenValidation, decode_jwt};
use crate::provider::lenient;

/// At most this many JWKS keys are tried for one signature: a JWKS of thousands of keys with
/// the same `kid` must not turn a sign-in into seconds of RSA work.
pub const MAX_KEYS_TRIED: usize = 4;

/// The largest RSA modulus a signature is verified with, in bits: the limit of the RSA
/// implementation under jsonwebtoken (the `rsa` crate's `RsaPublicKey::MAX_SIZE`), which
/// otherwise refuses a larger key with a bare "InvalidSignature".
pub const MAX_RSA_BITS: usize = 4096;

/// Where an ID token came from: the rules differ (an unsigned token is never accepted from the
/// front channel; a refreshed one must name the same subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The token endpoint, in a code exchange.
    TokenEndpoint,
    /// The authorization response (hybrid `code id_token`), before the code is redeemed.
    FrontChannel,
    /// The token endpoint, in a refresh (§12.2).
    Refresh,
}

/// What an ID token is checked against.
pub struct Expectations<'a> {
    /// The issuer from the provider's metadata (or the profile), compared exactly.
    pub issuer: &'a str,
    /// Another spelling of the issuer its provider documents for `iss` (a preset's, such as
    /// Google's scheme-less one), also compared exactly; the check says when it was used.
    pub issuer_alias: Option<&'a str>,
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: Option<&'a str>,
    pub now: Millis,
    /// Tolerated clock difference.
    pub leeway_ms: Millis,
    pub channel: Channel,
    /// The client secret: the key of HS256/384/512 ID tokens (§10.1).
    pub client_secret: Option<&'a str>,
    /// The algorithm the client registered (`id_token_signed_response_alg`); `none` allows an
    /// unsigned ID token from the token endpoint, and only then.
    pub expected_alg: Option<&'a str>,
    /// The algorithms allowed at all (FAPI 2.0: PS256, ES256, EdDSA); empty: any.
    pub allowed_algs: &'a [&'a str],
    /// The access token it came with: `at_hash` must match when present.
    pub access_token: Option<&'a str>,
    /// The code it came with in a hybrid response: `c_hash` is required and must match.
    pub code: Option<&'a str>,
    /// The state it came with in a hybrid response: `s_hash` must match when present.
    pub state: Option<&'a str>,
    /// On refresh: the subject of the ID token the grant started with.
    pub subject: Option<&'a str>,
    /// The `id_token` member of the `claims` request sent (OpenID Connect Core §5.5): a claim
    /// asked for with a `value` (or `values`) must carry it; an essential one must be there.
    pub requested_claims: Option<&'a Value>,
}

/// Validates the signature (JWKS, or the client secret for HS*), `iss`, `aud`, `azp`, `exp`,
/// `iat`, `sub`, `nonce` and the hashes of what came with it.
pub fn validate(
    token: &str,
    jwks: Option<&JwkSet>,
    expect: &Expectations<'_>,
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
            check(
                "format",
                false,
                format!("The ID token cannot be read: {e}."),
            );
            return IdTokenValidation { checks };
        }
    };
    let alg_name = decoded
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (ok, detail) = verify_signature(token, alg_name, &decoded.header, jwks, expect);
    check("signature", ok, detail);

    let claims = &decoded.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);

    let (iss_ok, detail) = issuer_check(claims, expect.issuer, expect.issuer_alias, "The ID token");
    check("iss", iss_ok, detail);
    let (aud_ok, detail, aud) = audience_check(claims, expect.client_id, "The ID token");
    check("aud", aud_ok, detail);
    // §3.1.3.7 (4, 5): with several audiences, azp names the client it was issued to.
    match text("azp") {
        Some(azp) => {
            let ok = ident::same(azp, expect.client_id);
            check(
                "azp",
                ok,
                if ok {
                    "Authorized party is this client.".into()
                } else {
                    format!(
                        "azp is \"{azp}\": the token was issued to another client, not \"{}\".",
                        expect.client_id
                    )
                },
            );
        }
        None if aud.len() > 1 => check(
            "azp",
            false,
            "The ID token names several audiences but no authorized party (azp).".into(),
        ),
        None => {}
    }

    let (ok, detail) = expiry_check(claims, expect.now, expect.leeway_ms, "The ID token");
    check("exp", ok, detail);
    match claims.get("iat").and_then(lenient::epoch_ms) {
        Some(iat) if iat.saturating_sub(expect.leeway_ms) <= expect.now => check(
            "iat",
            true,
            "Issue time is present and not in the future.".into(),
        ),
        Some(iat) => check(
            "iat",
            false,
            format!(
                "Issued {} seconds in the future: this machine's clock or the provider's is off.",
                iat.saturating_sub(expect.now) / 1000
            ),
        ),
        None => check("iat", false, "The ID token has no valid iat claim.".into()),
    }

    let sub = text("sub").filter(|s| !s.is_empty());
    match (sub, expect.subject) {
        (None, _) => check("sub", false, "The ID token has no subject (sub).".into()),
        (Some(s), Some(before)) if !ident::same(s, before) => check(
            "sub",
            false,
            format!(
                "The refreshed ID token names subject \"{s}\", not \"{before}\" as when the grant \
                 began (§12.2)."
            ),
        ),
        (Some(_), _) => check("sub", true, "Subject is present.".into()),
    }

    if let Some(expected) = expect.nonce {
        let got = text("nonce");
        let ok = got.is_some_and(|g| ident::same(g, expected));
        check(
            "nonce",
            ok,
            match got {
                _ if ok => "Matches the nonce sent with the authorization request.".into(),
                Some(_) => {
                    "Does not match the nonce sent: the ID token may be replayed from another \
                     sign-in."
                        .into()
                }
                None => "The ID token has no nonce, though one was sent.".into(),
            },
        );
    }

    if let Some(Value::Object(requested)) = expect.requested_claims {
        for (name, ask) in requested {
            let got = claims.get(name).filter(|v| !v.is_null());
            let essential = ask.get("essential").and_then(Value::as_bool) == Some(true);
            let wanted: Vec<&Value> = match (ask.get("value"), ask.get("values")) {
                (Some(v), _) => vec![v],
                (None, Some(Value::Array(vs))) => vs.iter().collect(),
                _ => Vec::new(),
            };
            let (ok, detail) = match got {
                None if essential => (
                    false,
                    format!(
                        "{name} was asked for as essential but the ID token does not carry it."
                    ),
                ),
                None => continue,
                Some(g) if !wanted.is_empty() && !wanted.contains(&g) => (
                    false,
                    format!(
                        "{name} is {g}, but the sign-in asked for {}.",
                        wanted
                            .iter()
                            .map(|w| w.to_string())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                ),
                Some(g) => (true, format!("{name} is {g}, as asked.")),
            };
            check(name, ok, detail);
        }
    }

    let hash_alg = half_hash_alg(alg_name);
    let mut hash_check = |claim: &str, value: Option<&str>, required: bool, what: &str| {
        let Some(value) = value else { return };
        let got = text(claim);
        if got.is_none() && !required {
            return;
        }
        let want = hash_alg.map(|h| half_hash(h, value));
        if want.is_none() && !required {
            // An unsigned token's hash proves nothing and has no defined hash: not checked.
            return;
        }
        let ok = matches!((got, &want), (Some(g), Some(w)) if g == w);
        check(
            claim,
            ok,
            match (got, want) {
                _ if ok => format!("Matches the {what} it came with."),
                (None, _) => format!("The ID token has no {claim}, which this response requires."),
                (Some(_), None) => format!("Cannot compute {claim} for algorithm \"{alg_name}\"."),
                (Some(_), Some(_)) => format!(
                    "Does not match the {what} it came with: the {what} may have been swapped."
                ),
            },
        );
    };
    hash_check("at_hash", expect.access_token, false, "access token");
    hash_check(
        "c_hash",
        expect.code,
        expect.channel == Channel::FrontChannel,
        "code",
    );
    hash_check("s_hash", expect.state, false, "state");

    IdTokenValidation { checks }
}

/// `iss` compared exactly with the issuer; `what` names the token in the details.
pub(crate) fn issuer_check(
    claims: &Value,
    issuer: &str,
    alias: Option<&str>,
    what: &str,
) -> (bool, String) {
    let iss = claims.get("iss").and_then(Value::as_str);
    let exact = iss.is_some_and(|i| ident::same(i, issuer));
    let aliased = !exact && iss.is_some_and(|i| alias.is_some_and(|a| ident::same(i, a)));
    let ok = exact || aliased;
    let detail = match iss {
        Some(i) if aliased => format!(
            "Issued by {issuer}, written \"{i}\": a spelling its provider documents for this \
             issuer (the profile's preset accepts it for this issuer only)."
        ),
        _ if ok => format!("Issued by {issuer}."),
        Some(i) if ident::differ_only_by_trailing_slash(i, issuer) => format!(
            "iss is \"{i}\", the issuer is \"{issuer}\": they differ in a trailing slash, and \
             issuers are compared exactly."
        ),
        Some(i) => format!(
            "iss is \"{i}\", expected exactly \"{issuer}\": it may come from another provider \
             (mix-up)."
        ),
        None => format!("{what} has no iss claim."),
    };
    (ok, detail)
}

/// `aud` (a string or a list) includes the client id; also the audiences read.
pub(crate) fn audience_check(
    claims: &Value,
    client_id: &str,
    what: &str,
) -> (bool, String, Vec<String>) {
    let aud: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let ok = ident::listed(&aud, client_id);
    let detail = if ok {
        format!("Audience includes the client id {client_id}.")
    } else if aud.is_empty() {
        format!("{what} has no aud claim.")
    } else {
        format!(
            "aud is {aud:?}, which does not include the client id \"{client_id}\": it was issued \
             to another client."
        )
    };
    (ok, detail, aud)
}

/// `exp` lies ahead (with `leeway_ms` of tolerance).
pub(crate) fn expiry_check(
    claims: &Value,
    now: Millis,
    leeway_ms: Millis,
    what: &str,
) -> (bool, String) {
    match claims.get("exp").and_then(lenient::epoch_ms) {
        // Saturating: an `exp` of 1e300 reads as i64::MAX, and adding the leeway must not
        // overflow (a panic in debug builds, an expired token after wrapping in release).
        Some(exp) if exp.saturating_add(leeway_ms) > now => (
            true,
            format!("Valid for {} more seconds.", exp.saturating_sub(now) / 1000),
        ),
        Some(exp) => (
            false,
            format!(
                "Expired {} seconds ago. If it was just issued, this machine's clock or the \
                 provider's is off; an old one may be replayed.",
                now.saturating_sub(exp) / 1000
            ),
        ),
        None => (false, format!("{what} has no valid exp claim.")),
    }
}

/// The one decision: an ID token that failed any check is not trusted, and the operation that
/// brought it fails with every failed check named.
pub fn require_valid(validation: &IdTokenValidation, context: &str) -> Result<(), Error> {
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
            "{context} failed: the ID token did not pass its checks, so nothing was stored. {}",
            failed.join(" ")
        ),
    );
    e.checks = validation.checks.clone();
    Err(e)
}

pub(crate) fn verify_signature(
    token: &str,
    alg_name: &str,
    header: &Value,
    jwks: Option<&JwkSet>,
    expect: &Expectations<'_>,
) -> (bool, String) {
    if !expect.allowed_algs.is_empty() && !expect.allowed_algs.contains(&alg_name) {
        return (
            false,
            format!(
                "Signed with \"{alg_name}\", which the profile's FAPI 2.0 mode does not allow \
                 (only {}).",
                expect.allowed_algs.join(", ")
            ),
        );
    }
    if let Some(want) = expect.expected_alg.filter(|w| !w.is_empty())
        && !ident::same(want, alg_name)
    {
        return (
            false,
            format!("Signed with \"{alg_name}\", but the client registered \"{want}\"."),
        );
    }
    if alg_name.eq_ignore_ascii_case("none") {
        let allowed =
            expect.expected_alg == Some("none") && expect.channel != Channel::FrontChannel;
        return if allowed && alg_name == "none" {
            (
                true,
                "Unsigned (alg none), as the client registered; accepted from the token endpoint \
                 only."
                    .into(),
            )
        } else {
            (
                false,
                "The ID token is unsigned (alg none). An unsigned ID token is accepted only when \
                 the profile expects one (ID token algorithm \"none\") and only from the token \
                 endpoint."
                    .into(),
            )
        };
    }
    let Ok(alg) = alg_name.parse::<Algorithm>() else {
        return (
            false,
            format!("Unsupported signing algorithm \"{alg_name}\"."),
        );
    };
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();

    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        let Some(secret) = expect.client_secret.filter(|s| !s.is_empty()) else {
            return (
                false,
                format!(
                    "Signed with {alg_name}, a shared-secret algorithm, but the profile has no \
                     client secret to verify it with."
                ),
            );
        };
        return match jsonwebtoken::decode::<Value>(
            token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        ) {
            Ok(_) => (
                true,
                format!("{alg_name} signature verified with the client secret."),
            ),
            Err(e) => (
                false,
                format!(
                    "The {alg_name} signature does not verify with the client secret ({e}). A \
                     token signed with the provider's public key as an HMAC secret looks like this."
                ),
            ),
        };
    }
    let Some(jwks) = jwks else {
        return (
            false,
            "No JWKS to verify against: set the JWKS URI or an issuer.".into(),
        );
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let fits = |jwk: &&jsonwebtoken::jwk::Jwk| {
        let kind_fits = matches!(
            (&jwk.algorithm, alg),
            (
                AlgorithmParameters::RSA(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (
                AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
        );
        let alg_fits = jwk
            .common
            .key_algorithm
            .is_none_or(|ka| ka.to_string() == alg_name);
        let use_fits = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
        let kid_fits = kid.is_none_or(|k| jwk.common.key_id.as_deref() == Some(k));
        kind_fits && alg_fits && use_fits && kid_fits
    };
    let candidates: Vec<_> = jwks.keys.iter().filter(fits).collect();
    if candidates.is_empty() {
        return (
            false,
            match kid {
                Some(k) => format!(
                    "No {alg_name} key with kid \"{k}\" in the provider's JWKS; the keys may have \
                     rotated."
                ),
                None => format!("No {alg_name} key in the provider's JWKS."),
            },
        );
    }
    let bounded = if candidates.len() > MAX_KEYS_TRIED {
        format!(
            " The JWKS has {} keys that fit; only the first {MAX_KEYS_TRIED} were tried.",
            candidates.len()
        )
    } else {
        String::new()
    };
    let mut last_err = String::new();
    for jwk in candidates.into_iter().take(MAX_KEYS_TRIED) {
        if let Some(bits) = rsa_bits(jwk).filter(|b| *b > MAX_RSA_BITS) {
            last_err = format!(
                "key {} has an RSA modulus of {bits} bits, more than the {MAX_RSA_BITS} TokenDesk \
                 verifies with; check the provider's JWKS",
                jwk.common.key_id.as_deref().unwrap_or("(no kid)")
            );
            continue;
        }
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
    (
        false,
        format!("The signature does not verify: {last_err}.{bounded}"),
    )
}

/// The size of an RSA key's modulus in bits; `None` for other keys or an unreadable modulus.
fn rsa_bits(jwk: &jsonwebtoken::jwk::Jwk) -> Option<usize> {
    let AlgorithmParameters::RSA(p) = &jwk.algorithm else {
        return None;
    };
    let n = URL_SAFE_NO_PAD.decode(p.n.trim_end_matches('=')).ok()?;
    let n = &n[n.iter().position(|b| *b != 0)?..];
    Some(n.len() * 8 - n[0].leading_zeros() as usize)
}

#[derive(Clone, Copy)]
enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

/// The hash of `at_hash` / `c_hash` / `s_hash`: that of the ID token's signing algorithm
/// (SHA-512 for EdDSA with Ed25519).
fn half_hash_alg(alg: &str) -> Option<HashAlg> {
    match alg {
        "HS256" | "RS256" | "PS256" | "ES256" | "ES256K" => Some(HashAlg::Sha256),
        "HS384" | "RS384" | "PS384" | "ES384" => Some(HashAlg::Sha384),
        "HS512" | "RS512" | "PS512" | "ES512" | "EdDSA" | "Ed25519" => Some(HashAlg::Sha512),
        _ => None,
    }
}

/// The base64url of the left half of the hash of the value's ASCII octets.
fn half_hash(alg: HashAlg, value: &str) -> String {
    let digest: Vec<u8> = match alg {
        HashAlg::Sha256 => sha2::Sha256::digest(value.as_bytes()).to_vec(),
        HashAlg::Sha384 => sha2::Sha384::digest(value.as_bytes()).to_vec(),
        HashAlg::Sha512 => sha2::Sha512::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// `at_hash` / `c_hash` / `s_hash` of a value for a signing algorithm (for tests and providers).
pub fn hash_for(alg: &str, value: &str) -> Option<String> {
    half_hash_alg(alg).map(|h| half_hash(h, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::inspect::test_jwt as jwt;

    fn expect<'a>() -> Expectations<'a> {
        Expectations {
            issuer: "https://op",
            issuer_alias: None,
            client_id: "app",
            nonce: Some("n1"),
            now: 200_000,
            leeway_ms: 0,
            channel: Channel::TokenEndpoint,
            client_secret: None,
            expected_alg: None,
            allowed_algs: &[],
            access_token: None,
            code: None,
            state: None,
            subject: None,
            requested_claims: None,
        }
    }

    fn failed(v: &IdTokenValidation) -> Vec<&str> {
        v.failures().iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn claim_checks_report_each_failure() {
        let t = jwt(
            r#"{"alg":"none"}"#,
            r#"{"iss":"https://evil","aud":["other","x"],"exp":100,"nonce":"n2"}"#,
        );
        let v = validate(&t, None, &expect());
        assert_eq!(
            failed(&v),
            [
                "signature",
                "iss",
                "aud",
                "azp",
                "exp",
                "iat",
                "sub",
                "nonce"
            ]
        );
        assert!(!v.valid());
        let e = require_valid(&v, "Sign-in").unwrap_err();
        assert_eq!(e.code, ErrorCode::CheckFailed);
        assert_eq!(e.checks.len(), v.checks.len());
        assert!(e.message.contains("nothing was stored"), "{}", e.message);
    }

    #[test]
    fn fapi_mode_refuses_algorithms_outside_its_list() {
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"s","nonce":"n1"}"#,
        );
        let mut e = expect();
        e.allowed_algs = crate::fapi::ALGS;
        let v = validate(&t, None, &e);
        assert_eq!(failed(&v), ["signature"]);
        assert!(v.checks[0].detail.contains("FAPI 2.0"), "{:?}", v.checks[0]);
        // The same token without FAPI fails only for want of a JWKS, not for its algorithm.
        let plain = validate(&t, None, &expect());
        assert!(!plain.checks[0].detail.contains("FAPI"));
    }

    #[test]
    fn identifiers_are_compared_exactly() {
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://op/","aud":"App","exp":1000,"iat":100,"sub":"s","nonce":"n1"}"#,
        );
        let v = validate(&t, None, &expect());
        assert_eq!(failed(&v), ["signature", "iss", "aud"]);
        assert!(
            v.checks[1].detail.contains("trailing slash"),
            "{:?}",
            v.checks[1]
        );
    }

    #[test]
    fn unsigned_tokens_only_where_expected_and_never_from_the_front_channel() {
        let t = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(
                r#"{"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"s","nonce":"n1"}"#
            )
        );
        assert_eq!(failed(&validate(&t, None, &expect())), ["signature"]);
        let mut e = expect();
        e.expected_alg = Some("none");
        assert!(validate(&t, None, &e).valid());
        e.channel = Channel::FrontChannel;
        assert_eq!(failed(&validate(&t, None, &e)), ["signature"]);
    }

    #[test]
    fn hs256_verifies_with_the_client_secret_only() {
        let claims = serde_json::json!({"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"s","nonce":"n1"});
        let t = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"the-secret"),
        )
        .unwrap();
        let mut e = expect();
        assert_eq!(failed(&validate(&t, None, &e)), ["signature"], "no secret");
        e.client_secret = Some("other");
        assert_eq!(
            failed(&validate(&t, None, &e)),
            ["signature"],
            "wrong secret"
        );
        e.client_secret = Some("the-secret");
        assert!(validate(&t, None, &e).valid());
        e.expected_alg = Some("RS256");
        assert_eq!(
            failed(&validate(&t, None, &e)),
            ["signature"],
            "not the registered alg"
        );
    }

    #[test]
    fn hashes_follow_the_spec_example() {
        // OpenID Connect Core, A.3: the at_hash of this access token with RS256.
        assert_eq!(
            hash_for("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").unwrap(),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        // A.4: c_hash.
        assert_eq!(
            hash_for(
                "RS256",
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            )
            .unwrap(),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn c_hash_is_required_in_the_front_channel_and_at_hash_checked_when_present() {
        let c = hash_for("RS256", "code-1").unwrap();
        let claims = |extra: &str| {
            format!(
                r#"{{"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"s","nonce":"n1"{extra}}}"#
            )
        };
        let mut e = expect();
        e.channel = Channel::FrontChannel;
        e.code = Some("code-1");
        e.state = Some("st");
        let t = jwt(r#"{"alg":"RS256"}"#, &claims(""));
        assert_eq!(failed(&validate(&t, None, &e)), ["signature", "c_hash"]);
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            &claims(&format!(r#","c_hash":"{c}""#)),
        );
        assert_eq!(failed(&validate(&t, None, &e)), ["signature"]);
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            &claims(&format!(r#","c_hash":"{c}","s_hash":"tampered""#)),
        );
        assert_eq!(failed(&validate(&t, None, &e)), ["signature", "s_hash"]);
        let mut e = expect();
        e.access_token = Some("AT");
        let t = jwt(r#"{"alg":"RS256"}"#, &claims(r#","at_hash":"nope""#));
        assert_eq!(failed(&validate(&t, None, &e)), ["signature", "at_hash"]);
    }

    #[test]
    fn requested_claims_must_come_back_as_asked() {
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"s","nonce":"n1","authorizationId":"other","acr":"urn:openbanking:psd2:ca"}"#,
        );
        let asked = serde_json::json!({
            "authorizationId": {"value": "a-1", "essential": true},
            "acr": {"essential": true, "values": ["urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"]},
            "consent": {"essential": true},
            "optional": {"essential": false}
        });
        let mut e = expect();
        e.requested_claims = Some(&asked);
        let v = validate(&t, None, &e);
        assert_eq!(failed(&v), ["signature", "authorizationId", "consent"]);
        assert!(v.checks.iter().any(|c| c.name == "acr" && c.ok));
    }

    #[test]
    fn a_refreshed_token_must_name_the_same_subject() {
        let t = jwt(
            r#"{"alg":"RS256"}"#,
            r#"{"iss":"https://op","aud":"app","exp":1000,"iat":100,"sub":"mallory"}"#,
        );
        let mut e = expect();
        e.nonce = None;
        e.channel = Channel::Refresh;
        e.subject = Some("alice");
        assert_eq!(failed(&validate(&t, None, &e)), ["signature", "sub"]);
    }
}
