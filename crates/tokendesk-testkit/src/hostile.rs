//! A deliberately hostile OpenID provider on loopback, for the tests of what TokenDesk must
//! refuse: forged, unsigned, key-confused and mis-addressed ID tokens, replayed nonces, a
//! userinfo about someone else, a JWKS of thousands of keys, an RFC 9207 `iss` that differs in
//! a trailing slash — and token endpoints that answer in form encoding, with dead tokens, with
//! redirects, with compressed or absurdly nested bodies — and any endpoint can be made to
//! answer with an [`Answer`]: a body of 200 MB, a gzip or brotli bomb, binary junk, a slow
//! drip, a redirect loop or a redirect to another host.
//!
//! It behaves like a normal provider (discovery, authorize → 302 with a code, token, JWKS,
//! userinfo) except where the current [`Scenario`] says otherwise. It lives in the test harness,
//! never in the product.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

const RSA_PEM: &str = include_str!("../../tokendesk-core/src/flow/testdata/rsa-2048.pem");
const RSA_PUBLIC_PEM: &str =
    include_str!("../../tokendesk-core/src/flow/testdata/rsa-2048.pub.pem");
const EC_PEM: &str = include_str!("../../tokendesk-core/src/flow/testdata/ec-p256.pem");

/// The client the hostile provider knows (any secret-less or secret client id is accepted).
pub const CLIENT_ID: &str = "victim-app";
pub const CLIENT_SECRET: &str = "victim-secret-0123456789";

/// How the ID token is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Signing {
    #[default]
    Rs256,
    Es256,
    /// HS256 with this secret.
    Hs256(String),
    /// `alg: none`, empty signature.
    Unsigned,
    /// HS256 with the provider's RSA public key (PEM) as the HMAC secret: key confusion.
    Hs256WithPublicKey,
}

/// What the provider does wrong on the next sign-in.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub signing: Signing,
    /// Flip the signature's last bytes.
    pub tamper_signature: bool,
    /// Claims set (or replaced) in the ID token.
    pub set: Map<String, Value>,
    /// Claims removed from the ID token.
    pub remove: Vec<String>,
    /// The `iss` of the authorization response; `None`: the issuer; empty: none sent (as
    /// providers without RFC 9207 do).
    pub iss_param: Option<String>,
    /// The `sub` userinfo answers with; `None`: the ID token's.
    pub userinfo_sub: Option<String>,
    /// The JWKS holds this many extra RSA keys with the signing key's `kid` (none verify).
    pub jwks_flood: usize,
    /// The `kid` the ID token names.
    pub kid: Option<String>,
    /// JSON members (`"name": value, ...`) added to the ID token's claims as text, for claims
    /// too deep to build as a `serde_json::Value`.
    pub raw_claims: Option<String>,
    /// The JWKS's RSA key with kid `k1` has a modulus of 1 MB (base64url) instead of the real
    /// one.
    pub jwks_huge_key: bool,
    /// How the token endpoints (`/token`, `/token/cc`) answer instead; `None`: normally.
    pub token_answer: Option<Answer>,
    /// How the discovery document is answered instead.
    pub discovery_answer: Option<Answer>,
    /// How the JWKS is answered instead.
    pub jwks_answer: Option<Answer>,
}

/// A misbehaving answer, for any endpoint. Large bodies are streamed as they are sent, never
/// held in the provider's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// [`HUGE_BODY`] bytes of a JSON string that never closes, in 64 KiB chunks.
    Huge,
    /// 1 GiB of zeros gzipped, `Content-Encoding: gzip`: 1,024 gzip members of 1 MiB each
    /// (RFC 1952 §2.2; `gzip -d` inflates all of them), about 1 MB on the wire.
    GzipBomb,
    /// 1 GiB of zeros compressed with brotli (1.6 kB), `Content-Encoding: br`.
    BrotliBomb,
    /// 64 KiB of binary noise declared `application/json`.
    Junk,
    /// The headers at once, then a valid token response one byte a second (about a minute).
    SlowDrip,
    /// 302 to the very address asked for.
    RedirectLoop,
    /// 302 to the same path on another host (`https://elsewhere.example`).
    RedirectAway,
    /// This body as it is, declared `application/json`.
    Raw(Vec<u8>),
    /// This body with this HTTP status and content type.
    Body(u16, &'static str, Vec<u8>),
}

/// The size of [`Answer::Huge`]: 200 MB.
pub const HUGE_BODY: u64 = 200_000_000;
/// Where [`Answer::RedirectAway`] points.
pub const ELSEWHERE: &str = "https://elsewhere.example";
const CHUNK: usize = 64 * 1024;
static FILLER: [u8; CHUNK] = [b'a'; CHUNK];
/// `gzip -9` of 1 MiB of zeros (made with Python's `gzip.compress(bytes(1 << 20), 9, mtime=0)`).
static GZIP_MIB_OF_ZEROS: &[u8] = include_bytes!("testdata/zeros-1mib.gz");
/// Brotli (quality 5) of 1 GiB of zeros, made with Node's `zlib.createBrotliCompress` fed 64
/// chunks of 16 MiB of zeros; Node's `createBrotliDecompress` gives back 1,073,741,824 bytes.
static BROTLI_GIB_OF_ZEROS: &[u8] = include_bytes!("testdata/zeros-1gib.br");

#[derive(Default)]
struct Shared {
    scenario: Scenario,
    /// nonce by code
    nonces: HashMap<String, Option<String>>,
    counter: u64,
    /// The issuer (discovery says it; a test can make discovery name another spelling).
    issuer: String,
    /// Where the endpoints are (the server's own address, whatever the issuer says).
    base: String,
    /// The form of the last request to `/token`.
    last_token_form: HashMap<String, String>,
    jwks_cache: Option<(usize, Value)>,
    /// Bytes of [`Answer::Huge`] bodies handed to the connection so far.
    streamed: Arc<AtomicU64>,
}

type St = Arc<Mutex<Shared>>;

pub struct Hostile {
    pub base: String,
    shared: St,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Starts on 127.0.0.1, on the current tokio runtime.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared: St = Arc::new(Mutex::new(Shared {
            issuer: base.clone(),
            base: base.clone(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/jwks", get(jwks))
            .route("/userinfo", get(userinfo))
            .route("/token/form", post(token_form))
            .route("/token/expires-in-zero", post(|| dead(json!(0))))
            .route("/token/expires-in-negative", post(|| dead(json!("-30"))))
            .route("/token/expires-in-words", post(|| dead(json!("soon"))))
            .route("/token/expires-at-past", post(expires_at_past))
            .route("/token/redirect", post(redirect))
            .route("/token/gzip", post(gzip))
            .route("/token/deep", post(deep))
            .route("/token/cc", post(token_cc))
            .fallback(nested_discovery)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A sign-in profile of the client this provider knows (its secret: [`CLIENT_SECRET`]).
    pub fn web_config(&self) -> tokendesk_core::profile::ProfileConfig {
        use tokendesk_core::profile::{AuthMethod, GrantKind, ProfileConfig};
        ProfileConfig {
            name: "victim".into(),
            issuer: Some(self.base.clone()),
            client_id: CLIENT_ID.into(),
            auth_method: AuthMethod::ClientSecretPost,
            grant: GrantKind::AuthorizationCode,
            scopes: vec!["openid".into()],
            ..Default::default()
        }
    }

    /// The scenario for what follows.
    pub fn set(&self, scenario: Scenario) {
        self.shared.lock().unwrap().scenario = scenario;
    }

    /// Bytes of [`Answer::Huge`] bodies the provider has produced so far (a reader that stops
    /// early stops the stream).
    pub fn streamed(&self) -> u64 {
        self.shared.lock().unwrap().streamed.load(Ordering::Relaxed)
    }

    /// The form the token endpoint last received (client authentication included).
    pub fn last_token_form(&self) -> HashMap<String, String> {
        self.shared.lock().unwrap().last_token_form.clone()
    }

    /// The issuer discovery announces (default: the base URL, no trailing slash).
    pub fn set_issuer(&self, issuer: &str) {
        self.shared.lock().unwrap().issuer = issuer.to_owned();
    }
}

/// Discovery under a path too (an issuer with a path, as `…/{tenant}/v2.0`); anything else
/// is not found.
async fn nested_discovery(state: State<St>, uri: Uri) -> Response {
    if uri.path().ends_with("/.well-known/openid-configuration") {
        return discovery(state, uri).await;
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn discovery(State(s): State<St>, uri: Uri) -> Response {
    let (issuer, base, sends_iss) = {
        let s = s.lock().unwrap();
        if let Some(answer) = &s.scenario.discovery_answer {
            return misbehave(answer, &s, &uri);
        }
        let sends_iss = s.scenario.iss_param.as_deref() != Some("");
        (s.issuer.clone(), s.base.clone(), sends_iss)
    };
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none"],
        "authorization_response_iss_parameter_supported": sends_iss,
    }))
    .into_response()
}

async fn authorize(State(s): State<St>, uri: Uri) -> Response {
    let q = form(uri.query().unwrap_or(""));
    let mut s = s.lock().unwrap();
    s.counter += 1;
    let code = format!("code-{}", s.counter);
    s.nonces.insert(code.clone(), q.get("nonce").cloned());
    let iss = s
        .scenario
        .iss_param
        .clone()
        .unwrap_or_else(|| s.issuer.clone());
    let mut target = url::Url::parse(&q["redirect_uri"]).unwrap();
    {
        let mut pairs = target.query_pairs_mut();
        pairs
            .append_pair("code", &code)
            .append_pair("state", q.get("state").map(String::as_str).unwrap_or(""));
        if !iss.is_empty() {
            pairs.append_pair("iss", &iss);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn half_hash(value: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&d[..16])
}

async fn token(State(s): State<St>, uri: Uri, body: String) -> Response {
    let f = form(&body);
    let mut s = s.lock().unwrap();
    s.last_token_form = f.clone();
    if let Some(answer) = &s.scenario.token_answer {
        return misbehave(answer, &s, &uri);
    }
    let access_token = format!("at-{}-{}", s.counter, now());
    let nonce = f
        .get("code")
        .and_then(|c| s.nonces.get(c).cloned())
        .flatten();
    let sc = s.scenario.clone();
    let mut claims = json!({
        "iss": s.issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 300,
        "at_hash": half_hash(&access_token),
    });
    if let Some(n) = nonce {
        claims["nonce"] = n.into();
    }
    let obj = claims.as_object_mut().unwrap();
    for (k, v) in &sc.set {
        obj.insert(k.clone(), v.clone());
    }
    for k in &sc.remove {
        obj.remove(k);
    }
    let id_token = sign(&sc, &claims);
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 300,
        "refresh_token": format!("rt-{}", s.counter),
        "id_token": id_token,
    }))
    .into_response()
}

fn sign(sc: &Scenario, claims: &Value) -> String {
    let kid = sc.kid.clone().unwrap_or_else(|| "k1".into());
    let rsa = || EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let (alg, kid, key) = match &sc.signing {
        Signing::Rs256 => ("RS256", Some(kid), Some((Algorithm::RS256, rsa()))),
        Signing::Es256 => (
            "ES256",
            Some("e1".to_owned()),
            Some((
                Algorithm::ES256,
                EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
            )),
        ),
        Signing::Hs256(secret) => (
            "HS256",
            None,
            Some((
                Algorithm::HS256,
                EncodingKey::from_secret(secret.as_bytes()),
            )),
        ),
        Signing::Hs256WithPublicKey => (
            "HS256",
            Some(kid),
            Some((
                Algorithm::HS256,
                EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()),
            )),
        ),
        Signing::Unsigned => ("none", None, None),
    };
    let mut header = json!({"typ": "JWT", "alg": alg});
    if let Some(kid) = kid {
        header["kid"] = kid.into();
    }
    let mut payload = claims.to_string();
    if let Some(raw) = &sc.raw_claims {
        payload.pop();
        payload.push(',');
        payload.push_str(raw);
        payload.push('}');
    }
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key
        .map(|(alg, key)| jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap())
        .unwrap_or_default();
    let mut jwt = format!("{message}.{signature}");
    if sc.tamper_signature {
        let keep = jwt.len() - 6;
        jwt.truncate(keep);
        jwt.push_str("AAAAAA");
    }
    jwt
}

async fn jwks(State(s): State<St>, uri: Uri) -> Response {
    let mut s = s.lock().unwrap();
    if let Some(answer) = &s.scenario.jwks_answer {
        return misbehave(answer, &s, &uri);
    }
    if s.scenario.jwks_huge_key {
        // 750,000 bytes of modulus: 1,000,000 characters of base64url.
        let n = URL_SAFE_NO_PAD.encode(vec![0xc5u8; 750_000]);
        return axum::Json(json!({"keys": [
            {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"}
        ]}))
        .into_response();
    }
    let flood = s.scenario.jwks_flood;
    if let Some((n, doc)) = &s.jwks_cache
        && *n == flood
    {
        return axum::Json(doc.clone()).into_response();
    }
    let mut rsa = Jwk::from_encoding_key(
        &EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap(),
        Algorithm::RS256,
    )
    .unwrap();
    rsa.common.key_id = Some("k1".into());
    let mut ec = Jwk::from_encoding_key(
        &EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
        Algorithm::ES256,
    )
    .unwrap();
    ec.common.key_id = Some("e1".into());
    let mut keys = Vec::new();
    // Keys that look right but do not verify: the real one comes last.
    for i in 0..flood {
        let mut k = rsa.clone();
        if let jsonwebtoken::jwk::AlgorithmParameters::RSA(p) = &mut k.algorithm {
            let mut n = URL_SAFE_NO_PAD.decode(&p.n).unwrap();
            let last = n.len() - 1;
            n[last] ^= (i % 255 + 1) as u8;
            n[last - 1] ^= (i / 255 % 255) as u8;
            p.n = URL_SAFE_NO_PAD.encode(n);
        }
        keys.push(k);
    }
    keys.push(rsa);
    keys.push(ec);
    let doc = serde_json::to_value(JwkSet { keys }).unwrap();
    s.jwks_cache = Some((flood, doc.clone()));
    axum::Json(doc).into_response()
}

async fn userinfo(State(s): State<St>) -> Response {
    let sub = s
        .lock()
        .unwrap()
        .scenario
        .userinfo_sub
        .clone()
        .unwrap_or_else(|| "alice".into());
    axum::Json(json!({ "sub": sub, "name": "Alice" })).into_response()
}

async fn token_form(headers: HeaderMap) -> Response {
    // GitHub's OAuth apps answer like this unless the client asks for JSON.
    let asked_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        [(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")],
        format!(
            "access_token=gho_form{}&token_type=bearer&scope=repo%2Cgist&expires_in=3600&x_accept={}",
            now(),
            url::form_urlencoded::byte_serialize(asked_json.as_bytes()).collect::<String>()
        ),
    )
        .into_response()
}

async fn dead(expires_in: Value) -> Response {
    axum::Json(json!({"access_token": "dead-on-arrival", "token_type": "Bearer", "expires_in": expires_in}))
        .into_response()
}

async fn expires_at_past() -> Response {
    axum::Json(json!({"access_token": "dead-on-arrival", "token_type": "Bearer", "expires_at": 1_600_000_000}))
        .into_response()
}

async fn redirect() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, "https://elsewhere.example/steal/token")],
    )
        .into_response()
}

async fn gzip() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        vec![
            0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0xff, 0xff,
        ],
    )
        .into_response()
}

async fn deep() -> Response {
    let depth = 200;
    let body = format!(
        r#"{{"access_token":"x","deep":{}1{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A client-credentials token endpoint: an access token, unless the scenario says otherwise.
async fn token_cc(State(s): State<St>, uri: Uri) -> Response {
    let mut s = s.lock().unwrap();
    if let Some(answer) = &s.scenario.token_answer {
        return misbehave(answer, &s, &uri);
    }
    s.counter += 1;
    axum::Json(json!({
        "access_token": format!("cc-{}-{}", s.counter, now()),
        "token_type": "Bearer",
        "expires_in": 300,
    }))
    .into_response()
}

/// The answer an [`Answer`] describes, to a request for `uri`.
fn misbehave(answer: &Answer, s: &Shared, uri: &Uri) -> Response {
    let json = (header::CONTENT_TYPE, "application/json");
    match answer {
        Answer::Huge => {
            let streamed = s.streamed.clone();
            let chunks = futures_util::stream::unfold(0u64, move |sent| {
                let streamed = streamed.clone();
                async move {
                    let chunk: &'static [u8] = match sent {
                        0 => br#"{"access_token":""#,
                        n if n >= HUGE_BODY => return None,
                        _ => &FILLER,
                    };
                    streamed.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    let next = sent + chunk.len() as u64;
                    Some((Ok::<_, Infallible>(Bytes::from_static(chunk)), next))
                }
            });
            ([json], Body::from_stream(chunks)).into_response()
        }
        Answer::GzipBomb => {
            let members = futures_util::stream::unfold(0u32, |n| async move {
                (n < 1024).then(|| {
                    (
                        Ok::<_, Infallible>(Bytes::from_static(GZIP_MIB_OF_ZEROS)),
                        n + 1,
                    )
                })
            });
            (
                [json, (header::CONTENT_ENCODING, "gzip")],
                Body::from_stream(members),
            )
                .into_response()
        }
        Answer::BrotliBomb => (
            [json, (header::CONTENT_ENCODING, "br")],
            BROTLI_GIB_OF_ZEROS,
        )
            .into_response(),
        Answer::Junk => {
            // xorshift: the same noise every time.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let noise: Vec<u8> = (0..CHUNK)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            ([json], noise).into_response()
        }
        Answer::SlowDrip => {
            let text: &'static [u8] =
                br#"{"access_token":"slow-but-valid","token_type":"Bearer","expires_in":300}"#;
            let drip = futures_util::stream::unfold(0usize, move |i| async move {
                if i >= text.len() {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Some((Ok::<_, Infallible>(Bytes::from_static(&text[i..=i])), i + 1))
            });
            ([json], Body::from_stream(drip)).into_response()
        }
        Answer::RedirectLoop => {
            let here = format!("{}{uri}", s.issuer.trim_end_matches('/'));
            (StatusCode::FOUND, [(header::LOCATION, here)]).into_response()
        }
        Answer::RedirectAway => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("{ELSEWHERE}{}", uri.path()))],
        )
            .into_response(),
        Answer::Raw(body) => ([json], body.clone()).into_response(),
        Answer::Body(status, content_type, body) => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            [(header::CONTENT_TYPE, *content_type)],
            body.clone(),
        )
            .into_response(),
    }
}

/// What a misbehaving provider must leave as it was: the profile (configuration and
/// discovered metadata), its token set, and digests of the token values in the keychain.
#[derive(Debug, PartialEq)]
pub struct Stored {
    profile: tokendesk_core::profile::Profile,
    token: Option<tokendesk_core::token::TokenSet>,
    /// SHA-256 of the access, refresh and ID token values (never the values themselves).
    values: Vec<Option<String>>,
}

impl Stored {
    pub async fn of(t: &crate::TestCore, id: &tokendesk_core::profile::ProfileId) -> Self {
        use sha2::Digest as _;
        use tokendesk_core::secret::SecretKind;
        let mut values = Vec::new();
        for kind in [
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::IdToken,
        ] {
            let value = t.core.reveal(id, kind).await.ok();
            values.push(
                value.map(|v| URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.expose().as_bytes()))),
            );
        }
        Self {
            profile: t.core.profile(&id.to_string()).unwrap(),
            token: t.core.token(id).unwrap(),
            values,
        }
    }
}

/// This process's peak resident set size so far (`VmHWM` in `/proc/self/status`), in bytes;
/// `None` where there is no such file (not Linux).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One sign-in through the paste path: the provider's 302 is the address the user pastes.
pub async fn sign_in(
    t: &crate::TestCore,
    profile: &tokendesk_core::profile::Profile,
) -> Result<tokendesk_core::token::TokenSet, tokendesk_core::Error> {
    let started = t.core.begin_login(&profile.id).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client.get(&started.auth_url).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    t.core.complete_login(&started.login_id, &location).await
}
