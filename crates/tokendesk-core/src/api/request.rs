//! An API request with the profile's token: the `tokendesk request` command and the app's
//! "Try it" panel. A 401 that says the token is no good (`invalid_token`, or no error code) is
//! answered once — the token renewed through the profile's single flight, the request sent
//! again — and never more; a DPoP nonce the resource asks for is given by [`Call::send`]. Every
//! exchange lands in the profile's exchange log, redacted.
//!
//! [`Call::send`]: crate::http::Call::send

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Core;
use super::dpop::api_url;
use crate::catalog;
use crate::error::{Error, ErrorCode, Result};
use crate::history::Trigger;
use crate::profile::{Param, Profile, ProfileId};
use crate::secret::{SecretKind, fingerprint};
use crate::www_authenticate::AuthChallenge;

/// The exchange log's operation for these requests.
pub const OPERATION: &str = "api";

/// What to send. The token is added by the core; the URL may be relative to the profile's
/// API URL (`/v1/accounts`), and empty means the API URL itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
pub struct ApiRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<Param>,
    /// Sent as is; a body that is JSON gets `Content-Type: application/json` unless one is set.
    #[serde(default)]
    pub body: Option<String>,
}

/// What came back.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApiResponse {
    /// The URL that was called (the profile's API URL resolved).
    pub url: String,
    pub status: u16,
    pub headers: Vec<Param>,
    /// The body as text (bytes that are not UTF-8 replaced).
    pub body: String,
    /// The body as it came, for a command line that writes it out unchanged.
    #[serde(skip)]
    #[ts(skip)]
    pub bytes: Vec<u8>,
    /// Of the last try.
    pub duration_ms: u64,
    /// The API refused the first token and the request was sent again with a renewed one.
    pub refreshed: bool,
    /// The decoded `WWW-Authenticate` of a 401 or 403.
    pub challenge: Option<AuthChallenge>,
}

impl ApiResponse {
    /// A 401 after the token was renewed once: the API refuses this profile's tokens, not
    /// just an old one. Says so, with what to check.
    pub fn still_refused(&self) -> Option<String> {
        if self.status != 401 || !self.refreshed {
            return None;
        }
        let why = self
            .challenge
            .as_ref()
            .map(|c| format!(" ({})", c.summary()))
            .unwrap_or_default();
        Some(format!(
            "{} still answered 401{why} after the token was renewed once; not tried again. The \
             API does not accept this profile's tokens: check the scope, the audience \
             (resource) and the client the API expects, and whether it wants DPoP or mTLS-bound \
             tokens.",
            self.url
        ))
    }
}

impl Core {
    /// Sends `request` with a token valid for at least `min_valid`; on a 401 that says the token
    /// is no good, renews it once (through the single flight: a token another caller renewed
    /// meanwhile is used as it is) and sends the request once more.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn request(
        &self,
        id: &ProfileId,
        request: &ApiRequest,
        min_valid: Duration,
        trigger: Trigger,
    ) -> Result<ApiResponse> {
        let profile = self.profile_by_id(id)?;
        // A provider that names its API host in the token answer (Salesforce's instance_url):
        // a path without a host resolves once the token is there.
        let prepared = if profile.config.api_url.is_none()
            && catalog::preset_of(&profile.config)
                .is_some_and(|p| p.quirks.contains(&catalog::Quirk::InstanceUrl))
        {
            self.ensure_token(id, min_valid, trigger).await?;
            let token = self.store.get_token(id)?;
            let base = token
                .as_ref()
                .and_then(|t| catalog::quirks::api_base(&profile.config, t));
            prepare(&profile, request, base)?
        } else {
            let prepared = prepare(&profile, request, None)?;
            self.ensure_token(id, min_valid, trigger).await?;
            prepared
        };
        let (first, used) = self.send_with_token(&profile, &prepared).await?;
        let refused = first.status == 401
            && first
                .challenge
                .as_ref()
                .is_none_or(AuthChallenge::wants_new_token);
        if !refused {
            return Ok(first);
        }
        tracing::info!(profile = %id, "the API refused the token: renewing it once");
        if let Err(e) = self.renew_refused(id, &used, trigger).await {
            let why = first
                .challenge
                .as_ref()
                .map(|c| format!(" ({})", c.summary()))
                .unwrap_or_default();
            return Err(Error::new(
                e.code,
                format!(
                    "{} answered 401{why}, and renewing the token failed: {}",
                    first.url, e.message
                ),
            ));
        }
        let (mut second, _) = self.send_with_token(&profile, &prepared).await?;
        second.refreshed = true;
        Ok(second)
    }

    /// Renews the token the API refused, unless it is no longer the stored one.
    async fn renew_refused(&self, id: &ProfileId, refused: &str, trigger: Trigger) -> Result<()> {
        let _flight = self.enter_flight(id).await?;
        match self.store.get_token(id)? {
            Some(t) if t.access.fingerprint != refused => Ok(()),
            _ => self.refresh_locked(id, trigger).await.map(|_| ()),
        }
    }

    /// One request with the stored access token; returns the response and the fingerprint of
    /// the token it carried.
    async fn send_with_token(
        &self,
        profile: &Profile,
        prepared: &Prepared,
    ) -> Result<(ApiResponse, String)> {
        let token = self.reveal(&profile.id, SecretKind::AccessToken).await?;
        let bound = self
            .store
            .get_token(&profile.id)?
            .is_some_and(|t| t.dpop_jkt.is_some());
        let scheme = if bound { crate::dpop::SCHEME } else { "Bearer" };
        let mut call = self.call(profile, OPERATION).await?;
        call.scrub(token.expose());
        let mut builder = http::Request::builder()
            .method(prepared.method.as_str())
            .uri(prepared.url.as_str());
        for h in &prepared.headers {
            builder = builder.header(h.name.as_str(), h.value.as_str());
        }
        let http_request = builder
            .header(
                http::header::AUTHORIZATION,
                format!("{scheme} {}", token.expose()),
            )
            .body(prepared.body.clone().unwrap_or_default().into_bytes())
            .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("Invalid request: {e}.")))?;
        let started = Instant::now();
        let result = call.send(http_request).await;
        let duration_ms = started.elapsed().as_millis() as u64;
        self.record(&call);
        let response = result?;
        let challenge = match response.status().as_u16() {
            401 | 403 => AuthChallenge::of(response.headers()),
            _ => None,
        };
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| Param::new(k.as_str(), String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let bytes = response.body().clone();
        Ok((
            ApiResponse {
                url: prepared.url.clone(),
                status: response.status().as_u16(),
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                bytes,
                duration_ms,
                refreshed: false,
                challenge,
            },
            fingerprint(token.expose()),
        ))
    }
}

/// A request checked and resolved, before any token is fetched.
#[derive(Debug)]
struct Prepared {
    method: String,
    url: String,
    headers: Vec<Param>,
    body: Option<String>,
}

fn prepare(profile: &Profile, request: &ApiRequest, api_base: Option<&str>) -> Result<Prepared> {
    let method = match request.method.trim() {
        "" => "GET".to_owned(),
        m => m.to_ascii_uppercase(),
    };
    if http::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(Error::invalid_field(
            "method",
            format!("\"{method}\" is not an HTTP method (GET, POST, PUT, PATCH, DELETE, …)."),
        ));
    }
    let url = resolve_url(profile, request.url.trim(), api_base)?;
    let mut headers = Vec::new();
    for h in &request.headers {
        let name = h.name.trim();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(h.value.trim()).is_err()
        {
            return Err(Error::invalid_field(
                "headers",
                format!("\"{name}\" is not a valid header (name: value)."),
            ));
        }
        if name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("dpop") {
            return Err(Error::invalid_field(
                "headers",
                format!(
                    "The {name} header is the one TokenDesk adds from the profile's token; \
                     leave it out."
                ),
            ));
        }
        headers.push(Param::new(name, h.value.trim()));
    }
    let has_type = headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("content-type"));
    if let Some(body) = &request.body
        && !has_type
        && serde_json::from_str::<serde_json::Value>(body).is_ok()
    {
        headers.push(Param::new("content-type", "application/json"));
    }
    Ok(Prepared {
        method,
        url,
        headers,
        body: request.body.clone(),
    })
}

/// The request's URL: absolute as given, a path relative to the profile's API URL, or (none
/// given) where the token is used by default: the API URL, else the userinfo endpoint.
/// `api_base` stands in for a missing API URL (the token answer's `instance_url`).
fn resolve_url(profile: &Profile, given: &str, api_base: Option<&str>) -> Result<String> {
    let name = &profile.config.name;
    let bad = |why: String| Error::invalid_field("url", why);
    let parse = |u: &str, what: &str| {
        url::Url::parse(u).map_err(|e| bad(format!("{what} \"{u}\" is not a URL ({e}).")))
    };
    if given.starts_with("http://") || given.starts_with("https://") {
        return parse(given, "The URL").map(String::from);
    }
    let base = match given {
        "" => api_url(profile),
        _ => profile.config.api_url.as_deref().or(api_base),
    };
    let Some(base) = base else {
        return Err(bad(format!(
            "\"{given}\" is not an http(s) URL, and profile \"{name}\" has no API URL to resolve \
             it against. Give the whole URL, or set the profile's API URL."
        )));
    };
    let base = parse(base, &format!("The API URL of profile \"{name}\""))?;
    if given.is_empty() {
        return Ok(base.into());
    }
    base.join(given).map(String::from).map_err(|e| {
        bad(format!(
            "\"{given}\" does not resolve against {base} ({e})."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileConfig;

    fn profile(api_url: Option<&str>) -> Profile {
        Profile {
            id: ProfileId::from("p"),
            config: ProfileConfig {
                name: "bank".into(),
                api_url: api_url.map(str::to_owned),
                ..Default::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn req(method: &str, url: &str) -> ApiRequest {
        ApiRequest {
            method: method.into(),
            url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn urls_resolve_against_the_api_url() {
        let p = profile(Some("https://api.example/v1/accounts"));
        let r = |url: &str| prepare(&p, &req("get", url), None).map(|x| (x.method, x.url));
        assert_eq!(
            r("").unwrap(),
            ("GET".into(), "https://api.example/v1/accounts".into())
        );
        assert_eq!(r("/v2/me").unwrap().1, "https://api.example/v2/me");
        assert_eq!(r("http://other:8080/x").unwrap().1, "http://other:8080/x");
        let e = prepare(&profile(None), &req("GET", "/v1"), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("has no API URL"), "{}", e.message);
        assert!(prepare(&p, &req("GE T", ""), None).is_err(), "not a method");
    }

    #[test]
    fn headers_are_checked_and_json_bodies_typed() {
        let p = profile(Some("https://api.example/"));
        let mut r = req("POST", "");
        r.headers = vec![Param::new("Authorization", "Bearer mine")];
        let e = prepare(&p, &r, None).unwrap_err();
        assert!(e.message.contains("TokenDesk adds"), "{}", e.message);
        r.headers = vec![Param::new("bad header", "x")];
        assert!(prepare(&p, &r, None).is_err());
        r.headers = vec![];
        r.body = Some(r#"{"amount": 1}"#.into());
        let x = prepare(&p, &r, None).unwrap();
        assert_eq!(
            x.headers,
            vec![Param::new("content-type", "application/json")]
        );
        r.body = Some("a=1&b=2".into());
        assert!(
            prepare(&p, &r, None).unwrap().headers.is_empty(),
            "not JSON: no type guessed"
        );
    }

    #[test]
    fn a_second_401_is_said_plainly() {
        let mut r = ApiResponse {
            url: "https://api.example/x".into(),
            status: 401,
            headers: vec![],
            body: String::new(),
            bytes: vec![],
            duration_ms: 1,
            refreshed: false,
            challenge: Some(AuthChallenge {
                scheme: "Bearer".into(),
                error: Some("invalid_token".into()),
                ..Default::default()
            }),
        };
        assert!(
            r.still_refused().is_none(),
            "the first 401 is answered by a renewal"
        );
        r.refreshed = true;
        let m = r.still_refused().unwrap();
        assert!(m.contains("still answered 401 (invalid_token)"), "{m}");
        assert!(m.contains("not tried again"), "{m}");
    }
}
