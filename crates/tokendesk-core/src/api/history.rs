//! Recording the token history: every acquisition, refresh and revocation — who asked, how,
//! what came of it, and which exchange-log entry tells the story. No token value is recorded.

use std::time::Instant;

use super::Core;
use crate::clock::Millis;
use crate::error::{Error, Result};
use crate::events::CoreEvent;
use crate::history::{EventKind, Outcome, TokenEvent, Trigger};
use crate::http::{Call, Exchange};
use crate::profile::ProfileId;
use crate::store::AttemptWrites;
use crate::token::TokenSet;

/// An attempt under way, to be recorded with [`Core::record_attempt`] or
/// [`Core::commit_attempt`] when it ends.
pub(super) struct Attempt {
    kind: EventKind,
    profile_id: ProfileId,
    trigger: Trigger,
    method: String,
    started_at: Millis,
    started: Instant,
    /// The exchanges of its own requests ([`Core::stage`]), written with its event.
    exchanges: Vec<Exchange>,
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
            exchanges: Vec::new(),
        }
    }

    /// Who asks when an operation does not say: the app's user or the command line.
    pub(super) fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// Keeps a call's exchanges with the attempt: they are written with its event, in the
    /// same transaction ([`Core::record`] writes them at once).
    pub(super) fn stage(&self, attempt: &mut Attempt, call: &Call<'_>) {
        attempt.exchanges.extend(call.take_records());
        self.after_call(call);
    }

    /// Appends the event of a finished attempt (with its staged exchanges): the token it left
    /// (`previous`: the one before, to tell a rotation) or the error. Logged, not raised, when
    /// the store fails: the history must not hide the operation's own result.
    pub(super) fn record_attempt(
        &self,
        attempt: Attempt,
        result: std::result::Result<Option<&TokenSet>, &Error>,
        previous: Option<&TokenSet>,
    ) {
        if let Err(e) = self.write_attempt(&attempt, None, result, previous) {
            tracing::warn!(profile = %attempt.profile_id, error = %e, "history not written");
        }
    }

    /// Ends an attempt whose token set [`Core::persist_chained`] left to store:
    /// the token set, the attempt's exchanges and its event are written in one transaction,
    /// after the keychain writes. When that transaction fails the attempt fails: the previous
    /// token set stays, and the failure is recorded (with the exchanges) if the store lets it.
    pub(super) fn commit_attempt(
        &self,
        attempt: Attempt,
        result: Result<TokenSet>,
        previous: Option<&TokenSet>,
    ) -> Result<TokenSet> {
        let token = match result {
            Ok(token) => token,
            Err(e) => {
                self.record_attempt(attempt, Err(&e), previous);
                return Err(e);
            }
        };
        match self.write_attempt(&attempt, Some(&token), Ok(Some(&token)), previous) {
            Ok(()) => {
                tracing::info!(profile = %token.profile_id, "token stored");
                self.emit(CoreEvent::TokenChanged {
                    profile_id: token.profile_id.clone(),
                });
                Ok(token)
            }
            Err(e) => {
                self.record_attempt(attempt, Err(&e), previous);
                Err(e)
            }
        }
    }

    /// Writes an attempt's exchanges, `store` (the token set it obtained, if it is to be
    /// stored now) and its event in one transaction, then tells listeners.
    fn write_attempt(
        &self,
        attempt: &Attempt,
        store: Option<&TokenSet>,
        result: std::result::Result<Option<&TokenSet>, &Error>,
        previous: Option<&TokenSet>,
    ) -> Result<()> {
        let mut event = TokenEvent {
            id: 0,
            profile_id: attempt.profile_id.clone(),
            at: self.now(),
            kind: attempt.kind,
            trigger: attempt.trigger,
            method: attempt.method.clone(),
            outcome: Outcome::Success,
            duration_ms: attempt.started.elapsed().as_millis() as u64,
            access_expires_at: None,
            refresh_expires_at: None,
            refresh_count: None,
            rotated: false,
            error_code: None,
            error_message: None,
            // A success links to its token request; a failure to whatever it did last (the
            // refused request, the failed check, the step that broke): set by the store.
            exchange_id: None,
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
        self.store.commit_attempt(AttemptWrites {
            exchanges: &attempt.exchanges,
            token: store,
            event: &mut event,
            since: attempt.started_at,
        })?;
        if let Some(first) = attempt.exchanges.first() {
            self.emit(CoreEvent::ExchangesAppended {
                profile_id: first.profile_id.clone(),
            });
        }
        self.emit(CoreEvent::HistoryAppended {
            profile_id: event.profile_id,
        });
        Ok(())
    }
}
