//! Provider presets: what TokenDesk knows about Google, Entra ID, GitHub, Okta, Keycloak… as
//! data, one TOML file per provider in `crates/tokendesk-core/presets/`. A preset names its
//! parameters (every host is one, with the public host as default), the endpoints or issuer
//! built from them, what to send for a refresh token, how the client authenticates, which
//! loopback redirects the provider accepts, its response quirks, the errors it is known for,
//! and the sources behind each entry with their evidence level.
//!
//! [`Preset::profile`] turns a preset and the user's parameter values into a profile; the
//! profile keeps a [`PresetRef`] so the rest of TokenDesk can explain the provider's errors.

mod params;
pub mod quirks;
mod schema;

pub use params::ParamKind;
pub use schema::{
    ClientSpec, EndpointSpec, ErrorSpec, Evidence, IssuerAlias, IssuerTemplate, ParamSpec, Preset,
    Quirk, RedirectSpec, RefreshTokenSpec, Source,
};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::profile::{Endpoints, GrantKind, Param, ProfileConfig};

/// The preset files built into TokenDesk: (file name, text).
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/presets.rs"));

/// Which preset a profile was made from, and the parameter values it was made with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct PresetRef {
    pub id: String,
    /// The parameter values, defaults included, in the preset's order.
    pub params: Vec<Param>,
}

/// Every built-in preset, parsed and checked once. A file that fails its schema is a bug in
/// this build: [`check_files`] names it, and a test runs that check on every file.
pub fn presets() -> &'static [Preset] {
    static ALL: OnceLock<Vec<Preset>> = OnceLock::new();
    ALL.get_or_init(|| {
        let (mut ok, errors) = check_files(FILES);
        ok.sort_by(|a, b| a.id.cmp(&b.id));
        for e in &errors {
            tracing::error!(error = %e, "a built-in provider preset is invalid");
        }
        ok
    })
}

/// The preset of an id, or an error listing the ids there are.
pub fn find(id: &str) -> Result<&'static Preset> {
    presets().iter().find(|p| p.id == id).ok_or_else(|| {
        let ids: Vec<&str> = presets().iter().map(|p| p.id.as_str()).collect();
        Error::new(
            ErrorCode::InvalidInput,
            format!(
                "There is no provider preset \"{id}\". The presets are: {}. `tokendesk presets` \
                 lists them with what each needs.",
                ids.join(", ")
            ),
        )
    })
}

/// Parses and checks preset files; returns the good ones and one message per bad one, each
/// naming the file (and for TOML errors, its line and column).
pub fn check_files(files: &[(&str, &str)]) -> (Vec<Preset>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in files {
        match Preset::parse(name, text) {
            Ok(p) => ok.push(p),
            Err(e) => errors.push(e),
        }
    }
    (ok, errors)
}

/// A preset as lists and forms show it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PresetInfo {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub docs: String,
    /// How this preset was checked: against an imitation in the tests, or live.
    pub checked: String,
    pub params: Vec<ParamSpec>,
    /// Each parameter the preset sends on its own, and why.
    pub sends: Vec<Sent>,
    pub device_flow: bool,
}

/// Something a preset adds to requests, with the reason users see before they create the
/// profile ("adds access_type=offline: Google returns a refresh token only then").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Sent {
    pub what: String,
    pub why: String,
}

impl Preset {
    pub fn info(&self) -> PresetInfo {
        PresetInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            summary: self.summary.clone(),
            docs: self.docs.clone(),
            checked: self.checked.clone(),
            params: self.params.clone(),
            sends: self.sends(),
            device_flow: self.device_flow.supported,
        }
    }

    /// What the preset's profiles send beyond the user's own settings, and why.
    pub fn sends(&self) -> Vec<Sent> {
        let mut out = Vec::new();
        let rt = &self.refresh_token;
        for s in &rt.scopes {
            out.push(Sent {
                what: format!("scope {s}"),
                why: rt.why.clone(),
            });
        }
        for p in &rt.authorize_params {
            out.push(Sent {
                what: format!("{}={} on sign-in", p.name, p.value),
                why: rt.why.clone(),
            });
        }
        for p in &self.client.authorize_params {
            out.push(Sent {
                what: format!("{}={} on sign-in", p.name, p.value),
                why: p.why.clone(),
            });
        }
        for p in &self.client.token_params {
            out.push(Sent {
                what: format!("{}={} on token requests", p.name, p.value),
                why: p.why.clone(),
            });
        }
        for h in &self.client.headers {
            out.push(Sent {
                what: format!("header {}: {}", h.name, h.value),
                why: h.why.clone(),
            });
        }
        if let Some(g) = &self.client.generated_secret {
            out.push(Sent {
                what: format!(
                    "a client secret made from your key: a {} JWT (kid Key ID, iss Team ID, sub \
                     the client id), made fresh for each request",
                    g.alg.as_str()
                ),
                why: format!(
                    "{} takes no stored secret: it wants one signed with your private key, valid \
                     at most six months",
                    self.name
                ),
            });
        }
        for q in &self.quirks {
            out.push(Sent {
                what: q.label().into(),
                why: q.why().into(),
            });
        }
        out
    }

    /// The parameter values to build with: the user's, then defaults; every value checked.
    /// Errors name each bad or missing parameter; unknown names are refused.
    pub fn resolve_params(&self, given: &[(String, String)]) -> Result<Vec<Param>> {
        let mut fields = Vec::new();
        let mut given_map: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in given {
            if !self.params.iter().any(|p| p.name == *k) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                fields.push(FieldError {
                    field: format!("preset_params.{k}"),
                    message: format!(
                        "The {} preset has no parameter \"{k}\"; it has: {}.",
                        self.name,
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
            given_map.insert(k, v);
        }
        let mut out = Vec::new();
        for spec in &self.params {
            let value = given_map
                .get(spec.name.as_str())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or_else(|| {
                    // A default may name earlier parameters (`https://cognito-idp.{region}…`).
                    let d = spec.default.as_deref()?;
                    schema::fill_optional(d, &out).ok().flatten()
                });
            match value {
                None if spec.required => fields.push(FieldError {
                    field: format!("preset_params.{}", spec.name),
                    message: format!(
                        "The {} preset needs the {}: give it with --preset-param {}=… ({}).",
                        self.name,
                        spec.label.to_lowercase(),
                        spec.name,
                        spec.help
                    ),
                }),
                None => {}
                Some(v) => match spec.kind.check(&v) {
                    Ok(v) => out.push(Param::new(&spec.name, v)),
                    Err(why) => fields.push(FieldError {
                        field: format!("preset_params.{}", spec.name),
                        message: format!("{} \"{v}\": {why}", spec.label),
                    }),
                },
            }
        }
        if !fields.is_empty() {
            return Err(Error::invalid(fields));
        }
        Ok(out)
    }

    /// A profile for this provider: endpoints and issuer from the parameters, the preset's
    /// scopes, authentication and refresh-token parameters. The caller sets the name and the
    /// client id, and whatever else the user overrides.
    pub fn profile(&self, given: &[(String, String)]) -> Result<ProfileConfig> {
        let values = self.resolve_params(given)?;
        let bad = |e: String| Error::new(ErrorCode::InvalidInput, e);
        let fill = |t: &Option<String>| -> Result<Option<String>> {
            Ok(match t {
                Some(t) => schema::fill_optional(t, &values)
                    .map_err(bad)?
                    .filter(|s| !s.is_empty()),
                None => None,
            })
        };
        let params = |list: &[schema::SentParam]| -> Result<Vec<Param>> {
            let mut out = Vec::new();
            for p in list {
                if let Some(v) = schema::fill_optional(&p.value, &values).map_err(bad)? {
                    out.push(Param::new(&p.name, v));
                }
            }
            Ok(out)
        };
        let e = &self.endpoints;
        let mut scopes = self.client.scopes.clone();
        for s in &self.refresh_token.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let mut authorize_params = params(&self.refresh_token.authorize_params)?;
        authorize_params.extend(params(&self.client.authorize_params)?);
        let signs_in = e.issuer.is_some() || e.authorization.is_some();
        let grant = self.client.grant.unwrap_or(if signs_in {
            GrantKind::AuthorizationCode
        } else {
            GrantKind::ClientCredentials
        });
        // A secret made from the key, when the user gave what it names (else they store one).
        let generated_secret = match &self.client.generated_secret {
            Some(g) => match (
                fill(&Some(g.issuer.clone()))?,
                fill(&Some(g.key_id.clone()))?,
                fill(&Some(g.audience.clone()))?,
            ) {
                (Some(issuer), Some(key_id), Some(audience)) => Some((
                    crate::profile::GeneratedSecret {
                        issuer,
                        key_id,
                        audience,
                        lifetime_secs: g.lifetime_secs,
                    },
                    g.alg,
                )),
                _ => None,
            },
            None => None,
        };
        let mut client_assertion = crate::profile::ClientAssertion::default();
        if let Some((_, alg)) = &generated_secret {
            client_assertion.alg = *alg;
        }
        Ok(ProfileConfig {
            grant,
            client_assertion,
            generated_secret: generated_secret.map(|(g, _)| g),
            issuer: fill(&e.issuer)?,
            endpoints: Endpoints {
                authorization: fill(&e.authorization)?,
                token: fill(&e.token)?,
                revocation: fill(&e.revocation)?,
                introspection: fill(&e.introspection)?,
                userinfo: fill(&e.userinfo)?,
                jwks: fill(&e.jwks)?,
                par: fill(&e.par)?,
                device_authorization: fill(&e.device_authorization)?,
                backchannel_authentication: None,
            },
            auth_method: self.client.auth_method,
            scopes,
            audience: fill(&self.client.audience)?,
            resource: fill(&self.client.resource)?,
            redirect_uri: fill(&self.redirect.uri)?,
            authorize_params,
            token_params: params(&self.client.token_params)?,
            headers: params(&self.client.headers)?,
            api_url: fill(&self.client.api_url)?,
            preset: Some(PresetRef {
                id: self.id.clone(),
                params: values,
            }),
            ..ProfileConfig::default()
        })
    }

    /// The known error this provider answered, if any: by `error` code and, where the preset
    /// says, a pattern in the description.
    pub fn known_error(&self, code: &str, description: Option<&str>) -> Option<&ErrorSpec> {
        let desc = description.unwrap_or_default().to_ascii_lowercase();
        self.errors.iter().find(|e| {
            (e.code.is_empty() || e.code.eq_ignore_ascii_case(code))
                && e.matches
                    .as_deref()
                    .is_none_or(|m| desc.contains(&m.to_ascii_lowercase()) || code.contains(m))
        })
    }
}

/// The preset a profile was made from (`None` without one, or for an id this build lacks).
pub fn preset_of(config: &ProfileConfig) -> Option<&'static Preset> {
    find(&config.preset.as_ref()?.id).ok()
}

/// Another spelling of `issuer` that the profile's provider documents for its ID tokens'
/// `iss` (Google's scheme-less `accounts.google.com`): for that issuer only, as the preset
/// builds it from the profile's parameters.
pub fn issuer_alias(config: &ProfileConfig, issuer: &str) -> Option<String> {
    let r = config.preset.as_ref()?;
    preset_of(config)?.issuer_aliases.iter().find_map(|a| {
        let own = schema::fill(&a.issuer, &r.params).ok()?;
        (crate::ident::same(&own, issuer))
            .then(|| schema::fill(&a.alias, &r.params).ok())
            .flatten()
    })
}

/// The templated issuer of the profile's provider for `issuer`, filled from its parameters
/// (the placeholder left as it is): what multi-tenant discovery names (Entra's
/// `…/{tenantid}/v2.0`).
pub fn issuer_template(config: &ProfileConfig, issuer: &str) -> Option<FilledTemplate> {
    let r = config.preset.as_ref()?;
    preset_of(config)?.issuer_templates.iter().find_map(|t| {
        let own = schema::fill(&t.issuer, &r.params).ok()?;
        if !crate::ident::same(&own, issuer) {
            return None;
        }
        let mut params = r.params.clone();
        params.push(Param::new(&t.placeholder, format!("{{{}}}", t.placeholder)));
        Some(FilledTemplate {
            template: schema::fill(&t.template, &params).ok()?,
            placeholder: format!("{{{}}}", t.placeholder),
            claim: t.claim.clone(),
        })
    })
}

/// A templated issuer for one profile: the template as discovery names it, and how an ID
/// token fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledTemplate {
    pub template: String,
    /// `{tenantid}`.
    pub placeholder: String,
    /// `tid`.
    pub claim: String,
}

impl FilledTemplate {
    /// The issuer for the token with these claims: the template filled from the claim, which
    /// must be a plain identifier (letters, digits, `-`, `.`, `_`; at most 64) — a claim that
    /// could reshape the URL fills nothing.
    pub fn for_claims(&self, claims: &serde_json::Value) -> Option<String> {
        let value = claims.get(&self.claim)?.as_str()?;
        // The slug parameters' rule (letters, digits, `-`, `_`, `.`; not `.` or `..`).
        let plain = value.len() <= 64 && ParamKind::Slug.check(value).is_ok_and(|v| v == value);
        plain.then(|| self.template.replace(&self.placeholder, value))
    }
}

/// The error with what the profile's provider preset knows about it: the provider-specific
/// cause and fix of an OAuth error the preset lists. Other errors pass unchanged.
pub fn explain(config: &ProfileConfig, mut error: Error) -> Error {
    let Some(preset) = preset_of(config) else {
        return error;
    };
    let Some((code, description)) = error.oauth.as_deref() else {
        return error;
    };
    if let Some(known) = preset.known_error(code, description.as_deref()) {
        error.message = format!(
            "{} {}: {} Fix: {}",
            error.message, preset.name, known.cause, known.fix
        );
    }
    error
}

#[cfg(test)]
mod tests;
