//! `tokendesk discover URL`: the chain from an API URL to its authorization server, every
//! request and what it led to; stores nothing.

use std::process::ExitCode;
use std::time::Duration;

use tokendesk_core::ApiRequest;
use tokendesk_core::history::Trigger;

use tokendesk_core::resource::{DiscoverOptions, Discovered, Link, Walk};
use tokendesk_core::{Core, Result};

use crate::cli::DiscoverArgs;
use crate::exit::shell_word;

pub async fn run(core: &Core, args: &DiscoverArgs) -> Result<ExitCode> {
    let options = DiscoverOptions {
        authorization_server: args.authorization_server.clone(),
        code_grant: !args.client_credentials,
    };
    // With a profile, its TLS settings (CA, client certificate) apply to the walk too.
    let walk = match &args.profile {
        Some(name) => {
            let p = core.profile(name)?;
            core.discover_api_as(&p.id, &args.url, &options).await?
        }
        None => core.discover_api(&args.url, &options).await?,
    };
    if args.json {
        crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&walk)?));
        return Ok(match &walk.error {
            Some(e) => ExitCode::from(crate::exit::code_for(e)),
            None => ExitCode::SUCCESS,
        });
    }
    crate::output::emit(&walk_text(&walk, &args.url));
    if let Err(e) = walk.into_result() {
        return Ok(crate::exit::report(&e));
    }
    match &args.profile {
        Some(name) => with_profile(core, name, &args.url).await,
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The URL requested with the profile's token: the status, and a step-up challenge explained.
async fn with_profile(core: &Core, name: &str, url: &str) -> Result<ExitCode> {
    let profile = core.profile(name)?;
    let request = ApiRequest {
        method: "GET".into(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
    };
    let response = core
        .request(
            &profile.id,
            &request,
            Duration::from_secs(60),
            Trigger::CommandLine,
        )
        .await
        .map_err(|e| crate::exit::with_login_hint(e, name))?;
    let mut out = format!(
        "\nWith profile \"{}\"'s token: GET {} → HTTP {}\n",
        profile.config.name, response.url, response.status
    );
    if let Some(c) = &response.challenge {
        out.push_str(&format!("  WWW-Authenticate: {}\n", c.summary()));
    }
    crate::output::emit(&out);
    if let Some(advice) = response.challenge.as_ref().and_then(|c| {
        crate::commands::step_up::advice(name, &profile.config.scopes, response.status, c)
    }) {
        errln!("{advice}");
    } else if let Some(m) = response.still_refused() {
        errln!("error: {m}");
    }
    Ok(ExitCode::from(crate::commands::request::status_code(
        response.status,
    )))
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::Api => "API",
        Link::ResourceMetadata => "protected-resource metadata",
        Link::AuthorizationServer => "authorization server metadata",
    }
}

/// The steps, numbered, then what they led to.
pub fn walk_text(walk: &Walk, url: &str) -> String {
    let mut out = format!("Discovery from {url}\n\n");
    for (i, s) in walk.steps.iter().enumerate() {
        let status = s
            .status
            .map(|c| format!("HTTP {c}"))
            .unwrap_or_else(|| "no answer".into());
        out.push_str(&format!(
            "{:>2}. {} — {} {} → {status}\n",
            i + 1,
            link_name(s.link),
            s.method,
            s.url
        ));
        for line in s.found.lines() {
            out.push_str(&format!("      {line}\n"));
        }
        if let Some(c) = &s.chosen {
            out.push_str(&format!("      ⇒ {c}\n"));
        }
    }
    if let Some(d) = &walk.discovered {
        out.push('\n');
        out.push_str(&summary(d));
    }
    out
}

fn summary(d: &Discovered) -> String {
    let name = d
        .resource_metadata
        .resource_name
        .as_deref()
        .unwrap_or("(unnamed)");
    let clients: Vec<&str> = d
        .client_options
        .iter()
        .map(|o| match o.as_str() {
            "pre_registered" => "a pre-registered client (--client-id)",
            "client_id_metadata_document" => "a client ID metadata document",
            "dynamic_registration" => "dynamic registration (RFC 7591)",
            other => other,
        })
        .collect();
    let p = &d.provider;
    let mut out = format!(
        "API:                  {name}\n\
         Resource (RFC 8707):  {}\n\
         Authorization server: {}\n\
         Scopes to ask for:    {}\n\
         PKCE:                 {}\n\
         Clients it allows:    {}\n",
        d.resource,
        d.authorization_server,
        if d.scopes.is_empty() {
            "(none named)".to_owned()
        } else {
            d.scopes.join(" ")
        },
        if p.code_challenge_methods_supported.is_empty() {
            "not advertised".to_owned()
        } else {
            p.code_challenge_methods_supported.join(", ")
        },
        clients.join("; ")
    );
    if let Some(t) = p.token_endpoint.as_deref() {
        out.push_str(&format!("Token endpoint:       {t}\n"));
    }
    out.push_str(&format!(
        "\nNothing was stored. Next: tokendesk profile add NAME --from-api {} --client-id ID\n",
        shell_word(&d.api_url)
    ));
    out
}
