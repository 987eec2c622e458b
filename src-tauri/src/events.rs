//! Core events forwarded to the webview as the Tauri event `core-event`.

use tauri::{AppHandle, Emitter};
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
        // A profile needing a sign-in is notified once by the warning schedule
        // (`tokendesk_core::warnings`), not here on every announcement.
        if let Err(e) = self.app.emit(CORE_EVENT, &event) {
            tracing::warn!(error = %e, "event not delivered to the window");
        }
    }
}
