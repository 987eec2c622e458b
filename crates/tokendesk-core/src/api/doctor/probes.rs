//! The provider's view of the client, asked without a user: does the client authenticate (a
//! trial client-credentials token thrown away, or a code exchange with a made-up code that can
//! only fail — `invalid_grant` when the client authenticated, `invalid_client` when not), and
//! does the provider accept the authorization request (client id, redirect URI, scopes) before
//! a user would ever see its error page.

use super::{Core, Creds};
use crate::doctor::{CheckRow, Layer};
use crate::flow::{self, SignIn};
use crate::http::{Call, TlsSetup};
use crate::loopback::RedirectTarget;
use crate::profile::{AuthMethod, GrantKind, Profile};
use crate::provider::hints::page_excerpt;
use crate::provider::response::ProviderError;
use crate::template::{Context, Values};

impl Core {
    pub(super) async fn check_client_auth(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        creds: &Creds,
    ) -> (Vec<CheckRow>, ()) {
        let c = &profile.config;
        let row = CheckRow::new(
            "client:authentication",
            Layer::Client,
            "Client authentication",
        );
        if let Some(e) = &creds.keychain_error {
            return (
                vec![row.fail(
                    format!("The keychain could not be read: {e}"),
                    super::UNLOCK_KEYCHAIN,
                )],
                (),
            );
        }
        if c.auth_method.needs_secret() && creds.credential.is_none() {
            let what = super::credential_name(c.auth_method);
            return (
                vec![row.fail(
                    format!("No {what} is stored for the profile: the client cannot authenticate."),
                    format!("Set the {what} in the profile; it is kept in the OS keychain."),
                )],
                (),
            );
        }
        let redirect_uri =
            redirect_uri(profile).unwrap_or_else(|_| "http://127.0.0.1/callback".into());
        let (outcome, exchanges) = self.authenticate(profile, tls, creds, &redirect_uri).await;
        let row = row.with_exchanges(exchanges);
        let row = match outcome {
            Auth::Issued(seen) | Auth::Authenticated(seen) => row.pass(seen),
            Auth::Refused(seen, fix) => row.fail(seen, fix),
            Auth::Unclear(seen) => row.warn(
                seen,
                "The provider's answer does not tell whether the client authenticated: sign in \
                 once and read the exchange log.",
            ),
            Auth::NotClient(seen) => {
                // The other secret method may be the one the client is registered for.
                let other = match c.auth_method {
                    AuthMethod::ClientSecretBasic => Some(AuthMethod::ClientSecretPost),
                    AuthMethod::ClientSecretPost => Some(AuthMethod::ClientSecretBasic),
                    _ => None,
                };
                let mut fix = crate::provider::hints::hint(
                    "invalid_client",
                    crate::provider::hints::Operation::ClientCredentials,
                )
                .unwrap_or_default()
                .to_owned();
                let mut row = row;
                if let Some(other) = other {
                    let mut switched = profile.clone();
                    switched.config.auth_method = other;
                    let (retried, more) = self
                        .authenticate(&switched, tls, creds, &redirect_uri)
                        .await;
                    row.exchanges.extend(more);
                    if matches!(retried, Auth::Issued(_) | Auth::Authenticated(_)) {
                        fix = format!(
                            "The same id and secret authenticate with {}: switch the profile's \
                             authentication method to it.",
                            other.as_str()
                        );
                    } else {
                        fix = format!(
                            "{} also fails: check the client id and the secret (a wrong or \
                             expired secret is the usual cause).",
                            other.as_str()
                        );
                    }
                }
                row.fail(seen, fix)
            }
        };
        (vec![row], ())
    }

    /// One try at authenticating as the client.
    async fn authenticate(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        creds: &Creds,
        redirect_uri: &str,
    ) -> (Auth, Vec<crate::http::Exchange>) {
        let method = profile.config.auth_method.as_str();
        let mut call = self
            .plain_call(profile, "setup-check:client-authentication")
            .with_tls(tls.clone());
        if let Some(s) = &creds.credential {
            call.scrub(s.expose());
        }
        // A provider that wants DPoP at the token endpoint refuses a request without a proof
        // before it looks at the client: prove with the stored key, or a throwaway one (the
        // check stores no key).
        if let Some(alg) = profile.config.dpop {
            let key = creds
                .dpop_key
                .as_ref()
                .and_then(|k| crate::dpop::DpopKey::from_private_jwk(k.expose()).ok())
                .unwrap_or_else(|| crate::dpop::DpopKey::generate(alg));
            self.dpop_nonces();
            call = call.with_dpop(std::sync::Arc::new(key), self.dpop_nonces.clone());
        }
        if profile.config.grant == GrantKind::ClientCredentials {
            let result =
                flow::client_credentials::request(profile, creds.credential.as_ref(), &call).await;
            // Recorded redacted, as every exchange: the trial token's value is not in them.
            let exchanges = call.take_records();
            return match result {
                Ok(r) => {
                    use oauth2::TokenResponse as _;
                    (
                        Auth::Issued(format!(
                            "The client authenticated with {method}: a trial client-credentials \
                             token was issued{} and thrown away (nothing stored).",
                            r.expires_in()
                                .map(|d| format!(" (valid {} s)", d.as_secs()))
                                .unwrap_or_default()
                        )),
                        exchanges,
                    )
                }
                Err(e) if e.code == crate::error::ErrorCode::InvalidClient => (
                    Auth::NotClient(format!("With {method}: {}", e.message)),
                    exchanges,
                ),
                Err(e) => (
                    Auth::Refused(
                        format!("The client-credentials request was refused: {}", e.message),
                        "See the provider's error; the client may lack a grant or scope.".into(),
                    ),
                    exchanges,
                ),
            };
        }
        let answer = flow::token_ops::probe_client_auth(
            profile,
            creds.credential.as_ref(),
            redirect_uri,
            &call,
        )
        .await;
        let exchanges = call.take_records();
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                return (
                    Auth::Refused(e.message, "Check the token endpoint.".into()),
                    exchanges,
                );
            }
        };
        let status = response.status().as_u16();
        let error = serde_json::from_slice::<ProviderError>(response.body()).ok();
        let said = |pe: &ProviderError| pe.to_string();
        let outcome = match error.as_ref().map(|e| e.error.as_str()) {
            Some("invalid_grant") => Auth::Authenticated(format!(
                "The client authenticated with {method}: a made-up code was refused as \
                 invalid_grant, as it must be (HTTP {status})."
            )),
            Some("invalid_client") => Auth::NotClient(format!(
                "With {method}, the provider answered HTTP {status}: {}.",
                said(error.as_ref().expect("matched"))
            )),
            Some("unauthorized_client") => Auth::Refused(
                format!(
                    "The client authenticated, but may not use the authorization_code grant \
                     (HTTP {status}: {}).",
                    said(error.as_ref().expect("matched"))
                ),
                "Ask the provider to allow the grant for the client.".into(),
            ),
            Some(_) => Auth::Unclear(format!(
                "A made-up code was refused with HTTP {status}: {}.",
                said(error.as_ref().expect("matched"))
            )),
            None => Auth::Unclear(format!(
                "A made-up code was answered with HTTP {status} and no OAuth error: {}",
                page_excerpt(&String::from_utf8_lossy(response.body()), 200)
            )),
        };
        (outcome, exchanges)
    }

    pub(super) async fn check_redirect(
        &self,
        profile: &Profile,
        tls: &TlsSetup,
        creds: &Creds,
    ) -> (Vec<CheckRow>, ()) {
        let c = &profile.config;
        if c.grant.spec().sign_in != SignIn::Browser {
            return (Vec::new(), ());
        }
        let row = CheckRow::new("client:redirect", Layer::Client, "Authorization request");
        if !c.steps.is_empty() {
            return (
                vec![row.skip(
                    "The sign-in runs steps first (a consent to register): the check does not \
                     run them.",
                )],
                (),
            );
        }
        let redirect_uri = match redirect_uri(profile) {
            Ok(u) => u,
            Err(e) => return (vec![row.fail(e, "Set a valid redirect URI.")], ()),
        };
        let port_note = match RedirectTarget::parse(c.redirect_uri.as_deref()) {
            Ok(RedirectTarget::Loopback { port, .. }) if port != 0 => format!(
                " The profile registers the fixed loopback port {port}: it must be free when \
                 signing in. RFC 8252 §7.3 asks providers to accept any port on a loopback \
                 redirect URI; if this one does, register the URI without a port."
            ),
            _ => String::new(),
        };
        let values = Values::default();
        let ctx = Context {
            values: &values,
            now: self.now(),
        };
        let built = async {
            let mut auth = flow::auth_code::authorization(profile, &redirect_uri, &ctx)?;
            if c.signed_request {
                let key = creds.signing_key(c);
                auth.url = flow::request_object::wrap(profile, &auth.url, key, self.now())?;
            }
            Ok::<_, crate::error::Error>(auth.url)
        };
        let mut url = match built.await {
            Ok(u) => u,
            Err(e) => {
                return (
                    vec![row.fail(e.message, "Fix the profile's authorization settings.")],
                    (),
                );
            }
        };
        let mut exchanges = Vec::new();
        if flow::par::wanted(profile) {
            let mut call = self
                .plain_call(profile, "setup-check:par")
                .with_tls(tls.clone());
            if let Some(s) = &creds.credential {
                call.scrub(s.expose());
            }
            let pushed = flow::par::push(profile, creds.credential.as_ref(), &url, &call).await;
            exchanges.extend(call.take_records());
            match pushed {
                Ok(u) => url = u,
                Err(e) => {
                    return (
                        vec![
                            row.fail(
                                format!(
                                    "The pushed authorization request was refused: {}",
                                    e.message
                                ),
                                "See the provider's error: the client id, the redirect URI and \
                                 the scopes are checked when the request is pushed.",
                            )
                            .with_exchanges(exchanges),
                        ],
                        (),
                    );
                }
            }
        }
        let call = self
            .plain_call(profile, "setup-check:authorize")
            .with_tls(tls.clone());
        let answer = send_get(&call, url.as_str()).await;
        exchanges.extend(call.take_records());
        let row = row.with_exchanges(exchanges);
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                return (
                    vec![row.fail(e.message, "Check the authorization endpoint.")],
                    (),
                );
            }
        };
        let status = response.status().as_u16();
        let location = crate::http::redirect_target(&response);
        let base = redirect_uri
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned();
        let row = match location {
            Some(to) if to.starts_with(&base) => {
                let back = url::Url::parse(&to).ok();
                let param = |name: &str| {
                    back.as_ref().and_then(|u| {
                        u.query_pairs()
                            .chain(url::form_urlencoded::parse(u.fragment().unwrap_or("").as_bytes()))
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.into_owned())
                    })
                };
                match param("error") {
                    Some(error) => row.fail(
                        format!(
                            "The provider sent the browser straight back with error={error}{}.",
                            param("error_description")
                                .map(|d| format!(": {}", crate::provider::lenient::printable(&d)))
                                .unwrap_or_default()
                        ),
                        redirect_fix(&error),
                    ),
                    None => row.pass(format!(
                        "The provider answered at once with a redirect to {base} (an existing \
                         session).{port_note}"
                    )),
                }
            }
            Some(to) => {
                let shown = url::Url::parse(&to)
                    .map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path()))
                    .unwrap_or(to);
                row.pass(format!(
                    "The provider accepted the client id and the redirect URI {redirect_uri}: it \
                     sends the browser on to {shown} (its sign-in).{port_note}"
                ))
            }
            None if response.status().is_success() => row.pass(format!(
                "The provider answered the authorization request with a page (HTTP {status}), \
                 its sign-in page.{port_note}"
            )),
            None => row.fail(
                format!(
                    "The provider refused the authorization request with HTTP {status} before \
                     any sign-in: {}",
                    page_excerpt(&String::from_utf8_lossy(response.body()), 300)
                ),
                format!(
                    "Usually an unknown client id, or a redirect URI not registered for the client: \
                     register {redirect_uri} with the provider (for a loopback address, RFC 8252 \
                     §7.3: with any port).{port_note}"
                ),
            ),
        };
        (vec![row], ())
    }
}

enum Auth {
    Issued(String),
    Authenticated(String),
    /// Not authenticated: `invalid_client`.
    NotClient(String),
    /// Authenticated or not, refused for another reason: what, and the fix.
    Refused(String, String),
    Unclear(String),
}

/// The redirect URI a sign-in would send; for an ephemeral loopback port, a port free now.
fn redirect_uri(profile: &Profile) -> Result<String, String> {
    match RedirectTarget::parse(profile.config.redirect_uri.as_deref()).map_err(|e| e.message)? {
        RedirectTarget::Manual(uri) => Ok(uri),
        RedirectTarget::Loopback {
            host, port, path, ..
        } => {
            let port = match port {
                0 => std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map(|a| a.port())
                    .unwrap_or(49152),
                p => p,
            };
            Ok(format!("http://{host}:{port}{path}"))
        }
    }
}

fn redirect_fix(error: &str) -> String {
    match error {
        "invalid_scope" => "A scope the profile asks for is unknown to the provider or not \
                            allowed for the client: remove it, or have it granted."
            .into(),
        "unauthorized_client" => "The client may not use this grant or response type: ask the \
                                  provider to allow it."
            .into(),
        "unsupported_response_type" => "Use a response type the provider supports (see the \
                                        capability checks)."
            .into(),
        "invalid_request" | "invalid_request_object" => "The request was malformed for this \
                                                         provider: see its error description."
            .into(),
        "access_denied" => "The provider denies the client without asking a user: check the \
                            client's status at the provider."
            .into(),
        _ => "See the provider's error and its documentation.".into(),
    }
}

async fn send_get(call: &Call<'_>, url: &str) -> crate::error::Result<oauth2::HttpResponse> {
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "text/html")
        .body(Vec::new())
        .map_err(|e| crate::error::Error::internal(e.to_string()))?;
    Ok(call.send(request).await?)
}
