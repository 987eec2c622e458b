//! Importing Postman, Insomnia, Bruno and OpenAPI files (tests/import_fixtures, written from each
//! format's published schema), and a Postman collection whose imported profile gets a real
//! token from the test provider.

use std::path::PathBuf;

use tokendesk_core::ErrorCode;
use tokendesk_core::api::ImportItem;
use tokendesk_core::import::{self, Format, ImportPlan, Input};
use tokendesk_core::profile::{AuthMethod, GrantKind, Param};
use tokendesk_core::secret::{SecretKind, SecretStore};
use tokendesk_testkit::*;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import_fixtures")
        .join(path)
}

fn plan(path: &str, environment: Option<&str>) -> ImportPlan {
    import::plan(&Input {
        path: fixture(path),
        environment: environment.map(str::to_owned),
        ..Input::default()
    })
    .unwrap()
}

fn names(plan: &ImportPlan) -> Vec<&str> {
    plan.profiles
        .iter()
        .map(|p| p.config.name.as_str())
        .collect()
}

fn warned(plan: &ImportPlan, parts: &[&str]) -> bool {
    plan.warnings
        .iter()
        .any(|w| parts.iter().all(|p| w.contains(p)))
}

#[test]
fn postman_collection_folder_and_request_auth() {
    let plan = plan("postman/shop.postman_collection.json", None);
    assert_eq!(plan.format, Format::Postman);
    assert_eq!(
        names(&plan),
        ["Shop", "Shop / Orders / Export", "Shop / Admin"]
    );
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);

    let shop = &plan.profiles[0];
    assert_eq!(shop.origin, "collection \"Shop\"");
    assert_eq!(shop.config.grant, GrantKind::ClientCredentials);
    assert_eq!(
        shop.config.endpoints.token.as_deref(),
        Some("https://idp.shop.example/token")
    );
    assert_eq!(shop.config.client_id, "shop-machine");
    assert_eq!(shop.config.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(
        shop.used_by,
        ["Shop / Orders / List orders"],
        "the inheriting request uses the collection's auth; the noauth one none"
    );
    assert!(
        shop.secret.is_none(),
        "{{clientSecret}} is not defined without the environment"
    );
    assert!(warned(&plan, &["collection \"Shop\"", "{{clientSecret}}"]));

    let export = &plan.profiles[1];
    assert_eq!(export.config.auth_method, AuthMethod::ClientSecretPost);
    assert_eq!(
        export.config.audience.as_deref(),
        Some("https://api.shop.example")
    );
    assert_eq!(
        export.config.token_params,
        [Param::new("product", "orders")],
        "the disabled one is left out"
    );
    assert_eq!(export.config.headers, [Param::new("x-tenant", "shop-eu")]);
    assert_eq!(export.used_by, ["Shop / Orders / Export"]);

    let admin = &plan.profiles[2];
    assert_eq!(admin.config.grant, GrantKind::AuthorizationCode);
    assert_eq!(
        admin.config.endpoints.authorization.as_deref(),
        Some("https://idp.shop.example/auth")
    );
    assert_eq!(admin.config.auth_method, AuthMethod::None);
    assert_eq!(admin.config.scopes, ["openid", "profile", "admin"]);
    assert_eq!(
        admin.config.redirect_uri.as_deref(),
        Some("http://127.0.0.1:8765/callback")
    );
    assert_eq!(
        admin.config.resource.as_deref(),
        Some("https://api.shop.example")
    );
    assert_eq!(
        admin.config.authorize_params,
        [Param::new("prompt", "login")]
    );
    assert_eq!(
        admin.used_by,
        ["Shop / Admin / Users", "Shop / Admin / Nested / Audit"],
        "a nested folder's request inherits through its folder"
    );
    assert!(warned(&plan, &["Legacy login", "password"]));
    assert!(warned(&plan, &["Old browser app", "implicit"]));
    assert!(warned(&plan, &["Admin", "fixed state"]));
    assert!(warned(&plan, &["Admin", "refresh token URL"]));
    assert!(
        !plan.describe().contains("wonderland"),
        "a password is never shown"
    );
}

#[test]
fn postman_environment_resolves_and_finds_the_secret() {
    let env = fixture("postman/staging.postman_environment.json");
    let plan = plan("postman/shop.postman_collection.json", env.to_str());
    let shop = &plan.profiles[0];
    assert_eq!(
        shop.config.endpoints.token.as_deref(),
        Some("https://idp.staging.shop.example/token"),
        "the environment wins over the collection variable"
    );
    assert_eq!(
        shop.config.client_id, "shop-machine",
        "a disabled environment value is not used"
    );
    assert_eq!(shop.config.environment, "staging");
    let secret = shop
        .secret
        .as_ref()
        .expect("the environment holds the secret");
    assert_eq!(secret.field, "clientSecret");
    assert_eq!(secret.value.expose(), "staging-machine-secret");
    let shown = plan.describe() + &serde_json::to_string(&plan.summary()).unwrap();
    assert!(
        !shown.contains("staging-machine-secret"),
        "the plan never shows a secret value"
    );
    assert!(
        shown.contains("clientSecret"),
        "it says where a secret was found"
    );
}

#[test]
fn insomnia_v4_and_v5() {
    let v4 = plan("insomnia/bank.insomnia-v4.json", None);
    assert_eq!(v4.format, Format::Insomnia);
    assert_eq!(
        names(&v4),
        ["Bank / Accounts", "Bank / Sign in", "Bank / Partner"]
    );
    let accounts = &v4.profiles[0];
    assert_eq!(
        accounts.config.endpoints.token.as_deref(),
        Some("https://idp.bank.example/oauth/token")
    );
    assert_eq!(accounts.config.client_id, "bank-m2m");
    assert_eq!(accounts.config.auth_method, AuthMethod::ClientSecretPost);
    assert_eq!(
        accounts.config.audience.as_deref(),
        Some("https://api.bank.example")
    );
    assert_eq!(accounts.used_by, ["Bank / Accounts / List accounts"]);
    assert!(accounts.secret.is_none());
    assert!(warned(&v4, &["Sandbox", "--environment"]));
    assert!(warned(&v4, &["Password login", "password"]));
    assert!(warned(&v4, &["Partner", "partnerClientId"]));
    assert_eq!(v4.profiles[1].config.auth_method, AuthMethod::None);

    let sandbox = plan("insomnia/bank.insomnia-v4.json", Some("Sandbox"));
    let accounts = &sandbox.profiles[0];
    assert_eq!(
        accounts.config.endpoints.token.as_deref(),
        Some("https://sandbox.idp.bank.example/oauth/token")
    );
    assert_eq!(
        accounts.secret.as_ref().unwrap().value.expose(),
        "sandbox-m2m-secret"
    );

    let v5 = plan("insomnia/shop.insomnia-v5.yaml", Some("Staging"));
    assert_eq!(names(&v5), ["Shop / Admin", "Shop / Admin / Report"]);
    let admin = &v5.profiles[0];
    assert_eq!(
        admin.config.endpoints.authorization.as_deref(),
        Some("https://idp.staging.shop.example/authorize")
    );
    assert_eq!(
        admin.config.auth_method,
        AuthMethod::ClientSecretBasic,
        "a secret it cannot resolve still makes a confidential client"
    );
    assert_eq!(admin.used_by, ["Shop / Admin / Users"]);
    assert!(warned(&v5, &["Admin", "adminSecret"]));
    let report = &v5.profiles[1];
    assert_eq!(report.config.grant, GrantKind::ClientCredentials);
    assert_eq!(
        report.secret.as_ref().unwrap().value.expose(),
        "report-secret-from-env"
    );
    assert_eq!(report.used_by, ["Shop / Admin / Report"]);
}

#[test]
fn bruno_collection_folder() {
    let p = plan("bruno/payments", Some("Staging"));
    assert_eq!(p.format, Format::Bruno);
    assert_eq!(names(&p), ["Payments", "Payments / Batch jobs"]);
    let web = &p.profiles[0];
    assert_eq!(web.config.grant, GrantKind::AuthorizationCode);
    assert_eq!(
        web.config.endpoints.token.as_deref(),
        Some("https://idp.staging.payments.example/token")
    );
    assert_eq!(
        web.config.auth_method,
        AuthMethod::None,
        "no client secret: a public client"
    );
    assert_eq!(web.used_by, ["Payments / List payments"]);
    let batch = &p.profiles[1];
    assert_eq!(batch.config.client_id, "pay-batch");
    assert_eq!(batch.config.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(batch.used_by, ["Payments / Batch jobs / Run batch"]);
    assert!(
        batch.secret.is_none(),
        "a Bruno secret variable has no value in the file"
    );
    assert!(warned(&p, &["batchSecret", "Bruno secrets"]));
    assert!(warned(&p, &["Legacy", "password"]));

    let local = plan("bruno/payments", Some("Local"));
    assert_eq!(
        local.profiles[1].secret.as_ref().unwrap().value.expose(),
        "local-batch-secret"
    );
    assert_eq!(
        local.profiles[0].config.endpoints.token.as_deref(),
        Some("http://127.0.0.1:9000/token")
    );

    let none = plan("bruno/payments", None);
    assert_eq!(
        none.profiles[0].config.endpoints.token.as_deref(),
        Some("https://idp.payments.example/token"),
        "without an environment, the collection's variables"
    );
    assert!(warned(&none, &["\"Local\"", "\"Staging\""]));
}

#[test]
fn openapi_3_0_and_3_1() {
    let input = |path: &str| Input {
        path: fixture(path),
        client_id: Some("my-client".into()),
        ..Input::default()
    };
    let v30 = import::plan(&input("openapi/petstore-3.0.json")).unwrap();
    assert_eq!(v30.format, Format::Openapi);
    assert_eq!(
        names(&v30),
        [
            "Petstore / petAuth / authorizationCode",
            "Petstore / petAuth / clientCredentials"
        ]
    );
    assert_eq!(v30.profiles[0].config.scopes, ["pets:read", "pets:write"]);
    assert_eq!(
        v30.profiles[1].config.endpoints.token.as_deref(),
        Some("https://api.pets.example/oauth/token"),
        "a relative tokenUrl is resolved against the server URL"
    );
    assert!(warned(&v30, &["petAuth", "password"]));
    assert!(warned(&v30, &["apiKey"]));
    assert!(v30.errors.is_empty(), "{:?}", v30.errors);

    let v31 = import::plan(&input("openapi/accounts-3.1.yaml")).unwrap();
    assert_eq!(names(&v31), ["Accounts / oidc", "Accounts / machines"]);
    let oidc = &v31.profiles[0].config;
    assert_eq!(
        oidc.issuer.as_deref(),
        Some("https://login.accounts.example/realms/main")
    );
    assert_eq!(oidc.grant, GrantKind::AuthorizationCode);
    assert!(warned(&v31, &["mtls", "mutualTLS"]));

    let no_client = import::plan(&Input {
        path: fixture("openapi/petstore-3.0.json"),
        ..Input::default()
    })
    .unwrap();
    assert!(
        no_client.errors.iter().any(|e| e.contains("--client-id")),
        "{:?}",
        no_client.errors
    );
}

#[test]
fn wrong_formats_and_versions_say_what_to_do() {
    let err = |path: &str| {
        import::plan(&Input {
            path: fixture(path),
            ..Input::default()
        })
        .unwrap_err()
    };
    let e = err("postman/old-v2.0.postman_collection.json");
    assert!(
        e.message.contains(
            "Postman collection v2.0 is not supported: export as v2.1 from Postman (Collection → Export → v2.1)."
        ),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("old-v2.0.postman_collection.json"),
        "the file is named"
    );
    assert!(
        err("postman/staging.postman_environment.json")
            .message
            .contains("--environment")
    );
    assert!(
        err("insomnia/old-format-3.json")
            .message
            .contains("Insomnia export format 3 is not supported")
    );
    assert!(
        err("openapi/swagger-2.0.json")
            .message
            .contains("OpenAPI 3")
    );
    assert!(
        err("README.md").message.contains("neither JSON nor YAML")
            || err("README.md").message.contains("not a format")
    );
    assert_eq!(err("nope.json").code, ErrorCode::NotFound);
    let not_bruno = import::plan(&Input {
        path: fixture("openapi"),
        ..Input::default()
    })
    .unwrap_err();
    assert!(
        not_bruno.message.contains("bruno.json"),
        "{}",
        not_bruno.message
    );
}

/// The collection-level profile of a Postman collection, its client id and secret from an
/// environment, gets a client-credentials token from the real provider.
#[tokio::test(flavor = "multi_thread")]
async fn an_imported_postman_profile_gets_a_token() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("local.postman_environment.json");
    std::fs::write(
        &env,
        serde_json::json!({
            "name": "local",
            "_postman_variable_scope": "environment",
            "values": [
                {"key": "idp", "value": p.issuer, "enabled": true},
                {"key": "clientId", "value": "cc-basic", "enabled": true},
                {"key": "clientSecret", "value": "cc-basic-secret", "type": "secret", "enabled": true},
                {"key": "exportSecret", "value": "cc-post-secret", "type": "secret", "enabled": true},
            ]
        })
        .to_string(),
    )
    .unwrap();
    let plan = import::plan(&Input {
        path: fixture("postman/shop.postman_collection.json"),
        environment: Some(env.display().to_string()),
        ..Input::default()
    })
    .unwrap();
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let items: Vec<ImportItem> = plan
        .profiles
        .into_iter()
        .map(|p| ImportItem {
            config: p.config,
            secret: p.secret.map(|s| s.value),
        })
        .collect();
    let created = t.core.import_profiles(items, false).await.unwrap();
    assert_eq!(created.len(), 3);
    let shop = t.core.profile("Shop").unwrap();
    assert_eq!(
        shop.config.endpoints.token.as_deref(),
        Some(p.url("/token").as_str())
    );
    let stored = t.keychain.get(&shop.id, SecretKind::ClientSecret).unwrap();
    assert_eq!(
        stored.map(|s| s.into_inner()).as_deref(),
        Some("cc-basic-secret"),
        "the secret went to the keychain"
    );
    let token = t.core.fetch_token(&shop.id).await.unwrap();
    assert_eq!(token.grant, GrantKind::ClientCredentials);
    let access = t
        .core
        .reveal(&shop.id, SecretKind::AccessToken)
        .await
        .unwrap();
    let jwt = tokendesk_core::inspect::decode_jwt(access.expose()).unwrap();
    assert_eq!(jwt.claims["client_id"], "cc-basic");

    // The secret is in no file of the store.
    for (path, bytes) in all_bytes(t.home.path()) {
        assert!(
            !contains(&bytes, "cc-basic-secret"),
            "{} holds the secret",
            path.display()
        );
    }

    // Importing again clashes on every name: an error, and nothing more is created.
    let again = import::plan(&Input {
        path: fixture("postman/shop.postman_collection.json"),
        environment: Some(env.display().to_string()),
        ..Input::default()
    })
    .unwrap();
    let items = || {
        again
            .profiles
            .iter()
            .map(|p| ImportItem {
                config: p.config.clone(),
                secret: None,
            })
            .collect::<Vec<_>>()
    };
    let e = t.core.import_profiles(items(), false).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("\"Shop\"") && e.message.contains("--rename"),
        "{}",
        e.message
    );
    assert_eq!(t.core.list_profiles().unwrap().len(), 3);
    let renamed = t.core.import_profiles(items(), true).await.unwrap();
    assert_eq!(renamed[0].config.name, "Shop (2)");
    assert_eq!(t.core.list_profiles().unwrap().len(), 6);
}

/// A failure half-way takes back the profiles (and secrets) already created.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_import_leaves_nothing() {
    let t = TestCore::new();
    let plan = plan(
        "postman/shop.postman_collection.json",
        fixture("postman/staging.postman_environment.json").to_str(),
    );
    let mut items: Vec<ImportItem> = plan
        .profiles
        .into_iter()
        .map(|p| ImportItem {
            config: p.config,
            secret: p.secret.map(|s| s.value),
        })
        .collect();
    // The last one takes its subject token from a profile that does not exist: found only when
    // it is saved, after the others.
    let mut broken = items[0].config.clone();
    broken.name = "Exchanger".into();
    broken.grant = GrantKind::TokenExchange;
    broken.token_exchange.subject_profile = Some("nobody".into());
    items.push(ImportItem {
        config: broken,
        secret: None,
    });
    let e = t.core.import_profiles(items, false).await.unwrap_err();
    assert!(e.message.contains("nobody"), "{}", e.message);
    assert!(t.core.list_profiles().unwrap().is_empty(), "all or nothing");
}

/// What the app does: a plan from a path or from a file's text (`ImportReq`), then
/// `Core::import_plan`: the found secrets stored only when asked, a plan with errors refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_app_imports_from_a_path_or_text() {
    let t = TestCore::new();
    let env = fixture("postman/staging.postman_environment.json")
        .display()
        .to_string();
    let by_path = import::ImportReq {
        path: Some(
            fixture("postman/shop.postman_collection.json")
                .display()
                .to_string(),
        ),
        environment: Some(env.clone()),
        ..Default::default()
    }
    .plan()
    .unwrap();
    let text = std::fs::read_to_string(fixture("postman/shop.postman_collection.json")).unwrap();
    let by_text = import::ImportReq {
        text: Some(text.clone()),
        file_name: Some("shop.postman_collection.json".into()),
        environment: Some(format!("  {env} ")),
        ..Default::default()
    }
    .plan()
    .unwrap();
    assert_eq!(names(&by_path), names(&by_text));
    let summary = by_text.summary();
    let found = summary
        .profiles
        .iter()
        .filter(|p| p.secret_found.is_some())
        .count();
    assert!(found > 0, "the staging environment holds a client secret");
    let shown = serde_json::to_string(&summary).unwrap();
    for p in &by_text.profiles {
        if let Some(s) = &p.secret {
            assert!(
                !shown.contains(s.value.expose().as_str()),
                "no secret shown"
            );
        }
    }

    // Nothing to read, or text that is no export: an error naming the file.
    let e = import::ImportReq::default().plan().unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    let e = import::ImportReq {
        text: Some("not json".into()),
        file_name: Some("notes.txt".into()),
        ..Default::default()
    }
    .plan()
    .unwrap_err();
    assert!(e.message.starts_with("notes.txt: "), "{}", e.message);

    // A plan with an error creates nothing.
    let mut broken = import::ImportReq {
        text: Some(text.clone()),
        environment: Some(env.clone()),
        ..Default::default()
    }
    .plan()
    .unwrap();
    broken.errors.push("folder \"X\": not a URL.".into());
    let e = t.core.import_plan(broken, true, false).await.unwrap_err();
    assert!(e.message.contains("not a URL"), "{}", e.message);
    assert!(t.core.list_profiles().unwrap().is_empty());

    // Without store_found, the secrets found are not kept; with it, they are.
    let created = t.core.import_plan(by_path, false, false).await.unwrap();
    assert_eq!(created.len(), by_text.profiles.len());
    for p in &created {
        assert!(
            t.keychain
                .get(&p.id, SecretKind::ClientSecret)
                .unwrap()
                .is_none()
        );
    }
    let again = t.core.import_plan(by_text, true, false).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    let renamed = import::ImportReq {
        text: Some(text),
        environment: Some(env),
        ..Default::default()
    }
    .plan()
    .unwrap();
    let with_secret: Vec<String> = renamed
        .profiles
        .iter()
        .filter(|p| p.secret.is_some())
        .map(|p| format!("{} (2)", p.config.name))
        .collect();
    let created = t.core.import_plan(renamed, true, true).await.unwrap();
    let stored = created
        .iter()
        .filter(|p| with_secret.contains(&p.config.name))
        .filter(|p| {
            t.keychain
                .get(&p.id, SecretKind::ClientSecret)
                .unwrap()
                .is_some()
        })
        .count();
    assert_eq!(stored, with_secret.len());
}

/// The app's import dialog chooses where each found secret comes from: a command or a variable
/// sets the profile's source and drops the value found in the file (never stored); the
/// keychain (or no choice) stores it when asked.
#[tokio::test(flavor = "multi_thread")]
async fn a_found_secret_goes_to_the_source_chosen_for_it() {
    use tokendesk_core::secret_source::SecretSource;
    let t = TestCore::new();
    let req = |sources: Vec<Option<SecretSource>>| import::ImportReq {
        path: Some(
            fixture("postman/shop.postman_collection.json")
                .display()
                .to_string(),
        ),
        environment: Some(
            fixture("postman/staging.postman_environment.json")
                .display()
                .to_string(),
        ),
        store_found_secrets: true,
        secret_sources: sources,
        ..Default::default()
    };
    let plan = req(vec![]).plan().unwrap();
    let found = (0..plan.profiles.len())
        .find(|i| plan.profiles[*i].secret.is_some())
        .expect("a profile with a secret in the fixture");
    let name = plan.profiles[found].config.name.clone();
    let command = SecretSource::Command {
        argv: vec!["pass".into(), "show".into(), "shop/client".into()],
        timeout_secs: None,
    };
    let env = SecretSource::Env {
        var: "SHOP_SECRET".into(),
    };
    for (source, rename) in [(command, false), (env, true)] {
        let mut sources = vec![None; plan.profiles.len()];
        sources[found] = Some(source.clone());
        let mut r = req(sources);
        r.rename = rename;
        let chosen = r.plan_to_import().unwrap();
        assert!(
            chosen.profiles[found].secret.is_none(),
            "the value is dropped"
        );
        let created = t.core.import_plan(chosen, true, rename).await.unwrap();
        let p = created
            .iter()
            .find(|p| p.config.name.starts_with(&name) && p.config.secrets.client_secret == source)
            .unwrap_or_else(|| panic!("{name} takes its secret from {source:?}"));
        assert!(
            t.keychain
                .get(&p.id, SecretKind::ClientSecret)
                .unwrap()
                .is_none(),
            "nothing stored for a secret from elsewhere"
        );
        // The others (no choice: the keychain) still get the value found, when asked.
        let others = created.iter().filter(|q| q.id != p.id);
        for q in others {
            assert!(q.config.secrets.client_secret.is_keychain());
        }
    }
    // A list longer than the plan (a stale dialog) is refused.
    let e = req(vec![None; 99]).plan_to_import().unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
}
