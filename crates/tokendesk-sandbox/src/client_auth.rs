//! Client authentication at `/token`, `/revoke` and `/introspect`: `client_secret_basic`,
//! `client_secret_post`, and `none` for the public client (RFC 6749 §2.3), each client held to
//! the methods it is registered for.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use crate::clients::{self, DemoClient};
use crate::oauth_error::OAuthError;
use crate::params::Params;
use crate::pkce::constant_time_eq;
use crate::state::Issuer;
use crate::style::Style;

/// Authenticates the calling client at `issuer`: the FAPI issuer takes `private_key_jwt` only
/// ([`crate::fapi::assertion`]), the others the methods below.
pub(crate) fn authenticate_at(
    issuer: &Issuer,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'static DemoClient, OAuthError> {
    match issuer.style {
        Style::Fapi => crate::fapi::assertion::authenticate(issuer, headers, params),
        style => authenticate(style, headers, params),
    }
}

/// Identifies and authenticates the calling client among those the issuer of `style` knows.
pub(crate) fn authenticate(
    style: Style,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'static DemoClient, OAuthError> {
    if let Some((id, secret)) = basic_credentials(headers)? {
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: the Authorization header or client_secret, not both",
            ));
        }
        if params.get("client_id").is_some_and(|form_id| form_id != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header",
            ));
        }
        return confidential(style, &id, &secret, "client_secret_basic");
    }
    let Some(id) = params.get("client_id") else {
        return Err(OAuthError::invalid_client(
            "no client authentication: send client_id and client_secret (Basic header or form), or client_id alone for the public client",
        ));
    };
    match params.get("client_secret") {
        Some(secret) => confidential(style, id, secret, "client_secret_post"),
        None => public(style, id),
    }
}

fn confidential(
    style: Style,
    id: &str,
    secret: &str,
    method: &str,
) -> Result<&'static DemoClient, OAuthError> {
    let Some(client) = clients::find(style, id) else {
        return Err(OAuthError::invalid_client(format!(
            "unknown client_id `{id}`"
        )));
    };
    let Some(expected) = client.secret else {
        return Err(OAuthError::invalid_client(format!(
            "client {id} is public: send client_id only (token_endpoint_auth_method none), no secret"
        )));
    };
    if !client.auth_methods.contains(&method) {
        return Err(OAuthError::invalid_client(format!(
            "client {id} is registered for {}, not {method}",
            client.auth_methods.join(" or ")
        )));
    }
    if !constant_time_eq(secret.as_bytes(), expected.as_bytes()) {
        return Err(OAuthError::invalid_client(format!(
            "wrong client secret for {id} ({method})"
        )));
    }
    Ok(client)
}

fn public(style: Style, id: &str) -> Result<&'static DemoClient, OAuthError> {
    match clients::find(style, id) {
        Some(client) if client.is_public() => Ok(client),
        Some(_) => Err(OAuthError::invalid_client(format!(
            "client {id} is confidential: authenticate with client_secret_basic or client_secret_post"
        ))),
        None => Err(OAuthError::invalid_client(format!(
            "unknown client_id `{id}`"
        ))),
    }
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
/// `Ok(None)` when there is no Basic header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed Basic Authorization header");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    Ok(Some((id, secret)))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space.
fn form_decode(s: &str) -> Option<String> {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|v| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(raw: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(raw));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("valid header"),
        );
        headers
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let creds = basic_credentials(&basic("a%3Ab+c:s%25%2B+x")).expect("well formed");
        assert_eq!(creds, Some(("a:b c".to_owned(), "s%+ x".to_owned())));
    }

    #[test]
    fn basic_and_post_together_are_refused() {
        let params = Params::parse(b"client_secret=sandbox-cc-secret").expect("parses");
        let err = authenticate(
            Style::Standard,
            &basic("sandbox-cc:sandbox-cc-secret"),
            &params,
        )
        .expect_err("two methods");
        assert_eq!(err.code, "invalid_request");
    }

    #[test]
    fn confidential_client_without_secret_is_refused() {
        let params = Params::parse(b"client_id=sandbox-web").expect("parses");
        let err = authenticate(Style::Standard, &HeaderMap::new(), &params).expect_err("no secret");
        assert_eq!(err.code, "invalid_client");
    }

    #[test]
    fn public_client_authenticates_with_its_id() {
        let params = Params::parse(b"client_id=sandbox-public").expect("parses");
        let client =
            authenticate(Style::Standard, &HeaderMap::new(), &params).expect("public client");
        assert_eq!(client.id, "sandbox-public");
    }

    #[test]
    fn the_bank_client_authenticates_in_the_form_only() {
        let basic = basic("sandbox-bank-tpp:sandbox-bank-tpp-secret");
        let err = authenticate(Style::Bank, &basic, &Params::default()).expect_err("Basic");
        assert_eq!(err.code, "invalid_client");
        assert!(err.description.contains("client_secret_post"), "{err:?}");
        let form =
            Params::parse(b"client_id=sandbox-bank-tpp&client_secret=sandbox-bank-tpp-secret")
                .expect("parses");
        let client = authenticate(Style::Bank, &HeaderMap::new(), &form).expect("post works");
        assert_eq!(client.id, "sandbox-bank-tpp");
        let err = authenticate(Style::Standard, &HeaderMap::new(), &form).expect_err("not here");
        assert!(err.description.contains("unknown client_id"), "{err:?}");
    }
}
