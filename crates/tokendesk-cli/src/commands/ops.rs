//! `refresh`, `revoke`, `introspect`, `userinfo`, `history`.

use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::{Outcome, Trigger};
use tokendesk_core::store::EVENTS_KEPT_PER_PROFILE;
use tokendesk_core::{Core, Result};

use crate::output::{duration, table, time};

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
    refreshed(
        &p.config.name,
        t.access_expires_at,
        core.now(),
        t.refresh_count,
    );
    // An agent keeps the store and the keychain session open for the next refresh.
    #[cfg(unix)]
    crate::agent::spawn_in_background(&core.home().run_dir());
    Ok(())
}

fn refreshed(name: &str, expires_at: Option<i64>, now: i64, refresh_count: Option<i64>) {
    errout!(
        "{}",
        tokendesk_door::answer::refreshed(name, expires_at, now, refresh_count)
    );
}

pub async fn revoke(core: &Core, profile: &str, refresh: bool) -> Result<()> {
    let p = core.profile(profile)?;
    core.revoke(&p.id, hint(refresh)).await?;
    errln!(
        "Revoked the {} token of \"{}\".",
        if refresh { "refresh" } else { "access" },
        p.config.name
    );
    Ok(())
}

pub async fn introspect(core: &Core, profile: &str, refresh: bool) -> Result<()> {
    let p = core.profile(profile)?;
    let answer = core.introspect(&p.id, hint(refresh)).await?;
    outln!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

pub async fn userinfo(core: &Core, profile: &str) -> Result<()> {
    let p = core.profile(profile)?;
    outln!(
        "{}",
        serde_json::to_string_pretty(&core.userinfo(&p.id).await?)?
    );
    Ok(())
}

pub fn history(core: &Core, profile: &str, limit: usize, json: bool) -> Result<()> {
    let p = core.profile(profile)?;
    let events = core.history(&p.id, limit)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(());
    }
    if events.is_empty() {
        errln!("No token history yet for \"{}\".", p.config.name);
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
    // More asked for than is kept: say why no more can come.
    let kept = core.history_kept()?;
    if limit > kept {
        let why = match kept < EVENTS_KEPT_PER_PROFILE {
            true => " in a store of this many profiles (they share the history's room)",
            false => "",
        };
        errln!("The history keeps the newest {kept} events of each profile{why}.");
    }
    Ok(())
}
