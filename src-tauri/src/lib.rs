//! TokenDesk's desktop shell: a window, thin commands over [`tokendesk_core::api::Core`], core
//! events forwarded as Tauri events, copying to the clipboard, the built-in sandbox provider.

pub mod clipboard;
mod commands;
mod events;
mod logging;
#[cfg(target_os = "linux")]
pub mod rendering;
mod sandbox;

use std::sync::Arc;

use tauri::Manager;
use tokendesk_core::Core;

/// What every command can reach.
pub struct AppState {
    pub core: Arc<Core>,
    pub sandbox: sandbox::SandboxHost,
}

/// Runs the app. Call it first thing in `main`: it sets environment variables before any thread
/// exists.
pub fn run() {
    // SAFETY: nothing has started a thread yet: `main` calls `run` first.
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    let software_gl = unsafe { rendering::apply() };
    tauri::Builder::default()
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let core = Core::open_default(
                Arc::new(events::TauriEvents::new(app.handle().clone())),
                tokendesk_core::history::Trigger::Manual,
            )
            .map_err(|e| e.message)?;
            logging::init(core.home().log_dir());
            tracing::info!(home = %core.home().dir().display(), "TokenDesk started");
            #[cfg(target_os = "linux")]
            if let Some(reason) = software_gl {
                tracing::info!(
                    reason = reason.describe(),
                    "no GPU: WebKit rasterizes on the CPU"
                );
            }
            let core = Arc::new(core);
            // Tokens are renewed before they expire, for as long as the app runs.
            tauri::async_runtime::spawn(tokendesk_core::refresher::run(
                core.clone(),
                tokendesk_core::CancellationToken::new(),
            ));
            #[cfg(unix)]
            tauri::async_runtime::spawn(serve_command_line(core.clone()));
            let state = AppState {
                core,
                sandbox: sandbox::SandboxHost::default(),
            };
            let handle = app.handle().clone();
            app.manage(state);
            // Sandbox profiles need their provider: start it if any exist. With
            // TOKENDESK_SANDBOX_PROFILES set (the README's run command), create them first.
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                let result = if std::env::var_os("TOKENDESK_SANDBOX_PROFILES").is_some() {
                    state.sandbox.add_profiles(&state.core).await.map(drop)
                } else {
                    state.sandbox.start_if_used(&state.core).await
                };
                if let Err(e) = result {
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
            commands::profiles::set_tls_key,
            commands::profiles::has_tls_key,
            commands::profiles::set_signing_key,
            commands::profiles::has_signing_key,
            commands::profiles::discover,
            commands::profiles::discover_issuer,
            commands::profiles::check_setup,
            commands::profiles::check_config,
            commands::tokens::list_tokens,
            commands::tokens::fetch_token,
            commands::tokens::refresh_token,
            commands::tokens::forget_token,
            commands::tokens::reveal_token,
            commands::tokens::copy_token,
            commands::tokens::inspect_token,
            commands::tokens::history,
            commands::tokens::exchanges,
            commands::tokens::revoke_token,
            commands::tokens::introspect_token,
            commands::tokens::userinfo,
            commands::tokens::send_request,
            commands::tokens::support_bundle,
            commands::tokens::copy_support_bundle,
            commands::login::begin_login,
            commands::login::wait_login,
            commands::login::complete_login,
            commands::login::cancel_login,
            commands::login::begin_device_login,
            commands::login::begin_ciba_login,
            commands::login::wait_device_login,
            commands::login::open_device_verification,
            commands::settings::get_settings,
            commands::settings::set_settings,
            commands::sandbox::sandbox_status,
            commands::sandbox::add_sandbox_profiles,
        ])
        .run(tauri::generate_context!())
        .expect("TokenDesk failed to start");
}

/// While the window is open, scripts' `tokendesk token` is answered from its memory (see
/// `tokendesk_core::agent`). When a command-line agent already serves this home, the app leaves
/// it be and takes over once that one has gone (it exits when idle).
#[cfg(unix)]
async fn serve_command_line(core: Arc<Core>) {
    if std::env::var_os("TOKENDESK_NO_AGENT").is_some() {
        return; // the user wants no socket at all
    }
    loop {
        match tokendesk_core::agent::serve(core.clone(), None).await {
            Err(e) if e.code == tokendesk_core::ErrorCode::Conflict => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "not serving the command line");
                return;
            }
            // The socket was removed (another version took over, or by hand): stop.
            Ok(()) => return,
        }
    }
}
