//! From the auth blocks of a file to planned profiles: the collection tree with inheritance and
//! variable scopes, grant mapping, deduplication, unique names, validation.

use super::{Format, FoundSecret, ImportPlan, Input, PlannedProfile, Style, Vars};
use crate::profile::{AuthMethod, GrantKind, Param, ProfileConfig};
use crate::secret::Sensitive;

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
