//! Starting the token agent (`tokendesk agent`, served by [`tokendesk_core::agent::serve`]).

#![cfg(unix)]

use std::path::Path;

use tokendesk_core::agent::socket_path;

/// Starts an agent in the background for next time, unless disabled or one answers. A socket
/// file nobody listens on (an agent that was killed) does not count: the new agent replaces it.
///
/// The agent is a daemon: its own session (no terminal's signals reach it), stdio on
/// /dev/null, and none of the caller's other descriptors. A pipe the caller inherited (a
/// shell's `5>&1 | cat`, make's jobserver) would otherwise stay open in the agent for as long
/// as it runs, and whoever reads that pipe would wait for the agent to go idle.
pub fn spawn_in_background(run_dir: &Path) {
    if std::env::var_os("TOKENDESK_NO_AGENT").is_some()
        || std::os::unix::net::UnixStream::connect(socket_path(run_dir)).is_ok()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = std::process::Command::new(exe);
    command
        .arg("agent")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    tokendesk_core::detach::detach(&mut command);
    let _ = command.spawn();
}

/// What `tokendesk agent` does first, before it opens anything: closes every descriptor above
/// stderr it was given. The agent started on demand gets none already; this covers an agent
/// started some other way (by hand, from a script) with a pipe it has no business keeping.
/// Its session and stdio are left as they are: in a terminal, `tokendesk agent` stays an
/// ordinary foreground program (logs on stderr with TOKENDESK_LOG, Ctrl-C ends it).
pub fn close_inherited_descriptors() {
    if tokendesk_core::detach::close_from_3(false) {
        return;
    }
    // No close_range(2): close what the process lists as open.
    let open: Vec<libc::c_int> = std::fs::read_dir("/proc/self/fd")
        .or_else(|_| std::fs::read_dir("/dev/fd"))
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in open {
        // SAFETY: called first thing in `main`, before this process opened anything: none of
        // these descriptors is owned by a Rust object. (The listing's own descriptor is
        // already closed; closing it again only returns EBADF.)
        #[allow(unsafe_code)]
        unsafe {
            libc::close(fd);
        }
    }
}
