//! What the bank has registered: authorizations (consents and payments), payments by
//! idempotency key, and the assertions already used. Everything is forgotten a day after it
//! was registered, so a sandbox left running does not grow for ever.

use std::collections::HashMap;

use serde_json::Value;

/// How long the bank remembers what it registered.
const KEPT_MS: u64 = 24 * 60 * 60 * 1000;

/// What an authorization was registered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// An account-information consent; a JWT-bearer token for it gets scope `accounts`.
    Consent,
    /// A payment; a JWT-bearer token for it gets scope `payments`.
    Payment,
}

impl Purpose {
    pub(crate) fn scope(self) -> &'static str {
        match self {
            Purpose::Consent => "accounts",
            Purpose::Payment => "payments",
        }
    }
}

/// A registered authorization; it stays `pending` (nobody reads its dates).
pub(crate) struct Authorization {
    pub client_id: &'static str,
    pub purpose: Purpose,
    registered_ms: u64,
}

/// A payment made under an idempotency key: the exact body and the answer it got.
pub(crate) struct Payment {
    pub body: Vec<u8>,
    pub answer: Value,
    registered_ms: u64,
}

#[derive(Default)]
pub(crate) struct Registry {
    authorizations: HashMap<String, Authorization>,
    /// (client id, x-idempotency-key) → the payment.
    payments: HashMap<(String, String), Payment>,
    /// (client id, jti) → when the assertion expires, epoch ms.
    assertions: HashMap<(String, String), u64>,
    /// CIBA requests by auth_req_id, until redeemed or expired.
    pub ciba: HashMap<String, super::ciba::CibaRequest>,
}

impl Registry {
    pub(crate) fn prune(&mut self, now_ms: u64) {
        let fresh = |registered: u64| now_ms < registered.saturating_add(KEPT_MS);
        self.authorizations.retain(|_, a| fresh(a.registered_ms));
        self.ciba
            .retain(|_, r| now_ms < r.expires_ms.saturating_add(60_000));
        self.payments.retain(|_, p| fresh(p.registered_ms));
        self.assertions.retain(|_, expires| now_ms < *expires);
    }

    /// Registers a new authorization and returns its id (a UUID).
    pub(crate) fn register(
        &mut self,
        client_id: &'static str,
        purpose: Purpose,
        now_ms: u64,
    ) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.authorizations.insert(
            id.clone(),
            Authorization {
                client_id,
                purpose,
                registered_ms: now_ms,
            },
        );
        id
    }

    /// The authorization `id` if `client_id` registered it.
    pub(crate) fn authorization(&self, id: &str, client_id: &str) -> Option<&Authorization> {
        self.authorizations
            .get(id)
            .filter(|a| a.client_id == client_id)
    }

    /// The payment already made under this idempotency key, if any.
    pub(crate) fn payment(&self, client_id: &str, key: &str) -> Option<&Payment> {
        self.payments.get(&(client_id.to_owned(), key.to_owned()))
    }

    pub(crate) fn remember_payment(
        &mut self,
        client_id: &str,
        key: &str,
        body: Vec<u8>,
        answer: Value,
        now_ms: u64,
    ) {
        self.payments.insert(
            (client_id.to_owned(), key.to_owned()),
            Payment {
                body,
                answer,
                registered_ms: now_ms,
            },
        );
    }

    /// Records an assertion's `jti`; `false` if the client used it already.
    pub(crate) fn use_assertion(&mut self, client_id: &str, jti: &str, expires_ms: u64) -> bool {
        self.assertions
            .insert((client_id.to_owned(), jti.to_owned()), expires_ms)
            .is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorizations_belong_to_their_client_and_are_forgotten_after_a_day() {
        let mut r = Registry::default();
        let id = r.register("tpp", Purpose::Consent, 1_000);
        assert_eq!(
            r.authorization(&id, "tpp").map(|a| a.purpose),
            Some(Purpose::Consent)
        );
        assert!(r.authorization(&id, "other").is_none());
        r.prune(1_000 + KEPT_MS - 1);
        assert!(r.authorization(&id, "tpp").is_some());
        r.prune(1_000 + KEPT_MS);
        assert!(r.authorization(&id, "tpp").is_none());
    }

    #[test]
    fn an_assertion_id_is_used_once_until_it_expires() {
        let mut r = Registry::default();
        assert!(r.use_assertion("tpp", "j1", 5_000));
        assert!(!r.use_assertion("tpp", "j1", 5_000));
        assert!(r.use_assertion("other", "j1", 5_000), "per client");
        r.prune(5_000);
        assert!(r.use_assertion("tpp", "j1", 9_000));
    }
}
