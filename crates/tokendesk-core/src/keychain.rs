//! The OS keychain: [`Keychain`] keeps secret values under one service name, one entry per
//! `{profile_id}/{kind}` account.
//!
//! On Linux (and the other desktops with a freedesktop Secret Service) it talks to the Secret
//! Service over D-Bus itself, through one connection and one encrypted session that live as long
//! as the `Keychain` does — opening a connection and negotiating a session costs more than the
//! call that follows, and the app, the agent and the refresher make many calls. On macOS and
//! Windows it goes through the `keyring` crate (Keychain Services, Credential Manager).
//!
//! Both keep the entries the `keyring` crate made: the same attributes, so either finds the
//! other's entries.

use crate::error::{Error, ErrorCode};

#[cfg(not(any(target_os = "macos", target_os = "windows")))]
mod secret_service;
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
pub use secret_service::Keychain;

#[cfg(any(target_os = "macos", target_os = "windows"))]
mod native;
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub use native::Keychain;

/// What a person can do when the keychain cannot be reached at all.
const UNREACHABLE_HINT: &str = if cfg!(target_os = "macos") {
    "Unlock the login keychain in Keychain Access."
} else if cfg!(target_os = "windows") {
    "Check that Windows Credential Manager is available for your account."
} else {
    "Start a Secret Service provider in your desktop session (GNOME Keyring or KWallet or \
     KeePassXC with Secret Service enabled) and unlock it; a shell without a D-Bus session bus \
     (DBUS_SESSION_BUS_ADDRESS) cannot reach it."
};

/// A keychain failure, said so that a person knows what to start or unlock. `what` is the
/// underlying error's text (keychain errors carry no secret values).
fn error(what: impl std::fmt::Display, hint: &str) -> Error {
    Error::new(
        ErrorCode::Keychain,
        format!("The OS keychain could not be used: {what}. {hint}")
            .trim_end()
            .to_owned(),
    )
}
