//! Property tests of every parser that reads outside input (issue #16): token and error
//! responses, discovery documents, JWKS, JWTs, ID tokens and JARM responses, DPoP targets and
//! challenges, redirect URLs, the agent's request lines, profile export files, profile checks
//! and templates.
//!
//! Each module states what must hold for any input (no panic; an error names the field; a value
//! that round-trips stays equal; a token whose signature fails never validates) and checks it
//! with plain assertions in a function of the raw input, which both its proptest properties and
//! the regression corpus (`tests/corpus/<parser>/`, see `corpus.rs`) call.
//!
//! Cases per property: 256 (`config::config`), or `PROPTEST_CASES`; the long run is
//! `scripts/properties-long.sh`. proptest's own regression files are off: an input that ever
//! failed goes into the corpus, which every run reads.

mod agent_request;
mod config;
mod corpus;
mod device;
mod discovery;
mod dpop;
mod error_body;
mod foreign_import;
mod id_token;
mod input;
mod jarm;
mod jwt;
mod profile_config;
mod profile_import;
mod redirect;
mod template;
mod token_response;
