//! The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636), with the checks of the
//! authorization response that must pass before the code is redeemed: `state`, `iss` (RFC 9207).

use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, ResponseType, Scope,
};
use url::Url;

use super::{GrantKind, GrantSpec, SignIn, require_secret, token_params};
use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::loopback::Callback;
use crate::profile::{Endpoint, Profile};
use crate::provider::client::oauth_client;
use crate::provider::hints::{self, Operation, request_error};
use crate::provider::response::TokenResponse;
use crate::secret::Sensitive;
use crate::template::Context;

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::AuthorizationCode,
    name: "authorization_code",
    label: "authorization code",
    grant_type: "authorization_code",
    summary: "A user signs in in the browser (PKCE); refreshed with the refresh token.",
    sign_in: SignIn::Browser,
    needs: &[Endpoint::Authorization, Endpoint::Token],
    signs: false,
    fetch: None,
};

/// An authorization request in flight: what the response must match, and the PKCE verifier.
#[derive(Debug)]
pub struct Authorization {
    pub url: Url,
    pub redirect_uri: String,
    pub state: Sensitive<String>,
    pub nonce: Option<Sensitive<String>>,
    pub pkce_verifier: Sensitive<String>,
    /// What the profile's steps captured: the code exchange's headers and parameters use them.
    pub values: crate::template::Values,
    /// The `claims` request as sent (templates filled), to check the ID token against.
    pub claims: Option<serde_json::Value>,
    /// Whether the response type asks for an ID token in the authorization response
    /// (`code id_token`): then it is checked — c_hash, s_hash, nonce — before the code is used.
    pub front_channel_id_token: bool,
}

/// Builds the authorization URL: PKCE S256 always, a random `state`, a `nonce` when `openid`
/// is requested, the profile's scopes, resource and extra parameters.
pub fn authorization(
    profile: &Profile,
    redirect_uri: &str,
    ctx: &Context<'_>,
) -> Result<Authorization> {
    profile.require_endpoint(Endpoint::Authorization)?;
    let client = oauth_client(profile, None, Some(redirect_uri))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let c = &profile.config;
    let scopes = c
        .scopes
        .iter()
        .map(|s| ctx.render(s, "scopes"))
        .collect::<Result<Vec<_>>>()?;
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .map_err(|e| Error::internal(e.to_string()))?
        .add_scopes(scopes.into_iter().map(Scope::new))
        .set_pkce_challenge(challenge);
    let nonce = c
        .scopes
        .iter()
        .any(|s| s == "openid")
        .then(|| CsrfToken::new_random().secret().clone());
    if let Some(n) = &nonce {
        request = request.add_extra_param("nonce", n.clone());
    }
    if let Some(r) = &c.resource {
        request = request.add_extra_param("resource", r.clone());
    }
    let response_type = response_type(profile);
    if let Some(rt) = &response_type {
        request = request.set_response_type(rt);
    }
    let front_channel_id_token = response_type
        .as_ref()
        .is_some_and(|rt| rt.as_str().split_whitespace().any(|t| t == "id_token"));
    let mut claims = None;
    if let Some(template) = c.claims.as_deref().filter(|t| !t.trim().is_empty()) {
        let parsed: serde_json::Value = serde_json::from_str(template).map_err(|e| {
            Error::invalid_field("claims", format!("The claims request is not JSON ({e})."))
        })?;
        let rendered = ctx.render_json(&parsed, "claims")?;
        request = request.add_extra_param("claims", rendered.to_string());
        claims = Some(rendered);
    }
    if let Some((name, value)) = super::rar::param(profile, ctx)? {
        request = request.add_extra_param(name, value);
    }
    if let Some(mode) = super::jarm::response_mode(profile) {
        request = request.add_extra_param("response_mode", mode);
    }
    if let Some(max_age) = c.max_age {
        request = request.add_extra_param("max_age", max_age.to_string());
    }
    for p in c
        .authorize_params
        .iter()
        .filter(|p| p.name != "response_type")
    {
        let value = ctx.render(&p.value, &format!("authorize_params.{}", p.name))?;
        request = request.add_extra_param(p.name.clone(), value);
    }
    let (url, state) = request.url();
    Ok(Authorization {
        url,
        redirect_uri: redirect_uri.to_owned(),
        state: Sensitive::new(state.secret().clone()),
        nonce: nonce.map(Sensitive::new),
        pkce_verifier: Sensitive::new(verifier.secret().clone()),
        values: ctx.values.clone(),
        claims,
        front_channel_id_token,
    })
}

/// Checks an authorization response and returns its code. Nothing is redeemed here: a failed
/// check means the code is never used.
pub fn check_response(profile: &Profile, auth: &Authorization, cb: &Callback) -> Result<String> {
    if cb.get("state") != Some(auth.state.expose().as_str()) {
        return Err(state_mismatch());
    }
    if auth.front_channel_id_token && cb.get("error").is_none() && cb.get("id_token").is_none() {
        return Err(Error::new(
            ErrorCode::BadResponse,
            "The sign-in asked for an ID token in the authorization response (response type with \
             id_token), but the answer carries none. The code was not used. Check the response \
             types the client is registered for.",
        ));
    }
    let expected_iss = profile.issuer();
    // FAPI 2.0 §5.3.2.2 asks for the iss of every response, whatever the provider announces.
    let iss_required = profile.config.fapi2
        || profile
            .metadata
            .as_ref()
            .is_some_and(|m| m.authorization_response_iss_parameter_supported);
    match (cb.get("iss"), expected_iss) {
        (Some(got), Some(want)) if !crate::ident::same(got, want) => {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                format!(
                    "The sign-in response comes from issuer \"{got}\", not from \"{want}\" (RFC \
                     9207 check). It may be a mix-up attack, or the profile's issuer is wrong. \
                     The code was not used."
                ),
            ));
        }
        // RFC 9207 §2.4: in a response that carries an ID token (hybrid), the ID token's
        // `iss` — checked before the code is used — identifies the issuer instead.
        (None, _)
            if iss_required && !(auth.front_channel_id_token && cb.get("id_token").is_some()) =>
        {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                "The provider announces that it identifies itself in sign-in responses (RFC \
                 9207), but this response has no iss parameter. The code was not used.",
            ));
        }
        _ => {}
    }
    if let Some(error) = cb.get("error") {
        let description = cb
            .get("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let mut message = format!("The provider refused the sign-in ({error}{description}).");
        if let Some(h) =
            hints::hint(error, Operation::CodeExchange).filter(|_| error != "invalid_grant")
        {
            message.push(' ');
            message.push_str(h);
        }
        let code = match hints::code_for(error) {
            c @ (ErrorCode::AuthorizationDenied | ErrorCode::InvalidTarget) => c,
            _ => ErrorCode::ProviderError,
        };
        let mut e = Error::new(code, message);
        e.oauth = Some(Box::new((
            error.to_owned(),
            cb.get("error_description").map(str::to_owned),
        )));
        return Err(e);
    }
    match cb.get("code") {
        Some(code) if !code.is_empty() => Ok(code.to_owned()),
        _ => Err(Error::new(
            ErrorCode::BadResponse,
            "The sign-in response carries no code. Check the response type the client is \
             registered for.",
        )),
    }
}

/// A redirect whose `state` is not the sign-in's.
pub fn state_mismatch() -> Error {
    Error::new(
        ErrorCode::StateMismatch,
        "The sign-in response does not belong to this sign-in (its state does not match): it may \
         come from an old browser tab, or be forged. The code was not used.",
    )
}

/// Redeems the code with the PKCE verifier, at the same redirect URI.
pub async fn redeem(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    auth: &Authorization,
    code: String,
    call: &Call<'_>,
) -> Result<TokenResponse> {
    profile.require_endpoint(Endpoint::Token)?;
    let secret = require_secret(profile, secret)?;
    let client = oauth_client(profile, secret, Some(&auth.redirect_uri))?;
    let mut request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Error::internal(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(auth.pkce_verifier.expose().clone()));
    for (name, value) in token_params(profile, secret, call)? {
        request = request.add_extra_param(name, value);
    }
    request
        .request_async(call)
        .await
        .map_err(|e| request_error(e, &call.last_response(), Operation::CodeExchange))
}

/// `response_type` given among the extra authorize parameters (e.g. `code id_token`).
pub fn response_type(profile: &Profile) -> Option<ResponseType> {
    profile
        .config
        .authorize_params
        .iter()
        .find(|p| p.name == "response_type")
        .map(|p| ResponseType::new(p.value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Endpoints, ProfileConfig, ProfileId};
    use crate::provider::discovery::ProviderMetadata;

    fn profile(iss_supported: bool) -> Profile {
        Profile {
            id: ProfileId::from("p"),
            config: ProfileConfig {
                name: "web".into(),
                client_id: "app".into(),
                scopes: vec!["openid".into(), "profile".into()],
                endpoints: Endpoints {
                    authorization: Some("https://op.example/auth".into()),
                    token: Some("https://op.example/token".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            metadata: Some(ProviderMetadata {
                issuer: "https://op.example".into(),
                authorization_response_iss_parameter_supported: iss_supported,
                ..Default::default()
            }),
            created_at: 0,
            updated_at: 0,
        }
    }

    const EMPTY: crate::template::Values = crate::template::Values::new();
    const NO_VALUES: Context<'static> = Context {
        values: &EMPTY,
        now: 0,
    };

    fn cb(pairs: &[(&str, &str)]) -> Callback {
        Callback {
            params: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_url_carries_pkce_s256_state_and_nonce() {
        let a =
            authorization(&profile(true), "http://127.0.0.1:5000/callback", &NO_VALUES).unwrap();
        let q: std::collections::HashMap<_, _> = a.url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], *a.state.expose());
        assert_eq!(q["nonce"], *a.nonce.as_ref().unwrap().expose());
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5000/callback");
        assert_eq!(q["scope"], "openid profile");
        assert!(a.pkce_verifier.expose().len() >= 43);
        let b =
            authorization(&profile(true), "http://127.0.0.1:5000/callback", &NO_VALUES).unwrap();
        assert_ne!(
            a.state.expose(),
            b.state.expose(),
            "state is random per request"
        );
    }

    #[test]
    fn state_iss_and_errors_are_checked_before_any_code_is_used() {
        let p = profile(true);
        let a = authorization(&p, "http://127.0.0.1:5/cb", &NO_VALUES).unwrap();
        let state = a.state.expose().as_str();
        let ok = check_response(
            &p,
            &a,
            &cb(&[
                ("code", "c1"),
                ("state", state),
                ("iss", "https://op.example"),
            ]),
        );
        assert_eq!(ok.unwrap(), "c1");
        let e = check_response(
            &p,
            &a,
            &cb(&[
                ("code", "c1"),
                ("state", "forged"),
                ("iss", "https://op.example"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::StateMismatch);
        let e = check_response(
            &p,
            &a,
            &cb(&[
                ("code", "c1"),
                ("state", state),
                ("iss", "https://evil.example"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::IssuerMismatch);
        let e = check_response(
            &p,
            &a,
            &cb(&[
                ("code", "c1"),
                ("state", state),
                ("iss", "https://op.example/"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::IssuerMismatch,
            "RFC 9207: simple string comparison, a trailing slash differs"
        );
        let e = check_response(&p, &a, &cb(&[("code", "c1"), ("state", state)])).unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::IssuerMismatch,
            "iss is required when the provider says it sends it"
        );
        let e = check_response(
            &p,
            &a,
            &cb(&[
                ("error", "access_denied"),
                ("state", state),
                ("iss", "https://op.example"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthorizationDenied);
        let lax = profile(false);
        assert_eq!(
            check_response(&lax, &a, &cb(&[("code", "c2"), ("state", state)])).unwrap(),
            "c2"
        );
    }
}
