//! The sandbox bank (`{base}/bank`), driven the way a PSD2 TPP drives OP's APIs: x-api-key on
//! every back-channel call, a consent or a payment (detached JWS) registering an
//! authorizationId, a signed request object naming it, `code id_token` in the fragment checked
//! by its hashes, the code exchange, the JWT-bearer grant, the accounts API.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokendesk_sandbox::{
    BANK_ACCOUNTS_PATH, BANK_ACR_SCA, BANK_CLIENT, BANK_CONSENTS_PATH, BANK_PAYMENTS_PATH,
    BANK_TPP_KID, CC_CLIENT, Sandbox, Style, WEB_CLIENT,
};

use crate::common::{
    REDIRECT_URI, Reply, get, get_json, http, now_ms, param, pkce, post_form, reply, request_id,
    start, verify_jwt,
};

const CLIENT: &str = BANK_CLIENT.0;
const SECRET: &str = BANK_CLIENT.1;
const CONSENT: &str = r#"{"expires": "2030-01-01T00:00:00Z", "transactionFrom": "2024-01-01", "transactionTo": "2024-03-31"}"#;
const PAYMENT: &str = r#"{"amount": "12.50", "currency": "EUR", "creditor": {"iban": "FI00 1111 2222 3333 44", "name": "Shop"}}"#;

/// A running sandbox and what the TPP holds: its key.
struct Tpp {
    sandbox: Sandbox,
    bank: String,
    key: EncodingKey,
}

impl Tpp {
    async fn start() -> Tpp {
        let sandbox = start().await;
        let bank = sandbox.issuer(Style::Bank);
        let key = EncodingKey::from_rsa_pem(sandbox.bank_tpp_key_pem().as_bytes())
            .expect("the TPP key the sandbox hands out is an RSA PEM");
        Tpp { sandbox, bank, key }
    }

    /// A call to the bank with `x-api-key` and an `x-request-id`; `headers` may override them.
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut request = http()
            .request(method, format!("{}{path}", self.bank))
            .header("x-api-key", CLIENT)
            .header("x-request-id", "req-1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            if !headers.iter().any(|(name, _)| *name == "content-type") {
                request = request.header("content-type", "application/json");
            }
            request = request.body(body.to_owned());
        }
        reply(request.send().await.expect("the bank answers")).await
    }

    /// `/token` with client_secret_post and the API key.
    async fn token(&self, pairs: &[(&str, &str)]) -> Reply {
        let mut all = pairs.to_vec();
        all.extend([("client_id", CLIENT), ("client_secret", SECRET)]);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&all)
            .finish();
        self.call(
            Method::POST,
            "/token",
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&body),
        )
        .await
    }

    async fn cc_token(&self, scope: &str) -> String {
        let r = self
            .token(&[("grant_type", "client_credentials"), ("scope", scope)])
            .await;
        assert_eq!(r.status, StatusCode::OK, "client credentials: {}", r.body);
        let body = r.json();
        assert_eq!(body["token_type"], "Bearer");
        assert!(
            body.get("refresh_token").is_none(),
            "no refresh token for client credentials"
        );
        let token = body["access_token"].as_str().expect("an access token");
        assert_eq!(token.split('.').count(), 1, "the bank's tokens are opaque");
        token.to_owned()
    }

    async fn consent(&self) -> String {
        let token = self.cc_token("accounts").await;
        let r = self
            .call(
                Method::POST,
                BANK_CONSENTS_PATH,
                Some(&token),
                &[],
                Some(CONSENT),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "consent: {}", r.body);
        r.json()["authorizationId"]
            .as_str()
            .expect("an authorizationId")
            .to_owned()
    }

    fn sign(&self, alg: Algorithm, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(BANK_TPP_KID.into());
        jsonwebtoken::encode(&header, claims, &self.key).expect("the TPP key signs")
    }

    /// `header..signature` over `body`, as the TPP signs a payment.
    fn detached(&self, body: &str) -> String {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "PS256", "kid": BANK_TPP_KID}).to_string());
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(body));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, Algorithm::PS256)
            .expect("the TPP key signs");
        format!("{header}..{signature}")
    }

    /// The claims of a good request object for `authorization_id`.
    fn request_claims(&self, authorization_id: &str, challenge: &str) -> Value {
        let now = now_ms() / 1000;
        json!({
            "iss": CLIENT,
            "aud": self.bank,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
            "client_id": CLIENT,
            "response_type": "code id_token",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid accounts",
            "state": "st-bank",
            "nonce": "n-bank",
            "max_age": 3600,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "claims": {
                "userinfo": {"authorizationId": {"value": authorization_id, "essential": true}},
                "id_token": {
                    "authorizationId": {"value": authorization_id, "essential": true},
                    "acr": {"essential": true, "values": [BANK_ACR_SCA]},
                },
            },
        })
    }

    /// `/authorize` as TokenDesk sends it: client_id, response_type, scope and the request.
    fn authorize_url(&self, request: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", CLIENT)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid accounts")
            .append_pair("request", request)
            .finish();
        format!("{}/authorize?{query}", self.bank)
    }

    /// Opens the login page and presses Approve; returns the parameters of the fragment.
    async fn approve(&self, url: &str) -> Vec<(String, String)> {
        let page = get(url, None).await;
        assert_eq!(page.status, StatusCode::OK, "login page: {}", page.body);
        assert!(page.body.contains("not for production") && page.body.contains(CLIENT));
        let decision = post_form(
            &format!("{}/authorize/decision", self.bank),
            &[
                ("request_id", &request_id(&page.body)),
                ("decision", "approve"),
            ],
            None,
        )
        .await;
        assert_eq!(decision.status, StatusCode::SEE_OTHER, "{}", decision.body);
        fragment(&decision)
    }

    async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }
}

/// The parameters in the fragment of `Location`; asserts the query carries none.
fn fragment(r: &Reply) -> Vec<(String, String)> {
    let location = r.header("location").expect("a redirect");
    let url = url::Url::parse(location).expect("Location is absolute");
    assert!(
        url.as_str().starts_with(REDIRECT_URI),
        "back to the client: {location}"
    );
    assert_eq!(url.query(), None, "a hybrid answer is in the fragment only");
    let fragment = url.fragment().expect("the answer is in the fragment");
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[tokio::test]
async fn discovery_publishes_the_bank_rules() {
    let tpp = Tpp::start().await;
    let doc = get_json(&format!("{}/.well-known/openid-configuration", tpp.bank)).await;
    assert_eq!(doc["issuer"], tpp.bank.as_str());
    assert_eq!(
        doc["response_types_supported"],
        json!(["code id_token", "code"])
    );
    assert_eq!(doc["claims_parameter_supported"], true);
    assert_eq!(
        doc["request_object_signing_alg_values_supported"],
        json!(["PS256"])
    );
    assert_eq!(doc["require_signed_request_object"], true);
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_post"])
    );
    assert!(
        doc["grant_types_supported"]
            .to_string()
            .contains("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert!(
        doc["acr_values_supported"]
            .to_string()
            .contains(BANK_ACR_SCA)
    );
    assert!(doc["scopes_supported"].to_string().contains("\"accounts\""));
    let by_path = get_json(&format!(
        "{}/.well-known/oauth-authorization-server/bank",
        tpp.sandbox.base_url()
    ))
    .await;
    assert_eq!(doc, by_path);
    let jwks = get_json(&format!("{}/jwks", tpp.bank)).await;
    assert_eq!(jwks["keys"][0]["kty"], "RSA", "discovery needs no API key");
    tpp.shutdown().await;
}

#[tokio::test]
async fn every_back_channel_call_needs_the_api_key() {
    let tpp = Tpp::start().await;
    let token = tpp.cc_token("accounts").await;
    for key in [None, Some("sandbox-cc")] {
        let mut request = http()
            .get(format!("{}{BANK_ACCOUNTS_PATH}", tpp.bank))
            .header("x-request-id", "req-7")
            .bearer_auth(&token);
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let r = reply(request.send().await.expect("answers")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{key:?}: {}", r.body);
        let want = if key.is_none() {
            "missing_api_key"
        } else {
            "invalid_api_key"
        };
        assert_eq!(r.json()["error"], want);
        assert_eq!(
            r.header("x-request-id"),
            Some("req-7"),
            "echoed, errors too"
        );
    }
    let cc = post_form(
        &format!("{}/token", tpp.bank),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(cc.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        cc.json()["error"],
        "missing_api_key",
        "the token endpoint too"
    );

    // The TPP authenticates with client_secret_post only; the other demo clients are unknown here.
    let basic = http()
        .post(format!("{}/token", tpp.bank))
        .header("x-api-key", CLIENT)
        .header("content-type", "application/x-www-form-urlencoded")
        .basic_auth(CLIENT, Some(SECRET))
        .body("grant_type=client_credentials");
    let basic = reply(basic.send().await.expect("answers")).await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(basic.json()["error"], "invalid_client");
    for (id, secret) in [CC_CLIENT, WEB_CLIENT] {
        let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
        let r = tpp
            .call(
                Method::POST,
                "/token",
                None,
                &[("content-type", "application/x-www-form-urlencoded")],
                Some(&body),
            )
            .await;
        assert_eq!(
            r.json()["error"],
            "invalid_client",
            "{id} is not a bank client"
        );
    }
    tpp.shutdown().await;
}

#[tokio::test]
async fn a_consent_registers_an_authorization_id() {
    let tpp = Tpp::start().await;
    let accounts = tpp.cc_token("accounts").await;
    let r = tpp
        .call(
            Method::POST,
            BANK_CONSENTS_PATH,
            Some(&accounts),
            &[("x-fapi-interaction-id", "fapi-1")],
            Some(CONSENT),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    assert_eq!(body["status"], "pending");
    let id = body["authorizationId"]
        .as_str()
        .expect("an authorizationId");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a UUID: {id}");
    assert_eq!(r.header("x-fapi-interaction-id"), Some("fapi-1"));

    let without_to = r#"{"expires": "2030-01-01T00:00:00Z", "transactionFrom": "2024-01-01", "transactionTo": ""}"#;
    let r = tpp
        .call(
            Method::POST,
            BANK_CONSENTS_PATH,
            Some(&accounts),
            &[],
            Some(without_to),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_request", "error_description": "missing field transactionTo", "field": "transactionTo"})
    );
    let r = tpp
        .call(
            Method::POST,
            BANK_CONSENTS_PATH,
            Some(&accounts),
            &[],
            Some("[1]"),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_request");

    let r = tpp
        .call(
            Method::POST,
            BANK_CONSENTS_PATH,
            Some("made-up"),
            &[],
            Some(CONSENT),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "invalid_token");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token"))
    );
    let r = tpp
        .call(Method::POST, BANK_CONSENTS_PATH, None, &[], Some(CONSENT))
        .await;
    assert_eq!(r.json()["error"], "invalid_token", "no token at all");
    let payments = tpp.cc_token("payments").await;
    let r = tpp
        .call(
            Method::POST,
            BANK_CONSENTS_PATH,
            Some(&payments),
            &[],
            Some(CONSENT),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "insufficient_scope");
    tpp.shutdown().await;
}

#[tokio::test]
async fn a_payment_is_signed_over_its_exact_body() {
    let tpp = Tpp::start().await;
    let token = tpp.cc_token("payments").await;
    let signature = tpp.detached(PAYMENT);
    let pay = |signature: String, key: &'static str, body: &'static str| {
        let (tpp, token) = (&tpp, &token);
        async move {
            tpp.call(
                Method::POST,
                BANK_PAYMENTS_PATH,
                Some(token),
                &[
                    ("x-jws-signature", &signature),
                    ("x-idempotency-key", key),
                    ("x-fapi-interaction-id", "fapi-2"),
                ],
                Some(body),
            )
            .await
        }
    };
    let first = pay(signature.clone(), "idem-1", PAYMENT).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let paid = first.json();
    assert_eq!(paid["status"], "pending");
    assert!(paid["authorizationId"].is_string() && paid["paymentId"].is_string());
    let again = pay(signature.clone(), "idem-1", PAYMENT).await;
    assert_eq!(
        (again.status, again.json()),
        (StatusCode::CREATED, paid.clone()),
        "the same idempotency key and body get the same answer"
    );

    // The signature covers these bytes, not an equivalent JSON.
    const SPACED: &str = r#"{"amount":  "12.50", "currency": "EUR", "creditor": {"iban": "FI00 1111 2222 3333 44", "name": "Shop"}}"#;
    let r = pay(signature.clone(), "idem-2", SPACED).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_signature");
    assert!(
        r.json()["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("does not verify")),
        "{}",
        r.body
    );
    let other = tpp.detached(SPACED);
    let r = pay(other.clone(), "idem-1", SPACED).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "idempotency key reused for another body"
    );
    assert_eq!(r.json()["error"], "idempotency_key_reused");

    let foreign = foreign_key();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "PS256"}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(PAYMENT));
    let forged = jsonwebtoken::crypto::sign(input.as_bytes(), &foreign, Algorithm::PS256).unwrap();
    let r = pay(format!("{header}..{forged}"), "idem-3", PAYMENT).await;
    assert_eq!(
        r.json()["error"],
        "invalid_signature",
        "another key: {}",
        r.body
    );
    let r = pay(
        tpp.sign(Algorithm::PS256, &serde_json::from_str(PAYMENT).unwrap()),
        "idem-4",
        PAYMENT,
    )
    .await;
    assert!(
        r.json()["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("detached")),
        "an attached JWS is refused: {}",
        r.body
    );

    let r = tpp
        .call(
            Method::POST,
            BANK_PAYMENTS_PATH,
            Some(&token),
            &[
                ("x-jws-signature", &signature),
                ("x-fapi-interaction-id", "f"),
            ],
            Some(PAYMENT),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (r.json()["error"].clone(), r.json()["header"].clone()),
        (json!("missing_header"), json!("x-idempotency-key"))
    );
    tpp.shutdown().await;
}

/// An RSA key the bank does not know.
fn foreign_key() -> EncodingKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    EncodingKey::from_rsa_der(key.to_pkcs1_der().expect("DER").as_bytes())
}

#[tokio::test]
async fn sign_in_answers_code_id_token_in_the_fragment_and_the_accounts_follow() {
    let tpp = Tpp::start().await;
    let authorization_id = tpp.consent().await;
    let (verifier, challenge) = pkce("bank");
    let request = tpp.sign(
        Algorithm::PS256,
        &tpp.request_claims(&authorization_id, &challenge),
    );
    let answer = tpp.approve(&tpp.authorize_url(&request)).await;
    let code = param(&answer, "code").expect("a code");
    assert_eq!(param(&answer, "state"), Some("st-bank"));
    assert_eq!(param(&answer, "iss"), Some(tpp.bank.as_str()));

    // The front-channel ID token: verified, and bound to the code, the state and the nonce.
    let front = param(&answer, "id_token").expect("an ID token in the fragment");
    let claims = verify_jwt(&tpp.bank, front, CLIENT).await;
    assert_eq!(claims["c_hash"], half_hash(code), "c_hash binds the code");
    assert_eq!(
        claims["s_hash"],
        half_hash("st-bank"),
        "s_hash binds the state"
    );
    assert_eq!(claims["nonce"], "n-bank");
    assert_eq!(claims["authorizationId"], authorization_id.as_str());
    assert_eq!(claims["acr"], BANK_ACR_SCA);
    assert!(
        claims["auth_time"].is_u64(),
        "max_age was sent: auth_time is there"
    );

    let r = tpp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "code exchange: {}", r.body);
    let tokens = r.json();
    let access = tokens["access_token"].as_str().expect("access token");
    let claims = verify_jwt(
        &tpp.bank,
        tokens["id_token"].as_str().expect("ID token"),
        CLIENT,
    )
    .await;
    assert_eq!(
        claims["at_hash"],
        half_hash(access),
        "at_hash binds the access token"
    );
    assert_eq!(claims["authorizationId"], authorization_id.as_str());
    assert_eq!(claims["nonce"], "n-bank");

    let accounts = tpp
        .call(Method::GET, BANK_ACCOUNTS_PATH, Some(access), &[], None)
        .await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.body);
    assert_eq!(
        accounts.json()["authorizationId"],
        authorization_id.as_str()
    );
    assert!(accounts.json()["accounts"][0]["iban"].is_string());
    let userinfo = tpp
        .call(Method::GET, "/userinfo", Some(access), &[], None)
        .await;
    assert_eq!(
        userinfo.json()["authorizationId"],
        authorization_id.as_str()
    );

    // A refresh rotates and keeps the consent.
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let r = tpp
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "refresh: {}", r.body);
    let refreshed = r.json();
    assert_ne!(refreshed["refresh_token"], tokens["refresh_token"]);
    let claims = verify_jwt(
        &tpp.bank,
        refreshed["id_token"].as_str().expect("ID token"),
        CLIENT,
    )
    .await;
    assert_eq!(claims["authorizationId"], authorization_id.as_str());
    let accounts = tpp
        .call(
            Method::GET,
            BANK_ACCOUNTS_PATH,
            refreshed["access_token"].as_str(),
            &[],
            None,
        )
        .await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.body);
    let reuse = tpp
        .token(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .await;
    assert_eq!(
        reuse.json()["error"],
        "invalid_grant",
        "the old refresh token is spent"
    );

    // A client-credentials token was not given for a consent.
    let cc = tpp.cc_token("accounts").await;
    let r = tpp
        .call(Method::GET, BANK_ACCOUNTS_PATH, Some(&cc), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "consent_required");
    tpp.shutdown().await;
}

#[tokio::test]
async fn request_objects_that_do_not_hold_are_refused_in_the_fragment() {
    let tpp = Tpp::start().await;
    let authorization_id = tpp.consent().await;
    let (_, challenge) = pkce("bank-refused");
    let good = tpp.request_claims(&authorization_id, &challenge);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let foreign =
        jsonwebtoken::encode(&Header::new(Algorithm::PS256), &good, &foreign_key()).unwrap();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "another key",
            foreign,
            "invalid_request_object",
            "does not verify",
        ),
        (
            "RS256",
            tpp.sign(Algorithm::RS256, &good),
            "invalid_request_object",
            "PS256",
        ),
        (
            "aud",
            tpp.sign(
                Algorithm::PS256,
                &with(&|c| c["aud"] = json!("https://elsewhere")),
            ),
            "invalid_request_object",
            "aud",
        ),
        (
            "expired",
            tpp.sign(
                Algorithm::PS256,
                &with(&|c| c["exp"] = json!(now_ms() / 1000 - 60)),
            ),
            "invalid_request_object",
            "expired",
        ),
        (
            "iss",
            tpp.sign(Algorithm::PS256, &with(&|c| c["iss"] = json!("someone"))),
            "invalid_request_object",
            "iss",
        ),
        (
            "containers that differ",
            tpp.sign(
                Algorithm::PS256,
                &with(&|c| c["claims"]["id_token"]["authorizationId"]["value"] = json!("nope")),
            ),
            "invalid_request",
            "differ",
        ),
        (
            "unregistered authorizationId",
            tpp.sign(
                Algorithm::PS256,
                &with(&|c| {
                    c["claims"]["id_token"]["authorizationId"]["value"] = json!("nope");
                    c["claims"]["userinfo"]["authorizationId"]["value"] = json!("nope");
                }),
            ),
            "invalid_request",
            "unknown authorizationId \"nope\"",
        ),
        (
            "no claims",
            tpp.sign(Algorithm::PS256, &with(&|c| c["claims"] = Value::Null)),
            "invalid_request",
            "authorizationId",
        ),
        (
            "no PKCE",
            tpp.sign(
                Algorithm::PS256,
                &with(&|c| c["code_challenge"] = Value::Null),
            ),
            "invalid_request",
            "PKCE",
        ),
    ];
    for (case, request, error, says) in cases {
        let r = get(&tpp.authorize_url(&request), None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{case}: {}", r.body);
        let answer = fragment(&r);
        assert_eq!(param(&answer, "error"), Some(error), "{case}: {answer:?}");
        let description = param(&answer, "error_description").unwrap_or_default();
        assert!(description.contains(says), "{case}: {description}");
        assert_eq!(param(&answer, "state"), Some("st-bank"), "{case}");
        assert!(param(&answer, "code").is_none(), "{case}");
    }

    // Plain query parameters, without a request object.
    let plain = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", CLIENT)
        .append_pair("response_type", "code id_token")
        .append_pair("scope", "openid accounts")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("state", "st-plain")
        .append_pair("nonce", "n")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let r = get(&format!("{}/authorize?{plain}", tpp.bank), None).await;
    let answer = fragment(&r);
    assert_eq!(param(&answer, "error"), Some("invalid_request"));
    assert!(
        param(&answer, "error_description").is_some_and(|d| d.contains("request object")),
        "{answer:?}"
    );
    assert_eq!(param(&answer, "state"), Some("st-plain"));
    tpp.shutdown().await;
}

#[tokio::test]
async fn jwt_bearer_trades_a_signed_assertion_for_a_token_given_for_the_payment() {
    let tpp = Tpp::start().await;
    let token = tpp.cc_token("payments").await;
    let paid = tpp
        .call(
            Method::POST,
            BANK_PAYMENTS_PATH,
            Some(&token),
            &[
                ("x-jws-signature", &tpp.detached(PAYMENT)),
                ("x-idempotency-key", "idem-jwt"),
                ("x-fapi-interaction-id", "f"),
            ],
            Some(PAYMENT),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let authorization_id = paid.json()["authorizationId"].as_str().unwrap().to_owned();

    let now = now_ms() / 1000;
    let assertion = |change: &dyn Fn(&mut Value)| {
        let mut claims = json!({
            "iss": CLIENT,
            "sub": "psd2-user",
            "aud": format!("{}/token", tpp.bank),
            "iat": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
            "authorizationId": authorization_id,
            "acr": BANK_ACR_SCA,
        });
        change(&mut claims);
        claims
    };
    const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let good = tpp.sign(Algorithm::PS256, &assertion(&|_| {}));
    let r = tpp
        .token(&[("grant_type", GRANT), ("assertion", &good)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = r.json();
    assert_eq!(body["scope"], "payments", "the payment's own scope");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let access = body["access_token"].as_str().expect("access token");
    let accounts = tpp
        .call(Method::GET, BANK_ACCOUNTS_PATH, Some(access), &[], None)
        .await;
    assert_eq!(
        accounts.status,
        StatusCode::OK,
        "given for the payment: {}",
        accounts.body
    );
    let body = format!("token={access}&client_id={CLIENT}&client_secret={SECRET}");
    let introspection = tpp
        .call(
            Method::POST,
            "/introspect",
            None,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&body),
        )
        .await;
    assert_eq!(
        introspection.json()["authorizationId"],
        authorization_id.as_str()
    );

    let refused = [
        ("replayed jti", good.clone(), "already used"),
        (
            "issuer as aud is fine, unknown authorizationId is not",
            tpp.sign(
                Algorithm::PS256,
                &assertion(&|c| {
                    c["aud"] = json!(tpp.bank);
                    c["authorizationId"] = json!("nope");
                }),
            ),
            "unknown authorizationId \"nope\"",
        ),
        (
            "aud",
            tpp.sign(
                Algorithm::PS256,
                &assertion(&|c| c["aud"] = json!("https://elsewhere")),
            ),
            "aud must be",
        ),
        (
            "RS256",
            tpp.sign(Algorithm::RS256, &assertion(&|_| {})),
            "PS256",
        ),
        (
            "expired",
            tpp.sign(
                Algorithm::PS256,
                &assertion(&|c| c["exp"] = json!(now - 60)),
            ),
            "expired",
        ),
        (
            "no authorizationId",
            tpp.sign(
                Algorithm::PS256,
                &assertion(&|c| c["authorizationId"] = Value::Null),
            ),
            "no authorizationId",
        ),
    ];
    for (case, assertion, says) in refused {
        let r = tpp
            .token(&[("grant_type", GRANT), ("assertion", &assertion)])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{case}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_grant", "{case}");
        let description = r.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(description.contains(says), "{case}: {description}");
    }
    tpp.shutdown().await;
}
