//! Token exchange (RFC 8693): another profile's access or ID token (the *subject token*, and
//! optionally an *actor token*) is traded at the token endpoint for a token of this profile's
//! client — for another audience, resource, scope or token type.
//!
//! The profile names the profiles the tokens come from (by name, like a step's `token_from`);
//! the core resolves their current values before the request (renewing them first, in *their*
//! single flight) and records which token the result was exchanged from (a fingerprint, never
//! the value) in the token set, so the chain is visible and a renewed subject is noticed.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use super::{
    FetchFuture, FetchInput, GrantKind, GrantSpec, RelatedToken, SignIn, profile_token_params,
    token_ops,
};
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Endpoint, ProfileConfig};
use crate::provider::hints::{self, Operation};
use crate::provider::response::TokenResponse;
use crate::secret::SecretKind;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The token type identifiers of RFC 8693 §3, for forms and help.
pub const TOKEN_TYPES: &[&str] = &[
    ACCESS_TOKEN_TYPE,
    REFRESH_TOKEN_TYPE,
    ID_TOKEN_TYPE,
    JWT_TOKEN_TYPE,
];

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::TokenExchange,
    name: "token_exchange",
    label: "token exchange",
    grant_type: GRANT_TYPE,
    summary: "Trades another profile's access or ID token for one of this client (RFC 8693).",
    sign_in: SignIn::None,
    needs: &[Endpoint::Token],
    signs: false,
    fetch: Some(fetch),
};

/// Which of a profile's tokens goes into the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeToken {
    #[default]
    Access,
    Id,
}

impl ExchangeToken {
    pub fn secret_kind(self) -> SecretKind {
        match self {
            ExchangeToken::Access => SecretKind::AccessToken,
            ExchangeToken::Id => SecretKind::IdToken,
        }
    }
    /// Its token type identifier (`subject_token_type`, RFC 8693 §3).
    pub fn type_uri(self) -> &'static str {
        match self {
            ExchangeToken::Access => ACCESS_TOKEN_TYPE,
            ExchangeToken::Id => ID_TOKEN_TYPE,
        }
    }
    /// For people: "access token".
    pub fn label(self) -> &'static str {
        match self {
            ExchangeToken::Access => "access token",
            ExchangeToken::Id => "ID token",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeToken::Access => "access",
            ExchangeToken::Id => "id",
        }
    }
}

/// What a token-exchange profile exchanges; used when the profile's grant is `token_exchange`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct TokenExchange {
    /// The name of the profile whose token is the subject token.
    pub subject_profile: Option<String>,
    pub subject_token: ExchangeToken,
    /// The name of the profile whose token is the actor token (delegation), if any.
    pub actor_profile: Option<String>,
    pub actor_token: ExchangeToken,
    /// `requested_token_type`: a token type URI (see [`TOKEN_TYPES`]); unset: the provider's
    /// choice (usually an access token).
    pub requested_token_type: Option<String>,
}

/// The part another profile's token plays in an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Subject,
    Actor,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Subject => "subject",
            Role::Actor => "actor",
        }
    }
    /// The profile field that names it, for field errors.
    pub fn field(self) -> &'static str {
        match self {
            Role::Subject => "token_exchange.subject_profile",
            Role::Actor => "token_exchange.actor_profile",
        }
    }
}

/// A profile whose token a profile's grant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub role: Role,
    /// The other profile's name.
    pub profile: String,
    pub token: ExchangeToken,
}

/// The profiles whose tokens the config's grant needs: none unless it is a token exchange.
pub fn links(config: &ProfileConfig) -> Vec<Link> {
    if config.grant != GrantKind::TokenExchange {
        return Vec::new();
    }
    let x = &config.token_exchange;
    [
        (Role::Subject, x.subject_profile.as_deref(), x.subject_token),
        (Role::Actor, x.actor_profile.as_deref(), x.actor_token),
    ]
    .into_iter()
    .filter_map(|(role, p, token)| {
        let p = p.map(str::trim).filter(|p| !p.is_empty());
        p.map(|p| Link {
            role,
            profile: p.to_owned(),
            token,
        })
    })
    .collect()
}

/// The checks a token-exchange config passes on its own (the other profiles are the core's:
/// whether they exist, and cycles).
pub fn validate(config: &ProfileConfig, errs: &mut Vec<(String, String)>) {
    if config.grant != GrantKind::TokenExchange {
        return;
    }
    let x = &config.token_exchange;
    let links = links(config);
    if !links.iter().any(|l| l.role == Role::Subject) {
        errs.push((
            Role::Subject.field().into(),
            "Choose the profile whose token is exchanged (the subject token).".into(),
        ));
    }
    for l in &links {
        if l.profile == config.name.trim() {
            errs.push((
                l.role.field().into(),
                format!(
                    "A profile cannot exchange its own token: choose another profile as the {} \
                     token's.",
                    l.role.label()
                ),
            ));
        }
    }
    if let Some(t) = &x.requested_token_type {
        let t = t.trim();
        if t.is_empty() {
            errs.push((
                "token_exchange.requested_token_type".into(),
                "Leave it unset rather than empty.".into(),
            ));
        } else if Url::parse(t).is_err() {
            errs.push((
                "token_exchange.requested_token_type".into(),
                format!(
                    "\"{t}\" is not a token type URI (e.g. {ACCESS_TOKEN_TYPE} or {JWT_TOKEN_TYPE})."
                ),
            ));
        }
    }
}

fn fetch(input: FetchInput<'_>) -> FetchFuture<'_> {
    Box::pin(request(input))
}

async fn request(input: FetchInput<'_>) -> Result<TokenResponse> {
    let profile = input.profile;
    let url = profile.require_endpoint(Endpoint::Token)?.to_owned();
    let Some(subject) = input.related.subject.as_ref() else {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            format!(
                "Profile \"{}\" exchanges a token but names no subject profile: choose the \
                 profile whose token is exchanged.",
                profile.config.name
            ),
        ));
    };
    let x = &profile.config.token_exchange;
    let scope = profile.config.scopes.join(" ");
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT_TYPE),
        ("subject_token", subject.value.expose()),
        ("subject_token_type", subject.kind.type_uri()),
    ];
    if let Some(actor) = &input.related.actor {
        form.push(("actor_token", actor.value.expose()));
        form.push(("actor_token_type", actor.kind.type_uri()));
    }
    if let Some(t) = x.requested_token_type.as_deref().map(str::trim) {
        form.push(("requested_token_type", t));
    }
    if !scope.is_empty() {
        form.push(("scope", &scope));
    }
    // audience, resource and the profile's extra parameters; the client assertion (if any)
    // comes with the authenticated post.
    let mut extra = profile_token_params(profile, input.call)?;
    extra.extend(super::rar::param(profile, &input.call.template())?);
    form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let now = input.call.now_ms();
    let request = token_ops::authenticated_post(profile, input.credential, &url, form, now)?;
    let response = input.call.send_for_oauth(request).await?;
    hints::token_answer(
        &response,
        &input.call.last_response(),
        Operation::TokenExchange,
    )
}

impl RelatedToken {
    /// "the access token of profile \"ci\"".
    pub fn describe(&self) -> String {
        format!(
            "the {} of profile \"{}\"",
            self.kind.label(),
            self.profile_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Endpoints;

    fn config() -> ProfileConfig {
        ProfileConfig {
            name: "downstream".into(),
            client_id: "exchanger".into(),
            grant: GrantKind::TokenExchange,
            endpoints: Endpoints {
                token: Some("https://idp.example/token".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn fields(c: &ProfileConfig) -> Vec<String> {
        match c.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn a_subject_is_required_and_may_not_be_the_profile_itself() {
        let mut c = config();
        assert_eq!(fields(&c), ["token_exchange.subject_profile"]);
        c.token_exchange.subject_profile = Some("  ".into());
        assert_eq!(
            fields(&c),
            ["token_exchange.subject_profile"],
            "blank is none"
        );
        c.token_exchange.subject_profile = Some("downstream".into());
        let e = c.validate().unwrap_err();
        assert!(e.message.contains("its own token"), "{}", e.message);
        c.token_exchange.subject_profile = Some("upstream".into());
        c.token_exchange.actor_profile = Some("downstream".into());
        assert_eq!(fields(&c), ["token_exchange.actor_profile"]);
        c.token_exchange.actor_profile = Some("robot".into());
        assert!(fields(&c).is_empty());
    }

    #[test]
    fn the_requested_type_must_be_a_uri() {
        let mut c = config();
        c.token_exchange.subject_profile = Some("upstream".into());
        c.token_exchange.requested_token_type = Some("access token".into());
        assert_eq!(fields(&c), ["token_exchange.requested_token_type"]);
        c.token_exchange.requested_token_type = Some(JWT_TOKEN_TYPE.into());
        assert!(fields(&c).is_empty());
        c.token_exchange.requested_token_type = Some("https://example.com/my-type".into());
        assert!(fields(&c).is_empty(), "any URI is allowed");
    }

    #[test]
    fn only_a_token_exchange_links_to_other_profiles() {
        let mut c = config();
        c.token_exchange.subject_profile = Some("upstream".into());
        c.token_exchange.subject_token = ExchangeToken::Id;
        c.token_exchange.actor_profile = Some("robot".into());
        assert_eq!(
            links(&c),
            [
                Link {
                    role: Role::Subject,
                    profile: "upstream".into(),
                    token: ExchangeToken::Id
                },
                Link {
                    role: Role::Actor,
                    profile: "robot".into(),
                    token: ExchangeToken::Access
                }
            ]
        );
        c.grant = GrantKind::ClientCredentials;
        assert!(links(&c).is_empty(), "a leftover section is ignored");
        assert!(fields(&c).is_empty());
    }
}
