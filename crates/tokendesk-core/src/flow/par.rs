//! Pushed authorization requests (RFC 9126): the authorization request's parameters (or its
//! signed request object) go to the provider over a client-authenticated POST first; the browser
//! gets only `client_id` and the `request_uri` the provider answers with — nothing in the
//! address bar to tamper with or to leak, as FAPI 2.0 asks.

use serde::Deserialize;
use url::Url;

use super::token_ops;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::profile::{AuthMethod, Endpoint, Profile};
use crate::provider::hints::{self, Operation};
use crate::provider::response::ProviderError;
use crate::secret::Sensitive;

#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
}

/// Whether the profile pushes its authorization requests: by choice, or because the provider
/// requires it.
pub fn wanted(profile: &Profile) -> bool {
    profile.config.par
        || profile.config.fapi2
        || profile
            .metadata
            .as_ref()
            .is_some_and(|m| m.require_pushed_authorization_requests)
}

/// Pushes the parameters of `auth_url` and returns the address for the browser.
pub async fn push(
    profile: &Profile,
    credential: Option<&Sensitive<String>>,
    auth_url: &Url,
    call: &Call<'_>,
) -> Result<Url> {
    let endpoint = profile.endpoint(Endpoint::PushedAuthorization).ok_or_else(|| {
        Error::invalid_field(
            "endpoints.par",
            "The profile pushes its authorization requests (PAR), but the provider announces no \
             pushed_authorization_request_endpoint: set it by hand, or turn PAR off.",
        )
    })?;
    // client_id is an authorization parameter, but the client authentication adds it to the
    // form itself for every method except HTTP Basic: send it once.
    let auth_adds_client_id = profile.config.auth_method != AuthMethod::ClientSecretBasic;
    let params: Vec<(String, String)> = auth_url
        .query_pairs()
        .filter(|(k, _)| !(auth_adds_client_id && k == "client_id"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let form: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request =
        token_ops::authenticated_post(profile, credential, endpoint, form, call.now_ms())?;
    let response = call.send_for_oauth(request).await?;
    let last = call.last_response();
    let body = response.body();
    if response.status().is_success() {
        let pushed: Pushed = serde_json::from_slice(body).map_err(|e| {
            hints::unusable_body(
                body,
                &last,
                Operation::PushedAuthorization,
                Some(&e.to_string()),
            )
        })?;
        let mut url = auth_url.clone();
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("client_id", &profile.config.client_id)
            .append_pair("request_uri", &pushed.request_uri);
        return Ok(url);
    }
    Err(match serde_json::from_slice::<ProviderError>(body) {
        Ok(pe) => hints::provider_error(&pe, last.status, Operation::PushedAuthorization),
        Err(_) if body.is_empty() && last.status.is_some() => Error::new(
            ErrorCode::ProviderError,
            format!(
                "The pushed authorization request got HTTP {} with an empty body. Check the PAR \
                 endpoint and the client's authentication.",
                last.status.unwrap_or_default()
            ),
        ),
        Err(e) => hints::unusable_body(
            body,
            &last,
            Operation::PushedAuthorization,
            Some(&e.to_string()),
        ),
    })
}
