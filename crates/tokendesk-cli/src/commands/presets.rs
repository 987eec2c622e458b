//! `tokendesk presets [ID] [--json]`: the provider presets, and one in full.

use tokendesk_core::Result;
use tokendesk_core::catalog::{self, Evidence, Preset};

use crate::output::{emit, table};

pub fn run(id: Option<&str>, json: bool) -> Result<()> {
    match (id, json) {
        (None, true) => {
            let all: Vec<_> = catalog::presets().iter().map(Preset::info).collect();
            emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&all).unwrap()
            ));
        }
        (None, false) => list(),
        (Some(id), true) => {
            let p = catalog::find(id)?;
            emit(&format!("{}\n", serde_json::to_string_pretty(p).unwrap()));
        }
        (Some(id), false) => emit(&describe(catalog::find(id)?)),
    }
    Ok(())
}

fn list() {
    let rows: Vec<Vec<String>> = catalog::presets()
        .iter()
        .map(|p| {
            let needs: Vec<String> = p
                .params
                .iter()
                .filter(|s| s.required)
                .map(|s| s.name.clone())
                .collect();
            vec![
                p.id.clone(),
                p.name.clone(),
                if needs.is_empty() {
                    "-".into()
                } else {
                    needs.join(", ")
                },
                p.checked.clone(),
            ]
        })
        .collect();
    table(&["ID", "PROVIDER", "NEEDS", "CHECKED"], &rows);
    errln!(
        "\n`tokendesk presets ID` shows one in full; `tokendesk profile add NAME --preset ID \
         --client-id … [--preset-param KEY=VALUE]` makes a profile from it."
    );
}

fn evidence(e: Evidence) -> &'static str {
    match e {
        Evidence::Documented => "documented",
        Evidence::UserReported => "user-reported",
        Evidence::NotVerified => "not verified",
    }
}

/// One preset, for people.
pub fn describe(p: &Preset) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "{} ({})\n{}\n{}\n", p.name, p.id, p.summary, p.docs);
    if !p.params.is_empty() {
        let _ = writeln!(o, "Parameters (--preset-param KEY=VALUE):");
        for s in &p.params {
            let value = match (&s.default, &s.example) {
                (Some(d), _) => format!("default {d}"),
                (None, Some(e)) if s.required => format!("required, e.g. {e}"),
                (None, Some(e)) => format!("optional, e.g. {e}"),
                (None, None) => "optional".into(),
            };
            let _ = writeln!(o, "  {:<16} {} ({value}): {}", s.name, s.label, s.help);
        }
        o.push('\n');
    }
    let e = &p.endpoints;
    let _ = writeln!(o, "Endpoints ({}):", evidence(e.evidence));
    for (k, t) in e.templates() {
        let _ = writeln!(o, "  {k:<21} {t}");
    }
    if let Some(n) = &e.note {
        let _ = writeln!(o, "  {n}");
    }
    let sends = p.sends();
    if !sends.is_empty() {
        let _ = writeln!(o, "\nSends:");
        for s in sends {
            let _ = writeln!(o, "  {}: {}", s.what, s.why);
        }
    }
    let c = &p.client;
    let _ = writeln!(
        o,
        "\nClient ({}): auth method {}; scopes {}",
        evidence(c.evidence),
        c.auth_method.as_str(),
        if c.scopes.is_empty() {
            "none".into()
        } else {
            c.scopes.join(" ")
        }
    );
    if let Some(n) = &c.note {
        let _ = writeln!(o, "  {n}");
    }
    let rt = &p.refresh_token;
    let _ = writeln!(o, "\nRefresh token ({}): {}", evidence(rt.evidence), rt.why);
    if let Some(l) = &rt.lifetime {
        let _ = writeln!(o, "  {l}");
    }
    let r = &p.redirect;
    let _ = writeln!(
        o,
        "\nRedirect ({}): {}",
        evidence(r.evidence),
        if r.https_only {
            "https only: no loopback listener; paste the redirect URL".to_owned()
        } else if r.hosts.is_empty() {
            "loopback rules not known".to_owned()
        } else {
            format!(
                "loopback {}, {}",
                r.hosts.join(" / "),
                if r.any_port { "any port" } else { "fixed port" }
            )
        }
    );
    if let Some(u) = &r.uri {
        let _ = writeln!(o, "  register {u}");
    }
    if let Some(n) = &r.note {
        let _ = writeln!(o, "  {n}");
    }
    let d = &p.device_flow;
    let _ = writeln!(
        o,
        "\nDevice flow ({}): {}{}",
        evidence(d.evidence),
        if d.supported { "yes" } else { "no" },
        d.note
            .as_deref()
            .map(|n| format!(". {n}"))
            .unwrap_or_default()
    );
    if !p.errors.is_empty() {
        let _ = writeln!(o, "\nKnown errors:");
        for e in &p.errors {
            let what = match (&e.code[..], &e.matches) {
                ("", Some(m)) => m.clone(),
                (c, Some(m)) => format!("{c} \"{m}\""),
                (c, None) => c.to_owned(),
            };
            let _ = writeln!(
                o,
                "  {what} ({})\n    {}\n    Fix: {}",
                evidence(e.evidence),
                e.cause,
                e.fix
            );
        }
    }
    let _ = writeln!(o, "\nSources:");
    for s in &p.sources {
        let _ = writeln!(o, "  {} — {}", s.url, s.about);
    }
    let _ = writeln!(o, "\nChecked: {}", p.checked);
    o
}
