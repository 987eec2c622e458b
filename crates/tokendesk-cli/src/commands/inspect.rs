//! `tokendesk inspect`: decode a JWT for reading; for a stored ID token, run the checks the app
//! shows (signature against the JWKS, iss, aud, exp, …) and fail when one fails.

use std::io::Read;

use serde_json::Value;
use tokendesk_core::inspect::{DecodedJwt, IdTokenValidation, decode_jwt};
use tokendesk_core::secret::SecretKind;
use tokendesk_core::token::TokenSet;
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
    print(&jwt, None, None, None, json)
}

pub async fn stored(core: &Core, args: &InspectArgs, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    if let Some(w) = tokendesk_core::flow::rar::unsupported_warning(&p) {
        errln!("warning: {w}");
    }
    let kind = match args.kind {
        Kind::Access => SecretKind::AccessToken,
        Kind::Refresh => SecretKind::RefreshToken,
        Kind::Id => SecretKind::IdToken,
    };
    let inspection = core.inspect(&p.id, kind).await?;
    let set = core.token(&p.id)?;
    let Some(jwt) = inspection.jwt else {
        let why = inspection.not_jwt.unwrap_or_else(|| "not a JWT".into());
        // An opaque token has nothing to decode, but what is known of it is still worth showing.
        if args.json {
            let mut out = serde_json::json!({ "token": inspection.token, "not_jwt": why });
            add_chain(&mut out, set.as_ref())?;
            outln!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        print_chain(set.as_ref());
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!("The token cannot be read: {why}."),
        ));
    };
    print(
        &jwt,
        inspection.validation.as_ref(),
        set.as_ref(),
        inspection.audience.as_ref(),
        args.json,
    )?;
    if let Some(a) = inspection.audience.as_ref().filter(|_| !args.json) {
        if a.matches {
            outln!(
                "Audience: the token is for the profile's resource {}.",
                a.resource
            );
        } else {
            outln!(
                "Audience: the token's aud ({}) does not name the profile's resource {}: the API \
                 may refuse it.",
                if a.aud.is_empty() {
                    "none".to_owned()
                } else {
                    a.aud.join(", ")
                },
                a.resource
            );
        }
    }
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

/// Header, claims, readable times, (for an ID token) the checks and (for an exchanged token)
/// what it was exchanged from: as text, or one JSON document with `--json`.
fn print(
    jwt: &DecodedJwt,
    checks: Option<&IdTokenValidation>,
    set: Option<&TokenSet>,
    audience: Option<&tokendesk_core::api::AudienceCheck>,
    json: bool,
) -> Result<()> {
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
        if let Some(a) = audience {
            out["audience"] = serde_json::to_value(a)?;
        }
        add_chain(&mut out, set)?;
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    outln!("Header:\n{}", serde_json::to_string_pretty(&jwt.header)?);
    outln!("Claims:\n{}", serde_json::to_string_pretty(&jwt.claims)?);
    if !times.is_empty() {
        outln!("Times:");
        for (k, v) in &times {
            outln!("  {k:<11} {}", v.as_str().unwrap_or_default());
        }
    }
    print_chain(set);
    if let Some(v) = checks {
        outln!("Checks:");
        let width = v.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &v.checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            outln!("  {mark} {:<width$}  {}", c.name, c.detail);
        }
    }
    Ok(())
}

/// What an exchanged token was exchanged from, and the authorization details asked and granted
/// (RFC 9396), in the JSON document.
fn add_chain(out: &mut Value, set: Option<&TokenSet>) -> Result<()> {
    if let Some(d) = set.and_then(|t| t.authorization_details.as_ref()) {
        out["authorization_details"] = serde_json::to_value(d)?;
    }
    if let Some(t) = set.filter(|t| !t.notes.is_empty()) {
        out["notes"] = serde_json::to_value(&t.notes)?;
    }
    if let Some(t) = set.filter(|t| t.exchanged_from.is_some()) {
        out["exchanged_from"] = serde_json::to_value(&t.exchanged_from)?;
        if t.exchange_actor.is_some() {
            out["exchange_actor"] = serde_json::to_value(&t.exchange_actor)?;
        }
        out["issued_token_type"] = serde_json::to_value(&t.issued_token_type)?;
    }
    Ok(())
}

/// What an exchanged token was exchanged from, and the authorization details, as text.
fn print_chain(set: Option<&TokenSet>) {
    let Some(t) = set else { return };
    if let Some(d) = &t.authorization_details {
        print_details(d);
    }
    for (what, link) in [
        ("Exchanged from", &t.exchanged_from),
        ("Actor token", &t.exchange_actor),
    ] {
        if let Some(l) = link {
            outln!("{what}: {} — fingerprint {}", l.describe(), l.fingerprint);
        }
    }
    if let Some(issued) = t.issued_token_type.as_deref() {
        outln!("Issued token type: {issued}");
    }
    if !t.notes.is_empty() {
        outln!("How the answer was read:");
        for n in &t.notes {
            outln!("  - {}", n.text);
        }
    }
}

/// The details granted beside those asked, and every difference (a narrowed amount, a dropped
/// type), so nothing the provider changed goes unnoticed.
fn print_details(d: &tokendesk_core::flow::rar::DetailsComparison) {
    let pretty = |v: &Option<Vec<Value>>| match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => "(none)".into(),
    };
    outln!("Authorization details granted:\n{}", pretty(&d.granted));
    outln!("Authorization details asked:\n{}", pretty(&d.requested));
    if d.differences.is_empty() {
        outln!("Granted as asked.");
    } else {
        outln!("Granted otherwise than asked:");
        for x in &d.differences {
            outln!("  - {}", x.describe());
        }
    }
}

/// `tokendesk inspect P`: a word that is not a JWT (nor `-`) names a profile.
pub fn names_profile(token: Option<&str>) -> Option<&str> {
    token.filter(|t| *t != "-" && t.split('.').count() != 3 && !t.trim().is_empty())
}
