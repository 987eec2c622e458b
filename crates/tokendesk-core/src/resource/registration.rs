//! Dynamic client registration (RFC 7591) and its management (RFC 7592): register a native
//! client with loopback redirect URIs, then read, update or delete the registration with its
//! registration access token. Secrets (`client_secret`, `registration_access_token`) come back
//! as [`Sensitive`] and are never part of the metadata shown.

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorCode, Result};
use crate::http::Call;
use crate::secret::Sensitive;

/// The redirect URIs that fit TokenDesk's loopback listener (any port, RFC 8252 §7.3).
pub const LOOPBACK_REDIRECT_URIS: [&str; 3] = [
    "http://127.0.0.1/callback",
    "http://[::1]/callback",
    "http://localhost/callback",
];

/// The members of a registration answer that are secrets.
const SECRET_MEMBERS: [&str; 2] = ["client_secret", "registration_access_token"];

/// What TokenDesk asks to register.
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    pub client_name: String,
    /// The profile's own redirect URI, or the loopback ones.
    pub redirect_uris: Vec<String>,
    /// A confidential client (`client_secret_basic`) instead of a public one (`none`).
    pub confidential: bool,
    pub scopes: Vec<String>,
    /// A signed JWT of client metadata (RFC 7591 §2.3), sent as given.
    pub software_statement: Option<String>,
}

impl ClientRequest {
    /// The registration request's JSON (RFC 7591 §2).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "client_name": self.client_name,
            "application_type": "native",
            "redirect_uris": self.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method":
                if self.confidential { "client_secret_basic" } else { "none" },
        });
        if !self.scopes.is_empty() {
            body["scope"] = json!(self.scopes.join(" "));
        }
        if let Some(s) = &self.software_statement {
            body["software_statement"] = json!(s);
        }
        body
    }
}

/// A registration as the server answered it.
#[derive(Debug)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<Sensitive<String>>,
    pub registration_access_token: Option<Sensitive<String>>,
    pub registration_client_uri: Option<String>,
    pub token_endpoint_auth_method: String,
    /// Everything else the server said, the secrets taken out.
    pub metadata: Value,
}

impl Registered {
    fn from_answer(mut doc: Value, what: &str) -> Result<Self> {
        let Some(object) = doc.as_object_mut() else {
            return Err(Error::new(
                ErrorCode::BadResponse,
                format!("{what}: the answer is not a JSON object."),
            ));
        };
        let mut take = |name: &str| match object.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(Sensitive::new(s)),
            _ => None,
        };
        let client_secret = take("client_secret");
        let registration_access_token = take("registration_access_token");
        let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
        let Some(client_id) = text("client_id").filter(|c| !c.is_empty()) else {
            return Err(Error::new(
                ErrorCode::BadResponse,
                format!("{what}: the answer has no client_id (RFC 7591 §3.2.1 requires it)."),
            ));
        };
        Ok(Self {
            client_id,
            client_secret,
            registration_access_token,
            registration_client_uri: text("registration_client_uri"),
            token_endpoint_auth_method: text("token_endpoint_auth_method")
                .unwrap_or_else(|| "client_secret_basic".into()),
            metadata: doc,
        })
    }
}

fn json_request(
    method: http::Method,
    url: &str,
    bearer: Option<&Sensitive<String>>,
    body: Option<&Value>,
) -> Result<http::Request<Vec<u8>>> {
    let mut r = http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::ACCEPT, "application/json");
    if let Some(t) = bearer {
        r = r.header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", t.expose()),
        );
    }
    let bytes = match body {
        Some(b) => {
            r = r.header(http::header::CONTENT_TYPE, "application/json");
            serde_json::to_vec(b)?
        }
        None => Vec::new(),
    };
    r.body(bytes)
        .map_err(|e| Error::invalid_field("registration", format!("{url}: {e}")))
}

/// The OAuth error of a refused registration request, explained.
fn refused(what: &str, status: u16, body: &[u8], had_bearer: bool, management: bool) -> Error {
    let doc: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let field = |n: &str| {
        doc.as_ref()
            .and_then(|d| d.get(n))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let error = field("error");
    let description = field("error_description")
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let check = match (status, error.as_deref()) {
        (_, Some("invalid_redirect_uri")) => {
            "The server refuses TokenDesk's loopback redirect URIs: it may not accept native \
             clients; register a client by hand and use --client-id"
        }
        (_, Some("invalid_client_metadata")) => {
            "The server refuses a member of the client metadata (the error names it); a client \
             registered by hand may be the way (--client-id)"
        }
        (_, Some("invalid_software_statement" | "unapproved_software_statement")) => {
            "Check the software statement: its signature, issuer and expiry, and that the server \
             trusts its signer"
        }
        (401 | 403, _) if management => {
            "The registration access token was refused: the registration may have been deleted \
             or its token rotated elsewhere"
        }
        (401 | 403, _) if had_bearer => {
            "The initial access token was refused: check that it is current and meant for this \
             server"
        }
        (401 | 403, _) => {
            "The server only registers clients that bring an initial access token: give it with \
             --initial-access-token-stdin"
        }
        (404, _) if management => "The registration is gone (deleted at the server)",
        _ => "Check the server's registration policy",
    };
    let code = match status {
        401 | 403 => ErrorCode::InvalidClient,
        404 => ErrorCode::NotFound,
        s if s >= 500 => ErrorCode::BadResponse,
        _ => ErrorCode::ProviderError,
    };
    let mut e = Error::new(
        code,
        format!(
            "{what}: the server answered HTTP {status}{}{description}. {check}.",
            error
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default()
        ),
    );
    if let Some(err) = error {
        e.oauth = Some(Box::new((err, field("error_description"))));
    }
    e
}

/// Registers a client (RFC 7591 §3.1) at `endpoint`, with an initial access token if given.
pub async fn register(
    call: &Call<'_>,
    endpoint: &str,
    request: &ClientRequest,
    initial_access_token: Option<&Sensitive<String>>,
) -> Result<Registered> {
    let what = format!("Dynamic client registration at {endpoint}");
    let req = json_request(
        http::Method::POST,
        endpoint,
        initial_access_token,
        Some(&request.body()),
    )?;
    let response = call.send(req).await.map_err(Error::from)?;
    let status = response.status().as_u16();
    if !matches!(status, 200 | 201) {
        return Err(refused(
            &what,
            status,
            response.body(),
            initial_access_token.is_some(),
            false,
        ));
    }
    let doc: Value = serde_json::from_slice(response.body()).map_err(|_| {
        Error::new(
            ErrorCode::BadResponse,
            format!("{what}: the answer (HTTP {status}) is not JSON."),
        )
    })?;
    Registered::from_answer(doc, &what)
}

/// Reads a registration as the server has it (RFC 7592 §2.1).
pub async fn read(call: &Call<'_>, uri: &str, token: &Sensitive<String>) -> Result<Registered> {
    let what = format!("Reading the registration at {uri}");
    let req = json_request(http::Method::GET, uri, Some(token), None)?;
    managed(call, req, &what).await
}

/// Replaces a registration's metadata (RFC 7592 §2.2): `metadata` is the whole client metadata
/// (with `client_id`), without the secrets the server sent before.
pub async fn update(
    call: &Call<'_>,
    uri: &str,
    token: &Sensitive<String>,
    metadata: &Value,
) -> Result<Registered> {
    let what = format!("Updating the registration at {uri}");
    let mut body = metadata.clone();
    if let Some(o) = body.as_object_mut() {
        // RFC 7592 §2.2: these are the server's to set, and must not be sent.
        for name in [
            "registration_access_token",
            "registration_client_uri",
            "client_secret_expires_at",
            "client_id_issued_at",
        ] {
            o.remove(name);
        }
    }
    let req = json_request(http::Method::PUT, uri, Some(token), Some(&body))?;
    managed(call, req, &what).await
}

/// Sends a read or an update of a registration (RFC 7592) and reads the registration the
/// server answers with (HTTP 200, JSON).
async fn managed(call: &Call<'_>, req: http::Request<Vec<u8>>, what: &str) -> Result<Registered> {
    let response = call.send(req).await.map_err(Error::from)?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(refused(what, status, response.body(), true, true));
    }
    let doc: Value = serde_json::from_slice(response.body()).map_err(|_| {
        Error::new(
            ErrorCode::BadResponse,
            format!("{what}: the answer is not JSON."),
        )
    })?;
    Registered::from_answer(doc, what)
}

/// Deletes a registration (RFC 7592 §2.3). A registration already gone counts as deleted.
pub async fn delete(call: &Call<'_>, uri: &str, token: &Sensitive<String>) -> Result<()> {
    let what = format!("Deleting the registration at {uri}");
    let req = json_request(http::Method::DELETE, uri, Some(token), None)?;
    let response = call.send(req).await.map_err(Error::from)?;
    match response.status().as_u16() {
        200 | 204 | 404 => Ok(()),
        status => Err(refused(&what, status, response.body(), true, true)),
    }
}

/// A client ID metadata document (OAuth Client ID Metadata Document draft, as the MCP
/// authorization specification uses it) for a public native client whose `client_id` is the
/// https URL where the user hosts this very document.
pub fn client_metadata_document(client_id_url: &str, client_name: &str) -> Value {
    let mut doc = ClientRequest {
        client_name: client_name.to_owned(),
        redirect_uris: LOOPBACK_REDIRECT_URIS.map(String::from).to_vec(),
        ..Default::default()
    }
    .body();
    doc["client_id"] = json!(client_id_url);
    doc
}

/// Whether `url` can be a client ID metadata document's URL: https, a host, a path, no
/// fragment. `Err` says why not.
pub fn check_client_metadata_url(url: &str) -> std::result::Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("\"{url}\" is not a URL ({e})"))?;
    if u.scheme() != "https" || u.host().is_none() {
        return Err(format!("\"{url}\" must be an https URL"));
    }
    if u.path().trim_matches('/').is_empty() {
        return Err(format!(
            "\"{url}\" must have a path (the document's own address)"
        ));
    }
    if u.fragment().is_some() {
        return Err(format!("\"{url}\" must not have a fragment"));
    }
    Ok(())
}

/// Whether a member is a secret of the registration (kept out of what is shown).
pub fn is_secret_member(name: &str) -> bool {
    SECRET_MEMBERS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_native_client_by_default() {
        let r = ClientRequest {
            client_name: "TokenDesk: api".into(),
            redirect_uris: LOOPBACK_REDIRECT_URIS.map(String::from).to_vec(),
            ..Default::default()
        };
        let b = r.body();
        assert_eq!(b["application_type"], "native");
        assert_eq!(b["token_endpoint_auth_method"], "none");
        assert_eq!(b["redirect_uris"][0], "http://127.0.0.1/callback");
        assert!(b.get("scope").is_none() && b.get("software_statement").is_none());
        let c = ClientRequest {
            confidential: true,
            scopes: vec!["a".into(), "b".into()],
            ..r
        };
        assert_eq!(
            c.body()["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        assert_eq!(c.body()["scope"], "a b");
    }

    #[test]
    fn a_client_metadata_document_names_its_own_url() {
        let d = client_metadata_document("https://me.example/tokendesk.json", "TokenDesk: api");
        assert_eq!(d["client_id"], "https://me.example/tokendesk.json");
        assert_eq!(d["token_endpoint_auth_method"], "none");
        assert_eq!(d["redirect_uris"].as_array().unwrap().len(), 3);
        assert!(check_client_metadata_url("https://me.example/c.json").is_ok());
        assert!(check_client_metadata_url("http://me.example/c.json").is_err());
        assert!(check_client_metadata_url("https://me.example/").is_err());
        assert!(check_client_metadata_url("https://me.example/c#x").is_err());
    }

    #[test]
    fn the_secrets_are_taken_out_of_the_answer() {
        let doc = json!({"client_id": "c1", "client_secret": "s3cr3t",
            "registration_access_token": "rat", "registration_client_uri": "https://as/reg/c1",
            "token_endpoint_auth_method": "client_secret_basic"});
        let r = Registered::from_answer(doc, "x").unwrap();
        assert_eq!(r.client_secret.unwrap().expose(), "s3cr3t");
        assert_eq!(r.registration_access_token.unwrap().expose(), "rat");
        assert!(r.metadata.get("client_secret").is_none());
        assert!(r.metadata.get("registration_access_token").is_none());
        assert!(!format!("{:?}", r.metadata).contains("s3cr3t"));
        assert!(Registered::from_answer(json!({"x": 1}), "x").is_err());
    }

    #[test]
    fn refusals_say_what_to_check() {
        let e = refused("R", 401, b"{\"error\":\"invalid_token\"}", false, false);
        assert!(
            e.message.contains("--initial-access-token-stdin"),
            "{}",
            e.message
        );
        let e = refused(
            "R",
            400,
            b"{\"error\":\"invalid_redirect_uri\",\"error_description\":\"no\"}",
            false,
            false,
        );
        assert!(
            e.message.contains("invalid_redirect_uri (no)"),
            "{}",
            e.message
        );
        assert!(e.message.contains("loopback"), "{}", e.message);
    }
}
