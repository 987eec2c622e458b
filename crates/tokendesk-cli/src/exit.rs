//! Exit codes, one per kind of failure a script may want to branch on (see `--help`).

use std::process::ExitCode;

use tokendesk_core::Error;

pub use tokendesk_door::exit::{
    CANCELLED, CANNOT_EXECUTE, CHECK_FAILED, COMMAND_NOT_FOUND, HTTP_CLIENT_ERROR,
    HTTP_SERVER_ERROR, LOCAL, NEEDS_LOGIN, NOT_FOUND, PROVIDER, UNREACHABLE, shell_word,
};

pub fn code_for(e: &Error) -> u8 {
    tokendesk_door::exit::code_for(&e.code.name())
}

/// A profile that needs a sign-in says which command does it.
pub fn with_login_hint(mut e: Error, profile: &str) -> Error {
    if let Some(hinted) = tokendesk_door::exit::login_hint(&e.code.name(), &e.message, profile) {
        e.message = hinted;
    }
    e
}

/// Prints the error on stderr and returns its exit code.
pub fn report(e: &Error) -> ExitCode {
    errln!("error: {}", e.message);
    ExitCode::from(code_for(e))
}
