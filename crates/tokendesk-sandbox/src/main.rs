//! `tokendesk-sandbox`: runs the demo authorization server until Ctrl-C, SIGTERM, or — when
//! stdin is a pipe — the end of stdin. Demo only, not for production.
//!
//! On start it prints one JSON line to stdout:
//! `{"base":"http://127.0.0.1:PORT","standard":"<issuer>","gateway":"<issuer>","bank":"<issuer>"}`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tokendesk_sandbox::{Sandbox, SandboxOptions, Style};

const USAGE: &str = "\
tokendesk-sandbox — local demo OAuth 2.0 / OIDC authorization server (demo only, not for production)

Usage: tokendesk-sandbox [--port N] [--access-ttl SECONDS] [--refresh-ttl SECONDS] [--id-ttl SECONDS]

  --port N              port on 127.0.0.1 (default 0: any free port)
  --access-ttl S        access token lifetime in seconds (default 120)
  --refresh-ttl S       refresh token lifetime in seconds (default 900)
  --id-ttl S            ID token lifetime in seconds (default 120)
  -h, --help            this text

Prints one JSON line with the issuer URLs to stdout once listening. Stops on Ctrl-C, SIGTERM,
or end of stdin when stdin is a pipe.";

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("tokendesk-sandbox: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tokendesk-sandbox: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(opts))
}

async fn run(opts: SandboxOptions) -> ExitCode {
    let sandbox = match Sandbox::start(opts).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("tokendesk-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::json!({
        "base": sandbox.base_url(),
        "standard": sandbox.issuer(Style::Standard),
        "gateway": sandbox.issuer(Style::Gateway),
        "bank": sandbox.issuer(Style::Bank),
        "fapi": sandbox.issuer(Style::Fapi),
    });
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("tokendesk-sandbox: cannot write to stdout");
        sandbox.shutdown().await;
        return ExitCode::FAILURE;
    }
    drop(stdout);
    eprintln!(
        "tokendesk-sandbox: demo authorization server on {} — for first runs, demos and tests only, NOT for production. Stop with Ctrl-C.",
        sandbox.base_url()
    );

    let reason = stop_requested().await;
    eprintln!("tokendesk-sandbox: stopping ({reason})");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

/// Parses the flags; `Ok(None)` means help was asked for.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<SandboxOptions>, String> {
    let mut opts = SandboxOptions::default();
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value()?;
                opts.port = v
                    .parse()
                    .map_err(|_| format!("--port must be a number from 0 to 65535, not `{v}`"))?;
            }
            "--access-ttl" => opts.access_ttl = seconds(&flag, &value()?)?,
            "--refresh-ttl" => opts.refresh_ttl = seconds(&flag, &value()?)?,
            "--id-ttl" => opts.id_ttl = seconds(&flag, &value()?)?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(opts))
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(s) if s > 0 => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "{flag} must be a whole number of seconds above 0, not `{value}`"
        )),
    }
}

/// Waits for Ctrl-C, SIGTERM or (if stdin is a pipe) end of stdin; says which.
async fn stop_requested() -> &'static str {
    let stdin_closed = stdin_eof();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "Ctrl-C",
        _ = sigterm() => "SIGTERM",
        _ = stdin_closed => "stdin closed",
    }
}

#[cfg(unix)]
async fn sigterm() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending::<()>().await
}

/// Resolves when stdin reaches EOF, if stdin is a pipe (or a socket, which is what some
/// process launchers use for "pipes"); never otherwise.
async fn stdin_eof() {
    if !stdin_is_pipe() {
        return std::future::pending::<()>().await;
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.await;
}

#[cfg(unix)]
fn stdin_is_pipe() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn stdin_is_pipe() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<SandboxOptions>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_are_parsed_in_both_spellings() {
        let opts = parse(&[
            "--port",
            "8080",
            "--access-ttl=5",
            "--refresh-ttl",
            "7",
            "--id-ttl=9",
        ])
        .expect("valid")
        .expect("not help");
        assert_eq!(opts.port, 8080);
        assert_eq!(opts.access_ttl, Duration::from_secs(5));
        assert_eq!(opts.refresh_ttl, Duration::from_secs(7));
        assert_eq!(opts.id_ttl, Duration::from_secs(9));
    }

    #[test]
    fn bad_flags_are_explained() {
        assert!(
            parse(&["--port", "70000"])
                .expect_err("out of range")
                .contains("--port")
        );
        assert!(
            parse(&["--access-ttl", "0"])
                .expect_err("zero")
                .contains("above 0")
        );
        assert!(
            parse(&["--port"])
                .expect_err("no value")
                .contains("needs a value")
        );
        assert!(
            parse(&["--bogus"])
                .expect_err("unknown")
                .contains("--bogus")
        );
        assert_eq!(parse(&["--help"]), Ok(None));
    }
}
