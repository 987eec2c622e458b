//! The client notification endpoint of a CIBA sign-in in ping mode (CIBA Core §10.2): a
//! loopback listener that takes the provider's `POST {"auth_req_id": …}` carrying
//! `Authorization: Bearer <client_notification_token>`. Only a notification with the sign-in's
//! own token (compared in constant time) and its own `auth_req_id` counts; anything else is
//! answered 401 / 400 and reported as ignored, so the wait goes on.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::error::{Error, ErrorCode, Result};
use crate::secret::Sensitive;

/// Longest request head and body a notification may have.
const HEAD_LIMIT: usize = 16 * 1024;
const BODY_LIMIT: usize = 16 * 1024;

/// What arrived at the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ping {
    /// The provider's notification for this sign-in: poll now.
    Valid,
    /// Something else, ignored; why, for the log (never the token it carried).
    Ignored(String),
}

/// A listening notification endpoint; stops listening when dropped.
pub struct PingListener {
    pings: mpsc::Receiver<Ping>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The endpoint's socket, bound before the request is sent (a ping can come at once; it waits
/// in the backlog until [`PingSocket::serve`]).
pub struct PingSocket(TcpListener);

impl PingSocket {
    pub async fn bind(addr: SocketAddr) -> Result<Self> {
        TcpListener::bind(addr).await.map(Self).map_err(|e| {
            Error::new(
                ErrorCode::Conflict,
                format!(
                    "TokenDesk cannot listen for the provider's ping on {addr} ({e}): another \
                     program (or another sign-in) uses the port. Close it, or use poll mode."
                ),
            )
        })
    }

    /// Takes notifications to `path` with the bearer `token` about `auth_req_id`.
    pub fn serve(
        self,
        path: String,
        token: Sensitive<String>,
        auth_req_id: Sensitive<String>,
    ) -> PingListener {
        let listener = self.0;
        let (tx, rx) = mpsc::channel(16);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let ping = serve(&mut stream, &path, &token, &auth_req_id).await;
                if tx.send(ping).await.is_err() {
                    return;
                }
            }
        });
        PingListener { pings: rx, task }
    }
}

impl PingListener {
    /// The next notification (valid or ignored).
    pub async fn next(&mut self) -> Ping {
        match self.pings.recv().await {
            Some(p) => p,
            None => std::future::pending().await,
        }
    }
}

async fn serve(
    stream: &mut TcpStream,
    path: &str,
    token: &Sensitive<String>,
    auth_req_id: &Sensitive<String>,
) -> Ping {
    let (status, ping) = match read(stream).await {
        Err(why) => (400, Ping::Ignored(why)),
        Ok(req) => judge(&req, path, token, auth_req_id),
    };
    let reason = match status {
        204 => "No Content",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let extra = if status == 401 {
        "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.shutdown().await;
    ping
}

/// A notification as read: method, path, bearer token, body.
struct Request {
    method: String,
    path: String,
    bearer: Option<String>,
    body: Vec<u8>,
}

/// Whether a request is this sign-in's notification, and the status to answer.
fn judge(
    req: &Request,
    path: &str,
    token: &Sensitive<String>,
    auth_req_id: &Sensitive<String>,
) -> (u16, Ping) {
    if req.method != "POST" || req.path.split('?').next() != Some(path) {
        return (
            404,
            Ping::Ignored(format!("a {} request to {}", req.method, req.path)),
        );
    }
    let Some(bearer) = &req.bearer else {
        return (
            401,
            Ping::Ignored("a notification without a bearer token".into()),
        );
    };
    if !constant_time_eq(bearer.as_bytes(), token.expose().as_bytes()) {
        return (
            401,
            Ping::Ignored(
                "a notification with the wrong client_notification_token (not the one this \
                 sign-in sent)"
                    .into(),
            ),
        );
    }
    let id = serde_json::from_slice::<serde_json::Value>(&req.body)
        .ok()
        .and_then(|v| v.get("auth_req_id")?.as_str().map(str::to_owned));
    match id {
        Some(id) if constant_time_eq(id.as_bytes(), auth_req_id.expose().as_bytes()) => {
            (204, Ping::Valid)
        }
        Some(_) => (
            400,
            Ping::Ignored("a notification about another auth_req_id".into()),
        ),
        None => (
            400,
            Ping::Ignored("a notification without an auth_req_id in a JSON body".into()),
        ),
    }
}

/// Equal, in a time that does not depend on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn read(stream: &mut TcpStream) -> std::result::Result<Request, String> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    let timeout = std::time::Duration::from_secs(5);
    loop {
        let n = tokio::time::timeout(timeout, stream.read(&mut chunk))
            .await
            .map_err(|_| "a request that did not arrive in time".to_owned())?
            .map_err(|e| format!("a broken connection ({e})"))?;
        if n == 0 {
            return Err("a connection closed before a whole request".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
                };
                let length: usize = header("content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                if length > BODY_LIMIT {
                    return Err("a notification body too large".into());
                }
                let bearer = header("authorization").and_then(|a| {
                    let (scheme, value) = a.split_once(' ')?;
                    scheme
                        .eq_ignore_ascii_case("bearer")
                        .then(|| value.trim().to_owned())
                });
                let method = req.method.unwrap_or_default().to_owned();
                let path = req.path.unwrap_or("/").to_owned();
                let mut body = buf[head_len..].to_vec();
                while body.len() < length {
                    let n = tokio::time::timeout(timeout, stream.read(&mut chunk))
                        .await
                        .map_err(|_| "a body that did not arrive in time".to_owned())?
                        .map_err(|e| format!("a broken connection ({e})"))?;
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body.truncate(length);
                return Ok(Request {
                    method,
                    path,
                    bearer,
                    body,
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < HEAD_LIMIT => continue,
            _ => return Err("bytes that are not an HTTP request".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(addr: SocketAddr, raw: String) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    fn post(path: &str, bearer: &str, body: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bearer}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn only_the_right_token_and_request_count() {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let mut l = PingSocket::bind(addr).await.unwrap().serve(
            "/ciba".into(),
            Sensitive::new("right-token".into()),
            Sensitive::new("req-1".into()),
        );
        let answer = send(
            addr,
            post("/ciba", "wrong-token", r#"{"auth_req_id":"req-1"}"#),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        match l.next().await {
            Ping::Ignored(why) => {
                assert!(why.contains("wrong client_notification_token"), "{why}");
                assert!(
                    !why.contains("wrong-token"),
                    "the token is never repeated: {why}"
                );
            }
            other => panic!("{other:?}"),
        }
        let answer = send(
            addr,
            post("/ciba", "right-token", r#"{"auth_req_id":"other"}"#),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(matches!(l.next().await, Ping::Ignored(_)));
        let answer = send(addr, post("/elsewhere", "right-token", "{}")).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        assert!(matches!(l.next().await, Ping::Ignored(_)));
        let answer = send(
            addr,
            post("/ciba", "right-token", r#"{"auth_req_id":"req-1"}"#),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
        assert_eq!(l.next().await, Ping::Valid);
    }
}
