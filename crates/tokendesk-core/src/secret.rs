//! Secret values as a type, and where they live: the OS keychain.
//!
//! [`Sensitive`] prints `<redacted>` and cannot be serialised; the value comes out only through
//! an explicit [`Sensitive::expose`]. [`SecretStore`] is the keychain seam: [`Keychain`] is the
//! real one (Secret Service, macOS Keychain, Windows Credential Manager), [`MemorySecrets`] is for
//! unit tests. There is no plaintext fallback.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use ts_rs::TS;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode, Result};
pub use crate::keychain::Keychain;
use crate::profile::ProfileId;

/// A secret value. Debug prints `<redacted>`; there is no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret value itself. Every call site is a place a secret leaves its box: keep them few.
    pub fn expose(&self) -> &T {
        &self.0
    }
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// A masked preview for display: the first and last few characters of a long value
/// (`eyJhbGci…x9Q`), nothing of a short one.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 24 {
        return format!("•••• ({} chars)", chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A short, stable fingerprint of a token (first 8 bytes of its SHA-256), to tell tokens apart
/// without storing them.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a keychain entry holds; the entry's account is `{profile_id}/{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    ClientSecret,
    AccessToken,
    RefreshToken,
    IdToken,
    /// The key that signs client assertions and request objects (`private_key_jwt`).
    PrivateKey,
    /// The key of the client certificate for mutual TLS (RFC 8705).
    TlsKey,
    /// The key that signs DPoP proofs (RFC 9449), a private JWK; made by TokenDesk.
    DpopKey,
    /// The registration access token of a dynamically registered client (RFC 7591 §3.2.1),
    /// which reads, updates and deletes its registration (RFC 7592).
    RegistrationAccessToken,
}

impl SecretKind {
    pub const ALL: [SecretKind; 8] = [
        SecretKind::ClientSecret,
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
        SecretKind::IdToken,
        SecretKind::PrivateKey,
        SecretKind::TlsKey,
        SecretKind::DpopKey,
        SecretKind::RegistrationAccessToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client_secret",
            SecretKind::AccessToken => "access_token",
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::IdToken => "id_token",
            SecretKind::PrivateKey => "private_key",
            SecretKind::TlsKey => "tls_key",
            SecretKind::DpopKey => "dpop_key",
            SecretKind::RegistrationAccessToken => "registration_access_token",
        }
    }
}

pub(crate) fn account(profile: &ProfileId, kind: SecretKind) -> String {
    format!("{}/{}", profile.as_str(), kind.as_str())
}

/// Where secret values are kept. A missing entry is `Ok(None)`, never an error.
pub trait SecretStore: Send + Sync {
    fn get(&self, profile: &ProfileId, kind: SecretKind) -> Result<Option<Sensitive<String>>>;
    fn set(&self, profile: &ProfileId, kind: SecretKind, value: &Sensitive<String>) -> Result<()>;
    /// Deleting a missing entry is not an error.
    fn delete(&self, profile: &ProfileId, kind: SecretKind) -> Result<()>;
}

/// An in-memory secret store, for unit tests of pure logic.
#[derive(Default)]
pub struct MemorySecrets {
    map: Mutex<HashMap<String, String>>,
}

impl SecretStore for MemorySecrets {
    fn get(&self, profile: &ProfileId, kind: SecretKind) -> Result<Option<Sensitive<String>>> {
        let map = self.map.lock().expect("secret map poisoned");
        Ok(map
            .get(&account(profile, kind))
            .cloned()
            .map(Sensitive::new))
    }
    fn set(&self, profile: &ProfileId, kind: SecretKind, value: &Sensitive<String>) -> Result<()> {
        let mut map = self.map.lock().expect("secret map poisoned");
        map.insert(account(profile, kind), value.expose().clone());
        Ok(())
    }
    fn delete(&self, profile: &ProfileId, kind: SecretKind) -> Result<()> {
        let mut map = self.map.lock().expect("secret map poisoned");
        map.remove(&account(profile, kind));
        Ok(())
    }
}

/// How long a keychain call may take, an unlock prompt included, before it counts as failed.
const KEYCHAIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(90);

/// A [`SecretStore`] shared across tasks, its blocking calls kept off the async runtime's threads.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<dyn SecretStore>,
    patience: std::time::Duration,
}

impl Vault {
    pub fn new(inner: Arc<dyn SecretStore>) -> Self {
        Self {
            inner,
            patience: KEYCHAIN_PATIENCE,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretStore) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        let task = tokio::task::spawn_blocking(move || f(inner.as_ref()));
        match tokio::time::timeout(self.patience, task).await {
            Ok(joined) => {
                joined.map_err(|e| Error::internal(format!("keychain task failed: {e}")))?
            }
            Err(_) => Err(Error::new(
                ErrorCode::Keychain,
                format!(
                    "The OS keychain did not answer within {} seconds. It may be waiting for you to \
                     unlock it (look for a password prompt), or its service hangs.",
                    self.patience.as_secs()
                ),
            )),
        }
    }

    pub async fn get(
        &self,
        profile: &ProfileId,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        let profile = profile.clone();
        self.blocking(move |s| s.get(&profile, kind)).await
    }

    pub async fn set(
        &self,
        profile: &ProfileId,
        kind: SecretKind,
        value: Sensitive<String>,
    ) -> Result<()> {
        let profile = profile.clone();
        self.blocking(move |s| s.set(&profile, kind, &value)).await
    }

    pub async fn delete(&self, profile: &ProfileId, kind: SecretKind) -> Result<()> {
        let profile = profile.clone();
        self.blocking(move |s| s.delete(&profile, kind)).await
    }

    /// Removes every entry a profile may have, blocking the calling thread (not for a runtime's
    /// worker: see [`Vault::delete_all`]).
    pub fn delete_all_now(&self, profile: &ProfileId) -> Result<()> {
        SecretKind::ALL
            .iter()
            .try_for_each(|kind| self.inner.delete(profile, *kind))
    }

    /// Removes every entry a profile may have.
    pub async fn delete_all(&self, profile: &ProfileId) -> Result<()> {
        let profile = profile.clone();
        self.blocking(move |s| {
            SecretKind::ALL
                .iter()
                .try_for_each(|kind| s.delete(&profile, *kind))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_debug_is_redacted() {
        let s = Sensitive::new("hunter2-very-secret".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn mask_hides_the_middle_and_short_values_entirely() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX3g5UQ";
        assert_eq!(mask(jwt), "eyJhbG…g5UQ");
        assert_eq!(mask("short-secret"), "•••• (12 chars)");
    }

    #[test]
    fn fingerprint_is_stable_and_short() {
        assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea");
        assert_ne!(fingerprint("abc"), fingerprint("abd"));
    }

    struct Stuck;

    impl SecretStore for Stuck {
        fn get(&self, _: &ProfileId, _: SecretKind) -> Result<Option<Sensitive<String>>> {
            std::thread::sleep(std::time::Duration::from_millis(300));
            Ok(None)
        }
        fn set(&self, _: &ProfileId, _: SecretKind, _: &Sensitive<String>) -> Result<()> {
            Ok(())
        }
        fn delete(&self, _: &ProfileId, _: SecretKind) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_keychain_that_does_not_answer_is_an_error_not_a_hang() {
        let vault = Vault {
            inner: Arc::new(Stuck),
            patience: std::time::Duration::from_millis(50),
        };
        let e = vault
            .get(&ProfileId::from("p"), SecretKind::ClientSecret)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Keychain);
        assert!(e.message.contains("did not answer"), "{}", e.message);
    }

    #[test]
    fn memory_store_round_trips_and_missing_is_none() {
        let store = MemorySecrets::default();
        let id = ProfileId::from("p1");
        assert!(store.get(&id, SecretKind::ClientSecret).unwrap().is_none());
        store
            .set(&id, SecretKind::ClientSecret, &Sensitive::new("s".into()))
            .unwrap();
        assert_eq!(
            store
                .get(&id, SecretKind::ClientSecret)
                .unwrap()
                .unwrap()
                .expose(),
            "s"
        );
        store.delete(&id, SecretKind::ClientSecret).unwrap();
        store.delete(&id, SecretKind::ClientSecret).unwrap();
        assert!(store.get(&id, SecretKind::ClientSecret).unwrap().is_none());
    }
}
