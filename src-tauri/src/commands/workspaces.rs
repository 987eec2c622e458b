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

/// The native folder picker for Settings → Workspaces → Add folder, over the window; the
/// folder chosen, or `None` when cancelled. (The window gets no dialog API of its own.)
#[tauri::command]
pub async fn choose_workspace_folder(window: tauri::WebviewWindow) -> Option<String> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut picker = window
        .dialog()
        .file()
        .set_title("Open a workspace folder")
        .set_parent(&window);
    // Starts in the home folder, where checkouts usually live (GTK would show "Recent").
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        picker = picker.set_directory(home);
    }
    picker.pick_folder(move |folder| {
        let _ = tx.send(folder);
    });
    let folder = rx.await.ok().flatten()?;
    folder.into_path().ok().map(|p| p.display().to_string())
}

/// Where each workspace profile comes from (local profiles are not listed).
#[tauri::command]
pub fn profile_origins(state: Cmd<'_>) -> Result<Vec<Origin>, Error> {
    state.core.origins()
}

/// Settings → Workspaces → Delete kept data: a parked profile (its file left the workspace)
/// deleted with its tokens, history and keychain entries.
#[tauri::command]
pub fn delete_parked_profile(state: Cmd<'_>, id: String) -> Result<Vec<WorkspaceStatus>, Error> {
    state
        .core
        .delete_parked(&tokendesk_core::profile::ProfileId::from(id.as_str()))?;
    Ok(state.core.workspace_statuses(false))
}
