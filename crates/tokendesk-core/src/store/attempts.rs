//! What a token operation (an acquisition, a renewal) writes when it ends, in one transaction:
//! the exchanges of its requests, the token set it obtained, and its history event linked to
//! the exchange that tells the story. One commit instead of one per write: at 10,000 profiles
//! renewing every 30 s that is 333 transactions a second instead of over a thousand.

use rusqlite::TransactionBehavior;

use super::{Store, exchanges, tokens};
use crate::clock::Millis;
use crate::error::Result;
use crate::history::{Outcome, TokenEvent};
use crate::http::Exchange;
use crate::token::TokenSet;

/// The writes of one token operation, committed together by [`Store::commit_attempt`].
pub struct AttemptWrites<'a> {
    /// The exchanges of its requests, not yet in the log.
    pub exchanges: &'a [Exchange],
    /// The token set it obtained, to store (none for a failure).
    pub token: Option<&'a TokenSet>,
    /// Its history event. Its `exchange_id` is set here: the newest exchange of the profile
    /// made at or after `since` — for a success, the newest token request.
    pub event: &'a mut TokenEvent,
    /// When the operation began.
    pub since: Millis,
}

impl Store {
    /// Writes a token operation's exchanges, token set and history event in one transaction,
    /// and returns the event's id. Nothing is written when any of it fails.
    pub fn commit_attempt(&self, w: AttemptWrites<'_>) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.insert_exchanges(&tx, w.exchanges)?;
        if let Some(t) = w.token {
            tokens::put(&tx, t)?;
        }
        let token_requests = w.event.outcome == Outcome::Success;
        w.event.exchange_id =
            exchanges::last_exchange_since(&tx, &w.event.profile_id, w.since, token_requests)?;
        let id = self.insert_event(&tx, w.event)?;
        tx.commit()?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{event, exchange, store_with_profile};
    use super::*;
    use crate::profile::GrantKind;
    use crate::tray::tests::token;

    #[test]
    fn an_attempt_is_written_whole_with_its_event_linked_to_its_token_request() {
        let (s, id) = store_with_profile();
        let t = token("p", GrantKind::ClientCredentials, 1_000, 61_000);
        let mut e = event(&id, 1_050);
        let calls = [
            exchange(&id, 1_010, "token:client_credentials"),
            exchange(&id, 1_020, "userinfo"),
        ];
        let event_id = s
            .commit_attempt(AttemptWrites {
                exchanges: &calls,
                token: Some(&t),
                event: &mut e,
                since: 1_000,
            })
            .unwrap();
        assert_eq!(s.get_token(&id).unwrap(), Some(t));
        let logged = s.exchanges(&id, 10).unwrap();
        assert_eq!(logged.len(), 2);
        let events = s.events(&id, 10).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].id, event_id);
        assert_eq!(
            events[0].exchange_id,
            Some(logged[0].id),
            "a success links to its token request, not to a later call"
        );
    }

    #[test]
    fn nothing_of_an_attempt_is_written_when_part_of_it_fails() {
        let (s, id) = store_with_profile();
        let before = token("p", GrantKind::ClientCredentials, 0, 60_000);
        s.put_token(&before).unwrap();
        s.conn()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON refresh_events
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let after = token("p", GrantKind::ClientCredentials, 1_000, 61_000);
        let written = s.commit_attempt(AttemptWrites {
            exchanges: &[exchange(&id, 1_010, "token:client_credentials")],
            token: Some(&after),
            event: &mut event(&id, 1_050),
            since: 1_000,
        });
        assert!(written.is_err());
        assert_eq!(
            s.get_token(&id).unwrap(),
            Some(before),
            "the token set stays"
        );
        assert!(s.exchanges(&id, 10).unwrap().is_empty());
        assert!(s.events(&id, 10).unwrap().is_empty());
    }
}
