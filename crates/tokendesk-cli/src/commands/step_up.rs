//! What to say when an API answers a profile's token with a step-up challenge
//! (`insufficient_scope`, RFC 9470 `insufficient_user_authentication`): why, and the exact
//! `tokendesk login` command that answers it.

use tokendesk_core::www_authenticate::{AuthChallenge, StepUp};

use crate::exit::shell_word;

/// The explanation and the command, or `None` when the challenge is no step-up.
/// `has` is the profile's scope: a scope it has already is not asked for again.
pub fn advice(
    profile: &str,
    has: &[String],
    status: u16,
    challenge: &AuthChallenge,
) -> Option<String> {
    let name = shell_word(profile);
    let description = challenge
        .error_description
        .as_deref()
        .map(|d| format!(" (\"{d}\")"))
        .unwrap_or_default();
    match challenge.step_up()? {
        StepUp::Scope { scope } => {
            let adds: Vec<String> = scope
                .split_whitespace()
                .filter(|s| !has.iter().any(|h| h == s))
                .map(|s| format!("--scope-add {}", shell_word(s)))
                .collect();
            let command = if adds.is_empty() {
                format!("tokendesk login {name} --scope-add SCOPE")
            } else {
                format!("tokendesk login {name} {}", adds.join(" "))
            };
            Some(format!(
                "The API answered {status} insufficient_scope{description}: the token lacks \
                 scope it needs{}. Sign in again with the wider scope (it is added to the \
                 profile):\n  {command}",
                if scope.is_empty() {
                    String::new()
                } else {
                    format!(" (it asks for \"{scope}\")")
                }
            ))
        }
        StepUp::Authentication {
            acr_values,
            max_age,
        } => {
            let mut command = format!("tokendesk login {name}");
            let mut demand = Vec::new();
            if let Some(a) = &acr_values {
                command.push_str(&format!(" --acr {}", shell_word(a)));
                demand.push(format!("an authentication of level \"{a}\""));
            }
            if let Some(m) = max_age {
                command.push_str(&format!(" --max-age {m}"));
                demand.push(format!("a sign-in at most {m} s old"));
            }
            Some(format!(
                "The API answered {status} insufficient_user_authentication (RFC 9470){description}: \
                 it demands {}. Sign in again meeting it (TokenDesk checks the new token's acr and \
                 auth_time):\n  {command}",
                if demand.is_empty() {
                    "a stronger sign-in".to_owned()
                } else {
                    demand.join(" and ")
                }
            ))
        }
    }
}
