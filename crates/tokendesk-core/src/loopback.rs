//! The one-shot redirect listener for native apps (RFC 8252 §7.3): listens on 127.0.0.1 and/or
//! [::1], answers the browser with a small page, hands the first authorization response over and
//! stops — or gives up after a timeout or when cancelled.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, ErrorCode, Result};

pub const DEFAULT_PATH: &str = "/callback";

/// Where the authorization response will arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectTarget {
    /// A loopback URI we listen on. Port 0 means an ephemeral port.
    Loopback {
        host: String,
        addrs: Vec<IpAddr>,
        port: u16,
        path: String,
    },
    /// Anything else (an https URL, a custom scheme): the user pastes the redirect URL.
    Manual(String),
}

impl RedirectTarget {
    /// The target for a profile's redirect URI; `None` is loopback on an ephemeral port.
    pub fn parse(redirect_uri: Option<&str>) -> Result<Self> {
        let Some(uri) = redirect_uri else {
            return Ok(Self::Loopback {
                host: "127.0.0.1".into(),
                addrs: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
                port: 0,
                path: DEFAULT_PATH.into(),
            });
        };
        let url = Url::parse(uri).map_err(|e| {
            Error::invalid_field("redirect_uri", format!("\"{uri}\" is not a URL ({e})."))
        })?;
        if url.scheme() != "http" {
            return Ok(Self::Manual(uri.to_owned()));
        }
        let (host, addrs) = match url.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => (ip.to_string(), vec![IpAddr::V4(ip)]),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => {
                (format!("[{ip}]"), vec![IpAddr::V6(ip)])
            }
            Some(url::Host::Domain("localhost")) => (
                "localhost".to_owned(),
                vec![
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(Ipv6Addr::LOCALHOST),
                ],
            ),
            _ => return Ok(Self::Manual(uri.to_owned())),
        };
        let path = if url.path().is_empty() {
            "/".into()
        } else {
            url.path().to_owned()
        };
        Ok(Self::Loopback {
            host,
            addrs,
            port: url.port().unwrap_or(0),
            path,
        })
    }
}

/// The query parameters of an authorization response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub params: Vec<(String, String)>,
}

impl Callback {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Reads the response from a pasted redirect URL: query, or fragment (hybrid/implicit).
    pub fn from_url(pasted: &str) -> Result<Self> {
        let url = Url::parse(pasted.trim()).map_err(|e| {
            Error::invalid_field(
                "redirect_url",
                format!("Paste the whole address from the browser's address bar ({e})."),
            )
        })?;
        let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        if let Some(f) = url.fragment() {
            params.extend(url::form_urlencoded::parse(f.as_bytes()).into_owned());
        }
        if params.is_empty() {
            return Err(Error::invalid_field(
                "redirect_url",
                "That address carries no authorization response (no code, no error).",
            ));
        }
        Ok(Self { params })
    }
}

/// A bound listener, waiting for one authorization response.
pub struct Listener {
    redirect_uri: String,
    rx: oneshot::Receiver<Callback>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

impl Listener {
    /// Binds the loopback target. With `localhost`, both 127.0.0.1 and [::1] are tried; one of
    /// them must succeed.
    pub async fn bind(target: &RedirectTarget) -> Result<Self> {
        let RedirectTarget::Loopback {
            host,
            addrs,
            port,
            path,
        } = target
        else {
            return Err(Error::internal("not a loopback redirect target"));
        };
        let mut listeners = Vec::new();
        let mut port = *port;
        let mut last_err = None;
        for ip in addrs {
            match TcpListener::bind(SocketAddr::new(*ip, port)).await {
                Ok(l) => {
                    if port == 0 {
                        port = l.local_addr().map(|a| a.port()).unwrap_or(0);
                    }
                    listeners.push(l);
                }
                Err(e) => last_err = Some(e),
            }
        }
        if listeners.is_empty() {
            let e = last_err.map(|e| e.to_string()).unwrap_or_default();
            return Err(Error::new(
                ErrorCode::Conflict,
                format!(
                    "Cannot listen for the redirect on {host}:{port} ({e}). Another program may \
                     be using the port: close it, or register a different port."
                ),
            ));
        }
        let redirect_uri = format!("http://{host}:{port}{path}");
        let (tx, rx) = oneshot::channel();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let tasks = listeners
            .into_iter()
            .map(|l| tokio::spawn(accept_loop(l, path.clone(), tx.clone())))
            .collect();
        Ok(Self {
            redirect_uri,
            rx,
            tasks,
        })
    }

    /// The redirect URI to send, with the port actually bound.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the authorization response.
    pub async fn wait(mut self, timeout: Duration, cancel: &CancellationToken) -> Result<Callback> {
        let rx = &mut self.rx;
        tokio::select! {
            r = rx => r.map_err(|_| Error::internal("the redirect listener stopped")),
            _ = tokio::time::sleep(timeout) => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "No sign-in arrived within {} seconds. Finish signing in in the browser, or \
                     check that the provider redirects to {} (it must be registered for the \
                     client).",
                    timeout.as_secs(),
                    self.redirect_uri
                ),
            )),
            _ = cancel.cancelled() => Err(Error::new(ErrorCode::Cancelled, "Sign-in cancelled.")),
        }
    }
}

type Slot = Arc<Mutex<Option<oneshot::Sender<Callback>>>>;

async fn accept_loop(listener: TcpListener, path: String, slot: Slot) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let path = path.clone();
        let slot = slot.clone();
        tokio::spawn(async move {
            let _ =
                tokio::time::timeout(Duration::from_secs(10), serve(stream, &path, &slot)).await;
        });
    }
}

async fn serve(mut stream: TcpStream, path: &str, slot: &Slot) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    let target = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                if req.method != Some("GET") {
                    return respond(
                        &mut stream,
                        405,
                        "Method not allowed",
                        "Only GET is served here.",
                    )
                    .await;
                }
                break req.path.unwrap_or("/").to_owned();
            }
            Ok(httparse::Status::Partial) if buf.len() < 16 * 1024 => continue,
            _ => return respond(&mut stream, 400, "Bad request", "Not an HTTP request.").await,
        }
    };
    let (req_path, query) = target.split_once('?').unwrap_or((&target, ""));
    if req_path != path {
        return respond(&mut stream, 404, "Not found", "Nothing here.").await;
    }
    if query.is_empty() {
        // The response may be in the fragment, which browsers never send: move it to the query.
        return write(&mut stream, 200, FRAGMENT_RELAY).await;
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let error = params
        .iter()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.clone());
    let sender = slot.lock().expect("slot poisoned").take();
    match (sender, error) {
        (None, _) => {
            respond(
                &mut stream,
                409,
                "Already done",
                "TokenDesk already received a sign-in response; you can close this tab.",
            )
            .await
        }
        (Some(tx), error) => {
            let result = match &error {
                Some(e) => respond(&mut stream, 200, "Sign-in failed", &format!("The provider answered \"{e}\". Return to TokenDesk for details; you can close this tab.")).await,
                None => respond(&mut stream, 200, "Signed in", "TokenDesk received the sign-in. You can close this tab and return to the app.").await,
            };
            let _ = tx.send(Callback { params });
            result
        }
    }
}

const FRAGMENT_RELAY: &str = "<!doctype html><meta charset=utf-8><title>TokenDesk</title>\
<body style=\"font-family:system-ui,sans-serif;margin:3em\"><p id=m>Finishing sign-in…</p>\
<script>if(location.hash.length>1){location.replace(location.pathname+'?'+location.hash.slice(1))}\
else{document.getElementById('m').textContent='This address carries no sign-in response.'}</script>";

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    title: &str,
    text: &str,
) -> std::io::Result<()> {
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>TokenDesk — {t}</title>\
         <body style=\"font-family:system-ui,sans-serif;margin:3em\"><h1>{t}</h1><p>{x}</p>",
        t = escape(title),
        x = escape(text)
    );
    write(stream, status, &page).await
}

async fn write(stream: &mut TcpStream, status: u16, page: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Conflict",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Connection: close\r\n\r\n",
        page.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(page.as_bytes()).await?;
    stream.shutdown().await
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_from_redirect_uris() {
        assert!(matches!(
            RedirectTarget::parse(None).unwrap(),
            RedirectTarget::Loopback { port: 0, .. }
        ));
        let t = RedirectTarget::parse(Some("http://127.0.0.1:8765/cb")).unwrap();
        assert!(
            matches!(t, RedirectTarget::Loopback { port: 8765, ref path, .. } if path == "/cb")
        );
        let t = RedirectTarget::parse(Some("http://localhost/callback")).unwrap();
        assert!(matches!(t, RedirectTarget::Loopback { ref addrs, .. } if addrs.len() == 2));
        assert!(matches!(
            RedirectTarget::parse(Some("https://app.example/cb")).unwrap(),
            RedirectTarget::Manual(_)
        ));
        assert!(matches!(
            RedirectTarget::parse(Some("com.example.app:/cb")).unwrap(),
            RedirectTarget::Manual(_)
        ));
    }

    #[test]
    fn pasted_urls_give_query_and_fragment_params() {
        let c = Callback::from_url("https://app.example/cb?state=s#code=c&id_token=x").unwrap();
        assert_eq!(c.get("state"), Some("s"));
        assert_eq!(c.get("code"), Some("c"));
        assert_eq!(c.get("id_token"), Some("x"));
        assert!(Callback::from_url("https://app.example/cb").is_err());
    }

    async fn get(uri: &str) -> (u16, String) {
        let url = Url::parse(uri).unwrap();
        let mut s = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
            .await
            .unwrap();
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        (out[9..12].parse().unwrap(), out)
    }

    #[tokio::test]
    async fn first_response_wins_and_others_are_turned_away() {
        let l = Listener::bind(&RedirectTarget::parse(None).unwrap())
            .await
            .unwrap();
        let base = l.redirect_uri().to_owned();
        assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/callback"));
        let port: u16 = base[17..base.len() - 9].parse().unwrap();
        assert_eq!(
            get(&format!("http://127.0.0.1:{port}/favicon.ico")).await.0,
            404
        );
        let (status, page) = get(&base).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("location.hash"),
            "an empty query gets the fragment relay"
        );
        let (status, page) = get(&format!("{base}?code=abc&state=xyz")).await;
        assert_eq!(status, 200);
        assert!(page.contains("close this tab"));
        assert_eq!(get(&format!("{base}?code=again&state=xyz")).await.0, 409);
        let cb = l
            .wait(Duration::from_secs(5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(cb.get("code"), Some("abc"));
    }

    #[tokio::test]
    async fn waiting_ends_on_timeout_and_on_cancel() {
        let l = Listener::bind(&RedirectTarget::parse(None).unwrap())
            .await
            .unwrap();
        let e = l
            .wait(Duration::from_millis(50), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Timeout);
        let l = Listener::bind(&RedirectTarget::parse(None).unwrap())
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let e = l.wait(Duration::from_secs(60), &cancel).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::Cancelled);
    }

    #[tokio::test]
    async fn a_taken_fixed_port_is_a_clear_error() {
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        let e = Listener::bind(
            &RedirectTarget::parse(Some(&format!("http://127.0.0.1:{port}/cb"))).unwrap(),
        )
        .await
        .err()
        .unwrap();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(e.message.contains("Another program"), "{}", e.message);
    }
}
