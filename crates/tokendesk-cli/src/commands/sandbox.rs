//! `tokendesk sandbox`: the demo provider in the foreground.

use tokendesk_core::presets::{self, SandboxClients};
use tokendesk_core::{Core, Error, ErrorCode, Result};
use tokendesk_sandbox::{Sandbox, SandboxOptions, Style};

use crate::cli::SandboxArgs;

pub async fn run(core: &Core, args: &SandboxArgs) -> Result<()> {
    let sandbox = Sandbox::start(SandboxOptions {
        port: args.port,
        ..SandboxOptions::default()
    })
    .await
    .map_err(|e| {
        Error::new(
            ErrorCode::Conflict,
            format!("The sandbox could not start: {e}."),
        )
    })?;
    let (standard, gateway) = (
        sandbox.issuer(Style::Standard),
        sandbox.issuer(Style::Gateway),
    );
    eprintln!("TokenDesk sandbox provider — for demos and tests only, NOT for production.");
    println!("standard issuer: {standard}\ngateway issuer:  {gateway}");
    if args.add_profiles {
        let created = core
            .add_presets(presets::sandbox(&SandboxClients {
                standard_issuer: &standard,
                gateway_issuer: &gateway,
                cc: tokendesk_sandbox::CC_CLIENT,
                cc_scopes: tokendesk_sandbox::CC_SCOPES,
                web: tokendesk_sandbox::WEB_CLIENT,
                user_scopes: tokendesk_sandbox::USER_SCOPES,
            }))
            .await?;
        for p in &created {
            eprintln!("Added profile \"{}\".", p.config.name);
        }
    }
    eprintln!("Serving until Ctrl-C.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(())
}
