//! Calls to the provider about a token: revocation (RFC 7009), introspection (RFC 7662),
//! userinfo.

use super::Core;
use crate::error::{Error, ErrorCode, Result};
use crate::events::CoreEvent;
use crate::flow;
use crate::flow::token_ops::TokenHint;
use crate::history::EventKind;
use crate::profile::{Profile, ProfileId};
use crate::secret::{SecretKind, Sensitive};
use crate::token::TokenSet;

impl Core {
    /// Revokes the access or the refresh token at the provider (RFC 7009) and marks the token
    /// set revoked; the next use renews it (or, when the refresh token is gone, asks for a new
    /// sign-in). Revoking a refresh token ends the whole grant at most providers.
    #[tracing::instrument(skip_all, fields(profile = %id, ?which), err)]
    pub async fn revoke(&self, id: &ProfileId, which: TokenHint) -> Result<()> {
        let _flight = self.enter_flight(id).await?;
        let (profile, token) = self.provider_token(id, which).await?;
        let attempt = self.attempt(EventKind::Revocation, id, self.trigger(), which.as_str());
        let result = self.revoke_locked(&profile, &token, which).await;
        self.record_attempt(attempt, result.as_ref().map(|t| t.as_ref()), None);
        result.map(|_| ())
    }

    /// Sends the revocation and marks the stored token set revoked; returns it.
    async fn revoke_locked(
        &self,
        profile: &Profile,
        token: &Sensitive<String>,
        which: TokenHint,
    ) -> Result<Option<TokenSet>> {
        let id = &profile.id;
        let (call, secret) = self
            .authed_call(profile, "revoke", &[token.expose()])
            .await?;
        let result = flow::token_ops::revoke(profile, secret.as_ref(), token, which, &call).await;
        self.record(&call);
        result?;
        // The values stay in the keychain, so the user can introspect them and see them dead.
        let Some(mut t) = self.store.get_token(id)? else {
            return Ok(None);
        };
        let now = self.now();
        t.revoked_at = Some(now);
        if which == TokenHint::RefreshToken {
            t.refresh_expires_at = Some(now);
            t.needs_login = profile
                .config
                .grant
                .interactive()
                .then(|| "The refresh token was revoked: sign in again.".to_owned());
        }
        self.store.put_token(&t)?;
        self.emit(CoreEvent::TokenChanged {
            profile_id: id.clone(),
        });
        Ok(Some(t))
    }

    /// Asks the provider about a token (RFC 7662) and returns its answer.
    #[tracing::instrument(skip_all, fields(profile = %id, ?which), err)]
    pub async fn introspect(&self, id: &ProfileId, which: TokenHint) -> Result<serde_json::Value> {
        let (profile, token) = self.provider_token(id, which).await?;
        let (call, secret) = self
            .authed_call(&profile, "introspect", &[token.expose()])
            .await?;
        let result =
            flow::token_ops::introspect(&profile, secret.as_ref(), &token, which, &call).await;
        self.record(&call);
        result
    }

    /// Calls the userinfo endpoint with the access token and returns the claims.
    #[tracing::instrument(skip_all, fields(profile = %id), err)]
    pub async fn userinfo(&self, id: &ProfileId) -> Result<serde_json::Value> {
        let profile = self.ready_profile(id).await?;
        let token = self.reveal(id, SecretKind::AccessToken).await?;
        let mut call = self.call(&profile, "userinfo").await?;
        call.scrub(token.expose());
        let scheme = match self.store.get_token(id)?.and_then(|t| t.dpop_jkt) {
            Some(_) => crate::dpop::SCHEME,
            None => "Bearer",
        };
        let result = flow::token_ops::userinfo(&profile, &token, scheme, &call).await;
        self.record(&call);
        let claims = result?;
        // OpenID Connect Core §5.3.2: the userinfo `sub` must be the ID token's, or the answer
        // is not about the user who signed in.
        if let Some(id_token) = self.token_value(id, SecretKind::IdToken).await?
            && let Some(want) = crate::inspect::subject(id_token.expose())
        {
            let want = want.as_str();
            let got = claims.get("sub").and_then(|s| s.as_str());
            if !got.is_some_and(|g| crate::ident::same(g, want)) {
                let detail = match got {
                    Some(g) => format!(
                        "The userinfo answer is about subject \"{g}\", but the ID token names \
                         \"{want}\": the answer is not about the user who signed in."
                    ),
                    None => "The userinfo answer has no sub claim (OpenID Connect Core §5.3.2 \
                             requires it)."
                        .to_owned(),
                };
                let mut e = Error::new(
                    ErrorCode::CheckFailed,
                    format!("Userinfo failed a check: {detail}"),
                );
                e.checks = vec![crate::inspect::Check {
                    name: "sub".into(),
                    ok: false,
                    detail,
                }];
                return Err(e);
            }
        }
        Ok(claims)
    }

    /// The profile (discovered) and the token to send to its revocation or introspection
    /// endpoint.
    pub(super) async fn provider_token(
        &self,
        id: &ProfileId,
        which: TokenHint,
    ) -> Result<(Profile, Sensitive<String>)> {
        let profile = self.ready_profile(id).await?;
        let kind = match which {
            TokenHint::AccessToken => SecretKind::AccessToken,
            TokenHint::RefreshToken => SecretKind::RefreshToken,
        };
        Ok((profile, self.reveal(id, kind).await?))
    }
}
