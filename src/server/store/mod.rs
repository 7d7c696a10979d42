//! Storage behind one small trait, implemented once over SQL for both back ends.
//!
//! Every rule that must hold across server processes (single-use codes, TOTP replay, throttling counts)
//! is one conditional SQL statement whose row count decides, never a read-then-write across an await.
//! [`SqlStore`] holds the SQL and the logic, written once (`$N` placeholders work in SQLite too); a
//! [`Backend`] supplies only what differs: the pool, the migrations and how a write transaction begins.

mod postgres;
mod sql;
mod sqlite;

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use postgres::PostgresBackend;
pub use sql::SqlStore;
pub use sqlite::SqliteBackend;

/// The store on SQLite: the embedded default.
pub type SqliteStore = SqlStore<SqliteBackend>;
/// The store on PostgreSQL: several server processes may share one database.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// One account as stored. Times are Unix seconds.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    /// Encrypted active TOTP secret; `None` while 2FA is off.
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled_at: Option<i64>,
    pub last_totp_step: Option<i64>,
    /// Encrypted secret of an enrollment not yet confirmed.
    pub pending_secret: Option<Vec<u8>>,
    pub pending_expires_at: Option<i64>,
}

impl UserRecord {
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// The pending secret, if an enrollment is pending and has not expired at `now`.
    pub fn live_pending_secret(&self, now: i64) -> Option<&[u8]> {
        match (&self.pending_secret, self.pending_expires_at) {
            (Some(secret), Some(expires_at)) if expires_at > now => Some(secret),
            _ => None,
        }
    }
}

/// Answer of [`Store::throttle_attempt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// The attempt may go ahead; it already counts as a failure until [`Store::throttle_reset`].
    Allowed,
    /// Back-off in force until this Unix time.
    Locked { until: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Enabled,
    /// The code's time step was not newer than the last accepted one (rule 2).
    StepAlreadyUsed,
    /// No live pending enrollment with that secret (none, expired, replaced, or 2FA already on).
    NoPending,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupCodeOutcome {
    Accepted { remaining: u32 },
    AlreadyUsed,
    Unknown,
}

/// Throttling scopes: which attempts count together. See docs/server.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Password logins, per username (also unknown ones, so 429 does not reveal which accounts exist).
    Login,
    /// Second factor at login, the code that confirms an enrollment, and password re-entry, per account.
    Verify,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Login => "login",
            Scope::Verify => "verify",
        }
    }
}

/// Rule 5's back-off: after `threshold` failures in a row, `first_s` seconds, doubling with every
/// further failure, at most `max_s`. The store binds these numbers into its SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub threshold: i64,
    pub first_s: i64,
    pub max_s: i64,
}

/// The numbers of rule 5: 5 failures, then 30 s doubling to at most 15 min.
pub const THROTTLE: Backoff = Backoff { threshold: 5, first_s: 30, max_s: 15 * 60 };

impl Backoff {
    /// The failure count from which the back-off is `max_s` (10 for 5, 30 s, 900 s): below it the
    /// SQL doubles `first_s`, so it never shifts by more than a few bits.
    pub const fn capped_from(self) -> i64 {
        let mut failures = self.threshold;
        while self.first_s << (failures - self.threshold) < self.max_s {
            failures += 1;
        }
        failures
    }
}

/// The storage the server needs; small on purpose. Handlers are generic over it (`AppState<S>`), so
/// every method's future is `Send`.
pub trait Store: Send + Sync + 'static {
    /// `Ok(false)` when the username is taken.
    fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    fn user_by_name(&self, username: &str)
    -> impl Future<Output = anyhow::Result<Option<UserRecord>>> + Send;
    fn user_by_id(&self, id: i64) -> impl Future<Output = anyhow::Result<Option<UserRecord>>> + Send;

    /// Stores a session and drops the expired ones.
    fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The owner of a live session.
    fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Option<UserRecord>>> + Send;
    fn delete_session(&self, token_hash: &[u8]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Stores a login challenge and drops the expired ones.
    fn create_challenge(
        &self,
        hash: &[u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The user of a live, unused challenge.
    fn challenge_user(
        &self,
        hash: &[u8],
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Option<i64>>> + Send;
    /// Marks a live challenge used; `false` if it was not live any more.
    fn consume_challenge(&self, hash: &[u8], now: i64) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Starts or replaces a pending enrollment; `false` when 2FA is already on.
    fn set_pending_enrollment(
        &self,
        user_id: i64,
        secret: &[u8],
        expires_at: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    fn clear_pending_enrollment(&self, user_id: i64) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Turns the pending `secret` into the active one, records `step` and stores the backup codes.
    fn confirm_enrollment(
        &self,
        user_id: i64,
        secret: &[u8],
        step: i64,
        now: i64,
        backup_code_hashes: &[Vec<u8>],
    ) -> impl Future<Output = anyhow::Result<ConfirmOutcome>> + Send;
    /// Records `step` as used; `false` when a code for this step or a later one was already accepted.
    fn accept_totp_step(&self, user_id: i64, step: i64) -> impl Future<Output = anyhow::Result<bool>> + Send;

    fn use_backup_code(
        &self,
        user_id: i64,
        hash: &[u8],
        now: i64,
    ) -> impl Future<Output = anyhow::Result<BackupCodeOutcome>> + Send;
    fn backup_codes_remaining(&self, user_id: i64) -> impl Future<Output = anyhow::Result<u32>> + Send;
    /// Replaces all backup codes; `false` when 2FA is off.
    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[Vec<u8>],
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Deletes the secret and the backup codes; `false` when 2FA was off.
    fn disable_two_factor(&self, user_id: i64) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Support's reset: 2FA off, backup codes, sessions, challenges and counters gone. `false` if no such user.
    fn reset_two_factor(&self, username: &str) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Counts one attempt (as a failure until reset) unless a back-off is in force; see [`THROTTLE`].
    fn throttle_attempt(
        &self,
        scope: Scope,
        subject: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Throttle>> + Send;
    /// A success: the count starts again from zero.
    fn throttle_reset(&self, scope: Scope, subject: &str) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Closes the connections gracefully (SQLite checkpoints its WAL when the last one closes).
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// What differs between the back ends; [`SqlStore`] does the rest. A back end is built by its own
/// `connect`, which also applies its migrations (`assets/migrations/{sqlite,postgres}`).
pub trait Backend: Send + Sync + 'static {
    type Db: sqlx::Database<QueryResult: RowsAffected>;

    /// The pool for reads and single statements.
    fn pool(&self) -> &sqlx::Pool<Self::Db>;

    /// A transaction for several statements that write, begun so it cannot fail half-way for a lock.
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

/// The row count of a statement; sqlx has it on each back end's result type, not on a trait.
pub trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

/// A database opened by [`open`]: which back end, and what the key file needs to know about it.
pub enum OpenedStore {
    Sqlite {
        store: SqliteStore,
        /// The database file; `None` in memory.
        file: Option<PathBuf>,
    },
    Postgres(PostgresStore),
}

impl OpenedStore {
    /// The SQLite file, when the database is one (not in memory).
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            OpenedStore::Sqlite { file, .. } => file.as_deref(),
            OpenedStore::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, OpenedStore::Postgres(_))
    }
}

/// Opens (creating if missing) the database at `url` and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<OpenedStore> {
    if is_postgres_url(url) {
        Ok(OpenedStore::Postgres(SqlStore::new(PostgresBackend::connect(url).await?)))
    } else if url.starts_with("sqlite:") {
        let (backend, file) = SqliteBackend::connect(url).await?;
        Ok(OpenedStore::Sqlite { store: SqlStore::new(backend), file })
    } else {
        Err(anyhow::anyhow!("unsupported database URL (use sqlite://PATH or postgres://…)"))
            .with_context(|| format!("cannot open the database {}", redact_url(url)))
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without a password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password() {
        assert_eq!(redact_url("postgres://u:secret@host:5432/db"), "postgres://u:***@host:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn back_off_is_at_its_maximum_from_the_tenth_failure() {
        assert_eq!(THROTTLE.capped_from(), 10);
        assert_eq!(Backoff { threshold: 3, first_s: 10, max_s: 10 }.capped_from(), 3);
    }
}
