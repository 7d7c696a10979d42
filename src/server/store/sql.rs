//! [`Store`] written once over SQL that SQLite and PostgreSQL both understand: `$N` placeholders,
//! `INSERT … ON CONFLICT … RETURNING`, integer Unix times and byte columns.
//!
//! The `where` clauses name what the SQL needs of a sqlx database (an executor for its connections and
//! the column types used here); both back ends have all of it, so they hold for `SqlStore<B>` as soon as
//! `B` is a [`Backend`].

use std::sync::Arc;

use sqlx::query::QueryScalar;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use tokio::sync::Notify;

use super::group_commit::{GroupCommit, TotpSignIn, run_to_end};
use super::{
    Account, AfterPassword, Backend, ConfirmOutcome, Confirmation, Delivered, EventRecord, NewSession,
    Origin, OutboxRecord, PasswordLogin, Purged, RowsAffected as _, SECOND_FACTOR_LOCK_AFTER, Scope,
    SecondFactorAttempt, SecondFactorOutcome, SessionRecord, SignedInRecord, Spend, Store, THROTTLE,
    THROTTLE_IDLE_PURGE_S, Throttle, Unlock, UserRecord,
};
use crate::domain::{EventKind, Policy, SignInFailure, SignInMethod, ThrottleScope};

/// The store over a back end `B`; cheap to clone (the pool is shared).
pub struct SqlStore<B: Backend> {
    backend: B,
    /// Told after every commit that recorded events, so this process delivers them at once.
    events_recorded: Arc<Notify>,
    /// SQLite: the right TOTP codes waiting for the one writer.
    group_commit: Arc<GroupCommit<B::Db>>,
}

// By hand: a derived `Clone` would ask `B::Db: Clone` for the `Arc`.
impl<B: Backend + Clone> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            events_recorded: Arc::clone(&self.events_recorded),
            group_commit: Arc::clone(&self.group_commit),
        }
    }
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self { backend, events_recorded: Arc::new(Notify::new()), group_commit: Arc::default() }
    }
}

/// `type` and `details` of an event as stored: the API's names, written by serde from [`EventKind`].
fn event_columns(kind: &EventKind) -> anyhow::Result<(String, String)> {
    let value = serde_json::to_value(kind)?;
    let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
    let details = value.get("details").cloned().unwrap_or_else(|| serde_json::json!({}));
    anyhow::ensure!(!kind.is_empty(), "an event without a type");
    Ok((kind, details.to_string()))
}

/// One `INSERT` for one to three events (the most one request records: a failed second factor that
/// starts a back-off and locks the account); the outbox row of each is written by the trigger
/// `events_to_outbox`, in the same statement.
const INSERT_EVENTS: [&str; 3] = [
    "INSERT INTO events (user_id, type, details, address, user_agent, at) VALUES ($1, $2, $3, $4, $5, $6)",
    "INSERT INTO events (user_id, type, details, address, user_agent, at) VALUES ($1, $2, $3, $4, $5, $6), \
     ($1, $7, $8, $4, $5, $6)",
    "INSERT INTO events (user_id, type, details, address, user_agent, at) VALUES ($1, $2, $3, $4, $5, $6), \
     ($1, $7, $8, $4, $5, $6), ($1, $9, $10, $4, $5, $6)",
];

/// Claims due outbox rows that no live lease holds. The lease is checked again on the row that is
/// updated, so a second server that read the same rows first claims none of them.
const CLAIM_OUTBOX: &str = "\
    UPDATE outbox SET claimed_until = $2 \
    WHERE event_id IN (SELECT event_id FROM outbox \
        WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY event_id LIMIT $3) \
      AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
    RETURNING event_id AS id, username, type, details, address, user_agent, at, logged, attempts";
/// [`CLAIM_OUTBOX`] where rows another server is claiming are skipped rather than waited for.
const CLAIM_OUTBOX_SKIP_LOCKED: &str = "\
    UPDATE outbox SET claimed_until = $2 \
    WHERE event_id IN (SELECT event_id FROM outbox \
        WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
        ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
      AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
    RETURNING event_id AS id, username, type, details, address, user_agent, at, logged, attempts";

/// How many delivered outbox rows [`DELETE_OUTBOX`] deletes at once: a claimed batch.
const DELETE_OUTBOX_ROWS: usize = 20;
/// Deletes the outbox rows of up to [`DELETE_OUTBOX_ROWS`] delivered events.
const DELETE_OUTBOX: &str = "DELETE FROM outbox WHERE event_id IN \
    ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

/// Connection of the back end `B`.
type Connection<B> = <<B as Backend>::Db as Database>::Connection;

/// Counts one attempt in `scope` for `subject` unless a back-off runs (`$4` to `$7` come from
/// [`THROTTLE`]): counted before the check, so parallel guesses cannot slip past the limit; the attempt
/// that reaches the threshold sets the back-off at once (cleared on success). Back-off:
/// `first_s << (failures - threshold)` until it reaches `max_s`. A count whose last failure is at or
/// before `$8` starts again from one (rule 8's decay; `$8` is the minimum where none applies).
const COUNT_ATTEMPT: &str = "\
    INSERT INTO throttles (scope, subject, failures, locked_until, updated_at) VALUES ($1, $2, 1, NULL, $3) \
    ON CONFLICT (scope, subject) DO UPDATE SET \
      failures = CASE WHEN throttles.updated_at <= $8 THEN 1 ELSE throttles.failures + 1 END, \
      locked_until = CASE \
        WHEN throttles.updated_at <= $8 OR throttles.failures + 1 < $4 THEN NULL \
        WHEN throttles.failures + 1 >= $5 THEN $3 + $7 \
        ELSE $3 + ($6 << CAST(throttles.failures + 1 - $4 AS INTEGER)) END, \
      updated_at = $3 \
    WHERE throttles.locked_until IS NULL OR throttles.locked_until <= $3 \
    RETURNING failures, locked_until";

/// PostgreSQL: a right TOTP code signs in with this one statement, or changes nothing (0 rows). The
/// account's row is locked first (as every second factor does, so those of one account run one after
/// the other), then its `verify` throttle row; both are read as last committed. It goes ahead only when
/// the account is not locked (rule 10), no back-off runs (rule 5), the secret is the one the code was
/// checked against and the step is newer than the last accepted (rule 2), and the challenge is live:
/// then the challenge is consumed, the step spent, both counts cleared, the session and its `sign_in`
/// event stored. Counting the attempt first and clearing it on success is the same as not counting it,
/// so the count is left alone. Anything else (a wrong code, a lock, a back-off) takes the general path.
/// `throttle` waits for `account`, so the locks are taken in the order every other path takes them.
const SIGN_IN_WITH_TOTP: &str = "\
    WITH account AS MATERIALIZED ( \
        SELECT id, second_factor_failures, totp_secret, last_totp_step FROM users WHERE id = $1 FOR UPDATE \
    ), throttle AS MATERIALIZED ( \
        SELECT locked_until FROM throttles WHERE scope = $2 AND subject = $3 \
          AND EXISTS (SELECT 1 FROM account) FOR UPDATE \
    ), allowed AS ( \
        SELECT id FROM account WHERE second_factor_failures < $4 AND totp_secret = $5 \
          AND (last_totp_step IS NULL OR last_totp_step < $6) \
          AND NOT EXISTS (SELECT 1 FROM throttle WHERE locked_until > $7) \
    ), consumed AS ( \
        UPDATE challenges SET used_at = $7 \
        WHERE challenge_hash = $8 AND expires_at > $7 AND used_at IS NULL \
          AND user_id IN (SELECT id FROM allowed) \
        RETURNING user_id \
    ), spent AS ( \
        UPDATE users SET last_totp_step = $6, second_factor_failures = 0 \
        WHERE id IN (SELECT user_id FROM consumed) \
    ), cleared AS ( \
        DELETE FROM throttles WHERE scope = $2 AND subject = $3 AND EXISTS (SELECT 1 FROM consumed) \
    ), session AS ( \
        INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at, \
            address, user_agent) \
        SELECT $9, user_id, $10, $11, $7, $7, $12, $13 FROM consumed \
    ), event AS ( \
        INSERT INTO events (user_id, type, details, address, user_agent, at) \
        SELECT user_id, $14, $15, $12, $13, $7 FROM consumed \
    ) \
    SELECT COUNT(*) FROM consumed";

/// After a right password: the login's count is cleared and the challenge stored, in one statement
/// (PostgreSQL); [`LOGIN_CHALLENGE_SCRIPT`] is the same for SQLite.
const LOGIN_CHALLENGE: &str = "\
    WITH cleared AS (DELETE FROM throttles WHERE scope = $1 AND subject = $2) \
    INSERT INTO challenges (challenge_hash, user_id, expires_at) VALUES ($3, $4, $5)";
const LOGIN_CHALLENGE_SCRIPT: &str = "\
    BEGIN IMMEDIATE; \
    DELETE FROM throttles WHERE scope = $1 AND subject = $2; \
    INSERT INTO challenges (challenge_hash, user_id, expires_at) VALUES ($3, $4, $5); \
    COMMIT";
/// After a right password without 2FA: the login's count is cleared, the session and its `sign_in`
/// event stored, in one statement (PostgreSQL); [`LOGIN_SESSION_SCRIPT`] is the same for SQLite.
const LOGIN_SESSION: &str = "\
    WITH cleared AS (DELETE FROM throttles WHERE scope = $1 AND subject = $2), \
    session AS ( \
        INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at, \
            address, user_agent) VALUES ($3, $4, $5, $6, $7, $7, $8, $9) \
    ) \
    INSERT INTO events (user_id, type, details, address, user_agent, at) VALUES ($4, $10, $11, $8, $9, $7)";
const LOGIN_SESSION_SCRIPT: &str = "\
    BEGIN IMMEDIATE; \
    DELETE FROM throttles WHERE scope = $1 AND subject = $2; \
    INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at, \
        address, user_agent) VALUES ($3, $4, $5, $6, $7, $7, $8, $9); \
    INSERT INTO events (user_id, type, details, address, user_agent, at) VALUES ($4, $10, $11, $8, $9, $7); \
    COMMIT";

/// Helpers of the `Store` methods; each runs on a connection the caller holds (maybe in a transaction).
impl<B: Backend> SqlStore<B>
where
    for<'c> &'c mut Connection<B>: Executor<'c, Database = B::Db>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'v> i64: Encode<'v, B::Db> + Decode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v str: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> Option<&'v str>: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v [u8]: Encode<'v, B::Db> + Type<B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
{
    /// Runs `query` on the writer to its end, in one round trip: on PostgreSQL one statement, on SQLite
    /// a script that holds its own write transaction. Returns the rows of its one `SELECT`, if any.
    ///
    /// It runs in a task of its own, so a request dropped meanwhile (its client gone) cannot stop a
    /// script between its statements; when a statement fails, the script stops there, and the
    /// transaction it opened is rolled back before the connection goes back to the pool.
    async fn in_one_round_trip(
        &self,
        query: QueryScalar<'static, B::Db, i64, <B::Db as Database>::Arguments>,
    ) -> anyhow::Result<Vec<i64>> {
        let writer = self.backend.writer().clone();
        tokio::spawn(async move { run_to_end(&writer, query).await }).await?
    }

    /// Inside a write transaction (or as its own statement): records `events` of the account.
    async fn insert_events(
        connection: &mut Connection<B>,
        user_id: i64,
        events: &[EventKind],
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<()> {
        let Some(sql) = events.len().checked_sub(1).and_then(|i| INSERT_EVENTS.get(i)) else {
            anyhow::ensure!(events.is_empty(), "at most {} events at once", INSERT_EVENTS.len());
            return Ok(());
        };
        let columns = events.iter().map(event_columns).collect::<anyhow::Result<Vec<_>>>()?;
        let mut query = sqlx::query(*sql)
            .bind(user_id)
            .bind(columns[0].0.as_str())
            .bind(columns[0].1.as_str())
            .bind(origin.address.as_deref())
            .bind(origin.user_agent.as_deref())
            .bind(now);
        for (kind, details) in &columns[1..] {
            query = query.bind(kind.as_str()).bind(details.as_str());
        }
        query.execute(&mut *connection).await?;
        Ok(())
    }

    /// Inside a write transaction: the user's backup codes become exactly `hashes`.
    async fn put_backup_codes(
        connection: &mut Connection<B>,
        user_id: i64,
        hashes: &[Vec<u8>],
    ) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *connection)
            .await?;
        for hash in hashes {
            sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(hash.as_slice())
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    /// [`Store::throttle_attempt`] on `connection`; see [`COUNT_ATTEMPT`].
    async fn count_attempt(
        connection: &mut Connection<B>,
        scope: Scope,
        subject: &str,
        now: i64,
    ) -> anyhow::Result<Throttle> {
        // `fetch_all`, not `fetch_optional`: outside a transaction SQLite commits when the statement
        // runs to its end, and only then does a failed commit (a full disk) come back as an error; a
        // statement dropped after its first row is rolled back silently, and the attempt not counted.
        let counted: Vec<(i64, Option<i64>)> = sqlx::query_as(COUNT_ATTEMPT)
            .bind(scope.as_str())
            .bind(subject)
            .bind(now)
            .bind(THROTTLE.threshold)
            .bind(THROTTLE.capped_from())
            .bind(THROTTLE.first_s)
            .bind(THROTTLE.max_s)
            .bind(scope.decay_s().map_or(i64::MIN, |decay| now - decay))
            .fetch_all(&mut *connection)
            .await?;
        if let Some((_, locked_until)) = counted.first() {
            return Ok(Throttle::Allowed { backs_off: locked_until.is_some() });
        }
        let until: Option<Option<i64>> =
            sqlx::query_scalar("SELECT locked_until FROM throttles WHERE scope = $1 AND subject = $2")
                .bind(scope.as_str())
                .bind(subject)
                .fetch_optional(&mut *connection)
                .await?;
        // The back-off may have ended (or been reset) between the two statements.
        Ok(Throttle::Locked { until: until.flatten().unwrap_or(now + 1).max(now + 1) })
    }

    async fn clear_count(connection: &mut Connection<B>, scope: Scope, subject: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM throttles WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(&mut *connection)
            .await?;
        Ok(())
    }

    async fn insert_session(
        connection: &mut Connection<B>,
        user_id: i64,
        session: NewSession<'_>,
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, expires_at, public_id, created_at, last_seen_at, \
             address, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
        )
        .bind(session.credential.hash)
        .bind(user_id)
        .bind(session.credential.expires_at)
        .bind(session.public_id)
        .bind(now)
        .bind(origin.address.as_deref())
        .bind(origin.user_agent.as_deref())
        .execute(&mut *connection)
        .await?;
        Ok(())
    }

    /// Inside [`Store::complete_second_factor`]'s transaction, after both counts: spends the proof.
    /// `Err` carries the outcome when it is not spent, and whether the counts stand.
    async fn spend(
        connection: &mut Connection<B>,
        user_id: i64,
        spend: Spend<'_>,
        now: i64,
    ) -> anyhow::Result<Result<Option<u32>, (SecondFactorOutcome, Counted)>> {
        match spend {
            Spend::Nothing => Ok(Err((SecondFactorOutcome::InvalidCode, Counted::Yes))),
            Spend::Totp { sealed_secret, step } => {
                let accepted = sqlx::query(
                    "UPDATE users SET last_totp_step = $2 WHERE id = $1 AND totp_secret = $3 \
                     AND (last_totp_step IS NULL OR last_totp_step < $2)",
                )
                .bind(user_id)
                .bind(step)
                .bind(sealed_secret)
                .execute(&mut *connection)
                .await?;
                if accepted.rows_affected() == 1 {
                    return Ok(Ok(None));
                }
                let same_secret: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND totp_secret = $2")
                        .bind(user_id)
                        .bind(sealed_secret)
                        .fetch_optional(&mut *connection)
                        .await?;
                Ok(Err(match same_secret {
                    Some(_) => (SecondFactorOutcome::CodeAlreadyUsed, Counted::Yes),
                    // 2FA was turned off or reset since the secret was read: as if the challenge died.
                    None => (SecondFactorOutcome::ChallengeGone, Counted::No),
                }))
            }
            Spend::BackupCode { hash } => {
                let used = sqlx::query(
                    "UPDATE backup_codes SET used_at = $3 \
                     WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(user_id)
                .bind(hash)
                .bind(now)
                .execute(&mut *connection)
                .await?;
                if used.rows_affected() == 1 {
                    let remaining: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .fetch_one(&mut *connection)
                    .await?;
                    return Ok(Ok(Some(u32::try_from(remaining).unwrap_or(u32::MAX))));
                }
                let spent: Option<i64> = sqlx::query_scalar(
                    "SELECT user_id FROM backup_codes \
                     WHERE user_id = $1 AND code_hash = $2 AND used_at IS NOT NULL",
                )
                .bind(user_id)
                .bind(hash)
                .fetch_optional(&mut *connection)
                .await?;
                let outcome = match spent {
                    Some(_) => SecondFactorOutcome::CodeAlreadyUsed,
                    None => SecondFactorOutcome::InvalidCode,
                };
                Ok(Err((outcome, Counted::Yes)))
            }
        }
    }
}

/// Whether a failed second factor's counts are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counted {
    Yes,
    No,
}

impl<B: Backend> Store for SqlStore<B>
where
    for<'c> &'c mut Connection<B>: Executor<'c, Database = B::Db>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'v> i64: Encode<'v, B::Db> + Decode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v str: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> Option<&'v str>: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> Option<i64>: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v [u8]: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> Vec<u8>: Encode<'v, B::Db> + Decode<'v, B::Db> + Type<B::Db>,
    for<'v> String: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> Option<String>: Encode<'v, B::Db> + Type<B::Db>,
    for<'r> UserRecord: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> Account: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SignedInRecord: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> SessionRecord: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> EventRecord: FromRow<'r, <B::Db as Database>::Row>,
    for<'r> OutboxRecord: FromRow<'r, <B::Db as Database>::Row>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
{
    async fn create_user(&self, username: &str, password_hash: &str, now: i64) -> anyhow::Result<bool> {
        let result =
            sqlx::query("INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3)")
                .bind(username)
                .bind(password_hash)
                .bind(now)
                .execute(self.backend.writer())
                .await;
        match result {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(anyhow::Error::from(e).context("cannot create the user")),
        }
    }

    // `UserRecord` reads its columns by name and ignores the others, so the user queries say
    // `SELECT users.*` rather than repeating the column list.
    async fn user_by_name(&self, username: &str) -> anyhow::Result<Option<Account>> {
        let account = sqlx::query_as(
            "SELECT users.*, COALESCE((SELECT two_factor_required FROM policy WHERE id = 1), 0) \
             AS two_factor_required FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.backend.reader())
        .await?;
        Ok(account)
    }

    async fn users(&self) -> anyhow::Result<Vec<UserRecord>> {
        let users =
            sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(self.backend.reader()).await?;
        Ok(users)
    }

    async fn delete_user(&self, username: &str) -> anyhow::Result<bool> {
        let deleted = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(self.backend.writer())
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn set_password(&self, username: &str, password_hash: &str, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
        let id: Option<i64> =
            sqlx::query_scalar("UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id")
                .bind(username)
                .bind(password_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(false);
        };
        for sql in ["DELETE FROM sessions WHERE user_id = $1", "DELETE FROM challenges WHERE user_id = $1"] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        Self::insert_events(&mut tx, id, &[EventKind::PasswordChanged {}], &Origin::ADMIN, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(true)
    }

    async fn complete_password_login(&self, login: PasswordLogin<'_>) -> anyhow::Result<()> {
        let PasswordLogin { user_id, throttle_subject, then, origin, now } = login;
        let scripts = !B::DATA_MODIFYING_CTES;
        let write = match then {
            AfterPassword::Session(session) => {
                let (kind, details) = event_columns(&EventKind::SignIn { method: SignInMethod::Password })?;
                sqlx::query_scalar(if scripts { LOGIN_SESSION_SCRIPT } else { LOGIN_SESSION })
                    .bind(Scope::Login.as_str())
                    .bind(throttle_subject.to_owned())
                    .bind(session.credential.hash.to_vec())
                    .bind(user_id)
                    .bind(session.credential.expires_at)
                    .bind(session.public_id.to_owned())
                    .bind(now)
                    .bind(origin.address.clone())
                    .bind(origin.user_agent.clone())
                    .bind(kind)
                    .bind(details)
            }
            AfterPassword::Challenge(challenge) => {
                sqlx::query_scalar(if scripts { LOGIN_CHALLENGE_SCRIPT } else { LOGIN_CHALLENGE })
                    .bind(Scope::Login.as_str())
                    .bind(throttle_subject.to_owned())
                    .bind(challenge.hash.to_vec())
                    .bind(user_id)
                    .bind(challenge.expires_at)
            }
        };
        self.in_one_round_trip(write).await?;
        if matches!(then, AfterPassword::Session(_)) {
            self.events_recorded.notify_one();
        }
        Ok(())
    }

    async fn session_user(&self, token_hash: &[u8], now: i64) -> anyhow::Result<Option<SignedInRecord>> {
        let found = sqlx::query_as(
            "SELECT users.*, sessions.public_id AS session_id, sessions.last_seen_at AS session_last_seen_at, \
             COALESCE((SELECT two_factor_required FROM policy WHERE id = 1), 0) AS two_factor_required, \
             (SELECT COUNT(*) FROM backup_codes WHERE backup_codes.user_id = users.id \
              AND backup_codes.used_at IS NULL) AS backup_codes_remaining \
             FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.backend.reader())
        .await?;
        Ok(found)
    }

    async fn touch_session(
        &self,
        token_hash: &[u8],
        now: i64,
        stale: i64,
        origin: &Origin,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, address = $4, user_agent = $5 \
             WHERE token_hash = $1 AND last_seen_at <= $3",
        )
        .bind(token_hash)
        .bind(now)
        .bind(stale)
        .bind(origin.address.as_deref())
        .bind(origin.user_agent.as_deref())
        .execute(self.backend.writer())
        .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.backend.writer())
            .await?;
        Ok(())
    }

    async fn sessions(&self, user_id: i64, now: i64) -> anyhow::Result<Vec<SessionRecord>> {
        let sessions = sqlx::query_as(
            "SELECT token_hash, public_id, created_at, last_seen_at, expires_at, address, user_agent \
             FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY last_seen_at DESC, created_at DESC, public_id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.backend.reader())
        .await?;
        Ok(sessions)
    }

    async fn revoke_session(
        &self,
        user_id: i64,
        public_id: &str,
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
        let deleted =
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND public_id = $2 AND expires_at > $3")
                .bind(user_id)
                .bind(public_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        if deleted.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        Self::insert_events(&mut tx, user_id, &[EventKind::SessionRevoked {}], origin, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(true)
    }

    async fn revoke_other_sessions(
        &self,
        user_id: i64,
        keep: &[u8],
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<u32> {
        let mut tx = self.backend.begin_write().await?;
        // Expired sessions are deleted too (they are no longer a session to anyone) but not counted.
        let revoked: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING expires_at",
        )
        .bind(user_id)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        let count =
            u32::try_from(revoked.iter().filter(|&&expires_at| expires_at > now).count()).unwrap_or(u32::MAX);
        if count > 0 {
            Self::insert_events(&mut tx, user_id, &[EventKind::SessionsRevoked { count }], origin, now)
                .await?;
        }
        tx.commit().await?;
        if count > 0 {
            self.events_recorded.notify_one();
        }
        Ok(count)
    }

    async fn record_events(
        &self,
        user_id: i64,
        events: &[EventKind],
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        // One statement: its own transaction.
        let mut connection = self.backend.writer().acquire().await?;
        Self::insert_events(&mut connection, user_id, events, origin, now).await?;
        self.events_recorded.notify_one();
        Ok(())
    }

    async fn events(
        &self,
        user_id: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> anyhow::Result<Vec<EventRecord>> {
        // One statement for both filters: a NULL parameter leaves its filter out.
        let events = sqlx::query_as(
            "SELECT events.id, users.username, events.type, events.details, events.address, \
             events.user_agent, events.at FROM events JOIN users ON users.id = events.user_id \
             WHERE ($1 IS NULL OR events.user_id = $1) AND ($2 IS NULL OR events.id < $2) \
             ORDER BY events.id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.backend.reader())
        .await?;
        Ok(events)
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<OutboxRecord>> {
        // A read first: most of the time nothing is due, and SQLite's writer lock is not taken for it.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT event_id FROM outbox \
             WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) LIMIT 1",
        )
        .bind(now)
        .fetch_optional(self.backend.reader())
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let sql = if B::SKIPS_LOCKED_ROWS { CLAIM_OUTBOX_SKIP_LOCKED } else { CLAIM_OUTBOX };
        let mut claimed: Vec<OutboxRecord> = sqlx::query_as(sql)
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(self.backend.writer())
            .await?;
        claimed.sort_by_key(|row| row.event.id);
        Ok(claimed)
    }

    async fn settle_outbox(&self, settled: &[(i64, Delivered)]) -> anyhow::Result<()> {
        if settled.is_empty() {
            return Ok(());
        }
        let mut tx = self.backend.begin_write().await?;
        // Delivered rows (nearly all) go in one statement per [`DELETE_OUTBOX_ROWS`] ids, not one each.
        let done: Vec<i64> = settled
            .iter()
            .filter_map(|&(event_id, delivered)| (delivered == Delivered::Done).then_some(event_id))
            .collect();
        for ids in done.chunks(DELETE_OUTBOX_ROWS) {
            let mut query = sqlx::query(DELETE_OUTBOX);
            for i in 0..DELETE_OUTBOX_ROWS {
                // The list is filled up with its last id, which changes nothing.
                query = query.bind(ids.get(i).or(ids.last()).copied());
            }
            query.execute(&mut *tx).await?;
        }
        for &(event_id, delivered) in settled {
            if let Delivered::Retry { next_attempt_at, logged, failed } = delivered {
                sqlx::query(
                    "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $2, logged = $3, \
                     attempts = attempts + $4 WHERE event_id = $1",
                )
                .bind(event_id)
                .bind(next_attempt_at)
                .bind(i64::from(logged))
                .bind(i64::from(failed))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    fn events_recorded(&self) -> &Notify {
        &self.events_recorded
    }

    async fn policy(&self) -> anyhow::Result<Policy> {
        let required: Option<i64> = sqlx::query_scalar("SELECT two_factor_required FROM policy WHERE id = 1")
            .fetch_optional(self.backend.reader())
            .await?;
        Ok(Policy { two_factor_required: required.unwrap_or(0) != 0 })
    }

    async fn set_policy(&self, policy: Policy) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO policy (id, two_factor_required) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET two_factor_required = $1",
        )
        .bind(i64::from(policy.two_factor_required))
        .execute(self.backend.writer())
        .await?;
        Ok(())
    }

    async fn challenge_owner(&self, hash: &[u8], now: i64) -> anyhow::Result<Option<UserRecord>> {
        let user = sqlx::query_as(
            "SELECT * FROM users WHERE id = (SELECT user_id FROM challenges \
             WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL)",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(self.backend.reader())
        .await?;
        Ok(user)
    }

    async fn complete_second_factor(
        &self,
        attempt: SecondFactorAttempt<'_>,
    ) -> anyhow::Result<SecondFactorOutcome> {
        let SecondFactorAttempt { user_id, challenge_hash, spend, session, origin, now } = attempt;
        let subject = user_id.to_string();
        // A right TOTP code, the common case, in one round trip: one statement on PostgreSQL; on SQLite
        // one script, shared with the right codes that arrive meanwhile (a group commit). When it
        // changed nothing, the general path below finds out why in a transaction of its own.
        if let Spend::Totp { sealed_secret, step } = spend {
            let (kind, details) = event_columns(&EventKind::SignIn { method: SignInMethod::Totp })?;
            let sign_in = TotpSignIn {
                user_id,
                subject: subject.clone(),
                sealed_secret: sealed_secret.to_vec(),
                step,
                now,
                challenge_hash: challenge_hash.to_vec(),
                token_hash: session.credential.hash.to_vec(),
                expires_at: session.credential.expires_at,
                public_id: session.public_id.to_owned(),
                address: origin.address.clone(),
                user_agent: origin.user_agent.clone(),
                kind,
                details,
            };
            let signed_in = if B::DATA_MODIFYING_CTES {
                let statement = sign_in.bind(sqlx::query_scalar(SIGN_IN_WITH_TOTP));
                self.in_one_round_trip(statement).await?.first() == Some(&1)
            } else {
                self.group_commit.sign_in(self.backend.writer(), sign_in).await?
            };
            if signed_in {
                self.events_recorded.notify_one();
                return Ok(SecondFactorOutcome::SignedIn { backup_codes_remaining: None });
            }
            // Nothing changed: the general path below finds out why, and counts it.
        }
        let mut tx = self.backend.begin_write().await?;
        // The hard lock first (rule 10); this write also takes the account's row lock, so the second
        // factors of one account run one after the other.
        let counted: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET second_factor_failures = second_factor_failures + 1 \
             WHERE id = $1 AND second_factor_failures < $2 RETURNING second_factor_failures",
        )
        .bind(user_id)
        .bind(SECOND_FACTOR_LOCK_AFTER)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(failures) = counted else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.rollback().await?;
            return Ok(match exists {
                Some(_) => SecondFactorOutcome::Locked,
                None => SecondFactorOutcome::ChallengeGone,
            });
        };
        // Then the back-off (rule 5); a 429 is not an attempt, so nothing of this one stays.
        let backs_off = match Self::count_attempt(&mut tx, Scope::Verify, &subject, now).await? {
            Throttle::Allowed { backs_off } => backs_off,
            Throttle::Locked { until } => {
                tx.rollback().await?;
                return Ok(SecondFactorOutcome::Throttled { until });
            }
        };
        let backup_codes_remaining = match Self::spend(&mut tx, user_id, spend, now).await? {
            Ok(remaining) => remaining,
            Err((outcome, Counted::Yes)) => {
                let reason = if outcome == SecondFactorOutcome::CodeAlreadyUsed {
                    SignInFailure::CodeAlreadyUsed
                } else {
                    SignInFailure::InvalidCode
                };
                let mut events = vec![EventKind::SignInFailed { reason }];
                if backs_off {
                    events.push(EventKind::Throttled { scope: ThrottleScope::SecondFactor });
                }
                if failures >= SECOND_FACTOR_LOCK_AFTER {
                    events.push(EventKind::SecondFactorLocked {});
                }
                Self::insert_events(&mut tx, user_id, &events, origin, now).await?;
                tx.commit().await?;
                self.events_recorded.notify_one();
                return Ok(outcome);
            }
            Err((outcome, Counted::No)) => {
                tx.rollback().await?;
                return Ok(outcome);
            }
        };
        // A challenge completed meanwhile by a parallel request (or expired) loses here, and the
        // rollback leaves its proof unspent (rule 12).
        let consumed = sqlx::query(
            "UPDATE challenges SET used_at = $2 \
             WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL",
        )
        .bind(challenge_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if consumed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(SecondFactorOutcome::ChallengeGone);
        }
        sqlx::query("UPDATE users SET second_factor_failures = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Self::clear_count(&mut tx, Scope::Verify, &subject).await?;
        Self::insert_session(&mut tx, user_id, session, origin, now).await?;
        let method = match spend {
            Spend::BackupCode { .. } => SignInMethod::BackupCode,
            Spend::Totp { .. } | Spend::Nothing => SignInMethod::Totp,
        };
        Self::insert_events(&mut tx, user_id, &[EventKind::SignIn { method }], origin, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(SecondFactorOutcome::SignedIn { backup_codes_remaining })
    }

    async fn set_pending_enrollment(
        &self,
        user_id: i64,
        secret: &[u8],
        expires_at: i64,
    ) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET pending_secret = $2, pending_expires_at = $3 \
             WHERE id = $1 AND totp_secret IS NULL",
        )
        .bind(user_id)
        .bind(secret)
        .bind(expires_at)
        .execute(self.backend.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn clear_pending_enrollment(&self, user_id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE users SET pending_secret = NULL, pending_expires_at = NULL WHERE id = $1")
            .bind(user_id)
            .execute(self.backend.writer())
            .await?;
        Ok(())
    }

    async fn confirm_enrollment(&self, confirmation: Confirmation<'_>) -> anyhow::Result<ConfirmOutcome> {
        let Confirmation { user_id, secret, step, backup_code_hashes, origin, now } = confirmation;
        let mut tx = self.backend.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret = pending_secret, totp_enabled_at = $4, \
             last_totp_step = $3, pending_secret = NULL, pending_expires_at = NULL \
             WHERE id = $1 AND totp_secret IS NULL AND pending_secret = $2 \
             AND pending_expires_at > $4 AND (last_totp_step IS NULL OR last_totp_step < $3)",
        )
        .bind(user_id)
        .bind(secret)
        .bind(step)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            let replayed: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE id = $1 AND totp_secret IS NULL AND pending_secret = $2 \
                 AND pending_expires_at > $4 AND last_totp_step >= $3",
            )
            .bind(user_id)
            .bind(secret)
            .bind(step)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(match replayed {
                Some(_) => ConfirmOutcome::StepAlreadyUsed,
                None => ConfirmOutcome::NoPending,
            });
        }
        Self::put_backup_codes(&mut tx, user_id, backup_code_hashes).await?;
        Self::clear_count(&mut tx, Scope::Verify, &user_id.to_string()).await?;
        Self::insert_events(&mut tx, user_id, &[EventKind::TwoFactorEnabled {}], origin, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(ConfirmOutcome::Enabled)
    }

    async fn backup_codes_remaining(&self, user_id: i64) -> anyhow::Result<u32> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id)
                .fetch_one(self.backend.reader())
                .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[Vec<u8>],
        origin: &Origin,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
        // A no-op write first: it takes the row lock and checks that 2FA is on.
        let enabled = sqlx::query(
            "UPDATE users SET totp_enabled_at = totp_enabled_at WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if enabled.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        Self::put_backup_codes(&mut tx, user_id, hashes).await?;
        Self::insert_events(&mut tx, user_id, &[EventKind::BackupCodesRegenerated {}], origin, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(true)
    }

    async fn disable_two_factor(&self, user_id: i64, origin: &Origin, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, pending_secret = NULL, \
             pending_expires_at = NULL WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        Self::insert_events(&mut tx, user_id, &[EventKind::TwoFactorDisabled {}], origin, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(true)
    }

    async fn reset_two_factor(&self, username: &str, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, pending_secret = NULL, \
             pending_expires_at = NULL, second_factor_failures = 0 WHERE username = $1 RETURNING id",
        )
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(false);
        };
        for sql in [
            "DELETE FROM backup_codes WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM challenges WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        Self::clear_count(&mut tx, Scope::Verify, &id.to_string()).await?;
        Self::insert_events(&mut tx, id, &[EventKind::TwoFactorReset {}], &Origin::ADMIN, now).await?;
        tx.commit().await?;
        self.events_recorded.notify_one();
        Ok(true)
    }

    async fn unlock_second_factor(&self, username: &str, now: i64) -> anyhow::Result<Unlock> {
        let mut tx = self.backend.begin_write().await?;
        let before: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, second_factor_failures FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((id, failures)) = before else {
            tx.rollback().await?;
            return Ok(Unlock::NoSuchUser);
        };
        sqlx::query("UPDATE users SET second_factor_failures = 0 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::clear_count(&mut tx, Scope::Verify, &id.to_string()).await?;
        let unlocked = failures >= SECOND_FACTOR_LOCK_AFTER;
        if unlocked {
            Self::insert_events(&mut tx, id, &[EventKind::SecondFactorUnlocked {}], &Origin::ADMIN, now)
                .await?;
        }
        tx.commit().await?;
        Ok(if unlocked { Unlock::Unlocked } else { Unlock::WasNotLocked })
    }

    async fn throttle_attempt(&self, scope: Scope, subject: &str, now: i64) -> anyhow::Result<Throttle> {
        let mut connection = self.backend.writer().acquire().await?;
        Self::count_attempt(&mut connection, scope, subject, now).await
    }

    async fn throttle_reset(&self, scope: Scope, subject: &str) -> anyhow::Result<()> {
        let mut connection = self.backend.writer().acquire().await?;
        Self::clear_count(&mut connection, scope, subject).await
    }

    async fn purge_expired(&self, now: i64, events_before: i64) -> anyhow::Result<Purged> {
        let pool = self.backend.writer();
        let throttles = sqlx::query(
            "DELETE FROM throttles WHERE updated_at <= $1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(now - THROTTLE_IDLE_PURGE_S)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected();
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(pool).await?;
        let challenges =
            sqlx::query("DELETE FROM challenges WHERE expires_at <= $1").bind(now).execute(pool).await?;
        let events =
            sqlx::query("DELETE FROM events WHERE at < $1").bind(events_before).execute(pool).await?;
        // A row that a server holds right now is left to it.
        let undelivered = sqlx::query(
            "DELETE FROM outbox WHERE at < $1 AND (claimed_until IS NULL OR claimed_until <= $2)",
        )
        .bind(events_before)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(Purged {
            throttles,
            sessions: sessions.rows_affected(),
            challenges: challenges.rows_affected(),
            events: events.rows_affected(),
            undelivered: undelivered.rows_affected(),
        })
    }

    async fn key_check(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let value = sqlx::query_scalar("SELECT check_value FROM server_key_check WHERE id = 1")
            .fetch_optional(self.backend.reader())
            .await?;
        Ok(value)
    }

    async fn record_key_check(&self, value: &[u8]) -> anyhow::Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_key_check (id, check_value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(value)
        .execute(self.backend.writer())
        .await?;
        let recorded = sqlx::query_scalar("SELECT check_value FROM server_key_check WHERE id = 1")
            .fetch_one(self.backend.writer())
            .await?;
        Ok(recorded)
    }

    async fn any_sealed_secret(&self) -> anyhow::Result<Option<(i64, Vec<u8>)>> {
        let found = sqlx::query_as(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(self.backend.reader())
        .await?;
        Ok(found)
    }

    fn pool_connections(&self) -> (u32, usize) {
        let pools = self.backend.pools();
        (pools.iter().map(|pool| pool.size()).sum(), pools.iter().map(|pool| pool.num_idle()).sum())
    }

    async fn close(&self) {
        self.backend.close().await;
    }
}
