//! Starting from an API URL: the discovery chain (RFC 9728 → RFC 8414), against the test API
//! and oidc-provider on loopback (tests/provider/api.mjs).

use tokendesk_core::ErrorCode;
use tokendesk_core::resource::{DiscoverOptions, Link, Walk};
use tokendesk_testkit::*;

fn code_grant() -> DiscoverOptions {
    DiscoverOptions {
        code_grant: true,
        ..Default::default()
    }
}

async fn walk(t: &TestCore, url: &str, options: &DiscoverOptions) -> Walk {
    t.core.discover_api(url, options).await.unwrap()
}

fn links(w: &Walk) -> Vec<Link> {
    w.steps.iter().map(|s| s.link).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_leads_from_the_api_to_its_authorization_server_and_stores_nothing() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let api = p.url("/api/me");
    let w = walk(&t, &api, &code_grant()).await;
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(
        links(&w),
        [Link::Api, Link::ResourceMetadata, Link::AuthorizationServer],
        "one request per link: the challenge names the metadata, which names the server"
    );
    let first = &w.steps[0];
    assert_eq!(first.status, Some(401));
    assert!(
        first.found.contains("resource_metadata="),
        "the step shows the header that led on: {}",
        first.found
    );
    assert_eq!(
        w.steps[1].url,
        p.url("/.well-known/oauth-protected-resource/api"),
        "the metadata is read where the challenge says"
    );
    assert_eq!(
        w.steps[2].url,
        p.url("/.well-known/oauth-authorization-server"),
        "an issuer without a path: RFC 8414 first (MCP 2025-11-25)"
    );
    let d = w.discovered.clone().unwrap();
    assert_eq!(
        d.resource,
        p.url("/api"),
        "the token is for the metadata's resource, a path prefix of the URL"
    );
    assert_eq!(d.authorization_server, p.issuer);
    assert_eq!(
        d.provider.token_endpoint.as_deref(),
        Some(p.url("/token").as_str())
    );
    assert_eq!(
        d.scopes,
        ["api:read"],
        "the challenge's scope comes before scopes_supported"
    );
    assert_eq!(d.challenge.unwrap().scope.as_deref(), Some("api:read"));
    assert_eq!(
        d.resource_metadata.resource_name.as_deref(),
        Some("TokenDesk test API")
    );
    assert_eq!(d.client_options, ["pre_registered"]);
    assert!(
        t.core.list_profiles().unwrap().is_empty(),
        "discover stores no profile"
    );
    assert!(
        t.core
            .exchanges(&tokendesk_core::profile::ProfileId::from("-"), 100)
            .unwrap()
            .is_empty(),
        "nor anything in the exchange log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_resource_metadata_the_path_inserted_well_known_location_is_tried() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let w = walk(&t, &p.url("/api-wk/me"), &code_grant()).await;
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(
        w.steps[1].url,
        p.url("/.well-known/oauth-protected-resource/api-wk/me"),
        "RFC 9728 §3.1: the well-known path inserted before the URL's path, first"
    );
    let d = w.discovered.unwrap();
    assert_eq!(d.resource, p.url("/api-wk"));
    assert_eq!(
        d.scopes,
        ["api:read", "api:write"],
        "no scope in the challenge: the metadata's scopes_supported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_broken_link_is_named_with_what_to_check() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let o = code_grant();
    let cases: &[(&str, ErrorCode, Link, &[&str])] = &[
        (
            "/api-none/me",
            ErrorCode::NotFound,
            Link::ResourceMetadata,
            &[
                "without a WWW-Authenticate",
                "oauth-protected-resource/api-none/me (HTTP 404)",
                "--issuer",
            ],
        ),
        (
            "/api-wrong/me",
            ErrorCode::CheckFailed,
            Link::ResourceMetadata,
            &[
                "https://elsewhere.example/api-wrong",
                "another origin",
                "RFC 9728 §3.3",
            ],
        ),
        (
            "/api-badissuer/me",
            ErrorCode::IssuerMismatch,
            Link::AuthorizationServer,
            &["calls itself", "RFC 8414 §3.3"],
        ),
        (
            "/api-nopkce/me",
            ErrorCode::Unsupported,
            Link::AuthorizationServer,
            &["S256", "code_challenge_methods_supported"],
        ),
        (
            "/api-html/me",
            ErrorCode::BadResponse,
            Link::ResourceMetadata,
            &["HTML page", "resource_metadata"],
        ),
        (
            "/api-loop/me",
            ErrorCode::BadResponse,
            Link::ResourceMetadata,
            &["redirects in a loop"],
        ),
        (
            "/api-noas/me",
            ErrorCode::BadResponse,
            Link::ResourceMetadata,
            &["names no authorization server"],
        ),
    ];
    for (path, code, link, says) in cases {
        let w = walk(&t, &p.url(path), &o).await;
        let e = w
            .error
            .clone()
            .unwrap_or_else(|| panic!("{path}: the walk must fail"));
        assert!(w.discovered.is_none(), "{path}: nothing is half-made");
        assert_eq!(e.code, *code, "{path}: {}", e.message);
        assert!(
            e.message.starts_with(link.label()),
            "{path}: the message names the link {:?}: {}",
            link,
            e.message
        );
        for s in *says {
            assert!(e.message.contains(s), "{path}: says {s:?}: {}", e.message);
        }
        assert_eq!(
            w.steps.last().unwrap().link,
            *link,
            "{path}: the walk's last step is the broken link"
        );
    }
    assert!(t.core.list_profiles().unwrap().is_empty());

    // The PKCE requirement is the code grant's: for client credentials the walk goes on.
    let w = walk(&t, &p.url("/api-nopkce/me"), &DiscoverOptions::default()).await;
    assert!(w.error.is_none(), "{:?}", w.error);
    assert_eq!(
        w.steps.last().unwrap().url,
        p.url("/.well-known/oauth-authorization-server/fake-as/nopkce"),
        "an issuer with a path: RFC 8414 path-inserted first"
    );

    // The user picks among the servers the API names, and only among those. Without a
    // choice the first is walked (here it lacks PKCE and breaks), and the walk lists them all
    // so the app can offer the others.
    let w = walk(&t, &p.url("/api-two/me"), &code_grant()).await;
    assert!(w.error.is_some());
    assert_eq!(
        w.authorization_servers,
        [p.url("/fake-as/nopkce"), p.issuer.clone()]
    );
    let w = walk(
        &t,
        &p.url("/api-two/me"),
        &DiscoverOptions {
            authorization_server: Some(p.issuer.clone()),
            code_grant: true,
        },
    )
    .await;
    assert_eq!(w.discovered.unwrap().authorization_server, p.issuer);
    let w = walk(
        &t,
        &p.url("/api-two/me"),
        &DiscoverOptions {
            authorization_server: Some("https://as.elsewhere.example".into()),
            code_grant: true,
        },
    )
    .await;
    let e = w.error.unwrap();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("is not one the API names"),
        "{}",
        e.message
    );

    // Not a URL at all: an input error, before any request.
    let e = t
        .core
        .discover_api("api.example/me", &o)
        .await
        .unwrap()
        .error
        .unwrap();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);

    // Nobody listening: the API link, with the transport's reason.
    let w = walk(&t, "http://127.0.0.1:9/api", &o).await;
    let e = w.error.unwrap();
    assert!(e.message.starts_with(Link::Api.label()), "{}", e.message);
    assert_eq!(w.steps[0].status, None);
}

// --- A profile from an API: the client pre-registered or registered dynamically ---

use std::time::Duration;

use tokendesk_core::ApiRequest;
use tokendesk_core::api::{ClientSource, FromApi};
use tokendesk_core::history::Trigger;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::profile::{AssertionAlg, AuthMethod, GrantKind, ProfileConfig};
use tokendesk_core::secret::{SecretKind, Sensitive};

fn base(name: &str, api_url: &str) -> ProfileConfig {
    ProfileConfig {
        name: name.into(),
        api_url: Some(api_url.into()),
        grant: GrantKind::AuthorizationCode,
        ..Default::default()
    }
}

fn register(confidential: bool, iat: Option<&str>) -> ClientSource {
    ClientSource::Register {
        confidential,
        initial_access_token: iat.map(|t| Sensitive::new(t.to_owned())),
        software_statement: None,
    }
}

async fn get(t: &TestCore, id: &tokendesk_core::profile::ProfileId, url: &str) -> u16 {
    let request = ApiRequest {
        method: "GET".into(),
        url: url.into(),
        headers: Vec::new(),
        body: None,
    };
    t.core
        .request(id, &request, Duration::from_secs(10), Trigger::CommandLine)
        .await
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_client_signs_in_for_the_resource_and_its_registration_is_managed() {
    let p = Provider::start(&["--registration", "open"]);
    let t = TestCore::new();
    let walk = t
        .core
        .discover_api(&p.url("/api/me"), &code_grant())
        .await
        .unwrap();
    assert_eq!(
        walk.discovered.unwrap().client_options,
        ["pre_registered", "dynamic_registration"],
        "a registration_endpoint offers dynamic registration"
    );
    let FromApi {
        profile,
        registered,
        ..
    } = t
        .core
        .create_profile_from_api(
            base("api", &p.url("/api/me")),
            &code_grant(),
            register(false, None),
        )
        .await
        .unwrap();
    assert!(registered);
    let c = &profile.config;
    assert_eq!(c.issuer.as_deref(), Some(p.issuer.as_str()));
    assert_eq!(c.resource.as_deref(), Some(p.url("/api").as_str()));
    assert_eq!(c.api_url.as_deref(), Some(p.url("/api/me").as_str()));
    assert_eq!(c.scopes, ["api:read"], "the challenge's scope");
    assert_eq!(
        c.auth_method,
        AuthMethod::None,
        "a public native client by default"
    );
    let uri = c
        .registration_client_uri
        .clone()
        .expect("the registration URI is kept");
    assert!(uri.starts_with(&p.url("/reg/")), "{uri}");
    assert!(
        profile.metadata.is_some(),
        "the walk's authorization-server metadata is kept"
    );
    let rat = secret(&t, &profile.id, SecretKind::RegistrationAccessToken)
        .expect("the registration access token is in the keychain");
    assert!(
        secret(&t, &profile.id, SecretKind::ClientSecret).is_none(),
        "a public client has no secret"
    );
    let stored = serde_json::to_string(&t.core.profile("api").unwrap()).unwrap();
    assert!(
        !stored.contains(&rat),
        "the registration access token is not in the store"
    );

    // Sign in: the token is for the resource, and the API takes it.
    t.core
        .login(
            &profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let access = t
        .core
        .reveal(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let jwt = decode_jwt(access.expose()).unwrap();
    assert_eq!(
        jwt.claims["aud"],
        p.url("/api"),
        "the token's audience is the resource"
    );
    let seen = t
        .core
        .inspect(&profile.id, SecretKind::AccessToken)
        .await
        .unwrap()
        .audience
        .expect("an access token of a profile with a resource has its audience checked");
    assert!(seen.matches, "{seen:?}");
    assert_eq!(get(&t, &profile.id, &p.url("/api/me")).await, 200);
    // The refresh names the resource too (RFC 8707 §2.2).
    t.core
        .refresh(&profile.id, Trigger::CommandLine)
        .await
        .unwrap();
    let refresh = exchanges_of(&t.core, &profile, "token:refresh_token");
    assert!(
        refresh
            .last()
            .unwrap()
            .request_body
            .contains(&format!("resource={}", urlencode(&p.url("/api")))),
        "{:?}",
        refresh.last().unwrap().request_body
    );
    assert_eq!(get(&t, &profile.id, &p.url("/api/me")).await, 200);

    // RFC 7592: read, update (the server rotates the token; the new one is kept), delete.
    let doc = t.core.registration(&profile.id).await.unwrap();
    assert_eq!(doc["client_id"], c.client_id);
    assert!(
        doc.get("registration_access_token").is_none(),
        "secrets are left out"
    );
    let extra = "http://127.0.0.1:8999/cb".to_owned();
    let doc = t
        .core
        .update_registration(&profile.id, std::slice::from_ref(&extra), &[])
        .await
        .unwrap();
    assert!(
        doc["redirect_uris"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == &extra),
        "{doc}"
    );
    let rotated = secret(&t, &profile.id, SecretKind::RegistrationAccessToken).unwrap();
    assert_ne!(
        rotated, rat,
        "oidc-provider rotates the token on update; the new one is kept"
    );
    let read_again = t.core.registration(&profile.id).await.unwrap();
    assert_eq!(read_again["redirect_uris"], doc["redirect_uris"]);

    t.core
        .delete_profile_and_registration(&profile.id)
        .await
        .unwrap();
    assert!(t.core.list_profiles().unwrap().is_empty());
    let gone = reqwest::Client::new()
        .get(&uri)
        .bearer_auth(&rotated)
        .send()
        .await
        .unwrap();
    assert_eq!(
        gone.status(),
        401,
        "the registration is deleted at the server"
    );
}

fn secret(
    t: &TestCore,
    id: &tokendesk_core::profile::ProfileId,
    kind: SecretKind,
) -> Option<String> {
    use tokendesk_core::secret::SecretStore;
    t.keychain
        .get(id, kind)
        .unwrap()
        .map(|s| s.expose().clone())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_that_needs_an_initial_access_token_and_refusals() {
    let p = Provider::start(&["--registration", "iat"]);
    let t = TestCore::new();
    let api = p.url("/api/me");

    // Without the initial access token: refused, nothing stored, the option named.
    let e = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), register(false, None))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e.message);
    assert!(
        e.message.contains("--initial-access-token-stdin"),
        "{}",
        e.message
    );
    assert!(t.core.list_profiles().unwrap().is_empty());

    // A redirect URI the server refuses for a native client.
    let mut odd = base("api", &api);
    odd.redirect_uri = Some("http://example.com/cb".into());
    let iat = p.initial_access_token.clone().unwrap();
    let e = t
        .core
        .create_profile_from_api(odd, &code_grant(), register(false, Some(&iat)))
        .await
        .unwrap_err();
    assert!(e.message.contains("invalid_redirect_uri"), "{}", e.message);
    assert!(t.core.list_profiles().unwrap().is_empty());

    // With it, a confidential client: its secret goes to the keychain.
    let made = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), register(true, Some(&iat)))
        .await
        .unwrap();
    assert_eq!(
        made.profile.config.auth_method,
        AuthMethod::ClientSecretBasic
    );
    assert!(secret(&t, &made.profile.id, SecretKind::ClientSecret).is_some());
    t.core
        .login(
            &made.profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(get(&t, &made.profile.id, &api).await, 200);

    // A profile that cannot be stored after the client was registered: the registration is
    // deleted again, and the message says so.
    let mut unstorable = base("x", &api);
    unstorable.grant = GrantKind::TokenExchange;
    unstorable.token_exchange.subject_profile = Some("nobody".into());
    let e = t
        .core
        .create_profile_from_api(
            unstorable,
            &DiscoverOptions::default(),
            register(false, Some(&iat)),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("No profile named \"nobody\""),
        "{}",
        e.message
    );
    assert!(e.message.contains("deleted again"), "{}", e.message);
    assert_eq!(
        t.core.list_profiles().unwrap().len(),
        1,
        "only the first profile"
    );

    // A name already taken is refused before anything is registered.
    let e = t
        .core
        .create_profile_from_api(
            base("api", &api),
            &code_grant(),
            register(false, Some(&iat)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);

    // No registration endpoint: dynamic registration is refused, saying to give a client id.
    let q = Provider::start(&[]);
    let e = t
        .core
        .create_profile_from_api(
            base("q", &q.url("/api/me")),
            &code_grant(),
            register(false, None),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
    assert!(e.message.contains("--client-id"), "{}", e.message);

    // A pre-registered client: the walk's server and resource, the given client.
    let made = t
        .core
        .create_profile_from_api(
            ProfileConfig {
                auth_method: AuthMethod::None,
                ..base("pre", &q.url("/api/me"))
            },
            &code_grant(),
            ClientSource::PreRegistered {
                client_id: "public-app".into(),
                secret: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(made.profile.config.client_id, "public-app");
    assert!(made.profile.config.registration_client_uri.is_none());
    t.core
        .login(
            &made.profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(get(&t, &made.profile.id, &q.url("/api/me")).await, 200);
}

// --- Software statements (RFC 7591 §2.3) ---

fn with_statement(jwt: &str) -> ClientSource {
    ClientSource::Register {
        confidential: false,
        initial_access_token: None,
        software_statement: Some(jwt.to_owned()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_software_statement_the_server_trusts_registers_and_a_bad_one_stores_nothing() {
    let p = Provider::start(&["--registration", "open", "--software-statement"]);
    let t = TestCore::new();
    let api = p.url("/api/me");
    let claims = serde_json::json!({
        "iss": "tokendesk-test-directory",
        "software_id": "sw-tokendesk-1",
        "software_client_name": "TokenDesk tests",
        "org_id": "org-1",
    });
    let key = |k: &str| Sensitive::new(p.software_statement_keys[k].clone());
    let nothing_stored = |t: &TestCore| {
        assert!(t.core.list_profiles().unwrap().is_empty(), "no profile");
    };

    // Without one, the server refuses; nothing is stored.
    let e = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), register(false, None))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("invalid_client_metadata"),
        "{}",
        e.message
    );
    nothing_stored(&t);

    // Signed by a key the server does not trust (a client's, not the directory's).
    let untrusted = t
        .core
        .sign_software_statement(
            &claims,
            &Sensitive::new(p.client_keys["cc-jwt"].clone()),
            None,
            None,
        )
        .unwrap();
    let e = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), with_statement(&untrusted))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("invalid_software_statement")
            && e.message.contains("the signature does not verify")
            && e.message.contains("Check the software statement"),
        "{}",
        e.message
    );
    assert_eq!(
        e.oauth.as_ref().map(|o| o.0.as_str()),
        Some("invalid_software_statement")
    );
    nothing_stored(&t);

    // Not a JWT at all: refused before anything is sent, naming the field.
    let e = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), with_statement("sw-1"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
    assert_eq!(e.fields[0].field, "software_statement");
    nothing_stored(&t);

    // Signed by the directory: RS256 with its RSA key (by the key), PS256, ES256 with its EC key.
    for (name, k, alg) in [
        ("rs", "rsa", None),
        ("ps", "rsa", Some(AssertionAlg::PS256)),
        ("es", "ec", None),
    ] {
        let jwt = t
            .core
            .sign_software_statement(&claims, &key(k), alg, Some("dir-1"))
            .unwrap();
        let made = t
            .core
            .create_profile_from_api(base(name, &api), &code_grant(), with_statement(&jwt))
            .await
            .unwrap_or_else(|e| panic!("{name}: {}", e.message));
        let doc = t.core.registration(&made.profile.id).await.unwrap();
        assert_eq!(
            doc["software_id"], "sw-tokendesk-1",
            "{name}: the server took the statement's software_id"
        );
    }
    // The one given as a JWT is sent as given, and signs in for the resource.
    let profile = t.core.profile("rs").unwrap();
    t.core
        .login(
            &profile.id,
            &HeadlessLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(get(&t, &profile.id, &api).await, 200);
}

// --- Check setup of a profile made from an API URL ---

#[tokio::test(flavor = "multi_thread")]
async fn check_setup_follows_the_api_metadata_the_registration_and_the_tokens_audience() {
    use tokendesk_core::doctor::{SetupReport, Status};
    let row = |r: &SetupReport, id: &str| {
        r.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id} row: {:#?}", r.checks))
            .clone()
    };
    let p = Provider::start(&["--registration", "open"]);
    let t = TestCore::new();
    let api = p.url("/api/me");
    let made = t
        .core
        .create_profile_from_api(base("api", &api), &code_grant(), register(false, None))
        .await
        .unwrap();
    let id = made.profile.id.clone();
    let r = t.core.check_setup(&id).await.unwrap();
    let meta = row(&r, "provider:resource_metadata");
    assert_eq!(meta.status, Status::Pass, "{}", meta.seen);
    assert!(meta.seen.contains(&p.url("/api")), "{}", meta.seen);
    assert_eq!(
        meta.exchanges.len(),
        3,
        "the walk's requests travel in the row"
    );
    let reg = row(&r, "client:registration");
    assert_eq!(reg.status, Status::Pass, "{}", reg.seen);
    assert_eq!(
        row(&r, "tokens:audience").status,
        Status::Skipped,
        "no token yet"
    );

    t.core
        .login(&id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();
    let r = t.core.check_setup(&id).await.unwrap();
    let aud = row(&r, "tokens:audience");
    assert_eq!(aud.status, Status::Pass, "{}", aud.seen);
    // The registration still works after the check (a rotated token would have been kept).
    t.core.registration(&id).await.unwrap();

    // The profile drifts from what the API says: another resource, a registration URI that is
    // not its client's.
    let mut config = t.core.profile("api").unwrap().config;
    config.resource = Some(p.url("/api-other"));
    config.registration_client_uri = Some(p.url("/reg/no-such-client"));
    t.core.update_profile(&id, config).await.unwrap();
    let r = t.core.check_setup(&id).await.unwrap();
    let meta = row(&r, "provider:resource_metadata");
    assert_eq!(meta.status, Status::Fail, "{}", meta.seen);
    assert!(
        meta.seen
            .contains(&format!("names resource {}", p.url("/api")))
            && meta.seen.contains(&p.url("/api-other")),
        "{}",
        meta.seen
    );
    let reg = row(&r, "client:registration");
    assert_eq!(reg.status, Status::Fail, "{}", reg.seen);
    assert!(
        reg.fix.unwrap().contains("deleted"),
        "the fix says what may have happened"
    );
    let aud = row(&r, "tokens:audience");
    assert_eq!(aud.status, Status::Warn, "{}", aud.seen);
    assert!(aud.seen.contains(&p.url("/api-other")), "{}", aud.seen);

    // A profile that is not from an API gets none of these rows.
    let plain = t
        .core
        .create_profile(
            ProfileConfig {
                name: "plain".into(),
                issuer: Some(p.issuer.clone()),
                client_id: "public-app".into(),
                auth_method: AuthMethod::None,
                grant: GrantKind::AuthorizationCode,
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let r = t.core.check_setup(&plain.id).await.unwrap();
    assert!(
        !r.checks.iter().any(|c| c.id.contains("resource")
            || c.id == "client:registration"
            || c.id == "tokens:audience"),
        "{:#?}",
        r.checks.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
}

// --- Step-up: insufficient_scope and RFC 9470 ---

#[tokio::test(flavor = "multi_thread")]
async fn step_up_challenges_are_read_and_a_demanded_sign_in_is_checked() {
    use tokendesk_core::browser::BrowserLauncher;
    use tokendesk_core::resource::step_up::LoginDemand;
    use tokendesk_core::www_authenticate::StepUp;

    let p = Provider::start(&[]);
    let t = TestCore::new();
    let made = t
        .core
        .create_profile_from_api(
            ProfileConfig {
                auth_method: AuthMethod::None,
                ..base("api", &p.url("/api/me"))
            },
            &code_grant(),
            ClientSource::PreRegistered {
                client_id: "public-app".into(),
                secret: None,
            },
        )
        .await
        .unwrap();
    let id = made.profile.id.clone();
    t.core
        .login(&id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();
    let send = |path: &str| {
        let request = ApiRequest {
            method: "GET".into(),
            url: p.url(path),
            headers: Vec::new(),
            body: None,
        };
        let core = t.core.clone();
        let id = id.clone();
        async move {
            core.request(&id, &request, Duration::from_secs(10), Trigger::CommandLine)
                .await
                .unwrap()
        }
    };

    let r = send("/api/stepup").await;
    assert_eq!(r.status, 401);
    assert!(
        !r.refreshed,
        "a step-up challenge is not answered by a refresh"
    );
    let demand = match r.challenge.unwrap().step_up() {
        Some(StepUp::Authentication {
            acr_values,
            max_age,
        }) => {
            assert_eq!(acr_values.as_deref(), Some("urn:tokendesk:mfa"));
            assert_eq!(max_age, Some(60));
            LoginDemand {
                acr_values,
                max_age: max_age.map(|m| m as u32),
            }
        }
        other => panic!("an RFC 9470 challenge, got {other:?}"),
    };
    let r = send("/api/admin").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.challenge.unwrap().step_up(),
        Some(StepUp::Scope {
            scope: "api:read api:write".into()
        })
    );

    // The demanded sign-in: acr_values and max_age on the request, the result checked.
    let started = t.core.begin_login_with(&id, &demand).await.unwrap();
    assert!(
        started
            .auth_url
            .contains("acr_values=urn%3Atokendesk%3Amfa"),
        "{}",
        started.auth_url
    );
    assert!(
        started.auth_url.contains("max_age=60"),
        "{}",
        started.auth_url
    );
    let browser = HeadlessLogin::default();
    browser.open(&started.auth_url).unwrap();
    t.core
        .wait_login(&started.login_id, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(t.core.check_login_demand(&id, &demand).await.unwrap());
    assert_eq!(
        send("/api/stepup").await.status,
        200,
        "the API takes the stepped-up token"
    );
    assert!(
        !t.core
            .profile("api")
            .unwrap()
            .config
            .authorize_params
            .iter()
            .any(|p| p.name == "acr_values"),
        "the demand was for that sign-in only"
    );

    // A provider that does not give the demanded acr: the check says so.
    let other = LoginDemand {
        acr_values: Some("urn:openbanking:psd2:ca".into()),
        max_age: None,
    };
    let started = t.core.begin_login_with(&id, &other).await.unwrap();
    let browser = HeadlessLogin::default();
    browser.open(&started.auth_url).unwrap();
    t.core
        .wait_login(&started.login_id, Duration::from_secs(30))
        .await
        .unwrap();
    let e = t.core.check_login_demand(&id, &other).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::CheckFailed);
    assert!(
        e.message.contains("the new ID token has no acr"),
        "{}",
        e.message
    );
}

// --- The built-in sandbox's protected API ---

#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_api_advertises_its_metadata_and_its_first_run_profile_is_what_discovery_makes()
{
    use tokendesk_core::presets::API_PRESET;
    let sandbox = tokendesk_sandbox::Sandbox::start(Default::default())
        .await
        .unwrap();
    let t = TestCore::new();
    let url = format!("{}/api/me", sandbox.base_url());
    let w = walk(&t, &url, &code_grant()).await;
    assert!(w.error.is_none(), "{:?}", w.error);
    let d = w.discovered.unwrap();
    assert_eq!(w.steps[0].status, Some(401));
    assert_eq!(d.resource, format!("{}/api", sandbox.base_url()));
    assert_eq!(
        d.authorization_server,
        sandbox.issuer(tokendesk_sandbox::Style::Standard)
    );
    assert_eq!(d.scopes, [tokendesk_sandbox::API_SCOPE]);

    t.core
        .add_presets(tokendesk_sandbox::presets::presets(&sandbox))
        .await
        .unwrap();
    let preset = t.core.profile(API_PRESET).unwrap();
    let c = &preset.config;
    assert_eq!(c.issuer.as_deref(), Some(d.authorization_server.as_str()));
    assert_eq!(c.resource.as_deref(), Some(d.resource.as_str()));
    assert_eq!(c.api_url.as_deref(), Some(url.as_str()));
    assert_eq!(
        c.scopes, d.scopes,
        "the first-run profile is what the walk finds"
    );

    t.core
        .login(
            &preset.id,
            &SandboxLogin::default(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let request = ApiRequest {
        method: "GET".into(),
        url: String::new(),
        headers: Vec::new(),
        body: None,
    };
    let r = t
        .core
        .request(
            &preset.id,
            &request,
            Duration::from_secs(10),
            Trigger::CommandLine,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("accounts:read"), "{}", r.body);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_id_metadata_document_only_where_the_server_accepts_one() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let doc_url = "https://me.example/tokendesk-client.json";
    let source = || ClientSource::MetadataDocument {
        url: doc_url.into(),
    };
    let e = t
        .core
        .create_profile_from_api(base("a", &p.url("/api/me")), &code_grant(), source())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
    assert!(
        e.message.contains("client_id_metadata_document_supported"),
        "{}",
        e.message
    );
    let made = t
        .core
        .create_profile_from_api(base("b", &p.url("/api-cimd/me")), &code_grant(), source())
        .await
        .unwrap();
    assert_eq!(
        made.discovered.client_options,
        ["pre_registered", "client_id_metadata_document"]
    );
    assert_eq!(
        made.profile.config.client_id, doc_url,
        "the document's URL is the client id"
    );
    assert_eq!(made.profile.config.auth_method, AuthMethod::None);
    let e = t
        .core
        .create_profile_from_api(
            base("c", &p.url("/api-cimd/me")),
            &code_grant(),
            ClientSource::MetadataDocument {
                url: "http://me.example/c.json".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message);
    assert_eq!(t.core.list_profiles().unwrap().len(), 1);
}
