//! `tokendesk token`: a valid token for scripts, from the agent when one runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use tokendesk_core::history::Trigger;
use tokendesk_core::home::Home;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::{Core, Result};

use crate::cli::TokenArgs;

/// The plain forms of `token` (`PROFILE [--header|--env] [--id-token] [--min-valid N]`), read
/// without building the whole command line parser; anything else is left to it (`None`).
pub fn quick_args(mut args: impl Iterator<Item = String>) -> Option<TokenArgs> {
    if args.next()? != "token" {
        return None;
    }
    let mut out = TokenArgs {
        profile: String::new(),
        min_valid: 60,
        header: false,
        env: false,
        json: false,
        reveal: false,
        id_token: false,
        for_request: None,
        without_resource: false,
    };
    let mut profile = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--header" => out.header = true,
            "--env" => out.env = true,
            "--id-token" => out.id_token = true,
            "--for" => out.for_request = Some(args.next()?),
            _ if a.starts_with("--for=") => out.for_request = Some(a["--for=".len()..].to_owned()),
            "--min-valid" => out.min_valid = args.next()?.parse().ok()?,
            _ if a.starts_with("--min-valid=") => {
                out.min_valid = a["--min-valid=".len()..].parse().ok()?
            }
            _ if a.starts_with('-') || profile.is_some() => return None,
            _ => profile = Some(a),
        }
    }
    if (out.header && out.env) || (out.for_request.is_some() && !out.header) {
        return None;
    }
    out.profile = profile?;
    Some(out)
}

/// Serves the request through the agent, without opening the store or the keychain; `None`
/// when no agent answers (or --json wants what only the store has).
pub fn fast_path(args: &TokenArgs, workspaces: &[PathBuf]) -> Option<ExitCode> {
    if args.json || args.without_resource {
        return None;
    }
    let header = wants_header_lines(args).then_some(args.for_request.as_deref());
    match from_agent(
        &args.profile,
        args.min_valid,
        args.id_token,
        header,
        workspaces,
    )? {
        Ok(served) => {
            print(args, &served.token, served.header, served.expires_at);
            Some(ExitCode::SUCCESS)
        }
        Err(e) => Some(crate::exit::report(&e)),
    }
}

/// A token from the running agent (with the header lines for `header`'s request when asked);
/// `None` when no agent answers, or it is turned off (`TOKENDESK_NO_AGENT`). The agent is told
/// the caller's workspaces (`workspaces` from `--workspace`, and `$TOKENDESK_WORKSPACE`): one
/// started without them opens them first.
pub fn from_agent(
    profile: &str,
    min_valid: u64,
    id_token: bool,
    header: Option<Option<&str>>,
    workspaces: &[PathBuf],
) -> Option<Result<Served>> {
    #[cfg(unix)]
    {
        if std::env::var_os("TOKENDESK_NO_AGENT").is_some() {
            return None;
        }
        let run_dir = Home::run_dir_from_env()?;
        let mut dirs = workspaces.to_vec();
        if let Some(v) = std::env::var_os(tokendesk_core::workspace::ENV) {
            dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
        }
        let mut request = tokendesk_core::agent::Request::new(profile, min_valid, id_token)
            .with_workspaces(&dirs);
        if let Some(target) = header {
            request = request.with_header(target);
        }
        let answer = tokendesk_core::agent::ask(&run_dir, &request)?;
        Some(answer.map(|s| Served {
            token: s.token,
            expires_at: s.expires_at,
            header: s.header,
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = (profile, min_valid, id_token, header, workspaces);
        None
    }
}

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

/// A token handed out, by the agent or the store.
pub struct Served {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: Option<i64>,
    /// The header lines, when asked for.
    pub header: Option<String>,
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
        let header = match wants_header_lines(args) {
            true => Some(
                core.authorization_header(&profile.id, args.for_request.as_deref())
                    .await?
                    .header_lines(),
            ),
            false => None,
        };
        print(args, value.expose(), header, expires_at);
    }
    #[cfg(unix)]
    crate::agent::spawn_in_background(&core.home().run_dir());
    Ok(())
}

/// `--header` for the access token: the core writes the lines (a DPoP-bound token gets its
/// scheme and a proof).
fn wants_header_lines(args: &TokenArgs) -> bool {
    args.header && !args.id_token
}

fn print(args: &TokenArgs, token: &str, header: Option<String>, expires_at: Option<i64>) {
    if let Some(lines) = header {
        outln!("{lines}");
    } else if args.header {
        outln!("Authorization: Bearer {token}");
    } else if args.env {
        let var = if args.id_token {
            "TOKENDESK_ID_TOKEN"
        } else {
            "TOKENDESK_ACCESS_TOKEN"
        };
        outln!("export {var}='{token}'");
        if let Some(at) = expires_at {
            outln!("export TOKENDESK_EXPIRES_AT='{}'", at / 1000);
        }
    } else {
        outln!("{token}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(line: &str) -> Option<TokenArgs> {
        quick_args(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn plain_token_requests_skip_the_parser_and_the_rest_do_not() {
        let a = quick("token gw --header --min-valid 30").unwrap();
        assert_eq!(
            (a.profile.as_str(), a.header, a.min_valid),
            ("gw", true, 30)
        );
        assert!(quick("token gw --min-valid=5 --id-token").unwrap().id_token);
        assert!(quick("token gw --json").is_none(), "--json needs the store");
        assert!(
            quick("token gw --header --env").is_none(),
            "clap reports the conflict"
        );
        assert!(quick("token").is_none());
        assert!(quick("token a b").is_none());
        assert!(quick("token gw --min-valid soon").is_none());
        let a = quick_args(
            [
                "token",
                "gw",
                "--header",
                "--for",
                "GET https://api.example/v1",
            ]
            .into_iter()
            .map(str::to_owned),
        )
        .unwrap();
        assert_eq!(a.for_request.as_deref(), Some("GET https://api.example/v1"));
        assert!(
            quick("token gw --for=x").is_none(),
            "--for without --header: clap says why"
        );
        assert!(quick("list").is_none());
    }
}
