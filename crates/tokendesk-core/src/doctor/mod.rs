//! The setup check (`tokendesk doctor`, "Check setup" in the app): what is wrong with a profile
//! before anyone signs in. This module holds the report's shape and the judgements that need no
//! network (is this capability advertised, is this clock skew too much, how long is this
//! certificate valid); `api::doctor` runs the checks, in parallel, each with its own timeout,
//! and never writes a token, a secret or a profile.

pub mod capabilities;
pub mod certificate;
pub mod clock;
pub mod preset;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::http::Exchange;

/// Where a check looks: the path to the provider, the provider, this client, its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Network,
    Provider,
    Client,
    Tokens,
}

/// A check's outcome, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not run: it does not apply, or what it needs is missing (said in `seen`).
    Skipped,
    Pass,
    Warn,
    Fail,
}

/// One row of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CheckRow {
    /// Stable, for machines: `network:login.example:443`, `provider:issuer`, …
    pub id: String,
    pub layer: Layer,
    pub title: String,
    pub status: Status,
    /// What was seen.
    pub seen: String,
    /// What to do about it (for a warning or a failure).
    pub fix: Option<String>,
    /// What was sent and received for it, redacted.
    pub exchanges: Vec<Exchange>,
    pub duration_ms: u64,
}

impl CheckRow {
    pub fn new(id: impl Into<String>, layer: Layer, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            layer,
            title: title.into(),
            status: Status::Pass,
            seen: String::new(),
            fix: None,
            exchanges: Vec::new(),
            duration_ms: 0,
        }
    }

    pub fn pass(mut self, seen: impl Into<String>) -> Self {
        self.status = Status::Pass;
        self.seen = seen.into();
        self
    }

    pub fn warn(mut self, seen: impl Into<String>, fix: impl Into<String>) -> Self {
        self.status = Status::Warn;
        self.seen = seen.into();
        self.fix = Some(fix.into());
        self
    }

    pub fn fail(mut self, seen: impl Into<String>, fix: impl Into<String>) -> Self {
        self.status = Status::Fail;
        self.seen = seen.into();
        self.fix = Some(fix.into());
        self
    }

    pub fn skip(mut self, why: impl Into<String>) -> Self {
        self.status = Status::Skipped;
        self.seen = why.into();
        self.fix = None;
        self
    }

    pub fn with_exchanges(mut self, exchanges: Vec<Exchange>) -> Self {
        self.exchanges = exchanges;
        self
    }
}

/// The whole check of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SetupReport {
    pub profile_name: String,
    pub checked_at: i64,
    pub duration_ms: u64,
    /// Grouped by layer, in the order they were defined within it.
    pub checks: Vec<CheckRow>,
}

impl SetupReport {
    /// The worst outcome of any check (`Pass` for an empty report).
    pub fn worst(&self) -> Status {
        self.checks
            .iter()
            .map(|c| c.status)
            .filter(|s| *s != Status::Skipped)
            .max()
            .unwrap_or(Status::Pass)
    }

    /// Counts of pass / warn / fail / skipped.
    pub fn counts(&self) -> [usize; 4] {
        let n = |s| self.checks.iter().filter(|c| c.status == s).count();
        [
            n(Status::Pass),
            n(Status::Warn),
            n(Status::Fail),
            n(Status::Skipped),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_ignores_skipped_checks() {
        let row = |s: Status| CheckRow {
            status: s,
            ..CheckRow::new("x", Layer::Network, "x")
        };
        let mut r = SetupReport {
            profile_name: "p".into(),
            checked_at: 0,
            duration_ms: 0,
            checks: vec![row(Status::Pass), row(Status::Skipped)],
        };
        assert_eq!(r.worst(), Status::Pass);
        r.checks.push(row(Status::Warn));
        assert_eq!(r.worst(), Status::Warn);
        r.checks.push(row(Status::Fail));
        assert_eq!(r.worst(), Status::Fail);
        assert_eq!(r.counts(), [1, 1, 1, 1]);
    }
}
