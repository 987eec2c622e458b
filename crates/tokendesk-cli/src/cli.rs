//! The command line's shape: every command, flag and help text.

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  tokendesk profile add gateway --token-url https://api.example/oauth/token \\
      --client-id my-app --auth-method post --client-secret-stdin --grant client-credentials \\
      --header 'x-api-key: my-app' --scope accounts < secret.txt
  tokendesk profile add corp --issuer https://login.example --client-id cli --auth-method none \\
      --scope openid --scope offline_access
  tokendesk login corp
  tokendesk login corp --device                 # over SSH: approve with a code on another device
  curl -H \"$(tokendesk token gateway --header)\" https://api.example/v1/accounts
  eval \"$(tokendesk token corp --env)\"
  tokendesk request gateway /v1/accounts -i     # a 401 renews the token once and retries
  tokendesk exec gateway -- ./deploy.sh         # $TOKENDESK_ACCESS_TOKEN, never in argv
  git config credential.https://git.example.helper '!tokendesk credential git corp'

  tokendesk token corp --id-token | tokendesk inspect -
  tokendesk open corp                           # the app, showing profile corp

Exit codes:
  0  success
  1  any other failure
  2  usage error
  3  the profile needs a new sign-in (run `tokendesk login PROFILE`)
  4  the provider refused the request or answered something unusable
  8  a security check failed: the sign-in response's state or iss, or the ID token (signature,
     iss, aud, exp, nonce, …) — nothing was stored; `inspect --kind id` exits 8 when the stored
     ID token fails a check now
  5  the provider could not be reached (network, TLS, timeout)
  6  no such profile or token
  7  the keychain or the local store failed
  9  request: the API answered 4xx (a 401 that stays after one renewal among them)
  10 request: the API answered 5xx
  126, 127  exec: the command cannot be run, or does not exist (as in a shell); otherwise
     exec exits with the command's own code
  130 cancelled

Environment:
  TOKENDESK_HOME     keep all files (and a keychain namespace of their own) here
  TOKENDESK_BROWSER  command to open sign-in URLs with, instead of the system browser
  TOKENDESK_NO_AGENT neither use nor start the token agent that makes `token` fast
  TOKENDESK_LOG      log filter for stderr, e.g. debug
  TOKENDESK_APP      the app `tokendesk open` starts (default: tokendesk-app beside tokendesk)

Limits:
  One HTTP exchange with a provider may take 30 s; an answer larger than 4 MiB is cut off and
  refused. Redirects from a provider are never followed. The error names the limit it hit.";

/// TokenDesk on the command line: OAuth 2.0 / OpenID Connect tokens for scripts and terminals,
/// on the same profiles, keychain and store as the TokenDesk app.
#[derive(Parser, Debug)]
#[command(name = "tokendesk", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Open this workspace (a folder of profile files, e.g. a git checkout) beside the local
    /// profiles; repeatable. Also: $TOKENDESK_WORKSPACE (a path list) and `workspace add`.
    #[arg(long = "workspace", value_name = "DIR", global = true)]
    pub workspaces: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a valid access token, refreshing or fetching one first when needed.
    Token(TokenArgs),
    /// Send an API request with the profile's token; a 401 renews the token once and sends
    /// the request again. Prints the body (and with -i the status and headers).
    Request(RequestArgs),
    /// Run a command with a valid access token in its environment (never in its arguments).
    Exec(ExecArgs),
    /// Answer a tool that asks a program for its credentials (kubectl, git).
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// List profiles and the state of their tokens.
    List {
        /// Print a JSON array instead of the table: each profile's id, name, environment,
        /// grant, origin and token (state, expiries in epoch milliseconds, refresh count; no
        /// token values), for scripts and monitoring.
        #[arg(long)]
        json: bool,
    },
    /// Sign in (authorization code with PKCE) in the browser.
    Login(LoginArgs),
    /// Refresh the token now.
    Refresh { profile: String },
    /// Revoke the access (or refresh) token at the provider.
    Revoke {
        profile: String,
        /// Revoke the refresh token (which ends the grant) instead of the access token.
        #[arg(long)]
        refresh: bool,
    },
    /// Ask the provider about the stored token (RFC 7662 introspection).
    Introspect {
        profile: String,
        #[arg(long)]
        refresh: bool,
    },
    /// Call the userinfo endpoint with the access token.
    Userinfo { profile: String },
    /// Decode a JWT: from the argument, from stdin (`-`), or a profile's stored token.
    Inspect(InspectArgs),
    /// Show a profile's token history: acquisitions, refreshes, revocations.
    History {
        profile: String,
        /// How many events, newest first.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print the events as a JSON array (newest first, times in epoch milliseconds).
        #[arg(long)]
        json: bool,
    },
    /// Check a profile's setup before anyone signs in: network, discovery, clock, capabilities,
    /// keys, client authentication, the authorization request, what is stored. Changes
    /// nothing. Exit 0 when every check passes or only warns, 1 when one fails.
    Doctor(DoctorArgs),
    /// Start from an API URL: ask it without a token, read its protected-resource metadata
    /// (RFC 9728) and its authorization server's metadata, and print every link of the chain.
    /// Stores nothing.
    Discover(DiscoverArgs),
    /// Manage profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// A dynamically registered client's registration at the server (RFC 7592).
    #[command(subcommand)]
    Registration(RegistrationCommand),
    /// Print a client ID metadata document to host at an https URL: loopback redirect URIs
    /// that fit TokenDesk's listener, the name, token_endpoint_auth_method none. Then
    /// `profile add NAME --from-api API --client-metadata-url URL`.
    ClientMetadata {
        /// The profile's name (it need not exist yet).
        name: String,
        /// The https URL where the document will live (it is the client id).
        #[arg(long, value_name = "URL")]
        url: String,
    },
    /// Team workspaces: folders of profile files (TOML, no secret values) kept in git.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// List the provider presets (Google, Entra ID, GitHub, Okta, Keycloak…): their parameters
    /// and what each sends and why. Use one with `profile add NAME --preset ID`.
    Presets {
        /// Show one preset in full: parameters, endpoints, refresh token, redirects, known errors.
        preset: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Run the built-in sandbox provider (a demo authorization server; not for production).
    Sandbox(SandboxArgs),
    /// Open the TokenDesk app, or bring its window to the front when it runs; with a
    /// profile, show that profile.
    Open {
        /// A profile's name or id.
        profile: Option<String>,
    },
    /// Run the token agent: serves cached tokens to `tokendesk token` over a user-only socket.
    Agent {
        /// Exit after this many seconds without a request.
        #[arg(long, default_value_t = 900)]
        idle_exit: u64,
    },
    /// Write the man pages, or a shell's completion script (the packages install both).
    #[command(subcommand)]
    Generate(GenerateCommand),
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Write the local profiles as files into DIR (no secret values: their sources only) and a
    /// README for the team. Existing files are never overwritten.
    Init { dir: std::path::PathBuf },
    /// List the open workspaces' files and what is wrong with any of them (line and column).
    /// Exit 1 when a file has a problem.
    Status,
    /// Open DIR on every run from now on (the app's Settings list).
    Add { dir: std::path::PathBuf },
    /// Stop opening DIR (its profiles stay until removed by hand).
    Remove { dir: std::path::PathBuf },
    /// Delete the parked profiles (their file left the workspace) with everything kept for
    /// them: tokens, history, exchange log and keychain entries. A sync does it by itself after
    /// 30 days.
    Prune {
        /// Only those parked for more than DAYS days.
        #[arg(long, value_name = "DAYS")]
        older_than: Option<u32>,
        /// List what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum GenerateCommand {
    /// The man pages (tokendesk.1, one per command) into DIR.
    Man { dir: std::path::PathBuf },
    /// SHELL's completion script, into DIR (named as SHELL looks for it) or to stdout.
    ///
    /// For example:
    /// `tokendesk generate completions bash > ~/.local/share/bash-completion/completions/tokendesk`
    Completions {
        shell: clap_complete::Shell,
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RegistrationCommand {
    /// The registration as the server has it (its secrets left out).
    Show { profile: String },
    /// Change the registration: add or remove redirect URIs.
    Update {
        profile: String,
        /// A redirect URI to add (repeatable).
        #[arg(long = "add-redirect-uri", value_name = "URI")]
        add: Vec<String>,
        /// A redirect URI to remove (repeatable).
        #[arg(long = "remove-redirect-uri", value_name = "URI")]
        remove: Vec<String>,
    },
    /// Delete the registration at the server; the profile stays, without it.
    Delete { profile: String },
}

#[derive(Args, Debug)]
pub struct DiscoverArgs {
    /// The API's URL (an MCP server, a REST endpoint).
    pub url: String,
    /// The authorization server to use when the API names several (one of them).
    #[arg(long, value_name = "ISSUER")]
    pub authorization_server: Option<String>,
    /// The token will come from the client-credentials grant: PKCE S256 is not required of the
    /// authorization server.
    #[arg(long)]
    pub client_credentials: bool,
    /// The walk as JSON: every step, and what it led to or the error that ended it.
    #[arg(long)]
    pub json: bool,
    /// Walk with this profile's TLS settings (its CA certificates, its TLS client certificate),
    /// then request the URL with its token and explain a step-up challenge (insufficient_scope,
    /// RFC 9470) with the command that answers it.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The profile to check; every profile when left out.
    pub profile: Option<String>,
    /// The report as JSON (one object for one profile, an array for all).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    pub profile: String,
    /// Refresh first when the token expires within this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_valid: u64,
    /// Print `Authorization: Bearer …` — for a DPoP-bound token `Authorization: DPoP …` and a
    /// `DPoP: …` proof line for the request given with --for (or a GET of the profile's API
    /// URL). Both lines feed `curl -H @-`.
    #[arg(long, conflicts_with_all = ["env", "json"])]
    pub header: bool,
    /// With --header: the request the token is for, 'METHOD URL' (a DPoP proof is made for it).
    #[arg(long = "for", value_name = "METHOD URL", requires = "header")]
    pub for_request: Option<String>,
    /// Print shell `export` lines.
    #[arg(long, conflicts_with = "json")]
    pub env: bool,
    /// Print the token set's metadata and every raw field (values masked unless --reveal).
    #[arg(long)]
    pub json: bool,
    /// With --json: include the token values.
    #[arg(long, requires = "json")]
    pub reveal: bool,
    /// The ID token instead of the access token.
    #[arg(long)]
    pub id_token: bool,
    /// The provider refused the profile's resource (invalid_target): stop sending it (the
    /// profile keeps it as refused, and says so), then get the token.
    #[arg(long)]
    pub without_resource: bool,
}

#[derive(Args, Debug)]
pub struct RequestArgs {
    pub profile: String,
    /// The URL; a path (`/v1/accounts`) is resolved against the profile's API URL, and none
    /// means the API URL itself.
    pub url: Option<String>,
    /// The method (default GET, or POST with a body).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A header, 'Name: value' (repeatable). Authorization is TokenDesk's to add.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body (JSON gets Content-Type: application/json unless -H sets one).
    #[arg(
        short = 'd',
        long = "data",
        value_name = "BODY",
        conflicts_with = "data_file"
    )]
    pub data: Option<String>,
    /// Read the request body from a file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<String>,
    /// Print the status line and the response headers before the body.
    #[arg(short = 'i', long)]
    pub include: bool,
    /// Refresh first when the token expires within this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_valid: u64,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    pub profile: String,
    /// The variable that holds the token (TOKENDESK_EXPIRES_AT holds its expiry, epoch s).
    #[arg(long, default_value = "TOKENDESK_ACCESS_TOKEN", value_name = "NAME")]
    pub env: String,
    /// Refresh first when the token expires within this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_valid: u64,
    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Subcommand, Debug)]
pub enum CredentialCommand {
    /// Print a client.authentication.k8s.io/v1 ExecCredential (for a kubeconfig `exec` entry).
    Kubectl(CredentialArgs),
    /// A git credential helper: answers `get` with the token as the password; `store` and
    /// `erase` are accepted and ignored.
    Git {
        #[command(flatten)]
        common: CredentialArgs,
        /// The user name to answer with (`oauth2`, `x-access-token`, … as the host wants).
        #[arg(long, default_value = "oauth2")]
        username: String,
        /// What git asks (it appends get, store or erase).
        #[arg(default_value = "get")]
        action: String,
    },
}

impl CredentialCommand {
    pub fn common(&self) -> &CredentialArgs {
        match self {
            Self::Kubectl(c) | Self::Git { common: c, .. } => c,
        }
    }
}

#[derive(Args, Debug)]
pub struct CredentialArgs {
    pub profile: String,
    /// Refresh first when the token expires within this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub min_valid: u64,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    pub profile: String,
    /// Print the sign-in URL instead of opening a browser, and read the redirect URL pasted back.
    #[arg(long, conflicts_with = "device")]
    pub no_browser: bool,
    /// Sign in on another device (RFC 8628): print an address and a code to enter there, and
    /// wait for the approval. No browser or redirect here (SSH). The default for device-code
    /// profiles; an authorization-code profile can use it when its provider has a device
    /// authorization endpoint.
    #[arg(long)]
    pub device: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// CIBA: the user to authenticate this time, instead of the profile's login hint. (A
    /// user_code the provider asks for is read from $TOKENDESK_USER_CODE, never from the
    /// command line.)
    #[arg(long, value_name = "HINT")]
    pub login_hint: Option<String>,
    /// Add a scope to the profile before signing in (an API answered insufficient_scope);
    /// repeatable.
    #[arg(long = "scope-add", value_name = "SCOPE")]
    pub scope_add: Vec<String>,
    /// Step-up (RFC 9470): the acr_values this sign-in asks for; the new token's acr must be
    /// one of them.
    #[arg(long, value_name = "ACR")]
    pub acr: Option<String>,
    /// Step-up (RFC 9470): the sign-in's max_age in seconds; the new token's auth_time must be
    /// at most that old.
    #[arg(long, value_name = "SECONDS")]
    pub max_age: Option<u32>,
    /// The provider refused the profile's resource (invalid_target): stop sending it (the
    /// profile keeps it as refused, and says so), then sign in.
    #[arg(long)]
    pub without_resource: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A JWT, or `-` to read one from stdin.
    pub token: Option<String>,
    /// Inspect this profile's stored token instead.
    #[arg(long, conflicts_with = "token")]
    pub profile: Option<String>,
    /// Which stored token.
    #[arg(long, value_enum, default_value_t = Kind::Access, requires = "profile")]
    pub kind: Kind,
    /// One JSON document (header, claims, times, and for an ID token its checks).
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Access,
    Refresh,
    Id,
}

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Add a profile.
    Add(Box<ProfileAddArgs>),
    /// List profiles.
    List,
    /// Show a profile (never its secret).
    Show { profile: String },
    /// Remove a profile, its keychain entries, tokens and history.
    #[command(alias = "remove")]
    Rm {
        profile: String,
        /// Delete the client's dynamic registration at the server first (RFC 7592); when that
        /// fails, the profile stays.
        #[arg(long)]
        deregister: bool,
    },
    /// Write profiles as JSON without any secret (all profiles when none is named).
    Export { profiles: Vec<String> },
    /// Create profiles from a TokenDesk export, a Postman, Insomnia or Bruno collection or an
    /// OpenAPI document: shows the plan, then creates all its profiles or none; secrets found
    /// go to the OS keychain (asked first), others are asked for or read from stdin.
    Import(ImportArgs),
    /// Store a profile's client secret in the OS keychain, replacing the one stored (a rotated
    /// secret): asked for without echo on a terminal, else the first line of stdin. A running
    /// app or agent uses the new one from its next token request.
    SetSecret {
        profile: String,
        /// Delete the stored client secret instead.
        #[arg(long)]
        remove: bool,
    },
    /// Store the private key of a private_key_jwt profile (a PEM file, `-` for stdin) in the OS
    /// keychain, replacing the one stored.
    SetKey { profile: String, file: String },
    /// Store the private key of a profile's TLS client certificate (a PEM file, `-` for stdin)
    /// in the OS keychain, replacing the one stored.
    SetTlsKey { profile: String, file: String },
    /// Change where a profile's secrets come from (keychain, command, environment variable), its
    /// authorization details (RFC 9396) and CIBA settings; what is not given stays as it is.
    Edit(Box<EditArgs>),
}

/// The authorization details and CIBA settings of `profile add` and `profile edit`.
#[derive(Args, Debug, Default)]
pub struct RichArgs {
    /// Rich Authorization Requests (RFC 9396): a JSON array of objects with a "type", or
    /// @FILE; string values may hold {{placeholders}} filled by the steps. Sent as
    /// authorization_details. `profile edit --authorization-details ''` removes them.
    #[arg(long, value_name = "JSON|@FILE")]
    pub authorization_details: Option<String>,
    /// CIBA: the backchannel authentication endpoint, when discovery does not find it.
    #[arg(long, value_name = "URL")]
    pub backchannel_url: Option<String>,
    /// CIBA: the user to authenticate (login_hint; with --hint-kind, an ID token or a
    /// login_hint_token).
    #[arg(long, value_name = "HINT")]
    pub login_hint: Option<String>,
    /// CIBA: how --login-hint names the user.
    #[arg(long, value_enum, value_name = "KIND")]
    pub hint_kind: Option<HintKindArg>,
    /// CIBA: a short text shown here and on the user's device (a template).
    #[arg(long, value_name = "TEXT")]
    pub binding_message: Option<String>,
    /// CIBA: acr_values, space separated.
    #[arg(long, value_name = "ACR")]
    pub acr_values: Option<String>,
    /// CIBA: requested_expiry, seconds.
    #[arg(long, value_name = "SECONDS")]
    pub requested_expiry: Option<u32>,
    /// CIBA: poll the token endpoint, or wait for the provider's ping on --notify-url.
    #[arg(long, value_enum, value_name = "MODE")]
    pub ciba_mode: Option<CibaModeArg>,
    /// CIBA ping mode: the client notification endpoint registered for the client, a loopback
    /// address TokenDesk listens on (http://127.0.0.1:PORT/path).
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    pub profile: String,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Keep the client secret in the OS keychain again (set it with `profile add` or the app).
    #[arg(long, conflicts_with_all = ["secret_command", "secret_env"])]
    pub secret_keychain: bool,
    /// Keep the private key in the OS keychain again (`profile set-key`).
    #[arg(long, conflicts_with_all = ["key_command", "key_env"])]
    pub key_keychain: bool,
    /// Keep the TLS key in the OS keychain again (`profile set-tls-key`).
    #[arg(long, conflicts_with_all = ["tls_key_command", "tls_key_env"])]
    pub tls_key_keychain: bool,
    #[command(flatten)]
    pub rich: RichArgs,
    /// Stop sending `resource` (RFC 8707): for a provider that refuses it (`invalid_target`, as
    /// Microsoft Entra ID does for some values). The token may then not be meant for the API.
    #[arg(long)]
    pub no_resource: bool,
    /// Send this `resource` (RFC 8707) on authorize and token requests again, or another one.
    #[arg(long, value_name = "URL", conflicts_with = "no_resource")]
    pub resource: Option<String>,
}

/// Where the client secret and keys come from, when not the OS keychain: a command (one
/// argument, split into words as a shell would, but run without one) or an environment variable.
#[derive(Args, Debug, Default)]
pub struct SourceArgs {
    /// Read the client secret from a command's output (its first line), e.g. 'pass show
    /// team/op/client', 'op read op://team/op/secret', 'vault kv get -field=secret kv/op'. Run
    /// without a shell when a token is needed; the value is held in memory only.
    #[arg(long, value_name = "COMMAND", conflicts_with = "secret_env")]
    pub secret_command: Option<String>,
    /// Read the client secret from this environment variable (CI jobs).
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    /// Read the private key (PEM) from a command's output.
    #[arg(long, value_name = "COMMAND", conflicts_with = "key_env")]
    pub key_command: Option<String>,
    /// Read the private key (PEM) from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// Read the TLS client certificate's key (PEM) from a command's output.
    #[arg(long, value_name = "COMMAND", conflicts_with = "tls_key_env")]
    pub tls_key_command: Option<String>,
    /// Read the TLS client certificate's key (PEM) from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub tls_key_env: Option<String>,
    /// How long a secret command may run before it counts as hung (default 10 s).
    #[arg(long, value_name = "SECONDS")]
    pub secret_timeout: Option<u32>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintKindArg {
    LoginHint,
    IdTokenHint,
    LoginHintToken,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CibaModeArg {
    Poll,
    Ping,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethodArg {
    /// client_secret_basic: id and secret in the Authorization header.
    Basic,
    /// client_secret_post: id and secret in the form body.
    Post,
    /// A public client: no secret.
    None,
    /// private_key_jwt: a JWT signed with the client's private key (--private-key-file).
    PrivateKeyJwt,
    /// client_secret_jwt: a JWT signed with the client secret (--assertion-alg HS256/384/512).
    ClientSecretJwt,
    /// tls_client_auth: the TLS client certificate (--tls-cert, --tls-key-file) authenticates.
    TlsClientAuth,
    /// self_signed_tls_client_auth: a self-signed certificate registered with the provider.
    SelfSignedTlsClientAuth,
}

/// Which of another profile's tokens a token exchange sends.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeTokenArg {
    /// Its access token.
    Access,
    /// Its ID token (from an OpenID sign-in).
    Id,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopAlgArg {
    /// ECDSA P-256 with SHA-256 (what every DPoP server supports).
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl From<DpopAlgArg> for tokendesk_core::dpop::DpopAlg {
    fn from(a: DpopAlgArg) -> Self {
        match a {
            DpopAlgArg::Es256 => Self::ES256,
            DpopAlgArg::EdDsa => Self::EdDSA,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionAlgArg {
    /// RSA PKCS#1 v1.5 with SHA-256.
    #[value(name = "RS256")]
    Rs256,
    /// RSA-PSS with SHA-256.
    #[value(name = "PS256")]
    Ps256,
    /// ECDSA P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// HMAC with SHA-256 keyed by the client secret (client-secret-jwt).
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "HS384")]
    Hs384,
    #[value(name = "HS512")]
    Hs512,
}

/// `--grant`: the names of the grants TokenDesk registers (`client-credentials` or
/// `client_credentials`).
fn grant_parser() -> impl clap::builder::TypedValueParser<Value = tokendesk_core::profile::GrantKind>
{
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    use tokendesk_core::flow::GRANTS;
    PossibleValuesParser::new(GRANTS.iter().map(|g| {
        PossibleValue::new(g.name.replace('_', "-"))
            .alias(g.name)
            .help(g.summary)
    }))
    .map(|name| {
        tokendesk_core::profile::GrantKind::parse(&name.replace('-', "_"))
            .expect("every possible value is a registered grant")
    })
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("tls_key_source")
    .args(["tls_key_file", "tls_key_command", "tls_key_env"])))]
pub struct ProfileAddArgs {
    pub name: String,
    /// Start from a provider preset (`tokendesk presets` lists them): its endpoints, scopes,
    /// client authentication and refresh-token parameters; every other option overrides it.
    #[arg(long, value_name = "ID")]
    pub preset: Option<String>,
    /// A preset parameter, KEY=VALUE (a tenant, a realm, a base URL); repeatable.
    #[arg(long = "preset-param", value_name = "KEY=VALUE", requires = "preset")]
    pub preset_params: Vec<String>,
    /// Issuer to discover the endpoints from (OIDC discovery, RFC 8414).
    #[arg(long)]
    pub issuer: Option<String>,
    /// Do not run discovery now.
    #[arg(long)]
    pub no_discover: bool,
    #[arg(long)]
    pub token_url: Option<String>,
    #[arg(long)]
    pub auth_url: Option<String>,
    #[arg(long)]
    pub revocation_url: Option<String>,
    #[arg(long)]
    pub introspection_url: Option<String>,
    #[arg(long)]
    pub userinfo_url: Option<String>,
    #[arg(long)]
    pub jwks_url: Option<String>,
    /// The client id (a client registered by hand). With --from-api and none, TokenDesk
    /// registers a client dynamically (RFC 7591) when the server offers it.
    #[arg(long, required_unless_present = "from_api")]
    pub client_id: Option<String>,
    /// Read the client secret from stdin (one line).
    #[arg(long, conflicts_with_all = ["secret_command", "secret_env"])]
    pub client_secret_stdin: bool,
    /// Start from an API URL: its protected-resource metadata (RFC 9728) names the
    /// authorization server and the `resource` every token is requested for (RFC 8707); see
    /// `tokendesk discover URL`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["issuer", "preset", "token_url", "auth_url", "resource", "api_url"])]
    pub from_api: Option<String>,
    /// With --from-api: the https URL where you host the client ID metadata document
    /// `tokendesk client-metadata NAME --url URL` prints; it is the client id (for servers
    /// that accept such documents).
    #[arg(long, value_name = "URL", requires = "from_api", conflicts_with_all = ["client_id", "confidential", "initial_access_token_stdin"])]
    pub client_metadata_url: Option<String>,
    /// With --from-api: the authorization server to use when the API names several.
    #[arg(long, value_name = "ISSUER", requires = "from_api")]
    pub authorization_server: Option<String>,
    /// With --from-api and dynamic registration: register a confidential client
    /// (client_secret_basic, its secret kept in the keychain) instead of a public one.
    #[arg(long, requires = "from_api", conflicts_with = "client_id")]
    pub confidential: bool,
    /// With --from-api and dynamic registration: read the initial access token the server
    /// requires (RFC 7591 §3) from stdin (one line).
    #[arg(long, requires = "from_api", conflicts_with_all = ["client_id", "client_secret_stdin"])]
    pub initial_access_token_stdin: bool,
    /// With --from-api and dynamic registration: a software statement (RFC 7591 §2.3), the
    /// signed JWT a directory issued, from a file (`-`: stdin); sent as given.
    #[arg(long, value_name = "FILE", requires = "from_api", conflicts_with_all = ["client_id", "client_metadata_url", "software_statement_claims"])]
    pub software_statement_file: Option<String>,
    /// With --from-api and dynamic registration: a software statement TokenDesk signs with the
    /// private key (--private-key-file, --key-command or --key-env; RS256 for RSA, ES256 for
    /// P-256, or --assertion-alg; --assertion-kid) from these claims, JSON or @FILE (`iss`
    /// required; `iat` and `jti` added when missing).
    #[arg(long, value_name = "JSON|@FILE", requires = "from_api", conflicts_with_all = ["client_id", "client_metadata_url"])]
    pub software_statement_claims: Option<String>,
    /// Default: basic, or what the preset says.
    #[arg(long, value_enum)]
    pub auth_method: Option<AuthMethodArg>,
    /// The client's private key, a PEM file (`-`: stdin), stored in the OS keychain: for
    /// private-key-jwt, signed request objects, the JWT-bearer grant and signed step bodies.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["client_secret_stdin", "key_command", "key_env"])]
    pub private_key_file: Option<String>,
    /// With private-key-jwt: the signing algorithm of the assertion.
    /// Default: RS256, or HS256 with client-secret-jwt.
    #[arg(long, value_enum)]
    pub assertion_alg: Option<AssertionAlgArg>,
    /// With private-key-jwt: the `kid` to put in the assertion's header.
    #[arg(long, value_name = "KID")]
    pub assertion_kid: Option<String>,
    /// With private-key-jwt: the assertion's `aud` (default: the token endpoint URL).
    #[arg(long, value_name = "URL")]
    pub assertion_audience: Option<String>,
    /// The algorithm the client registered for ID tokens (`id_token_signed_response_alg`); an
    /// ID token signed otherwise fails. `none` accepts unsigned ID tokens from the token
    /// endpoint only (never the default).
    #[arg(long, value_name = "ALG")]
    pub id_token_alg: Option<String>,
    /// Push sign-in requests to the provider first (PAR, RFC 9126); done anyway when the
    /// provider requires it.
    #[arg(long)]
    pub par: bool,
    /// FAPI 2.0 Security Profile mode: a setup that breaks its rules (PAR, private_key_jwt with
    /// PS256/ES256 or mTLS, DPoP or mTLS-bound tokens…) is refused, naming the rule.
    #[arg(long)]
    pub fapi2: bool,
    /// Ask for signed authorization responses (JARM, response_mode=jwt): the code is used only
    /// from a response whose signature, iss, aud and exp pass.
    #[arg(long)]
    pub jarm: bool,
    /// The pushed authorization request endpoint, when discovery does not name it.
    #[arg(long, value_name = "URL")]
    pub par_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), when discovery does not find it.
    #[arg(long)]
    pub device_url: Option<String>,
    /// Send sign-in requests as signed request objects (RFC 9101), signed with the private key.
    #[arg(long)]
    pub signed_request: bool,
    /// Sender-constrained tokens with DPoP (RFC 9449): TokenDesk makes a key of this algorithm
    /// (kept in the OS keychain) and proves it on every request.
    #[arg(long, value_enum, value_name = "ALG")]
    pub dpop: Option<DpopAlgArg>,
    /// A TLS client certificate (PEM file, chain after it) for mutual TLS (RFC 8705).
    #[arg(long, value_name = "FILE", requires = "tls_key_source")]
    pub tls_cert: Option<String>,
    /// The private key of --tls-cert (PEM file); it is stored in the OS keychain.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key_file: Option<String>,
    /// CA certificates (PEM file) to trust for this provider beside the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<String>,
    /// Default: authorization-code when the profile can sign in (issuer or --auth-url), else
    /// client-credentials.
    #[arg(long, value_parser = grant_parser())]
    pub grant: Option<tokendesk_core::profile::GrantKind>,
    /// With the JWT-bearer grant: the assertion's extra claims, a JSON object template
    /// (`{"authorizationId": "{{authorizationId}}"}`).
    #[arg(long, value_name = "JSON")]
    pub jwt_claims: Option<String>,
    /// With the JWT-bearer grant: the assertion's `iss` (default: the client id).
    #[arg(long, value_name = "ISS")]
    pub jwt_issuer: Option<String>,
    /// With the JWT-bearer grant: the assertion's `sub` (default: the client id).
    #[arg(long, value_name = "SUB")]
    pub jwt_subject: Option<String>,
    /// With the JWT-bearer grant: the assertion's `aud` (default: the token endpoint URL).
    #[arg(long, value_name = "AUD")]
    pub jwt_audience: Option<String>,
    /// With the token-exchange grant (implied by it): the profile whose token is exchanged.
    #[arg(long, value_name = "PROFILE")]
    pub subject_profile: Option<String>,
    /// Which of the subject profile's tokens is exchanged.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = ExchangeTokenArg::Access)]
    pub subject_token: ExchangeTokenArg,
    /// With the token-exchange grant: the profile whose token is the actor token (delegation).
    #[arg(long, value_name = "PROFILE", requires = "subject_profile")]
    pub actor_profile: Option<String>,
    /// Which of the actor profile's tokens is sent.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = ExchangeTokenArg::Access)]
    pub actor_token: ExchangeTokenArg,
    /// With the token-exchange grant: `requested_token_type`, a token type URI, or access,
    /// refresh, id or jwt for RFC 8693's (urn:ietf:params:oauth:token-type:…).
    #[arg(long, value_name = "URI", requires = "subject_profile")]
    pub requested_token_type: Option<String>,
    /// The OpenID Connect claims request, a JSON template
    /// (`{"id_token": {"acr": {"essential": true}}}`).
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,
    /// `max_age` of the sign-in, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub max_age: Option<u32>,
    /// A scope; repeat, or give several separated by spaces.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    #[arg(long)]
    pub audience: Option<String>,
    #[arg(long)]
    pub resource: Option<String>,
    /// Default: a loopback listener on 127.0.0.1 with an ephemeral port.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// An extra authorization-request parameter, KEY=VALUE; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// An extra token-request parameter, KEY=VALUE; repeatable.
    #[arg(long = "token-param", value_name = "KEY=VALUE")]
    pub token_params: Vec<String>,
    /// An extra HTTP header, 'Name: value'; repeatable.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// An environment label (sandbox, test, production, ...).
    #[arg(long = "env", default_value = "")]
    pub environment: String,
    /// An API URL for copied curl lines.
    #[arg(long)]
    pub api_url: Option<String>,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub rich: RichArgs,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A TokenDesk export, Postman collection (v2.1), Insomnia export (v4 JSON, v5 YAML),
    /// OpenAPI 3 document or Bruno collection folder (or .bru file); `-` for stdin.
    pub file: String,
    /// The file's format; `auto` tells it by the content.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: ImportFormatArg,
    /// The environment that fills `{{variables}}`: a Postman environment file, a Bruno
    /// environment (a .bru file or its name in the collection's environments/), an Insomnia
    /// sub-environment's name.
    #[arg(long, value_name = "FILE|NAME")]
    pub environment: Option<String>,
    /// The client id of profiles the file names none for (OpenAPI documents name none).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Only show what would be created, which secrets were found and the warnings.
    #[arg(long)]
    pub dry_run: bool,
    /// The plan (and with an import, the profiles created) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Store the client secrets found in the file in the OS keychain without asking.
    #[arg(long)]
    pub store_found_secrets: bool,
    /// Give a profile whose name is taken a free name (`Shop (2)`) instead of refusing.
    #[arg(long)]
    pub rename: bool,
    /// Read each profile's client secret from stdin, one line per profile that needs one and
    /// has none stored from the file, in the plan's order (the file itself must then not come
    /// from stdin).
    #[arg(long)]
    pub client_secret_stdin: bool,
}

/// `profile import --format`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormatArg {
    Auto,
    Tokendesk,
    Postman,
    Insomnia,
    Bruno,
    Openapi,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 47111)]
    pub port: u16,
    /// Also create the ready-made sandbox profiles.
    #[arg(long)]
    pub add_profiles: bool,
}
