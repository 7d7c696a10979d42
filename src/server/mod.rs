//! The reference platform server: API v1 (and v1.1's hardening) of `docs/API.md` over SQLite or
//! PostgreSQL.
//!
//! [`start`] opens the database (creating it and applying migrations), loads or creates the server key
//! and checks it against the database, binds and serves in a task; it installs no tracing subscriber and
//! prints nothing, so it can run under a full-screen terminal app. [`cli::serve`] is the command-line
//! wrapper that logs and prints.

pub mod address;
pub mod admin;
pub mod cli;
pub mod clock;
pub mod crypto;
pub mod delivery;
pub mod error;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod service;
pub mod store;
pub mod totp;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::future::BoxFuture;

use crate::domain::SecretString;
pub use address::TrustedProxies;
pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::Keys;
pub use delivery::EventsLogTarget;
pub use password::Passwords;
use rate_limit::AnonymousLimit;
pub use store::{Missing, OpenedStore, SqliteStore, Store, Unlock};

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
/// Passwords `user add` and `user set-password` accept: 8 to 128 characters (API v1.1).
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Default of `--events-retention-days`.
pub const DEFAULT_EVENTS_RETENTION_DAYS: u32 = 90;
/// Default of `--anonymous-rate` (rule 9): requests per second per client address.
pub const DEFAULT_ANONYMOUS_RATE: u32 = 10;
/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often expired sessions and challenges and idle throttle rows are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);
/// Retry-After of a 503 for a full password-hashing queue.
const HASHING_BUSY_RETRY: Duration = Duration::from_secs(1);

/// What [`start`] needs; [`ServerConfig::default`] has the command line's defaults. `Debug` hides a
/// password in the database URL.
#[derive(Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `sqlite://PATH`, `sqlite::memory:` or `postgres://…`.
    pub database_url: String,
    /// Shown in authenticator apps next to the account.
    pub issuer: String,
    /// The server key; optional for SQLite (then `<database file>.key`), required for PostgreSQL.
    pub key_file: Option<PathBuf>,
    /// Peers whose `X-Forwarded-For` names the client address (v1.1).
    pub trusted_proxies: TrustedProxies,
    /// Rule 9: login and second-factor requests per second per client address (bursts of 5×); 0 is off.
    pub anonymous_rate: u32,
    /// Rule 13: open connections per client address (trusted proxies exempt).
    pub max_connections_per_address: u32,
    /// Events older than this many days are purged.
    pub events_retention_days: u32,
    /// Every event also goes out as an ECS JSON line here.
    pub events_log: Option<EventsLogTarget>,
    /// Factor changes are POSTed here.
    pub notify_webhook: Option<reqwest::Url>,
    /// Prometheus metrics are served at `http://ADDR/metrics` here; `None`: off.
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: cli::DEFAULT_DATABASE_URL.to_owned(),
            issuer: "usercenter".to_owned(),
            key_file: None,
            trusted_proxies: TrustedProxies::default(),
            anonymous_rate: DEFAULT_ANONYMOUS_RATE,
            max_connections_per_address: http::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            events_retention_days: DEFAULT_EVENTS_RETENTION_DAYS,
            events_log: None,
            notify_webhook: None,
            metrics_listen: None,
        }
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("database_url", &store::redact_url(&self.database_url))
            .field("issuer", &self.issuer)
            .field("key_file", &self.key_file)
            .field("trusted_proxies", &self.trusted_proxies.to_string())
            .field("anonymous_rate", &self.anonymous_rate)
            .field("max_connections_per_address", &self.max_connections_per_address)
            .field("events_retention_days", &self.events_retention_days)
            .field("events_log", &self.events_log)
            // The URL may hold a secret (a token in its path or query).
            .field(
                "notify_webhook",
                &self.notify_webhook.as_ref().map(|url| url.origin().ascii_serialization()),
            )
            .field("metrics_listen", &self.metrics_listen)
            .finish()
    }
}

/// How requests are attributed and limited: the trusted proxies and the anonymous rate (rule 9).
#[derive(Clone, Debug, Default)]
pub struct RequestLimits {
    pub trusted_proxies: TrustedProxies,
    /// 0 (the default here, for embedding and tests) is off; the command line's default is
    /// [`DEFAULT_ANONYMOUS_RATE`].
    pub anonymous_rate: u32,
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
    pub trusted_proxies: TrustedProxies,
    /// Rule 9, in memory: each server process keeps its own budgets.
    pub anonymous: AnonymousLimit,
    /// `None` when metrics are off: nothing is counted then.
    pub metrics: Option<Arc<metrics::Metrics>>,
}

// Not derived: that would ask for `S: Clone`, and the store is shared through the `Arc`.
impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Store> AppState<S> {
    pub fn new(
        store: S,
        keys: Keys,
        issuer: String,
        clock: Arc<dyn Clock>,
        passwords: Passwords,
        limits: RequestLimits,
    ) -> Self {
        Self::with_metrics(store, keys, issuer, clock, passwords, limits, None)
    }

    /// [`AppState::new`] that counts what it does in `metrics`.
    pub fn with_metrics(
        store: S,
        keys: Keys,
        issuer: String,
        clock: Arc<dyn Clock>,
        passwords: Passwords,
        limits: RequestLimits,
        metrics: Option<Arc<metrics::Metrics>>,
    ) -> Self {
        let RequestLimits { trusted_proxies, anonymous_rate } = limits;
        let anonymous = AnonymousLimit::new(anonymous_rate);
        Self(Arc::new(Services {
            store,
            keys,
            issuer,
            clock,
            passwords,
            trusted_proxies,
            anonymous,
            metrics,
        }))
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
        let (backend, _, _) = store::SqliteBackend::connect("sqlite::memory:", Missing::Create).await?;
        let store = SqliteStore::new(backend);
        let passwords = Passwords::new(4)?;
        Ok(Self::new(store, Keys::random(), "usercenter".into(), clock, passwords, RequestLimits::default()))
    }
}

impl<S> std::ops::Deref for AppState<S> {
    type Target = Services<S>;

    fn deref(&self) -> &Services<S> {
        &self.0
    }
}

/// The API v1 router: every route, the OpenAPI document, problem-JSON fallbacks for unknown paths and
/// methods, the body limit, the metrics (when on), request logging (method, path without the query,
/// status and latency only: no headers, no bodies) and, on every answer, the headers of rule 14.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let routes = Router::new()
        .merge(routes::auth::router())
        .merge(routes::two_factor::router())
        .merge(routes::activity::router())
        .route(openapi::PATH, axum::routing::get(openapi::openapi_json))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    let routes = match &state.metrics {
        Some(metrics) => {
            routes.layer(axum::middleware::from_fn_with_state(Arc::clone(metrics), metrics::track))
        }
        None => routes,
    };
    routes
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_request))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

/// The request log: one INFO event per request with the method, the path, the status and the latency.
/// The path only, since a query string may hold a token sent by mistake. No span: a span per request
/// (tower-http's `TraceLayer`) cost a fifth of `GET /v1/health`'s throughput at the default level.
async fn log_request(request: Request<Body>, next: Next) -> Response {
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        path = uri.path(),
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// Rule 14: answers carry secrets (tokens, TOTP secrets, backup codes): never cached, never sniffed.
async fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A server serving in a background task. Dropping it also stops the server (without waiting).
pub struct RunningServer {
    addr: SocketAddr,
    /// Where the metrics are served, when they are.
    metrics_addr: Option<SocketAddr>,
    /// The key file, when this start created it.
    created_key_file: Option<PathBuf>,
    /// The SQLite database file, when this start created it.
    created_database: Option<PathBuf>,
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

    /// The address the metrics are served at (`http://ADDR/metrics`), when `metrics_listen` was set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The key file this start created (rule 15: the operator must back it up with the database).
    pub fn created_key_file(&self) -> Option<&std::path::Path> {
        self.created_key_file.as_deref()
    }

    /// The SQLite database file this start created (v1.1: `serve` says so).
    pub fn created_database(&self) -> Option<&std::path::Path> {
        self.created_database.as_deref()
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
        crypto::load_server_key(None, None, true, false)?;
    }
    match http::raise_open_file_limit() {
        Ok((before, now)) if now > before => tracing::info!(before, now, "raised the open-file limit"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
    }
    anyhow::ensure!(config.events_retention_days >= 1, "the events retention must be at least 1 day");
    let opened = store::open(&config.database_url, Missing::Create).await?;
    let created = opened.created_file().map(std::path::Path::to_path_buf);
    let mut running = match opened {
        OpenedStore::Sqlite { store, file, .. } => start_on(store, file, config, clock).await,
        OpenedStore::Postgres(store) => start_on(store, None, config, clock).await,
    }?;
    running.created_database = created;
    Ok(running)
}

/// The rest of [`start_with_clock`] on an opened store, which it closes if the start fails.
async fn start_on<S: Store>(
    store: S,
    sqlite_file: Option<PathBuf>,
    config: ServerConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningServer> {
    let prepared = async {
        let is_postgres = store::is_postgres_url(&config.database_url);
        let recorded = store.key_check().await.context("cannot read the database's key check value")?;
        let key = crypto::load_server_key(
            config.key_file.as_deref(),
            sqlite_file.as_deref(),
            is_postgres,
            recorded.is_none(),
        )?;
        check_key(&store, &key, recorded, &config.database_url).await?;
        if let Some(file) = &sqlite_file {
            warn_if_shared(file);
        }
        let passwords = Passwords::new(Passwords::default_concurrency())?;
        let delivery = delivery::Delivery::new(config.events_log.as_ref(), config.notify_webhook.as_ref())?;
        anyhow::Ok((key, passwords, delivery))
    };
    let (key, passwords, delivery) = match prepared.await {
        Ok(prepared) => prepared,
        Err(error) => {
            store.close().await;
            return Err(error);
        }
    };
    let limits = RequestLimits {
        trusted_proxies: config.trusted_proxies.clone(),
        anonymous_rate: config.anonymous_rate,
    };
    let metrics = config.metrics_listen.map(|_| Arc::new(metrics::Metrics::new()));
    let state = AppState::with_metrics(store, key.keys, config.issuer, clock, passwords, limits, metrics);
    let connections = http::ConnectionLimits {
        max_per_address: config.max_connections_per_address,
        trusted_proxies: config.trusted_proxies,
    };
    let background = Background { delivery, events_retention_days: config.events_retention_days };
    let listen = Listen { api: config.listen, metrics: config.metrics_listen };
    let mut running = serve(state, listen, connections, background).await?;
    running.created_key_file = key.file.filter(|_| key.created);
    Ok(running)
}

/// Where the API and the metrics are served.
struct Listen {
    api: SocketAddr,
    metrics: Option<SocketAddr>,
}

/// What a server does besides answering requests.
struct Background {
    delivery: delivery::Delivery,
    events_retention_days: u32,
}

/// Rule 15: the key must be the one the database was set up with. A database without a check value
/// (new, or from before it existed) records this key's, after checking it against an encrypted TOTP
/// secret if there is one.
async fn check_key<S: Store>(
    store: &S,
    key: &crypto::ServerKey,
    recorded: Option<Vec<u8>>,
    database_url: &str,
) -> anyhow::Result<()> {
    let mismatch = || {
        let file = key.file.as_ref().map_or_else(|| "(none)".to_owned(), |file| file.display().to_string());
        anyhow::anyhow!(
            "the key file {file} does not belong to the database {}: the database was set up with another \
             key. Start the server with the key file backed up together with this database (--key-file PATH \
             or USERCENTER_KEY_FILE); if that key is lost, see \"The server key\" in docs/server.md",
            store::redact_url(database_url)
        )
    };
    let recorded = match recorded {
        Some(value) => value,
        None => {
            if let Some((user_id, sealed)) = store.any_sealed_secret().await? {
                key.keys.decrypt_secret(user_id, &sealed).map_err(|_| mismatch())?;
            }
            store.record_key_check(key.keys.check_value()).await?
        }
    };
    anyhow::ensure!(recorded == key.keys.check_value(), mismatch());
    Ok(())
}

/// A database file others may read is not refused (its secrets are hashed or encrypted), but said.
fn warn_if_shared(file: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(file) {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %file.display(),
                    mode = format!("{mode:03o}"),
                    "the database file can be read by other users: run `chmod 600` on it (and its -wal and \
                     -shm files)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Binds `listen` and serves `state` in a task, with the periodic purge and the delivery of events
/// beside it.
async fn serve<S: Store>(
    state: AppState<S>,
    listen: Listen,
    limits: http::ConnectionLimits,
    background: Background,
) -> anyhow::Result<RunningServer> {
    let listener = bind(listen.api).await?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    let metrics_listener = match listen.metrics {
        Some(metrics) => Some(bind(metrics).await.context("cannot serve the metrics (--metrics-listen)")?),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(listener) => Some(listener.local_addr().context("cannot read the bound address")?),
        None => None,
    };
    let metrics_app = metrics::router(state.clone());
    let metrics_limits = http::ConnectionLimits {
        max_per_address: http::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        trusted_proxies: TrustedProxies::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let maintained = state.clone();
    let delivering = state.clone();
    let Background { delivery, events_retention_days } = background;
    let task = tokio::spawn(async move {
        let stopped = async move {
            // A dropped sender also stops the server.
            let _ = stopped.await;
        };
        // The purge and the delivery never end by themselves: they stop with the server (a delivery
        // cut short is taken up again after its lease).
        // The metrics stop with the API (their connections are short: one scrape each).
        let metrics = async move {
            match metrics_listener {
                Some(listener) => {
                    http::serve(listener, metrics_app, metrics_limits, std::future::pending()).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            served = http::serve(listener, app, limits, stopped) => served,
            served = metrics => served,
            () = purge_periodically(maintained, events_retention_days) => Ok(()),
            () = delivery.run(delivering) => Ok(()),
        }
    });
    let close_store = Box::pin(async move { state.store.close().await });
    Ok(RunningServer {
        addr,
        metrics_addr,
        created_key_file: None,
        created_database: None,
        close_store,
        stop,
        task,
    })
}

/// Binds `addr`, saying what to do when it is taken or not ours.
async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|error| match error.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {addr}: the address is already in use (another server, or an earlier one \
             still running); stop it or choose another port"
        ),
        std::io::ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "cannot listen on {addr}: no network interface of this machine has that address; use \
             127.0.0.1, 0.0.0.0 or one of this machine's addresses"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {addr}: permission denied (ports below 1024 need privileges); use a port \
             from 1024 up behind a reverse proxy"
        ),
        _ => anyhow::anyhow!("cannot listen on {addr}: {error}"),
    })
}

/// Deletes expired sessions and challenges, idle throttle rows (rule 11) and events older than the
/// retention at start and every [`PURGE_EVERY`]; each server process does it, which is harmless.
async fn purge_periodically<S: Store>(state: AppState<S>, events_retention_days: u32) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = state.clock.unix();
        let events_before = now - i64::from(events_retention_days) * 24 * 60 * 60;
        match state.store.purge_expired(now, events_before).await {
            Ok(purged) => {
                tracing::debug!(?purged, "purged expired rows");
                if purged.undelivered > 0 {
                    tracing::error!(
                        events = purged.undelivered,
                        retention_days = events_retention_days,
                        "dropped events older than the retention that were never delivered to the events \
                         log or the webhook"
                    );
                }
            }
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "cannot purge expired rows"),
        }
    }
}

/// `~` or `~/…` at the start of `path` expanded to the home folder (`HOME`), for paths given where no
/// shell expands them: inside `sqlite://~/…`, in an environment variable, after `--key-file=`.
pub fn expand_home(path: &str) -> anyhow::Result<PathBuf> {
    let Some(rest) = path.strip_prefix('~') else { return Ok(PathBuf::from(path)) };
    anyhow::ensure!(
        rest.is_empty() || rest.starts_with('/'),
        "{path}: only ~ and ~/… are understood, not ~user; give the full path"
    );
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty()).ok_or_else(|| {
        anyhow::anyhow!("{path}: cannot expand ~ because HOME is not set; give the full path")
    })?;
    Ok(PathBuf::from(home).join(rest.trim_start_matches('/')))
}

/// Creates an account in the database at `database_url` (created and migrated if missing).
pub async fn create_user(database_url: &str, username: &str, password: &SecretString) -> anyhow::Result<()> {
    check_new_account(username, password)?;
    let admin = admin::Admin::open(database_url, Missing::Create).await?;
    let created = admin.add_user(username, password).await;
    admin.close().await;
    anyhow::ensure!(created?, "the user {username:?} already exists");
    Ok(())
}

/// Support's reset for someone who lost both phone and backup codes: 2FA off, codes deleted, sessions
/// and login challenges revoked, the second-factor counter cleared; `two_factor_reset`.
pub async fn reset_two_factor(database_url: &str, username: &str) -> anyhow::Result<()> {
    let admin = admin::Admin::open(database_url, Missing::Refuse).await?;
    let reset = admin.reset_two_factor(username).await;
    admin.close().await;
    anyhow::ensure!(reset?, "there is no user {username:?}");
    Ok(())
}

/// `usercenter user unlock`: lifts rule 10's lock (and the second-factor back-off) of an account.
pub async fn unlock_second_factor(database_url: &str, username: &str) -> anyhow::Result<Unlock> {
    let admin = admin::Admin::open(database_url, Missing::Refuse).await?;
    let unlocked = admin.unlock(username).await;
    admin.close().await;
    let unlocked = unlocked?;
    anyhow::ensure!(unlocked != Unlock::NoSuchUser, "there is no user {username:?}");
    Ok(unlocked)
}

/// A password `user add` and `user set-password` accept: 8 to 128 characters.
pub fn check_password(password: &SecretString) -> anyhow::Result<()> {
    let chars = password.expose().chars().count();
    anyhow::ensure!(
        (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars),
        "the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long (it has {chars})"
    );
    Ok(())
}

fn check_new_account(username: &str, password: &SecretString) -> anyhow::Result<()> {
    if let Some(problem) = username_problem(username) {
        anyhow::bail!(problem);
    }
    anyhow::ensure!(!password.is_empty(), "the password must not be empty");
    check_password(password)
}

/// Why `user add` refuses `username`, if it does. Login answers such a username `invalid_credentials`
/// without touching the database (rule 11): it cannot name an account.
pub fn username_problem(username: &str) -> Option<String> {
    if username.is_empty() {
        return Some("the username must not be empty".into());
    }
    if username.len() > MAX_USERNAME_LEN {
        return Some(format!("the username must be at most {MAX_USERNAME_LEN} bytes long"));
    }
    // A colon would split the authenticator's "ISSUER:ACCOUNT" label; whitespace and control
    // characters make names that look alike.
    if username.chars().any(|c| c == ':' || c.is_whitespace() || c.is_control()) {
        return Some("the username must not contain a colon, spaces or control characters".into());
    }
    None
}

impl From<password::Busy> for error::ApiError {
    fn from(_: password::Busy) -> Self {
        error::ApiError::ServiceUnavailable { retry_after: HASHING_BUSY_RETRY }
    }
}

fn check_issuer(issuer: &str) -> anyhow::Result<()> {
    match issuer_problem(issuer) {
        Some(problem) => Err(anyhow::anyhow!(problem)),
        None => Ok(()),
    }
}

/// Why `serve` refuses `issuer`, if it does.
pub fn issuer_problem(issuer: &str) -> Option<&'static str> {
    if issuer.trim().is_empty() {
        Some("the issuer must not be empty")
    } else if issuer.contains(':') {
        Some("the issuer must not contain a colon (it separates issuer and account)")
    } else {
        None
    }
}
