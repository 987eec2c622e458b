//! Core events forwarded to the webview as the Tauri event `core-event`.

use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;
use tokendesk_core::events::{CoreEvent, EventSink};

pub const CORE_EVENT: &str = "core-event";

pub struct TauriEvents {
    app: AppHandle,
}

impl TauriEvents {
    pub fn new(app: AppHandle) -> Self {
        Self { app }
    }
}

impl EventSink for TauriEvents {
    fn emit(&self, event: CoreEvent) {
        if let CoreEvent::NeedsLogin { message, .. } = &event {
            let shown = self
                .app
                .notification()
                .builder()
                .title("TokenDesk: sign in again")
                .body(message)
                .show();
            if let Err(e) = shown {
                tracing::warn!(error = %e, "desktop notification not shown");
            }
        }
        if let Err(e) = self.app.emit(CORE_EVENT, &event) {
            tracing::warn!(error = %e, "event not delivered to the window");
        }
    }
}
