//! What is stored for a saved profile: the keychain entries its setup needs, and the state of
//! its tokens (expiry of the access and refresh tokens, the gateway's fields, the ID token's
//! checks at sign-in).

use super::{Core, Creds};
use crate::doctor::{CheckRow, Layer};
use crate::profile::{AuthMethod, Profile};

impl Core {
    pub(super) async fn check_stored(&self, profile: &Profile, creds: &Creds) -> Vec<CheckRow> {
        let c = &profile.config;
        let mut rows = Vec::new();
        let row = CheckRow::new("tokens:keychain", Layer::Tokens, "Keychain");
        let mut needed: Vec<(&str, bool)> = Vec::new();
        if c.auth_method.needs_secret() {
            let what = super::credential_name(c.auth_method);
            needed.push((what, creds.credential.is_some()));
        }
        if c.signed_request && c.auth_method != AuthMethod::PrivateKeyJwt {
            needed.push(("request signing key", creds.request_key.is_some()));
        }
        if c.tls_client_cert.is_some() {
            needed.push(("TLS client key", creds.tls_key.is_some()));
        }
        let missing: Vec<&str> = needed
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(w, _)| *w)
            .collect();
        rows.push(match (&creds.keychain_error, missing.as_slice()) {
            (Some(e), _) => row.fail(
                format!("The keychain could not be read: {e}"),
                super::UNLOCK_KEYCHAIN,
            ),
            (None, []) if needed.is_empty() => {
                row.pass("The profile needs no secret (a public client); the keychain answers.")
            }
            (None, []) => row.pass(format!(
                "Stored in the OS keychain: {}.",
                needed
                    .iter()
                    .map(|(w, _)| *w)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            (None, missing) => row.fail(
                format!("Missing from the OS keychain: {}.", missing.join(", ")),
                "Set them in the profile (they are kept in the OS keychain, nowhere else).",
            ),
        });

        let row = CheckRow::new("tokens:state", Layer::Tokens, "Tokens");
        let now = self.now();
        let token = match self.store.get_token(&profile.id) {
            Ok(t) => t,
            Err(e) => {
                return {
                    rows.push(row.fail(e.message, "The local store could not be read."));
                    rows
                };
            }
        };
        let Some(t) = token else {
            rows.push(row.skip("No token yet: sign in or fetch one."));
            return rows;
        };
        let mut seen = vec![format!(
            "{} token obtained {} ago",
            t.grant.spec().label,
            span(now - t.obtained_at)
        )];
        let when = |at: i64| match at - now {
            d if d > 0 => format!("valid {} more", span(d)),
            d => format!("expired {} ago", span(-d)),
        };
        seen.push(match t.access_expires_at {
            Some(at) => format!("access token {}", when(at)),
            None => "access token without an expiry".into(),
        });
        if t.refresh.is_some() {
            seen.push(match t.refresh_expires_at {
                Some(at) => format!("refresh token {}", when(at)),
                None => "refresh token without a stated expiry".into(),
            });
        }
        if let Some(n) = t.refresh_count {
            seen.push(format!("refresh_count {n}"));
        }
        if let Some(s) = &t.status {
            seen.push(format!("status {s}"));
        }
        let seen = format!("{}.", seen.join("; "));
        rows.push(match (&t.needs_login, &t.last_error) {
            (Some(why), _) => row.warn(format!("{seen} {why}"), "Sign in again."),
            (None, Some(e)) => row.warn(
                format!("{seen} The last automatic refresh failed: {e}"),
                "Refresh by hand to see the provider's answer in the exchange log.",
            ),
            _ => row.pass(seen),
        });
        if let Some(v) = &t.id_token_validation {
            let row = CheckRow::new("tokens:id_token", Layer::Tokens, "ID token");
            let failed = v.failures();
            rows.push(if failed.is_empty() {
                row.pass("Every check of the ID token passed at sign-in.")
            } else {
                row.warn(
                    format!(
                        "At sign-in, the ID token failed: {}.",
                        failed
                            .iter()
                            .map(|c| format!("{} ({})", c.name, c.detail))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    "See the inspector for the ID token's checks.",
                )
            });
        }
        rows
    }
}

fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
