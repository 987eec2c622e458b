//! The `tokendesk` command against a real authorization server and the real keychain, on the
//! same store the app uses.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokendesk_core::home::Home;
use tokendesk_core::secret::Keychain;
use tokendesk_core::{Core, CoreOptions, ErrorCode};
use tokendesk_testkit::{Flood, HeadlessLogin, Provider, contains, require_secret_service};

mod consumers;
mod packaging;

/// The door under test, `tokendesk`, with `tokendesk-cli` beside it as they are installed: the
/// build of the door that `TOKENDESK_TEST_DOOR` names (scripts/test.sh: the one without a C
/// library that the packages ship), else the door built on std in this target directory.
fn bin() -> &'static str {
    static DOOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOOR.get_or_init(|| {
        let full = Path::new(env!("CARGO_BIN_EXE_tokendesk-cli"));
        let Some(door) = std::env::var_os("TOKENDESK_TEST_DOOR") else {
            let beside = full.with_file_name("tokendesk");
            assert!(
                beside.exists(),
                "{} is not built: cargo build -p tokendesk-door (or set TOKENDESK_TEST_DOOR)",
                beside.display()
            );
            return beside.display().to_string();
        };
        // A directory of this test process's own: the door copied in, tokendesk-cli linked.
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("door-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&door, dir.join("tokendesk"))
            .unwrap_or_else(|e| panic!("TOKENDESK_TEST_DOOR={}: {e}", door.display()));
        std::os::unix::fs::symlink(full, dir.join("tokendesk-cli")).unwrap();
        dir.join("tokendesk").display().to_string()
    })
}

fn tokendesk(home: &Path) -> Command {
    require_secret_service();
    let mut c = Command::new(bin());
    c.env("TOKENDESK_HOME", home)
        .env("TOKENDESK_NO_AGENT", "1")
        .env_remove("TOKENDESK_BROWSER");
    c
}

fn run(home: &Path, args: &[&str]) -> Output {
    tokendesk(home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The command with all three of its standard streams piped to the test.
fn spawn_piped(home: &Path, args: &[&str]) -> std::process::Child {
    tokendesk(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run_with_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = spawn_piped(home, args);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// The core the app would open on the same home.
fn app_core(home: &Path) -> Core {
    let h = Home::at(home.to_path_buf()).unwrap();
    let keychain = Arc::new(Keychain::new(h.keychain_service()));
    Core::open(h, keychain, CoreOptions::default()).unwrap()
}

fn add_cc(home: &Path, p: &Provider) {
    ok(&run_with_stdin(
        home,
        &[
            "profile",
            "add",
            "cc",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-basic",
            "--client-secret-stdin",
            "--grant",
            "client-credentials",
            "--scope",
            "api:read",
            "--env",
            "test",
        ],
        "cc-basic-secret\n",
    ));
}

fn add_gateway(home: &Path, p: &Provider) {
    ok(&run_with_stdin(
        home,
        &[
            "profile",
            "add",
            "gw",
            "--token-url",
            &p.url("/gateway/token"),
            "--client-id",
            "gw-client",
            "--auth-method",
            "post",
            "--client-secret-stdin",
            "--header",
            "x-api-key: gw-client",
            "--token-param",
            "tpp_role=AISP",
        ],
        "gw-secret\n",
    ));
}

#[test]
fn token_twice_returns_the_cached_token_and_the_app_sees_it() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let first = ok(&run(home.path(), &["token", "cc"]));
    let second = ok(&run(home.path(), &["token", "cc"]));
    assert_eq!(first, second, "the second call reuses the cached token");
    assert!(
        first.trim().split('.').count() == 3,
        "a JWT access token: {first}"
    );

    let core = app_core(home.path());
    let profile = core.profile("cc").unwrap();
    let token_requests = core
        .exchanges(&profile.id, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.operation.starts_with("token:"))
        .count();
    assert_eq!(token_requests, 1, "one provider call for two `token` runs");
    let tokens = core.tokens().unwrap();
    assert_eq!(
        tokens.len(),
        1,
        "the token the CLI fetched is listed by the app's core"
    );
    assert_eq!(
        tokens[0].access.fingerprint,
        tokendesk_core::secret::fingerprint(first.trim())
    );
}

#[test]
fn near_expiry_it_refreshes_and_counts() {
    let p = Provider::start(&["--access-ttl", "120"]);
    let home = tempfile::tempdir().unwrap();
    add_gateway(home.path(), &p);
    let first = ok(&run(home.path(), &["token", "gw"]));
    let again = ok(&run(home.path(), &["token", "gw", "--min-valid", "100"]));
    assert_eq!(first, again);
    let renewed = ok(&run(home.path(), &["token", "gw", "--min-valid", "600"]));
    assert_ne!(
        first, renewed,
        "a token valid for less than --min-valid is renewed"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["token", "gw", "--json"]))).unwrap();
    assert_eq!(json["refresh_count"], 1, "renewed with the refresh token");
    assert_eq!(json["raw"]["status"], "approved");
    assert_eq!(json["raw"]["request_attributes"]["tpp_role"], "AISP");
    assert_eq!(json["raw"]["access_token"], "<redacted>");
    assert!(json.get("values").is_none(), "values only with --reveal");
    let revealed: serde_json::Value = serde_json::from_str(&ok(&run(
        home.path(),
        &["token", "gw", "--json", "--reveal"],
    )))
    .unwrap();
    assert_eq!(revealed["values"]["access_token"], renewed.trim());
    let history = ok(&run(home.path(), &["history", "gw"]));
    assert!(
        history.contains("command line")
            && history.contains("refresh token")
            && history.contains("yes"),
        "{history}"
    );
    // Newest first: the refresh, then the first token the gateway's grant obtained.
    let acquired = history.lines().last().unwrap_or_default();
    assert!(
        acquired.contains("acquisition")
            && acquired.contains("client credentials")
            && acquired.contains("command line")
            && acquired.contains("ok"),
        "the first acquisition is part of the history: {history}"
    );
}

#[test]
fn list_and_history_as_json_for_scripts() {
    let home = tempfile::tempdir().unwrap();
    // Nothing yet: an empty array on stdout, not the hint meant for people.
    let empty = run(home.path(), &["list", "--json"]);
    assert_eq!(ok(&empty).trim(), "[]");

    let p = Provider::start(&["--access-ttl", "120"]);
    add_gateway(home.path(), &p);
    add_cc(home.path(), &p);
    let value = ok(&run(home.path(), &["token", "gw"]));
    ok(&run(home.path(), &["refresh", "gw"]));

    let out = ok(&run(home.path(), &["list", "--json"]));
    assert!(!out.contains(value.trim()), "no token value in the list");
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let by_name = |name: &str| {
        list.iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {out}"))
    };
    let gw = by_name("gw");
    assert_eq!(gw["grant"], "client_credentials");
    assert_eq!(gw["origin"], serde_json::Value::Null, "a local profile");
    assert_eq!(gw["token"]["state"], "valid");
    assert_eq!(gw["token"]["has_refresh"], true);
    assert_eq!(gw["token"]["refresh_count"], 1);
    let expires = gw["token"]["access_expires_at"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now..now + 125_000).contains(&expires),
        "epoch milliseconds: {expires}"
    );
    assert!(gw["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        by_name("cc")["token"],
        serde_json::Value::Null,
        "no token yet"
    );

    let events: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&run(home.path(), &["history", "gw", "--json"]))).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        (
            &events[0]["kind"],
            &events[0]["method"],
            &events[0]["rotated"]
        ),
        (
            &serde_json::json!("refresh"),
            &serde_json::json!("refresh_token"),
            &serde_json::json!(true)
        ),
        "newest first"
    );
    assert_eq!(events[1]["kind"], "acquisition");
    // Asked for more than the history keeps: the table, and on stderr why no more can come.
    let many = run(home.path(), &["history", "gw", "--limit", "5000"]);
    assert_eq!(ok(&many).lines().count(), 3, "a header and two events");
    let said = String::from_utf8_lossy(&many.stderr);
    assert!(
        said.contains("keeps the newest 1000 events of each profile."),
        "{said}"
    );
    let few = run(home.path(), &["history", "gw"]);
    assert!(ok(&few).contains("acquisition"));
    assert!(
        few.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&few.stderr)
    );
    let none: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&run(home.path(), &["history", "cc", "--json"]))).unwrap();
    assert!(none.is_empty());
}

#[test]
fn header_and_env_formats() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let raw = ok(&run(home.path(), &["token", "cc"])).trim().to_owned();
    assert_eq!(
        ok(&run(home.path(), &["token", "cc", "--header"])),
        format!("Authorization: Bearer {raw}\n")
    );
    let env = ok(&run(home.path(), &["token", "cc", "--env"]));
    let mut lines = env.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("export TOKENDESK_ACCESS_TOKEN='{raw}'")
    );
    let expires: i64 = lines
        .next()
        .unwrap()
        .trim_start_matches("export TOKENDESK_EXPIRES_AT='")
        .trim_end_matches('\'')
        .parse()
        .unwrap();
    assert!(expires > 1_700_000_000, "epoch seconds");
}

#[test]
fn export_then_import_carries_no_secret() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    add_gateway(home.path(), &p);
    ok(&run(home.path(), &["token", "cc"]));
    let export = ok(&run(home.path(), &["profile", "export"]));
    for secret in ["cc-basic-secret", "gw-secret"] {
        assert!(!export.contains(secret), "the export carries no secret");
    }
    let v: serde_json::Value = serde_json::from_str(&export).unwrap();
    assert_eq!(v["profiles"].as_array().unwrap().len(), 2);
    assert_eq!(v["profiles"][0]["headers"][0]["name"], "x-api-key");

    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("profiles.json");
    std::fs::write(&file, &export).unwrap();
    // Secrets come from stdin, in the file's order.
    let secrets: String = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            if p["name"] == "cc" {
                "cc-basic-secret\n"
            } else {
                "gw-secret\n"
            }
        })
        .collect();
    let out = run_with_stdin(
        other.path(),
        &[
            "profile",
            "import",
            file.to_str().unwrap(),
            "--client-secret-stdin",
        ],
        &secrets,
    );
    ok(&out);
    assert!(
        ok(&run(other.path(), &["token", "gw"])).len() > 10,
        "the imported profile works"
    );
    let show = ok(&run(other.path(), &["profile", "show", "cc"]));
    assert!(show.contains("stored in the OS keychain") && !show.contains("cc-basic-secret"));
}

#[test]
fn private_key_jwt_from_a_key_file_and_set_key() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("tpp.pem");
    std::fs::write(&key_file, &p.client_keys["cc-jwt-ec"]).unwrap();
    let add = |key: &str| {
        run(
            home.path(),
            &[
                "profile",
                "add",
                "psd2",
                "--issuer",
                &p.issuer,
                "--client-id",
                "cc-jwt-ec",
                "--auth-method",
                "private-key-jwt",
                "--private-key-file",
                key,
                "--assertion-alg",
                "ES256",
                "--assertion-kid",
                "cc-jwt-ec",
                "--signed-request",
                "--grant",
                "client-credentials",
                "--scope",
                "api:read",
            ],
        )
    };
    // A key that does not fit ES256 is refused, and no profile is left behind.
    let rsa_file = keys.path().join("rsa.pem");
    std::fs::write(&rsa_file, &p.client_keys["cc-jwt"]).unwrap();
    let refused = add(rsa_file.to_str().unwrap());
    assert_eq!(code(&refused), 2, "invalid input");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("ES256") && err.contains("PEM"), "{err}");
    assert!(!ok(&run(home.path(), &["profile", "list"])).contains("psd2"));

    ok(&add(key_file.to_str().unwrap()));
    let token = ok(&run(home.path(), &["token", "psd2"]));
    assert!(
        token.trim().starts_with("eyJ"),
        "a JWT access token: {token}"
    );
    let show = ok(&run(home.path(), &["profile", "show", "psd2"]));
    assert!(
        show.contains("\"private_key\": \"stored in the OS keychain\""),
        "{show}"
    );
    assert!(show.contains("\"alg\": \"ES256\"") && !show.contains("PRIVATE KEY"));
    assert!(show.contains("\"signed_request\": true"), "{show}");
    for (path, bytes) in tokendesk_testkit::all_bytes(home.path()) {
        assert!(
            !contains(&bytes, "PRIVATE KEY"),
            "{} holds the key",
            path.display()
        );
    }

    // set-key checks the key before it replaces the stored one (here from stdin).
    let wrong = run_with_stdin(
        home.path(),
        &["profile", "set-key", "psd2", "-"],
        &p.client_keys["cc-jwt"],
    );
    assert_eq!(code(&wrong), 2);
    ok(&run_with_stdin(
        home.path(),
        &["profile", "set-key", "psd2", "-"],
        &p.client_keys["cc-jwt-ec"],
    ));
    // A token valid for less than an hour is renewed: a new request, signed with the stored key.
    let renewed = ok(&run(home.path(), &["token", "psd2", "--min-valid", "3600"]));
    assert_ne!(renewed.trim(), token.trim());
    add_cc(home.path(), &p);
    let not_jwt = run(
        home.path(),
        &["profile", "set-key", "cc", key_file.to_str().unwrap()],
    );
    assert_eq!(code(&not_jwt), 2);
    assert!(String::from_utf8_lossy(&not_jwt.stderr).contains("private_key_jwt"));
}

#[test]
fn mutual_tls_from_certificate_and_key_files() {
    let tls = tokendesk_testkit::TlsFixture::new();
    let p = Provider::start_tls(&tls, &[]);
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (cert, key, ca) = (
        write("client.pem", &tls.client_cert_pem),
        write("client.key", &tls.client_key_pem),
        write("ca.pem", &tls.ca_pem),
    );
    let rogue_key = write("rogue.key", &tls.rogue_key_pem);
    let add = |key: &str| {
        run(
            home.path(),
            &[
                "profile",
                "add",
                "mtls",
                "--issuer",
                &p.issuer,
                "--client-id",
                "cc-mtls",
                "--auth-method",
                "tls-client-auth",
                "--tls-cert",
                &cert,
                "--tls-key-file",
                key,
                "--ca-cert",
                &ca,
                "--grant",
                "client-credentials",
                "--scope",
                "api:read",
            ],
        )
    };
    // A key that is not the certificate's: refused, nothing added.
    let refused = add(&rogue_key);
    assert_eq!(
        code(&refused),
        2,
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!ok(&run(home.path(), &["profile", "list"])).contains("mtls"));
    ok(&add(&key));
    let token = ok(&run(home.path(), &["token", "mtls"]));
    assert!(token.trim().starts_with("eyJ"), "{token}");
    let show = ok(&run(home.path(), &["profile", "show", "mtls"]));
    assert!(
        show.contains("\"tls_key\": \"stored in the OS keychain\""),
        "{show}"
    );
    assert!(!show.contains("PRIVATE KEY"));
    // set-tls-key checks the pairing too.
    assert_eq!(
        code(&run(
            home.path(),
            &["profile", "set-tls-key", "mtls", &rogue_key]
        )),
        2
    );
    ok(&run(home.path(), &["profile", "set-tls-key", "mtls", &key]));

    // `discover --profile` walks with the profile's TLS settings: its CA is what makes the
    // provider's API reachable here.
    let api = p.url("/api/me");
    let o = run(home.path(), &["discover", &api]);
    assert_eq!(
        code(&o),
        5,
        "the system's CAs do not know the test CA: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(home.path(), &["discover", &api, "--profile", "mtls"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("protected-resource metadata") && out.contains("→ HTTP 401"),
        "the walk went through, then the profile's token (not for this API) was tried: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn exit_codes_tell_failures_apart() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let out = run(home.path(), &["token", "nope"]);
    assert_eq!(code(&out), 6);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: No profile named"));
    assert_eq!(code(&run(home.path(), &["token"])), 2, "usage");
    #[cfg(unix)]
    {
        // A profile name that is not UTF-8 is a usage error, not a crash of the fast path.
        use std::os::unix::ffi::OsStrExt;
        let out = tokendesk(home.path())
            .arg("token")
            .arg(std::ffi::OsStr::from_bytes(b"\xff"))
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
        assert!(contains(&out.stderr, "Usage: tokendesk token"));
    }

    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "bad",
            "--token-url",
            &p.url("/token"),
            "--client-id",
            "cc-basic",
            "--client-secret-stdin",
        ],
        "wrong\n",
    ));
    let out = run(home.path(), &["token", "bad"]);
    assert_eq!(code(&out), 4);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("client secret"),
        "the same hint as the app"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "down",
            "--token-url",
            &format!("http://127.0.0.1:{port}/token"),
            "--client-id",
            "x",
            "--client-secret-stdin",
        ],
        "s3cret\n",
    ));
    assert_eq!(code(&run(home.path(), &["token", "down"])), 5);

    ok(&run(
        home.path(),
        &[
            "profile",
            "add",
            "web",
            "--issuer",
            &p.issuer,
            "--client-id",
            "public-app",
            "--auth-method",
            "none",
            "--scope",
            "openid",
        ],
    ));
    let out = run(home.path(), &["token", "web"]);
    assert_eq!(code(&out), 3, "needs a sign-in");
    assert!(String::from_utf8_lossy(&out.stderr).contains("sign in"));
}

#[test]
fn login_in_a_browser_and_by_pasting_the_redirect() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_web(home.path(), &p);
    // The browser: login.mjs walks the provider's pages and lands on our loopback listener.
    let out = browser_login(home.path(), "web")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Waiting for the browser") && stderr.contains("Signed in"),
        "{stderr}"
    );
    let id_token = ok(&run(home.path(), &["token", "web", "--id-token"]));
    let decoded = ok(&run_with_stdin(home.path(), &["inspect", "-"], &id_token));
    assert!(
        decoded.contains("\"aud\": \"web-app\"") && decoded.contains("\"nonce\""),
        "{decoded}"
    );

    // --no-browser: the URL goes to stderr, the redirect is pasted on stdin.
    let (mut child, url, rx) = no_browser_login(home.path());
    let browser = HeadlessLogin::with_args(&["--no-follow"]);
    tokendesk_core::browser::BrowserLauncher::open(&browser, &url).unwrap();
    let redirect = browser.redirect().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{redirect}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("Signed in")), "{rest:?}");
}

/// Waits for a child up to `limit`; kills it and fails the test when it is still running, so a
/// command that does not return fails instead of hanging the suite.
fn wait_bounded(mut child: std::process::Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `login web --no-browser` with stdin held open; returns the child, the sign-in URL and
/// the rest of its stderr lines.
/// The child's stderr, line by line, as it comes (read on a thread of its own).
fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    rx
}

fn no_browser_login(
    home: &Path,
) -> (
    std::process::Child,
    String,
    std::sync::mpsc::Receiver<String>,
) {
    let mut child = tokendesk(home)
        .args(["login", "web", "--no-browser"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        let line = rx
            .recv_timeout(deadline - Instant::now())
            .expect("the sign-in URL is printed");
        if let Some(u) = line
            .trim()
            .strip_prefix("http")
            .filter(|u| u.contains("code_challenge"))
        {
            break format!("http{u}");
        }
    };
    (child, url, rx)
}

/// `tokendesk login PROFILE` with the test provider's headless browser (tests/provider/login.mjs
/// walks its pages and lands on the loopback listener).
fn browser_login(home: &Path, profile: &str) -> Command {
    let login = tokendesk_testkit::repo_root().join("tests/provider/login.mjs");
    let mut command = tokendesk(home);
    command
        .args(["login", profile])
        .env("TOKENDESK_BROWSER", format!("node {}", login.display()));
    command
}

/// `profile add NAME --issuer … --client-id CLIENT --client-secret-stdin --scope SCOPE EXTRA…`
/// with CLIENT's secret on stdin, then `tokendesk login NAME` through the headless browser;
/// fails the test when either fails.
fn add_and_sign_in(
    home: &Path,
    p: &Provider,
    name: &str,
    client: &str,
    scope: &str,
    extra: &[&str],
) {
    let mut args = vec![
        "profile",
        "add",
        name,
        "--issuer",
        &p.issuer,
        "--client-id",
        client,
        "--client-secret-stdin",
        "--scope",
        scope,
    ];
    args.extend_from_slice(extra);
    ok(&run_with_stdin(home, &args, &format!("{client}-secret\n")));
    let child = browser_login(home, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(
        child,
        Duration::from_secs(60),
        &format!("the sign-in of {name}"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn add_web(home: &Path, p: &Provider) {
    ok(&run_with_stdin(
        home,
        &[
            "profile",
            "add",
            "web",
            "--issuer",
            &p.issuer,
            "--client-id",
            "web-app",
            "--client-secret-stdin",
            "--scope",
            "openid profile offline_access",
        ],
        "web-app-secret\n",
    ));
}

#[test]
fn no_browser_login_returns_as_soon_as_either_channel_brings_the_redirect() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_web(home.path(), &p);

    // The listener alone: the browser (on this machine) reaches it; stdin stays open and
    // unread, and the command must still return at once.
    let (mut child, url, rx) = no_browser_login(home.path());
    let stdin = child.stdin.take().unwrap();
    let browser = HeadlessLogin::default();
    tokendesk_core::browser::BrowserLauncher::open(&browser, &url).unwrap();
    let redirect = browser.redirect().expect("the provider redirected");
    let out = wait_bounded(
        child,
        Duration::from_secs(15),
        "login after the listener got the redirect",
    );
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("Signed in")), "{rest:?}");
    drop(stdin);

    // Both: the listener first, then the same address pasted — not an error.
    let (mut child, url, _rx) = no_browser_login(home.path());
    let mut stdin = child.stdin.take().unwrap();
    let browser = HeadlessLogin::default();
    tokendesk_core::browser::BrowserLauncher::open(&browser, &url).unwrap();
    let redirect2 = browser.redirect().unwrap();
    let _ = stdin.write_all(format!("{redirect2}\n").as_bytes());
    let out = wait_bounded(child, Duration::from_secs(15), "login with both channels");
    assert!(
        out.status.success(),
        "a paste of the redirect the listener already got is not an error: {:?}",
        out.status.code()
    );

    // A paste of an old redirect (another sign-in's state) while the listener waits: refused.
    let (mut child, _url, _rx) = no_browser_login(home.path());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{redirect}\n").as_bytes()).unwrap();
    let out = wait_bounded(child, Duration::from_secs(15), "login with a stale paste");
    assert_eq!(code(&out), 8, "state mismatch is a failed security check");
}

#[test]
fn a_browser_that_cannot_be_opened_is_said_and_the_address_printed() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_web(home.path(), &p);
    let child = tokendesk(home.path())
        .args(["login", "web", "--timeout", "3"])
        .env("TOKENDESK_BROWSER", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(
        child,
        Duration::from_secs(20),
        "login with a failing opener",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("No browser could be opened") && stderr.contains("code_challenge"),
        "the failure is told and the address printed: {stderr}"
    );
    assert!(!stderr.contains("Opened the browser"), "{stderr}");
}

#[test]
fn inspect_shows_the_id_token_checks_and_fails_when_one_fails() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_web(home.path(), &p);
    let out = browser_login(home.path(), "web")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = ok(&run(
        home.path(),
        &["inspect", "--profile", "web", "--kind", "id"],
    ));
    for check in ["signature", "iss", "aud", "exp", "iat", "sub", "nonce"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with("ok") && l.contains(check)),
            "{check} is shown as passed: {text}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&ok(&run(
        home.path(),
        &["inspect", "--profile", "web", "--kind", "id", "--json"],
    )))
    .unwrap();
    assert_eq!(json["valid"], true);
    assert!(json["checks"].as_array().unwrap().len() >= 7);

    // The profile now expects ES256: the stored RS256 token fails a check, exit 8.
    let core = app_core(home.path());
    let profile = core.profile("web").unwrap();
    let mut config = profile.config.clone();
    config.id_token_alg = Some("ES256".into());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(core.update_profile(&profile.id, config))
        .unwrap();
    let out = run(
        home.path(),
        &["inspect", "--profile", "web", "--kind", "id", "--json"],
    );
    assert_eq!(code(&out), 8, "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    let sig = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "signature")
        .unwrap();
    assert_eq!(sig["ok"], false);
    assert!(sig["detail"].as_str().unwrap().contains("ES256"), "{sig}");
}

/// The README's OP-shaped profile pair, pointed at the test provider's PSD2 client.
fn readme_psd2_pair(p: &Provider) -> String {
    let readme = std::fs::read_to_string(tokendesk_testkit::repo_root().join("README.md")).unwrap();
    let start = readme
        .find("An OP-shaped pair")
        .expect("the README shows the pair");
    let json_start = readme[start..].find("```json").unwrap() + start + "```json".len();
    let json_end = readme[json_start..].find("```").unwrap() + json_start;
    readme[json_start..json_end]
        .replace("https://sandbox.apis.op.fi", &p.issuer)
        .replace("tpp-1-2026", "psd2-tpp-rsa")
        .replace("\"tpp-1\"", "\"psd2-tpp\"")
}

#[test]
fn the_readme_psd2_pair_signs_in_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let pair = home.path().join("pair.json");
    std::fs::write(&pair, readme_psd2_pair(&p)).unwrap();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "import",
            pair.to_str().unwrap(),
            "--client-secret-stdin",
        ],
        "psd2-tpp-secret\npsd2-tpp-secret\n",
    ));
    let key = home.path().join("tpp.pem");
    std::fs::write(&key, &p.client_keys["psd2-tpp"]).unwrap();
    ok(&run(
        home.path(),
        &["profile", "set-key", "OP accounts", key.to_str().unwrap()],
    ));
    // A profile that signs nothing refuses a key.
    let out = run(
        home.path(),
        &["profile", "set-key", "OP cc", key.to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));

    // `tokendesk login` runs the consent step, the signed hybrid sign-in and its checks.
    let child = browser_login(home.path(), "OP accounts")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child, Duration::from_secs(60), "the PSD2 sign-in");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Step 1 (Register the account-information consent): authorizationId "),
        "the step is shown as it runs: {stderr}"
    );
    assert!(stderr.contains("Signed in"), "{stderr}");
    let id_token = ok(&run(home.path(), &["token", "OP accounts", "--id-token"]));
    let claims = ok(&run_with_stdin(
        home.path(),
        &["inspect", "--json", "-"],
        &id_token,
    ));
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    assert!(
        claims["claims"]["authorizationId"]
            .as_str()
            .is_some_and(|a| a.len() > 8),
        "the consent's id is in the ID token: {claims}"
    );
    assert_eq!(claims["claims"]["acr"], "urn:openbanking:psd2:sca");
}

/// `tokendesk inspect - | head -1`, `tokendesk … 2>&1 | head`: a reader that stops reading
/// early ends the output quietly, with the command's own exit code, not a panic ("failed
/// printing to stdout: Broken pipe") and exit 101. The pipe is closed before the command writes,
/// so every write it makes hits it.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    // Several writes' worth of output (the claims are printed pretty, line by line).
    let claims: serde_json::Map<_, _> = (0..5_000)
        .map(|i| (format!("claim{i}"), serde_json::json!("x".repeat(40))))
        .collect();
    let jwt = format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(serde_json::Value::Object(claims))
    );
    let home = tempfile::tempdir().unwrap();
    let closed_early = |args: &[&str], input: &str, close_stdout: bool| {
        let mut child = spawn_piped(home.path(), args);
        let (mut kept, closed) = if close_stdout {
            (
                Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read>,
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::any::Any>,
            )
        } else {
            (
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read>,
                Box::new(child.stderr.take().unwrap()) as Box<dyn std::any::Any>,
            )
        };
        drop(closed);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut kept, &mut text).unwrap();
        (child.wait().unwrap().code(), text)
    };

    // The whole output (when read) is far more than a pipe holds.
    let whole = ok(&run_with_stdin(home.path(), &["inspect", "-"], &jwt));
    assert!(whole.len() > 256 * 1024 && whole.contains("claim4999"));
    let (exit, stderr) = closed_early(&["inspect", "-"], &jwt, true);
    assert_eq!(exit, Some(0), "stdout closed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The same with the error output: the error's own exit code.
    let (exit, stdout) = closed_early(&["inspect", "-"], "not a token", false);
    assert_eq!(exit, Some(2), "stderr closed: {stdout}");
}

#[test]
fn client_secret_jwt_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "sj",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-secret-jwt",
            "--auth-method",
            "client-secret-jwt",
            "--assertion-alg",
            "HS512",
            "--client-secret-stdin",
            "--grant",
            "client-credentials",
            "--scope",
            "api:read",
        ],
        "cc-secret-jwt-0123456789abcdef0123456789abcdef0123456789abcdef0123\n",
    ));
    let token = ok(&run(home.path(), &["token", "sj"]));
    assert!(!token.trim().is_empty());
    let show = ok(&run(home.path(), &["profile", "show", "sj"]));
    assert!(show.contains("\"alg\": \"HS512\""), "{show}");
}

#[test]
fn a_pushed_authorization_request_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_and_sign_in(
        home.path(),
        &p,
        "par",
        "web-app-par",
        "openid offline_access",
        &["--par"],
    );
}

#[test]
fn against_the_sandbox_provider() {
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut sandbox = tokendesk(home.path())
        .args(["sandbox", "--port", &port, "--add-profiles"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(sandbox.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.contains(&format!("127.0.0.1:{port}/standard")),
        "{line}"
    );
    // Wait for the presets to be written (the bank's sign-in profile comes last).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok(&run(home.path(), &["profile", "list"])).contains("Sandbox bank · PSD2 accounts") {
        assert!(Instant::now() < deadline, "the sandbox profiles appear");
        std::thread::sleep(Duration::from_millis(100));
    }
    let cc = ok(&run(
        home.path(),
        &["token", "Sandbox · client credentials"],
    ));
    assert_eq!(cc.trim().split('.').count(), 3, "standard style: a JWT");
    let gw: serde_json::Value = serde_json::from_str(&ok(&run(
        home.path(),
        &["token", "Sandbox gateway · client credentials", "--json"],
    )))
    .unwrap();
    assert_eq!(
        (gw["token_type"].as_str(), gw["refresh_count"].as_i64()),
        (Some("BearerToken"), Some(0))
    );
    ok(&run(
        home.path(),
        &["refresh", "Sandbox gateway · client credentials"],
    ));
    ok(&run(
        home.path(),
        &["refresh", "Sandbox gateway · client credentials"],
    ));
    let gw: serde_json::Value = serde_json::from_str(&ok(&run(
        home.path(),
        &["token", "Sandbox gateway · client credentials", "--json"],
    )))
    .unwrap();
    assert_eq!(gw["refresh_count"], 2);
    // The bank's client-credentials profile: client_secret_post with x-api-key, an opaque token.
    let bank = ok(&run(
        home.path(),
        &["token", "Sandbox bank · PSD2 client credentials"],
    ));
    assert_eq!(
        bank.trim().split('.').count(),
        1,
        "the bank's token is opaque"
    );
    let list = ok(&run(home.path(), &["list"]));
    assert!(
        list.contains("Sandbox gateway · client credentials") && list.contains("valid"),
        "{list}"
    );
    let _ = sandbox.kill();
    let _ = sandbox.wait();
}

#[cfg(unix)]
#[test]
fn the_agent_serves_cached_tokens_without_the_keychain() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    // The first `token` (agent allowed) reads the keychain and starts the agent.
    let first = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .args(["token", "cc"])
        .output()
        .unwrap();
    let first = ok(&first);
    let socket = Home::at(home.path().to_path_buf())
        .unwrap()
        .run_dir()
        .join("agent.sock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the agent starts on demand");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the socket is for this user only");
    // With the Secret Service out of reach, only the agent can answer — and it does.
    let served = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["token", "cc"])
        .output()
        .unwrap();
    assert_eq!(ok(&served), first);
    // The answer comes from `tokendesk` alone: a copy of it without `tokendesk-cli` beside it
    // still serves the cached token, and says what is missing for anything else.
    let lone_dir = tempfile::tempdir().unwrap();
    let lone = lone_dir.path().join("tokendesk");
    std::fs::copy(bin(), &lone).unwrap();
    let door = |args: &[&str]| {
        Command::new(&lone)
            .env("TOKENDESK_HOME", home.path())
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(ok(&door(&["token", "cc"])), first);
    assert_eq!(
        ok(&door(&["token", "cc", "--header"])),
        format!("Authorization: Bearer {first}")
    );
    let handed_over = door(&["list"]);
    assert_eq!(code(&handed_over), 1);
    assert!(
        contains(&handed_over.stderr, "tokendesk-cli"),
        "{}",
        String::from_utf8_lossy(&handed_over.stderr)
    );
    let direct = tokendesk(home.path())
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["token", "cc"])
        .output()
        .unwrap();
    assert_eq!(code(&direct), 7, "without the agent the keychain is needed");
    assert!(contains(&direct.stderr, "keychain"));
    // A tokendesk of another version asking makes the agent give its socket up, so that
    // version starts an agent of its own instead of meeting a stale one on every call.
    {
        use std::io::{BufRead, Write};
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        stream
            .write_all(b"{\"protocol\":\"tokendesk-agent/1 0.0.0-old\",\"profile\":\"cc\",\"min_valid_secs\":60,\"id_token\":false}\n")
            .unwrap();
        let mut answer = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut answer)
            .unwrap();
        assert_eq!(answer.trim(), "\"mismatch\"");
    }
    assert!(!socket.exists(), "the outdated agent left");
    let again = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .args(["token", "cc"])
        .output()
        .unwrap();
    assert_eq!(ok(&again), first);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "a current agent starts again");
        std::thread::sleep(Duration::from_millis(50));
    }
    // An agent that was killed leaves its socket file behind: the next call starts a new one.
    std::fs::remove_file(&socket).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the agent stops without its socket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap()); // a dead agent's file
    let after_crash = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .args(["token", "cc"])
        .output()
        .unwrap();
    assert_eq!(ok(&after_crash), first);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "a new agent replaces the dead one's socket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Removing the socket stops the agent.
    std::fs::remove_file(&socket).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn the_agent_refreshes_and_rotates_without_the_callers_keychain() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_gateway(home.path(), &p);
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    ok(&run(home.path(), &["token", "gw"]));
    // A refresh done by this process starts the agent for the next one.
    let direct = run_agent(home.path(), &["refresh", "gw"]);
    ok(&direct);
    assert!(contains(&direct.stderr, "refresh_count 1"));
    wait_for_agent(&socket);
    // With the Secret Service out of reach, only the agent can refresh: it presents the refresh
    // token the last refresh rotated in (the gateway accepts each one once) and stores the next.
    let unreachable = |args: &[&str]| {
        tokendesk(home.path())
            .env_remove("TOKENDESK_NO_AGENT")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args)
            .output()
            .unwrap()
    };
    for n in 2..=3 {
        let o = unreachable(&["refresh", "gw"]);
        ok(&o);
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.starts_with("Refreshed \"gw\": access token valid for ")
                && said.trim_end().ends_with(&format!(", refresh_count {n}.")),
            "{said}"
        );
    }
    let missing = unreachable(&["refresh", "nope"]);
    assert_eq!(
        code(&missing),
        6,
        "the agent's errors keep their exit codes"
    );
    assert!(contains(&missing.stderr, "nope"));
    // What the agent stored is what this process reads directly.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["token", "gw", "--json"]))).unwrap();
    assert_eq!(json["refresh_count"], 3);
    let again = ok(&run(home.path(), &["refresh", "gw"]));
    assert!(again.is_empty(), "the report goes to stderr");
}

/// A rotated client secret, set from a pipe by one process, is what a running agent sends on its
/// next token request: the agent keeps the secret it read, and the new stamp makes it read again.
#[cfg(unix)]
#[test]
fn set_secret_replaces_the_client_secret_and_the_running_agent_uses_it() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    ok(&run_agent(home.path(), &["refresh", "cc"]));
    wait_for_agent(&socket);
    // The agent's own token request: it reads the secret and keeps it.
    ok(&run_agent(home.path(), &["refresh", "cc"]));

    let set = run_with_stdin(
        home.path(),
        &["profile", "set-secret", "cc"],
        "not-the-secret\n",
    );
    ok(&set);
    assert!(contains(&set.stderr, "Stored the client secret of \"cc\""));
    let refused = run_agent(home.path(), &["refresh", "cc"]);
    assert_eq!(
        code(&refused),
        4,
        "the agent sent the new secret: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(contains(&refused.stderr, "invalid_client"));
    assert!(!contains(&refused.stderr, "not-the-secret"));

    ok(&run_with_stdin(
        home.path(),
        &["profile", "set-secret", "cc"],
        "cc-basic-secret\n",
    ));
    ok(&run_agent(home.path(), &["refresh", "cc"]));

    // Nothing on stdin is refused and changes nothing.
    let empty = run_with_stdin(home.path(), &["profile", "set-secret", "cc"], "");
    assert_eq!(
        code(&empty),
        2,
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );
    ok(&run_agent(home.path(), &["refresh", "cc"]));
    // A profile without a client secret says what it has instead.
    ok(&run(
        home.path(),
        &[
            "profile",
            "add",
            "public",
            "--issuer",
            &p.issuer,
            "--client-id",
            "spa",
            "--auth-method",
            "none",
        ],
    ));
    let public = run_with_stdin(home.path(), &["profile", "set-secret", "public"], "x\n");
    assert_eq!(code(&public), 2);
    assert!(contains(&public.stderr, "sends no client secret"));
    // --remove deletes it: the next request has no secret to send.
    ok(&run(
        home.path(),
        &["profile", "set-secret", "cc", "--remove"],
    ));
    let without = run(home.path(), &["refresh", "cc"]);
    assert_ne!(code(&without), 0);
}

/// `tokendesk` with the agent allowed.
fn run_agent(home: &Path, args: &[&str]) -> Output {
    tokendesk(home)
        .env_remove("TOKENDESK_NO_AGENT")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn callers_in_two_processes_share_one_refresh() {
    use tokendesk_core::history::Trigger;
    let p = Provider::start(&["--access-ttl", "8"]);
    let home = tempfile::tempdir().unwrap();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "web",
            "--issuer",
            &p.issuer,
            "--client-id",
            "web-app",
            "--client-secret-stdin",
            "--scope",
            "openid offline_access",
        ],
        "web-app-secret\n",
    ));
    let core = Arc::new(app_core(home.path()));
    let web = core.profile("web").unwrap();
    let first = core
        .login(&web.id, &HeadlessLogin::default(), Duration::from_secs(30))
        .await
        .unwrap();
    let left = first.access_expires_at.unwrap() - core.now();
    tokio::time::sleep(Duration::from_millis((left - 5_000).max(0) as u64)).await;
    // A second process and 20 callers in this one, all at once.
    let cli = tokendesk(home.path())
        .args(["token", "web", "--min-valid", "6"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (core, id) = (core.clone(), web.id.clone());
            tokio::spawn(async move {
                core.ensure_token(&id, Duration::from_secs(6), Trigger::Manual)
                    .await
            })
        })
        .collect();
    let mut fingerprints = Vec::new();
    for c in callers {
        fingerprints.push(
            c.await
                .unwrap()
                .expect("no caller fails (no invalid_grant)")
                .access
                .fingerprint,
        );
    }
    let cli = cli.wait_with_output().unwrap();
    let cli_token = ok(&cli);
    fingerprints.push(tokendesk_core::secret::fingerprint(cli_token.trim()));
    fingerprints.dedup();
    assert_eq!(
        fingerprints.len(),
        1,
        "both processes hold the same new token"
    );
    let events: Vec<_> = core
        .history(&web.id, 10)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == tokendesk_core::history::EventKind::Refresh)
        .collect();
    assert_eq!(
        events.len(),
        1,
        "exactly one refresh reached the provider: {events:?}"
    );
}

/// Runs `f` on a thread of its own, waiting at most `limit` for it: `None` when it is not done
/// by then (what would hang fails instead).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => Some(value),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("failed (see above)"),
    }
}

#[cfg(unix)]
/// One token request to the agent of `run_dir`, as the door sends it: the token, or the
/// failure's kind and message; `None` when no agent answers.
fn ask_agent(run_dir: &Path, profile: &str) -> Option<Result<String, (String, String)>> {
    use tokendesk_door::door::Sys;
    use tokendesk_door::protocol::{Request, Response};
    let socket = tokendesk_core::agent::socket_path(run_dir);
    let line = Request::new(profile, 60, false).line();
    let answer =
        tokendesk_door::on_std::Std.round_trip(socket.as_os_str().as_encoded_bytes(), &line)?;
    match Response::read(&answer)? {
        Response::Token { token, .. } => Some(Ok(token)),
        Response::Error { code, message } => Some(Err((code, message))),
        Response::Refreshed { .. } | Response::Mismatch => None,
    }
}

fn agent_socket(home: &Path) -> std::path::PathBuf {
    tokendesk_core::agent::socket_path(&Home::at(home.to_path_buf()).unwrap().run_dir())
}

/// Removes the agent's socket when the test ends, even by a failure: the agent then stops.
#[cfg(unix)]
struct StopAgent(std::path::PathBuf);

#[cfg(unix)]
impl Drop for StopAgent {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The fields of /proc/PID/stat after the command name (the 3rd field, the state, first).
#[cfg(target_os = "linux")]
fn proc_stat(pid: u32) -> Vec<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').map(|f| f.parse().unwrap_or(0)).collect()
}

/// The pid of the process serving `socket`.
#[cfg(target_os = "linux")]
fn peer_pid(socket: &Path) -> u32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
        stream.peer_cred().unwrap().pid().unwrap() as u32
    })
}

#[cfg(target_os = "linux")]
fn wait_for_agent(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(Instant::now() < deadline, "the agent answers on its socket");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_browser_the_sign_in_opens_keeps_none_of_the_callers_descriptors() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_web(home.path(), &p);
    // The "browser" runs for a minute; the sign-in gives up after 2 s. A browser that kept the
    // shell's pipe (descriptor 5) would keep `cat` waiting for that minute.
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let browser = home.path().join("slow-browser");
    std::fs::write(&browser, "#!/bin/sh\nexec sleep 61\n").unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    require_secret_service();
    let started = Instant::now();
    let mut shell = Command::new("bash")
        .args([
            "-c",
            "( tokendesk login web --timeout 2 5>&1 >/dev/null 2>&1 ) | cat",
        ])
        .env("PATH", path)
        .env("TOKENDESK_HOME", home.path())
        .env("TOKENDESK_NO_AGENT", "1")
        .env("TOKENDESK_BROWSER", &browser)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if shell.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = shell.kill();
            let _ = shell.wait();
            panic!("the pipeline still waits after 20 s: the browser kept the caller's pipe");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("pkill").args(["-f", "^sleep 61"]).status();
}

#[test]
fn the_agent_started_on_demand_keeps_none_of_the_callers_descriptors() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    // `tokendesk` gets the shell's pipe to `cat` as descriptor 5 (not close-on-exec); `cat`
    // ends when every copy of it is closed. An agent that kept a copy made this wait until it
    // went idle, 15 minutes later.
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let stderr = home.path().join("stderr");
    require_secret_service();
    let started = Instant::now();
    let mut shell = Command::new("bash")
        .args([
            "-o",
            "pipefail",
            "-c",
            "( tokendesk token cc 5>&1 >/dev/null ) | cat",
        ])
        .env("PATH", path)
        .env("TOKENDESK_HOME", home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .env_remove("TOKENDESK_BROWSER")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = shell.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = shell.kill();
            let _ = shell.wait();
            panic!("the pipeline still waits after 10 s: the agent kept the caller's pipe");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    eprintln!("`( tokendesk token cc 5>&1 >/dev/null ) | cat` took {took:?}");
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(&stderr).unwrap()
    );
    // The agent did start, as a daemon: its own session, stdio on /dev/null.
    wait_for_agent(&socket);
    let pid = peer_pid(&socket);
    assert_eq!(
        proc_stat(pid)[3],
        u64::from(pid),
        "the agent leads a session"
    );
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(
            target,
            Path::new("/dev/null"),
            "the agent's descriptor {fd}"
        );
    }
}

/// A `tokendesk agent` process of its own, ended with the test.
#[cfg(target_os = "linux")]
struct AgentProcess(std::process::Child);

#[cfg(target_os = "linux")]
impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An agent limited to `fd_limit` descriptors, 10,000 connections to it that never write, and
/// then a valid request, timed. Also the agent's CPU while the flood is held, and how many
/// descriptors it holds.
#[cfg(target_os = "linux")]
fn agent_under_flood(fd_limit: u32) {
    const FLOOD: usize = 10_000;
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let token = ok(&run(home.path(), &["token", "cc"]));
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    require_secret_service();
    let agent = AgentProcess(
        Command::new("bash")
            .args([
                "-c",
                &format!("ulimit -Sn {fd_limit} && exec \"$0\" agent --idle-exit 120"),
                bin(),
            ])
            .env("TOKENDESK_HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = agent.0.id(); // bash, then (exec) tokendesk, then (exec) tokendesk-cli
    wait_for_agent(&socket);
    let run_dir = Home::at(home.path().to_path_buf()).unwrap().run_dir();
    // `tokendesk token`'s own client: None when no agent answers (it would then do the work).
    let ask = |run_dir: &Path| ask_agent(run_dir, "cc").map(|served| served.unwrap());
    let warm = ask(&run_dir);
    assert_eq!(
        warm.as_deref(),
        Some(token.trim()),
        "the agent holds the token"
    );

    // The flood comes from a process of its own: this test process shares its descriptor table
    // with the other tests running beside it.
    let flood = Flood::open(socket.to_str().unwrap(), FLOOD, Duration::from_secs(60));
    let (flood_len, opened_in) = (flood.opened, flood.took);
    let held = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    // At once, while they are all silent but not past the agent's deadline: a valid request.
    // The agent's CPU (utime + stime, in clock ticks) is measured over at least 2 s from here.
    let ticks = |pid| {
        let s = proc_stat(pid);
        s[11] + s[12]
    };
    let (before, started) = (ticks(pid), Instant::now());
    let answer = within(Duration::from_secs(10), {
        let run_dir = run_dir.clone();
        move || ask(&run_dir)
    });
    let answered_in = started.elapsed();
    std::thread::sleep(Duration::from_secs(2).saturating_sub(started.elapsed()));
    let per_second: f64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let cpu = (ticks(pid) - before) as f64 / per_second / started.elapsed().as_secs_f64();
    println!(
        "agent limited to {fd_limit} descriptors; {} silent connections opened in {opened_in:?} \
         (by a separate process); the agent then holds {held} descriptors. A valid request: {}; \
         the agent's CPU over the following {:?}: {:.1}% of a core",
        flood_len,
        match &answer {
            Some(_) => format!("answered in {answered_in:?}"),
            None => format!("no answer after {answered_in:?}"),
        },
        started.elapsed(),
        cpu * 100.0
    );
    assert!(
        answer.flatten().as_deref() == Some(token.trim()),
        "the agent answers with the token (waited {answered_in:?})"
    );
    assert!(
        answered_in < Duration::from_secs(2),
        "answered in {answered_in:?}"
    );
    assert!(
        held < 200,
        "the agent holds {held} descriptors for silent connections"
    );
    assert!(cpu < 0.5, "the agent spins: {:.0}% of a core", cpu * 100.0);
    // Still serving once the flood is gone.
    drop(flood);
    assert_eq!(ask(&run_dir).as_deref(), Some(token.trim()));
}

#[cfg(target_os = "linux")]
#[test]
fn a_flood_of_silent_connections_does_not_starve_the_agent() {
    // The soft descriptor limit most systems give a process.
    agent_under_flood(1024);
}

#[cfg(target_os = "linux")]
#[test]
fn an_agent_out_of_descriptors_waits_instead_of_spinning() {
    // Fewer descriptors than the connections it may hold: accept fails with EMFILE.
    agent_under_flood(64);
}

/// Another user, a garbage line, a 10 MB line, profile names with path characters: the agent
/// answers none of them with a token, stays up with bounded memory, and answers the next valid
/// request. Another user is tried for real where the test runs as root (as in CI): with the
/// socket's file permissions opened up on purpose, only the peer-credential check stands in
/// that user's way.
#[cfg(target_os = "linux")]
#[test]
fn the_agent_answers_no_stranger_and_survives_hostile_clients() {
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;
    use std::os::unix::process::CommandExt;
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let token = ok(&run(home.path(), &["token", "cc"]));
    let token = token.trim().to_owned();
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    require_secret_service();
    let mut agent = AgentProcess(
        tokendesk(home.path())
            .args(["agent", "--idle-exit", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_agent(&socket);
    let pid = peer_pid(&socket);
    let run_dir = Home::at(home.path().to_path_buf()).unwrap().run_dir();
    let ask = |name: &str| ask_agent(&run_dir, name);
    assert_eq!(ask("cc").unwrap().unwrap(), token);
    let rss_kib = |field: &str| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let rss_before = rss_kib("VmRSS:");
    // Sends `bytes` (from a thread of its own: the agent may stop reading early) and returns
    // whatever the agent answers before it closes the connection.
    let exchange = |bytes: Vec<u8>| -> String {
        let mut stream = UnixStream::connect(&socket).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&bytes);
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        drop(stream);
        let _ = sending.join();
        String::from_utf8_lossy(&answer).into_owned()
    };
    let mut huge = vec![b'a'; 10 * 1024 * 1024];
    huge.push(b'\n');
    for (what, bytes) in [
        ("garbage", b"\x00\xff\xfeGET / HTTP/1.1\r\n\r\n".to_vec()),
        ("a 10 MB line", huge),
        ("JSON of another shape", b"{\"profile\":[1,2,3]}\n".to_vec()),
    ] {
        let answer = exchange(bytes);
        assert_eq!(answer.trim(), "\"mismatch\"", "{what}");
        assert!(!answer.contains(&token), "{what}");
        assert_eq!(
            ask("cc").unwrap().unwrap(),
            token,
            "still serving after {what}"
        );
    }
    let grown = rss_kib("VmHWM:").saturating_sub(rss_before);
    println!("the agent's peak memory grew by {grown} KiB over a 10 MB request line");
    assert!(
        grown < 8 * 1024,
        "the agent read the 10 MB line into memory: +{grown} KiB"
    );
    // Names with path characters are names, looked up and not found.
    for name in [
        "../../../etc/passwd",
        "cc/../cc",
        "/cc",
        "cc\u{0}",
        "%2e%2e/cc",
    ] {
        let (code, message) = ask(name)
            .unwrap()
            .err()
            .unwrap_or_else(|| panic!("{name:?} answered"));
        assert_eq!(code, ErrorCode::NotFound.name(), "{name:?}: {message}");
    }

    // Another user.
    // /proc/self belongs to the effective user.
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    if root {
        // Open the way on purpose: every directory from the home down, and the socket itself.
        let mut dir = socket.parent().unwrap().to_path_buf();
        while dir.starts_with(home.path()) {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            dir.pop();
        }
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o777)).unwrap();
        let line =
            serde_json::to_string(&tokendesk_core::agent::Request::new("cc", 60, false)).unwrap();
        let stranger = Command::new("node")
            .arg("-e")
            .arg(
                "const s = require('net').connect(process.argv[1]); let got = '', connected = false;\
                 s.on('connect', () => { connected = true; s.write(process.argv[2] + '\\n'); });\
                 s.on('data', (d) => { got += d; });\
                 const done = () => { console.log(JSON.stringify({ connected, got })); process.exit(0); };\
                 s.on('close', done); s.on('error', done); setTimeout(done, 5000);",
            )
            .arg(&socket)
            .arg(&line)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        let seen: serde_json::Value = serde_json::from_slice(&stranger.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&stranger.stderr)));
        assert_eq!(
            seen["connected"], true,
            "the stranger reached the socket: {seen}"
        );
        assert_eq!(seen["got"], "", "another user got an answer: {seen}");
    } else {
        println!("not root: another user's connection is not tried");
    }
    assert!(
        agent.0.try_wait().unwrap().is_none(),
        "the agent is still up"
    );
    assert_eq!(ask("cc").unwrap().unwrap(), token);
}

#[cfg(target_os = "linux")]
#[test]
fn connections_without_a_request_do_not_keep_the_agent_alive() {
    let home = tempfile::tempdir().unwrap();
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    let mut agent = AgentProcess(
        tokendesk(home.path())
            .args(["agent", "--idle-exit", "2"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_agent(&socket);
    // A connection every 200 ms that never sends anything: the agent still goes idle.
    let started = Instant::now();
    while agent.0.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the agent idles out despite connections that send nothing"
        );
        drop(std::os::unix::net::UnixStream::connect(&socket));
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("idle after {:?}", started.elapsed());
}

/// A DPoP profile used the way a script would: `tokendesk token --header --for` piped into
/// `curl -H @-`, the provider checking the proof — straight, and through the agent.
#[test]
fn dpop_headers_for_a_request_feed_curl() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_and_sign_in(
        home.path(),
        &p,
        "dpop",
        "dpop-app",
        "openid profile offline_access",
        &["--dpop", "ES256"],
    );

    let me = p.url("/me");
    let target = format!("GET {me}");
    // `agent`: the agent may answer; `Some(true)`: only the agent can (no keychain).
    let through_curl = |agent: Option<bool>| {
        let mut token = tokendesk(home.path());
        if agent.is_some() {
            token.env_remove("TOKENDESK_NO_AGENT");
        }
        if agent == Some(true) {
            token.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        }
        let header = ok(&token
            .args(["token", "dpop", "--header", "--for", &target])
            .stdin(Stdio::null())
            .output()
            .unwrap());
        let lines: Vec<&str> = header.lines().collect();
        assert!(lines[0].starts_with("Authorization: DPoP "), "{header}");
        assert!(lines[1].starts_with("DPoP: ey"), "{header}");
        let mut curl = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}", "-H", "@-", &me])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        curl.stdin
            .take()
            .unwrap()
            .write_all(header.as_bytes())
            .unwrap();
        String::from_utf8(curl.wait_with_output().unwrap().stdout).unwrap()
    };
    // The nonce the provider gave at sign-in is remembered: this process's first proof
    // carries it, and the provider accepts it.
    let answer = through_curl(None);
    assert!(answer.ends_with("\n200"), "{answer}");
    assert!(answer.contains("\"sub\""), "{answer}");
    // The agent keeps the key in memory and makes the proof there.
    let socket = agent_socket(home.path());
    let _stop = StopAgent(socket.clone());
    let first = through_curl(Some(false));
    assert!(first.ends_with("\n200"), "{first}");
    wait_for_agent(&socket);
    let served = through_curl(Some(true));
    assert!(served.ends_with("\n200"), "{served}");

    // Without --for the proof is for a GET of the profile's API URL (its userinfo endpoint
    // here); a target that is no request says what to give.
    let default = ok(&run(home.path(), &["token", "dpop", "--header"]));
    let proof = default.lines().nth(1).unwrap().trim_start_matches("DPoP: ");
    let claims = tokendesk_core::inspect::decode_jwt(proof).unwrap().claims;
    assert_eq!(claims["htu"], me);
    let bad = run(
        home.path(),
        &["token", "dpop", "--header", "--for", "https://x/"],
    );
    assert_eq!(code(&bad), 2, "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("give the method and the URL"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn a_jarm_sign_in_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_and_sign_in(
        home.path(),
        &p,
        "jarm",
        "jarm-app",
        "openid offline_access",
        &["--jarm"],
    );
    let shown = ok(&run(home.path(), &["profile", "show", "jarm"]));
    assert!(shown.contains("\"jarm\": true"), "{shown}");
    ok(&run(home.path(), &["token", "jarm"]));
}

#[test]
fn token_exchange_from_the_command_line_in_a_pipeline() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    add_web(home.path(), &p);
    let add = |name: &str, subject: &str, kind: &str| {
        run_with_stdin(
            home.path(),
            &[
                "profile",
                "add",
                name,
                "--issuer",
                &p.issuer,
                "--client-id",
                "exchanger",
                "--client-secret-stdin",
                "--subject-profile",
                subject,
                "--subject-token",
                kind,
                "--requested-token-type",
                "access",
                "--scope",
                "api:read",
            ],
            "exchanger-secret\n",
        )
    };
    ok(&add("downstream", "cc", "access"));
    // stdin is /dev/null and stdout a pipe: a script's `$(tokendesk token downstream)`.
    let token = ok(&run(home.path(), &["token", "downstream"]));
    let core = app_core(home.path());
    let dep = core.profile("downstream").unwrap();
    assert_eq!(
        dep.config.grant,
        tokendesk_core::profile::GrantKind::TokenExchange,
        "--subject-profile implies the grant"
    );
    let set = core.token(&dep.id).unwrap().unwrap();
    assert_eq!(
        set.access.fingerprint,
        tokendesk_core::secret::fingerprint(token.trim())
    );
    let cc = core.token(&core.profile("cc").unwrap().id).unwrap();
    let cc = cc.expect("the subject's token was fetched through the chain");
    let chain = set.exchanged_from.as_ref().unwrap();
    assert_eq!(chain.fingerprint, cc.access.fingerprint);

    // inspect --json shows the chain, even of an opaque token.
    let out = ok(&run(
        home.path(),
        &["inspect", "--profile", "downstream", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exchanged_from"]["profile_name"], "cc", "{v}");
    assert_eq!(v["exchanged_from"]["token"], "access");
    assert_eq!(v["exchanged_from"]["fingerprint"], cc.access.fingerprint);
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );

    // A subject that needs a sign-in: exit 3, and the message says whose and what to do.
    ok(&add("from-web", "web", "id"));
    let o = run(home.path(), &["token", "from-web"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Sign in to profile \"web\" first (tokendesk login web)"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "nothing on stdout for the pipeline");

    // The subject cannot be removed from under its dependents.
    let o = run(home.path(), &["profile", "rm", "cc"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("\"downstream\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A flag for another grant is refused.
    let o = run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "odd",
            "--issuer",
            &p.issuer,
            "--client-id",
            "x",
            "--client-secret-stdin",
            "--grant",
            "client-credentials",
            "--subject-profile",
            "cc",
        ],
        "x\n",
    );
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
}

/// Starts `tokendesk login ARGS` (stdin not a terminal, no browser) and reads the verification
/// address and the user code it prints; returns the child and both.
fn device_login(home: &Path, args: &[&str]) -> (std::process::Child, String, String) {
    let mut child = tokendesk(home)
        .arg("login")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    let (mut address, mut code) = (None, None);
    while address.is_none() || code.is_none() {
        let line = rx
            .recv_timeout(deadline - Instant::now())
            .unwrap_or_else(|_| panic!("address and code are printed; got {lines:?}"));
        let before = lines.iter().rev().find(|l: &&String| !l.trim().is_empty());
        if let Some(b) = before {
            if b.contains("open this address on any device") && !line.trim().is_empty() {
                address = Some(line.trim().to_owned());
            }
            if b.contains("enter the code") && !line.trim().is_empty() {
                code = Some(line.trim().to_owned());
            }
        }
        lines.push(line);
    }
    // The rest of stderr is kept for the caller's messages.
    std::thread::spawn(move || for _ in rx {});
    (child, address.unwrap(), code.unwrap())
}

#[test]
fn device_login_without_a_browser_or_a_terminal() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    // An authorization-code profile over SSH: --device signs in on another device.
    add_web(home.path(), &p);
    let (child, address, user_code) = device_login(home.path(), &["web", "--device"]);
    assert_eq!(address, p.url("/device"));
    assert!(
        !user_code.is_empty() && !user_code.contains(' '),
        "{user_code}"
    );
    tokendesk_testkit::approve_device(&address, &user_code);
    let out = wait_bounded(child, Duration::from_secs(30), "login --device");
    let stdout = ok(&out);
    assert!(
        stdout.is_empty(),
        "no QR code when stdout is not a terminal: {stdout:?}"
    );
    let token = ok(&run(home.path(), &["token", "web"]));
    assert!(token.trim().len() > 20, "{token}");
    let stored = app_core(home.path())
        .token(&app_core(home.path()).profile("web").unwrap().id)
        .unwrap()
        .unwrap();
    assert_eq!(stored.grant, tokendesk_core::profile::GrantKind::DeviceCode);
    assert!(
        stored.id_token_validation.is_some(),
        "the ID token was checked"
    );

    // A device-code profile signs in this way without the flag; a denial exits 4 and says so.
    ok(&run(
        home.path(),
        &[
            "profile",
            "add",
            "tv",
            "--issuer",
            &p.issuer,
            "--client-id",
            "device-public",
            "--auth-method",
            "none",
            "--grant",
            "device-code",
            "--scope",
            "openid",
        ],
    ));
    let (child, address, user_code) = device_login(home.path(), &["tv"]);
    tokendesk_testkit::deny_device(&address, &user_code);
    let out = wait_bounded(child, Duration::from_secs(30), "login (denied)");
    assert_eq!(code(&out), 4, "the provider refused: exit 4");
    assert!(
        run(home.path(), &["token", "tv"]).status.code() == Some(3),
        "nothing stored"
    );
}

/// `tokendesk doctor`: a checklist, exit 0 when nothing fails, 1 when a check fails, 6 for an
/// unknown profile; `--json` for machines (one object, or an array for every profile); no
/// secret in what it prints; and a reader that stops early (`| head`) is no crash.
#[test]
fn doctor_checks_setups_and_exits_by_the_worst_check() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let healthy = run(home.path(), &["doctor", "cc"]);
    let text = ok(&healthy);
    assert!(
        text.contains("pass  Client authentication: The client authenticated")
            && text.contains("0 failed"),
        "{text}"
    );
    // The same client with a wrong secret.
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "wrong",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-basic",
            "--client-secret-stdin",
            "--grant",
            "client-credentials",
            "--scope",
            "api:read",
        ],
        "not-the-secret\n",
    ));
    let broken = run(home.path(), &["doctor", "wrong"]);
    assert_eq!(code(&broken), 1);
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(
        text.contains("FAIL  Client authentication") && text.contains("invalid_client"),
        "{text}"
    );
    let all = run(home.path(), &["doctor", "--json"]);
    assert_eq!(code(&all), 1);
    let reports: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let mut names: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["profile_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["cc", "wrong"]);
    for secret in ["cc-basic-secret", "not-the-secret"] {
        assert!(!contains(&all.stdout, secret), "{secret} printed");
    }
    let one: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["doctor", "cc", "--json"]))).unwrap();
    assert!(one["checks"].as_array().unwrap().len() > 5, "{one}");
    assert_eq!(code(&run(home.path(), &["doctor", "nope"])), 6);
    // A pipeline that reads one line.
    let head = Command::new("bash")
        .args(["-c", &format!("set -o pipefail; \"{}\" doctor --json | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}", bin())])
        .env("TOKENDESK_HOME", home.path())
        .env("TOKENDESK_NO_AGENT", "1")
        .output()
        .unwrap();
    assert!(
        !contains(&head.stderr, "panicked"),
        "{}",
        String::from_utf8_lossy(&head.stderr)
    );
}

/// `tokendesk presets` lists the provider presets; `profile add --preset` builds the profile
/// from one, the user's options laid over it; a bad parameter or an unknown preset stores
/// nothing.
#[test]
fn profiles_from_provider_presets() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let list = ok(&run(h, &["presets"]));
    for id in [
        "google", "entra", "github", "keycloak", "okta", "auth0", "op",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} listed:\n{list}"
        );
    }
    let all: serde_json::Value =
        serde_json::from_str(&ok(&run(h, &["presets", "--json"]))).unwrap();
    let google = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "google")
        .unwrap();
    assert!(
        google["sends"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["what"].as_str().unwrap().contains("access_type=offline")),
        "{google}"
    );
    let entra = ok(&run(h, &["presets", "entra"]));
    assert!(
        entra.contains("AADSTS7000218") && entra.contains("Fix:"),
        "{entra}"
    );

    ok(&run(
        h,
        &[
            "profile",
            "add",
            "kc",
            "--preset",
            "keycloak",
            "--preset-param",
            "base_url=https://sso.example.com",
            "--preset-param",
            "realm=dev",
            "--client-id",
            "cli",
            "--no-discover",
            "--scope",
            "openid email",
            "--param",
            "prompt=login",
        ],
    ));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&run(h, &["profile", "show", "kc"]))).unwrap();
    assert_eq!(shown["issuer"], "https://sso.example.com/realms/dev");
    assert_eq!(
        shown["endpoints"]["token"],
        "https://sso.example.com/realms/dev/protocol/openid-connect/token"
    );
    assert_eq!(shown["auth_method"], "none", "the preset's public client");
    assert_eq!(
        shown["scopes"],
        serde_json::json!(["openid", "email"]),
        "--scope replaces"
    );
    assert_eq!(shown["redirect_uri"], "http://127.0.0.1:8765/callback");
    assert_eq!(shown["preset"]["id"], "keycloak");
    assert_eq!(shown["preset"]["params"][1]["value"], "dev");

    for (args, says) in [
        (
            &["--preset", "entra", "--preset-param", "tenant=not-a-tenant"][..],
            "GUID",
        ),
        (&["--preset", "keycloak"][..], "--preset-param base_url="),
        (&["--preset", "nope"][..], "no provider preset \"nope\""),
        (
            &[
                "--preset",
                "github",
                "--preset-param",
                "base_url=http://ghe.corp",
            ][..],
            "loopback",
        ),
        (
            &["--preset", "github", "--preset-param", "realm=x"][..],
            "no parameter \"realm\"",
        ),
    ] {
        let mut full = vec!["profile", "add", "bad", "--client-id", "x"];
        full.extend_from_slice(args);
        let o = run(h, &full);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let profiles = ok(&run(h, &["profile", "list"]));
    assert!(!profiles.contains("bad"), "nothing stored: {profiles}");

    // The setup check knows the preset's pitfalls: Spotify refuses localhost redirects.
    ok(&run(
        h,
        &[
            "profile",
            "add",
            "sp",
            "--preset",
            "spotify",
            "--preset-param",
            "base_url=http://127.0.0.1:9",
            "--client-id",
            "x",
            "--redirect-uri",
            "http://localhost:8765/callback",
        ],
    ));
    let o = run(h, &["doctor", "sp", "--json"]);
    assert_eq!(code(&o), 1, "a failed check");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = report.to_string();
    let row = report
        .pointer("/checks")
        .or_else(|| report.pointer("/0/checks"))
        .and_then(|c| c.as_array())
        .and_then(|c| c.iter().find(|r| r["id"] == "client:preset-redirect"))
        .unwrap_or_else(|| panic!("a preset redirect check: {text}"));
    assert_eq!(row["status"], "fail");
    assert!(
        row["seen"]
            .as_str()
            .unwrap()
            .contains("does not accept localhost"),
        "{row}"
    );
}

#[test]
fn open_starts_the_app_at_the_profile_and_names_what_is_missing() {
    let home = tempfile::tempdir().unwrap();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "corp api",
            "--token-url",
            "https://idp.example/token",
            "--client-id",
            "c",
            "--client-secret-stdin",
            "--grant",
            "client-credentials",
        ],
        "secret\n",
    ));
    let id = app_core(home.path()).profile("corp api").unwrap().id;
    // A stand-in app that writes down its arguments and quits, as a second launch does.
    let app = home.path().join("app.sh");
    let said = home.path().join("args");
    std::fs::write(
        &app,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", said.display()),
    )
    .unwrap();
    std::fs::set_permissions(&app, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let open = |args: &[&str], program: &Path| {
        tokendesk(home.path())
            .env("TOKENDESK_APP", program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = open(&["open", "corp api"], &app);
    ok(&out);
    assert!(contains(&out.stderr, "window is in front"));
    assert_eq!(
        std::fs::read_to_string(&said).unwrap(),
        format!("--profile\n{id}\n"),
        "the app is asked for the profile by id"
    );
    ok(&open(&["open"], &app));
    assert_eq!(
        std::fs::read_to_string(&said).unwrap(),
        "\n",
        "no profile: just the window"
    );
    assert_eq!(
        code(&open(&["open", "nope"], &app)),
        6,
        "an unknown profile"
    );
    let missing = open(&["open"], &home.path().join("no-such-app"));
    assert_eq!(code(&missing), 1);
    assert!(
        contains(&missing.stderr, "Cannot start the TokenDesk app"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

/// Rich Authorization Requests from the command line: details refused at `profile add` when
/// not an array of objects with a type (nothing stored), given as @FILE, the narrowed amount
/// pointed out by `inspect P` (and `--json`), `profile edit` changing them.
#[test]
fn authorization_details_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let add = |details: &str| {
        run_with_stdin(
            home.path(),
            &[
                "profile",
                "add",
                "pay",
                "--issuer",
                &p.issuer,
                "--client-id",
                "rar-cc",
                "--client-secret-stdin",
                "--grant",
                "client-credentials",
                "--scope",
                "api:read",
                "--authorization-details",
                details,
            ],
            "rar-cc-secret\n",
        )
    };
    let refused = add(r#"{"type":"payment_initiation"}"#);
    assert_ne!(code(&refused), 0);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("JSON array"), "{err}");
    assert!(
        !ok(&run(home.path(), &["profile", "list"])).contains("pay"),
        "nothing stored"
    );

    let file = home.path().join("payment.json");
    std::fs::write(
        &file,
        r#"[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"150.00"}}]"#,
    )
    .unwrap();
    ok(&add(&format!("@{}", file.display())));
    ok(&run(home.path(), &["token", "pay"]));
    let text = ok(&run(home.path(), &["inspect", "pay"]));
    assert!(
        text.contains("/instructedAmount/amount asked 150.00, granted 100.00"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["inspect", "pay", "--json"]))).unwrap();
    assert_eq!(
        json["authorization_details"]["granted"][0]["instructedAmount"]["amount"],
        "100.00"
    );
    assert_eq!(
        json["authorization_details"]["differences"][0]["path"],
        "/instructedAmount/amount"
    );

    ok(&run(
        home.path(),
        &[
            "profile",
            "edit",
            "pay",
            "--authorization-details",
            r#"[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"12.34"}}]"#,
        ],
    ));
    ok(&run(home.path(), &["refresh", "pay"]));
    assert!(ok(&run(home.path(), &["inspect", "pay"])).contains("Granted as asked."));
}

/// `tokendesk login P` for a CIBA profile prints the binding message, waits, and stores the
/// token the phone approved; `--login-hint` names another user.
#[test]
fn a_ciba_login_from_the_command_line() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "bank",
            "--issuer",
            &p.issuer,
            "--client-id",
            "ciba-app",
            "--client-secret-stdin",
            "--grant",
            "ciba",
            "--scope",
            "openid offline_access",
            "--login-hint",
            "alice",
            "--binding-message",
            "TD-9",
        ],
        "ciba-app-secret\n",
    ));
    let mut child = tokendesk(home.path())
        .args(["login", "bank", "--login-hint", "bob"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    while !lines
        .iter()
        .any(|l: &String| l.contains("Waiting for the approval"))
    {
        lines.push(
            rx.recv_timeout(deadline - Instant::now())
                .unwrap_or_else(|_| panic!("it says it waits; got {lines:?}")),
        );
    }
    assert!(lines.iter().any(|l| l.contains("(bob)")), "{lines:?}");
    std::thread::spawn(move || for _ in rx {});
    let approved = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            &p.url("/test/ciba/approve?login_hint=bob"),
        ])
        .output()
        .unwrap();
    assert!(
        approved.status.success(),
        "the phone approves bob's request"
    );
    let out = wait_bounded(child, Duration::from_secs(30), "tokendesk login bank");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("TD-9"),
        "the binding message is printed"
    );
    let history = ok(&run(home.path(), &["history", "bank"]));
    assert!(history.contains("ciba"), "{history}");
    ok(&run(home.path(), &["token", "bank"]));
}

/// Sign in with Apple from the command line: the preset with the Team ID and Key ID makes its
/// client secret from the .p8 key, which `--private-key-file` stores in the keychain; `presets
/// apple` says so before anything is made; a key that cannot sign ES256 is refused and nothing
/// is stored.
#[test]
fn the_apple_preset_makes_its_client_secret_from_the_key() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let shown = ok(&run(h, &["presets", "apple"]));
    assert!(
        shown.contains("a client secret made from your key"),
        "{shown}"
    );
    let keys = tempfile::tempdir().unwrap();
    let ec = keys.path().join("AuthKey_ABC123DEFG.p8");
    std::fs::write(
        &ec,
        include_str!("../../tokendesk-core/src/flow/testdata/ec-p256.pem"),
    )
    .unwrap();
    let rsa = keys.path().join("rsa.pem");
    std::fs::write(
        &rsa,
        include_str!("../../tokendesk-core/src/flow/testdata/rsa-2048.pem"),
    )
    .unwrap();
    let add = |name: &str, key: &std::path::Path| {
        run(
            h,
            &[
                "profile",
                "add",
                name,
                "--preset",
                "apple",
                "--preset-param",
                "team_id=A1B2C3D4E5",
                "--preset-param",
                "key_id=ABC123DEFG",
                "--client-id",
                "com.example.web",
                "--no-discover",
                "--private-key-file",
                key.to_str().unwrap(),
            ],
        )
    };
    let o = add("wrong", &rsa);
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("P-256"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!ok(&run(h, &["profile", "list"])).contains("wrong"));

    ok(&add("siwa", &ec));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&run(h, &["profile", "show", "siwa"]))).unwrap();
    assert_eq!(
        shown["generated_secret"],
        serde_json::json!({
            "issuer": "A1B2C3D4E5",
            "key_id": "ABC123DEFG",
            "audience": "https://appleid.apple.com",
            "lifetime_secs": 300
        })
    );
    assert_eq!(shown["client_assertion"]["alg"], "ES256");
    assert_eq!(shown["auth_method"], "client_secret_post");
    assert_eq!(shown["private_key"], "stored in the OS keychain");
}

/// A file of the core's import fixtures (written from each format's published schema).
fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn import_fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tokendesk-core/tests/import_fixtures")
        .join(path)
        .display()
        .to_string()
}

#[test]
fn import_dry_run_shows_the_plan_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let collection = import_fixture("postman/shop.postman_collection.json");
    let env = import_fixture("postman/staging.postman_environment.json");
    let args = [
        "profile",
        "import",
        collection.as_str(),
        "--environment",
        env.as_str(),
        "--dry-run",
    ];
    let out = ok(&run(home.path(), &args));
    assert!(
        out.contains("Postman collection v2.1: 3 profiles to create"),
        "{out}"
    );
    assert!(out.contains("+ \"Shop / Admin\""), "{out}");
    assert!(
        out.contains("client secret: found in clientSecret"),
        "{out}"
    );
    assert!(
        out.contains("warning: ") && out.contains("password"),
        "{out}"
    );
    assert!(
        !out.contains("staging-machine-secret"),
        "a secret value is never printed"
    );

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v: serde_json::Value = serde_json::from_str(&ok(&run(home.path(), &json_args))).unwrap();
    assert_eq!(v["format"], "postman");
    assert_eq!(v["profiles"][0]["name"], "Shop");
    assert_eq!(v["profiles"][0]["secret_found"], "clientSecret");
    assert_eq!(
        v["profiles"][0]["used_by"][0],
        "Shop / Orders / List orders"
    );
    assert!(!v.to_string().contains("staging-machine-secret"));
    assert!(
        app_core(home.path()).list_profiles().unwrap().is_empty(),
        "a dry run creates nothing"
    );
}

#[test]
fn import_a_postman_collection_and_get_a_token() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let env = files.path().join("local.postman_environment.json");
    std::fs::write(
        &env,
        serde_json::json!({
            "name": "local",
            "_postman_variable_scope": "environment",
            "values": [
                {"key": "idp", "value": p.issuer, "enabled": true},
                {"key": "clientId", "value": "cc-basic", "enabled": true},
                {"key": "clientSecret", "value": "cc-basic-secret", "type": "secret", "enabled": true},
                {"key": "exportSecret", "value": "cc-post-secret", "type": "secret", "enabled": true},
            ]
        })
        .to_string(),
    )
    .unwrap();
    let collection = import_fixture("postman/shop.postman_collection.json");
    let args = |extra: &[&'static str]| {
        let mut v = vec![
            "profile".to_owned(),
            "import".into(),
            collection.clone(),
            "--environment".into(),
            env.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };

    // Off a terminal, found secrets are stored only when told to.
    let told = args(&["--store-found-secrets"]);
    let out = run(home.path(), &refs(&told));
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Imported \"Shop\".") && err.contains("token endpoint"),
        "{err}"
    );
    assert!(!err.contains("cc-basic-secret"));
    assert!(
        ok(&run(home.path(), &["token", "Shop"])).len() > 10,
        "the imported profile gets a token"
    );

    // Again: every name is taken, nothing is created; --rename adds a suffix.
    let again = run(home.path(), &refs(&args(&[])));
    assert_ne!(code(&again), 0);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("\"Shop\"") && err.contains("--rename"),
        "{err}"
    );
    assert_eq!(app_core(home.path()).list_profiles().unwrap().len(), 3);
    let renamed = run(home.path(), &refs(&args(&["--rename"])));
    let err = String::from_utf8_lossy(&renamed.stderr).into_owned();
    ok(&renamed);
    assert!(
        err.contains("client secrets: not stored") && err.contains("--store-found-secrets"),
        "{err}"
    );
    assert!(
        err.contains("Imported \"Shop (2)\" (no client secret yet)."),
        "{err}"
    );
    let core = app_core(home.path());
    let copy = core.profile("Shop (2)").unwrap();
    assert!(
        !tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(core.has_client_secret(&copy.id))
            .unwrap(),
        "not told to: the found secret is not stored"
    );
}

#[test]
fn import_refuses_wrong_formats_and_plans_with_errors() {
    let home = tempfile::tempdir().unwrap();
    let old = import_fixture("postman/old-v2.0.postman_collection.json");
    let out = run(home.path(), &["profile", "import", &old]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("old-v2.0.postman_collection.json")
            && err.contains("Postman collection v2.0 is not supported: export as v2.1 from Postman (Collection → Export → v2.1)."),
        "{err}"
    );
    // A Postman file read as OpenAPI says so.
    let shop = import_fixture("postman/shop.postman_collection.json");
    let out = run(
        home.path(),
        &["profile", "import", &shop, "--format", "openapi"],
    );
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the file is a Postman collection v2.1, while --format says OpenAPI document"),
        "{err}"
    );

    // An OpenAPI document names no client: an error until --client-id, and nothing is created.
    let pets = import_fixture("openapi/petstore-3.0.json");
    let out = run(home.path(), &["profile", "import", &pets]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--client-id") && err.contains("nothing imported"),
        "{err}"
    );
    assert!(app_core(home.path()).list_profiles().unwrap().is_empty());
    let out = run(
        home.path(),
        &[
            "profile",
            "import",
            &pets,
            "--client-id",
            "pets-app",
            "--client-secret-stdin",
        ],
    );
    assert_ne!(
        code(&out),
        0,
        "stdin has no secret lines: nothing is created"
    );
    assert!(app_core(home.path()).list_profiles().unwrap().is_empty());
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "import",
            &pets,
            "--client-id",
            "pets-app",
            "--client-secret-stdin",
        ],
        "code-secret\nmachine-secret\n",
    ));
    let names: Vec<String> = app_core(home.path())
        .list_profiles()
        .unwrap()
        .into_iter()
        .map(|p| p.config.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Petstore / petAuth / clientCredentials".to_owned()));

    // A Bruno collection folder with its environment.
    let bruno = import_fixture("bruno/payments");
    let out = ok(&run(
        home.path(),
        &[
            "profile",
            "import",
            &bruno,
            "--environment",
            "Local",
            "--dry-run",
        ],
    ));
    assert!(
        out.contains("Bruno collection: 2 profiles") && out.contains("found in client_secret"),
        "{out}"
    );
}

// --- Start from an API URL (tests/provider/api.mjs) ---

#[test]
fn discover_prints_the_chain_and_stores_nothing() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let api = p.url("/api/me");
    let out = ok(&run(home.path(), &["discover", &api]));
    for says in [
        "1. API — GET",
        "WWW-Authenticate: Bearer resource_metadata=",
        "2. protected-resource metadata — GET",
        "3. authorization server metadata — GET",
        &format!("Resource (RFC 8707):  {}", p.url("/api")),
        &format!("Authorization server: {}", p.issuer),
        "Scopes to ask for:    api:read",
        "Nothing was stored.",
    ] {
        assert!(out.contains(says), "says {says:?}:\n{out}");
    }
    let json = ok(&run(home.path(), &["discover", &api, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["steps"].as_array().unwrap().len(), 3, "{json}");
    assert_eq!(v["steps"][0]["link"], "api");
    assert_eq!(v["discovered"]["resource"], p.url("/api"));
    assert!(v["error"].is_null());
    let list = ok(&run(home.path(), &["profile", "list"]));
    assert!(!list.contains("api"), "discover made no profile: {list}");

    // A broken link: the steps up to it on stdout, the error on stderr, a telling exit code.
    let o = run(home.path(), &["discover", &p.url("/api-wrong/me")]);
    assert_eq!(
        code(&o),
        8,
        "a resource that does not stand for the URL is a failed check"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("protected-resource metadata") && stderr.contains("RFC 9728 §3.3"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("2. protected-resource metadata"));
    let o = run(home.path(), &["discover", &p.url("/api-none/me"), "--json"]);
    assert_eq!(code(&o), 6, "no metadata anywhere: not found");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(
        v["steps"].as_array().unwrap().len(),
        3,
        "the API and both well-known locations"
    );
}

#[test]
fn a_profile_from_an_api_url_registers_signs_in_and_deregisters() {
    let p = Provider::start(&["--registration", "iat"]);
    let home = tempfile::tempdir().unwrap();
    let api = p.url("/api/me");
    let iat = p.initial_access_token.clone().unwrap();

    // Without the initial access token the server refuses; the message names the option.
    let o = run(home.path(), &["profile", "add", "api", "--from-api", &api]);
    assert_ne!(code(&o), 0);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--initial-access-token-stdin"), "{stderr}");
    assert!(!ok(&run(home.path(), &["profile", "list"])).contains("api"));

    let o = run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "api",
            "--from-api",
            &api,
            "--initial-access-token-stdin",
        ],
        &format!("{iat}\n"),
    );
    ok(&o);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("registered dynamically"), "{said}");
    assert!(
        said.contains(&format!("resource {}", p.url("/api"))),
        "{said}"
    );
    let show: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["profile", "show", "api"]))).unwrap();
    assert_eq!(show["resource"], p.url("/api"));
    assert_eq!(show["api_url"], api);
    assert!(
        show["registration_client_uri"]
            .as_str()
            .unwrap()
            .starts_with(&p.url("/reg/"))
    );
    for (file, bytes) in tokendesk_testkit::all_bytes(home.path()) {
        assert!(
            !contains(&bytes, &iat),
            "the initial access token is in {file:?}"
        );
    }

    let out = browser_login(home.path(), "api")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = ok(&run(home.path(), &["request", "api"]));
    assert!(
        body.contains(&p.url("/api")),
        "the API took the token: {body}"
    );
    let shown = ok(&run(home.path(), &["inspect", "api"]));
    assert!(
        shown.contains(&format!(
            "Audience: the token is for the profile's resource {}.",
            p.url("/api")
        )),
        "{shown}"
    );

    let doc = ok(&run(home.path(), &["registration", "show", "api"]));
    assert!(doc.contains("\"client_name\": \"TokenDesk: api\""), "{doc}");
    assert!(!doc.contains("registration_access_token"), "{doc}");
    let doc = ok(&run(
        home.path(),
        &[
            "registration",
            "update",
            "api",
            "--add-redirect-uri",
            "http://127.0.0.1:8999/cb",
        ],
    ));
    assert!(doc.contains("http://127.0.0.1:8999/cb"), "{doc}");

    let o = run(home.path(), &["profile", "rm", "api", "--deregister"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("Deleted the client's registration"));
    let uri = show["registration_client_uri"].as_str().unwrap();
    let left = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", uri])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&left.stdout),
        "401",
        "no such registration any more"
    );
    assert!(!ok(&run(home.path(), &["profile", "list"])).contains("api"));
}

#[test]
fn step_up_challenges_name_the_login_command_that_answers_them() {
    // A registered client: the test provider's static ones may not ask for api:write.
    let p = Provider::start(&["--registration", "open"]);
    let home = tempfile::tempdir().unwrap();
    let api = p.url("/api/me");
    ok(&run(
        home.path(),
        &["profile", "add", "api", "--from-api", &api],
    ));
    let login = |extra: &[&str]| {
        let out = browser_login(home.path(), "api")
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            code(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (c, err) = login(&[]);
    assert_eq!(c, 0, "{err}");

    // 403 insufficient_scope: the scope the profile lacks, as a command.
    let o = run(home.path(), &["request", "api", &p.url("/api/admin")]);
    assert_eq!(code(&o), 9);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("insufficient_scope"), "{err}");
    assert!(
        err.contains("tokendesk login api --scope-add api:write\n"),
        "{err}"
    );
    let o = run(
        home.path(),
        &["discover", &p.url("/api/admin"), "--profile", "api"],
    );
    assert_eq!(code(&o), 9);
    assert!(String::from_utf8_lossy(&o.stdout).contains("→ HTTP 403"));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tokendesk login api --scope-add api:write")
    );
    let (c, err) = login(&["--scope-add", "api:write"]);
    assert_eq!(c, 0, "{err}");
    ok(&run(home.path(), &["request", "api", &p.url("/api/admin")]));

    // 401 insufficient_user_authentication (RFC 9470): acr_values and max_age, as a command.
    let o = run(home.path(), &["request", "api", &p.url("/api/stepup")]);
    assert_eq!(code(&o), 9);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tokendesk login api --acr urn:tokendesk:mfa --max-age 60"),
        "{err}"
    );
    let (c, err) = login(&["--acr", "urn:tokendesk:mfa", "--max-age", "60"]);
    assert_eq!(c, 0, "{err}");
    assert!(err.contains("meets the demanded authentication"), "{err}");
    ok(&run(
        home.path(),
        &["request", "api", &p.url("/api/stepup")],
    ));

    // A sign-in that does not bring the demanded acr fails its check.
    let (c, err) = login(&["--acr", "urn:openbanking:psd2:ca"]);
    assert_eq!(c, 8, "{err}");
    assert!(err.contains("did not meet the API's demand"), "{err}");
}

#[test]
fn a_software_statement_signed_here_or_given_as_a_file_registers_a_bad_one_stores_nothing() {
    let p = Provider::start(&["--registration", "open", "--software-statement"]);
    let home = tempfile::tempdir().unwrap();
    let api = p.url("/api/me");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, text).unwrap();
        f.to_str().unwrap().to_owned()
    };
    let directory_key = write("directory.pem", &p.software_statement_keys["ec"]);
    let claims = write(
        "claims.json",
        r#"{"iss": "tokendesk-test-directory", "software_id": "sw-cli", "software_roles": ["AISP"]}"#,
    );
    let registered_software = |name: &str| -> String {
        let doc = ok(&run(home.path(), &["registration", "show", name]));
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        v["software_id"].as_str().unwrap_or_default().to_owned()
    };

    // Signed here from the claims with the directory's key (ES256 by the key).
    let o = run(
        home.path(),
        &[
            "profile",
            "add",
            "signed",
            "--from-api",
            &api,
            "--software-statement-claims",
            &format!("@{claims}"),
            "--private-key-file",
            &directory_key,
        ],
    );
    ok(&o);
    assert_eq!(registered_software("signed"), "sw-cli");
    for (file, bytes) in tokendesk_testkit::all_bytes(home.path()) {
        assert!(
            !contains(&bytes, "BEGIN PRIVATE KEY"),
            "the signing key is kept nowhere: {file:?}"
        );
    }

    // A JWT given on stdin, as a directory issued it, sent as given.
    let jwt = tokendesk_core::resource::software_statement::sign(
        &serde_json::json!({"iss": "tokendesk-test-directory", "software_id": "sw-given"}),
        &tokendesk_core::secret::Sensitive::new(p.software_statement_keys["rsa"].clone()),
        None,
        None,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .unwrap();
    let o = run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "given",
            "--from-api",
            &api,
            "--software-statement-file",
            "-",
        ],
        &format!("{jwt}\n"),
    );
    ok(&o);
    assert_eq!(registered_software("given"), "sw-given");

    // Signed with a key the directory does not own: the server's refusal, explained; no profile.
    let rogue = write("rogue.pem", &p.client_keys["cc-jwt-ec"]);
    let o = run(
        home.path(),
        &[
            "profile",
            "add",
            "rogue",
            "--from-api",
            &api,
            "--software-statement-claims",
            r#"{"iss": "tokendesk-test-directory", "software_id": "sw-x"}"#,
            "--private-key-file",
            &rogue,
        ],
    );
    assert_ne!(code(&o), 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("invalid_software_statement") && err.contains("Check the software statement"),
        "{err}"
    );
    // Claims without iss, and a file that holds no JWT: named before anything is sent.
    let o = run(
        home.path(),
        &[
            "profile",
            "add",
            "rogue",
            "--from-api",
            &api,
            "--software-statement-claims",
            r#"{"software_id": "sw-x"}"#,
            "--private-key-file",
            &directory_key,
        ],
    );
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("need an iss"));
    let o = run(
        home.path(),
        &[
            "profile",
            "add",
            "rogue",
            "--from-api",
            &api,
            "--software-statement-file",
            &claims,
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a signed JWT"));
    let list = ok(&run(home.path(), &["profile", "list"]));
    assert!(!list.contains("rogue"), "{list}");
}

#[test]
fn client_metadata_prints_a_document_to_host() {
    let home = tempfile::tempdir().unwrap();
    let url = "https://me.example/tokendesk.json";
    let out = ok(&run(home.path(), &["client-metadata", "mcp", "--url", url]));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["client_id"], url);
    assert_eq!(doc["client_name"], "TokenDesk: mcp");
    assert_eq!(doc["token_endpoint_auth_method"], "none");
    assert_eq!(doc["redirect_uris"][0], "http://127.0.0.1/callback");
    let o = run(
        home.path(),
        &["client-metadata", "mcp", "--url", "http://me.example/x"],
    );
    assert_eq!(code(&o), 2, "not https: an input error");
}

#[test]
fn a_resource_the_provider_refuses_says_how_to_try_without_it() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let api = p.url("/api-unknown/me");
    ok(&run(
        home.path(),
        &[
            "profile",
            "add",
            "api",
            "--from-api",
            &api,
            "--client-id",
            "public-app",
            "--scope",
            "api:read",
        ],
    ));
    let out = browser_login(home.path(), "api")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(code(&out), 0, "{err}");
    assert!(err.contains("invalid_target"), "{err}");
    assert!(err.contains("again with --without-resource"), "{err}");
    let show: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["profile", "show", "api"]))).unwrap();
    assert_eq!(
        show["resource"],
        p.url("/api-unknown"),
        "a refusal changes nothing by itself"
    );

    // Again with --without-resource: the profile stops sending it, says so, and signs in.
    let out = browser_login(home.path(), "api")
        .arg("--without-resource")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "without the resource the sign-in goes through: {err}"
    );
    assert!(
        err.contains(&format!(
            "no longer sends resource {}",
            p.url("/api-unknown")
        )) && err.contains("tokendesk profile edit api --resource"),
        "{err}"
    );
    let show: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["profile", "show", "api"]))).unwrap();
    assert!(show["resource"].is_null(), "{show}");
    assert_eq!(
        show["resource_refused"],
        p.url("/api-unknown"),
        "the profile says what it no longer sends"
    );
    // The token command does the same for a client-credentials profile, and sending a resource
    // again clears the note.
    let o = run(
        home.path(),
        &[
            "profile",
            "edit",
            "api",
            "--resource",
            &p.url("/api-unknown"),
        ],
    );
    ok(&o);
    let show: serde_json::Value =
        serde_json::from_str(&ok(&run(home.path(), &["profile", "show", "api"]))).unwrap();
    assert!(show.get("resource_refused").is_none(), "{show}");
    ok(&run_with_stdin(
        home.path(),
        &[
            "profile",
            "add",
            "cc",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-basic",
            "--grant",
            "client-credentials",
            "--client-secret-stdin",
            "--scope",
            "api:read",
            "--resource",
            &p.url("/api-unknown"),
        ],
        "cc-basic-secret\n",
    ));
    let o = run(home.path(), &["token", "cc"]);
    assert_eq!(code(&o), 4, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--without-resource"));
    let o = run(home.path(), &["token", "cc", "--without-resource"]);
    let token = ok(&o);
    assert!(token.trim().len() > 20);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no longer sends resource"));
}

/// `--secret-env` and `--secret-command`: the secret from the job's environment or a command,
/// never stored; `profile edit` switches between them and back to the keychain.
#[test]
fn secrets_from_an_environment_variable_and_a_command() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    ok(&run(
        home.path(),
        &[
            "profile",
            "add",
            "ci",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-basic",
            "--grant",
            "client-credentials",
            "--secret-env",
            "CI_CLIENT_SECRET",
        ],
    ));
    let missing = run(home.path(), &["token", "ci"]);
    assert_eq!(code(&missing), 7, "a local problem");
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(
        said.contains("$CI_CLIENT_SECRET") && said.contains("not set"),
        "{said}"
    );
    let token = tokendesk(home.path())
        .args(["token", "ci"])
        .env("CI_CLIENT_SECRET", "cc-basic-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !ok(&token).trim().is_empty(),
        "a token with the variable set"
    );
    let shown = ok(&run(home.path(), &["profile", "show", "ci"]));
    assert!(
        shown.contains("from environment variable $CI_CLIENT_SECRET"),
        "{shown}"
    );

    // Switched to a command: split like a shell would, run without one.
    ok(&run(
        home.path(),
        &[
            "profile",
            "edit",
            "ci",
            "--secret-command",
            // Made inside, so the command line itself does not hold the value.
            "sh -c 'printf \"cc-basic-%s\\n\" secret'",
            "--secret-timeout",
            "5",
        ],
    ));
    ok(&run(home.path(), &["refresh", "ci"]));
    let core = app_core(home.path());
    let stored = core.profile("ci").unwrap();
    assert_eq!(
        serde_json::to_value(&stored.config.secrets.client_secret).unwrap(),
        serde_json::json!({
            "from": "command",
            "argv": ["sh", "-c", "printf \"cc-basic-%s\\n\" secret"],
            "timeout_secs": 5
        })
    );
    // A failing command: its stderr shown, the exit code of a local problem.
    ok(&run(
        home.path(),
        &[
            "profile",
            "edit",
            "ci",
            "--secret-command",
            "sh -c 'echo vault is sealed >&2; exit 2'",
        ],
    ));
    let failed = run(home.path(), &["refresh", "ci"]);
    assert_eq!(code(&failed), 7);
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("vault is sealed"), "{said}");
    // Back to the keychain, where no secret is stored yet.
    ok(&run(
        home.path(),
        &["profile", "edit", "ci", "--secret-keychain"],
    ));
    let shown = ok(&run(home.path(), &["profile", "show", "ci"]));
    assert!(
        shown.contains("\"client_secret\": \"not stored\""),
        "{shown}"
    );
    // Both sources at once is a usage error.
    let both = run(
        home.path(),
        &[
            "profile",
            "edit",
            "ci",
            "--secret-env",
            "A",
            "--secret-command",
            "b",
        ],
    );
    assert_eq!(code(&both), 2);
    // Nothing of the secret in the home.
    for (path, bytes) in tokendesk_testkit::all_bytes(home.path()) {
        assert!(
            !contains(&bytes, "cc-basic-secret"),
            "the secret is in {}",
            path.display()
        );
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@tokendesk.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@tokendesk.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A team's workspace in a real git repository: one machine writes its profiles with
/// `workspace init` and pushes; another clones, opens it with $TOKENDESK_WORKSPACE, gets a token
/// (its secret from the job's environment); a change pushed by the first shows up in the
/// second's command line after `git pull`, the token kept.
#[test]
fn a_workspace_in_git_shared_by_two_clones() {
    let p = Provider::start(&[]);
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "-q", "--bare", "-b", "main"]);
    let (one, two) = (root.path().join("one"), root.path().join("two"));
    git(
        root.path(),
        &["clone", "-q", origin.to_str().unwrap(), "one"],
    );

    // Machine one: a local profile whose secret comes from the environment, written as files.
    let home1 = tempfile::tempdir().unwrap();
    ok(&run(
        home1.path(),
        &[
            "profile",
            "add",
            "gateway",
            "--issuer",
            &p.issuer,
            "--client-id",
            "cc-basic",
            "--grant",
            "client-credentials",
            "--env",
            "test",
            "--secret-env",
            "TEAM_CC_SECRET",
        ],
    ));
    ok(&run(
        home1.path(),
        &["workspace", "init", one.to_str().unwrap()],
    ));
    let file = one.join("test/gateway.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("var = \"TEAM_CC_SECRET\""), "{text}");
    git(&one, &["checkout", "-q", "-b", "main"]);
    git(&one, &["add", "."]);
    git(&one, &["commit", "-q", "-m", "Team profiles"]);
    git(&one, &["push", "-q", "origin", "main"]);

    // Machine two: a clone, opened through the environment variable.
    git(
        root.path(),
        &["clone", "-q", "-b", "main", origin.to_str().unwrap(), "two"],
    );
    let home2 = tempfile::tempdir().unwrap();
    let on_two = |args: &[&str]| {
        tokendesk(home2.path())
            .args(args)
            .env("TOKENDESK_WORKSPACE", &two)
            .env("TEAM_CC_SECRET", "cc-basic-secret")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let list = ok(&on_two(&["list"]));
    assert!(
        list.contains("gateway") && list.contains("test/gateway.toml"),
        "{list}"
    );
    assert!(!ok(&on_two(&["token", "gateway"])).trim().is_empty());

    // Machine one renames the profile and adds a scope, commits and pushes; two pulls.
    let changed = text.replace("name = \"gateway\"", "name = \"gateway-eu\"");
    std::fs::write(&file, changed).unwrap();
    git(&one, &["commit", "-q", "-am", "Rename the gateway"]);
    git(&one, &["push", "-q", "origin", "main"]);
    git(&two, &["pull", "-q", "--ff-only"]);
    let list = ok(&on_two(&["list"]));
    assert!(
        list.contains("gateway-eu"),
        "the pulled change is seen: {list}"
    );
    assert!(
        list.contains("valid"),
        "the token stays with the profile's id: {list}"
    );

    // A broken file in the pull is named with its line; the other profiles still work.
    std::fs::write(two.join("broken.toml"), "id = \"x\"\nname = \n").unwrap();
    let status = on_two(&["workspace", "status"]);
    assert_eq!(code(&status), 1);
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(said.contains("broken.toml:2:"), "{said}");
    assert!(said.contains("test/gateway.toml  gateway-eu"), "{said}");
    ok(&on_two(&["token", "gateway-eu"]));

    // The team retires the profile: after the pull, the next run says it is parked (hidden, its
    // token and keychain entries kept) and how to delete what is kept.
    let id = app_core(home2.path()).profile("gateway-eu").unwrap().id;
    git(&one, &["rm", "-q", "test/gateway.toml"]);
    git(&one, &["commit", "-q", "-m", "Retire the gateway"]);
    git(&one, &["push", "-q", "origin", "main"]);
    git(&two, &["pull", "-q", "--ff-only"]);
    let listed = on_two(&["list"]);
    let said = String::from_utf8_lossy(&listed.stderr);
    assert!(
        said.contains("gateway-eu (test/gateway.toml) left workspace")
            && said.contains("parked, not deleted")
            && said.contains("tokendesk workspace prune"),
        "{said}"
    );
    assert!(!ok(&listed).contains("gateway-eu"));
    let keychain = Keychain::new(
        Home::at(home2.path().to_path_buf())
            .unwrap()
            .keychain_service(),
    );
    let entries = || {
        tokendesk_core::secret::SecretKind::ALL
            .iter()
            .filter(|kind| {
                tokendesk_core::secret::SecretStore::get(&keychain, &id, **kind)
                    .unwrap()
                    .is_some()
            })
            .count()
    };
    assert!(
        entries() > 0,
        "the parked profile's token stays in the keychain"
    );
    let asked = on_two(&["token", "gateway-eu"]);
    assert_eq!(code(&asked), 6, "not found");
    let said = String::from_utf8_lossy(&asked.stderr);
    assert!(
        said.contains("gateway-eu left workspace")
            && said.contains("(file test/gateway.toml) on ")
            && said.contains("comes back with its secrets when the file does"),
        "{said}"
    );
    // (Exit 1: broken.toml is still there.)
    let status = on_two(&["workspace", "status"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("test/gateway.toml  gateway-eu  parked since"),
        "{status}"
    );

    // The file back (a branch switched back): the profile returns with its token.
    git(
        &two,
        &["checkout", "-q", "HEAD~1", "--", "test/gateway.toml"],
    );
    let list = ok(&on_two(&["list"]));
    assert!(
        list.contains("gateway-eu") && list.contains("valid"),
        "back with its token: {list}"
    );

    // Gone again, then pruned: everything kept for it is deleted.
    std::fs::remove_file(two.join("test/gateway.toml")).unwrap();
    ok(&on_two(&["list"]));
    let dry = ok(&on_two(&["workspace", "prune", "--dry-run"]));
    assert!(
        dry.contains("gateway-eu") && dry.contains("parked since"),
        "{dry}"
    );
    assert!(entries() > 0, "--dry-run deletes nothing");
    let recent = ok(&on_two(&["workspace", "prune", "--older-than", "1"]));
    assert!(recent.trim().is_empty(), "parked today: kept: {recent}");
    let pruned = ok(&on_two(&["workspace", "prune"]));
    assert!(
        pruned.contains("gateway-eu") && pruned.contains("deleted"),
        "{pruned}"
    );
    assert_eq!(entries(), 0, "no keychain entry left behind");
    let asked = on_two(&["token", "gateway-eu"]);
    assert!(
        String::from_utf8_lossy(&asked.stderr).contains("No profile named"),
        "{asked:?}"
    );
}

/// `tokendesk --workspace DIR token P` through an agent that was started without DIR: the
/// request names the workspace, the agent opens it, answers, and follows its files from then
/// on (a profile renamed in the file is served under its new name, no sync by the caller).
#[cfg(target_os = "linux")]
#[test]
fn the_agent_opens_the_callers_workspace() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let _stop = StopAgent(agent_socket(home.path()));
    // An agent started by a call that named no workspace.
    ok(&tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .env_remove("TOKENDESK_WORKSPACE")
        .args(["token", "cc"])
        .output()
        .unwrap());
    wait_for_agent(&agent_socket(home.path()));
    let ws = tempfile::tempdir().unwrap();
    let file = ws.path().join("gateway.toml");
    let profile = |name: &str| {
        format!(
            "id = \"gw-agent\"\nname = \"{name}\"\nissuer = \"{}\"\nclient_id = \"cc-basic\"\n\
             grant = \"client_credentials\"\n\n[secrets.client_secret]\nfrom = \"command\"\n\
             argv = [\"printf\", \"cc-basic-secret\"]\n",
            p.issuer
        )
    };
    std::fs::write(&file, profile("team-gw")).unwrap();
    // Only the agent can answer: this caller has no keychain to fall back on.
    let through_agent = |args: &[&str], env_ws: bool| {
        let mut c = tokendesk(home.path());
        c.env_remove("TOKENDESK_NO_AGENT")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .args(args);
        match env_ws {
            true => c.env("TOKENDESK_WORKSPACE", ws.path()),
            false => c.env_remove("TOKENDESK_WORKSPACE"),
        };
        c.output().unwrap()
    };
    let ws_arg = ws.path().to_str().unwrap();
    let served = through_agent(&["--workspace", ws_arg, "token", "team-gw"], false);
    assert!(!ok(&served).trim().is_empty());
    // `--workspace=DIR` after the command (parsed by tokendesk-cli) and the variable reach it too.
    let after = format!("--workspace={ws_arg}");
    ok(&through_agent(
        &["token", "team-gw", &after, "--header"],
        false,
    ));
    ok(&through_agent(&["token", "team-gw"], true));
    // The agent watches the folder now: a rename in the file is served without a sync here.
    std::fs::write(&file, profile("team-gw-eu")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = through_agent(&["--workspace", ws_arg, "token", "team-gw-eu"], false);
        if o.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent follows the file: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
