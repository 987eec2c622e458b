//! Profiles that use other profiles' tokens (a token exchange's subject and actor): resolving
//! those tokens before a request, the chain a token set records, noticing that a subject token
//! changed, and keeping the links whole (no cycles, no dangling names).
//!
//! Locking: a dependent's request holds its own flight and renews the subject in the
//! *subject's* flight (through [`Core::ensure_token`]). A subject's renewal never waits for a
//! dependent — dependents are re-exchanged afterwards, by the background refresher or by the
//! next `ensure_token` on them, which compare the chain's fingerprint with the subject's
//! current token — and cycles are refused when a profile is saved, so the flights are always
//! taken down the chain and never in a circle.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::Core;
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::flow::token_exchange::{self, ExchangeToken, Link, Role};
use crate::flow::{RelatedToken, RelatedTokens};
use crate::profile::{Profile, ProfileConfig, ProfileId};
use crate::secret::fingerprint;
use crate::token::{ChainLink, TokenSet};

/// How long a subject's token must stay valid to be exchanged.
const SUBJECT_MIN_VALID: Duration = Duration::from_secs(30);

impl Core {
    /// The current values of the tokens the profile's grant sends (none for most grants): each
    /// renewed first when due. A profile whose token cannot be had makes an error that names it
    /// and says what to do; the dependent's own stored token is then marked as needing that.
    pub(super) async fn related_tokens(&self, profile: &Profile) -> Result<RelatedTokens> {
        let mut out = RelatedTokens::default();
        for link in token_exchange::links(&profile.config) {
            let token = match self.related_token(profile, &link).await {
                Ok(t) => t,
                Err(e) => {
                    if e.code == ErrorCode::NeedsLogin
                        && let Some(t) = self.store.get_token(&profile.id)?
                    {
                        self.mark_needs_login(&t, &e.message)?;
                    }
                    return Err(e);
                }
            };
            match link.role {
                Role::Subject => out.subject = Some(token),
                Role::Actor => out.actor = Some(token),
            }
        }
        Ok(out)
    }

    async fn related_token(&self, profile: &Profile, link: &Link) -> Result<RelatedToken> {
        let me = &profile.config.name;
        let Some(other) = self.store.find_profile(&link.profile)? else {
            return Err(Error::invalid_field(
                link.role.field(),
                format!(
                    "Profile \"{me}\" exchanges the {} of profile \"{}\", which does not exist: \
                     choose the {} profile again.",
                    link.token.label(),
                    link.profile,
                    link.role.label()
                ),
            ));
        };
        let name = &other.config.name;
        let fail = |e: Error| {
            let todo = if other.config.grant.interactive() {
                format!("Sign in to profile \"{name}\" first (tokendesk login {name})")
            } else {
                format!("Get a token for profile \"{name}\" first (tokendesk token {name})")
            };
            let code = match e.code {
                ErrorCode::NeedsLogin | ErrorCode::InvalidGrant => ErrorCode::NeedsLogin,
                c => c,
            };
            Error::new(
                code,
                format!(
                    "Profile \"{me}\" exchanges the {} of profile \"{name}\" (its {} token), \
                     which has none usable ({}). {todo}, then get \"{me}\"'s token again.",
                    link.token.label(),
                    link.role.label(),
                    e.message.trim_end_matches('.')
                ),
            )
        };
        // Boxed: the other profile may exchange a token itself (a chain).
        Box::pin(self.ensure_token(&other.id, SUBJECT_MIN_VALID, self.trigger()))
            .await
            .map_err(fail)?;
        if link.token == ExchangeToken::Id {
            let expired = |t: Option<TokenSet>| {
                t.and_then(|t| t.id_token_expires_at)
                    .is_some_and(|at| at <= self.now() + SUBJECT_MIN_VALID.as_millis() as i64)
            };
            if expired(self.store.get_token(&other.id)?) {
                // A refresh brings a new ID token with most providers.
                Box::pin(self.refresh(&other.id, self.trigger()))
                    .await
                    .map_err(fail)?;
                if expired(self.store.get_token(&other.id)?) {
                    return Err(fail(Error::new(
                        ErrorCode::NeedsLogin,
                        "its ID token has expired and a refresh brought no new one",
                    )));
                }
            }
        }
        let value = self
            .token_value(&other.id, link.token.secret_kind())
            .await?
            .ok_or_else(|| {
                fail(Error::new(
                    ErrorCode::NeedsLogin,
                    match link.token {
                        ExchangeToken::Id => {
                            "it holds no ID token (ID tokens come from an OpenID sign-in, scope \
                             openid)"
                        }
                        ExchangeToken::Access => "it holds no access token",
                    },
                ))
            })?;
        Ok(RelatedToken {
            profile_id: other.id.clone(),
            profile_name: name.clone(),
            kind: link.token,
            value,
        })
    }

    /// Whether a token set's chain is out of date: the profile now exchanges from another
    /// profile, or a token it was exchanged from has changed since (renewed, a new sign-in).
    /// `Some(what changed)`, or `None` (also for tokens that are not exchanged).
    pub fn exchange_stale(&self, token: &TokenSet) -> Result<Option<String>> {
        if token.exchanged_from.is_none() {
            return Ok(None);
        }
        if let Some(profile) = self.store.get_profile(&token.profile_id)? {
            for link in token_exchange::links(&profile.config) {
                let held = match link.role {
                    Role::Subject => &token.exchanged_from,
                    Role::Actor => &token.exchange_actor,
                };
                let now = self.store.find_profile(&link.profile)?.map(|p| p.id);
                if held.as_ref().map(|h| (&h.profile_id, h.token))
                    != now.as_ref().map(|n| (n, link.token))
                {
                    return Ok(Some(format!(
                        "the profile now exchanges the {} of profile \"{}\"",
                        link.token.label(),
                        link.profile
                    )));
                }
            }
        }
        let mut current = HashMap::new();
        for link in [&token.exchanged_from, &token.exchange_actor]
            .into_iter()
            .flatten()
        {
            if let Some(t) = self.store.get_token(&link.profile_id)? {
                current.insert(link.profile_id.clone(), t);
            }
        }
        Ok(chain_changed(token, &current))
    }

    /// Checks the links of a profile about to be saved (`id`: the profile it replaces): every
    /// profile it names exists, and none of them leads back to it.
    pub(super) fn check_links(&self, id: Option<&ProfileId>, config: &ProfileConfig) -> Result<()> {
        let links = token_exchange::links(config);
        if links.is_empty() {
            return Ok(());
        }
        let profiles = self.store.list_profiles()?;
        let old_name = id.and_then(|id| {
            profiles
                .iter()
                .find(|p| &p.id == id)
                .map(|p| &p.config.name)
        });
        let rename = |n: String| match old_name {
            Some(old) if *old == n => config.name.clone(),
            _ => n,
        };
        // The graph after the save: profile name -> the names it takes tokens from.
        let mut graph: HashMap<String, Vec<String>> = profiles
            .iter()
            .filter(|p| Some(&p.id) != id)
            .map(|p| {
                let to = token_exchange::links(&p.config)
                    .into_iter()
                    .map(|l| rename(l.profile))
                    .collect();
                (p.config.name.clone(), to)
            })
            .collect();
        graph.insert(
            config.name.clone(),
            links.iter().map(|l| l.profile.clone()).collect(),
        );
        let mut errs = Vec::new();
        for l in &links {
            if !graph.contains_key(&l.profile) {
                errs.push(FieldError {
                    field: l.role.field().into(),
                    message: format!(
                        "No profile named \"{}\": choose an existing profile whose {} is the {} \
                         token.",
                        l.profile,
                        l.token.label(),
                        l.role.label()
                    ),
                });
            } else if let Some(path) = path_between(&graph, &l.profile, &config.name) {
                let chain = std::iter::once(config.name.as_str())
                    .chain(path.iter().map(String::as_str))
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(" → ");
                errs.push(FieldError {
                    field: l.role.field().into(),
                    message: format!(
                        "That makes a cycle ({chain}): a profile cannot exchange a token that \
                         is itself exchanged from this profile. Choose another {} profile.",
                        l.role.label()
                    ),
                });
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(errs))
        }
    }

    /// The profiles that take tokens from the one named: (their name, the role).
    pub fn exchange_dependents(&self, name: &str) -> Result<Vec<(String, Role)>> {
        Ok(self
            .store
            .list_profiles()?
            .into_iter()
            .flat_map(|p| {
                token_exchange::links(&p.config)
                    .into_iter()
                    .filter(|l| l.profile == name)
                    .map(move |l| (p.config.name.clone(), l.role))
            })
            .collect())
    }

    /// Refuses to delete a profile others take tokens from.
    pub(super) fn refuse_if_exchanged_from(&self, profile: &Profile) -> Result<()> {
        let dependents = self.exchange_dependents(&profile.config.name)?;
        if dependents.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = dependents
            .iter()
            .map(|(n, role)| format!("\"{n}\" (as its {} token)", role.label()))
            .collect();
        Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "Profile \"{}\" is not deleted: token-exchange profile{} {} exchange{} its \
                 tokens. Choose another subject/actor profile for {}, or delete {} first.",
                profile.config.name,
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 { "s" } else { "" },
                if names.len() == 1 { "it" } else { "them" },
                if names.len() == 1 { "it" } else { "them" },
            ),
        ))
    }

    /// After a rename: the profiles that named the old name name the new one.
    pub(super) fn rename_links(&self, old: &str, new: &str) -> Result<()> {
        if old == new {
            return Ok(());
        }
        for mut p in self.store.list_profiles()? {
            let x = &mut p.config.token_exchange;
            let mut changed = false;
            for slot in [&mut x.subject_profile, &mut x.actor_profile] {
                if slot.as_deref() == Some(old) {
                    *slot = Some(new.to_owned());
                    changed = true;
                }
            }
            if changed {
                p.updated_at = self.now();
                self.store.update_profile(&p)?;
            }
        }
        Ok(())
    }
}

/// The link a token set keeps of a related token that was sent.
pub(super) fn chain_link(t: &RelatedToken) -> ChainLink {
    ChainLink {
        profile_id: t.profile_id.clone(),
        profile_name: t.profile_name.clone(),
        token: t.kind,
        fingerprint: fingerprint(t.value.expose()),
    }
}

/// What changed in the tokens `token` was exchanged from, given the current token sets of the
/// profiles it links to (missing: nothing to compare with, so nothing changed).
pub fn chain_changed(token: &TokenSet, current: &HashMap<ProfileId, TokenSet>) -> Option<String> {
    [&token.exchanged_from, &token.exchange_actor]
        .into_iter()
        .flatten()
        .find_map(|link| {
            let now = current.get(&link.profile_id)?.fingerprint_of(link.token)?;
            (now != link.fingerprint).then(|| {
                format!(
                    "the {} of profile \"{}\" changed since the exchange (it was {}, it is {})",
                    link.token.label(),
                    link.profile_name,
                    link.fingerprint,
                    now
                )
            })
        })
}

/// A path of names from `from` to `to` in the graph (excluding `from`), if one exists.
fn path_between(graph: &HashMap<String, Vec<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    fn walk(
        graph: &HashMap<String, Vec<String>>,
        at: &str,
        to: &str,
        seen: &mut HashSet<String>,
        path: &mut Vec<String>,
    ) -> bool {
        path.push(at.to_owned());
        if at == to {
            return true;
        }
        if seen.insert(at.to_owned()) {
            for next in graph.get(at).into_iter().flatten() {
                if walk(graph, next, to, seen, path) {
                    return true;
                }
            }
        }
        path.pop();
        false
    }
    let mut path = Vec::new();
    walk(graph, from, to, &mut HashSet::new(), &mut path).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(a, to)| (a.to_string(), to.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn paths_are_found_through_the_chain_and_not_invented() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[]), ("d", &["d2"])]);
        assert_eq!(
            path_between(&g, "b", "c"),
            Some(vec!["b".into(), "c".into()])
        );
        assert_eq!(
            path_between(&g, "a", "c"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(path_between(&g, "c", "a"), None);
        assert_eq!(path_between(&g, "d", "a"), None, "unknown names end a walk");
        let loops = graph(&[("x", &["y"]), ("y", &["x"])]);
        assert_eq!(
            path_between(&loops, "x", "z"),
            None,
            "a loop elsewhere ends"
        );
    }
}
