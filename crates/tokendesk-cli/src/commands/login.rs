//! `tokendesk login`: the authorization-code flow from a terminal, or a device sign-in
//! (`--device`, RFC 8628) approved on another device.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use tokendesk_core::browser::{BrowserLauncher, SystemBrowser};
use tokendesk_core::flow::SignIn;
use tokendesk_core::profile::Profile;
use tokendesk_core::resource::step_up::LoginDemand;
use tokendesk_core::token::TokenSet;
use tokendesk_core::{Core, Error, ErrorCode, Result};

use crate::cli::LoginArgs;
use crate::output::left;

pub async fn run(core: &Core, args: &LoginArgs) -> Result<()> {
    let mut profile = core.profile(&args.profile)?;
    if args.without_resource {
        profile = super::without_resource::apply(core, profile).await?;
    }
    if profile.config.grant.spec().sign_in == SignIn::Decoupled {
        let token = ciba(core, args).await?;
        signed_in(core, &profile, &token);
        return Ok(());
    }
    if args.device || profile.config.grant.spec().sign_in == SignIn::Device {
        let token = device(core, args).await?;
        signed_in(core, &profile, &token);
        return Ok(());
    }
    if let Some(w) = tokendesk_core::flow::rar::unsupported_warning(&profile) {
        errln!("warning: {w}");
    }
    let profile = add_scopes(core, profile, &args.scope_add).await?;
    let demand = LoginDemand {
        acr_values: args.acr.clone(),
        max_age: args.max_age,
    };
    let started = core.begin_login_with(&profile.id, &demand).await?;
    let mut paste = args.no_browser || !started.listening;
    if !paste {
        let url = started.auth_url.clone();
        let opened = tokio::task::spawn_blocking(move || SystemBrowser.open(&url))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        match opened {
            Ok(()) => errln!(
                "Opened the browser. Waiting for the browser to come back to {} … (Ctrl-C cancels)",
                started.redirect_uri
            ),
            Err(e) => {
                errln!("{}", e.message);
                paste = true;
            }
        }
    }
    if paste {
        errln!(
            "Open this address in a browser and sign in:\n\n  {}\n",
            started.auth_url
        );
        if started.listening {
            errln!(
                "TokenDesk listens on {} for the browser to come back; or paste the address the \
                 browser lands on here:",
                started.redirect_uri
            );
        } else {
            errln!(
                "Then paste the address the browser lands on ({}…):",
                started.redirect_uri
            );
        }
    }
    let timeout = Duration::from_secs(args.timeout);
    let login_id = started.login_id.clone();
    // Whichever channel brings the redirect first completes the sign-in; the core hands the
    // other one the same outcome, so a later paste of the same address is not an error.
    let pasted = async {
        if !paste {
            return std::future::pending().await;
        }
        let line = read_line_detached().await.map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("Could not read the pasted address: {e}."),
            )
        })?;
        if line.trim().is_empty() {
            if started.listening {
                // stdin closed or empty (a script, no terminal): keep waiting for the browser.
                return std::future::pending().await;
            }
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
        core.wait_login(&started.login_id, timeout).await
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
    signed_in(core, &profile, &token);
    if !demand.is_empty() {
        if core.check_login_demand(&profile.id, &demand).await? {
            errln!("The new token meets the demanded authentication (acr, auth_time).");
        } else {
            errln!(
                "note: neither an ID token nor a JWT access token says how the user signed in; \
                 the API will tell whether the sign-in was strong enough."
            );
        }
    }
    Ok(())
}

/// The profile with `scopes` added to its own (kept: later sign-ins and refreshes ask for them
/// too), said when its scope changed.
async fn add_scopes(core: &Core, profile: Profile, scopes: &[String]) -> Result<Profile> {
    let updated = core.add_scopes(&profile.id, scopes).await?;
    if updated.config.scopes != profile.config.scopes {
        errln!(
            "The profile's scope is now \"{}\".",
            updated.config.scopes.join(" ")
        );
    }
    Ok(updated)
}

/// A device sign-in (RFC 8628): the address and the code (and a QR code on a terminal), then
/// the wait for the approval on the other device. Needs no browser and no stdin.
async fn device(core: &Core, args: &LoginArgs) -> Result<TokenSet> {
    let profile = core.profile(&args.profile)?;
    let started = core.begin_device_login(&profile.id).await?;
    errln!(
        "To sign in, open this address on any device (a phone, a laptop):\n\n  {}\n\nand enter \
         the code:\n\n  {}\n",
        started.verification_uri,
        started.user_code
    );
    if let Some(complete) = &started.verification_uri_complete {
        errln!("Or open this address, which carries the code:\n\n  {complete}\n");
    }
    if std::io::stdout().is_terminal()
        && let Ok(qr) = tokendesk_core::qr::terminal(started.qr_address())
    {
        outln!("{qr}\n");
    }
    errln!(
        "Waiting for the approval (the code expires in {}; Ctrl-C cancels) …",
        left(Some(started.expires_at), core.now())
    );
    wait_elsewhere(core, args, &started.login_id, started.expires_at).await
}

/// A CIBA sign-in: the provider reaches the user, who approves on their own device; the
/// binding message printed here is what that device must show.
async fn ciba(core: &Core, args: &LoginArgs) -> Result<TokenSet> {
    let profile = core.profile(&args.profile)?;
    let options = tokendesk_core::CibaLoginOptions {
        login_hint: args.login_hint.clone(),
        user_code: std::env::var("TOKENDESK_USER_CODE").ok(),
    };
    let started = core.begin_ciba_login(&profile.id, options).await?;
    for w in &started.warnings {
        errln!("warning: {w}");
    }
    let who = started
        .login_hint
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    errln!("Asked the provider to reach the user{who}: approve on their device.");
    match &started.binding_message {
        Some(m) => {
            errln!("Approve only if the device shows:\n");
            outln!("  {m}\n");
        }
        None => errln!("(No binding message: the device shows none to compare.)"),
    }
    errln!(
        "Waiting for the approval ({} mode; the request expires in {}; Ctrl-C cancels) …",
        match started.mode {
            tokendesk_core::flow::ciba::DeliveryMode::Poll => "poll",
            tokendesk_core::flow::ciba::DeliveryMode::Ping => "ping",
        },
        left(Some(started.expires_at), core.now())
    );
    wait_elsewhere(core, args, &started.login_id, started.expires_at).await
}

/// Waits for a sign-in approved on another device (device code or CIBA), with a countdown on
/// a terminal; `--timeout` and Ctrl-C cancel it, and no further poll is sent.
async fn wait_elsewhere(
    core: &Core,
    args: &LoginArgs,
    login_id: &str,
    expires_at: tokendesk_core::clock::Millis,
) -> Result<TokenSet> {
    let ticking = std::io::stderr().is_terminal();
    let countdown = async {
        if !ticking {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            errout!("\r  waiting … {} left ", left(Some(expires_at), core.now()));
            let _ = std::io::stderr().flush();
        }
    };
    let give_up = Duration::from_secs(args.timeout);
    let result = tokio::select! {
        r = core.wait_device_login(login_id) => r,
        _ = countdown => unreachable!("the countdown never ends"),
        _ = tokio::time::sleep(give_up) => {
            core.cancel_login(login_id);
            Err(Error::new(
                ErrorCode::Timeout,
                format!("Nobody approved the sign-in within {} s (--timeout).", args.timeout),
            ))
        }
        _ = tokio::signal::ctrl_c() => {
            core.cancel_login(login_id);
            Err(Error::new(ErrorCode::Cancelled, "Sign-in cancelled."))
        }
    };
    if ticking {
        errln!();
    }
    result
}

/// What a finished sign-in says on stderr.
fn signed_in(core: &Core, profile: &Profile, token: &TokenSet) {
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
    if let Some(v) = &token.id_token_validation {
        summary.push_str(&format!(
            "; the ID token passed its {} checks",
            v.checks.len()
        ));
    }
    errln!("{summary}.");
    if std::io::stdout().is_terminal() {
        errln!(
            "Get the token with: tokendesk token {}",
            shell_word(&profile.config.name)
        );
    }
}

/// One line from stdin, read on a thread of its own: a sign-in completed by the browser must
/// not wait for a read that never ends (the runtime would wait for a blocking task on exit).
async fn read_line_detached() -> std::io::Result<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("paste".into())
        .spawn(move || {
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            let _ = tx.send(std::io::stdin().lock().read_line(&mut line).map(|_| line));
        })?;
    rx.await
        .unwrap_or_else(|_| Err(std::io::Error::other("the reader stopped")))
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
