//! Background refresh before expiry. Each live token is renewed when its profile's policy says
//! so (by default when 20% of its lifetime is left, and never later than 30 s before expiry);
//! failures that may pass (network, 5xx, timeouts) are retried with capped exponential backoff
//! and jitter; `invalid_grant` stops and asks the user to sign in again.
//!
//! The schedule is kept in memory and rebuilt from the store when something changed in this
//! process other than the refresher's own renewals (at most once a second), or when another
//! process wrote to the store (looked at every 15 s), so ten thousand profiles do not cost a
//! store read per renewal, nor a full read every 15 s while nothing changes. Due profiles wait
//! in a queue ordered by time: a wake-up looks at the ones due, not at every profile. Renewals
//! run as tasks of their own: one slow provider does not hold back the others.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::{Core, by_refresher, by_refresher_sync, chain_changed};
use crate::clock::Millis;
use crate::error::{Error, ErrorCode};
use crate::profile::{ProfileId, RefreshPolicy};
use crate::token::TokenSet;

/// The longest time between looks at the store (tokens may change in other processes).
const POLL: Duration = Duration::from_secs(15);
/// The longest time between two full reads of the store, even when nothing says it changed.
const FULL_SCAN: Duration = Duration::from_secs(300);
/// The shortest time between two looks at the store after changes in this process.
const MIN_SCAN_GAP: Duration = Duration::from_secs(1);
/// Tokens due within this much are renewed in the same round.
const SLACK_MS: Millis = 1_000;
/// Renewals running at once.
const CONCURRENCY: usize = 8;
/// First retry after this long; doubles per failure up to [`BACKOFF_CAP_MS`].
const BACKOFF_BASE_MS: Millis = 2_000;
const BACKOFF_CAP_MS: Millis = 300_000;

/// When the token is due for renewal, or `None` if it is not renewed automatically.
///
/// The lead before expiry is the policy's share of the lifetime, at least its minimum, but at
/// most half the lifetime — so a 10-second token is not renewed the moment it arrives.
pub fn due_at(token: &TokenSet, policy: &RefreshPolicy) -> Option<Millis> {
    if !policy.auto || token.needs_login.is_some() {
        return None;
    }
    if let Some(revoked) = token.revoked_at {
        return Some(revoked);
    }
    let expires = token.access_expires_at?;
    let lifetime = (expires - token.obtained_at).max(0);
    let share = lifetime * Millis::from(policy.remaining_percent) / 100;
    let lead = share
        .max(Millis::from(policy.min_seconds_before) * 1000)
        .min(lifetime / 2);
    Some(expires - lead)
}

/// Whether a failure may pass by itself, so retrying soon makes sense.
fn transient(e: &Error) -> bool {
    match e.code {
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Tls | ErrorCode::BadResponse => true,
        ErrorCode::ProviderError => {
            e.message.contains("HTTP 5") || e.message.contains("temporarily_unavailable")
        }
        _ => false,
    }
}

/// The wait before retry number `attempt` (1-based): exponential, capped, with jitter in
/// [50%, 100%] so many clients do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Millis {
    let exp = BACKOFF_BASE_MS.saturating_mul(1 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(BACKOFF_CAP_MS) as f64;
    (capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as Millis
}

/// What the refresher knows between looks at the store.
#[derive(Default)]
struct Schedule {
    due: HashMap<ProfileId, Millis>,
    policies: HashMap<ProfileId, RefreshPolicy>,
    /// Failed profiles are not tried again before this.
    not_before: HashMap<ProfileId, Millis>,
    attempts: HashMap<ProfileId, u32>,
    in_flight: HashSet<ProfileId>,
    /// Exchanged tokens whose subject (or actor) token changed since: what changed. They are
    /// due now, to be exchanged again with the new token.
    stale: HashMap<ProfileId, String>,
    /// A re-exchange that failed for good, by what had changed: not tried again for that same
    /// change (the subject's next token is another change).
    tried: HashMap<ProfileId, String>,
    /// Profiles whose token another token was exchanged from: renewing one makes the store
    /// worth a look (the exchanged token is then stale).
    subjects: HashSet<ProfileId>,
    /// Every profile with a due time and not running, by when it is tried: the later of its due
    /// time and its retry time. `queued` holds each one's key in it.
    queue: BTreeSet<(Millis, ProfileId)>,
    queued: HashMap<ProfileId, Millis>,
}

impl Schedule {
    /// Rebuilds the due times from the store.
    fn load(&mut self, core: &Core) -> crate::Result<()> {
        self.policies = core
            .list_profiles()?
            .into_iter()
            .map(|p| {
                let mut policy = p.config.refresh;
                policy.auto = p.config.renews_by_itself();
                (p.id, policy)
            })
            .collect();
        let tokens: HashMap<ProfileId, TokenSet> = core
            .tokens()?
            .into_iter()
            .map(|t| (t.profile_id.clone(), t))
            .collect();
        self.due = tokens
            .values()
            .filter_map(|t| {
                let policy = self.policies.get(&t.profile_id)?;
                Some((t.profile_id.clone(), due_at(t, policy)?))
            })
            .collect();
        self.subjects = tokens
            .values()
            .flat_map(|t| [&t.exchanged_from, &t.exchange_actor])
            .flatten()
            .map(|link| link.profile_id.clone())
            .collect();
        // A subject renewed (here, or by another process) makes its dependents due at once.
        self.stale = tokens
            .values()
            .filter(|t| self.policies.get(&t.profile_id).is_some_and(|p| p.auto))
            .filter_map(|t| Some((t.profile_id.clone(), chain_changed(t, &tokens)?)))
            .filter(|(id, why)| self.tried.get(id) != Some(why))
            .collect();
        self.tried.retain(|id, _| tokens.contains_key(id));
        let now = core.now();
        for id in self.stale.keys() {
            self.due.insert(id.clone(), now);
        }
        self.queue.clear();
        self.queued.clear();
        let ids: Vec<ProfileId> = self.due.keys().cloned().collect();
        for id in ids {
            self.requeue(&id);
        }
        Ok(())
    }

    /// Puts a profile back in the queue at the time it is tried next (out of it while it runs
    /// or has no due time).
    fn requeue(&mut self, id: &ProfileId) {
        if let Some(at) = self.queued.remove(id) {
            self.queue.remove(&(at, id.clone()));
        }
        if self.in_flight.contains(id) {
            return;
        }
        if let Some(due) = self.due.get(id) {
            let at = (*due).max(self.not_before.get(id).copied().unwrap_or(0));
            self.queue.insert((at, id.clone()));
            self.queued.insert(id.clone(), at);
        }
    }

    fn update(&mut self, id: &ProfileId, token: Option<&TokenSet>) {
        let due = token.and_then(|t| due_at(t, self.policies.get(id)?));
        match due {
            Some(d) => self.due.insert(id.clone(), d),
            None => self.due.remove(id),
        };
    }

    /// The profiles to renew now (not already running); lowers `wake` to the next due time.
    fn take_due(&mut self, now: Millis, wake: &mut Millis) -> Vec<ProfileId> {
        let mut out = Vec::new();
        while let Some((at, _)) = self.queue.first() {
            if *at > now + SLACK_MS {
                *wake = (*wake).min(*at);
                break;
            }
            let (_, id) = self.queue.pop_first().expect("a first entry");
            self.queued.remove(&id);
            self.in_flight.insert(id.clone());
            out.push(id);
        }
        out
    }
}

type Outcome = (ProfileId, crate::Result<Option<TokenSet>>);

/// Runs until `stop` is cancelled.
pub async fn run(core: Arc<Core>, stop: CancellationToken) {
    let mut schedule = Schedule::default();
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    let mut last_scan: Option<Instant> = None;
    let mut last_look = Instant::now();
    // The store's version at the last full read: another process's write changes it.
    let mut seen_version: Option<i64> = None;
    let mut dirty = true;
    loop {
        // Listening starts here, so a change made while we work is not missed.
        let changed = core.changed_elsewhere();
        let scan_due = match last_scan {
            None => true,
            Some(t) if dirty && t.elapsed() >= MIN_SCAN_GAP => true,
            Some(t) if t.elapsed() >= FULL_SCAN => true,
            Some(_) if last_look.elapsed() >= POLL => {
                last_look = Instant::now();
                written_elsewhere(&core, seen_version)
            }
            Some(_) => false,
        };
        if scan_due {
            // Read before the scan: a write made during it is seen at the next look.
            let version = core.store_version().ok();
            match schedule.load(&core) {
                Ok(()) => {
                    last_scan = Some(Instant::now());
                    last_look = Instant::now();
                    seen_version = version;
                    dirty = false;
                }
                Err(e) => tracing::warn!(error = %e, "refresher could not read the store"),
            }
        }
        let now = core.now();
        let mut wake = now + POLL.as_millis() as Millis;
        for id in schedule.take_due(now, &mut wake) {
            let (core, limit, done) = (core.clone(), limit.clone(), done_tx.clone());
            tokio::spawn(by_refresher(async move {
                let _permit = limit.acquire_owned().await;
                let result = core.renew_if_due(&id, SLACK_MS).await;
                let _ = done.send((id, result));
            }));
        }
        let mut sleep = Duration::from_millis((wake - core.now()).max(0) as u64)
            .min(POLL.saturating_sub(last_look.elapsed()));
        if dirty && let Some(t) = last_scan {
            sleep = sleep.min(MIN_SCAN_GAP.saturating_sub(t.elapsed()));
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(sleep) => {}
            _ = changed => dirty = true,
            Some((id, result)) = done_rx.recv() => {
                // A subject renewed: the tokens exchanged from it are stale now.
                dirty |= result.as_ref().is_ok_and(|t| t.is_some())
                    && schedule.subjects.contains(&id);
                by_refresher_sync(|| settle(&core, &mut schedule, id, result));
            }
        }
    }
}

/// Whether another process wrote to the store since the version seen (when in doubt, yes).
fn written_elsewhere(core: &Core, seen: Option<i64>) -> bool {
    match (core.store_version(), seen) {
        (Ok(now), Some(seen)) => now != seen,
        _ => true,
    }
}

/// Books a finished renewal: the new due time, or the retry after a failure.
fn settle(
    core: &Core,
    schedule: &mut Schedule,
    id: ProfileId,
    result: crate::Result<Option<TokenSet>>,
) {
    schedule.in_flight.remove(&id);
    book(core, schedule, &id, result);
    schedule.requeue(&id);
}

fn book(
    core: &Core,
    schedule: &mut Schedule,
    id: &ProfileId,
    result: crate::Result<Option<TokenSet>>,
) {
    let id = id.clone();
    match result {
        Ok(Some(token)) => {
            schedule.attempts.remove(&id);
            schedule.not_before.remove(&id);
            schedule.stale.remove(&id);
            schedule.tried.remove(&id);
            schedule.update(&id, Some(&token));
        }
        Ok(None) => {
            // Nothing was due (another caller or process renewed it): take the stored due time,
            // and never ask again sooner than it.
            let token = core.token(&id).ok().flatten();
            schedule.update(&id, token.as_ref());
            if let Some(due) = schedule.due.get(&id) {
                schedule
                    .not_before
                    .insert(id.clone(), (*due).max(core.now() + SLACK_MS));
            }
        }
        Err(e) if matches!(e.code, ErrorCode::InvalidGrant | ErrorCode::NeedsLogin) => {
            if let Some(why) = schedule.stale.remove(&id) {
                schedule.tried.insert(id.clone(), why);
            }
            schedule.attempts.remove(&id);
            schedule.not_before.remove(&id);
            schedule.due.remove(&id);
            core.announce_needs_login(&id, &e.message);
        }
        Err(e) => {
            if !transient(&e)
                && let Some(why) = schedule.stale.remove(&id)
            {
                schedule.tried.insert(id.clone(), why);
            }
            let n = schedule.attempts.entry(id.clone()).or_insert(0);
            *n += 1;
            let delay = if transient(&e) {
                backoff(*n, rand::thread_rng().r#gen())
            } else {
                BACKOFF_CAP_MS
            };
            let at = core.now() + delay;
            schedule.not_before.insert(id.clone(), at);
            tracing::info!(profile = %id, attempt = *n, retry_in_ms = delay, code = ?e.code, "automatic refresh failed");
            if let Err(w) = core.mark_retry(&id, Some(at), Some(&e)) {
                tracing::warn!(error = %w, "retry state not stored");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::GrantKind;
    use crate::token::TokenRef;

    fn token(obtained: Millis, expires: Option<Millis>) -> TokenSet {
        TokenSet {
            profile_id: ProfileId::from("p"),
            grant: GrantKind::ClientCredentials,
            token_type: "Bearer".into(),
            scope: None,
            status: None,
            obtained_at: obtained,
            access_expires_at: expires,
            refresh_expires_at: None,
            id_token_expires_at: None,
            refresh_count: None,
            access: TokenRef::of("x"),
            refresh: None,
            id_token: None,
            raw: Default::default(),
            needs_login: None,
            id_token_validation: None,
            revoked_at: None,
            retry_at: None,
            last_error: None,
            dpop_jkt: None,
            issued_token_type: None,
            exchanged_from: None,
            exchange_actor: None,
            authorization_details: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn due_when_a_fifth_is_left_but_never_later_than_thirty_seconds_before() {
        let policy = RefreshPolicy::default();
        // One hour: 20% is 12 minutes before expiry.
        assert_eq!(due_at(&token(0, Some(3_600_000)), &policy), Some(2_880_000));
        // Two minutes: 20% is 24 s, so the 30 s minimum wins.
        assert_eq!(due_at(&token(0, Some(120_000)), &policy), Some(90_000));
        // Ten seconds: at most half the lifetime ahead.
        assert_eq!(due_at(&token(0, Some(10_000)), &policy), Some(5_000));
        // No expiry, no automatic refresh; nor when turned off or when a sign-in is needed.
        assert_eq!(due_at(&token(0, None), &policy), None);
        let off = RefreshPolicy {
            auto: false,
            ..policy
        };
        assert_eq!(due_at(&token(0, Some(120_000)), &off), None);
        let mut t = token(0, Some(120_000));
        t.needs_login = Some("x".into());
        assert_eq!(due_at(&t, &policy), None);
        let mut t = token(0, Some(120_000));
        t.revoked_at = Some(7);
        assert_eq!(
            due_at(&t, &policy),
            Some(7),
            "a revoked token is due at once"
        );
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        assert_eq!(backoff(1, 1.0), 2_000);
        assert_eq!(backoff(2, 1.0), 4_000);
        assert_eq!(backoff(3, 1.0), 8_000);
        assert_eq!(backoff(30, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff(1, 0.0), 1_000, "jitter takes off up to half");
    }

    #[test]
    fn only_passing_failures_are_retried_soon() {
        assert!(transient(&Error::new(ErrorCode::Network, "x")));
        assert!(transient(&Error::new(
            ErrorCode::ProviderError,
            "refused (HTTP 503): server_error"
        )));
        assert!(!transient(&Error::new(ErrorCode::InvalidClient, "x")));
        assert!(!transient(&Error::new(
            ErrorCode::ProviderError,
            "refused (HTTP 400): invalid_request"
        )));
    }

    #[tokio::test]
    async fn the_refresher_s_own_changes_wake_others_but_not_the_refresher() {
        use crate::api::CoreOptions;
        use crate::home::Home;
        use crate::secret::MemorySecrets;
        let dir = tempfile::tempdir().unwrap();
        let core = Core::open(
            Home::at(dir.path().to_path_buf()).unwrap(),
            Arc::new(MemorySecrets::default()),
            CoreOptions::default(),
        )
        .unwrap();
        let id = ProfileId::from("p");
        let soon = Duration::from_millis(50);
        // Made by the refresher: the tray and the warnings hear it, the refresher does not.
        let (any, elsewhere) = (core.changed(), core.changed_elsewhere());
        by_refresher_sync(|| core.announce_needs_login(&id, "sign in again"));
        assert!(tokio::time::timeout(soon, any).await.is_ok());
        assert!(tokio::time::timeout(soon, elsewhere).await.is_err());
        // Made by anyone else (the app, the command line): the refresher hears it too.
        let elsewhere = core.changed_elsewhere();
        core.announce_needs_login(&id, "sign in again");
        assert!(tokio::time::timeout(soon, elsewhere).await.is_ok());
        // Inside a renewal task as well.
        let elsewhere = core.changed_elsewhere();
        by_refresher(async { core.announce_needs_login(&id, "sign in again") }).await;
        assert!(tokio::time::timeout(soon, elsewhere).await.is_err());
    }

    #[test]
    fn a_profile_is_queued_once_at_its_latest_time_and_not_while_it_runs() {
        let mut s = Schedule::default();
        let a = ProfileId::from("a");
        s.due.insert(a.clone(), 1_000);
        s.requeue(&a);
        s.not_before.insert(a.clone(), 7_000);
        s.requeue(&a);
        assert_eq!(s.queue.len(), 1, "one entry per profile");
        let mut wake = i64::MAX;
        assert!(
            s.take_due(2_000, &mut wake).is_empty(),
            "waits for its retry time"
        );
        assert_eq!(wake, 7_000);
        let mut wake = i64::MAX;
        assert_eq!(s.take_due(7_000, &mut wake), std::slice::from_ref(&a));
        s.requeue(&a);
        assert!(s.queue.is_empty(), "not queued while it runs");
        s.in_flight.remove(&a);
        s.due.insert(a.clone(), 40_000);
        s.not_before.remove(&a);
        s.requeue(&a);
        assert_eq!(s.queue.first(), Some(&(40_000, a)));
    }

    #[test]
    fn the_schedule_takes_what_is_due_within_the_slack_once() {
        let mut s = Schedule::default();
        for (id, due) in [("a", 1_000), ("b", 1_800), ("c", 5_000)] {
            s.due.insert(ProfileId::from(id), due);
        }
        s.not_before.insert(ProfileId::from("b"), 9_000);
        for id in ["a", "b", "c"] {
            s.requeue(&ProfileId::from(id));
        }
        let mut wake = i64::MAX;
        let mut taken = s.take_due(1_000, &mut wake);
        taken.sort();
        assert_eq!(taken, [ProfileId::from("a")], "b waits for its retry time");
        assert_eq!(wake, 5_000);
        let mut wake = i64::MAX;
        assert!(s.take_due(1_000, &mut wake).is_empty(), "a runs already");
        let mut wake = i64::MAX;
        assert_eq!(
            s.take_due(4_200, &mut wake),
            [ProfileId::from("c")],
            "c is within the slack"
        );
    }
}
