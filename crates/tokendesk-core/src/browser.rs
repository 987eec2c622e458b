//! Opening the authorization URL: the system browser, or a command the user (or a test) names.

use std::process::{Command, Stdio};

use crate::error::{Error, ErrorCode, Result};

/// `TOKENDESK_BROWSER`: a command to open URLs with (the URL is its last argument), instead of
/// the system browser.
pub const BROWSER_ENV: &str = "TOKENDESK_BROWSER";

pub trait BrowserLauncher: Send + Sync {
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
                let program = parts.next().unwrap_or_default();
                Command::new(program)
                    .args(parts)
                    .arg(url)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .map(drop)
                    .map_err(|e| {
                        Error::new(
                            ErrorCode::Unsupported,
                            format!("Could not run {BROWSER_ENV} command \"{program}\": {e}."),
                        )
                    })
            }
            None => open::that_detached(url).map_err(|e| {
                Error::new(
                    ErrorCode::Unsupported,
                    format!(
                        "Could not open the system browser ({e}). Open the sign-in address \
                         yourself, then paste the address you are sent back to."
                    ),
                )
            }),
        }
    }
}
