//! Postman collections v2.1 (schema.getpostman.com/json/collection/v2.1.0) and environment
//! files. OAuth 2.0 `auth` blocks at the collection, a folder or a request; a request or folder
//! without `auth` (or with `"type": "inherit"`) takes its parent's, `noauth` takes none.
//! `{{var}}` comes from the environment, else the collection's variables.

use std::path::Path;

use serde_json::Value;

use super::{Auth, Block, Format, ImportPlan, Input, Node, NodeKind, Planner, Style, Vars, text};
use crate::error::{Error, ErrorCode, Result};

pub fn plan(doc: &Value, input: &Input) -> Result<ImportPlan> {
    let mut planner = Planner::new(Format::Postman, Style::Mustache, input);
    let mut root = Node::new(
        doc.pointer("/info/name")
            .and_then(Value::as_str)
            .unwrap_or("Postman collection"),
        NodeKind::Collection,
    );
    root.auth = auth(doc.get("auth"));
    root.vars = variables(doc.get("variable"));
    root.children = items(doc.get("item"));
    if let Some(env) = &input.environment {
        let (name, values) = environment(Path::new(env))?;
        planner.set_environment(&name);
        // The environment wins over the collection's variables, as in Postman.
        let mut layer = root.vars.clone();
        layer.extend(values);
        root.vars = layer;
    }
    planner.walk(&root, &Vars::new());
    Ok(planner.finish())
}

/// An environment file's name and enabled values.
pub fn environment(path: &Path) -> Result<(String, Vec<(String, String)>)> {
    let text = super::read_file(path)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{}: not a Postman environment: it is not JSON ({e}).",
                path.display()
            ),
        )
    })?;
    let Some(values) = doc.get("values").and_then(Value::as_array) else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{}: not a Postman environment (no \"values\" list): export the environment \
                 from Postman (Environments → … → Export).",
                path.display()
            ),
        ));
    };
    let name = text_of(&doc, "name").unwrap_or_default();
    let values = values
        .iter()
        .filter(|v| v.get("enabled").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| Some((text_of(v, "key")?, text_of(v, "value").unwrap_or_default())))
        .collect();
    Ok((name, values))
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    text(v, key)
}

/// A `variable` list: the enabled ones.
fn variables(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("disabled").and_then(Value::as_bool) != Some(true))
        .filter_map(|v| Some((text(v, "key")?, text(v, "value").unwrap_or_default())))
        .collect()
}

fn items(list: Option<&Value>) -> Vec<Node> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| {
            let name = text(item, "name").unwrap_or_else(|| "(unnamed)".into());
            if item.get("item").is_some() {
                let mut folder = Node::new(name, NodeKind::Folder);
                folder.auth = auth(item.get("auth"));
                folder.vars = variables(item.get("variable"));
                folder.children = items(item.get("item"));
                folder
            } else {
                let mut request = Node::new(name, NodeKind::Request);
                request.auth = auth(item.pointer("/request/auth"));
                request.vars = variables(item.get("variable"));
                request
            }
        })
        .collect()
}

fn auth(value: Option<&Value>) -> Auth {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Auth::Inherit;
    };
    match value.get("type").and_then(Value::as_str) {
        None | Some("inherit") => Auth::Inherit,
        Some("noauth") => Auth::None,
        Some("oauth2") => Auth::OAuth2(Box::new(block(value.get("oauth2")))),
        Some(_) => Auth::Other,
    }
}

/// The settings of an `oauth2` block: v2.1's list of `{key, value}`, or an object.
fn settings(value: Option<&Value>) -> Vec<(String, Value)> {
    match value {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|kv| {
                Some((
                    kv.get("key")?.as_str()?.to_owned(),
                    kv.get("value").cloned().unwrap_or(Value::Null),
                ))
            })
            .collect(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => Vec::new(),
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where a Postman extra parameter goes (`send_as`), and whether it is on.
fn params(v: &Value, block: &mut Block, token: bool, refresh: bool) {
    for p in v.as_array().into_iter().flatten() {
        if p.get("enabled").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let (Some(key), Some(value)) = (text(p, "key"), p.get("value").and_then(as_text)) else {
            continue;
        };
        if refresh {
            if !block
                .ignored
                .iter()
                .any(|i| i.starts_with("refresh request parameters"))
            {
                block.ignored.push(
                    "refresh request parameters are not imported; TokenDesk refreshes with the \
                     token request's parameters."
                        .into(),
                );
            }
            continue;
        }
        match key.as_str() {
            "audience" => block.audience = Some(value),
            "resource" => block.resource = Some(value),
            _ if !token => block.authorize_params.push((key, value)),
            _ => match text(p, "send_as").as_deref() {
                Some("request_header") => block.token_headers.push((key, value)),
                Some("request_url") => {
                    block.ignored.push(format!(
                        "token request parameter {key} is sent in the URL by Postman; TokenDesk \
                         sends it in the form body."
                    ));
                    block.token_params.push((key, value));
                }
                _ => block.token_params.push((key, value)),
            },
        }
    }
}

fn block(value: Option<&Value>) -> Block {
    let mut b = Block {
        grant: "authorization_code".into(),
        secret_field: "clientSecret",
        ..Block::default()
    };
    for (key, value) in settings(value) {
        let s = as_text(&value);
        match key.as_str() {
            "grant_type" => b.grant = s.unwrap_or_default(),
            "authUrl" => b.auth_url = s,
            "accessTokenUrl" => b.token_url = s,
            "refreshTokenUrl" => b.refresh_url = s,
            "clientId" => b.client_id = s,
            "clientSecret" => b.client_secret = s,
            "scope" => b.scope = s,
            // Postman's own callback page (with "Authorize using browser") is no place TokenDesk
            // can receive a code: its loopback listener takes the place.
            "redirect_uri" if s.as_deref().is_some_and(|u| u.contains("oauth.pstmn.io")) => {
                b.ignored.push(format!(
                    "the redirect URI {} is Postman's own callback page; TokenDesk uses its \
                     loopback listener (http://127.0.0.1:PORT/callback) instead: register that \
                     redirect with the provider, or set a redirect URI in the profile.",
                    s.as_deref().unwrap_or_default()
                ))
            }
            "redirect_uri" => b.redirect_uri = s,
            "state" => b.state = s,
            "challengeAlgorithm" => b.pkce_method = s,
            "client_authentication" => b.secret_in_body = Some(s.as_deref() == Some("body")),
            "audience" => b.audience = s,
            "resource" => b.resource = s,
            "authRequestParams" => params(&value, &mut b, false, false),
            "tokenRequestParams" => params(&value, &mut b, true, false),
            "refreshRequestParams" => params(&value, &mut b, true, true),
            "accessToken" | "refreshToken" | "id_token" | "password" | "username"
                if s.as_deref().is_some_and(|s| !s.is_empty()) =>
            {
                b.ignored.push(format!(
                    "{key} is not imported: TokenDesk gets its own tokens and asks for no \
                     user password."
                ))
            }
            // How Postman presents or places the token, or its own UI state: nothing to import.
            "tokenName"
            | "addTokenTo"
            | "headerPrefix"
            | "useBrowser"
            | "tokenType"
            | "code_verifier"
            | "accessToken"
            | "refreshToken"
            | "id_token"
            | "password"
            | "username"
            | "tokenId"
            | "tokenRequestParamsEnabled"
            | "authRequestParamsEnabled"
            | "refreshRequestParamsEnabled"
            | "timestamp"
            | "expires_in"
            | "tokens"
            | "autoRefresh"
            | "autoFetch" => {}
            other => b
                .ignored
                .push(format!("the setting {other} is not imported.")),
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{AuthMethod, GrantKind};
    use serde_json::json;

    fn kv(pairs: &[(&str, &str)]) -> Value {
        Value::Array(
            pairs
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v, "type": "string"}))
                .collect(),
        )
    }

    fn collection() -> Value {
        json!({
            "info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "auth": {"type": "oauth2", "oauth2": kv(&[
                ("grant_type", "client_credentials"),
                ("accessTokenUrl", "{{base}}/token"),
                ("clientId", "{{clientId}}"),
                ("clientSecret", "{{clientSecret}}"),
                ("client_authentication", "body"),
                ("scope", "api:read api:write"),
                ("tokenName", "shop"),
            ])},
            "variable": [{"key": "base", "value": "https://auth.example"}, {"key": "clientId", "value": "shop-app"}],
            "item": [
                {"name": "Orders", "item": [
                    {"name": "List", "request": {"method": "GET", "url": "{{base}}/orders"}},
                    {"name": "Public", "request": {"method": "GET", "auth": {"type": "noauth"}}},
                ]},
                {"name": "Admin", "auth": {"type": "oauth2", "oauth2": kv(&[
                    ("grant_type", "authorization_code_with_pkce"),
                    ("authUrl", "{{base}}/authorize"),
                    ("accessTokenUrl", "{{base}}/token"),
                    ("clientId", "admin-app"),
                    ("redirect_uri", "http://127.0.0.1:8765/callback"),
                    ("challengeAlgorithm", "S256"),
                    ("scope", "openid admin"),
                ])}, "item": [
                    {"name": "Users", "request": {"method": "GET"}},
                    {"name": "Legacy", "request": {"auth": {"type": "oauth2", "oauth2": kv(&[
                        ("grant_type", "password_credentials"),
                        ("accessTokenUrl", "{{base}}/token"),
                        ("clientId", "x"),
                    ])}}},
                ]},
            ]
        })
    }

    #[test]
    fn collection_and_folder_auth_with_inheritance() {
        let plan = plan(&collection(), &Input::default()).unwrap();
        let names: Vec<_> = plan
            .profiles
            .iter()
            .map(|p| p.config.name.as_str())
            .collect();
        assert_eq!(names, ["Shop", "Shop / Admin"]);
        let shop = &plan.profiles[0];
        assert_eq!(shop.config.grant, GrantKind::ClientCredentials);
        assert_eq!(
            shop.config.endpoints.token.as_deref(),
            Some("https://auth.example/token")
        );
        assert_eq!(shop.config.client_id, "shop-app");
        assert_eq!(shop.config.auth_method, AuthMethod::ClientSecretPost);
        assert_eq!(shop.config.scopes, ["api:read", "api:write"]);
        assert_eq!(
            shop.used_by,
            ["Shop / Orders / List"],
            "noauth requests use nothing"
        );
        assert!(
            shop.secret.is_none(),
            "an unresolved secret is not a secret found"
        );
        assert!(
            plan.warnings.iter().any(|w| w.contains("{{clientSecret}}")),
            "{:?}",
            plan.warnings
        );
        let admin = &plan.profiles[1];
        assert_eq!(admin.config.grant, GrantKind::AuthorizationCode);
        assert_eq!(
            admin.config.auth_method,
            AuthMethod::None,
            "no secret: a public client"
        );
        assert_eq!(admin.used_by, ["Shop / Admin / Users"]);
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("Legacy") && w.contains("password")),
            "the password grant is reported: {:?}",
            plan.warnings
        );
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    }

    #[test]
    fn the_environment_wins_and_its_secret_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("env.json");
        std::fs::write(
            &env,
            json!({"name": "staging", "_postman_variable_scope": "environment", "values": [
                {"key": "base", "value": "https://staging.example", "enabled": true},
                {"key": "clientSecret", "value": "s3cr3t", "type": "secret", "enabled": true},
                {"key": "clientId", "value": "off", "enabled": false},
            ]})
            .to_string(),
        )
        .unwrap();
        let input = Input {
            environment: Some(env.display().to_string()),
            ..Input::default()
        };
        let plan = plan(&collection(), &input).unwrap();
        let shop = &plan.profiles[0];
        assert_eq!(
            shop.config.endpoints.token.as_deref(),
            Some("https://staging.example/token")
        );
        assert_eq!(
            shop.config.client_id, "shop-app",
            "a disabled value is not used"
        );
        assert_eq!(shop.config.environment, "staging");
        let secret = shop.secret.as_ref().expect("the environment's secret");
        assert_eq!(secret.value.expose(), "s3cr3t");
        assert_eq!(secret.field, "clientSecret");
        assert!(
            !plan.describe().contains("s3cr3t"),
            "the plan never shows a secret"
        );
        assert!(
            !serde_json::to_string(&plan.summary())
                .unwrap()
                .contains("s3cr3t")
        );
    }

    #[test]
    fn identical_request_blocks_make_one_profile() {
        let auth = json!({"type": "oauth2", "oauth2": kv(&[
            ("grant_type", "client_credentials"),
            ("accessTokenUrl", "https://a.example/token"),
            ("clientId", "c"),
        ])});
        let doc = json!({
            "info": {"name": "C", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [
                {"name": "a", "request": {"auth": auth}},
                {"name": "b", "request": {"auth": auth}},
            ]
        });
        let plan = plan(&doc, &Input::default()).unwrap();
        assert_eq!(plan.profiles.len(), 1);
        assert_eq!(plan.profiles[0].config.name, "C / a");
        assert_eq!(plan.profiles[0].used_by, ["C / a", "C / b"]);
    }

    #[test]
    fn postmans_own_callback_is_not_a_redirect() {
        let doc = json!({
            "info": {"name": "C", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "auth": {"type": "oauth2", "oauth2": kv(&[
                ("authUrl", "https://a.example/authorize"),
                ("accessTokenUrl", "https://a.example/token"),
                ("clientId", "c"),
                ("redirect_uri", "https://oauth.pstmn.io/v1/callback"),
                ("useBrowser", "true"),
            ])},
        });
        let plan = plan(&doc, &Input::default()).unwrap();
        assert_eq!(
            plan.profiles[0].config.redirect_uri, None,
            "the loopback listener instead"
        );
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("oauth.pstmn.io") && w.contains("loopback"))
        );
    }

    #[test]
    fn an_empty_block_is_skipped_not_an_error() {
        let doc = json!({
            "info": {"name": "C", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [{"name": "half", "request": {"auth": {"type": "oauth2", "oauth2": kv(&[("clientId", "c")])}}}],
        });
        let plan = plan(&doc, &Input::default()).unwrap();
        assert!(plan.profiles.is_empty() && plan.errors.is_empty());
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("half") && w.contains("access token URL"))
        );
    }
}
