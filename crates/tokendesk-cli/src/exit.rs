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
pub const CANCELLED: u8 = 130;

pub fn code_for(e: &Error) -> u8 {
    match e.code {
        ErrorCode::NeedsLogin | ErrorCode::InvalidGrant => NEEDS_LOGIN,
        ErrorCode::InvalidClient
        | ErrorCode::InvalidScope
        | ErrorCode::UnauthorizedClient
        | ErrorCode::ProviderError
        | ErrorCode::BadResponse
        | ErrorCode::AuthorizationDenied => PROVIDER,
        ErrorCode::StateMismatch | ErrorCode::IssuerMismatch | ErrorCode::CheckFailed => {
            CHECK_FAILED
        }
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Tls => UNREACHABLE,
        ErrorCode::NotFound => NOT_FOUND,
        ErrorCode::Keychain | ErrorCode::Storage => LOCAL,
        ErrorCode::Cancelled => CANCELLED,
        ErrorCode::InvalidInput => 2,
        _ => 1,
    }
}

/// Prints the error on stderr and returns its exit code.
pub fn report(e: &Error) -> ExitCode {
    eprintln!("error: {}", e.message);
    ExitCode::from(code_for(e))
}
