use std::path::Path;

use tokendesk_core::Error;
use tokendesk_core::store::Origin;
use tokendesk_core::workspace::WorkspaceStatus;

use super::Cmd;

/// The open workspaces with their files and problems (unchanged files are not read again).
#[tauri::command]
pub fn list_workspaces(state: Cmd<'_>) -> Vec<WorkspaceStatus> {
    state.core.workspace_statuses(false)
}

/// Every workspace file read again (Settings → Workspaces → Re-sync).
#[tauri::command]
pub fn sync_workspaces(state: Cmd<'_>) -> Vec<WorkspaceStatus> {
    state.core.workspace_statuses(true)
}

/// Saves a workspace folder, reads it and watches it.
#[tauri::command]
pub fn add_workspace(state: Cmd<'_>, dir: String) -> Result<Vec<WorkspaceStatus>, Error> {
    state.core.add_saved_workspace(Path::new(&dir))?;
    state.rewatch();
    Ok(state.core.workspace_statuses(false))
}

#[tauri::command]
pub fn remove_workspace(state: Cmd<'_>, dir: String) -> Result<Vec<WorkspaceStatus>, Error> {
    state.core.remove_saved_workspace(&dir)?;
    state.rewatch();
    Ok(state.core.workspace_statuses(false))
}

/// Where each workspace profile comes from (local profiles are not listed).
#[tauri::command]
pub fn profile_origins(state: Cmd<'_>) -> Result<Vec<Origin>, Error> {
    state.core.origins()
}
