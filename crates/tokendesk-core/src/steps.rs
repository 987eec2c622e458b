//! Steps before a token: HTTP requests a profile sends before it signs in or asks for a token —
//! PSD2's consent registration (`POST /accounts-psd2/v1/authorizations` → `authorizationId`),
//! a payment with a detached JWS, UK Open Banking's intent, Berlin Group's consent. Each step is
//! data: method, URL, headers and a JSON body as templates, optionally the access token of
//! another profile (often a client-credentials sibling) and a detached JWS of the body in a
//! header; named values are captured from the JSON answer by JSON pointer and feed the templates
//! of later steps and of the sign-in itself. A new bank needs a profile, not a release.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::profile::{AssertionAlg, Param};
use crate::template::Values;

/// One request before the token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Step {
    /// What it does, for people: "Register the account-information consent".
    pub name: String,
    /// `POST` unless set.
    pub method: String,
    /// A template (`https://sandbox.example/accounts-psd2/v1/authorizations`).
    pub url: String,
    /// Templates; `{{uuid}}` gives a fresh id per request.
    pub headers: Vec<Param>,
    /// A JSON template; empty: no body.
    pub body: Option<String>,
    /// The profile (by name) whose access token goes in `Authorization: Bearer`; it is fetched
    /// or refreshed first when needed.
    pub token_from: Option<String>,
    /// A header to carry a detached JWS of the body (RFC 7515 appendix F, `header..signature`),
    /// signed with this profile's signing key: `x-jws-signature`.
    pub jws_header: Option<String>,
    /// Values taken from the JSON answer.
    pub capture: Vec<Capture>,
}

/// A named value from a step's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Capture {
    /// The template name: `authorizationId` → `{{authorizationId}}`.
    pub name: String,
    /// A JSON pointer (RFC 6901) into the answer: `/authorizationId`, `/Data/ConsentId`.
    pub pointer: String,
}

impl Step {
    pub fn method(&self) -> &str {
        if self.method.trim().is_empty() {
            "POST"
        } else {
            self.method.trim()
        }
    }

    /// "step 1 (Register the consent)" for messages.
    pub fn label(&self, index: usize) -> String {
        if self.name.trim().is_empty() {
            format!("step {}", index + 1)
        } else {
            format!("step {} ({})", index + 1, self.name.trim())
        }
    }
}

/// Checks the steps of a profile as the user saved them (what can be checked before they run).
pub fn validate(steps: &[Step], profile_name: &str, errs: &mut Vec<(String, String)>) {
    for (i, s) in steps.iter().enumerate() {
        let field = |f: &str| format!("steps[{i}].{f}");
        if s.url.trim().is_empty() {
            errs.push((field("url"), "Each step needs a URL.".into()));
        }
        if !["GET", "POST", "PUT", "PATCH", "DELETE"]
            .contains(&s.method().to_ascii_uppercase().as_str())
        {
            errs.push((
                field("method"),
                format!("\"{}\" is not an HTTP method TokenDesk sends.", s.method),
            ));
        }
        if let Some(body) = s.body.as_deref().filter(|b| !b.trim().is_empty())
            && let Err(e) = serde_json::from_str::<Value>(body)
        {
            errs.push((
                field("body"),
                format!("The body template is not JSON ({e})."),
            ));
        }
        if s.token_from.as_deref().is_some_and(|t| t == profile_name) {
            errs.push((
                field("token_from"),
                "A step cannot use the token of its own profile (it runs before that token exists)."
                    .into(),
            ));
        }
        for (j, c) in s.capture.iter().enumerate() {
            if c.name.trim().is_empty()
                || !c
                    .name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                errs.push((
                    format!("steps[{i}].capture[{j}].name"),
                    "A captured value needs a name of letters, digits and _.".into(),
                ));
            }
            if !c.pointer.is_empty() && !c.pointer.starts_with('/') {
                errs.push((
                    format!("steps[{i}].capture[{j}].pointer"),
                    format!(
                        "\"{}\" is not a JSON pointer: it starts with /, as in /authorizationId.",
                        c.pointer
                    ),
                ));
            }
        }
    }
}

/// A detached JWS of `payload` (RFC 7515 appendix F): the protected header, nothing, the
/// signature — `header..signature`.
pub fn detached_jws(
    payload: &[u8],
    key_pem: &str,
    alg: AssertionAlg,
    kid: Option<&str>,
) -> Result<String> {
    let key = crate::flow::assertion::signing_key(alg, key_pem)?;
    let mut header = serde_json::json!({ "alg": alg.as_str() });
    if let Some(k) = kid {
        header["kid"] = k.into();
    }
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key,
        crate::flow::assertion::algorithm(alg),
    )
    .map_err(|e| Error::internal(format!("signing the body failed: {e}")))?;
    Ok(format!("{header}..{signature}"))
}

/// Takes the step's captures from its answer; a pointer that finds nothing is an error that
/// names the step, the pointer and what the answer has instead.
pub fn capture(step: &Step, label: &str, answer: &[u8], values: &mut Values) -> Result<()> {
    if step.capture.is_empty() {
        return Ok(());
    }
    let json: Value = serde_json::from_slice(answer).map_err(|e| {
        Error::new(
            ErrorCode::BadResponse,
            format!(
                "The answer to {label} is not JSON ({e}), so {} cannot be taken from it. The \
                 exchange log shows the answer.",
                step.capture
                    .iter()
                    .map(|c| format!("{{{{{}}}}}", c.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    for c in &step.capture {
        let found = json.pointer(&c.pointer).filter(|v| !v.is_null());
        let Some(v) = found else {
            let keys = match &json {
                Value::Object(m) => m.keys().cloned().collect::<Vec<_>>().join(", "),
                _ => "none (not an object)".into(),
            };
            return Err(Error::new(
                ErrorCode::BadResponse,
                format!(
                    "The answer to {label} has nothing at {} for {{{{{}}}}}. Its top-level keys: \
                     {keys}. Check the step's capture pointer; the exchange log shows the answer.",
                    c.pointer, c.name
                ),
            ));
        };
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        values.insert(c.name.clone(), text);
    }
    Ok(())
}

/// What to say when a step's answer is not a success.
pub fn refused(label: &str, status: u16, content_type: &str, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.trim().chars().take(300).collect();
    let html = content_type.contains("html") || excerpt.starts_with('<');
    let what = if html {
        "an HTML page (a login page, a proxy or a gateway error is in the way)".to_owned()
    } else if excerpt.is_empty() {
        "an empty body".to_owned()
    } else {
        format!("\"{excerpt}\"")
    };
    let check = match status {
        401 | 403 => {
            "Check the token it sends (the profile it takes the token from, and that \
                      token's scope) and headers such as x-api-key."
        }
        400 | 422 => "Check the step's body and headers against the API's documentation.",
        404 | 405 => "Check the step's URL and method.",
        _ if status >= 500 => "The API failed on its side; try again later.",
        _ => "Check the step's URL, headers and body.",
    };
    Error::new(
        ErrorCode::ProviderError,
        format!(
            "{} got HTTP {status} with {what}. {check} Nothing was redeemed or stored.",
            capitalize(label)
        ),
    )
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey};

    const KEY: &str = include_str!("flow/testdata/rsa-2048.pem");
    const PUBLIC: &str = include_str!("flow/testdata/rsa-2048.pub.pem");

    #[test]
    fn a_detached_jws_verifies_over_the_exact_body_with_a_jose_library() {
        let body = br#"{"amount":"12.50","currency":"EUR"}"#;
        let jws = detached_jws(body, KEY, AssertionAlg::PS256, Some("k1")).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts[1].is_empty(), "the payload is detached");
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["kid"], "k1");
        // Re-attach the payload and verify with jsonwebtoken's own verification.
        let attached = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(body), parts[2]);
        let key = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap();
        let message = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode(body));
        assert!(
            jsonwebtoken::crypto::verify(parts[2], message.as_bytes(), &key, Algorithm::PS256)
                .unwrap()
        );
        let tampered = format!(
            "{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(br#"{"amount":"99.00"}"#)
        );
        assert!(
            !jsonwebtoken::crypto::verify(parts[2], tampered.as_bytes(), &key, Algorithm::PS256)
                .unwrap(),
            "a changed body does not verify"
        );
        assert!(attached.len() > jws.len());
    }

    #[test]
    fn captures_take_values_by_pointer_and_name_what_is_missing() {
        let step = Step {
            name: "Register consent".into(),
            capture: vec![
                Capture {
                    name: "authorizationId".into(),
                    pointer: "/authorizationId".into(),
                },
                Capture {
                    name: "expires".into(),
                    pointer: "/links/0/expires".into(),
                },
            ],
            ..Default::default()
        };
        let mut v = Values::new();
        capture(
            &step,
            "step 1",
            br#"{"authorizationId":"a-1","links":[{"expires":1700}]}"#,
            &mut v,
        )
        .unwrap();
        assert_eq!(v.get("authorizationId"), Some("a-1"));
        assert_eq!(v.get("expires"), Some("1700"));
        let e = capture(&step, "step 1", br#"{"id":"a-1"}"#, &mut Values::new()).unwrap_err();
        assert!(
            e.message.contains("/authorizationId") && e.message.contains("keys: id"),
            "{}",
            e.message
        );
        let e = capture(&step, "step 1", b"<html>", &mut Values::new()).unwrap_err();
        assert!(e.message.contains("not JSON"), "{}", e.message);
    }

    #[test]
    fn refusals_name_the_step_and_what_to_check() {
        let e = refused(
            "step 1 (Register consent)",
            401,
            "application/json",
            br#"{"error":"invalid_token"}"#,
        );
        assert!(
            e.message
                .starts_with("Step 1 (Register consent) got HTTP 401"),
            "{}",
            e.message
        );
        assert!(e.message.contains("x-api-key"), "{}", e.message);
        let e = refused(
            "step 2",
            502,
            "text/html",
            b"<html><title>Bad gateway</title>",
        );
        assert!(e.message.contains("HTML page"), "{}", e.message);
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut errs = Vec::new();
        validate(
            &[Step {
                method: "FETCH".into(),
                body: Some("{not json".into()),
                token_from: Some("me".into()),
                capture: vec![Capture {
                    name: "a b".into(),
                    pointer: "authorizationId".into(),
                }],
                ..Default::default()
            }],
            "me",
            &mut errs,
        );
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "steps[0].url",
                "steps[0].method",
                "steps[0].body",
                "steps[0].token_from",
                "steps[0].capture[0].name",
                "steps[0].capture[0].pointer"
            ]
        );
    }
}
