//! The door program itself: against a stand-in agent (a UNIX socket that answers a set line and
//! keeps the requests it got) and a stand-in `tokendesk-cli` (a script that says what it was
//! handed). Every case runs on each build of the door: the one on std (this package's
//! `tokendesk`) and, when `TOKENDESK_TEST_DOOR` names it (scripts/test.sh does), the one without a
//! C library that the packages ship. The door with the real agent: tokendesk-cli's tests.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, RwLock};

use tokendesk_door::protocol::{PROTOCOL, Request, Response};

/// Held to write a program (exclusive) and to start one (shared): a child forked while another
/// test has a program open for writing keeps that descriptor until it execs, and running the
/// program then fails with "Text file busy".
static FORKS: RwLock<()> = RwLock::new(());

/// Starts `c` (under [`FORKS`]) with its output piped.
fn start(c: &mut Command) -> std::process::Child {
    let _starting = FORKS.read().unwrap();
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn output(c: &mut Command) -> Output {
    start(c).wait_with_output().unwrap()
}

/// Each build of the door there is to test.
fn doors() -> Vec<PathBuf> {
    let mut doors = vec![PathBuf::from(env!("CARGO_BIN_EXE_tokendesk"))];
    if let Some(bare) = std::env::var_os("TOKENDESK_TEST_DOOR") {
        doors.push(bare.into());
    }
    doors
}

/// A door installed in a directory of its own, beside a stand-in `tokendesk-cli`, with a home.
struct Installed {
    dir: tempfile::TempDir,
    door: PathBuf,
}

impl Installed {
    fn new(door: &Path) -> Self {
        let _writing = FORKS.write().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let installed = bin.join("tokendesk");
        std::fs::copy(door, &installed).unwrap();
        let cli = bin.join("tokendesk-cli");
        std::fs::write(
            &cli,
            "#!/bin/sh\nprintf 'handed:'; printf ' %s' \"$@\"; printf '\\n'\nexit 42\n",
        )
        .unwrap();
        std::fs::set_permissions(&cli, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home/run")).unwrap();
        Self {
            dir,
            door: installed,
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.door);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TOKENDESK_HOME", self.home())
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        output(&mut self.command(args))
    }

    /// An agent at this home that answers every request with `answer`.
    fn agent(&self, answer: Response) -> Agent {
        Agent::at(&self.home().join("run/agent.sock"), answer)
    }
}

/// The stand-in agent: answers every connection with one line, keeps the request lines.
struct Agent {
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Agent {
    fn at(socket: &Path, answer: Response) -> Self {
        let listener = UnixListener::bind(socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let line = answer.line();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = Vec::new();
                let _ = BufReader::new(&stream).read_until(b'\n', &mut request);
                if let Ok(r) = serde_json::from_slice::<Request>(&request) {
                    seen.lock().unwrap().push(r);
                }
                let _ = stream.write_all(&line);
            }
        });
        Self { requests }
    }

    fn requests(&self) -> Vec<Request> {
        std::mem::take(&mut self.requests.lock().unwrap())
    }
}

fn token(header: Option<&str>) -> Response {
    Response::Token {
        token: "T0k".into(),
        token_type: "Bearer".into(),
        expires_at: Some(1_767_225_600_000),
        header: header.map(str::to_owned),
    }
}

fn error(code: &str, message: &str) -> Response {
    Response::Error {
        code: code.into(),
        message: message.into(),
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn without_an_agent_every_command_goes_to_tokendesk_cli_as_it_came() {
    for door in doors() {
        let at = Installed::new(&door);
        for args in [
            &["token", "gw"][..],
            &["list"],
            &["token", "gw", "--json"],
            &["--workspace", "w", "token", "gw", "--min-valid=5"],
        ] {
            let o = at.run(args);
            assert_eq!(code(&o), 42, "{door:?} {args:?}: {}", err(&o));
            assert_eq!(out(&o), format!("handed: {}\n", args.join(" ")), "{door:?}");
        }
        // Arguments that are not UTF-8 reach it as they are.
        let o = output(
            at.command(&["token"])
                .arg(std::ffi::OsStr::from_bytes(b"g\xffw")),
        );
        assert_eq!(o.stdout, b"handed: token g\xffw\n", "{door:?}");
        // With no tokendesk-cli beside it, the door says what is missing.
        std::fs::remove_file(at.door.with_file_name("tokendesk-cli")).unwrap();
        let o = at.run(&["list"]);
        assert_eq!(code(&o), 1, "{door:?}");
        assert!(
            err(&o).contains("cannot run") && err(&o).contains("reinstall them together"),
            "{door:?}: {}",
            err(&o)
        );
    }
}

#[test]
fn tokens_in_each_form_from_the_agent() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(token(None));
        let o = at.run(&["token", "gw"]);
        assert_eq!(
            (code(&o), out(&o).as_str()),
            (0, "T0k\n"),
            "{door:?}: {}",
            err(&o)
        );
        let asked = agent.requests();
        assert_eq!(asked.len(), 1, "{door:?}");
        assert_eq!(
            (asked[0].protocol.as_str(), asked[0].profile.as_str()),
            (PROTOCOL, "gw")
        );
        assert_eq!(
            (asked[0].min_valid_secs, asked[0].header.clone()),
            (60, None)
        );

        let o = at.run(&["token", "gw", "--env", "--min-valid", "300", "--id-token"]);
        assert_eq!(
            out(&o),
            "export TOKENDESK_ID_TOKEN='T0k'\nexport TOKENDESK_EXPIRES_AT='1767225600'\n",
            "{door:?}"
        );
        let asked = agent.requests();
        assert_eq!((asked[0].min_valid_secs, asked[0].id_token), (300, true));

        let o = at.run(&["token", "gw", "--header"]);
        assert_eq!(out(&o), "Authorization: Bearer T0k\n", "{door:?}");
        assert_eq!(
            agent.requests()[0].header,
            Some(None),
            "header lines asked for"
        );
    }
}

#[test]
fn header_lines_the_agent_writes_are_printed_as_they_are() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(token(Some("Authorization: DPoP T0k\nDPoP: proof")));
        let o = at.run(&["token", "gw", "--header", "--for", "GET https://api/x"]);
        assert_eq!(
            out(&o),
            "Authorization: DPoP T0k\nDPoP: proof\n",
            "{door:?}"
        );
        assert_eq!(
            agent.requests()[0].header,
            Some(Some("GET https://api/x".into()))
        );
    }
}

#[test]
fn failures_keep_their_exit_codes_and_say_how_to_sign_in() {
    for door in doors() {
        let at = Installed::new(&door);
        let _agent = at.agent(error("needs_login", "No refresh token."));
        let o = at.run(&["token", "my gw"]);
        assert_eq!(code(&o), 3, "{door:?}");
        assert_eq!(err(&o), "error: No refresh token.\n", "{door:?}");
        let o = at.run(&["exec", "my gw", "--", "true"]);
        assert_eq!(code(&o), 3, "{door:?}");
        assert_eq!(
            err(&o),
            "error: No refresh token. Sign in with: tokendesk login 'my gw'\n",
            "{door:?}"
        );
        drop(_agent);
        std::fs::remove_file(at.home().join("run/agent.sock")).unwrap();
        let _agent = at.agent(error("network", "The provider is down."));
        let o = at.run(&["credential", "kubectl", "k8s"]);
        assert_eq!(
            (code(&o), err(&o).as_str()),
            (5, "error: The provider is down.\n")
        );
    }
}

#[test]
fn exec_puts_the_token_in_the_environment_and_becomes_the_command() {
    for door in doors() {
        let at = Installed::new(&door);
        let _agent = at.agent(token(None));
        let o = output(
            at.command(&[
                "exec",
                "gw",
                "--env",
                "MY_TOKEN",
                "--",
                "sh",
                "-c",
                "printf '%s|%s|%s' \"$MY_TOKEN\" \"$TOKENDESK_EXPIRES_AT\" \"$KEPT\"; exit 7",
            ])
            .env("KEPT", "kept")
            .env("MY_TOKEN", "stale"),
        );
        assert_eq!(code(&o), 7, "{door:?}: {}", err(&o));
        assert_eq!(out(&o), "T0k|1767225600|kept", "{door:?}");
        // Not-UTF-8 arguments of the command pass through.
        let o = output(
            at.command(&["exec", "gw", "printf", "%s"])
                .arg(std::ffi::OsStr::from_bytes(b"a\xffb")),
        );
        assert_eq!(o.stdout, b"a\xffb", "{door:?}");
        let o = at.run(&["exec", "gw", "--", "no-such-command-here"]);
        assert_eq!(code(&o), 127, "{door:?}");
        assert_eq!(
            err(&o),
            "tokendesk exec: no-such-command-here: command not found (check its name and PATH)\n"
        );
        let plain = at.dir.path().join("not-executable");
        std::fs::write(&plain, "echo hi\n").unwrap();
        let o = at.run(&["exec", "gw", "--", plain.to_str().unwrap()]);
        assert_eq!(code(&o), 126, "{door:?}: {}", err(&o));
        assert!(
            err(&o).contains("permission denied"),
            "{door:?}: {}",
            err(&o)
        );
    }
}

#[test]
fn credential_helpers_answer_in_their_tools_formats() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(token(None));
        let mut git = start(
            at.command(&["credential", "git", "gw", "get"])
                .stdin(Stdio::piped()),
        );
        // git writes what it knows and an empty line, and keeps its end open.
        let mut stdin = git.stdin.take().unwrap();
        stdin
            .write_all(b"protocol=https\nhost=example.org\n\n")
            .unwrap();
        let o = git.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(
            out(&o),
            "username=oauth2\npassword=T0k\npassword_expiry_utc=1767225600\n",
            "{door:?}"
        );
        // `store` needs no token: nothing is asked, nothing printed.
        let o = at.run(&["credential", "git", "gw", "store"]);
        assert_eq!((code(&o), out(&o).as_str()), (0, ""), "{door:?}");
        assert_eq!(agent.requests().len(), 1, "{door:?}");

        let o = output(at.command(&["credential", "kubectl", "k8s"]).env(
            "KUBERNETES_EXEC_INFO",
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1"}"#,
        ));
        assert_eq!(
            out(&o),
            "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\
             \"status\":{\"token\":\"T0k\",\"expirationTimestamp\":\"2026-01-01T00:00:00Z\"}}\n",
            "{door:?}"
        );
    }
}

#[test]
fn refresh_through_the_agent_says_what_it_did() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(Response::Refreshed {
            name: "gw".into(),
            expires_at: Some(3_661_000),
            now: 0,
            refresh_count: Some(4),
        });
        let o = at.run(&["refresh", "gw"]);
        assert_eq!(code(&o), 0, "{door:?}");
        assert_eq!(
            err(&o),
            "Refreshed \"gw\": access token valid for 1:01:01, refresh_count 4.\n"
        );
        assert!(agent.requests()[0].refresh);
    }
}

#[test]
fn an_agent_of_another_version_or_turned_off_leaves_the_work_to_tokendesk_cli() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(Response::Mismatch);
        let o = at.run(&["token", "gw"]);
        assert_eq!((code(&o), out(&o).as_str()), (42, "handed: token gw\n"));
        assert_eq!(agent.requests().len(), 1);
        let o = output(at.command(&["token", "gw"]).env("TOKENDESK_NO_AGENT", "1"));
        assert_eq!(code(&o), 42, "{door:?}");
        assert!(
            agent.requests().is_empty(),
            "{door:?}: TOKENDESK_NO_AGENT asks nobody"
        );
    }
}

#[test]
fn workspaces_reach_the_agent_as_absolute_paths_and_the_default_home_is_found() {
    for door in doors() {
        let at = Installed::new(&door);
        let agent = at.agent(token(None));
        let real = at.dir.path().join("team");
        std::fs::create_dir_all(&real).unwrap();
        std::os::unix::fs::symlink(&real, at.dir.path().join("link")).unwrap();
        let o = output(
            at.command(&["--workspace", "link", "token", "gw"])
                .env("TOKENDESK_WORKSPACE", "./team::missing"),
        );
        assert_eq!(out(&o), "T0k\n", "{door:?}: {}", err(&o));
        let real = real.canonicalize().unwrap().display().to_string();
        assert_eq!(
            agent.requests()[0].workspaces,
            [real.clone(), real, "missing".to_owned()],
            "{door:?}"
        );

        // No TOKENDESK_HOME: the home is in the data directory ($XDG_DATA_HOME, else
        // ~/.local/share), as tokendesk-core opens it.
        let user = at.dir.path().join("user");
        let socket_dir = user.join(".local/share/tokendesk/run");
        std::fs::create_dir_all(&socket_dir).unwrap();
        let _default = Agent::at(&socket_dir.join("agent.sock"), token(None));
        let o = output(
            at.command(&["token", "gw"])
                .env_remove("TOKENDESK_HOME")
                .env("HOME", &user),
        );
        assert_eq!(out(&o), "T0k\n", "{door:?}: {}", err(&o));
        let xdg = at.dir.path().join("xdg");
        std::fs::create_dir_all(xdg.join("tokendesk/run")).unwrap();
        let _xdg = Agent::at(
            &xdg.join("tokendesk/run/agent.sock"),
            error("not_found", "No."),
        );
        let o = output(
            at.command(&["token", "gw"])
                .env_remove("TOKENDESK_HOME")
                .env("HOME", &user)
                .env("XDG_DATA_HOME", &xdg),
        );
        assert_eq!(code(&o), 6, "{door:?}: the XDG home's agent answered");
    }
}
