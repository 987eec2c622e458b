//! The FAPI 2.0 issuer (`{base}/fapi`) driven the way a FAPI client drives it — PAR with a
//! private_key_jwt assertion for the issuer, the browser with client_id and request_uri only, a
//! DPoP-bound code exchange, userinfo with a DPoP token — and each rule it holds a client to:
//! every refusal says what is wrong.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokendesk_core::dpop::{DpopAlg, DpopKey};
use tokendesk_sandbox::{FAPI_CLIENT, FAPI_CLIENT_KID, Sandbox, Style};

use crate::common::{
    REDIRECT_URI, Reply, get, get_json, http, now_ms, param, pkce, post_form, reply, request_id,
    start,
};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A running sandbox and what the FAPI client holds: its signing key and a DPoP key.
struct Client {
    sandbox: Sandbox,
    issuer: String,
    key: EncodingKey,
    dpop: DpopKey,
}

/// A request's DPoP header: none, or a proof for (method, URL), with or without the nonce.
enum Proof<'a> {
    None,
    For(&'a str, &'a str),
    Raw(String),
}

impl Client {
    async fn start() -> Client {
        let sandbox = start().await;
        let issuer = sandbox.issuer(Style::Fapi);
        let key = EncodingKey::from_rsa_pem(sandbox.fapi_client_key_pem().as_bytes())
            .expect("the FAPI client key the sandbox hands out is an RSA PEM");
        Client {
            sandbox,
            issuer,
            key,
            dpop: DpopKey::generate(DpopAlg::ES256),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// A client assertion for `aud`, PS256 with the registered kid, a fresh jti.
    fn assertion(&self, aud: &Value) -> String {
        let now = now_ms() / 1000;
        let claims = json!({
            "iss": FAPI_CLIENT, "sub": FAPI_CLIENT, "aud": aud,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 60,
        });
        let mut header = Header::new(Algorithm::PS256);
        header.kid = Some(FAPI_CLIENT_KID.into());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("signs")
    }

    /// A proof with the server's nonce (fetched by a first, nonce-less try when needed).
    async fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        let nonce = self.nonce().await;
        self.dpop
            .proof(method, url, Some(&nonce), token, now_ms() as i64)
    }

    /// The server's current nonce: what a proof without one is answered with.
    async fn nonce(&self) -> String {
        let url = self.url("/token");
        let bare = self.dpop.proof("POST", &url, None, None, now_ms() as i64);
        let r = self
            .send(
                "/token",
                &[("grant_type", "refresh_token"), ("refresh_token", "x")],
                Some(&self.issuer_aud()),
                Some(bare),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.json()["error"], "use_dpop_nonce", "{}", r.body);
        r.header("dpop-nonce")
            .expect("use_dpop_nonce comes with a DPoP-Nonce header")
            .to_owned()
    }

    fn issuer_aud(&self) -> Value {
        json!(self.issuer)
    }

    /// POSTs a form to an endpoint with an assertion for `aud` (none: no client auth).
    async fn post(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        aud: Option<&Value>,
        proof: Proof<'_>,
    ) -> Reply {
        let proof = match proof {
            Proof::None => None,
            Proof::For(method, url) => Some(self.proof(method, url, None).await),
            Proof::Raw(p) => Some(p),
        };
        self.send(path, pairs, aud, proof).await
    }

    async fn send(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        aud: Option<&Value>,
        proof: Option<String>,
    ) -> Reply {
        let assertion = aud.map(|aud| self.assertion(aud));
        let mut all = pairs.to_vec();
        if let Some(a) = &assertion {
            all.extend([
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", a),
            ]);
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&all)
            .finish();
        let mut request = http()
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(p) = proof {
            request = request.header("dpop", p);
        }
        reply(request.send().await.expect("the FAPI issuer answers")).await
    }

    /// PAR with PKCE and the DPoP key's thumbprint; returns (request_uri, verifier).
    async fn push(&self) -> (String, String) {
        let (verifier, challenge) = pkce("fapi");
        let par = self.url("/par");
        let r = self
            .post(
                "/par",
                &[
                    ("response_type", "code"),
                    ("client_id", FAPI_CLIENT),
                    ("redirect_uri", REDIRECT_URI),
                    ("scope", "openid offline_access"),
                    ("state", "state-fapi"),
                    ("nonce", "nonce-fapi"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                    ("dpop_jkt", self.dpop.thumbprint()),
                ],
                Some(&self.issuer_aud()),
                Proof::For("POST", &par),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "PAR: {}", r.body);
        let body = r.json();
        assert_eq!(body["expires_in"], 60);
        let uri = body["request_uri"]
            .as_str()
            .expect("a request_uri")
            .to_owned();
        assert!(
            uri.starts_with("urn:ietf:params:oauth:request_uri:"),
            "{uri}"
        );
        (uri, verifier)
    }

    fn authorize_url(&self, request_uri: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", FAPI_CLIENT)
            .append_pair("request_uri", request_uri)
            .finish();
        self.url(&format!("/authorize?{query}"))
    }

    /// PAR, the login page, Approve: (code, verifier, redirect parameters).
    async fn login(&self) -> (String, String, Vec<(String, String)>) {
        let (request_uri, verifier) = self.push().await;
        let page = get(&self.authorize_url(&request_uri), None).await;
        assert_eq!(page.status, StatusCode::OK, "login page: {}", page.body);
        let decision = post_form(
            &self.url("/authorize/decision"),
            &[
                ("request_id", &request_id(&page.body)),
                ("decision", "approve"),
            ],
            None,
        )
        .await;
        assert_eq!(decision.status, StatusCode::SEE_OTHER, "{}", decision.body);
        let redirect = decision.location_params();
        let code = param(&redirect, "code").expect("a code").to_owned();
        (code, verifier, redirect)
    }

    /// The code exchange with a proof of `self.dpop`.
    async fn redeem(&self, code: &str, verifier: &str) -> Reply {
        let token_url = self.url("/token");
        self.post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", verifier),
            ],
            Some(&self.issuer_aud()),
            Proof::For("POST", &token_url),
        )
        .await
    }

    async fn userinfo(&self, authorization: &str, proof: Option<&str>) -> Reply {
        let mut request = http()
            .get(self.url("/userinfo"))
            .header("authorization", authorization);
        if let Some(p) = proof {
            request = request.header("dpop", p);
        }
        reply(request.send().await.expect("userinfo answers")).await
    }
}

#[tokio::test]
async fn discovery_announces_the_fapi_rules() {
    let c = Client::start().await;
    let doc = get_json(&c.url("/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], c.issuer);
    assert_eq!(doc["pushed_authorization_request_endpoint"], c.url("/par"));
    assert_eq!(doc["require_pushed_authorization_requests"], true);
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"],
        json!(["PS256", "ES256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["PS256"])
    );
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(
        doc["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    let jwks = get_json(&c.url("/jwks")).await;
    assert_eq!(
        jwks["keys"][0]["alg"], "PS256",
        "the JWKS says what it signs with"
    );
    c.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_full_sign_in_binds_code_and_tokens_to_the_dpop_key() {
    let c = Client::start().await;
    let (code, verifier, redirect) = c.login().await;
    assert_eq!(param(&redirect, "state"), Some("state-fapi"));
    assert_eq!(
        param(&redirect, "iss"),
        Some(c.issuer.as_str()),
        "RFC 9207 iss"
    );

    let r = c.redeem(&code, &verifier).await;
    assert_eq!(r.status, StatusCode::OK, "code exchange: {}", r.body);
    let tokens = r.json();
    assert_eq!(tokens["token_type"], "DPoP");
    let at = tokens["access_token"].as_str().expect("an access token");
    let claims = decode_unverified(at);
    assert_eq!(
        claims["cnf"]["jkt"],
        c.dpop.thumbprint(),
        "the access token names the proof's key"
    );
    let id_header = jsonwebtoken::decode_header(tokens["id_token"].as_str().expect("ID token"))
        .expect("the ID token has a header");
    assert_eq!(id_header.alg, Algorithm::PS256);

    let proof = c.proof("GET", &c.url("/userinfo"), Some(at)).await;
    let info = c.userinfo(&format!("DPoP {at}"), Some(&proof)).await;
    assert_eq!(info.status, StatusCode::OK, "userinfo: {}", info.body);
    assert_eq!(info.json()["sub"], "demo-user");

    // Refresh: a proof again; the new access token is bound to its key.
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let token_url = c.url("/token");
    let r = c
        .post(
            "/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some(&c.issuer_aud()),
            Proof::For("POST", &token_url),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "refresh: {}", r.body);
    assert_eq!(r.json()["token_type"], "DPoP");

    // Introspection says the token is DPoP-bound, and to which key.
    let r = c
        .post(
            "/introspect",
            &[("token", at)],
            Some(&c.issuer_aud()),
            Proof::None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "introspection: {}", r.body);
    assert_eq!(r.json()["token_type"], "DPoP");
    assert_eq!(r.json()["cnf"]["jkt"], c.dpop.thumbprint());
    c.sandbox.shutdown().await;
}

#[tokio::test]
async fn authorize_without_par_is_refused() {
    let c = Client::start().await;
    let (_, challenge) = pkce("plain");
    let plain =
        crate::common::authorize_url(&c.issuer, FAPI_CLIENT, &challenge, "openid", "s", "n");
    let page = get(&plain, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.header("location").is_none(),
        "an error page, no redirect"
    );
    assert!(
        page.body.contains("takes only client_id and request_uri")
            && page.body.contains("/fapi/par"),
        "the page says to push first: {}",
        page.body
    );

    // A pushed request with extra parameters in the address: refused too, and not used up.
    let (request_uri, _) = c.push().await;
    let extra = format!("{}&scope=openid", c.authorize_url(&request_uri));
    let page = get(&extra, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("scope"), "{}", page.body);
    // Used once only.
    assert_eq!(
        get(&c.authorize_url(&request_uri), None).await.status,
        StatusCode::OK
    );
    let again = get(&c.authorize_url(&request_uri), None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("used already"), "{}", again.body);
    c.sandbox.shutdown().await;
}

#[tokio::test]
async fn par_with_an_assertion_for_another_audience_is_refused() {
    let c = Client::start().await;
    let (_, challenge) = pkce("aud");
    let form = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for aud in [
        json!(c.url("/token")),
        json!(c.url("/par")),
        json!([c.issuer.clone()]),
    ] {
        let r = c.post("/par", &form, Some(&aud), Proof::None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "aud {aud}: {}", r.body);
        let body = r.json();
        assert_eq!(body["error"], "invalid_client");
        let why = body["error_description"].as_str().unwrap_or_default();
        assert!(
            why.contains("aud must be this issuer's identifier") && why.contains(&c.issuer),
            "{why}"
        );
    }
    // No client authentication at all, or a secret: refused as well.
    let r = c.post("/par", &form, None, Proof::None).await;
    assert_eq!(r.json()["error"], "invalid_client", "{}", r.body);
    // The issuer as audience: accepted.
    let r = c
        .post("/par", &form, Some(&c.issuer_aud()), Proof::None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    c.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_token_endpoint_requires_a_valid_fresh_proof() {
    let c = Client::start().await;
    let (code, verifier, _) = c.login().await;
    let token_url = c.url("/token");
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let aud = c.issuer_aud();

    // No proof.
    let r = c.post("/token", &exchange, Some(&aud), Proof::None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    assert!(r.body.contains("DPoP is required"), "{}", r.body);

    // The first proof without a nonce: asked for one, like oidc-provider's requireNonce.
    let bare = c
        .dpop
        .proof("POST", &token_url, None, None, now_ms() as i64);
    let r = c
        .post("/token", &exchange, Some(&aud), Proof::Raw(bare))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "use_dpop_nonce");
    let nonce = r
        .header("dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_owned();

    // A proof for another URL, then for another method.
    let userinfo = c.url("/userinfo");
    let r = c
        .post(
            "/token",
            &exchange,
            Some(&aud),
            Proof::For("POST", &userinfo),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof", "{}", r.body);
    assert!(r.body.contains("htu"), "{}", r.body);
    let r = c
        .post(
            "/token",
            &exchange,
            Some(&aud),
            Proof::For("GET", &token_url),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof", "{}", r.body);
    assert!(r.body.contains("htm"), "{}", r.body);

    // A proof of another key than the code is bound to (dpop_jkt at PAR).
    let other = DpopKey::generate(DpopAlg::EdDSA);
    let foreign = other.proof("POST", &token_url, Some(&nonce), None, now_ms() as i64);
    let r = c
        .post("/token", &exchange, Some(&aud), Proof::Raw(foreign))
        .await;
    assert_eq!(r.json()["error"], "invalid_grant", "{}", r.body);
    assert!(r.body.contains("bound to another DPoP key"), "{}", r.body);
    c.sandbox.shutdown().await;
}

#[tokio::test]
async fn userinfo_refuses_bearer_and_replayed_proofs() {
    let c = Client::start().await;
    let (code, verifier, _) = c.login().await;
    let r = c.redeem(&code, &verifier).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let at = r.json()["access_token"].as_str().expect("token").to_owned();

    let r = c.userinfo(&format!("Bearer {at}"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_token");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("DPoP "), "{challenge}");

    // No nonce: 401 with use_dpop_nonce in WWW-Authenticate and a DPoP-Nonce header.
    let url = c.url("/userinfo");
    let bare = c.dpop.proof("GET", &url, None, Some(&at), now_ms() as i64);
    let r = c.userinfo(&format!("DPoP {at}"), Some(&bare)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.header("www-authenticate")
            .unwrap_or_default()
            .contains("error=\"use_dpop_nonce\""),
        "{:?}",
        r.header("www-authenticate")
    );
    assert!(r.header("dpop-nonce").is_some());

    // A proof without ath.
    let no_ath = c.proof("GET", &url, None).await;
    let r = c.userinfo(&format!("DPoP {at}"), Some(&no_ath)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("no ath"), "{}", r.body);

    // A good proof works once; the same proof again is a replay.
    let proof = c.proof("GET", &url, Some(&at)).await;
    let r = c.userinfo(&format!("DPoP {at}"), Some(&proof)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.userinfo(&format!("DPoP {at}"), Some(&proof)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    assert!(r.body.contains("used already"), "{}", r.body);
    c.sandbox.shutdown().await;
}

fn decode_unverified(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
