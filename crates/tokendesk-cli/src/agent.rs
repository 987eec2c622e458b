//! Starting the token agent (`tokendesk agent`, served by [`tokendesk_core::agent::serve`]).

#![cfg(unix)]

use std::path::Path;

use tokendesk_core::agent::socket_path;

/// Starts an agent in the background for next time, unless disabled or one answers. A socket
/// file nobody listens on (an agent that was killed) does not count: the new agent replaces it.
pub fn spawn_in_background(run_dir: &Path) {
    if std::env::var_os("TOKENDESK_NO_AGENT").is_some()
        || std::os::unix::net::UnixStream::connect(socket_path(run_dir)).is_ok()
    {
        return;
    }
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let _ = std::process::Command::new(exe)
        .arg("agent")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn();
}
