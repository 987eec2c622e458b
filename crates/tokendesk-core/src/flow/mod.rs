//! The grants, one per file. Each is a small function over a profile, its secret and an HTTP
//! [`Call`](crate::http::Call); storing the result is the caller's business. Each grant file
//! ends with its [`GrantSpec`], and [`grants!`] registers it: that one line makes the
//! [`GrantKind`] variant, the entry in [`GRANTS`] the command line and the UI read, and what the
//! core needs to run it. A new grant is a file and a line.

pub mod assertion;
pub mod auth_code;
pub mod ciba;
pub mod client_credentials;
pub mod device;
pub mod jarm;
pub mod jwt_bearer;
pub mod par;
pub mod public_key;
pub mod rar;
pub mod refresh;
pub mod request_object;
pub mod token_exchange;
pub mod token_ops;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::profile::{AuthMethod, Endpoint, Profile};
use crate::provider::response::TokenResponse;
use crate::secret::Sensitive;
use crate::template::Values;

/// What a headless grant gets to build its token request.
pub struct FetchInput<'a> {
    pub profile: &'a Profile,
    /// The client's credential for client authentication (secret, or key with
    /// `private_key_jwt`).
    pub credential: Option<&'a Sensitive<String>>,
    /// The client's signing key, for grants that sign an assertion of their own.
    pub signing_key: Option<&'a Sensitive<String>>,
    /// Values captured by the profile's steps and generated ones, for templates.
    pub values: &'a Values,
    /// Other profiles' tokens the grant sends (a token exchange's subject and actor), resolved
    /// by the core before the request.
    pub related: &'a RelatedTokens,
    pub call: &'a Call<'a>,
}

/// Another profile's token, resolved for a grant that sends it.
pub struct RelatedToken {
    pub profile_id: crate::profile::ProfileId,
    pub profile_name: String,
    pub kind: token_exchange::ExchangeToken,
    pub value: Sensitive<String>,
}

/// The tokens of other profiles a grant request sends; empty for most grants.
#[derive(Default)]
pub struct RelatedTokens {
    pub subject: Option<RelatedToken>,
    pub actor: Option<RelatedToken>,
}

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<TokenResponse>> + Send + 'a>>;
/// Gets a token without a user: one request to the token endpoint.
pub type Fetch = for<'a> fn(FetchInput<'a>) -> FetchFuture<'a>;

/// A grant as the rest of TokenDesk sees it.
pub struct GrantSpec {
    pub kind: GrantKind,
    /// The name in profiles, exports and the command line's `--grant`.
    pub name: &'static str,
    /// For people: "client credentials".
    pub label: &'static str,
    /// The `grant_type` its token request sends (and metadata's `grant_types_supported` lists).
    pub grant_type: &'static str,
    /// One line on when to use it.
    pub summary: &'static str,
    /// How a user takes part: not at all (a headless request), by signing in in a browser
    /// here, or by approving on another device. Without a usable refresh token, only a new
    /// sign-in gets a token for a grant with a user.
    pub sign_in: SignIn,
    /// Endpoints it cannot run without.
    pub needs: &'static [Endpoint],
    /// Whether it signs an assertion with the client's signing key (kept in the keychain).
    pub signs: bool,
    /// How to get a token headlessly; `None` for interactive grants.
    pub fetch: Option<Fetch>,
}

/// How a user takes part in a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SignIn {
    /// No user: the client's own request gets the token ([`GrantSpec::fetch`]).
    None,
    /// The user signs in in a browser on this machine, which comes back with a code.
    Browser,
    /// The user approves on another device (a phone, a laptop) by entering a code shown here;
    /// no browser on this machine (RFC 8628).
    Device,
    /// The client asks the provider to reach the user, who approves on their own device (the
    /// bank's app) a request shown with a binding message here; no code to type (CIBA).
    Decoupled,
}

impl GrantSpec {
    /// Whether only a user signing in gets a token (no headless request).
    pub fn interactive(&self) -> bool {
        self.sign_in != SignIn::None
    }
}

/// Registers the grants: `Variant => module`, the module ending with `pub const SPEC`.
macro_rules! grants {
    ($first:ident => $first_mod:ident $(, $variant:ident => $module:ident)* $(,)?) => {
        /// Which grant a profile uses to get a token.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        pub enum GrantKind {
            #[default]
            $first,
            $($variant),*
        }

        /// Every grant, in the order forms and help list them.
        pub const GRANTS: &[&GrantSpec] = &[&$first_mod::SPEC $(, &$module::SPEC)*];

        impl GrantKind {
            pub fn spec(self) -> &'static GrantSpec {
                match self {
                    GrantKind::$first => &$first_mod::SPEC,
                    $(GrantKind::$variant => &$module::SPEC),*
                }
            }
        }
    };
}

grants! {
    AuthorizationCode => auth_code,
    ClientCredentials => client_credentials,
    JwtBearer => jwt_bearer,
    TokenExchange => token_exchange,
    DeviceCode => device,
    Ciba => ciba,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The grant of a name (`client_credentials`), as profiles and `--grant` spell it.
    pub fn parse(name: &str) -> Option<Self> {
        GRANTS.iter().find(|g| g.name == name).map(|g| g.kind)
    }

    pub fn interactive(self) -> bool {
        self.spec().interactive()
    }
}

/// A grant as the UI lists it (the bindings export this for every entry of [`GRANTS`]).
#[derive(Debug, Clone, Serialize, TS)]
pub struct GrantInfo {
    pub kind: GrantKind,
    pub label: String,
    pub summary: String,
    /// Whether only a user signing in gets a token ([`SignIn`] is not `none`).
    pub interactive: bool,
    pub sign_in: SignIn,
    pub signs: bool,
}

pub fn grant_infos() -> Vec<GrantInfo> {
    GRANTS
        .iter()
        .map(|g| GrantInfo {
            kind: g.kind,
            label: g.label.into(),
            summary: g.summary.into(),
            interactive: g.interactive(),
            sign_in: g.sign_in,
            signs: g.signs,
        })
        .collect()
}

/// The extra parameters every token request of the profile carries: the profile's own, and a
/// client assertion for `private_key_jwt`.
fn token_params(
    profile: &Profile,
    credential: Option<&Sensitive<String>>,
    call: &Call<'_>,
) -> Result<Vec<(String, String)>> {
    let mut out = profile_token_params(profile, call)?;
    out.extend(assertion::params(profile, credential, call.now_ms())?);
    Ok(out)
}

/// The profile's own extra token parameters (templates filled), `audience` and `resource`:
/// [`token_params`] without the client assertion, for requests that
/// [`token_ops::authenticated_post`] authenticates.
fn profile_token_params(profile: &Profile, call: &Call<'_>) -> Result<Vec<(String, String)>> {
    let c = &profile.config;
    let ctx = call.template();
    let mut out: Vec<(String, String)> = c
        .token_params
        .iter()
        .map(|p| {
            Ok((
                p.name.clone(),
                ctx.render(&p.value, &format!("token_params.{}", p.name))?,
            ))
        })
        .collect::<Result<_>>()?;
    if let Some(a) = &c.audience {
        out.push(("audience".into(), a.clone()));
    }
    if let Some(r) = &c.resource {
        out.push(("resource".into(), r.clone()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_is_registered_under_its_own_name() {
        for g in GRANTS {
            assert_eq!(g.kind.spec().name, g.name);
            let serde_name = serde_json::to_value(g.kind).unwrap();
            assert_eq!(
                serde_name, g.name,
                "profiles store the same name the registry uses"
            );
            assert_eq!(GrantKind::parse(g.name), Some(g.kind));
            assert_eq!(
                g.interactive(),
                g.fetch.is_none(),
                "{}: a grant either has a user or fetches headlessly",
                g.name
            );
            // Where the user takes part decides the endpoint the grant cannot run without.
            let needs = |e| g.needs.contains(&e);
            match g.sign_in {
                SignIn::None => assert!(
                    !needs(Endpoint::Authorization)
                        && !needs(Endpoint::DeviceAuthorization)
                        && !needs(Endpoint::BackchannelAuthentication),
                    "{}: a headless grant sends no user anywhere",
                    g.name
                ),
                SignIn::Browser => assert!(needs(Endpoint::Authorization), "{}", g.name),
                SignIn::Device => assert!(needs(Endpoint::DeviceAuthorization), "{}", g.name),
                SignIn::Decoupled => {
                    assert!(needs(Endpoint::BackchannelAuthentication), "{}", g.name)
                }
            }
            assert!(
                needs(Endpoint::Token),
                "{}: every grant ends at the token endpoint",
                g.name
            );
        }
    }

    #[test]
    fn the_device_grant_is_registered_with_its_grant_type() {
        let spec = GrantKind::parse("device_code")
            .expect("device_code is registered")
            .spec();
        assert_eq!(spec.sign_in, SignIn::Device);
        assert!(spec.interactive() && spec.fetch.is_none());
        assert_eq!(
            device::GRANT_TYPE,
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        let info = grant_infos()
            .into_iter()
            .find(|g| g.kind == GrantKind::DeviceCode)
            .unwrap();
        assert_eq!(serde_json::to_value(info.sign_in).unwrap(), "device");
    }
}
