//! What the door (and tokendesk-cli, when the agent is not running) prints or hands on: a token
//! in each tool's format.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The variable that holds the token for `exec` unless `--env` names another.
pub const DEFAULT_VAR: &str = "TOKENDESK_ACCESS_TOKEN";
/// When the token expires (epoch seconds), as `tokendesk token --env` says it.
pub const EXPIRES_VAR: &str = "TOKENDESK_EXPIRES_AT";
/// The ExecCredential API version kubeconfig `exec` entries name.
pub const KUBE_API_VERSION: &str = "client.authentication.k8s.io/v1";
/// The version before it (kubectl before 1.22 knows only this one); same fields.
pub const KUBE_API_VERSION_BETA: &str = "client.authentication.k8s.io/v1beta1";

/// A token handed out, by the agent or the store.
#[derive(Debug)]
pub struct Served {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: Option<i64>,
    /// The header lines, when asked for.
    pub header: Option<String>,
}

/// `tokendesk token`'s output (`--header`, `--env`, `--id-token`): the header lines,
/// `Authorization: Bearer …`, `export …` lines or the bare token.
pub fn token_text(header: bool, env: bool, id_token: bool, served: &Served) -> String {
    let token = &served.token;
    if let Some(lines) = &served.header {
        format!("{lines}\n")
    } else if header {
        format!("Authorization: Bearer {token}\n")
    } else if env {
        let var = match id_token {
            true => "TOKENDESK_ID_TOKEN",
            false => DEFAULT_VAR,
        };
        let mut out = format!("export {var}='{token}'\n");
        if let Some(at) = served.expires_at {
            out.push_str(&format!("export {EXPIRES_VAR}='{}'\n", at / 1000));
        }
        out
    } else {
        format!("{token}\n")
    }
}

/// What `exec` changes in the command's environment: the token in `var`, its expiry (epoch
/// seconds) in [`EXPIRES_VAR`], or that variable removed when the token does not expire.
pub fn exec_env(var: &str, served: &Served) -> Vec<(String, Option<String>)> {
    let expiry = served.expires_at.map(|at| format!("{}", at / 1000));
    Vec::from([
        (var.to_owned(), Some(served.token.clone())),
        (EXPIRES_VAR.to_owned(), expiry),
    ])
}

/// An ExecCredential in the version the kubeconfig entry asked for (kubectl says which in
/// `KUBERNETES_EXEC_INFO`, `exec_info` here; v1 when it does not); kubectl caches the token
/// until `expirationTimestamp` and runs the plugin again after.
pub fn exec_credential(served: &Served, exec_info: Option<&str>) -> String {
    let version = exec_info
        .and_then(|info| serde_json::from_str::<serde_json::Value>(info).ok())
        .and_then(|info| info["apiVersion"].as_str().map(str::to_owned))
        .filter(|v| v == KUBE_API_VERSION_BETA)
        .unwrap_or_else(|| KUBE_API_VERSION.to_owned());
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let expiry = served.expires_at.map_or(String::new(), |at| {
        format!(
            ",\"expirationTimestamp\":{}",
            quoted(&crate::text::rfc3339(at))
        )
    });
    format!(
        "{{\"apiVersion\":{},\"kind\":\"ExecCredential\",\"status\":{{\"token\":{}{expiry}}}}}\n",
        quoted(&version),
        quoted(&served.token)
    )
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

/// What `tokendesk refresh` says on stderr when it is done.
pub fn refreshed(
    name: &str,
    expires_at: Option<i64>,
    now: i64,
    refresh_count: Option<i64>,
) -> String {
    format!(
        "Refreshed \"{name}\": access token valid for {}{}.\n",
        crate::text::left(expires_at, now),
        refresh_count
            .map(|c| format!(", refresh_count {c}"))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Served {
        Served {
            token: "T0k".into(),
            expires_at: Some(1_767_225_600_000),
            header: None,
        }
    }

    #[test]
    fn answers_in_each_tools_format() {
        let served = served();
        let doc: serde_json::Value = serde_json::from_str(&exec_credential(&served, None)).unwrap();
        assert_eq!(doc["apiVersion"], KUBE_API_VERSION);
        // kubectl before 1.22 asks for v1beta1 (in KUBERNETES_EXEC_INFO) and gets it.
        let beta = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;
        let old: serde_json::Value =
            serde_json::from_str(&exec_credential(&served, Some(beta))).unwrap();
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
            serde_json::from_str(&exec_credential(&forever, None)).unwrap();
        assert!(doc["status"].get("expirationTimestamp").is_none());
        let odd = Served {
            token: "a\"b\\c".into(),
            ..forever
        };
        let doc: serde_json::Value = serde_json::from_str(&exec_credential(&odd, None)).unwrap();
        assert_eq!(doc["status"]["token"], "a\"b\\c");
    }

    #[test]
    fn token_lines() {
        assert_eq!(token_text(false, false, false, &served()), "T0k\n");
        assert_eq!(
            token_text(true, false, false, &served()),
            "Authorization: Bearer T0k\n"
        );
        assert_eq!(
            token_text(false, true, true, &served()),
            "export TOKENDESK_ID_TOKEN='T0k'\nexport TOKENDESK_EXPIRES_AT='1767225600'\n"
        );
        let dpop = Served {
            header: Some("Authorization: DPoP T0k\nDPoP: proof".into()),
            ..served()
        };
        assert_eq!(
            token_text(true, false, false, &dpop),
            "Authorization: DPoP T0k\nDPoP: proof\n"
        );
        assert_eq!(
            exec_env("GH", &served()),
            [
                ("GH".into(), Some("T0k".into())),
                (EXPIRES_VAR.into(), Some("1767225600".into()))
            ]
        );
        assert_eq!(
            refreshed("gw", Some(61_000), 0, Some(3)),
            "Refreshed \"gw\": access token valid for 1:01, refresh_count 3.\n"
        );
    }
}
