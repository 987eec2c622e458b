//! A flood of connections that never write, held by a process of its own (`flood.mjs`), for
//! the tests of the local listeners: the token agent's socket and the sign-in's loopback port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The connections stay open until this is dropped.
pub struct Flood {
    child: Child,
    /// How many connections were opened (fewer than asked when the flooder ran out of
    /// descriptors).
    pub opened: usize,
    /// How long opening them took.
    pub took: Duration,
}

impl Flood {
    /// Opens `count` connections to `target` — a UNIX socket's path, or `host:port` — one after
    /// another; returns once all are open (panics when that takes longer than `patience`: the
    /// listener stopped accepting).
    pub fn open(target: &str, count: usize, patience: Duration) -> Self {
        let started = Instant::now();
        let mut child = Command::new("node")
            .arg(crate::repo_root().join("crates/tokendesk-testkit/flood.mjs"))
            .arg(target)
            .arg(count.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the flood");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(patience) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("{count} connections to {target} were not accepted within {patience:?}");
            }
        };
        let opened = line
            .trim()
            .strip_prefix("opened ")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Self {
            child,
            opened,
            took: started.elapsed(),
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
