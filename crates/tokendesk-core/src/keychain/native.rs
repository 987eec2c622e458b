//! macOS Keychain Services and Windows Credential Manager, through the `keyring` crate.

use crate::error::Result;
use crate::profile::ProfileId;
use crate::secret::{SecretKind, SecretStore, Sensitive, account};

/// The OS keychain under one service name.
pub struct Keychain {
    service: String,
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, profile: &ProfileId, kind: SecretKind) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, &account(profile, kind)).map_err(failure)
    }
}

fn failure(e: keyring::Error) -> crate::error::Error {
    let hint = match &e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            super::UNREACHABLE_HINT
        }
        _ => "",
    };
    super::error(e, hint)
}

impl SecretStore for Keychain {
    fn get(&self, profile: &ProfileId, kind: SecretKind) -> Result<Option<Sensitive<String>>> {
        match self.entry(profile, kind)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failure(e)),
        }
    }

    fn set(&self, profile: &ProfileId, kind: SecretKind, value: &Sensitive<String>) -> Result<()> {
        self.entry(profile, kind)?
            .set_password(value.expose())
            .map_err(failure)
    }

    fn delete(&self, profile: &ProfileId, kind: SecretKind) -> Result<()> {
        match self.entry(profile, kind)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(failure(e)),
        }
    }
}
