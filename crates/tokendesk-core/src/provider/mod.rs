//! What a provider says and how we read it: discovery metadata, lenient token and error
//! responses, the oauth2 client for a profile, and messages that say what to check.

pub mod client;
pub mod discovery;
pub mod hints;
pub mod lenient;
pub mod response;
