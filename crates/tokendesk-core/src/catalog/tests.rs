use super::*;
use crate::profile::AuthMethod;

fn build(id: &str, params: &[(&str, &str)]) -> ProfileConfig {
    let given: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    find(id).unwrap().profile(&given).unwrap()
}

fn auth_params(c: &ProfileConfig) -> Vec<(&str, &str)> {
    c.authorize_params
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect()
}

#[test]
fn every_preset_file_passes_its_schema() {
    let (ok, errors) = check_files(FILES);
    assert!(
        errors.is_empty(),
        "invalid preset files:\n{}",
        errors.join("\n")
    );
    assert_eq!(ok.len(), FILES.len());
    let mut ids: Vec<&str> = ok.iter().map(|p| p.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), FILES.len(), "ids are unique");
    for want in [
        "google",
        "entra",
        "github",
        "gitlab",
        "okta",
        "okta-org",
        "auth0",
        "keycloak",
        "cognito",
        "salesforce",
        "slack",
        "atlassian",
        "apple",
        "dropbox",
        "x",
        "zoom",
        "spotify",
        "xero",
        "intuit",
        "linkedin",
        "discord",
        "op",
    ] {
        assert!(ids.contains(&want), "a preset for {want}");
    }
}

#[test]
fn every_preset_builds_a_valid_profile_from_its_defaults_and_examples() {
    for p in presets() {
        let given: Vec<(String, String)> = p
            .params
            .iter()
            .filter(|s| s.default.is_none())
            .map(|s| (s.name.clone(), s.example.clone().unwrap()))
            .collect();
        let mut c = p
            .profile(&given)
            .unwrap_or_else(|e| panic!("{}: {e}", p.id));
        c.name = format!("{} test", p.name);
        c.client_id = "client".into();
        if let Err(e) = c.validate() {
            panic!("{}: the profile it builds is refused: {e}", p.id);
        }
        assert_eq!(c.preset.as_ref().unwrap().id, p.id);
    }
}

/// The endpoints each preset builds from its defaults are the documented ones.
#[test]
fn endpoints_are_the_documented_ones() {
    let g = build("google", &[]);
    assert_eq!(g.issuer.as_deref(), Some("https://accounts.google.com"));
    assert_eq!(
        g.endpoints.authorization.as_deref(),
        Some("https://accounts.google.com/o/oauth2/v2/auth")
    );
    assert_eq!(
        g.endpoints.token.as_deref(),
        Some("https://oauth2.googleapis.com/token")
    );
    assert_eq!(
        g.endpoints.device_authorization.as_deref(),
        Some("https://oauth2.googleapis.com/device/code")
    );
    assert_eq!(g.auth_method, AuthMethod::ClientSecretPost);

    let e = build(
        "entra",
        &[("tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47")],
    );
    let t = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47";
    assert_eq!(e.issuer.as_deref(), Some(format!("{t}/v2.0").as_str()));
    assert_eq!(
        e.endpoints.authorization.as_deref(),
        Some(format!("{t}/oauth2/v2.0/authorize").as_str())
    );
    assert_eq!(
        e.endpoints.token.as_deref(),
        Some(format!("{t}/oauth2/v2.0/token").as_str())
    );
    assert_eq!(
        e.endpoints.device_authorization.as_deref(),
        Some(format!("{t}/oauth2/v2.0/devicecode").as_str())
    );
    assert_eq!(
        e.endpoints.jwks.as_deref(),
        Some(format!("{t}/discovery/v2.0/keys").as_str())
    );
    assert_eq!(e.auth_method, AuthMethod::None);

    let gh = build("github", &[]);
    assert_eq!(gh.issuer, None, "GitHub has no OpenID discovery");
    assert_eq!(
        gh.endpoints.token.as_deref(),
        Some("https://github.com/login/oauth/access_token")
    );
    assert_eq!(
        gh.endpoints.device_authorization.as_deref(),
        Some("https://github.com/login/device/code")
    );
    assert_eq!(gh.api_url.as_deref(), Some("https://api.github.com/user"));

    let kc = build(
        "keycloak",
        &[("base_url", "https://sso.example.com/"), ("realm", "dev")],
    );
    assert_eq!(
        kc.issuer.as_deref(),
        Some("https://sso.example.com/realms/dev")
    );
    assert_eq!(
        kc.endpoints.token.as_deref(),
        Some("https://sso.example.com/realms/dev/protocol/openid-connect/token")
    );

    let okta = build("okta", &[("base_url", "https://dev-1.okta.com")]);
    assert_eq!(
        okta.issuer.as_deref(),
        Some("https://dev-1.okta.com/oauth2/default")
    );
    assert_eq!(
        okta.endpoints.authorization.as_deref(),
        Some("https://dev-1.okta.com/oauth2/default/v1/authorize")
    );
    let org = build("okta-org", &[("base_url", "https://dev-1.okta.com")]);
    assert_eq!(org.issuer.as_deref(), Some("https://dev-1.okta.com"));
    assert_eq!(
        org.endpoints.token.as_deref(),
        Some("https://dev-1.okta.com/oauth2/v1/token")
    );

    let a0 = build(
        "auth0",
        &[
            ("base_url", "https://t.eu.auth0.com"),
            ("audience", "https://api.example"),
        ],
    );
    assert_eq!(
        a0.issuer.as_deref(),
        Some("https://t.eu.auth0.com/"),
        "Auth0's issuer keeps its slash"
    );
    assert_eq!(
        a0.endpoints.token.as_deref(),
        Some("https://t.eu.auth0.com/oauth/token")
    );

    let cg = build(
        "cognito",
        &[
            ("region", "eu-west-1"),
            ("user_pool_id", "eu-west-1_Abc"),
            ("base_url", "https://app.auth.eu-west-1.amazoncognito.com"),
        ],
    );
    assert_eq!(
        cg.issuer.as_deref(),
        Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"),
        "a default built from an earlier parameter"
    );
    assert_eq!(
        cg.endpoints.token.as_deref(),
        Some("https://app.auth.eu-west-1.amazoncognito.com/oauth2/token")
    );

    for (id, token) in [
        ("gitlab", "https://gitlab.com/oauth/token"),
        (
            "salesforce",
            "https://login.salesforce.com/services/oauth2/token",
        ),
        ("slack", "https://slack.com/api/oauth.v2.access"),
        ("atlassian", "https://auth.atlassian.com/oauth/token"),
        ("apple", "https://appleid.apple.com/auth/token"),
        ("dropbox", "https://api.dropboxapi.com/oauth2/token"),
        ("x", "https://api.x.com/2/oauth2/token"),
        ("zoom", "https://zoom.us/oauth/token"),
        ("spotify", "https://accounts.spotify.com/api/token"),
        ("xero", "https://identity.xero.com/connect/token"),
        (
            "intuit",
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        ),
        ("linkedin", "https://www.linkedin.com/oauth/v2/accessToken"),
        ("discord", "https://discord.com/api/oauth2/token"),
    ] {
        assert_eq!(
            build(id, &[]).endpoints.token.as_deref(),
            Some(token),
            "{id}"
        );
    }
}

/// Every host is a parameter: GitHub Enterprise Server, a self-managed GitLab, a sovereign
/// cloud and a test imitation on loopback use the same presets.
#[test]
fn hosts_are_parameters() {
    let ghes = build(
        "github",
        &[
            ("base_url", "https://github.corp.example"),
            ("api_base_url", "https://github.corp.example/api/v3"),
        ],
    );
    assert_eq!(
        ghes.endpoints.authorization.as_deref(),
        Some("https://github.corp.example/login/oauth/authorize")
    );
    assert_eq!(
        ghes.api_url.as_deref(),
        Some("https://github.corp.example/api/v3/user")
    );
    let gov = build(
        "entra",
        &[
            ("base_url", "https://login.microsoftonline.us"),
            ("tenant", "contoso.onmicrosoft.us"),
        ],
    );
    assert_eq!(
        gov.endpoints.token.as_deref(),
        Some("https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token")
    );
    let local = build(
        "google",
        &[
            ("base_url", "http://127.0.0.1:4010"),
            ("token_base_url", "http://127.0.0.1:4010"),
        ],
    );
    assert_eq!(
        local.endpoints.token.as_deref(),
        Some("http://127.0.0.1:4010/token")
    );
}

#[test]
fn refresh_token_parameters_are_sent() {
    let g = build("google", &[]);
    assert_eq!(
        auth_params(&g),
        [("access_type", "offline"), ("prompt", "consent")],
        "Google: access_type=offline and prompt=consent"
    );
    assert!(
        build("entra", &[])
            .scopes
            .contains(&"offline_access".to_owned())
    );
    assert!(
        build("x", &[])
            .scopes
            .contains(&"offline.access".to_owned()),
        "X spells it with a dot"
    );
    assert!(
        build("salesforce", &[])
            .scopes
            .contains(&"refresh_token".to_owned())
    );
    assert!(
        build("xero", &[])
            .scopes
            .contains(&"offline_access".to_owned())
    );
    assert!(
        build("okta", &[("base_url", "https://o.okta.com")])
            .scopes
            .contains(&"offline_access".to_owned())
    );
    assert_eq!(
        auth_params(&build("dropbox", &[])),
        [("token_access_type", "offline")]
    );
    assert!(
        !build(
            "cognito",
            &[
                ("region", "eu-west-1"),
                ("user_pool_id", "p"),
                ("base_url", "https://a.example")
            ]
        )
        .scopes
        .contains(&"offline_access".to_owned()),
        "Cognito refuses offline_access"
    );
    let a0 = build(
        "auth0",
        &[
            ("base_url", "https://t.auth0.com"),
            ("audience", "https://api.example"),
        ],
    );
    assert_eq!(a0.audience.as_deref(), Some("https://api.example"));
    assert!(auth_params(&a0).contains(&("audience", "https://api.example")));
    let no_audience = build("auth0", &[("base_url", "https://t.auth0.com")]);
    assert_eq!(
        no_audience.audience, None,
        "an optional parameter left out leaves its field out"
    );
    assert!(auth_params(&no_audience).is_empty());
}

#[test]
fn the_preset_says_what_it_sends_and_why() {
    let sends = find("google").unwrap().sends();
    let offline = sends
        .iter()
        .find(|s| s.what.contains("access_type=offline"))
        .unwrap();
    assert!(offline.why.contains("refresh token"), "{}", offline.why);
    let gh = find("github").unwrap().sends();
    assert!(
        gh.iter()
            .any(|s| s.what.contains("Accept: application/json"))
    );
}

#[test]
fn bad_parameters_are_refused_before_any_request() {
    let entra = find("entra").unwrap();
    let e = entra
        .profile(&[("tenant".into(), "not a tenant".into())])
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("GUID"), "{e}");
    assert_eq!(e.fields[0].field, "preset_params.tenant");

    let e = find("keycloak").unwrap().profile(&[]).unwrap_err();
    assert!(e.message.contains("--preset-param base_url="), "{e}");

    let e = find("github")
        .unwrap()
        .profile(&[("base_url".into(), "http://github.corp.example".into())])
        .unwrap_err();
    assert!(e.message.contains("loopback"), "http only on loopback: {e}");

    let e = find("github")
        .unwrap()
        .profile(&[("tenant".into(), "x".into())])
        .unwrap_err();
    assert!(e.message.contains("no parameter \"tenant\""), "{e}");

    let e = find("nope").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("google"), "lists the presets: {e}");
}

#[test]
fn a_file_that_fails_its_schema_is_named_with_line_and_field() {
    let good = FILES.iter().find(|(n, _)| *n == "gitlab.toml").unwrap().1;

    let unknown_field = good.replace(
        "checked = \"documents\"",
        "checked = \"documents\"\ncolour = \"red\"",
    );
    let e = Preset::parse("gitlab.toml", &unknown_field).unwrap_err();
    assert!(e.starts_with("gitlab.toml: "), "{e}");
    assert!(e.contains("line 5") && e.contains("colour"), "{e}");

    let bad_kind = good.replace("kind = \"base_url\"", "kind = \"baseurl\"");
    let e = Preset::parse("gitlab.toml", &bad_kind).unwrap_err();
    assert!(e.contains("baseurl") && e.contains("line"), "{e}");

    let fixed_host = good.replace(
        "token = \"{base_url}/oauth/token\"",
        "token = \"https://gitlab.com/oauth/token\"",
    );
    let e = Preset::parse("gitlab.toml", &fixed_host).unwrap_err();
    assert!(
        e.contains("endpoints.token") && e.contains("base_url parameter"),
        "{e}"
    );
    assert!(e.contains(", line "), "points at the line: {e}");

    let unknown_param = good.replace("{base_url}/oauth/revoke", "{base_url}/{realm}/oauth/revoke");
    let e = Preset::parse("gitlab.toml", &unknown_param).unwrap_err();
    assert!(
        e.contains("endpoints.revocation") && e.contains("{realm}"),
        "{e}"
    );

    let bad_default = good.replace(
        "default = \"https://gitlab.com\"",
        "default = \"http://gitlab.com\"",
    );
    let e = Preset::parse("gitlab.toml", &bad_default).unwrap_err();
    assert!(
        e.contains("param.base_url") && e.contains("fails its own check"),
        "{e}"
    );

    let no_source = good.split("[[source]]").next().unwrap().to_owned();
    let e = Preset::parse("gitlab.toml", &no_source).unwrap_err();
    assert!(e.contains("missing field `source`"), "{e}");

    let e = Preset::parse("Bad_Name.toml", good).unwrap_err();
    assert!(e.contains("id"), "{e}");

    let (ok, errors) = check_files(&[("gitlab.toml", good), ("broken.toml", "name = ")]);
    assert_eq!(ok.len(), 1, "a broken file does not disturb the others");
    assert!(errors[0].starts_with("broken.toml: "), "{errors:?}");
}

#[test]
fn known_errors_are_found_by_code_and_text() {
    let google = find("google").unwrap();
    let e = google
        .known_error("invalid_request", Some("client_secret is missing."))
        .unwrap();
    assert!(e.fix.contains("client secret"), "{}", e.fix);
    assert!(
        google
            .known_error("invalid_request", Some("something else"))
            .is_none()
    );
    let entra = find("entra").unwrap();
    let e = entra
        .known_error(
            "invalid_client",
            Some("AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
        )
        .unwrap();
    assert!(e.fix.contains("Mobile and desktop"), "{}", e.fix);
    assert!(
        find("github")
            .unwrap()
            .known_error("bad_verification_code", None)
            .is_some()
    );
}

#[test]
fn a_known_provider_error_is_explained_for_the_presets_profiles_only() {
    let google = build("google", &[]);
    let mut e = Error::new(
        ErrorCode::ProviderError,
        "The provider refused the refresh (HTTP 400): invalid_request: client_secret is missing..",
    );
    e.oauth = Some(Box::new((
        "invalid_request".into(),
        Some("client_secret is missing.".into()),
    )));
    let explained = explain(&google, e.clone());
    assert!(
        explained
            .message
            .contains("Google: Google Desktop app clients must send their client secret"),
        "{}",
        explained.message
    );
    assert!(
        explained.message.contains("Fix: Store the client secret"),
        "{}",
        explained.message
    );
    assert_eq!(explained.code, e.code);
    let plain = ProfileConfig::default();
    assert_eq!(
        explain(&plain, e.clone()).message,
        e.message,
        "no preset, no change"
    );
    let mut other = e.clone();
    other.oauth = Some(Box::new(("invalid_scope".into(), None)));
    assert_eq!(
        explain(&google, other.clone()).message,
        other.message,
        "an error the preset does not know"
    );
}

#[test]
fn googles_scheme_less_issuer_is_accepted_for_googles_issuer_only() {
    let g = build("google", &[]);
    assert_eq!(
        issuer_alias(&g, "https://accounts.google.com").as_deref(),
        Some("accounts.google.com")
    );
    assert_eq!(
        issuer_alias(&g, "https://evil.example"),
        None,
        "for that issuer only"
    );
    let imitation = build(
        "google",
        &[
            ("base_url", "http://127.0.0.1:4010"),
            ("token_base_url", "http://127.0.0.1:4010"),
        ],
    );
    assert_eq!(
        issuer_alias(&imitation, "http://127.0.0.1:4010").as_deref(),
        Some("127.0.0.1:4010")
    );
    assert_eq!(
        issuer_alias(&build("gitlab", &[]), "https://gitlab.com"),
        None,
        "no alias documented"
    );
    assert_eq!(
        issuer_alias(&ProfileConfig::default(), "https://accounts.google.com"),
        None
    );
}

#[test]
fn entras_tenant_template_fills_from_a_plain_tid_only() {
    let entra = build("entra", &[]);
    let t = issuer_template(
        &entra,
        "https://login.microsoftonline.com/organizations/v2.0",
    )
    .expect("the multi-tenant template");
    assert_eq!(
        t.template,
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    assert_eq!(
        t.for_claims(&serde_json::json!({ "tid": tid })).as_deref(),
        Some(format!("https://login.microsoftonline.com/{tid}/v2.0").as_str())
    );
    for bad in ["", "..", "a/b", "x?y", "evil.example#", &"a".repeat(65)] {
        assert_eq!(
            t.for_claims(&serde_json::json!({ "tid": bad })),
            None,
            "{bad:?}"
        );
    }
    assert_eq!(
        t.for_claims(&serde_json::json!({})),
        None,
        "no tid, no alias"
    );
    assert_eq!(
        issuer_template(&entra, "https://login.microsoftonline.com/common/v2.0"),
        None,
        "for the profile's own issuer only"
    );
    assert_eq!(
        issuer_template(&build("google", &[]), "https://accounts.google.com"),
        None
    );

    let good = FILES.iter().find(|(n, _)| *n == "entra.toml").unwrap().1;
    let no_placeholder = good.replace(
        "template = \"{base_url}/{tenantid}/v2.0\"",
        "template = \"{base_url}/common/v2.0\"",
    );
    let e = Preset::parse("entra.toml", &no_placeholder).unwrap_err();
    assert!(e.contains("issuer_template.template"), "{e}");
    let other_issuer = good.replace(
        "issuer = \"{base_url}/{tenant}/v2.0\"\ntemplate",
        "issuer = \"{base_url}/v2.0\"\ntemplate",
    );
    let e = Preset::parse("entra.toml", &other_issuer).unwrap_err();
    assert!(e.contains("issuer_template.issuer"), "{e}");
}
