use tokendesk_core::Error;
use tokendesk_core::profile::Profile;

use super::Cmd;
use crate::sandbox::SandboxStatus;

#[tauri::command]
pub async fn sandbox_status(state: Cmd<'_>) -> Result<SandboxStatus, Error> {
    Ok(state.sandbox.status().await)
}

/// Starts the sandbox provider and creates its ready-made profiles.
#[tauri::command]
pub async fn add_sandbox_profiles(state: Cmd<'_>) -> Result<Vec<Profile>, Error> {
    state.sandbox.add_profiles(&state.core).await
}
