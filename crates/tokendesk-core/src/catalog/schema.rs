//! The preset file format, and the checks every file passes before TokenDesk uses it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use super::params::ParamKind;
use crate::profile::{AuthMethod, GrantKind, Param};

/// How well an entry is backed (the research's tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Stated in the provider's own documentation.
    Documented,
    /// Reported by users or maintainers in public trackers; observed, not documented.
    UserReported,
    /// Not verified in the sources reached: a hypothesis to test live.
    NotVerified,
}

/// A provider preset: one file in `presets/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// The file's stem (`google` for `google.toml`).
    #[serde(skip_deserializing)]
    pub id: String,
    pub name: String,
    pub summary: String,
    /// The provider's developer documentation.
    pub docs: String,
    /// How TokenDesk checked this preset: `imitation` (a test provider imitates its quirks),
    /// `live` (against the real provider), or `documents` (built from the documentation only).
    pub checked: String,
    #[serde(default, rename = "param")]
    pub params: Vec<ParamSpec>,
    pub endpoints: EndpointSpec,
    #[serde(default)]
    pub client: ClientSpec,
    #[serde(default)]
    pub refresh_token: RefreshTokenSpec,
    #[serde(default)]
    pub redirect: RedirectSpec,
    #[serde(default)]
    pub device_flow: DeviceFlowSpec,
    /// Named response behaviours the core applies for this provider.
    #[serde(default)]
    pub quirks: Vec<Quirk>,
    #[serde(default, rename = "issuer_alias")]
    pub issuer_aliases: Vec<IssuerAlias>,
    #[serde(default, rename = "issuer_template")]
    pub issuer_templates: Vec<IssuerTemplate>,
    #[serde(default, rename = "error")]
    pub errors: Vec<ErrorSpec>,
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

/// A value the user gives when making a profile from the preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    pub label: String,
    pub kind: ParamKind,
    /// The public value; may name earlier parameters (`https://cognito-idp.{region}.…`).
    #[serde(default)]
    pub default: Option<String>,
    /// A value that shows the form (forms use it as placeholder); needed without a default.
    #[serde(default)]
    pub example: Option<String>,
    #[serde(default)]
    pub required: bool,
    pub help: String,
}

/// The provider's endpoints, as templates over the parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// Discover from this issuer (OpenID discovery, then RFC 8414) when set.
    pub issuer: Option<String>,
    pub authorization: Option<String>,
    pub token: Option<String>,
    pub revocation: Option<String>,
    pub introspection: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    pub par: Option<String>,
    pub device_authorization: Option<String>,
    pub evidence: Evidence,
    #[serde(default)]
    pub note: Option<String>,
}

impl EndpointSpec {
    /// Every template with its field name.
    pub fn templates(&self) -> Vec<(&'static str, &str)> {
        [
            ("issuer", &self.issuer),
            ("authorization", &self.authorization),
            ("token", &self.token),
            ("revocation", &self.revocation),
            ("introspection", &self.introspection),
            ("userinfo", &self.userinfo),
            ("jwks", &self.jwks),
            ("par", &self.par),
            ("device_authorization", &self.device_authorization),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// A parameter or header the preset sends, with the reason shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentParam {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub why: String,
}

/// How the client is set up at this provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// The grant profiles use; default: the authorization code when users sign in (an
    /// issuer or an authorization endpoint), else client credentials.
    #[serde(default)]
    pub grant: Option<GrantKind>,
    #[serde(default)]
    pub auth_method: AuthMethod,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    /// Where API calls go (for copied curl lines), when the provider has one base.
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub authorize_params: Vec<SentParam>,
    #[serde(default)]
    pub token_params: Vec<SentParam>,
    #[serde(default)]
    pub headers: Vec<SentParam>,
    /// The client secret is a JWT TokenDesk makes from the private key (Apple); made only when
    /// every template it names has a value.
    #[serde(default)]
    pub generated_secret: Option<GeneratedSecretSpec>,
    #[serde(default)]
    pub note: Option<String>,
    pub evidence: Evidence,
}

/// How the provider wants its client secret made from the client's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedSecretSpec {
    pub issuer: String,
    pub key_id: String,
    pub audience: String,
    pub lifetime_secs: u32,
    pub alg: crate::profile::AssertionAlg,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            grant: None,
            auth_method: AuthMethod::default(),
            scopes: Vec::new(),
            audience: None,
            resource: None,
            api_url: None,
            authorize_params: Vec::new(),
            token_params: Vec::new(),
            headers: Vec::new(),
            generated_secret: None,
            note: None,
            evidence: Evidence::NotVerified,
        }
    }
}

/// What it takes to get a refresh token, and how the provider treats it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenSpec {
    /// Scopes that ask for one (`offline_access`, X's `offline.access`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Sign-in parameters that ask for one (Google's `access_type=offline`).
    #[serde(default)]
    pub authorize_params: Vec<SentParam>,
    /// Why, for people.
    #[serde(default)]
    pub why: String,
    /// Lifetime and rotation, as documented.
    #[serde(default)]
    pub lifetime: Option<String>,
    pub evidence: Evidence,
}

impl Default for RefreshTokenSpec {
    fn default() -> Self {
        Self {
            scopes: Vec::new(),
            authorize_params: Vec::new(),
            why: String::new(),
            lifetime: None,
            evidence: Evidence::NotVerified,
        }
    }
}

/// The loopback redirects the provider accepts for native clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectSpec {
    /// Which loopback forms work: `127.0.0.1`, `[::1]`, `localhost`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Whether the port may differ from the registered one (RFC 8252 §7.3).
    #[serde(default)]
    pub any_port: bool,
    /// The provider takes only https redirect URIs: no loopback listener.
    #[serde(default)]
    pub https_only: bool,
    /// The redirect URI profiles use, when the provider needs a fixed one (a template).
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub evidence: Evidence,
}

impl Default for RedirectSpec {
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            any_port: false,
            https_only: false,
            uri: None,
            note: None,
            evidence: Evidence::NotVerified,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceFlowSpec {
    #[serde(default)]
    pub supported: bool,
    #[serde(default)]
    pub note: Option<String>,
    pub evidence: Evidence,
}

impl Default for DeviceFlowSpec {
    fn default() -> Self {
        Self {
            supported: false,
            note: None,
            evidence: Evidence::NotVerified,
        }
    }
}

/// A named response behaviour: the core has it once; a preset switches it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// Send `Accept: application/json` to the token endpoint: the provider answers
    /// form-encoded otherwise (GitHub).
    AcceptJson,
    /// An `error` member in an HTTP 200 answer is an error (GitHub).
    #[serde(rename = "error_in_200")]
    ErrorIn200,
    /// `"ok": false` in an HTTP 200 answer is an error named by `error` (Slack).
    OkFalse,
    /// No `expires_in`: the access token's lifetime is unknown; a 401 tells (Salesforce).
    NoExpiresIn,
    /// A refresh answer without `refresh_token` keeps the old one (Cognito).
    KeepRefreshToken,
    /// The granted `scope` is comma-separated (GitHub, Strava, Slack).
    CommaSeparatedScope,
    /// API calls go to the token answer's `instance_url`, not the login host (Salesforce).
    InstanceUrl,
}

impl Quirk {
    pub fn label(self) -> &'static str {
        match self {
            Quirk::AcceptJson => "Accept: application/json on token requests",
            Quirk::ErrorIn200 => "an error member in a 200 answer is an error",
            Quirk::OkFalse => "\"ok\": false in a 200 answer is an error",
            Quirk::NoExpiresIn => "no expires_in: expiry unknown until a 401",
            Quirk::KeepRefreshToken => "keep the refresh token when a refresh returns none",
            Quirk::CommaSeparatedScope => "granted scope read as comma-separated",
            Quirk::InstanceUrl => "API paths resolved against the answer's instance_url",
        }
    }

    pub fn why(self) -> &'static str {
        match self {
            Quirk::AcceptJson => "the provider answers form-encoded unless asked for JSON",
            Quirk::ErrorIn200 => "the provider reports some errors with HTTP 200",
            Quirk::OkFalse => "the provider reports errors as HTTP 200 with ok: false",
            Quirk::NoExpiresIn => "the provider sends no expires_in",
            Quirk::KeepRefreshToken => "the provider returns no new refresh token on refresh",
            Quirk::CommaSeparatedScope => "the provider separates granted scopes with commas",
            Quirk::InstanceUrl => {
                "the provider serves its APIs on the instance_url it answers with"
            }
        }
    }
}

/// Another spelling of the issuer the provider documents, accepted for that issuer only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerAlias {
    pub issuer: String,
    pub alias: String,
    pub evidence: Evidence,
}

/// A multi-tenant issuer the provider's discovery names as a template (Entra's
/// `https://login.microsoftonline.com/{tenantid}/v2.0` for `common` and `organizations`): each
/// ID token's issuer is the template with the placeholder filled from one of its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerTemplate {
    /// The preset's issuer this applies to (`endpoints.issuer`).
    pub issuer: String,
    /// What discovery names as the issuer, with `{placeholder}` left as it is.
    pub template: String,
    /// The name in braces that the provider leaves in the template (`tenantid`).
    pub placeholder: String,
    /// The ID token claim that fills it (`tid`).
    pub claim: String,
    pub evidence: Evidence,
}

/// An error the provider is known for: its meaning and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// The OAuth `error` code; empty matches any code.
    #[serde(default)]
    pub code: String,
    /// Text in the `error_description` (or the code) that identifies it, case-insensitive.
    #[serde(default, rename = "match")]
    pub matches: Option<String>,
    pub cause: String,
    pub fix: String,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub url: String,
    pub about: String,
}

/// Fills `{name}` placeholders from the values; any other brace is an error.
pub fn fill(template: &str, values: &[Param]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        if rest[open..].starts_with('}') {
            return Err(format!("a lone '}}' in \"{template}\""));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("an unclosed '{{' in \"{template}\""))?;
        let (name, host_only) = match after[..close].strip_suffix(":host") {
            Some(n) => (n, true),
            None => (&after[..close], false),
        };
        let value = values
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("\"{template}\" names {{{name}}}, which has no value"))?;
        if host_only {
            // `{base_url:host}`: the URL without its scheme (Google's scheme-less issuer).
            let v = &value.value;
            out.push_str(v.split_once("://").map_or(v.as_str(), |(_, rest)| rest));
        } else {
            out.push_str(&value.value);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Like [`fill`], but `None` when the template names a parameter without a value (an
/// optional one the user left empty): the field it fills is then left out.
pub fn fill_optional(template: &str, values: &[Param]) -> Result<Option<String>, String> {
    if placeholders(template)
        .iter()
        .any(|n| !values.iter().any(|p| p.name == *n))
    {
        return Ok(None);
    }
    fill(template, values).map(Some)
}

/// The `{name}`s a template uses.
fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        out.push(name.strip_suffix(":host").unwrap_or(name));
        rest = &after[close + 1..];
    }
    out
}

const CHECKED: &[&str] = &["imitation", "live", "documents"];
const LOOPBACK_HOSTS: &[&str] = &["127.0.0.1", "[::1]", "localhost"];

impl Preset {
    /// Parses one preset file and checks it; errors name the file, and the line where the
    /// parser or the check can point at one.
    pub fn parse(file: &str, text: &str) -> Result<Self, String> {
        let id = file.strip_suffix(".toml").unwrap_or(file);
        let mut preset: Preset =
            toml::from_str(text).map_err(|e| format!("{file}: {}", e.to_string().trim_end()))?;
        preset.id = id.to_owned();
        preset.check().map_err(|(field, needle, message)| {
            let line = needle
                .and_then(|n| text.lines().position(|l| l.contains(n.as_str())))
                .map(|i| format!(", line {}", i + 1))
                .unwrap_or_default();
            format!("{file}{line}: {field}: {message}")
        })?;
        Ok(preset)
    }

    /// Every rule a preset file must follow: (field, text to find its line by, message).
    fn check(&self) -> Result<(), (String, Option<String>, String)> {
        let fail = |field: &str, needle: Option<&str>, message: String| {
            Err((field.to_owned(), needle.map(str::to_owned), message))
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return fail(
                "id",
                None,
                "a preset file is named <id>.toml with a-z, 0-9 and '-' only".into(),
            );
        }
        for (field, value) in [("name", &self.name), ("summary", &self.summary)] {
            if value.trim().is_empty() {
                return fail(field, None, "must not be empty".into());
            }
        }
        if !self.docs.starts_with("https://") {
            return fail("docs", Some(&self.docs), "must be an https URL".into());
        }
        if !CHECKED.contains(&self.checked.as_str()) {
            return fail(
                "checked",
                Some(&self.checked),
                format!("must be one of {}", CHECKED.join(", ")),
            );
        }

        // Parameters: unique, defaults valid (filled from earlier ones), examples where needed.
        let mut sample: Vec<Param> = Vec::new();
        for p in &self.params {
            let field = format!("param.{}", p.name);
            if p.name.is_empty() || !p.name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return fail(&field, Some(&p.name), "names use a-z and '_' only".into());
            }
            if sample.iter().any(|s| s.name == p.name) {
                return fail(&field, Some(&p.name), "declared twice".into());
            }
            if p.label.trim().is_empty() || p.help.trim().is_empty() {
                return fail(
                    &field,
                    Some(&p.name),
                    "needs a label and a help text".into(),
                );
            }
            let value = match (&p.default, &p.example) {
                (Some(d), _) => {
                    fill(d, &sample).map_err(|e| (field.clone(), Some(d.clone()), e))?
                }
                (None, Some(e)) => e.clone(),
                (None, None) => {
                    return fail(
                        &field,
                        Some(&p.name),
                        "a parameter without a default needs an example".into(),
                    );
                }
            };
            let value = p.kind.check(&value).map_err(|e| {
                (
                    field.clone(),
                    p.default.clone().or(p.example.clone()),
                    format!("the default/example \"{value}\" fails its own check: {e}"),
                )
            })?;
            sample.push(Param::new(&p.name, value));
        }
        let base_params: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::BaseUrl)
            .map(|p| p.name.as_str())
            .collect();

        // Endpoints: each a template that starts with a base-URL parameter and fills to a URL.
        let templates = self.endpoints.templates();
        if !templates
            .iter()
            .any(|(k, _)| *k == "issuer" || *k == "token")
        {
            return fail(
                "endpoints",
                None,
                "needs an issuer to discover from, or a token endpoint".into(),
            );
        }
        let mut all: Vec<(String, &str)> = templates
            .iter()
            .map(|(k, t)| (format!("endpoints.{k}"), *t))
            .collect();
        if let Some(u) = &self.redirect.uri {
            all.push(("redirect.uri".into(), u));
        }
        if let Some(u) = &self.client.api_url {
            all.push(("client.api_url".into(), u));
        }
        for (field, t) in &all {
            let starts_with_base = base_params
                .iter()
                .any(|b| t.starts_with(&format!("{{{b}}}")));
            if !starts_with_base && !field.starts_with("redirect") {
                return fail(
                    field,
                    Some(t),
                    "every host is a parameter: start the URL with a base_url parameter \
                     ({name}) so self-hosted servers and imitations can use the preset"
                        .into(),
                );
            }
            let filled = fill(t, &sample).map_err(|e| (field.clone(), Some(t.to_string()), e))?;
            if let Err(e) = Url::parse(&filled) {
                return fail(field, Some(t), format!("\"{filled}\" is not a URL ({e})"));
            }
        }
        // Other templates: only declared parameters.
        let mut texts: Vec<(String, &str)> = Vec::new();
        for (what, list) in [
            ("client.authorize_params", &self.client.authorize_params),
            ("client.token_params", &self.client.token_params),
            ("client.headers", &self.client.headers),
            (
                "refresh_token.authorize_params",
                &self.refresh_token.authorize_params,
            ),
        ] {
            for p in list {
                texts.push((format!("{what}.{}", p.name), &p.value));
                if what.starts_with("client") && p.why.trim().is_empty() {
                    return fail(
                        &format!("{what}.{}", p.name),
                        Some(&p.name),
                        "say why the preset sends it (why = \"…\")".into(),
                    );
                }
            }
        }
        if let Some(g) = &self.client.generated_secret {
            for (what, t) in [
                ("issuer", &g.issuer),
                ("key_id", &g.key_id),
                ("audience", &g.audience),
            ] {
                texts.push((format!("client.generated_secret.{what}"), t));
            }
            if g.lifetime_secs == 0 || g.lifetime_secs > crate::profile::GENERATED_SECRET_MAX_SECS {
                return fail(
                    "client.generated_secret.lifetime_secs",
                    None,
                    "between 1 s and six months".into(),
                );
            }
            if g.alg.is_hmac() {
                return fail(
                    "client.generated_secret.alg",
                    None,
                    "a secret made from a private key is signed with RS256, PS256 or ES256".into(),
                );
            }
        }
        for (field, t) in [
            ("client.audience", &self.client.audience),
            ("client.resource", &self.client.resource),
        ] {
            if let Some(t) = t {
                texts.push((field.into(), t));
            }
        }
        for (field, t) in &texts {
            for name in placeholders(t) {
                if !self.params.iter().any(|p| p.name == name) {
                    return fail(
                        field,
                        Some(t),
                        format!("names {{{name}}}, which is not a parameter"),
                    );
                }
            }
        }
        let rt = &self.refresh_token;
        if (!rt.scopes.is_empty() || !rt.authorize_params.is_empty()) && rt.why.trim().is_empty() {
            return fail(
                "refresh_token.why",
                None,
                "say why these are sent for a refresh token".into(),
            );
        }
        for h in &self.redirect.hosts {
            if !LOOPBACK_HOSTS.contains(&h.as_str()) {
                return fail(
                    "redirect.hosts",
                    Some(h),
                    format!("\"{h}\" is not one of {}", LOOPBACK_HOSTS.join(", ")),
                );
            }
        }
        for a in &self.issuer_aliases {
            if self.endpoints.issuer.as_deref() != Some(a.issuer.as_str()) {
                return fail(
                    "issuer_alias.issuer",
                    Some(&a.issuer),
                    "an alias is for the preset's own issuer only (endpoints.issuer)".into(),
                );
            }
            let filled = fill(&a.alias, &sample);
            if a.alias.trim().is_empty()
                || a.alias == a.issuer
                || filled.is_err()
                || filled.as_deref().ok() == fill(&a.issuer, &sample).ok().as_deref()
            {
                return fail(
                    "issuer_alias.alias",
                    Some(&a.alias),
                    "must be another spelling of the issuer, naming only its parameters".into(),
                );
            }
        }
        for t in &self.issuer_templates {
            if self.endpoints.issuer.as_deref() != Some(t.issuer.as_str()) {
                return fail(
                    "issuer_template.issuer",
                    Some(&t.issuer),
                    "a template is for the preset's own issuer only (endpoints.issuer)".into(),
                );
            }
            let mut with_placeholder = sample.clone();
            with_placeholder.push(Param::new(&t.placeholder, format!("{{{}}}", t.placeholder)));
            let filled = fill(&t.template, &with_placeholder);
            if t.placeholder.is_empty()
                || !t.template.contains(&format!("{{{}}}", t.placeholder))
                || filled.is_err()
            {
                return fail(
                    "issuer_template.template",
                    Some(&t.template),
                    "must name {placeholder} and otherwise only the preset's parameters".into(),
                );
            }
            if t.claim.trim().is_empty() {
                return fail(
                    "issuer_template.claim",
                    Some(&t.template),
                    "name the ID token claim that fills the placeholder".into(),
                );
            }
        }
        for e in &self.errors {
            if e.code.is_empty() && e.matches.is_none() {
                return fail("error", Some(&e.cause), "needs a code or a match".into());
            }
            if e.cause.trim().is_empty() || e.fix.trim().is_empty() {
                return fail(
                    &format!("error.{}", e.code),
                    Some(&e.code),
                    "needs a cause and a fix".into(),
                );
            }
        }
        if self.sources.is_empty() {
            return fail("source", None, "name at least one source".into());
        }
        for s in &self.sources {
            if !s.url.starts_with("https://") || s.about.trim().is_empty() {
                return fail(
                    "source",
                    Some(&s.url),
                    "each source is an https URL with what it backs (about = \"…\")".into(),
                );
            }
        }
        Ok(())
    }
}
