//! `tokendesk credential kubectl|git PROFILE`: the profile's access token for tools that ask a
//! program for their credentials — kubectl's exec plugins (an ExecCredential on stdout) and
//! git's credential helpers (`get`, `store`, `erase` on stdin/stdout).

use std::io::{BufRead, Write};
use std::process::ExitCode;

use tokendesk_core::{Core, Result};

use super::token::{self, Served};
use crate::cli::{CredentialArgs, CredentialCommand};
use crate::exit;

/// The ExecCredential API version kubeconfig `exec` entries name.
pub const KUBE_API_VERSION: &str = "client.authentication.k8s.io/v1";
/// The version before it (kubectl before 1.22 knows only this one); same fields.
pub const KUBE_API_VERSION_BETA: &str = "client.authentication.k8s.io/v1beta1";

/// `credential kubectl|git PROFILE …` read without the parser (the door's fast path).
pub fn quick_args(args: &[String]) -> Option<CredentialCommand> {
    let mut it = args.iter().map(String::as_str);
    if it.next()? != "credential" {
        return None;
    }
    let tool = it.next()?;
    let mut common = CredentialArgs {
        profile: String::new(),
        min_valid: 60,
    };
    let (mut username, mut action, mut profile) = ("oauth2".to_owned(), None, None);
    while let Some(a) = it.next() {
        match a {
            "--min-valid" => common.min_valid = it.next()?.parse().ok()?,
            _ if a.starts_with("--min-valid=") => {
                common.min_valid = a["--min-valid=".len()..].parse().ok()?
            }
            "--username" if tool == "git" => username = it.next()?.to_owned(),
            _ if tool == "git" && a.starts_with("--username=") => {
                username = a["--username=".len()..].to_owned()
            }
            _ if a.starts_with('-') => return None,
            _ if profile.is_none() => profile = Some(a.to_owned()),
            _ if tool == "git" && action.is_none() => action = Some(a.to_owned()),
            _ => return None,
        }
    }
    common.profile = profile?;
    match tool {
        "kubectl" => Some(CredentialCommand::Kubectl(common)),
        "git" => Some(CredentialCommand::Git {
            common,
            username,
            action: action.unwrap_or_else(|| "get".to_owned()),
        }),
        _ => None,
    }
}

/// Answers with a token from the agent; `None` when no agent answers (or nothing to fetch).
pub fn fast_path(
    command: &CredentialCommand,
    workspaces: &[std::path::PathBuf],
) -> Option<ExitCode> {
    let common = command.common();
    if !needs_token(command) {
        return Some(answer(command, None));
    }
    match token::from_agent(&common.profile, common.min_valid, false, None, workspaces)? {
        Ok(served) => Some(answer(command, Some(&served))),
        Err(e) => Some(exit::report(&exit::with_login_hint(e, &common.profile))),
    }
}

/// Answers with a token from the store (the agent did not answer).
pub async fn run(core: &Core, command: &CredentialCommand) -> Result<ExitCode> {
    let common = command.common();
    let served = match needs_token(command) {
        true => Some(
            token::from_core(core, &common.profile, common.min_valid)
                .await
                .map_err(|e| exit::with_login_hint(e, &common.profile))?,
        ),
        false => None,
    };
    Ok(answer(command, served.as_ref()))
}

/// git's `store` and `erase` (and actions added later) want nothing from a helper that
/// holds no passwords of its own.
fn needs_token(command: &CredentialCommand) -> bool {
    match command {
        CredentialCommand::Kubectl(_) => true,
        CredentialCommand::Git { action, .. } => action == "get",
    }
}

fn answer(command: &CredentialCommand, served: Option<&Served>) -> ExitCode {
    let text = match (command, served) {
        (CredentialCommand::Kubectl(_), Some(s)) => exec_credential(s),
        (CredentialCommand::Git { username, .. }, Some(s)) => {
            // What git says about the remote comes first; the helper reads it all (git may
            // wait for the helper to take its input before it reads the answer).
            drain_stdin();
            git_answer(username, s)
        }
        (_, None) => {
            drain_stdin();
            String::new()
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// An ExecCredential in the version the kubeconfig entry asked for (kubectl says which in
/// `KUBERNETES_EXEC_INFO`; v1 when it does not); kubectl caches the token until
/// `expirationTimestamp` and runs the plugin again after.
pub fn exec_credential(served: &Served) -> String {
    let asked = std::env::var("KUBERNETES_EXEC_INFO").ok();
    exec_credential_for(served, asked.as_deref())
}

fn exec_credential_for(served: &Served, exec_info: Option<&str>) -> String {
    let version = exec_info
        .and_then(|info| serde_json::from_str::<serde_json::Value>(info).ok())
        .and_then(|info| info["apiVersion"].as_str().map(str::to_owned))
        .filter(|v| v == KUBE_API_VERSION_BETA)
        .unwrap_or_else(|| KUBE_API_VERSION.to_owned());
    let mut status = serde_json::json!({ "token": served.token });
    if let Some(at) = served.expires_at {
        status["expirationTimestamp"] = tokendesk_core::clock::rfc3339(at).into();
    }
    let doc = serde_json::json!({
        "apiVersion": version,
        "kind": "ExecCredential",
        "status": status,
    });
    format!("{doc}\n")
}

/// git's credential-helper answer: the token as the password. `password_expiry_utc` keeps git
/// (2.41 and newer) from caching it past its expiry.
pub fn git_answer(username: &str, served: &Served) -> String {
    let mut out = format!("username={username}\npassword={}\n", served.token);
    if let Some(at) = served.expires_at {
        out.push_str(&format!("password_expiry_utc={}\n", at / 1000));
    }
    out
}

/// Reads what git wrote (`protocol=https`, `host=…`, up to an empty line or the end).
fn drain_stdin() {
    let stdin = std::io::stdin();
    let mut line = String::new();
    while stdin.lock().read_line(&mut line).is_ok_and(|n| n > 0) {
        if line.trim_end_matches(['\r', '\n']).is_empty() {
            break;
        }
        line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(line: &str) -> Option<CredentialCommand> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        quick_args(&args)
    }

    #[test]
    fn the_door_reads_helper_lines() {
        match quick("credential git gw --username x-access-token get").unwrap() {
            CredentialCommand::Git {
                common,
                username,
                action,
            } => {
                assert_eq!(common.profile, "gw");
                assert_eq!(
                    (username.as_str(), action.as_str()),
                    ("x-access-token", "get")
                );
            }
            other => panic!("{other:?}"),
        }
        match quick("credential git gw store").unwrap() {
            CredentialCommand::Git {
                username, action, ..
            } => {
                assert_eq!((username.as_str(), action.as_str()), ("oauth2", "store"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            quick("credential kubectl k8s --min-valid=120"),
            Some(CredentialCommand::Kubectl(CredentialArgs {
                min_valid: 120,
                ..
            }))
        ));
        assert!(quick("credential kubectl k8s extra").is_none());
        assert!(quick("credential kubectl --username u k8s").is_none());
        assert!(quick("credential svn k8s").is_none());
        assert!(quick("credential git").is_none());
    }

    #[test]
    fn answers_in_each_tools_format() {
        let served = Served {
            token: "T0k".into(),
            expires_at: Some(1_767_225_600_000),
            header: None,
        };
        let doc: serde_json::Value =
            serde_json::from_str(&exec_credential_for(&served, None)).unwrap();
        assert_eq!(doc["apiVersion"], KUBE_API_VERSION);
        // kubectl before 1.22 asks for v1beta1 (in KUBERNETES_EXEC_INFO) and gets it.
        let beta = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        let old: serde_json::Value =
            serde_json::from_str(&exec_credential_for(&served, Some(beta))).unwrap();
        assert_eq!(old["apiVersion"], KUBE_API_VERSION_BETA);
        assert_eq!(old["status"], doc["status"]);
        assert_eq!(doc["kind"], "ExecCredential");
        assert_eq!(doc["status"]["token"], "T0k");
        assert_eq!(doc["status"]["expirationTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(
            git_answer("oauth2", &served),
            "username=oauth2\npassword=T0k\npassword_expiry_utc=1767225600\n"
        );
        let forever = Served {
            expires_at: None,
            ..served
        };
        let doc: serde_json::Value =
            serde_json::from_str(&exec_credential_for(&forever, None)).unwrap();
        assert!(doc["status"].get("expirationTimestamp").is_none());
    }
}
