//! Redaction of what crosses the wire, for the exchange log and messages: by name (parameters,
//! JSON fields, headers known to carry secrets) and by value (every secret known to the call).

use std::borrow::Cow;

use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

/// Form parameters, query parameters and JSON fields whose values are secret.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "client_assertion",
    "assertion",
    "password",
    "token",
    "device_code",
    // CIBA: the request's id and the notification's bearer token are credentials, and so are
    // the hints that are tokens.
    "auth_req_id",
    "client_notification_token",
    "id_token_hint",
    "login_hint_token",
    "subject_token",
    "actor_token",
    "private_key",
];

pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Header name parts that make a header's value secret.
const SECRET_HEADER_PARTS: &[&str] = &[
    "cookie",
    "secret",
    "token",
    "key",
    "signature",
    "assertion",
    "session",
];

/// Whether a header's value is secret: credentials, cookies, keys.
pub fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
        || SECRET_HEADER_PARTS
            .iter()
            .any(|part| contains_ignore_ascii_case(name, part))
}

/// Whether `part` (lowercase ASCII) is in `text`, whatever the case of its ASCII letters.
fn contains_ignore_ascii_case(text: &str, part: &str) -> bool {
    text.as_bytes()
        .windows(part.len())
        .any(|w| w.eq_ignore_ascii_case(part.as_bytes()))
}

/// A header value with its secret part hidden; `Authorization: Basic …` keeps its scheme. A
/// value that is not secret comes back as it is, not copied.
pub fn header_value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    if !is_secret_header(name) {
        return Cow::Borrowed(value);
    }
    match value.split_once(' ') {
        Some((scheme, _))
            if name.eq_ignore_ascii_case("authorization")
                || name.eq_ignore_ascii_case("proxy-authorization") =>
        {
            Cow::Owned(format!("{scheme} {REDACTED}"))
        }
        _ => Cow::Borrowed(REDACTED),
    }
}

/// An `application/x-www-form-urlencoded` body or URL query with secret parameters hidden (as
/// it is, not copied, when it has none).
pub fn form(body: &str) -> Cow<'_, str> {
    let secret = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(k, _)| is_secret_name(&url_decode(k)))
    };
    if !body.split('&').any(secret) {
        return Cow::Borrowed(body);
    }
    Cow::Owned(
        body.split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if secret(pair) => format!("{k}={REDACTED}"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&"),
    )
}

fn url_decode(s: &str) -> Cow<'_, str> {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k)
        .unwrap_or_default()
}

/// A URL with secret query parameters hidden (as it is, not copied, when it has no query).
pub fn url(u: &str) -> Cow<'_, str> {
    Cow::Owned(match u.split_once('?') {
        Some((base, query)) => {
            let (query, frag) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let mut out = format!("{base}?{}", form(query));
            if let Some(f) = frag {
                out.push('#');
                out.push_str(&form(f));
            }
            out
        }
        None => return Cow::Borrowed(u),
    })
}

/// A JSON value with secret fields hidden, at any depth.
pub fn json(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    if is_secret_name(k) && !val.is_null() {
                        *val = Value::String(REDACTED.to_owned());
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// A body of any type with secrets hidden: JSON by field, forms by parameter, anything else
/// as it is (value scrubbing still applies after).
pub fn body<'a>(content_type: Option<&str>, text: &'a str) -> Cow<'a, str> {
    let ct = content_type.unwrap_or("");
    if (contains_ignore_ascii_case(ct, "json") || text.trim_start().starts_with('{'))
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return Cow::Owned(serde_json::to_string_pretty(&json(v)).unwrap_or_default());
    }
    if contains_ignore_ascii_case(ct, "x-www-form-urlencoded") {
        return form(text);
    }
    Cow::Borrowed(text)
}

/// Known secret values, to scrub from any text wherever they appear (raw or url-encoded).
#[derive(Default, Clone)]
pub struct Scrubber {
    needles: Vec<String>,
}

impl Scrubber {
    pub fn add(&mut self, secret: &str) {
        // Short values would scrub ordinary words; real secrets are longer.
        if secret.len() < 6 {
            return;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for n in [secret.to_owned(), encoded] {
            if !self.needles.contains(&n) {
                self.needles.push(n);
            }
        }
        // Longest first, so a secret is not half-replaced by a shorter one it contains.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    /// `text` with every known secret replaced; a text without any comes back as it was given
    /// (borrowed or owned), not copied.
    pub fn scrub<'a>(&self, text: impl Into<Cow<'a, str>>) -> Cow<'a, str> {
        let mut out = text.into();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = Cow::Owned(out.replace(n.as_str(), REDACTED));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_hide_secret_parameters_only() {
        assert_eq!(
            form("grant_type=authorization_code&code=abc&code_verifier=xyz&client_id=app"),
            "grant_type=authorization_code&code=<redacted>&code_verifier=<redacted>&client_id=app"
        );
        assert_eq!(
            form("client_secret=s3&scope=a+b"),
            "client_secret=<redacted>&scope=a+b"
        );
    }

    #[test]
    fn forms_and_urls_without_secrets_are_not_copied_and_encoded_names_are_seen() {
        let plain = "grant_type=client_credentials&scope=api%3Aread";
        assert!(matches!(form(plain), Cow::Borrowed(p) if p == plain));
        assert_eq!(
            form("grant_type=x&client%5Fsecret=s3&Code=c"),
            "grant_type=x&client%5Fsecret=<redacted>&Code=<redacted>"
        );
        assert!(matches!(url("https://a.example/token"), Cow::Borrowed(_)));
        assert_eq!(
            body(Some("Application/X-WWW-Form-Urlencoded"), "code=c&state=s"),
            "code=<redacted>&state=s"
        );
        assert_eq!(
            body(Some("Application/JSON"), r#"{"access_token":"at"}"#),
            "{\n  \"access_token\": \"<redacted>\"\n}"
        );
        assert!(matches!(
            body(Some("text/plain"), "hello"),
            Cow::Borrowed("hello")
        ));
    }

    #[test]
    fn json_hides_tokens_at_any_depth_but_keeps_metadata() {
        let v = serde_json::json!({
            "access_token": "at", "token_type": "Bearer", "expires_in": 60,
            "refresh_token_expires_in": "900", "nested": {"id_token": "x"}
        });
        let r = json(v);
        assert_eq!(r["access_token"], REDACTED);
        assert_eq!(r["nested"]["id_token"], REDACTED);
        assert_eq!(r["token_type"], "Bearer");
        assert_eq!(r["refresh_token_expires_in"], "900");
    }

    #[test]
    fn authorization_header_keeps_its_scheme() {
        assert_eq!(
            header_value("Authorization", "Basic Y2xpZW50OnNlY3JldA=="),
            "Basic <redacted>"
        );
        assert_eq!(header_value("x-api-key", "k"), REDACTED);
        assert_eq!(
            header_value("content-type", "application/json"),
            "application/json"
        );
    }

    #[test]
    fn urls_hide_codes_in_query_and_fragment() {
        assert_eq!(
            url("http://127.0.0.1:5/cb?code=abc&state=s#id_token=x&state=s"),
            "http://127.0.0.1:5/cb?code=<redacted>&state=s#id_token=<redacted>&state=s"
        );
    }

    #[test]
    fn secret_headers_are_known_whatever_their_case() {
        for name in [
            "Authorization",
            "PROXY-AUTHORIZATION",
            "Set-Cookie",
            "X-Client-Secret",
            "X-Auth-Token",
            "X-API-KEY",
            "X-Amz-Signature",
            "X-Client-Assertion",
            "X-Session-Id",
        ] {
            assert!(is_secret_header(name), "{name}");
            assert_eq!(header_value(name, "opaque"), REDACTED, "{name}");
        }
        for name in [
            "Content-Type",
            "Accept",
            "Cache-Control",
            "X-Request-Id",
            "K",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
        assert!(is_secret_name("Access_Token") && is_secret_name("CODE"));
        assert!(!is_secret_name("codes") && !is_secret_name("scope"));
    }

    #[test]
    fn what_holds_no_secret_is_not_copied() {
        assert!(matches!(
            header_value("Content-Type", "application/json"),
            Cow::Borrowed("application/json")
        ));
        let mut s = Scrubber::default();
        s.add("p@ss/word+1");
        assert!(matches!(
            s.scrub("nothing here"),
            Cow::Borrowed("nothing here")
        ));
        let owned = String::from("still nothing");
        let at = owned.as_ptr();
        let Cow::Owned(back) = s.scrub(owned) else {
            panic!("an owned text comes back owned");
        };
        assert_eq!(back.as_ptr(), at, "the same buffer, not a copy");
        assert_eq!(s.scrub(String::from("x p@ss/word+1 y")), "x <redacted> y");
        assert_eq!(s.scrub("x p%40ss%2Fword%2B1 y"), "x <redacted> y");
    }

    #[test]
    fn scrubber_replaces_raw_and_encoded_values() {
        let mut s = Scrubber::default();
        s.add("p@ss/word+1");
        s.add("abc");
        assert_eq!(
            s.scrub("a p@ss/word+1 b p%40ss%2Fword%2B1 abc"),
            "a <redacted> b <redacted> abc"
        );
    }
}
