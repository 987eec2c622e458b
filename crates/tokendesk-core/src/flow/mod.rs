//! The grants, one per file. Each is a small function over a profile, its secret and an HTTP
//! [`Call`](crate::http::Call); storing the result is the caller's business.

pub mod assertion;
pub mod auth_code;
pub mod client_credentials;
pub mod refresh;
pub mod request_object;
pub mod token_ops;

use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::profile::{AuthMethod, Profile};
use crate::secret::Sensitive;

/// The extra parameters every token request of the profile carries: the profile's own, and a
/// client assertion for `private_key_jwt`.
fn token_params(
    profile: &Profile,
    credential: Option<&Sensitive<String>>,
    call: &Call<'_>,
) -> Result<Vec<(String, String)>> {
    let c = &profile.config;
    let mut out: Vec<(String, String)> = c
        .token_params
        .iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect();
    if let Some(a) = &c.audience {
        out.push(("audience".into(), a.clone()));
    }
    if let Some(r) = &c.resource {
        out.push(("resource".into(), r.clone()));
    }
    out.extend(assertion::params(profile, credential, call.now_ms())?);
    Ok(out)
}

/// The client secret the profile's auth method needs, or an error saying where to set it.
fn require_secret<'a>(
    profile: &Profile,
    secret: Option<&'a Sensitive<String>>,
) -> Result<Option<&'a Sensitive<String>>> {
    let method = profile.config.auth_method;
    if method == AuthMethod::PrivateKeyJwt {
        // `assertion::params` says what is missing, in the words of keys.
        return Ok(secret);
    }
    if method.needs_secret() && secret.is_none() {
        return Err(Error::new(
            ErrorCode::InvalidClient,
            format!(
                "Profile \"{}\" uses {} but no client secret is stored. Set the client secret in \
                 the profile (it is kept in the OS keychain), or switch the auth method to none \
                 for a public client.",
                profile.config.name,
                profile.config.auth_method.as_str()
            ),
        ));
    }
    Ok(secret)
}
