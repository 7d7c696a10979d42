//! Thin handlers: parse, ask the store, answer. Statuses are chosen only in `ApiError`.

pub mod auth;
pub mod two_factor;

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use time::OffsetDateTime;

use super::AppState;
use super::crypto::{HashKind, random_token};
use super::error::ApiError;
use super::store::{Scope, Throttle, UserRecord};
use crate::domain::{SecretString, Session};

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The account behind `Authorization: Bearer <token>`; 401 `unauthorized` otherwise.
pub struct AuthUser {
    pub user: UserRecord,
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header =
            parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::Unauthorized);
        }
        let token_hash = state.keys.lookup_hash(HashKind::SessionToken, token);
        let user =
            state.store.session_user(&token_hash, state.clock.unix()).await?.ok_or(ApiError::Unauthorized)?;
        Ok(Self { user, token_hash })
    }
}

impl AppState {
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
        let expires_at = now + super::SESSION_TTL_S;
        let hash = self.keys.lookup_hash(HashKind::SessionToken, token.expose());
        self.store.create_session(&hash, user_id, expires_at, now).await?;
        Ok(Session { token, expires_at: timestamp(expires_at)?, backup_codes_remaining })
    }
}

pub(crate) fn timestamp(unix: i64) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("bad time {unix}: {e}")))
}
