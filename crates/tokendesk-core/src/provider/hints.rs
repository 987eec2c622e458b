//! Provider failures turned into messages that say what happened and what to check.

use oauth2::RequestTokenError;

use super::response::ProviderError;
use crate::error::{Error, ErrorCode};
use crate::http::{LastResponse, TransportError};

/// Which request failed, for hints that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ClientCredentials,
    CodeExchange,
    Refresh,
    JwtBearer,
    PushedAuthorization,
    TokenExchange,
    /// RFC 8628: the request for a user code, and the polls of the token endpoint.
    DeviceAuthorization,
    DeviceToken,
    /// CIBA: the backchannel authentication request, and the polls of the token endpoint.
    BackchannelAuthentication,
    CibaToken,
}

impl Operation {
    fn label(self) -> &'static str {
        match self {
            Operation::ClientCredentials => "client-credentials token request",
            Operation::CodeExchange => "authorization-code exchange",
            Operation::Refresh => "refresh",
            Operation::JwtBearer => "JWT-bearer token request",
            Operation::PushedAuthorization => "pushed authorization request",
            Operation::TokenExchange => "token exchange",
            Operation::DeviceAuthorization => "device authorization request",
            Operation::DeviceToken => "device-code token request",
            Operation::BackchannelAuthentication => "backchannel authentication request (CIBA)",
            Operation::CibaToken => "CIBA token request",
        }
    }
}

/// The hint for an OAuth error code, or `None` if we have nothing useful to add.
pub fn hint(error: &str, op: Operation) -> Option<&'static str> {
    Some(match (error, op) {
        ("invalid_client", _) => {
            "Check the client secret, and the authentication method: client_secret_basic sends \
             the id and secret in the Authorization header, client_secret_post in the form body; \
             the provider accepts only what the client is registered for. With private_key_jwt: \
             the provider must hold the public half of the stored key (same kid), allow the \
             signing algorithm, and accept the assertion's audience (the token endpoint URL \
             unless the profile sets another). With tls_client_auth: the client certificate must \
             come from a CA the provider trusts and carry the subject registered for the client."
        }
        ("invalid_grant", Operation::CodeExchange) => {
            "The code was already used or has expired, or the redirect URI differs from the one \
             in the authorization request, or the PKCE verifier does not match. Sign in again."
        }
        ("invalid_grant", Operation::Refresh) => {
            "The refresh token has expired, was revoked, or was already used (the provider \
             rotates refresh tokens). Sign in again to get a new one."
        }
        ("invalid_grant", Operation::JwtBearer) => {
            "The provider refused the assertion: check the signing key it holds for the client \
             (and the kid), the assertion's iss, sub and aud, its lifetime and the clocks, and \
             the claims it must carry (an authorizationId the provider knows)."
        }
        ("invalid_grant", Operation::TokenExchange) => {
            "The provider refused the subject (or actor) token: it may have expired or been \
             revoked, come from an issuer the provider does not trust, or be of another type \
             than the profile says (access vs ID token). Renew the subject profile's token \
             and try again; check the audience/resource asked for."
        }
        ("invalid_grant", Operation::DeviceToken) => {
            "The device code is unknown to the provider, was already used, or belongs to another \
             client. Start the device sign-in again."
        }
        ("invalid_grant", Operation::CibaToken) => {
            "The auth_req_id is unknown to the provider, was already used, or belongs to another \
             client. Start the sign-in again."
        }
        ("unknown_user_id", _) => {
            "The provider knows no user by the login hint sent: check the profile's login hint \
             (or --login-hint), and the hint kind (login_hint, id_token_hint, login_hint_token)."
        }
        ("expired_login_hint_token", _) => {
            "The login_hint_token has expired: get a fresh one and start again."
        }
        ("invalid_binding_message", _) => {
            "The provider refuses the binding message: keep it short, in plain letters and digits \
             (oidc-provider allows 1-20 of A-Z a-z 0-9 - . _ + / ! ? #)."
        }
        ("missing_user_code", _) | ("invalid_user_code", _) => {
            "The provider asks for the user's user_code: give it at sign-in (--user-code)."
        }
        ("transaction_failed", _) => "The provider could not complete the request; try again.",
        ("invalid_authorization_details", _) => {
            "The provider refused the authorization details: check each detail's type (the \
             provider's authorization_details_types_supported) and its fields; the description \
             says which."
        }
        ("invalid_grant", Operation::ClientCredentials) => {
            "Check the extra token parameters and the audience/resource the request carries."
        }
        ("invalid_scope", _) => {
            "Check the profile's scopes against what the client is allowed (some providers also \
             need an audience or resource for API scopes)."
        }
        ("unauthorized_client", _) => {
            "The client is not registered for this grant type; check its registration at the \
             provider, or the profile's grant."
        }
        ("unsupported_grant_type", _) => {
            "The token endpoint does not support this grant; check the token endpoint URL and the \
             client's registration."
        }
        ("invalid_request", _) => {
            "A parameter is missing or malformed: check the extra parameters, the redirect URI \
             and the scopes. The exchange log shows exactly what was sent."
        }
        ("invalid_target", _) => {
            "The provider refuses the profile's resource or audience (RFC 8707): it does not \
             know it, or will not issue tokens for it (Microsoft Entra ID refuses some resource \
             values). Check the resource; to try without it, run the command again with \
             --without-resource (in the app: Retry without the resource), which turns the \
             resource off in the profile — the token may then not be meant for the API."
        }
        ("use_dpop_nonce", _) => {
            "The provider kept asking for a new DPoP nonce: TokenDesk sent the request again with \
             each nonce it was given (up to 3 times) and every answer asked for another. The \
             provider's nonces may expire at once, or its clock and this machine's differ; the \
             exchange log shows each try."
        }
        ("invalid_dpop_proof", _) => {
            "The provider refused the DPoP proof: check that it supports the profile's DPoP \
             algorithm (dpop_signing_alg_values_supported), and the clocks of this machine and \
             the provider (a proof's iat must be recent)."
        }
        ("access_denied", _) => "The user or the provider's policy refused the request.",
        ("temporarily_unavailable", _) | ("server_error", _) => {
            "The provider failed on its side; try again later."
        }
        _ => return None,
    })
}

pub(crate) fn code_for(error: &str) -> ErrorCode {
    match error {
        "invalid_client" => ErrorCode::InvalidClient,
        "invalid_grant" => ErrorCode::InvalidGrant,
        "invalid_scope" => ErrorCode::InvalidScope,
        "unauthorized_client" => ErrorCode::UnauthorizedClient,
        "invalid_target" => ErrorCode::InvalidTarget,
        "access_denied" => ErrorCode::AuthorizationDenied,
        _ => ErrorCode::ProviderError,
    }
}

/// An error answer from the provider (already parsed) as a user-facing error.
pub fn provider_error(e: &ProviderError, status: Option<u16>, op: Operation) -> Error {
    let status = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    let mut message = format!("The provider refused the {}{status}: {e}.", op.label());
    if let Some(h) = hint(&e.error, op) {
        message.push(' ');
        message.push_str(h);
    }
    let mut error = Error::new(code_for(&e.error), message);
    error.oauth = Some(Box::new((e.error.clone(), e.description.clone())));
    error
}

/// A token endpoint's raw answer (to a request built by hand) as a token or a user-facing
/// error, the way the oauth2 crate's requests are read.
pub fn token_answer(
    response: &oauth2::HttpResponse,
    last: &LastResponse,
    op: Operation,
) -> Result<super::response::TokenResponse, Error> {
    let body = response.body();
    if response.status().is_success() {
        return serde_json::from_slice(body)
            .map_err(|e| unusable_body(body, last, op, Some(&e.to_string())));
    }
    match serde_json::from_slice::<ProviderError>(body) {
        Ok(pe) => Err(provider_error(&pe, last.status, op)),
        Err(e) => Err(unusable_body(body, last, op, Some(&e.to_string()))),
    }
}

/// Any failure of an oauth2-crate request as a user-facing error.
pub fn request_error(
    e: RequestTokenError<TransportError, ProviderError>,
    last: &LastResponse,
    op: Operation,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(pe) => provider_error(&pe, last.status, op),
        RequestTokenError::Request(t) => t.into(),
        RequestTokenError::Parse(err, body) => {
            unusable_body(&body, last, op, Some(&err.to_string()))
        }
        RequestTokenError::Other(_) => unusable_body(&[], last, op, None),
    }
}

/// What to say when the answer is not a usable OAuth response.
pub fn unusable_body(
    body: &[u8],
    last: &LastResponse,
    op: Operation,
    parse_error: Option<&str>,
) -> Error {
    let status = last
        .status
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| "an answer".into());
    let ct = last.content_type.clone().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if let Some(s) = last.status.filter(|s| (300..400).contains(s)) {
        let target = last
            .location
            .as_deref()
            .map(|l| format!(" to {}", crate::redact::url(l)))
            .unwrap_or_default();
        return Error::new(
            ErrorCode::BadResponse,
            format!(
                "The {} got HTTP {s}, a redirect{target}. TokenDesk does not follow redirects \
                 from a provider (a redirected request would carry the client's credentials \
                 elsewhere). If the new address is right, set the endpoint (or the issuer) to it.",
                op.label()
            ),
        );
    }
    if let Some(enc) = &last.content_encoding
        && parse_error.is_some()
    {
        return Error::new(
            ErrorCode::BadResponse,
            format!(
                "The {} got {} with a body compressed as \"{enc}\", which TokenDesk did not ask \
                 for and does not decode. The provider (or a proxy in between) sent an answer it \
                 cannot read.",
                op.label(),
                last.status
                    .map(|s| format!("HTTP {s}"))
                    .unwrap_or_else(|| "an answer".into())
            ),
        );
    }
    let parse_error = parse_error.map(short_parse_error);
    let parse_error = parse_error.as_deref();
    let looks_html = ct.contains("html")
        || trimmed.starts_with('<')
        || trimmed.to_ascii_lowercase().starts_with("<!doctype");
    let message = if looks_html {
        let title = html_title(&text)
            .map(|t| format!(" titled \"{t}\""))
            .unwrap_or_default();
        format!(
            "The {} got {status} with an HTML page{title} instead of JSON. Check the token \
             endpoint URL (a web page, a login form or a proxy error is in the way), and whether \
             the API needs extra headers or a client certificate.",
            op.label()
        )
    } else if body.is_empty() && last.status.is_some_and(|s| s != 200) {
        format!(
            "The {} got {status} with an empty body. Check the token endpoint URL and the \
             client's authentication method; the exchange log shows the response headers.",
            op.label()
        )
    } else if body.is_empty() {
        match parse_error {
            None if !ct.is_empty() && !ct.contains("json") => format!(
                "The {} got {status} with Content-Type \"{ct}\" instead of application/json. \
                 Check the token endpoint URL.",
                op.label()
            ),
            _ => format!("The {} got {status} with an empty body.", op.label()),
        }
    } else if let Some(pe) = parse_error {
        if pe.contains("recursion limit") {
            format!(
                "The {} got {status} with JSON nested too deeply to be a token response ({pe}). \
                 The exchange log shows the answer.",
                op.label()
            )
        } else if pe.contains("number out of range") {
            format!(
                "The {} got {status} with a number too large to read ({pe}): no field of a token \
                 response needs one. The exchange log shows the answer.",
                op.label()
            )
        } else if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
            format!(
                "The {} got {status} with JSON that is not a token response ({pe}). The exchange \
                 log shows the full answer.",
                op.label()
            )
        } else {
            format!(
                "The {} got {status} with a body that is not valid JSON ({pe}). The provider or \
                 a proxy in between sent a broken answer; the exchange log shows it.",
                op.label()
            )
        }
    } else {
        format!("The {} got an unusable answer ({status}).", op.label())
    };
    Error::new(ErrorCode::BadResponse, message)
}

/// A serde error whose path is deep (`[0][0][0]…: invalid type`) named once, with its depth.
fn short_parse_error(e: &str) -> String {
    let Some((path, what)) = e.split_once(": ") else {
        return e.to_owned();
    };
    let is_path = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "[]._-".contains(c));
    let depth = path.matches('[').count() + path.matches('.').count();
    if is_path && path.len() > 40 {
        let head: String = path.chars().take(24).collect();
        format!("{what}, at {head}… ({depth} levels deep)")
    } else if is_path {
        format!("{what}, at {path}")
    } else {
        e.to_owned()
    }
}

/// What an HTML page says, as one line of at most `max` characters: its title and text, tags,
/// scripts and styles left out (an error page a provider shows instead of redirecting).
pub fn page_excerpt(html: &str, max: usize) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let lower = rest[open..].to_ascii_lowercase();
        let skip_to = ["script", "style"]
            .iter()
            .find(|t| lower.starts_with(&format!("<{t}")))
            .and_then(|t| lower.find(&format!("</{t}>")).map(|i| i + t.len() + 3))
            .or_else(|| lower.find('>').map(|i| i + 1));
        match skip_to {
            Some(n) => rest = &rest[open + n..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    let text = out
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut line: String = words.join(" ").chars().take(max).collect();
    if words.join(" ").chars().count() > max {
        line.push('…');
    }
    super::lenient::printable(&line)
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = text[start..end].trim();
    (!title.is_empty())
        .then(|| super::lenient::printable(&title.chars().take(80).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(status: u16, ct: &str) -> LastResponse {
        LastResponse {
            status: Some(status),
            content_type: Some(ct.into()),
            location: None,
            content_encoding: None,
        }
    }

    #[test]
    fn a_page_excerpt_is_its_text() {
        let page = "<html><head><title>oops</title><style>p{color:red}</style>\
                    <script>var x = '<b>';</script></head><body><h1>Error</h1>\
                    <p>redirect_uri did not match &amp; more</p></body></html>";
        assert_eq!(
            page_excerpt(page, 200),
            "oops Error redirect_uri did not match & more"
        );
        assert_eq!(page_excerpt(page, 10), "oops Error…");
        assert_eq!(page_excerpt("plain <unclosed", 50), "plain");
    }

    #[test]
    fn invalid_client_says_to_check_secret_and_auth_method() {
        let pe: ProviderError = serde_json::from_str(r#"{"error":"invalid_client"}"#).unwrap();
        let e = provider_error(&pe, Some(401), Operation::ClientCredentials);
        assert_eq!(e.code, ErrorCode::InvalidClient);
        assert!(
            e.message.contains("client secret") && e.message.contains("client_secret_post"),
            "{}",
            e.message
        );
        assert!(e.message.contains("HTTP 401"));
    }

    #[test]
    fn invalid_grant_hint_depends_on_the_operation() {
        assert!(
            hint("invalid_grant", Operation::Refresh)
                .unwrap()
                .contains("Sign in again")
        );
        assert!(
            hint("invalid_grant", Operation::CodeExchange)
                .unwrap()
                .contains("redirect URI")
        );
    }

    #[test]
    fn html_pages_are_named_with_their_title() {
        let body = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>";
        let e = unusable_body(
            body,
            &last(502, "text/html"),
            Operation::ClientCredentials,
            Some("x"),
        );
        assert_eq!(e.code, ErrorCode::BadResponse);
        assert!(
            e.message.contains("HTML page titled \"502 Bad Gateway\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn broken_json_and_empty_bodies_are_told_apart() {
        let e = unusable_body(
            br#"{"access_token": "abc", "tok"#,
            &last(200, "application/json"),
            Operation::Refresh,
            Some("EOF while parsing"),
        );
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
        let e = unusable_body(b"", &last(500, ""), Operation::Refresh, None);
        assert!(
            e.message.contains("empty body") && e.message.contains("HTTP 500"),
            "{}",
            e.message
        );
        let e = unusable_body(
            br#"{"token_type":"Bearer"}"#,
            &last(200, "application/json"),
            Operation::Refresh,
            Some("missing field `access_token`"),
        );
        assert!(e.message.contains("not a token response"), "{}", e.message);
    }
}
