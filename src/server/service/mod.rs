//! What the server does for each request, apart from HTTP: handlers in `routes` parse, call one function
//! here, and answer. Errors are [`ApiError`]s, which name the API's error codes.

pub mod signin;
pub mod two_factor;

use std::time::Duration;

use time::OffsetDateTime;

use super::crypto::{HashKind, random_token};
use super::error::ApiError;
use super::store::{Scope, Store, Throttle, UserRecord};
use super::{SESSION_TTL_S, Services};
use crate::domain::{SecretString, Session};

impl<S: Store> Services<S> {
    /// Counts an attempt for throttling, or refuses it with 429 while a back-off runs.
    pub(crate) async fn attempt(&self, scope: Scope, subject: &str, now: i64) -> Result<(), ApiError> {
        match self.store.throttle_attempt(scope, subject, now).await? {
            Throttle::Allowed => Ok(()),
            Throttle::Locked { until } => {
                let seconds = u64::try_from(until.saturating_sub(now)).unwrap_or(1).max(1);
                Err(ApiError::TooManyAttempts { retry_after: Duration::from_secs(seconds) })
            }
        }
    }

    /// Password re-entry of a signed-in user: throttled with the second factor, per account.
    pub(crate) async fn reenter_password(
        &self,
        user: &UserRecord,
        password: &SecretString,
    ) -> Result<(), ApiError> {
        let subject = user.id.to_string();
        self.attempt(Scope::Verify, &subject, self.clock.unix()).await?;
        if !self.passwords.verify(password, Some(&user.password_hash)).await? {
            return Err(ApiError::InvalidPassword);
        }
        self.store.throttle_reset(Scope::Verify, &subject).await?;
        Ok(())
    }

    /// A new session token for `user_id`; only its keyed hash is stored.
    pub(crate) async fn issue_session(
        &self,
        user_id: i64,
        now: i64,
        backup_codes_remaining: Option<u32>,
    ) -> Result<Session, ApiError> {
        let token = random_token();
        let expires_at = now + SESSION_TTL_S;
        let hash = self.keys.lookup_hash(HashKind::SessionToken, token.expose());
        self.store.create_session(&hash, user_id, expires_at, now).await?;
        Ok(Session { token, expires_at: timestamp(expires_at)?, backup_codes_remaining })
    }
}

pub(crate) fn timestamp(unix: i64) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("bad time {unix}: {e}")))
}
