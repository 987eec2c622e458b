//! Token values handed out: reveal, export as text (raw, header, curl), decoded for display.

use ts_rs::TS;

use serde::Serialize;

use super::Core;
use super::dpop::{TokenUse, api_url};
use super::login::IdTokenContext;
use super::profiles::credential_kind;
use crate::error::{Error, ErrorCode, Result};
use crate::id_token::Channel;
use crate::inspect::{self, DecodedJwt, IdTokenValidation};
use crate::profile::{Profile, ProfileId};
use crate::secret::{SecretKind, Sensitive};
use crate::token::TokenRef;
use crate::token::TokenSet;

/// How to hand out an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The token alone.
    Raw,
    /// `Authorization: Bearer …`
    Header,
    /// A curl command line with the profile's extra headers.
    Curl,
}

/// A token decoded for display.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TokenInspection {
    pub kind: SecretKind,
    pub token: TokenRef,
    pub jwt: Option<DecodedJwt>,
    /// Why the value could not be decoded as a JWT (opaque, encrypted, malformed).
    pub not_jwt: Option<String>,
    pub validation: Option<IdTokenValidation>,
    /// For a JWT access token of a profile with a `resource` (RFC 8707): whether the token's
    /// `aud` names it.
    #[ts(optional = nullable)]
    pub audience: Option<AudienceCheck>,
}

/// Whether an access token is for the profile's resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AudienceCheck {
    pub resource: String,
    /// The token's `aud`, as one string or several.
    pub aud: Vec<String>,
    pub matches: bool,
}

impl AudienceCheck {
    /// The check of `claims` against `resource`.
    pub fn of(claims: &serde_json::Value, resource: &str) -> Self {
        let aud: Vec<String> = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => vec![a.clone()],
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Self {
            matches: crate::ident::listed(&aud, resource),
            resource: resource.to_owned(),
            aud,
        }
    }
}

impl Core {
    /// A token's value, for an explicit reveal or copy.
    pub async fn reveal(&self, id: &ProfileId, kind: SecretKind) -> Result<Sensitive<String>> {
        if matches!(
            kind,
            SecretKind::ClientSecret
                | SecretKind::PrivateKey
                | SecretKind::TlsKey
                | SecretKind::DpopKey
                | SecretKind::RegistrationAccessToken
        ) {
            return Err(Error::new(
                ErrorCode::Unsupported,
                "Client secrets and keys are never shown back.",
            ));
        }
        self.token_value(id, kind).await?.ok_or_else(|| {
            Error::not_found(format!(
                "No {} is stored for this profile.",
                kind.as_str().replace('_', " ")
            ))
        })
    }

    /// The access token as text to hand out (clipboard, scripts). A DPoP-bound token's header
    /// and curl forms carry a fresh proof for a GET of the profile's API URL (or userinfo).
    pub async fn export(&self, id: &ProfileId, format: ExportFormat) -> Result<Sensitive<String>> {
        if format == ExportFormat::Raw {
            return self.reveal(id, SecretKind::AccessToken).await;
        }
        let profile = self.profile_by_id(id)?;
        let usage = self.authorization_header(id, None).await?;
        Ok(Sensitive::new(format_token(&profile, &usage, format)))
    }

    /// A stored token decoded for display.
    pub async fn inspect(&self, id: &ProfileId, kind: SecretKind) -> Result<TokenInspection> {
        let value = self.reveal(id, kind).await?;
        let set = self.store.get_token(id)?;
        let (jwt, not_jwt) = match inspect::decode_jwt(value.expose()) {
            Ok(j) => (Some(j), None),
            Err(e) => (None, Some(e)),
        };
        let validation = match kind {
            SecretKind::IdToken => Some(self.recheck_id_token(id, value.expose(), set).await?),
            _ => None,
        };
        let audience = match (&jwt, kind) {
            (Some(j), SecretKind::AccessToken) => self
                .profile_by_id(id)?
                .config
                .resource
                .map(|r| AudienceCheck::of(&j.claims, &r)),
            _ => None,
        };
        Ok(TokenInspection {
            kind,
            token: TokenRef::of(value.expose()),
            jwt,
            not_jwt,
            validation,
            audience,
        })
    }

    /// A stored ID token's checks as of now (signature against today's JWKS, `exp` against
    /// the clock), with the sign-in's own checks of what is gone since (the nonce).
    async fn recheck_id_token(
        &self,
        id: &ProfileId,
        value: &str,
        set: Option<TokenSet>,
    ) -> Result<IdTokenValidation> {
        let profile = self.profile_by_id(id)?;
        let credential = self
            .keychain_get(id, credential_kind(&profile.config))
            .await?;
        let mut live = self
            .check_id_token(
                &profile,
                value,
                credential.as_ref(),
                IdTokenContext {
                    channel: Channel::TokenEndpoint,
                    nonce: None,
                    access_token: None,
                    subject: None,
                    code: None,
                    state: None,
                    claims: None,
                    log: false,
                },
            )
            .await;
        // What only the sign-in could check (the nonce, hashes, the claims it asked for) is
        // shown as it was then.
        if let Some(at_sign_in) = set.and_then(|s| s.id_token_validation) {
            let live_names: Vec<String> = live.checks.iter().map(|c| c.name.clone()).collect();
            live.checks.extend(
                at_sign_in
                    .checks
                    .into_iter()
                    .filter(|c| !live_names.contains(&c.name))
                    .map(|mut c| {
                        c.detail = format!("At sign-in: {}", c.detail);
                        c
                    }),
            );
        }
        Ok(live)
    }
}

/// Quotes for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The token's headers as an `Authorization` header (with its DPoP proof) or a curl line (with
/// the profile's extra headers). The raw form is the token itself.
pub fn format_token(profile: &Profile, usage: &TokenUse, format: ExportFormat) -> String {
    match format {
        ExportFormat::Raw => usage
            .authorization
            .split_once(' ')
            .map(|(_, t)| t.to_owned())
            .unwrap_or_default(),
        ExportFormat::Header => usage.header_lines(),
        ExportFormat::Curl => {
            let mut line = format!(
                "curl -H {}",
                shell_quote(&format!("Authorization: {}", usage.authorization))
            );
            if let Some(proof) = &usage.dpop {
                line.push_str(&format!(" -H {}", shell_quote(&format!("DPoP: {proof}"))));
            }
            for h in &profile.config.headers {
                line.push_str(&format!(
                    " -H {}",
                    shell_quote(&format!("{}: {}", h.name, h.value))
                ));
            }
            let url = api_url(profile)
                .map(shell_quote)
                .unwrap_or_else(|| "\"$API_URL\"".to_owned());
            line.push(' ');
            line.push_str(&url);
            line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Param, ProfileConfig};

    #[test]
    fn curl_lines_quote_and_carry_extra_headers() {
        let profile = Profile {
            id: ProfileId::from("p"),
            config: ProfileConfig {
                headers: vec![Param::new("x-api-key", "k'1")],
                api_url: Some("https://api.example/v1/accounts".into()),
                ..Default::default()
            },
            metadata: None,
            created_at: 0,
            updated_at: 0,
        };
        let bearer = TokenUse {
            authorization: "Bearer T".into(),
            dpop: None,
        };
        assert_eq!(format_token(&profile, &bearer, ExportFormat::Raw), "T");
        assert_eq!(
            format_token(&profile, &bearer, ExportFormat::Header),
            "Authorization: Bearer T"
        );
        assert_eq!(
            format_token(&profile, &bearer, ExportFormat::Curl),
            r"curl -H 'Authorization: Bearer T' -H 'x-api-key: k'\''1' 'https://api.example/v1/accounts'"
        );
        let bound = TokenUse {
            authorization: "DPoP T".into(),
            dpop: Some("P.R.S".into()),
        };
        assert_eq!(
            format_token(&profile, &bound, ExportFormat::Header),
            "Authorization: DPoP T\nDPoP: P.R.S"
        );
        assert_eq!(
            format_token(&profile, &bound, ExportFormat::Curl),
            r"curl -H 'Authorization: DPoP T' -H 'DPoP: P.R.S' -H 'x-api-key: k'\''1' 'https://api.example/v1/accounts'"
        );
    }
}
