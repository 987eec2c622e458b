//! A bare Tauri 2 window: no plugins, no commands, no state — the baseline TokenDesk's start-up
//! time and memory are compared against.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("bare window failed to start");
}
