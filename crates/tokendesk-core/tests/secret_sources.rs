//! A profile's secret from a command (a real `pass` store with a GPG key made here) or an
//! environment variable: tokens from the real provider with it, clear errors when the command
//! fails, hangs or prints nothing, and the value nowhere but in memory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokendesk_core::ErrorCode;
use tokendesk_core::profile::{AuthMethod, ProfileConfig};
use tokendesk_core::secret::{SecretKind, SecretStore};
use tokendesk_core::secret_source::SecretSource;
use tokendesk_testkit::*;

/// A password store in a temporary directory, encrypted to a GPG key made for it (no passphrase:
/// nothing may prompt in a test).
struct PassStore {
    dir: tempfile::TempDir,
}

impl PassStore {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("gnupg")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("gnupg"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
        }
        let store = Self { dir };
        store.run(
            &[
                "gpg",
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "TokenDesk Test <test@tokendesk.invalid>",
                // The default algorithms: a signing key and an encryption subkey.
                "default",
                "default",
                "never",
            ],
            None,
        );
        store.run(&["pass", "init", "test@tokendesk.invalid"], None);
        store
    }

    fn env(&self) -> [(String, String); 2] {
        let d = self.dir.path();
        [
            ("GNUPGHOME".into(), d.join("gnupg").display().to_string()),
            (
                "PASSWORD_STORE_DIR".into(),
                d.join("store").display().to_string(),
            ),
        ]
    }

    fn run(&self, argv: &[&str], stdin: Option<&str>) {
        use std::io::Write;
        let mut child = Command::new(argv[0])
            .args(&argv[1..])
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} (install `pass` and `gnupg`): {e}", argv[0]));
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn insert(&self, entry: &str, content: &str) {
        self.run(&["pass", "insert", "--multiline", entry], Some(content));
    }

    /// `pass show ENTRY` run through `env` (a program, not a shell) with the store's settings.
    fn show(&self, entry: &str) -> Vec<String> {
        let mut argv = vec!["env".to_owned()];
        argv.extend(self.env().iter().map(|(k, v)| format!("{k}={v}")));
        argv.extend(["pass".into(), "show".into(), entry.into()]);
        argv
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .envs(self.env())
            .status();
    }
}

fn command(argv: Vec<String>, timeout_secs: Option<u32>) -> SecretSource {
    SecretSource::Command { argv, timeout_secs }
}

fn words(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|s| s.to_string()).collect()
}

fn with_client_secret(mut config: ProfileConfig, source: SecretSource) -> ProfileConfig {
    config.secrets.client_secret = source;
    config
}

fn assert_nowhere(t: &TestCore, dir: &Path, value: &str) {
    let mut files = all_bytes(dir);
    files.push((log_path().to_path_buf(), std::fs::read(log_path()).unwrap()));
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, value),
            "the secret is written in {}",
            path.display()
        );
    }
    for p in t.core.list_profiles().unwrap() {
        let log = serde_json::to_string(&t.core.exchanges(&p.id, 100).unwrap()).unwrap();
        assert!(!log.contains(value), "the secret is in the exchange log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_secret_from_pass_gets_a_token_and_is_kept_nowhere() {
    let pass = PassStore::new();
    // The password on the first line, notes below it: what `pass` users keep.
    pass.insert(
        "team/op/client",
        "cc-post-secret\nurl: https://op.example\n",
    );
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            with_client_secret(
                cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
                command(pass.show("team/op/client"), None),
            ),
            None,
        )
        .await;
    let token = t.core.fetch_token(&profile.id).await.unwrap();
    assert_eq!(
        token.grant,
        tokendesk_core::profile::GrantKind::ClientCredentials,
        "the provider accepted the secret pass gave"
    );
    // The keychain holds no client secret: the value came from pass and stayed in memory.
    assert!(
        t.keychain
            .as_ref()
            .get(&profile.id, SecretKind::ClientSecret)
            .unwrap()
            .is_none(),
        "nothing copied into the keychain"
    );
    // The token request carried the secret in its body; the log shows it scrubbed.
    let sent = exchanges_of(&t.core, &profile, "token:client_credentials");
    assert!(!sent.is_empty(), "the token request was logged");
    assert_nowhere(&t, t.home.path(), "cc-post-secret");
    // The stored profile names the command, not the value.
    let stored = t.core.profile(&profile.config.name).unwrap();
    assert_eq!(
        stored.config.secrets.client_secret,
        command(pass.show("team/op/client"), None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_runs_once_per_process_and_again_when_its_source_changes() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let count = t.home.path().join("runs");
    let script = format!("echo run >> '{}'; echo cc-post-secret", count.display());
    let profile = t
        .add(
            with_client_secret(
                cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
                command(words(&["sh", "-c", &script]), Some(5)),
            ),
            None,
        )
        .await;
    t.core.fetch_token(&profile.id).await.unwrap();
    t.core.forget_token(&profile.id).await.unwrap();
    t.core.fetch_token(&profile.id).await.unwrap();
    let runs = || std::fs::read_to_string(&count).unwrap().lines().count();
    assert_eq!(runs(), 1, "the answer is held in memory for the process");
    let mut config = profile.config.clone();
    config.secrets.client_secret = command(words(&["sh", "-c", &script]), Some(6));
    t.core.update_profile(&profile.id, config).await.unwrap();
    t.core.fetch_token(&profile.id).await.unwrap();
    assert_eq!(runs(), 2, "a changed source is asked again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_command_says_which_and_shows_its_stderr() {
    let pass = PassStore::new();
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            with_client_secret(
                cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
                command(pass.show("team/op/missing"), None),
            ),
            None,
        )
        .await;
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretSource, "{}", e.message);
    assert!(
        e.message.contains("pass show team/op/missing"),
        "names the command: {}",
        e.message
    );
    assert!(
        e.message.contains("is not in the password store"),
        "shows pass's stderr: {}",
        e.message
    );
    assert!(
        t.core.token(&profile.id).unwrap().is_none(),
        "no token was asked for without a secret"
    );
    assert!(
        exchanges_of(&t.core, &profile, "token:client_credentials").is_empty(),
        "nothing was sent to the provider"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_command_is_stopped_at_its_timeout() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            with_client_secret(
                cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
                // A child that holds the pipes too: the whole group is ended.
                command(words(&["sh", "-c", "sleep 60 & sleep 60"]), Some(1)),
            ),
            None,
        )
        .await;
    let started = Instant::now();
    let e = t.core.fetch_token(&profile.id).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped after its 1 s timeout, not when it ended ({:?})",
        started.elapsed()
    );
    assert_eq!(e.code, ErrorCode::SecretSource);
    assert!(
        e.message.contains("did not finish within 1 s") && e.message.contains("sleep 60"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_that_prints_nothing_or_a_missing_variable_is_an_error() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let empty = t
        .add(
            with_client_secret(
                cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
                command(words(&["printf", "\\n"]), None),
            ),
            None,
        )
        .await;
    let e = t.core.fetch_token(&empty.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretSource);
    assert!(e.message.contains("printed nothing"), "{}", e.message);

    let mut config = with_client_secret(
        cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
        SecretSource::Env {
            var: "TOKENDESK_TEST_UNSET_SECRET".into(),
        },
    );
    config.name = "from-env".into();
    let env = t.add(config, None).await;
    let e = t.core.fetch_token(&env.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::SecretSource);
    assert!(
        e.message.contains("$TOKENDESK_TEST_UNSET_SECRET") && e.message.contains("not set"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_value_is_refused_for_a_secret_that_comes_from_elsewhere() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let config = with_client_secret(
        cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
        SecretSource::Env { var: "X".into() },
    );
    let e = t
        .core
        .create_profile(
            config.clone(),
            Some(tokendesk_core::secret::Sensitive::new("typed".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("environment variable $X"),
        "{}",
        e.message
    );
    assert!(
        t.core.list_profiles().unwrap().is_empty(),
        "nothing half made"
    );
    // A source without a program is refused by name.
    let mut bad = config;
    bad.secrets.client_secret = command(vec![], None);
    let e = t.core.create_profile(bad, None).await.unwrap_err();
    assert!(e.message.contains("secrets.client_secret"), "{}", e.message);
}
