//! What the FAPI issuer remembers: pushed requests until they are used or expire, the nonces it
//! handed out, and the DPoP proofs and client assertions already seen (each only for as long as
//! it could be accepted).

use std::collections::HashMap;

use crate::clients::DemoClient;
use crate::random;

/// How long a `request_uri` can be used (RFC 9126 §2.2's `expires_in`).
pub(crate) const REQUEST_URI_TTL_S: u64 = 60;
/// How long a nonce handed out is accepted.
pub(crate) const NONCE_TTL_MS: u64 = 5 * 60 * 1000;
/// The `request_uri` prefix (RFC 9126 §2.2).
pub(crate) const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// An authorization request pushed to `/par`, checked and waiting for the browser.
pub(crate) struct PushedRequest {
    pub client: &'static DemoClient,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// The DPoP key the code will be bound to: `dpop_jkt`, or the PAR request's proof.
    pub dpop_jkt: Option<String>,
    pub expires_ms: u64,
}

#[derive(Default)]
pub(crate) struct Registry {
    requests: HashMap<String, PushedRequest>,
    /// nonce → until when it is accepted.
    nonces: HashMap<String, u64>,
    /// (key thumbprint, jti) of proofs seen → until when their iat is in the window.
    proofs: HashMap<(String, String), u64>,
    /// (client id, jti) of assertions seen → until when they could be accepted.
    assertions: HashMap<(String, String), u64>,
}

impl Registry {
    pub(crate) fn prune(&mut self, now_ms: u64) {
        self.requests.retain(|_, r| now_ms < r.expires_ms);
        self.nonces.retain(|_, until| now_ms < *until);
        self.proofs.retain(|_, until| now_ms < *until);
        self.assertions.retain(|_, until| now_ms < *until);
    }

    /// Keeps a pushed request and returns its `request_uri`.
    pub(crate) fn push(&mut self, request: PushedRequest) -> String {
        let uri = format!("{REQUEST_URI_PREFIX}{}", random::url_safe(24));
        self.requests.insert(uri.clone(), request);
        uri
    }

    /// Takes a pushed request out: a `request_uri` is used once.
    pub(crate) fn take(&mut self, request_uri: &str) -> Option<PushedRequest> {
        self.requests.remove(request_uri)
    }

    /// The nonce to hand out: the newest one while it has more than half its life left, else a
    /// new one. Older nonces stay accepted until they expire.
    pub(crate) fn nonce(&mut self, now_ms: u64) -> String {
        let fresh = self
            .nonces
            .iter()
            .filter(|(_, until)| now_ms + NONCE_TTL_MS / 2 < **until)
            .max_by_key(|(_, until)| **until)
            .map(|(nonce, _)| nonce.clone());
        fresh.unwrap_or_else(|| {
            let nonce = random::url_safe(18);
            self.nonces
                .insert(nonce.clone(), now_ms.saturating_add(NONCE_TTL_MS));
            nonce
        })
    }

    pub(crate) fn accepts_nonce(&self, nonce: &str, now_ms: u64) -> bool {
        self.nonces.get(nonce).is_some_and(|until| now_ms < *until)
    }

    /// Records a proof's `jti` for its key; `false` if that key used it already.
    pub(crate) fn use_proof(&mut self, jkt: &str, jti: &str, until_ms: u64) -> bool {
        self.proofs
            .insert((jkt.to_owned(), jti.to_owned()), until_ms)
            .is_none()
    }

    /// Records an assertion's `jti`; `false` if the client used it already.
    pub(crate) fn use_assertion(&mut self, client_id: &str, jti: &str, until_ms: u64) -> bool {
        self.assertions
            .insert((client_id.to_owned(), jti.to_owned()), until_ms)
            .is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_reused_while_young_and_accepted_until_it_expires() {
        let mut r = Registry::default();
        let first = r.nonce(0);
        assert_eq!(r.nonce(NONCE_TTL_MS / 2 - 1), first, "still young");
        let second = r.nonce(NONCE_TTL_MS / 2);
        assert_ne!(second, first, "half its life gone: a new one");
        assert!(r.accepts_nonce(&first, NONCE_TTL_MS - 1));
        r.prune(NONCE_TTL_MS);
        assert!(!r.accepts_nonce(&first, NONCE_TTL_MS));
        assert!(r.accepts_nonce(&second, NONCE_TTL_MS));
        assert!(!r.accepts_nonce("made-up", 0));
    }

    #[test]
    fn proofs_and_assertions_are_single_use_while_remembered() {
        let mut r = Registry::default();
        assert!(r.use_proof("k1", "j", 100));
        assert!(!r.use_proof("k1", "j", 100));
        assert!(r.use_proof("k2", "j", 100), "per key");
        assert!(r.use_assertion("c", "j", 100));
        assert!(!r.use_assertion("c", "j", 100));
        r.prune(100);
        assert!(r.use_proof("k1", "j", 200));
    }
}
