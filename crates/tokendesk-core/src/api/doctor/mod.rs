//! Runs the setup check ([`crate::doctor`]): discovery first (everything else needs the
//! provider's metadata), then the network, capability, key, client-authentication, redirect and
//! stored-state checks side by side, each within [`CHECK_TIMEOUT`]. Nothing is written: not the
//! discovered metadata, not a token (a trial client-credentials token is thrown away), not the
//! exchange log — what each check sent and received travels in its row instead.

mod keys;
mod network;
mod probes;
mod resource;
mod stored;

use std::future::Future;
use std::time::{Duration, Instant};

use super::Core;
use super::profiles::credential_kind;
use crate::doctor::{CheckRow, Layer, SetupReport, capabilities, clock};
use crate::error::Result;
use crate::http::{Exchange, TlsSetup};
use crate::profile::{AuthMethod, Endpoint, Profile, ProfileConfig, ProfileId};
use crate::provider::discovery;
use crate::secret::{SecretKind, Sensitive};

/// The longest any one check may take; one that takes longer fails, the others go on.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// How the independent checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Side by side (what the app and the CLI do).
    Parallel,
    /// One after another.
    Sequential,
}

/// Secrets typed in a profile form, not stored (yet).
#[derive(Default)]
pub struct TypedSecrets {
    /// The client secret, or the private key for `private_key_jwt`.
    pub credential: Option<Sensitive<String>>,
    pub tls_key: Option<Sensitive<String>>,
    /// The key for request objects when the client authenticates otherwise.
    pub signing_key: Option<Sensitive<String>>,
}

/// The secrets a check may use: the stored ones, or those typed in a form not saved yet.
#[derive(Default, Clone)]
pub(super) struct Creds {
    /// The client secret or the signing key (what `credential_kind` names).
    pub credential: Option<Sensitive<String>>,
    pub tls_key: Option<Sensitive<String>>,
    pub dpop_key: Option<Sensitive<String>>,
    /// The key for request objects when the client authenticates otherwise.
    pub request_key: Option<Sensitive<String>>,
    /// A keychain that could not be read, in words.
    pub keychain_error: Option<String>,
}

impl Creds {
    /// The key that signs client assertions and request objects.
    pub fn signing_key(&self, config: &ProfileConfig) -> Option<&Sensitive<String>> {
        match config.auth_method {
            crate::profile::AuthMethod::PrivateKeyJwt => self.credential.as_ref(),
            _ => self.request_key.as_ref(),
        }
    }
}

impl Core {
    /// Checks a saved profile's setup without changing anything stored.
    pub async fn check_setup(&self, id: &ProfileId) -> Result<SetupReport> {
        self.check_setup_scheduled(id, Schedule::Parallel).await
    }

    /// [`Core::check_setup`] with the checks side by side or one after another (the benchmark
    /// compares the two).
    #[tracing::instrument(skip_all, fields(profile = %id, ?schedule), err)]
    pub async fn check_setup_scheduled(
        &self,
        id: &ProfileId,
        schedule: Schedule,
    ) -> Result<SetupReport> {
        let profile = self.profile_by_id(id)?;
        let creds = self.stored_creds(id, &profile.config).await;
        let report = self.run_checks(profile, creds, true, schedule).await;
        self.last_checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), report.clone());
        Ok(report)
    }

    /// The latest setup check of the profile in this process, if any.
    pub fn last_check(&self, id: &ProfileId) -> Option<SetupReport> {
        self.last_checks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Checks a profile before it is saved (the form's "Check setup"): a new one, or the edits
    /// of `editing` — whose stored secrets are used where none is typed. Nothing is stored.
    pub async fn check_config(
        &self,
        config: ProfileConfig,
        editing: Option<&ProfileId>,
        typed: TypedSecrets,
    ) -> Result<SetupReport> {
        config.validate()?;
        let mut creds = match editing {
            Some(id) => self.stored_creds(id, &config).await,
            None => Creds::default(),
        };
        creds.dpop_key = creds.dpop_key.filter(|_| config.dpop.is_some());
        for (typed, slot) in [
            (typed.credential, &mut creds.credential),
            (typed.tls_key, &mut creds.tls_key),
            (typed.signing_key, &mut creds.request_key),
        ] {
            if typed.is_some() {
                *slot = typed;
            }
        }
        let profile = Profile {
            id: editing.cloned().unwrap_or_else(|| ProfileId::from("-")),
            config,
            metadata: None,
            created_at: self.now(),
            updated_at: self.now(),
        };
        Ok(self
            .run_checks(profile, creds, false, Schedule::Parallel)
            .await)
    }

    /// The stored secrets a profile with `config` uses (a keychain that cannot be read is said
    /// in `keychain_error`, not raised: the other checks still run).
    async fn stored_creds(&self, id: &ProfileId, config: &ProfileConfig) -> Creds {
        let mut creds = Creds::default();
        let kinds = [
            (credential_kind(config), &mut creds.credential),
            (SecretKind::TlsKey, &mut creds.tls_key),
            (SecretKind::DpopKey, &mut creds.dpop_key),
            (SecretKind::PrivateKey, &mut creds.request_key),
        ];
        for (kind, slot) in kinds {
            match self.secret_of(id, config, kind).await {
                Ok(v) => *slot = v,
                Err(e) => creds.keychain_error = Some(e.message),
            }
        }
        creds
    }

    async fn run_checks(
        &self,
        mut profile: Profile,
        creds: Creds,
        stored: bool,
        schedule: Schedule,
    ) -> SetupReport {
        let started = Instant::now();
        let checked_at = self.now();
        let tls = TlsSetup {
            ca_pem: profile.config.tls_ca.clone(),
            identity_pem: match (&profile.config.tls_client_cert, &creds.tls_key) {
                (Some(cert), Some(key)) => Some(TlsSetup::identity(cert, key)),
                _ => None,
            },
        };
        let mut rows = Vec::new();
        // Discovery first: the endpoints and capabilities of the rest come from it.
        let (discovered, date) = Box::pin(timed(
            CheckRow::new("provider:discovery", Layer::Provider, "Discovery"),
            self.check_discovery(&mut profile, &tls),
        ))
        .await;
        rows.extend(discovered);
        rows.extend(crate::doctor::preset::pitfalls(&profile.config));
        let p = &profile;
        // Boxed: side by side, these futures together are too large for a thread's stack in a
        // debug build.
        let net = Box::pin(timed_rows("network", self.check_network(p, &tls, schedule)));
        let caps = async {
            match &p.metadata {
                Some(meta) => capabilities::compare(p, meta),
                None => vec![
                    CheckRow::new("provider:capabilities", Layer::Provider, "Capabilities").skip(
                        "No provider metadata to compare with (no issuer, or discovery failed).",
                    ),
                ],
            }
        };
        let keys = Box::pin(timed_rows("keys", self.check_keys(p, &tls, &creds)));
        let auth = Box::pin(timed_rows(
            "client:auth",
            self.check_client_auth(p, &tls, &creds),
        ));
        let redirect = Box::pin(timed_rows(
            "client:redirect",
            self.check_redirect(p, &tls, &creds),
        ));
        let api = Box::pin(timed_rows(
            "provider:resource",
            self.check_resource(p, &tls, stored),
        ));
        let state = Box::pin(async {
            match stored {
                true => self.check_stored(p, &creds).await,
                false => vec![
                    CheckRow::new("tokens:stored", Layer::Tokens, "Stored state")
                        .skip("The profile is not saved yet."),
                ],
            }
        });
        let (net, caps, keys, auth, redirect, api, state) = match schedule {
            Schedule::Parallel => tokio::join!(net, caps, keys, auth, redirect, api, state),
            Schedule::Sequential => (
                net.await,
                caps.await,
                keys.await,
                auth.await,
                redirect.await,
                api.await,
                state.await,
            ),
        };
        let (net_rows, net_date) = net;
        // The clock: from discovery's answer, else from the network probe's.
        if let Some((date, at, origin)) = date.or(net_date) {
            rows.push(clock::skew(date.as_deref(), at, &origin));
        }
        for part in [net_rows, caps, keys.0, auth.0, redirect.0, api.0, state] {
            rows.extend(part);
        }
        rows.sort_by_key(|r| r.layer);
        SetupReport {
            profile_name: profile.config.name.clone(),
            checked_at,
            duration_ms: started.elapsed().as_millis() as u64,
            checks: rows,
        }
    }

    /// Discovers into `profile` (not stored). Also the answer's `Date`, the local time in the
    /// middle of the exchange, and where it came from, for the clock check.
    async fn check_discovery(
        &self,
        profile: &mut Profile,
        tls: &TlsSetup,
    ) -> (Vec<CheckRow>, Option<ClockSample>) {
        let row = CheckRow::new("provider:discovery", Layer::Provider, "Discovery");
        let Some(issuer) = profile.config.issuer.clone() else {
            return (
                vec![row.skip(
                    "The profile's endpoints are typed by hand: there is no issuer to discover.",
                )],
                None,
            );
        };
        let call = self.plain_call(profile, "discovery").with_tls(tls.clone());
        let template = crate::catalog::issuer_template(&profile.config, &issuer);
        let result = discovery::discover(&call, &issuer, template.as_ref(), self.now()).await;
        let records = call.take_records();
        let sample = clock_sample(&records);
        let mut rows = Vec::new();
        match result {
            Err(e) => rows.push(
                row.fail(
                    e.message,
                    "Check the issuer URL (it must be the provider's exact issuer identifier), \
                     or set the endpoints by hand.",
                )
                .with_exchanges(records),
            ),
            Ok(meta) => {
                let row = if meta.issuer == issuer {
                    row.pass(format!(
                        "{} answers as issuer \"{}\", exactly as the profile says.",
                        meta.source_url, meta.issuer
                    ))
                } else {
                    row.warn(
                        format!(
                            "The profile's issuer is \"{issuer}\", the provider calls itself \"{}\" \
                             (a trailing slash differs). TokenDesk uses the provider's spelling; \
                             other tools and libraries compare exactly and would refuse its \
                             tokens.",
                            meta.issuer
                        ),
                        format!("Set the issuer to exactly \"{}\".", meta.issuer),
                    )
                };
                rows.push(row.with_exchanges(records));
                let typed: Vec<String> = Endpoint::ALL
                    .iter()
                    .filter_map(|&which| {
                        let mine = profile.config.endpoints.get(which)?;
                        let theirs = meta.endpoint(which)?;
                        (mine != theirs).then(|| {
                            format!("{}: typed {mine}, advertised {theirs}", which.label())
                        })
                    })
                    .collect();
                if !typed.is_empty() {
                    rows.push(
                        CheckRow::new("provider:endpoints", Layer::Provider, "Endpoints").warn(
                            typed.join("; "),
                            "A hand-typed endpoint wins over discovery: remove it from the profile \
                             unless the provider's advertised one is wrong.",
                        ),
                    );
                }
                profile.metadata = Some(meta);
            }
        }
        (rows, sample)
    }
}

/// The `Date` an answer carried, the local time in the middle of its exchange, its origin.
pub(super) type ClockSample = (Option<String>, i64, String);

pub(super) fn clock_sample(records: &[Exchange]) -> Option<ClockSample> {
    let r = records.iter().rev().find(|r| r.status.is_some())?;
    let date = r
        .response_headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("date"))
        .map(|h| h.value.clone());
    let origin = url::Url::parse(&r.url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| r.url.clone());
    Some((date, r.at + r.duration_ms as i64 / 2, origin))
}

/// A check with its own time limit, its duration on each row.
async fn timed<T>(
    row: CheckRow,
    check: impl Future<Output = (Vec<CheckRow>, T)>,
) -> (Vec<CheckRow>, T)
where
    T: Default,
{
    let started = Instant::now();
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok((mut rows, t)) => {
            let ms = started.elapsed().as_millis() as u64;
            rows.iter_mut().for_each(|r| r.duration_ms = ms);
            (rows, t)
        }
        Err(_) => (vec![too_slow(row)], T::default()),
    }
}

async fn timed_rows<T: Default>(
    id: &str,
    check: impl Future<Output = (Vec<CheckRow>, T)>,
) -> (Vec<CheckRow>, T) {
    let layer = match id.split(':').next() {
        Some("network") => Layer::Network,
        Some("client") => Layer::Client,
        _ => Layer::Provider,
    };
    timed(CheckRow::new(id, layer, id), check).await
}

fn too_slow(row: CheckRow) -> CheckRow {
    row.fail(
        format!(
            "The check did not finish within {} s.",
            CHECK_TIMEOUT.as_secs()
        ),
        "The provider is slow or does not answer: check that it is up and reachable from this \
         machine (proxy, VPN, firewall).",
    )
}

/// What a client authenticating with `method` keeps in the keychain, in words.
pub(super) fn credential_name(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::PrivateKeyJwt => "signing key",
        _ => "client secret",
    }
}

/// What to do when the keychain cannot be read.
pub(super) const UNLOCK_KEYCHAIN: &str = "Unlock the OS keychain (the Secret Service: GNOME \
                                          Keyring, KWallet) and check again.";
