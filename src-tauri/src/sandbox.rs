//! The built-in sandbox provider, started on demand on a fixed loopback port so the sandbox
//! profiles keep working across restarts.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tauri::{AppHandle, Emitter};
use tokendesk_core::presets::SANDBOX_ENVIRONMENT;
use tokendesk_core::profile::Profile;
use tokendesk_core::{Core, Error, ErrorCode};
use tokendesk_sandbox::{Sandbox, SandboxOptions, Style};
use tokio::sync::{Mutex, MutexGuard};

/// The sandbox's port; `TOKENDESK_SANDBOX_PORT` overrides it.
const DEFAULT_PORT: u16 = 47_111;

#[derive(Default)]
pub struct SandboxHost {
    running: Mutex<Option<Sandbox>>,
    /// The ready-made profiles are being created in the background (a start with
    /// `TOKENDESK_SANDBOX_PROFILES`); the window shows that instead of offering them.
    preparing: AtomicBool,
    /// One creation of the ready-made profiles at a time (the background one and a click).
    adding: Mutex<()>,
}

/// The Tauri event that carries a new [`SandboxStatus`] (the background setup ended).
pub const SANDBOX_EVENT: &str = "sandbox-changed";

#[derive(Debug, Clone, Serialize)]
pub struct SandboxStatus {
    pub running: bool,
    pub standard_issuer: Option<String>,
    pub gateway_issuer: Option<String>,
    /// The PSD2 bank (consents, signed hybrid sign-ins, the JWT-bearer grant).
    pub bank_issuer: Option<String>,
    /// The ready-made profiles are on their way (created in the background at start).
    pub preparing: bool,
}

fn port() -> u16 {
    std::env::var("TOKENDESK_SANDBOX_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

impl SandboxHost {
    pub async fn status(&self) -> SandboxStatus {
        let running = self.running.lock().await;
        SandboxStatus {
            running: running.is_some(),
            standard_issuer: running.as_ref().map(|s| s.issuer(Style::Standard)),
            gateway_issuer: running.as_ref().map(|s| s.issuer(Style::Gateway)),
            bank_issuer: running.as_ref().map(|s| s.issuer(Style::Bank)),
            preparing: self.preparing.load(Ordering::SeqCst),
        }
    }

    /// Says the ready-made profiles are coming ([`Self::add_prepared`] creates them).
    pub fn prepare(&self) {
        self.preparing.store(true, Ordering::SeqCst);
    }

    /// Creates the ready-made profiles announced by [`Self::prepare`], then tells the window
    /// (the profiles themselves arrive as a `profiles_changed` core event).
    pub async fn add_prepared(&self, app: &AppHandle, core: &Core) -> Result<(), Error> {
        let result = self.add_profiles(core).await.map(drop);
        self.preparing.store(false, Ordering::SeqCst);
        if let Err(e) = app.emit(SANDBOX_EVENT, self.status().await) {
            tracing::warn!(error = %e, "sandbox status not delivered to the window");
        }
        result
    }

    /// Starts the sandbox unless it runs (handing its new client keys — the bank's TPP, the FAPI
    /// client — to the profiles that sign with them); the guard holds the running sandbox.
    async fn ensure_started(&self, core: &Core) -> Result<MutexGuard<'_, Option<Sandbox>>, Error> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let options = SandboxOptions {
                port: port(),
                ..SandboxOptions::default()
            };
            let sandbox = Sandbox::start(options).await.map_err(|e| {
                Error::new(
                    ErrorCode::Conflict,
                    format!(
                        "The sandbox provider could not start on 127.0.0.1:{}: {e}. Another \
                         program may use the port; set TOKENDESK_SANDBOX_PORT to another one.",
                        port()
                    ),
                )
            })?;
            tracing::info!(base = %sandbox.base_url(), "sandbox provider started");
            if let Err(e) = tokendesk_sandbox::presets::renew_client_keys(core, &sandbox).await {
                tracing::warn!(error = %e, "the sandbox's new client keys could not be stored");
            }
            *running = Some(sandbox);
        }
        Ok(running)
    }

    /// Starts the sandbox if any profile is a sandbox profile.
    pub async fn start_if_used(&self, core: &Core) -> Result<(), Error> {
        if core
            .list_profiles()?
            .iter()
            .any(|p| p.config.environment == SANDBOX_ENVIRONMENT)
        {
            drop(self.ensure_started(core).await?);
        }
        Ok(())
    }

    /// Starts the sandbox and creates its ready-made profiles (those not there yet).
    pub async fn add_profiles(&self, core: &Core) -> Result<Vec<Profile>, Error> {
        let _one_at_a_time = self.adding.lock().await;
        let running = self.ensure_started(core).await?;
        let s = running.as_ref().expect("started above");
        let presets = tokendesk_sandbox::presets::presets(s);
        drop(running);
        core.add_presets(presets).await
    }
}
