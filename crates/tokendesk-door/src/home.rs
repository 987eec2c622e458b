//! Where the agent's socket is: `$TOKENDESK_HOME/run/agent.sock`, or, without that variable,
//! `tokendesk/run/agent.sock` in the user's data directory. `tokendesk_core::home::Home` opens
//! the same home (it names these parts from here).

use alloc::vec::Vec;

/// The variable that relocates the home.
pub const HOME_ENV: &str = "TOKENDESK_HOME";
/// The home's directory in the user's data directory.
pub const DATA_DIR_NAME: &str = "tokendesk";
/// The run directory (the agent's socket) in the home.
pub const RUN_DIR: &str = "run";

/// `dir/name` (no separator doubled).
pub fn join(dir: &[u8], name: &str) -> Vec<u8> {
    let mut out = dir.to_vec();
    if !out.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(name.as_bytes());
    out
}

/// The agent's socket of a home directory.
pub fn socket(home: &[u8]) -> Vec<u8> {
    join(&join(home, RUN_DIR), crate::protocol::SOCKET)
}

/// The XDG data directory as the `dirs` crate finds it on Linux: `$XDG_DATA_HOME` when it is an
/// absolute path, else `$HOME/.local/share` (`None` without a usable `$HOME`: the caller that
/// needs one asks the system's user database).
pub fn xdg_data_dir(xdg_data_home: Option<&[u8]>, home: Option<&[u8]>) -> Option<Vec<u8>> {
    match xdg_data_home.filter(|d| d.starts_with(b"/")) {
        Some(dir) => Some(dir.to_vec()),
        None => Some(join(home.filter(|h| !h.is_empty())?, ".local/share")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_in_the_homes_run_directory() {
        assert_eq!(socket(b"/h/td"), b"/h/td/run/agent.sock");
        assert_eq!(socket(b"/"), b"/run/agent.sock");
        assert_eq!(
            xdg_data_dir(Some(b"relative"), Some(b"/home/u")).unwrap(),
            b"/home/u/.local/share"
        );
        assert_eq!(xdg_data_dir(Some(b"/x"), None).unwrap(), b"/x");
        assert_eq!(xdg_data_dir(None, Some(b"")), None);
    }
}
