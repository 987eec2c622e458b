//! One module per command group.

pub mod credential;
pub mod doctor;
pub mod exec;
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
pub mod token;
pub mod workspace;
