//! Redaction of what crosses the wire, for the exchange log and messages: by name (parameters,
//! JSON fields, headers known to carry secrets) and by value (every secret known to the call).

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
    SECRET_NAMES.contains(&name.to_ascii_lowercase().as_str())
}

/// Whether a header's value is secret: credentials, cookies, keys.
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("cookie")
        || n.contains("secret")
        || n.contains("token")
        || n.contains("key")
        || n.contains("signature")
        || n.contains("assertion")
        || n.contains("session")
}

/// A header value with its secret part hidden; `Authorization: Basic …` keeps its scheme.
pub fn header_value(name: &str, value: &str) -> String {
    if !is_secret_header(name) {
        return value.to_owned();
    }
    match value.split_once(' ') {
        Some((scheme, _))
            if name.eq_ignore_ascii_case("authorization")
                || name.eq_ignore_ascii_case("proxy-authorization") =>
        {
            format!("{scheme} {REDACTED}")
        }
        _ => REDACTED.to_owned(),
    }
}

/// An `application/x-www-form-urlencoded` body or URL query with secret parameters hidden.
pub fn form(body: &str) -> String {
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_name(&url_decode(k)) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// A URL with secret query parameters hidden.
pub fn url(u: &str) -> String {
    match u.split_once('?') {
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
        None => u.to_owned(),
    }
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
pub fn body(content_type: Option<&str>, text: &str) -> String {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if (ct.contains("json") || text.trim_start().starts_with('{'))
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return serde_json::to_string_pretty(&json(v)).unwrap_or_default();
    }
    if ct.contains("x-www-form-urlencoded") {
        return form(text);
    }
    text.to_owned()
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

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REDACTED);
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
