//! Refresher benchmark (issue 4): many client-credentials profiles with short-lived tokens
//! against the local test provider, the background refresher running for a few minutes.
//!
//! It answers two questions and prints the figures:
//! - is every token renewed before it expires (no late refresh, no token left to expire)?
//! - how much CPU does the refresher use per refresh, against the bare minimum a refresh
//!   needs (one client-credentials HTTP request with the same reqwest client settings)?
//!
//! `cargo bench -p tokendesk-core --bench refresher` (or `bench/refresher/run.sh`).
//! Knobs (environment): REFRESHER_BENCH_SECS (180), REFRESHER_BENCH_PROFILES (1000),
//! REFRESHER_BENCH_TTL (60), REFRESHER_BENCH_STAGGER_SECS (20), REFRESHER_BENCH_BASELINE_N
//! (2000), REFRESHER_BENCH_PACED_N (500), REFRESHER_BENCH_SCAN_SECS (2);
//! REFRESHER_BENCH_SLOW_PROFILES (0) and REFRESHER_BENCH_SLOW_MS (25000) make that many
//! profiles' provider slow after their first token, to see what one slow provider does to the
//! renewals of all the others (their checks then cover only the others).
//!
//! Secrets go to `MemorySecrets`, not the OS keychain, so the figures are TokenDesk's refresher
//! and not the keychain daemon. REFRESHER_BENCH_KEYCHAIN=os puts them in the OS keychain instead
//! (run it through `scripts/with-keyring.sh`, as `bench/refresher/run.sh` does): the keyring
//! daemon's CPU in the window is then shown apart. The provider runs as a separate process, so its CPU is not
//! counted in ours (it is shown apart). CPU time is user+sys of this whole process from
//! `/proc/self/stat` (clock ticks, 10 ms), read at the start and end of each measured window.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokendesk_core::clock::Millis;
use tokendesk_core::events::{CoreEvent, EventSink};
use tokendesk_core::history::{Outcome, Trigger};
use tokendesk_core::home::Home;
use tokendesk_core::profile::{
    AuthMethod, Endpoints, GrantKind, ProfileConfig, ProfileId, RefreshPolicy,
};
use tokendesk_core::secret::{Keychain, MemorySecrets, SecretStore, Sensitive};
use tokendesk_core::{CancellationToken, Core, CoreOptions, refresher};

const CLIENT_ID: &str = "cc-basic";
const CLIENT_SECRET: &str = "cc-basic-secret";
const SCOPE: &str = "api:read";
/// Initial fetches (and baseline requests) in flight at once.
const FETCH_CONCURRENCY: usize = 8;
/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second.
const USER_HZ: u64 = 100;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it.
    // Minutes of load are not a unit test: say how to run it and stop.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "refresher benchmark: skipped (run `cargo bench -p tokendesk-core --bench refresher`)"
        );
        return;
    }
    if !cfg!(target_os = "linux") {
        println!("refresher benchmark: needs Linux (/proc CPU accounting); skipped");
        return;
    }
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(bench(settings)) {
        eprintln!("refresher benchmark failed: {e}");
        std::process::exit(1);
    }
}

#[derive(Debug, Clone)]
struct Settings {
    secs: u64,
    profiles: usize,
    ttl: u64,
    stagger_secs: f64,
    baseline_n: usize,
    paced_n: usize,
    scan_secs: u64,
    idle_secs: u64,
    /// Profiles whose token endpoint is switched, after their first token, to one that answers
    /// only after `slow_ms` (the provider's /broken/slow): a hung provider among healthy ones.
    slow: usize,
    slow_ms: u64,
    /// Secrets in the OS keychain (`REFRESHER_BENCH_KEYCHAIN=os`) instead of in memory.
    os_keychain: bool,
}

impl Settings {
    fn from_env() -> Self {
        fn num<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
                Err(_) => default,
            }
        }
        Self {
            secs: num("REFRESHER_BENCH_SECS", 180),
            profiles: num("REFRESHER_BENCH_PROFILES", 1000),
            ttl: num("REFRESHER_BENCH_TTL", 60),
            stagger_secs: num("REFRESHER_BENCH_STAGGER_SECS", 20.0),
            baseline_n: num("REFRESHER_BENCH_BASELINE_N", 2000),
            paced_n: num("REFRESHER_BENCH_PACED_N", 500),
            scan_secs: num("REFRESHER_BENCH_SCAN_SECS", 2),
            idle_secs: num("REFRESHER_BENCH_IDLE_SECS", 5),
            slow: num("REFRESHER_BENCH_SLOW_PROFILES", 0),
            slow_ms: num("REFRESHER_BENCH_SLOW_MS", 25_000),
            os_keychain: match std::env::var("REFRESHER_BENCH_KEYCHAIN").as_deref() {
                Ok("os") => true,
                Ok("memory") | Err(_) => false,
                Ok(v) => panic!("REFRESHER_BENCH_KEYCHAIN={v:?}: say os or memory"),
            },
        }
    }
}

/// The gnome-keyring daemon that serves this process: the one started with our runtime
/// directory (`scripts/with-keyring.sh` gives each session its own).
fn keyring_daemon() -> Option<String> {
    let ours = std::env::var("XDG_RUNTIME_DIR").ok()?;
    let wanted = format!("XDG_RUNTIME_DIR={ours}");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().into_string().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        (comm.starts_with("gnome-keyring")
            && environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()))
        .then_some(pid)
    })
}

// ---- CPU accounting ----------------------------------------------------------------------------

/// User and system CPU time of a process so far (all its threads, live and exited).
#[derive(Debug, Clone, Copy)]
struct Cpu {
    user: Duration,
    sys: Duration,
}

impl Cpu {
    fn of(pid: &str) -> BenchResult<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name (field 2) is in parentheses and may hold spaces: split after it.
        let rest = stat
            .rsplit_once(')')
            .ok_or("unexpected /proc/<pid>/stat")?
            .1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        let ticks = |i: usize| -> BenchResult<Duration> {
            let t: u64 = fields.get(i).ok_or("short /proc/<pid>/stat")?.parse()?;
            Ok(Duration::from_micros(t * 1_000_000 / USER_HZ))
        };
        Ok(Self {
            user: ticks(11)?,
            sys: ticks(12)?,
        })
    }

    fn me() -> BenchResult<Self> {
        Self::of("self")
    }

    /// The keyring daemon's CPU so far, when it runs (an OS-keychain run).
    fn of_keyring(pid: Option<&str>) -> BenchResult<Option<Self>> {
        pid.map(Self::of).transpose()
    }

    fn total(self) -> Duration {
        self.user + self.sys
    }

    fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

// ---- the provider --------------------------------------------------------------------------------

/// The test provider (`tests/provider/server.mjs`) as a child process; it exits when its stdin
/// closes, and is killed when this is dropped.
struct Provider {
    child: Child,
    /// Kept open: the provider's stdout must stay writable for its lifetime.
    _stdout: BufReader<ChildStdout>,
    issuer: String,
}

impl Provider {
    fn start(ttl: u64) -> BenchResult<Self> {
        let dir = repo_root().join("tests/provider");
        if !dir.join("node_modules/oidc-provider").exists() {
            return Err(format!(
                "{} has no node_modules: run bench/refresher/run.sh, or npm ci --prefix tests/provider",
                dir.display()
            )
            .into());
        }
        let ttl = ttl.to_string();
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .args(["--quiet", "--cc-ttl", &ttl, "--access-ttl", &ttl])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start node (is it installed?): {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no provider stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let ready: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("the provider said {line:?} ({e})"))?;
        let issuer = ready["issuer"]
            .as_str()
            .ok_or("no issuer in the provider's ready line")?
            .to_owned();
        if !issuer.starts_with("http://127.0.0.1:") {
            return Err(format!("the provider is not on 127.0.0.1: {issuer}").into());
        }
        Ok(Self {
            child,
            _stdout: stdout,
            issuer,
        })
    }

    fn token_endpoint(&self) -> String {
        format!("{}/token", self.issuer)
    }

    fn cpu(&self) -> BenchResult<Cpu> {
        Cpu::of(&self.child.id().to_string())
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

// ---- events --------------------------------------------------------------------------------------

/// Counts what the core reports, as the app's event forwarder would see it (cheap: atomics).
#[derive(Default)]
struct Counts {
    token_changed: AtomicU64,
    history_appended: AtomicU64,
    exchanges_appended: AtomicU64,
}

impl EventSink for Counts {
    fn emit(&self, event: CoreEvent) {
        let counter = match event {
            CoreEvent::TokenChanged { .. } => &self.token_changed,
            CoreEvent::HistoryAppended { .. } => &self.history_appended,
            CoreEvent::ExchangesAppended { .. } => &self.exchanges_appended,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

// ---- the benchmark -------------------------------------------------------------------------------

async fn bench(s: Settings) -> BenchResult<()> {
    eprintln!("refresher bench: {s:?}");
    let provider = Provider::start(s.ttl)?;
    let endpoint = provider.token_endpoint();
    eprintln!("provider: {} (separate node process)", provider.issuer);
    // The pace the renewals follow: the first tokens' (they inherit it, one lifetime on).
    let pace = Duration::from_secs_f64(s.stagger_secs.max(0.0) / s.profiles.max(1) as f64);

    // 1. Baseline first, on an idle process: the bare request a refresh cannot do without,
    // 8 at a time as fast as the provider answers, then at the renewals' pace.
    let bare = BareRequest::new(&endpoint)?;
    for _ in 0..20 {
        // Connection pool and the provider's JIT warmed up, unmeasured.
        bare.clone().send().await?;
    }
    eprintln!(
        "baseline: {} bare client-credentials requests, {FETCH_CONCURRENCY} at a time",
        s.baseline_n
    );
    let b = bare.clone();
    let bare_burst = measure(&provider, s.baseline_n, Duration::ZERO, move |_| {
        b.clone().send()
    })
    .await?;
    let paced_n = s.paced_n;
    eprintln!(
        "baseline: {paced_n} bare requests, one every {:.1} ms",
        ms(pace)
    );
    let bare_paced = measure(&provider, paced_n, pace, move |_| bare.clone().send()).await?;

    // 2. Profiles in a temporary home, secrets in memory (or in the OS keychain).
    let home_dir = tempfile::tempdir()?;
    let counts = Arc::new(Counts::default());
    let home = Home::at(home_dir.path().to_path_buf())?;
    let secrets: Arc<dyn SecretStore> = if s.os_keychain {
        Arc::new(Keychain::new(home.keychain_service()))
    } else {
        Arc::new(MemorySecrets::default())
    };
    let keyring = s.os_keychain.then(keyring_daemon).flatten();
    if s.os_keychain && keyring.is_none() {
        return Err(
            "REFRESHER_BENCH_KEYCHAIN=os: no gnome-keyring daemon of this session \
                    (run through scripts/with-keyring.sh)"
                .into(),
        );
    }
    let core = Arc::new(Core::open(
        home,
        secrets,
        CoreOptions {
            events: counts.clone(),
            ..Default::default()
        },
    )?);
    eprintln!("creating {} profiles", s.profiles);
    let mut ids = Vec::with_capacity(s.profiles);
    for i in 0..s.profiles {
        let config = ProfileConfig {
            name: format!("bench-{i:05}"),
            environment: "bench".into(),
            // The token endpoint set by hand: no discovery request per profile.
            endpoints: Endpoints {
                token: Some(endpoint.clone()),
                ..Default::default()
            },
            client_id: CLIENT_ID.into(),
            auth_method: AuthMethod::ClientSecretBasic,
            grant: GrantKind::ClientCredentials,
            scopes: vec![SCOPE.into()],
            refresh: RefreshPolicy::default(),
            ..Default::default()
        };
        let profile = core
            .create_profile(config, Some(Sensitive::new(CLIENT_SECRET.to_owned())))
            .await?;
        ids.push(profile.id);
    }

    // The same process idle, with every profile in place: the floor of the window.
    let idle_start = (Cpu::me()?, provider.cpu()?, Instant::now());
    tokio::time::sleep(Duration::from_secs(s.idle_secs)).await;
    let idle = Measured {
        n: 0,
        wall: idle_start.2.elapsed(),
        cpu: Cpu::me()?.since(idle_start.0),
        provider_cpu: provider.cpu()?.since(idle_start.1),
    };

    // 3. First tokens, started at an even pace over the stagger period (8 in flight at most),
    // so that expiries — and so renewals — spread out instead of coming all at once.
    eprintln!("fetching first tokens over {:.0} s", s.stagger_secs);
    let initial = fetch_staggered(&core, &ids, pace).await?;
    // A slow provider among the healthy ones, if asked for: spread over the stagger period.
    let slow_ids: Vec<ProfileId> = (0..s.slow.min(ids.len()))
        .map(|j| ids[j * ids.len() / s.slow.max(1)].clone())
        .collect();
    for id in &slow_ids {
        let mut config = core.profile(id.as_str())?.config;
        config.endpoints.token = Some(format!("{}/broken/slow?ms={}", provider.issuer, s.slow_ms));
        core.update_profile(id, config).await?;
    }
    let healthy: Vec<ProfileId> = ids
        .iter()
        .filter(|id| !slow_ids.contains(id))
        .cloned()
        .collect();
    let fetch_end = core.now();
    let first_due = initial.values().map(|t| t.due).min().unwrap_or(fetch_end);
    let already_due = initial.values().filter(|t| t.due <= fetch_end).count();

    // 4. The refresher alone, for the measured window.
    eprintln!("refresher: running {} s", s.secs);
    let stop = CancellationToken::new();
    let load_start = load_average();
    let cpu_start = Cpu::me()?;
    let provider_cpu_start = provider.cpu()?;
    let keyring_start = Cpu::of_keyring(keyring.as_deref())?;
    let window_start = core.now();
    let clock_start = Instant::now();
    let task = tokio::spawn(refresher::run(core.clone(), stop.clone()));
    let deadline = clock_start + Duration::from_secs(s.secs);
    while Instant::now() < deadline {
        let step = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(30));
        tokio::time::sleep(step).await;
        eprintln!(
            "  {:>4} s: {} refreshes so far",
            clock_start.elapsed().as_secs(),
            counts.history_appended.load(Ordering::Relaxed)
        );
    }
    stop.cancel();
    // The refresher returns at its next wait; renewals in flight finish first.
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .map_err(|_| "the refresher did not stop within 60 s of being cancelled")??;
    let window = Measured {
        n: 0,
        wall: clock_start.elapsed(),
        cpu: Cpu::me()?.since(cpu_start),
        provider_cpu: provider.cpu()?.since(provider_cpu_start),
    };
    let keyring_cpu = Cpu::of_keyring(keyring.as_deref())?
        .zip(keyring_start)
        .map(|(end, start)| end.since(start));
    let window_end = core.now();
    let load = format!("{load_start} at the start, {} at the end", load_average());

    // 5. Every profile's history.
    let history = check_history(&core, &healthy, &initial, window_start, window_end)?;
    let expected = expected_refreshes(&healthy, &initial, window_end, s.ttl);
    let mut slow = SlowReport::default();
    for id in &slow_ids {
        for e in core.history(id, 100_000)? {
            match e.outcome {
                Outcome::Success => slow.refreshes += 1,
                Outcome::Failure => {
                    slow.failures += 1;
                    slow.last_error = e.error_message;
                }
            }
        }
    }
    let window = Measured {
        n: history.refreshes + slow.refreshes,
        ..window
    };
    let store_bytes = dir_bytes(home_dir.path());

    // 6. The refresher's two parts, apart, now that it is stopped: what one look at the store
    // costs with this many profiles (it reads every profile and token on each wake-up), and
    // what renewing one token costs by itself (`Core::refresh`, the same code the refresher's
    // `renew_if_due` runs), at the renewals' pace.
    let scan = scan_cost(&core, &provider, Duration::from_secs(s.scan_secs))?;
    eprintln!(
        "renewals alone: {paced_n} Core::refresh calls, one every {:.1} ms",
        ms(pace)
    );
    let (c, all) = (core.clone(), Arc::new(healthy.clone()));
    let renew = measure(&provider, paced_n, pace, move |i| {
        let (core, id) = (c.clone(), all[i % all.len()].clone());
        async move {
            core.refresh(&id, Trigger::Manual)
                .await
                .map(drop)
                .map_err(|e| format!("refresh of {id}: {e}"))
        }
    })
    .await?;

    print_report(&Report {
        s: &s,
        window,
        bare_burst,
        bare_paced,
        idle,
        renew,
        scan,
        window_start,
        first_due,
        already_due,
        history,
        expected,
        load,
        slow,
        store_bytes,
        events: &counts,
        keyring_cpu,
    });
    drop(provider);
    Ok(())
}

/// CPU and wall time of `n` operations, this process's and the provider's.
#[derive(Debug, Clone, Copy)]
struct Measured {
    n: usize,
    cpu: Cpu,
    wall: Duration,
    provider_cpu: Cpu,
}

impl Measured {
    fn cpu_ms_each(&self) -> f64 {
        ms(self.cpu.total()) / self.n.max(1) as f64
    }
    fn provider_ms_each(&self) -> f64 {
        ms(self.provider_cpu.total()) / self.n.max(1) as f64
    }
    fn per_second(&self) -> f64 {
        self.n as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }
}

/// Runs `op(0..n)` as tasks, one started every `every` (all at once for zero), at most
/// `FETCH_CONCURRENCY` in flight, and measures the lot. The pacing loop itself runs as a task
/// on the runtime's workers, as the refresher does, not on the thread that blocks on `main`.
async fn measure<F, Fut>(
    provider: &Provider,
    n: usize,
    every: Duration,
    op: F,
) -> BenchResult<Measured>
where
    F: Fn(usize) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let cpu_start = Cpu::me()?;
    let provider_start = provider.cpu()?;
    let started = Instant::now();
    let driver = tokio::spawn(async move {
        let limit = Arc::new(tokio::sync::Semaphore::new(FETCH_CONCURRENCY));
        let mut running = tokio::task::JoinSet::new();
        let start = tokio::time::Instant::now();
        for i in 0..n {
            if !every.is_zero() {
                tokio::time::sleep_until(start + every * i as u32).await;
            }
            let permit = limit
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| e.to_string())?;
            let job = op(i);
            running.spawn(async move {
                let _permit = permit;
                job.await
            });
        }
        while let Some(done) = running.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        Ok::<(), String>(())
    });
    driver.await??;
    Ok(Measured {
        n,
        wall: started.elapsed(),
        cpu: Cpu::me()?.since(cpu_start),
        provider_cpu: provider.cpu()?.since(provider_start),
    })
}

/// A plain client-credentials POST (Basic auth, form body) with the same reqwest client
/// settings as TokenDesk's `Http`; the answer is read and parsed as JSON, as any client must.
#[derive(Clone)]
struct BareRequest {
    client: reqwest::Client,
    endpoint: Arc<str>,
}

impl BareRequest {
    fn new(endpoint: &str) -> BenchResult<Self> {
        tokendesk_core::http::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("TokenDesk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            endpoint: endpoint.into(),
        })
    }

    async fn send(self) -> Result<(), String> {
        let response = self
            .client
            .post(&*self.endpoint)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("grant_type", "client_credentials"), ("scope", SCOPE)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if !status.is_success() || json["access_token"].as_str().is_none() {
            return Err(format!("bare request failed: HTTP {status}: {json}"));
        }
        Ok(())
    }
}

/// Reads every profile and every token, as the refresher does on each wake-up, again and
/// again for `span` (at least 20 times, at most 100,000).
fn scan_cost(core: &Core, provider: &Provider, span: Duration) -> BenchResult<Measured> {
    let cpu_start = Cpu::me()?;
    let provider_start = provider.cpu()?;
    let started = Instant::now();
    let mut n = 0;
    while n < 20 || (started.elapsed() < span && n < 100_000) {
        std::hint::black_box(core.list_profiles()?);
        std::hint::black_box(core.tokens()?);
        n += 1;
    }
    Ok(Measured {
        n,
        wall: started.elapsed(),
        cpu: Cpu::me()?.since(cpu_start),
        provider_cpu: provider.cpu()?.since(provider_start),
    })
}

/// The 1-minute load average: how busy the machine was (other builds skew CPU figures).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// A first token as fetched.
#[derive(Debug, Clone, Copy)]
struct Initial {
    expires: Millis,
    /// When the refresher's policy makes it due.
    due: Millis,
}

async fn fetch_staggered(
    core: &Arc<Core>,
    ids: &[ProfileId],
    step: Duration,
) -> BenchResult<HashMap<ProfileId, Initial>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(FETCH_CONCURRENCY));
    let start = tokio::time::Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        tokio::time::sleep_until(start + step * i as u32).await;
        let permit = limit.clone().acquire_owned().await?;
        let (core, id) = (core.clone(), id.clone());
        running.spawn(async move {
            let _permit = permit;
            let token = core
                .fetch_token(&id)
                .await
                .map_err(|e| format!("first token of {id}: {e}"))?;
            let expires = token
                .access_expires_at
                .ok_or_else(|| format!("first token of {id} has no expiry"))?;
            let due = refresher::due_at(&token, &RefreshPolicy::default())
                .ok_or_else(|| format!("first token of {id} is not due ever"))?;
            Ok::<_, String>((id, Initial { expires, due }))
        });
    }
    let mut initial = HashMap::with_capacity(ids.len());
    while let Some(done) = running.join_next().await {
        let (id, t) = done??;
        initial.insert(id, t);
    }
    Ok(initial)
}

/// What became of the slow profiles' renewals.
#[derive(Default)]
struct SlowReport {
    refreshes: usize,
    failures: usize,
    last_error: Option<String>,
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[derive(Default)]
struct HistoryReport {
    refreshes: usize,
    per_profile: Vec<usize>,
    late: usize,
    /// Profiles whose last token expired before the window ended (renewals stopped).
    lapsed: usize,
    failures: usize,
    other_triggers: usize,
    /// How long before the old token's expiry each refresh landed (ms).
    lags: Vec<Millis>,
    /// How long after its due time each refresh landed (ms).
    delays: Vec<Millis>,
    /// Request-to-stored time of each refresh, as the history records it (ms).
    durations: Vec<Millis>,
    /// Refreshes per second of the window, to see bursts.
    per_second: Vec<usize>,
    /// Minimum remaining validity of any token at the end of the window (ms).
    min_left_at_end: Millis,
}

fn check_history(
    core: &Core,
    ids: &[ProfileId],
    initial: &HashMap<ProfileId, Initial>,
    window_start: Millis,
    window_end: Millis,
) -> BenchResult<HistoryReport> {
    let seconds = ((window_end - window_start) / 1000 + 1).max(1) as usize;
    let mut r = HistoryReport {
        per_second: vec![0; seconds],
        min_left_at_end: Millis::MAX,
        ..Default::default()
    };
    for id in ids {
        let first = initial[id];
        let mut events = core.history(id, 100_000)?;
        events.sort_by_key(|e| (e.at, e.id));
        let (mut expires, mut due) = (first.expires, first.due);
        let mut count = 0;
        for e in events {
            if e.trigger != Trigger::Automatic {
                r.other_triggers += 1;
                continue;
            }
            if e.outcome == Outcome::Failure {
                r.failures += 1;
                continue;
            }
            count += 1;
            let lag = expires - e.at;
            if lag <= 0 {
                r.late += 1;
            }
            r.lags.push(lag);
            r.delays.push(e.at - due);
            r.durations.push(e.duration_ms as Millis);
            let second = ((e.at - window_start).max(0) / 1000) as usize;
            if let Some(b) = r.per_second.get_mut(second) {
                *b += 1;
            }
            let new_expiry = e
                .access_expires_at
                .ok_or_else(|| format!("a refresh of {id} stored no expiry"))?;
            // Every token has the same lifetime, so the same lead before expiry as the first
            // one (which `refresher::due_at` computed from the stored token).
            due = new_expiry - (first.expires - first.due);
            expires = new_expiry;
        }
        if expires <= window_end {
            r.lapsed += 1;
        }
        r.min_left_at_end = r.min_left_at_end.min(expires - window_end);
        r.refreshes += count;
        r.per_profile.push(count);
    }
    Ok(r)
}

/// How many renewals a perfect refresher makes in the window: one per lifetime-minus-lead
/// after each first token's due time.
fn expected_refreshes(
    ids: &[ProfileId],
    initial: &HashMap<ProfileId, Initial>,
    window_end: Millis,
    ttl: u64,
) -> usize {
    let ttl = ttl as Millis * 1000;
    let lead = (ttl / 5).max(30_000).min(ttl / 2);
    let period = (ttl - lead).max(1);
    ids.iter()
        .map(|id| &initial[id])
        .map(|t| {
            if t.due > window_end {
                0
            } else {
                ((window_end - t.due) / period + 1) as usize
            }
        })
        .sum()
}

// ---- the report ------------------------------------------------------------------------------------

struct Report<'a> {
    s: &'a Settings,
    /// The refresher window; `n` is the refreshes it made.
    window: Measured,
    bare_burst: Measured,
    bare_paced: Measured,
    /// This process idle for a few seconds, the profiles created: the floor.
    idle: Measured,
    renew: Measured,
    scan: Measured,
    window_start: Millis,
    first_due: Millis,
    already_due: usize,
    history: HistoryReport,
    expected: usize,
    /// The machine's load average around the refresher window.
    load: String,
    slow: SlowReport,
    /// The TokenDesk home on disk after the run (SQLite and its WAL).
    store_bytes: u64,
    events: &'a Counts,
    /// The keyring daemon's CPU in the refresher window (OS-keychain runs).
    keyring_cpu: Option<Cpu>,
}

fn percentile<T: Copy + Ord>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[i.min(sorted.len() - 1)])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn secs(ms: Option<Millis>) -> String {
    ms.map_or("-".into(), |m| format!("{:.2} s", m as f64 / 1000.0))
}

fn print_report(r: &Report<'_>) {
    let h = &r.history;
    let sorted = |v: &[Millis]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v
    };
    let (lags, delays, durations) = (sorted(&h.lags), sorted(&h.delays), sorted(&h.durations));
    let mut per_profile = h.per_profile.clone();
    per_profile.sort_unstable();
    let active: Vec<usize> = {
        let first = ((r.first_due - r.window_start).max(0) / 1000) as usize;
        let mut v: Vec<usize> = h.per_second.iter().skip(first).copied().collect();
        v.sort_unstable();
        v
    };
    let four = |v: &[Millis]| {
        format!(
            "{} / {} / {} / {}",
            secs(v.first().copied()),
            secs(percentile(v, 50.0)),
            secs(percentile(v, 95.0)),
            secs(v.last().copied())
        )
    };
    let row = |label: &str, value: String| println!("  {label:<50} {value}");

    let w = &r.window;
    let per_refresh = w.cpu_ms_each();
    let scan = r.scan.cpu_ms_each();
    let renew = r.renew.cpu_ms_each();
    let verdict = if h.late == 0 && h.lapsed == 0 && h.failures == 0 && h.refreshes > 0 {
        "PASS: every token was renewed before it expired"
    } else {
        "FAIL: see late / lapsed / failed above"
    };

    println!();
    println!("TokenDesk refresher benchmark");
    println!(
        "  {} client-credentials profiles, {} s tokens, first tokens fetched at an even pace \
         over {:.0} s (8 in flight at most); refresher window {:.1} s",
        r.s.profiles,
        r.s.ttl,
        r.s.stagger_secs,
        w.wall.as_secs_f64()
    );
    println!(
        "  secrets: {}; store: SQLite in a temp TOKENDESK home; no tracing subscriber",
        if r.s.os_keychain {
            "the OS keychain (gnome-keyring in a private D-Bus session)"
        } else {
            "in-memory MemorySecrets (not the OS keychain)"
        }
    );
    println!(
        "  provider: tests/provider/server.mjs (oidc-provider on node, a separate process), \
         client {CLIENT_ID} (client_secret_basic), scope {SCOPE}, token endpoint set by hand \
         (no discovery)"
    );
    println!(
        "  machine: {} cores, 1-min load average {} of the window",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        r.load
    );
    println!();
    println!(" Renewed in time?");
    row("refreshes (automatic, successful)", h.refreshes.to_string());
    row(
        "expected from a refresher exactly on time",
        r.expected.to_string(),
    );
    row(
        "refreshes per profile (min / median / max)",
        format!(
            "{} / {} / {}",
            per_profile.first().copied().unwrap_or(0),
            percentile(&per_profile, 50.0).unwrap_or(0),
            per_profile.last().copied().unwrap_or(0)
        ),
    );
    if r.s.slow > 0 {
        row(
            "slow profiles (provider answers after)",
            format!(
                "{} ({} ms; request timeout 30 s): {} refreshes, {} failed{}",
                r.s.slow,
                r.s.slow_ms,
                r.slow.refreshes,
                r.slow.failures,
                r.slow
                    .last_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        );
        println!(
            "  (the figures below are the {} other profiles')",
            r.s.profiles - r.s.slow
        );
    }
    row("late refreshes (at or after expiry)", h.late.to_string());
    row("tokens left to expire in the window", h.lapsed.to_string());
    row("failed refreshes", h.failures.to_string());
    row(
        "tokens already due when the refresher began",
        r.already_due.to_string(),
    );
    if h.other_triggers > 0 {
        row("non-automatic history events", h.other_triggers.to_string());
    }
    row("lead before expiry (min / median / p95 / max)", four(&lags));
    row(
        "delay after due time (min / median / p95 / max)",
        four(&delays),
    );
    row(
        "refresh duration (median / p95 / max)",
        format!(
            "{} / {} / {} ms",
            percentile(&durations, 50.0).unwrap_or(0),
            percentile(&durations, 95.0).unwrap_or(0),
            durations.last().copied().unwrap_or(0)
        ),
    );
    row(
        "refreshes per second (median / p95 / max)",
        format!(
            "{} / {} / {}",
            percentile(&active, 50.0).unwrap_or(0),
            percentile(&active, 95.0).unwrap_or(0),
            active.last().copied().unwrap_or(0)
        ),
    );
    row(
        "least validity left on any token at the end",
        secs(Some(h.min_left_at_end)),
    );
    println!();
    println!(" CPU (user+sys of the whole bench process; the provider apart)");
    row(
        "in the refresher window",
        format!(
            "{:.0} ms (user {:.0} + sys {:.0}), {:.1} % of one core",
            ms(w.cpu.total()),
            ms(w.cpu.user),
            ms(w.cpu.sys),
            100.0 * w.cpu.total().as_secs_f64() / w.wall.as_secs_f64()
        ),
    );
    let rate = w.n as f64 / w.wall.as_secs_f64().max(f64::EPSILON);
    row(
        "bare requests at the same rate (baseline)",
        format!(
            "{:.1} % of one core ({rate:.0} req/s × {:.3} ms, paced)",
            rate * r.bare_paced.cpu_ms_each() / 10.0,
            r.bare_paced.cpu_ms_each()
        ),
    );
    row(
        "the idle process (baseline)",
        format!(
            "{:.2} % of one core ({:.0} ms in {:.0} s, nothing running)",
            100.0 * r.idle.cpu.total().as_secs_f64() / r.idle.wall.as_secs_f64(),
            ms(r.idle.cpu.total()),
            r.idle.wall.as_secs_f64()
        ),
    );
    row("per refresh", format!("{per_refresh:.3} ms"));
    row(
        "bare request, 8 in flight (baseline)",
        format!(
            "{:.3} ms ({} requests, {:.0} req/s)",
            r.bare_burst.cpu_ms_each(),
            r.bare_burst.n,
            r.bare_burst.per_second()
        ),
    );
    row(
        "bare request, at the renewals' pace",
        format!(
            "{:.3} ms ({} requests, {:.0} req/s)",
            r.bare_paced.cpu_ms_each(),
            r.bare_paced.n,
            r.bare_paced.per_second()
        ),
    );
    row(
        "per refresh / bare request (8 in flight)",
        format!(
            "{:.1} x",
            per_refresh / r.bare_burst.cpu_ms_each().max(1e-9)
        ),
    );
    row(
        "per refresh / bare request (paced)",
        format!(
            "{:.1} x",
            per_refresh / r.bare_paced.cpu_ms_each().max(1e-9)
        ),
    );
    println!();
    println!(" Where the refresher's CPU goes (measured apart after the window)");
    row(
        "one renewal alone (Core::refresh, paced)",
        format!(
            "{renew:.3} ms ({} calls, {:.1} x a paced bare request)",
            r.renew.n,
            renew / r.bare_paced.cpu_ms_each().max(1e-9)
        ),
    );
    row(
        "one store scan (list_profiles + tokens)",
        format!(
            "{scan:.3} ms ({} scans of {} profiles + tokens, {:.2} ms wall each)",
            r.scan.n,
            r.s.profiles,
            ms(r.scan.wall) / r.scan.n.max(1) as f64
        ),
    );
    row(
        "per refresh beyond the renewal itself",
        format!(
            "{:.3} ms (= {:.1} store scans per refresh)",
            per_refresh - renew,
            (per_refresh - renew) / scan.max(1e-9)
        ),
    );
    println!();
    println!(" Provider (node, single-threaded; not in the figures above)");
    row(
        "CPU per token in the refresher window",
        format!(
            "{:.3} ms ({:.1} % of one core)",
            ms(w.provider_cpu.total()) / h.refreshes.max(1) as f64,
            100.0 * w.provider_cpu.total().as_secs_f64() / w.wall.as_secs_f64()
        ),
    );
    row(
        "CPU per token, 8 in flight",
        format!(
            "{:.3} ms (it answered {:.0} req/s)",
            r.bare_burst.provider_ms_each(),
            r.bare_burst.per_second()
        ),
    );
    if let Some(k) = r.keyring_cpu {
        println!();
        println!(" Keychain daemon (gnome-keyring, a separate process; not in the figures above)");
        row(
            "CPU per refresh in the refresher window",
            format!(
                "{:.3} ms ({:.1} % of one core; user {:.0} + sys {:.0} ms)",
                ms(k.total()) / h.refreshes.max(1) as f64,
                100.0 * k.total().as_secs_f64() / w.wall.as_secs_f64(),
                ms(k.user),
                ms(k.sys)
            ),
        );
    }
    println!();
    row(
        "core events emitted (whole run)",
        format!(
            "token changed {}, history appended {}, exchanges appended {}",
            r.events.token_changed.load(Ordering::Relaxed),
            r.events.history_appended.load(Ordering::Relaxed),
            r.events.exchanges_appended.load(Ordering::Relaxed)
        ),
    );
    row(
        "TokenDesk home on disk after the run",
        format!(
            "{:.1} MiB ({:.1} KiB per token obtained)",
            r.store_bytes as f64 / (1024.0 * 1024.0),
            r.store_bytes as f64
                / 1024.0
                / r.events.token_changed.load(Ordering::Relaxed).max(1) as f64
        ),
    );
    if let Some(rss) = peak_rss_mib() {
        row("peak RSS of the bench process", format!("{rss:.0} MiB"));
    }
    println!();
    println!(" {verdict}");
}
