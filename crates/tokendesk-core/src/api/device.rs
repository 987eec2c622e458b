//! Device sign-in (RFC 8628): a user code to enter on another device, then polling the token
//! endpoint until the provider answers. The token goes the way of every sign-in: the ID token
//! checked, the token stored by `persist`, the exchanges (the request and every poll) logged
//! with the device code scrubbed.

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
use crate::flow::{self, SignIn, device::Poll};
use crate::history::EventKind;
use crate::id_token::{self, Channel};
use crate::profile::{Endpoint, GrantKind, Profile, ProfileId};
use crate::qr;
use crate::redact::REDACTED;
use crate::secret::Sensitive;
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

/// A device sign-in waiting for its poller (or polling).
pub(super) struct PendingDevice {
    profile_id: ProfileId,
    device_code: Sensitive<String>,
    deadline: Instant,
    interval: Duration,
    cancel: CancellationToken,
    /// Set when a waiter took it: one poller per sign-in.
    polling: bool,
    /// Where the user approves (with the code in it when the provider offers that).
    address: String,
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
        let mut pending = self.lock_device_logins();
        pending.retain(|_, p| p.deadline > Instant::now());
        pending.insert(
            started.login_id.clone(),
            PendingDevice {
                profile_id: profile.id,
                device_code: auth.device_code,
                deadline: Instant::now() + Duration::from_secs(auth.expires_in_secs),
                interval: Duration::from_secs(auth.interval_secs),
                cancel: CancellationToken::new(),
                polling: false,
                address: started.qr_address().to_owned(),
            },
        );
        Ok(started)
    }

    /// Polls the token endpoint every `interval` (5 s more after each `slow_down`) until the
    /// user approves, denies, the code expires, or [`Core::cancel_login`] cancels. Only an
    /// approval stores anything.
    pub async fn wait_device_login(&self, login_id: &str) -> Result<TokenSet> {
        let (profile_id, device_code, deadline, mut interval, cancel) = {
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
            (
                p.profile_id.clone(),
                p.device_code.clone(),
                p.deadline,
                p.interval,
                p.cancel.clone(),
            )
        };
        let attempt = self.attempt(
            EventKind::Acquisition,
            &profile_id,
            self.trigger(),
            GrantKind::DeviceCode.spec().name,
        );
        let result = self
            .poll_until_done(&profile_id, &device_code, deadline, &mut interval, &cancel)
            .await
            .map_err(|mut e| {
                // Whatever went wrong, the device code is not part of what the user reads.
                e.message = e.message.replace(device_code.expose().as_str(), REDACTED);
                e
            });
        self.lock_device_logins().remove(login_id);
        // A cancel is the user's choice, not a failed sign-in.
        if !matches!(&result, Err(e) if e.code == ErrorCode::Cancelled) {
            self.record_attempt(attempt, result.as_ref().map(Some), None);
        }
        result
    }

    async fn poll_until_done(
        &self,
        profile_id: &ProfileId,
        device_code: &Sensitive<String>,
        deadline: Instant,
        interval: &mut Duration,
        cancel: &CancellationToken,
    ) -> Result<TokenSet> {
        let cancelled = || Error::new(ErrorCode::Cancelled, "The sign-in was cancelled.");
        let mut failures = 0;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Err(cancelled()),
                _ = tokio::time::sleep(*interval) => {}
            }
            if Instant::now() >= deadline {
                return Err(flow::device::expired(
                    "it was not approved within the time the provider gave it",
                ));
            }
            let profile = self.profile_by_id(profile_id)?;
            let (call, secret) = self
                .authed_call(&profile, "token:device_code", &[device_code.expose()])
                .await?;
            let polled = tokio::select! {
                _ = cancel.cancelled() => None,
                r = flow::device::poll(&profile, secret.as_ref(), device_code, &call) => Some(r),
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
                        message: format!("{} Trying again in {} s.", e.message, interval.as_secs()),
                    });
                    continue;
                }
                other => other?,
            };
            failures = 0;
            match polled {
                Poll::Pending => {}
                Poll::SlowDown => {
                    *interval += Duration::from_secs(flow::device::SLOW_DOWN_SECS);
                    self.emit(CoreEvent::Progress {
                        profile_id: profile.id.clone(),
                        message: format!(
                            "The provider asked TokenDesk to slow down: polling every {} s now.",
                            interval.as_secs()
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
                        .finish_device_login(&profile, &response, secret.as_ref())
                        .await;
                }
            }
        }
    }

    /// The approved sign-in's token: its ID token checked, then stored like any sign-in's.
    async fn finish_device_login(
        &self,
        profile: &Profile,
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
                            // RFC 8628 has no nonce: the device code binds the answer.
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
        tracing::info!("signed in on another device");
        self.persist(profile, GrantKind::DeviceCode, response, None, validation)
            .await
    }

    /// The verification address of a device sign-in in progress, to open in a browser here
    /// (the app's link): only an address the provider gave, never one from the caller.
    pub fn device_verification_address(&self, login_id: &str) -> Result<String> {
        self.lock_device_logins()
            .get(login_id)
            .map(|p| p.address.clone())
            .ok_or_else(|| unknown_login(login_id))
    }

    /// Cancels a device sign-in; its [`Core::wait_device_login`] returns `Cancelled` and sends
    /// no further poll. `false` if no such device sign-in is in progress.
    pub(super) fn cancel_device_login(&self, login_id: &str) -> bool {
        match self.lock_device_logins().get(login_id) {
            Some(p) => {
                p.cancel.cancel();
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
