//! bench/keychain: what one kept Secret Service session saves per keychain call, and what a
//! keychain call costs when the keyring holds many entries.
//!
//! Against the real Secret Service of the D-Bus session it runs in (`bench/keychain/run.sh` puts
//! it in a private one with gnome-keyring), one run measures, for writes and for reads of a token
//! value:
//! - **kept**: one `Keychain` for all calls — what the app, the agent and the refresher do;
//! - **per call**: a new `Keychain` (so a new D-Bus connection and DH session) for every call —
//!   what the `keyring` crate did before, and still what a one-shot `tokendesk-cli` process pays.
//!
//! Prints the median and p95 wall time per call and the ratio per-call / kept.
//!
//! With `KEYCHAIN_BENCH_SIZES=0,1000,10000` (run.sh `--sizes`) it then fills the keyring, in
//! increasing steps, with entries of client-credentials profiles (a client secret and an access
//! token each, written through `Keychain` as the app writes them) and measures kept-session
//! writes and reads at each size; at the largest size it then tries a sustained, paced rate of
//! access-token writes (`KEYCHAIN_BENCH_RATE`/s for `KEYCHAIN_BENCH_SECONDS`, from one kept
//! `Keychain` shared by `KEYCHAIN_BENCH_CONCURRENCY` callers, as the refresher's renewals share
//! the app's) and reports the rate achieved, the latencies and the CPU of gnome-keyring-daemon
//! and of this process.

#[cfg(target_os = "linux")]
mod linux {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use tokendesk_core::profile::ProfileId;
    use tokendesk_core::secret::{Keychain, SecretKind, SecretStore, Sensitive};

    /// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second.
    const USER_HZ: u64 = 100;
    /// Keychains (each its own D-Bus connection and session) filling the keyring at once.
    const FILL_THREADS: usize = 2;
    /// Length of a filled access token: a typical signed JWT access token is ~1 KB.
    const ACCESS_TOKEN_LEN: usize = 1_000;

    fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn median(v: &[f64]) -> f64 {
        v[v.len() / 2]
    }
    fn p95(v: &[f64]) -> f64 {
        v[(v.len() * 95).div_ceil(100) - 1]
    }
    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    /// Each case: `n` timed calls after a few untimed ones; milliseconds per call, sorted.
    fn measure(n: usize, f: &dyn Fn(usize)) -> Vec<f64> {
        (0..5).for_each(f);
        sorted(
            (0..n)
                .map(|i| {
                    let t = Instant::now();
                    f(i);
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect(),
        )
    }

    pub fn main() {
        let n: usize = env("KEYCHAIN_BENCH_N", 200);
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            eprintln!("bench: no D-Bus session; run bench/keychain/run.sh");
            std::process::exit(1);
        }
        let service = format!("tokendesk-bench-keychain-{}", std::process::id());
        sessions(&service, n);
        let sizes: Vec<usize> = std::env::var("KEYCHAIN_BENCH_SIZES")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("KEYCHAIN_BENCH_SIZES: numbers, e.g. 0,1000")
            })
            .collect();
        if !sizes.is_empty() {
            by_size(&service, n, sizes);
        }
    }

    /// Kept session vs a new session per call, on a keyring holding only the measured entry.
    fn sessions(service: &str, n: usize) {
        let id = ProfileId::random();
        let value =
            |i: usize| Sensitive::new(format!("eyJhbGciOiJSUzI1NiJ9.bench-token-{i:06}.sig"));
        let kept = Keychain::new(service);
        kept.set(&id, SecretKind::AccessToken, &value(0)).unwrap(); // the entry exists from here on

        let set_kept = measure(n, &|i| {
            kept.set(&id, SecretKind::AccessToken, &value(i)).unwrap()
        });
        let set_fresh = measure(n, &|i| {
            Keychain::new(service)
                .set(&id, SecretKind::AccessToken, &value(i))
                .unwrap()
        });
        let get_kept = measure(n, &|_| {
            kept.get(&id, SecretKind::AccessToken).unwrap().unwrap();
        });
        let get_fresh = measure(n, &|_| {
            Keychain::new(service)
                .get(&id, SecretKind::AccessToken)
                .unwrap()
                .unwrap();
        });
        kept.delete(&id, SecretKind::AccessToken).unwrap();

        println!("keychain calls against the Secret Service ({n} timed calls each, ms per call)");
        println!("{:<28} {:>8} {:>8}", "case", "median", "p95");
        for (name, v) in [
            ("write, kept session", &set_kept),
            ("write, new session per call", &set_fresh),
            ("read, kept session", &get_kept),
            ("read, new session per call", &get_fresh),
        ] {
            println!("{name:<28} {:>8.3} {:>8.3}", median(v), p95(v));
        }
        println!(
            "new session per call / kept session (medians): write {:.1}x, read {:.1}x",
            median(&set_fresh) / median(&set_kept),
            median(&get_fresh) / median(&get_kept)
        );
        println!(
            "sessions opened by the kept keychain: {} (1 = it was kept throughout)",
            kept.sessions_opened()
        );
    }

    /// An access token of [`ACCESS_TOKEN_LEN`] characters, different for each `i`.
    fn access_token(i: usize) -> Sensitive<String> {
        let head = format!("eyJhbGciOiJSUzI1NiJ9.bench-token-{i:09}.");
        Sensitive::new(format!("{head:x<ACCESS_TOKEN_LEN$}"))
    }

    /// The keyring grows by whole client-credentials profiles: two entries each.
    const ENTRIES_PER_PROFILE: usize = 2;

    /// Kept-session writes and reads at each keyring size, then a sustained rate at the largest.
    fn by_size(service: &str, n: usize, mut sizes: Vec<usize>) {
        sizes.sort_unstable();
        sizes.dedup();
        let daemon = Daemon::find();
        let kept = Keychain::new(service);
        let mut profiles: Vec<ProfileId> = Vec::new();
        // The measured access-token entries exist before any size is measured (so the size-0
        // row writes an existing entry like the others); they count as the first profiles.
        println!();
        println!(
            "by keyring size: entries of client-credentials profiles (client secret + \
             {ACCESS_TOKEN_LEN}-char access token), kept session, {n} timed calls each, ms per call"
        );
        println!(
            "{:>8} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>10}",
            "entries",
            "fill s",
            "fill /s",
            "daemon s",
            "write md",
            "write p95",
            "read md",
            "read p95",
            "file KB"
        );
        let fill_until = Instant::now()
            + Duration::from_secs_f64(env("KEYCHAIN_BENCH_FILL_SECONDS", f64::INFINITY).min(1e9));
        let failed = AtomicUsize::new(0);
        let check = |r: tokendesk_core::Result<()>| {
            if r.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        };
        for size in sizes {
            let want = size.div_ceil(ENTRIES_PER_PROFILE).max(1);
            let fill_started = Instant::now();
            let daemon_before = daemon.as_ref().map(Daemon::cpu);
            let (added, fill_failed) = fill(service, &mut profiles, want, fill_until);
            let fill_s = fill_started.elapsed().as_secs_f64();
            let daemon_s = daemon
                .as_ref()
                .zip(daemon_before)
                .map(|(d, before)| d.cpu() - before);
            let entries = profiles.len() * ENTRIES_PER_PROFILE;
            let count = profiles.len();
            failed.store(0, Ordering::Relaxed);
            let set = measure(n, &|i| {
                check(kept.set(
                    &profiles[i % count],
                    SecretKind::AccessToken,
                    &access_token(i),
                ))
            });
            let get = measure(n, &|i| {
                check(
                    kept.get(&profiles[i % count], SecretKind::AccessToken)
                        .map(drop),
                )
            });
            let call_failed = failed.load(Ordering::Relaxed);
            println!(
                "{entries:>8} {fill_s:>9.1} {:>10.0} {:>10} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10}",
                added as f64 / fill_s.max(1e-9),
                daemon_s.map_or("?".into(), |d| format!("{:.1}", d.as_secs_f64())),
                median(&set),
                p95(&set),
                median(&get),
                p95(&get),
                keyring_bytes().map_or("?".into(), |b| format!("{:.0}", b as f64 / 1024.0)),
            );
            if fill_failed + call_failed > 0 || entries < size {
                println!(
                    "         (asked {size}; failed calls: {fill_failed} profiles while filling, \
                     {call_failed} timed calls; the fill stops at KEYCHAIN_BENCH_FILL_SECONDS)"
                );
            }
        }
        let rate: f64 = env("KEYCHAIN_BENCH_RATE", 333.0);
        let seconds: f64 = env("KEYCHAIN_BENCH_SECONDS", 20.0);
        let callers: usize = env("KEYCHAIN_BENCH_CONCURRENCY", 8);
        if rate > 0.0 && seconds > 0.0 {
            sustained(
                &kept,
                &profiles,
                daemon.as_ref(),
                rate,
                Duration::from_secs_f64(seconds),
                callers,
            );
        }
        for id in &profiles {
            // Deleting 10,000s of entries one by one costs as much as writing them; the keyring
            // of run.sh is a private one that goes with its session, so only a shared keyring
            // (KEYCHAIN_BENCH_CLEANUP=1) is emptied.
            if std::env::var_os("KEYCHAIN_BENCH_CLEANUP").is_none() {
                break;
            }
            for kind in [SecretKind::ClientSecret, SecretKind::AccessToken] {
                kept.delete(id, kind).unwrap();
            }
        }
    }

    /// Adds profiles until there are `want` or `until` has passed, from [`FILL_THREADS`] keychains
    /// at once; returns how many entries were added and how many calls failed (a failed profile
    /// is left out).
    fn fill(
        service: &str,
        profiles: &mut Vec<ProfileId>,
        want: usize,
        until: Instant,
    ) -> (usize, usize) {
        let new: Vec<ProfileId> = (profiles.len()..want)
            .map(|_| ProfileId::random())
            .collect();
        let next = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let written: Vec<Vec<ProfileId>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..FILL_THREADS)
                .map(|_| {
                    s.spawn(|| {
                        let keychain = Keychain::new(service);
                        let secret = Sensitive::new("cc-bench-client-secret-0123456789".to_owned());
                        let mut written = Vec::new();
                        while Instant::now() < until {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(id) = new.get(i) else { break };
                            let ok = keychain.set(id, SecretKind::ClientSecret, &secret).is_ok()
                                && keychain
                                    .set(id, SecretKind::AccessToken, &access_token(i))
                                    .is_ok();
                            if ok {
                                written.push(id.clone());
                            } else {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        written
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let written: Vec<ProfileId> = written.into_iter().flatten().collect();
        let added = written.len() * ENTRIES_PER_PROFILE;
        profiles.extend(written);
        (added, failed.into_inner())
    }

    /// `rate` access-token writes a second for `window`, each at its scheduled time, from
    /// `callers` threads sharing one kept `Keychain`; a caller that falls behind starts the next
    /// due write at once, and none starts after the window.
    fn sustained(
        kept: &Keychain,
        profiles: &[ProfileId],
        daemon: Option<&Daemon>,
        rate: f64,
        window: Duration,
        callers: usize,
    ) {
        let planned = (rate * window.as_secs_f64()).round() as usize;
        let next = AtomicUsize::new(0);
        let load_before = loadavg();
        let me_before = cpu_of("self");
        let daemon_before = daemon.map(Daemon::cpu);
        let started = Instant::now();
        let end = started + window;
        let per_caller: Vec<Vec<(f64, f64, bool)>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..callers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new(); // (call ms, ms from its due time, ok)
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= planned {
                                break;
                            }
                            let due = started + Duration::from_secs_f64(i as f64 / rate);
                            let now = Instant::now();
                            if now >= end {
                                break;
                            }
                            if due > now {
                                std::thread::sleep(due - now);
                            }
                            let t = Instant::now();
                            let id = &profiles[i % profiles.len()];
                            let ok = kept
                                .set(id, SecretKind::AccessToken, &access_token(i))
                                .is_ok();
                            let call = t.elapsed().as_secs_f64() * 1000.0;
                            let lag = (Instant::now() - due).as_secs_f64() * 1000.0;
                            done.push((call, lag, ok));
                        }
                        done
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let elapsed = started.elapsed();
        let me = cpu_of("self").zip(me_before).map(|(a, b)| a - b);
        let daemon_cpu = daemon.zip(daemon_before).map(|(d, b)| d.cpu() - b);
        let all: Vec<(f64, f64, bool)> = per_caller.into_iter().flatten().collect();
        let failed = all.iter().filter(|c| !c.2).count();
        let calls = sorted(all.iter().map(|c| c.0).collect());
        let lags = sorted(all.iter().map(|c| c.1).collect());
        let wall = elapsed.as_secs_f64();
        let pct = |d: Option<Duration>| {
            d.map_or("?".into(), |d| {
                format!(
                    "{:.2} s = {:.0}% of one core",
                    d.as_secs_f64(),
                    100.0 * d.as_secs_f64() / wall
                )
            })
        };
        println!();
        println!(
            "sustained: {rate:.0} access-token writes/s planned for {:.0} s ({planned} writes) at \
             {} entries, {callers} callers sharing one kept Keychain",
            window.as_secs_f64(),
            profiles.len() * ENTRIES_PER_PROFILE
        );
        println!(
            "  done {} writes in {wall:.1} s = {:.1} writes/s ({:.0}% of planned), {failed} failed",
            calls.len() - failed,
            (calls.len() - failed) as f64 / wall,
            100.0 * (calls.len() - failed) as f64 / planned as f64
        );
        if !calls.is_empty() {
            println!(
                "  call ms: median {:.3}, p95 {:.3}, max {:.3}",
                median(&calls),
                p95(&calls),
                calls[calls.len() - 1]
            );
            println!(
                "  ms from scheduled time to done: median {:.1}, p95 {:.1}, max {:.1}",
                median(&lags),
                p95(&lags),
                lags[lags.len() - 1]
            );
        }
        println!("  CPU gnome-keyring-daemon: {}", pct(daemon_cpu));
        println!("  CPU this bench process:   {}", pct(me));
        println!(
            "  keyring files: {} KB",
            keyring_bytes().map_or("?".into(), |b| format!("{:.0}", b as f64 / 1024.0))
        );
        println!("  loadavg before: {}, after: {}", load_before, loadavg());
    }

    fn loadavg() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "?".into())
    }

    /// User + system CPU time of a process so far, from `/proc/<pid>/stat`.
    fn cpu_of(pid: &str) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: split after it.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
        Some(Duration::from_micros(
            (ticks(11)? + ticks(12)?) * 1_000_000 / USER_HZ,
        ))
    }

    /// The gnome-keyring-daemon of this private session: the one with our XDG_RUNTIME_DIR
    /// (scripts/with-keyring.sh starts it so).
    struct Daemon {
        pid: String,
    }

    impl Daemon {
        fn find() -> Option<Self> {
            let ours = format!("XDG_RUNTIME_DIR={}", std::env::var("XDG_RUNTIME_DIR").ok()?);
            let found = std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
                let pid = e.file_name().to_string_lossy().into_owned();
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
                if !comm.starts_with("gnome-keyring-d") {
                    return None;
                }
                let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
                environ
                    .split(|b| *b == 0)
                    .any(|v| v == ours.as_bytes())
                    .then_some(Self { pid })
            });
            if found.is_none() {
                eprintln!(
                    "bench: no gnome-keyring-daemon of this session found; its CPU is not shown"
                );
            }
            found
        }

        fn cpu(&self) -> Duration {
            cpu_of(&self.pid).unwrap_or_default()
        }
    }

    /// Bytes of the keyring files of this session (`$XDG_DATA_HOME/keyrings`).
    fn keyring_bytes() -> Option<u64> {
        let dir = PathBuf::from(std::env::var_os("XDG_DATA_HOME")?).join("keyrings");
        Some(
            std::fs::read_dir(dir)
                .ok()?
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "keyring"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum(),
        )
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("keychain benchmark: skipped (run bench/keychain/run.sh)");
        return;
    }
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("bench: the Secret Service benchmark runs on Linux");
}
