//! `tokendesk exec PROFILE [--env NAME] [--min-valid N] -- COMMAND ARGS…`: runs COMMAND with a
//! valid access token in its environment — never in an argument list, which other users of the
//! machine can read in `/proc/*/cmdline`. On UNIX this process becomes COMMAND (exec), so its
//! exit code and the signals sent to it are COMMAND's own.

use std::process::ExitCode;

use tokendesk_core::{Core, Error, Result};
use tokendesk_door::args::valid_var;

use super::token::{self, Served};
use crate::cli::ExecArgs;
use crate::exit;

/// Runs the command with a token from the store (the agent did not answer).
pub async fn run(core: &Core, args: &ExecArgs) -> Result<ExitCode> {
    if !valid_var(&args.env) {
        return Err(Error::invalid_field(
            "env",
            format!(
                "\"{}\" cannot name an environment variable: use letters, digits and _ \
                 (not starting with a digit).",
                args.env
            ),
        ));
    }
    let served = token::from_core(core, &args.profile, args.min_valid)
        .await
        .map_err(|e| exit::with_login_hint(e, &args.profile))?;
    Ok(run_with(args, &served))
}

/// Starts the command (on UNIX: becomes it), as the door does with a token from the agent.
/// Returns only when it cannot be started, or (not on UNIX) when it ended.
fn run_with(args: &ExecArgs, served: &Served) -> ExitCode {
    let std = tokendesk_door::on_std::Std;
    let asked = super::door::exec_args(args);
    ExitCode::from(tokendesk_door::door::run_command(&std, &asked, served))
}
