//! `tokendesk sandbox`: the demo provider in the foreground.

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
    let (standard, gateway, bank, fapi) = (
        sandbox.issuer(Style::Standard),
        sandbox.issuer(Style::Gateway),
        sandbox.issuer(Style::Bank),
        sandbox.issuer(Style::Fapi),
    );
    errln!("TokenDesk sandbox provider — for demos and tests only, NOT for production.");
    outln!(
        "standard issuer: {standard}\ngateway issuer:  {gateway}\nbank issuer:     {bank}\nfapi issuer:     {fapi}"
    );
    // A new start, new client keys: the bank and FAPI profiles already there sign with them.
    match tokendesk_sandbox::presets::renew_client_keys(core, &sandbox).await {
        Ok(0) => {}
        Ok(n) => errln!("Gave the sandbox's new client keys to {n} profile(s)."),
        Err(e) => errln!(
            "warning: the sandbox's new client keys were not stored: {}",
            e.message
        ),
    }
    if args.add_profiles {
        let created = core
            .add_presets(tokendesk_sandbox::presets::presets(&sandbox))
            .await?;
        for p in &created {
            errln!("Added profile \"{}\".", p.config.name);
        }
    }
    errln!("Serving until Ctrl-C.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(())
}
