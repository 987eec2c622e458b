use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;
use tokendesk_core::settings::Settings;
use tokendesk_core::{Error, ErrorCode};

use super::Cmd;

#[tauri::command]
pub fn get_settings(state: Cmd<'_>) -> Result<Settings, Error> {
    state.core.settings()
}

/// Saves the settings; "start at login" is also given to the system (an XDG autostart entry, a
/// launch agent, the Run key).
#[tauri::command]
pub fn set_settings(app: AppHandle, state: Cmd<'_>, settings: Settings) -> Result<(), Error> {
    let before = state.core.settings()?;
    state.core.set_settings(&settings)?;
    if before.start_at_login != settings.start_at_login || settings.start_at_login {
        let autostart = app.autolaunch();
        let done = if settings.start_at_login {
            autostart.enable()
        } else {
            autostart.disable()
        };
        done.map_err(|e| {
            Error::new(
                ErrorCode::Unsupported,
                format!("Start at login could not be changed: {e}."),
            )
        })?;
    }
    Ok(())
}
