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

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::profile::{ProfileConfig, export};
use crate::secret::Sensitive;
use crate::secret_source::SecretSource;

pub mod bruno;
mod detect;
pub mod insomnia;
pub mod openapi;
mod planner;
pub mod postman;
mod vars;

pub use detect::detect;
pub(crate) use detect::parse_document;
use detect::wrong;
pub(crate) use planner::{Auth, Block, Node, NodeKind, Planner};
pub use vars::{Style, Vars};

/// The file formats TokenDesk imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
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

/// An import as the app asks for it: a file or folder by path, or a file's text read by the UI.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportReq {
    /// The file, or a Bruno collection's folder.
    pub path: Option<String>,
    /// The file's text (when the UI read it); `path` is then not read.
    pub text: Option<String>,
    /// The name of the file whose text this is, for messages (and `.bru` tells Bruno).
    pub file_name: Option<String>,
    /// `None`: told by the content.
    pub format: Option<Format>,
    pub environment: Option<String>,
    pub client_id: Option<String>,
    /// Importing: store the client secrets found in the file in the OS keychain.
    pub store_found_secrets: bool,
    /// Importing: a name already taken gets a ` (2)` suffix instead of refusing the import.
    pub rename: bool,
    /// Importing: where each planned profile's credential comes from, in the plan's order
    /// (`null` or absent: the OS keychain, where a found secret is stored when
    /// `store_found_secrets`). A command or a variable drops the secret found in the file.
    pub secret_sources: Vec<Option<SecretSource>>,
}

impl ImportReq {
    /// The plan to import: [`ImportReq::plan`] with each profile's chosen secret source set.
    pub fn plan_to_import(&self) -> Result<ImportPlan> {
        let mut plan = self.plan()?;
        plan.take_sources(&self.secret_sources)?;
        Ok(plan)
    }

    /// The plan of this import (nothing is stored).
    pub fn plan(&self) -> Result<ImportPlan> {
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut input = Input {
            path: given(&self.path).unwrap_or_default().into(),
            format: self.format,
            environment: given(&self.environment),
            client_id: given(&self.client_id),
        };
        match &self.text {
            Some(text) => {
                let name = given(&self.file_name).unwrap_or_else(|| "the file".into());
                if input.format.is_none() && name.ends_with(".bru") {
                    input.format = Some(Format::Bruno);
                }
                plan_text(text, &input).map_err(|mut e| {
                    e.message = format!("{name}: {}", e.message);
                    e
                })
            }
            None if input.path.as_os_str().is_empty() => Err(Error::new(
                ErrorCode::InvalidInput,
                "Choose a file (or a Bruno collection's folder) to import.",
            )),
            None => plan(&input),
        }
    }
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
#[derive(Debug, Clone, Serialize, TS)]
pub struct PlanSummary {
    pub format: Format,
    pub profiles: Vec<PlannedSummary>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PlannedSummary {
    pub name: String,
    pub origin: String,
    pub used_by: Vec<String>,
    /// The setting that held a client secret, when the file had one.
    pub secret_found: Option<String>,
    pub config: ProfileConfig,
}

impl ImportPlan {
    /// Sets each profile's credential source (`sources` in the plan's order, `None`: the
    /// keychain). A profile whose secret comes from a command or a variable keeps no secret
    /// found in the file: it is never stored.
    pub fn take_sources(&mut self, sources: &[Option<SecretSource>]) -> Result<()> {
        if sources.len() > self.profiles.len() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                format!(
                    "{} secret sources for {} profiles: read the file again and choose anew.",
                    sources.len(),
                    self.profiles.len()
                ),
            ));
        }
        for (p, source) in self.profiles.iter_mut().zip(sources) {
            let Some(source) = source else { continue };
            let kind = p.config.credential_kind();
            p.config.secrets.set(kind, source.clone())?;
            if !source.is_keychain() {
                p.secret = None;
            }
        }
        Ok(())
    }

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
            let configs = in_link_order(export::read(text)?);
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

/// Profiles ordered so that one whose grant takes another's tokens (a token exchange) comes
/// after that one; a profile is only saved when the profiles it names exist.
fn in_link_order(mut pending: Vec<ProfileConfig>) -> Vec<ProfileConfig> {
    let mut out: Vec<ProfileConfig> = Vec::new();
    while !pending.is_empty() {
        let waits = |c: &ProfileConfig, pending: &[ProfileConfig]| {
            crate::flow::token_exchange::links(c).iter().any(|l| {
                pending
                    .iter()
                    .any(|p| p.name == l.profile && p.name != c.name)
            })
        };
        let Some(i) = (0..pending.len()).find(|&i| !waits(&pending[i], &pending)) else {
            // A cycle: saving says what is wrong.
            out.append(&mut pending);
            break;
        };
        out.push(pending.remove(i));
    }
    out
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
