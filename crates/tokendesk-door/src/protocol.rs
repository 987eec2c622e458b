//! The token agent's protocol: one JSON request line from the client, one JSON answer line back,
//! over the agent's UNIX socket (`RUN_DIR/agent.sock`). The agent's side is in
//! `tokendesk_core::agent`; the clients are the door and the tests.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The protocol and the version of the tokendesk that speaks it: an agent answers only its own
/// version (any other is told [`Response::Mismatch`] and asks the store itself).
pub const PROTOCOL: &str = concat!("tokendesk-agent/1 ", env!("CARGO_PKG_VERSION"));

/// The socket's name in the run directory.
pub const SOCKET: &str = "agent.sock";

#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub protocol: String,
    pub profile: String,
    pub min_valid_secs: u64,
    pub id_token: bool,
    /// Also the `Authorization` header lines (with a DPoP proof for a bound token) — for this
    /// request (`METHOD URL`) when given. The agent keeps the DPoP key in memory.
    ///
    /// Absent: no header lines; `null`: header lines for no particular request. (A plain
    /// `Option<Option<_>>` wrote `Some(None)` as `null` and read it back as `None`, so
    /// `tokendesk token --header` through the agent printed `Bearer` for a DPoP-bound token.)
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub header: Option<Option<String>>,
    /// The caller's workspaces (`--workspace`, `$TOKENDESK_WORKSPACE`), absolute: an agent
    /// started without them opens them before it answers, and watches them from then on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<String>,
    /// Refresh the profile's tokens now (`tokendesk refresh`) instead of handing one out.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub refresh: bool,
}

/// A member that is present, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl Request {
    pub fn new(profile: &str, min_valid_secs: u64, id_token: bool) -> Self {
        Self {
            protocol: PROTOCOL.to_owned(),
            profile: profile.to_owned(),
            min_valid_secs,
            id_token,
            header: None,
            workspaces: Vec::new(),
            refresh: false,
        }
    }

    /// A refresh of `profile`'s tokens (`tokendesk refresh`).
    pub fn refresh(profile: &str) -> Self {
        Self {
            refresh: true,
            ..Self::new(profile, 0, false)
        }
    }

    /// Names the caller's workspaces (absolute paths), so the agent knows their profiles.
    pub fn with_workspaces(mut self, dirs: Vec<String>) -> Self {
        self.workspaces = dirs;
        self
    }

    /// Asks for the header lines too, for `target` (`METHOD URL`) when given.
    pub fn with_header(mut self, target: Option<&str>) -> Self {
        self.header = Some(target.map(str::to_owned));
        self
    }

    /// The request line: JSON and a newline.
    pub fn line(&self) -> Vec<u8> {
        json_line(self)
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Token {
        token: String,
        token_type: String,
        expires_at: Option<i64>,
        /// The header lines, when asked for.
        #[serde(default)]
        header: Option<String>,
    },
    /// The answer to a refresh request.
    Refreshed {
        /// The profile's name.
        name: String,
        expires_at: Option<i64>,
        /// The agent's clock when it answered (epoch ms), for "valid for …".
        now: i64,
        refresh_count: Option<i64>,
    },
    /// The request failed: `code` is the failure's kind as `tokendesk_core::ErrorCode` writes it
    /// (`needs_login`, `network`, …), which decides the exit code ([`crate::exit::code_for`]).
    Error { code: String, message: String },
    /// The agent runs another version: ask the store directly.
    Mismatch,
}

impl Response {
    /// The answer line: JSON and a newline.
    pub fn line(&self) -> Vec<u8> {
        json_line(self)
    }

    /// An answer line read back; `None` for anything that is not one.
    pub fn read(line: &[u8]) -> Option<Self> {
        serde_json::from_slice(line).ok()
    }
}

/// `value` as JSON and a newline.
fn json_line(value: &impl Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Whether a request line comes from a tokendesk of another version (not just a malformed line).
pub fn other_version(line: &str) -> bool {
    #[derive(Deserialize)]
    struct Hello {
        protocol: String,
    }
    serde_json::from_str::<Hello>(line)
        .is_ok_and(|h| h.protocol.starts_with("tokendesk-agent/") && h.protocol != PROTOCOL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn a_header_for_no_particular_request_survives_the_trip() {
        let r = Request::new("gw", 60, false).with_header(None);
        let back: Request = serde_json::from_slice(&r.line()).unwrap();
        assert_eq!(back.header, Some(None));
        let plain: Request = serde_json::from_slice(&Request::new("gw", 60, false).line()).unwrap();
        assert_eq!(plain.header, None);
        assert!(!plain.refresh && plain.workspaces.is_empty());
        let line = String::from_utf8(Request::new("gw", 60, false).line()).unwrap();
        assert!(line.ends_with("}\n") && !line.contains("refresh") && !line.contains("header"));
    }

    #[test]
    fn answers_read_back_and_other_versions_are_told_apart() {
        let e = Response::Error {
            code: "needs_login".to_string(),
            message: "m".to_string(),
        };
        assert!(matches!(
            Response::read(&e.line()),
            Some(Response::Error { code, .. }) if code == "needs_login"
        ));
        assert!(Response::read(b"<html>").is_none());
        assert!(other_version(r#"{"protocol":"tokendesk-agent/1 0.0.1"}"#));
        assert!(!other_version(
            &String::from_utf8(Request::refresh("x").line()).unwrap()
        ));
        assert!(!other_version("hello"));
    }
}
