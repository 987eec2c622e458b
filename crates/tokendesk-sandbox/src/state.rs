//! Everything the server remembers, in memory: pending logins, codes, grants and tokens.
//! Expired entries are pruned whenever the store is locked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::SandboxOptions;
use crate::bank::Registry;
use crate::client_key::ClientKey;
use crate::clients::DemoClient;
use crate::keys::SigningKey;
use crate::style::Style;

/// How long a login page stays usable.
pub(crate) const PENDING_TTL_MS: u64 = 10 * 60 * 1000;
/// How long an authorization code can be redeemed.
pub(crate) const CODE_TTL_MS: u64 = 60 * 1000;

/// Lifetimes in milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ttls {
    pub access_ms: u64,
    pub refresh_ms: u64,
    pub id_ms: u64,
}

/// State shared by every issuer.
pub(crate) struct Shared {
    pub base_url: String,
    pub ttls: Ttls,
    pub key: SigningKey,
    /// The bank's demo TPP key: the bank verifies what the TPP signs with its public half.
    pub tpp: ClientKey,
    /// The FAPI issuer's client key: its `private_key_jwt` assertions verify with the public half.
    pub fapi_client: ClientKey,
    store: Mutex<Store>,
}

impl Shared {
    pub(crate) fn new(
        base_url: String,
        opts: &SandboxOptions,
        key: SigningKey,
        keys: ClientKeys,
    ) -> Shared {
        Shared {
            base_url,
            ttls: Ttls {
                access_ms: millis(opts.access_ttl),
                refresh_ms: millis(opts.refresh_ttl),
                id_ms: millis(opts.id_ttl),
            },
            key,
            tpp: keys.tpp,
            fapi_client: keys.fapi,
            store: Mutex::new(Store::default()),
        }
    }
}

/// The demo clients' keys made at a start.
pub(crate) struct ClientKeys {
    pub tpp: ClientKey,
    pub fapi: ClientKey,
}

/// What a handler gets: the shared state plus the style of the issuer it serves.
#[derive(Clone)]
pub(crate) struct Issuer {
    pub shared: Arc<Shared>,
    pub style: Style,
}

impl Issuer {
    /// The issuer identifier, e.g. `http://127.0.0.1:PORT/gateway`.
    pub(crate) fn url(&self) -> String {
        format!("{}/{}", self.shared.base_url, self.style.path())
    }

    /// An endpoint of this issuer, `path` starting with `/`.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url())
    }

    /// Locks the store and drops whatever has expired. Never hold the guard across `.await`.
    pub(crate) fn store(&self, now_ms: u64) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters for a demo server, so a poisoned lock is simply taken over.
        let mut store = self
            .shared
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        store.prune(now_ms);
        store
    }
}

/// A login page waiting for Approve / Deny.
pub(crate) struct PendingAuthorization {
    pub style: Style,
    pub client: &'static DemoClient,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// `code id_token`: answered in the fragment, with a front-channel ID token.
    pub hybrid: bool,
    /// The bank: the registered authorization the request's claims named.
    pub authorization_id: Option<String>,
    /// FAPI: the DPoP key (thumbprint) the code is bound to.
    pub dpop_jkt: Option<String>,
    pub expires_ms: u64,
}

pub(crate) enum CodeUse {
    Fresh,
    /// Redeemed (or a redemption was attempted); `grant_id` names what it produced.
    Used {
        grant_id: Option<String>,
    },
}

pub(crate) struct AuthorizationCode {
    pub style: Style,
    pub client_id: &'static str,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub subject: String,
    pub auth_time_s: u64,
    pub authorization_id: Option<String>,
    /// FAPI: the DPoP key (thumbprint) that must prove possession at the code exchange.
    pub dpop_jkt: Option<String>,
    pub expires_ms: u64,
    /// Used codes are kept (beyond `expires_ms`) so that a replay can revoke their tokens.
    pub keep_until_ms: u64,
    pub used: CodeUse,
}

/// What one authorization (a code redemption or a client-credentials request) granted.
/// Every token issued for it carries its id, so revoking the grant revokes them all.
pub(crate) struct Grant {
    pub client: &'static DemoClient,
    pub subject: String,
    pub scope: Vec<String>,
    /// Epoch seconds of the (demo) login; `None` for client credentials.
    pub auth_time_s: Option<u64>,
    /// 0 on first issue, +1 on each refresh.
    pub refresh_count: u32,
    /// The bank: the registered authorization (consent or payment) this grant was given for.
    pub authorization_id: Option<String>,
    /// FAPI: the DPoP key the next access token is bound to (the key of the token request's
    /// proof; a refresh may bring another key, RFC 9449 §5).
    pub dpop_jkt: Option<String>,
    /// The grant is forgotten after its last token has expired.
    pub live_until_ms: u64,
    /// The bank: the authorization details (RFC 9396) granted, sent back with every token.
    pub authorization_details: Option<serde_json::Value>,
}

impl Grant {
    /// A new grant of `client` for `subject`: no login time, no refresh yet, nothing bound.
    pub(crate) fn new(
        client: &'static DemoClient,
        subject: &str,
        scope: &[String],
        now: u64,
    ) -> Self {
        Grant {
            client,
            subject: subject.to_owned(),
            scope: scope.to_vec(),
            auth_time_s: None,
            refresh_count: 0,
            authorization_id: None,
            dpop_jkt: None,
            live_until_ms: now,
            authorization_details: None,
        }
    }
}

pub(crate) struct TokenRecord {
    pub grant_id: String,
    pub style: Style,
    pub client_id: &'static str,
    pub subject: String,
    pub scope: Vec<String>,
    pub issued_ms: u64,
    pub expires_ms: u64,
    /// An access token bound to a DPoP key: that key's thumbprint (`cnf.jkt`).
    pub jkt: Option<String>,
}

impl TokenRecord {
    pub(crate) fn is_active(&self, now_ms: u64) -> bool {
        now_ms < self.expires_ms
    }
}

#[derive(Default)]
pub(crate) struct Store {
    pub pending: HashMap<String, PendingAuthorization>,
    pub codes: HashMap<String, AuthorizationCode>,
    pub grants: HashMap<String, Grant>,
    pub access: HashMap<String, TokenRecord>,
    pub refresh: HashMap<String, TokenRecord>,
    /// Refresh tokens replaced by rotation, kept to detect their reuse. Value: grant id and
    /// the time the token would have expired.
    pub rotated: HashMap<String, (String, u64)>,
    /// The bank's authorizations, payments and used assertions.
    pub bank: Registry,
    /// The FAPI issuer's pushed requests, nonces, and the proofs and assertions seen.
    pub fapi: crate::fapi::Registry,
}

impl Store {
    /// Keeps a new grant under a fresh id, and returns the id.
    pub(crate) fn add_grant(&mut self, grant: Grant) -> String {
        let id = crate::random::url_safe(16);
        self.grants.insert(id.clone(), grant);
        id
    }

    fn prune(&mut self, now_ms: u64) {
        self.pending.retain(|_, p| now_ms < p.expires_ms);
        self.codes.retain(|_, c| now_ms < c.keep_until_ms);
        self.access.retain(|_, t| t.is_active(now_ms));
        self.refresh.retain(|_, t| t.is_active(now_ms));
        self.rotated.retain(|_, (_, expires)| now_ms < *expires);
        self.grants.retain(|_, g| now_ms < g.live_until_ms);
        self.bank.prune(now_ms);
        self.fapi.prune(now_ms);
    }

    /// Revokes a grant: every access and refresh token issued for it stops working.
    pub(crate) fn revoke_grant(&mut self, grant_id: &str) {
        self.grants.remove(grant_id);
        self.access.retain(|_, t| t.grant_id != grant_id);
        self.refresh.retain(|_, t| t.grant_id != grant_id);
        self.rotated.retain(|_, (g, _)| g != grant_id);
    }

    /// Extends how long a grant is remembered to cover a token expiring at `expires_ms`.
    pub(crate) fn keep_grant_until(&mut self, grant_id: &str, expires_ms: u64) {
        if let Some(grant) = self.grants.get_mut(grant_id) {
            grant.live_until_ms = grant.live_until_ms.max(expires_ms);
        }
    }
}

/// Current time in epoch milliseconds. The only place the server reads the clock.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or(0)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
