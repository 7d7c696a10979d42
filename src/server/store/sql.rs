//! [`Store`] written once over SQL that SQLite and PostgreSQL both understand: `$N` placeholders,
//! `INSERT … ON CONFLICT … RETURNING`, integer Unix times and byte columns.
//!
//! The `where` clauses name what the SQL needs of a sqlx database (an executor for its connections and
//! the column types used here); both back ends have all of it, so they hold for `SqlStore<B>` as soon as
//! `B` is a [`Backend`].

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::{
    Backend, BackupCodeOutcome, ConfirmOutcome, RowsAffected as _, Scope, Store, THROTTLE, Throttle,
    UserRecord,
};

/// The store over a back end `B`; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self { backend }
    }
}

/// Connection of the back end `B`.
type Connection<B> = <<B as Backend>::Db as Database>::Connection;

/// Helpers that two `Store` methods share; they require only what they bind.
impl<B: Backend> SqlStore<B>
where
    for<'c> &'c mut Connection<B>: Executor<'c, Database = B::Db>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'v> i64: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v [u8]: Encode<'v, B::Db> + Type<B::Db>,
{
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
        let pool = self.backend.pool();
        sqlx::query(purge_expired).bind(now).execute(pool).await?;
        sqlx::query(insert).bind(hash).bind(user_id).bind(expires_at).execute(pool).await?;
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
}

impl<B: Backend> Store for SqlStore<B>
where
    for<'c> &'c mut Connection<B>: Executor<'c, Database = B::Db>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
    for<'v> i64: Encode<'v, B::Db> + Decode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v str: Encode<'v, B::Db> + Type<B::Db>,
    for<'v> &'v [u8]: Encode<'v, B::Db> + Type<B::Db>,
    for<'r> UserRecord: FromRow<'r, <B::Db as Database>::Row>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
{
    async fn create_user(&self, username: &str, password_hash: &str, now: i64) -> anyhow::Result<bool> {
        let result =
            sqlx::query("INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3)")
                .bind(username)
                .bind(password_hash)
                .bind(now)
                .execute(self.backend.pool())
                .await;
        match result {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(anyhow::Error::from(e).context("cannot create the user")),
        }
    }

    // `UserRecord` reads its columns by name and ignores the others (`created_at`), so the three user
    // queries say `SELECT *` rather than repeating the column list.
    async fn user_by_name(&self, username: &str) -> anyhow::Result<Option<UserRecord>> {
        let user = sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.backend.pool())
            .await?;
        Ok(user)
    }

    async fn user_by_id(&self, id: i64) -> anyhow::Result<Option<UserRecord>> {
        let user = sqlx::query_as("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.backend.pool())
            .await?;
        Ok(user)
    }

    async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> anyhow::Result<()> {
        self.insert_expiring(
            "DELETE FROM sessions WHERE expires_at <= $1",
            "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            token_hash,
            user_id,
            expires_at,
            now,
        )
        .await
    }

    async fn session_user(&self, token_hash: &[u8], now: i64) -> anyhow::Result<Option<UserRecord>> {
        let user = sqlx::query_as(
            "SELECT * FROM users \
             WHERE id = (SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.backend.pool())
        .await?;
        Ok(user)
    }

    async fn delete_session(&self, token_hash: &[u8]) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.backend.pool())
            .await?;
        Ok(())
    }

    async fn create_challenge(
        &self,
        hash: &[u8],
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> anyhow::Result<()> {
        self.insert_expiring(
            "DELETE FROM challenges WHERE expires_at <= $1",
            "INSERT INTO challenges (challenge_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            hash,
            user_id,
            expires_at,
            now,
        )
        .await
    }

    async fn challenge_user(&self, hash: &[u8], now: i64) -> anyhow::Result<Option<i64>> {
        let user_id = sqlx::query_scalar(
            "SELECT user_id FROM challenges WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(self.backend.pool())
        .await?;
        Ok(user_id)
    }

    async fn consume_challenge(&self, hash: &[u8], now: i64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE challenges SET used_at = $2 \
             WHERE challenge_hash = $1 AND expires_at > $2 AND used_at IS NULL",
        )
        .bind(hash)
        .bind(now)
        .execute(self.backend.pool())
        .await?;
        Ok(done.rows_affected() == 1)
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
        .execute(self.backend.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn clear_pending_enrollment(&self, user_id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE users SET pending_secret = NULL, pending_expires_at = NULL WHERE id = $1")
            .bind(user_id)
            .execute(self.backend.pool())
            .await?;
        Ok(())
    }

    async fn confirm_enrollment(
        &self,
        user_id: i64,
        secret: &[u8],
        step: i64,
        now: i64,
        backup_code_hashes: &[Vec<u8>],
    ) -> anyhow::Result<ConfirmOutcome> {
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
        tx.commit().await?;
        Ok(ConfirmOutcome::Enabled)
    }

    async fn accept_totp_step(&self, user_id: i64, step: i64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET last_totp_step = $2 WHERE id = $1 AND totp_secret IS NOT NULL \
             AND (last_totp_step IS NULL OR last_totp_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(self.backend.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_backup_code(
        &self,
        user_id: i64,
        hash: &[u8],
        now: i64,
    ) -> anyhow::Result<BackupCodeOutcome> {
        let done = sqlx::query(
            "UPDATE backup_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(self.backend.pool())
        .await?;
        if done.rows_affected() == 1 {
            let remaining = self.backup_codes_remaining(user_id).await?;
            return Ok(BackupCodeOutcome::Accepted { remaining });
        }
        let used: Option<Option<i64>> =
            sqlx::query_scalar("SELECT used_at FROM backup_codes WHERE user_id = $1 AND code_hash = $2")
                .bind(user_id)
                .bind(hash)
                .fetch_optional(self.backend.pool())
                .await?;
        Ok(match used {
            Some(Some(_)) => BackupCodeOutcome::AlreadyUsed,
            Some(None) | None => BackupCodeOutcome::Unknown,
        })
    }

    async fn backup_codes_remaining(&self, user_id: i64) -> anyhow::Result<u32> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id)
                .fetch_one(self.backend.pool())
                .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn replace_backup_codes(&self, user_id: i64, hashes: &[Vec<u8>]) -> anyhow::Result<bool> {
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
        tx.commit().await?;
        Ok(true)
    }

    async fn disable_two_factor(&self, user_id: i64) -> anyhow::Result<bool> {
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
        tx.commit().await?;
        Ok(true)
    }

    async fn reset_two_factor(&self, username: &str) -> anyhow::Result<bool> {
        let mut tx = self.backend.begin_write().await?;
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
            .bind(Scope::Verify.as_str())
            .bind(id.to_string().as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn throttle_attempt(&self, scope: Scope, subject: &str, now: i64) -> anyhow::Result<Throttle> {
        // Counted before the check so that parallel guesses cannot slip past the limit; the attempt
        // that reaches the threshold sets the back-off at once (cleared on success). Back-off:
        // first_s << (failures - threshold) until it reaches max_s ($4 to $7 come from THROTTLE).
        let counted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO throttles (scope, subject, failures, locked_until) VALUES ($1, $2, 1, NULL) \
             ON CONFLICT (scope, subject) DO UPDATE SET \
               failures = throttles.failures + 1, \
               locked_until = CASE \
                 WHEN throttles.failures + 1 < $4 THEN NULL \
                 WHEN throttles.failures + 1 >= $5 THEN $3 + $7 \
                 ELSE $3 + ($6 << CAST(throttles.failures + 1 - $4 AS INTEGER)) END \
             WHERE throttles.locked_until IS NULL OR throttles.locked_until <= $3 \
             RETURNING failures",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(now)
        .bind(THROTTLE.threshold)
        .bind(THROTTLE.capped_from())
        .bind(THROTTLE.first_s)
        .bind(THROTTLE.max_s)
        .fetch_optional(self.backend.pool())
        .await?;
        if counted.is_some() {
            return Ok(Throttle::Allowed);
        }
        let until: Option<Option<i64>> =
            sqlx::query_scalar("SELECT locked_until FROM throttles WHERE scope = $1 AND subject = $2")
                .bind(scope.as_str())
                .bind(subject)
                .fetch_optional(self.backend.pool())
                .await?;
        // The back-off may have ended (or been reset) between the two statements.
        Ok(Throttle::Locked { until: until.flatten().unwrap_or(now + 1).max(now + 1) })
    }

    async fn throttle_reset(&self, scope: Scope, subject: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM throttles WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(self.backend.pool())
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.backend.pool().close().await;
    }
}
