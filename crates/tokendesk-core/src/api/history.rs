//! Recording the token history: every acquisition, refresh and revocation — who asked, how,
//! what came of it, and which exchange-log entry tells the story. No token value is recorded.

use std::time::Instant;

use super::Core;
use crate::clock::Millis;
use crate::error::Error;
use crate::events::CoreEvent;
use crate::history::{EventKind, Outcome, TokenEvent, Trigger};
use crate::profile::ProfileId;
use crate::token::TokenSet;

/// An attempt under way, to be recorded with [`Core::record_attempt`] when it ends.
pub(super) struct Attempt {
    kind: EventKind,
    profile_id: ProfileId,
    trigger: Trigger,
    method: String,
    started_at: Millis,
    started: Instant,
}

impl Core {
    /// Starts timing an attempt of `kind` on a profile's token; `method` as
    /// [`TokenEvent::method`] says.
    pub(super) fn attempt(
        &self,
        kind: EventKind,
        profile_id: &ProfileId,
        trigger: Trigger,
        method: &str,
    ) -> Attempt {
        Attempt {
            kind,
            profile_id: profile_id.clone(),
            trigger,
            method: method.to_owned(),
            started_at: self.now(),
            started: Instant::now(),
        }
    }

    /// Who asks when an operation does not say: the app's user or the command line.
    pub(super) fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// Appends the event of a finished attempt: the token it left (`previous`: the one before,
    /// to tell a rotation) or the error. Logged, not raised, when the store fails: the history
    /// must not hide the operation's own result.
    pub(super) fn record_attempt(
        &self,
        attempt: Attempt,
        result: std::result::Result<Option<&TokenSet>, &Error>,
        previous: Option<&TokenSet>,
    ) {
        let failed = result.is_err();
        // A success links to its token request; a failure to whatever it did last (the
        // refused request, the failed check, the step that broke).
        let exchange_id = self
            .store
            .last_exchange_since(&attempt.profile_id, attempt.started_at, !failed)
            .unwrap_or_else(|e| {
                tracing::warn!(profile = %attempt.profile_id, error = %e, "exchange log not read");
                None
            });
        let mut event = TokenEvent {
            id: 0,
            profile_id: attempt.profile_id,
            at: self.now(),
            kind: attempt.kind,
            trigger: attempt.trigger,
            method: attempt.method,
            outcome: Outcome::Success,
            duration_ms: attempt.started.elapsed().as_millis() as u64,
            access_expires_at: None,
            refresh_expires_at: None,
            refresh_count: None,
            rotated: false,
            error_code: None,
            error_message: None,
            exchange_id,
            authorization_details: None,
        };
        match result {
            Ok(Some(t)) => {
                event.access_expires_at = t.access_expires_at;
                event.refresh_expires_at = t.refresh_expires_at;
                event.refresh_count = t.refresh_count;
                event.rotated = t.rotated_from(previous);
                event.authorization_details = t.authorization_details.clone();
            }
            Ok(None) => {}
            Err(e) => {
                event.outcome = Outcome::Failure;
                event.error_code = Some(e.code);
                event.error_message = Some(e.message.clone());
            }
        }
        match self.store.append_event(&event) {
            Ok(_) => self.emit(CoreEvent::HistoryAppended {
                profile_id: event.profile_id,
            }),
            Err(e) => {
                tracing::warn!(profile = %event.profile_id, error = %e, "history not written")
            }
        }
    }
}
