//! Refresh history: one append-only event per refresh attempt, successful or not.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::clock::Millis;
use crate::error::ErrorCode;
use crate::profile::ProfileId;

/// Who asked for the refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The user, in the app.
    Manual,
    /// The background refresher.
    Automatic,
    /// The `tokendesk` command line.
    CommandLine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

/// [`RefreshEvent::method`] of a renewal with the refresh token; other renewals name the
/// profile's grant (`client_credentials`, `jwt_bearer`, …).
pub const REFRESH_TOKEN: &str = "refresh_token";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RefreshEvent {
    /// Assigned by the store.
    #[serde(default)]
    pub id: i64,
    pub profile_id: ProfileId,
    pub at: Millis,
    pub trigger: Trigger,
    /// How the new token was obtained: [`REFRESH_TOKEN`], or the name of the grant that was
    /// run again (for profiles without a refresh token).
    pub method: String,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub access_expires_at: Option<Millis>,
    pub refresh_expires_at: Option<Millis>,
    /// `refresh_count` as the provider reports it.
    pub refresh_count: Option<i64>,
    /// Whether the provider sent a new refresh token.
    pub rotated: bool,
    pub error_code: Option<ErrorCode>,
    pub error_message: Option<String>,
}
