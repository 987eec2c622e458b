//! `refresh`, `revoke`, `introspect`, `userinfo`, `history`.

use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::{Outcome, Trigger};
use tokendesk_core::{Core, Result};

use crate::output::{duration, left, table, time};

fn hint(refresh: bool) -> TokenHint {
    if refresh {
        TokenHint::RefreshToken
    } else {
        TokenHint::AccessToken
    }
}

pub async fn refresh(core: &Core, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    let t = core.refresh(&p.id, Trigger::CommandLine).await?;
    let now = core.now();
    eprintln!(
        "Refreshed \"{}\": access token valid for {}{}.",
        p.config.name,
        left(t.access_expires_at, now),
        t.refresh_count
            .map(|c| format!(", refresh_count {c}"))
            .unwrap_or_default()
    );
    Ok(())
}

pub async fn revoke(core: &Core, profile: &str, refresh: bool) -> Result<()> {
    let p = core.profile(profile)?;
    core.revoke(&p.id, hint(refresh)).await?;
    eprintln!(
        "Revoked the {} token of \"{}\".",
        if refresh { "refresh" } else { "access" },
        p.config.name
    );
    Ok(())
}

pub async fn introspect(core: &Core, profile: &str, refresh: bool) -> Result<()> {
    let p = core.profile(profile)?;
    let answer = core.introspect(&p.id, hint(refresh)).await?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

pub async fn userinfo(core: &Core, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&core.userinfo(&p.id).await?)?
    );
    Ok(())
}

pub fn history(core: &Core, profile: &str, limit: usize) -> Result<()> {
    let p = core.profile(profile)?;
    let events = core.history(&p.id, limit)?;
    if events.is_empty() {
        eprintln!("No token history yet for \"{}\".", p.config.name);
        return Ok(());
    }
    let word = |v: serde_json::Value| v.as_str().unwrap_or_default().replace('_', " ");
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                time(e.at),
                word(serde_json::to_value(e.kind).unwrap_or_default()),
                word(serde_json::to_value(e.trigger).unwrap_or_default()),
                e.method.replace('_', " "),
                match e.outcome {
                    Outcome::Success => "ok".into(),
                    Outcome::Failure => "failed".into(),
                },
                format!("{} ms", e.duration_ms),
                e.access_expires_at
                    .map(|t| duration(t - e.at))
                    .unwrap_or_default(),
                e.refresh_count.map(|c| c.to_string()).unwrap_or_default(),
                if e.rotated { "yes" } else { "no" }.into(),
                e.error_message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "TIME",
            "EVENT",
            "TRIGGER",
            "METHOD",
            "OUTCOME",
            "DURATION",
            "VALID FOR",
            "REFRESH COUNT",
            "ROTATED",
            "ERROR",
        ],
        &rows,
    );
    Ok(())
}
