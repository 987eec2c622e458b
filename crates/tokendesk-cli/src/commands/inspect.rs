//! `tokendesk inspect`: decode a JWT for reading; for a stored ID token, run the checks the app
//! shows (signature against the JWKS, iss, aud, exp, …) and fail when one fails.

use std::io::Read;

use serde_json::Value;
use tokendesk_core::inspect::{DecodedJwt, IdTokenValidation, decode_jwt};
use tokendesk_core::secret::SecretKind;
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::{InspectArgs, Kind};
use crate::output::time;

/// Decodes a token given on the command line or stdin (needs no store).
pub fn from_input(token: Option<&str>, json: bool) -> Result<()> {
    let value = match token {
        Some("-") | None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Error::new(
                    ErrorCode::InvalidInput,
                    format!("Could not read stdin: {e}."),
                )
            })?;
            s
        }
        Some(t) => t.to_owned(),
    };
    let jwt = decode_jwt(value.trim()).map_err(|why| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("The token cannot be read: {why}."),
        )
    })?;
    print(&jwt, None, json)
}

pub async fn stored(core: &Core, args: &InspectArgs, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    let kind = match args.kind {
        Kind::Access => SecretKind::AccessToken,
        Kind::Refresh => SecretKind::RefreshToken,
        Kind::Id => SecretKind::IdToken,
    };
    let inspection = core.inspect(&p.id, kind).await?;
    let Some(jwt) = inspection.jwt else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "The token cannot be read: {}.",
                inspection.not_jwt.unwrap_or_else(|| "not a JWT".into())
            ),
        ));
    };
    print(&jwt, inspection.validation.as_ref(), args.json)?;
    match inspection.validation {
        Some(v) if !v.valid() => Err(Error::new(
            ErrorCode::CheckFailed,
            format!(
                "The ID token fails {} of its {} checks (see above).",
                v.failures().len(),
                v.checks.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// Header, claims, readable times and (for an ID token) the checks: as text, or one JSON
/// document with `--json`.
fn print(jwt: &DecodedJwt, checks: Option<&IdTokenValidation>, json: bool) -> Result<()> {
    let times: serde_json::Map<String, Value> = ["iat", "exp", "nbf", "auth_time", "updated_at"]
        .iter()
        .filter_map(|k| {
            jwt.claims
                .get(*k)
                .and_then(Value::as_i64)
                .map(|v| (k.to_string(), time(v * 1000).into()))
        })
        .collect();
    if json {
        let mut out = serde_json::json!({ "header": jwt.header, "claims": jwt.claims });
        if !times.is_empty() {
            out["times"] = Value::Object(times);
        }
        if let Some(v) = checks {
            out["checks"] = serde_json::to_value(&v.checks)?;
            out["valid"] = v.valid().into();
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("Header:\n{}", serde_json::to_string_pretty(&jwt.header)?);
    println!("Claims:\n{}", serde_json::to_string_pretty(&jwt.claims)?);
    if !times.is_empty() {
        println!("Times:");
        for (k, v) in &times {
            println!("  {k:<11} {}", v.as_str().unwrap_or_default());
        }
    }
    if let Some(v) = checks {
        println!("Checks:");
        let width = v.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &v.checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            println!("  {mark} {:<width$}  {}", c.name, c.detail);
        }
    }
    Ok(())
}
