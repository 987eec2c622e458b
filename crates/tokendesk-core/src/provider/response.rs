//! The token and error responses as the oauth2 crate sees them, read leniently and keeping every
//! field the provider sent.

use std::fmt;
use std::time::Duration;

use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::lenient;
use crate::redact;

/// A token response: the standard fields for the oauth2 crate, every raw field for display.
///
/// Accepts numbers as strings, `token_type` values other than `Bearer` (`BearerToken`), a
/// missing `token_type`, an empty `scope`, and any extra field.
pub struct TokenResponse {
    access_token: AccessToken,
    token_type: BasicTokenType,
    expires_in: Option<Duration>,
    refresh_token: Option<RefreshToken>,
    scopes: Option<Vec<Scope>>,
    /// Every field as sent, secrets included: never logged, never stored as is.
    raw: Map<String, Value>,
}

impl TokenResponse {
    /// The raw fields with the token values removed, safe to store and show.
    pub fn raw_redacted(&self) -> Map<String, Value> {
        match redact::json(Value::Object(self.raw.clone())) {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    pub fn raw_field(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }

    pub fn token_type_raw(&self) -> String {
        self.raw
            .get("token_type")
            .and_then(Value::as_str)
            .unwrap_or("Bearer")
            .to_owned()
    }

    pub fn scope_raw(&self) -> Option<String> {
        self.raw.get("scope").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
    }

    /// Why the access token is dead on arrival, if it is: `expires_in` of zero or below, or an
    /// absolute expiry (`expires_at`, or the JWT's `exp` when nothing else is said) in the past.
    /// Such a token is never stored or handed out.
    pub fn expiry_problem(&self, now_ms: i64) -> Option<String> {
        if let Some(v) = self.raw.get("expires_in").and_then(lenient::number) {
            return (v <= 0.0)
                .then(|| format!("its expires_in is {v}: the token expired before it arrived"));
        }
        let at = self.raw.get("expires_at").and_then(lenient::epoch_ms);
        if let Some(at) = at {
            return (at <= now_ms)
                .then(|| format!("its expires_at lies {} s in the past", (now_ms - at) / 1000));
        }
        None
    }

    /// The absolute expiry the provider sent (`expires_at`, seconds or milliseconds).
    pub fn expires_at_ms(&self) -> Option<i64> {
        self.raw.get("expires_at").and_then(lenient::epoch_ms)
    }

    pub fn id_token(&self) -> Option<&str> {
        self.raw
            .get("id_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("fields", &self.raw.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The longest lifetime (`expires_in`, `refresh_token_expires_in`) taken as one: a century.
/// Beyond it a number is not a lifetime (`99999999999999999999999`, `1e300`): refused, named.
pub const MAX_LIFETIME_S: f64 = 100.0 * 365.25 * 86_400.0;

impl<'de> Deserialize<'de> for TokenResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = deserializer.deserialize_map(crate::json_object::UniqueMembers)?;
        let access_token = match raw.get("access_token") {
            Some(Value::String(s)) if !s.is_empty() => AccessToken::new(s.clone()),
            Some(_) => return Err(D::Error::custom("access_token is empty or not a string")),
            None => return Err(D::Error::missing_field("access_token")),
        };
        let token_type = match raw.get("token_type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => BasicTokenType::Bearer,
            Some(t) if t.eq_ignore_ascii_case("mac") => BasicTokenType::Mac,
            Some(t) => BasicTokenType::Extension(t.to_owned()),
            None => BasicTokenType::Bearer,
        };
        // A lifetime that is not a number is nonsense, not "no expiry"; zero or below is a
        // token that is already dead (see `expiry_problem`).
        let seconds = |name: &str| -> Result<Option<f64>, D::Error> {
            match raw.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match lenient::number(v) {
                    Some(n) if n > MAX_LIFETIME_S => Err(D::Error::custom(format!(
                        "{name} is {v}, more than a century: not a lifetime TokenDesk can count \
                         down from (at most {MAX_LIFETIME_S} s)"
                    ))),
                    Some(n) => Ok(Some(n)),
                    None => Err(D::Error::custom(format!(
                        "{name} is {v}, not a number of seconds"
                    ))),
                },
            }
        };
        // A lifetime too long for a Duration (1e300 s) is "as long as can be", not a panic.
        let expires_in = seconds("expires_in")?
            .map(|n| Duration::try_from_secs_f64(n.max(0.0)).unwrap_or(Duration::MAX));
        seconds("refresh_token_expires_in")?;
        for name in ["expires_at", "refresh_token_expires_at"] {
            if let Some(v) = raw.get(name).filter(|v| !v.is_null())
                && lenient::epoch_ms(v).is_none()
            {
                return Err(D::Error::custom(format!("{name} is {v}, not a time")));
            }
        }
        let refresh_token = raw
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| RefreshToken::new(s.to_owned()));
        let mut me = Self {
            access_token,
            token_type,
            expires_in,
            refresh_token,
            scopes: None,
            raw,
        };
        me.scopes = me.scope_raw().map(|s| {
            s.split_whitespace()
                .map(|x| Scope::new(x.to_owned()))
                .collect()
        });
        Ok(me)
    }
}

/// Serialises the redacted fields: a token response never leaves as it came.
impl Serialize for TokenResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw_redacted().serialize(serializer)
    }
}

impl oauth2::TokenResponse for TokenResponse {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

/// An error answer: RFC 6749 (`error`, `error_description`) or a gateway's own shape
/// (`ErrorCode`/`Error`, Apigee's `fault`, `{"error": {"code", "message"}}`, `message`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    /// The OAuth error code (`invalid_client`), or the gateway's, or empty if none was given.
    pub error: String,
    pub description: Option<String>,
    pub uri: Option<String>,
    /// The whole answer, secrets redacted.
    pub raw: Value,
}

impl<'de> Deserialize<'de> for ProviderError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let Value::Object(map) = &raw else {
            return Err(D::Error::custom("an error answer must be a JSON object"));
        };
        let text = |v: Option<&Value>| -> Option<String> {
            match v? {
                // Printable: an error_description carrying terminal escape sequences is shown
                // as text in the CLI, never interpreted.
                Value::String(s) if !s.trim().is_empty() => Some(lenient::printable(s.trim())),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let get = |path: &[&str]| -> Option<String> {
            let mut v = map.get(path[0])?;
            for p in &path[1..] {
                v = v.get(p)?;
            }
            text(Some(v))
        };
        let error = get(&["error"])
            .or_else(|| get(&["error", "code"]))
            .or_else(|| get(&["ErrorCode"]))
            .or_else(|| get(&["errorCode"]))
            .or_else(|| get(&["error_code"]))
            .or_else(|| get(&["fault", "detail", "errorcode"]))
            .or_else(|| get(&["code"]))
            .unwrap_or_default();
        let description = get(&["error_description"])
            .or_else(|| get(&["error", "message"]))
            .or_else(|| get(&["Error"]))
            .or_else(|| get(&["errorMessage"]))
            .or_else(|| get(&["fault", "faultstring"]))
            .or_else(|| get(&["message"]))
            .or_else(|| get(&["detail"]));
        let uri = get(&["error_uri"]);
        Ok(Self {
            error,
            description,
            uri,
            raw: redact::json(raw),
        })
    }
}

impl Serialize for ProviderError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.error, &self.description) {
            (e, Some(d)) if !e.is_empty() => write!(f, "{e}: {d}"),
            (e, None) if !e.is_empty() => f.write_str(e),
            (_, Some(d)) => f.write_str(d),
            // JSON leaves DEL and the C1 controls (U+009B opens a terminal escape) unescaped.
            _ => f.write_str(&lenient::printable(&self.raw.to_string())),
        }
    }
}

impl oauth2::ErrorResponse for ProviderError {}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::TokenResponse as _;
    use serde_json::json;

    #[test]
    fn a_member_named_twice_is_refused_by_name() {
        let e = serde_json::from_str::<TokenResponse>(
            r#"{"access_token":"first","token_type":"Bearer","access_token":"second"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("access_token appears twice"), "{e}");
        // Other fields stay lenient: unknown ones are kept, once each.
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","x":1,"y":{"x":2}}"#).unwrap();
        assert_eq!(r.raw_field("y"), Some(&json!({"x": 2})));
    }

    #[test]
    fn a_lifetime_beyond_a_century_is_refused_not_a_panic() {
        // 1e23 s does not fit a Duration (Duration::from_secs_f64 panics on it), nor its
        // milliseconds an i64.
        for body in [
            r#"{"access_token":"a","expires_in":99999999999999999999999}"#,
            r#"{"access_token":"a","expires_in":"1e300"}"#,
            r#"{"access_token":"a","refresh_token":"r","refresh_token_expires_in":9223372036854775807}"#,
        ] {
            let e = serde_json::from_str::<TokenResponse>(body).unwrap_err();
            assert!(e.to_string().contains("more than a century"), "{body}: {e}");
        }
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":2147483647}"#).unwrap();
        assert_eq!(r.expires_in(), Some(Duration::from_secs(2_147_483_647)));
    }

    #[test]
    fn gateway_shaped_response_is_read_and_every_field_kept() {
        let body = json!({
            "refresh_token_expires_in": "899", "api_product_list": "[psd2-accounts]",
            "token_type": "BearerToken", "issued_at": "1700000000123", "client_id": "gw",
            "access_token": "AT-123", "scope": "", "expires_in": "3599", "refresh_count": "2",
            "status": "approved", "refresh_token": "RT-456", "refresh_token_issued_at": "1700000000000",
            "weird": {"nested": [1, 2]}
        });
        let r: TokenResponse = serde_json::from_value(body).unwrap();
        assert_eq!(r.access_token().secret(), "AT-123");
        assert_eq!(
            r.token_type(),
            &BasicTokenType::Extension("BearerToken".into())
        );
        assert_eq!(r.expires_in(), Some(Duration::from_secs(3599)));
        assert_eq!(r.refresh_token().unwrap().secret(), "RT-456");
        assert_eq!(
            r.scopes().unwrap().len(),
            0,
            "an empty scope is an empty list"
        );
        assert_eq!(r.raw_field("refresh_count"), Some(&json!("2")));
        assert_eq!(r.raw_field("weird"), Some(&json!({"nested": [1, 2]})));
        let safe = r.raw_redacted();
        assert_eq!(safe["access_token"], redact::REDACTED);
        assert_eq!(safe["status"], "approved");
        assert!(!serde_json::to_string(&r).unwrap().contains("AT-123"));
        assert!(!format!("{r:?}").contains("AT-123"));
    }

    #[test]
    fn nonsense_lifetimes_are_refused_and_dead_tokens_named() {
        let parse = |v: Value| serde_json::from_value::<TokenResponse>(v);
        for bad in [
            json!({"access_token": "a", "expires_in": "soon"}),
            json!({"access_token": "a", "expires_in": true}),
            json!({"access_token": "a", "refresh_token_expires_in": "never"}),
            json!({"access_token": "a", "expires_at": "tomorrow"}),
            json!({"access_token": "a", "expires_at": -5}),
        ] {
            let e = parse(bad.clone()).expect_err("refused");
            assert!(e.to_string().contains("not a"), "{bad}: {e}");
        }
        let now = 1_700_000_000_000;
        for dead in [
            json!({"access_token": "a", "expires_in": 0}),
            json!({"access_token": "a", "expires_in": "-30"}),
            json!({"access_token": "a", "expires_at": 1_600_000_000}),
        ] {
            let r = parse(dead.clone()).unwrap();
            assert!(r.expiry_problem(now).is_some(), "{dead} is dead on arrival");
        }
        let live = parse(json!({"access_token": "a", "expires_in": 60, "expires_at": 1})).unwrap();
        assert!(
            live.expiry_problem(now).is_none(),
            "expires_in wins over expires_at"
        );
        let live = parse(json!({"access_token": "a", "expires_in": null})).unwrap();
        assert!(live.expiry_problem(now).is_none() && live.expires_in().is_none());
    }

    #[test]
    fn missing_or_empty_access_token_is_an_error() {
        assert!(serde_json::from_value::<TokenResponse>(json!({"token_type": "Bearer"})).is_err());
        assert!(serde_json::from_value::<TokenResponse>(json!({"access_token": ""})).is_err());
        let r: TokenResponse = serde_json::from_value(json!({"access_token": "x"})).unwrap();
        assert_eq!(
            r.token_type(),
            &BasicTokenType::Bearer,
            "a missing token_type means Bearer"
        );
        assert!(r.scopes().is_none());
    }

    #[test]
    fn error_shapes_are_all_understood() {
        let rfc: ProviderError = serde_json::from_value(
            json!({"error": "invalid_client", "error_description": "bad secret"}),
        )
        .unwrap();
        assert_eq!(
            (rfc.error.as_str(), rfc.description.as_deref()),
            ("invalid_client", Some("bad secret"))
        );
        let gw: ProviderError = serde_json::from_value(
            json!({"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}),
        )
        .unwrap();
        assert_eq!(gw.to_string(), "invalid_client: ClientId is Invalid");
        let fault: ProviderError = serde_json::from_value(json!({"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}})).unwrap();
        assert_eq!(fault.to_string(), "oauth.v2.InvalidApiKey: Invalid ApiKey");
        let nested: ProviderError =
            serde_json::from_value(json!({"error": {"code": "E1", "message": "nope"}})).unwrap();
        assert_eq!(nested.to_string(), "E1: nope");
        let bare: ProviderError =
            serde_json::from_value(json!({"message": "Unauthorized"})).unwrap();
        assert_eq!(bare.to_string(), "Unauthorized");
        assert!(serde_json::from_value::<ProviderError>(json!("text")).is_err());
    }
}
