//! The pitfalls a profile's provider preset knows, checked without a request: a redirect the
//! provider does not accept (a loopback form it refuses, an ephemeral port where it matches
//! ports exactly, a loopback listener where only https works), a public client where the
//! provider wants the secret, and the parameters it takes to get a refresh token left out.

use url::Url;

use super::{CheckRow, Layer};
use crate::catalog::{self, Preset};
use crate::profile::{AuthMethod, ProfileConfig};

/// The preset's checks of the profile; none when it was not made from a preset. (A missing
/// credential is the client-authentication check's to report.)
pub fn pitfalls(config: &ProfileConfig) -> Vec<CheckRow> {
    let Some(preset) = catalog::preset_of(config) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    if config.grant.interactive() {
        rows.push(redirect(preset, config));
        rows.push(refresh_token(preset, config));
    }
    rows.push(client_auth(preset, config));
    rows
}

fn redirect(preset: &Preset, config: &ProfileConfig) -> CheckRow {
    let row = CheckRow::new(
        "client:preset-redirect",
        Layer::Client,
        format!("Redirect URI for {}", preset.name),
    );
    let r = &preset.redirect;
    let uri = config
        .redirect_uri
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:<any port>/callback".into());
    let note = r.note.clone().unwrap_or_default();
    let parsed = config
        .redirect_uri
        .as_deref()
        .and_then(|u| Url::parse(u).ok());
    let loopback = match &parsed {
        None => true,
        Some(u) => u.scheme() == "http",
    };
    if r.https_only && loopback {
        return row.fail(
            format!(
                "{uri}: {} takes only https redirect URIs. {note}",
                preset.name
            ),
            "Register an https redirect URI with the provider and set it as the profile's \
             redirect URI; TokenDesk then asks you to paste the address the browser lands on.",
        );
    }
    if !loopback || r.hosts.is_empty() {
        return row.pass(format!("{uri}. {note}").trim_end_matches(". ").to_owned());
    }
    let host = match &parsed {
        None => "127.0.0.1".to_owned(),
        Some(u) => match u.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(h) => h.to_string(),
            None => String::new(),
        },
    };
    if !r.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return row.fail(
            format!(
                "{uri}: {} does not accept {host} as a loopback redirect (it takes {}). {note}",
                preset.name,
                r.hosts.join(", ")
            ),
            format!(
                "Use {} in the redirect URI, and register that form with the provider.",
                r.hosts[0]
            ),
        );
    }
    let fixed_port = parsed.as_ref().and_then(Url::port).is_some_and(|p| p != 0);
    if !r.any_port && !fixed_port {
        let suggestion = r
            .uri
            .clone()
            .unwrap_or_else(|| format!("http://{}:8765/callback", r.hosts[0]));
        return row.warn(
            format!(
                "{uri}: TokenDesk picks a new port for every sign-in, but {} matches the port \
                 exactly. {note}",
                preset.name
            ),
            format!("Set the redirect URI to {suggestion} and register exactly that."),
        );
    }
    row.pass(format!("{uri}. {note}").trim_end_matches(". ").to_owned())
}

fn refresh_token(preset: &Preset, config: &ProfileConfig) -> CheckRow {
    let row = CheckRow::new(
        "client:preset-refresh-token",
        Layer::Client,
        format!("Refresh token from {}", preset.name),
    );
    let rt = &preset.refresh_token;
    let mut missing = Vec::new();
    for s in &rt.scopes {
        if !config.scopes.contains(s) {
            missing.push(format!("scope {s}"));
        }
    }
    for p in &rt.authorize_params {
        if !config
            .authorize_params
            .iter()
            .any(|q| q.name == p.name && q.value == p.value)
        {
            missing.push(format!("{}={}", p.name, p.value));
        }
    }
    if missing.is_empty() {
        return row.pass(rt.why.clone());
    }
    row.warn(
        format!(
            "The profile does not send {}: no refresh token will come, so the token cannot be \
             renewed without signing in again. {}.",
            missing.join(", "),
            rt.why
        ),
        format!("Add {} to the profile.", missing.join(" and ")),
    )
}

fn client_auth(preset: &Preset, config: &ProfileConfig) -> CheckRow {
    let row = CheckRow::new(
        "client:preset-auth",
        Layer::Client,
        format!("Client authentication at {}", preset.name),
    );
    let wanted = preset.client.auth_method;
    let note = preset.client.note.clone().unwrap_or_default();
    let secret_method = |m: AuthMethod| {
        matches!(
            m,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    };
    if secret_method(wanted) && config.auth_method == AuthMethod::None {
        return row.warn(
            format!(
                "The profile is a public client (no secret), but {} expects {}. {note}",
                preset.name,
                wanted.as_str()
            ),
            format!(
                "Store the client secret and use {}, unless the client is registered as public.",
                wanted.as_str()
            ),
        );
    }
    row.pass(
        format!("{}. {note}", config.auth_method.as_str())
            .trim_end_matches(". ")
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn profile(id: &str, params: &[(&str, &str)]) -> ProfileConfig {
        let given: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut c = catalog::find(id).unwrap().profile(&given).unwrap();
        c.client_id = "x".into();
        c
    }

    fn status(rows: &[CheckRow], id: &str) -> (Status, String) {
        let r = rows.iter().find(|r| r.id == id).unwrap();
        (
            r.status,
            format!("{} {}", r.seen, r.fix.clone().unwrap_or_default()),
        )
    }

    #[test]
    fn a_google_desktop_client_without_a_secret_is_warned() {
        let mut c = profile("google", &[]);
        let rows = pitfalls(&c);
        assert_eq!(status(&rows, "client:preset-auth").0, Status::Pass);
        c.auth_method = AuthMethod::None;
        let (s, text) = status(&pitfalls(&c), "client:preset-auth");
        assert_eq!(s, Status::Warn);
        assert!(
            text.contains("client_secret_post") && text.contains("even with PKCE"),
            "{text}"
        );
    }

    #[test]
    fn redirects_the_provider_refuses_are_named() {
        // Spotify refuses localhost.
        let mut c = profile("spotify", &[]);
        assert_eq!(
            status(&pitfalls(&c), "client:preset-redirect").0,
            Status::Pass
        );
        c.redirect_uri = Some("http://localhost:8765/callback".into());
        let (s, text) = status(&pitfalls(&c), "client:preset-redirect");
        assert_eq!(s, Status::Fail);
        assert!(
            text.contains("does not accept localhost") && text.contains("127.0.0.1"),
            "{text}"
        );
        // Entra refuses [::1].
        let mut e = profile("entra", &[]);
        e.redirect_uri = Some("http://[::1]/callback".into());
        assert_eq!(
            status(&pitfalls(&e), "client:preset-redirect").0,
            Status::Fail
        );
        // Keycloak matches ports exactly: an ephemeral port is warned about.
        let mut k = profile("keycloak", &[("base_url", "https://sso.example.com")]);
        k.redirect_uri = None;
        let (s, text) = status(&pitfalls(&k), "client:preset-redirect");
        assert_eq!(s, Status::Warn);
        assert!(text.contains("http://127.0.0.1:8765/callback"), "{text}");
        // Slack takes https only.
        let slack = profile("slack", &[]);
        assert_eq!(
            status(&pitfalls(&slack), "client:preset-redirect").0,
            Status::Fail
        );
        let mut slack = slack;
        slack.redirect_uri = Some("https://example.com/slack".into());
        assert_eq!(
            status(&pitfalls(&slack), "client:preset-redirect").0,
            Status::Pass
        );
    }

    #[test]
    fn refresh_token_parameters_left_out_are_warned() {
        let mut g = profile("google", &[]);
        assert_eq!(
            status(&pitfalls(&g), "client:preset-refresh-token").0,
            Status::Pass
        );
        g.authorize_params.retain(|p| p.name != "access_type");
        let (s, text) = status(&pitfalls(&g), "client:preset-refresh-token");
        assert_eq!(s, Status::Warn);
        assert!(text.contains("access_type=offline"), "{text}");
        let mut x = profile("x", &[]);
        x.scopes = vec!["tweet.read".into()];
        let (_, text) = status(&pitfalls(&x), "client:preset-refresh-token");
        assert!(text.contains("scope offline.access"), "{text}");
    }

    #[test]
    fn profiles_without_a_preset_get_no_preset_checks() {
        assert!(pitfalls(&ProfileConfig::default()).is_empty());
    }
}
