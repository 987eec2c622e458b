//! Importing what users already have: Postman collections (v2.1) and environments, Insomnia
//! exports (v4 JSON, v5 YAML), Bruno collections (`.bru`) and OpenAPI 3.x security schemes.
//!
//! Each format reads into an [`ImportPlan`]: the profiles it will create (named after where
//! their OAuth 2.0 settings are defined, `collection / folder / request`, one per distinct
//! setting), the client secrets the file holds (kept as [`Sensitive`], never printed), warnings
//! (an unresolved variable, a grant TokenDesk does not run, a setting it ignores) and errors (a
//! profile that would not be valid). Nothing is stored while planning; `Core::import_profiles`
//! creates all the planned profiles or none.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::profile::{AuthMethod, GrantKind, Param, ProfileConfig, export};
use crate::secret::Sensitive;

pub mod bruno;
pub mod insomnia;
pub mod openapi;
pub mod postman;
mod vars;

pub use vars::{Style, Vars};

/// The file formats TokenDesk imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// TokenDesk's own export (`tokendesk profile export`).
    Tokendesk,
    Postman,
    Insomnia,
    Bruno,
    Openapi,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Tokendesk => "TokenDesk export",
            Format::Postman => "Postman collection v2.1",
            Format::Insomnia => "Insomnia export",
            Format::Bruno => "Bruno collection",
            Format::Openapi => "OpenAPI document",
        }
    }
}

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The file (or, for Bruno, the collection folder).
    pub path: PathBuf,
    /// `None`: told by the content.
    pub format: Option<Format>,
    /// Which environment: a Postman environment file, a Bruno environment (a file or its name
    /// in the collection's `environments/`), an Insomnia sub-environment's name.
    pub environment: Option<String>,
    /// The client id of profiles the file names none for (OpenAPI documents name none).
    pub client_id: Option<String>,
}

/// A client secret found in the file.
#[derive(Debug)]
pub struct FoundSecret {
    /// Which setting of the file held it (`clientSecret`, `client_secret`).
    pub field: String,
    pub value: Sensitive<String>,
}

/// One profile an import will create.
#[derive(Debug)]
pub struct PlannedProfile {
    pub config: ProfileConfig,
    /// Where its settings are defined (`folder "Shop / Admin"`).
    pub origin: String,
    /// The requests that use it (directly or inherited), by path.
    pub used_by: Vec<String>,
    pub secret: Option<FoundSecret>,
}

/// What an import will create, what it found and what it could not take.
#[derive(Debug)]
pub struct ImportPlan {
    pub format: Format,
    pub profiles: Vec<PlannedProfile>,
    pub warnings: Vec<String>,
    /// Problems that stop the import: it creates nothing while there is one.
    pub errors: Vec<String>,
}

/// A plan as shown (`--dry-run`, `--json`, the app): no secret values, only where they were.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub format: Format,
    pub profiles: Vec<PlannedSummary>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedSummary {
    pub name: String,
    pub origin: String,
    pub used_by: Vec<String>,
    /// The setting that held a client secret, when the file had one.
    pub secret_found: Option<String>,
    pub config: ProfileConfig,
}

impl ImportPlan {
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            format: self.format,
            profiles: self
                .profiles
                .iter()
                .map(|p| PlannedSummary {
                    name: p.config.name.clone(),
                    origin: p.origin.clone(),
                    used_by: p.used_by.clone(),
                    secret_found: p.secret.as_ref().map(|s| s.field.clone()),
                    config: p.config.clone(),
                })
                .collect(),
            warnings: self.warnings.clone(),
            errors: self.errors.clone(),
        }
    }

    /// The plan as lines for a terminal.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{}: {} profile{} to create\n",
            self.format.label(),
            self.profiles.len(),
            if self.profiles.len() == 1 { "" } else { "s" }
        );
        for p in &self.profiles {
            let c = &p.config;
            out.push_str(&format!(
                "  + \"{}\" ({}; {}, client id {})\n",
                c.name,
                p.origin,
                c.grant.as_str(),
                if c.client_id.is_empty() {
                    "missing"
                } else {
                    &c.client_id
                }
            ));
            if let Some(issuer) = &c.issuer {
                out.push_str(&format!("      issuer: {issuer}\n"));
            }
            if let Some(u) = &c.endpoints.authorization {
                out.push_str(&format!("      authorization endpoint: {u}\n"));
            }
            if let Some(u) = &c.endpoints.device_authorization {
                out.push_str(&format!("      device authorization endpoint: {u}\n"));
            }
            if let Some(u) = &c.endpoints.token {
                out.push_str(&format!("      token endpoint: {u}\n"));
            }
            if !c.scopes.is_empty() {
                out.push_str(&format!("      scopes: {}\n", c.scopes.join(" ")));
            }
            out.push_str(&format!("      client auth: {}\n", c.auth_method.as_str()));
            if let Some(s) = &p.secret {
                out.push_str(&format!(
                    "      client secret: found in {} (goes to the OS keychain, never to a file)\n",
                    s.field
                ));
            }
            if !p.used_by.is_empty() {
                out.push_str(&format!("      used by: {}\n", p.used_by.join(", ")));
            }
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        for e in &self.errors {
            out.push_str(&format!("error: {e}\n"));
        }
        out
    }
}

/// Reads a file (or a Bruno collection folder) into a plan. A file TokenDesk cannot read, or
/// of a format or version it does not import, is an error naming the file and what to do.
pub fn plan(input: &Input) -> Result<ImportPlan> {
    let path = &input.path;
    let shown = path.display().to_string();
    let in_file = |mut e: Error| {
        e.message = format!("{shown}: {}", e.message);
        e
    };
    if path.is_dir() || path.extension().is_some_and(|e| e == "bru") {
        if let Some(f) = input.format.filter(|f| *f != Format::Bruno) {
            return Err(in_file(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "a folder or .bru file is a Bruno collection, not a {}.",
                    f.label()
                ),
            )));
        }
        return bruno::plan(path, input).map_err(in_file);
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorCode::NotFound,
            format!("Cannot read {shown}: {e}. Check the path."),
        )
    })?;
    plan_text(&text, input).map_err(in_file)
}

/// Plans an import from a file's text (any format but a Bruno folder).
pub fn plan_text(text: &str, input: &Input) -> Result<ImportPlan> {
    if input.format == Some(Format::Bruno) {
        return bruno::plan_file_text(text, input);
    }
    let doc = parse_document(text)?;
    let format = match (input.format, detect(&doc)) {
        (None, found) => found?,
        (Some(f), Ok(found)) if found != f => {
            return Err(wrong(format!(
                "the file is a {}, while --format says {}: leave --format out, or name the \
                 right file.",
                found.label(),
                f.label()
            )));
        }
        (Some(f), _) => f,
    };
    if input.environment.is_some() && matches!(format, Format::Tokendesk | Format::Openapi) {
        let mut plan = plan_format(text, &doc, format, input)?;
        plan.warnings.push(format!(
            "an environment is not used: a {} has no variables.",
            format.label()
        ));
        return Ok(plan);
    }
    plan_format(text, &doc, format, input)
}

fn plan_format(text: &str, doc: &Value, format: Format, input: &Input) -> Result<ImportPlan> {
    match format {
        Format::Tokendesk => {
            let configs = export::read(text)?;
            Ok(ImportPlan {
                format,
                profiles: configs
                    .into_iter()
                    .map(|config| PlannedProfile {
                        config,
                        origin: "TokenDesk export".into(),
                        used_by: Vec::new(),
                        secret: None,
                    })
                    .collect(),
                warnings: Vec::new(),
                errors: Vec::new(),
            })
        }
        Format::Postman => postman::plan(doc, input),
        Format::Insomnia => insomnia::plan(doc, input),
        Format::Openapi => openapi::plan(doc, input),
        Format::Bruno => bruno::plan_file_text(text, input),
    }
}

/// JSON, else YAML, as a JSON value.
pub(crate) fn parse_document(text: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let looks_json = text.trim_start().starts_with(['{', '[']);
            serde_norway::from_str::<Value>(text).map_err(|yaml_err| {
                Error::new(
                    ErrorCode::InvalidInput,
                    if looks_json {
                        format!("not valid JSON ({json_err}).")
                    } else {
                        format!(
                            "neither JSON nor YAML ({yaml_err}). Import a Postman, Insomnia, \
                             OpenAPI or TokenDesk export file, or a Bruno collection folder."
                        )
                    },
                )
            })
        }
    }
}

fn wrong(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidInput, message)
}

/// The format of a document, by its content; a known format in a version TokenDesk does not
/// read is an error saying how to export the one it does.
pub fn detect(doc: &Value) -> Result<Format> {
    let s = |key: &str| doc.get(key).and_then(Value::as_str);
    if s("format").is_some_and(|f| f.starts_with("tokendesk-profiles/")) {
        return Ok(Format::Tokendesk);
    }
    if let Some(schema) = doc.pointer("/info/schema").and_then(Value::as_str) {
        if schema.contains("/collection/v2.1") {
            return Ok(Format::Postman);
        }
        if schema.contains("/collection/v2.0") {
            return Err(wrong(
                "Postman collection v2.0 is not supported: export as v2.1 from Postman \
                 (Collection → Export → v2.1).",
            ));
        }
        if schema.contains("getpostman.com") || schema.contains("postman") {
            return Err(wrong(format!(
                "Postman collection schema {schema} is not supported: export as v2.1 from \
                 Postman (Collection → Export → v2.1)."
            )));
        }
    }
    if doc.get("requests").is_some() && doc.get("order").is_some() {
        return Err(wrong(
            "Postman collection v1 is not supported: open it in Postman and export as v2.1 \
             (Collection → Export → v2.1).",
        ));
    }
    if doc.get("_postman_variable_scope").is_some() {
        return Err(wrong(
            "this is a Postman environment, not a collection: import the collection and name \
             this file with --environment.",
        ));
    }
    if s("_type") == Some("export") {
        return match doc.get("__export_format").and_then(Value::as_u64) {
            Some(4) => Ok(Format::Insomnia),
            other => Err(wrong(format!(
                "Insomnia export format {} is not supported: export again from a current \
                 Insomnia (Application → Preferences → Data → Export), as JSON (v4) or YAML (v5).",
                other.map_or("(none)".to_owned(), |v| v.to_string())
            ))),
        };
    }
    if let Some(t) = s("type").filter(|t| t.contains(".insomnia.rest/")) {
        return if t.starts_with("collection.insomnia.rest/5.") {
            Ok(Format::Insomnia)
        } else if t.starts_with("collection.insomnia.rest/") {
            Err(wrong(format!(
                "Insomnia \"{t}\" is not supported: export the collection from a current \
                 Insomnia as YAML v5 (type collection.insomnia.rest/5.0) or JSON v4."
            )))
        } else {
            Err(wrong(format!(
                "this Insomnia file is a \"{t}\", not a request collection: export the \
                 collection (type collection.insomnia.rest/5.0)."
            )))
        };
    }
    if let Some(v) = doc.get("openapi") {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        return if v.starts_with("3.") {
            Ok(Format::Openapi)
        } else {
            Err(wrong(format!(
                "OpenAPI {v} is not supported: TokenDesk reads OpenAPI 3.0, 3.1 and 3.2."
            )))
        };
    }
    if doc.get("swagger").is_some() {
        return Err(wrong(
            "Swagger (OpenAPI 2.0) is not supported: convert the document to OpenAPI 3 \
             (for example with swagger2openapi) and import that.",
        ));
    }
    Err(wrong(
        "not a format TokenDesk imports: a Postman collection v2.1, an Insomnia export (v4 \
         JSON or v5 YAML), an OpenAPI 3 document, a Bruno collection folder or a TokenDesk \
         export.",
    ))
}

/// The OAuth 2.0 settings of one auth block, as written in the file (variables unresolved).
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub grant: String,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub device_url: Option<String>,
    pub refresh_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Which setting held the secret, for the plan (`clientSecret`).
    pub secret_field: &'static str,
    pub scope: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uri: Option<String>,
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub state: Option<String>,
    pub pkce_method: Option<String>,
    /// `Some(true)`: client id and secret in the form body; `Some(false)`: HTTP Basic.
    pub secret_in_body: Option<bool>,
    pub authorize_params: Vec<(String, String)>,
    pub token_params: Vec<(String, String)>,
    pub token_headers: Vec<(String, String)>,
    /// Settings of the block TokenDesk does not take, named for a warning.
    pub ignored: Vec<String>,
    /// Whether the block is switched off in the file.
    pub disabled: bool,
}

/// How a node of a collection authenticates.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// Like its parent.
    Inherit,
    /// No auth.
    None,
    /// Some other scheme (basic, bearer, API key…): no profile.
    Other,
    OAuth2(Box<Block>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Collection,
    Folder,
    Request,
}

/// A collection, folder or request of a Postman, Insomnia or Bruno collection.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub kind: NodeKind,
    pub auth: Auth,
    /// Variables defined here; they override those of the parents.
    pub vars: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(name: impl Into<String>, kind: NodeKind) -> Self {
        Self {
            name: name.into(),
            kind,
            auth: Auth::Inherit,
            vars: Vec::new(),
            children: Vec::new(),
        }
    }
}

/// Turns the blocks of a file into planned profiles: resolves variables, maps grants,
/// deduplicates, names uniquely, validates.
pub(crate) struct Planner {
    format: Format,
    style: Style,
    environment: String,
    client_id: Option<String>,
    profiles: Vec<PlannedProfile>,
    warnings: Vec<String>,
    errors: Vec<String>,
}

impl Planner {
    pub fn new(format: Format, style: Style, input: &Input) -> Self {
        Self {
            format,
            style,
            environment: String::new(),
            client_id: input.client_id.clone().filter(|c| !c.trim().is_empty()),
            profiles: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The environment label of the profiles (`test`, `production`).
    pub fn set_environment(&mut self, label: &str) {
        self.environment = label.to_owned();
    }

    pub fn warn(&mut self, w: impl Into<String>) {
        let w = w.into();
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Walks a collection: each OAuth 2.0 block becomes a profile, each request is counted as a
    /// user of the block it applies (its own, else its folder's, else the collection's).
    pub fn walk(&mut self, root: &Node, base: &Vars) {
        self.walk_node(root, &[], base, None);
    }

    fn walk_node(&mut self, node: &Node, path: &[&str], scope: &Vars, inherited: Option<usize>) {
        let mut path = path.to_vec();
        path.push(node.name.as_str());
        let scope = scope.with(&node.vars);
        let what = match node.kind {
            NodeKind::Collection => "collection",
            NodeKind::Folder => "folder",
            NodeKind::Request => "request",
        };
        let name = path.join(" / ");
        let origin = format!("{what} \"{name}\"");
        let effective = match &node.auth {
            Auth::Inherit => inherited,
            Auth::None | Auth::Other => None,
            Auth::OAuth2(block) => self.add(block, &name, &origin, &scope),
        };
        if node.kind == NodeKind::Request
            && let Some(i) = effective
        {
            self.profiles[i].used_by.push(name.clone());
        }
        for child in &node.children {
            self.walk_node(child, &path, &scope, effective);
        }
    }

    /// Adds the profile of one block (or finds the identical one already planned); `None` when
    /// the block makes no profile (an unsupported grant, switched off).
    pub fn add(&mut self, block: &Block, name: &str, origin: &str, vars: &Vars) -> Option<usize> {
        if block.disabled {
            self.warn(format!(
                "{origin}: its OAuth 2.0 settings are switched off in the file; not imported."
            ));
            return None;
        }
        let mut r = |field: &str, v: &Option<String>| -> Option<String> {
            let raw = v.as_deref()?;
            let mut unresolved = Vec::new();
            let value = vars.resolve(raw, self.style, &mut unresolved);
            for u in unresolved {
                let w = format!(
                    "{origin}: {field} uses the variable {{{{{u}}}}}, which neither the file nor \
                     the environment defines; edit the profile after the import, or name the \
                     environment that defines it."
                );
                if !self.warnings.contains(&w) {
                    self.warnings.push(w);
                }
            }
            let value = value.trim().to_owned();
            (!value.is_empty()).then_some(value)
        };
        let grant_raw = r("the grant type", &Some(block.grant.clone())).unwrap_or_default();
        let auth_url = r("the authorization URL", &block.auth_url);
        let token_url = r("the access token URL", &block.token_url);
        let device_url = r("the device authorization URL", &block.device_url);
        let refresh_url = r("the refresh token URL", &block.refresh_url);
        let issuer = r("the issuer", &block.issuer);
        let client_id = r("the client id", &block.client_id);
        let secret_raw = block.client_secret.clone();
        let client_secret = r("the client secret", &secret_raw);
        let scope = r("the scope", &block.scope);
        let redirect_uri = r("the redirect URI", &block.redirect_uri);
        let audience = r("the audience", &block.audience);
        let resource = r("the resource", &block.resource);
        let state = r("the state", &block.state);
        let pkce_method = r("the PKCE method", &block.pkce_method);
        let mut pairs = |what: &str, list: &[(String, String)]| -> Vec<Param> {
            list.iter()
                .filter_map(|(k, v)| {
                    let v = r(&format!("{what} {k}"), &Some(v.clone()))?;
                    Some(Param::new(k.clone(), v))
                })
                .collect()
        };
        let authorize_params = pairs(
            "the authorization request parameter",
            &block.authorize_params,
        );
        let token_params = pairs("the token request parameter", &block.token_params);
        let headers = pairs("the token request header", &block.token_headers);

        let grant = match grant_raw.as_str() {
            "authorization_code" | "authorization_code_with_pkce" | "authorizationCode" => {
                GrantKind::AuthorizationCode
            }
            "client_credentials" | "clientCredentials" => GrantKind::ClientCredentials,
            "device_code"
            | "deviceAuthorization"
            | "urn:ietf:params:oauth:grant-type:device_code" => GrantKind::DeviceCode,
            other => {
                let named = match other {
                    "password" | "password_credentials" => {
                        "password (resource owner password credentials)"
                    }
                    "implicit" => "implicit",
                    "refresh_token" => "refresh-token-only",
                    "" => "(no grant type)",
                    o => o,
                };
                self.warn(format!(
                    "{origin}: the {named} grant is not one TokenDesk runs (it runs authorization \
                     code with PKCE, client credentials, device code, JWT bearer, token exchange \
                     and CIBA); not imported. Use the authorization code or client credentials \
                     grant if the provider allows it."
                ));
                return None;
            }
        };
        if token_url.is_none() && auth_url.is_none() && device_url.is_none() && issuer.is_none() {
            self.warn(format!(
                "{origin}: OAuth 2.0 without an access token URL or authorization URL; not \
                 imported (fill them in the file, or add the profile by hand)."
            ));
            return None;
        }
        for ignored in &block.ignored {
            self.warn(format!("{origin}: {ignored}"));
        }
        if state.is_some() {
            self.warn(format!(
                "{origin}: the fixed state is not imported; TokenDesk makes a fresh state for \
                 every sign-in."
            ));
        }
        if pkce_method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case("S256"))
        {
            self.warn(format!(
                "{origin}: PKCE method {} is not used; TokenDesk always sends S256.",
                pkce_method.as_deref().unwrap_or_default()
            ));
        }
        if let Some(refresh) = &refresh_url
            && Some(refresh) != token_url.as_ref()
        {
            self.warn(format!(
                "{origin}: the refresh token URL {refresh} is not imported; TokenDesk refreshes \
                 at the token endpoint."
            ));
        }
        let secret = client_secret
            .filter(|s| !s.contains("{{"))
            .map(|v| FoundSecret {
                field: block.secret_field.to_owned(),
                value: Sensitive::new(v),
            });
        let auth_method = match (block.secret_in_body, &secret, grant) {
            (_, None, GrantKind::AuthorizationCode | GrantKind::DeviceCode)
                if block
                    .client_secret
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty()) =>
            {
                AuthMethod::None
            }
            (Some(true), _, _) => AuthMethod::ClientSecretPost,
            _ => AuthMethod::ClientSecretBasic,
        };
        let mut scopes: Vec<String> = scope
            .as_deref()
            .unwrap_or_default()
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        for s in &block.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let client_id = match client_id.or_else(|| self.client_id.clone()) {
            Some(c) => c,
            None => {
                self.errors.push(format!(
                    "{origin}: no client id; pass it with --client-id (or type it in the app's \
                     import dialog)."
                ));
                String::new()
            }
        };
        let mut config = ProfileConfig {
            name: String::new(),
            environment: self.environment.clone(),
            issuer,
            client_id,
            auth_method,
            grant,
            scopes,
            audience,
            resource,
            redirect_uri,
            authorize_params,
            token_params,
            headers,
            ..Default::default()
        };
        config.endpoints.token = token_url;
        if grant == GrantKind::AuthorizationCode {
            config.endpoints.authorization = auth_url;
        }
        config.endpoints.device_authorization = device_url;

        // The same settings twice (a block copied to several requests): one profile.
        if let Some(i) = self.profiles.iter().position(|p| {
            let mut c = p.config.clone();
            c.name.clear();
            c == config
                && p.secret.as_ref().map(|s| s.value.expose())
                    == secret.as_ref().map(|s| s.value.expose())
        }) {
            return Some(i);
        }
        config.name = self.unique_name(name);
        if let Err(e) = config.validate() {
            for f in e.fields {
                self.errors.push(format!(
                    "{origin} (profile \"{}\"): {}: {}",
                    config.name, f.field, f.message
                ));
            }
        }
        self.profiles.push(PlannedProfile {
            config,
            origin: origin.to_owned(),
            used_by: Vec::new(),
            secret,
        });
        Some(self.profiles.len() - 1)
    }

    fn unique_name(&self, name: &str) -> String {
        let base: String = name.chars().take(90).collect();
        let taken = |n: &str| self.profiles.iter().any(|p| p.config.name == n);
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base} ({i})"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }

    pub fn finish(self) -> ImportPlan {
        let mut warnings = self.warnings;
        if self.profiles.is_empty() && self.errors.is_empty() {
            warnings.push(format!(
                "the {} has no OAuth 2.0 settings TokenDesk can import.",
                self.format.label()
            ));
        }
        ImportPlan {
            format: self.format,
            profiles: self.profiles,
            warnings,
            errors: self.errors,
        }
    }
}

/// The string members of a JSON object, nested objects flattened to `a.b` (Insomnia reads
/// `{{ _.a.b }}`).
pub(crate) fn flatten(value: &Value) -> Vec<(String, String)> {
    fn go(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    go(&key, v, out);
                }
            }
            Value::String(s) => out.push((prefix.to_owned(), s.clone())),
            Value::Number(_) | Value::Bool(_) => out.push((prefix.to_owned(), v.to_string())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go("", value, &mut out);
    out
}

/// A string member of a JSON object (numbers and booleans as text).
pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a file next to the one imported, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorCode::NotFound,
            format!("Cannot read {}: {e}. Check the path.", path.display()),
        )
    })
}
