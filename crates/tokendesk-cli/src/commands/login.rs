//! `tokendesk login`: the authorization-code flow from a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use tokendesk_core::browser::{BrowserLauncher, SystemBrowser};
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::LoginArgs;
use crate::output::left;

pub async fn run(core: &Core, args: &LoginArgs) -> Result<()> {
    let profile = core.profile(&args.profile)?;
    let started = core.begin_login(&profile.id).await?;
    let paste = args.no_browser || !started.listening;
    if paste {
        eprintln!(
            "Open this address in a browser and sign in:\n\n  {}\n",
            started.auth_url
        );
        eprintln!(
            "Then paste the address the browser lands on ({}…):",
            started.redirect_uri
        );
    } else {
        if let Err(e) = SystemBrowser.open(&started.auth_url) {
            eprintln!(
                "{}\nOpen this address yourself:\n\n  {}\n",
                e.message, started.auth_url
            );
        }
        eprintln!(
            "Waiting for the browser to come back to {} … (Ctrl-C cancels)",
            started.redirect_uri
        );
    }
    let timeout = Duration::from_secs(args.timeout);
    let login_id = started.login_id.clone();
    let pasted = async {
        if !paste {
            return std::future::pending().await;
        }
        let line = tokio::task::spawn_blocking(|| {
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("Could not read the pasted address: {e}."),
            )
        })?;
        if line.trim().is_empty() {
            return Err(Error::new(
                ErrorCode::Cancelled,
                "Nothing was pasted; sign-in cancelled.",
            ));
        }
        core.complete_login(&login_id, line.trim()).await
    };
    let waited = async {
        if !started.listening {
            return std::future::pending().await;
        }
        match core.wait_login(&started.login_id, timeout).await {
            // A pasted address completed the sign-in: its branch reports.
            Err(e) if e.code == ErrorCode::Cancelled => std::future::pending().await,
            other => other,
        }
    };
    let result = tokio::select! {
        r = waited => r,
        r = pasted => r,
        _ = tokio::signal::ctrl_c() => {
            core.cancel_login(&started.login_id);
            Err(Error::new(ErrorCode::Cancelled, "Sign-in cancelled."))
        }
    };
    let token = result?;
    let now = core.now();
    let mut summary = format!(
        "Signed in: profile \"{}\", access token valid for {}",
        profile.config.name,
        left(token.access_expires_at, now)
    );
    if token.refresh.is_some() {
        summary.push_str(&format!(
            ", refresh token for {}",
            left(token.refresh_expires_at, now)
        ));
    }
    if let Some(v) = &token.id_token_validation
        && !v.valid()
    {
        let failed: Vec<String> = v
            .failures()
            .iter()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        summary.push_str(&format!(
            ".\nThe ID token did not validate: {}",
            failed.join("; ")
        ));
    }
    eprintln!("{summary}.");
    if std::io::stdout().is_terminal() {
        eprintln!(
            "Get the token with: tokendesk token {}",
            shell_word(&profile.config.name)
        );
    }
    Ok(())
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
