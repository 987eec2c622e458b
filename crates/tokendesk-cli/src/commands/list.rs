//! `tokendesk list`: profiles and their tokens' state.

use serde_json::json;
use tokendesk_core::clock::Millis;
use tokendesk_core::store::ProfileSummary;
use tokendesk_core::{Core, Result};

use crate::output::{left, table};

pub fn run(core: &Core, json: bool) -> Result<()> {
    let now = core.now();
    // One query: each profile's name, grant, token and origin, without its configuration and
    // provider metadata (10,000 profiles in milliseconds, bench/list).
    let summaries = core.profile_summaries()?;
    if json {
        let list: Vec<serde_json::Value> = summaries.iter().map(|p| as_json(p, now)).collect();
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = summaries
        .into_iter()
        .map(|p| {
            let t = p.token.as_ref();
            let state = match t {
                None => "no token".to_owned(),
                Some(t) => serde_json::to_value(t.state(now))
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default(),
            };
            vec![
                p.name,
                p.environment,
                p.grant.as_str().replace('_', "-"),
                state,
                t.map(|t| left(t.access_expires_at, now))
                    .unwrap_or_default(),
                t.filter(|t| t.has_refresh)
                    .map(|t| left(t.refresh_expires_at, now))
                    .unwrap_or_default(),
                t.and_then(|t| t.refresh_count)
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
                p.origin
                    .map(|(workspace, file)| {
                        let ws = std::path::Path::new(&workspace);
                        let name = ws.file_name().unwrap_or(ws.as_os_str());
                        format!("{}/{file}", name.to_string_lossy())
                    })
                    .unwrap_or_else(|| "local".into()),
            ]
        })
        .collect();
    if rows.is_empty() {
        errln!(
            "No profiles yet: add one with `tokendesk profile add`, or run `tokendesk sandbox --add-profiles`."
        );
        return Ok(());
    }
    table(
        &[
            "PROFILE",
            "ENVIRONMENT",
            "GRANT",
            "STATE",
            "ACCESS",
            "REFRESH",
            "REFRESHES",
            "FROM",
        ],
        &rows,
    );
    Ok(())
}

/// One profile for `list --json`: what the table shows, with times as epoch milliseconds and
/// the state as the app names it (`valid`, `expired`, `needs_login`…). No token values.
fn as_json(p: &ProfileSummary, now: Millis) -> serde_json::Value {
    let token = p.token.as_ref().map(|t| {
        let mut v = serde_json::to_value(t).unwrap_or_default();
        v["state"] = serde_json::to_value(t.state(now)).unwrap_or_default();
        v
    });
    json!({
        "id": p.id,
        "name": p.name,
        "environment": p.environment,
        "grant": p.grant,
        "origin": p.origin.as_ref().map(|(workspace, file)| json!({
            "workspace": workspace,
            "file": file,
        })),
        "token": token,
    })
}
