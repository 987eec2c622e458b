//! One module per command group.

pub mod doctor;
pub mod inspect;
pub mod list;
pub mod login;
pub mod ops;
pub mod profile;
pub mod sandbox;
pub mod token;
