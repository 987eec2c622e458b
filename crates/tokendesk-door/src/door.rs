//! The door's course: read the command line, ask the agent, answer — or hand everything to
//! tokendesk-cli. The system services it needs are a [`Sys`]: the program without a C library
//! and the one on std each have one (src/main.rs).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::answer::{self, Served};
use crate::args::{self, Command, CredentialArgs, ExecArgs, TokenArgs, Tool};
use crate::exit;
use crate::home;
use crate::protocol::{Request, Response};

/// Turns the agent off for a call: the command line then uses the store and keychain itself.
pub const NO_AGENT_ENV: &str = "TOKENDESK_NO_AGENT";
/// Workspaces every call names (`:`-separated), as `--workspace` does.
pub const WORKSPACE_ENV: &str = "TOKENDESK_WORKSPACE";

/// The program that runs every command (installed beside the door).
pub const FULL: &str = "tokendesk-cli";

/// What the door says when it cannot hand a command over to [`FULL`] at `path`.
pub fn cannot_run(path: &str, why: &str) -> String {
    format!(
        "error: cannot run {path}: {why}. TokenDesk's command line is two programs that are \
         installed side by side, `tokendesk` and `tokendesk-cli`; reinstall them together.\n"
    )
}

/// Where text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// Why a command could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    NotFound,
    PermissionDenied,
    /// Anything else, as the system says it.
    Other(String),
}

/// What the door asks of the system.
pub trait Sys {
    /// The arguments after the program's name.
    fn args(&self) -> Vec<Vec<u8>>;
    /// An environment variable.
    fn var(&self, name: &str) -> Option<Vec<u8>>;
    /// The user's data directory (on Linux [`home::xdg_data_dir`]).
    fn data_dir(&self) -> Option<Vec<u8>>;
    /// The path with every symbolic link, `.` and `..` resolved; `None` when it does not exist.
    fn canonicalize(&self, path: &[u8]) -> Option<Vec<u8>>;
    /// Sends one request line to the UNIX socket at `socket` and reads one answer line back;
    /// `None` when nobody answers there (or not within a minute).
    fn round_trip(&self, socket: &[u8], request: &[u8]) -> Option<Vec<u8>>;
    /// Writes all of `text`; `false` when it could not.
    fn write(&self, to: Stream, text: &[u8]) -> bool;
    /// Reads standard input up to an empty line or its end (what git tells a credential helper).
    fn drain_request(&self);
    /// Runs `command` (looked up in `PATH`) with the environment changed by `env` (`None`
    /// removes). On UNIX this process becomes it and this returns only when it cannot be
    /// started; elsewhere it returns the command's exit code.
    fn exec(&self, command: &[Vec<u8>], env: &[(String, Option<String>)]) -> Result<u8, ExecError>;
    /// Hands the whole command line to tokendesk-cli beside this program (same arguments,
    /// environment and — on UNIX — process); returns only when it cannot, or where a process
    /// cannot become another, with its exit code.
    fn hand_over(&self) -> u8;
}

/// The door: answers what it can with the agent, hands the rest over. Returns the exit code.
pub fn run(sys: &impl Sys) -> u8 {
    let (workspaces, args) = args::leading_workspaces(sys.args());
    if let Some(command) = args::read(&args)
        && let Some(code) = serve(sys, &command, &workspaces)
    {
        return code;
    }
    sys.hand_over()
}

/// The answer to `command` from the agent; `None` when no agent answers (the caller then asks
/// the store).
pub fn serve(sys: &impl Sys, command: &Command, workspaces: &[Vec<u8>]) -> Option<u8> {
    match command {
        Command::Token(t) => token(sys, t, workspaces),
        Command::Exec(e) => exec(sys, e, workspaces),
        Command::Credential(c) => credential(sys, c, workspaces),
        Command::Refresh(profile) => refresh(sys, profile),
    }
}

fn token(sys: &impl Sys, t: &TokenArgs, workspaces: &[Vec<u8>]) -> Option<u8> {
    let mut asked = Request::new(&t.profile, t.min_valid, t.id_token);
    if t.wants_header_lines() {
        asked = asked.with_header(t.for_request.as_deref());
    }
    Some(match ask(sys, asked, workspaces)? {
        Ok(served) => {
            let text = answer::token_text(t.header, t.env, t.id_token, &served);
            sys.write(Stream::Out, text.as_bytes());
            0
        }
        Err((code, message)) => report(sys, &code, &message),
    })
}

fn exec(sys: &impl Sys, e: &ExecArgs, workspaces: &[Vec<u8>]) -> Option<u8> {
    Some(match token_for(sys, &e.profile, e.min_valid, workspaces)? {
        Ok(served) => run_command(sys, e, &served),
        Err(code) => code,
    })
}

/// Runs `exec`'s command with `served` in its environment (on UNIX: becomes it). Returns only
/// when it cannot be started (after saying why), or where a process cannot become another,
/// with the command's exit code.
pub fn run_command(sys: &impl Sys, e: &ExecArgs, served: &Served) -> u8 {
    let why = match sys.exec(&e.command, &answer::exec_env(&e.env, served)) {
        Ok(code) => return code,
        Err(why) => why,
    };
    let (code, why) = match why {
        ExecError::NotFound => (
            exit::COMMAND_NOT_FOUND,
            "command not found (check its name and PATH)".to_owned(),
        ),
        ExecError::PermissionDenied => (
            exit::CANNOT_EXECUTE,
            "permission denied (is it executable?)".to_owned(),
        ),
        ExecError::Other(why) => (exit::CANNOT_EXECUTE, why),
    };
    let shown = String::from_utf8_lossy(e.command.first().map_or(&[][..], Vec::as_slice));
    let said = format!("tokendesk exec: {shown}: {why}\n");
    sys.write(Stream::Err, said.as_bytes());
    code
}

fn credential(sys: &impl Sys, c: &CredentialArgs, workspaces: &[Vec<u8>]) -> Option<u8> {
    if !c.needs_token() {
        return Some(answer_credential(sys, c, None));
    }
    Some(match token_for(sys, &c.profile, c.min_valid, workspaces)? {
        Ok(served) => answer_credential(sys, c, Some(&served)),
        Err(code) => code,
    })
}

/// A credential helper's answer: kubectl's ExecCredential, or git's lines (after reading what
/// git wrote); with no token (git's `store`, `erase`), what git wrote read and nothing said.
pub fn answer_credential(sys: &impl Sys, c: &CredentialArgs, served: Option<&Served>) -> u8 {
    let text = match (&c.tool, served) {
        (Tool::Kubectl, Some(served)) => {
            let info = sys.var("KUBERNETES_EXEC_INFO");
            let info = info.as_deref().and_then(|i| core::str::from_utf8(i).ok());
            answer::exec_credential(served, info)
        }
        (Tool::Git { username, .. }, Some(served)) => {
            // What git says about the remote comes first; the helper reads it all (git may
            // wait for the helper to take its input before it reads the answer).
            sys.drain_request();
            answer::git_answer(username, served)
        }
        (_, None) => {
            sys.drain_request();
            String::new()
        }
    };
    match sys.write(Stream::Out, text.as_bytes()) {
        true => 0,
        false => 1,
    }
}

/// An access token for `exec` and the credential helpers, or the exit code of the failure
/// (said, with the command that signs in when it needs one); `None` when no agent answers.
fn token_for(
    sys: &impl Sys,
    profile: &str,
    min_valid: u64,
    workspaces: &[Vec<u8>],
) -> Option<Result<Served, u8>> {
    Some(
        match ask(sys, Request::new(profile, min_valid, false), workspaces)? {
            Ok(served) => Ok(served),
            Err((code, message)) => Err(report_with_hint(sys, &code, &message, profile)),
        },
    )
}

fn refresh(sys: &impl Sys, profile: &str) -> Option<u8> {
    match Response::read(&round_trip(sys, &Request::refresh(profile))?)? {
        Response::Refreshed {
            name,
            expires_at,
            now,
            refresh_count,
        } => {
            let said = answer::refreshed(&name, expires_at, now, refresh_count);
            sys.write(Stream::Err, said.as_bytes());
            Some(0)
        }
        Response::Error { code, message } => Some(report(sys, &code, &message)),
        Response::Token { .. } | Response::Mismatch => None,
    }
}

/// A token from the agent, or its error (kind, message); `None` when no agent answers. The
/// agent is told the caller's workspaces (`--workspace` and `$TOKENDESK_WORKSPACE`): one
/// started without them opens them first.
fn ask(
    sys: &impl Sys,
    request: Request,
    workspaces: &[Vec<u8>],
) -> Option<Result<Served, (String, String)>> {
    let mut dirs: Vec<Vec<u8>> = workspaces.to_vec();
    if let Some(v) = sys.var(WORKSPACE_ENV) {
        dirs.extend(
            v.split(|&b| b == b':')
                .filter(|p| !p.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    let dirs = dirs
        .iter()
        .map(|d| {
            let d = sys.canonicalize(d).unwrap_or_else(|| d.clone());
            String::from_utf8_lossy(&d).into_owned()
        })
        .collect();
    match Response::read(&round_trip(sys, &request.with_workspaces(dirs))?)? {
        Response::Token {
            token,
            expires_at,
            header,
            ..
        } => Some(Ok(Served {
            token,
            expires_at,
            header,
        })),
        Response::Error { code, message } => Some(Err((code, message))),
        Response::Refreshed { .. } | Response::Mismatch => None,
    }
}

/// The agent's answer line to `request`; `None` when the agent is turned off or does not answer.
fn round_trip(sys: &impl Sys, request: &Request) -> Option<Vec<u8>> {
    if sys.var(NO_AGENT_ENV).is_some() {
        return None;
    }
    let home = match sys.var(home::HOME_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => sys.canonicalize(&dir).unwrap_or(dir),
        None => home::join(&sys.data_dir()?, home::DATA_DIR_NAME),
    };
    sys.round_trip(&home::socket(&home), &request.line())
}

/// Prints the error on stderr and returns its exit code.
fn report(sys: &impl Sys, code: &str, message: &str) -> u8 {
    sys.write(Stream::Err, format!("error: {message}\n").as_bytes());
    exit::code_for(code)
}

/// [`report`], with the command that signs in when the failure needs one.
fn report_with_hint(sys: &impl Sys, code: &str, message: &str, profile: &str) -> u8 {
    match exit::login_hint(code, message, profile) {
        Some(hinted) => report(sys, code, &hinted),
        None => report(sys, code, message),
    }
}
