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

/// The failure kinds (`tokendesk_core::ErrorCode` as it is written) that have an exit code of
/// their own; every other kind exits with 1.
pub const CODES: &[(&str, u8)] = &[
    ("needs_login", NEEDS_LOGIN),
    ("invalid_grant", NEEDS_LOGIN),
    ("invalid_client", PROVIDER),
    ("invalid_scope", PROVIDER),
    ("unauthorized_client", PROVIDER),
    ("invalid_target", PROVIDER),
    ("provider_error", PROVIDER),
    ("bad_response", PROVIDER),
    ("authorization_denied", PROVIDER),
    ("state_mismatch", CHECK_FAILED),
    ("issuer_mismatch", CHECK_FAILED),
    ("check_failed", CHECK_FAILED),
    ("network", UNREACHABLE),
    ("timeout", UNREACHABLE),
    ("tls", UNREACHABLE),
    ("not_found", NOT_FOUND),
    ("keychain", LOCAL),
    ("storage", LOCAL),
    ("secret_source", LOCAL),
    ("cancelled", CANCELLED),
    ("invalid_input", 2),
];

/// The exit code of a failure of kind `code` (`needs_login`, `network`, …; see [`CODES`]).
pub fn code_for(code: &str) -> u8 {
    CODES
        .iter()
        .find(|(name, _)| *name == code)
        .map_or(1, |&(_, exit)| exit)
}

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
        assert!(
            CODES
                .iter()
                .all(|&(c, exit)| code_for(c) == exit && exit != 1)
        );
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
