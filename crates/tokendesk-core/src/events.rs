//! How the core reports changes without knowing who listens (the app forwards them as Tauri
//! events; the command line ignores them).

use serde::Serialize;
use ts_rs::TS;

use crate::profile::ProfileId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CoreEvent {
    ProfilesChanged,
    TokenChanged {
        profile_id: ProfileId,
    },
    TokenRemoved {
        profile_id: ProfileId,
    },
    HistoryAppended {
        profile_id: ProfileId,
    },
    ExchangesAppended {
        profile_id: ProfileId,
    },
    /// A step of getting a token went through (a consent registered, the browser opened, the
    /// front-channel checks passed): shown while the sign-in runs.
    Progress {
        profile_id: ProfileId,
        message: String,
    },
    /// Workspace files changed on disk (a `git pull`): their status may have changed. `removed`
    /// names the profiles parked because their file is gone (hidden, their tokens and keychain
    /// entries kept until the file comes back or they are pruned).
    WorkspacesChanged {
        removed: Vec<String>,
    },
    /// Automatic refresh cannot go on without the user signing in again.
    NeedsLogin {
        profile_id: ProfileId,
        message: String,
    },
}

pub trait EventSink: Send + Sync {
    fn emit(&self, event: CoreEvent);
}

/// For callers that do not listen.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: CoreEvent) {}
}
