//! Starting from an API URL: the API's protected-resource metadata (RFC 9728), the
//! authorization server it names (RFC 8414 / OpenID discovery, in the order of the MCP
//! authorization specification 2025-11-25) and the `resource` a token is requested for
//! (RFC 8707). [`chain::walk`] walks it and records every link.

pub mod chain;
pub mod metadata;
pub mod registration;
pub mod software_statement;
pub mod step_up;

pub use chain::{DiscoverOptions, Discovered, Link, Step, Walk};
pub use metadata::ResourceMetadata;
