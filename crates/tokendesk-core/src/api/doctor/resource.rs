//! The checks of a profile made from an API URL (RFC 9728, RFC 8707, RFC 7592): the API's
//! protected-resource metadata still names the profile's authorization server and resource;
//! the dynamic registration is still readable; the stored access token's `aud` names the
//! resource. A profile with none of an API URL, a resource or a registration gets no rows.

use super::Core;
use crate::api::AudienceCheck;
use crate::doctor::{CheckRow, Layer};
use crate::http::{Call, Exchange, TlsSetup};
use crate::profile::{GrantKind, Profile};
use crate::resource::{DiscoverOptions, chain, registration};
use crate::secret::SecretKind;

impl Core {
    pub(super) async fn check_resource(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        stored: bool,
    ) -> (Vec<CheckRow>, ()) {
        let mut rows = Vec::new();
        let c = &profile.config;
        if let Some(row) = self.check_resource_metadata(profile, tls).await {
            rows.push(row);
        }
        if c.registration_client_uri.is_some() {
            rows.push(match stored {
                true => self.check_registration(profile, tls).await,
                false => CheckRow::new("client:registration", Layer::Client, "Registration")
                    .skip("The profile is not saved yet."),
            });
        }
        if stored && let Some(row) = self.check_audience(profile).await {
            rows.push(row);
        }
        (rows, ())
    }

    /// A call for the checks here: no profile headers (the API and the registration endpoint
    /// are not the token endpoint), the profile's TLS settings.
    fn resource_call(&self, profile: &Profile, operation: &str, tls: &TlsSetup) -> Call<'_> {
        Call::new(
            &self.http,
            self.clock.as_ref(),
            profile.id.clone(),
            operation,
            &[],
        )
        .with_tls(tls.clone())
    }

    async fn check_resource_metadata(&self, profile: &Profile, tls: &TlsSetup) -> Option<CheckRow> {
        let c = &profile.config;
        let row = CheckRow::new(
            "provider:resource_metadata",
            Layer::Provider,
            "API metadata",
        );
        let Some(api_url) = &c.api_url else {
            return c.resource.as_ref().map(|r| {
                row.skip(format!(
                    "The profile sends resource {r} but has no API URL to ask for its \
                     protected-resource metadata (RFC 9728)."
                ))
            });
        };
        let (Some(resource), Some(issuer)) = (&c.resource, &c.issuer) else {
            // An API URL for copied curl lines only, not a profile made from its metadata.
            return None;
        };
        let call = self.resource_call(profile, "api_discovery", tls);
        let options = DiscoverOptions {
            authorization_server: Some(issuer.clone()),
            code_grant: c.grant == GrantKind::AuthorizationCode,
        };
        let walk = chain::walk(&call, api_url, &options).await;
        let records: Vec<Exchange> = call.take_records();
        let row = match walk.into_result() {
            Err(e) => row.fail(
                format!("Walking from {api_url}: {}", e.message),
                "The API no longer describes itself as it did when the profile was made: check \
                 the API URL, or make the profile again from it (`tokendesk discover URL` shows \
                 the chain).",
            ),
            Ok(d) if d.resource != *resource => row.fail(
                format!(
                    "The API's metadata names resource {}, the profile sends {resource}.",
                    d.resource
                ),
                format!(
                    "Tokens for {resource} may be refused by the API: set the profile's resource \
                     to {} (`tokendesk profile edit NAME --resource {}`).",
                    d.resource, d.resource
                ),
            ),
            Ok(d) => row.pass(format!(
                "{api_url} names resource {} and authorization server {}, as the profile has \
                 them.",
                d.resource, d.authorization_server
            )),
        };
        Some(row.with_exchanges(records))
    }

    async fn check_registration(&self, profile: &Profile, tls: &TlsSetup) -> CheckRow {
        let row = CheckRow::new("client:registration", Layer::Client, "Registration");
        let (_, uri, token) = match self.registration_handle(&profile.id).await {
            Ok(h) => h,
            Err(e) => {
                return row.fail(
                    e.message,
                    "Without its registration access token the registration can only be \
                     managed at the server.",
                );
            }
        };
        let call = self.resource_call(profile, "registration", tls);
        let read = registration::read(&call, &uri, &token).await;
        let records = call.take_records();
        let row = match read {
            Err(e) => row.fail(
                e.message,
                "The client may be deleted at the server: register a new one (make the profile \
                 again from its API URL).",
            ),
            Ok(reg) => {
                // A server may rotate the registration access token on a read (RFC 7592 §3):
                // keep the new one, or the registration could not be managed any more.
                if let Err(e) = self.keep_rotated(&profile.id, &reg).await {
                    return row
                        .fail(e.message, super::UNLOCK_KEYCHAIN)
                        .with_exchanges(records);
                }
                if reg.client_id != profile.config.client_id {
                    row.fail(
                        format!(
                            "The registration at {uri} is of client {}, the profile's client is \
                             {}.",
                            reg.client_id, profile.config.client_id
                        ),
                        "The registration URI belongs to another client: check the profile.",
                    )
                } else {
                    row.pass(format!(
                        "The registration of client {} at {uri} reads back (RFC 7592).",
                        reg.client_id
                    ))
                }
            }
        };
        row.with_exchanges(records)
    }

    async fn check_audience(&self, profile: &Profile) -> Option<CheckRow> {
        let resource = profile.config.resource.as_ref()?;
        let row = CheckRow::new("tokens:audience", Layer::Tokens, "Audience");
        let value = match self.token_value(&profile.id, SecretKind::AccessToken).await {
            Ok(Some(v)) => v,
            Ok(None) => return Some(row.skip("No access token yet: sign in or fetch one.")),
            Err(e) => return Some(row.fail(e.message, super::UNLOCK_KEYCHAIN)),
        };
        let Ok(jwt) = crate::inspect::decode_jwt(value.expose()) else {
            return Some(
                row.skip("The access token is opaque: only the API can tell whom it is for."),
            );
        };
        let check = AudienceCheck::of(&jwt.claims, resource);
        Some(if check.matches {
            row.pass(format!(
                "The access token's aud names the resource {resource}."
            ))
        } else {
            row.warn(
                format!(
                    "The access token's aud is {}, not the profile's resource {resource}.",
                    if check.aud.is_empty() {
                        "missing".to_owned()
                    } else {
                        check.aud.join(", ")
                    }
                ),
                "The token may not be meant for the API: sign in again (the token may predate \
                 the resource), or check that the provider honours resource (RFC 8707).",
            )
        })
    }
}
