//! The one error type of the core: a small [`ErrorCode`] the UI and the CLI can branch on, and a
//! message a person can act on. Messages never carry secret values.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What kind of failure this is; stable, serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user's input is invalid; see [`Error::fields`].
    InvalidInput,
    NotFound,
    /// A name is taken, or the state does not allow the operation.
    Conflict,
    /// The OS keychain is unreachable or refused.
    Keychain,
    /// A profile's secret command failed, hung or printed nothing, or its environment variable
    /// is not set.
    SecretSource,
    /// The local database failed.
    Storage,
    /// The provider could not be reached.
    Network,
    Timeout,
    Tls,
    /// The provider rejected the client credentials (`invalid_client`).
    InvalidClient,
    /// The grant (code, refresh token) was rejected (`invalid_grant`).
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    /// The provider refuses the profile's resource or audience (`invalid_target`, RFC 8707):
    /// the request can be made again without it ([`crate::Core::retry_without_resource`]).
    InvalidTarget,
    /// Any other OAuth error answer from the provider.
    ProviderError,
    /// The provider answered something that is not a usable OAuth answer (HTML, empty, bad JSON).
    BadResponse,
    /// No usable token and no way to get one without the user signing in again.
    NeedsLogin,
    /// The authorization response's `state` did not match; the code was not redeemed.
    StateMismatch,
    /// The authorization response's `iss` was wrong or missing; the code was not redeemed.
    IssuerMismatch,
    /// A security check of the provider's answer failed (an ID token's signature or claims, a
    /// userinfo subject): nothing of it was stored; see [`Error::checks`].
    CheckFailed,
    /// The user or the provider denied the authorization request.
    AuthorizationDenied,
    Cancelled,
    /// The profile or provider does not support the operation.
    Unsupported,
    Internal,
}

/// One invalid field of a user's input, for inline display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, thiserror::Error, Serialize, TS)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// With [`ErrorCode::CheckFailed`]: every check that was run, passed or not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::inspect::Check>,
    /// The provider's OAuth error (`error`, `error_description`) behind this one, for the
    /// explanations a provider preset knows ([`crate::catalog::explain`]).
    #[serde(skip)]
    #[ts(skip)]
    pub oauth: Option<Box<(String, Option<String>)>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl ErrorCode {
    /// The code as it is written (`needs_login`): in the agent's answers, where the door turns it
    /// into an exit code ([`tokendesk_door::exit::code_for`]).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => String::new(),
        }
    }
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            checks: Vec::new(),
            oauth: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, what)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// An input error made of field errors; the message lists them all.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: ErrorCode::InvalidInput,
            message,
            fields,
            checks: Vec::new(),
            oauth: None,
        }
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::new(
            ErrorCode::Storage,
            format!("The TokenDesk database failed: {e}"),
        )
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(format!("Stored data could not be read: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The door maps the codes it reads by name; every name it knows must be one of ours.
    #[test]
    fn every_code_the_door_maps_is_a_code() {
        for (name, _) in tokendesk_door::exit::CODES {
            let code: ErrorCode = serde_json::from_value(serde_json::json!(name))
                .unwrap_or_else(|_| panic!("the door maps {name}, which is no ErrorCode"));
            assert_eq!(code.name(), *name);
        }
        assert_eq!(ErrorCode::NeedsLogin.name(), "needs_login");
    }
}
