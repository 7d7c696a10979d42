//! The reference platform server: API v1 of `docs/API.md` over SQLite or PostgreSQL.
//!
//! [`start`] opens the database (creating it and applying migrations), loads or creates the server key,
//! binds and serves in a task; it installs no tracing subscriber and prints nothing, so it can run under
//! a full-screen terminal app. [`cli::serve`] is the command-line wrapper that logs and prints.

pub mod cli;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod password;
pub mod routes;
pub mod service;
pub mod store;
pub mod totp;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use futures_util::future::BoxFuture;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::domain::SecretString;
pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::Keys;
pub use password::Passwords;
pub use store::{OpenedStore, SqliteStore, Store};

/// Request bodies larger than this get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Login challenges live this long (rule 7).
pub const CHALLENGE_TTL_S: i64 = 5 * 60;
/// Session tokens live this long (rule 7).
pub const SESSION_TTL_S: i64 = 12 * 60 * 60;
/// A pending enrollment lives this long (rule 3).
pub const ENROLLMENT_TTL_S: i64 = 10 * 60;
/// Longest username `user add` accepts.
pub const MAX_USERNAME_LEN: usize = 64;
/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What [`start`] needs. `Debug` hides a password in the database URL.
#[derive(Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    pub database_url: String,
    /// Shown in authenticator apps next to the account.
    pub issuer: String,
    /// The server key; optional for SQLite (then `<database file>.key`), required for PostgreSQL.
    pub key_file: Option<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("database_url", &store::redact_url(&self.database_url))
            .field("issuer", &self.issuer)
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// Everything a request handler needs; cheap to clone. Generic over the store, because a trait with
/// `async fn` cannot be a `dyn Store`; the server runs as `AppState<SqliteStore>` or
/// `AppState<PostgresStore>`.
pub struct AppState<S>(Arc<Services<S>>);

pub struct Services<S> {
    pub store: S,
    pub keys: Keys,
    pub issuer: String,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
}

// Not derived: that would ask for `S: Clone`, and the store is shared through the `Arc`.
impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Store> AppState<S> {
    pub fn new(store: S, keys: Keys, issuer: String, clock: Arc<dyn Clock>, passwords: Passwords) -> Self {
        Self(Arc::new(Services { store, keys, issuer, clock, passwords }))
    }

    /// Creates an account, as `usercenter user add` does.
    pub async fn create_user(&self, username: &str, password: &SecretString) -> anyhow::Result<()> {
        check_new_account(username, password)?;
        let hash = self.passwords.hash(password).await?;
        if !self.store.create_user(username, &hash, self.clock.unix()).await? {
            anyhow::bail!("the user {username:?} already exists");
        }
        Ok(())
    }
}

impl AppState<SqliteStore> {
    /// A state on a fresh in-memory SQLite database with a random key: for tests.
    pub async fn in_memory(clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let (backend, _) = store::SqliteBackend::connect("sqlite::memory:").await?;
        let store = SqliteStore::new(backend);
        Ok(Self::new(store, Keys::random(), "usercenter".into(), clock, Passwords::new(4)?))
    }
}

impl<S> std::ops::Deref for AppState<S> {
    type Target = Services<S>;

    fn deref(&self) -> &Services<S> {
        &self.0
    }
}

/// The API v1 router: every route, problem-JSON fallbacks for unknown paths and methods, the body limit,
/// and request logging (method, path, status and latency only: no headers, no bodies).
pub fn router<S: Store>(state: AppState<S>) -> Router {
    Router::new()
        .merge(routes::auth::router())
        .merge(routes::two_factor::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// A server serving in a background task. Dropping it also stops the server (without waiting).
pub struct RunningServer {
    addr: SocketAddr,
    /// Closes the store; built before serving, run after it (the store's type is not ours to name here).
    close_store: BoxFuture<'static, ()>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The address actually bound (the real port when `listen` had port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), then returns.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // The receiver is gone only if the server already stopped; the join below tells why.
        let _ = self.stop.send(());
        let served = match tokio::time::timeout(SHUTDOWN_GRACE, self.task).await {
            Ok(joined) => joined.context("the server task failed")?.context("the server failed"),
            Err(_) => Err(anyhow::anyhow!("requests still running after {} s", SHUTDOWN_GRACE.as_secs())),
        };
        // Bounded: close waits for connections still used by requests that outlived the grace period.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.close_store).await;
        served
    }
}

/// Opens the database, applies migrations, loads the key, binds and serves in a task.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// [`start`] with an injected clock, so tests can move time.
pub async fn start_with_clock(config: ServerConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningServer> {
    check_issuer(&config.issuer)?;
    if store::is_postgres_url(&config.database_url) && config.key_file.is_none() {
        // Refuse before connecting: the message then names the real problem.
        crypto::load_server_key(None, None, true)?;
    }
    let opened = store::open(&config.database_url).await?;
    let keys =
        crypto::load_server_key(config.key_file.as_deref(), opened.sqlite_file(), opened.is_postgres())?;
    let passwords = Passwords::new(Passwords::default_concurrency())?;
    let ServerConfig { listen, issuer, .. } = config;
    match opened {
        OpenedStore::Sqlite { store, .. } => {
            serve(AppState::new(store, keys, issuer, clock, passwords), listen).await
        }
        OpenedStore::Postgres(store) => {
            serve(AppState::new(store, keys, issuer, clock, passwords), listen).await
        }
    }
}

/// Binds `listen` and serves `state` in a task.
async fn serve<S: Store>(state: AppState<S>, listen: SocketAddr) -> anyhow::Result<RunningServer> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                // A dropped sender also stops the server.
                let _ = stopped.await;
            })
            .await
    });
    let close_store = Box::pin(async move { state.store.close().await });
    Ok(RunningServer { addr, close_store, stop, task })
}

/// Creates an account in the database at `database_url` (created and migrated if missing).
pub async fn create_user(database_url: &str, username: &str, password: &SecretString) -> anyhow::Result<()> {
    check_new_account(username, password)?;
    match store::open(database_url).await? {
        OpenedStore::Sqlite { store, .. } => create_user_in(&store, username, password).await,
        OpenedStore::Postgres(store) => create_user_in(&store, username, password).await,
    }
}

async fn create_user_in<S: Store>(store: &S, username: &str, password: &SecretString) -> anyhow::Result<()> {
    let hash = Passwords::new(1)?.hash(password).await;
    let created = match hash {
        Ok(hash) => store.create_user(username, &hash, SystemClock.unix()).await,
        Err(e) => Err(e),
    };
    store.close().await;
    anyhow::ensure!(created?, "the user {username:?} already exists");
    Ok(())
}

/// Support's reset for someone who lost both phone and backup codes: 2FA off, codes deleted, sessions
/// and login challenges revoked, the second-factor counter cleared.
pub async fn reset_two_factor(database_url: &str, username: &str) -> anyhow::Result<()> {
    match store::open(database_url).await? {
        OpenedStore::Sqlite { store, .. } => reset_two_factor_in(&store, username).await,
        OpenedStore::Postgres(store) => reset_two_factor_in(&store, username).await,
    }
}

async fn reset_two_factor_in<S: Store>(store: &S, username: &str) -> anyhow::Result<()> {
    let reset = store.reset_two_factor(username).await;
    store.close().await;
    anyhow::ensure!(reset?, "there is no user {username:?}");
    Ok(())
}

fn check_new_account(username: &str, password: &SecretString) -> anyhow::Result<()> {
    anyhow::ensure!(!username.is_empty(), "the username must not be empty");
    anyhow::ensure!(
        username.len() <= MAX_USERNAME_LEN,
        "the username must be at most {MAX_USERNAME_LEN} bytes long"
    );
    // A colon would split the authenticator's "ISSUER:ACCOUNT" label; whitespace and control
    // characters make names that look alike.
    anyhow::ensure!(
        !username.chars().any(|c| c == ':' || c.is_whitespace() || c.is_control()),
        "the username must not contain a colon, spaces or control characters"
    );
    anyhow::ensure!(!password.is_empty(), "the password must not be empty");
    Ok(())
}

fn check_issuer(issuer: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!issuer.trim().is_empty(), "the issuer must not be empty");
    anyhow::ensure!(
        !issuer.contains(':'),
        "the issuer must not contain a colon (it separates issuer and account)"
    );
    Ok(())
}
