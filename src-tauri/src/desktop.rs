//! Living on the desktop: the tray icon and its menu (drawn from
//! [`tokendesk_core::tray::menu`]), closing to the tray, the second launch that focuses the
//! first (and `tokendesk open PROFILE`), expiry warnings as notifications (scheduled by
//! [`tokendesk_core::warnings`]). The decisions are the core's; this file draws and does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewWindow, WindowEvent, Wry};
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_window_state::{AppHandleExt, StateFlags};
use tokendesk_core::tray::{TrayAction, TrayEntry, TrayMenu};
use tokendesk_core::warnings::Notice;
use tokendesk_core::{Core, ExportFormat};

use crate::AppState;

/// The event that tells the window to show a profile (payload: its id).
pub const OPEN_PROFILE: &str = "open-profile";
/// The window's label.
pub const MAIN: &str = "main";
/// The tray menu is redrawn at least this often (it shows times left).
const TRAY_REDRAW: Duration = Duration::from_secs(20);
/// What of the window is remembered: size, position, maximised (the view is the UI's).
pub const WINDOW_STATE: StateFlags = StateFlags::SIZE
    .union(StateFlags::POSITION)
    .union(StateFlags::MAXIMIZED);
/// `ui_state` name: the user was told where the window went when it closed to the tray.
const TRAY_HINT: &str = "tray_hint_shown";

/// What the command line asked of this launch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Launch {
    /// `--profile NAME`: show this profile (a name or an id).
    pub profile: Option<String>,
    /// `--hidden`: start in the tray (start at login does this).
    pub hidden: bool,
}

impl Launch {
    /// Reads `tokendesk-app [--profile NAME | --profile=NAME] [--hidden]`; anything else is
    /// ignored (a desktop launcher may add its own arguments).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Self {
        let mut out = Self::default();
        let mut args = args.into_iter().skip(1);
        while let Some(a) = args.next() {
            if a == "--hidden" {
                out.hidden = true;
            } else if a == "--profile" {
                out.profile = args.next().filter(|p| !p.is_empty());
            } else if let Some(p) = a.strip_prefix("--profile=") {
                out.profile = Some(p.to_owned()).filter(|p| !p.is_empty());
            }
        }
        out
    }
}

/// Shows the window, brings it to the front and gives it the keyboard.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Shows the window at the profile `name_or_id` (unknown names just show the window).
pub fn open_profile(app: &AppHandle, name_or_id: Option<&str>) {
    show_window(app);
    let Some(name) = name_or_id else { return };
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    match state.core.profile(name) {
        Ok(p) => {
            let _ = app.emit(OPEN_PROFILE, &p.id);
        }
        Err(e) => tracing::info!(error = %e.message, "tokendesk open: no such profile"),
    }
}

/// Another `tokendesk-app` was started: it has already quit, handing us its arguments.
pub fn second_launch(app: &AppHandle, argv: Vec<String>) {
    let launch = Launch::parse(argv);
    tracing::info!(profile = ?launch.profile, "second launch: focusing the window");
    if launch.hidden {
        return; // start at login while already running: nothing to show
    }
    open_profile(app, launch.profile.as_deref());
}

/// Closing the window: to the tray when the setting says so (the first time, a notification
/// says where it went); otherwise TokenDesk quits.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if matches!(event, WindowEvent::Resized(_) | WindowEvent::Moved(_)) {
        save_window_state_soon(window.app_handle());
        return;
    }
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let to_tray = state
        .core
        .settings()
        .map(|s| s.close_to_tray)
        .unwrap_or(true);
    if !to_tray {
        return;
    }
    api.prevent_close();
    let _ = window.hide();
    tracing::info!("window closed to the tray");
    if state.core.ui_state(TRAY_HINT).ok().flatten().is_none() {
        notify(
            app,
            &Notice {
                title: "TokenDesk is still running".into(),
                body: "It keeps your tokens fresh and answers the command line from the tray \
                       icon. Open it from there or run TokenDesk again; Quit is in the tray \
                       menu. (Settings: \"Close to the tray\".)"
                    .into(),
                profile_id: None,
            },
        );
        let _ = state.core.set_ui_state(TRAY_HINT, "1");
    }
}

/// The window state plugin writes its file when the app exits normally; a session that ends
/// (logout, a kill) would lose a resize. So a resize or move is written once it settles.
///
/// The save runs on the main thread. The plugin's save holds its cache lock while it asks the
/// window for its size and state, and from any other thread each of those questions waits for
/// the main thread, whose own resize and move handlers wait for that lock: saved from a worker,
/// a resize during the save froze the window for good (seen as hung WebDriver requests in e2e).
fn save_window_state_soon(app: &AppHandle) {
    static GENERATION: AtomicU64 = AtomicU64::new(0);
    let mine = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        if GENERATION.load(Ordering::SeqCst) != mine {
            return;
        }
        let on_main = app.clone();
        let queued = app.run_on_main_thread(move || {
            if let Err(e) = on_main.save_window_state(WINDOW_STATE) {
                tracing::warn!(error = %e, "window state not saved");
            }
        });
        if let Err(e) = queued {
            tracing::warn!(error = %e, "window state not saved");
        }
    });
}

/// Shows a desktop notification.
pub fn notify<R: Runtime>(app: &AppHandle<R>, notice: &Notice) {
    let shown = app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show();
    if let Err(e) = shown {
        tracing::warn!(error = %e, "desktop notification not shown");
    }
}

/// Builds the tray icon and keeps its menu current until the app ends.
pub fn start_tray(app: &AppHandle, core: Arc<Core>) -> tauri::Result<()> {
    let menu = core
        .tray_menu()
        .unwrap_or_else(|_| tokendesk_core::tray::menu(&[], &[], 0, 0));
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip(&menu.tooltip)
        .menu(&render(app, &menu)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder.build(app)?;
    tauri::async_runtime::spawn(keep_current(app.clone(), tray, core, menu));
    Ok(())
}

/// Redraws the menu when tokens or profiles change, and every [`TRAY_REDRAW`].
async fn keep_current(app: AppHandle, tray: TrayIcon, core: Arc<Core>, mut shown: TrayMenu) {
    loop {
        let changed = core.changed();
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(TRAY_REDRAW) => {}
        }
        // A burst of changes (a refresh writes twice) is one redraw.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(menu) = core.tray_menu() else { continue };
        if menu == shown {
            continue;
        }
        match render(&app, &menu) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
                let _ = tray.set_tooltip(Some(&menu.tooltip));
                shown = menu;
            }
            Err(e) => tracing::warn!(error = %e, "tray menu not redrawn"),
        }
    }
}

fn render(app: &AppHandle, menu: &TrayMenu) -> tauri::Result<Menu<Wry>> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for entry in &menu.entries {
        items.push(match entry {
            TrayEntry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
            TrayEntry::Note(text) => Box::new(MenuItem::new(app, text, false, None::<&str>)?),
            other => Box::new(MenuItem::with_id(
                app,
                other.item_id().unwrap_or_default(),
                other.text(),
                true,
                None::<&str>,
            )?),
        });
    }
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(app, &refs)
}

fn on_menu(app: &AppHandle, item_id: &str) {
    match TrayAction::parse(item_id) {
        Some(TrayAction::Open) => show_window(app),
        Some(TrayAction::Quit) => app.exit(0),
        Some(TrayAction::OpenProfile(id)) => open_profile(app, Some(id.as_str())),
        Some(TrayAction::Copy(id)) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let Some(state) = app.try_state::<AppState>() else {
                    return;
                };
                let core = state.core.clone();
                let result = async {
                    let text = core.export(&id, ExportFormat::Raw).await?;
                    let secs = core.settings()?.clipboard_clear_secs;
                    crate::clipboard::copy(&app, text, Duration::from_secs(secs.into()))
                }
                .await;
                if let Err(e) = result {
                    let name = core.profile(id.as_str()).map(|p| p.config.name);
                    notify(
                        &app,
                        &Notice {
                            title: format!(
                                "No token copied for \"{}\"",
                                name.unwrap_or_else(|_| id.to_string())
                            ),
                            body: e.message,
                            profile_id: Some(id),
                        },
                    );
                }
            });
        }
        None => {}
    }
}

/// The window of a hidden start (`--hidden`) stays hidden.
pub fn apply_launch(window: &WebviewWindow, launch: &Launch) {
    if launch.hidden {
        let _ = window.hide();
    }
}

#[cfg(test)]
mod tests {
    use super::Launch;

    fn parse(args: &[&str]) -> Launch {
        Launch::parse(
            std::iter::once("tokendesk-app")
                .chain(args.iter().copied())
                .map(String::from),
        )
    }

    #[test]
    fn the_launch_arguments_name_a_profile_and_a_hidden_start() {
        assert_eq!(parse(&[]), Launch::default());
        assert_eq!(
            parse(&["--profile", "corp api"]).profile.as_deref(),
            Some("corp api")
        );
        assert_eq!(parse(&["--profile=x"]).profile.as_deref(), Some("x"));
        assert!(parse(&["--hidden"]).hidden);
        assert_eq!(
            parse(&["--profile"]),
            Launch::default(),
            "no name: just the window"
        );
        assert_eq!(
            parse(&["--unknown", "-psn_0_1"]),
            Launch::default(),
            "others ignored"
        );
    }
}
