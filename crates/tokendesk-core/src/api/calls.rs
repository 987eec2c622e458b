//! HTTP calls as a profile's client: TLS setup, client authentication, scrubbing, and the
//! exchange log they write.

use super::Core;
use super::profiles::credential_kind;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::http::TlsSetup;
use crate::http::{Call, Exchange};
use crate::profile::{AuthMethod, Profile};
use crate::secret::{SecretKind, Sensitive};

impl Core {
    /// A call authenticated as the profile's client: the client secret (if any) and the given
    /// values are scrubbed from what the exchange log records.
    pub(super) async fn authed_call<'a>(
        &'a self,
        profile: &Profile,
        operation: &str,
        scrub: &[&str],
    ) -> Result<(Call<'a>, Option<Sensitive<String>>)> {
        let mut secret = self
            .secret(profile, credential_kind(&profile.config))
            .await?;
        if profile.config.generated_secret.is_some() {
            secret = self.generated_secret(profile, secret.as_ref())?;
        }
        let mut call = self.call(profile, operation).await?;
        if let Some(key) = secret.clone().filter(|_| {
            call.dpop_key().is_some()
                && matches!(
                    profile.config.auth_method,
                    AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
                )
        }) {
            // A DPoP nonce retry sends the request again: with a new assertion (new jti).
            let (profile, clock) = (profile.clone(), self.clock.clone());
            call = call.with_resign(Box::new(move || {
                crate::flow::assertion::sign(&profile, &key, clock.now_ms())
            }));
        }
        for value in scrub
            .iter()
            .copied()
            .chain(secret.as_ref().map(|s| s.expose().as_str()))
        {
            call.scrub(value);
        }
        Ok((call, secret))
    }

    /// The client secret a profile makes from its private key (Sign in with Apple), fresh for
    /// this request; an error saying how to store the key when there is none.
    fn generated_secret(
        &self,
        profile: &Profile,
        key: Option<&Sensitive<String>>,
    ) -> Result<Option<Sensitive<String>>> {
        let Some(key) = key else {
            return Err(Error::new(
                ErrorCode::InvalidClient,
                format!(
                    "Profile \"{name}\" makes its client secret from a private key, and none is \
                     stored. Store the key (the .p8 file): `tokendesk profile set-key {name} \
                     FILE`, or in the app.",
                    name = profile.config.name
                ),
            ));
        };
        crate::flow::assertion::generated_secret(profile, key, self.clock.now_ms())
    }

    /// A call for one of the profile's operations as its client, over its own TLS settings
    /// (trusted CAs, the client certificate with its key from the keychain — required when the
    /// profile has a certificate).
    /// With DPoP, every request of the call carries a proof of the profile's key.
    pub(super) async fn call<'a>(&'a self, profile: &Profile, operation: &str) -> Result<Call<'a>> {
        let tls = self.tls_setup(profile, true).await?;
        let call = self.plain_call(profile, operation).with_tls(tls);
        Ok(match self.dpop_key(profile).await? {
            Some(key) => {
                self.dpop_nonces();
                call.with_dpop(key, self.dpop_nonces.clone())
            }
            None => call,
        })
    }

    /// A call for the provider's public documents (discovery, JWKS): the profile's CAs, and its
    /// certificate only if the key is stored — a missing key must not stop discovery.
    pub(super) async fn public_call<'a>(
        &'a self,
        profile: &Profile,
        operation: &str,
    ) -> Result<Call<'a>> {
        let tls = self.tls_setup(profile, false).await?;
        Ok(self.plain_call(profile, operation).with_tls(tls))
    }

    pub(super) fn plain_call<'a>(&'a self, profile: &Profile, operation: &str) -> Call<'a> {
        Call::new(
            &self.http,
            self.clock.as_ref(),
            profile.id.clone(),
            operation,
            &profile.config.headers,
        )
    }

    pub(super) async fn tls_setup(
        &self,
        profile: &Profile,
        key_required: bool,
    ) -> Result<TlsSetup> {
        let c = &profile.config;
        let identity_pem = match &c.tls_client_cert {
            None => None,
            Some(cert) => match self.secret(profile, SecretKind::TlsKey).await? {
                Some(key) => Some(TlsSetup::identity(cert, &key)),
                None if !key_required => None,
                None => {
                    return Err(Error::new(
                        ErrorCode::InvalidClient,
                        format!(
                            "Profile \"{}\" has a TLS client certificate but its private key is \
                             not stored. Add the key (PEM) in the profile; it is kept in the OS \
                             keychain.",
                            c.name
                        ),
                    ));
                }
            },
        };
        Ok(TlsSetup {
            ca_pem: c.tls_ca.clone(),
            identity_pem,
        })
    }

    /// Saves a call's exchanges to the log. A failure here is logged, not raised: it must not
    /// hide the operation's own result.
    pub(super) fn record(&self, call: &Call<'_>) {
        self.record_exchanges(call.take_records());
        self.after_call(call);
    }

    /// What a finished call leaves besides its exchanges: the DPoP nonces the provider sent.
    pub(super) fn after_call(&self, call: &Call<'_>) {
        if call.dpop_key().is_some() {
            self.keep_dpop_nonces();
        }
    }

    /// Appends exchanges to the log (logged, not raised, on failure).
    pub(super) fn record_exchanges(&self, records: Vec<Exchange>) {
        let Some(first) = records.first() else { return };
        let profile_id = first.profile_id.clone();
        match self.store.append_exchanges(&records) {
            Ok(()) => self
                .events
                .emit(CoreEvent::ExchangesAppended { profile_id }),
            Err(e) => tracing::warn!(profile = %profile_id, error = %e, "exchange log not written"),
        }
    }
}

pub(super) async fn fetch_json(call: &Call<'_>, uri: &str) -> Result<serde_json::Value> {
    let request = http::Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| Error::internal(e.to_string()))?;
    let response = call.send(request).await?;
    if response.status() != 200 {
        let redirect = crate::http::redirect_target(&response)
            .map(|to| {
                format!(
                    ", a redirect to {to}. TokenDesk does not follow redirects from a provider; \
                     if the new address is right, set it in the profile"
                )
            })
            .unwrap_or_default();
        return Err(Error::new(
            ErrorCode::BadResponse,
            format!(
                "{uri} answered HTTP {}{redirect}.",
                response.status().as_u16()
            ),
        ));
    }
    serde_json::from_slice(response.body()).map_err(|e| {
        Error::new(
            ErrorCode::BadResponse,
            format!("{uri} did not answer JSON ({e})."),
        )
    })
}

/// The JWKS at `uri`: fetched, and read as a key set (an error naming the address otherwise).
pub(super) async fn fetch_jwks(call: &Call<'_>, uri: &str) -> Result<jsonwebtoken::jwk::JwkSet> {
    serde_json::from_value(fetch_json(call, uri).await?).map_err(|e| {
        Error::new(
            ErrorCode::BadResponse,
            format!("{uri} did not answer a JWKS ({e})."),
        )
    })
}
