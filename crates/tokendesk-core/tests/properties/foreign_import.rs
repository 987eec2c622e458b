//! Files of other tools (Postman, Insomnia, Bruno, OpenAPI, issue #15): any text is planned or
//! refused as invalid input, never a panic; a plan without errors holds only valid profiles with
//! unique names; no plan shows a secret it found.

use proptest::prelude::*;
use serde_json::{Value, json};
use tokendesk_core::ErrorCode;
use tokendesk_core::import::{Format, Input, plan_text};

use crate::config::config;
use crate::input;

const NAMES: &[&str] = &[
    "info",
    "schema",
    "item",
    "auth",
    "type",
    "oauth2",
    "key",
    "value",
    "variable",
    "request",
    "_type",
    "__export_format",
    "resources",
    "parentId",
    "_id",
    "authentication",
    "grantType",
    "openapi",
    "components",
    "securitySchemes",
    "flows",
    "tokenUrl",
    "scopes",
    "collection",
    "children",
    "environments",
    "data",
];

/// What must hold for one text read as one format (or told by its content).
pub fn text_as(t: &str, format: Option<Format>) {
    let input = Input {
        format,
        client_id: Some("prop-client".into()),
        ..Input::default()
    };
    match plan_text(t, &input) {
        Ok(plan) => {
            let shown = plan.describe() + &serde_json::to_string(&plan.summary()).unwrap();
            for (i, p) in plan.profiles.iter().enumerate() {
                if plan.errors.is_empty() {
                    assert!(p.config.validate().is_ok(), "{:?}", p.config);
                }
                assert!(
                    !plan.profiles[..i]
                        .iter()
                        .any(|o| o.config.name == p.config.name),
                    "{} twice",
                    p.config.name
                );
                if let Some(s) = &p.secret {
                    let v = s.value.expose();
                    assert!(
                        // The marked secret (other values may be words the plan shows anyway).
                        !v.contains("secret-value") || !shown.contains(v.as_str()),
                        "the plan shows the secret {v}: {shown}"
                    );
                }
            }
        }
        Err(e) => assert_eq!(e.code, ErrorCode::InvalidInput, "{}", e.message),
    }
}

pub fn text(t: &str) {
    for f in [
        None,
        Some(Format::Postman),
        Some(Format::Insomnia),
        Some(Format::Openapi),
        Some(Format::Bruno),
    ] {
        text_as(t, f);
    }
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{v}}".to_owned()),
        Just("{{ _.v }}".to_owned()),
        Just("https://op.example/token".to_owned()),
        Just("client_credentials".to_owned()),
        Just("authorization_code".to_owned()),
        Just("a-long-secret-value-0123".to_owned()),
        input::text(),
    ]
}

fn oauth2_block() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("grant_type"),
                Just("accessTokenUrl"),
                Just("authUrl"),
                Just("clientId"),
                Just("clientSecret"),
                Just("scope"),
                Just("client_authentication"),
                Just("tokenRequestParams"),
                Just("redirect_uri"),
            ],
            fragment(),
        ),
        0..8,
    )
    .prop_map(|pairs| {
        json!({"type": "oauth2", "oauth2": pairs.into_iter()
            .map(|(k, v)| {
                // The marked secret only where a secret goes, so that seeing it is a leak.
                let v = if k == "clientSecret" { v } else { v.replace("secret-value", "value") };
                json!({"key": k, "value": v})
            })
            .collect::<Vec<_>>()})
    })
}

fn postman() -> impl Strategy<Value = String> {
    (oauth2_block(), oauth2_block(), prop::collection::vec(("v|w", fragment()), 0..3)).prop_map(
        |(top, inner, vars)| {
            json!({
                "info": {"name": "P", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
                "auth": top,
                // A variable may be used anywhere: no marked secret in one.
                "variable": vars.into_iter().map(|(k, v)| json!({"key": k, "value": v.replace("secret-value", "value")})).collect::<Vec<_>>(),
                "item": [{"name": "f", "auth": inner.clone(), "item": [{"name": "r", "request": {"auth": inner}}]}],
            })
            .to_string()
        },
    )
}

fn bru() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("auth {\n  mode: oauth2\n}\n".to_owned()),
            Just("auth:oauth2 {\n".to_owned()),
            Just("}\n".to_owned()),
            Just("vars:secret [\n  a\n]\n".to_owned()),
            fragment()
                .prop_map(|f| format!("  grant_type: {}\n", f.replace("secret-value", "value"))),
            fragment().prop_map(|f| format!(
                "  access_token_url: {}\n",
                f.replace("secret-value", "value")
            )),
            fragment().prop_map(|f| format!("  client_secret: {f}\n")),
            input::text(),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text(t in prop_oneof![
        input::text(),
        input::json_bytes(NAMES).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        text(&t);
    }

    #[test]
    fn any_postman_collection(t in postman()) {
        text_as(&t, None);
    }

    #[test]
    fn any_bru_file(t in bru()) {
        text_as(&t, Some(Format::Bruno));
    }

    #[test]
    fn any_openapi_schemes(
        schemes in input::object(NAMES),
        version in prop_oneof![Just(Value::from("3.0.3")), Just(Value::from("3.1.0")), input::leaf()],
    ) {
        text(&json!({"openapi": version, "components": {"securitySchemes": schemes}}).to_string());
    }
}
