//! OpenAPI 3.0, 3.1 (and 3.2) `components.securitySchemes`: each `oauth2` flow
//! (authorizationCode, clientCredentials, deviceAuthorization) becomes a profile with its
//! endpoints and scopes; `openIdConnect` becomes a profile that discovers its endpoints from the
//! issuer of `openIdConnectUrl`. A document names no client, so the client id comes from
//! `--client-id` (or the app's import dialog).

use serde_json::Value;

use super::{Block, Format, ImportPlan, Input, Planner, Style, Vars, text};
use crate::error::Result;

const DISCOVERY: &str = "/.well-known/openid-configuration";

pub fn plan(doc: &Value, input: &Input) -> Result<ImportPlan> {
    let mut planner = Planner::new(Format::Openapi, Style::Mustache, input);
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("OpenAPI");
    // Relative URLs are relative to the (first) server (OpenAPI 3 §4.7.4 / §4.8.27).
    let server = doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .and_then(|s| url::Url::parse(s).ok());
    let Some(schemes) = doc
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
    else {
        planner.warn("the document has no components.securitySchemes.");
        return Ok(planner.finish());
    };
    let vars = Vars::new();
    for (scheme_name, scheme) in schemes {
        let origin = format!("security scheme \"{scheme_name}\"");
        let name = format!("{title} / {scheme_name}");
        if scheme.get("$ref").is_some() {
            planner.warn(format!(
                "{origin}: a $ref scheme is not followed; inline it to import it."
            ));
            continue;
        }
        let absolute = |planner: &mut Planner, field: &str, url: Option<String>| {
            let url = url?;
            if url::Url::parse(&url).is_ok() {
                return Some(url);
            }
            match server.as_ref().and_then(|s| s.join(&url).ok()) {
                Some(u) => Some(u.to_string()),
                None => {
                    planner.warn(format!(
                        "{origin}: {field} \"{url}\" is relative and the document has no absolute \
                         server URL to resolve it against."
                    ));
                    Some(url)
                }
            }
        };
        match scheme.get("type").and_then(Value::as_str) {
            Some("oauth2") => {
                let Some(flows) = scheme.get("flows").and_then(Value::as_object) else {
                    planner.warn(format!("{origin}: an oauth2 scheme without flows."));
                    continue;
                };
                let several = flows.len() > 1;
                for (flow_name, flow) in flows {
                    let scopes: Vec<String> = flow
                        .get("scopes")
                        .and_then(Value::as_object)
                        .map(|s| s.keys().cloned().collect())
                        .unwrap_or_default();
                    let block = Block {
                        grant: flow_name.clone(),
                        auth_url: absolute(
                            &mut planner,
                            "authorizationUrl",
                            text(flow, "authorizationUrl"),
                        ),
                        token_url: absolute(&mut planner, "tokenUrl", text(flow, "tokenUrl")),
                        device_url: absolute(
                            &mut planner,
                            "deviceAuthorizationUrl",
                            text(flow, "deviceAuthorizationUrl"),
                        ),
                        refresh_url: absolute(&mut planner, "refreshUrl", text(flow, "refreshUrl")),
                        scopes,
                        secret_field: "client secret",
                        ..Block::default()
                    };
                    let (name, origin) = if several {
                        (
                            format!("{name} / {flow_name}"),
                            format!("{origin}, flow {flow_name}"),
                        )
                    } else {
                        (name.clone(), origin.clone())
                    };
                    planner.add(&block, &name, &origin, &vars);
                }
            }
            Some("openIdConnect") => {
                let Some(url) = absolute(
                    &mut planner,
                    "openIdConnectUrl",
                    text(scheme, "openIdConnectUrl"),
                ) else {
                    planner.warn(format!("{origin}: openIdConnect without openIdConnectUrl."));
                    continue;
                };
                let issuer = url.strip_suffix(DISCOVERY).map(str::to_owned).or_else(|| {
                    // RFC 8414 style: https://host/.well-known/openid-configuration/tenant
                    let (host, path) = url.split_once(DISCOVERY)?;
                    Some(format!("{host}{path}"))
                });
                let Some(issuer) = issuer else {
                    planner.warn(format!(
                        "{origin}: {url} is not an OpenID discovery URL (…{DISCOVERY}); not imported."
                    ));
                    continue;
                };
                let block = Block {
                    grant: "authorization_code".into(),
                    issuer: Some(issuer),
                    scopes: vec!["openid".into()],
                    secret_field: "client secret",
                    ..Block::default()
                };
                planner.add(&block, &name, &origin, &vars);
            }
            Some(other) => planner.warn(format!(
                "{origin}: a scheme of type {other}, not OAuth 2.0 or OpenID Connect; not imported."
            )),
            None => planner.warn(format!("{origin}: no type; not imported.")),
        }
    }
    Ok(planner.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{detect, parse_document};
    use crate::profile::GrantKind;

    #[test]
    fn flows_and_openid_connect_become_profiles() {
        let doc = parse_document(
            r#"
openapi: 3.1.0
info: {title: Petstore, version: "1"}
servers: [{url: "https://api.pets.example/v1/"}]
components:
  securitySchemes:
    petAuth:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: https://auth.pets.example/authorize
          tokenUrl: oauth/token
          scopes: {"pets:read": read, "pets:write": write}
        clientCredentials:
          tokenUrl: https://auth.pets.example/token
          scopes: {"pets:admin": admin}
        implicit:
          authorizationUrl: https://auth.pets.example/authorize
          scopes: {}
    oidc:
      type: openIdConnect
      openIdConnectUrl: https://id.pets.example/.well-known/openid-configuration
    key:
      type: apiKey
      in: header
      name: X-Key
"#,
        )
        .unwrap();
        assert_eq!(detect(&doc).unwrap(), Format::Openapi);
        let input = Input {
            client_id: Some("pets-client".into()),
            ..Input::default()
        };
        let plan = plan(&doc, &input).unwrap();
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let names: Vec<_> = plan
            .profiles
            .iter()
            .map(|p| p.config.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "Petstore / petAuth / authorizationCode",
                "Petstore / petAuth / clientCredentials",
                "Petstore / oidc"
            ]
        );
        let code = &plan.profiles[0].config;
        assert_eq!(code.grant, GrantKind::AuthorizationCode);
        assert_eq!(
            code.endpoints.token.as_deref(),
            Some("https://api.pets.example/v1/oauth/token"),
            "a relative tokenUrl is resolved against the server"
        );
        assert_eq!(code.scopes, ["pets:read", "pets:write"]);
        assert_eq!(code.client_id, "pets-client");
        assert_eq!(plan.profiles[1].config.scopes, ["pets:admin"]);
        let oidc = &plan.profiles[2].config;
        assert_eq!(oidc.issuer.as_deref(), Some("https://id.pets.example"));
        assert!(plan.warnings.iter().any(|w| w.contains("implicit")));
        assert!(plan.warnings.iter().any(|w| w.contains("apiKey")));

        let without_client = super::plan(&doc, &Input::default()).unwrap();
        assert!(
            without_client
                .errors
                .iter()
                .any(|e| e.contains("--client-id")),
            "{:?}",
            without_client.errors
        );
    }

    #[test]
    fn old_versions_are_named() {
        let swagger = parse_document("swagger: '2.0'\ninfo: {title: x}\n").unwrap();
        assert!(
            detect(&swagger)
                .unwrap_err()
                .message
                .contains("OpenAPI 2.0")
        );
        let v2 = parse_document(r#"{"openapi": "2.5"}"#).unwrap();
        assert!(detect(&v2).unwrap_err().message.contains("OpenAPI 2.5"));
    }
}
