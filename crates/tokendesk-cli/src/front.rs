//! `tokendesk`: the command scripts call. A plain `tokendesk token PROFILE [--header|--env]
//! [--id-token] [--min-valid N]`, `tokendesk exec PROFILE -- COMMAND…` and `tokendesk credential
//! kubectl|git PROFILE` are answered by the running token agent over its user-only socket;
//! everything else (and these when no agent answers) is handed to `tokendesk-cli`,
//! which is installed beside this program, with the same arguments, environment and exit code.
//!
//! This program links nothing but that fast path, so it starts about as fast as a C program:
//! the whole command line is ~25 MB of runtime, HTTP, TLS, SQLite and the sandbox, and merely
//! loading it costs more than a cached token should. On Linux it is linked statically (no
//! dynamic loader; see `build.rs`) and starts without Rust's runtime set-up (`no_main`: no
//! stack-overflow handler, which reads /proc/self/maps and maps an alternate signal stack; no
//! SIGPIPE change, so a closed pipe ends it the way it ends `cat`). Figures: bench/cli.

#![no_main]
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::ffi::{c_char, c_int};
use std::io::Write;
use std::process::ExitCode;

use tokendesk_cli::commands::{credential, exec, ops, token};
use tokendesk_cli::errln;

/// The program that runs every command (a sibling of this one).
const FULL: &str = "tokendesk-cli";

/// C's `main`, called by the C runtime: Rust's `std::env::args` are set up before it (by an
/// initializer glibc runs), the rest of std needs no set-up.
// SAFETY (the lint is about `no_mangle`): this is the only `main` symbol in the program.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let code = door();
    // Without Rust's runtime nobody flushes stdout at exit.
    let _ = std::io::stdout().flush();
    status(code)
}

/// The number behind an `ExitCode` (std has no stable way to read it back).
fn status(code: ExitCode) -> c_int {
    (0..=u8::MAX)
        .find(|&c| ExitCode::from(c) == code)
        .map_or(1, c_int::from)
}

fn door() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // `tokendesk --workspace DIR token P`: the workspaces go to the agent with the request.
    let (workspaces, raw) = leading_workspaces(raw);
    // An exec'd command's arguments need not be UTF-8.
    if let Some(args) = exec::quick_args(&raw)
        && let Some(code) = exec::fast_path(&args, &workspaces)
    {
        return code;
    }
    // Arguments that are not UTF-8 are never a plain `token` request: tokendesk-cli reads them.
    let args: Option<Vec<String>> = raw.into_iter().map(|a| a.into_string().ok()).collect();
    if let Some(args) = args {
        if let Some(t) = token::quick_args(args.iter().cloned())
            && let Some(code) = token::fast_path(&t, &workspaces)
        {
            return code;
        }
        if let Some(c) = credential::quick_args(&args)
            && let Some(code) = credential::fast_path(&c, &workspaces)
        {
            return code;
        }
        if let Some(profile) = ops::refresh_quick_args(&args)
            && let Some(code) = ops::refresh_fast_path(profile)
        {
            return code;
        }
    }
    hand_over()
}

/// The `--workspace DIR` (or `--workspace=DIR`) options before the command, and the rest.
fn leading_workspaces(
    mut raw: Vec<std::ffi::OsString>,
) -> (Vec<std::path::PathBuf>, Vec<std::ffi::OsString>) {
    let mut dirs = Vec::new();
    let mut taken = 0;
    while let Some(a) = raw.get(taken) {
        if a == "--workspace" {
            match raw.get(taken + 1) {
                Some(dir) => dirs.push(dir.into()),
                None => break,
            }
            taken += 2;
        } else if let Some(dir) = a.to_str().and_then(|a| a.strip_prefix("--workspace=")) {
            dirs.push(dir.into());
            taken += 1;
        } else {
            break;
        }
    }
    let rest = raw.split_off(taken.min(raw.len()));
    (dirs, rest)
}

fn hand_over() -> ExitCode {
    let full = std::env::current_exe()
        .ok()
        .and_then(|me| Some(me.parent()?.join(FULL)))
        .unwrap_or_else(|| FULL.into())
        .with_extension(std::env::consts::EXE_EXTENSION);
    let mut command = std::process::Command::new(&full);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        // Same process, same pid: signals, exit code and terminal behave as if it were one program.
        command.arg0("tokendesk").exec()
    };
    #[cfg(not(unix))]
    let error = match command.status() {
        Ok(status) => return ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(e) => e,
    };
    errln!(
        "error: cannot run {}: {error}. TokenDesk's command line is two programs that are \
         installed side by side, `tokendesk` and `tokendesk-cli`; reinstall them together.",
        full.display()
    );
    ExitCode::FAILURE
}
