//! Copying a token to the clipboard from Rust (it never enters the webview), and clearing it
//! after a while if it still holds what we put there.

use std::time::Duration;

use tauri::AppHandle;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tokendesk_core::secret::{Sensitive, fingerprint};
use tokendesk_core::{Error, ErrorCode};

/// Writes `text`; after `clear_after` (if not zero) clears the clipboard unless something else
/// was copied meanwhile.
pub fn copy(app: &AppHandle, text: Sensitive<String>, clear_after: Duration) -> Result<(), Error> {
    app.clipboard()
        .write_text(text.expose().clone())
        .map_err(|e| {
            Error::new(
                ErrorCode::Unsupported,
                format!("The clipboard is not available: {e}."),
            )
        })?;
    if clear_after.is_zero() {
        return Ok(());
    }
    let ours = fingerprint(text.expose());
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(clear_after).await;
        let still_ours = app
            .clipboard()
            .read_text()
            .map(|now| fingerprint(&now) == ours)
            .unwrap_or(false);
        if still_ours {
            let _ = app.clipboard().clear();
            tracing::info!("clipboard cleared");
        }
    });
    Ok(())
}
