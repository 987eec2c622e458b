//! The profile export file (`tokendesk profile export` / `import`): the profiles' configs, no
//! secrets, under a format marker. Reading one checks everything before anything is saved, so
//! a file with one bad profile imports none of them, and every problem is named by its place
//! (`profiles[1].client_id`).

use serde::Serialize;
use serde_json::Value;

use super::ProfileConfig;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::json_object;

/// The export file's format marker.
pub const FORMAT: &str = "tokendesk-profiles/1";

#[derive(Serialize)]
struct Export<'a> {
    format: &'a str,
    profiles: &'a [ProfileConfig],
}

/// The export text of these profiles (pretty JSON).
pub fn write(configs: &[ProfileConfig]) -> String {
    serde_json::to_string_pretty(&Export {
        format: FORMAT,
        profiles: configs,
    })
    .unwrap_or_default()
}

/// The profiles of an export text, each one valid, in the file's order; or an error that names
/// every field that is wrong.
pub fn read(text: &str) -> Result<Vec<ProfileConfig>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("This is not a TokenDesk profile export: it is not JSON ({e})."),
        )
    })?;
    let Value::Object(doc) = doc else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "This is not a TokenDesk profile export: it is not a JSON object with \
                 \"format\": \"{FORMAT}\" and \"profiles\"."
            ),
        ));
    };
    match doc.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(Error::invalid_field(
                "format",
                format!("Unknown export format {other} (expected \"{FORMAT}\")."),
            ));
        }
        None => {
            return Err(Error::invalid_field(
                "format",
                format!("Missing: a TokenDesk export says \"format\": \"{FORMAT}\"."),
            ));
        }
    }
    let Some(Value::Array(items)) = doc.get("profiles") else {
        return Err(Error::invalid_field(
            "profiles",
            "Missing or not a list: the profiles are a JSON array.",
        ));
    };
    let mut configs = Vec::with_capacity(items.len());
    let mut errs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let place = format!("profiles[{i}]");
        let Value::Object(object) = item else {
            errs.push(FieldError {
                field: place,
                message: "A profile is a JSON object.".into(),
            });
            continue;
        };
        let config: ProfileConfig = match json_object::read(object) {
            Ok(c) => c,
            Err(e) => {
                errs.push(FieldError {
                    field: format!("{place}.{}", e.member),
                    message: format!("Not readable ({}).", e.why),
                });
                continue;
            }
        };
        if let Err(e) = config.validate() {
            errs.extend(e.fields.into_iter().map(|f| FieldError {
                field: format!("{place}.{}", f.field),
                message: format!("Profile \"{}\": {}", config.name, f.message),
            }));
        } else if configs
            .iter()
            .any(|c: &ProfileConfig| c.name == config.name)
        {
            errs.push(FieldError {
                field: format!("{place}.name"),
                message: format!("\"{}\" is in the file twice.", config.name),
            });
        }
        configs.push(config);
    }
    if errs.is_empty() {
        Ok(configs)
    } else {
        Err(Error::invalid(errs))
    }
}
