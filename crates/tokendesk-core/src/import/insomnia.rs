//! Insomnia exports: v4 JSON (`_type: export`, `__export_format: 4`, a flat `resources` list
//! linked by `parentId`) and v5 YAML (`type: collection.insomnia.rest/5.0`, a nested
//! `collection`). `authentication.type: oauth2` on requests and request groups (folders); a
//! request or folder with no authentication (or `inherit`) takes its parent's. `{{ _.var }}`
//! comes from the folder's environment, else the chosen sub-environment, else the base one.

use std::collections::HashSet;

use serde_json::Value;

use super::{
    Auth, Block, Format, ImportPlan, Input, Node, NodeKind, Planner, Style, Vars, flatten, text,
};
use crate::error::{Error, ErrorCode, Result};

pub fn plan(doc: &Value, input: &Input) -> Result<ImportPlan> {
    let mut planner = Planner::new(Format::Insomnia, Style::Nunjucks, input);
    let roots = if doc.get("_type").is_some() {
        v4(doc, input, &mut planner)?
    } else {
        vec![v5(doc, input, &mut planner)?]
    };
    for root in &roots {
        planner.walk(root, &Vars::new());
    }
    Ok(planner.finish())
}

/// The base environment's variables overridden by the chosen sub-environment's.
fn choose_environment(
    base: Option<&Value>,
    subs: &[(String, &Value)],
    input: &Input,
    planner: &mut Planner,
) -> Result<Vec<(String, String)>> {
    let mut vars = base.map(flatten).unwrap_or_default();
    match &input.environment {
        Some(wanted) => {
            let Some((name, data)) = subs.iter().find(|(n, _)| n == wanted) else {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "no sub-environment named \"{wanted}\" (the file has: {}).",
                        if subs.is_empty() {
                            "none".to_owned()
                        } else {
                            subs.iter()
                                .map(|(n, _)| format!("\"{n}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                ));
            };
            planner.set_environment(name);
            vars.extend(flatten(data));
        }
        None if !subs.is_empty() => planner.warn(format!(
            "variables come from the base environment only; choose a sub-environment with \
             --environment NAME ({}).",
            subs.iter()
                .map(|(n, _)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => {}
    }
    Ok(vars)
}

fn v4(doc: &Value, input: &Input, planner: &mut Planner) -> Result<Vec<Node>> {
    let resources: Vec<&Value> = doc
        .get("resources")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let of_type = |t: &'static str| {
        resources
            .iter()
            .copied()
            .filter(move |r| r.get("_type").and_then(Value::as_str) == Some(t))
    };
    let mut roots = Vec::new();
    for ws in of_type("workspace") {
        let ws_id = text(ws, "_id").unwrap_or_default();
        let mut root = Node::new(
            text(ws, "name").unwrap_or_else(|| "Insomnia".into()),
            NodeKind::Collection,
        );
        let base = of_type("environment").find(|e| text(e, "parentId").as_deref() == Some(&ws_id));
        let base_id = base.and_then(|b| text(b, "_id"));
        let subs: Vec<(String, &Value)> = of_type("environment")
            .filter(|e| base_id.is_some() && text(e, "parentId") == base_id)
            .filter_map(|e| Some((text(e, "name")?, e.get("data")?)))
            .collect();
        root.vars = choose_environment(base.and_then(|b| b.get("data")), &subs, input, planner)?;
        root.children = v4_children(&resources, &ws_id, &mut HashSet::new());
        roots.push(root);
    }
    if roots.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "this Insomnia export has no workspace: export a collection from Insomnia.",
        ));
    }
    Ok(roots)
}

/// The children of `parent`; each folder is read once, so a loop of parentIds ends.
fn v4_children(resources: &[&Value], parent: &str, seen: &mut HashSet<String>) -> Vec<Node> {
    if !seen.insert(parent.to_owned()) || seen.len() > resources.len() + 1 {
        return Vec::new();
    }
    let mut children: Vec<&Value> = resources
        .iter()
        .copied()
        .filter(|r| text(r, "parentId").as_deref() == Some(parent))
        .collect();
    children.sort_by(|a, b| {
        let key = |v: &Value| v.get("metaSortKey").and_then(Value::as_f64).unwrap_or(0.0);
        key(a).total_cmp(&key(b))
    });
    children
        .into_iter()
        .filter_map(|r| {
            let name = text(r, "name").unwrap_or_else(|| "(unnamed)".into());
            match r.get("_type").and_then(Value::as_str)? {
                "request_group" => {
                    let mut folder = Node::new(name, NodeKind::Folder);
                    folder.auth = auth(r.get("authentication"));
                    folder.vars = r.get("environment").map(flatten).unwrap_or_default();
                    folder.children =
                        v4_children(resources, &text(r, "_id").unwrap_or_default(), seen);
                    Some(folder)
                }
                "request" | "grpc_request" | "websocket_request" => {
                    let mut request = Node::new(name, NodeKind::Request);
                    request.auth = auth(r.get("authentication"));
                    Some(request)
                }
                _ => None,
            }
        })
        .collect()
}

fn v5(doc: &Value, input: &Input, planner: &mut Planner) -> Result<Node> {
    let mut root = Node::new(
        text(doc, "name").unwrap_or_else(|| "Insomnia".into()),
        NodeKind::Collection,
    );
    let envs = doc.get("environments");
    let subs: Vec<(String, &Value)> = envs
        .and_then(|e| e.get("subEnvironments"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((text(e, "name")?, e.get("data")?)))
        .collect();
    root.vars = choose_environment(envs.and_then(|e| e.get("data")), &subs, input, planner)?;
    root.auth = auth(doc.get("authentication"));
    root.children = v5_children(doc.get("collection"));
    Ok(root)
}

fn v5_children(list: Option<&Value>) -> Vec<Node> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| {
            let name = text(item, "name").unwrap_or_else(|| "(unnamed)".into());
            if item.get("children").is_some() {
                let mut folder = Node::new(name, NodeKind::Folder);
                folder.auth = auth(item.get("authentication"));
                folder.vars = item.get("environment").map(flatten).unwrap_or_default();
                folder.children = v5_children(item.get("children"));
                folder
            } else {
                let mut request = Node::new(name, NodeKind::Request);
                request.auth = auth(item.get("authentication"));
                request
            }
        })
        .collect()
}

fn auth(value: Option<&Value>) -> Auth {
    let Some(value) = value.filter(|v| v.as_object().is_some_and(|o| !o.is_empty())) else {
        return Auth::Inherit;
    };
    match value.get("type").and_then(Value::as_str) {
        None | Some("inherit") => Auth::Inherit,
        Some("none") => Auth::None,
        Some("oauth2") => Auth::OAuth2(Box::new(block(value))),
        Some(_) => Auth::Other,
    }
}

fn block(v: &Value) -> Block {
    let mut b = Block {
        grant: text(v, "grantType").unwrap_or_else(|| "authorization_code".into()),
        auth_url: text(v, "authorizationUrl"),
        token_url: text(v, "accessTokenUrl"),
        client_id: text(v, "clientId"),
        client_secret: text(v, "clientSecret"),
        secret_field: "clientSecret",
        scope: text(v, "scope"),
        redirect_uri: text(v, "redirectUrl"),
        audience: text(v, "audience"),
        resource: text(v, "resource"),
        state: text(v, "state"),
        disabled: v.get("disabled").and_then(Value::as_bool) == Some(true),
        secret_in_body: v.get("credentialsInBody").and_then(Value::as_bool),
        ..Block::default()
    };
    if v.get("usePkce").and_then(Value::as_bool) == Some(true) {
        b.pkce_method = text(v, "pkceMethod");
    }
    for key in ["username", "password"] {
        if text(v, key).is_some_and(|s| !s.is_empty()) {
            b.ignored.push(format!(
                "{key} is not imported: TokenDesk asks for no user password."
            ));
        }
    }
    if text(v, "origin").is_some_and(|s| !s.is_empty()) {
        b.ignored
            .push("the Origin header setting is not imported.".into());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_document;
    use crate::profile::{AuthMethod, GrantKind};
    use serde_json::json;

    #[test]
    fn v4_folder_auth_is_inherited_and_environments_resolve() {
        let doc = json!({
            "_type": "export", "__export_format": 4, "__export_source": "insomnia.desktop.app:v8.6.1",
            "resources": [
                {"_id": "wrk_1", "_type": "workspace", "name": "Bank", "scope": "collection"},
                {"_id": "env_base", "_type": "environment", "parentId": "wrk_1", "name": "Base Environment",
                 "data": {"idp": {"host": "https://idp.example"}, "clientId": "bank-app"}},
                {"_id": "env_dev", "_type": "environment", "parentId": "env_base", "name": "Dev",
                 "data": {"idp": {"host": "https://dev-idp.example"}}},
                {"_id": "fld_1", "_type": "request_group", "parentId": "wrk_1", "name": "Accounts",
                 "authentication": {"type": "oauth2", "grantType": "client_credentials",
                   "accessTokenUrl": "{{ _.idp.host }}/token", "clientId": "{{ _.clientId }}",
                   "clientSecret": "lit-secret", "credentialsInBody": true, "scope": "accounts"}},
                {"_id": "req_1", "_type": "request", "parentId": "fld_1", "name": "List", "authentication": {}},
                {"_id": "req_2", "_type": "request", "parentId": "fld_1", "name": "Mine",
                 "authentication": {"type": "bearer", "token": "x"}},
            ]
        });
        let base = plan(&doc, &Input::default()).unwrap();
        assert!(
            base.warnings.iter().any(|w| w.contains("\"Dev\"")),
            "{:?}",
            base.warnings
        );
        let p = &base.profiles[0];
        assert_eq!(p.config.name, "Bank / Accounts");
        assert_eq!(
            p.config.endpoints.token.as_deref(),
            Some("https://idp.example/token")
        );
        assert_eq!(p.config.client_id, "bank-app");
        assert_eq!(p.config.auth_method, AuthMethod::ClientSecretPost);
        assert_eq!(p.config.grant, GrantKind::ClientCredentials);
        assert_eq!(p.used_by, ["Bank / Accounts / List"]);
        assert_eq!(p.secret.as_ref().unwrap().value.expose(), "lit-secret");

        let dev = plan(
            &doc,
            &Input {
                environment: Some("Dev".into()),
                ..Input::default()
            },
        )
        .unwrap();
        assert_eq!(
            dev.profiles[0].config.endpoints.token.as_deref(),
            Some("https://dev-idp.example/token")
        );
        let missing = plan(
            &doc,
            &Input {
                environment: Some("Prod".into()),
                ..Input::default()
            },
        );
        assert!(missing.unwrap_err().message.contains("\"Dev\""));
    }

    #[test]
    fn v5_yaml_requests_and_folders() {
        let doc = parse_document(
            r#"
type: collection.insomnia.rest/5.0
name: Shop
meta:
  id: wrk_1
collection:
  - name: Admin
    meta:
      id: fld_1
    authentication:
      type: oauth2
      grantType: authorization_code
      authorizationUrl: "{{ _.base }}/authorize"
      accessTokenUrl: "{{ _.base }}/token"
      clientId: admin
      redirectUrl: http://127.0.0.1:8765/callback
      usePkce: true
      pkceMethod: S256
      scope: openid profile
    children:
      - url: "{{ _.base }}/users"
        name: Users
        meta:
          id: req_1
        method: GET
  - url: "{{ _.base }}/implicit"
    name: Old
    meta:
      id: req_2
    authentication:
      type: oauth2
      grantType: implicit
      authorizationUrl: "{{ _.base }}/authorize"
      clientId: old
environments:
  name: Base Environment
  meta:
    id: env_1
  data:
    base: https://shop.example
"#,
        )
        .unwrap();
        assert_eq!(crate::import::detect(&doc).unwrap(), Format::Insomnia);
        let plan = plan(&doc, &Input::default()).unwrap();
        assert_eq!(plan.profiles.len(), 1);
        let p = &plan.profiles[0];
        assert_eq!(p.config.name, "Shop / Admin");
        assert_eq!(
            p.config.endpoints.authorization.as_deref(),
            Some("https://shop.example/authorize")
        );
        assert_eq!(p.config.scopes, ["openid", "profile"]);
        assert_eq!(p.config.auth_method, AuthMethod::None);
        assert_eq!(p.used_by, ["Shop / Admin / Users"]);
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains("Old") && w.contains("implicit"))
        );
    }

    #[test]
    fn a_loop_of_parents_ends() {
        let doc = json!({
            "_type": "export", "__export_format": 4,
            "resources": [
                {"_id": "wrk", "_type": "workspace", "name": "W"},
                {"_id": "a", "_type": "request_group", "parentId": "wrk", "name": "A"},
                {"_id": "a", "_type": "request_group", "parentId": "a", "name": "A again"},
                {"_id": "a", "_type": "request_group", "parentId": "a", "name": "A once more"},
                {"_id": "wrk", "_type": "request_group", "parentId": "a", "name": "Back to the top"},
            ]
        });
        let plan = plan(&doc, &Input::default()).unwrap();
        assert!(plan.profiles.is_empty());
    }
}
