//! Tokens: client credentials, refresh, the single flight per profile, storing a response
//! (keychain first, then metadata), the values kept in memory.

use std::collections::HashMap;
use std::time::Duration;

use oauth2::TokenResponse as _;

use super::Core;
use super::exchange;
use super::history::Attempt;
use super::login::IdTokenContext;
use crate::catalog;
use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::flow;
use crate::history::{self, EventKind, Trigger};
use crate::id_token::{self, Channel};
use crate::inspect::IdTokenValidation;
use crate::profile::{GrantKind, Profile, ProfileId};
use crate::provider::response::TokenResponse;
use crate::secret::{SecretKind, Sensitive, fingerprint};
use crate::token::{TokenSet, TokenState};

impl Core {
    pub fn token(&self, id: &ProfileId) -> Result<Option<TokenSet>> {
        self.store.get_token(id)
    }

    pub fn tokens(&self) -> Result<Vec<TokenSet>> {
        self.store.list_tokens()
    }

    /// The token sets of the given profiles (those that hold one) in one read: what the app
    /// fetches after `TokenChanged` events instead of every token set.
    pub fn tokens_of(&self, ids: &[ProfileId]) -> Result<Vec<TokenSet>> {
        self.store.tokens_of(ids)
    }

    /// Gets a new token with the profile's headless grant (client credentials, JWT bearer);
    /// a profile that signs in in the browser says so.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn fetch_token(&self, id: &ProfileId) -> Result<TokenSet> {
        let _flight = self.enter_flight(id).await?;
        self.acquire_locked(id, self.trigger()).await
    }

    /// A new token from the profile's headless grant, recorded in the history as an
    /// acquisition (a profile that signs in in the browser is refused, and nothing recorded).
    async fn acquire_locked(&self, id: &ProfileId, trigger: Trigger) -> Result<TokenSet> {
        let profile = self.profile_by_id(id)?;
        let spec = profile.config.grant.spec();
        if spec.fetch.is_none() {
            return Err(needs_login(&profile, "its grant signs in in the browser"));
        }
        let mut attempt = self.attempt(EventKind::Acquisition, id, trigger, spec.name);
        let result = match self.ready_profile(id).await {
            Ok(profile) => {
                self.fetch_locked(&profile, &mut attempt, Replacing::GrantOverStored)
                    .await
            }
            Err(e) => Err(e),
        };
        self.commit_attempt(attempt, result, None)
    }

    /// One headless grant request: the profile's steps first (their values feed its
    /// templates), then the grant as its registry entry says. The token set is written with
    /// the attempt's event ([`Core::commit_attempt`]). `over`: what the new grant replaces.
    async fn fetch_locked(
        &self,
        profile: &Profile,
        attempt: &mut Attempt<'_>,
        over: Replacing<'_>,
    ) -> Result<TokenSet> {
        let spec = profile.config.grant.spec();
        let Some(fetch) = spec.fetch else {
            return Err(needs_login(profile, "its grant signs in in the browser"));
        };
        // Other profiles' tokens first (renewed in their own flights): without them, steps
        // that register a consent would be wasted.
        let related = self.related_tokens(profile).await?;
        let values = self.run_steps(profile).await?;
        let signing_key = match spec.signs {
            true => self.secret(profile, SecretKind::PrivateKey).await?,
            false => None,
        };
        let (mut call, secret) = self
            .authed_call(profile, &format!("token:{}", spec.name), &[])
            .await?;
        if let Some(k) = &signing_key {
            call.scrub(k.expose());
        }
        for t in [&related.subject, &related.actor].into_iter().flatten() {
            call.scrub(t.value.expose());
        }
        let result = fetch(flow::FetchInput {
            profile,
            credential: secret.as_ref(),
            signing_key: signing_key.as_ref(),
            values: &values,
            related: &related,
            call: &call,
        })
        .await;
        self.stage(attempt, &call);
        let response = result.map_err(|e| catalog::explain(&profile.config, e))?;
        let chain = Chain {
            subject: related.subject.as_ref().map(exchange::chain_link),
            actor: related.actor.as_ref().map(exchange::chain_link),
        };
        self.persist_chained(profile, spec.kind, &response, over, None, chain)
            .await
    }

    /// Refreshes the token now: with the refresh token if there is a usable one, else (for
    /// client-credentials profiles) with a new client-credentials request.
    pub async fn refresh(&self, id: &ProfileId, trigger: Trigger) -> Result<TokenSet> {
        let _flight = self.enter_flight(id).await?;
        self.refresh_locked(id, trigger).await
    }

    /// A token valid for at least `min_valid`, refreshing or fetching only when needed.
    pub async fn ensure_token(
        &self,
        id: &ProfileId,
        min_valid: Duration,
        trigger: Trigger,
    ) -> Result<TokenSet> {
        let fresh = |t: &TokenSet, now: Millis| {
            t.state(now) == TokenState::Valid
                && t.access_valid_for(now)
                    // Saturating: `min_valid_secs` of u64::MAX from an agent request wrapped
                    // to -1000 ms ("any token will do") with `as`.
                    .is_none_or(|left| {
                        left >= Millis::try_from(min_valid.as_millis()).unwrap_or(Millis::MAX)
                    })
        };
        // An exchanged token whose subject token changed since is exchanged again.
        let current = |t: &TokenSet| -> Result<bool> {
            Ok(fresh(t, self.now()) && self.exchange_stale(t)?.is_none())
        };
        if let Some(t) = self.store.get_token(id)?
            && current(&t)?
        {
            return Ok(t);
        }
        let _flight = self.enter_flight(id).await?;
        match self.store.get_token(id)? {
            Some(t) if current(&t)? => Ok(t),
            Some(_) => self.refresh_locked(id, trigger).await,
            None => {
                let profile = self.profile_by_id(id)?;
                match profile.config.grant.spec().fetch {
                    Some(_) => self.acquire_locked(id, trigger).await,
                    None => Err(needs_login(&profile, "it has no token yet")),
                }
            }
        }
    }

    pub(super) async fn refresh_locked(
        &self,
        id: &ProfileId,
        trigger: Trigger,
    ) -> Result<TokenSet> {
        let profile = self.ready_profile(id).await?;
        let previous = self.store.get_token(id)?;
        self.refresh_profile(&profile, previous, trigger).await
    }

    /// [`Core::refresh_locked`] of a profile ready for requests (discovered), with the token
    /// set stored now (`previous`), both read inside the flight.
    #[tracing::instrument(skip_all, fields(profile = %profile.id, ?trigger), err)]
    async fn refresh_profile(
        &self,
        profile: &Profile,
        previous: Option<TokenSet>,
        trigger: Trigger,
    ) -> Result<TokenSet> {
        let id = &profile.id;
        // A grant that takes other profiles' tokens is renewed through them (exchanged
        // again with their current tokens), so its chain always names what it came from.
        let chained = !flow::token_exchange::links(&profile.config).is_empty();
        let refresh_token = match &previous {
            Some(p) if p.refresh_usable(self.now()) && !chained => {
                self.token_value(id, SecretKind::RefreshToken).await?
            }
            _ => None,
        };
        let grant = profile.config.grant.spec();
        let method = match (&refresh_token, grant.fetch) {
            (Some(_), _) => history::REFRESH_TOKEN,
            (None, Some(_)) => grant.name,
            (None, None) => {
                let why = match &previous {
                    None => "it has no token yet",
                    Some(p) if p.refresh.is_some() => "its refresh token has expired",
                    Some(_) => "the provider gave no refresh token",
                };
                let e = needs_login(profile, why);
                if let Some(p) = &previous {
                    self.mark_needs_login(p, &e.message)?;
                }
                return Err(e);
            }
        };
        let mut attempt = self.attempt(EventKind::Refresh, id, trigger, method);
        let result = match &refresh_token {
            Some(rt) => {
                let (call, secret) = self
                    .authed_call(profile, "token:refresh_token", &[rt.expose()])
                    .await?;
                let r = flow::refresh::request(profile, secret.as_ref(), rt, &call)
                    .await
                    .map_err(|e| catalog::explain(&profile.config, e));
                self.stage(&mut attempt, &call);
                match r {
                    Ok(response) => {
                        match self
                            .check_refreshed_id_token(profile, &response, secret.as_ref())
                            .await
                        {
                            Ok(validation) => {
                                let over = match &previous {
                                    Some(p) => Replacing::Refresh(p),
                                    None => Replacing::GrantOverStored,
                                };
                                self.persist_chained(
                                    profile,
                                    profile.config.grant,
                                    &response,
                                    over,
                                    validation,
                                    Chain::default(),
                                )
                                .await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            // What is stored now was read inside the flight: `previous`.
            None => {
                self.fetch_locked(profile, &mut attempt, Replacing::Grant(previous.as_ref()))
                    .await
            }
        };
        // A refused refresh token: a headless grant (client credentials, JWT bearer) gets a new
        // token the way it got its first one, in the same attempt (both requests in its exchange
        // log, its history event naming the grant that answered); any other grant needs a sign-in.
        let result = match result {
            Err(e) if e.code == ErrorCode::InvalidGrant && method == history::REFRESH_TOKEN => {
                match grant.fetch {
                    Some(_) => {
                        tracing::info!(profile = %id, error = %e.message, "refresh token refused: a new token by the profile's own grant");
                        attempt.answered_by(grant.name);
                        self.fetch_locked(
                            profile,
                            &mut attempt,
                            Replacing::Grant(previous.as_ref()),
                        )
                        .await
                    }
                    None => {
                        if let Some(p) = &previous {
                            self.mark_needs_login(p, &e.message)?;
                        }
                        Err(e)
                    }
                }
            }
            other => other,
        };
        self.commit_attempt(attempt, result, previous.as_ref())
    }

    /// A refresh that brings an ID token must bring one that passes its checks and names the
    /// subject the grant began with (OpenID Connect Core §12.2); else nothing is stored.
    async fn check_refreshed_id_token(
        &self,
        profile: &Profile,
        response: &TokenResponse,
        credential: Option<&Sensitive<String>>,
    ) -> Result<Option<IdTokenValidation>> {
        let Some(id_token) = response.id_token() else {
            return Ok(None);
        };
        let before = self
            .token_value(&profile.id, SecretKind::IdToken)
            .await?
            .and_then(|t| crate::inspect::subject(t.expose()));
        let v = self
            .check_id_token(
                profile,
                id_token,
                credential,
                IdTokenContext {
                    channel: Channel::Refresh,
                    nonce: None,
                    access_token: Some(response.access_token().secret()),
                    subject: before.as_deref(),
                    code: None,
                    state: None,
                    claims: None,
                    log: true,
                },
            )
            .await;
        id_token::require_valid(&v, "The refresh")?;
        Ok(Some(v))
    }

    pub(super) fn mark_needs_login(&self, token: &TokenSet, why: &str) -> Result<()> {
        let mut t = token.clone();
        t.needs_login = Some(why.to_owned());
        self.store.put_token(&t)?;
        self.emit(CoreEvent::TokenChanged {
            profile_id: t.profile_id,
        });
        Ok(())
    }

    /// Stores the token response of a new grant (a sign-in): the new refresh token first (a
    /// crash after the provider rotated it must not lose it), then the access and ID tokens,
    /// then the metadata.
    pub(super) async fn persist(
        &self,
        profile: &Profile,
        grant: GrantKind,
        response: &TokenResponse,
        validation: Option<IdTokenValidation>,
    ) -> Result<TokenSet> {
        self.persist_chained(
            profile,
            grant,
            response,
            Replacing::GrantOverStored,
            validation,
            Chain::default(),
        )
        .await
        .and_then(|token| {
            self.store.put_token(&token)?;
            tracing::info!(profile = %profile.id, "token stored");
            self.emit(CoreEvent::TokenChanged {
                profile_id: profile.id.clone(),
            });
            Ok(token)
        })
    }

    /// The keychain part of [`Core::persist`], for a token exchanged from other profiles'
    /// tokens too: the token values go to the keychain, and the token set to store is
    /// returned. Its metadata is written after that by the caller: by [`Core::persist`], or
    /// by [`Core::commit_attempt`] with the attempt's history event and exchanges, in one
    /// transaction.
    pub(super) async fn persist_chained(
        &self,
        profile: &Profile,
        grant: GrantKind,
        response: &TokenResponse,
        over: Replacing<'_>,
        validation: Option<IdTokenValidation>,
        chain: Chain,
    ) -> Result<TokenSet> {
        let id = &profile.id;
        let read;
        let (previous, stored) = match over {
            Replacing::Refresh(p) => (Some(p), None),
            Replacing::Grant(stored) => (None, stored),
            Replacing::GrantOverStored => {
                read = self.store.get_token(id)?;
                (None, read.as_ref())
            }
        };
        // A token that is dead on arrival is never stored, so never handed out.
        let now = self.now();
        let mut token = TokenSet::from_response(id.clone(), grant, response, now, previous);
        token.authorization_details = flow::rar::comparison(profile, &token.raw);
        crate::catalog::quirks::apply(&profile.config, &mut token);
        if chain.subject.is_some() {
            token.exchanged_from = chain.subject;
            token.exchange_actor = chain.actor;
        }
        let dead = response.expiry_problem(now).or_else(|| {
            token
                .access_expires_at
                .filter(|at| *at <= now)
                .map(|at| format!("its expiry lies {} s in the past", (now - at) / 1000))
        });
        if let Some(why) = dead {
            return Err(Error::new(
                ErrorCode::BadResponse,
                format!(
                    "The provider sent an access token that is already expired ({why}). It was \
                     not stored. Check the token lifetime configured at the provider, and the \
                     clocks of this machine and the provider."
                ),
            ));
        }
        // A request with a DPoP proof must get a token bound to its key (RFC 9449 §5).
        if let Some(key) = self.dpop_key(profile).await? {
            crate::dpop::check_binding(&key, &token.token_type, response.access_token().secret())?;
            token.dpop_jkt = Some(key.thumbprint().to_owned());
        }
        let new_grant = previous.is_none();
        // A new grant replaces what is stored: entries it does not renew are removed.
        let had = |f: fn(&TokenSet) -> bool| stored.is_some_and(f);
        match response.refresh_token() {
            Some(rt) => {
                self.put_value(id, SecretKind::RefreshToken, rt.secret())
                    .await?
            }
            None if new_grant && had(|t| t.refresh.is_some()) => {
                self.drop_value(id, SecretKind::RefreshToken).await?
            }
            None => {}
        }
        self.put_value(
            id,
            SecretKind::AccessToken,
            response.access_token().secret(),
        )
        .await?;
        match response.id_token() {
            Some(t) => self.put_value(id, SecretKind::IdToken, t).await?,
            None if new_grant && had(|t| t.id_token.is_some()) => {
                self.drop_value(id, SecretKind::IdToken).await?
            }
            None => {}
        }
        if validation.is_some() {
            token.id_token_validation = validation;
        }
        Ok(token)
    }

    pub(super) async fn put_value(
        &self,
        id: &ProfileId,
        kind: SecretKind,
        value: &str,
    ) -> Result<()> {
        let value = Sensitive::new(value.to_owned());
        self.keychain_set(id, kind, value.clone()).await?;
        self.lock_memo()
            .insert((id.clone(), kind), (fingerprint(value.expose()), value));
        Ok(())
    }

    pub(super) async fn drop_value(&self, id: &ProfileId, kind: SecretKind) -> Result<()> {
        self.lock_memo().remove(&(id.clone(), kind));
        self.keychain_delete(id, kind).await
    }

    /// A token value: from memory when the stored token set still names it, else the keychain.
    pub(super) async fn token_value(
        &self,
        id: &ProfileId,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>> {
        let expected = self.store.get_token(id)?.and_then(|t| match kind {
            SecretKind::AccessToken => Some(t.access.fingerprint),
            SecretKind::RefreshToken => t.refresh.map(|r| r.fingerprint),
            SecretKind::IdToken => t.id_token.map(|r| r.fingerprint),
            _ => None,
        });
        if let Some(fp) = &expected
            && let Some((memo_fp, value)) = self.lock_memo().get(&(id.clone(), kind))
            && memo_fp == fp
        {
            return Ok(Some(value.clone()));
        }
        let value = self.keychain_get(id, kind).await?;
        if let Some(v) = &value {
            self.lock_memo()
                .insert((id.clone(), kind), (fingerprint(v.expose()), v.clone()));
        }
        Ok(value)
    }

    pub(super) fn forget_values(&self, id: &ProfileId) {
        self.lock_memo().retain(|(p, _), _| p != id);
    }

    pub(super) fn lock_memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the token set: keychain entries and metadata.
    pub async fn forget_token(&self, id: &ProfileId) -> Result<()> {
        self.forget_values(id);
        for kind in [
            SecretKind::AccessToken,
            SecretKind::RefreshToken,
            SecretKind::IdToken,
        ] {
            self.keychain_delete(id, kind).await?;
        }
        self.store.delete_token(id)?;
        self.emit(CoreEvent::TokenRemoved {
            profile_id: id.clone(),
        });
        Ok(())
    }

    /// Renews the token if its profile's refresh policy says it is due — checked again inside
    /// the single flight, so a token another caller or process renewed meanwhile is left alone.
    /// `Ok(None)`: nothing was due.
    /// `slack_ms`: a token due within that much counts as due now (the refresher batches).
    pub async fn renew_if_due(&self, id: &ProfileId, slack_ms: Millis) -> Result<Option<TokenSet>> {
        let _flight = self.enter_flight(id).await?;
        // Shared, and decoded again only when its stored row changed.
        let profile = self.shared_profile_by_id(id)?;
        let Some(token) = self.store.get_token(id)? else {
            return Ok(None);
        };
        if !profile.config.renews_by_itself() {
            return Ok(None);
        }
        // A token exchanged from a token that has changed since is due now, even one that was
        // waiting for its subject to be signed in to again.
        let due = self.exchange_stale(&token)?.is_some()
            || crate::refresher::due_at(&token, &profile.config.refresh)
                .is_some_and(|due| due <= self.now() + slack_ms);
        if !due {
            return Ok(None);
        }
        // What was read above is current (inside the flight): read again only when the
        // profile still has to run discovery.
        let renewed = match profile.needs_discovery() {
            true => self.refresh_locked(id, Trigger::Automatic).await,
            false => {
                self.refresh_profile(&profile, Some(token), Trigger::Automatic)
                    .await
            }
        };
        renewed.map(Some)
    }

    /// Records that an automatic refresh failed and when it is tried again.
    pub fn mark_retry(
        &self,
        id: &ProfileId,
        retry_at: Option<Millis>,
        error: Option<&Error>,
    ) -> Result<()> {
        if let Some(mut t) = self.store.get_token(id)? {
            t.retry_at = retry_at;
            t.last_error = error.map(|e| e.message.clone());
            self.store.put_token(&t)?;
            self.emit(CoreEvent::TokenChanged {
                profile_id: id.clone(),
            });
        }
        Ok(())
    }

    /// Tells listeners that a profile needs the user to sign in again.
    pub fn announce_needs_login(&self, id: &ProfileId, message: &str) {
        self.emit(CoreEvent::NeedsLogin {
            profile_id: id.clone(),
            message: message.to_owned(),
        });
    }

    /// Enters the single flight of a profile's token operations: one at a time per profile,
    /// in this process (an async mutex) and across processes (a lock file in the home), so a
    /// rotating refresh token is never sent twice. Callers re-read the token after entering.
    pub(super) async fn enter_flight(&self, id: &ProfileId) -> Result<Flight> {
        let mutex = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(id) {
                Some(m) => m.clone(),
                None => flights.entry(id.clone()).or_default().clone(),
            }
        };
        let in_process = mutex.lock_owned().await;
        let path = self.home.lock_dir().join(format!("{id}.lock"));
        // Opening the small lock file and trying its lock are quick system calls, made on
        // this thread: a renewal does not hop to the blocking pool (333 a second with 10,000
        // profiles). Only a lock held by another process is waited for there.
        let file = open_lock_file(&path).map_err(lock_error)?;
        let file = match file.try_lock() {
            Ok(()) => file,
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                    .await
                    .map_err(|e| Error::internal(format!("lock task failed: {e}")))?
                    .map_err(lock_error)?
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_error(e)),
        };
        Ok(Flight {
            _in_process: in_process,
            _across_processes: file,
        })
    }
}

/// What a token response takes the place of, for [`Core::persist_chained`].
#[derive(Clone, Copy)]
pub(super) enum Replacing<'a> {
    /// A refresh of this token set: what the answer leaves out (a refresh token that was not
    /// rotated, its expiry) is kept.
    Refresh(&'a TokenSet),
    /// A new grant over this token set, read inside the flight (or over nothing): the entries it
    /// does not renew are removed.
    Grant(Option<&'a TokenSet>),
    /// A new grant over whatever is stored, read here.
    GrantOverStored,
}

/// The tokens of other profiles a token was exchanged from, for the token set to record.
#[derive(Default)]
pub(super) struct Chain {
    pub subject: Option<crate::token::ChainLink>,
    pub actor: Option<crate::token::ChainLink>,
}

/// Token values by (profile, kind), with the fingerprint each was stored under.
pub(super) type Memo = HashMap<(ProfileId, SecretKind), (String, Sensitive<String>)>;

/// Held while a profile's token operation runs; dropping it releases both locks.
pub(super) struct Flight {
    _in_process: tokio::sync::OwnedMutexGuard<()>,
    /// Closing the file releases its lock.
    _across_processes: std::fs::File,
}

/// Opens a profile's token lock file, creating it (and its folder) if needed.
fn open_lock_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
    };
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            open()
        }
        opened => opened,
    }
}

fn lock_error(e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("Cannot take the token lock: {e}."),
    )
}

pub(super) fn needs_login(profile: &Profile, why: &str) -> Error {
    Error::new(
        ErrorCode::NeedsLogin,
        format!(
            "Profile \"{}\" needs you to sign in again: {why}.",
            profile.config.name
        ),
    )
}
