//! The door's commands (`token`, `exec`, `credential`, `refresh`) when they reach this program:
//! in a form only the parser reads (`tokendesk token -- P`), when the door found no agent, or
//! called as `tokendesk-cli` itself. The agent still answers them first, as the door would
//! (`tokendesk_door::door::serve`); the store answers when it does not.

use std::process::ExitCode;

use tokendesk_door::args::{self, Command as Door, Tool};

use crate::cli::{Command, CredentialCommand, ExecArgs};

/// The door's answer from the agent; `None` for another command or when no agent answers.
pub fn serve(command: &Command, workspaces: &[std::path::PathBuf]) -> Option<ExitCode> {
    let command = to_door(command)?;
    let workspaces: Vec<Vec<u8>> = workspaces
        .iter()
        .map(|w| w.as_os_str().as_encoded_bytes().to_vec())
        .collect();
    tokendesk_door::door::serve(&tokendesk_door::on_std::Std, &command, &workspaces)
        .map(ExitCode::from)
}

/// The parsed command as the door reads it, when the agent can answer it.
fn to_door(command: &Command) -> Option<Door> {
    Some(match command {
        // --json shows what only the store has; --without-resource edits the profile first.
        Command::Token(t) if !t.json && !t.without_resource => Door::Token(args::TokenArgs {
            profile: t.profile.clone(),
            min_valid: t.min_valid,
            header: t.header,
            env: t.env,
            id_token: t.id_token,
            for_request: t.for_request.clone(),
        }),
        // A name that is no variable is reported by `exec::run`.
        Command::Exec(e) if args::valid_var(&e.env) => Door::Exec(exec_args(e)),
        Command::Credential(c) => Door::Credential(credential_args(c)),
        Command::Refresh { profile } => Door::Refresh(profile.clone()),
        _ => return None,
    })
}

/// `exec`'s arguments as the door reads them.
pub fn exec_args(e: &ExecArgs) -> args::ExecArgs {
    args::ExecArgs {
        profile: e.profile.clone(),
        env: e.env.clone(),
        min_valid: e.min_valid,
        command: e
            .command
            .iter()
            .map(|a| a.as_encoded_bytes().to_vec())
            .collect(),
    }
}

/// `credential`'s arguments as the door reads them.
pub fn credential_args(c: &CredentialCommand) -> args::CredentialArgs {
    args::CredentialArgs {
        tool: match c {
            CredentialCommand::Kubectl(_) => Tool::Kubectl,
            CredentialCommand::Git {
                username, action, ..
            } => Tool::Git {
                username: username.clone(),
                action: action.clone(),
            },
        },
        profile: c.common().profile.clone(),
        min_valid: c.common().min_valid,
    }
}
