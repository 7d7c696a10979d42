//! What the server does for each request, apart from HTTP: handlers in `routes` parse, call one function
//! here, and answer. Errors are [`ApiError`]s, which name the API's error codes.

pub mod activity;
pub mod signin;
pub mod two_factor;

use std::time::Duration;

use time::OffsetDateTime;

use super::Services;
use super::error::ApiError;
use super::store::{Origin, Scope, Store, Throttle, UserRecord};
use crate::domain::{EventKind, SecretString, ThrottleScope};

/// An attempt allowed by its throttle; it counts as a failure until the count is reset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt {
    /// Should this attempt fail, a back-off starts with it: the `throttled` event.
    backs_off: bool,
}

impl Attempt {
    /// The `throttled` event of a failed attempt in `scope`, if its failure starts a back-off.
    pub(crate) fn throttled(self, scope: ThrottleScope) -> Option<EventKind> {
        self.backs_off.then_some(EventKind::Throttled { scope })
    }
}

impl<S: Store> Services<S> {
    /// Counts an attempt for throttling, or refuses it with 429 while a back-off runs.
    pub(crate) async fn attempt(&self, scope: Scope, subject: &str, now: i64) -> Result<Attempt, ApiError> {
        match self.store.throttle_attempt(scope, subject, now).await? {
            Throttle::Allowed { backs_off } => Ok(Attempt { backs_off }),
            Throttle::Locked { until } => Err(too_many_attempts(until, now)),
        }
    }

    /// Password re-entry of a signed-in user: throttled with the second factor, per account. A place
    /// in the hashing queue is taken first, so a 503 for a full queue is not counted as a failure. A
    /// wrong password is no sign-in: its only event is `throttled` when it starts a back-off.
    pub(crate) async fn reenter_password(
        &self,
        user: &UserRecord,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        let ticket = self.passwords.reserve()?;
        let subject = user.id.to_string();
        let now = self.clock.unix();
        let attempt = self.attempt(Scope::Verify, &subject, now).await?;
        if !self.passwords.verify(ticket, password, Some(&user.password_hash)).await? {
            if let Some(throttled) = attempt.throttled(ThrottleScope::Password) {
                self.store.record_events(user.id, &[throttled], origin, now).await?;
            }
            return Err(ApiError::InvalidPassword);
        }
        self.store.throttle_reset(Scope::Verify, &subject).await?;
        Ok(())
    }
}

/// 429 `too_many_attempts` for a back-off running until `until`.
pub(crate) fn too_many_attempts(until: i64, now: i64) -> ApiError {
    let seconds = u64::try_from(until.saturating_sub(now)).unwrap_or(1).max(1);
    ApiError::TooManyAttempts { retry_after: Duration::from_secs(seconds) }
}

pub(crate) fn timestamp(unix: i64) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("bad time {unix}: {e}")))
}
