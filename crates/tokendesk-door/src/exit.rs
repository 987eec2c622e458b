//! Exit codes, one per kind of failure a script may want to branch on (see `tokendesk --help`).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;

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

/// The exit code of a failure of kind `code` (`tokendesk_core::ErrorCode` as it is written:
/// `needs_login`, `network`, …).
pub fn code_for(code: &str) -> u8 {
    match code {
        "needs_login" | "invalid_grant" => NEEDS_LOGIN,
        "invalid_client"
        | "invalid_scope"
        | "unauthorized_client"
        | "invalid_target"
        | "provider_error"
        | "bad_response"
        | "authorization_denied" => PROVIDER,
        "state_mismatch" | "issuer_mismatch" | "check_failed" => CHECK_FAILED,
        "network" | "timeout" | "tls" => UNREACHABLE,
        "not_found" => NOT_FOUND,
        "keychain" | "storage" | "secret_source" => LOCAL,
        "cancelled" => CANCELLED,
        "invalid_input" => 2,
        _ => 1,
    }
}

/// Every kind [`code_for`] names, for the test that keeps them in step with `ErrorCode`.
pub const NAMED: &[&str] = &[
    "needs_login",
    "invalid_grant",
    "invalid_client",
    "invalid_scope",
    "unauthorized_client",
    "invalid_target",
    "provider_error",
    "bad_response",
    "authorization_denied",
    "state_mismatch",
    "issuer_mismatch",
    "check_failed",
    "network",
    "timeout",
    "tls",
    "not_found",
    "keychain",
    "storage",
    "secret_source",
    "cancelled",
    "invalid_input",
];

/// A failure that needs a sign-in says which command does it: `message` with the hint, or
/// `None` when it needs none (another failure, or the message names the command already).
pub fn login_hint(code: &str, message: &str, profile: &str) -> Option<String> {
    (code_for(code) == NEEDS_LOGIN && !message.contains("tokendesk login")).then(|| {
        format!(
            "{} Sign in with: tokendesk login {}",
            message.trim_end(),
            shell_word(profile)
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_named_kind_has_its_code_and_the_rest_are_general() {
        assert!(NAMED.iter().all(|c| code_for(c) != 1));
        assert_eq!(code_for("internal"), 1);
        assert_eq!(code_for("invalid_grant"), NEEDS_LOGIN);
        assert_eq!(code_for("tls"), UNREACHABLE);
    }

    #[test]
    fn sign_in_hints_quote_what_a_shell_would_split() {
        assert_eq!(
            login_hint("needs_login", "No token. ", "my gw").as_deref(),
            Some("No token. Sign in with: tokendesk login 'my gw'")
        );
        assert_eq!(login_hint("network", "down", "gw"), None);
        assert_eq!(
            login_hint("needs_login", "run tokendesk login gw", "gw"),
            None
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("a.b@c"), "a.b@c");
    }
}
