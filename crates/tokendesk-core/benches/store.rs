//! bench/store: what one renewal's write costs the store at 10,000 profiles (issue 17), and
//! which part of the schema that cost comes from.
//!
//! A renewal ends with one transaction ([`Store::commit_attempt`]): its exchange, its token set
//! and its history event. The refresher bench measures the whole renewal; this one measures the
//! store's part alone, on the calling thread, without the HTTP request, the runtime or the
//! keychain: the least a renewal costs as long as it is recorded. It writes to the same store,
//! as shipped, and to copies with one part of the schema taken away, in turns (each round
//! measures every variant, in a rotating order), so the ratios are from the same minutes of the
//! same machine:
//!
//! - **as shipped**;
//! - **no AUTOINCREMENT**: the two logs with plain integer keys (no `sqlite_sequence` row to
//!   update per insert);
//! - **no glance index**: `tokens_glance` dropped (what `tokendesk list` reads instead of the
//!   token sets);
//! - **neither**.
//!
//! The variants are not schemas TokenDesk could use as they are: each index is there for a
//! reader (see `store/migrations.rs`). They show what each costs a renewal. The per-profile log
//! indexes are not taken away here: the logs' trims read by them, and at 10,000 profiles a
//! profile's log is trimmed every few writes (`store::Log`), so without them every few writes
//! would read the whole table (8.7 ms each; `bench/store/README.md` has the figures from before
//! the trims were that frequent). The last column is a profile's first write in a process,
//! which always trims.
//!
//! `cargo bench -p tokendesk-core --bench store`. Knobs (environment): STORE_BENCH_PROFILES
//! (10000), STORE_BENCH_WRITES (4000 per variant and round), STORE_BENCH_ROUNDS (5),
//! STORE_BENCH_HISTORY (3 earlier renewals per profile in the store before it is measured),
//! STORE_BENCH_SHIPPED_ONLY (unset; set, only the store as shipped: for a large history, which
//! the other copies would take minutes to rebuild).
//! CPU time is the measuring thread's own (`/proc/thread-self/schedstat`, nanoseconds).

use std::path::Path;
use std::time::{Duration, Instant};

use tokendesk_core::history::TokenEvent;
use tokendesk_core::http::Exchange;
use tokendesk_core::profile::{GrantKind, Profile, ProfileConfig, ProfileId};
use tokendesk_core::store::{AttemptWrites, Store};
use tokendesk_core::token::{TokenRef, TokenSet};

/// Renewals a second at 10,000 profiles of 60-s tokens renewed 30 s before expiry.
const RENEWALS_PER_SECOND: f64 = 10_000.0 / 30.0;

const VARIANTS: &[(&str, &str)] = &[
    ("as shipped", ""),
    (
        "no AUTOINCREMENT",
        "CREATE TABLE events2 (id INTEGER PRIMARY KEY,
             profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
             at INTEGER NOT NULL, data TEXT NOT NULL);
         INSERT INTO events2 SELECT * FROM refresh_events;
         DROP TABLE refresh_events;
         ALTER TABLE events2 RENAME TO refresh_events;
         CREATE INDEX refresh_events_by_profile ON refresh_events(profile_id, id);
         CREATE TABLE exchanges2 (id INTEGER PRIMARY KEY,
             profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
             at INTEGER NOT NULL, operation TEXT NOT NULL, data TEXT NOT NULL);
         INSERT INTO exchanges2 SELECT * FROM exchanges;
         DROP TABLE exchanges;
         ALTER TABLE exchanges2 RENAME TO exchanges;
         CREATE INDEX exchanges_by_profile ON exchanges(profile_id, id);",
    ),
    ("no glance index", "DROP INDEX tokens_glance;"),
    ("neither", ""),
];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns = stat.split_whitespace().next().expect("a first field");
    Duration::from_nanos(ns.parse().expect("nanoseconds"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What a client-credentials renewal writes, as the refresher writes it: the token request's
/// exchange (secrets already masked), the token set with the provider's answer, the event.
/// Built from their stored form, so only what varies is set here.
struct Renewal {
    token: TokenSet,
    exchange: Exchange,
    event: TokenEvent,
}

impl Renewal {
    fn new() -> Self {
        let token = serde_json::json!({
            "profile_id": "", "grant": "client_credentials", "token_type": "Bearer",
            "scope": "api:read", "obtained_at": 0, "access_expires_at": 60_000,
            "access": TokenRef::of("an-access-token-of-the-usual-length-0123456789"),
            "raw": {"token_type": "Bearer", "expires_in": 60, "scope": "api:read"},
        });
        let exchange = serde_json::json!({
            "profile_id": "", "operation": "token:client_credentials", "at": 0,
            "method": "POST", "url": "http://127.0.0.1:4000/token", "status": 200,
            "duration_ms": 1,
            "request_headers": [
                {"name": "content-type", "value": "application/x-www-form-urlencoded"},
                {"name": "authorization", "value": "Basic ••••••••"},
                {"name": "accept", "value": "application/json"}],
            "request_body": "grant_type=client_credentials&scope=api%3Aread",
            "response_headers": [
                {"name": "content-type", "value": "application/json; charset=utf-8"},
                {"name": "cache-control", "value": "no-store"},
                {"name": "date", "value": "Sun, 06 Dec 2026 01:00:00 GMT"}],
            "response_body":
                r#"{"access_token":"••••••••","expires_in":60,"token_type":"Bearer","scope":"api:read"}"#,
        });
        let event = serde_json::json!({
            "profile_id": "", "at": 0, "kind": "refresh", "trigger": "automatic",
            "method": "client_credentials", "outcome": "success", "duration_ms": 2,
            "rotated": false,
        });
        Self {
            token: serde_json::from_value(token).expect("a token set"),
            exchange: serde_json::from_value(exchange).expect("an exchange"),
            event: serde_json::from_value(event).expect("an event"),
        }
    }

    /// Writes the renewal of `id` at `at`.
    fn write(&self, store: &Store, id: &ProfileId, at: i64) {
        let mut token = self.token.clone();
        token.profile_id = id.clone();
        token.obtained_at = at;
        token.access_expires_at = Some(at + 60_000);
        let mut exchange = self.exchange.clone();
        exchange.profile_id = id.clone();
        exchange.at = at + 1;
        let mut event = self.event.clone();
        event.profile_id = id.clone();
        event.at = at + 2;
        event.access_expires_at = token.access_expires_at;
        store
            .commit_attempt(AttemptWrites {
                exchanges: std::slice::from_ref(&exchange),
                token: Some(&token),
                event: &mut event,
                since: at,
            })
            .expect("a renewal's write");
    }
}

/// A store of `n` profiles, each with `history` renewals written, checkpointed into one file.
fn seed(path: &Path, n: usize, history: usize, renewal: &Renewal) -> Vec<ProfileId> {
    let store = Store::open(path).expect("store");
    let ids: Vec<ProfileId> = (0..n)
        .map(|i| {
            let p = Profile {
                id: ProfileId::from(format!("bench-{i:05}").as_str()),
                config: ProfileConfig {
                    name: format!("bench-{i:05}"),
                    environment: "bench".into(),
                    client_id: "cc-basic".into(),
                    grant: GrantKind::ClientCredentials,
                    scopes: vec!["api:read".into()],
                    ..Default::default()
                },
                metadata: None,
                created_at: 0,
                updated_at: 0,
            };
            store.insert_profile(&p).expect("profile");
            p.id
        })
        .collect();
    for round in 0..history {
        for (i, id) in ids.iter().enumerate() {
            renewal.write(&store, id, (round * n + i) as i64);
        }
    }
    drop(store);
    checkpoint(path, "");
    ids
}

/// Runs `sql` on the store file and folds its WAL into it.
fn checkpoint(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("sqlite");
    conn.execute_batch(sql).expect("variant");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
}

struct Variant {
    name: &'static str,
    store: Store,
    /// CPU time of a profile's first write in the process, with the trim of its logs (µs).
    first: f64,
    /// CPU and wall time per write, one entry per round (µs): writes scattered over the
    /// profiles, and writes in profile order.
    cpu: Vec<f64>,
    wall: Vec<f64>,
    cpu_in_order: Vec<f64>,
    wall_in_order: Vec<f64>,
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("store benchmark: skipped (run `cargo bench -p tokendesk-core --bench store`)");
        return;
    }
    let n = env("STORE_BENCH_PROFILES", 10_000);
    let writes = env("STORE_BENCH_WRITES", 4_000);
    let rounds = env("STORE_BENCH_ROUNDS", 5);
    let history = env("STORE_BENCH_HISTORY", 3);
    let dir = tempfile::tempdir().expect("temporary folder");
    let seed_path = dir.path().join("seed.db");
    let started = Instant::now();
    let renewal = Renewal::new();
    let ids = seed(&seed_path, n, history, &renewal);
    eprintln!(
        "store bench: {n} profiles with {history} renewals each written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let all: String = VARIANTS[1..3].iter().map(|(_, sql)| *sql).collect();
    let shipped_only = std::env::var_os("STORE_BENCH_SHIPPED_ONLY").is_some();
    let seeded = std::fs::metadata(&seed_path).expect("store file").len();
    eprintln!(
        "store file: {:.1} MiB, {:.2} KiB per renewal written",
        seeded as f64 / (1 << 20) as f64,
        seeded as f64 / 1024.0 / (n * history.max(1)) as f64
    );
    let mut variants: Vec<Variant> = VARIANTS[..if shipped_only { 1 } else { VARIANTS.len() }]
        .iter()
        .enumerate()
        .map(|(i, (name, sql))| {
            let path = dir.path().join(format!("variant-{i}.db"));
            std::fs::copy(&seed_path, &path).expect("copy of the store");
            checkpoint(&path, if i == VARIANTS.len() - 1 { &all } else { sql });
            let store = Store::open(&path).expect("store");
            // One write per profile first: a process trims a profile's logs on its first
            // insert, then once every tenth of their caps (as in a long-running refresher).
            let cpu = thread_cpu();
            for (j, id) in ids.iter().enumerate() {
                renewal.write(&store, id, (history * n + j) as i64);
            }
            Variant {
                name,
                store,
                first: (thread_cpu() - cpu).as_secs_f64() * 1e6 / n as f64,
                cpu: Vec::new(),
                wall: Vec::new(),
                cpu_in_order: Vec::new(),
                wall_in_order: Vec::new(),
            }
        })
        .collect();
    let mut at = ((history + 1) * n) as i64;
    let (mut scattered, mut in_order) = (0usize, 0usize);
    for round in 0..rounds {
        for k in 0..variants.len() {
            let count = variants.len();
            let v = &mut variants[(round + k) % count];
            for (stride, cursor, cpu_out, wall_out) in [
                (7_919, &mut scattered, &mut v.cpu, &mut v.wall),
                (1, &mut in_order, &mut v.cpu_in_order, &mut v.wall_in_order),
            ] {
                let (cpu, wall) = (thread_cpu(), Instant::now());
                for _ in 0..writes {
                    *cursor = (*cursor + stride) % n;
                    at += 1;
                    renewal.write(&v.store, &ids[*cursor], at);
                }
                let per = |d: Duration| d.as_secs_f64() * 1e6 / writes as f64;
                cpu_out.push(per(thread_cpu() - cpu));
                wall_out.push(per(wall.elapsed()));
            }
        }
    }
    println!(
        "\nstore bench: one renewal's write (exchange + token set + event, one transaction), \
         {n} profiles, {writes} writes x {rounds} rounds per variant\n"
    );
    println!(
        "{:<20} {:>26} {:>11} {:>14} {:>27} {:>26} {:>22}",
        "variant",
        "CPU (wall) per write",
        "vs shipped",
        "one core at",
        "in profile order: CPU",
        "vs shipped",
        "first write (trims)"
    );
    println!("{:<20} {:>26} {:>11} {:>14}", "", "", "", "333 renewals/s");
    let ratio = |of: &[f64], to: &[f64]| median(of.iter().zip(to).map(|(a, b)| a / b).collect());
    let (shipped, shipped_in_order) = (variants[0].cpu.clone(), variants[0].cpu_in_order.clone());
    for v in &variants {
        // Paired per round: each round measured every variant within the same minute.
        let cpu = median(v.cpu.clone());
        println!(
            "{:<20} {:>11.1} us ({:>6.1} us) {:>10.2}x {:>12.1} % {:>24.1} us {:>25.2}x {:>19.1} us",
            v.name,
            cpu,
            median(v.wall.clone()),
            ratio(&v.cpu, &shipped),
            cpu * RENEWALS_PER_SECOND / 1e4,
            median(v.cpu_in_order.clone()),
            ratio(&v.cpu_in_order, &shipped_in_order),
            v.first
        );
    }
    println!(
        "\nscattered: each write on a profile far from the previous one, as renewals come in an \
         app whose profiles were added over time; in profile order: each on the next profile, as \
         in bench/refresher, whose first tokens are fetched in that order"
    );
}
