//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1) as a resource server sends them with a 401:
//! the scheme and its parameters, read into what a person (and the retry logic) needs —
//! `error`, `error_description`, `scope` (RFC 6750 §3), `algs` and the `DPoP-Nonce` header
//! (RFC 9449 §7.1), `resource_metadata` (RFC 9728 §5.1).

use serde::Serialize;
use ts_rs::TS;

/// One challenge, as sent: the scheme and its parameters (names in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
    /// The `token68` form (`Negotiate abc==`), when the challenge has it instead of parameters.
    pub token68: Option<String>,
}

impl Challenge {
    /// A parameter's value; names compare without regard to case.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A resource server's challenge, decoded: why it refused the token and what it wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct AuthChallenge {
    /// `Bearer`, `DPoP`, `Basic`, …
    pub scheme: String,
    pub realm: Option<String>,
    /// `invalid_token`, `insufficient_scope`, `invalid_request`, `use_dpop_nonce`, …
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The scope the resource needs.
    pub scope: Option<String>,
    /// DPoP: the proof algorithms the resource accepts.
    pub algs: Option<String>,
    /// DPoP: the nonce the resource wants in the next proof (the `DPoP-Nonce` header).
    pub dpop_nonce: Option<String>,
    /// Where the resource describes itself (OAuth protected resource metadata, RFC 9728).
    pub resource_metadata: Option<String>,
    /// RFC 9470: the authentication context the resource demands (`insufficient_user_authentication`).
    #[ts(optional = nullable)]
    pub acr_values: Option<String>,
    /// RFC 9470: how long ago, in seconds, the user may have authenticated at most.
    #[ts(optional = nullable)]
    pub max_age: Option<u64>,
}

/// What a resource's challenge asks of the next sign-in, when a new token of the same kind
/// would not do (RFC 6750 §3.1 `insufficient_scope`, RFC 9470).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepUp {
    /// A token with more scope: `scope` is what the resource needs.
    Scope { scope: String },
    /// A stronger or more recent authentication of the user.
    Authentication {
        #[ts(optional = nullable)]
        acr_values: Option<String>,
        #[ts(optional = nullable)]
        max_age: Option<u64>,
    },
}

impl AuthChallenge {
    /// The challenge that says most about a refused token: the first with an `error`, else the
    /// first `Bearer` or `DPoP` one, else the first of any scheme. `None` without any.
    pub fn of(headers: &http::HeaderMap) -> Option<Self> {
        let all: Vec<Challenge> = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse)
            .collect();
        let token_scheme = |c: &&Challenge| {
            c.scheme.eq_ignore_ascii_case("bearer") || c.scheme.eq_ignore_ascii_case("dpop")
        };
        let chosen = all
            .iter()
            .find(|c| c.param("error").is_some())
            .or_else(|| all.iter().find(token_scheme))
            .or_else(|| all.first())?;
        let dpop_nonce = headers
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let p = |name: &str| chosen.param(name).map(str::to_owned);
        Some(Self {
            scheme: chosen.scheme.clone(),
            realm: p("realm"),
            error: p("error"),
            error_description: p("error_description"),
            scope: p("scope"),
            algs: p("algs"),
            dpop_nonce,
            resource_metadata: p("resource_metadata"),
            acr_values: p("acr_values"),
            max_age: chosen.param("max_age").and_then(|v| v.trim().parse().ok()),
        })
    }

    /// What the challenge asks of a new sign-in, when it is a step-up challenge.
    pub fn step_up(&self) -> Option<StepUp> {
        match self.error.as_deref()? {
            "insufficient_scope" => Some(StepUp::Scope {
                scope: self.scope.clone().unwrap_or_default(),
            }),
            "insufficient_user_authentication" => Some(StepUp::Authentication {
                acr_values: self.acr_values.clone(),
                max_age: self.max_age,
            }),
            _ => None,
        }
    }

    /// Whether a new token may help: the resource says the token is invalid (expired, revoked),
    /// or names no error at all (a 401 to a request that carried a token means the same).
    pub fn wants_new_token(&self) -> bool {
        match self.error.as_deref() {
            None => true,
            Some(e) => e == "invalid_token",
        }
    }

    /// One line for a person: `invalid_token: The access token expired (scope "a b" needed)`.
    pub fn summary(&self) -> String {
        let mut out = self
            .error
            .clone()
            .unwrap_or_else(|| format!("{} challenge without an error code", self.scheme));
        if let Some(d) = &self.error_description {
            out.push_str(&format!(": {d}"));
        }
        if let Some(s) = &self.scope {
            out.push_str(&format!(" (scope \"{s}\" needed)"));
        }
        if let Some(a) = &self.acr_values {
            out.push_str(&format!(" (acr_values \"{a}\" demanded)"));
        }
        if let Some(m) = self.max_age {
            out.push_str(&format!(" (a sign-in at most {m} s old demanded)"));
        }
        out
    }
}

/// Every challenge of one header value (a value may carry several, comma-separated).
pub fn parse(value: &str) -> Vec<Challenge> {
    let mut c = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        c.skip(|b| b == b' ' || b == b'\t' || b == b',');
        if c.at_end() {
            break;
        }
        let Some(scheme) = c.token() else {
            // Not a challenge (stray character): skip it.
            c.i += 1;
            continue;
        };
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        let mut first = true;
        loop {
            let before = c.i;
            c.skip(|b| b == b' ' || b == b'\t' || (!first && b == b','));
            let Some(name) = c.token() else {
                c.i = before;
                break;
            };
            c.skip_ws();
            if c.peek() != Some(b'=') {
                // A token without `=`: the next challenge's scheme (or a bare token68).
                if first && !c.at_end() && c.peek() != Some(b',') {
                    c.i = before;
                    break;
                }
                if first {
                    challenge.token68 = Some(name);
                    break;
                }
                c.i = before;
                break;
            }
            c.i += 1;
            c.skip_ws();
            let value = match c.peek() {
                Some(b'"') => c.quoted(),
                Some(b'=') | None => {
                    // `abc==`: a token68 that ends in padding.
                    let pad = c.take_while(|b| b == b'=');
                    challenge.token68 = Some(format!("{name}={pad}"));
                    break;
                }
                _ => c.token().unwrap_or_default(),
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            first = false;
        }
        out.push(challenge);
    }
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn skip_ws(&mut self) {
        self.skip(|b| b == b' ' || b == b'\t');
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> String {
        let start = self.i;
        self.skip(f);
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// A token (RFC 9110 tchar), with the token68 characters `/` and `+` allowed too.
    fn token(&mut self) -> Option<String> {
        let t = self.take_while(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b));
        (!t.is_empty()).then_some(t)
    }

    /// A quoted string, with its backslash escapes undone; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in values {
            h.append(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn reads_rfc_6750_and_rfc_9449_examples() {
        let c = AuthChallenge::of(&headers(&[
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        ]))
        .unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.realm.as_deref(), Some("example"));
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(
            c.error_description.as_deref(),
            Some("The access token expired")
        );
        assert!(c.wants_new_token());

        let mut h = headers(&[
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256 EdDSA""#,
        ]);
        h.insert(
            "dpop-nonce",
            http::HeaderValue::from_static("eyJ7S_zG.eyJH0-Z"),
        );
        let c = AuthChallenge::of(&h).unwrap();
        assert_eq!(c.error.as_deref(), Some("use_dpop_nonce"));
        assert_eq!(c.algs.as_deref(), Some("ES256 EdDSA"));
        assert_eq!(c.dpop_nonce.as_deref(), Some("eyJ7S_zG.eyJH0-Z"));
        assert!(!c.wants_new_token(), "a nonce, not a new token, answers it");
    }

    #[test]
    fn picks_the_challenge_with_an_error_among_several() {
        // Two challenges in one value, the second with the error; quoted commas and escapes.
        let c = AuthChallenge::of(&headers(&[
            r#"Basic realm="git, mostly", Bearer realm="api", error="insufficient_scope", scope="accounts:read payments", error_description="needs \"more\"", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#,
        ]))
        .unwrap();
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.scope.as_deref(), Some("accounts:read payments"));
        assert_eq!(c.error_description.as_deref(), Some(r#"needs "more""#));
        assert_eq!(
            c.resource_metadata.as_deref(),
            Some("https://api.example/.well-known/oauth-protected-resource")
        );
        assert!(
            !c.wants_new_token(),
            "a token with more scope needs a sign-in, not a refresh"
        );
        assert_eq!(
            c.summary(),
            r#"insufficient_scope: needs "more" (scope "accounts:read payments" needed)"#
        );

        let all = parse(r#"Basic realm="git, mostly", Bearer realm="api""#);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].param("REALM"), Some("git, mostly"));
    }

    #[test]
    fn reads_an_rfc_9470_step_up_challenge() {
        let c = AuthChallenge::of(&headers(&[
            r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR", max_age="5""#,
        ]))
        .unwrap();
        assert_eq!(c.acr_values.as_deref(), Some("myACR"));
        assert_eq!(c.max_age, Some(5));
        assert_eq!(
            c.step_up(),
            Some(StepUp::Authentication {
                acr_values: Some("myACR".into()),
                max_age: Some(5)
            })
        );
        assert!(
            !c.wants_new_token(),
            "a refresh keeps the old authentication"
        );
        let c = AuthChallenge::of(&headers(&[
            r#"Bearer error="insufficient_scope", scope="a b""#,
        ]))
        .unwrap();
        assert_eq!(
            c.step_up(),
            Some(StepUp::Scope {
                scope: "a b".into()
            })
        );
        let c = AuthChallenge::of(&headers(&[r#"Bearer error="invalid_token""#])).unwrap();
        assert_eq!(c.step_up(), None);
    }

    #[test]
    fn bare_schemes_token68_and_junk() {
        let all = parse("Negotiate, Bearer");
        assert_eq!(
            all.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
            ["Negotiate", "Bearer"]
        );
        let c = &parse("Negotiate YIIGhgYJ/+oA==")[0];
        assert_eq!(c.token68.as_deref(), Some("YIIGhgYJ/+oA=="));
        assert!(c.params.is_empty());
        let c = &parse("Bearer realm=api , error = invalid_token")[0];
        assert_eq!(c.param("realm"), Some("api"));
        assert_eq!(c.param("error"), Some("invalid_token"));
        // An unterminated quote runs to the end; nothing panics on odd input.
        assert_eq!(
            parse(r#"Bearer error="invalid_token"#)[0].param("error"),
            Some("invalid_token")
        );
        for odd in [
            "",
            ",,,",
            "=",
            "\"",
            "Bearer =",
            "Bearer a=\"\\",
            "(x) Bearer",
        ] {
            let _ = parse(odd);
        }
        assert!(AuthChallenge::of(&http::HeaderMap::new()).is_none());
        let bare = AuthChallenge::of(&headers(&["Bearer"])).unwrap();
        assert!(
            bare.wants_new_token(),
            "no error code: try a new token once"
        );
    }
}
