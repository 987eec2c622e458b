//! The token agent: whoever holds a [`Core`] — the running app, or a small `tokendesk agent`
//! process the command line starts on demand — serves token values from memory to `tokendesk
//! token` over a UNIX socket only this user can reach (the socket is in a 0700 directory, mode
//! 0600, and every peer's uid is checked). A cached token then costs a process start and one
//! socket round trip instead of a keychain (D-Bus) round trip.
//!
//! One server per TokenDesk home: the first to bind the socket serves, the other one leaves it
//! be. Everything it answers goes through the core: single-flight refresh, the same store, the
//! same keychain — and in the app, the same events, so the window shows what a script fetched.

#![cfg(unix)]

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::Core;
use crate::connections::{Admitted, Connections};
use crate::error::{Error, ErrorCode};
use crate::history::Trigger;
use crate::secret::SecretKind;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::time::Instant;

/// The most connections the agent holds at once. Each is a descriptor; a process of this user
/// opening thousands that never write must not use them all up (see [`Connections`]: the
/// oldest silent one makes way for a new one).
const MAX_CONNECTIONS: usize = 128;
/// A client sends its request line right after connecting; one that has not sent it within
/// this time is dropped.
const REQUEST_DEADLINE: Duration = Duration::from_secs(2);

pub use tokendesk_door::protocol::{PROTOCOL, Request, Response, other_version};

pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join(tokendesk_door::protocol::SOCKET)
}

/// Workspaces the agent was asked about that its owner did not open: each synced when first
/// named, then watched while the agent runs (a `git pull` shows up as in the app).
struct Named {
    /// The folders already open: the owner's (watched by it) and those named since.
    known: Mutex<Vec<PathBuf>>,
    watches: Mutex<Vec<crate::workspace::watch::WorkspaceWatch>>,
}

impl Named {
    fn new(core: &Core) -> Self {
        let known = core
            .workspace_dirs(&[])
            .into_iter()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d))
            .collect();
        Self {
            known: Mutex::new(known),
            watches: Mutex::new(Vec::new()),
        }
    }

    /// Opens and watches the folders of `dirs` not open yet.
    fn open(&self, core: &Arc<Core>, dirs: &[String]) {
        let fresh: Vec<PathBuf> = {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            dirs.iter()
                .map(PathBuf::from)
                .filter(|d| {
                    let new = !known.contains(d);
                    if new {
                        known.push(d.clone());
                    }
                    new
                })
                .collect()
        };
        if fresh.is_empty() {
            return;
        }
        for status in core.open_workspaces(&fresh) {
            tracing::info!(workspace = %status.dir, files = status.files.len(), "workspace opened for a caller");
        }
        match crate::workspace::watch::WorkspaceWatch::start(core.clone(), fresh) {
            Ok(w) => self
                .watches
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(w),
            Err(e) => tracing::warn!(error = %e, "workspace not watched"),
        }
    }
}

/// Serves until the socket is removed, or — with `idle` — until no request came for that long.
/// When another server already answers on this home's socket, returns a `Conflict` error.
pub async fn serve(core: Arc<Core>, idle: Option<Duration>) -> Result<(), Error> {
    let run_dir = core.home().run_dir();
    let local = |e: std::io::Error| {
        Error::new(
            ErrorCode::Storage,
            format!("The agent cannot use {}: {e}.", run_dir.display()),
        )
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&run_dir)
        .map_err(local)?;
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).map_err(local)?;
    let path = socket_path(&run_dir);
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(Error::new(
                ErrorCode::Conflict,
                "Another TokenDesk process (the app, or a `tokendesk agent`) already serves tokens \
                 for this TokenDesk home.",
            ));
        }
        std::fs::remove_file(&path).map_err(local)?;
    }
    // Bound under a temporary name and made user-only before it appears under its real name,
    // so no client ever sees it with looser permissions.
    let staging = run_dir.join(format!("agent.{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let listener = UnixListener::bind(&staging).map_err(local)?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600)).map_err(local)?;
    std::fs::rename(&staging, &path).map_err(local)?;
    let owner = std::fs::metadata(&path).map_err(local)?.uid();
    tracing::info!(socket = %path.display(), "token agent listening");
    let connections = Connections::new(MAX_CONNECTIONS);
    let named = Arc::new(Named::new(&core));
    let last_request = Arc::new(Mutex::new(Instant::now()));
    let idle_for = || {
        last_request
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
    };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = tick.tick() => {
                // Idle long enough, or the socket (or the whole home) was removed: stop.
                if idle.is_some_and(|idle| idle_for() >= idle) || !path.exists() {
                    break;
                }
                continue;
            }
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                connections.accept_failed(&e).await;
                continue;
            }
        };
        // Only this user's processes count, and only once they send a valid request (so a
        // connection alone neither keeps the agent alive nor holds a place for long).
        match stream.peer_cred() {
            Ok(c) if c.uid() == owner => {}
            _ => continue,
        }
        let admitted = connections.admit().await;
        let core = core.clone();
        let socket = path.clone();
        let last_request = last_request.clone();
        let named = named.clone();
        tokio::spawn(async move {
            let _ = handle(stream, &core, &named, &socket, admitted, &last_request).await;
        });
        // The new connection's request is usually there already: let it be read before the next
        // accept, so a flood of new connections cannot evict it first.
        tokio::task::yield_now().await;
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

async fn handle(
    stream: UnixStream,
    core: &Arc<Core>,
    named: &Named,
    socket: &Path,
    mut admitted: Admitted,
    last_request: &Mutex<Instant>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut bytes = Vec::new();
    let mut reader = tokio::io::BufReader::new(read);
    let read = admitted
        .request(reader.take_line(&mut bytes), REQUEST_DEADLINE)
        .await;
    let Some(read) = read else {
        return Ok(()); // too slow, or its place was given to a newer connection
    };
    read?;
    // Bytes that are not text are a line that is not a request, answered like any other.
    let line = String::from_utf8_lossy(&bytes);
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(r) if r.protocol == PROTOCOL => {
            *last_request.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            named.open(core, &r.workspaces);
            answer(core, &r).await
        }
        _ => {
            if other_version(&line) {
                // A newer (or older) tokendesk asks: this agent is outdated for it. Give the
                // socket up now (the loop then ends), so that caller starts a current agent
                // instead of finding this one in the way on every call.
                tracing::info!("a client of another version asked; the agent stops");
                let _ = std::fs::remove_file(socket);
            }
            Response::Mismatch
        }
    };
    write.write_all(&response.line()).await
}

trait TakeLine {
    async fn take_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<usize>;
}

impl<R: tokio::io::AsyncRead + Unpin> TakeLine for tokio::io::BufReader<R> {
    /// One request line, at most 4 KiB.
    async fn take_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<usize> {
        let mut limited = tokio::io::AsyncReadExt::take(self, 4096);
        limited.read_until(b'\n', line).await
    }
}

async fn answer(core: &Core, r: &Request) -> Response {
    if r.refresh {
        return refresh_answer(core, r).await;
    }
    let result = async {
        let profile = core.profile(&r.profile)?;
        let set = core
            .ensure_token(
                &profile.id,
                Duration::from_secs(r.min_valid_secs),
                Trigger::CommandLine,
            )
            .await?;
        let (kind, expires_at) = if r.id_token {
            (SecretKind::IdToken, set.id_token_expires_at)
        } else {
            (SecretKind::AccessToken, set.access_expires_at)
        };
        // The core keeps the values it wrote or read in memory while the store names them.
        let value = core.reveal(&profile.id, kind).await?;
        let header = match &r.header {
            Some(target) => Some(
                core.authorization_header(&profile.id, target.as_deref())
                    .await?
                    .header_lines(),
            ),
            None => None,
        };
        Ok::<_, Error>((value, set.token_type, expires_at, header))
    }
    .await;
    match result {
        Ok((value, token_type, expires_at, header)) => Response::Token {
            token: value.into_inner(),
            token_type,
            expires_at,
            header,
        },
        Err(e) => Response::Error {
            code: e.code.name(),
            message: e.message,
        },
    }
}

async fn refresh_answer(core: &Core, r: &Request) -> Response {
    let result = async {
        let profile = core.profile(&r.profile)?;
        let set = core.refresh(&profile.id, Trigger::CommandLine).await?;
        Ok::<_, Error>((profile.config.name, set))
    }
    .await;
    match result {
        Ok((name, set)) => Response::Refreshed {
            name,
            expires_at: set.access_expires_at,
            now: core.now(),
            refresh_count: set.refresh_count,
        },
        Err(e) => Response::Error {
            code: e.code.name(),
            message: e.message,
        },
    }
}
