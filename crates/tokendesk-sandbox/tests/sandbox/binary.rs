use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::get_json;

#[tokio::test]
async fn binary_prints_one_json_line_and_stops_when_stdin_closes() {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokendesk-sandbox"))
        .args(["--port", "0", "--access-ttl", "30"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the first stdout line reads");
    let startup = started.elapsed();
    let announced: serde_json::Value =
        serde_json::from_str(&line).expect("the first stdout line is JSON");
    let base = announced["base"].as_str().expect("base").to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert_eq!(announced["standard"], format!("{base}/standard"));
    assert_eq!(announced["gateway"], format!("{base}/gateway"));
    assert_eq!(announced["bank"], format!("{base}/bank"));
    eprintln!("binary startup (debug build, includes RSA keygen): {startup:?}");

    let doc = get_json(&format!("{base}/standard/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], format!("{base}/standard"));

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the sandbox did not stop after stdin closed");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr reads");
    assert!(
        stderr.contains("NOT for production"),
        "stderr warns: {stderr}"
    );
}

#[test]
fn binary_refuses_bad_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_tokendesk-sandbox"))
        .args(["--port", "not-a-port"])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}
