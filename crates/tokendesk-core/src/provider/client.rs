//! The oauth2 crate's client for one profile.

use oauth2::basic::BasicTokenIntrospectionResponse;
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, RedirectUrl,
    StandardRevocableToken, TokenUrl,
};

use super::response::{ProviderError, TokenResponse};
use crate::error::{Error, Result};
use crate::profile::{AuthMethod, Endpoint, Profile};
use crate::secret::Sensitive;

pub type OAuthClient = oauth2::Client<
    ProviderError,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    ProviderError,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
>;

/// Builds the client: endpoints as the profile resolves them, the auth method, the secret.
pub fn oauth_client(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    redirect_uri: Option<&str>,
) -> Result<OAuthClient> {
    let bad = |which: Endpoint, e: url::ParseError| {
        Error::invalid_field(
            "endpoints",
            format!("The {} is not a URL ({e}).", which.label()),
        )
    };
    let auth_url = profile
        .endpoint(Endpoint::Authorization)
        .map(|u| AuthUrl::new(u.to_owned()).map_err(|e| bad(Endpoint::Authorization, e)))
        .transpose()?;
    let token_url = profile
        .endpoint(Endpoint::Token)
        .map(|u| TokenUrl::new(u.to_owned()).map_err(|e| bad(Endpoint::Token, e)))
        .transpose()?;
    let mut client = oauth2::Client::new(ClientId::new(profile.config.client_id.clone()))
        .set_auth_uri_option(auth_url)
        .set_token_uri_option(token_url)
        .set_auth_type(match profile.config.auth_method {
            AuthMethod::ClientSecretBasic => AuthType::BasicAuth,
            AuthMethod::ClientSecretPost
            | AuthMethod::None
            | AuthMethod::PrivateKeyJwt
            | AuthMethod::ClientSecretJwt
            | AuthMethod::TlsClientAuth
            | AuthMethod::SelfSignedTlsClientAuth => AuthType::RequestBody,
        });
    // A private key never goes on the wire: the flows add a signed assertion instead.
    let sends_secret = matches!(
        profile.config.auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    );
    if sends_secret && let Some(s) = secret {
        client = client.set_client_secret(ClientSecret::new(s.expose().clone()));
    }
    if let Some(r) = redirect_uri {
        let url = RedirectUrl::new(r.to_owned())
            .map_err(|e| Error::invalid_field("redirect_uri", format!("Not a URL ({e}).")))?;
        client = client.set_redirect_uri(url);
    }
    Ok(client)
}
