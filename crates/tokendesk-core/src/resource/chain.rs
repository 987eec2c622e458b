//! The walk from an API URL to an authorization server: the API's challenge, its
//! protected-resource metadata (RFC 9728), the authorization server's metadata (RFC 8414 /
//! OpenID discovery, in the order of the MCP authorization specification 2025-11-25). Every
//! request is recorded as a [`Step`], so a person sees which link led where — and which broke.

use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;
use url::Url;

use super::metadata::{self, ResourceMetadata};
use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::ident;
use crate::provider::discovery::ProviderMetadata;
use crate::www_authenticate::AuthChallenge;
use oauth2::HttpResponse;

/// How many redirects a metadata request follows before it gives up.
pub const MAX_REDIRECTS: usize = 5;

/// The link of the chain a step (or an error) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The API itself, asked without a token.
    Api,
    /// The API's protected-resource metadata (RFC 9728).
    ResourceMetadata,
    /// The authorization server's metadata (RFC 8414 / OpenID discovery).
    AuthorizationServer,
}

impl Link {
    pub fn label(self) -> &'static str {
        match self {
            Link::Api => "The API",
            Link::ResourceMetadata => "The API's protected-resource metadata (RFC 9728)",
            Link::AuthorizationServer => "The authorization server's metadata",
        }
    }
}

/// One request of the walk: what was asked, what came back, what it led to.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(rename = "WalkStep")]
pub struct Step {
    pub link: Link,
    pub method: String,
    pub url: String,
    /// The HTTP status; none when the request failed (network, TLS, timeout).
    #[ts(optional = nullable)]
    pub status: Option<u16>,
    /// What the answer said that matters here: a header, a document's members, or why it was
    /// of no use.
    pub found: String,
    /// What was taken from it for the next step, if anything.
    #[ts(optional = nullable)]
    pub chosen: Option<String>,
}

/// What the user may decide for a walk.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// The authorization server to use when the API names several (it must be one of them).
    pub authorization_server: Option<String>,
    /// Whether the token will come from the authorization-code grant, which needs PKCE S256.
    pub code_grant: bool,
}

/// Where the chain led: the resource, its authorization server and what to ask for.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Discovered {
    /// The URL the user gave.
    pub api_url: String,
    /// What tokens are requested for (`resource`, RFC 8707): the metadata's `resource`.
    pub resource: String,
    /// The API's challenge to the request without a token, if it sent one.
    #[ts(optional = nullable)]
    pub challenge: Option<AuthChallenge>,
    pub resource_metadata: ResourceMetadata,
    /// The authorization server chosen (its issuer identifier).
    pub authorization_server: String,
    pub provider: ProviderMetadata,
    /// The scopes to ask for: the challenge's `scope`, else the metadata's `scopes_supported`.
    pub scopes: Vec<String>,
    /// How a client can be had, in the order the MCP specification suggests: `pre_registered`
    /// always, `client_id_metadata_document` and `dynamic_registration` when the server offers
    /// them.
    pub client_options: Vec<String>,
}

/// A walk: its steps, and where it led or the error that ended it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Walk {
    pub steps: Vec<Step>,
    #[ts(optional = nullable)]
    pub discovered: Option<Discovered>,
    #[ts(optional = nullable)]
    pub error: Option<Error>,
    /// The authorization servers the API's metadata names, once it was read (even when a later
    /// link broke): with several, the user chooses ([`DiscoverOptions::authorization_server`]).
    pub authorization_servers: Vec<String>,
}

impl Walk {
    pub fn into_result(self) -> Result<Discovered> {
        match (self.discovered, self.error) {
            (Some(d), None) => Ok(d),
            (_, Some(e)) => Err(e),
            (None, None) => Err(Error::internal("the discovery walk ended without a result")),
        }
    }
}

/// Walks from `api_url` to its authorization server. Sends no token and stores nothing.
pub async fn walk(call: &Call<'_>, api_url: &str, options: &DiscoverOptions) -> Walk {
    let mut walker = Walker {
        call,
        steps: Vec::new(),
        authorization_servers: Vec::new(),
    };
    let result = walker.run(api_url, options).await;
    let (discovered, error) = match result {
        Ok(d) => (Some(d), None),
        Err(e) => (None, Some(e)),
    };
    Walk {
        steps: walker.steps,
        discovered,
        error,
        authorization_servers: walker.authorization_servers,
    }
}

/// An error that names its link and what to check.
fn broke(link: Link, code: ErrorCode, what: impl AsRef<str>, check: &str) -> Error {
    Error::new(
        code,
        format!("{}: {}. {check}", link.label(), what.as_ref()),
    )
}

/// The answer to a GET, after the redirects it was allowed.
struct Answer {
    url: String,
    response: HttpResponse,
}

impl Answer {
    fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    fn content_type(&self) -> String {
        self.response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// The body as a JSON object, or why it is not one.
    fn json_object(&self) -> std::result::Result<Value, String> {
        let body = self.response.body();
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim_start();
        let ct = self.content_type();
        if trimmed.starts_with('<') || ct.to_ascii_lowercase().contains("html") {
            return Err(format!(
                "an HTML page{} where a JSON document was expected",
                if ct.is_empty() {
                    String::new()
                } else {
                    format!(" ({ct})")
                }
            ));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err("JSON, but not an object".into()),
            Err(_) if body.is_empty() => Err("an empty body".into()),
            Err(e) => Err(format!("not JSON ({e})")),
        }
    }
}

struct Walker<'c, 'a> {
    call: &'c Call<'a>,
    steps: Vec<Step>,
    authorization_servers: Vec<String>,
}

impl Walker<'_, '_> {
    fn step(&mut self, link: Link, url: &str, status: Option<u16>, found: String) -> &mut Step {
        self.steps.push(Step {
            link,
            method: "GET".into(),
            url: url.to_owned(),
            status,
            found,
            chosen: None,
        });
        self.steps.last_mut().expect("just pushed")
    }

    fn choose(&mut self, chosen: impl Into<String>) {
        if let Some(s) = self.steps.last_mut() {
            s.chosen = Some(chosen.into());
        }
    }

    async fn send_get(&mut self, link: Link, url: &str) -> Result<HttpResponse> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| {
                broke(
                    link,
                    ErrorCode::InvalidInput,
                    format!("{url} cannot be requested ({e})"),
                    "Check the URL.",
                )
            })?;
        match self.call.send(request).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.step(link, url, None, format!("no answer: {}", e.message));
                let e = Error::from(e);
                Err(Error::new(
                    e.code,
                    format!(
                        "{}: {url} could not be reached: {}",
                        link.label(),
                        e.message
                    ),
                ))
            }
        }
    }

    /// A GET that follows up to [`MAX_REDIRECTS`] redirects, each one a step; a loop or too
    /// many redirects is an error of `link`.
    async fn get(&mut self, link: Link, url: &str) -> Result<Answer> {
        let mut seen = vec![url.to_owned()];
        let mut current = url.to_owned();
        loop {
            let response = self.send_get(link, &current).await?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let location: String = match location {
                Some(l) if response.status().is_redirection() => l,
                _ => {
                    return Ok(Answer {
                        url: current,
                        response,
                    });
                }
            };
            let next = Url::parse(&current)
                .and_then(|base| base.join(&location))
                .map(|u| u.to_string())
                .map_err(|e| {
                    broke(
                        link,
                        ErrorCode::BadResponse,
                        format!("{current} redirects to \"{location}\", which is not a URL ({e})"),
                        "Check the URL, or ask the API's operator.",
                    )
                })?;
            self.step(
                link,
                &current,
                Some(status),
                format!("a redirect to {next}"),
            );
            if seen.contains(&next) {
                self.choose("nothing: a redirect loop");
                return Err(broke(
                    link,
                    ErrorCode::BadResponse,
                    format!("{url} redirects in a loop ({} → {next})", seen.join(" → ")),
                    "The server is misconfigured; ask its operator, or give the metadata's \
                     final URL",
                ));
            }
            if seen.len() > MAX_REDIRECTS {
                return Err(broke(
                    link,
                    ErrorCode::BadResponse,
                    format!("{url} redirects more than {MAX_REDIRECTS} times"),
                    "Give the metadata's final URL, or ask the server's operator",
                ));
            }
            self.choose(format!("follow it to {next}"));
            seen.push(next.clone());
            current = next;
        }
    }

    async fn run(&mut self, api_url: &str, options: &DiscoverOptions) -> Result<Discovered> {
        let requested = Url::parse(api_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| {
                Error::invalid_field(
                    "api_url",
                    format!("\"{api_url}\" is not an http(s) URL; give the API's full URL."),
                )
            })?;
        let api_url = requested.as_str().to_owned();

        // 1. The API, without a token.
        let response = self.send_get(Link::Api, &api_url).await?;
        let status = response.status().as_u16();
        let challenge = AuthChallenge::of(response.headers());
        let header: Vec<String> = response
            .headers()
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| {
                format!(
                    "WWW-Authenticate: {}",
                    String::from_utf8_lossy(v.as_bytes())
                )
            })
            .collect();
        let found = if header.is_empty() {
            match crate::http::redirect_target(&response) {
                Some(to) => format!("no WWW-Authenticate; a redirect to {to} (not followed)"),
                None if status < 400 => "an answer without a token, no WWW-Authenticate".into(),
                None => "no WWW-Authenticate header".into(),
            }
        } else {
            header.join("\n")
        };
        self.step(Link::Api, &api_url, Some(status), found);
        let named = challenge
            .as_ref()
            .filter(|_| matches!(status, 401 | 403))
            .and_then(|c| c.resource_metadata.clone());

        // 2. The protected-resource metadata: where the challenge says, else well-known.
        let resource_metadata = match &named {
            Some(url) => {
                self.choose(format!("resource_metadata: {url}"));
                self.named_metadata(url).await?
            }
            None => {
                let candidates = metadata::well_known_urls(&requested);
                self.choose(format!(
                    "no resource_metadata: try the well-known locations ({})",
                    candidates.join(", ")
                ));
                self.well_known_metadata(&api_url, status, &candidates)
                    .await?
            }
        };
        if let Err(why) = metadata::check_resource(&requested, &resource_metadata.resource) {
            self.choose("nothing: the resource does not stand for the URL");
            return Err(broke(
                Link::ResourceMetadata,
                ErrorCode::CheckFailed,
                format!(
                    "{} names the resource \"{}\", which does not stand for {api_url}: {why}",
                    resource_metadata.source_url, resource_metadata.resource
                ),
                "RFC 9728 §3.3 requires the resource to be the URL asked for (or, as MCP \
                 clients accept, its origin and a path prefix). A token requested for it would \
                 be for another API: check the URL, or ask the API's operator to fix the \
                 metadata",
            ));
        }

        // 3. The authorization server.
        let servers = &resource_metadata.authorization_servers;
        self.authorization_servers = servers.clone();
        let issuer = match &options.authorization_server {
            Some(wanted) if ident::listed(servers, wanted) => wanted.clone(),
            Some(wanted) => {
                return Err(broke(
                    Link::ResourceMetadata,
                    ErrorCode::InvalidInput,
                    format!(
                        "the authorization server \"{wanted}\" is not one the API names \
                         (authorization_servers: {})",
                        list(servers)
                    ),
                    "Choose one of those; a token from another server would not be accepted",
                ));
            }
            None => match servers.first() {
                Some(first) => first.clone(),
                None => {
                    return Err(broke(
                        Link::ResourceMetadata,
                        ErrorCode::BadResponse,
                        format!(
                            "{} names no authorization server (authorization_servers is \
                             missing or empty)",
                            resource_metadata.source_url
                        ),
                        "Ask the API's operator which server issues its tokens, and create the \
                         profile with --issuer",
                    ));
                }
            },
        };
        let provider = self.authorization_server(&issuer).await?;
        if options.code_grant
            && !provider
                .code_challenge_methods_supported
                .iter()
                .any(|m| m == "S256")
        {
            return Err(broke(
                Link::AuthorizationServer,
                ErrorCode::Unsupported,
                format!(
                    "{} does not list S256 in code_challenge_methods_supported ({})",
                    provider.source_url,
                    list(&provider.code_challenge_methods_supported)
                ),
                "Signing in with the authorization code needs PKCE S256 (the MCP authorization \
                 specification refuses to go on without it): TokenDesk will not sign in there. \
                 Ask the server's operator to advertise S256",
            ));
        }

        let scopes = match challenge.as_ref().and_then(|c| c.scope.as_deref()) {
            Some(s) => s.split_whitespace().map(str::to_owned).collect(),
            None => resource_metadata.scopes_supported.clone(),
        };
        let mut client_options = vec!["pre_registered".to_owned()];
        if provider.raw.get("client_id_metadata_document_supported") == Some(&Value::Bool(true)) {
            client_options.push("client_id_metadata_document".into());
        }
        if provider
            .raw
            .get("registration_endpoint")
            .is_some_and(Value::is_string)
        {
            client_options.push("dynamic_registration".into());
        }
        Ok(Discovered {
            api_url,
            resource: resource_metadata.resource.clone(),
            challenge,
            resource_metadata,
            authorization_server: issuer,
            provider,
            scopes,
            client_options,
        })
    }

    /// The metadata at the URL the challenge named: it must be there.
    async fn named_metadata(&mut self, url: &str) -> Result<ResourceMetadata> {
        let link = Link::ResourceMetadata;
        let answer = self.get(link, url).await?;
        let status = answer.status();
        if status != 200 {
            self.step(link, &answer.url, Some(status), format!("HTTP {status}"));
            return Err(broke(
                link,
                ErrorCode::BadResponse,
                format!(
                    "the API's challenge names {url}, which answered HTTP {status} instead of the \
                     metadata"
                ),
                "Ask the API's operator to fix resource_metadata",
            ));
        }
        let doc = match answer.json_object() {
            Ok(doc) => doc,
            Err(why) => {
                self.step(link, &answer.url, Some(status), why.clone());
                return Err(broke(
                    link,
                    ErrorCode::BadResponse,
                    format!("{} is {why}", answer.url),
                    "The URL in resource_metadata must serve the JSON metadata document \
                     (a sign-in page or a portal there means it is misconfigured)",
                ));
            }
        };
        self.read_metadata(&answer, doc)
    }

    fn read_metadata(&mut self, answer: &Answer, doc: Value) -> Result<ResourceMetadata> {
        let link = Link::ResourceMetadata;
        match ResourceMetadata::from_document(doc, &answer.url) {
            Ok(meta) => {
                self.step(
                    link,
                    &answer.url,
                    Some(answer.status()),
                    format!(
                        "resource: {}; authorization_servers: {}; scopes_supported: {}{}",
                        meta.resource,
                        list(&meta.authorization_servers),
                        list(&meta.scopes_supported),
                        meta.resource_name
                            .as_deref()
                            .map(|n| format!("; resource_name: {n}"))
                            .unwrap_or_default()
                    ),
                );
                let chosen = match meta.authorization_servers.first() {
                    Some(first) => {
                        format!("resource {}, authorization server {first}", meta.resource)
                    }
                    None => format!("resource {}", meta.resource),
                };
                self.choose(chosen);
                Ok(meta)
            }
            Err(why) => {
                self.step(link, &answer.url, Some(answer.status()), why.clone());
                Err(broke(
                    link,
                    ErrorCode::BadResponse,
                    format!("{} is not usable: {why}", answer.url),
                    "Ask the API's operator to fix it",
                ))
            }
        }
    }

    /// The metadata at the first well-known location that has it.
    async fn well_known_metadata(
        &mut self,
        api_url: &str,
        api_status: u16,
        candidates: &[String],
    ) -> Result<ResourceMetadata> {
        let link = Link::ResourceMetadata;
        let mut tried = Vec::new();
        for url in candidates {
            let answer = self.get(link, url).await?;
            let status = answer.status();
            if status != 200 {
                self.step(link, &answer.url, Some(status), format!("HTTP {status}"));
                tried.push(format!("{url} (HTTP {status})"));
                continue;
            }
            match answer.json_object() {
                Ok(doc) => return self.read_metadata(&answer, doc),
                Err(why) => {
                    self.step(link, &answer.url, Some(status), why.clone());
                    tried.push(format!("{url} ({why})"));
                }
            }
        }
        Err(broke(
            link,
            ErrorCode::NotFound,
            format!(
                "{api_url} answered HTTP {api_status} without a WWW-Authenticate \
                 resource_metadata, and no well-known location has metadata (tried {})",
                tried.join(", ")
            ),
            "Check that the URL is the API's own (not its documentation or a web page); an API \
             that does not publish RFC 9728 metadata needs a profile made by hand \
             (`tokendesk profile add NAME --issuer …`)",
        ))
    }

    /// The authorization server's metadata, from the locations the MCP authorization
    /// specification gives for `issuer`, its `issuer` checked.
    async fn authorization_server(&mut self, issuer: &str) -> Result<ProviderMetadata> {
        let link = Link::AuthorizationServer;
        let candidates = as_metadata_urls(issuer).map_err(|why| {
            broke(
                link,
                ErrorCode::BadResponse,
                format!("the authorization server \"{issuer}\" the API names is {why}"),
                "Ask the API's operator to fix authorization_servers",
            )
        })?;
        let mut tried = Vec::new();
        for url in &candidates {
            let answer = self.get(link, url).await?;
            let status = answer.status();
            if status != 200 {
                self.step(link, &answer.url, Some(status), format!("HTTP {status}"));
                tried.push(format!("{url} (HTTP {status})"));
                continue;
            }
            let doc = match answer.json_object() {
                Ok(doc) => doc,
                Err(why) => {
                    self.step(link, &answer.url, Some(status), why.clone());
                    tried.push(format!("{url} ({why})"));
                    continue;
                }
            };
            let meta = match ProviderMetadata::from_document(
                doc,
                answer.url.clone(),
                self.call.now_ms(),
            ) {
                Ok(m) => m,
                Err(e) => {
                    self.step(link, &answer.url, Some(status), e.message.clone());
                    return Err(Error::new(
                        e.code,
                        format!("{}: {}", link.label(), e.message),
                    ));
                }
            };
            self.step(
                link,
                &answer.url,
                Some(status),
                format!(
                    "issuer: {}; code_challenge_methods_supported: {}; registration_endpoint: {}",
                    meta.issuer,
                    list(&meta.code_challenge_methods_supported),
                    meta.raw
                        .get("registration_endpoint")
                        .and_then(Value::as_str)
                        .unwrap_or("none")
                ),
            );
            if !ident::same(&meta.issuer, issuer) {
                self.choose("nothing: the issuer differs");
                let slash = if ident::differ_only_by_trailing_slash(&meta.issuer, issuer) {
                    " (they differ in a trailing slash, which counts)"
                } else {
                    ""
                };
                return Err(broke(
                    link,
                    ErrorCode::IssuerMismatch,
                    format!(
                        "{} calls itself \"{}\", but the API names \"{issuer}\"{slash}",
                        answer.url, meta.issuer
                    ),
                    "RFC 8414 §3.3 requires them to be identical: ask the API's operator to list \
                     the server's exact issuer in authorization_servers",
                ));
            }
            self.choose(format!("authorization server {}", meta.issuer));
            return Ok(meta);
        }
        Err(broke(
            link,
            ErrorCode::NotFound,
            format!(
                "no metadata was found for \"{issuer}\" (tried {})",
                tried.join(", ")
            ),
            "Check that the server the API names is reachable and publishes RFC 8414 or OpenID \
             discovery metadata",
        ))
    }
}

/// Where to look for an authorization server's metadata, in the order of the MCP
/// authorization specification (2025-11-25): with a path, RFC 8414 path-inserted, OpenID
/// path-inserted, OpenID path-appended; without, RFC 8414 then OpenID.
pub fn as_metadata_urls(issuer: &str) -> std::result::Result<Vec<String>, String> {
    let url = Url::parse(issuer).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err("not an http(s) URL".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a URL with a query or fragment, which an issuer must not have".into());
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    Ok(if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    })
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_server_order_follows_the_mcp_specification() {
        assert_eq!(
            as_metadata_urls("https://auth.example.com").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            as_metadata_urls("https://auth.example.com/tenant1").unwrap(),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert!(as_metadata_urls("mailto:x@example.com").is_err());
        assert!(as_metadata_urls("https://as.example/?tenant=1").is_err());
    }
}
