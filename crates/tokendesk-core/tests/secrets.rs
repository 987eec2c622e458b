//! Secrets live in the OS keychain only: never in the SQLite file, the logs or the exchange log.

use tokendesk_core::ErrorCode;
use tokendesk_core::history::Trigger;
use tokendesk_core::home::Home;
use tokendesk_core::profile::{AuthMethod, ProfileId};
use tokendesk_core::secret::{Keychain, SecretKind, SecretStore, Sensitive};
use tokendesk_testkit::*;

/// The token values a profile holds now.
async fn collect(t: &TestCore, id: ProfileId) -> Vec<String> {
    let mut out = Vec::new();
    for kind in [
        SecretKind::AccessToken,
        SecretKind::RefreshToken,
        SecretKind::IdToken,
    ] {
        if let Ok(v) = t.core.reveal(&id, kind).await {
            out.push(v.expose().clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_value_reaches_the_database_the_logs_or_the_exchange_log() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let mut secrets: Vec<String> = vec![
        "cc-post-secret".into(),
        "web-app-secret".into(),
        "gw-secret".into(),
    ];
    let cc = t
        .add(
            cc_config(&p, "cc-post", AuthMethod::ClientSecretPost),
            Some("cc-post-secret"),
        )
        .await;
    t.core.fetch_token(&cc.id).await.unwrap();
    secrets.extend(collect(&t, cc.id.clone()).await);

    let web = t
        .add(
            web_config(&p, &["openid", "offline_access", "profile"]),
            Some("web-app-secret"),
        )
        .await;
    let browser = HeadlessLogin::default();
    t.core
        .login(&web.id, &browser, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let code = url::Url::parse(&browser.redirect().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    secrets.push(code);
    secrets.extend(collect(&t, web.id.clone()).await);
    t.core.refresh(&web.id, Trigger::Manual).await.unwrap();
    secrets.extend(collect(&t, web.id.clone()).await);

    let gw = t.add(gateway_config(&p), Some("gw-secret")).await;
    t.core.fetch_token(&gw.id).await.unwrap();
    secrets.extend(collect(&t, gw.id.clone()).await);
    t.core.refresh(&gw.id, Trigger::Manual).await.unwrap();
    secrets.extend(collect(&t, gw.id.clone()).await);

    assert!(
        secrets.len() >= 12,
        "collected {} secret values",
        secrets.len()
    );
    // Everything TokenDesk wrote: the database (with its WAL) and any other file in its home.
    let mut files = all_bytes(t.home.path());
    files.push((log_path().to_path_buf(), std::fs::read(log_path()).unwrap()));
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().ends_with(".sqlite3"))
    );
    for (path, bytes) in &files {
        for s in &secrets {
            assert!(
                !contains(bytes, s),
                "a secret value ({} chars) is in {}",
                s.len(),
                path.display()
            );
        }
    }
    // The exchange log as the UI and support bundle see it.
    for id in [&cc.id, &web.id, &gw.id] {
        let text = serde_json::to_string(&t.core.exchanges(id, 100).unwrap()).unwrap();
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "a secret value is in the exchange log"
            );
        }
    }
    // The log did record the work (so the check above looked at something).
    let log = std::fs::read_to_string(log_path()).unwrap();
    assert!(
        log.contains("http exchange") && log.contains("token stored"),
        "the log is being written"
    );
}

#[test]
fn the_real_keychain_stores_reads_and_deletes_and_a_missing_entry_is_none() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().to_path_buf()).unwrap();
    let k = Keychain::new(home.keychain_service());
    let id = ProfileId::random();
    assert!(k.get(&id, SecretKind::RefreshToken).unwrap().is_none());
    k.set(
        &id,
        SecretKind::RefreshToken,
        &Sensitive::new("rt-value-1".into()),
    )
    .unwrap();
    k.set(
        &id,
        SecretKind::RefreshToken,
        &Sensitive::new("rt-value-2".into()),
    )
    .unwrap();
    assert_eq!(
        k.get(&id, SecretKind::RefreshToken)
            .unwrap()
            .unwrap()
            .expose(),
        "rt-value-2"
    );
    // Another home is another namespace.
    let other = tempfile::tempdir().unwrap();
    let k2 = Keychain::new(
        Home::at(other.path().to_path_buf())
            .unwrap()
            .keychain_service(),
    );
    assert!(k2.get(&id, SecretKind::RefreshToken).unwrap().is_none());
    k.delete(&id, SecretKind::RefreshToken).unwrap();
    k.delete(&id, SecretKind::RefreshToken).unwrap();
    assert!(k.get(&id, SecretKind::RefreshToken).unwrap().is_none());
    #[cfg(target_os = "linux")]
    assert_eq!(
        k.sessions_opened(),
        1,
        "one Secret Service session serves every call of a keychain"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn keychain_entries_are_shared_with_other_secret_service_clients() {
    // The entries carry the attributes the `keyring` crate and `secret-tool` search by, so a
    // value set by one is found by the other.
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().to_path_buf()).unwrap();
    let k = Keychain::new(home.keychain_service());
    let id = ProfileId::random();
    k.set(
        &id,
        SecretKind::ClientSecret,
        &Sensitive::new("shared-1".into()),
    )
    .unwrap();
    let account = format!("{}/client_secret", id.as_str());
    let lookup = std::process::Command::new("secret-tool")
        .args(["lookup", "service", k.service(), "username", &account])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&lookup.stdout), "shared-1");
    let other = ProfileId::random();
    let other_account = format!("{}/client_secret", other.as_str());
    let mut store = std::process::Command::new("secret-tool")
        .args(["store", "--label", "other client", "service", k.service()])
        .args(["username", &other_account, "target", "default"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut store.stdin.take().unwrap(), b"shared-2").unwrap();
    assert!(store.wait().unwrap().success());
    assert_eq!(
        k.get(&other, SecretKind::ClientSecret)
            .unwrap()
            .unwrap()
            .expose(),
        "shared-2",
        "an entry secret-tool stored is read"
    );
    k.delete(&other, SecretKind::ClientSecret).unwrap();
    k.delete(&id, SecretKind::ClientSecret).unwrap();
}

/// Runs in a child process whose D-Bus address points nowhere (see the test below).
#[test]
fn keychain_child_without_secret_service() {
    if std::env::var_os("TOKENDESK_KEYCHAIN_CHILD").is_none() {
        return;
    }
    let k = Keychain::new("tokendesk-test-no-bus");
    let e = k
        .get(&ProfileId::from("x"), SecretKind::ClientSecret)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Keychain);
    println!("MESSAGE: {}", e.message);
}

#[test]
fn without_a_keychain_the_error_says_what_to_start() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keychain_child_without_secret_service",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TOKENDESK_KEYCHAIN_CHILD", "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/tokendesk-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let message = stdout
        .lines()
        .find_map(|l| l.split_once("MESSAGE: ").map(|(_, m)| m))
        .unwrap_or_else(|| panic!("the child did not run: {stdout}"));
    assert!(
        message.contains("Secret Service") && message.contains("D-Bus"),
        "{message}"
    );
}

/// Runs in a D-Bus session of its own (see the test below): a keychain keeps working when the
/// keyring daemon behind it restarts.
#[cfg(target_os = "linux")]
#[test]
fn keychain_child_survives_a_daemon_restart() {
    if std::env::var_os("TOKENDESK_RESTART_CHILD").is_none() {
        return;
    }
    use std::process::Command;
    let runtime = std::env::var("XDG_RUNTIME_DIR").unwrap();
    let start = || {
        let out = Command::new("sh")
            .args([
                "-c",
                "echo -n restart-pw | gnome-keyring-daemon --unlock --components=secrets",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "gnome-keyring-daemon did not start");
        // Until it owns the name: asking earlier would have D-Bus start a locked one.
        for _ in 0..100 {
            let owner = Command::new("dbus-send")
                .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus"])
                .args(["/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner"])
                .arg("string:org.freedesktop.secrets")
                .output()
                .unwrap();
            if String::from_utf8_lossy(&owner.stdout).contains("boolean true") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the Secret Service did not come up");
    };
    let stop = || {
        // Our daemon is the one with our runtime dir.
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let ours = environ
                .split(|b| *b == 0)
                .any(|v| v == format!("XDG_RUNTIME_DIR={runtime}").as_bytes());
            if ours && String::from_utf8_lossy(&cmdline).contains("gnome-keyring-daemon") {
                let pid = entry.file_name().into_string().unwrap();
                assert!(Command::new("kill").arg(&pid).status().unwrap().success());
                while std::path::Path::new("/proc").join(&pid).exists() {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    };
    start();
    let k = Keychain::new("tokendesk-test-restart");
    let id = ProfileId::random();
    k.set(&id, SecretKind::AccessToken, &Sensitive::new("v1".into()))
        .unwrap();
    stop();
    start();
    let read = k.get(&id, SecretKind::AccessToken).unwrap().unwrap();
    assert_eq!(
        read.expose(),
        "v1",
        "the entry survives, read on a new session"
    );
    assert_eq!(
        k.sessions_opened(),
        2,
        "the stale session was replaced once"
    );
    k.set(&id, SecretKind::AccessToken, &Sensitive::new("v2".into()))
        .unwrap();
    assert_eq!(k.sessions_opened(), 2, "and the new one is kept");
    stop();
    println!("RESTART: ok");
}

#[cfg(target_os = "linux")]
#[test]
fn a_keychain_reconnects_when_the_keyring_daemon_restarts() {
    require_secret_service(); // the tools it needs come with the keyring test setup
    let dir = tempfile::tempdir().unwrap();
    let (runtime, data) = (dir.path().join("run"), dir.path().join("data"));
    for d in [&runtime, &data] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let out = std::process::Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keychain_child_survives_a_daemon_restart",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TOKENDESK_RESTART_CHILD", "1")
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_DATA_HOME", &data)
        .env_remove("GNOME_KEYRING_CONTROL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("RESTART: ok"),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The real keychain, counting the client-secret reads made through it.
struct CountingReads {
    keychain: std::sync::Arc<Keychain>,
    client_secret_reads: std::sync::atomic::AtomicUsize,
}

impl CountingReads {
    fn reads(&self) -> usize {
        self.client_secret_reads
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl SecretStore for CountingReads {
    fn get(
        &self,
        profile: &ProfileId,
        kind: SecretKind,
    ) -> tokendesk_core::Result<Option<Sensitive<String>>> {
        if kind == SecretKind::ClientSecret {
            self.client_secret_reads
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.keychain.get(profile, kind)
    }
    fn set(
        &self,
        profile: &ProfileId,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> tokendesk_core::Result<()> {
        self.keychain.set(profile, kind, value)
    }
    fn delete(&self, profile: &ProfileId, kind: SecretKind) -> tokendesk_core::Result<()> {
        self.keychain.delete(profile, kind)
    }
}

/// A second core on the test's home and keychain, as the app beside the command line, whose
/// client-secret reads are counted.
fn counted_app(t: &TestCore) -> (tokendesk_core::Core, std::sync::Arc<CountingReads>) {
    let counting = std::sync::Arc::new(CountingReads {
        keychain: t.keychain.clone(),
        client_secret_reads: Default::default(),
    });
    (
        t.another_process_with(counting.clone(), Default::default()),
        counting,
    )
}

/// A renewal needs the client secret every time; the keychain is asked once, and again as soon
/// as another process (here the command line's core) sets a new one.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_secret_is_read_once_and_again_when_another_process_sets_one() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t.add_cc_basic(&p).await;
    let (app, keychain) = counted_app(&t);
    for _ in 0..3 {
        app.fetch_token(&profile.id).await.unwrap();
    }
    assert_eq!(keychain.reads(), 1, "the secret is kept between tokens");

    t.core
        .set_client_secret(&profile.id, Some(Sensitive::new("not-the-secret".into())))
        .await
        .unwrap();
    let e = app.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidClient,
        "the secret the other process set is used at once: {}",
        e.message
    );
    assert_eq!(keychain.reads(), 2);

    t.core
        .set_client_secret(&profile.id, Some(Sensitive::new("cc-basic-secret".into())))
        .await
        .unwrap();
    app.fetch_token(&profile.id).await.unwrap();
    app.fetch_token(&profile.id).await.unwrap();
    assert_eq!(keychain.reads(), 3);
}

/// A secret fixed in a keyring manager, behind TokenDesk's back, leaves no stamp: the wrong
/// value kept in memory is forgotten when the token request it made fails, and the next
/// attempt reads the keychain again.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_secret_fixed_outside_tokendesk_is_used_after_the_next_failure() {
    let p = Provider::start(&[]);
    let t = TestCore::new();
    let profile = t
        .add(
            cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic),
            Some("not-the-secret"),
        )
        .await;
    let (app, keychain) = counted_app(&t);
    let e = app.fetch_token(&profile.id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e.message);
    t.keychain
        .set(
            &profile.id,
            SecretKind::ClientSecret,
            &Sensitive::new("cc-basic-secret".into()),
        )
        .unwrap();
    app.fetch_token(&profile.id)
        .await
        .expect("the fixed secret is read again after the failure");
    assert_eq!(keychain.reads(), 2);
}
