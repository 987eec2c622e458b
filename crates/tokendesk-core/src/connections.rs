//! The connections a local listener holds — the token agent's socket, the sign-in's loopback
//! listener — bounded, so a local process opening thousands that never write can neither use up
//! the descriptors nor keep a valid client waiting.
//!
//! At most `max` connections are held; those that have not sent their request yet are kept in
//! order of arrival. When every place is taken, a new connection takes the place of the oldest
//! one still silent: a valid client writes its request at once, so a flood of silent
//! connections cannot keep it out (and each is dropped after its deadline anyway).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// When accept fails and nothing can be let go (the process or the system is out of
/// descriptors, or memory), the listener waits this long before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub(crate) struct Connections {
    places: Arc<Semaphore>,
    /// Connections still waiting for their request, oldest first; dropping the sender drops
    /// the connection.
    silent: Arc<Mutex<Silents>>,
}

#[derive(Default)]
struct Silents {
    next: u64,
    waiting: BTreeMap<u64, oneshot::Sender<()>>,
}

/// A place among the connections, held for as long as the connection is served.
pub(crate) struct Admitted {
    _place: OwnedSemaphorePermit,
    id: u64,
    evicted: oneshot::Receiver<()>,
    connections: Connections,
}

impl Connections {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(max)),
            silent: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Silents> {
        self.silent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection, evicting the oldest silent one when all are taken. Waits
    /// only when every place is taken by a request being answered.
    pub(crate) async fn admit(&self) -> Admitted {
        let place = match self.places.clone().try_acquire_owned() {
            Ok(place) => place,
            Err(_) => {
                self.evict_oldest();
                let place = self.places.clone().acquire_owned().await;
                place.expect("the semaphore is never closed")
            }
        };
        let (tx, evicted) = oneshot::channel();
        let mut silent = self.lock();
        silent.next += 1;
        let id = silent.next;
        silent.waiting.insert(id, tx);
        Admitted {
            _place: place,
            id,
            evicted,
            connections: self.clone(),
        }
    }

    /// Drops the oldest connection that has not sent its request; false when there is none.
    fn evict_oldest(&self) -> bool {
        self.lock().waiting.pop_first().is_some()
    }

    /// After `accept` failed: out of descriptors, the oldest silent connection is let go so the
    /// next accept can succeed at once; otherwise a short wait rather than a spin on an error
    /// that stays.
    pub(crate) async fn accept_failed(&self, e: &std::io::Error) {
        if !(out_of_descriptors(e) && self.evict_oldest()) {
            tracing::debug!(error = %e, "a local listener cannot accept a connection");
            tokio::time::sleep(ACCEPT_BACKOFF).await;
        }
        // Either way: give the evicted connection's task its turn to close.
        tokio::task::yield_now().await;
    }
}

#[cfg(unix)]
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

#[cfg(not(unix))]
fn out_of_descriptors(_: &std::io::Error) -> bool {
    false
}

impl Admitted {
    /// Reads the connection's request with `read`; `None` when it did not arrive within
    /// `deadline` or the place was given to a newer connection first. Either way, from then on
    /// the connection can no longer be evicted.
    pub(crate) async fn request<T>(
        &mut self,
        read: impl Future<Output = T>,
        deadline: Duration,
    ) -> Option<T> {
        let read = tokio::select! {
            r = read => Some(r),
            _ = &mut self.evicted => None,
            _ = tokio::time::sleep(deadline) => None,
        };
        self.connections.lock().waiting.remove(&self.id);
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_house_evicts_the_oldest_silent_connection() {
        let c = Connections::new(2);
        // Two silent connections, each served by a task of its own as the listeners do.
        let serve = |mut a: Admitted| {
            tokio::spawn(async move {
                a.request(std::future::pending::<()>(), Duration::from_secs(60))
                    .await
            })
        };
        let first = serve(c.admit().await);
        let second = serve(c.admit().await);
        tokio::task::yield_now().await;
        // A third takes the first's place: the first's wait ends at once, unanswered, and
        // its place goes to the newcomer.
        let mut third = c.admit().await;
        assert_eq!(first.await.unwrap(), None);
        assert!(!second.is_finished(), "only the oldest is let go");
        // One that has spoken is no longer evictable.
        assert_eq!(
            third.request(async { 7 }, Duration::from_secs(60)).await,
            Some(7)
        );
        assert_eq!(c.lock().waiting.len(), 1, "the second still waits");
        second.abort();
    }

    #[tokio::test]
    async fn a_connection_that_stays_silent_is_dropped_at_its_deadline() {
        let c = Connections::new(4);
        let mut a = c.admit().await;
        let never = std::future::pending::<()>();
        assert_eq!(a.request(never, Duration::from_millis(20)).await, None);
        assert!(c.lock().waiting.is_empty(), "no longer held as silent");
    }
}
