//! Test harness: a real authorization server (oidc-provider on loopback), a real keychain
//! (the Secret Service of the D-Bus session `scripts/test.sh` starts), a headless browser that
//! walks the provider's login pages (and one that presses the built-in sandbox's Approve
//! button), and a log file to search for leaked secrets.

mod device_user;
mod flood;
pub mod hostile;
mod resource;
mod sandbox_login;

pub use device_user::{approve_device, deny_device, device_config};
pub use flood::Flood;
pub use resource::{ResourceServer, Seen};
pub use sandbox_login::SandboxLogin;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokendesk_core::browser::BrowserLauncher;
use tokendesk_core::home::Home;
use tokendesk_core::http::HttpOptions;
use tokendesk_core::profile::{AuthMethod, GrantKind, Param, Profile, ProfileConfig};
use tokendesk_core::secret::Keychain;
use tokendesk_core::secret::Sensitive;
use tokendesk_core::{Core, CoreOptions};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn provider_dir() -> PathBuf {
    repo_root().join("tests/provider")
}

/// oidc-provider, started on a free port; stopped when dropped (its stdin closes).
pub struct Provider {
    child: Child,
    pub issuer: String,
    /// The private keys (PKCS#8 PEM) of its `private_key_jwt` clients, by client id; made
    /// fresh by every run of the provider.
    pub client_keys: std::collections::BTreeMap<String, String>,
    /// With `--registration iat`: the initial access token that lets a client register.
    pub initial_access_token: Option<String>,
    /// With `--software-statement`: the private keys (PKCS#8 PEM) of the directory whose
    /// software statements the provider trusts, `rsa` and `ec` (P-256).
    pub software_statement_keys: std::collections::BTreeMap<String, String>,
}

/// Certificates for a provider that speaks HTTPS and asks for client certificates: a CA, the
/// server's certificate for 127.0.0.1, a client certificate (`CN=cc-mtls`) from the same CA,
/// and one from a CA the provider does not trust. All PEM, made fresh for each fixture.
pub struct TlsFixture {
    pub dir: tempfile::TempDir,
    pub ca_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
    pub rogue_cert_pem: String,
    pub rogue_key_pem: String,
    /// A client certificate from the trusted CA that expired in 2021.
    pub expired_cert_pem: String,
    pub expired_key_pem: String,
}

impl TlsFixture {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "TokenDesk test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        let leaf_until = |cn: &str, issuer: &Issuer<'_, KeyPair>, expired: bool| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.distinguished_name.push(DnType::CommonName, cn);
            if expired {
                params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                params.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
            let cert = params.signed_by(&key, issuer).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let leaf = |cn: &str, issuer: &Issuer<'_, KeyPair>| leaf_until(cn, issuer, false);
        let (client_cert_pem, client_key_pem) = leaf("cc-mtls", &ca);
        let (expired_cert_pem, expired_key_pem) = leaf_until("cc-mtls", &ca, true);
        let rogue_ca_key = KeyPair::generate().unwrap();
        let mut rogue_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        rogue_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let rogue_ca = Issuer::new(rogue_params, rogue_ca_key);
        let (rogue_cert_pem, rogue_key_pem) = leaf("cc-mtls", &rogue_ca);

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path().join("server.pem"), server.pem()).unwrap();
        std::fs::write(dir.path().join("server.key"), server_key.serialize_pem()).unwrap();
        Self {
            dir,
            ca_pem: ca_cert.pem(),
            client_cert_pem,
            client_key_pem,
            rogue_cert_pem,
            rogue_key_pem,
            expired_cert_pem,
            expired_key_pem,
        }
    }
}

impl Default for TlsFixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider {
    /// The provider over HTTPS with the fixture's certificates (`--tls-dir`).
    pub fn start_tls(tls: &TlsFixture, args: &[&str]) -> Self {
        let dir = tls.dir.path().to_str().unwrap().to_owned();
        let mut all = vec!["--tls-dir", dir.as_str()];
        all.extend_from_slice(args);
        Self::start(&all)
    }

    pub fn start(args: &[&str]) -> Self {
        // A provider that has not said it is ready within a minute is stuck (Node has been seen
        // to deadlock at start under load): start another once, rather than hang the run.
        Self::try_start(args, Duration::from_secs(60))
            .or_else(|why| {
                eprintln!("test provider: {why}; starting it again");
                Self::try_start(args, Duration::from_secs(60))
            })
            .unwrap_or_else(|why| panic!("test provider: {why}"))
    }

    fn try_start(args: &[&str], patience: Duration) -> Result<Self, String> {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "tests/provider has no node_modules: run scripts/test.sh (or npm ci in tests/provider)"
        );
        // TOKENDESK_PROVIDER_LOG=1: the provider's log (each request, each error with its
        // reason) on stderr, to see why a test's request was refused.
        let verbose = std::env::var_os("TOKENDESK_PROVIDER_LOG").is_some();
        let mut command = Command::new("node");
        command.arg(dir.join("server.mjs"));
        if !verbose {
            command.arg("--quiet").stderr(Stdio::null());
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node must be installed to run the test provider");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(patience) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("not ready after {} s", patience.as_secs()));
            }
        };
        let v: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it said {line:?}: {e}"));
            }
        };
        Ok(Self {
            child,
            issuer: v["issuer"].as_str().unwrap().to_owned(),
            client_keys: serde_json::from_value(v["client_keys"].clone()).unwrap_or_default(),
            initial_access_token: v["initial_access_token"].as_str().map(str::to_owned),
            software_statement_keys: serde_json::from_value(v["software_statement_keys"].clone())
                .unwrap_or_default(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where every test's tracing output goes, to be searched for secrets.
pub fn log_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("tokendesk-test-{}.log", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("tokendesk_core=trace")
            .with_writer(Mutex::new(file))
            .with_ansi(false)
            .try_init();
        path
    })
}

/// A core on a fresh TOKENDESK_HOME with the real OS keychain.
pub struct TestCore {
    pub core: Arc<Core>,
    pub home: tempfile::TempDir,
    pub keychain: Arc<Keychain>,
}

pub fn require_secret_service() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a Secret Service in a D-Bus session: run them through scripts/test.sh"
    );
}

impl Default for TestCore {
    fn default() -> Self {
        Self::with_http(HttpOptions::default())
    }
}

impl TestCore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a profile with its client secret (if any).
    pub async fn add(&self, config: ProfileConfig, secret: Option<&str>) -> Profile {
        self.core
            .create_profile(config, secret.map(|s| Sensitive::new(s.to_owned())))
            .await
            .unwrap()
    }

    /// A client-credentials profile for the test provider's `cc-basic` client, with its secret.
    pub async fn add_cc_basic(&self, p: &Provider) -> Profile {
        self.add(
            cc_config(p, "cc-basic", AuthMethod::ClientSecretBasic),
            Some("cc-basic-secret"),
        )
        .await
    }

    /// Another core on this one's home, as another process (the command line beside the app)
    /// opens it: the same store and keychain, memory of its own.
    pub fn another_process(&self) -> Core {
        self.another_process_with(self.keychain.clone(), CoreOptions::default())
    }

    /// [`TestCore::another_process`] with its own secret store and options.
    pub fn another_process_with(
        &self,
        secrets: Arc<dyn tokendesk_core::secret::SecretStore>,
        options: CoreOptions,
    ) -> Core {
        Core::open(
            Home::at(self.home.path().to_path_buf()).unwrap(),
            secrets,
            options,
        )
        .unwrap()
    }

    pub fn with_http(http: HttpOptions) -> Self {
        require_secret_service();
        log_path();
        let home = tempfile::tempdir().unwrap();
        let h = Home::at(home.path().to_path_buf()).unwrap();
        let keychain = Arc::new(Keychain::new(h.keychain_service()));
        let core = Arc::new(
            Core::open(
                h,
                keychain.clone(),
                CoreOptions {
                    http,
                    ..Default::default()
                },
            )
            .unwrap(),
        );
        Self {
            core,
            home,
            keychain,
        }
    }
}

pub fn cc_config(p: &Provider, client: &str, method: AuthMethod) -> ProfileConfig {
    ProfileConfig {
        name: format!("{client}-{}", method.as_str()),
        environment: "test".into(),
        issuer: Some(p.issuer.clone()),
        client_id: client.into(),
        auth_method: method,
        grant: GrantKind::ClientCredentials,
        scopes: vec!["api:read".into()],
        ..Default::default()
    }
}

pub fn web_config(p: &Provider, scopes: &[&str]) -> ProfileConfig {
    ProfileConfig {
        name: "web-app".into(),
        environment: "test".into(),
        issuer: Some(p.issuer.clone()),
        client_id: "web-app".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        grant: GrantKind::AuthorizationCode,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

pub fn gateway_config(p: &Provider) -> ProfileConfig {
    ProfileConfig {
        name: "gateway".into(),
        environment: "bank".into(),
        client_id: "gw-client".into(),
        auth_method: AuthMethod::ClientSecretPost,
        grant: GrantKind::ClientCredentials,
        endpoints: tokendesk_core::profile::Endpoints {
            token: Some(p.url("/gateway/token")),
            ..Default::default()
        },
        token_params: vec![Param::new("tpp_role", "AISP")],
        headers: vec![
            Param::new("x-api-key", "gw-client"),
            Param::new("x-request-id", "req-123"),
        ],
        ..Default::default()
    }
}

/// A headless "browser": `tests/provider/login.mjs` walks the provider's login and consent
/// pages and finally requests the redirect URI (our loopback listener). What it prints (the
/// original redirect URL) is kept for the test to read.
#[derive(Clone, Default)]
pub struct HeadlessLogin {
    pub args: Vec<String>,
    pub output: Arc<Mutex<String>>,
    pub done: Arc<Mutex<Option<std::sync::mpsc::Receiver<()>>>>,
}

impl HeadlessLogin {
    pub fn with_args(args: &[&str]) -> Self {
        Self {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The redirect URL the provider sent the browser to (before any `--set`).
    pub fn redirect(&self) -> Option<String> {
        self.wait();
        let out = self.output.lock().unwrap();
        out.lines().find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["redirect"].as_str().map(str::to_owned))
        })
    }

    /// Waits for the walk to end.
    pub fn wait(&self) {
        if let Some(rx) = self.done.lock().unwrap().take() {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
    }
}

impl BrowserLauncher for HeadlessLogin {
    fn open(&self, url: &str) -> tokendesk_core::Result<()> {
        let mut cmd = Command::new("node");
        cmd.arg(provider_dir().join("login.mjs"))
            .arg(url)
            .args(&self.args);
        let output = self.output.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        *self.done.lock().unwrap() = Some(rx);
        std::thread::spawn(move || {
            let out = cmd
                .stderr(Stdio::inherit())
                .output()
                .expect("node runs login.mjs");
            output
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&out.stdout));
            let _ = tx.send(());
        });
        Ok(())
    }
}

/// Every file of a directory tree, as bytes, to search for leaked values.
pub fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A profile's exchange log, oldest first.
pub fn exchanges(core: &Core, profile: &Profile) -> Vec<tokendesk_core::http::Exchange> {
    let mut all = core.exchanges(&profile.id, 500).unwrap();
    all.sort_by_key(|e| (e.at, e.id));
    all
}

/// The profile's exchanges of one operation (`token:device_code`), oldest first.
pub fn exchanges_of(
    core: &Core,
    profile: &Profile,
    operation: &str,
) -> Vec<tokendesk_core::http::Exchange> {
    exchanges(core, profile)
        .into_iter()
        .filter(|e| e.operation == operation)
        .collect()
}
