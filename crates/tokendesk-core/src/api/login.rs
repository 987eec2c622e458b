//! Sign-in: the authorization request, the redirect (loopback listener or pasted address),
//! the checks of the response and the ID token, the code exchange.

use crate::browser::BrowserLauncher;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use ts_rs::TS;

use oauth2::TokenResponse as _;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Core;
use super::calls::fetch_jwks;
use crate::catalog;
use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::flow::{self, auth_code::Authorization};
use crate::history::EventKind;
use crate::http::Exchange;
use crate::id_token::{self, Channel, Expectations};
use crate::inspect::{self, IdTokenValidation};
use crate::loopback::{Callback, Listener, RedirectTarget};
use crate::profile::{Endpoint, GrantKind, Profile, ProfileId};
use crate::resource::step_up::LoginDemand;
use crate::secret::{SecretKind, Sensitive};
use crate::template::Context;
use crate::token::TokenSet;

/// How long a sign-in may take in the browser before the listener gives up.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// Tolerated clock difference when checking ID-token expiry.
const CLOCK_LEEWAY_MS: Millis = 60_000;

/// A sign-in that has started and waits for the browser (or a pasted URL).
#[derive(Debug, Clone, Serialize, TS)]
pub struct LoginStarted {
    pub login_id: String,
    pub profile_id: ProfileId,
    /// Open this in a browser. It carries no secret (PKCE keeps the verifier here).
    pub auth_url: String,
    pub redirect_uri: String,
    /// Whether a loopback listener waits; if not, the user pastes the redirect URL.
    pub listening: bool,
    /// Set by whoever opened the browser when that failed: why (the user opens the address
    /// by hand, or pastes the redirect).
    pub browser_error: Option<String>,
}

/// How long a finished sign-in is remembered, so that a second channel bringing the same
/// redirect (a paste after the listener got it) learns the outcome instead of an error.
const FINISHED_KEPT: Duration = Duration::from_secs(600);

/// A sign-in in progress. The first channel — the loopback listener or a pasted address — that
/// brings a redirect claims it (takes `auth`); any later channel waits for that one's outcome.
pub(super) struct PendingLogin {
    profile_id: ProfileId,
    /// `None` once a channel has claimed the sign-in.
    auth: Option<Authorization>,
    /// The request's `state`, to tell a second delivery of the same redirect from another one.
    state: Sensitive<String>,
    listener: Option<Listener>,
    cancel: CancellationToken,
    outcome: watch::Sender<Option<Result<TokenSet>>>,
    finished_at: Option<Instant>,
}

/// What a channel that brings a redirect does with it.
enum Delivery {
    /// It was first: it finishes the sign-in.
    Claimed(ProfileId, Box<Authorization>, Outcome),
    /// Another channel was first: wait for its outcome.
    Follow(watch::Receiver<Option<Result<TokenSet>>>),
}

/// Publishes a claimed sign-in's outcome to every channel; a claimant dropped before it
/// finished publishes `Cancelled`, so nobody waits forever.
struct Outcome {
    tx: watch::Sender<Option<Result<TokenSet>>>,
    sent: bool,
}

impl Outcome {
    fn publish(mut self, result: &Result<TokenSet>) {
        self.tx.send_replace(Some(result.clone()));
        self.sent = true;
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.sent {
            self.tx.send_replace(Some(Err(Error::new(
                ErrorCode::Cancelled,
                "The sign-in was cancelled.",
            ))));
        }
    }
}

impl Core {
    /// Starts a sign-in: builds the authorization request and, for a loopback redirect URI,
    /// starts listening. Open `auth_url` in a browser, then [`Core::wait_login`] and/or
    /// [`Core::complete_login`] with a pasted redirect URL: whichever brings the redirect first
    /// completes the sign-in, and the other one returns the same outcome.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn begin_login(&self, id: &ProfileId) -> Result<LoginStarted> {
        self.begin_login_with(id, &LoginDemand::default()).await
    }

    /// [`Core::begin_login`] for a step-up (RFC 9470): the demand's `acr_values` and `max_age`
    /// go on this authorization request only; [`Core::check_login_demand`] checks the result.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn begin_login_with(
        &self,
        id: &ProfileId,
        demand: &LoginDemand,
    ) -> Result<LoginStarted> {
        let mut profile = self.ready_profile(id).await?;
        demand.apply(&mut profile.config);
        let elsewhere = match profile.config.grant.spec().sign_in {
            flow::SignIn::Device => Some(
                "with a device code, not in a browser here: start a \
                 device sign-in",
            ),
            flow::SignIn::Decoupled => Some(
                "on the user's own device (CIBA), not in a browser \
                 here: start a CIBA sign-in",
            ),
            _ => None,
        };
        if let Some(how) = elsewhere {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!("Profile \"{}\" signs in {how}.", profile.config.name),
            ));
        }
        let target = RedirectTarget::parse(profile.config.redirect_uri.as_deref())?;
        let (listener, redirect_uri) = match &target {
            RedirectTarget::Loopback { .. } => {
                let l = Listener::bind(&target).await?;
                let uri = l.redirect_uri().to_owned();
                (Some(l), uri)
            }
            RedirectTarget::Manual(uri) => (None, uri.clone()),
        };
        let values = self.run_steps(&profile).await?;
        let ctx = Context {
            values: &values,
            now: self.now(),
        };
        let mut auth = flow::auth_code::authorization(&profile, &redirect_uri, &ctx)?;
        if let Some(l) = &listener {
            l.expect_state(auth.state.expose());
        }
        if let Some(key) = self.dpop_key(&profile).await? {
            // The code is bound to the key (RFC 9449 §10): only a proof of it redeems the code.
            auth.url
                .query_pairs_mut()
                .append_pair("dpop_jkt", key.thumbprint());
        }
        if profile.config.signed_request {
            let key = self.secret(&profile, SecretKind::PrivateKey).await?;
            auth.url = flow::request_object::wrap(&profile, &auth.url, key.as_ref(), self.now())?;
        }
        if flow::par::wanted(&profile) {
            let (call, secret) = self.authed_call(&profile, "par", &[]).await?;
            let call = call.with_values(values.clone());
            let pushed = flow::par::push(&profile, secret.as_ref(), &auth.url, &call).await;
            self.record(&call);
            auth.url = pushed?;
        }
        let started = LoginStarted {
            login_id: uuid::Uuid::new_v4().simple().to_string(),
            profile_id: profile.id.clone(),
            auth_url: auth.url.to_string(),
            redirect_uri,
            listening: listener.is_some(),
            browser_error: None,
        };
        let mut logins = self.lock_logins();
        logins.retain(|_, p| p.finished_at.is_none_or(|t| t.elapsed() < FINISHED_KEPT));
        logins.insert(
            started.login_id.clone(),
            PendingLogin {
                profile_id: profile.id,
                state: auth.state.clone(),
                auth: Some(auth),
                listener,
                cancel: CancellationToken::new(),
                outcome: watch::channel(None).0,
                finished_at: None,
            },
        );
        Ok(started)
    }

    /// Waits for the browser to come back to the loopback listener, then redeems the code. When
    /// a pasted address completes the sign-in first, returns that outcome.
    pub async fn wait_login(&self, login_id: &str, timeout: Duration) -> Result<TokenSet> {
        let (listener, cancel, profile_id) = {
            let mut logins = self.lock_logins();
            let pending = logins
                .get_mut(login_id)
                .ok_or_else(|| unknown_login(login_id))?;
            let listener = pending.listener.take().ok_or_else(|| {
                Error::new(
                    ErrorCode::Conflict,
                    "This sign-in is not waiting on a loopback listener: paste the redirect URL.",
                )
            })?;
            (listener, pending.cancel.clone(), pending.profile_id.clone())
        };
        let attempt = self.attempt(
            EventKind::Acquisition,
            &profile_id,
            self.trigger(),
            GrantKind::AuthorizationCode.spec().name,
        );
        match listener.wait(timeout, &cancel).await {
            Ok(callback) => self.deliver(login_id, &callback).await,
            Err(e) => {
                // Cancelled because a paste claimed the sign-in: its outcome is ours.
                let follow = self
                    .lock_logins()
                    .get(login_id)
                    .filter(|p| p.auth.is_none())
                    .map(|p| p.outcome.subscribe());
                match follow {
                    Some(rx) => follow_outcome(rx).await,
                    None => {
                        self.lock_logins().remove(login_id);
                        // The browser never came back: a sign-in that failed (a cancel is
                        // the user's choice, not a failure).
                        if e.code != ErrorCode::Cancelled {
                            self.record_attempt(attempt, Err(&e), None);
                        }
                        Err(e)
                    }
                }
            }
        }
    }

    /// Completes a sign-in from the redirect URL the user pasted. If the listener already
    /// brought the same redirect, returns that sign-in's outcome.
    pub async fn complete_login(&self, login_id: &str, redirect_url: &str) -> Result<TokenSet> {
        let callback = Callback::from_url(redirect_url)?;
        self.deliver(login_id, &callback).await
    }

    /// A redirect from either channel: the first claims the sign-in and finishes it; a later
    /// one with the same `state` waits for that outcome.
    async fn deliver(&self, login_id: &str, callback: &Callback) -> Result<TokenSet> {
        let delivery = {
            let mut logins = self.lock_logins();
            let pending = logins
                .get_mut(login_id)
                .ok_or_else(|| unknown_login(login_id))?;
            if callback.state().as_deref() != Some(pending.state.expose().as_str()) {
                // Not this sign-in's redirect (an old tab, a forged link): refused without
                // touching the sign-in, which still waits for its own.
                return Err(flow::auth_code::state_mismatch());
            }
            match pending.auth.take() {
                Some(auth) => {
                    pending.cancel.cancel();
                    Delivery::Claimed(
                        pending.profile_id.clone(),
                        Box::new(auth),
                        Outcome {
                            tx: pending.outcome.clone(),
                            sent: false,
                        },
                    )
                }
                None => Delivery::Follow(pending.outcome.subscribe()),
            }
        };
        match delivery {
            Delivery::Follow(rx) => follow_outcome(rx).await,
            Delivery::Claimed(profile_id, auth, outcome) => {
                let attempt = self.attempt(
                    EventKind::Acquisition,
                    &profile_id,
                    self.trigger(),
                    GrantKind::AuthorizationCode.spec().name,
                );
                let result = self.finish_login(&profile_id, &auth, callback).await;
                self.record_attempt(attempt, result.as_ref().map(Some), None);
                outcome.publish(&result);
                if let Some(p) = self.lock_logins().get_mut(login_id) {
                    p.finished_at = Some(Instant::now());
                }
                result
            }
        }
    }

    /// Cancels a sign-in; a waiting [`Core::wait_login`] (or [`Core::wait_device_login`], which
    /// then polls no more) returns `Cancelled`.
    pub fn cancel_login(&self, login_id: &str) {
        if self.cancel_device_login(login_id) {
            return;
        }
        if let Some(p) = self.lock_logins().get(login_id) {
            p.cancel.cancel();
        }
    }

    /// The whole sign-in: begin, open the browser, wait, redeem.
    pub async fn login(
        &self,
        id: &ProfileId,
        browser: &dyn BrowserLauncher,
        timeout: Duration,
    ) -> Result<TokenSet> {
        let started = self.begin_login(id).await?;
        if let Err(e) = browser.open(&started.auth_url) {
            self.lock_logins().remove(&started.login_id);
            return Err(e);
        }
        if !started.listening {
            self.lock_logins().remove(&started.login_id);
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "The redirect URI {} is not a loopback address TokenDesk can listen on: \
                     paste the address the browser lands on instead.",
                    started.redirect_uri
                ),
            ));
        }
        self.wait_login(&started.login_id, timeout).await
    }

    #[tracing::instrument(skip_all, fields(profile = %profile_id), err)]
    async fn finish_login(
        &self,
        profile_id: &ProfileId,
        auth: &Authorization,
        callback: &Callback,
    ) -> Result<TokenSet> {
        let _flight = self.enter_flight(profile_id).await?;
        let profile = self.profile_by_id(profile_id)?;
        let opened = self.open_jarm(&profile, callback).await?;
        let callback = opened.as_ref().unwrap_or(callback);
        let code = flow::auth_code::check_response(&profile, auth, callback)?;
        let (call, secret) = self
            .authed_call(
                &profile,
                "token:authorization_code",
                &[&code, auth.pkce_verifier.expose()],
            )
            .await?;
        let call = call.with_values(auth.values.clone());
        let nonce = auth.nonce.as_ref().map(|n| n.expose().as_str());
        // Hybrid (`code id_token`): the ID token of the authorization response is checked —
        // signature, iss, aud, nonce, c_hash, s_hash — before the code is redeemed.
        let front_subject = match auth.front_channel_id_token {
            false => None,
            true => {
                // check_response made sure it is there.
                let front = callback.get("id_token").unwrap_or_default();
                let v = self
                    .check_id_token(
                        &profile,
                        front,
                        secret.as_ref(),
                        IdTokenContext {
                            channel: Channel::FrontChannel,
                            nonce,
                            access_token: callback.get("access_token"),
                            subject: None,
                            code: Some(&code),
                            state: callback.get("state"),
                            claims: auth.claims.as_ref(),
                            log: true,
                        },
                    )
                    .await;
                id_token::require_valid(&v, "The sign-in")?;
                self.emit(CoreEvent::Progress {
                    profile_id: profile.id.clone(),
                    message: format!(
                        "The ID token of the authorization response passed its {} checks \
                         (c_hash, nonce, signature…); redeeming the code.",
                        v.checks.len()
                    ),
                });
                inspect::subject(front)
            }
        };
        let result = flow::auth_code::redeem(&profile, secret.as_ref(), auth, code, &call).await;
        self.record(&call);
        let response = result.map_err(|e| catalog::explain(&profile.config, e))?;
        let validation = match response.id_token() {
            Some(id_token) => {
                let v = self
                    .check_id_token(
                        &profile,
                        id_token,
                        secret.as_ref(),
                        IdTokenContext {
                            channel: Channel::TokenEndpoint,
                            nonce,
                            access_token: Some(response.access_token().secret()),
                            subject: front_subject.as_deref(),
                            code: None,
                            state: None,
                            claims: auth.claims.as_ref(),
                            log: true,
                        },
                    )
                    .await;
                id_token::require_valid(&v, "The sign-in")?;
                Some(v)
            }
            None => None,
        };
        tracing::info!("signed in");
        self.persist(
            &profile,
            GrantKind::AuthorizationCode,
            &response,
            validation,
        )
        .await
    }

    /// Validates an ID token against the provider's JWKS (or the client secret for HS*) and
    /// what it came with, and writes the decoded token with every check to the exchange log —
    /// the one place support staff see why a provider's ID token was refused.
    pub(super) async fn check_id_token(
        &self,
        profile: &Profile,
        id_token: &str,
        credential: Option<&Sensitive<String>>,
        context: IdTokenContext<'_>,
    ) -> IdTokenValidation {
        let decoded = inspect::decode_jwt(id_token).ok();
        // Verified with a JWKS key: not HS* (the client secret), not none.
        let needs_jwks = decoded.as_ref().is_some_and(|d| {
            let alg = d.header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
            !alg.starts_with("HS") && !alg.eq_ignore_ascii_case("none")
        });
        let (jwks, jwks_problem) = match needs_jwks {
            true => self.provider_jwks(profile).await,
            false => (None, None),
        };
        let issuer = profile.issuer().unwrap_or_default();
        let issuer_alias = catalog::issuer_alias(&profile.config, issuer).or_else(|| {
            let template = catalog::issuer_template(&profile.config, issuer)?;
            template.for_claims(&decoded.as_ref()?.claims)
        });
        // HS* ID tokens are keyed by the client secret, when the credential is one.
        let secret_based = super::profiles::credential_kind(&profile.config)
            == SecretKind::ClientSecret
            && profile.config.auth_method.credential().is_some();
        let mut validation = id_token::validate(
            id_token,
            jwks.as_ref(),
            &Expectations {
                issuer,
                issuer_alias: issuer_alias.as_deref(),
                client_id: &profile.config.client_id,
                nonce: context.nonce,
                now: self.now(),
                leeway_ms: CLOCK_LEEWAY_MS,
                channel: context.channel,
                client_secret: credential
                    .filter(|_| secret_based)
                    .map(|s| s.expose().as_str()),
                expected_alg: profile.config.id_token_alg.as_deref(),
                allowed_algs: fapi_algs(profile),
                access_token: context.access_token,
                code: context.code,
                state: context.state,
                subject: context.subject,
                requested_claims: context.claims.and_then(|c| c.get("id_token")),
            },
        );
        failed_for_want_of_keys(&mut validation, jwks_problem);
        if context.log {
            self.record_checks(profile, decoded.as_ref(), context.channel, &validation);
        }
        validation
    }

    /// The provider's signing keys; without them, a failed `jwks` check that says why when a
    /// JWKS URI gave no usable answer (too large, a redirect, not a JWKS: the signature check
    /// alone would only say there was none).
    async fn provider_jwks(
        &self,
        profile: &Profile,
    ) -> (Option<jsonwebtoken::jwk::JwkSet>, Option<inspect::Check>) {
        let Some(uri) = profile.endpoint(Endpoint::Jwks) else {
            return (None, None);
        };
        let fetched = async {
            let call = self.public_call(profile, "jwks").await?;
            let fetched = fetch_jwks(&call, uri).await;
            self.record(&call);
            fetched
        };
        match fetched.await {
            Ok(jwks) => (Some(jwks), None),
            Err(e) => (
                None,
                Some(inspect::Check {
                    name: "jwks".into(),
                    ok: false,
                    detail: format!(
                        "The provider's signing keys could not be had: {} Check the JWKS URI \
                         (the profile's, or the discovery document's jwks_uri).",
                        e.message
                    ),
                }),
            ),
        }
    }

    /// A signed authorization response (JARM) checked and opened: its parameters, or `None`
    /// when the sign-in did not ask for one and got none. A plain answer where a signed one
    /// was asked for is refused, unless it reports an error (that redeems nothing).
    async fn open_jarm(&self, profile: &Profile, callback: &Callback) -> Result<Option<Callback>> {
        let Some(token) = callback.get("response") else {
            if flow::jarm::wanted(profile) && callback.get("error").is_none() {
                return Err(flow::jarm::downgraded());
            }
            return Ok(None);
        };
        let credential = self
            .keychain_get(
                &profile.id,
                super::profiles::credential_kind(&profile.config),
            )
            .await?;
        let secret_based = super::profiles::credential_kind(&profile.config)
            == SecretKind::ClientSecret
            && profile.config.auth_method.credential().is_some();
        let (jwks, jwks_problem) = self.provider_jwks(profile).await;
        let mut validation = flow::jarm::validate(
            token,
            jwks.as_ref(),
            &flow::jarm::Expect {
                issuer: profile.issuer().unwrap_or_default(),
                client_id: &profile.config.client_id,
                client_secret: credential
                    .as_ref()
                    .filter(|_| secret_based)
                    .map(|s| s.expose().as_str()),
                now: self.now(),
                allowed_algs: fapi_algs(profile),
            },
        );
        failed_for_want_of_keys(&mut validation, jwks_problem);
        self.record_named_checks(profile, "jarm:checks", token, &validation);
        flow::jarm::require_valid(&validation)?;
        Ok(Some(flow::jarm::params(token)))
    }

    fn record_checks(
        &self,
        profile: &Profile,
        decoded: Option<&inspect::DecodedJwt>,
        channel: Channel,
        validation: &IdTokenValidation,
    ) {
        let what = match channel {
            Channel::TokenEndpoint => "ID token from the token endpoint (code exchange)",
            Channel::Refresh => "ID token from the token endpoint (refresh)",
            Channel::FrontChannel => "ID token from the authorization response",
        };
        self.record_verdict(
            profile,
            "id_token:checks",
            what,
            decoded.map(|d| (&d.header, &d.claims)),
            validation,
            "the ID token is not trusted and was not stored",
        );
    }

    /// A signed authorization response's checks, for the exchange log (its code masked).
    fn record_named_checks(
        &self,
        profile: &Profile,
        operation: &str,
        token: &str,
        validation: &IdTokenValidation,
    ) {
        let decoded = inspect::decode_jwt(token).ok().map(|mut d| {
            for secret in ["code", "access_token", "id_token"] {
                if let Some(v) = d.claims.get_mut(secret) {
                    *v = crate::redact::REDACTED.into();
                }
            }
            d
        });
        self.record_verdict(
            profile,
            operation,
            "Signed authorization response (JARM)",
            decoded.as_ref().map(|d| (&d.header, &d.claims)),
            validation,
            "the response is not trusted and its code was not used",
        );
    }

    fn record_verdict(
        &self,
        profile: &Profile,
        operation: &str,
        what: &str,
        decoded: Option<(&serde_json::Value, &serde_json::Value)>,
        validation: &IdTokenValidation,
        consequence: &str,
    ) {
        let failed = validation.failures().len();
        let body = serde_json::json!({
            "header": decoded.map(|d| d.0),
            "claims": decoded.map(|d| d.1),
            "checks": validation.checks,
        });
        let exchange = Exchange {
            id: 0,
            profile_id: profile.id.clone(),
            operation: operation.into(),
            at: self.now(),
            method: "CHECK".into(),
            url: what.into(),
            status: None,
            duration_ms: 0,
            request_headers: Vec::new(),
            request_body: String::new(),
            response_headers: Vec::new(),
            response_body: serde_json::to_string_pretty(&body).unwrap_or_default(),
            error: (failed > 0).then(|| format!("{failed} check(s) failed: {consequence}.")),
        };
        self.record_exchanges(vec![exchange]);
    }

    pub(super) fn lock_logins(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingLogin>> {
        self.logins.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What an ID token came with, beside the profile's own expectations.
pub(super) struct IdTokenContext<'a> {
    pub channel: Channel,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// The code and state of a hybrid authorization response (c_hash, s_hash).
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    /// The `claims` request sent with the sign-in.
    pub claims: Option<&'a serde_json::Value>,
    /// Whether the checks go to the exchange log (a token arriving; not the inspector's
    /// re-check of a stored one).
    pub log: bool,
}

async fn follow_outcome(mut rx: watch::Receiver<Option<Result<TokenSet>>>) -> Result<TokenSet> {
    match rx.wait_for(Option::is_some).await {
        Ok(outcome) => outcome
            .clone()
            .unwrap_or_else(|| Err(Error::internal("no outcome"))),
        Err(_) => Err(Error::new(
            ErrorCode::Cancelled,
            "The sign-in was cancelled.",
        )),
    }
}

pub(super) fn unknown_login(login_id: &str) -> Error {
    Error::not_found(format!(
        "No sign-in {login_id} is in progress (it finished, was cancelled, or timed out). Start again."
    ))
}

/// The signing algorithms the profile accepts from its provider: FAPI 2.0's in that mode.
pub(super) fn fapi_algs(profile: &Profile) -> &'static [&'static str] {
    match profile.config.fapi2 {
        true => crate::fapi::ALGS,
        false => &[],
    }
}

/// A signature that failed for want of the provider's keys: why they could not be had (a JWKS
/// too large, a redirect, not a JWKS) joins the checks as a failed `jwks` check. A signature
/// verified without them (HS* with the client secret) needs no such note.
fn failed_for_want_of_keys(validation: &mut IdTokenValidation, problem: Option<inspect::Check>) {
    if validation
        .checks
        .iter()
        .any(|c| c.name == "signature" && !c.ok)
    {
        validation.checks.extend(problem);
    }
}
