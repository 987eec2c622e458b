//! bench/workspace: opening a workspace of 1,000 profile files, and what one changed file costs
//! next to reading them all again (issue #15: under 300 ms to list; no full re-read on a
//! one-file change).
//!
//! On a fresh store it measures (median of `WORKSPACE_BENCH_RUNS` runs, 5 by default):
//! - **first open**: every file read, parsed and inserted into the store, then the list;
//! - **reopen**: the same workspace opened again unchanged (each file's stamp checked, none
//!   parsed) and listed — what every `tokendesk` run and app start pays;
//! - **full re-read**: every file parsed again and compared;
//! - **one file**: one changed file re-synced, as the watcher does;
//! - **baseline, raw read**: the same files found and read from disk, nothing parsed or stored —
//!   measured in the same run, alternating with the rest, so the ratios hold on a busy machine.

use std::sync::Arc;
use std::time::Instant;

use tokendesk_core::home::Home;
use tokendesk_core::secret::MemorySecrets;
use tokendesk_core::{Core, CoreOptions};

fn file(i: usize, scope: &str) -> String {
    format!(
        "# Team profile {i}.\nid = \"bench-{i:05}\"\nname = \"gateway-{i:05}\"\nenvironment = \"test\"\n\
         client_id = \"client-{i}\"\nauth_method = \"client_secret_post\"\ngrant = \"client_credentials\"\n\
         scopes = [\"{scope}\"]\n\n[endpoints]\ntoken = \"https://api{i}.example/oauth/token\"\n\n\
         [[headers]]\nname = \"x-api-key\"\nvalue = \"client-{i}\"\n\n[secrets.client_secret]\n\
         from = \"command\"\nargv = [\"pass\", \"show\", \"team/client-{i}\"]\n"
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("WORKSPACE_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runs: usize = std::env::var("WORKSPACE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let ws = tempfile::tempdir().unwrap();
    for i in 0..n {
        let dir = ws.path().join(["dev", "test", "prod"][i % 3]);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("gateway-{i:05}.toml")),
            file(i, "accounts"),
        )
        .unwrap();
    }
    let dirs = vec![ws.path().to_path_buf()];
    let (mut first, mut reopen, mut full, mut one) = (vec![], vec![], vec![], vec![]);
    let mut raw = vec![];
    for run in 0..runs {
        let t = Instant::now();
        let mut bytes = 0;
        for path in tokendesk_core::workspace::files(ws.path()).unwrap() {
            bytes += std::fs::read_to_string(path).unwrap().len();
        }
        raw.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(bytes > 0);

        let home = tempfile::tempdir().unwrap();
        let core = Core::open(
            Home::at(home.path().to_path_buf()).unwrap(),
            Arc::new(MemorySecrets::default()),
            CoreOptions::default(),
        )
        .unwrap();
        let t = Instant::now();
        let status = core.open_workspaces(&dirs);
        let listed = core.list_profiles().unwrap();
        first.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(
            listed.len(),
            n,
            "{:?}",
            status[0].files.iter().find(|f| !f.problems.is_empty())
        );

        let t = Instant::now();
        core.open_workspaces(&dirs);
        core.list_profiles().unwrap();
        reopen.push(t.elapsed().as_secs_f64() * 1000.0);

        let t = Instant::now();
        core.sync_workspace(ws.path(), true);
        full.push(t.elapsed().as_secs_f64() * 1000.0);

        let path = ws.path().join("test/gateway-00001.toml");
        std::fs::write(&path, file(1, &format!("scope-{run}"))).unwrap();
        let t = Instant::now();
        let f = core.sync_workspace_file(ws.path(), &path);
        one.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(f.problems.is_empty());
        assert_eq!(
            core.profile("gateway-00001").unwrap().config.scopes,
            [format!("scope-{run}")]
        );
    }
    let (first, reopen, full, one) = (median(first), median(reopen), median(full), median(one));
    let raw = median(raw);
    println!("workspace of {n} profile files, median of {runs} runs (ms):");
    println!("  baseline: raw read  {raw:8.1}   (files found and read, nothing parsed)");
    println!(
        "  first open + list   {first:8.1}   first / raw = {:.1}x",
        first / raw
    );
    println!("  reopen + list       {reopen:8.1}   (unchanged files: stamps only)");
    println!("  full re-read        {full:8.1}");
    println!(
        "  one changed file    {one:8.3}   full / one = {:.0}x",
        full / one
    );
    println!(
        "  target: list under 300 ms: {}",
        if first < 300.0 && reopen < 300.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
