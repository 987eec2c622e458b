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

use crate::connections::Connections;
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

    /// The state the response carries: its `state` parameter, or — in a signed response (JARM)
    /// — the one inside, read unverified only to find the sign-in it belongs to (the signature
    /// is checked before anything in it is trusted).
    pub fn state(&self) -> Option<String> {
        match self.get("response") {
            Some(jwt) => crate::flow::jarm::unverified_state(jwt),
            None => self.get("state").map(str::to_owned),
        }
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
///
/// Every local process and every web page the user visits can reach it, so only one request
/// completes the sign-in: a `GET` of the redirect path, addressed to the redirect URI's own host
/// (no DNS rebinding), made by a top-level navigation (no `fetch` or `<img>` from a page: no
/// `Origin`, fetch metadata saying `navigate`), carrying the state of the sign-in it waits for
/// ([`Listener::expect_state`]). Everything else gets a small page and changes nothing. Its
/// connections are bounded ([`Connections`]), so a flood cannot keep the browser out, and it
/// closes them all when the sign-in ends (when it is dropped).
pub struct Listener {
    redirect_uri: String,
    gate: Arc<Gate>,
    rx: oneshot::Receiver<Callback>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

/// The most connections the listener holds at once (a browser opens a few).
const MAX_CONNECTIONS: usize = 64;
/// A browser sends its request right after connecting (a speculative pre-connection may wait
/// longer, and is let go for a newer connection when all places are taken).
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// The longest request head read.
const HEAD_LIMIT: usize = 16 * 1024;

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
        let gate = Arc::new(Gate {
            path: path.clone(),
            hosts: if port == 80 {
                vec![format!("{host}:{port}"), host.clone()]
            } else {
                vec![format!("{host}:{port}")]
            },
            waiting: Mutex::new(Waiting {
                state: None,
                sender: Some(tx),
                turned_away: 0,
            }),
        });
        let connections = Connections::new(MAX_CONNECTIONS);
        let tasks = listeners
            .into_iter()
            .map(|l| tokio::spawn(accept_loop(l, gate.clone(), connections.clone())))
            .collect();
        Ok(Self {
            redirect_uri,
            gate,
            rx,
            tasks,
        })
    }

    /// The redirect URI to send, with the port actually bound.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The state of the sign-in this listener waits for: only a redirect carrying it completes
    /// the sign-in. Until it is set, no redirect does.
    pub fn expect_state(&self, state: &str) {
        self.gate.lock().state = Some(state.to_owned());
    }

    /// Waits for the authorization response.
    pub async fn wait(mut self, timeout: Duration, cancel: &CancellationToken) -> Result<Callback> {
        let rx = &mut self.rx;
        tokio::select! {
            r = rx => r.map_err(|_| Error::internal("the redirect listener stopped")),
            _ = tokio::time::sleep(timeout) => Err(self.timed_out(timeout)),
            _ = cancel.cancelled() => Err(Error::new(ErrorCode::Cancelled, "Sign-in cancelled.")),
        }
    }

    /// No redirect with the sign-in's state came in time. When redirects with another state (or
    /// none) came instead, that is the likelier story: say so.
    fn timed_out(&self, timeout: Duration) -> Error {
        let secs = timeout.as_secs();
        match self.gate.lock().turned_away {
            0 => Error::new(
                ErrorCode::Timeout,
                format!(
                    "No sign-in arrived within {secs} seconds. Finish signing in in the browser, \
                     or check that the provider redirects to {} (it must be registered for the \
                     client).",
                    self.redirect_uri
                ),
            ),
            n => Error::new(
                ErrorCode::StateMismatch,
                format!(
                    "No sign-in response with this sign-in's state arrived within {secs} seconds; \
                     {n} response{s} without it came to {} and {were} not used (an old browser \
                     tab, a forged link — or a provider that does not return the `state` it was \
                     sent unchanged). No code was redeemed.",
                    self.redirect_uri,
                    s = if n == 1 { "" } else { "s" },
                    were = if n == 1 { "was" } else { "were" },
                ),
            ),
        }
    }
}

/// What a request must match, and the one sign-in it may complete.
struct Gate {
    path: String,
    /// The `Host` values a request may carry (the redirect URI's authority).
    hosts: Vec<String>,
    waiting: Mutex<Waiting>,
}

struct Waiting {
    state: Option<String>,
    /// Taken by the redirect that completes the sign-in.
    sender: Option<oneshot::Sender<Callback>>,
    /// Responses to the redirect address without the sign-in's state.
    turned_away: usize,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn accept_loop(listener: TcpListener, gate: Arc<Gate>, connections: Connections) {
    // Dropping the set (the task is aborted when the listener is dropped) closes every
    // connection still open.
    let mut served = tokio::task::JoinSet::new();
    loop {
        while served.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                connections.accept_failed(&e).await;
                continue;
            }
        };
        let mut admitted = connections.admit().await;
        let gate = gate.clone();
        served.spawn(async move {
            let mut stream = stream;
            let head = admitted
                .request(read_head(&mut stream), REQUEST_DEADLINE)
                .await;
            if let Some(Ok(Some(head))) = head {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), serve(&mut stream, &head, &gate))
                        .await;
            } else if let Some(Ok(None)) = head {
                let _ = respond(&mut stream, 400, "Bad request", "Not an HTTP request.").await;
            }
        });
        // The new connection's request is usually there already: let it be read before the next
        // accept, so a flood of new connections cannot evict it first.
        tokio::task::yield_now().await;
    }
}

/// The parts of a request the listener looks at.
#[derive(Debug)]
struct Head {
    method: String,
    target: String,
    host: Option<String>,
    origin: bool,
    fetch_mode: Option<String>,
    fetch_dest: Option<String>,
}

/// The request head; `None` when the bytes are not an HTTP request (or one too long).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Head>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
                };
                return Ok(Some(Head {
                    method: req.method.unwrap_or_default().to_owned(),
                    target: req.path.unwrap_or("/").to_owned(),
                    host: header("host"),
                    origin: header("origin").is_some(),
                    fetch_mode: header("sec-fetch-mode"),
                    fetch_dest: header("sec-fetch-dest"),
                }));
            }
            Ok(httparse::Status::Partial) if buf.len() < HEAD_LIMIT => continue,
            _ => return Ok(None),
        }
    }
}

async fn serve(stream: &mut TcpStream, head: &Head, gate: &Gate) -> std::io::Result<()> {
    if head.method != "GET" {
        return respond(
            stream,
            405,
            "Method not allowed",
            "Only GET is served here.",
        )
        .await;
    }
    if !head
        .host
        .as_ref()
        .is_some_and(|h| gate.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)))
    {
        return respond(
            stream,
            421,
            "Wrong address",
            "This is not the address TokenDesk listens on.",
        )
        .await;
    }
    // A sign-in comes back as a top-level navigation. A request a web page makes on its own
    // (fetch, XHR, an image, a frame) says so: it is not one.
    let page_request = head.origin
        || head.fetch_mode.as_deref().is_some_and(|m| m != "navigate")
        || head.fetch_dest.as_deref().is_some_and(|d| d != "document");
    if page_request {
        return respond(
            stream,
            403,
            "Not accepted",
            "TokenDesk takes the sign-in response only from the browser's address bar, not from \
             a web page's request.",
        )
        .await;
    }
    let (req_path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    if req_path != gate.path {
        return respond(stream, 404, "Not found", "Nothing here.").await;
    }
    if query.is_empty() {
        // The response may be in the fragment, which browsers never send: move it to the query.
        return write(stream, 200, FRAGMENT_RELAY).await;
    }
    let callback = Callback {
        params: url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    };
    let claimed = {
        let mut waiting = gate.lock();
        match &waiting.state {
            Some(state) if callback.state().as_deref() == Some(state.as_str()) => {
                Some(waiting.sender.take())
            }
            _ => {
                waiting.turned_away += 1;
                None
            }
        }
    };
    match claimed {
        None => {
            respond(
                stream,
                400,
                "Not this sign-in",
                "This address does not carry the state of the sign-in TokenDesk waits for (an old \
                 tab, or a link from elsewhere): it was ignored. Finish signing in in the tab \
                 TokenDesk opened.",
            )
            .await
        }
        Some(None) => {
            respond(
                stream,
                409,
                "Already done",
                "TokenDesk already received a sign-in response; you can close this tab.",
            )
            .await
        }
        Some(Some(tx)) => {
            let result = match callback.get("error") {
                Some(e) => respond(stream, 200, "Sign-in failed", &format!("The provider answered \"{e}\". Return to TokenDesk for details; you can close this tab.")).await,
                None => respond(stream, 200, "Signed in", "TokenDesk received the sign-in. You can close this tab and return to the app.").await,
            };
            let _ = tx.send(callback);
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
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        421 => "Misdirected Request",
        _ => "Conflict",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         X-Frame-Options: DENY\r\nConnection: close\r\n\r\n",
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

    /// A raw GET of `uri` with `headers` (a `Host` of the URI's authority unless given).
    async fn get_with(uri: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let url = Url::parse(uri).unwrap();
        let mut s = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
            .await
            .unwrap();
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut head = format!("GET {target} HTTP/1.1\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head += &format!(
                "Host: {}:{}\r\n",
                url.host_str().unwrap(),
                url.port().unwrap()
            );
        }
        for (k, v) in headers {
            head += &format!("{k}: {v}\r\n");
        }
        s.write_all(format!("{head}\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        (out[9..12].parse().unwrap(), out)
    }

    async fn get(uri: &str) -> (u16, String) {
        get_with(uri, &[]).await
    }

    #[tokio::test]
    async fn only_the_redirect_with_the_sign_ins_state_completes_it() {
        let l = Listener::bind(&RedirectTarget::parse(None).unwrap())
            .await
            .unwrap();
        let base = l.redirect_uri().to_owned();
        assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/callback"));
        let port: u16 = base[17..base.len() - 9].parse().unwrap();
        // Before the sign-in's state is known, nothing completes it.
        assert_eq!(get(&format!("{base}?code=early&state=s-1")).await.0, 400);
        l.expect_state("s-1");
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
        let good = format!("{base}?code=abc&state=s-1");
        let rebound = format!("evil.example:{port}");
        for (what, uri, headers, status) in [
            ("no state", format!("{base}?code=abc"), vec![], 400),
            (
                "a wrong state",
                format!("{base}?code=abc&state=s-2"),
                vec![],
                400,
            ),
            (
                "an error without the state",
                format!("{base}?error=access_denied"),
                vec![],
                400,
            ),
            (
                "an error with a wrong state",
                format!("{base}?error=access_denied&state=x"),
                vec![],
                400,
            ),
            (
                "a page's fetch",
                good.clone(),
                vec![
                    ("Origin", "https://evil.example"),
                    ("Sec-Fetch-Mode", "cors"),
                ],
                403,
            ),
            (
                "a page's no-cors request",
                good.clone(),
                vec![("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")],
                403,
            ),
            (
                "a frame",
                good.clone(),
                vec![("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "iframe")],
                403,
            ),
            (
                "a rebound host name",
                good.clone(),
                vec![("Host", rebound.as_str())],
                421,
            ),
            ("no host", good.clone(), vec![("Host", "")], 421),
        ] {
            let (got, page) = get_with(&uri, &headers).await;
            assert_eq!(got, status, "{what}: {page}");
            assert!(!page.contains("received the sign-in"), "{what}");
        }
        // A POST, and bytes that are not HTTP.
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(
            format!("POST /callback?code=abc&state=s-1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 405"), "{out}");
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"\x16\x03\x01\x00\xa5garbage\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");

        // The browser's own navigation completes it.
        let browser = [
            ("Sec-Fetch-Mode", "navigate"),
            ("Sec-Fetch-Dest", "document"),
            ("Sec-Fetch-Site", "cross-site"),
        ];
        let (status, page) = get_with(&good, &browser).await;
        assert_eq!(status, 200);
        assert!(page.contains("close this tab"));
        assert_eq!(get(&format!("{base}?code=again&state=s-1")).await.0, 409);
        let cb = l
            .wait(Duration::from_secs(5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(cb.get("code"), Some("abc"));
        // The sign-in has ended: nothing listens any more.
        let mut closed = false;
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(closed, "the listener closes when the sign-in ends");
    }

    #[tokio::test]
    async fn a_provider_error_with_the_state_completes_the_sign_in() {
        let l = Listener::bind(&RedirectTarget::parse(None).unwrap())
            .await
            .unwrap();
        l.expect_state("s-1");
        let base = l.redirect_uri().to_owned();
        let (status, page) = get(&format!("{base}?error=access_denied&state=s-1")).await;
        assert_eq!(status, 200);
        assert!(page.contains("access_denied"), "{page}");
        let cb = l
            .wait(Duration::from_secs(5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(cb.get("error"), Some("access_denied"));
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
