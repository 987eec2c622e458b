//! Shared test plumbing: start a sandbox, call it, complete the demo login.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokendesk_sandbox::{Sandbox, SandboxOptions, Style};

pub const REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";
/// The issuers that take any demo client, without the bank's rules.
pub const GENERAL: [Style; 2] = [Style::Standard, Style::Gateway];

pub async fn start() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("the sandbox starts on an ephemeral loopback port")
}

/// A client that does not follow redirects, so tests can read `Location`.
pub fn http() -> reqwest::Client {
    // reqwest's rustls takes the process's crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client builds")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query parameters of the `Location` header.
    pub fn location_params(&self) -> Vec<(String, String)> {
        let location = self.header("location").expect("a Location header");
        url::Url::parse(location)
            .expect("Location is an absolute URL")
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn reply(response: reqwest::Response) -> Reply {
    Reply {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("response body reads"),
    }
}

pub async fn get(url: &str, bearer: Option<&str>) -> Reply {
    let mut request = http().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    reply(request.send().await.expect("GET reaches the sandbox")).await
}

pub async fn get_json(url: &str) -> Value {
    let r = get(url, None).await;
    assert_eq!(r.status, StatusCode::OK, "GET {url}: {}", r.body);
    r.json()
}

/// POSTs a form; `basic` sends client_secret_basic credentials.
pub async fn post_form(url: &str, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut request = http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    reply(request.send().await.expect("POST reaches the sandbox")).await
}

/// `(verifier, S256 challenge)`.
pub fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed}-verifier-{}", "x".repeat(43));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The client credentials a test uses at the token endpoint.
#[derive(Clone, Copy)]
pub enum Auth {
    Basic(&'static str, &'static str),
    Post(&'static str, &'static str),
    Public(&'static str),
}

impl Auth {
    pub fn client_id(self) -> &'static str {
        match self {
            Auth::Basic(id, _) | Auth::Post(id, _) | Auth::Public(id) => id,
        }
    }
}

/// POSTs to an endpoint of `issuer` with the client authentication `auth`.
pub async fn call(issuer: &str, endpoint: &str, auth: Auth, pairs: &[(&str, &str)]) -> Reply {
    let url = format!("{issuer}{endpoint}");
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    match auth {
        Auth::Basic(id, secret) => return post_form(&url, &all, Some((id, secret))).await,
        Auth::Post(id, secret) => {
            all.push(("client_id", id));
            all.push(("client_secret", secret));
        }
        Auth::Public(id) => all.push(("client_id", id)),
    }
    post_form(&url, &all, None).await
}

pub async fn token(issuer: &str, auth: Auth, pairs: &[(&str, &str)]) -> Reply {
    call(issuer, "/token", auth, pairs).await
}

/// The authorization request URL for `client_id` with PKCE S256.
pub fn authorize_url(
    issuer: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
    state: &str,
    nonce: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{issuer}/authorize?{query}")
}

/// Pulls the opaque request id out of the login page.
pub fn request_id(page: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = page
        .find(marker)
        .expect("the login page has a request_id field")
        + marker.len();
    let len = page[start..]
        .find('"')
        .expect("the request_id value is quoted");
    page[start..start + len].to_owned()
}

pub struct Login {
    pub code: String,
    pub verifier: String,
    /// The redirect after Approve, for assertions on `state` and `iss`.
    pub redirect: Vec<(String, String)>,
}

/// Opens the login page, checks its banner, presses Approve and returns the code.
pub async fn login(issuer: &str, client_id: &str, scope: &str, nonce: &str) -> Login {
    let (verifier, challenge) = pkce(client_id);
    let page = get(
        &authorize_url(issuer, client_id, &challenge, scope, "state-123", nonce),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "login page: {}", page.body);
    assert!(
        page.body.contains("demo only, not for production"),
        "the login page must warn it is a demo"
    );
    assert!(
        page.body.contains(client_id),
        "the login page names the client"
    );
    let decision = post_form(
        &format!("{issuer}/authorize/decision"),
        &[
            ("request_id", &request_id(&page.body)),
            ("decision", "approve"),
        ],
        None,
    )
    .await;
    assert_eq!(decision.status, StatusCode::SEE_OTHER, "{}", decision.body);
    let location = decision.header("location").expect("Approve redirects");
    assert!(
        location.starts_with(REDIRECT_URI),
        "Approve redirects to the registered loopback URI, got {location}"
    );
    let redirect = decision.location_params();
    let code = param(&redirect, "code")
        .expect("the redirect carries a code")
        .to_owned();
    Login {
        code,
        verifier,
        redirect,
    }
}

/// Completes a login and redeems the code; asserts success.
pub async fn login_and_redeem(issuer: &str, auth: Auth, scope: &str, nonce: &str) -> Value {
    let login = login(issuer, auth.client_id(), scope, nonce).await;
    let r = token(
        issuer,
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &login.code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &login.verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "code redemption: {}", r.body);
    r.json()
}

/// Introspects `token` as the CC client (which may introspect any token).
pub async fn introspect(issuer: &str, token: &str) -> Value {
    let (id, secret) = tokendesk_sandbox::CC_CLIENT;
    let r = call(
        issuer,
        "/introspect",
        Auth::Basic(id, secret),
        &[("token", token)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "introspection: {}", r.body);
    r.json()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Verifies an RS256 JWT against the issuer's JWKS and returns its claims.
pub async fn verify_jwt(issuer: &str, jwt: &str, audience: &str) -> Value {
    let jwks = get_json(&format!("{issuer}/jwks")).await;
    let header = jsonwebtoken::decode_header(jwt).expect("JWT header decodes");
    let kid = header.kid.expect("the JWT names its key");
    let key = jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the JWKS has the key the JWT names");
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().expect("n"),
        key["e"].as_str().expect("e"),
    )
    .expect("RSA components decode");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Value>(jwt, &decoding, &validation)
        .expect("the JWT signature and claims verify against the JWKS")
        .claims
}
