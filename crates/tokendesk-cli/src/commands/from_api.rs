//! `tokendesk profile add NAME --from-api URL` (a profile from an API's metadata, with a
//! pre-registered or dynamically registered client) and `tokendesk registration …` (RFC 7592).

use tokendesk_core::api::ClientSource;
use tokendesk_core::profile::{AuthMethod, GrantKind, ProfileConfig};
use tokendesk_core::resource::DiscoverOptions;
use tokendesk_core::{Core, Result};

use crate::cli::{ProfileAddArgs, RegistrationCommand};
use crate::commands::profile::read_secret_line;
use crate::exit::shell_word;

pub async fn add(
    core: &Core,
    a: &ProfileAddArgs,
    mut config: ProfileConfig,
    url: &str,
) -> Result<()> {
    config.api_url = Some(url.to_owned());
    let options = DiscoverOptions {
        authorization_server: a.authorization_server.clone(),
        code_grant: config.grant == GrantKind::AuthorizationCode,
    };
    let client = match (&a.client_id, &a.client_metadata_url) {
        (None, Some(url)) => ClientSource::MetadataDocument { url: url.clone() },
        (client_id, _) => client_source(a, &mut config, client_id.as_deref())?,
    };
    let made = core
        .create_profile_from_api(config, &options, client)
        .await?;
    let p = &made.profile;
    let name = shell_word(&p.config.name);
    eprintln!(
        "Added profile \"{}\" for {}: resource {}, authorization server {}, client {}{}.",
        p.config.name,
        made.discovered.api_url,
        made.discovered.resource,
        made.discovered.authorization_server,
        p.config.client_id,
        if made.registered {
            format!(
                " (registered dynamically, {}; see `tokendesk registration show {name}`)",
                p.config.auth_method.as_str()
            )
        } else {
            String::new()
        }
    );
    eprintln!("Sign in with: tokendesk login {name}");
    Ok(())
}

fn client_source(
    a: &ProfileAddArgs,
    config: &mut ProfileConfig,
    client_id: Option<&str>,
) -> Result<ClientSource> {
    Ok(match client_id {
        Some(id) => {
            let secret = if a.client_secret_stdin {
                Some(read_secret_line()?)
            } else {
                None
            };
            if a.auth_method.is_none() {
                config.auth_method = if secret.is_some() {
                    AuthMethod::ClientSecretBasic
                } else {
                    AuthMethod::None
                };
            }
            ClientSource::PreRegistered {
                client_id: id.to_owned(),
                secret,
            }
        }
        None => ClientSource::Register {
            confidential: a.confidential,
            initial_access_token: if a.initial_access_token_stdin {
                Some(read_secret_line()?)
            } else {
                None
            },
            software_statement: None,
        },
    })
}

/// `tokendesk client-metadata NAME --url URL`: the document to host at URL.
pub fn client_metadata(name: &str, url: &str) -> Result<()> {
    use tokendesk_core::resource::registration;
    registration::check_client_metadata_url(url)
        .map_err(|m| tokendesk_core::Error::invalid_field("url", m))?;
    let doc = registration::client_metadata_document(url, &format!("TokenDesk: {name}"));
    crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
    Ok(())
}

pub async fn registration(core: &Core, c: &RegistrationCommand) -> Result<()> {
    match c {
        RegistrationCommand::Show { profile } => {
            let p = core.profile(profile)?;
            let doc = core.registration(&p.id).await?;
            crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
        }
        RegistrationCommand::Update {
            profile,
            add,
            remove,
        } => {
            let p = core.profile(profile)?;
            let doc = core.update_registration(&p.id, add, remove).await?;
            crate::output::emit(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
            eprintln!("Updated the registration of \"{}\".", p.config.name);
        }
        RegistrationCommand::Delete { profile } => {
            let p = core.profile(profile)?;
            core.delete_registration(&p.id).await?;
            eprintln!(
                "Deleted the registration of client {} at the server; profile \"{}\" stays \
                 (its client no longer works there).",
                p.config.client_id, p.config.name
            );
        }
    }
    Ok(())
}
