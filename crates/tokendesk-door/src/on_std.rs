//! The door's system services on std: the door program everywhere but in its build without a
//! C library, and tokendesk-cli (which answers the same commands from the agent when they reach
//! it, say in a form only its parser reads).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Write};
use std::path::Path;

use crate::door::{self, ExecError, Stream, Sys};

/// The running process's.
pub struct Std;

#[cfg(unix)]
fn bytes(s: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(s)
}

#[cfg(not(unix))]
fn bytes(s: OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn os(b: &[u8]) -> &OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(b)
}

#[cfg(not(unix))]
fn os(b: &[u8]) -> &OsStr {
    OsStr::new(std::str::from_utf8(b).unwrap_or_default())
}

impl Sys for Std {
    fn args(&self) -> Vec<Vec<u8>> {
        std::env::args_os().skip(1).map(bytes).collect()
    }

    fn var(&self, name: &str) -> Option<Vec<u8>> {
        std::env::var_os(name).map(bytes)
    }

    fn data_dir(&self) -> Option<Vec<u8>> {
        #[cfg(target_os = "linux")]
        return crate::home::xdg_data_dir(
            self.var("XDG_DATA_HOME").as_deref(),
            self.var("HOME").as_deref(),
        );
        #[cfg(not(target_os = "linux"))]
        return dirs::data_dir().map(|d| bytes(d.into_os_string()));
    }

    fn canonicalize(&self, path: &[u8]) -> Option<Vec<u8>> {
        std::fs::canonicalize(os(path))
            .ok()
            .map(|p| bytes(p.into_os_string()))
    }

    #[cfg(unix)]
    fn round_trip(&self, socket: &[u8], request: &[u8]) -> Option<Vec<u8>> {
        let mut stream = std::os::unix::net::UnixStream::connect(os(socket)).ok()?;
        // A refresh may run inside the agent; give it the time a direct call would have.
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .ok()?;
        stream.write_all(request).ok()?;
        let mut answer = Vec::new();
        std::io::BufReader::new(stream)
            .read_until(b'\n', &mut answer)
            .ok()?;
        Some(answer)
    }

    #[cfg(not(unix))]
    fn round_trip(&self, _socket: &[u8], _request: &[u8]) -> Option<Vec<u8>> {
        None
    }

    fn write(&self, to: Stream, text: &[u8]) -> bool {
        let written = match to {
            Stream::Out => {
                let mut out = std::io::stdout().lock();
                out.write_all(text).and_then(|()| out.flush())
            }
            Stream::Err => std::io::stderr().lock().write_all(text),
        };
        written.is_ok()
    }

    fn drain_request(&self) {
        let stdin = std::io::stdin();
        let mut line = String::new();
        while stdin.lock().read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.trim_end_matches(['\r', '\n']).is_empty() {
                break;
            }
            line.clear();
        }
    }

    fn exec(&self, command: &[Vec<u8>], env: &[(String, Option<String>)]) -> Result<u8, ExecError> {
        let (program, rest) = command.split_first().ok_or(ExecError::NotFound)?;
        let mut child = std::process::Command::new(os(program));
        child.args(rest.iter().map(|a| os(a)));
        for (name, value) in env {
            match value {
                Some(value) => child.env(name, value),
                None => child.env_remove(name),
            };
        }
        #[cfg(unix)]
        let error = std::os::unix::process::CommandExt::exec(&mut child);
        #[cfg(not(unix))]
        let error = match child.status() {
            Ok(status) => return Ok(status.code().unwrap_or(1) as u8),
            Err(e) => e,
        };
        Err(match error.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound,
            std::io::ErrorKind::PermissionDenied => ExecError::PermissionDenied,
            _ => ExecError::Other(error.to_string()),
        })
    }

    fn hand_over(&self) -> u8 {
        let full = std::env::current_exe()
            .ok()
            .and_then(|me| Some(me.parent()?.join(door::FULL)))
            .unwrap_or_else(|| door::FULL.into())
            .with_extension(std::env::consts::EXE_EXTENSION);
        let mut command = std::process::Command::new(&full);
        command.args(std::env::args_os().skip(1));
        #[cfg(unix)]
        let error = {
            use std::os::unix::process::CommandExt;
            // Same process, same pid: signals, exit code and terminal behave as if it were one
            // program.
            command.arg0("tokendesk").exec()
        };
        #[cfg(not(unix))]
        let error = match command.status() {
            Ok(status) => return status.code().unwrap_or(1) as u8,
            Err(e) => e,
        };
        let said = door::cannot_run(&Path::new(&full).display().to_string(), &error.to_string());
        self.write(Stream::Err, said.as_bytes());
        1
    }
}
