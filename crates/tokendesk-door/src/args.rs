//! The command lines the door answers itself, read without a parser. Anything else — and these
//! with any option they do not list — is `None` here, and tokendesk-cli's parser reads (and
//! explains) it.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::answer::DEFAULT_VAR;

/// A command the door can answer with the agent.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `token PROFILE [--header [--for 'METHOD URL'] | --env] [--id-token] [--min-valid N]`
    Token(TokenArgs),
    /// `exec PROFILE [--env NAME] [--min-valid N] [--] COMMAND ARGS…`
    Exec(ExecArgs),
    /// `credential kubectl PROFILE [--min-valid N]`,
    /// `credential git PROFILE [--username U] [--min-valid N] [ACTION]`
    Credential(CredentialArgs),
    /// `refresh PROFILE`
    Refresh(String),
}

#[derive(Debug, PartialEq, Eq)]
pub struct TokenArgs {
    pub profile: String,
    pub min_valid: u64,
    pub header: bool,
    pub env: bool,
    pub id_token: bool,
    /// `--for 'METHOD URL'`: the header lines for that request (a DPoP proof names it).
    pub for_request: Option<String>,
}

impl TokenArgs {
    /// See [`wants_header_lines`].
    pub fn wants_header_lines(&self) -> bool {
        wants_header_lines(self.header, self.id_token)
    }
}

/// `--header` for the access token: the agent (or the core) writes the lines (a DPoP-bound token
/// gets its scheme and a proof); for an ID token the door writes `Authorization: Bearer`.
pub fn wants_header_lines(header: bool, id_token: bool) -> bool {
    header && !id_token
}

#[derive(Debug, PartialEq, Eq)]
pub struct ExecArgs {
    pub profile: String,
    /// The variable that gets the token.
    pub env: String,
    pub min_valid: u64,
    /// The command and its arguments, as given (they need not be UTF-8).
    pub command: Vec<Vec<u8>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CredentialArgs {
    pub tool: Tool,
    pub profile: String,
    pub min_valid: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Tool {
    /// kubectl's exec plugin: an ExecCredential.
    Kubectl,
    /// git's credential helper: `get` answers, `store` and `erase` have nothing to do.
    Git { username: String, action: String },
}

impl CredentialArgs {
    /// git's `store` and `erase` (and actions added later) want nothing from a helper that
    /// holds no passwords of its own.
    pub fn needs_token(&self) -> bool {
        match &self.tool {
            Tool::Kubectl => true,
            Tool::Git { action, .. } => action == "get",
        }
    }
}

/// The `--workspace DIR` (or `--workspace=DIR`) options before the command, and the rest.
pub fn leading_workspaces(mut raw: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut dirs = Vec::new();
    let mut taken = 0;
    while let Some(a) = raw.get(taken) {
        if a == b"--workspace" {
            match raw.get(taken + 1) {
                Some(dir) => dirs.push(dir.clone()),
                None => break,
            }
            taken += 2;
        } else if let Some(dir) = a.strip_prefix(b"--workspace=") {
            dirs.push(dir.to_vec());
            taken += 1;
        } else {
            break;
        }
    }
    let rest = raw.split_off(taken.min(raw.len()));
    (dirs, rest)
}

/// The command the door answers, or `None` for the parser.
pub fn read(args: &[Vec<u8>]) -> Option<Command> {
    if args.first().map(Vec::as_slice) == Some(b"exec") {
        // An exec'd command's arguments need not be UTF-8.
        return exec(args).map(Command::Exec);
    }
    // Arguments that are not UTF-8 are never one of the others: tokendesk-cli reads them.
    let args: Vec<&str> = args
        .iter()
        .map(|a| core::str::from_utf8(a).ok())
        .collect::<Option<_>>()?;
    match *args.first()? {
        "token" => token(&args[1..]).map(Command::Token),
        "credential" => credential(&args[1..]).map(Command::Credential),
        "refresh" => match args[1..] {
            [profile] if !profile.starts_with('-') => Some(Command::Refresh(profile.to_owned())),
            _ => None,
        },
        _ => None,
    }
}

/// `--name VALUE` or `--name=VALUE` at `a`; the value, taking it from `rest` in the first form.
fn value<'a>(
    a: &'a str,
    name: &str,
    rest: &mut impl Iterator<Item = &'a str>,
) -> Option<Option<&'a str>> {
    let tail = a.strip_prefix("--")?.strip_prefix(name)?;
    match tail.strip_prefix('=') {
        Some(v) => Some(Some(v)),
        None if tail.is_empty() => Some(rest.next()),
        None => None,
    }
}

fn token(args: &[&str]) -> Option<TokenArgs> {
    let mut out = TokenArgs {
        profile: String::new(),
        min_valid: 60,
        header: false,
        env: false,
        id_token: false,
        for_request: None,
    };
    let mut profile = None;
    let mut it = args.iter().copied();
    while let Some(a) = it.next() {
        match a {
            "--header" => out.header = true,
            "--env" => out.env = true,
            "--id-token" => out.id_token = true,
            _ => {
                if let Some(v) = value(a, "for", &mut it) {
                    out.for_request = Some(v?.to_owned());
                } else if let Some(v) = value(a, "min-valid", &mut it) {
                    out.min_valid = v?.parse().ok()?;
                } else if a.starts_with('-') || profile.is_some() {
                    return None;
                } else {
                    profile = Some(a);
                }
            }
        }
    }
    if (out.header && out.env) || (out.for_request.is_some() && !out.header) {
        return None;
    }
    out.profile = profile?.to_owned();
    Some(out)
}

fn exec(args: &[Vec<u8>]) -> Option<ExecArgs> {
    let mut out = ExecArgs {
        profile: String::new(),
        env: DEFAULT_VAR.to_owned(),
        min_valid: 60,
        command: Vec::new(),
    };
    let mut profile = None;
    let mut rest = args[1..].iter();
    let text = |a: &Vec<u8>| core::str::from_utf8(a).ok().map(str::to_owned);
    while let Some(raw) = rest.next() {
        if raw == b"--" {
            break;
        }
        let a = text(raw)?;
        if a == "--env" {
            out.env = text(rest.next()?)?;
        } else if a == "--min-valid" {
            out.min_valid = text(rest.next()?)?.parse().ok()?;
        } else if let Some(v) = a.strip_prefix("--env=") {
            out.env = v.to_owned();
        } else if let Some(v) = a.strip_prefix("--min-valid=") {
            out.min_valid = v.parse().ok()?;
        } else if a.starts_with('-') {
            return None;
        } else if profile.is_none() {
            profile = Some(a);
        } else {
            out.command.push(raw.clone());
            break;
        }
    }
    out.command.extend(rest.cloned());
    out.profile = profile?;
    (!out.command.is_empty() && valid_var(&out.env)).then_some(out)
}

fn credential(args: &[&str]) -> Option<CredentialArgs> {
    let (&tool, args) = args.split_first()?;
    let git = tool == "git";
    let mut min_valid = 60;
    let (mut username, mut action, mut profile) = ("oauth2", None, None);
    let mut it = args.iter().copied();
    while let Some(a) = it.next() {
        if let Some(v) = value(a, "min-valid", &mut it) {
            min_valid = v?.parse().ok()?;
        } else if let Some(v) = value(a, "username", &mut it).filter(|_| git) {
            username = v?;
        } else if a.starts_with('-') {
            return None;
        } else if profile.is_none() {
            profile = Some(a);
        } else if git && action.is_none() {
            action = Some(a);
        } else {
            return None;
        }
    }
    let tool = match tool {
        "kubectl" => Tool::Kubectl,
        "git" => Tool::Git {
            username: username.to_owned(),
            action: action.unwrap_or("get").to_owned(),
        },
        _ => return None,
    };
    Some(CredentialArgs {
        tool,
        profile: profile?.to_owned(),
        min_valid,
    })
}

/// A portable variable name: what every shell can read back.
pub fn valid_var(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn words(line: &str) -> Vec<Vec<u8>> {
        line.split_whitespace()
            .map(|w| w.as_bytes().to_vec())
            .collect()
    }

    fn quick(line: &str) -> Option<Command> {
        read(&words(line))
    }

    fn token_of(line: &str) -> Option<TokenArgs> {
        match quick(line)? {
            Command::Token(t) => Some(t),
            other => panic!("{other:?}"),
        }
    }

    fn exec_of(line: &str) -> Option<ExecArgs> {
        match quick(line)? {
            Command::Exec(e) => Some(e),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_token_requests_skip_the_parser_and_the_rest_do_not() {
        let a = token_of("token gw --header --min-valid 30").unwrap();
        assert_eq!(
            (a.profile.as_str(), a.header, a.min_valid),
            ("gw", true, 30)
        );
        assert!(
            token_of("token gw --min-valid=5 --id-token")
                .unwrap()
                .id_token
        );
        assert!(quick("token gw --json").is_none(), "--json needs the store");
        assert!(
            quick("token gw --header --env").is_none(),
            "clap reports the conflict"
        );
        assert!(quick("token").is_none());
        assert!(quick("token a b").is_none());
        assert!(quick("token gw --min-valid soon").is_none());
        assert!(quick("token gw --min-validity 5").is_none());
        let a = read(&[
            b"token".to_vec(),
            b"gw".to_vec(),
            b"--header".to_vec(),
            b"--for".to_vec(),
            b"GET https://api.example/v1".to_vec(),
        ])
        .unwrap();
        match a {
            Command::Token(t) => {
                assert_eq!(t.for_request.as_deref(), Some("GET https://api.example/v1"))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            quick("token gw --for=x").is_none(),
            "--for without --header: clap says why"
        );
        assert!(quick("list").is_none());
        assert!(
            read(&[b"token".to_vec(), vec![0xff]]).is_none(),
            "not UTF-8"
        );
    }

    #[test]
    fn the_door_reads_plain_exec_lines_and_leaves_the_rest_to_the_parser() {
        let a = exec_of("exec gw -- curl -s -H x https://api").unwrap();
        assert_eq!(a.profile, "gw");
        assert_eq!(a.env, DEFAULT_VAR);
        assert_eq!(a.command, words("curl -s -H x https://api"));
        let a = exec_of("exec --env=GH_TOKEN --min-valid 300 gw git push").unwrap();
        assert_eq!((a.env.as_str(), a.min_valid), ("GH_TOKEN", 300));
        assert_eq!(a.command, words("git push"));
        let a = exec_of("exec gw -- --weird-program").unwrap();
        assert_eq!(a.command, words("--weird-program"));
        let raw = vec![
            b"exec".to_vec(),
            b"gw".to_vec(),
            b"cat".to_vec(),
            vec![0xff],
        ];
        assert_eq!(exec_of_raw(&raw).command, [b"cat".to_vec(), vec![0xff]]);
        assert!(quick("exec gw").is_none(), "no command: clap says so");
        assert!(quick("exec gw --").is_none());
        assert!(
            quick("exec gw --env 1BAD -- true").is_none(),
            "clap/run reports it"
        );
        assert!(quick("exec gw --help").is_none());
        assert!(quick("exec --min-valid soon gw true").is_none());
    }

    fn exec_of_raw(raw: &[Vec<u8>]) -> ExecArgs {
        match read(raw).unwrap() {
            Command::Exec(e) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_door_reads_helper_lines() {
        let Some(Command::Credential(c)) = quick("credential git gw --username x-access-token get")
        else {
            panic!()
        };
        assert_eq!(c.profile, "gw");
        assert_eq!(
            c.tool,
            Tool::Git {
                username: "x-access-token".into(),
                action: "get".into()
            }
        );
        let Some(Command::Credential(c)) = quick("credential git gw store") else {
            panic!()
        };
        assert!(!c.needs_token());
        assert_eq!(
            c.tool,
            Tool::Git {
                username: "oauth2".into(),
                action: "store".into()
            }
        );
        let Some(Command::Credential(c)) = quick("credential kubectl k8s --min-valid=120") else {
            panic!()
        };
        assert_eq!((c.tool, c.min_valid), (Tool::Kubectl, 120));
        assert!(quick("credential kubectl k8s extra").is_none());
        assert!(quick("credential kubectl --username u k8s").is_none());
        assert!(quick("credential svn k8s").is_none());
        assert!(quick("credential git").is_none());
    }

    #[test]
    fn refresh_takes_a_profile_and_nothing_else() {
        assert_eq!(quick("refresh gw"), Some(Command::Refresh("gw".into())));
        assert!(quick("refresh gw --all").is_none());
        assert!(quick("refresh --help").is_none());
        assert!(quick("refresh").is_none());
    }

    #[test]
    fn workspaces_before_the_command_are_taken_off() {
        let (dirs, rest) = leading_workspaces(words("--workspace a --workspace=b token gw"));
        assert_eq!(dirs, words("a b"));
        assert_eq!(rest, words("token gw"));
        let (dirs, rest) = leading_workspaces(words("--workspace"));
        assert!(dirs.is_empty());
        assert_eq!(rest, words("--workspace"));
    }

    #[test]
    fn variable_names() {
        assert!(valid_var("TOKENDESK_ACCESS_TOKEN") && valid_var("_x1"));
        assert!(!valid_var("") && !valid_var("1A") && !valid_var("A=B") && !valid_var("A-B"));
    }
}
