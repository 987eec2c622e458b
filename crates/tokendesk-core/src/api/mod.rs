//! The operations the desktop shell and the command line call. Each takes ids and plain data,
//! does its work through the store, the keychain and the flows, and reports changes through the
//! [`EventSink`].

mod calls;
mod desktop;
mod device;
mod diagnostics;
mod doctor;
mod dpop;
mod exchange;
mod history;
mod import;
mod login;
mod profiles;
mod provider_calls;
mod request;
mod resource;
mod reveal;
mod secrets;
mod steps;
mod tokens;
mod workspaces;

pub use device::{CibaLoginOptions, CibaLoginStarted, DeviceLoginStarted};
pub use doctor::{Schedule, TypedSecrets};
pub use dpop::TokenUse;
pub use exchange::chain_changed;
pub use import::ImportItem;
pub use login::{DEFAULT_LOGIN_TIMEOUT, LoginStarted};
pub use request::{ApiRequest, ApiResponse};
pub use resource::{ClientChoice, ClientSource, FromApi};
pub use reveal::{AudienceCheck, ExportFormat, TokenInspection, format_token};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, Millis, SystemClock};
use crate::error::Result;
use crate::events::{CoreEvent, EventSink, NoEvents};
use crate::history::Trigger;
use crate::home::Home;
use crate::http::{Http, HttpOptions};
use crate::profile::ProfileId;
use crate::secret::{Keychain, SecretStore, Vault};
use crate::settings::Settings;
use crate::store::Store;

pub struct CoreOptions {
    pub http: HttpOptions,
    pub clock: Arc<dyn Clock>,
    pub events: Arc<dyn EventSink>,
    /// Who asks when an operation does not say (a sign-in, a fetch, a revocation): the app's
    /// user ([`Trigger::Manual`]) or the command line. The token history records it.
    pub trigger: Trigger,
}

impl Default for CoreOptions {
    fn default() -> Self {
        Self {
            http: HttpOptions::default(),
            clock: Arc::new(SystemClock),
            events: Arc::new(NoEvents),
            trigger: Trigger::Manual,
        }
    }
}

pub struct Core {
    home: Home,
    store: Store,
    /// The keychain, and the credentials kept in memory from it and from commands.
    secrets: secrets::Secrets,
    http: Http,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventSink>,
    trigger: Trigger,
    logins: Mutex<HashMap<String, login::PendingLogin>>,
    device_logins: Mutex<HashMap<String, device::PendingDevice>>,
    flights: Mutex<HashMap<ProfileId, Arc<tokio::sync::Mutex<()>>>>,
    /// Woken on every change of profiles or tokens in this process (the tray, warnings).
    changed: tokio::sync::Notify,
    /// Woken on the changes the refresher did not make itself (the refresher waits on it).
    changed_elsewhere: tokio::sync::Notify,
    /// Token values this process wrote or read, by fingerprint: a value is served from here only
    /// while the store's token set names the same fingerprint, so another process's newer token
    /// is always read from the keychain.
    memo: Mutex<tokens::Memo>,
    /// DPoP keys read or made in this process (the agent keeps them here between requests).
    dpop_keys: Mutex<HashMap<ProfileId, Arc<crate::dpop::DpopKey>>>,
    /// The newest DPoP nonce each origin gave.
    dpop_nonces: Arc<crate::dpop::Nonces>,
    /// The latest setup check of each profile in this process (for the support bundle).
    last_checks: Mutex<HashMap<ProfileId, crate::doctor::SetupReport>>,
}

impl Core {
    pub fn open(home: Home, secrets: Arc<dyn SecretStore>, options: CoreOptions) -> Result<Self> {
        Ok(Self {
            store: Store::open(&home.db_path())?,
            home,
            secrets: secrets::Secrets::new(Vault::new(secrets)),
            http: Http::new(&options.http)?,
            clock: options.clock,
            events: options.events,
            trigger: options.trigger,
            logins: Mutex::new(HashMap::new()),
            device_logins: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
            changed_elsewhere: tokio::sync::Notify::new(),
            memo: Mutex::new(HashMap::new()),
            dpop_keys: Mutex::new(HashMap::new()),
            dpop_nonces: Arc::default(),
            last_checks: Mutex::new(HashMap::new()),
        })
    }

    /// The user's TokenDesk: `$TOKENDESK_HOME` or the OS data dir, and the OS keychain.
    /// `trigger`: who drives this core (the app's user, the command line).
    pub fn open_default(events: Arc<dyn EventSink>, trigger: Trigger) -> Result<Self> {
        let home = Home::from_env()?;
        let keychain = Arc::new(Keychain::new(home.keychain_service()));
        Self::open(
            home,
            keychain,
            CoreOptions {
                events,
                trigger,
                ..Default::default()
            },
        )
    }

    pub fn home(&self) -> &Home {
        &self.home
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    pub fn settings(&self) -> Result<Settings> {
        self.store.settings()
    }

    pub fn set_settings(&self, settings: &Settings) -> Result<()> {
        settings.validate()?;
        self.store.put_settings(settings)
    }

    /// Resolves at the next change of profiles or tokens made in this process. It listens
    /// from the moment it is called, not from when it is first polled.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Like [`Core::changed`], but not woken by what the background refresher itself does (its
    /// renewals and retry marks, run under [`by_refresher`]): the refresher updates its
    /// schedule from those directly, and 10,000 profiles renewing every 30 s must not make it
    /// re-read the store every second.
    pub fn changed_elsewhere(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed_elsewhere.notified()
    }

    pub(super) fn emit(&self, event: CoreEvent) {
        if !matches!(
            event,
            CoreEvent::ExchangesAppended { .. } | CoreEvent::HistoryAppended { .. }
        ) {
            self.changed.notify_waiters();
            if BY_REFRESHER.try_with(|_| ()).is_err() {
                self.changed_elsewhere.notify_waiters();
            }
        }
        self.events.emit(event);
    }
}

tokio::task_local! {
    /// Set while the background refresher's own work runs.
    static BY_REFRESHER: ();
}

/// Runs `f` as the background refresher's own work: its changes do not wake
/// [`Core::changed_elsewhere`].
pub(crate) async fn by_refresher<F: std::future::Future>(f: F) -> F::Output {
    BY_REFRESHER.scope((), f).await
}

/// [`by_refresher`] for synchronous work.
pub(crate) fn by_refresher_sync<R>(f: impl FnOnce() -> R) -> R {
    BY_REFRESHER.sync_scope((), f)
}

/// The shell runs these on a multi-threaded runtime: their futures must be `Send`.
#[allow(dead_code)]
fn futures_are_send(core: &'static Core, id: &'static ProfileId) {
    fn is_send<T: Send>(_: T) {}
    is_send(core.fetch_token(id));
    is_send(core.discover(id));
    is_send(core.refresh(id, Trigger::Manual));
    is_send(core.begin_login(id));
    is_send(core.wait_login("x", Duration::from_secs(1)));
    is_send(core.complete_login("x", "y"));
    is_send(core.begin_device_login(id));
    is_send(core.wait_device_login("x"));
    is_send(core.request(
        id,
        Box::leak(Box::default()),
        Duration::ZERO,
        Trigger::Manual,
    ));
}
