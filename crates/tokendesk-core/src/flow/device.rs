//! The device authorization grant (RFC 8628): TokenDesk asks the provider for a user code, the
//! user enters it on another device (a phone, a laptop with a browser), and TokenDesk polls the
//! token endpoint with the device code until the provider answers with a token or an end.
//!
//! The device code is a credential: it is sent only to the token endpoint, kept as
//! [`Sensitive`], and scrubbed from the exchange log and from every error. The user code and the
//! verification address are for people and shown as they are.
//!
//! This file builds the two requests and reads their answers; the waiting between polls
//! (`interval`, `slow_down`, expiry, cancellation) is the core's (`api/device.rs`).

use serde_json::Value;
use url::Url;

use super::{GrantKind, GrantSpec, SignIn, profile_token_params, token_ops};
use crate::error::{Error, ErrorCode, Result};
use crate::http::{Call, LastResponse};
use crate::profile::{Endpoint, Profile};
use crate::provider::hints::{self, Operation};
use crate::provider::lenient;
use crate::provider::response::{ProviderError, TokenResponse};
use crate::secret::Sensitive;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub const SPEC: GrantSpec = GrantSpec {
    kind: GrantKind::DeviceCode,
    name: "device_code",
    label: "device code",
    grant_type: GRANT_TYPE,
    summary: "A user approves on another device with a code shown here (RFC 8628): no browser \
              on this machine (SSH, a kiosk, a TV).",
    sign_in: SignIn::Device,
    needs: &[Endpoint::DeviceAuthorization, Endpoint::Token],
    signs: false,
    fetch: None,
};

/// The polling interval when the provider names none (RFC 8628 §3.2).
pub const DEFAULT_INTERVAL_SECS: u64 = 5;
/// What each `slow_down` answer adds to the interval, for good (RFC 8628 §3.5).
pub const SLOW_DOWN_SECS: u64 = 5;
/// How long a device code lives when the provider does not say (`expires_in` is required by
/// RFC 8628 §3.2, but a missing one should not stop the sign-in).
pub const DEFAULT_EXPIRES_SECS: u64 = 600;
/// The longest a device code is waited for, whatever `expires_in` says: a provider's 10^18
/// seconds overflowed the sign-in's deadline (a panic). A day is beyond any real device flow.
pub const MAX_EXPIRES_SECS: u64 = 86_400;
/// The longest interval between polls, whatever `interval` says.
pub const MAX_INTERVAL_SECS: u64 = 600;

/// The provider's answer to the device authorization request (RFC 8628 §3.2).
#[derive(Debug)]
pub struct DeviceAuthorization {
    /// Sent with every poll; never shown, logged or stored.
    pub device_code: Sensitive<String>,
    /// What the user types on the verification page.
    pub user_code: String,
    pub verification_uri: String,
    /// The verification address with the user code in it (what a QR code carries), if sent.
    pub verification_uri_complete: Option<String>,
    pub expires_in_secs: u64,
    pub interval_secs: u64,
}

/// Asks the device authorization endpoint for a user code, authenticated as the profile's auth
/// method says; the scopes, `audience`, `resource` and the profile's extra authorization
/// parameters go with it.
pub async fn authorize(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    call: &Call<'_>,
) -> Result<DeviceAuthorization> {
    let url = profile
        .require_endpoint(Endpoint::DeviceAuthorization)?
        .to_owned();
    let c = &profile.config;
    let ctx = call.template();
    let scopes = c
        .scopes
        .iter()
        .map(|s| ctx.render(s, "scopes"))
        .collect::<Result<Vec<_>>>()?;
    let mut params: Vec<(String, String)> = Vec::new();
    if !scopes.is_empty() {
        params.push(("scope".into(), scopes.join(" ")));
    }
    if let Some(a) = &c.audience {
        params.push(("audience".into(), a.clone()));
    }
    if let Some(r) = &c.resource {
        params.push(("resource".into(), r.clone()));
    }
    for p in c
        .authorize_params
        .iter()
        .filter(|p| p.name != "response_type")
    {
        let value = ctx.render(&p.value, &format!("authorize_params.{}", p.name))?;
        params.push((p.name.clone(), value));
    }
    let form = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = token_ops::authenticated_post(profile, secret, &url, form, call.now_ms())?;
    let response = call.send_for_oauth(request).await?;
    read_authorization(&response, &call.last_response())
}

/// Reads the device authorization answer; an error answer or one without a device code, user
/// code or usable verification address is an error that says which.
pub fn read_authorization(
    response: &oauth2::HttpResponse,
    last: &LastResponse,
) -> Result<DeviceAuthorization> {
    let v = answer_json(response, last, Operation::DeviceAuthorization)?;
    let text = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let missing = |name: &str| {
        Error::new(
            ErrorCode::BadResponse,
            format!(
                "The device authorization answer has no \"{name}\" (RFC 8628 §3.2 requires it): \
                 check that the device authorization endpoint is right and that the provider \
                 allows the device flow for this client."
            ),
        )
    };
    let device_code = text("device_code").ok_or_else(|| missing("device_code"))?;
    let user_code = text("user_code").ok_or_else(|| missing("user_code"))?;
    // Google's older endpoint says `verification_url`.
    let verification_uri = text("verification_uri")
        .or_else(|| text("verification_url"))
        .ok_or_else(|| missing("verification_uri"))?;
    check_address(&verification_uri, "verification_uri")?;
    let verification_uri_complete = text("verification_uri_complete");
    if let Some(u) = &verification_uri_complete {
        check_address(u, "verification_uri_complete")?;
    }
    let positive = |name: &str, max: u64| {
        v.get(name)
            .and_then(lenient::integer)
            .filter(|n| *n > 0)
            .map(|n| (n as u64).min(max))
    };
    Ok(DeviceAuthorization {
        device_code: Sensitive::new(device_code),
        user_code,
        verification_uri,
        verification_uri_complete,
        expires_in_secs: positive("expires_in", MAX_EXPIRES_SECS).unwrap_or(DEFAULT_EXPIRES_SECS),
        interval_secs: positive("interval", MAX_INTERVAL_SECS).unwrap_or(DEFAULT_INTERVAL_SECS),
    })
}

/// The JSON of a successful answer to a request that starts a sign-in elsewhere (the device
/// authorization request, CIBA's backchannel request); the provider's error, or what is wrong
/// with the body, otherwise.
pub(super) fn answer_json(
    response: &oauth2::HttpResponse,
    last: &LastResponse,
    op: Operation,
) -> Result<Value> {
    let body = response.body();
    if !response.status().is_success() {
        return Err(match serde_json::from_slice::<ProviderError>(body) {
            Ok(pe) if !pe.error.is_empty() => hints::provider_error(&pe, last.status, op),
            _ => hints::unusable_body(body, last, op, None),
        });
    }
    serde_json::from_slice(body)
        .map_err(|e| hints::unusable_body(body, last, op, Some(&e.to_string())))
}

/// A verification address is opened in the user's browser: only http(s).
fn check_address(address: &str, field: &str) -> Result<()> {
    match Url::parse(address) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(()),
        _ => Err(Error::new(
            ErrorCode::BadResponse,
            format!(
                "The device authorization answer's \"{field}\" is not an http(s) address \
                 ({address:?}); TokenDesk will not send the user there."
            ),
        )),
    }
}

/// What one poll of the token endpoint brought (RFC 8628 §3.5).
#[derive(Debug)]
pub enum Poll {
    Token(Box<TokenResponse>),
    /// `authorization_pending`: the user has not approved yet; poll again after the interval.
    Pending,
    /// `slow_down`: poll again, and from now on [`SLOW_DOWN_SECS`] more between polls.
    SlowDown,
    /// An end: `access_denied`, `expired_token`, or any other error. Nothing is stored.
    End(Error),
}

/// Polls the token endpoint once with the device code, authenticated as the profile's auth
/// method says, with the profile's extra token parameters.
pub async fn poll(
    profile: &Profile,
    secret: Option<&Sensitive<String>>,
    device_code: &Sensitive<String>,
    call: &Call<'_>,
) -> Result<Poll> {
    let url = profile.require_endpoint(Endpoint::Token)?.to_owned();
    let extra = profile_token_params(profile, call)?;
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", GRANT_TYPE),
        ("device_code", device_code.expose().as_str()),
    ];
    form.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let request = token_ops::authenticated_post(profile, secret, &url, form, call.now_ms())?;
    let response = call.send_for_oauth(request).await?;
    Ok(classify(
        &response,
        &call.last_response(),
        Operation::DeviceToken,
    ))
}

/// Sorts a poll's answer: a token, keep waiting, wait longer, or the end with a message that
/// says what happened and what to do. `op` is the device grant's poll or CIBA's (CIBA Core §11
/// answers with the same errors).
pub fn classify(response: &oauth2::HttpResponse, last: &LastResponse, op: Operation) -> Poll {
    let body = response.body();
    let (place, what) = match op {
        Operation::CibaToken => ("on the user's device", "request"),
        _ => ("on the verification page", "code"),
    };
    if response.status().is_success() {
        return match hints::token_answer(response, last, op) {
            Ok(token) => Poll::Token(Box::new(token)),
            Err(e) => Poll::End(e),
        };
    }
    let pe = match serde_json::from_slice::<ProviderError>(body) {
        Ok(pe) if !pe.error.is_empty() => pe,
        Ok(_) => {
            return Poll::End(hints::unusable_body(body, last, op, None));
        }
        Err(e) => {
            return Poll::End(hints::unusable_body(body, last, op, Some(&e.to_string())));
        }
    };
    match pe.error.as_str() {
        "authorization_pending" => Poll::Pending,
        "slow_down" => Poll::SlowDown,
        "access_denied" => Poll::End(Error::new(
            ErrorCode::AuthorizationDenied,
            format!(
                "The sign-in was denied {place} (access_denied). Nothing was stored; start the \
                 sign-in again to get a new {what}."
            ),
        )),
        "expired_token" => Poll::End(expired_what(what, "the provider answered expired_token")),
        _ => Poll::End(hints::provider_error(&pe, last.status, op)),
    }
}

/// The device code ran out before the user approved.
pub fn expired(why: &str) -> Error {
    expired_what("code", why)
}

/// A device code (`code`) or a CIBA request (`request`) ran out before the user approved.
pub fn expired_what(what: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::Timeout,
        format!(
            "The {what} expired before the sign-in was approved ({why}). Nothing was stored; \
             start the sign-in again to get a new {what}."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> (oauth2::HttpResponse, LastResponse) {
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap();
        let last = LastResponse {
            status: Some(status),
            content_type: Some("application/json".into()),
            ..Default::default()
        };
        (response, last)
    }

    fn poll_of(status: u16, body: &str) -> Poll {
        let (r, l) = answer(status, body);
        classify(&r, &l, Operation::DeviceToken)
    }

    #[test]
    fn pending_and_slow_down_keep_waiting() {
        assert!(matches!(
            poll_of(400, r#"{"error":"authorization_pending"}"#),
            Poll::Pending
        ));
        assert!(matches!(
            poll_of(400, r#"{"error":"slow_down","error_description":"easy"}"#),
            Poll::SlowDown
        ));
    }

    #[test]
    fn denial_and_expiry_end_the_wait_with_their_own_codes() {
        match poll_of(400, r#"{"error":"access_denied"}"#) {
            Poll::End(e) => {
                assert_eq!(e.code, ErrorCode::AuthorizationDenied);
                assert!(e.message.contains("denied"), "{}", e.message);
            }
            other => panic!("access_denied must end the wait, got {other:?}"),
        }
        match poll_of(400, r#"{"error":"expired_token"}"#) {
            Poll::End(e) => {
                assert_eq!(e.code, ErrorCode::Timeout);
                assert!(e.message.contains("expired"), "{}", e.message);
            }
            other => panic!("expired_token must end the wait, got {other:?}"),
        }
    }

    #[test]
    fn other_errors_end_with_the_providers_reason() {
        match poll_of(
            401,
            r#"{"error":"invalid_client","error_description":"no such client"}"#,
        ) {
            Poll::End(e) => assert_eq!(e.code, ErrorCode::InvalidClient),
            other => panic!("{other:?}"),
        }
        match poll_of(400, r#"{"error":"invalid_grant"}"#) {
            Poll::End(e) => {
                assert_eq!(e.code, ErrorCode::InvalidGrant);
                assert!(e.message.contains("device sign-in again"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        let (mut r, mut l) = answer(502, "<html>bad gateway</html>");
        r.headers_mut()
            .insert("content-type", "text/html".parse().unwrap());
        l.content_type = Some("text/html".into());
        match classify(&r, &l, Operation::DeviceToken) {
            Poll::End(e) => assert_eq!(e.code, ErrorCode::BadResponse),
            other => panic!("an HTML page is no answer to wait on: {other:?}"),
        }
    }

    #[test]
    fn a_token_answer_is_the_token() {
        match poll_of(
            200,
            r#"{"access_token":"at","token_type":"Bearer","expires_in":60,"refresh_token":"rt"}"#,
        ) {
            Poll::Token(t) => {
                use oauth2::TokenResponse as _;
                assert_eq!(t.access_token().secret(), "at");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_authorization_answer_is_read_leniently_but_needs_its_codes() {
        let (r, l) = answer(
            200,
            r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_url":"https://idp/device",
                "expires_in":"1800"}"#,
        );
        let a = read_authorization(&r, &l).unwrap();
        assert_eq!(a.device_code.expose(), "dc");
        assert_eq!(a.user_code, "WDJB-MJHT");
        assert_eq!(a.verification_uri, "https://idp/device");
        assert_eq!(a.expires_in_secs, 1800, "a number sent as a string counts");
        assert_eq!(a.interval_secs, DEFAULT_INTERVAL_SECS, "RFC 8628 §3.2: 5 s");

        let (r, l) = answer(
            200,
            r#"{"user_code":"A","verification_uri":"https://idp/d"}"#,
        );
        let e = read_authorization(&r, &l).unwrap_err();
        assert!(e.message.contains("\"device_code\""), "{}", e.message);

        let (r, l) = answer(
            200,
            r#"{"device_code":"dc","user_code":"A","verification_uri":"javascript:alert(1)"}"#,
        );
        let e = read_authorization(&r, &l).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadResponse);
        assert!(
            !e.message.contains("dc"),
            "the device code never shows: {}",
            e.message
        );

        let (r, l) = answer(400, r#"{"error":"unauthorized_client"}"#);
        let e = read_authorization(&r, &l).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnauthorizedClient);
    }
}
