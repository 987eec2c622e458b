use serde::Serialize;
use tauri::{AppHandle, Manager};
use tokendesk_core::Error;
use tokendesk_core::profile::ProfileId;

use super::Cmd;

/// What the window shows first: the profile this launch was asked for (`--profile`), else the
/// view it showed when it last ran.
#[derive(Serialize)]
pub struct LaunchView {
    profile: Option<ProfileId>,
    last_view: Option<String>,
}

#[tauri::command]
pub fn launch_view(state: Cmd<'_>) -> Result<LaunchView, Error> {
    let asked = state
        .launch_profile
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    Ok(LaunchView {
        profile: asked
            .and_then(|name| state.core.profile(&name).ok())
            .map(|p| p.id),
        last_view: state.core.ui_state("view")?,
    })
}

/// Remembers the view the window shows (for the next start).
#[tauri::command]
pub fn remember_view(state: Cmd<'_>, view: String) -> Result<(), Error> {
    state.core.set_ui_state("view", &view)
}

/// Closes the window as its close button does (to the tray, when the setting says so).
#[tauri::command]
pub fn close_window(app: AppHandle) -> Result<(), Error> {
    if let Some(w) = app.get_webview_window(crate::desktop::MAIN) {
        w.close()
            .map_err(|e| Error::internal(format!("the window did not close: {e}")))?;
    }
    Ok(())
}

/// The window painted its first frame with its data: the rest of start-up may run now (see
/// `startup`).
#[tauri::command]
pub fn window_ready(state: Cmd<'_>) {
    state.first_frame.painted();
}
