//! # tokendesk-sandbox — a local demo authorization server
//!
//! **Demo only, not for production.** This crate runs a small OAuth 2.0 / OpenID Connect
//! authorization server on `127.0.0.1` so that TokenDesk has something to talk to on a first
//! run, in demos and in tests. Its clients and their secrets are published constants, its only
//! user is approved by pressing a button, its signing key (and the bank's demo TPP key) is
//! regenerated at every start and everything it knows lives in memory. Never put it in front of
//! anything real.
//!
//! One server answers as three issuers, one per response [`Style`]:
//!
//! * `{base}/standard` — plain RFC 6749 / OIDC: JWT access tokens, numbers as JSON numbers;
//! * `{base}/gateway` — imitates an Apigee-based bank API gateway: opaque access tokens,
//!   every number as a JSON string, epoch times in milliseconds, `token_type: "BearerToken"`,
//!   `refresh_count`, `status`, `api_product_list`, and `{"ErrorCode","Error"}` error bodies;
//! * `{base}/bank` — "Sandbox bank", imitating OP Financial Group's PSD2 APIs for one TPP client
//!   ([`BANK_CLIENT`]): `x-api-key` on every back-channel call, consents and payments (a
//!   detached JWS over the body) that register an `authorizationId`, sign-in only with a request
//!   object signed PS256 by the TPP's key whose claims name that `authorizationId`, the hybrid
//!   `code id_token` answered in the fragment, the JWT-bearer grant, and the demo accounts for
//!   tokens given for a registered authorization. The TPP's private key, a demo key made at
//!   each start, is [`Sandbox::bank_tpp_key_pem`];
//! * `{base}/fapi` — "Sandbox FAPI 2.0", a FAPI 2.0 Security Profile authorization server for
//!   one client ([`FAPI_CLIENT`]): pushed authorization requests only (`/authorize` takes
//!   `client_id` and `request_uri` and nothing else), PKCE S256, `private_key_jwt` with the issuer
//!   as the only audience, DPoP-bound tokens (`token_type: "DPoP"`, `cnf.jkt`) with server
//!   nonces and single-use proofs, PS256-signed ID tokens, `iss` in the response. The client's
//!   private key, a demo key made at each start, is [`Sandbox::fapi_client_key_pem`].
//!
//! Each issuer serves discovery (`/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server`), a JWKS, `/authorize` (authorization code with
//! PKCE S256 required, a one-page demo login), `/token` (client credentials, authorization code,
//! refresh token with rotation), `/revoke` (RFC 7009), `/introspect` (RFC 7662) and `/userinfo`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tokendesk_sandbox::Error> {
//! use tokendesk_sandbox::{Sandbox, SandboxOptions, Style};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?;
//! println!("discovery: {}/.well-known/openid-configuration", sandbox.issuer(Style::Standard));
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The demo clients are [`CC_CLIENT`], [`WEB_CLIENT`], [`PUBLIC_CLIENT`], at the bank only
//! [`BANK_CLIENT`] and at the FAPI issuer only [`FAPI_CLIENT`] (all described in
//! [`DEMO_CLIENTS`]); the demo clients that redirect accept any
//! loopback redirect URI (`http://127.0.0.1:ANY/…`, `http://[::1]:ANY/…`,
//! `http://localhost:ANY/…`).

mod api;
mod authorize;
mod bank;
mod client_auth;
mod client_key;
mod clients;
mod discovery;
mod fapi;
mod id_token;
mod introspect;
mod keys;
mod oauth_error;
mod pages;
mod params;
mod pkce;
#[cfg(feature = "presets")]
pub mod presets;
mod random;
mod revoke;
mod routes;
mod state;
mod style;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use api::{API_PATH, API_SCOPE};
pub use bank::{
    BANK_ACCOUNTS_PATH, BANK_ACR_SCA, BANK_CONSENTS_PATH, BANK_PAYMENTS_PATH, BANK_TPP_KID,
};
pub use clients::{
    BANK_CLIENT, BANK_SCOPES, CC_CLIENT, CC_SCOPES, DEMO_CLIENTS, DEMO_USER, DemoClient, DemoUser,
    FAPI_CLIENT, FAPI_SCOPES, PUBLIC_CLIENT, SUPPORTED_SCOPES, USER_SCOPES, WEB_CLIENT,
};
pub use fapi::FAPI_CLIENT_KID;
pub use style::Style;

/// How long [`Sandbox::shutdown`] waits for open connections before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Settings for [`Sandbox::start`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Lifetime of access tokens (default 120 s).
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens, renewed at each rotation (default 900 s).
    pub refresh_ttl: Duration,
    /// Lifetime of ID tokens (default 120 s).
    pub id_ttl: Duration,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            access_ttl: Duration::from_secs(120),
            refresh_ttl: Duration::from_secs(900),
            id_ttl: Duration::from_secs(120),
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened (port taken, no permission…).
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// An RSA key (the signing key, the bank's TPP key, the FAPI client's key) could not be
    /// generated.
    #[error("could not generate an RSA key: {0}")]
    KeyGeneration(String),
}

/// A running sandbox server. Dropping it stops the server too; [`Sandbox::shutdown`] also
/// waits until it has stopped.
pub struct Sandbox {
    base_url: String,
    bank_tpp_key_pem: String,
    fapi_client_key_pem: String,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Sandbox {
    /// Generates the signing key and the demo clients' keys (the bank's TPP, the FAPI client;
    /// side by side), binds 127.0.0.1 and starts serving in the background.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, Error> {
        let started = Instant::now();
        let blocking_failed = |e: tokio::task::JoinError| Error::KeyGeneration(e.to_string());
        let (key, tpp, fapi) = tokio::join!(
            tokio::task::spawn_blocking(keys::SigningKey::generate),
            tokio::task::spawn_blocking(|| client_key::ClientKey::generate(BANK_TPP_KID)),
            tokio::task::spawn_blocking(|| client_key::ClientKey::generate(FAPI_CLIENT_KID)),
        );
        let (key, tpp, fapi) = (
            key.map_err(blocking_failed)??,
            tpp.map_err(blocking_failed)??,
            fapi.map_err(blocking_failed)??,
        );
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "RSA keys generated"
        );
        let bank_tpp_key_pem = tpp.pem().to_owned();
        let fapi_client_key_pem = fapi.pem().to_owned();

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|source| Error::Bind {
                port: opts.port,
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| Error::Bind {
                port: opts.port,
                source,
            })?
            .port();
        let base_url = format!("http://127.0.0.1:{port}");

        let shared = Arc::new(state::Shared::new(
            base_url.clone(),
            &opts,
            key,
            state::ClientKeys { tpp, fapi },
        ));
        let router = routes::router(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, router).with_graceful_shutdown(async move {
                // Resolves on an explicit stop and when the `Sandbox` is dropped.
                let _ = stopped.await;
            });
            if let Err(e) = serving.await {
                tracing::error!(error = %e, "tokendesk-sandbox stopped with an error");
            }
        });

        tracing::warn!(
            base = %base_url,
            "TokenDesk sandbox authorization server listening: demo only, not for production"
        );
        Ok(Sandbox {
            base_url,
            bank_tpp_key_pem,
            fapi_client_key_pem,
            stop,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The issuer identifier of one response style: `{base}/standard`, `{base}/gateway`,
    /// `{base}/bank` or `{base}/fapi`.
    pub fn issuer(&self, style: Style) -> String {
        format!("{}/{}", self.base_url, style.path())
    }

    /// The private key of the bank's TPP client ([`BANK_CLIENT`]), PKCS#8 PEM: the key that
    /// signs its request objects, JWT-bearer assertions and payment bodies (`kid`
    /// [`BANK_TPP_KID`], PS256). **A demo key**, made at this start and handed out to anyone
    /// who asks, like the demo secrets; a new start makes a new one.
    pub fn bank_tpp_key_pem(&self) -> &str {
        &self.bank_tpp_key_pem
    }

    /// The private key of the FAPI issuer's client ([`FAPI_CLIENT`]), PKCS#8 PEM: what signs its
    /// `private_key_jwt` assertions (`kid` [`FAPI_CLIENT_KID`], PS256). **A demo key**, made at
    /// this start and handed out to anyone who asks; a new start makes a new one.
    pub fn fapi_client_key_pem(&self) -> &str {
        &self.fapi_client_key_pem
    }

    /// Stops accepting connections and waits (briefly) for open ones to finish.
    pub async fn shutdown(self) {
        let Sandbox { stop, server, .. } = self;
        let _ = stop.send(());
        let abort = server.abort_handle();
        if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
            abort.abort();
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}
