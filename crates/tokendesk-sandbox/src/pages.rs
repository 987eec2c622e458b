//! The HTML the sandbox shows to people: the demo login, error pages, the index.
//! Every page carries the "demo only, not for production" banner.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::clients::{DEMO_CLIENTS, DemoClient};
use crate::style::{Style, no_store};

const BANNER: &str = "TokenDesk sandbox — demo only, not for production";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d232a}\
.banner{background:#fff3cd;border:1px solid #e0b000;padding:.6rem 1rem;border-radius:.4rem;font-weight:600}\
code{background:#f1f3f5;padding:.1rem .3rem;border-radius:.2rem}\
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem;border-radius:.3rem;border:1px solid #888;cursor:pointer}\
button.approve{background:#1f7a3a;color:#fff;border-color:#1f7a3a}\
.error{color:#a4161a}";

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{title} · {BANNER}</title><style>{STYLE}</style></head>\
<body><p class=\"banner\" role=\"alert\">{BANNER}</p>\n{body}\n</body></html>\n",
        title = escape(title),
    );
    let mut response = no_store(status, Html(html).into_response());
    response.headers_mut().insert(
        header::HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    response
}

/// The one-page login: Approve as the demo user, or Deny.
pub(crate) fn login(
    decision_url: &str,
    request_id: &str,
    client: &DemoClient,
    scope: &[String],
    redirect_uri: &str,
) -> Response {
    let scopes = if scope.is_empty() {
        "<li><em>no scope</em></li>".to_owned()
    } else {
        scope
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", escape(s)))
            .collect()
    };
    let body = format!(
        "<h1>Sign in to the sandbox</h1>\
<p><strong>{app}</strong> (client <code>{client_id}</code>) asks for:</p><ul>{scopes}</ul>\
<p>You will be sent back to <code>{redirect}</code>.</p>\
<p>There is no password: the sandbox has a single demo user.</p>\
<form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
<button class=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\" autofocus>Approve as demo-user</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
</form>",
        app = escape(client.application_name),
        client_id = escape(client.id),
        redirect = escape(redirect_uri),
        action = escape(decision_url),
        request_id = escape(request_id),
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// An error that must not be sent to the client's redirect URI (unknown client, bad
/// redirect URI, expired login page).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    tracing::info!(message, "authorization refused with an error page");
    let body = format!(
        "<h1>Cannot continue</h1><p class=\"error\">{}</p>\
<p>Start the sign-in again from the app.</p>",
        escape(message)
    );
    page(status, "Error", &body)
}

/// `{base}/`: what this server is and how to use it.
pub(crate) fn index(base_url: &str) -> Response {
    let issuers: String = Style::ALL
        .iter()
        .map(|style| {
            let issuer = format!("{base_url}/{}", style.path());
            format!(
                "<li><code>{issuer}</code> — <a href=\"{issuer}/.well-known/openid-configuration\">discovery</a></li>",
                issuer = escape(&issuer)
            )
        })
        .collect();
    let clients: String = DEMO_CLIENTS
        .iter()
        .map(|c| {
            let issuers: Vec<&str> = c.issuers.iter().map(|s| s.path()).collect();
            format!(
                "<li><code>{}</code> / {} — {} — scopes <code>{}</code> — at {}</li>",
                escape(c.id),
                c.secret
                    .map(|s| format!("secret <code>{}</code>", escape(s)))
                    .unwrap_or_else(|| "public (no secret, PKCE)".to_owned()),
                escape(&c.grant_types.join(", ")),
                escape(&c.scopes.join(" ")),
                escape(&issuers.join(", ")),
            )
        })
        .collect();
    let body = format!(
        "<h1>TokenDesk sandbox</h1>\
<p>A local OAuth 2.0 / OpenID Connect authorization server for TokenDesk's first runs, demos \
and tests. Its secrets are public, it has one demo user and forgets everything when it stops.</p>\
<h2>Issuers</h2><ul>{issuers}</ul>\
<h2>Demo clients</h2><ul>{clients}</ul>\
<p>Redirect URIs: any loopback address (<code>http://127.0.0.1:PORT/…</code>, \
<code>http://[::1]:PORT/…</code>, <code>http://localhost:PORT/…</code>). PKCE S256 is required.</p>\
<h2>Sandbox bank</h2><p>The <code>/bank</code> issuer imitates a PSD2 bank: every back-channel call \
carries <code>x-api-key</code> (the TPP's client id); a consent or a payment (its body signed in \
<code>x-jws-signature</code>) registers an <code>authorizationId</code>; sign-in takes a request \
object signed PS256 by the TPP's key whose claims name it, and answers <code>code id_token</code> \
in the fragment. The TPP's key is a demo key made at each start and handed to TokenDesk.</p>\
<h2>Sandbox FAPI 2.0</h2><p>The <code>/fapi</code> issuer holds its client to the FAPI 2.0 Security \
Profile: the authorization request is pushed to <code>/fapi/par</code> (then <code>/authorize</code> \
takes <code>client_id</code> and <code>request_uri</code> only), PKCE S256, <code>private_key_jwt</code> \
with the issuer as audience, and DPoP proofs (with server nonces) at the token and userinfo \
endpoints; tokens are DPoP-bound. The client's key is a demo key made at each start and handed to \
TokenDesk.</p>"
    );
    page(StatusCode::OK, "TokenDesk sandbox", &body)
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
