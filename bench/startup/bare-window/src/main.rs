//! A bare Tauri 2 window: no plugins, no commands, no state — the baseline TokenDesk's start-up
//! time and memory are compared against.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The app's own choice of CPU or GPU rasterization (see that file), so both make the same one.
#[cfg(target_os = "linux")]
#[allow(dead_code)] // the app logs the reason; the bare window has nowhere to
#[path = "../../../../src-tauri/src/rendering.rs"]
mod rendering;

fn main() {
    // SAFETY: first thing in main, no other thread yet.
    #[cfg(target_os = "linux")]
    unsafe {
        rendering::apply();
    }
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("bare window failed to start");
}
