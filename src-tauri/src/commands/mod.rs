//! The commands the UI calls. Each is a few lines: take the arguments, call the core, return its
//! result. Errors cross as `{code, message, fields}`.

pub mod desktop;
pub mod import;
pub mod login;
pub mod profiles;
pub mod resource;
pub mod sandbox;
pub mod settings;
pub mod tokens;
pub mod workspaces;

use tauri::State;

use crate::AppState;

pub type Cmd<'a> = State<'a, AppState>;
