//! Diagnostic: the same bare window, serving TokenDesk's built web UI (ui/dist) instead of the
//! static page, with no backend behind it (its commands fail). Splits the app's start-up cost
//! into "the web UI" (this against the bare window) and "the Rust side" (the app against this).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!("with-app-ui/tauri.conf.json"))
        .expect("bare window failed to start");
}
