//! The response quirks a preset switches on, applied to what its provider answers — each time
//! with a note on the token set, so the inspector says what was read into the answer and why.
//!
//! Some quirks need nothing beyond what TokenDesk does for every provider (`Accept:
//! application/json` on every token request, an `error` or `"ok": false` in a 200 answer read
//! as the provider's error): those only name the provider in the notes. Others change how an
//! answer is read, and only a preset can switch them on: a comma is a legal character in a
//! scope token (RFC 6749 §3.3), so splitting a granted scope on commas is right for GitHub and
//! Slack and wrong in general.

use super::{Quirk, preset_of};
use crate::profile::ProfileConfig;
use crate::token::{TokenNote, TokenSet};

/// The answer's field that names where the provider's APIs live, when the preset says so.
pub const INSTANCE_URL: &str = "instance_url";

/// Applies the profile's preset quirks to a token set just built from an answer.
pub fn apply(config: &ProfileConfig, token: &mut TokenSet) {
    let Some(preset) = preset_of(config) else {
        return;
    };
    for quirk in &preset.quirks {
        match quirk {
            Quirk::CommaSeparatedScope => {
                if let Some(scope) = token.scope.as_deref().filter(|s| s.contains(',')) {
                    let spaced = split_commas(scope);
                    token.notes.push(TokenNote::new(
                        "comma_separated_scope",
                        format!(
                            "{}: the granted scope \"{scope}\" is comma-separated; read as \
                             \"{spaced}\" ({}).",
                            preset.name,
                            quirk.why()
                        ),
                    ));
                    token.scope = Some(spaced);
                }
            }
            Quirk::NoExpiresIn => expected(token, "no_expires_in", &preset.name, *quirk),
            Quirk::KeepRefreshToken => expected(token, "kept_refresh_token", &preset.name, *quirk),
            Quirk::InstanceUrl => {
                if let Some(url) = api_base(config, token) {
                    token.notes.push(TokenNote::new(
                        "instance_url",
                        format!(
                            "{}: API calls go to {url} (the answer's {INSTANCE_URL}); request \
                             paths without a host resolve against it.",
                            preset.name
                        ),
                    ));
                }
            }
            Quirk::AcceptJson | Quirk::ErrorIn200 | Quirk::OkFalse => {}
        }
    }
}

/// Where a request path without a host goes for this token: the answer's `instance_url`, when
/// the profile's preset says its provider serves APIs there and it is an http(s) URL.
pub fn api_base<'t>(config: &ProfileConfig, token: &'t TokenSet) -> Option<&'t str> {
    preset_of(config)?
        .quirks
        .contains(&Quirk::InstanceUrl)
        .then_some(())?;
    let url = token.raw.get(INSTANCE_URL)?.as_str()?;
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "https" | "http").then_some(url)
}

/// A note TokenDesk made for every provider, completed with the preset's word that this
/// provider is known to answer so.
fn expected(token: &mut TokenSet, kind: &str, provider: &str, quirk: Quirk) {
    if let Some(note) = token.notes.iter_mut().find(|n| n.kind == kind) {
        note.text = format!(
            "{} Expected: {provider} is known for it ({}).",
            note.text,
            quirk.why()
        );
    }
}

fn split_commas(scope: &str) -> String {
    scope
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;
    use crate::profile::{GrantKind, ProfileId};
    use crate::provider::response::TokenResponse;

    fn config(preset: &str) -> ProfileConfig {
        let params: &[(&str, &str)] = match preset {
            "cognito" => &[
                ("region", "eu-west-1"),
                ("user_pool_id", "eu-west-1_AbCdEf123"),
                ("base_url", "https://acme.auth.eu-west-1.amazoncognito.com"),
            ],
            _ => &[],
        };
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        find(preset).unwrap().profile(&params).unwrap()
    }

    fn answer(v: serde_json::Value, previous: Option<&TokenSet>) -> TokenSet {
        let r: TokenResponse = serde_json::from_value(v).unwrap();
        TokenSet::from_response(
            ProfileId::from("p"),
            GrantKind::AuthorizationCode,
            &r,
            1_000,
            previous,
        )
    }

    #[test]
    fn commas_are_split_for_the_providers_that_use_them_only() {
        let raw = serde_json::json!({"access_token": "gho_xxxxxxxxxxxxxxxx", "token_type": "bearer", "scope": "repo,gist, read:org"});
        let mut t = answer(raw.clone(), None);
        apply(&config("github"), &mut t);
        assert_eq!(t.scope.as_deref(), Some("repo gist read:org"));
        let note = t
            .notes
            .iter()
            .find(|n| n.kind == "comma_separated_scope")
            .unwrap();
        assert!(note.text.starts_with("GitHub: "), "{}", note.text);

        let mut plain = answer(raw, None);
        apply(&ProfileConfig::default(), &mut plain);
        assert_eq!(
            plain.scope.as_deref(),
            Some("repo,gist, read:org"),
            "no preset, no split"
        );
        let mut google = answer(
            serde_json::json!({"access_token": "ya29.xxxxxxxxxxxxxxxx", "expires_in": 3599, "scope": "a,b"}),
            None,
        );
        apply(&config("google"), &mut google);
        assert_eq!(
            google.scope.as_deref(),
            Some("a,b"),
            "Google does not switch it on"
        );
    }

    #[test]
    fn a_missing_lifetime_is_noted_and_named_when_the_preset_expects_it() {
        let raw = serde_json::json!({"access_token": "00Dxx!AQ0AQxxxxxxxxxxxx", "instance_url": "https://acme.my.salesforce.com", "token_type": "Bearer"});
        let mut t = answer(raw.clone(), None);
        let base = t
            .notes
            .iter()
            .find(|n| n.kind == "no_expires_in")
            .unwrap()
            .text
            .clone();
        apply(&config("salesforce"), &mut t);
        let note = &t
            .notes
            .iter()
            .find(|n| n.kind == "no_expires_in")
            .unwrap()
            .text;
        assert!(
            note.starts_with(&base) && note.contains("Salesforce is known for it"),
            "{note}"
        );
        assert!(
            t.notes
                .iter()
                .any(|n| n.kind == "instance_url"
                    && n.text.contains("https://acme.my.salesforce.com"))
        );
        assert_eq!(
            api_base(&config("salesforce"), &t),
            Some("https://acme.my.salesforce.com")
        );
        assert_eq!(
            api_base(&ProfileConfig::default(), &t),
            None,
            "only through the preset"
        );

        let mut bad = answer(
            serde_json::json!({"access_token": "00Dxx!AQ0AQxxxxxxxxxxxx", "instance_url": "javascript:alert(1)"}),
            None,
        );
        apply(&config("salesforce"), &mut bad);
        assert_eq!(
            api_base(&config("salesforce"), &bad),
            None,
            "an http(s) URL only"
        );
        assert!(!bad.notes.iter().any(|n| n.kind == "instance_url"));
    }

    #[test]
    fn a_kept_refresh_token_is_noted() {
        let first = answer(
            serde_json::json!({"access_token": "a1-xxxxxxxxxxxxxxxxxx", "expires_in": 3600, "refresh_token": "r1-xxxxxxxxxxxxxxxxxxxxxx"}),
            None,
        );
        assert!(first.notes.is_empty(), "{:?}", first.notes);
        let mut second = answer(
            serde_json::json!({"access_token": "a2-xxxxxxxxxxxxxxxxxx", "expires_in": 3600}),
            Some(&first),
        );
        apply(&config("cognito"), &mut second);
        assert_eq!(second.refresh, first.refresh);
        let note = &second
            .notes
            .iter()
            .find(|n| n.kind == "kept_refresh_token")
            .unwrap()
            .text;
        assert!(note.contains("Amazon Cognito is known for it"), "{note}");
    }
}
