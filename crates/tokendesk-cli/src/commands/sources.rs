//! `--secret-command`, `--secret-env` and their key twins: where a profile's secrets come from.

use tokendesk_core::profile::ProfileConfig;
use tokendesk_core::secret::SecretKind;
use tokendesk_core::secret_source::SecretSource;
use tokendesk_core::{Error, ErrorCode, Result};

use crate::cli::SourceArgs;

/// Sets the sources `a` names; `to_keychain` lists the kinds switched back to the keychain. A
/// `--secret-timeout` alone changes the timeout of the commands the profile already has.
pub fn apply(config: &mut ProfileConfig, a: &SourceArgs, to_keychain: &[SecretKind]) -> Result<()> {
    let given = [
        (
            SecretKind::ClientSecret,
            &a.secret_command,
            &a.secret_env,
            "--secret-command",
        ),
        (
            SecretKind::PrivateKey,
            &a.key_command,
            &a.key_env,
            "--key-command",
        ),
        (
            SecretKind::TlsKey,
            &a.tls_key_command,
            &a.tls_key_env,
            "--tls-key-command",
        ),
    ];
    for (kind, command, env, flag) in given {
        let source = match (command, env) {
            (Some(line), _) => SecretSource::Command {
                argv: words(line, flag)?,
                timeout_secs: a.secret_timeout,
            },
            (None, Some(var)) => SecretSource::Env { var: var.clone() },
            (None, None) if to_keychain.contains(&kind) => SecretSource::Keychain,
            (None, None) => match config.secrets.of(kind).clone() {
                SecretSource::Command { argv, timeout_secs } => SecretSource::Command {
                    argv,
                    timeout_secs: a.secret_timeout.or(timeout_secs),
                },
                other => other,
            },
        };
        config.secrets.set(kind, source)?;
    }
    Ok(())
}

/// A command line split into words as a POSIX shell would (quotes, backslashes), without
/// running one: no variables, globs, pipes or redirections.
fn words(line: &str, flag: &str) -> Result<Vec<String>> {
    match shlex::split(line) {
        Some(w) if !w.is_empty() => Ok(w),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "{flag} is empty: give the command and its arguments, e.g. 'pass show team/client'."
            ),
        )),
        None => Err(Error::new(
            ErrorCode::InvalidInput,
            format!("{flag} '{line}': a quote is not closed."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_is_split_like_a_shell_would_without_one() {
        assert_eq!(
            words("vault kv get -field='the secret' kv/op", "--secret-command").unwrap(),
            ["vault", "kv", "get", "-field=the secret", "kv/op"]
        );
        assert!(words("pass show 'x", "--secret-command").is_err());
        assert!(words("  ", "--secret-command").is_err());
    }

    #[test]
    fn a_timeout_alone_changes_the_existing_command() {
        let mut c = ProfileConfig::default();
        let a = SourceArgs {
            secret_command: Some("pass show x".into()),
            ..Default::default()
        };
        apply(&mut c, &a, &[]).unwrap();
        let t = SourceArgs {
            secret_timeout: Some(30),
            ..Default::default()
        };
        apply(&mut c, &t, &[]).unwrap();
        assert_eq!(
            c.secrets.client_secret,
            SecretSource::Command {
                argv: vec!["pass".into(), "show".into(), "x".into()],
                timeout_secs: Some(30)
            }
        );
        apply(&mut c, &SourceArgs::default(), &[SecretKind::ClientSecret]).unwrap();
        assert_eq!(c.secrets.client_secret, SecretSource::Keychain);
    }
}
