//! TokenDesk's desktop shell: a window, thin commands over [`tokendesk_core::api::Core`], core
//! events forwarded as Tauri events, copying to the clipboard, the built-in sandbox provider,
//! and life on the desktop (tray, single instance, remembered window, warnings; `desktop.rs`).

pub mod clipboard;
mod commands;
pub mod desktop;
mod events;
mod logging;
#[cfg(target_os = "linux")]
pub mod rendering;
mod sandbox;
mod startup;

use std::sync::{Arc, Mutex};

use tauri::Manager;
use tokendesk_core::Core;
use tokendesk_core::home::Home;

/// What every command can reach.
pub struct AppState {
    pub core: Arc<Core>,
    pub sandbox: sandbox::SandboxHost,
    /// The profile this launch was asked to show (`--profile`), until the window takes it.
    pub launch_profile: Mutex<Option<String>>,
    /// The open workspaces' file watcher (changes on disk show up live).
    pub workspace_watch: Mutex<Option<tokendesk_core::workspace::watch::WorkspaceWatch>>,
    /// Set when the window has painted; the rest of start-up waits for it.
    pub first_frame: startup::FirstFrame,
}

impl AppState {
    /// Watches the open workspaces again (a folder was added or removed in Settings).
    pub fn rewatch(&self) {
        *self
            .workspace_watch
            .lock()
            .unwrap_or_else(|p| p.into_inner()) =
            watch_workspaces(&self.core, self.core.workspace_dirs(&[]));
    }
}

fn watch_workspaces(
    core: &Arc<Core>,
    dirs: Vec<std::path::PathBuf>,
) -> Option<tokendesk_core::workspace::watch::WorkspaceWatch> {
    match dirs.is_empty() {
        true => None,
        false => tokendesk_core::workspace::watch::WorkspaceWatch::start(core.clone(), dirs)
            .inspect_err(|e| tracing::warn!(error = %e, "workspaces not watched"))
            .ok(),
    }
}

/// One running app per TokenDesk home: the identifier for the default home, a name of its own
/// for every `TOKENDESK_HOME` (tests and parallel setups do not focus each other's windows).
fn instance_id(home: Option<&Home>) -> String {
    let base = "dev.tokendesk.desktop";
    match home.map(Home::keychain_service) {
        Some(service) if service != "tokendesk" => format!("{base}.{}", service.replace('-', "_")),
        _ => base.to_owned(),
    }
}

/// Runs the app. Call it first thing in `main`: it sets environment variables before any thread
/// exists.
pub fn run() {
    // SAFETY: nothing has started a thread yet: `main` calls `run` first.
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    let software_gl = unsafe { rendering::apply() };
    let launch = desktop::Launch::parse(std::env::args());
    let home = Home::from_env().ok();
    // The window's size, position and maximised state live in TokenDesk's home.
    let window_state_file = home
        .as_ref()
        .map(|h| {
            h.dir()
                .join("window-state.json")
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| tauri_plugin_window_state::DEFAULT_FILENAME.to_owned());
    tauri::Builder::default()
        // First: a second launch hands over its arguments and quits before anything else runs.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(home.as_ref()))
                .callback(|app, argv, _cwd| desktop::second_launch(app, argv))
                .build(),
        )
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_filename(window_state_file)
                .with_state_flags(desktop::WINDOW_STATE)
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .on_window_event(desktop::on_window_event)
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
            // Team workspaces (Settings, $TOKENDESK_WORKSPACE): synced now (their profiles are in
            // the first frame), watched once the window is up.
            let dirs = core.workspace_dirs(&[]);
            for w in core.open_workspaces(&dirs) {
                if w.problem_count() > 0 {
                    tracing::warn!(workspace = %w.dir, problems = w.problem_count(), "workspace files with problems");
                }
            }
            if let Some(window) = app.get_webview_window(desktop::MAIN) {
                desktop::apply_launch(&window, &launch);
            }
            let sandbox = sandbox::SandboxHost::default();
            // With TOKENDESK_SANDBOX_PROFILES set (the README's run command) the sandbox profiles
            // are created after the first frame; until then the window says they are coming.
            let add_sandbox = std::env::var_os("TOKENDESK_SANDBOX_PROFILES").is_some();
            if add_sandbox {
                sandbox.prepare();
            }
            app.manage(AppState {
                core,
                sandbox,
                launch_profile: Mutex::new(launch.profile.clone()),
                workspace_watch: Mutex::new(None),
                first_frame: startup::FirstFrame::default(),
            });
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                state.first_frame.wait().await;
                after_first_frame(&handle, dirs, add_sandbox).await;
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
            commands::profiles::list_presets,
            commands::profiles::preset_profile,
            commands::profiles::check_setup,
            commands::profiles::check_config,
            commands::import::plan_import,
            commands::import::import_file,
            commands::tokens::list_tokens,
            commands::tokens::tokens_of,
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
            commands::desktop::launch_view,
            commands::desktop::remember_view,
            commands::desktop::close_window,
            commands::desktop::window_ready,
            commands::resource::discover_api,
            commands::resource::create_profile_from_api,
            commands::resource::registration,
            commands::resource::stop_sending_resource,
            commands::resource::update_registration,
            commands::resource::delete_registration,
            commands::resource::delete_profile_and_registration,
            commands::resource::begin_step_up_login,
            commands::resource::check_login_demand,
            commands::workspaces::list_workspaces,
            commands::workspaces::sync_workspaces,
            commands::workspaces::add_workspace,
            commands::workspaces::remove_workspace,
            commands::workspaces::delete_parked_profile,
            commands::workspaces::profile_origins,
            commands::workspaces::choose_workspace_folder,
        ])
        .run(tauri::generate_context!())
        .expect("TokenDesk failed to start");
}

/// What the first frame does not need (see `startup`): started once the window has painted.
async fn after_first_frame(
    app: &tauri::AppHandle,
    dirs: Vec<std::path::PathBuf>,
    add_sandbox: bool,
) {
    let state = app.state::<AppState>();
    let core = state.core.clone();
    *state
        .workspace_watch
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = watch_workspaces(&core, dirs);
    // Tokens are renewed before they expire, for as long as the app runs.
    tauri::async_runtime::spawn(tokendesk_core::refresher::run(
        core.clone(),
        tokendesk_core::CancellationToken::new(),
    ));
    #[cfg(unix)]
    tauri::async_runtime::spawn(serve_command_line(core.clone()));
    // Warnings before a sign-in is needed, and when it is, as notifications.
    let notifier = app.clone();
    tauri::async_runtime::spawn(tokendesk_core::warnings::run(
        core.clone(),
        move |notice| desktop::notify(&notifier, &notice),
        tokendesk_core::CancellationToken::new(),
    ));
    // The tray is built on the main thread; this waits for it off the runtime's threads.
    let tray_app = app.clone();
    let tray_core = core.clone();
    let _ = tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = desktop::start_tray(&tray_app, tray_core) {
            tracing::warn!(error = %e, "no tray icon");
        }
    })
    .await;
    // Sandbox profiles need their provider: start it if any exist, or (asked for) create them.
    let result = if add_sandbox {
        state.sandbox.add_prepared(app, &core).await
    } else {
        state.sandbox.start_if_used(&core).await
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "sandbox provider not started");
    }
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
