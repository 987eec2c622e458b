//! Opening the authorization URL: the system browser, or a command the user (or a test) names.
//! An opener that fails — cannot start, or exits with an error within a short wait — is
//! reported as a failure, so nobody is told "the browser was opened" when it was not.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};

/// `TOKENDESK_BROWSER`: a command to open URLs with (the URL is its last argument), instead of
/// the system browser.
pub const BROWSER_ENV: &str = "TOKENDESK_BROWSER";

/// How long an opener may take to fail before it counts as started: `xdg-open` and friends
/// exit within this when no browser is registered; a browser itself keeps running.
pub const OPENER_CHECK: Duration = Duration::from_millis(1500);

pub trait BrowserLauncher: Send + Sync {
    /// Opens the URL; blocks for up to [`OPENER_CHECK`] to see the opener fail.
    fn open(&self, url: &str) -> Result<()>;
}

/// The system's default browser, or `$TOKENDESK_BROWSER` when set.
pub struct SystemBrowser;

impl BrowserLauncher for SystemBrowser {
    fn open(&self, url: &str) -> Result<()> {
        match std::env::var(BROWSER_ENV)
            .ok()
            .filter(|c| !c.trim().is_empty())
        {
            Some(cmd) => {
                let mut parts = cmd.split_whitespace();
                let program = parts.next().unwrap_or_default().to_owned();
                let mut command = Command::new(&program);
                command.args(parts).arg(url);
                run_opener(command, OPENER_CHECK).map_err(|why| {
                    not_opened(format!("the {BROWSER_ENV} command \"{program}\" {why}"))
                })
            }
            // The system's openers in the order `open` tries them (xdg-open, gio, …): the
            // first that does not fail wins.
            None => {
                let mut why = Vec::new();
                for command in open::commands(url) {
                    let program = command.get_program().to_string_lossy().into_owned();
                    match run_opener(command, OPENER_CHECK) {
                        Ok(()) => return Ok(()),
                        Err(e) => why.push(format!("{program} {e}")),
                    }
                }
                let missing = why.iter().all(|w| w.contains("could not be started"));
                Err(not_opened(if why.is_empty() {
                    "this system has no opener for web addresses".into()
                } else if missing {
                    format!(
                        "no opener is installed (tried {})",
                        why.iter()
                            .filter_map(|w| w.split(' ').next())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    why.join("; ")
                }))
            }
        }
    }
}

fn not_opened(why: String) -> Error {
    Error::new(
        ErrorCode::Unsupported,
        format!(
            "No browser could be opened: {why}. Open the sign-in address yourself (copy it), then \
             paste the address the browser lands on."
        ),
    )
}

/// Starts an opener and watches it for `check`: an exit with an error, or a failure to start,
/// is the reason it failed; still running (a browser) or exited cleanly is success. A child
/// still running is reaped by a thread when it ends. The child is detached: its own session, none
/// of our descriptors.
fn run_opener(mut command: Command, check: Duration) -> std::result::Result<(), String> {
    // A browser may run for hours: it must not keep our caller's pipes open.
    #[cfg(unix)]
    crate::detach::detach(&mut command);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not be started ({e})"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("failed ({status})")),
            Ok(None) if started.elapsed() >= check => {
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("could not be watched ({e})")),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn an_opener_that_fails_or_cannot_start_is_a_failure() {
        let e = run_opener(Command::new("false"), OPENER_CHECK).unwrap_err();
        assert!(e.contains("failed"), "{e}");
        let e = run_opener(Command::new("/nonexistent/opener"), OPENER_CHECK).unwrap_err();
        assert!(e.contains("could not be started"), "{e}");
        assert!(run_opener(Command::new("true"), OPENER_CHECK).is_ok());
        let mut sleeper = Command::new("sleep");
        sleeper.arg("5");
        let t = Instant::now();
        assert!(run_opener(sleeper, Duration::from_millis(200)).is_ok());
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "a running browser is not waited for"
        );
    }
}
