//! `tokendesk token`: a valid token for scripts, from the agent when one runs.

use std::time::Duration;

use tokendesk_core::history::Trigger;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::{Core, Result};
pub use tokendesk_door::answer::Served;

use crate::cli::TokenArgs;

/// The access token valid for at least `min_valid` seconds, from the store (refreshed or
/// fetched when needed); starts an agent for next time.
pub async fn from_core(core: &Core, profile: &str, min_valid: u64) -> Result<Served> {
    let profile = core.profile(profile)?;
    let set = core
        .ensure_token(
            &profile.id,
            Duration::from_secs(min_valid),
            Trigger::CommandLine,
        )
        .await?;
    let value = core.reveal(&profile.id, SecretKind::AccessToken).await?;
    #[cfg(unix)]
    crate::agent::spawn_in_background(&core.home().run_dir());
    Ok(Served {
        token: value.into_inner(),
        expires_at: set.access_expires_at,
        header: None,
    })
}

pub async fn run(core: &Core, args: &TokenArgs) -> Result<()> {
    let mut profile = core.profile(&args.profile)?;
    if args.without_resource {
        profile = super::without_resource::apply(core, profile).await?;
    }
    let set = core
        .ensure_token(
            &profile.id,
            Duration::from_secs(args.min_valid),
            Trigger::CommandLine,
        )
        .await?;
    if args.json {
        let mut v = serde_json::to_value(&set)?;
        v["state"] = serde_json::to_value(set.state(core.now()))?;
        v["profile"] = profile.config.name.clone().into();
        if args.reveal {
            for kind in [
                SecretKind::AccessToken,
                SecretKind::RefreshToken,
                SecretKind::IdToken,
            ] {
                if let Ok(value) = core.reveal(&profile.id, kind).await {
                    v["values"][kind.as_str()] = value.into_inner().into();
                }
            }
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let (kind, expires_at) = if args.id_token {
            (SecretKind::IdToken, set.id_token_expires_at)
        } else {
            (SecretKind::AccessToken, set.access_expires_at)
        };
        let value = core.reveal(&profile.id, kind).await?;
        let header = match tokendesk_door::args::wants_header_lines(args.header, args.id_token) {
            true => Some(
                core.authorization_header(&profile.id, args.for_request.as_deref())
                    .await?
                    .header_lines(),
            ),
            false => None,
        };
        let served = Served {
            token: value.into_inner(),
            expires_at,
            header,
        };
        out!(
            "{}",
            tokendesk_door::answer::token_text(args.header, args.env, args.id_token, &served)
        );
    }
    #[cfg(unix)]
    crate::agent::spawn_in_background(&core.home().run_dir());
    Ok(())
}
