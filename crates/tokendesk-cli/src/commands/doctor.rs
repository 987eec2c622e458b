//! `tokendesk doctor [PROFILE]`: the setup check, as a checklist grouped by layer (or JSON).
//! Exit 0 when every check passes or only warns, 1 when one fails.

use std::io::IsTerminal;
use std::process::ExitCode;

use tokendesk_core::doctor::{Layer, SetupReport, Status};
use tokendesk_core::{Core, Result};

use crate::cli::DoctorArgs;

pub async fn run(core: &Core, args: &DoctorArgs) -> Result<ExitCode> {
    let profiles = match &args.profile {
        Some(name) => vec![core.profile(name)?],
        None => core.list_profiles()?,
    };
    let mut reports = Vec::new();
    for p in &profiles {
        reports.push(core.check_setup(&p.id).await?);
    }
    if args.json {
        let json = match (&args.profile, reports.as_slice()) {
            (Some(_), [one]) => serde_json::to_string_pretty(one)?,
            _ => serde_json::to_string_pretty(&reports)?,
        };
        crate::output::emit(&format!("{json}\n"));
    } else {
        if reports.is_empty() {
            errln!("No profiles to check.");
        }
        let text: Vec<String> = reports.iter().map(report_text).collect();
        crate::output::emit(&text.join("\n"));
    }
    let failed = reports.iter().any(|r| r.worst() == Status::Fail);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn report_text(r: &SetupReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let color = std::io::stdout().is_terminal();
    let paint = |code: &str, text: &str| match color {
        true => format!("\x1b[{code}m{text}\x1b[0m"),
        false => text.to_owned(),
    };
    let [pass, warn, fail, skipped] = r.counts();
    let _ = writeln!(
        out,
        "{} — {pass} passed, {warn} warning{}, {fail} failed, {skipped} skipped ({} ms)",
        paint("1", &r.profile_name),
        if warn == 1 { "" } else { "s" },
        r.duration_ms
    );
    let mut layer = None;
    for c in &r.checks {
        if layer != Some(c.layer) {
            layer = Some(c.layer);
            let _ = writeln!(
                out,
                "{}",
                paint(
                    "1",
                    match c.layer {
                        Layer::Network => "Network",
                        Layer::Provider => "Provider",
                        Layer::Client => "Client",
                        Layer::Tokens => "Tokens",
                    }
                )
            );
        }
        let mark = match c.status {
            Status::Pass => paint("32", "pass"),
            Status::Warn => paint("33", "warn"),
            Status::Fail => paint("31", "FAIL"),
            Status::Skipped => paint("2", "skip"),
        };
        let _ = writeln!(out, "  {mark}  {}: {}", c.title, c.seen);
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "        fix: {fix}");
        }
    }
    out
}
