//! Exit codes, one per kind of failure a script may want to branch on (see `--help`).

use std::process::ExitCode;

use tokendesk_core::{Error, ErrorCode};

pub const NEEDS_LOGIN: u8 = 3;
pub const PROVIDER: u8 = 4;
pub const UNREACHABLE: u8 = 5;
pub const NOT_FOUND: u8 = 6;
pub const LOCAL: u8 = 7;
/// A security check of the provider's answer failed (state, iss, ID token, userinfo sub).
pub const CHECK_FAILED: u8 = 8;
/// `request`: the API answered 4xx (a 401 that persists after one renewal among them).
pub const HTTP_CLIENT_ERROR: u8 = 9;
/// `request`: the API answered 5xx.
pub const HTTP_SERVER_ERROR: u8 = 10;
/// `exec`: the command exists but cannot be run (as a shell says it).
pub const CANNOT_EXECUTE: u8 = 126;
/// `exec`: no such command (as a shell says it).
pub const COMMAND_NOT_FOUND: u8 = 127;
pub const CANCELLED: u8 = 130;

pub fn code_for(e: &Error) -> u8 {
    match e.code {
        ErrorCode::NeedsLogin | ErrorCode::InvalidGrant => NEEDS_LOGIN,
        ErrorCode::InvalidClient
        | ErrorCode::InvalidScope
        | ErrorCode::UnauthorizedClient
        | ErrorCode::InvalidTarget
        | ErrorCode::ProviderError
        | ErrorCode::BadResponse
        | ErrorCode::AuthorizationDenied => PROVIDER,
        ErrorCode::StateMismatch | ErrorCode::IssuerMismatch | ErrorCode::CheckFailed => {
            CHECK_FAILED
        }
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Tls => UNREACHABLE,
        ErrorCode::NotFound => NOT_FOUND,
        ErrorCode::Keychain | ErrorCode::Storage | ErrorCode::SecretSource => LOCAL,
        ErrorCode::Cancelled => CANCELLED,
        ErrorCode::InvalidInput => 2,
        _ => 1,
    }
}

/// A profile that needs a sign-in says which command does it.
pub fn with_login_hint(mut e: Error, profile: &str) -> Error {
    if code_for(&e) == NEEDS_LOGIN && !e.message.contains("tokendesk login") {
        e.message = format!(
            "{} Sign in with: tokendesk login {}",
            e.message.trim_end(),
            shell_word(profile)
        );
    }
    e
}

/// A word as a POSIX shell reads it back: quoted only when it must be.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@=+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Prints the error on stderr and returns its exit code.
pub fn report(e: &Error) -> ExitCode {
    errln!("error: {}", e.message);
    ExitCode::from(code_for(e))
}
