//! Sign-ins approved on another device: the device grant (RFC 8628: a user code to enter on
//! another device) and CIBA (the provider reaches the user, who approves a request showing the
//! binding message). Both then poll the token endpoint until the provider answers — CIBA in
//! ping mode after the provider's notification — through one poll loop. The token goes the way
//! of every sign-in: the ID token checked, the token stored by `persist`, the exchanges (the
//! request and every poll) logged with the device code, `auth_req_id` and notification token
//! scrubbed.

use std::time::Duration;

use oauth2::TokenResponse as _;
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::Core;
use super::login::{IdTokenContext, unknown_login};
use crate::catalog;
use crate::clock::Millis;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::flow::ciba::{self, DeliveryMode};
use crate::flow::{self, SignIn, device::Poll};
use crate::history::EventKind;
use crate::http::Exchange;
use crate::id_token::{self, Channel};
use crate::ping::{Ping, PingListener, PingSocket};
use crate::profile::{Endpoint, GrantKind, Profile, ProfileId};
use crate::qr;
use crate::redact::REDACTED;
use crate::secret::{SecretKind, Sensitive};
use crate::token::TokenSet;

/// Polls in a row that may fail to reach the token endpoint before the wait ends.
const MAX_POLL_FAILURES: u32 = 3;

/// A device sign-in that has started: what to show the user while TokenDesk polls.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceLoginStarted {
    pub login_id: String,
    pub profile_id: ProfileId,
    /// What the user enters on the verification page.
    pub user_code: String,
    pub verification_uri: String,
    /// The verification address with the code in it, if the provider sent one.
    pub verification_uri_complete: Option<String>,
    /// When the code stops working (epoch ms).
    pub expires_at: Millis,
    /// Seconds between polls, as the provider asked (5 when it did not say).
    pub interval: u64,
    /// A QR code (SVG) of the complete verification address (else the plain one); `None` if
    /// the address is too long for one.
    pub qr_svg: Option<String>,
}

impl DeviceLoginStarted {
    /// The address a QR code carries: with the user code when the provider offers that.
    pub fn qr_address(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }
}

/// A CIBA sign-in that has started: what to show the user while TokenDesk waits.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CibaLoginStarted {
    pub login_id: String,
    pub profile_id: ProfileId,
    /// What the user's device shows too: the user approves only a request that shows it.
    pub binding_message: Option<String>,
    /// Whom the provider was asked to reach (a `login_hint`; an ID token hint is not shown).
    pub login_hint: Option<String>,
    /// When the request stops working (epoch ms).
    pub expires_at: Millis,
    /// Seconds between polls, as the provider asked (5 when it did not say).
    pub interval: u64,
    pub mode: DeliveryMode,
    /// What the user should know before approving (a details type the provider does not list,
    /// a user code the provider does not take).
    pub warnings: Vec<String>,
}

/// One CIBA sign-in's own inputs beside the profile's.
#[derive(Debug, Clone, Default, serde::Deserialize, TS)]
#[serde(default)]
pub struct CibaLoginOptions {
    /// Overrides the profile's login hint for this sign-in.
    pub login_hint: Option<String>,
    /// The user's `user_code`, when the provider asks for one; never stored.
    pub user_code: Option<String>,
}

/// A sign-in approved elsewhere (device or CIBA), waiting for its poller (or polling).
pub(super) struct PendingDevice {
    wait: Waiting,
    /// Set when a waiter took it: one poller per sign-in.
    polling: bool,
    /// Where the user approves (with the code in it when the provider offers that); none for
    /// CIBA.
    address: Option<String>,
}

/// What the poll loop needs of a pending sign-in.
struct Waiting {
    profile_id: ProfileId,
    /// What the token is stored as: `device_code` or `ciba`.
    grant: GrantKind,
    /// The device code or the `auth_req_id`: sent with every poll, never shown.
    code: Sensitive<String>,
    deadline: Instant,
    interval: Duration,
    cancel: CancellationToken,
    /// CIBA in ping mode: the notification endpoint (and its address), until the waiter takes
    /// it.
    ping: Option<(PingListener, String)>,
}

impl Waiting {
    /// The poller's copy: the ping listener moves to it.
    fn take(&mut self) -> Waiting {
        Waiting {
            profile_id: self.profile_id.clone(),
            grant: self.grant,
            code: self.code.clone(),
            deadline: self.deadline,
            interval: self.interval,
            cancel: self.cancel.clone(),
            ping: self.ping.take(),
        }
    }
}

impl Core {
    /// Starts a device sign-in: asks the provider for a user code. Show it (and the address)
    /// to the user, then [`Core::wait_device_login`] polls until the provider answers.
    ///
    /// Works for a `device_code` profile, and for an authorization-code profile whose provider
    /// has a device authorization endpoint (a terminal over SSH, no browser): the same client,
    /// approved on another device. The token is then stored as a device-code sign-in.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn begin_device_login(&self, id: &ProfileId) -> Result<DeviceLoginStarted> {
        let profile = self.ready_profile(id).await?;
        check_device_capable(&profile)?;
        let values = self.run_steps(&profile).await?;
        let (call, secret) = self
            .authed_call(&profile, "device_authorization", &[])
            .await?;
        let mut call = call.with_values(values);
        let result = flow::device::authorize(&profile, secret.as_ref(), &call).await;
        if let Ok(a) = &result {
            call.scrub(a.device_code.expose());
        }
        self.record(&call);
        let auth = result.map_err(|e| catalog::explain(&profile.config, e))?;
        let now = self.now();
        let mut started = DeviceLoginStarted {
            login_id: uuid::Uuid::new_v4().simple().to_string(),
            profile_id: profile.id.clone(),
            user_code: auth.user_code,
            verification_uri: auth.verification_uri,
            verification_uri_complete: auth.verification_uri_complete,
            expires_at: now + auth.expires_in_secs as Millis * 1000,
            interval: auth.interval_secs,
            qr_svg: None,
        };
        started.qr_svg = qr::svg(started.qr_address()).ok();
        self.keep_pending(
            started.login_id.clone(),
            PendingDevice {
                wait: Waiting {
                    profile_id: profile.id,
                    grant: GrantKind::DeviceCode,
                    code: auth.device_code,
                    deadline: Instant::now() + Duration::from_secs(auth.expires_in_secs),
                    interval: Duration::from_secs(auth.interval_secs),
                    cancel: CancellationToken::new(),
                    ping: None,
                },
                polling: false,
                address: Some(started.qr_address().to_owned()),
            },
        );
        Ok(started)
    }

    fn keep_pending(&self, login_id: String, p: PendingDevice) {
        let mut pending = self.lock_device_logins();
        pending.retain(|_, p| p.wait.deadline > Instant::now());
        pending.insert(login_id, p);
    }

    /// Starts a CIBA sign-in: sends the backchannel authentication request for the user the
    /// profile (or `options`) names. Show the binding message to the user, then
    /// [`Core::wait_device_login`] waits for the approval as for a device sign-in. In ping
    /// mode, TokenDesk listens on the profile's notification endpoint from before the request.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn begin_ciba_login(
        &self,
        id: &ProfileId,
        options: CibaLoginOptions,
    ) -> Result<CibaLoginStarted> {
        let profile = self.ready_profile(id).await?;
        if profile.config.grant != GrantKind::Ciba {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "Profile \"{}\" uses the {} grant, not CIBA: sign in its own way.",
                    profile.config.name,
                    profile.config.grant.spec().label
                ),
            ));
        }
        let c = &profile.config.ciba;
        let mut warnings: Vec<String> = flow::rar::unsupported_warning(&profile)
            .into_iter()
            .collect();
        let mut inputs = ciba::Inputs {
            login_hint: options.login_hint.filter(|h| !h.trim().is_empty()),
            user_code: options
                .user_code
                .filter(|u| !u.is_empty())
                .map(Sensitive::new),
            ..Default::default()
        };
        if inputs.user_code.is_some() && !ciba::user_code_supported(&profile) {
            warnings.push(
                "The provider does not announce user_code support \
                 (backchannel_user_code_parameter_supported): the user code was not sent."
                    .into(),
            );
        }
        if c.hint_kind == ciba::HintKind::IdTokenHint
            && inputs.login_hint.is_none()
            && c.login_hint.as_deref().is_none_or(|h| h.trim().is_empty())
        {
            inputs.id_token = self.token_value(&profile.id, SecretKind::IdToken).await?;
        }
        if profile.config.signed_request {
            inputs.signing_key = self.secret(&profile, SecretKind::PrivateKey).await?;
        }
        // Listen before asking: the provider may ping as soon as the user approves.
        let socket = match c.mode {
            DeliveryMode::Poll => None,
            DeliveryMode::Ping => {
                let endpoint = c.notification_endpoint.clone().unwrap_or_default();
                let addr = ciba::loopback_endpoint(&endpoint)
                    .map_err(|m| Error::invalid_field("ciba.notification_endpoint", m))?;
                let path = url::Url::parse(&endpoint)
                    .map(|u| u.path().to_owned())
                    .unwrap_or_else(|_| "/".into());
                inputs.notification_token = Some(Sensitive::new(
                    uuid::Uuid::new_v4().simple().to_string()
                        + &uuid::Uuid::new_v4().simple().to_string(),
                ));
                Some((PingSocket::bind(addr).await?, path, endpoint))
            }
        };
        let values = self.run_steps(&profile).await?;
        for w in &warnings {
            self.emit(CoreEvent::Progress {
                profile_id: profile.id.clone(),
                message: w.clone(),
            });
        }
        let (call, secret) = self
            .authed_call(&profile, "backchannel_authentication", &[])
            .await?;
        let mut call = call.with_values(values);
        for s in [
            inputs.notification_token.as_ref(),
            inputs.user_code.as_ref(),
            inputs.id_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            call.scrub(s.expose());
        }
        let request = ciba::request(&profile, &inputs, &call)?;
        let result = ciba::authenticate(&profile, secret.as_ref(), &request, &inputs, &call).await;
        if let Ok(a) = &result {
            call.scrub(a.auth_req_id.expose());
        }
        self.record(&call);
        let auth = result.map_err(|mut e| {
            for s in [
                inputs.notification_token.as_ref(),
                inputs.user_code.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                e.message = e.message.replace(s.expose().as_str(), REDACTED);
            }
            e
        })?;
        let ping = match (socket, inputs.notification_token) {
            (Some((socket, path, endpoint)), Some(token)) => Some((
                socket.serve(path, token, auth.auth_req_id.clone()),
                endpoint,
            )),
            _ => None,
        };
        let now = self.now();
        let started = CibaLoginStarted {
            login_id: uuid::Uuid::new_v4().simple().to_string(),
            profile_id: profile.id.clone(),
            binding_message: request.binding_message,
            login_hint: request.shown_hint,
            expires_at: now + auth.expires_in_secs as Millis * 1000,
            interval: auth.interval_secs,
            mode: c.mode,
            warnings,
        };
        self.keep_pending(
            started.login_id.clone(),
            PendingDevice {
                wait: Waiting {
                    profile_id: profile.id.clone(),
                    grant: GrantKind::Ciba,
                    code: auth.auth_req_id,
                    deadline: Instant::now() + Duration::from_secs(auth.expires_in_secs),
                    interval: Duration::from_secs(auth.interval_secs),
                    cancel: CancellationToken::new(),
                    ping,
                },
                polling: false,
                address: None,
            },
        );
        Ok(started)
    }

    /// Polls the token endpoint every `interval` (5 s more after each `slow_down`) until the
    /// user approves, denies, the code (or CIBA request) expires, or [`Core::cancel_login`]
    /// cancels. A CIBA sign-in in ping mode polls when the provider's notification arrives (and
    /// every [`ciba::PING_FALLBACK_SECS`] anyway). Only an approval stores anything.
    pub async fn wait_device_login(&self, login_id: &str) -> Result<TokenSet> {
        let mut w = {
            let mut pending = self.lock_device_logins();
            let p = pending
                .get_mut(login_id)
                .ok_or_else(|| unknown_login(login_id))?;
            if p.polling {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "This device sign-in is already being waited for.",
                ));
            }
            p.polling = true;
            p.wait.take()
        };
        let attempt = self.attempt(
            EventKind::Acquisition,
            &w.profile_id,
            self.trigger(),
            w.grant.spec().name,
        );
        let code = w.code.clone();
        let result = self.poll_until_done(&mut w).await.map_err(|mut e| {
            // Whatever went wrong, the device code (auth_req_id) is not part of what the user
            // reads.
            e.message = e.message.replace(code.expose().as_str(), REDACTED);
            e
        });
        self.lock_device_logins().remove(login_id);
        // A cancel is the user's choice, not a failed sign-in.
        if !matches!(&result, Err(e) if e.code == ErrorCode::Cancelled) {
            self.record_attempt(attempt, result.as_ref().map(Some), None);
        }
        result
    }

    async fn poll_until_done(&self, w: &mut Waiting) -> Result<TokenSet> {
        let cancelled = || Error::new(ErrorCode::Cancelled, "The sign-in was cancelled.");
        let (cancel, deadline, code) = (w.cancel.clone(), w.deadline, w.code.clone());
        let what = if w.grant == GrantKind::Ciba {
            "request"
        } else {
            "code"
        };
        let mut failures = 0;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(cancelled()),
                _ = self.until_poll(w) => {}
            }
            if Instant::now() >= deadline {
                return Err(flow::device::expired_what(
                    what,
                    "it was not approved within the time the provider gave it",
                ));
            }
            let profile = self.profile_by_id(&w.profile_id)?;
            let operation = format!("token:{}", w.grant.spec().name);
            let (call, secret) = self
                .authed_call(&profile, &operation, &[code.expose()])
                .await?;
            let poll = async {
                match w.grant {
                    GrantKind::Ciba => ciba::poll(&profile, secret.as_ref(), &code, &call).await,
                    _ => flow::device::poll(&profile, secret.as_ref(), &code, &call).await,
                }
            };
            let polled = tokio::select! {
                _ = cancel.cancelled() => None,
                r = poll => Some(r),
            };
            self.record(&call);
            let Some(polled) = polled else {
                return Err(cancelled());
            };
            let polled = match polled {
                // A dropped connection between polls (a server closing an idle keep-alive
                // connection just as it is reused, a network blip) is not the provider's
                // answer: try again at the next interval, a few times in a row at most.
                Err(e) if e.code == ErrorCode::Network && failures < MAX_POLL_FAILURES => {
                    failures += 1;
                    self.emit(CoreEvent::Progress {
                        profile_id: profile.id.clone(),
                        message: format!(
                            "{} Trying again in {} s.",
                            e.message,
                            w.interval.as_secs()
                        ),
                    });
                    continue;
                }
                other => other?,
            };
            failures = 0;
            match polled {
                Poll::Pending => {}
                Poll::SlowDown => {
                    w.interval += Duration::from_secs(flow::device::SLOW_DOWN_SECS);
                    self.emit(CoreEvent::Progress {
                        profile_id: profile.id.clone(),
                        message: format!(
                            "The provider asked TokenDesk to slow down: polling every {} s now.",
                            w.interval.as_secs()
                        ),
                    });
                }
                Poll::End(e) => return Err(catalog::explain(&profile.config, e)),
                Poll::Token(response) => {
                    if cancel.is_cancelled() {
                        return Err(cancelled());
                    }
                    self.emit(CoreEvent::Progress {
                        profile_id: profile.id.clone(),
                        message: "The sign-in was approved on the other device.".into(),
                    });
                    return self
                        .finish_device_login(&profile, w.grant, &response, secret.as_ref())
                        .await;
                }
            }
        }
    }

    /// Waits until the next poll is due: the interval; in ping mode, a valid notification or
    /// the fallback interval. An ignored notification (a wrong token) is logged, and the wait
    /// goes on.
    async fn until_poll(&self, w: &mut Waiting) {
        let Some((listener, endpoint)) = w.ping.as_mut() else {
            tokio::time::sleep(w.interval).await;
            return;
        };
        let fallback = w
            .interval
            .max(Duration::from_secs(ciba::PING_FALLBACK_SECS));
        let until = (Instant::now() + fallback).min(w.deadline);
        let sleep = tokio::time::sleep_until(until);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return,
                ping = listener.next() => match ping {
                    Ping::Valid => {
                        self.emit(CoreEvent::Progress {
                            profile_id: w.profile_id.clone(),
                            message: "The provider notified TokenDesk (ping): fetching the token."
                                .into(),
                        });
                        return;
                    }
                    Ping::Ignored(why) => self.ignored_ping(&w.profile_id, endpoint, &why),
                },
            }
        }
    }

    /// Logs a notification that did not count: in the exchange log (no token in it) and as
    /// progress for whoever watches.
    fn ignored_ping(&self, profile_id: &ProfileId, endpoint: &str, why: &str) {
        tracing::warn!(profile = %profile_id, why, "CIBA notification ignored");
        let message = format!("Ignored {why} at {endpoint}; still waiting for the provider.");
        self.record_exchanges(vec![Exchange {
            id: 0,
            profile_id: profile_id.clone(),
            operation: "ciba_notification".into(),
            at: self.now(),
            method: "POST".into(),
            url: endpoint.to_owned(),
            status: Some(401),
            duration_ms: 0,
            request_headers: Vec::new(),
            request_body: String::new(),
            response_headers: Vec::new(),
            response_body: String::new(),
            error: Some(message.clone()),
        }]);
        self.emit(CoreEvent::Progress {
            profile_id: profile_id.clone(),
            message,
        });
    }

    /// The approved sign-in's token: its ID token checked, then stored like any sign-in's.
    async fn finish_device_login(
        &self,
        profile: &Profile,
        grant: GrantKind,
        response: &crate::provider::response::TokenResponse,
        secret: Option<&Sensitive<String>>,
    ) -> Result<TokenSet> {
        let _flight = self.enter_flight(&profile.id).await?;
        let validation = match response.id_token() {
            Some(id_token) => {
                let v = self
                    .check_id_token(
                        profile,
                        id_token,
                        secret,
                        IdTokenContext {
                            channel: Channel::TokenEndpoint,
                            // RFC 8628 and CIBA have no nonce: the device code (auth_req_id)
                            // binds the answer.
                            nonce: None,
                            access_token: Some(response.access_token().secret()),
                            subject: None,
                            code: None,
                            state: None,
                            claims: None,
                            log: true,
                        },
                    )
                    .await;
                id_token::require_valid(&v, "The sign-in")?;
                Some(v)
            }
            None => None,
        };
        tracing::info!(grant = grant.spec().name, "signed in on another device");
        self.persist(profile, grant, response, validation).await
    }

    /// The verification address of a device sign-in in progress, to open in a browser here
    /// (the app's link): only an address the provider gave, never one from the caller.
    pub fn device_verification_address(&self, login_id: &str) -> Result<String> {
        self.lock_device_logins()
            .get(login_id)
            .and_then(|p| p.address.clone())
            .ok_or_else(|| unknown_login(login_id))
    }

    /// Cancels a device sign-in; its [`Core::wait_device_login`] returns `Cancelled` and sends
    /// no further poll. `false` if no such device sign-in is in progress.
    pub(super) fn cancel_device_login(&self, login_id: &str) -> bool {
        match self.lock_device_logins().get(login_id) {
            Some(p) => {
                p.wait.cancel.cancel();
                true
            }
            None => false,
        }
    }

    pub(super) fn lock_device_logins(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, PendingDevice>> {
        self.device_logins.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A device sign-in needs a device authorization endpoint; a grant without a user has nothing
/// to sign in to.
fn check_device_capable(profile: &Profile) -> Result<()> {
    let spec = profile.config.grant.spec();
    if spec.sign_in == SignIn::None {
        return Err(Error::new(
            ErrorCode::Unsupported,
            format!(
                "Profile \"{}\" uses the {} grant, which gets its token without a user: there is \
                 nothing to sign in to. Get a token instead.",
                profile.config.name, spec.label
            ),
        ));
    }
    if profile.endpoint(Endpoint::DeviceAuthorization).is_none() {
        let how = match spec.sign_in {
            SignIn::Device => "run discovery again, or set it by hand in the profile",
            _ => {
                "the provider does not offer device sign-in (RFC 8628) in its discovery \
                 document; set the endpoint by hand if it has one, or sign in in a browser"
            }
        };
        return Err(Error::new(
            ErrorCode::Unsupported,
            format!(
                "Profile \"{}\" has no device authorization endpoint: {how}.",
                profile.config.name
            ),
        ));
    }
    Ok(())
}
