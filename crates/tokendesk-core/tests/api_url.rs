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

    // The user picks among the servers the API names, and only among those.
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
