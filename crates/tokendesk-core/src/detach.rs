//! Children that must not hold on to this process: their own session (no terminal's signals
//! reach them) and none of our descriptors above stderr. A pipe the caller inherited (a shell's
//! `5>&1 | cat`, make's jobserver) would otherwise stay open in them for as long as they run,
//! and whoever reads that pipe would wait for them: the token agent, a browser the sign-in
//! opened.

#![cfg(unix)]

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the command's child a detached one: `setsid()` and every descriptor from 3 up marked
/// close-on-exec, in the child between fork and exec.
pub fn detach(command: &mut Command) {
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
}

/// Closes (or, with `cloexec`, marks close-on-exec) every descriptor from 3 up. Returns
/// whether that was done in one close_range(2) call; when not (other systems, Linux before
/// 5.9, or 5.11 for the flag) and `cloexec` is asked for, marks each descriptor up to the
/// soft limit (at most 65,536) instead and returns true, otherwise returns false.
///
/// Async-signal-safe: no allocation, no lock (it runs between fork and exec).
pub fn close_from_3(cloexec: bool) -> bool {
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
