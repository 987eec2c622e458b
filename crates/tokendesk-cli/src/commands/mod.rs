//! One module per command group.

pub mod credential;
pub mod discover;
pub mod doctor;
pub mod door;
pub mod exec;
pub mod from_api;
pub mod generate;
pub mod inspect;
pub mod list;
pub mod login;
pub mod open;
pub mod ops;
pub mod presets;
pub mod profile;
pub mod request;
pub mod sandbox;
pub mod sources;
pub mod step_up;
pub mod token;
pub mod without_resource;
pub mod workspace;
