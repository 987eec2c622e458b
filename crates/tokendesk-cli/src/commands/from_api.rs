//! `tokendesk profile add NAME --from-api URL` (a profile from an API's metadata, with a
//! pre-registered or dynamically registered client) and `tokendesk registration …` (RFC 7592).

use std::io::Read as _;

use tokendesk_core::api::ClientSource;
use tokendesk_core::profile::{AuthMethod, GrantKind, ProfileConfig};
use tokendesk_core::resource::DiscoverOptions;
use tokendesk_core::secret::{SecretKind, Sensitive};
use tokendesk_core::{Core, Result};
use tokendesk_core::{Error, ErrorCode};

use crate::cli::{ProfileAddArgs, RegistrationCommand};
use crate::commands::profile::{read_key_file, read_secret_line};
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
        (client_id, _) => client_source(core, a, &mut config, client_id.as_deref())?,
    };
    let made = core
        .create_profile_from_api(config, &options, client)
        .await?;
    let p = &made.profile;
    let name = shell_word(&p.config.name);
    errln!(
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
    errln!("Sign in with: tokendesk login {name}");
    Ok(())
}

fn client_source(
    core: &Core,
    a: &ProfileAddArgs,
    config: &mut ProfileConfig,
    client_id: Option<&str>,
) -> Result<ClientSource> {
    let stdin_users = [
        a.client_secret_stdin,
        a.initial_access_token_stdin,
        a.private_key_file.as_deref() == Some("-"),
        a.software_statement_file.as_deref() == Some("-"),
    ];
    if stdin_users.iter().filter(|&&u| u).count() > 1 {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "Only one value can come from stdin: give the others as files.",
        ));
    }
    Ok(match client_id {
        Some(id) => {
            let secret = if a.client_secret_stdin {
                Some(read_secret_line()?)
            } else if let Some(file) = a.private_key_file.as_deref() {
                // A pre-registered private_key_jwt client: its key, as `profile add` keeps it.
                if !config.key_is_credential() {
                    return Err(Error::new(
                        ErrorCode::InvalidInput,
                        "--private-key-file with --from-api and --client-id is the key of a \
                         private-key-jwt client (--auth-method private-key-jwt); with dynamic \
                         registration it signs --software-statement-claims.",
                    ));
                }
                Some(read_key_file(file)?)
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
            software_statement: software_statement(core, a, config)?,
        },
    })
}

/// The software statement to register with: a JWT from a file, or one signed now from claims.
fn software_statement(
    core: &Core,
    a: &ProfileAddArgs,
    config: &ProfileConfig,
) -> Result<Option<String>> {
    let read = |file: &str, what: &str| -> Result<String> {
        let text = if file == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s)
        } else {
            std::fs::read_to_string(file)
        };
        text.map_err(|e| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("Could not read the {what} from {file}: {e}."),
            )
        })
    };
    if let Some(file) = &a.software_statement_file {
        if a.private_key_file.is_some() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "--software-statement-file is sent as it was signed: --private-key-file signs only \
                 a statement made from --software-statement-claims.",
            ));
        }
        return read(file, "software statement").map(Some);
    }
    let Some(claims) = &a.software_statement_claims else {
        if a.private_key_file.is_some() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "--private-key-file with dynamic registration signs a software statement: give its \
                 claims with --software-statement-claims.",
            ));
        }
        return Ok(None);
    };
    let text = match claims.strip_prefix('@') {
        Some(file) => read(file, "software statement's claims")?,
        None => claims.clone(),
    };
    let claims: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::invalid_field(
            "software_statement_claims",
            format!("--software-statement-claims is not JSON: {e}."),
        )
    })?;
    let key = match &a.private_key_file {
        Some(file) => read_key_file(file)?,
        None => key_from_source(config)?,
    };
    let alg = a.assertion_alg.map(|_| config.client_assertion.alg);
    core.sign_software_statement(&claims, &key, alg, a.assertion_kid.as_deref())
        .map(Some)
}

/// The private key from --key-command or --key-env, to sign a software statement with.
fn key_from_source(config: &ProfileConfig) -> Result<Sensitive<String>> {
    tokendesk_core::secret_source::read(
        config.secrets.of(SecretKind::PrivateKey),
        SecretKind::PrivateKey,
    )?
    .ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidInput,
            "--software-statement-claims needs the private key that signs the statement: \
             --private-key-file FILE (`-`: stdin), --key-command or --key-env.",
        )
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
            errln!("Updated the registration of \"{}\".", p.config.name);
        }
        RegistrationCommand::Delete { profile } => {
            let p = core.profile(profile)?;
            core.delete_registration(&p.id).await?;
            errln!(
                "Deleted the registration of client {} at the server; profile \"{}\" stays \
                 (its client no longer works there).",
                p.config.client_id,
                p.config.name
            );
        }
    }
    Ok(())
}
