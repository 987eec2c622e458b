//! `tokendesk open [PROFILE]`: starts the TokenDesk app, or — when it already runs — brings its
//! window to the front; with a profile, the window shows it. The app runs one instance per
//! TokenDesk home: a second start hands its arguments to the first and quits at once.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokendesk_core::{Core, Error, ErrorCode, Result};

/// The app's program name.
const APP: &str = "tokendesk-app";
/// Names another app program (tests, unusual installs).
const APP_ENV: &str = "TOKENDESK_APP";

/// `$TOKENDESK_APP`, else `tokendesk-app` beside this program (a package installs both in
/// `/usr/bin`, a build leaves both in `target/…`), else on PATH.
fn app_program() -> PathBuf {
    if let Some(p) = std::env::var_os(APP_ENV).filter(|p| !p.is_empty()) {
        return p.into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|me| Some(me.parent()?.join(APP)))
        .map(|p| p.with_extension(std::env::consts::EXE_EXTENSION))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| APP.into())
}

pub fn run(core: &Core, profile: Option<&str>) -> Result<()> {
    // An unknown profile is said here, not silently ignored by the window.
    let profile = profile.map(|name| core.profile(name)).transpose()?;
    let program = app_program();
    let mut command = Command::new(&program);
    if let Some(p) = &profile {
        command.arg("--profile").arg(p.id.as_str());
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    tokendesk_core::detach::detach(&mut command);
    let mut child = command.spawn().map_err(|e| {
        Error::new(
            ErrorCode::Unsupported,
            format!(
                "Cannot start the TokenDesk app ({}): {e}. Install the app (it is `{APP}`, \
                 beside `tokendesk`), or name it with {APP_ENV}.",
                program.display()
            ),
        )
    })?;
    // A running app takes the request over and this start quits within moments; a new app
    // keeps running (it is the app now). Either is success; a quick failure is not.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => {
                errln!("TokenDesk is running: its window is in front.");
                return Ok(());
            }
            Ok(Some(status)) => {
                return Err(Error::new(
                    ErrorCode::Internal,
                    format!(
                        "The TokenDesk app stopped at start ({status}); run `{}` to see why.",
                        program.display()
                    ),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break,
        }
    }
    errln!("TokenDesk started.");
    Ok(())
}
