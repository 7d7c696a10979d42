//! Storage behind one small trait, implemented once over SQL for both back ends.
//!
//! Every rule that must hold across server processes (single-use codes, TOTP replay, throttling counts)
//! is one conditional SQL statement whose row count decides, never a read-then-write across an await.
//! [`SqlStore`] holds the SQL and the logic, written once (`$N` placeholders work in SQLite too); a
//! [`Backend`] supplies only what differs: the pool, the migrations and how a write transaction begins.

mod group_commit;
mod postgres;
mod sql;
mod sqlite;

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::domain::{EventKind, Policy};
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
    pub created_at: i64,
    /// Encrypted active TOTP secret; `None` while 2FA is off.
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled_at: Option<i64>,
    pub last_totp_step: Option<i64>,
    /// Encrypted secret of an enrollment not yet confirmed.
    pub pending_secret: Option<Vec<u8>>,
    pub pending_expires_at: Option<i64>,
    /// Consecutive failed second factors at sign-in (rule 10).
    pub second_factor_failures: i64,
}

impl UserRecord {
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }

    /// Rule 10: the second factor is refused until an administrator unlocks the account.
    pub fn second_factor_locked(&self) -> bool {
        self.second_factor_failures >= SECOND_FACTOR_LOCK_AFTER
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
    /// `backs_off`: counted as a failure, this attempt starts a back-off (the `throttled` event, once,
    /// if it does fail).
    Allowed { backs_off: bool },
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

/// Throttling scopes: which attempts count together. See docs/server.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Password logins, per keyed hash of (client address, username): known or unknown usernames alike,
    /// so a 429 does not reveal which accounts exist, and a stranger cannot lock the owner out (rule 8).
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

    /// After this long without a new failure, a count starts again from zero (rule 8: login only; the
    /// second factor's count stays until a success, an unlock or the row is purged).
    pub fn decay_s(self) -> Option<i64> {
        match self {
            Scope::Login => Some(LOGIN_COUNT_DECAY_S),
            Scope::Verify => None,
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

/// Rule 8: a login count with no new failure for 12 hours starts again from zero.
pub const LOGIN_COUNT_DECAY_S: i64 = 12 * 60 * 60;

/// Rule 11: throttle rows idle this long are purged (once no back-off runs).
pub const THROTTLE_IDLE_PURGE_S: i64 = 24 * 60 * 60;

/// Rule 10: consecutive failed second factors (at sign-in) after which the account's second factor is
/// locked until `usercenter user unlock`.
pub const SECOND_FACTOR_LOCK_AFTER: i64 = 100;

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

/// A session or a login challenge about to be stored: the keyed hash of its token and its end.
#[derive(Clone, Copy, Debug)]
pub struct NewCredential<'a> {
    pub hash: &'a [u8],
    pub expires_at: i64,
}

/// A session about to be stored: its token's hash and end, and its public id (random, not derived
/// from the token).
#[derive(Clone, Copy, Debug)]
pub struct NewSession<'a> {
    pub credential: NewCredential<'a>,
    pub public_id: &'a str,
}

/// Where a request came from, recorded with its events and sessions; both `None` for an
/// administrator's command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// An administrator's command on the server's machine.
    pub const ADMIN: Origin = Origin { address: None, user_agent: None };
}

/// An account with the workspace policy, read in one query.
#[derive(Clone, sqlx::FromRow)]
pub struct Account {
    #[sqlx(flatten)]
    pub user: UserRecord,
    /// `policy.two_factor_required` (0 or 1).
    pub two_factor_required: i64,
}

impl Account {
    pub fn policy(&self) -> Policy {
        Policy { two_factor_required: self.two_factor_required != 0 }
    }
}

/// The owner of a live session, the session, the workspace policy and the owner's unused backup
/// codes, read in one query.
#[derive(Clone, sqlx::FromRow)]
pub struct SignedInRecord {
    #[sqlx(flatten)]
    pub user: UserRecord,
    pub session_id: String,
    pub session_last_seen_at: i64,
    pub two_factor_required: i64,
    pub backup_codes_remaining: i64,
}

impl SignedInRecord {
    pub fn policy(&self) -> Policy {
        Policy { two_factor_required: self.two_factor_required != 0 }
    }
}

/// One live session as listed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRecord {
    pub token_hash: Vec<u8>,
    pub public_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// One stored event, with its account's name. `details` is JSON text.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRecord {
    pub id: i64,
    pub username: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub details: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub at: i64,
}

/// An event waiting in the outbox, as claimed by one server.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxRecord {
    #[sqlx(flatten)]
    pub event: EventRecord,
    /// 1 once the events log has it.
    pub logged: i64,
    /// Failed webhook deliveries so far.
    pub attempts: i64,
}

/// What becomes of a claimed outbox row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Delivered everywhere it goes (or given up, and logged so): the row is deleted.
    Done,
    /// Tried again at `next_attempt_at`; `logged` whether the events log has it now, `failed` whether
    /// this was a failed webhook delivery (counted in `attempts`).
    Retry { next_attempt_at: i64, logged: bool, failed: bool },
}

/// What a right password leads to.
#[derive(Clone, Copy, Debug)]
pub enum AfterPassword<'a> {
    /// 2FA is off: signed in (with a session that may only set up 2FA while the policy requires it).
    Session(NewSession<'a>),
    /// 2FA is on: a login challenge for the second step.
    Challenge(NewCredential<'a>),
}

/// A password login that succeeded, to record in one transaction: its throttle count is cleared, the
/// session or challenge is stored, and a session's `sign_in` event recorded.
#[derive(Clone, Copy, Debug)]
pub struct PasswordLogin<'a> {
    pub user_id: i64,
    /// The login-scope throttle subject of this (address, username).
    pub throttle_subject: &'a str,
    pub then: AfterPassword<'a>,
    pub origin: &'a Origin,
    pub now: i64,
}

/// The proof a second-factor request carries, as checked before the transaction (CPU work only).
#[derive(Clone, Copy, Debug)]
pub enum Spend<'a> {
    /// Nothing to spend: a malformed code, or a TOTP code that matches no step. A failed attempt.
    Nothing,
    /// A TOTP code that matched `step` of the secret sealed as `sealed_secret` (the account's secret
    /// when it was read; if it changed since, the attempt does not count).
    Totp { sealed_secret: &'a [u8], step: i64 },
    /// A well-formed backup code, by its keyed hash.
    BackupCode { hash: &'a [u8] },
}

/// One second-factor request, carried out by [`Store::complete_second_factor`].
#[derive(Clone, Copy, Debug)]
pub struct SecondFactorAttempt<'a> {
    pub user_id: i64,
    pub challenge_hash: &'a [u8],
    pub spend: Spend<'a>,
    /// Stored only if the attempt signs in.
    pub session: NewSession<'a>,
    pub origin: &'a Origin,
    pub now: i64,
}

/// How a second-factor request ended. Only `SignedIn` spends the proof and the challenge; the failures
/// `InvalidCode` and `CodeAlreadyUsed` are counted; the others change nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactorOutcome {
    SignedIn {
        backup_codes_remaining: Option<u32>,
    },
    /// Rule 10: locked until `usercenter user unlock`; not counted.
    Locked,
    /// Rule 5: back-off in force until this Unix time; not counted.
    Throttled {
        until: i64,
    },
    InvalidCode,
    CodeAlreadyUsed,
    /// The challenge expired, was completed by a parallel request, or 2FA changed meanwhile.
    ChallengeGone,
}

/// Answer of [`Store::unlock_second_factor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlock {
    NoSuchUser,
    /// The account was not locked (its counts are cleared all the same).
    WasNotLocked,
    Unlocked,
}

/// What [`Store::purge_expired`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub throttles: u64,
    pub sessions: u64,
    pub challenges: u64,
    /// Events older than the retention.
    pub events: u64,
    /// Events older than the retention that no server delivered (none ran, or it kept failing).
    pub undelivered: u64,
}

/// What [`Store::confirm_enrollment`] carries out.
#[derive(Clone, Copy, Debug)]
pub struct Confirmation<'a> {
    pub user_id: i64,
    pub secret: &'a [u8],
    pub step: i64,
    pub backup_code_hashes: &'a [Vec<u8>],
    pub origin: &'a Origin,
    pub now: i64,
}

/// The storage the server needs; small on purpose. Handlers are generic over it (`AppState<S>`), so
/// every method's future is `Send`. Methods that write several rows are shaped like the operation they
/// carry out, each one transaction.
pub trait Store: Send + Sync + 'static {
    /// `Ok(false)` when the username is taken.
    fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// The account and the workspace policy.
    fn user_by_name(&self, username: &str) -> impl Future<Output = anyhow::Result<Option<Account>>> + Send;
    /// Every account, by name.
    fn users(&self) -> impl Future<Output = anyhow::Result<Vec<UserRecord>>> + Send;
    /// `false` if there is no such user. Its sessions, codes and events go with it.
    fn delete_user(&self, username: &str) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// A new password hash; every session and login challenge ends; `password_changed`. `false` if there
    /// is no such user.
    fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Records a right password: clears its login count and stores the session or the challenge.
    fn complete_password_login(
        &self,
        login: PasswordLogin<'_>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The owner of a live session, the session's id, the policy and the owner's unused backup codes.
    fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Option<SignedInRecord>>> + Send;
    /// Records that the session was used at `now` from `origin` if its last use on record is at or
    /// before `stale` (so at most once a minute, whichever server sees it).
    fn touch_session(
        &self,
        token_hash: &[u8],
        now: i64,
        stale: i64,
        origin: &Origin,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Logout: no event.
    fn delete_session(&self, token_hash: &[u8]) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The account's live sessions, most recently seen first.
    fn sessions(
        &self,
        user_id: i64,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Vec<SessionRecord>>> + Send;
    /// Ends the account's live session `public_id` and records `session_revoked`; `false` if there is
    /// none (unknown, expired, or another account's).
    fn revoke_session(
        &self,
        user_id: i64,
        public_id: &str,
        origin: &Origin,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Ends every session of the account but `keep`; records `sessions_revoked` when there were any.
    fn revoke_other_sessions(
        &self,
        user_id: i64,
        keep: &[u8],
        origin: &Origin,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<u32>> + Send;

    /// Records events of a failed attempt (each at most once, from [`Throttle::Allowed`]'s `backs_off`
    /// and the check's outcome) in one statement.
    fn record_events(
        &self,
        user_id: i64,
        events: &[EventKind],
        origin: &Origin,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The account's events before the id `before` (all when `None`), newest first, at most `limit`.
    fn events(
        &self,
        user_id: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = anyhow::Result<Vec<EventRecord>>> + Send;
    /// Claims up to `limit` outbox rows due at `now` that no live lease holds, until `lease_until`.
    fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> impl Future<Output = anyhow::Result<Vec<OutboxRecord>>> + Send;
    /// Settles claimed rows, in one transaction.
    fn settle_outbox(&self, settled: &[(i64, Delivered)]) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Wakes the delivery task of this process after a commit that recorded events.
    fn events_recorded(&self) -> &tokio::sync::Notify;

    /// The workspace policy.
    fn policy(&self) -> impl Future<Output = anyhow::Result<Policy>> + Send;
    fn set_policy(&self, policy: Policy) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The account of a live, unused login challenge.
    fn challenge_owner(
        &self,
        hash: &[u8],
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Option<UserRecord>>> + Send;
    /// One second-factor request in one transaction: the hard lock and the back-off are counted first
    /// (rules 10 and 5), then the proof is spent (rules 2 and 4), the challenge consumed, the counts
    /// cleared and the session stored. A request that loses the challenge to a parallel one leaves
    /// everything as it was, its backup code unused (rule 12).
    fn complete_second_factor(
        &self,
        attempt: SecondFactorAttempt<'_>,
    ) -> impl Future<Output = anyhow::Result<SecondFactorOutcome>> + Send;

    /// Starts or replaces a pending enrollment; `false` when 2FA is already on.
    fn set_pending_enrollment(
        &self,
        user_id: i64,
        secret: &[u8],
        expires_at: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    fn clear_pending_enrollment(&self, user_id: i64) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Turns the pending `secret` into the active one, records `step`, stores the backup codes, clears
    /// the `verify` count and records `two_factor_enabled`.
    fn confirm_enrollment(
        &self,
        confirmation: Confirmation<'_>,
    ) -> impl Future<Output = anyhow::Result<ConfirmOutcome>> + Send;

    fn backup_codes_remaining(&self, user_id: i64) -> impl Future<Output = anyhow::Result<u32>> + Send;
    /// Replaces all backup codes and records `backup_codes_regenerated`; `false` when 2FA is off.
    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[Vec<u8>],
        origin: &Origin,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Deletes the secret and the backup codes and records `two_factor_disabled`; `false` when 2FA was
    /// off.
    fn disable_two_factor(
        &self,
        user_id: i64,
        origin: &Origin,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Support's reset: 2FA off, backup codes, sessions, challenges and counters gone; `two_factor_reset`.
    /// `false` if no such user.
    fn reset_two_factor(&self, username: &str, now: i64)
    -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// `usercenter user unlock`: clears the second-factor counts (the hard lock and the back-off);
    /// `second_factor_unlocked` when it was locked.
    fn unlock_second_factor(
        &self,
        username: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Unlock>> + Send;

    /// Counts one attempt (as a failure until reset) unless a back-off is in force; see [`THROTTLE`].
    fn throttle_attempt(
        &self,
        scope: Scope,
        subject: &str,
        now: i64,
    ) -> impl Future<Output = anyhow::Result<Throttle>> + Send;
    /// A success: the count starts again from zero.
    fn throttle_reset(&self, scope: Scope, subject: &str) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Deletes expired sessions and challenges, throttle rows idle for a day (rule 11), and events (and
    /// undelivered outbox rows) from before `events_before`.
    fn purge_expired(
        &self,
        now: i64,
        events_before: i64,
    ) -> impl Future<Output = anyhow::Result<Purged>> + Send;

    /// The key check value recorded in the database, if any (rule 15).
    fn key_check(&self) -> impl Future<Output = anyhow::Result<Option<Vec<u8>>>> + Send;
    /// Records `value` unless one is recorded already; returns the value recorded (two servers starting
    /// at once agree on the first).
    fn record_key_check(&self, value: &[u8]) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;
    /// Some account's encrypted TOTP secret: proof of which key a database without a check value uses.
    fn any_sealed_secret(&self) -> impl Future<Output = anyhow::Result<Option<(i64, Vec<u8>)>>> + Send;

    /// The pool's open connections and how many of them are idle (for the metrics).
    fn pool_connections(&self) -> (u32, usize);

    /// Closes the connections gracefully (SQLite checkpoints its WAL when the last one closes).
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// What differs between the back ends; [`SqlStore`] does the rest. A back end is built by its own
/// `connect`, which also applies its migrations (`assets/migrations/{sqlite,postgres}`).
pub trait Backend: Send + Sync + 'static {
    type Db: sqlx::Database<QueryResult: RowsAffected>;

    /// The pool for reads.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;

    /// The pool for single statements that write.
    fn writer(&self) -> &sqlx::Pool<Self::Db>;

    /// A transaction for several statements that write, begun so it cannot fail half-way for a lock.
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;

    /// Closes every connection.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// Every pool this back end holds, each once (the reader and the writer may be one pool).
    fn pools(&self) -> Vec<&sqlx::Pool<Self::Db>>;

    /// Whether `SELECT … FOR UPDATE SKIP LOCKED` exists: several servers then claim outbox rows without
    /// waiting for each other (SQLite has one writer at a time and needs no such clause).
    const SKIPS_LOCKED_ROWS: bool;

    /// Whether `WITH` may hold `INSERT`, `UPDATE` and `DELETE` (PostgreSQL): a sign-in is then one
    /// statement, one round trip. SQLite runs the same steps as a script of statements, one round trip
    /// inside a write transaction.
    const DATA_MODIFYING_CTES: bool;
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
        /// True when the file was created just now.
        created: bool,
    },
    Postgres(PostgresStore),
}

/// What [`open`] does with a SQLite database file that does not exist (API v1.1: only `serve` and
/// `user add` create one, so a typo in `--database` does not make an empty database).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Create,
    Refuse,
}

impl OpenedStore {
    /// The SQLite file this open created, if it did.
    pub fn created_file(&self) -> Option<&Path> {
        match self {
            OpenedStore::Sqlite { file, created: true, .. } => file.as_deref(),
            OpenedStore::Sqlite { .. } | OpenedStore::Postgres(_) => None,
        }
    }

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

/// Opens the database at `url` (creating a missing SQLite file only if `missing` says so) and applies
/// its migrations.
pub async fn open(url: &str, missing: Missing) -> anyhow::Result<OpenedStore> {
    anyhow::ensure!(
        !url.trim().is_empty(),
        "the database URL is empty: pass --database sqlite://PATH or postgres://USER@HOST/DB (or set \
         USERCENTER_DATABASE_URL)"
    );
    if is_postgres_url(url) {
        Ok(OpenedStore::Postgres(SqlStore::new(PostgresBackend::connect(url).await?)))
    } else if url.starts_with("sqlite:") {
        let url = sqlite_url(url)?;
        let (backend, file, created) = SqliteBackend::connect(&url, missing).await?;
        Ok(OpenedStore::Sqlite { store: SqlStore::new(backend), file, created })
    } else {
        Err(anyhow::anyhow!("unsupported database URL (use sqlite://PATH or postgres://…)"))
            .with_context(|| format!("cannot open the database {}", redact_url(url)))
    }
}

/// A `sqlite:` URL as SQLite should see it: `~` and `~/…` expanded to the home folder (as a shell
/// expands `--key-file ~/…`, but never inside a URL); a URL that names no file is refused by name.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let (path, params) = rest.split_once('?').map_or((rest, None), |(path, params)| (path, Some(params)));
    anyhow::ensure!(
        !path.trim().is_empty(),
        "the database URL {url} names no file: use sqlite://PATH, such as sqlite://usercenter.db or \
         sqlite:///var/lib/usercenter/usercenter.db"
    );
    if !path.starts_with('~') {
        return Ok(url.to_owned());
    }
    let path = crate::server::expand_home(path)?;
    let params = params.map(|p| format!("?{p}")).unwrap_or_default();
    Ok(format!("sqlite://{}{params}", path.display()))
}

/// A failed migration in words: a database from a newer usercenter says so; a database error is
/// described by `explain` (once, without sqlx's repeated source).
pub(super) fn explain_migration(
    error: sqlx::migrate::MigrateError,
    shown: &str,
    explain: impl Fn(&sqlx::Error) -> anyhow::Error,
) -> anyhow::Error {
    use sqlx::migrate::MigrateError;
    match error {
        MigrateError::VersionMissing(version) => anyhow::anyhow!(
            "the database {shown} was set up by a newer usercenter (its migration {version} is unknown to \
             this version): run that version or a later one"
        ),
        MigrateError::VersionMismatch(version) => anyhow::anyhow!(
            "not a usercenter database: {shown} (its migration {version} differs from this version's)"
        ),
        MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _) => explain(&error),
        other => anyhow::anyhow!("cannot apply the migrations to {shown}: {other}"),
    }
}

/// True when `error` comes from a database that cannot write for lack of space or an I/O failure
/// (SQLite `SQLITE_FULL` or `SQLITE_IOERR*`; PostgreSQL class 53 "insufficient resources" or 58030
/// `io_error`): the request is answered 503, and a SQLite connection that saw it is not reused.
pub fn is_out_of_space(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => db_error_is_out_of_space(db.as_ref()),
        _ => false,
    })
}

fn db_error_is_out_of_space(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else { return false };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // The extended result code; the primary code is its low byte.
        return code.parse::<i32>().is_ok_and(sqlite::is_out_of_space_code);
    }
    code.starts_with("53") || code == "58030"
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

    #[tokio::test]
    async fn another_program_s_sqlite_database_is_left_alone() {
        use sqlx::Connection as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE notes (body TEXT)").execute(&mut connection).await.unwrap();
        connection.close().await.unwrap();

        let url = format!("sqlite://{}", file.display());
        let Err(error) = open(&url, Missing::Refuse).await else {
            panic!("opened another program's database")
        };
        let error = error.to_string();
        assert!(error.contains(&format!("not a usercenter database: {}", file.display())), "{error}");
        assert!(error.contains("such as notes"), "{error}");
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut connection)
            .await
            .unwrap();
        assert_eq!(tables, ["notes"], "nothing was added to it");
    }

    #[test]
    fn a_sqlite_url_expands_the_home_folder_and_must_name_a_file() {
        assert_eq!(sqlite_url("sqlite://x.db").unwrap(), "sqlite://x.db");
        assert_eq!(sqlite_url("sqlite::memory:").unwrap(), "sqlite::memory:");
        assert_eq!(sqlite_url("sqlite:///var/lib/u.db?mode=ro").unwrap(), "sqlite:///var/lib/u.db?mode=ro");
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let home = std::path::PathBuf::from(home);
            let expected = format!("sqlite://{}?mode=rwc", home.join("data/u.db").display());
            assert_eq!(sqlite_url("sqlite://~/data/u.db?mode=rwc").unwrap(), expected);
        }
        for url in ["sqlite://", "sqlite:", "sqlite://?mode=rwc"] {
            let error = sqlite_url(url).unwrap_err().to_string();
            assert!(error.contains("names no file") && error.contains("sqlite://PATH"), "{url}: {error}");
        }
    }

    #[test]
    fn redact_url_hides_the_password() {
        assert_eq!(redact_url("postgres://u:secret@host:5432/db"), "postgres://u:***@host:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[tokio::test]
    async fn settling_deletes_every_delivered_row_over_several_statements_and_keeps_the_retried() {
        let OpenedStore::Sqlite { store, .. } = open("sqlite::memory:", Missing::Create).await.unwrap()
        else {
            panic!("not SQLite")
        };
        assert!(store.create_user("alice", "hash", 0).await.unwrap());
        let user_id = store.user_by_name("alice").await.unwrap().unwrap().user.id;
        let kind = crate::domain::EventKind::TwoFactorDisabled {};
        for _ in 0..45 {
            store.record_events(user_id, std::slice::from_ref(&kind), &Origin::ADMIN, 1).await.unwrap();
        }
        let claimed = store.claim_outbox(1, 100, 50).await.unwrap();
        assert_eq!(claimed.len(), 45);
        let retried = claimed[7].event.id;
        let retry = Delivered::Retry { next_attempt_at: 50, logged: true, failed: true };
        let settled: Vec<_> = claimed
            .iter()
            .map(|row| (row.event.id, if row.event.id == retried { retry } else { Delivered::Done }))
            .collect();
        store.settle_outbox(&settled).await.unwrap();
        let left = store.claim_outbox(50, 100, 50).await.unwrap();
        assert_eq!(left.iter().map(|row| (row.event.id, row.attempts)).collect::<Vec<_>>(), [(retried, 1)]);
    }

    #[test]
    fn back_off_is_at_its_maximum_from_the_tenth_failure() {
        assert_eq!(THROTTLE.capped_from(), 10);
        assert_eq!(Backoff { threshold: 3, first_s: 10, max_s: 10 }.capped_from(), 3);
    }
}
