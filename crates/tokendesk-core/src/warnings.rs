//! Warnings before it hurts: a desktop notification when a refresh token will run out within the
//! warning window ("sign in again before …"), and once more when a profile needs a sign-in.
//!
//! Each warning is about one event of one profile — *this* refresh expiry, *this* token needing
//! a sign-in — and is given once: what was said is stored (the `notified` row of the settings
//! table), so neither a restart nor a second look says it again. A new sign-in is a new event.
//! Everything here takes `now` from the caller (the core's [`Clock`](crate::clock::Clock)); the
//! loop that shows them sleeps until the next moment something can become due.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::api::Core;
use crate::clock::{Millis, rfc3339};
use crate::profile::{Profile, ProfileId};
use crate::token::{TokenSet, TokenState};
use crate::tray::time_left;

/// The longest time between two looks (tokens change in other processes too, unannounced).
const POLL: Duration = Duration::from_secs(60);
/// More warnings than this at once are said in one notification.
const SEPARATE_AT_MOST: usize = 3;

/// What the user was already told, per profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified(BTreeMap<ProfileId, Said>);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Said {
    /// The refresh expiry (epoch ms) warned about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiring: Option<Millis>,
    /// The fingerprint of the access token said to need a sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sign_in: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// The refresh token runs out within the window: sign in again before then.
    RefreshExpiring,
    /// Nothing renews the token without the user any more.
    NeedsSignIn,
}

/// One warning about one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub profile_id: ProfileId,
    pub profile_name: String,
    pub kind: WarningKind,
    /// When the refresh token runs out (for [`WarningKind::RefreshExpiring`]).
    pub at: Option<Millis>,
    pub detail: Option<String>,
}

/// A desktop notification: what the shell shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The profile to open when the notification is clicked (one warning), if any.
    pub profile_id: Option<ProfileId>,
}

/// `2026-12-05 14:02 UTC`.
fn when(ms: Millis) -> String {
    let s = rfc3339(ms);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

impl Warning {
    pub fn notice(&self, now: Millis) -> Notice {
        let name = &self.profile_name;
        let (title, body) = match (self.kind, self.at) {
            (WarningKind::RefreshExpiring, Some(at)) => (
                format!("Sign in to \"{name}\" again before {}", when(at)),
                format!(
                    "Its refresh token runs out in {} ({}); after that TokenDesk cannot renew \
                     its tokens without you.",
                    time_left(at, now),
                    when(at)
                ),
            ),
            _ => (
                format!("\"{name}\" needs you to sign in again"),
                self.detail.clone().unwrap_or_else(|| {
                    "Its tokens have run out and nothing can renew them without you.".into()
                }),
            ),
        };
        Notice {
            title,
            body,
            profile_id: Some(self.profile_id.clone()),
        }
    }
}

/// The notifications for `warnings`: one each, or a single one when there are many at once
/// (a first start after a long time away should not bury the desktop).
pub fn notices(warnings: &[Warning], now: Millis) -> Vec<Notice> {
    if warnings.len() <= SEPARATE_AT_MOST {
        return warnings.iter().map(|w| w.notice(now)).collect();
    }
    let names: Vec<&str> = warnings.iter().map(|w| w.profile_name.as_str()).collect();
    vec![Notice {
        title: format!("{} TokenDesk profiles need a sign-in soon", warnings.len()),
        body: format!(
            "Sign in again to: {}. Open TokenDesk to see when each runs out.",
            names.join(", ")
        ),
        profile_id: None,
    }]
}

/// The warnings due at `now` that were not given yet, marking them in `said`; `window_ms` is how
/// long before a refresh token runs out to warn (0: never). Profiles that are gone are forgotten.
pub fn due(
    profiles: &[Profile],
    tokens: &[TokenSet],
    said: &mut Notified,
    now: Millis,
    window_ms: Millis,
) -> Vec<Warning> {
    said.0.retain(|id, _| profiles.iter().any(|p| &p.id == id));
    let mut out = Vec::new();
    for p in profiles {
        let Some(t) = tokens.iter().find(|t| t.profile_id == p.id) else {
            continue;
        };
        let entry = said.0.entry(p.id.clone()).or_default();
        let warning = |kind, at, detail| Warning {
            profile_id: p.id.clone(),
            profile_name: p.config.name.clone(),
            kind,
            at,
            detail,
        };
        // Said as soon as the refresher knows (the access token may still work for a while).
        if t.state(now) == TokenState::NeedsLogin || t.needs_login.is_some() {
            let this = t.access.fingerprint.clone();
            if entry.sign_in.as_ref() != Some(&this) {
                entry.sign_in = Some(this);
                out.push(warning(
                    WarningKind::NeedsSignIn,
                    None,
                    t.needs_login.clone().map(|why| {
                        // The stored reason already names the profile; keep what follows.
                        why.split_once(": ")
                            .map(|(_, rest)| rest.to_owned())
                            .unwrap_or(why)
                    }),
                ));
            }
            continue;
        }
        // Only a sign-in renews a token whose grant is interactive: a client-credentials
        // profile fetches a new token by itself when its refresh token has run out.
        if window_ms > 0
            && p.config.grant.interactive()
            && t.refresh.is_some()
            && let Some(at) = t.refresh_expires_at
            && at > now
            && at - now <= window_ms
            && entry.expiring != Some(at)
        {
            entry.expiring = Some(at);
            out.push(warning(WarningKind::RefreshExpiring, Some(at), None));
        }
    }
    out
}

/// The next moment after `now` at which [`due`] can find something new without any token
/// changing: a refresh token entering the window, an access token running out.
pub fn next_look(tokens: &[TokenSet], now: Millis, window_ms: Millis) -> Option<Millis> {
    let mut next: Option<Millis> = None;
    let mut consider = |at: Millis| {
        if at > now {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    };
    for t in tokens {
        if let Some(at) = t.access_expires_at {
            consider(at + 1);
        }
        if let Some(at) = t.refresh_expires_at.filter(|_| t.refresh.is_some()) {
            if window_ms > 0 {
                consider(at - window_ms);
            }
            consider(at + 1);
        }
    }
    next
}

/// Gives each due warning to `show`, for as long as `stop` is not cancelled: at start, after
/// every change of tokens or profiles in this process, when [`next_look`] says, and at least
/// once a minute.
pub async fn run(core: Arc<Core>, show: impl Fn(Notice) + Send, stop: CancellationToken) {
    loop {
        let changed = core.changed();
        let next = match core.take_warnings() {
            Ok((warnings, next)) => {
                for n in notices(&warnings, core.now()) {
                    show(n);
                }
                next
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiry warnings not checked");
                None
            }
        };
        let sleep = next
            .map(|at| Duration::from_millis((at - core.now()).max(0) as u64))
            .unwrap_or(POLL)
            .min(POLL);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(sleep) => {}
            _ = changed => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::GrantKind;
    use crate::tray::tests::{HOUR, MIN, T0, profile, token, with_refresh};

    const WINDOW: Millis = 24 * HOUR;
    const CODE: GrantKind = GrantKind::AuthorizationCode;

    #[test]
    fn a_refresh_token_entering_the_window_is_warned_about_once() {
        let profiles = [profile("corp", CODE)];
        // Access tokens of an hour, renewed; the refresh token ends in 30 h.
        let ends = T0 + 30 * HOUR;
        let tokens = [with_refresh(token("corp", CODE, T0, T0 + HOUR), Some(ends))];
        let mut said = Notified::default();
        assert!(due(&profiles, &tokens, &mut said, T0, WINDOW).is_empty());
        assert_eq!(
            next_look(&tokens, T0, WINDOW),
            Some(T0 + HOUR + 1),
            "the access token's expiry comes first"
        );
        // 6 h later the refresh token is 24 h from its end: due.
        let now = ends - WINDOW;
        let got = due(&profiles, &tokens, &mut said, now, WINDOW);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, WarningKind::RefreshExpiring);
        let n = got[0].notice(now);
        assert_eq!(
            n.title,
            "Sign in to \"corp\" again before 2027-01-16 14:00 UTC"
        );
        assert!(n.body.contains("runs out in 1 d"), "{}", n.body);
        // Not again: a minute later, an hour later, nor when the refresh rotates the token but
        // keeps its end.
        assert!(due(&profiles, &tokens, &mut said, now + MIN, WINDOW).is_empty());
        let rotated = [with_refresh(
            token("corp", CODE, now + HOUR, now + 2 * HOUR),
            Some(ends),
        )];
        assert!(due(&profiles, &rotated, &mut said, now + HOUR, WINDOW).is_empty());
    }

    #[test]
    fn needing_a_sign_in_is_said_once_more_then_again_only_for_a_new_token() {
        let profiles = [profile("corp", CODE)];
        let ends = T0 + 2 * HOUR;
        let first = [with_refresh(token("corp", CODE, T0, T0 + HOUR), Some(ends))];
        let mut said = Notified::default();
        assert_eq!(
            due(&profiles, &first, &mut said, T0, WINDOW)[0].kind,
            WarningKind::RefreshExpiring,
            "2 h left: within the 24 h window"
        );
        assert_eq!(next_look(&first, T0, WINDOW), Some(T0 + HOUR + 1));
        // Both run out: the token needs a sign-in. Said once.
        let later = ends + MIN;
        let got = due(&profiles, &first, &mut said, later, WINDOW);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, WarningKind::NeedsSignIn);
        assert_eq!(
            got[0].notice(later).title,
            "\"corp\" needs you to sign in again"
        );
        assert!(due(&profiles, &first, &mut said, later + HOUR, WINDOW).is_empty());
        // The user signs in: a new token, later needing a sign-in again — a new event.
        let second = [token("corp", CODE, later + HOUR, later + 2 * HOUR)];
        assert!(due(&profiles, &second, &mut said, later + HOUR, WINDOW).is_empty());
        let got = due(&profiles, &second, &mut said, later + 3 * HOUR, WINDOW);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, WarningKind::NeedsSignIn);
    }

    #[test]
    fn the_refresher_s_reason_is_the_body_and_headless_grants_are_not_warned() {
        let profiles = [
            profile("corp", CODE),
            profile("api", GrantKind::ClientCredentials),
        ];
        let mut corp = with_refresh(token("corp", CODE, T0, T0 + HOUR), Some(T0 + 5 * HOUR));
        corp.needs_login = Some(
            "Profile \"corp\" needs you to sign in again: the provider refused the refresh \
             token (invalid_grant)"
                .into(),
        );
        let api = with_refresh(
            token("api", GrantKind::ClientCredentials, T0, T0 + HOUR),
            Some(T0 + 2 * HOUR),
        );
        let mut said = Notified::default();
        let got = due(&profiles, &[corp, api], &mut said, T0 + 2 * HOUR, WINDOW);
        assert_eq!(
            got.len(),
            1,
            "the client-credentials profile renews by itself"
        );
        assert_eq!(
            got[0].notice(T0).body,
            "the provider refused the refresh token (invalid_grant)"
        );
    }

    #[test]
    fn a_window_of_zero_turns_expiry_warnings_off_but_not_sign_in_ones() {
        let profiles = [profile("corp", CODE)];
        let tokens = [with_refresh(
            token("corp", CODE, T0, T0 + HOUR),
            Some(T0 + 2 * HOUR),
        )];
        let mut said = Notified::default();
        assert!(due(&profiles, &tokens, &mut said, T0, 0).is_empty());
        assert_eq!(next_look(&tokens, T0, 0), Some(T0 + HOUR + 1));
        assert_eq!(
            due(&profiles, &tokens, &mut said, T0 + 3 * HOUR, 0)[0].kind,
            WarningKind::NeedsSignIn
        );
    }

    #[test]
    fn what_was_said_survives_a_round_trip_and_forgets_deleted_profiles() {
        let tokens = [with_refresh(
            token("corp", CODE, T0, T0 + HOUR),
            Some(T0 + 2 * HOUR),
        )];
        let mut said = Notified::default();
        assert_eq!(
            due(&[profile("corp", CODE)], &tokens, &mut said, T0, WINDOW).len(),
            1
        );
        let mut restored: Notified =
            serde_json::from_str(&serde_json::to_string(&said).unwrap()).unwrap();
        assert_eq!(restored, said);
        assert!(
            due(&[profile("corp", CODE)], &tokens, &mut restored, T0, WINDOW).is_empty(),
            "a restart does not say it again"
        );
        due(&[], &tokens, &mut restored, T0, WINDOW);
        assert_eq!(restored, Notified::default());
    }

    #[test]
    fn many_warnings_at_once_are_one_notification() {
        let w = |name: &str| Warning {
            profile_id: ProfileId::from(name),
            profile_name: name.into(),
            kind: WarningKind::NeedsSignIn,
            at: None,
            detail: None,
        };
        let three: Vec<Warning> = ["a", "b", "c"].map(w).into();
        assert_eq!(notices(&three, T0).len(), 3);
        let four: Vec<Warning> = ["a", "b", "c", "d"].map(w).into();
        let n = notices(&four, T0);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "4 TokenDesk profiles need a sign-in soon");
        assert!(n[0].body.contains("a, b, c, d"));
        assert_eq!(n[0].profile_id, None);
    }
}
