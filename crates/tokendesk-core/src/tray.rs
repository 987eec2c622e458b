//! What the tray menu lists, as data: each profile with the state of its token and the time
//! left, a "Copy access token" entry where there is a token to copy, the nearest expiry of all,
//! "Open TokenDesk" and "Quit". The shell draws these entries and does what they say; it decides
//! nothing itself.

use crate::clock::Millis;
use crate::profile::{Profile, ProfileId};
use crate::token::{TokenSet, TokenState};

/// A valid access token with at most this share of its lifetime left is shown as expiring (the
/// same fifth as the window's "expiring" shade).
const EXPIRING_SHARE: f64 = 0.2;

/// A profile's state as the tray tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    Valid,
    /// The access token is in its last fifth, or the refresh token runs out within the warning
    /// window (the user will have to sign in again soon).
    Expiring,
    /// Nothing renews the token without the user.
    NeedsSignIn,
    /// Expired, but a refresh or a new client-credentials request renews it.
    Expired,
    /// Revoked, or the provider's status is not "approved".
    Unusable,
    NoToken,
}

impl TrayState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expiring => "expiring",
            Self::NeedsSignIn => "needs sign-in",
            Self::Expired => "expired",
            Self::Unusable => "not usable",
            Self::NoToken => "no token",
        }
    }

    /// A mark before the name, so the state reads at a glance in a plain-text menu.
    fn mark(self) -> &'static str {
        match self {
            Self::Valid => "●",
            Self::Expiring => "◐",
            Self::NeedsSignIn | Self::Unusable => "✕",
            Self::Expired | Self::NoToken => "○",
        }
    }
}

/// One entry of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayEntry {
    /// A line that only informs (greyed out).
    Note(String),
    /// A profile: choosing it opens the window at the profile.
    Profile {
        id: ProfileId,
        label: String,
        state: TrayState,
    },
    /// Copies the profile's access token (renewed first when needed), cleared like the window's.
    Copy {
        id: ProfileId,
        label: String,
    },
    Separator,
    Open,
    Quit,
}

impl TrayEntry {
    /// The text the menu shows.
    pub fn text(&self) -> &str {
        match self {
            Self::Note(s) | Self::Profile { label: s, .. } | Self::Copy { label: s, .. } => s,
            Self::Separator => "",
            Self::Open => "Open TokenDesk",
            Self::Quit => "Quit TokenDesk",
        }
    }

    /// The menu item id the shell gives the entry, and reads back when it is chosen.
    pub fn item_id(&self) -> Option<String> {
        match self {
            Self::Profile { id, .. } => Some(format!("profile:{id}")),
            Self::Copy { id, .. } => Some(format!("copy:{id}")),
            Self::Open => Some("open".into()),
            Self::Quit => Some("quit".into()),
            Self::Note(_) | Self::Separator => None,
        }
    }
}

/// What a chosen menu item asks for (the inverse of [`TrayEntry::item_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    OpenProfile(ProfileId),
    Copy(ProfileId),
    Open,
    Quit,
}

impl TrayAction {
    pub fn parse(item_id: &str) -> Option<Self> {
        match item_id.split_once(':') {
            Some(("profile", id)) => Some(Self::OpenProfile(ProfileId::from(id))),
            Some(("copy", id)) => Some(Self::Copy(ProfileId::from(id))),
            None if item_id == "open" => Some(Self::Open),
            None if item_id == "quit" => Some(Self::Quit),
            _ => None,
        }
    }
}

/// The whole menu and the icon's tooltip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenu {
    pub tooltip: String,
    pub entries: Vec<TrayEntry>,
}

/// The state the tray shows for a profile's token at `now`; `warn_ms` is the warning window
/// for refresh tokens (0: no warning).
pub fn state_of(token: Option<&TokenSet>, now: Millis, warn_ms: Millis) -> TrayState {
    let Some(t) = token else {
        return TrayState::NoToken;
    };
    match t.state(now) {
        TokenState::NeedsLogin => TrayState::NeedsSignIn,
        TokenState::Expired => TrayState::Expired,
        TokenState::NotApproved | TokenState::Revoked => TrayState::Unusable,
        TokenState::Valid => {
            let refresh_ending = warn_ms > 0
                && t.refresh.is_some()
                && t.refresh_expires_at
                    .is_some_and(|at| at > now && at - now <= warn_ms);
            let access_ending = t.access_expires_at.is_some_and(|at| {
                let life = (at - t.obtained_at).max(1) as f64;
                ((at - now) as f64) / life <= EXPIRING_SHARE
            });
            // A refresh already refused: it works until it expires, then needs a sign-in.
            let doomed = t.needs_login.is_some();
            if refresh_ending || access_ending || doomed {
                TrayState::Expiring
            } else {
                TrayState::Valid
            }
        }
    }
}

/// "4 min", "2 h 5 min", "3 d": how long until `at`, coarse enough for a menu that is redrawn
/// every few seconds.
pub fn time_left(at: Millis, now: Millis) -> String {
    let s = (at - now).max(0) / 1000;
    match s {
        0..60 => "under a minute".to_owned(),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 if s % 3600 >= 60 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// The expiry the user cares about next for one token: the access token while it is valid,
/// else the refresh token while it is usable. `(what, when)`.
fn next_expiry(t: &TokenSet, now: Millis) -> Option<(&'static str, Millis)> {
    let access = t
        .access_expires_at
        .filter(|&at| at > now)
        .map(|at| ("access token", at));
    let refresh = t
        .refresh
        .as_ref()
        .and(t.refresh_expires_at)
        .filter(|&at| at > now)
        .map(|at| ("refresh token", at));
    match (access, refresh) {
        (Some(a), Some(r)) if r.1 < a.1 => Some(r),
        (Some(a), _) => Some(a),
        (None, r) => r,
    }
}

/// The tray menu for these profiles and tokens at `now`. Profiles keep their order (the
/// store's, by name); `warn_ms` as in [`state_of`].
pub fn menu(profiles: &[Profile], tokens: &[TokenSet], now: Millis, warn_ms: Millis) -> TrayMenu {
    let mut entries = Vec::new();
    let mut nearest: Option<(&str, &str, Millis)> = None;
    let mut attention = 0;
    for p in profiles {
        let token = tokens.iter().find(|t| t.profile_id == p.id);
        let state = state_of(token, now, warn_ms);
        let name = p.config.name.as_str();
        let expiry = token.and_then(|t| next_expiry(t, now));
        let label = match (state, expiry) {
            (TrayState::Valid | TrayState::Expiring, Some((what, at))) => {
                let which = if what == "access token" {
                    String::new()
                } else {
                    format!(" ({what})")
                };
                format!(
                    "{} {name} — {}, {} left{which}",
                    state.mark(),
                    state.label(),
                    time_left(at, now)
                )
            }
            _ => format!("{} {name} — {}", state.mark(), state.label()),
        };
        if matches!(state, TrayState::Expiring | TrayState::NeedsSignIn) {
            attention += 1;
        }
        if let Some((what, at)) = expiry
            && nearest.is_none_or(|(_, _, n)| at < n)
        {
            nearest = Some((name, what, at));
        }
        entries.push(TrayEntry::Profile {
            id: p.id.clone(),
            label,
            state,
        });
        // A token the agent could hand out: valid, or renewable without the user.
        if matches!(
            state,
            TrayState::Valid | TrayState::Expiring | TrayState::Expired
        ) {
            entries.push(TrayEntry::Copy {
                id: p.id.clone(),
                label: "    Copy access token".into(),
            });
        }
    }
    let mut head = Vec::new();
    match nearest {
        Some((name, what, at)) => head.push(TrayEntry::Note(format!(
            "Nearest expiry: {name}, {what} in {}",
            time_left(at, now)
        ))),
        None if profiles.is_empty() => head.push(TrayEntry::Note("No profiles yet".into())),
        None => head.push(TrayEntry::Note("No token expires soon".into())),
    }
    head.push(TrayEntry::Separator);
    entries.splice(0..0, head);
    if !profiles.is_empty() {
        entries.push(TrayEntry::Separator);
    }
    entries.push(TrayEntry::Open);
    entries.push(TrayEntry::Quit);
    let tooltip = match (profiles.len(), attention) {
        (0, _) => "TokenDesk".to_owned(),
        (n, 0) => format!("TokenDesk: {n} profiles"),
        (n, a) => format!("TokenDesk: {n} profiles, {a} need attention"),
    };
    TrayMenu { tooltip, entries }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::{GrantKind, ProfileConfig};
    use crate::token::TokenRef;

    pub const MIN: Millis = 60_000;
    pub const HOUR: Millis = 60 * MIN;
    pub const T0: Millis = 1_800_000_000_000;

    pub fn profile(id: &str, grant: GrantKind) -> Profile {
        Profile {
            id: ProfileId::from(id),
            config: ProfileConfig {
                name: id.to_owned(),
                grant,
                ..Default::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    pub fn token(id: &str, grant: GrantKind, obtained: Millis, access: Millis) -> TokenSet {
        TokenSet {
            profile_id: ProfileId::from(id),
            grant,
            token_type: "Bearer".into(),
            scope: None,
            status: None,
            obtained_at: obtained,
            access_expires_at: Some(access),
            refresh_expires_at: None,
            id_token_expires_at: None,
            refresh_count: None,
            access: TokenRef::of(&format!("access-{id}-{obtained}")),
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

    pub fn with_refresh(mut t: TokenSet, expires: Option<Millis>) -> TokenSet {
        t.refresh = Some(TokenRef::of(&format!("refresh-{}", t.obtained_at)));
        t.refresh_expires_at = expires;
        t
    }

    fn texts(m: &TrayMenu) -> Vec<&str> {
        m.entries.iter().map(TrayEntry::text).collect()
    }

    #[test]
    fn lists_each_profile_with_its_state_time_left_and_a_copy_entry() {
        let cc = GrantKind::ClientCredentials;
        let code = GrantKind::AuthorizationCode;
        let profiles = [
            profile("api", cc),
            profile("bank", code),
            profile("corp", code),
            profile("new", cc),
        ];
        let tokens = [
            // 50 of 60 minutes left.
            token("api", cc, T0 - 10 * MIN, T0 + 50 * MIN),
            // Access valid for 40 min, but the refresh token ends in 3 h: within the 24 h window.
            with_refresh(
                token("bank", code, T0 - 5 * MIN, T0 + 40 * MIN),
                Some(T0 + 3 * HOUR),
            ),
            // Expired, and its refresh token too: only a sign-in helps.
            with_refresh(
                token("corp", code, T0 - 2 * HOUR, T0 - HOUR),
                Some(T0 - MIN),
            ),
        ];
        let m = menu(&profiles, &tokens, T0, 24 * HOUR);
        assert_eq!(
            texts(&m),
            [
                "Nearest expiry: bank, access token in 40 min",
                "",
                "● api — valid, 50 min left",
                "    Copy access token",
                "◐ bank — expiring, 40 min left",
                "    Copy access token",
                "✕ corp — needs sign-in",
                "○ new — no token",
                "",
                "Open TokenDesk",
                "Quit TokenDesk",
            ],
            "a profile that needs a sign-in or has no token has nothing to copy"
        );
        assert_eq!(m.tooltip, "TokenDesk: 4 profiles, 2 need attention");
        let states: Vec<TrayState> = m
            .entries
            .iter()
            .filter_map(|e| match e {
                TrayEntry::Profile { state, .. } => Some(*state),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                TrayState::Valid,
                TrayState::Expiring,
                TrayState::NeedsSignIn,
                TrayState::NoToken
            ]
        );
    }

    #[test]
    fn the_nearest_expiry_is_a_refresh_token_when_it_ends_first() {
        let code = GrantKind::AuthorizationCode;
        let tokens = [with_refresh(
            token("corp", code, T0, T0 + 2 * HOUR),
            Some(T0 + 30 * MIN),
        )];
        let m = menu(&[profile("corp", code)], &tokens, T0, 24 * HOUR);
        assert_eq!(
            texts(&m)[..3],
            [
                "Nearest expiry: corp, refresh token in 30 min",
                "",
                "◐ corp — expiring, 30 min left (refresh token)",
            ]
        );
        // Without a warning window, an hour-and-a-half of a two-hour token is simply valid.
        assert_eq!(
            state_of(Some(&tokens[0]), T0, 0),
            TrayState::Valid,
            "no refresh warning when warnings are off"
        );
    }

    #[test]
    fn a_valid_token_in_its_last_fifth_is_expiring_and_an_expired_one_can_still_be_copied() {
        let cc = GrantKind::ClientCredentials;
        let t = token("api", cc, T0 - 50 * MIN, T0 + 10 * MIN);
        assert_eq!(state_of(Some(&t), T0, 24 * HOUR), TrayState::Expiring);
        assert_eq!(
            state_of(Some(&t), T0 - 30 * MIN, 24 * HOUR),
            TrayState::Valid
        );
        let m = menu(&[profile("api", cc)], &[t], T0 + 11 * MIN, 24 * HOUR);
        assert_eq!(
            texts(&m),
            [
                "No token expires soon",
                "",
                "○ api — expired",
                "    Copy access token",
                "",
                "Open TokenDesk",
                "Quit TokenDesk",
            ],
            "a client-credentials token is fetched anew on copy"
        );
    }

    #[test]
    fn an_empty_store_still_offers_open_and_quit() {
        let m = menu(&[], &[], T0, 24 * HOUR);
        assert_eq!(
            texts(&m),
            ["No profiles yet", "", "Open TokenDesk", "Quit TokenDesk"]
        );
        assert_eq!(m.tooltip, "TokenDesk");
    }

    #[test]
    fn item_ids_read_back_as_the_action_they_stand_for() {
        let id = ProfileId::from("a:b");
        for (entry, action) in [
            (
                TrayEntry::Profile {
                    id: id.clone(),
                    label: String::new(),
                    state: TrayState::Valid,
                },
                TrayAction::OpenProfile(id.clone()),
            ),
            (
                TrayEntry::Copy {
                    id: id.clone(),
                    label: String::new(),
                },
                TrayAction::Copy(id.clone()),
            ),
            (TrayEntry::Open, TrayAction::Open),
            (TrayEntry::Quit, TrayAction::Quit),
        ] {
            assert_eq!(
                TrayAction::parse(&entry.item_id().unwrap()),
                Some(action),
                "{entry:?}"
            );
        }
        assert_eq!(TrayEntry::Note("x".into()).item_id(), None);
        assert_eq!(TrayAction::parse("other"), None);
    }

    #[test]
    fn time_left_is_coarse() {
        assert_eq!(time_left(T0 + 59_999, T0), "under a minute");
        assert_eq!(time_left(T0 + 4 * MIN + 5_000, T0), "4 min");
        assert_eq!(time_left(T0 + 2 * HOUR + 5 * MIN, T0), "2 h 5 min");
        assert_eq!(time_left(T0 + 3 * HOUR, T0), "3 h");
        assert_eq!(time_left(T0 + 50 * HOUR, T0), "2 d");
        assert_eq!(time_left(T0 - 1, T0), "under a minute");
    }
}
