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
pub(super) struct Attempt<'c> {
    core: &'c Core,
    kind: EventKind,
    profile_id: ProfileId,
    trigger: Trigger,
    method: String,
    started_at: Millis,
    started: Instant,
    /// The exchanges of its own requests ([`Core::stage`]), written with its event.
    exchanges: Vec<Exchange>,
}

impl Attempt<'_> {
    /// The request that finally answered was another than the one the attempt began with (a
    /// refused refresh token replaced by the profile's own grant): its event names that one.
    pub(super) fn answered_by(&mut self, method: &str) {
        method.clone_into(&mut self.method);
    }
}

/// An attempt dropped before it was recorded (its task cancelled: a shutdown, a caller's
/// timeout) still leaves its requests in the exchange log: they happened.
impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.exchanges.is_empty() {
            self.core
                .record_exchanges(std::mem::take(&mut self.exchanges));
        }
    }
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
    ) -> Attempt<'_> {
        Attempt {
            core: self,
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
    pub(super) fn stage(&self, attempt: &mut Attempt<'_>, call: &Call<'_>) {
        attempt.exchanges.extend(call.take_records());
        self.after_call(call);
    }

    /// Appends the event of a finished attempt (with its staged exchanges): the token it left
    /// (`previous`: the one before, to tell a rotation) or the error. Logged, not raised, when
    /// the store fails: the history must not hide the operation's own result.
    pub(super) fn record_attempt(
        &self,
        mut attempt: Attempt<'_>,
        result: std::result::Result<Option<&TokenSet>, &Error>,
        previous: Option<&TokenSet>,
    ) {
        if result.is_err() {
            // The next attempt reads the credentials from the keychain again: one changed
            // outside TokenDesk is used from then on (`api/secrets.rs`).
            self.forget_keychain_secrets(&attempt.profile_id);
        }
        if let Err(e) = self.write_attempt(&mut attempt, None, result, previous) {
            tracing::warn!(profile = %attempt.profile_id, error = %e, "history not written");
        }
    }

    /// Ends an attempt whose token set [`Core::persist_chained`] left to store:
    /// the token set, the attempt's exchanges and its event are written in one transaction,
    /// after the keychain writes. When that transaction fails the attempt fails: the previous
    /// token set stays, and the failure is recorded (with the exchanges) if the store lets it.
    pub(super) fn commit_attempt(
        &self,
        mut attempt: Attempt<'_>,
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
        match self.write_attempt(&mut attempt, Some(&token), Ok(Some(&token)), previous) {
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
        attempt: &mut Attempt<'_>,
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
        if let Some(first) = std::mem::take(&mut attempt.exchanges).into_iter().next() {
            self.emit(CoreEvent::ExchangesAppended {
                profile_id: first.profile_id,
            });
        }
        self.emit(CoreEvent::HistoryAppended {
            profile_id: event.profile_id,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::api::{Core, CoreOptions};
    use crate::history::{EventKind, Trigger};
    use crate::home::Home;
    use crate::profile::GrantKind;
    use crate::secret::MemorySecrets;
    use crate::store::testing::exchange;

    fn core_with_profile(dir: &std::path::Path) -> (Core, crate::profile::ProfileId) {
        let core = Core::open(
            Home::at(dir.to_path_buf()).unwrap(),
            Arc::new(MemorySecrets::default()),
            CoreOptions::default(),
        )
        .unwrap();
        let p = crate::tray::tests::profile("p", GrantKind::ClientCredentials);
        core.store.insert_profile(&p).unwrap();
        (core, p.id)
    }

    /// A renewal cancelled between its request and its commit (a shutdown, a caller's
    /// timeout) still leaves the request in the exchange log; a recorded one leaves it once.
    #[test]
    fn the_requests_of_an_attempt_are_logged_once_whether_it_ends_or_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (core, id) = core_with_profile(dir.path());
        let mut dropped =
            core.attempt(EventKind::Refresh, &id, Trigger::Automatic, "refresh_token");
        dropped
            .exchanges
            .push(exchange(&id, core.now(), "token:refresh_token"));
        drop(dropped);
        assert_eq!(core.store.exchanges(&id, 10).unwrap().len(), 1);
        assert!(core.store.events(&id, 10).unwrap().is_empty());

        let mut ended = core.attempt(EventKind::Refresh, &id, Trigger::Automatic, "refresh_token");
        ended
            .exchanges
            .push(exchange(&id, core.now(), "token:refresh_token"));
        core.record_attempt(ended, Ok(None), None);
        assert_eq!(core.store.exchanges(&id, 10).unwrap().len(), 2);
        assert_eq!(core.store.events(&id, 10).unwrap().len(), 1);
    }
}
