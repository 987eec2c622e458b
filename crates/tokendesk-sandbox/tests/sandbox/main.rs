//! Black-box tests: a real sandbox on loopback, driven over HTTP with reqwest.

mod authorization_code;
mod bank;
mod binary;
mod client_credentials;
mod common;
mod discovery;
mod fapi;
mod id_token;
mod refresh;
mod revocation;
mod userinfo;
