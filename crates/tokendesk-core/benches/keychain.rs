//! bench/keychain: what one kept Secret Service session saves per keychain call.
//!
//! Against the real Secret Service of the D-Bus session it runs in (`bench/keychain/run.sh` puts
//! it in a private one with gnome-keyring), one run measures, for writes and for reads of a token
//! value:
//! - **kept**: one `Keychain` for all calls — what the app, the agent and the refresher do;
//! - **per call**: a new `Keychain` (so a new D-Bus connection and DH session) for every call —
//!   what the `keyring` crate did before, and still what a one-shot `tokendesk-cli` process pays.
//!
//! Prints the median and p95 wall time per call and the ratio per-call / kept.

#[cfg(target_os = "linux")]
fn main() {
    use std::time::Instant;
    use tokendesk_core::profile::ProfileId;
    use tokendesk_core::secret::{Keychain, SecretKind, SecretStore, Sensitive};

    let n: usize = std::env::var("KEYCHAIN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        eprintln!("bench: no D-Bus session; run bench/keychain/run.sh");
        std::process::exit(1);
    }
    let service = format!("tokendesk-bench-keychain-{}", std::process::id());
    let id = ProfileId::random();
    let value = |i: usize| Sensitive::new(format!("eyJhbGciOiJSUzI1NiJ9.bench-token-{i:06}.sig"));
    let kept = Keychain::new(service.clone());
    kept.set(&id, SecretKind::AccessToken, &value(0)).unwrap(); // the entry exists from here on

    // Each case: n timed calls after a few untimed ones; milliseconds per call.
    let measure = |f: &dyn Fn(usize)| -> Vec<f64> {
        (0..5).for_each(f);
        let mut ms: Vec<f64> = (0..n)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let set_kept = measure(&|i| kept.set(&id, SecretKind::AccessToken, &value(i)).unwrap());
    let set_fresh = measure(&|i| {
        Keychain::new(service.clone())
            .set(&id, SecretKind::AccessToken, &value(i))
            .unwrap()
    });
    let get_kept = measure(&|_| {
        kept.get(&id, SecretKind::AccessToken).unwrap().unwrap();
    });
    let get_fresh = measure(&|_| {
        Keychain::new(service.clone())
            .get(&id, SecretKind::AccessToken)
            .unwrap()
            .unwrap();
    });
    kept.delete(&id, SecretKind::AccessToken).unwrap();

    let median = |v: &[f64]| v[v.len() / 2];
    let p95 = |v: &[f64]| v[(v.len() * 95).div_ceil(100) - 1];
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

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("bench: the Secret Service benchmark runs on Linux");
}
