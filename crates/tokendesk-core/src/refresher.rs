//! Background refresh before expiry. Each live token is renewed when its profile's policy says
//! so (by default when 20% of its lifetime is left, and never later than 30 s before expiry);
//! failures that may pass (network, 5xx, timeouts) are retried with capped exponential backoff
//! and jitter; `invalid_grant` stops and asks the user to sign in again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::Core;
use crate::clock::Millis;
use crate::error::{Error, ErrorCode};
use crate::profile::{ProfileId, RefreshPolicy};
use crate::token::TokenSet;

/// The longest sleep between looks at the store (tokens may change in other processes).
const POLL_MS: Millis = 15_000;
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

/// Runs until `stop` is cancelled.
pub async fn run(core: Arc<Core>, stop: CancellationToken) {
    let mut attempts: HashMap<ProfileId, u32> = HashMap::new();
    let mut not_before: HashMap<ProfileId, Millis> = HashMap::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    loop {
        let changed = core.changed();
        let now = core.now();
        let mut wake = now + POLL_MS;
        let due = match due_now(&core, now, &not_before, &mut wake) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "refresher could not read the store");
                Vec::new()
            }
        };
        let mut running = JoinSet::new();
        for id in due {
            let (core, limit) = (core.clone(), limit.clone());
            running.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let result = core.renew_if_due(&id).await;
                (id, result)
            });
        }
        while let Some(joined) = running.join_next().await {
            let Ok((id, result)) = joined else { continue };
            match result {
                Ok(_) => {
                    attempts.remove(&id);
                    not_before.remove(&id);
                }
                Err(e) if matches!(e.code, ErrorCode::InvalidGrant | ErrorCode::NeedsLogin) => {
                    attempts.remove(&id);
                    not_before.remove(&id);
                    core.announce_needs_login(&id, &e.message);
                }
                Err(e) => {
                    let n = attempts.entry(id.clone()).or_insert(0);
                    *n += 1;
                    let delay = if transient(&e) {
                        backoff(*n, rand::thread_rng().r#gen())
                    } else {
                        BACKOFF_CAP_MS
                    };
                    let at = core.now() + delay;
                    not_before.insert(id.clone(), at);
                    tracing::info!(profile = %id, attempt = *n, retry_in_ms = delay, code = ?e.code, "automatic refresh failed");
                    if let Err(w) = core.mark_retry(&id, Some(at), Some(&e)) {
                        tracing::warn!(error = %w, "retry state not stored");
                    }
                    wake = wake.min(at);
                }
            }
        }
        let sleep = Duration::from_millis((wake - core.now()).clamp(0, POLL_MS) as u64);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(sleep) => {}
            _ = changed => {}
        }
    }
}

/// The profiles whose tokens are due now; lowers `wake` to the next due time of the others.
fn due_now(
    core: &Core,
    now: Millis,
    not_before: &HashMap<ProfileId, Millis>,
    wake: &mut Millis,
) -> crate::Result<Vec<ProfileId>> {
    let policies: HashMap<ProfileId, RefreshPolicy> = core
        .list_profiles()?
        .into_iter()
        .map(|p| (p.id, p.config.refresh))
        .collect();
    let mut due = Vec::new();
    for token in core.tokens()? {
        let Some(policy) = policies.get(&token.profile_id) else {
            continue;
        };
        let Some(mut at) = due_at(&token, policy) else {
            continue;
        };
        if let Some(nb) = not_before.get(&token.profile_id) {
            at = at.max(*nb);
        }
        if at <= now {
            due.push(token.profile_id);
        } else {
            *wake = (*wake).min(at);
        }
    }
    Ok(due)
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
}
