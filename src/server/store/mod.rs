//! Storage behind one small trait, with an SQLite and a PostgreSQL implementation.
//!
//! Every rule that must hold across server processes (single-use codes, TOTP replay, throttling counts)
//! is one conditional SQL statement whose row count decides, never a read-then-write across an await.
//! Both back-ends share the SQL text (`$N` placeholders work in SQLite too) through [`impl_sql_store`].

mod postgres;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use futures_util::future::BoxFuture;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Future returned by every [`Store`] method.
pub type StoreFuture<'a, T> = BoxFuture<'a, anyhow::Result<T>>;

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

/// Failures in a row after which the back-off starts.
pub const THROTTLE_THRESHOLD: i64 = 5;

/// The storage the server needs; small on purpose.
pub trait Store: Send + Sync + 'static {
    /// `Ok(false)` when the username is taken.
    fn create_user<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        now: i64,
    ) -> StoreFuture<'a, bool>;
    fn user_by_name<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>>;
    fn user_by_id(&self, id: i64) -> StoreFuture<'_, Option<UserRecord>>;

    /// Stores a session and drops the expired ones.
    fn create_session<'a>(
        &'a self,
        token_hash: &'a [u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> StoreFuture<'a, ()>;
    /// The owner of a live session.
    fn session_user<'a>(&'a self, token_hash: &'a [u8], now: i64) -> StoreFuture<'a, Option<UserRecord>>;
    fn delete_session<'a>(&'a self, token_hash: &'a [u8]) -> StoreFuture<'a, ()>;

    /// Stores a login challenge and drops the expired ones.
    fn create_challenge<'a>(
        &'a self,
        hash: &'a [u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> StoreFuture<'a, ()>;
    /// The user of a live, unused challenge.
    fn challenge_user<'a>(&'a self, hash: &'a [u8], now: i64) -> StoreFuture<'a, Option<i64>>;
    /// Marks a live challenge used; `false` if it was not live any more.
    fn consume_challenge<'a>(&'a self, hash: &'a [u8], now: i64) -> StoreFuture<'a, bool>;

    /// Starts or replaces a pending enrollment; `false` when 2FA is already on.
    fn set_pending_enrollment<'a>(
        &'a self,
        user_id: i64,
        secret: &'a [u8],
        expires_at: i64,
    ) -> StoreFuture<'a, bool>;
    fn clear_pending_enrollment(&self, user_id: i64) -> StoreFuture<'_, ()>;
    /// Turns the pending `secret` into the active one, records `step` and stores the backup codes.
    fn confirm_enrollment<'a>(
        &'a self,
        user_id: i64,
        secret: &'a [u8],
        step: i64,
        now: i64,
        backup_code_hashes: &'a [Vec<u8>],
    ) -> StoreFuture<'a, ConfirmOutcome>;
    /// Records `step` as used; `false` when a code for this step or a later one was already accepted.
    fn accept_totp_step(&self, user_id: i64, step: i64) -> StoreFuture<'_, bool>;

    fn use_backup_code<'a>(
        &'a self,
        user_id: i64,
        hash: &'a [u8],
        now: i64,
    ) -> StoreFuture<'a, BackupCodeOutcome>;
    fn backup_codes_remaining(&self, user_id: i64) -> StoreFuture<'_, u32>;
    /// Replaces all backup codes; `false` when 2FA is off.
    fn replace_backup_codes<'a>(&'a self, user_id: i64, hashes: &'a [Vec<u8>]) -> StoreFuture<'a, bool>;
    /// Deletes the secret and the backup codes; `false` when 2FA was off.
    fn disable_two_factor(&self, user_id: i64) -> StoreFuture<'_, bool>;
    /// Support's reset: 2FA off, backup codes, sessions, challenges and counters gone. `false` if no such user.
    fn reset_two_factor<'a>(&'a self, username: &'a str) -> StoreFuture<'a, bool>;

    /// Counts one attempt (as a failure until reset) unless a back-off is in force.
    fn throttle_attempt<'a>(&'a self, scope: Scope, subject: &'a str, now: i64) -> StoreFuture<'a, Throttle>;
    /// A success: the count starts again from zero.
    fn throttle_reset<'a>(&'a self, scope: Scope, subject: &'a str) -> StoreFuture<'a, ()>;

    /// Closes the connections gracefully (SQLite checkpoints its WAL when the last one closes).
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// Where a database lives, as far as the key file is concerned.
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    /// The SQLite file, when the database is one (not in memory).
    pub sqlite_file: Option<PathBuf>,
    pub is_postgres: bool,
}

/// Opens (creating if missing) the database at `url` and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<OpenedStore> {
    if is_postgres_url(url) {
        let store = PostgresStore::connect(url).await?;
        Ok(OpenedStore { store: Arc::new(store), sqlite_file: None, is_postgres: true })
    } else if url.starts_with("sqlite:") {
        let (store, file) = SqliteStore::connect(url).await?;
        Ok(OpenedStore { store: Arc::new(store), sqlite_file: file, is_postgres: false })
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

/// The shared implementation: `$store` must have `pool` and an inherent `begin_write()`.
macro_rules! impl_sql_store {
    ($store:ty) => {
        impl $store {
            /// Stores a hashed, expiring credential (a session or a login challenge) for `user_id`, and
            /// first drops the expired ones of its kind so the table does not grow without bound.
            async fn insert_expiring(
                &self,
                purge_expired: &'static str,
                insert: &'static str,
                hash: &[u8],
                user_id: i64,
                expires_at: i64,
                now: i64,
            ) -> anyhow::Result<()> {
                sqlx::query(purge_expired).bind(now).execute(&self.pool).await?;
                sqlx::query(insert).bind(hash).bind(user_id).bind(expires_at).execute(&self.pool).await?;
                Ok(())
            }
        }

        impl $crate::server::store::Store for $store {
            fn create_user<'a>(
                &'a self,
                username: &'a str,
                password_hash: &'a str,
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, bool> {
                Box::pin(async move {
                    let result =
                        sqlx::query("INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3)")
                            .bind(username)
                            .bind(password_hash)
                            .bind(now)
                            .execute(&self.pool)
                            .await;
                    match result {
                        Ok(_) => Ok(true),
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
                        Err(e) => Err(anyhow::Error::from(e).context("cannot create the user")),
                    }
                })
            }

            fn user_by_name<'a>(
                &'a self,
                username: &'a str,
            ) -> $crate::server::store::StoreFuture<'a, Option<$crate::server::store::UserRecord>> {
                Box::pin(async move {
                    const SQL: &str = $crate::server::store::const_format_user!(" WHERE username = $1");
                    Ok(sqlx::query_as(SQL).bind(username).fetch_optional(&self.pool).await?)
                })
            }

            fn user_by_id(
                &self,
                id: i64,
            ) -> $crate::server::store::StoreFuture<'_, Option<$crate::server::store::UserRecord>> {
                Box::pin(async move {
                    const SQL: &str = $crate::server::store::const_format_user!(" WHERE id = $1");
                    Ok(sqlx::query_as(SQL).bind(id).fetch_optional(&self.pool).await?)
                })
            }

            fn create_session<'a>(
                &'a self,
                token_hash: &'a [u8],
                user_id: i64,
                expires_at: i64,
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, ()> {
                Box::pin(self.insert_expiring(
                    "DELETE FROM sessions WHERE expires_at <= $1",
                    "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                    token_hash,
                    user_id,
                    expires_at,
                    now,
                ))
            }

            fn session_user<'a>(
                &'a self,
                token_hash: &'a [u8],
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, Option<$crate::server::store::UserRecord>> {
                Box::pin(async move {
                    const SQL: &str = $crate::server::store::const_format_user!(
                        " WHERE id = (SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2)"
                    );
                    Ok(sqlx::query_as(SQL).bind(token_hash).bind(now).fetch_optional(&self.pool).await?)
                })
            }

            fn delete_session<'a>(&'a self, token_hash: &'a [u8]) -> $crate::server::store::StoreFuture<'a, ()> {
                Box::pin(async move {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                })
            }

            fn create_challenge<'a>(
                &'a self,
                hash: &'a [u8],
                user_id: i64,
                expires_at: i64,
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, ()> {
                Box::pin(self.insert_expiring(
                    "DELETE FROM challenges WHERE expires_at <= $1",
                    "INSERT INTO challenges (challenge_hash, user_id, expires_at) VALUES ($1, $2, $3)",
                    hash,
                    user_id,
                    expires_at,
                    now,
                ))
            }

            fn challenge_user<'a>(
                &'a self,
                hash: &'a [u8],
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, Option<i64>> {
                Box::pin(async move {
                    Ok(sqlx::query_scalar(
                        "SELECT user_id FROM challenges \
                         WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL",
                    )
                    .bind(hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?)
                })
            }

            fn consume_challenge<'a>(
                &'a self,
                hash: &'a [u8],
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, bool> {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE challenges SET used_at = $2 \
                         WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL",
                    )
                    .bind(hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            }

            fn set_pending_enrollment<'a>(
                &'a self,
                user_id: i64,
                secret: &'a [u8],
                expires_at: i64,
            ) -> $crate::server::store::StoreFuture<'a, bool> {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE users SET pending_secret = $2, pending_expires_at = $3 \
                         WHERE id = $1 AND totp_secret IS NULL",
                    )
                    .bind(user_id)
                    .bind(secret)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            }

            fn clear_pending_enrollment(&self, user_id: i64) -> $crate::server::store::StoreFuture<'_, ()> {
                Box::pin(async move {
                    sqlx::query("UPDATE users SET pending_secret = NULL, pending_expires_at = NULL WHERE id = $1")
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                })
            }

            fn confirm_enrollment<'a>(
                &'a self,
                user_id: i64,
                secret: &'a [u8],
                step: i64,
                now: i64,
                backup_code_hashes: &'a [Vec<u8>],
            ) -> $crate::server::store::StoreFuture<'a, $crate::server::store::ConfirmOutcome> {
                use $crate::server::store::ConfirmOutcome;
                Box::pin(async move {
                    let mut tx = self.begin_write().await?;
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
                    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    for hash in backup_code_hashes {
                        sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
                            .bind(user_id)
                            .bind(hash.as_slice())
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(ConfirmOutcome::Enabled)
                })
            }

            fn accept_totp_step(&self, user_id: i64, step: i64) -> $crate::server::store::StoreFuture<'_, bool> {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE users SET last_totp_step = $2 WHERE id = $1 AND totp_secret IS NOT NULL \
                         AND (last_totp_step IS NULL OR last_totp_step < $2)",
                    )
                    .bind(user_id)
                    .bind(step)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            }

            fn use_backup_code<'a>(
                &'a self,
                user_id: i64,
                hash: &'a [u8],
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, $crate::server::store::BackupCodeOutcome> {
                use $crate::server::store::BackupCodeOutcome;
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE backup_codes SET used_at = $3 \
                         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 1 {
                        let remaining = self.backup_codes_remaining(user_id).await?;
                        return Ok(BackupCodeOutcome::Accepted { remaining });
                    }
                    let used: Option<Option<i64>> =
                        sqlx::query_scalar("SELECT used_at FROM backup_codes WHERE user_id = $1 AND code_hash = $2")
                            .bind(user_id)
                            .bind(hash)
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(match used {
                        Some(Some(_)) => BackupCodeOutcome::AlreadyUsed,
                        Some(None) | None => BackupCodeOutcome::Unknown,
                    })
                })
            }

            fn backup_codes_remaining(&self, user_id: i64) -> $crate::server::store::StoreFuture<'_, u32> {
                Box::pin(async move {
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL")
                            .bind(user_id)
                            .fetch_one(&self.pool)
                            .await?;
                    Ok(u32::try_from(count).unwrap_or(u32::MAX))
                })
            }

            fn replace_backup_codes<'a>(
                &'a self,
                user_id: i64,
                hashes: &'a [Vec<u8>],
            ) -> $crate::server::store::StoreFuture<'a, bool> {
                Box::pin(async move {
                    let mut tx = self.begin_write().await?;
                    // A no-op write first: it takes the row lock and checks that 2FA is on.
                    let enabled = sqlx::query("UPDATE users SET totp_enabled_at = totp_enabled_at WHERE id = $1 AND totp_secret IS NOT NULL")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    if enabled.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    for hash in hashes {
                        sqlx::query("INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)")
                            .bind(user_id)
                            .bind(hash.as_slice())
                            .execute(&mut *tx)
                            .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                })
            }

            fn disable_two_factor(&self, user_id: i64) -> $crate::server::store::StoreFuture<'_, bool> {
                Box::pin(async move {
                    let mut tx = self.begin_write().await?;
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
                    tx.commit().await?;
                    Ok(true)
                })
            }

            fn reset_two_factor<'a>(&'a self, username: &'a str) -> $crate::server::store::StoreFuture<'a, bool> {
                Box::pin(async move {
                    let mut tx = self.begin_write().await?;
                    let id: Option<i64> = sqlx::query_scalar(
                        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, pending_secret = NULL, \
                         pending_expires_at = NULL WHERE username = $1 RETURNING id",
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
                    sqlx::query("DELETE FROM throttles WHERE scope = $1 AND subject = $2")
                        .bind($crate::server::store::Scope::Verify.as_str())
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(true)
                })
            }

            fn throttle_attempt<'a>(
                &'a self,
                scope: $crate::server::store::Scope,
                subject: &'a str,
                now: i64,
            ) -> $crate::server::store::StoreFuture<'a, $crate::server::store::Throttle> {
                use $crate::server::store::Throttle;
                Box::pin(async move {
                    // Counted before the check so that parallel guesses cannot slip past the limit; the
                    // attempt that reaches the threshold sets the back-off at once (cleared on success).
                    // Back-off: 30 s << (failures - 5), at most 900 s.
                    let counted: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO throttles (scope, subject, failures, locked_until) VALUES ($1, $2, 1, NULL) \
                         ON CONFLICT (scope, subject) DO UPDATE SET \
                           failures = throttles.failures + 1, \
                           locked_until = CASE \
                             WHEN throttles.failures + 1 < 5 THEN NULL \
                             WHEN throttles.failures + 1 >= 10 THEN $3 + 900 \
                             ELSE $3 + (30 << CAST(throttles.failures + 1 - 5 AS INTEGER)) END \
                         WHERE throttles.locked_until IS NULL OR throttles.locked_until <= $3 \
                         RETURNING failures",
                    )
                    .bind(scope.as_str())
                    .bind(subject)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    if counted.is_some() {
                        return Ok(Throttle::Allowed);
                    }
                    let until: Option<Option<i64>> =
                        sqlx::query_scalar("SELECT locked_until FROM throttles WHERE scope = $1 AND subject = $2")
                            .bind(scope.as_str())
                            .bind(subject)
                            .fetch_optional(&self.pool)
                            .await?;
                    // The back-off may have ended (or been reset) between the two statements.
                    Ok(Throttle::Locked { until: until.flatten().unwrap_or(now + 1).max(now + 1) })
                })
            }

            fn close(&self) -> futures_util::future::BoxFuture<'_, ()> {
                Box::pin(self.pool.close())
            }

            fn throttle_reset<'a>(
                &'a self,
                scope: $crate::server::store::Scope,
                subject: &'a str,
            ) -> $crate::server::store::StoreFuture<'a, ()> {
                Box::pin(async move {
                    sqlx::query("DELETE FROM throttles WHERE scope = $1 AND subject = $2")
                        .bind(scope.as_str())
                        .bind(subject)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                })
            }
        }
    };
}

/// The columns of [`UserRecord`] followed by a literal suffix, as a `&'static str`.
macro_rules! const_format_user {
    ($suffix:literal) => {
        concat!(
            "SELECT id, username, password_hash, totp_secret, totp_enabled_at, last_totp_step, pending_secret, ",
            "pending_expires_at FROM users",
            $suffix
        )
    };
}

pub(crate) use const_format_user;
pub(crate) use impl_sql_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password() {
        assert_eq!(redact_url("postgres://u:secret@host:5432/db"), "postgres://u:***@host:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
