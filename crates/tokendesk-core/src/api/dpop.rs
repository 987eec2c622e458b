//! A profile's DPoP key (RFC 9449): made on first use, kept in the keychain and in memory, and
//! the headers that use a token — `Authorization: DPoP …` with a proof for the request.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::Core;
use crate::dpop::{self, DpopKey};
use crate::error::{Error, ErrorCode, Result};
use crate::profile::{Profile, ProfileId};
use crate::secret::{SecretKind, Sensitive};
use crate::token::TokenSet;

/// The headers that use an access token for one request.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TokenUse {
    /// `Bearer …`, or `DPoP …` for a DPoP-bound token.
    pub authorization: String,
    /// The DPoP proof for the request (`DPoP: …`), for a DPoP-bound token.
    pub dpop: Option<String>,
}

impl TokenUse {
    /// The header lines, one per line, as `curl -H @-` reads them.
    pub fn header_lines(&self) -> String {
        let mut out = format!("Authorization: {}", self.authorization);
        if let Some(p) = &self.dpop {
            out.push_str(&format!("\nDPoP: {p}"));
        }
        out
    }
}

impl Core {
    /// The profile's DPoP key, `None` when the profile does not use DPoP. Made (and stored in
    /// the keychain) on first use; a key of another algorithm than the profile's is replaced.
    pub(super) async fn dpop_key(&self, profile: &Profile) -> Result<Option<Arc<DpopKey>>> {
        let Some(alg) = profile.config.dpop else {
            return Ok(None);
        };
        if let Some(k) = self.lock_dpop_keys().get(&profile.id)
            && k.alg() == alg
        {
            return Ok(Some(k.clone()));
        }
        let stored = match self.keychain_get(&profile.id, SecretKind::DpopKey).await? {
            Some(jwk) => Some(DpopKey::from_private_jwk(jwk.expose())?),
            None => None,
        };
        let key = match stored {
            Some(k) if k.alg() == alg => k,
            _ => {
                let k = DpopKey::generate(alg);
                self.keychain_set(&profile.id, SecretKind::DpopKey, k.to_private_jwk())
                    .await?;
                tracing::info!(profile = %profile.id, jkt = k.thumbprint(), "DPoP key made");
                k
            }
        };
        let key = Arc::new(key);
        self.lock_dpop_keys()
            .insert(profile.id.clone(), key.clone());
        Ok(Some(key))
    }

    /// The thumbprint of the profile's DPoP key (made now if it has none yet).
    pub async fn dpop_thumbprint(&self, id: &ProfileId) -> Result<Option<String>> {
        let profile = self.profile_by_id(id)?;
        Ok(self
            .dpop_key(&profile)
            .await?
            .map(|k| k.thumbprint().to_owned()))
    }

    /// The headers that use the stored access token for `method url`: with a DPoP-bound token,
    /// `Authorization: DPoP …` and a fresh proof carrying the token's hash (and the newest
    /// nonce the URL's origin gave).
    pub async fn token_use(&self, id: &ProfileId, method: &str, url: &str) -> Result<TokenUse> {
        let profile = self.profile_by_id(id)?;
        let token = self.reveal(id, SecretKind::AccessToken).await?;
        let set = self.store.get_token(id)?;
        self.token_use_of(&profile, set.as_ref(), &token, method, url)
            .await
    }

    /// The headers that use the stored access token for `target` (`METHOD URL`); without one,
    /// a GET of the profile's API URL (or userinfo) — needed only for a DPoP-bound token, whose
    /// proof names its request.
    pub async fn authorization_header(
        &self,
        id: &ProfileId,
        target: Option<&str>,
    ) -> Result<TokenUse> {
        let profile = self.profile_by_id(id)?;
        let token = self.reveal(id, SecretKind::AccessToken).await?;
        let set = self.store.get_token(id)?;
        let bound = set.as_ref().is_some_and(|s| s.dpop_jkt.is_some());
        let (method, url) = match (target, api_url(&profile)) {
            (Some(t), _) => dpop::parse_target(t)?,
            (None, _) if !bound => ("GET".to_owned(), String::new()),
            (None, Some(url)) => ("GET".to_owned(), url.to_owned()),
            (None, None) => {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "The token of profile \"{name}\" is DPoP-bound: each use needs a proof \
                         for the request it is used for. Set the profile's API URL, or on the \
                         command line name the request: `tokendesk token {name} --header --for \
                         'GET https://…'`.",
                        name = profile.config.name
                    ),
                ));
            }
        };
        self.token_use_of(&profile, set.as_ref(), &token, &method, &url)
            .await
    }

    pub(super) async fn token_use_of(
        &self,
        profile: &Profile,
        set: Option<&TokenSet>,
        token: &Sensitive<String>,
        method: &str,
        url: &str,
    ) -> Result<TokenUse> {
        let bound_to = set.and_then(|s| s.dpop_jkt.clone());
        let Some(jkt) = bound_to else {
            return Ok(TokenUse {
                authorization: format!("Bearer {}", token.expose()),
                dpop: None,
            });
        };
        let key = self.dpop_key(profile).await?;
        let Some(key) = key.filter(|k| k.thumbprint() == jkt) else {
            return Err(Error::new(
                ErrorCode::NeedsLogin,
                format!(
                    "The access token of profile \"{}\" is bound to a DPoP key this profile no \
                     longer has (jkt {jkt}): refresh or sign in again to get a token bound to its \
                     current key.",
                    profile.config.name
                ),
            ));
        };
        Ok(TokenUse {
            authorization: format!("{} {}", dpop::SCHEME, token.expose()),
            dpop: Some(key.proof(
                method,
                url,
                self.dpop_nonces().get(url).as_deref(),
                Some(token.expose()),
                self.now(),
            )),
        })
    }

    /// The nonces remembered by earlier processes, read once.
    pub(super) fn dpop_nonces(&self) -> &crate::dpop::Nonces {
        self.dpop_nonces.load_once(|| {
            self.store.dpop_nonces().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "DPoP nonces not read");
                Vec::new()
            })
        });
        &self.dpop_nonces
    }

    /// Remembers the nonces providers gave since the last time, for the next process.
    pub(super) fn keep_dpop_nonces(&self) {
        for (origin, nonce) in self.dpop_nonces.take_new() {
            if let Err(e) = self.store.put_dpop_nonce(&origin, &nonce) {
                tracing::warn!(error = %e, "DPoP nonce not kept");
            }
        }
    }

    fn lock_dpop_keys(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<ProfileId, Arc<DpopKey>>> {
        self.dpop_keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the key kept in memory (the profile was deleted or its key removed).
    pub(super) fn forget_dpop_key(&self, id: &ProfileId) {
        self.lock_dpop_keys().remove(id);
    }
}

/// Where the token is used by default (a copied curl line, a DPoP proof without `--for`): the
/// profile's API URL, else its userinfo endpoint.
pub(super) fn api_url(profile: &Profile) -> Option<&str> {
    profile
        .config
        .api_url
        .as_deref()
        .or_else(|| profile.endpoint(crate::profile::Endpoint::Userinfo))
}
