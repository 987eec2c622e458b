//! A token set as TokenDesk keeps it: absolute expiries, status, counters and every raw field the
//! provider sent — the token values themselves live in the keychain only.

use oauth2::TokenResponse as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

use crate::clock::Millis;
use crate::flow::token_exchange::ExchangeToken;
use crate::inspect;
use crate::profile::{GrantKind, ProfileId};
use crate::provider::lenient;
use crate::provider::response::TokenResponse;
use crate::secret::{fingerprint, mask};

/// Metadata of a stored token set; safe to store in SQLite and to send to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TokenSet {
    pub profile_id: ProfileId,
    pub grant: GrantKind,
    /// As the provider sent it (`Bearer`, `BearerToken`, `DPoP`, ...). TokenDesk sends
    /// `Bearer`, or `DPoP` with a proof for a DPoP-bound token.
    pub token_type: String,
    pub scope: Option<String>,
    /// The gateway's `status` (approved, revoked, ...), if sent.
    pub status: Option<String>,
    pub obtained_at: Millis,
    pub access_expires_at: Option<Millis>,
    pub refresh_expires_at: Option<Millis>,
    pub id_token_expires_at: Option<Millis>,
    /// The provider's `refresh_count`, if sent.
    pub refresh_count: Option<i64>,
    pub access: TokenRef,
    pub refresh: Option<TokenRef>,
    pub id_token: Option<TokenRef>,
    /// Every field of the last token response, token values replaced by `<redacted>`.
    pub raw: Map<String, Value>,
    /// Set when the token cannot be renewed without the user signing in again.
    pub needs_login: Option<String>,
    /// The ID token's validation at sign-in (signature, iss, aud, exp, nonce).
    #[serde(default)]
    pub id_token_validation: Option<inspect::IdTokenValidation>,
    /// When the access token was revoked through TokenDesk.
    #[serde(default)]
    pub revoked_at: Option<Millis>,
    /// After a failed automatic refresh: when it is tried again.
    #[serde(default)]
    pub retry_at: Option<Millis>,
    /// After a failed automatic refresh: what went wrong.
    #[serde(default)]
    pub last_error: Option<String>,
    /// A DPoP-bound token (RFC 9449): the thumbprint (`jkt`) of the key it is bound to.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// `issued_token_type` of a token exchange's answer (RFC 8693 §2.2.1).
    #[serde(default)]
    pub issued_token_type: Option<String>,
    /// With a token exchange: the token it was exchanged from (the subject token).
    #[serde(default)]
    pub exchanged_from: Option<ChainLink>,
    /// With a token exchange on behalf of an actor: the actor token it carried.
    #[serde(default)]
    pub exchange_actor: Option<ChainLink>,
    /// Rich Authorization Requests (RFC 9396): the details the profile asks for and those the
    /// token response granted, with every difference.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub authorization_details: Option<crate::flow::rar::DetailsComparison>,
    /// What TokenDesk read into the answer beyond its plain words: a lifetime it could not
    /// know, a refresh token kept, a provider quirk its preset switched on. Shown in the
    /// inspector, so nobody has to guess why a field looks the way it does.
    #[serde(default)]
    pub notes: Vec<TokenNote>,
}

/// One thing TokenDesk read into a token answer, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TokenNote {
    /// A stable name (`no_expires_in`, `kept_refresh_token`, `comma_separated_scope`, …).
    pub kind: String,
    pub text: String,
}

impl TokenNote {
    pub fn new(kind: &str, text: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            text: text.into(),
        }
    }
}

/// Which profile's token another token was exchanged from: never the value, its fingerprint
/// (to tell whether the profile's token has changed since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChainLink {
    pub profile_id: ProfileId,
    /// The profile's name at the time of the exchange.
    pub profile_name: String,
    pub token: ExchangeToken,
    /// [`TokenRef::fingerprint`] of the token that was sent.
    pub fingerprint: String,
}

impl ChainLink {
    /// "profile \"ci\" (access token)".
    pub fn describe(&self) -> String {
        format!("profile \"{}\" ({})", self.profile_name, self.token.label())
    }
}

/// What we keep about one token value: never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TokenRef {
    /// A masked preview such as `eyJhbG…x5UQ`.
    pub preview: String,
    /// First 8 bytes of its SHA-256, to tell tokens apart (rotation).
    pub fingerprint: String,
    pub is_jwt: bool,
}

impl TokenRef {
    pub fn of(value: &str) -> Self {
        Self {
            preview: mask(value),
            fingerprint: fingerprint(value),
            is_jwt: inspect::decode_jwt(value).is_ok(),
        }
    }
}

/// The state of a token set at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Valid,
    /// The access token has expired; a refresh or new fetch can renew it.
    Expired,
    /// The access token expired and nothing can renew it without the user.
    NeedsLogin,
    /// The provider says the token is not approved (revoked, rejected, pending, ...).
    NotApproved,
    /// The access token was revoked through TokenDesk.
    Revoked,
}

impl TokenSet {
    /// Builds the set from a token response received at `now`, carrying over what the response
    /// leaves out from `previous` (the refresh token and its expiry, the ID token, the scope).
    pub fn from_response(
        profile_id: ProfileId,
        grant: GrantKind,
        response: &TokenResponse,
        now: Millis,
        previous: Option<&TokenSet>,
    ) -> Self {
        let access = response.access_token().secret();
        let access_jwt_exp = jwt_exp_ms(access);
        let access_expires_at = response
            .expires_in()
            .map(|d| after(now, d.as_millis()))
            .or(response.expires_at_ms())
            .or(access_jwt_exp);

        let new_refresh = response.refresh_token().map(|r| r.secret().as_str());
        let refresh = match new_refresh {
            Some(r) => Some(TokenRef::of(r)),
            None => previous.and_then(|p| p.refresh.clone()),
        };
        let refresh_expires_at = match new_refresh {
            Some(r) => response
                .raw_field("refresh_token_expires_in")
                .and_then(lenient::number)
                // Zero or below: the refresh token is already dead, not immortal.
                .map(|s| now.saturating_add((s.max(0.0) * 1000.0) as Millis))
                .or_else(|| jwt_exp_ms(r)),
            None => previous.and_then(|p| p.refresh_expires_at),
        };

        let mut notes = Vec::new();
        if access_expires_at.is_none() {
            notes.push(TokenNote::new(
                "no_expires_in",
                "The answer has no expires_in, and the access token carries no exp: its \
                 lifetime is unknown. TokenDesk counts it as valid until an API answers 401, \
                 then renews it.",
            ));
        }
        if new_refresh.is_none() && refresh.is_some() {
            notes.push(TokenNote::new(
                "kept_refresh_token",
                "The answer carried no refresh token: the one held before is kept (RFC 6749 \
                 §6 lets a provider keep it unchanged).",
            ));
        }

        let id_token = response.id_token();
        let (id_ref, id_exp) = match id_token {
            Some(t) => (Some(TokenRef::of(t)), jwt_exp_ms(t)),
            None => (
                previous.and_then(|p| p.id_token.clone()),
                previous.and_then(|p| p.id_token_expires_at),
            ),
        };

        Self {
            profile_id,
            grant,
            token_type: response.token_type_raw(),
            scope: response
                .scope_raw()
                .or_else(|| previous.and_then(|p| p.scope.clone())),
            status: response.raw_field("status").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
            obtained_at: now,
            access_expires_at,
            refresh_expires_at,
            id_token_expires_at: id_exp,
            refresh_count: response
                .raw_field("refresh_count")
                .and_then(lenient::integer),
            access: TokenRef::of(access),
            refresh,
            id_token: id_ref,
            raw: response.raw_redacted(),
            needs_login: None,
            id_token_validation: match id_token {
                Some(_) => None,
                None => previous.and_then(|p| p.id_token_validation.clone()),
            },
            revoked_at: None,
            retry_at: None,
            last_error: None,
            dpop_jkt: None,
            issued_token_type: response
                .raw_field("issued_token_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            exchanged_from: previous.and_then(|p| p.exchanged_from.clone()),
            exchange_actor: previous.and_then(|p| p.exchange_actor.clone()),
            authorization_details: None,
            notes,
        }
    }

    /// The link the token set keeps of `kind`: its fingerprint, if it holds one.
    pub fn fingerprint_of(&self, kind: ExchangeToken) -> Option<&str> {
        match kind {
            ExchangeToken::Access => Some(self.access.fingerprint.as_str()),
            ExchangeToken::Id => self.id_token.as_ref().map(|t| t.fingerprint.as_str()),
        }
    }

    /// Whether the response rotated the refresh token relative to `previous`.
    pub fn rotated_from(&self, previous: Option<&TokenSet>) -> bool {
        match (previous.and_then(|p| p.refresh.as_ref()), &self.refresh) {
            (Some(old), Some(new)) => old.fingerprint != new.fingerprint,
            _ => false,
        }
    }

    /// Whether a refresh token is held and not known to have expired at `now`.
    pub fn refresh_usable(&self, now: Millis) -> bool {
        self.glance().refresh_usable(now)
    }

    pub fn access_valid_for(&self, now: Millis) -> Option<Millis> {
        self.access_expires_at.map(|t| t - now)
    }

    pub fn state(&self, now: Millis) -> TokenState {
        self.glance().state(now)
    }

    /// What the profile list shows of this set: its state's inputs, expiries and counter.
    pub fn glance(&self) -> TokenGlance {
        TokenGlance {
            grant: self.grant,
            revoked: self.revoked_at.is_some(),
            not_approved: self
                .status
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case("approved") && !s.is_empty()),
            needs_login: self.needs_login.is_some(),
            access_expires_at: self.access_expires_at,
            has_refresh: self.refresh.is_some(),
            refresh_expires_at: self.refresh_expires_at,
            refresh_count: self.refresh_count,
        }
    }
}

/// The few facts of a token set a listing needs, kept beside it in the store so that listing
/// 10,000 profiles reads 10,000 small records, not 10,000 token sets (bench/list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGlance {
    pub grant: GrantKind,
    pub revoked: bool,
    /// The provider's `status` says something other than approved.
    pub not_approved: bool,
    pub needs_login: bool,
    pub access_expires_at: Option<Millis>,
    pub has_refresh: bool,
    pub refresh_expires_at: Option<Millis>,
    pub refresh_count: Option<i64>,
}

impl TokenGlance {
    pub fn refresh_usable(&self, now: Millis) -> bool {
        self.has_refresh && self.refresh_expires_at.is_none_or(|t| t > now)
    }

    /// The state at `now`: [`TokenSet::state`] is this.
    pub fn state(&self, now: Millis) -> TokenState {
        if self.revoked {
            return TokenState::Revoked;
        }
        if self.not_approved {
            return TokenState::NotApproved;
        }
        let expired = self.access_expires_at.is_some_and(|t| t <= now);
        if !expired {
            return TokenState::Valid;
        }
        if self.needs_login || (self.grant.interactive() && !self.refresh_usable(now)) {
            TokenState::NeedsLogin
        } else {
            TokenState::Expired
        }
    }
}

/// `now` plus a lifetime in milliseconds, saturating: a provider's absurd lifetime (`expires_in`
/// of 1e300) is "as late as can be", never an overflow into the past.
pub fn after(now: Millis, lifetime_ms: u128) -> Millis {
    now.saturating_add(Millis::try_from(lifetime_ms).unwrap_or(Millis::MAX))
}

fn jwt_exp_ms(token: &str) -> Option<Millis> {
    inspect::decode_jwt(token)
        .ok()
        .and_then(|j| j.claims.get("exp").and_then(lenient::epoch_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(v: Value) -> TokenResponse {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn gateway_response_gives_absolute_expiries_and_counters() {
        let now = 1_700_000_000_000;
        let r = response(json!({
            "access_token": "AT-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "token_type": "BearerToken",
            "expires_in": "3599", "refresh_token": "RT-bbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "refresh_token_expires_in": "899", "refresh_count": "3", "status": "approved",
            "issued_at": "1700000000123", "scope": ""
        }));
        let t = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::ClientCredentials,
            &r,
            now,
            None,
        );
        assert_eq!(t.access_expires_at, Some(now + 3_599_000));
        assert_eq!(
            t.refresh_expires_at,
            Some(now + 899_000),
            "the refresh token expires first"
        );
        assert_eq!(t.refresh_count, Some(3));
        assert_eq!(t.token_type, "BearerToken");
        assert_eq!(t.status.as_deref(), Some("approved"));
        assert_eq!(t.scope.as_deref(), Some(""));
        assert_eq!(t.raw["issued_at"], "1700000000123");
        assert!(!serde_json::to_string(&t).unwrap().contains("AT-aaaa"));
        assert_eq!(t.state(now), TokenState::Valid);
        assert_eq!(t.state(now + 3_600_000), TokenState::Expired);
    }

    #[test]
    fn refresh_without_new_refresh_token_keeps_the_old_one() {
        let now = 1_000_000;
        let first = response(
            json!({"access_token": "a1-xxxxxxxxxxxxxxxxxxxxxxxxx", "expires_in": 60, "refresh_token": "r1-xxxxxxxxxxxxxxxxxxxxxxxxxxx", "refresh_token_expires_in": 600, "scope": "s"}),
        );
        let t1 = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::AuthorizationCode,
            &first,
            now,
            None,
        );
        let second =
            response(json!({"access_token": "a2-xxxxxxxxxxxxxxxxxxxxxxxxxx", "expires_in": 60}));
        let t2 = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::AuthorizationCode,
            &second,
            now + 30_000,
            Some(&t1),
        );
        assert_eq!(t2.refresh, t1.refresh);
        assert_eq!(t2.refresh_expires_at, t1.refresh_expires_at);
        assert_eq!(t2.scope.as_deref(), Some("s"));
        assert!(!t2.rotated_from(Some(&t1)));
        let third = response(
            json!({"access_token": "a3-xxxxxxxxxxxxxxxxxxxxxxxxxx", "expires_in": 60, "refresh_token": "r2-yyyyyyyyyyyyyyyyyyyyyyyyyyy"}),
        );
        let t3 = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::AuthorizationCode,
            &third,
            now,
            Some(&t2),
        );
        assert!(t3.rotated_from(Some(&t2)));
    }

    #[test]
    fn auth_code_token_without_usable_refresh_needs_login_once_expired() {
        let r = response(
            json!({"access_token": "a", "expires_in": 10, "refresh_token": "r", "refresh_token_expires_in": 5}),
        );
        let t = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::AuthorizationCode,
            &r,
            0,
            None,
        );
        assert_eq!(t.state(11_000), TokenState::NeedsLogin);
        let revoked = response(json!({"access_token": "a", "status": "revoked"}));
        let t = TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::ClientCredentials,
            &revoked,
            0,
            None,
        );
        assert_eq!(t.state(0), TokenState::NotApproved);
    }
}
