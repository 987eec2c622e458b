//! The one HTTP client: redirects off, timeouts on, and every exchange recorded — redacted — so
//! a user can see what was sent and what came back.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ts_rs::TS;

use oauth2::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::dpop::{self, DpopKey, Nonces};
use crate::error::{Error, ErrorCode};
use crate::profile::{Param, ProfileId};
use crate::redact::{self, Scrubber};
use crate::secret::Sensitive;

/// Bodies are cut to this many bytes in the exchange log.
const LOGGED_BODY_LIMIT: usize = 64 * 1024;
/// Responses larger than this are refused: no OAuth answer is that big.
pub const RESPONSE_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Installs the TLS crypto provider (ring) reqwest's rustls uses, unless the process has one.
/// Call it before building any other reqwest client.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A profile's own TLS settings: CA certificates to trust beside the system's (a sandbox with a
/// private CA), and a client certificate with its key for mutual TLS (RFC 8705).
#[derive(Clone, Default)]
pub struct TlsSetup {
    /// PEM certificates, trusted in addition to the system roots.
    pub ca_pem: Option<String>,
    /// The client certificate chain and its private key, PEM, one after the other.
    pub identity_pem: Option<Sensitive<String>>,
}

impl TlsSetup {
    /// The identity PEM of a certificate (chain) and its key.
    pub fn identity(cert_pem: &str, key_pem: &Sensitive<String>) -> Sensitive<String> {
        Sensitive::new(format!("{}\n{}", cert_pem.trim_end(), key_pem.expose()))
    }

    fn is_plain(&self) -> bool {
        self.ca_pem.is_none() && self.identity_pem.is_none()
    }

    /// Identifies the setup among the built clients, without keeping the key in the clear.
    fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(self.ca_pem.as_deref().unwrap_or_default());
        h.update([0]);
        h.update(
            self.identity_pem
                .as_ref()
                .map(|s| s.expose().as_str())
                .unwrap_or_default(),
        );
        h.finalize().into()
    }

    /// Checks that the certificates and key can be used, with a message that says which part
    /// is wrong (`field` names the form field to show it under).
    pub fn check(&self) -> Result<(), Error> {
        if let Some(ca) = &self.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca.as_bytes()).map_err(|e| {
                Error::invalid_field("tls_ca", format!("Not PEM certificates ({e})."))
            })?;
            if certs.is_empty() {
                return Err(Error::invalid_field(
                    "tls_ca",
                    "No certificate (-----BEGIN CERTIFICATE-----) in it.",
                ));
            }
        }
        if let Some(identity) = &self.identity_pem {
            let refuse = |e: reqwest::Error| {
                Error::invalid_field(
                    "tls_key",
                    format!(
                        "The client certificate and this private key do not make a TLS identity \
                         ({}). Give the certificate (chain) as PEM in the profile and its own \
                         private key (PEM, PKCS#8 or traditional) here.",
                        error_chain(&e)
                    ),
                )
            };
            let identity =
                reqwest::Identity::from_pem(identity.expose().as_bytes()).map_err(refuse)?;
            // Building a client is what pairs the key with the certificate (and so finds a key
            // that belongs to another one); no roots needed for that.
            install_tls_provider();
            reqwest::Client::builder()
                .tls_certs_only([])
                .identity(identity)
                .build()
                .map_err(refuse)?;
        }
        Ok(())
    }
}

/// The HTTP client, built on first use: building it loads the system's TLS roots, which costs
/// tens of milliseconds that a command serving a cached token should not pay. Profiles with
/// TLS settings of their own get a client each, kept for the next call.
pub struct Http {
    options: HttpOptions,
    client: std::sync::OnceLock<reqwest::Client>,
    with_tls: Mutex<std::collections::HashMap<[u8; 32], reqwest::Client>>,
}

impl Http {
    pub fn new(options: &HttpOptions) -> Result<Self, Error> {
        Ok(Self {
            options: options.clone(),
            client: std::sync::OnceLock::new(),
            with_tls: Mutex::new(std::collections::HashMap::new()),
        })
    }

    fn builder(&self) -> reqwest::ClientBuilder {
        install_tls_provider();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.options.timeout)
            .connect_timeout(self.options.connect_timeout)
            // Servers close idle keep-alive connections (Node after 5 s): a connection kept
            // longer may be closed under a request reusing it. Let it go first.
            .pool_idle_timeout(Duration::from_secs(4))
            .user_agent(concat!("TokenDesk/", env!("CARGO_PKG_VERSION")))
    }

    fn client(&self, tls: &TlsSetup) -> Result<reqwest::Client, TransportError> {
        let unusable = |e: String| TransportError {
            code: ErrorCode::Tls,
            message: format!("The HTTP client could not be set up: {e}."),
        };
        if tls.is_plain() {
            if let Some(c) = self.client.get() {
                return Ok(c.clone());
            }
            let built = self
                .builder()
                .build()
                .map_err(|e| unusable(e.to_string()))?;
            return Ok(self.client.get_or_init(|| built).clone());
        }
        let digest = tls.digest();
        let mut clients = self.with_tls.lock().expect("clients poisoned");
        if let Some(c) = clients.get(&digest) {
            return Ok(c.clone());
        }
        let built = with_setup(self.builder(), tls)
            .and_then(|b| b.build())
            .map_err(|e| unusable(e.to_string()))?;
        clients.insert(digest, built.clone());
        Ok(built)
    }

    /// One GET of `url` to see the way there (the setup check): the status, the server's
    /// `Date`, and over https its certificate and the TLS version. A client of its own, made
    /// for this and let go; nothing is recorded.
    pub async fn probe(&self, url: &str, tls: &TlsSetup) -> Result<Probe, TransportError> {
        let client = with_setup(self.builder().tls_info(true), tls)
            .and_then(|b| b.build())
            .map_err(|e| TransportError {
                code: ErrorCode::Tls,
                message: format!("The HTTP client could not be set up: {e}."),
            })?;
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| transport_error(url, e, self.options.timeout))?;
        let tls_info = response.extensions().get::<reqwest::tls::TlsInfo>();
        Ok(Probe {
            status: response.status().as_u16(),
            date: response
                .headers()
                .get(http::header::DATE)
                .and_then(|d| d.to_str().ok())
                .map(str::to_owned),
            peer_certificate: tls_info
                .and_then(|t| t.peer_certificate())
                .map(<[u8]>::to_vec),
        })
    }
}

/// What [`Http::probe`] saw.
#[derive(Debug, Clone)]
pub struct Probe {
    pub status: u16,
    pub date: Option<String>,
    /// The server's certificate (DER), over https.
    pub peer_certificate: Option<Vec<u8>>,
}

/// A client builder with a profile's CAs and client certificate.
fn with_setup(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsSetup,
) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    if let Some(ca) = &tls.ca_pem {
        builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(ca.as_bytes())?);
    }
    if let Some(identity) = &tls.identity_pem {
        builder = builder.identity(reqwest::Identity::from_pem(identity.expose().as_bytes())?);
    }
    Ok(builder)
}

/// One recorded HTTP exchange, already redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Exchange {
    /// Assigned by the store (0 until stored): what a [`crate::history::TokenEvent`] links to.
    #[serde(default)]
    pub id: i64,
    pub profile_id: ProfileId,
    /// What TokenDesk was doing: `token:client_credentials`, `discovery`, `userinfo`, ...
    pub operation: String,
    pub at: i64,
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub request_headers: Vec<Param>,
    pub request_body: String,
    pub response_headers: Vec<Param>,
    pub response_body: String,
    /// A transport failure (connect, TLS, timeout), when there was no response.
    pub error: Option<String>,
}

/// A transport failure: nothing usable came back.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::new(e.code, e.message)
    }
}

type SendFuture<'s> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HttpResponse, TransportError>> + Send + 's>,
>;

/// The status and content type of the last response of a call, for error messages.
#[derive(Debug, Clone, Default)]
pub struct LastResponse {
    pub status: Option<u16>,
    pub content_type: Option<String>,
    /// Where a redirect pointed (redirects are never followed).
    pub location: Option<String>,
    /// A compression TokenDesk did not ask for (it sends no Accept-Encoding).
    pub content_encoding: Option<String>,
}

/// One operation's HTTP calls: adds the profile's extra headers, records each exchange.
pub struct Call<'a> {
    http: &'a Http,
    tls: TlsSetup,
    clock: &'a dyn Clock,
    profile_id: ProfileId,
    operation: String,
    headers: Vec<Param>,
    /// Values for the headers' templates (`{{uuid}}` is fresh for every request).
    values: crate::template::Values,
    scrubber: Scrubber,
    records: Mutex<Vec<Exchange>>,
    /// With DPoP: the key that signs a proof for every request, and the nonces providers gave.
    dpop: Option<(std::sync::Arc<DpopKey>, std::sync::Arc<Nonces>)>,
    /// Signs a new client assertion for a request sent again (a provider refuses an
    /// assertion's `jti` the second time).
    resign: Option<Resign>,
}

/// Makes a fresh client assertion.
pub type Resign = Box<dyn Fn() -> Result<String, Error> + Send + Sync>;

impl<'a> Call<'a> {
    pub fn new(
        http: &'a Http,
        clock: &'a dyn Clock,
        profile_id: ProfileId,
        operation: impl Into<String>,
        headers: &[Param],
    ) -> Self {
        Self {
            http,
            tls: TlsSetup::default(),
            clock,
            profile_id,
            operation: operation.into(),
            headers: headers.to_vec(),
            values: crate::template::Values::new(),
            scrubber: Scrubber::default(),
            records: Mutex::new(Vec::new()),
            dpop: None,
            resign: None,
        }
    }

    /// How to sign a fresh client assertion when a request is sent again (DPoP nonce retry).
    pub fn with_resign(mut self, resign: Resign) -> Self {
        self.resign = Some(resign);
        self
    }

    /// Signs a DPoP proof (RFC 9449) for every request of this call.
    pub fn with_dpop(
        mut self,
        key: std::sync::Arc<DpopKey>,
        nonces: std::sync::Arc<Nonces>,
    ) -> Self {
        self.dpop = Some((key, nonces));
        self
    }

    /// The DPoP key this call proves possession of, if any.
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop.as_ref().map(|(k, _)| k.as_ref())
    }

    /// Values captured by the profile's steps, for the templates of headers and token
    /// parameters.
    pub fn with_values(mut self, values: crate::template::Values) -> Self {
        self.values = values;
        self
    }

    pub fn values(&self) -> &crate::template::Values {
        &self.values
    }

    /// A template context over this call's values and clock.
    pub fn template(&self) -> crate::template::Context<'_> {
        crate::template::Context {
            values: &self.values,
            now: self.clock.now_ms(),
        }
    }

    /// Uses the profile's own TLS settings (trusted CAs, client certificate).
    pub fn with_tls(mut self, tls: TlsSetup) -> Self {
        self.tls = tls;
        self
    }

    /// The time by the call's clock.
    pub fn now_ms(&self) -> crate::clock::Millis {
        self.clock.now_ms()
    }

    /// Registers a secret value to scrub from the records wherever it appears.
    pub fn scrub(&mut self, secret: &str) {
        self.scrubber.add(secret);
    }

    /// The recorded exchanges, redacted.
    pub fn take_records(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.records.lock().expect("records poisoned"))
    }

    pub fn last_response(&self) -> LastResponse {
        let records = self.records.lock().expect("records poisoned");
        records
            .last()
            .map(|r| LastResponse {
                status: r.status,
                content_type: r
                    .response_headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-type"))
                    .map(|h| h.value.clone()),
                location: r
                    .response_headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("location"))
                    .map(|h| h.value.clone()),
                content_encoding: r
                    .response_headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-encoding"))
                    .map(|h| h.value.clone())
                    .filter(|v| !v.eq_ignore_ascii_case("identity")),
            })
            .unwrap_or_default()
    }

    /// What the call does, in words: `token:client_credentials` → "token endpoint".
    fn operation_label(&self) -> String {
        match self.operation.split(':').next().unwrap_or("") {
            "token" => "token endpoint".into(),
            "jwks" => "JWKS".into(),
            other => other.replace('_', " "),
        }
    }

    /// Sends one request (the oauth2 crate calls this through [`Call::client`]). With DPoP, each
    /// try carries a fresh proof, and an answer that asks for a nonce (`use_dpop_nonce` with a
    /// `DPoP-Nonce` header) is answered by sending the request again with it, at most
    /// [`dpop::NONCE_RETRIES`] times.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let Some((key, nonces)) = &self.dpop else {
            return self.send_once(request).await;
        };
        let url = request.uri().to_string();
        let method = request.method().to_string();
        // A request that uses a DPoP-bound token proves it holds its key: `ath`.
        let bound_token = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("DPoP "))
            .map(str::to_owned);
        let mut tries = 0;
        loop {
            let used = nonces.get(&url);
            let proof = key.proof(
                &method,
                &url,
                used.as_deref(),
                bound_token.as_deref(),
                self.clock.now_ms(),
            );
            let mut attempt = copy_request(&request);
            if tries > 0
                && let Some(resign) = &self.resign
            {
                *attempt.body_mut() = with_fresh_assertion(attempt.body(), resign)?;
            }
            if let Ok(v) = http::HeaderValue::from_str(&proof) {
                attempt.headers_mut().insert("dpop", v);
            }
            let response = self.send_once(attempt).await?;
            let given = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if let Some(n) = &given {
                nonces.set(&url, n);
            }
            let fresh = given.is_some() && given != used;
            if fresh
                && tries < dpop::NONCE_RETRIES
                && dpop::asks_for_nonce(
                    response.status().as_u16(),
                    response.headers(),
                    response.body(),
                )
            {
                tries += 1;
                continue;
            }
            return Ok(response);
        }
    }

    async fn send_once(&self, mut request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let ctx = self.template();
        for h in &self.headers {
            let value = ctx
                .render(&h.value, &format!("headers.{}", h.name))
                .map_err(|e| TransportError {
                    code: ErrorCode::InvalidInput,
                    message: format!("The header {} cannot be filled: {}", h.name, e.message),
                })?;
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(h.name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                request.headers_mut().insert(name, value);
            }
        }
        let at = self.clock.now_ms();
        let started = Instant::now();
        let mut record = Exchange {
            id: 0,
            profile_id: self.profile_id.clone(),
            operation: self.operation.clone(),
            at,
            method: request.method().to_string(),
            url: self.recorded_url(request.uri()),
            status: None,
            duration_ms: 0,
            request_headers: self.headers_of(request.headers()),
            request_body: self.body_of(request.headers(), request.body()),
            response_headers: Vec::new(),
            response_body: String::new(),
            error: None,
        };
        let result = self.exchange(request).await;
        record.duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(response) => {
                record.status = Some(response.status().as_u16());
                record.response_headers = self.headers_of(response.headers());
                record.response_body = self.body_of(response.headers(), response.body());
            }
            Err(e) => record.error = Some(e.message.clone()),
        }
        tracing::debug!(
            profile = %self.profile_id, operation = %self.operation, method = %record.method,
            url = %record.url, status = ?record.status, ms = record.duration_ms, "http exchange"
        );
        self.records.lock().expect("records poisoned").push(record);
        result
    }

    /// [`Call::send`] as the oauth2 crate sees it (see the `AsyncHttpClient` impl below).
    ///
    /// Lenient where it costs nothing: a 200 answer whose body is a JSON object is accepted
    /// whatever its Content-Type says (some gateways send `text/plain`). The exchange log keeps
    /// the header as it came.
    pub async fn send_for_oauth(
        &self,
        request: HttpRequest,
    ) -> Result<HttpResponse, TransportError> {
        let mut response = self.send(request).await?;
        let json_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
        let form_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if form_type && let Some(json) = form_as_json(response.body()) {
            // GitHub's OAuth apps and some older providers answer in form encoding unless
            // asked otherwise: read it as the same fields (every value a string).
            *response.body_mut() = json;
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        } else if response.status() == 200
            && !json_type
            && serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(response.body())
                .is_ok()
        {
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        if response.status() == 200 && error_in_success(response.body()) {
            // GitHub answers some errors with HTTP 200 and an `error` member, Slack with
            // `"ok": false`: read them as the error answers they are (the exchange log keeps
            // the 200, and messages say it).
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
        }
        Ok(response)
    }

    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.uri().to_string();
        let request = reqwest::Request::try_from(request).map_err(|e| TransportError {
            code: ErrorCode::InvalidInput,
            message: format!("Invalid request to {}: {e}", redact::url(&url)),
        })?;
        let mut response = self
            .http
            .client(&self.tls)?
            .execute(request)
            .await
            .map_err(|e| transport_error(&url, e, self.http.options.timeout))?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&url, e, self.http.options.timeout))?
        {
            if body.len() + chunk.len() > RESPONSE_LIMIT {
                return Err(TransportError {
                    code: ErrorCode::BadResponse,
                    message: format!(
                        "The {} answer from {} is larger than {} MiB (TokenDesk's limit for one \
                         answer): cut off, not read. An OAuth answer is never that large; check \
                         the URL.",
                        self.operation_label(),
                        redact::url(&url),
                        RESPONSE_LIMIT >> 20
                    ),
                });
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body)
            .map_err(|e| Error::internal(e.to_string()))
            .map_err(|e| TransportError {
                code: e.code,
                message: e.message,
            })
    }

    /// The request's URL for the exchange log: secret parameters and values hidden. Each step
    /// copies only when it changes something.
    fn recorded_url(&self, uri: &http::Uri) -> String {
        let uri = uri.to_string();
        let redacted = match redact::url(&uri) {
            Cow::Owned(changed) => Some(changed),
            Cow::Borrowed(_) => None,
        };
        self.scrubber.scrub(redacted.unwrap_or(uri)).into_owned()
    }

    fn headers_of(&self, headers: &http::HeaderMap) -> Vec<Param> {
        headers
            .iter()
            .map(|(k, v)| {
                let value = String::from_utf8_lossy(v.as_bytes());
                let value = self
                    .scrubber
                    .scrub(redact::header_value(k.as_str(), &value));
                Param::new(k.as_str(), value.into_owned())
            })
            .collect()
    }

    fn body_of(&self, headers: &http::HeaderMap, body: &[u8]) -> String {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let cut = &body[..body.len().min(LOGGED_BODY_LIMIT)];
        let text = String::from_utf8_lossy(cut);
        let mut out = self
            .scrubber
            .scrub(redact::body(content_type, &text))
            .into_owned();
        if body.len() > LOGGED_BODY_LIMIT {
            out.push_str(&format!(
                "\n… ({} more bytes not kept)",
                body.len() - LOGGED_BODY_LIMIT
            ));
        }
        out
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Call<'_> {
    type Error = TransportError;
    type Future = SendFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send_for_oauth(request))
    }
}

/// A form body with its `client_assertion` (if any) replaced by a fresh one: an assertion's
/// `jti` is single-use, so a request sent again needs a new one.
fn with_fresh_assertion(body: &[u8], resign: &Resign) -> Result<Vec<u8>, TransportError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if !pairs.iter().any(|(k, _)| k == "client_assertion") {
        return Ok(body.to_vec());
    }
    let fresh = resign().map_err(|e| TransportError {
        code: e.code,
        message: e.message,
    })?;
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, if k == "client_assertion" { &fresh } else { v });
    }
    Ok(out.finish().into_bytes())
}

/// The same request again (a body of bytes copies).
fn copy_request(r: &HttpRequest) -> HttpRequest {
    let mut copy = http::Request::new(r.body().clone());
    *copy.method_mut() = r.method().clone();
    *copy.uri_mut() = r.uri().clone();
    *copy.version_mut() = r.version();
    *copy.headers_mut() = r.headers().clone();
    copy
}

/// Where a redirect answer points, redacted (`None` for any other answer). TokenDesk never
/// follows one: errors name the target instead.
pub fn redirect_target(response: &HttpResponse) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(http::header::LOCATION)?;
    Some(redact::url(&String::from_utf8_lossy(location.as_bytes())).into_owned())
}

/// Whether a 200 answer is an OAuth error: a JSON object with a non-empty `error` string and
/// no `access_token` (GitHub), or `"ok": false` (Slack).
fn error_in_success(body: &[u8]) -> bool {
    let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) else {
        return false;
    };
    if map.contains_key("access_token") {
        return false;
    }
    let has_error = map
        .get("error")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|e| !e.trim().is_empty());
    has_error || map.get("ok") == Some(&serde_json::Value::Bool(false))
}

/// A form-encoded body (`access_token=…&token_type=bearer`) as a JSON object of strings; `None`
/// when it is not one (no `=`, not UTF-8).
pub fn form_as_json(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() || !text.contains('=') || text.starts_with('{') || text.starts_with('<') {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> =
        url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
    serde_json::to_vec(&map).ok()
}

/// A reqwest failure as something a person can act on.
fn transport_error(url: &str, e: reqwest::Error, timeout: Duration) -> TransportError {
    let url = redact::url(url);
    let chain = error_chain(&e);
    let lower = chain.to_ascii_lowercase();
    let (code, message) = if e.is_timeout() {
        (
            ErrorCode::Timeout,
            format!(
                "{url} did not answer within {} (TokenDesk's limit for one HTTP exchange). Check that the provider is up and reachable from this machine (proxy, VPN, firewall).",
                if timeout.as_secs() >= 1 {
                    format!("{} s", timeout.as_secs())
                } else {
                    format!("{} ms", timeout.as_millis())
                }
            ),
        )
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("ssl")
        || lower.contains("handshake")
    {
        (
            ErrorCode::Tls,
            format!(
                "The TLS connection to {url} failed ({chain}). Check the URL's host name, the server's certificate chain, and whether the API needs a client certificate (mTLS)."
            ),
        )
    } else if e.is_decode() || lower.contains("decod") || lower.contains("decompress") {
        (
            ErrorCode::BadResponse,
            format!(
                "The answer from {url} could not be decoded ({chain}): its compression (gzip, deflate, br) does not decompress, or the transfer broke off."
            ),
        )
    } else if e.is_connect() {
        (
            ErrorCode::Network,
            format!(
                "Could not connect to {url} ({chain}). Check the URL and that the provider is running and reachable."
            ),
        )
    } else {
        (
            ErrorCode::Network,
            format!("The request to {url} failed ({chain})."),
        )
    };
    TransportError { code, message }
}

/// The error's own text and its causes, without the URL reqwest prefixes.
fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.without_url_ref()
    } else {
        parts.join(": ")
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let text = self.to_string();
        match self.url() {
            Some(u) => text.replace(&format!(" for url ({u})"), ""),
            None => text,
        }
    }
}
