//! The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus.
//!
//! One connection and one DH-encrypted session per [`Keychain`], opened on first use and kept:
//! a call is then one or two D-Bus round trips instead of a new connection, authentication and
//! key exchange every time. When the bus or the keyring daemon restarts under us, the stale
//! session fails once, is replaced and the call is tried again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use dbus_secret_service::{EncryptionType, Error as SsError, Item, SecretService};

use crate::error::{Error, ErrorCode, Result};
use crate::profile::ProfileId;
use crate::secret::{SecretKind, SecretStore, Sensitive, account};

/// How long an unlock prompt waits for the person before the Secret Service dismisses it; the
/// caller's own patience (`Vault`) is longer, so the person sees the prompt's outcome.
const PROMPT_SECONDS: u64 = 80;

/// Attribute values the `keyring` crate puts on its entries (kept so entries stay shared).
const TARGET: &str = "default";
const APPLICATION: &str = "rust-keyring";
const CONTENT_TYPE: &str = "text/plain";

/// The Secret Service under one service name.
pub struct Keychain {
    service: String,
    session: Mutex<Option<SecretService>>,
    sessions_opened: AtomicUsize,
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            session: Mutex::new(None),
            sessions_opened: AtomicUsize::new(0),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// How many Secret Service sessions this keychain has opened: one for its whole life,
    /// unless the service went away in between.
    pub fn sessions_opened(&self) -> usize {
        self.sessions_opened.load(Ordering::Relaxed)
    }

    /// Runs `op` on the kept session, opening one first if there is none. A failure on a session
    /// that was already open may just mean it went stale: that one is retried on a new session.
    fn call<T>(&self, op: impl Fn(&SecretService) -> std::result::Result<T, SsError>) -> Result<T> {
        let mut slot = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let mut may_retry = slot.is_some();
        loop {
            let session = match slot.as_ref() {
                Some(s) => s,
                None => {
                    let opened = SecretService::connect_with_max_prompt_timeout(
                        EncryptionType::Dh,
                        PROMPT_SECONDS,
                    )
                    .map_err(|e| super::error(e, super::UNREACHABLE_HINT))?;
                    self.sessions_opened.fetch_add(1, Ordering::Relaxed);
                    slot.insert(opened)
                }
            };
            match op(session) {
                Ok(v) => return Ok(v),
                Err(SsError::Dbus(_)) if may_retry => {
                    tracing::debug!("secret service session failed; opening a new one");
                    *slot = None;
                    may_retry = false;
                }
                Err(e) => return Err(failure(e)),
            }
        }
    }

    /// What identifies an entry (and what the `keyring` crate searches by).
    fn search<'a>(&'a self, account: &'a str) -> HashMap<&'a str, &'a str> {
        HashMap::from([
            ("service", self.service.as_str()),
            ("username", account),
            ("target", TARGET),
        ])
    }
}

/// Every item that matches, unlocked first (locked ones are unlocked, which may prompt).
fn matching<'s>(
    ss: &'s SecretService,
    attributes: HashMap<&str, &str>,
) -> std::result::Result<Vec<Item<'s>>, SsError> {
    let found = ss.search_items(attributes)?;
    for item in &found.locked {
        item.unlock()?;
    }
    Ok(found.unlocked.into_iter().chain(found.locked).collect())
}

fn failure(e: SsError) -> Error {
    let hint = match &e {
        SsError::Unavailable => super::UNREACHABLE_HINT,
        SsError::Locked | SsError::Prompt => {
            "Unlock the keyring (a password prompt may be waiting on your desktop) and try again."
        }
        SsError::Dbus(d)
            if d.name().is_some_and(|n| {
                n.ends_with(".ServiceUnknown")
                    || n.ends_with(".NoServer")
                    || n.ends_with(".Disconnected")
                    || n.ends_with(".NameHasNoOwner")
            }) =>
        {
            super::UNREACHABLE_HINT
        }
        _ => "",
    };
    super::error(e, hint)
}

impl SecretStore for Keychain {
    fn get(&self, profile: &ProfileId, kind: SecretKind) -> Result<Option<Sensitive<String>>> {
        let account = account(profile, kind);
        let secrets = self.call(|ss| {
            matching(ss, self.search(&account))?
                .iter()
                .map(Item::get_secret)
                .collect::<std::result::Result<Vec<_>, _>>()
        })?;
        match <[Vec<u8>; 1]>::try_from(secrets) {
            Ok([bytes]) => String::from_utf8(bytes)
                .map(Sensitive::new)
                .map(Some)
                .map_err(|_| {
                    Error::new(
                        ErrorCode::Keychain,
                        format!(
                            "The keychain entry {account} is not text; delete it and set it again."
                        ),
                    )
                }),
            Err(secrets) if secrets.is_empty() => Ok(None),
            Err(secrets) => Err(Error::new(
                ErrorCode::Keychain,
                format!(
                    "The keychain holds {} entries for {account} (service {}); remove all but \
                     one, e.g. in Seahorse or with `secret-tool clear service {} username \
                     {account}` and then set the value again.",
                    secrets.len(),
                    self.service,
                    self.service
                ),
            )),
        }
    }

    fn set(&self, profile: &ProfileId, kind: SecretKind, value: &Sensitive<String>) -> Result<()> {
        let account = account(profile, kind);
        let secret = value.expose().as_bytes();
        self.call(|ss| {
            let existing = matching(ss, self.search(&account))?;
            if !existing.is_empty() {
                return existing
                    .iter()
                    .try_for_each(|item| item.set_secret(secret, CONTENT_TYPE));
            }
            let collection = ss.get_default_collection()?;
            collection.ensure_unlocked()?;
            let mut attributes = self.search(&account);
            attributes.insert("application", APPLICATION);
            collection.create_item(
                &format!("{account}@{} (TokenDesk)", self.service),
                attributes,
                secret,
                true, // an item with the same attributes is replaced, not duplicated
                CONTENT_TYPE,
            )?;
            Ok(())
        })
    }

    fn delete(&self, profile: &ProfileId, kind: SecretKind) -> Result<()> {
        let account = account(profile, kind);
        self.call(|ss| {
            matching(ss, self.search(&account))?
                .iter()
                .try_for_each(Item::delete)
        })
    }
}
