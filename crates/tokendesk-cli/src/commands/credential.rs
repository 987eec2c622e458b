//! `tokendesk credential kubectl|git PROFILE`: the profile's access token for tools that ask a
//! program for their credentials — kubectl's exec plugins (an ExecCredential on stdout) and
//! git's credential helpers (`get`, `store`, `erase` on stdin/stdout).

use std::process::ExitCode;

use tokendesk_core::{Core, Result};

use super::token;
use crate::cli::CredentialCommand;
use crate::exit;

/// Answers with a token from the store (the agent did not answer), as the door answers with
/// one from the agent.
pub async fn run(core: &Core, command: &CredentialCommand) -> Result<ExitCode> {
    let asked = super::door::credential_args(command);
    let served = match asked.needs_token() {
        true => Some(
            token::from_core(core, &asked.profile, asked.min_valid)
                .await
                .map_err(|e| exit::with_login_hint(e, &asked.profile))?,
        ),
        false => None,
    };
    let std = tokendesk_door::on_std::Std;
    Ok(ExitCode::from(tokendesk_door::door::answer_credential(
        &std,
        &asked,
        served.as_ref(),
    )))
}
