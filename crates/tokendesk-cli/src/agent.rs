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
    use std::os::unix::process::CommandExt;
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = std::process::Command::new(exe);
    command
        .arg("agent")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure runs in the forked child before exec. It only makes system calls that
    // are async-signal-safe in practice (setsid, close_range or fcntl, getrlimit): it allocates
    // nothing and takes no lock, so whatever the parent's other threads held does not matter.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // Close-on-exec rather than closed now: std's own pipe that reports a failed exec
            // back to the parent stays usable until the exec.
            close_from_3(true);
            Ok(())
        });
    }
    let _ = command.spawn();
}

/// What `tokendesk agent` does first, before it opens anything: closes every descriptor above
/// stderr it was given. The agent started on demand gets none already; this covers an agent
/// started some other way (by hand, from a script) with a pipe it has no business keeping.
/// Its session and stdio are left as they are: in a terminal, `tokendesk agent` stays an
/// ordinary foreground program (logs on stderr with TOKENDESK_LOG, Ctrl-C ends it).
pub fn close_inherited_descriptors() {
    if close_from_3(false) {
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

/// Closes (or, with `cloexec`, marks close-on-exec) every descriptor from 3 up. Returns
/// whether that was done in one close_range(2) call; when not (other systems, Linux before
/// 5.9, or 5.11 for the flag) and `cloexec` is asked for, marks each descriptor up to the
/// soft limit (at most 65,536) instead and returns true, otherwise returns false.
///
/// Async-signal-safe: no allocation, no lock (it runs between fork and exec).
fn close_from_3(cloexec: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        let flags = if cloexec {
            libc::CLOSE_RANGE_CLOEXEC
        } else {
            0
        };
        // The raw system call: glibc has a wrapper only since 2.34.
        // SAFETY: close_range touches nothing but the descriptor table; see the callers for
        // why no descriptor from 3 up belongs to anything in this process.
        #[allow(unsafe_code)]
        let done = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, flags) } == 0;
        if done {
            return true;
        }
    }
    if !cloexec {
        return false;
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given; fcntl(F_SETFD) on a descriptor that
    // is not open fails with EBADF and changes nothing.
    #[allow(unsafe_code)]
    unsafe {
        let last = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(65_536) as libc::c_int
        } else {
            1024
        };
        for fd in 3..last {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    true
}
