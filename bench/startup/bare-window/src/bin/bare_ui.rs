//! Diagnostic: the same bare window, serving TokenDesk's built web UI (ui/dist) instead of the
//! static page, with no backend behind it (its commands fail). Splits the app's start-up cost
//! into "the web UI" (this against the bare window) and "the Rust side" (the app against this).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The app's own choice of CPU or GPU rasterization (see that file), so both make the same one.
#[cfg(target_os = "linux")]
#[allow(dead_code)] // the app logs the reason; the bare window has nowhere to
#[path = "../../../../../src-tauri/src/rendering.rs"]
mod rendering;

fn main() {
    // SAFETY: first thing in main, no other thread yet.
    #[cfg(target_os = "linux")]
    unsafe {
        rendering::apply();
    }
    tauri::Builder::default()
        .run(tauri::generate_context!("with-app-ui/tauri.conf.json"))
        .expect("bare window failed to start");
}
