//! Setup check benchmark (issue 19): a full check of a healthy profile against the local test
//! provider on loopback, with the checks side by side (what `tokendesk doctor` and the app do)
//! against the same checks one after another, in the same run. Prints medians, p90 and the
//! ratio; every report must pass (a broken check would measure nothing).
//!
//! `cargo bench -p tokendesk-core --bench doctor` (or `bench/doctor/run.sh`).
//! Knobs: DOCTOR_BENCH_N (40 rounds, each one of each schedule, alternating).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokendesk_core::doctor::Status;
use tokendesk_core::home::Home;
use tokendesk_core::profile::AuthMethod;
use tokendesk_core::secret::{MemorySecrets, Sensitive};
use tokendesk_core::{Core, CoreOptions, Schedule};
use tokendesk_testkit::{Provider, cc_config, web_config};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "setup check benchmark: skipped (run `cargo bench -p tokendesk-core --bench doctor`)"
        );
        return;
    }
    let rounds: usize = std::env::var("DOCTOR_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let p = Provider::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let core = Core::open(
        Home::at(home.path().to_path_buf()).unwrap(),
        Arc::new(MemorySecrets::default()),
        CoreOptions::default(),
    )
    .unwrap();
    rt.block_on(async {
        let profiles = [
            (web_config(&p, &["openid"]), "web-app-secret"),
            (cc_config(&p, "cc-basic", AuthMethod::ClientSecretBasic), "cc-basic-secret"),
        ];
        println!("setup check benchmark: {rounds} rounds per profile and schedule, loopback oidc-provider");
        for (config, secret) in profiles {
            let name = config.name.clone();
            let profile = core
                .create_profile(config, Some(Sensitive::new(secret.to_owned())))
                .await
                .unwrap();
            let mut times = [Vec::new(), Vec::new()];
            let mut rows = 0;
            for round in 0..rounds + 3 {
                for (i, schedule) in [Schedule::Parallel, Schedule::Sequential].into_iter().enumerate() {
                    let started = Instant::now();
                    let report = core.check_setup_scheduled(&profile.id, schedule).await.unwrap();
                    let took = started.elapsed();
                    assert_ne!(report.worst(), Status::Fail, "{:#?}", report.checks);
                    rows = report.checks.len();
                    // The first rounds warm the connections and the provider up.
                    if round >= 3 {
                        times[i].push(took);
                    }
                }
            }
            let [parallel, sequential] = times.map(|mut t| {
                t.sort();
                t
            });
            let q = |t: &[Duration], f: f64| t[((t.len() - 1) as f64 * f).round() as usize];
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{name}: {rows} checks; side by side median {:.1} ms (p90 {:.1}), one after another \
                 median {:.1} ms (p90 {:.1}); ratio {:.2}",
                ms(q(&parallel, 0.5)),
                ms(q(&parallel, 0.9)),
                ms(q(&sequential, 0.5)),
                ms(q(&sequential, 0.9)),
                ms(q(&parallel, 0.5)) / ms(q(&sequential, 0.5)),
            );
        }
    });
}
