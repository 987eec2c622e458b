//! Start-up in two halves. `setup` does only what the window's first frame needs: the core and
//! the state the UI's first commands read. Everything else — the tray, the refresher, the
//! warnings, the command line's socket, the workspace watcher, the sandbox provider (RSA key
//! generation, its server, the ready-made profiles and their keychain writes) — waits until the
//! window reports that it has painted its first frame with the data in it (`window_ready`), so it
//! does not compete with WebKit for the CPU while the page loads. A window that never paints (a
//! hidden start) does not hold it back for longer than [`AT_THE_LATEST`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long the deferred work waits for the window at most.
const AT_THE_LATEST: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct FirstFrame {
    painted: Notify,
    seen: AtomicBool,
}

impl FirstFrame {
    /// The window painted its first frame (later calls change nothing).
    pub fn painted(&self) {
        if !self.seen.swap(true, Ordering::SeqCst) {
            self.painted.notify_one();
        }
    }

    /// Returns once the window has painted, or after [`AT_THE_LATEST`].
    pub async fn wait(&self) {
        if self.seen.load(Ordering::SeqCst) {
            return;
        }
        if tokio::time::timeout(AT_THE_LATEST, self.painted.notified())
            .await
            .is_err()
        {
            tracing::info!("the window reported no first frame: starting the rest anyway");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn the_deferred_work_goes_on_once_the_window_painted_before_or_while_it_waits() {
        runtime().block_on(async {
            let before = FirstFrame::default();
            before.painted();
            before.painted();
            // Already painted: no waiting (a generous bound, not a measurement).
            tokio::time::timeout(Duration::from_secs(1), before.wait())
                .await
                .expect("no wait once painted");

            let during = Arc::new(FirstFrame::default());
            let waiter = tokio::spawn({
                let during = during.clone();
                async move { during.wait().await }
            });
            tokio::task::yield_now().await;
            during.painted();
            tokio::time::timeout(Duration::from_secs(1), waiter)
                .await
                .expect("the waiter goes on when the window paints")
                .unwrap();
        });
    }
}
