use tokendesk_core::Error;
use tokendesk_core::settings::Settings;

use super::Cmd;

#[tauri::command]
pub fn get_settings(state: Cmd<'_>) -> Result<Settings, Error> {
    state.core.settings()
}

#[tauri::command]
pub fn set_settings(state: Cmd<'_>, settings: Settings) -> Result<(), Error> {
    state.core.set_settings(&settings)
}
