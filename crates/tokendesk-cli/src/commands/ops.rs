//! `refresh`, `revoke`, `introspect`, `userinfo`, `history`.

use std::process::ExitCode;

use tokendesk_core::flow::token_ops::TokenHint;
use tokendesk_core::history::{Outcome, Trigger};
use tokendesk_core::store::EVENTS_KEPT_PER_PROFILE;
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
    errln!(
        "Refreshed \"{name}\": access token valid for {}{}.",
        left(expires_at, now),
        refresh_count
            .map(|c| format!(", refresh_count {c}"))
            .unwrap_or_default()
    );
}

/// The profile of a plain `tokendesk refresh PROFILE`, which the door hands to the agent.
pub fn refresh_quick_args(args: &[String]) -> Option<&str> {
    match args {
        [command, profile] if command == "refresh" && !profile.starts_with('-') => {
            Some(profile.as_str())
        }
        _ => None,
    }
}

/// `tokendesk refresh PROFILE` done by the running token agent; `None` when no agent answers
/// (or it is turned off with `TOKENDESK_NO_AGENT`): then this process does it.
pub fn refresh_fast_path(profile: &str) -> Option<ExitCode> {
    #[cfg(unix)]
    {
        if std::env::var_os("TOKENDESK_NO_AGENT").is_some() {
            return None;
        }
        let run_dir = tokendesk_core::home::Home::run_dir_from_env()?;
        match tokendesk_core::agent::refresh(&run_dir, profile)? {
            Ok(r) => {
                refreshed(&r.name, r.expires_at, r.now, r.refresh_count);
                Some(ExitCode::SUCCESS)
            }
            Err(e) => Some(crate::exit::report(&e)),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = profile;
        None
    }
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
