use tokendesk_core::api::DEFAULT_LOGIN_TIMEOUT;
use tokendesk_core::browser::{BrowserLauncher, SystemBrowser};
use tokendesk_core::profile::ProfileId;
use tokendesk_core::token::TokenSet;
use tokendesk_core::{Error, LoginStarted};

use super::Cmd;

/// Starts a sign-in and opens the system browser on the authorization URL.
#[tauri::command]
pub async fn begin_login(state: Cmd<'_>, id: ProfileId) -> Result<LoginStarted, Error> {
    let started = state.core.begin_login(&id).await?;
    if let Err(e) = SystemBrowser.open(&started.auth_url) {
        // The UI shows the URL to open by hand.
        tracing::warn!(error = %e, "browser not opened");
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
