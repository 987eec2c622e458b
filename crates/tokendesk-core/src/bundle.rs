//! The support bundle: everything a support person needs to see why a setup fails — the
//! profile, what discovery found, the token's metadata, the token history and the exchange
//! log — as plain text, with no secret in it (the exchange log is redacted when recorded).

use std::fmt::Write as _;

use crate::doctor::{SetupReport, Status};
use crate::history::TokenEvent;
use crate::http::Exchange;
use crate::profile::Profile;
use crate::token::TokenSet;

pub fn render(
    profile: &Profile,
    secret_stored: bool,
    token: Option<&TokenSet>,
    history: &[TokenEvent],
    exchanges: &[Exchange],
    check: Option<&SetupReport>,
    now: i64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "TokenDesk support bundle ({} {})",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "Generated at {now} (epoch ms). Secrets, tokens and codes are redacted.\n"
    );
    let _ = writeln!(
        out,
        "== Profile \"{}\" ({})",
        profile.config.name, profile.id
    );
    let _ = writeln!(out, "{}", json(&profile.config));
    let _ = writeln!(
        out,
        "{}: {}",
        if profile.config.auth_method == crate::profile::AuthMethod::PrivateKeyJwt {
            "private key"
        } else {
            "client secret"
        },
        if secret_stored {
            "stored in the OS keychain"
        } else {
            "not stored"
        }
    );
    if let Some(meta) = &profile.metadata {
        let _ = writeln!(
            out,
            "\n== Discovery ({}, fetched at {})",
            meta.source_url, meta.fetched_at
        );
        let _ = writeln!(out, "{}", json(&meta.raw));
    }
    let _ = writeln!(out, "\n== Token");
    match token {
        Some(t) => {
            let _ = writeln!(out, "{}", json(t));
        }
        None => {
            let _ = writeln!(out, "(none)");
        }
    }
    if let Some(r) = check {
        let _ = writeln!(
            out,
            "\n== Setup check (at {}, {} ms)",
            r.checked_at, r.duration_ms
        );
        for c in &r.checks {
            let mark = match c.status {
                Status::Pass => "pass",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
                Status::Skipped => "skip",
            };
            let _ = writeln!(out, "{mark}  {}: {}", c.title, c.seen);
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "      fix: {fix}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n== Token history: acquisitions, refreshes, revocations (newest first)"
    );
    for e in history {
        let _ = writeln!(out, "{}", json(e));
    }
    let _ = writeln!(out, "\n== Exchanges (oldest first)");
    for x in exchanges {
        let _ = writeln!(
            out,
            "\n-- {} {} {} → {} in {} ms [{}] at {}",
            x.operation,
            x.method,
            x.url,
            x.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no response".into()),
            x.duration_ms,
            x.profile_id,
            x.at
        );
        for h in &x.request_headers {
            let _ = writeln!(out, "> {}: {}", h.name, h.value);
        }
        if !x.request_body.is_empty() {
            let _ = writeln!(out, ">\n{}", x.request_body);
        }
        for h in &x.response_headers {
            let _ = writeln!(out, "< {}: {}", h.name, h.value);
        }
        if !x.response_body.is_empty() {
            let _ = writeln!(out, "<\n{}", x.response_body);
        }
        if let Some(e) = &x.error {
            let _ = writeln!(out, "! {e}");
        }
    }
    out
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
