//! OpenID Connect Client-Initiated Backchannel Authentication (CIBA Core 1.0): TokenDesk asks
//! the provider's backchannel authentication endpoint to authenticate a user it names (a
//! `login_hint`, an `id_token_hint` or a `login_hint_token`); the user approves on their own
//! device (the bank's app on a phone), checking that it shows the same `binding_message`, and
//! TokenDesk polls the token endpoint with the `auth_req_id` — or, in ping mode, waits for the
//! provider's notification on a loopback endpoint and then polls.
//!
//! The `auth_req_id` and the `client_notification_token` are credentials: kept as
//! [`Sensitive`], scrubbed from the exchange log and every error, never stored. The polling
//! itself (`interval`, `slow_down`, expiry, cancellation) is shared with the device grant
//! (`api/device.rs`), and so is the reading of each poll's answer ([`super::device::classify`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use url::Url;

use super::{GrantKind, GrantSpec, SignIn, profile_token_params, token_ops};
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Call, LastResponse};
use crate::profile::{Endpoint, Profile, ProfileConfig};
use crate::provider::hints::Operation;
use crate::provider::lenient;
use crate::secret::Sensitive;

pub const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::Ciba,
    name: "ciba",
    label: "CIBA (decoupled)",
    grant_type: GRANT_TYPE,
    summary: "The user approves on their own device (the bank's app on a phone) a request this \
              client sends for them (OpenID CIBA): poll or ping.",
    sign_in: SignIn::Decoupled,
    needs: &[Endpoint::BackchannelAuthentication, Endpoint::Token],
    signs: false,
    fetch: None,
};

/// The polling interval when the provider names none (CIBA Core §7.3: 5 s).
pub const DEFAULT_INTERVAL_SECS: u64 = 5;
/// In ping mode, how often TokenDesk polls anyway, in case a notification never arrives.
pub const PING_FALLBACK_SECS: u64 = 30;
/// How long a request lives when the provider does not say (`expires_in` is required).
pub const DEFAULT_EXPIRES_SECS: u64 = 120;

/// How the user is named in the request (CIBA Core §7.1: exactly one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// `login_hint`: a user name, an e-mail address, a phone number.
    #[default]
    LoginHint,
    /// `id_token_hint`: an ID token the provider issued for the user; the profile's own stored
    /// ID token when no value is set.
    IdTokenHint,
    /// `login_hint_token`: a token (often a JWT) that names the user.
    LoginHintToken,
}

impl HintKind {
    pub fn param(self) -> &'static str {
        match self {
            HintKind::LoginHint => "login_hint",
            HintKind::IdTokenHint => "id_token_hint",
            HintKind::LoginHintToken => "login_hint_token",
        }
    }
}

/// How the result reaches TokenDesk (CIBA Core §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    /// TokenDesk polls the token endpoint at the provider's interval.
    #[default]
    Poll,
    /// The provider notifies a loopback endpoint (with the bearer `client_notification_token`
    /// TokenDesk sent), then TokenDesk polls once; it also polls every
    /// [`PING_FALLBACK_SECS`] in case the notification never arrives.
    Ping,
}

/// What a CIBA profile asks; used when the profile's grant is `ciba`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Ciba {
    pub hint_kind: HintKind,
    /// The hint's value (a template): the user to authenticate. `tokendesk login P
    /// --login-hint` overrides it for one sign-in.
    pub login_hint: Option<String>,
    /// A short text shown both here and on the user's device, so the user approves the right
    /// request (a template: `{{paymentId}}`).
    pub binding_message: Option<String>,
    /// `acr_values`, space separated.
    pub acr_values: Option<String>,
    /// `requested_expiry` in seconds: how long the request may wait for the user.
    pub requested_expiry: Option<u32>,
    pub mode: DeliveryMode,
    /// In ping mode, the client notification endpoint registered for the client: a loopback
    /// `http://127.0.0.1:PORT/path` TokenDesk listens on during the sign-in.
    pub notification_endpoint: Option<String>,
}

/// Checks a CIBA profile's fields (called from [`ProfileConfig::validate`]).
pub fn validate(c: &ProfileConfig, errs: &mut Vec<(String, String)>) {
    if c.grant != GrantKind::Ciba {
        return;
    }
    let ciba = &c.ciba;
    let hint_set = ciba
        .login_hint
        .as_deref()
        .is_some_and(|h| !h.trim().is_empty());
    if !hint_set && ciba.hint_kind != HintKind::IdTokenHint {
        errs.push((
            "ciba.login_hint".into(),
            format!(
                "A CIBA request names the user: set the {} (or give --login-hint at sign-in).",
                ciba.hint_kind.param()
            ),
        ));
    }
    if let Some(m) = &ciba.binding_message
        && m.chars().count() > 64
    {
        errs.push((
            "ciba.binding_message".into(),
            "Keep the binding message short (it is shown on a phone): at most 64 characters."
                .into(),
        ));
    }
    if ciba.requested_expiry == Some(0) {
        errs.push((
            "ciba.requested_expiry".into(),
            "A requested expiry is a positive number of seconds; leave it unset for the \
             provider's default."
                .into(),
        ));
    }
    if ciba.mode == DeliveryMode::Ping {
        match ciba.notification_endpoint.as_deref().map(loopback_endpoint) {
            None => errs.push((
                "ciba.notification_endpoint".into(),
                "Ping mode needs the client notification endpoint registered for the client (a \
                 loopback address such as http://127.0.0.1:8766/ciba)."
                    .into(),
            )),
            Some(Err(m)) => errs.push(("ciba.notification_endpoint".into(), m)),
            Some(Ok(_)) => {}
        }
    }
    if c.issuer.is_none() && c.endpoints.backchannel_authentication.is_none() {
        errs.push((
            "endpoints.backchannel_authentication".into(),
            "The CIBA grant needs a backchannel authentication endpoint (or an issuer to \
             discover it)."
                .into(),
        ));
    }
}

/// A notification endpoint TokenDesk can listen on: `http://` on a loopback IP with a port.
pub fn loopback_endpoint(address: &str) -> std::result::Result<std::net::SocketAddr, String> {
    let url = Url::parse(address).map_err(|e| format!("\"{address}\" is not a URL ({e})."))?;
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        _ => {
            return Err(format!(
                "TokenDesk listens for pings on a loopback IP only (127.0.0.1 or [::1]), not on \
                 \"{}\".",
                url.host_str().unwrap_or("")
            ));
        }
    };
    if url.scheme() != "http" || !ip.is_loopback() {
        return Err(format!(
            "\"{address}\": TokenDesk listens for pings on http://127.0.0.1:PORT/… or \
             http://[::1]:PORT/… (a loopback address of this machine)."
        ));
    }
    let port = url
        .port()
        .ok_or_else(|| format!("\"{address}\" needs an explicit port."))?;
    Ok(std::net::SocketAddr::new(ip, port))
}

/// One sign-in's own inputs, beside the profile's.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Overrides the profile's hint value.
    pub login_hint: Option<String>,
    /// The user's `user_code` (a secret the user knows), sent when the provider supports it.
    pub user_code: Option<Sensitive<String>>,
    /// The profile's stored ID token, for an `id_token_hint` without a value.
    pub id_token: Option<Sensitive<String>>,
    /// In ping mode: the bearer token the provider's notification must carry.
    pub notification_token: Option<Sensitive<String>>,
    /// With a signed request: the client's private key.
    pub signing_key: Option<Sensitive<String>>,
}

/// The parameters of the request, as they are shown and sent (the hint's value included).
pub struct Request {
    pub params: Vec<(String, String)>,
    /// The hint as shown to the user (an ID token or a hint token is not shown).
    pub shown_hint: Option<String>,
    pub binding_message: Option<String>,
}

/// Builds the backchannel authentication request's parameters.
pub fn request(profile: &Profile, inputs: &Inputs, call: &Call<'_>) -> Result<Request> {
    let c = &profile.config;
    let ciba = &c.ciba;
    let ctx = call.template();
    let mut params: Vec<(String, String)> = Vec::new();
    let scopes = c
        .scopes
        .iter()
        .map(|s| ctx.render(s, "scopes"))
        .collect::<Result<Vec<_>>>()?;
    if !scopes.is_empty() {
        params.push(("scope".into(), scopes.join(" ")));
    }
    let hint = match inputs
        .login_hint
        .as_deref()
        .filter(|h| !h.trim().is_empty())
    {
        Some(h) => Some(h.trim().to_owned()),
        None => ciba
            .login_hint
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            .map(|h| ctx.render(h, "ciba.login_hint"))
            .transpose()?,
    };
    let hint = match (hint, ciba.hint_kind) {
        (Some(h), _) => h,
        (None, HintKind::IdTokenHint) => inputs
            .id_token
            .as_ref()
            .map(|t| t.expose().clone())
            .ok_or_else(|| {
                Error::invalid_field(
                    "ciba.login_hint",
                    format!(
                        "Profile \"{}\" names the user by an ID token, but it has none stored \
                         and none is set: sign in once another way, or paste an ID token.",
                        c.name
                    ),
                )
            })?,
        (None, kind) => {
            return Err(Error::invalid_field(
                "ciba.login_hint",
                format!(
                    "Profile \"{}\" has no {} to name the user: set it in the profile, or give \
                     --login-hint.",
                    c.name,
                    kind.param()
                ),
            ));
        }
    };
    let shown_hint = (ciba.hint_kind == HintKind::LoginHint).then(|| hint.clone());
    params.push((ciba.hint_kind.param().into(), hint));
    let binding_message = ciba
        .binding_message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .map(|m| ctx.render(m, "ciba.binding_message"))
        .transpose()?;
    if let Some(m) = &binding_message {
        params.push(("binding_message".into(), m.clone()));
    }
    if let Some(a) = ciba.acr_values.as_deref().filter(|a| !a.trim().is_empty()) {
        params.push(("acr_values".into(), a.trim().to_owned()));
    }
    if let Some(e) = ciba.requested_expiry {
        params.push(("requested_expiry".into(), e.to_string()));
    }
    if let Some(code) = &inputs.user_code
        && user_code_supported(profile)
    {
        params.push(("user_code".into(), code.expose().clone()));
    }
    if let Some(t) = &inputs.notification_token {
        params.push(("client_notification_token".into(), t.expose().clone()));
    }
    if let Some(a) = &c.audience {
        params.push(("audience".into(), a.clone()));
    }
    if let Some(r) = &c.resource {
        params.push(("resource".into(), r.clone()));
    }
    if let Some(p) = super::rar::param(profile, &ctx)? {
        params.push(p);
    }
    for p in &c.authorize_params {
        if p.name == "response_type" {
            continue;
        }
        let value = ctx.render(&p.value, &format!("authorize_params.{}", p.name))?;
        params.push((p.name.clone(), value));
    }
    Ok(Request {
        params,
        shown_hint,
        binding_message,
    })
}

/// Whether the provider takes a `user_code` (`backchannel_user_code_parameter_supported`).
pub fn user_code_supported(profile: &Profile) -> bool {
    profile.metadata.as_ref().is_some_and(|m| {
        m.raw
            .get("backchannel_user_code_parameter_supported")
            .and_then(Value::as_bool)
            == Some(true)
    })
}

/// The provider's answer to the request (CIBA Core §7.3).
#[derive(Debug)]
pub struct Started {
    /// Sent with every poll; never shown, logged or stored.
    pub auth_req_id: Sensitive<String>,
    pub expires_in_secs: u64,
    pub interval_secs: u64,
}

/// Sends the backchannel authentication request, authenticated as the profile's auth method
/// says (a signed request object when the profile signs its requests).
pub async fn authenticate(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    request: &Request,
    inputs: &Inputs,
    call: &Call<'_>,
) -> Result<Started> {
    let url = profile
        .require_endpoint(Endpoint::BackchannelAuthentication)?
        .to_owned();
    let mut params = request.params.clone();
    if profile.config.signed_request {
        params = signed(profile, &url, params, inputs, call)?;
    }
    let form = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let post = token_ops::authenticated_post(profile, secret, &url, form, call.now_ms())?;
    let response = call.send_for_oauth(post).await?;
    read_started(&response, &call.last_response())
}

/// The parameters signed into a request object (CIBA Core §7.1.1): only `request` is sent.
fn signed(
    profile: &Profile,
    endpoint: &str,
    params: Vec<(String, String)>,
    inputs: &Inputs,
    call: &Call<'_>,
) -> Result<Vec<(String, String)>> {
    let mut url = Url::parse(endpoint).map_err(|e| Error::internal(e.to_string()))?;
    url.query_pairs_mut().clear().extend_pairs(params);
    let wrapped =
        super::request_object::wrap(profile, &url, inputs.signing_key.as_ref(), call.now_ms())?;
    Ok(wrapped
        .query_pairs()
        .filter(|(k, _)| k == "request")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// Reads the answer: an `auth_req_id` and its lifetime, or the provider's error with what it
/// means (an unknown user, a binding message or details it refuses …).
pub fn read_started(response: &oauth2::HttpResponse, last: &LastResponse) -> Result<Started> {
    let v = super::device::answer_json(response, last, Operation::BackchannelAuthentication)?;
    let auth_req_id = v
        .get("auth_req_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::BadResponse,
                "The backchannel authentication answer has no \"auth_req_id\" (CIBA Core §7.3 \
                 requires it): check the backchannel authentication endpoint.",
            )
        })?;
    let positive = |name: &str, max: u64| {
        v.get(name)
            .and_then(lenient::integer)
            .filter(|n| *n > 0)
            .map(|n| (n as u64).min(max))
    };
    Ok(Started {
        auth_req_id: Sensitive::new(auth_req_id.to_owned()),
        expires_in_secs: positive("expires_in", super::device::MAX_EXPIRES_SECS)
            .unwrap_or(DEFAULT_EXPIRES_SECS),
        interval_secs: positive("interval", super::device::MAX_INTERVAL_SECS)
            .unwrap_or(DEFAULT_INTERVAL_SECS),
    })
}

/// Polls the token endpoint once with the `auth_req_id`; the answer reads as a device poll's
/// (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`).
pub async fn poll(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    auth_req_id: &Sensitive<String>,
    call: &Call<'_>,
) -> Result<super::device::Poll> {
    let url = profile.require_endpoint(Endpoint::Token)?.to_owned();
    let extra = profile_token_params(profile, call)?;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT_TYPE),
        ("auth_req_id", auth_req_id.expose().as_str()),
    ];
    form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let request = token_ops::authenticated_post(profile, secret, &url, form, call.now_ms())?;
    let response = call.send_for_oauth(request).await?;
    Ok(super::device::classify(
        &response,
        &call.last_response(),
        Operation::CibaToken,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_endpoint_must_be_a_loopback_address_with_a_port() {
        assert_eq!(
            loopback_endpoint("http://127.0.0.1:8766/ciba")
                .unwrap()
                .port(),
            8766
        );
        assert!(loopback_endpoint("http://[::1]:9/x").is_ok());
        assert!(loopback_endpoint("http://localhost:8766/x").is_err());
        assert!(loopback_endpoint("https://127.0.0.1:8766/x").is_err());
        assert!(loopback_endpoint("http://10.0.0.1:8766/x").is_err());
        assert!(loopback_endpoint("http://127.0.0.1/x").is_err());
    }

    #[test]
    fn a_ciba_profile_names_its_user_and_its_ping_endpoint() {
        let mut c = ProfileConfig {
            name: "bank".into(),
            client_id: "c".into(),
            issuer: Some("https://idp.example".into()),
            grant: GrantKind::Ciba,
            ..Default::default()
        };
        let mut errs = Vec::new();
        validate(&c, &mut errs);
        assert_eq!(errs[0].0, "ciba.login_hint");
        c.ciba.login_hint = Some("alice".into());
        c.ciba.mode = DeliveryMode::Ping;
        let mut errs = Vec::new();
        validate(&c, &mut errs);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "ciba.notification_endpoint");
        c.ciba.notification_endpoint = Some("http://127.0.0.1:8766/ciba".into());
        let mut errs = Vec::new();
        validate(&c, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        // An ID token hint may come from the profile's own stored ID token.
        c.ciba.login_hint = None;
        c.ciba.hint_kind = HintKind::IdTokenHint;
        let mut errs = Vec::new();
        validate(&c, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn the_answer_needs_an_auth_req_id() {
        let answer = |status: u16, body: &str| {
            let r = http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(body.as_bytes().to_vec())
                .unwrap();
            let l = LastResponse {
                status: Some(status),
                content_type: Some("application/json".into()),
                ..Default::default()
            };
            read_started(&r, &l)
        };
        let s = answer(200, r#"{"auth_req_id":"r1","expires_in":"60"}"#).unwrap();
        assert_eq!(s.auth_req_id.expose(), "r1");
        assert_eq!(s.expires_in_secs, 60);
        assert_eq!(s.interval_secs, DEFAULT_INTERVAL_SECS);
        let e = answer(200, r#"{"expires_in":60}"#).unwrap_err();
        assert!(e.message.contains("auth_req_id"), "{}", e.message);
        let e = answer(
            400,
            r#"{"error":"unknown_user_id","error_description":"could not identify end-user"}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderError);
        assert!(
            e.message.contains("could not identify end-user"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("login hint"),
            "the hint says what to check: {}",
            e.message
        );
    }
}
