//! A protected resource on loopback for the consumers of tokens to call: an API (`/api/…`)
//! that refuses a revoked or unknown token with a `WWW-Authenticate` challenge, a Kubernetes
//! `/version`, and git repositories over smart HTTP (`/git/…`, served by `git http-backend`)
//! that want the token as the password of HTTP Basic authentication or as a Bearer token.
//!
//! Which tokens it accepts is the test's to say ([`ResourceServer::accept`]); it can revoke a
//! token on its side ([`ResourceServer::revoke`]), or refuse every token.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The token it carried (Bearer, DPoP, or the password of Basic), if any.
    pub token: Option<String>,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    accepted: HashSet<String>,
    accept_any: bool,
    revoked: HashSet<String>,
    refuse_all: bool,
    seen: Vec<Seen>,
}

struct Shared {
    inner: Mutex<Inner>,
    git_root: PathBuf,
}

pub struct ResourceServer {
    pub url: String,
    shared: Arc<Shared>,
    _repos: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ResourceServer {
    /// Starts on a free loopback port, accepting any token it has not revoked.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// The same over HTTPS, with the fixture's server certificate (for 127.0.0.1).
    pub fn start_tls(tls: &crate::TlsFixture) -> Self {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let dir = tls.dir.path();
        let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        Self::start_with(Some(Arc::new(config)))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let repos = tempfile::tempdir().unwrap();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                accept_any: true,
                ..Default::default()
            }),
            git_root: repos.path().to_path_buf(),
        });
        let https = tls.is_some();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(state);
                match tls {
                    None => axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap(),
                    Some(config) => serve_tls(listener, app, config, stopped).await,
                }
            });
        });
        let addr = addr_rx.recv().unwrap();
        let scheme = if https { "https" } else { "http" };
        Self {
            url: format!("{scheme}://{addr}"),
            shared,
            _repos: repos,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    /// Accepts only the tokens given here from now on (unless revoked).
    pub fn accept(&self, token: &str) {
        let mut inner = self.lock();
        inner.accept_any = false;
        inner.accepted.insert(token.to_owned());
    }

    /// Revokes a token on the server's side: its next use gets a 401 `invalid_token`.
    pub fn revoke(&self, token: &str) {
        self.lock().revoked.insert(token.to_owned());
    }

    /// Refuses every token from now on (a 401 that no renewal can answer).
    pub fn refuse_all(&self) {
        self.lock().refuse_all = true;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// Makes a bare repository `/git/NAME.git` with one commit holding `README` = `content`.
    pub fn add_repo(&self, name: &str, content: &str) -> String {
        let work = tempfile::tempdir().unwrap();
        let git = |dir: &std::path::Path, args: &[&str]| {
            let out = std::process::Command::new("git")
                .current_dir(dir)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir)
                .output()
                .expect("git is installed (scripts/deps.sh --test)");
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(work.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(work.path().join("README"), content).unwrap();
        git(work.path(), &["add", "README"]);
        git(
            work.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example",
                "commit",
                "-q",
                "-m",
                "first",
            ],
        );
        let bare = self.shared.git_root.join(format!("{name}.git"));
        git(
            work.path(),
            &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
        );
        format!("{}/git/{name}.git", self.url)
    }
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `app` over TLS until `stopped`.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: Arc<rustls::ServerConfig>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, _) = tokio::select! {
            a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
            _ = &mut stopped => return,
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The token a request carries: `Bearer`/`DPoP` credentials, or the password of `Basic`.
fn token_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" | "dpop" => Some(rest.trim().to_owned()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            Some(text.split_once(':')?.1.to_owned())
        }
        _ => None,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let token = token_of(request.headers());
    let git = path.starts_with("/git/");
    let verdict = {
        let inner = shared.inner.lock().unwrap();
        match &token {
            None => Err(None),
            Some(t) if inner.refuse_all || inner.revoked.contains(t) => {
                Err(Some("The access token was revoked"))
            }
            Some(t) if inner.accept_any || inner.accepted.contains(t) => Ok(()),
            Some(_) => Err(Some("The access token is not one this API knows")),
        }
    };
    let response = match verdict {
        Err(why) => refuse(git, why),
        Ok(()) if git => git_backend(&shared, request).await,
        Ok(()) if path == "/version" => axum::Json(serde_json::json!({
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-tokendesk-test",
            "platform": "linux/amd64"
        }))
        .into_response(),
        Ok(()) if path == "/api/text" => "plain text, not JSON\n".into_response(),
        Ok(()) => {
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            axum::Json(serde_json::json!({
                "method": method,
                "path": path,
                "body": String::from_utf8_lossy(&body),
            }))
            .into_response()
        }
    };
    shared.inner.lock().unwrap().seen.push(Seen {
        method,
        path,
        token,
        status: response.status().as_u16(),
    });
    response
}

/// A 401 with the challenge RFC 6750 §3 describes (git hosts ask for Basic).
fn refuse(git: bool, why: Option<&str>) -> Response {
    let challenge = match (git, why) {
        (true, _) => r#"Basic realm="test-git""#.to_owned(),
        (false, None) => r#"Bearer realm="test-api""#.to_owned(),
        (false, Some(why)) => {
            format!(r#"Bearer realm="test-api", error="invalid_token", error_description="{why}""#)
        }
    };
    let mut response = (StatusCode::UNAUTHORIZED, "unauthorized\n").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).unwrap(),
    );
    response
}

/// Runs `git http-backend` as a CGI program for one request.
async fn git_backend(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut command = tokio::process::Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &shared.git_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env(
            "PATH_INFO",
            parts.uri.path().strip_prefix("/git").unwrap_or_default(),
        )
        .env("QUERY_STRING", parts.uri.query().unwrap_or_default())
        .env("CONTENT_TYPE", header(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header(header::CONTENT_ENCODING))
        .env(
            "GIT_PROTOCOL",
            header(header::HeaderName::from_static("git-protocol")),
        )
        .env("REMOTE_USER", "tokendesk-test")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("git http-backend");
    let mut stdin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(&body).await;
    });
    let out = child.wait_with_output().await.unwrap();
    let _ = writer.await;
    cgi_response(&out.stdout)
}

/// A CGI program's output (headers, an empty line, the body) as an HTTP response.
fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((end, body_at)) = split else {
        return (
            StatusCode::BAD_GATEWAY,
            "git http-backend answered no headers",
        )
            .into_response();
    };
    let mut builder = Response::builder().status(200);
    for line in String::from_utf8_lossy(&out[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split(' ').next().and_then(|c| c.parse().ok());
            builder = builder.status(code.unwrap_or(500));
        } else {
            builder = builder.header(name.trim(), value);
        }
    }
    builder
        .body(Body::from(out[body_at..].to_vec()))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
