//! Where a profile's client secret, private key and TLS key come from: the OS keychain (the
//! default), a command run without a shell (`pass show team/op/client`, `op read op://…`,
//! `vault kv get -field=secret …`), or an environment variable (CI). A profile stores the
//! *source*, never the value; a command's answer is held in memory only.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::secret::{SecretKind, Sensitive};

/// How long a secret command may run when the profile does not say.
pub const DEFAULT_TIMEOUT_SECS: u32 = 10;
/// The longest timeout a profile may set (an unlock prompt of a password manager included).
pub const MAX_TIMEOUT_SECS: u32 = 300;
/// How much of a failed command's stderr is shown.
const STDERR_SHOWN: usize = 2000;

/// Where one secret of a profile comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum SecretSource {
    /// The OS keychain, entry `{profile_id}/{kind}` (set in the app or with the CLI).
    #[default]
    Keychain,
    /// The output of a command, run without a shell: `argv[0]` is the program. For the client
    /// secret its first line, for a key all of it (trailing newlines dropped).
    Command {
        argv: Vec<String>,
        /// Seconds before the command counts as hung and is killed; default 10.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        timeout_secs: Option<u32>,
    },
    /// The value of an environment variable of the process that uses it (CI jobs).
    Env { var: String },
}

impl SecretSource {
    pub fn is_keychain(&self) -> bool {
        matches!(self, SecretSource::Keychain)
    }

    /// What it is, for messages and `profile show`: `the OS keychain`, `command "pass show x"`,
    /// `environment variable $X`.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Keychain => "the OS keychain".into(),
            SecretSource::Command { argv, .. } => format!("command \"{}\"", argv.join(" ")),
            SecretSource::Env { var } => format!("environment variable ${var}"),
        }
    }

    fn check(&self, field: &str) -> Option<FieldError> {
        let problem = match self {
            SecretSource::Keychain => None,
            SecretSource::Command { argv, .. } if argv.first().is_none_or(|p| p.is_empty()) => {
                Some("Name the command to run (its program first, then its arguments).".into())
            }
            SecretSource::Command {
                timeout_secs: Some(t),
                ..
            } if *t == 0 || *t > MAX_TIMEOUT_SECS => Some(format!(
                "The command's timeout must be 1 to {MAX_TIMEOUT_SECS} seconds, not {t}."
            )),
            SecretSource::Command { .. } => None,
            SecretSource::Env { var }
                if var.is_empty()
                    || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || var.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                Some(format!(
                    "\"{var}\" is not an environment variable name (letters, digits and _, not \
                     starting with a digit)."
                ))
            }
            SecretSource::Env { .. } => None,
        };
        problem.map(|message| FieldError {
            field: field.into(),
            message,
        })
    }
}

/// The sources of a profile's three stored secrets; each defaults to the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SecretSources {
    /// The client secret (client_secret_basic / _post / _jwt), or with `private_key_jwt` the
    /// source of nothing: its credential is the private key.
    pub client_secret: SecretSource,
    /// The client's signing key (PEM): private_key_jwt, request objects, JWT bearer.
    pub private_key: SecretSource,
    /// The key of the TLS client certificate (PEM).
    pub tls_key: SecretSource,
}

impl SecretSources {
    /// The source of a kind of secret; tokens and DPoP keys are always in the keychain.
    pub fn of(&self, kind: SecretKind) -> &SecretSource {
        match kind {
            SecretKind::ClientSecret => &self.client_secret,
            SecretKind::PrivateKey => &self.private_key,
            SecretKind::TlsKey => &self.tls_key,
            _ => &SecretSource::Keychain,
        }
    }

    pub fn set(&mut self, kind: SecretKind, source: SecretSource) -> Result<()> {
        let slot = match kind {
            SecretKind::ClientSecret => &mut self.client_secret,
            SecretKind::PrivateKey => &mut self.private_key,
            SecretKind::TlsKey => &mut self.tls_key,
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "The {} is always kept in the OS keychain.",
                        other.as_str().replace('_', " ")
                    ),
                ));
            }
        };
        *slot = source;
        Ok(())
    }

    pub fn is_default(&self) -> bool {
        *self == SecretSources::default()
    }

    /// Problems with each source, named by field (`secrets.client_secret`).
    pub fn check(&self) -> Vec<FieldError> {
        [
            (&self.client_secret, "secrets.client_secret"),
            (&self.private_key, "secrets.private_key"),
            (&self.tls_key, "secrets.tls_key"),
        ]
        .into_iter()
        .filter_map(|(s, field)| s.check(field))
        .collect()
    }
}

/// Reads a secret from a command or an environment variable (`None` for the keychain: the
/// caller asks the vault). Blocking: run it off the async threads.
pub fn read(source: &SecretSource, kind: SecretKind) -> Result<Option<Sensitive<String>>> {
    match source {
        SecretSource::Keychain => Ok(None),
        SecretSource::Env { var } => read_env(var, kind).map(Some),
        SecretSource::Command { argv, timeout_secs } => {
            let timeout =
                Duration::from_secs(u64::from(timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS)));
            run(argv, timeout, kind).map(Some)
        }
    }
}

fn what(kind: SecretKind) -> String {
    kind.as_str().replace('_', " ")
}

fn failed(message: String) -> Error {
    Error::new(ErrorCode::SecretSource, message)
}

fn read_env(var: &str, kind: SecretKind) -> Result<Sensitive<String>> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => {
            Ok(Sensitive::new(v.trim_end_matches(['\r', '\n']).to_owned()))
        }
        Ok(_) => Err(failed(format!(
            "The {} comes from environment variable ${var}, which is empty. Set it to the value \
             (in a CI job: from the job's secrets).",
            what(kind)
        ))),
        Err(std::env::VarError::NotPresent) => Err(failed(format!(
            "The {} comes from environment variable ${var}, which is not set in this process. \
             Set it where TokenDesk runs (a running app or token agent keeps the environment it \
             was started with).",
            what(kind)
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(failed(format!(
            "Environment variable ${var} (the {}) is not valid UTF-8.",
            what(kind)
        ))),
    }
}

/// Runs the command without a shell, stdin closed, and waits at most `timeout`.
fn run(argv: &[String], timeout: Duration, kind: SecretKind) -> Result<Sensitive<String>> {
    let shown = argv.join(" ");
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| failed(format!("The {}'s command is empty.", what(kind))))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: a timeout ends what it started too.
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| {
        failed(format!(
            "Could not run the {} command \"{shown}\": {e}. Check that \"{program}\" is installed \
             and on the PATH.",
            what(kind)
        ))
    })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(&mut child);
                return Err(failed(format!(
                    "The {} command \"{shown}\" did not finish within {} s and was stopped. \
                     Does it wait for input (a password prompt, an unlock)? Unlock the password \
                     manager first, or give it a longer timeout.",
                    what(kind),
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_group(&mut child);
                return Err(failed(format!(
                    "Waiting for the {} command \"{shown}\" failed: {e}.",
                    what(kind)
                )));
            }
        }
    };
    let out = Sensitive::new(stdout.join().unwrap_or_default());
    let err = stderr.join().unwrap_or_default();
    let out_text = String::from_utf8_lossy(out.expose()).into_owned();
    let value = match kind {
        // `pass` keeps the password on the first line, notes below it.
        SecretKind::ClientSecret => out_text.lines().next().unwrap_or("").trim_end().to_owned(),
        _ => out_text.trim_end_matches(['\r', '\n']).to_owned(),
    };
    let value = Sensitive::new(value);
    if !status.success() {
        let stderr = scrubbed(&String::from_utf8_lossy(&err), &out_text);
        return Err(failed(format!(
            "The {} command \"{shown}\" failed ({status}){}",
            what(kind),
            if stderr.is_empty() {
                ". It printed nothing on stderr.".to_owned()
            } else {
                format!(":\n{stderr}")
            }
        )));
    }
    if value.expose().trim().is_empty() {
        return Err(failed(format!(
            "The {} command \"{shown}\" printed nothing. It must print the {} on stdout; check \
             the entry's name.",
            what(kind),
            what(kind)
        )));
    }
    Ok(value)
}

/// Reads a pipe to its end on a thread of its own.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The child leads its own group (process_group(0)): end the group, then reap the child.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A failed command's stderr as shown: without anything it printed on stdout (a partial
/// secret), shortened.
fn scrubbed(stderr: &str, stdout: &str) -> String {
    let mut text = stderr.trim().to_owned();
    for line in stdout.lines().map(str::trim).filter(|l| l.len() >= 4) {
        text = text.replace(line, "<redacted>");
    }
    if text.chars().count() > STDERR_SHOWN {
        text = text.chars().take(STDERR_SHOWN).collect::<String>() + "…";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(argv: &[&str], timeout: Option<u32>) -> SecretSource {
        SecretSource::Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout_secs: timeout,
        }
    }

    #[test]
    fn a_source_serialises_as_a_tagged_table() {
        let s = cmd(&["pass", "show", "x"], None);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"from":"command","argv":["pass","show","x"]}"#
        );
        let back: SecretSources =
            serde_json::from_str(r#"{"tls_key":{"from":"env","var":"K"}}"#).unwrap();
        assert_eq!(back.client_secret, SecretSource::Keychain);
        assert_eq!(back.tls_key, SecretSource::Env { var: "K".into() });
    }

    #[test]
    fn bad_sources_are_named_by_field() {
        let sources = SecretSources {
            client_secret: cmd(&[], None),
            private_key: SecretSource::Env {
                var: "1BAD-NAME".into(),
            },
            tls_key: cmd(&["x"], Some(0)),
        };
        let fields: Vec<_> = sources.check().into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "secrets.client_secret",
                "secrets.private_key",
                "secrets.tls_key"
            ]
        );
    }

    #[test]
    fn the_client_secret_is_the_first_line_a_key_all_of_it() {
        let s = cmd(&["printf", "s3cret\nurl: x\n"], None);
        assert_eq!(
            read(&s, SecretKind::ClientSecret)
                .unwrap()
                .unwrap()
                .expose(),
            "s3cret"
        );
        assert_eq!(
            read(&s, SecretKind::TlsKey).unwrap().unwrap().expose(),
            "s3cret\nurl: x"
        );
    }

    #[test]
    fn no_shell_reads_the_arguments() {
        let s = cmd(&["echo", "$HOME;", "`id`"], None);
        assert_eq!(
            read(&s, SecretKind::ClientSecret)
                .unwrap()
                .unwrap()
                .expose(),
            "$HOME; `id`"
        );
    }

    #[test]
    fn a_failing_command_shows_its_stderr_without_the_value() {
        let s = cmd(
            &[
                "sh",
                "-c",
                // The value is made inside, so that the command line itself does not hold it.
                "v=$(printf 'leaked-%s' value-123); echo $v; echo \"no entry; $v\" >&2; exit 3",
            ],
            None,
        );
        let e = read(&s, SecretKind::ClientSecret).unwrap_err();
        assert_eq!(e.code, ErrorCode::SecretSource);
        assert!(e.message.contains("no entry; <redacted>"), "{}", e.message);
        assert!(!e.message.contains("leaked-value-123"), "{}", e.message);
        assert!(e.message.contains("exit status: 3"), "{}", e.message);
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = read(&cmd(&["no-such-program-xyz"], None), SecretKind::PrivateKey).unwrap_err();
        assert!(
            e.message.contains("\"no-such-program-xyz\""),
            "{}",
            e.message
        );
    }
}
