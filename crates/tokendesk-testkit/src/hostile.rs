//! A deliberately hostile OpenID provider on loopback, for the tests of what TokenDesk must
//! refuse: forged, unsigned, key-confused and mis-addressed ID tokens, replayed nonces, a
//! userinfo about someone else, a JWKS of thousands of keys, an RFC 9207 `iss` that differs in
//! a trailing slash — and token endpoints that answer in form encoding, with dead tokens, with
//! redirects, with compressed or absurdly nested bodies.
//!
//! It behaves like a normal provider (discovery, authorize → 302 with a code, token, JWKS,
//! userinfo) except where the current [`Scenario`] says otherwise. It lives in the test harness,
//! never in the product.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
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
    /// The `iss` of the authorization response; `None`: the issuer.
    pub iss_param: Option<String>,
    /// The `sub` userinfo answers with; `None`: the ID token's.
    pub userinfo_sub: Option<String>,
    /// The JWKS holds this many extra RSA keys with the signing key's `kid` (none verify).
    pub jwks_flood: usize,
    /// The `kid` the ID token names.
    pub kid: Option<String>,
}

#[derive(Default)]
struct Shared {
    scenario: Scenario,
    /// nonce by code
    nonces: HashMap<String, Option<String>>,
    counter: u64,
    /// The issuer (discovery says it; a test can make discovery name another spelling).
    issuer: String,
    jwks_cache: Option<(usize, Value)>,
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
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The scenario for what follows.
    pub fn set(&self, scenario: Scenario) {
        self.shared.lock().unwrap().scenario = scenario;
    }

    /// The issuer discovery announces (default: the base URL, no trailing slash).
    pub fn set_issuer(&self, issuer: &str) {
        self.shared.lock().unwrap().issuer = issuer.to_owned();
    }
}

async fn discovery(State(s): State<St>) -> Response {
    let (issuer, base) = {
        let s = s.lock().unwrap();
        (s.issuer.clone(), s.issuer.trim_end_matches('/').to_owned())
    };
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none"],
        "authorization_response_iss_parameter_supported": true,
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
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", q.get("state").map(String::as_str).unwrap_or(""))
        .append_pair("iss", &iss);
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

async fn token(State(s): State<St>, body: String) -> Response {
    let f = form(&body);
    let s = s.lock().unwrap();
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
    let mut jwt = match &sc.signing {
        Signing::Rs256 => {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(kid);
            jsonwebtoken::encode(
                &h,
                claims,
                &EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap(),
            )
            .unwrap()
        }
        Signing::Es256 => {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some("e1".into());
            jsonwebtoken::encode(
                &h,
                claims,
                &EncodingKey::from_ec_pem(EC_PEM.as_bytes()).unwrap(),
            )
            .unwrap()
        }
        Signing::Hs256(secret) => jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap(),
        Signing::Hs256WithPublicKey => {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(kid);
            jsonwebtoken::encode(
                &h,
                claims,
                &EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()),
            )
            .unwrap()
        }
        Signing::Unsigned => format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        ),
    };
    if sc.tamper_signature {
        let keep = jwt.len() - 6;
        jwt.truncate(keep);
        jwt.push_str("AAAAAA");
    }
    jwt
}

async fn jwks(State(s): State<St>) -> Response {
    let mut s = s.lock().unwrap();
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
