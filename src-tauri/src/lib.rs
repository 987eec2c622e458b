//! TokenDesk's desktop shell: a window, thin commands over [`tokendesk_core::api::Core`], core
//! events forwarded as Tauri events, copying to the clipboard, the built-in sandbox provider.

pub mod clipboard;
mod commands;
mod events;
mod logging;
mod sandbox;

use std::sync::Arc;

use tauri::Manager;
use tokendesk_core::Core;

/// What every command can reach.
pub struct AppState {
    pub core: Arc<Core>,
    pub sandbox: sandbox::SandboxHost,
}

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            let core = Core::open_default(Arc::new(events::TauriEvents::new(app.handle().clone())))
                .map_err(|e| e.message)?;
            logging::init(core.home().log_dir());
            tracing::info!(home = %core.home().dir().display(), "TokenDesk started");
            let state = AppState {
                core: Arc::new(core),
                sandbox: sandbox::SandboxHost::default(),
            };
            let handle = app.handle().clone();
            app.manage(state);
            // Sandbox profiles need their provider: start it if any exist.
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                if let Err(e) = state.sandbox.start_if_used(&state.core).await {
                    tracing::warn!(error = %e, "sandbox provider not started");
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::profiles::list_profiles,
            commands::profiles::create_profile,
            commands::profiles::update_profile,
            commands::profiles::duplicate_profile,
            commands::profiles::delete_profile,
            commands::profiles::set_client_secret,
            commands::profiles::has_client_secret,
            commands::profiles::discover,
            commands::profiles::discover_issuer,
            commands::tokens::list_tokens,
            commands::tokens::fetch_token,
            commands::tokens::refresh_token,
            commands::tokens::forget_token,
            commands::tokens::reveal_token,
            commands::tokens::copy_token,
            commands::tokens::inspect_token,
            commands::tokens::history,
            commands::tokens::exchanges,
            commands::login::begin_login,
            commands::login::wait_login,
            commands::login::complete_login,
            commands::login::cancel_login,
            commands::settings::get_settings,
            commands::settings::set_settings,
            commands::sandbox::sandbox_status,
            commands::sandbox::add_sandbox_profiles,
        ])
        .run(tauri::generate_context!())
        .expect("TokenDesk failed to start");
}
