//! TokenDesk's engine: client profiles, the keychain, the local store, the OAuth 2.0 / OpenID
//! Connect flows and token inspection. Everything that is not a window; never depends on tauri.
//!
//! The shell and the command line call [`api::Core`].

pub mod agent;
pub mod api;
#[cfg(test)]
mod bindings;
pub mod browser;
pub mod bundle;
pub mod catalog;
pub mod clock;
mod connections;
#[cfg(unix)]
pub mod detach;
pub mod doctor;
pub mod dpop;
pub mod error;
pub mod events;
pub mod fapi;
pub mod flow;
pub mod history;
pub mod home;
pub mod http;
pub mod id_token;
pub mod ident;
pub mod import;
pub mod inspect;
pub mod json_object;
pub mod keychain;
pub mod loopback;
pub mod ping;
pub mod presets;
pub mod profile;
pub mod provider;
pub mod qr;
pub mod redact;
pub mod refresher;
pub mod resource;
pub mod secret;
pub mod secret_source;
pub mod settings;
pub mod steps;
pub mod store;
pub mod template;
pub mod token;
pub mod tray;
pub mod warnings;
pub mod workspace;
pub mod www_authenticate;

pub use api::{
    ApiRequest, ApiResponse, CibaLoginOptions, CibaLoginStarted, Core, CoreOptions,
    DeviceLoginStarted, ExportFormat, LoginStarted, Schedule, TokenInspection, TypedSecrets,
};
pub use error::{Error, ErrorCode, Result};
pub use tokio_util::sync::CancellationToken;
