//! TokenDesk's command line, on the same profiles, keychain and store as the app.
//!
//! This crate is `tokendesk-cli`, the whole command line ([`main`]). Scripts call `tokendesk`,
//! the door (crates/tokendesk-door): it answers `tokendesk token PROFILE` and its kin from the
//! running token agent and hands every other command line to `tokendesk-cli`, installed beside
//! it. The split keeps the hot path's process small: a cached token then costs less than
//! starting a C program, not the start-up of one that carries a runtime, an HTTP stack, SQLite
//! and the sandbox server.

// Every print goes through `output` (its macros end quietly on a closed pipe).
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
pub mod output;
pub mod agent;
pub mod cli;
pub mod commands;
pub mod exit;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use cli::{Cli, Command, ProfileCommand};
use commands::{
    credential, discover, doctor, door, exec, from_api, generate, inspect, list, login, open, ops,
    presets, profile, request, sandbox, token, workspace,
};
use tokendesk_core::events::NoEvents;
use tokendesk_core::{Core, Result};

/// The whole command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // An agent keeps nothing of whoever started it: before anything of its own is open.
    #[cfg(unix)]
    if let Command::Agent { .. } = &cli.command {
        agent::close_inherited_descriptors();
    }
    // The hot path: a cached token from the agent, before any runtime, store or keychain.
    if let Some(code) = door::serve(&cli.command, &cli.workspaces) {
        return code;
    }
    if let Command::Presets { preset, json } = &cli.command {
        return done(presets::run(preset.as_deref(), *json));
    }
    if let Command::Inspect(args) = &cli.command
        && args.profile.is_none()
        && inspect::names_profile(args.token.as_deref()).is_none()
    {
        return done(inspect::from_input(args.token.as_deref(), args.json));
    }
    // Made from the definitions alone: no store, no keychain (packages are built on machines
    // that have neither).
    if let Command::Generate(g) = &cli.command {
        return done(generate::run(g));
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOKENDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            errln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    }
}

fn done(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}

/// Commands that choose their own exit code (a request's status, an exec'd command's).
async fn run(cli: Cli) -> Result<ExitCode> {
    let core = open(&cli)?;
    let dirs = core.workspace_dirs(&cli.workspaces);
    let status_cmd = matches!(cli.command, Command::Workspace(_));
    if !dirs.is_empty() && !status_cmd {
        workspace::open(&core, &dirs, false);
    }
    let done = match &cli.command {
        Command::Workspace(w) => return workspace::run(&core, w, &dirs),
        Command::Request(args) => return request::run(&core, args).await,
        Command::Exec(args) => return exec::run(&core, args).await,
        Command::Credential(c) => return credential::run(&core, c).await,
        Command::Doctor(args) => return doctor::run(&core, args).await,
        Command::Discover(args) => return discover::run(&core, args).await,

        Command::Token(args) => token::run(&core, args).await,
        Command::List { json } => list::run(&core, *json),
        Command::Login(args) => login::run(&core, args).await,
        Command::Refresh { profile } => ops::refresh(&core, profile).await,
        Command::Revoke { profile, refresh } => ops::revoke(&core, profile, *refresh).await,
        Command::Introspect { profile, refresh } => ops::introspect(&core, profile, *refresh).await,
        Command::Userinfo { profile } => ops::userinfo(&core, profile).await,
        Command::Inspect(args) => {
            let name = args
                .profile
                .as_deref()
                .or(inspect::names_profile(args.token.as_deref()))
                .unwrap_or_default();
            inspect::stored(&core, args, name).await
        }
        Command::History {
            profile,
            limit,
            json,
        } => ops::history(&core, profile, *limit, *json),
        Command::Profile(p) => match p {
            ProfileCommand::Add(a) => profile::add(&core, a).await,
            ProfileCommand::List => profile::list(&core),
            ProfileCommand::Show { profile: name } => profile::show(&core, name).await,
            ProfileCommand::Rm {
                profile: name,
                deregister,
            } => profile::rm(&core, name, *deregister).await,
            ProfileCommand::Export { profiles } => profile::export(&core, profiles),
            ProfileCommand::Import(a) => profile::import(&core, a).await,
            ProfileCommand::SetSecret {
                profile: name,
                remove,
            } => profile::set_secret(&core, name, *remove).await,
            ProfileCommand::SetKey {
                profile: name,
                file,
            } => profile::set_key(&core, name, file).await,
            ProfileCommand::SetTlsKey {
                profile: name,
                file,
            } => profile::set_tls_key(&core, name, file).await,
            ProfileCommand::Edit(a) => profile::edit(&core, a).await,
        },
        Command::Registration(r) => from_api::registration(&core, r).await,
        Command::ClientMetadata { name, url } => from_api::client_metadata(name, url),
        Command::Sandbox(args) => sandbox::run(&core, args).await,
        Command::Open { profile } => open::run(&core, profile.as_deref()),
        Command::Agent { idle_exit } => {
            // The agent follows the workspaces' files while it runs (a `git pull`).
            let _watch = (!dirs.is_empty())
                .then(|| {
                    tokendesk_core::workspace::watch::WorkspaceWatch::start(
                        core.clone(),
                        dirs.clone(),
                    )
                })
                .transpose()?;
            agent_command(core.clone(), *idle_exit).await
        }
        Command::Presets { preset, json } => presets::run(preset.as_deref(), *json),
        Command::Generate(g) => generate::run(g),
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn open(cli: &Cli) -> Result<Arc<Core>> {
    // A sign-in shows its steps as they run (consent registered, checks passed); other commands
    // do on a terminal only, so a script's stderr stays quiet.
    let events: Arc<dyn tokendesk_core::events::EventSink> =
        if matches!(cli.command, Command::Login(_)) || std::io::stderr().is_terminal() {
            Arc::new(output::Progress)
        } else {
            Arc::new(NoEvents)
        };
    Ok(Arc::new(Core::open_default(
        events,
        tokendesk_core::history::Trigger::CommandLine,
    )?))
}

#[cfg(unix)]
async fn agent_command(core: Arc<Core>, idle_exit: u64) -> Result<()> {
    tokendesk_core::agent::serve(core, Some(Duration::from_secs(idle_exit))).await
}

#[cfg(not(unix))]
async fn agent_command(_: Arc<Core>, _: u64) -> Result<()> {
    Err(tokendesk_core::Error::new(
        tokendesk_core::ErrorCode::Unsupported,
        "The token agent needs UNIX sockets; `tokendesk token` reads the keychain directly here.",
    ))
}
