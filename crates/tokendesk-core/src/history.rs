//! Token history: one append-only event per attempt to get, renew or revoke a profile's
//! token — the first acquisition (sign-in, client credentials, exchange, …), every refresh,
//! every revocation — successful or not. No token value is ever part of an event.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::clock::Millis;
use crate::error::ErrorCode;
use crate::profile::ProfileId;

/// Who asked for the token.
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

/// What an event did to the profile's token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A new token from the profile's grant: a sign-in (authorization code, device), client
    /// credentials, token exchange, JWT bearer. It replaces the token before it.
    Acquisition,
    /// The token renewed: with the refresh token, or by running the grant again. Events
    /// recorded before acquisitions were (schema 2) are all refreshes.
    #[default]
    Refresh,
    /// The access or refresh token revoked at the provider (RFC 7009).
    Revocation,
}

/// [`TokenEvent::method`] of a renewal with the refresh token; other renewals and
/// acquisitions name the profile's grant (`client_credentials`, `authorization_code`, …),
/// revocations the token revoked (`access_token`, `refresh_token`).
pub const REFRESH_TOKEN: &str = "refresh_token";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TokenEvent {
    /// Assigned by the store.
    #[serde(default)]
    pub id: i64,
    pub profile_id: ProfileId,
    pub at: Millis,
    #[serde(default)]
    pub kind: EventKind,
    pub trigger: Trigger,
    /// How the new token was obtained: [`REFRESH_TOKEN`], or the name of the grant that was
    /// run (for acquisitions, and renewals of profiles without a refresh token); for a
    /// revocation, the token revoked.
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
    /// The exchange-log entry ([`crate::http::Exchange::id`]) that tells this attempt's story:
    /// the token request of a success, the last exchange (the failed request or check) of a
    /// failure. `None` when the attempt sent nothing, or for events recorded before.
    #[serde(default)]
    pub exchange_id: Option<i64>,
    /// Rich Authorization Requests (RFC 9396): what the new token was granted, beside what was
    /// asked, and every difference.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub authorization_details: Option<crate::flow::rar::DetailsComparison>,
}
