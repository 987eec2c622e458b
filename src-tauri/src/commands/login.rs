use tokendesk_core::api::DEFAULT_LOGIN_TIMEOUT;
use tokendesk_core::browser::{BrowserLauncher, SystemBrowser};
use tokendesk_core::profile::ProfileId;
use tokendesk_core::token::TokenSet;
use tokendesk_core::{CibaLoginOptions, CibaLoginStarted, DeviceLoginStarted, Error, LoginStarted};

use super::Cmd;

/// Starts a sign-in and opens the system browser on the authorization URL.
#[tauri::command]
pub async fn begin_login(state: Cmd<'_>, id: ProfileId) -> Result<LoginStarted, Error> {
    let started = state.core.begin_login(&id).await?;
    open_browser(started).await
}

/// Opens the system browser on a started sign-in's authorization URL; a failure is noted in
/// `browser_error`.
pub(crate) async fn open_browser(mut started: LoginStarted) -> Result<LoginStarted, Error> {
    let url = started.auth_url.clone();
    let opened = tokio::task::spawn_blocking(move || SystemBrowser.open(&url))
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
    if let Err(e) = opened {
        // The UI says so and offers the URL to copy and the redirect to paste.
        tracing::warn!(error = %e, "browser not opened");
        started.browser_error = Some(e.message);
    }
    Ok(started)
}

#[tauri::command]
pub async fn wait_login(state: Cmd<'_>, login_id: String) -> Result<TokenSet, Error> {
    state
        .core
        .wait_login(&login_id, DEFAULT_LOGIN_TIMEOUT)
        .await
}

#[tauri::command]
pub async fn complete_login(
    state: Cmd<'_>,
    login_id: String,
    redirect_url: String,
) -> Result<TokenSet, Error> {
    state.core.complete_login(&login_id, &redirect_url).await
}

#[tauri::command]
pub fn cancel_login(state: Cmd<'_>, login_id: String) {
    state.core.cancel_login(&login_id);
}

/// Starts a device sign-in (RFC 8628): the code, the address and its QR code to show.
#[tauri::command]
pub async fn begin_device_login(
    state: Cmd<'_>,
    id: ProfileId,
) -> Result<DeviceLoginStarted, Error> {
    state.core.begin_device_login(&id).await
}

/// Starts a CIBA sign-in: the provider reaches the user's device; the binding message to show.
/// `wait_device_login` then waits for the approval.
#[tauri::command]
pub async fn begin_ciba_login(
    state: Cmd<'_>,
    id: ProfileId,
    options: CibaLoginOptions,
) -> Result<CibaLoginStarted, Error> {
    state.core.begin_ciba_login(&id, options).await
}

/// Polls until the device (or CIBA) sign-in ends; `cancel_login` stops it.
#[tauri::command]
pub async fn wait_device_login(state: Cmd<'_>, login_id: String) -> Result<TokenSet, Error> {
    state.core.wait_device_login(&login_id).await
}

/// Opens the device sign-in's verification address in the system browser.
#[tauri::command]
pub async fn open_device_verification(state: Cmd<'_>, login_id: String) -> Result<(), Error> {
    let url = state.core.device_verification_address(&login_id)?;
    tokio::task::spawn_blocking(move || SystemBrowser.open(&url))
        .await
        .map_err(|e| Error::internal(e.to_string()))?
}
