//! One token for every tool: `request` (with its one renewal on a 401), `exec`, and the
//! credential helpers, each against a real consumer — an API, `git clone`, `kubectl` — served
//! by the test harness's resource server on loopback.

use std::path::Path;
use std::process::Output;

use tokendesk_testkit::{Provider, ResourceServer};

use super::{add_cc, add_web, agent_socket, app_core, bin, code, ok, run, tokendesk};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn token(home: &Path, profile: &str) -> String {
    ok(&run(home, &["token", profile])).trim().to_owned()
}

#[test]
fn request_renews_a_token_the_api_revoked_once_then_says_a_lasting_401_plainly() {
    let p = Provider::start(&[]);
    let api = ResourceServer::start();
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let first = token(home.path(), "cc");
    api.revoke(&first);

    let url = format!("{}/api/accounts", api.url);
    let out = run(home.path(), &["request", "cc", &url, "-i"]);
    let text = ok(&out);
    assert!(text.starts_with("HTTP 200\n"), "{text}");
    let body: serde_json::Value = serde_json::from_str(text.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["path"], "/api/accounts");
    let seen = api.seen();
    assert_eq!(seen.len(), 2, "one refusal, one retry: {seen:?}");
    assert_eq!(
        (seen[0].token.as_deref(), seen[0].status),
        (Some(first.as_str()), 401)
    );
    let renewed = token(home.path(), "cc");
    assert_ne!(renewed, first, "the refused token was renewed");
    assert_eq!(
        (seen[1].token.as_deref(), seen[1].status),
        (Some(renewed.as_str()), 200),
        "the retry carried the renewed (stored) token"
    );

    // Both tries are in the profile's exchange log, with no token value in them.
    let core = app_core(home.path());
    let profile = core.profile("cc").unwrap();
    let log = core.exchanges(&profile.id, 50).unwrap();
    let api_calls: Vec<_> = log.iter().filter(|e| e.operation == "api").collect();
    assert_eq!(
        api_calls.iter().map(|e| e.status).collect::<Vec<_>>(),
        [Some(401), Some(200)],
        "in the order sent"
    );
    let dump = serde_json::to_string(&log).unwrap();
    assert!(!dump.contains(&first) && !dump.contains(&renewed), "{dump}");
    assert!(
        dump.contains("Bearer <redacted>") || dump.contains("Bearer ***"),
        "{dump}"
    );

    // A body: POST by default, JSON typed.
    let out = run(
        home.path(),
        &["request", "cc", &url, "-d", r#"{"amount":1}"#],
    );
    let echoed: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        (echoed["method"].as_str(), echoed["body"].as_str()),
        (Some("POST"), Some(r#"{"amount":1}"#))
    );
    // A body that is not JSON comes out as it is.
    let out = run(
        home.path(),
        &["request", "cc", &format!("{}/api/text", api.url)],
    );
    assert_eq!(ok(&out), "plain text, not JSON\n");

    // A 401 that stays after one renewal: said, not looped.
    api.refuse_all();
    let before = api.seen().len();
    let out = run(home.path(), &["request", "cc", &url]);
    assert_eq!(code(&out), 9, "4xx: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("still answered 401 (invalid_token: The access token was revoked)")
            && err.contains("not tried again"),
        "{err}"
    );
    assert_eq!(api.seen().len() - before, 2, "exactly one retry");
}

#[test]
fn request_bad_input_is_said_and_nothing_is_lost() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    add_web(home.path(), &p);
    let before = token(home.path(), "cc");

    // An API nobody listens on.
    let out = run(home.path(), &["request", "cc", "http://127.0.0.1:9/api"]);
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("Could not connect to http://127.0.0.1:9/api"));
    // A path with no API URL to resolve it against.
    let out = run(home.path(), &["request", "cc", "/v1/accounts"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("has no API URL"), "{}", stderr(&out));
    // A header that is not one.
    let out = run(
        home.path(),
        &["request", "cc", "http://127.0.0.1:9/", "-H", "no colon"],
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("'Name: value'"), "{}", stderr(&out));
    assert_eq!(
        token(home.path(), "cc"),
        before,
        "the stored token is intact"
    );

    // A profile that needs a sign-in: exit 3 and the command that signs in.
    for args in [
        &["request", "web", "http://127.0.0.1:9/"][..],
        &["exec", "web", "--", "true"],
        &["credential", "kubectl", "web"],
        &["credential", "git", "web", "get"],
    ] {
        let out = run(home.path(), args);
        assert_eq!(code(&out), 3, "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("Sign in with: tokendesk login web"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn exec_hands_the_token_in_the_environment_and_passes_the_outcome_through() {
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let current = token(home.path(), "cc");

    let script = r#"tr '\0' ' ' < /proc/$$/cmdline; echo; echo "$API_TOKEN"; echo "$TOKENDESK_EXPIRES_AT"; exit 7"#;
    let out = run(
        home.path(),
        &["exec", "cc", "--env", "API_TOKEN", "--", "sh", "-c", script],
    );
    assert_eq!(code(&out), 7, "the command's exit code: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("sh -c") && !lines[0].contains(&current),
        "argv carries no token: {}",
        lines[0]
    );
    assert_eq!(lines[1], current);
    let expires: i64 = lines[2].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(expires > now, "TOKENDESK_EXPIRES_AT is in the future");

    // A signal that ends the command ends `tokendesk exec` the same way.
    let out = run(
        home.path(),
        &["exec", "cc", "--", "sh", "-c", "kill -TERM $$"],
    );
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(15)
    );
    // A command that does not exist: 127, as a shell says.
    let out = run(home.path(), &["exec", "cc", "--", "no-such-command-td"]);
    assert_eq!(code(&out), 127);
    assert!(
        stderr(&out).contains("no-such-command-td: command not found"),
        "{}",
        stderr(&out)
    );
    // --min-valid beyond the token's lifetime renews it first.
    let out = run(
        home.path(),
        &[
            "exec",
            "cc",
            "--min-valid",
            "100000",
            "--",
            "sh",
            "-c",
            "echo $TOKENDESK_ACCESS_TOKEN",
        ],
    );
    let renewed = ok(&out).trim().to_owned();
    assert_ne!(renewed, current);
    assert_eq!(renewed, token(home.path(), "cc"), "and stored");

    // Through the agent (the door answers without tokendesk-cli): the same.
    let _agent = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .args(["token", "cc"])
        .output()
        .unwrap();
    let socket = agent_socket(home.path());
    let _stop = super::StopAgent(socket.clone());
    super::wait_for_agent(&socket);
    let out = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args([
            "exec",
            "cc",
            "--",
            "sh",
            "-c",
            "echo $TOKENDESK_ACCESS_TOKEN; exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), renewed);
    let out = tokendesk(home.path())
        .env_remove("TOKENDESK_NO_AGENT")
        .args(["exec", "cc", "--", "no-such-command-td"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 127, "{}", stderr(&out));
}

/// A `git` that reads no configuration of this machine or user.
fn git(home: &Path, dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("git");
    c.current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("TOKENDESK_HOME", home)
        .env("TOKENDESK_NO_AGENT", "1");
    c
}

#[test]
fn git_clones_from_a_host_that_wants_the_token() {
    let p = Provider::start(&[]);
    let server = ResourceServer::start();
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let current = token(home.path(), "cc");
    server.accept(&current);
    let url = server.add_repo("docs", "hello from a protected repo\n");
    let work = tempfile::tempdir().unwrap();

    let without = git(home.path(), work.path())
        .args(["clone", "-q", &url, "refused"])
        .output()
        .unwrap();
    assert!(!without.status.success(), "the host wants credentials");

    let helper = format!("!'{}' credential git cc --username x-access-token", bin());
    let with = git(home.path(), work.path())
        .args(["-c", &format!("credential.{}.helper={helper}", server.url)])
        .args(["clone", "-q", &url, "cloned"])
        .output()
        .unwrap();
    assert!(with.status.success(), "{}", stderr(&with));
    assert_eq!(
        std::fs::read_to_string(work.path().join("cloned/README")).unwrap(),
        "hello from a protected repo\n"
    );
    let git_requests: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|s| s.status == 200)
        .collect();
    assert!(
        !git_requests.is_empty()
            && git_requests
                .iter()
                .all(|s| s.token.as_deref() == Some(current.as_str())),
        "{git_requests:?}"
    );

    // store and erase are accepted and ignored: nothing printed, nothing changed.
    for action in ["store", "erase"] {
        let out = super::run_with_stdin(
            home.path(),
            &["credential", "git", "cc", action],
            "protocol=http\nhost=example\nusername=x\npassword=y\n\n",
        );
        assert_eq!(ok(&out), "", "{action}");
    }
    assert_eq!(token(home.path(), "cc"), current);
}

#[test]
fn kubectl_runs_the_exec_credential_plugin() {
    let client = std::process::Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output()
        .expect("kubectl is installed (scripts/deps.sh --test installs it)");
    // kubectl before 1.22 (Debian's kubernetes-client is 1.20) knows only v1beta1.
    let minor: u32 = serde_json::from_slice::<serde_json::Value>(&client.stdout)
        .ok()
        .and_then(|v| {
            v["clientVersion"]["minor"]
                .as_str()
                .map(|m| m.trim_end_matches('+').parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let api_version = if minor >= 22 {
        "client.authentication.k8s.io/v1"
    } else {
        "client.authentication.k8s.io/v1beta1"
    };
    let p = Provider::start(&[]);
    // kubectl runs exec plugins for HTTPS clusters only.
    let tls = tokendesk_testkit::TlsFixture::new();
    let server = ResourceServer::start_tls(&tls);
    let home = tempfile::tempdir().unwrap();
    add_cc(home.path(), &p);
    let current = token(home.path(), "cc");
    server.accept(&current);
    let ca = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &tls.ca_pem);
    let config = home.path().join("kubeconfig");
    let bin = bin();
    std::fs::write(
        &config,
        format!(
            r#"apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: tokendesk
  user:
    exec:
      apiVersion: {api_version}
      command: {bin}
      args: [credential, kubectl, cc]{interactive}
contexts:
- name: test
  context: {{cluster: test, user: tokendesk}}
current-context: test
"#,
            server = server.url,
            // v1 requires interactiveMode; v1beta1 kubectl before 1.22 does not know it.
            interactive = if minor >= 22 {
                "\n      interactiveMode: Never"
            } else {
                ""
            },
        ),
    )
    .unwrap();
    let out = std::process::Command::new("kubectl")
        .env("TOKENDESK_HOME", home.path())
        .env("TOKENDESK_NO_AGENT", "1")
        .env("HOME", home.path())
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "version",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text} {}", stderr(&out)));
    assert_eq!(
        doc["serverVersion"]["gitVersion"],
        "v1.32.0-tokendesk-test",
        "kubectl reached the server with the plugin's token: {}\n{:?}",
        stderr(&out),
        server.seen()
    );
    assert!(
        server
            .seen()
            .iter()
            .any(|s| s.path == "/version" && s.token.as_deref() == Some(current.as_str())),
        "{:?}",
        server.seen()
    );
}
