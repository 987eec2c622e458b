//! `tokendesk inspect`: decode a JWT for reading.

use std::io::Read;

use serde_json::Value;
use tokendesk_core::inspect::decode_jwt;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::{InspectArgs, Kind};
use crate::output::time;

/// Decodes a token given on the command line or stdin (needs no store).
pub fn from_input(token: Option<&str>) -> Result<()> {
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
    print(value.trim())
}

pub async fn stored(core: &Core, args: &InspectArgs, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    let kind = match args.kind {
        Kind::Access => SecretKind::AccessToken,
        Kind::Refresh => SecretKind::RefreshToken,
        Kind::Id => SecretKind::IdToken,
    };
    let value = core.reveal(&p.id, kind).await?;
    print(value.expose())
}

fn print(token: &str) -> Result<()> {
    let jwt = decode_jwt(token)
        .map_err(|why| Error::new(ErrorCode::InvalidInput, format!("The token is {why}.")))?;
    // Time claims, readable.
    let times: serde_json::Map<String, Value> = ["iat", "exp", "nbf", "auth_time", "updated_at"]
        .iter()
        .filter_map(|k| {
            jwt.claims
                .get(*k)
                .and_then(Value::as_i64)
                .map(|v| (k.to_string(), time(v * 1000).into()))
        })
        .collect();
    let mut out = serde_json::json!({ "header": jwt.header, "claims": jwt.claims });
    if !times.is_empty() {
        out["times"] = Value::Object(times);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
