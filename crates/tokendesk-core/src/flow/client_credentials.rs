//! The client-credentials grant (RFC 6749 §4.4).

use oauth2::Scope;

use super::{FetchFuture, FetchInput, GrantKind, GrantSpec, SignIn, require_secret, token_params};
use crate::error::Result;
use crate::http::Call;
use crate::profile::{Endpoint, Profile};
use crate::provider::client::oauth_client;
use crate::provider::hints::{Operation, request_error};
use crate::provider::response::TokenResponse;
use crate::secret::Sensitive;

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::ClientCredentials,
    name: "client_credentials",
    label: "client credentials",
    grant_type: "client_credentials",
    summary: "Machine to machine: the client's own credentials buy the token.",
    sign_in: SignIn::None,
    needs: &[Endpoint::Token],
    signs: false,
    fetch: Some(fetch),
};

fn fetch(input: FetchInput<'_>) -> FetchFuture<'_> {
    Box::pin(request(input.profile, input.credential, input.call))
}

pub async fn request(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    call: &Call<'_>,
) -> Result<TokenResponse> {
    profile.require_endpoint(Endpoint::Token)?;
    let secret = require_secret(profile, secret)?;
    let client = oauth_client(profile, secret, None)?;
    let mut request = client
        .exchange_client_credentials()
        .map_err(|e| crate::error::Error::internal(e.to_string()))?
        .add_scopes(profile.config.scopes.iter().cloned().map(Scope::new));
    for (name, value) in token_params(profile, secret, call)? {
        request = request.add_extra_param(name, value);
    }
    if let Some((name, value)) = super::rar::param(profile, &call.template())? {
        request = request.add_extra_param(name, value);
    }
    request
        .request_async(call)
        .await
        .map_err(|e| request_error(e, &call.last_response(), Operation::ClientCredentials))
}
