//! The account summary and the two-factor life cycle: enrolling, confirming, cancelling, new backup
//! codes and disabling. Every change that needs the password re-checks it first (throttled).

use super::signin::SignedIn;
use super::{Attempt, timestamp};
use crate::domain::{
    BACKUP_CODE_COUNT, BackupCodesResponse, ConfirmResponse, DisableResponse, Enrollment, Me, SecretString,
    ThrottleScope, TwoFactorStatus, VerificationCode,
};
use crate::server::crypto::{HashKind, random_backup_code};
use crate::server::error::ApiError;
use crate::server::store::{ConfirmOutcome, Confirmation, Origin, Scope, Store, UserRecord};
use crate::server::{ENROLLMENT_TTL_S, Services, totp};

/// GET /v1/me: who is signed in, where their two-factor setup stands, and the workspace policy; all of
/// it read with the session, in one query.
pub async fn summary<S: Store>(state: &Services<S>, signed_in: SignedIn) -> Result<Me, ApiError> {
    let SignedIn { user, policy, backup_codes_remaining, .. } = signed_in;
    let enabled = user.two_factor_enabled();
    let backup_codes_remaining = if enabled { backup_codes_remaining } else { 0 };
    let enabled_at = match user.totp_enabled_at.filter(|_| enabled) {
        Some(at) => Some(timestamp(at)?),
        None => None,
    };
    let pending_enrollment = !enabled && user.live_pending_secret(state.clock.unix()).is_some();
    Ok(Me {
        username: user.username,
        two_factor: TwoFactorStatus { enabled, enabled_at, backup_codes_remaining, pending_enrollment },
        policy,
    })
}

/// A new pending secret (rule 3), after the password; replaces any pending one.
pub async fn start_enrollment<S: Store>(
    state: &Services<S>,
    user: UserRecord,
    password: &SecretString,
    origin: &Origin,
) -> Result<Enrollment, ApiError> {
    if user.two_factor_enabled() {
        return Err(ApiError::AlreadyEnabled);
    }
    state.reenter_password(&user, password, origin).await?;
    let secret = totp::generate_secret();
    let sealed = state.keys.encrypt_secret(user.id, &secret)?;
    let now = state.clock.unix();
    let expires_at = now + ENROLLMENT_TTL_S;
    // Replaces any pending secret (rule 3); refused if 2FA was turned on meanwhile.
    if !state.store.set_pending_enrollment(user.id, &sealed, expires_at).await? {
        return Err(ApiError::AlreadyEnabled);
    }
    let secret_base32 = totp::secret_base32(&secret);
    let otpauth_uri = totp::otpauth_uri(&state.issuer, &user.username, secret_base32.expose());
    Ok(Enrollment {
        secret: secret_base32,
        otpauth_uri,
        issuer: state.issuer.clone(),
        account: user.username,
        algorithm: totp::ALGORITHM.into(),
        digits: totp::DIGITS,
        period: totp::PERIOD,
        expires_at: timestamp(expires_at)?,
    })
}

/// A code for the pending secret turns 2FA on (its step counts as used) and brings ten backup codes; a
/// session that could only set up 2FA is a full one from now on. A wrong code is no sign-in: its only
/// event is `throttled` when it starts a back-off.
pub async fn confirm_enrollment<S: Store>(
    state: &Services<S>,
    user: &UserRecord,
    code: &SecretString,
    origin: &Origin,
) -> Result<ConfirmResponse, ApiError> {
    let now = state.clock.unix();
    let sealed = user.live_pending_secret(now).ok_or(ApiError::NoPendingEnrollment)?;
    let subject = user.id.to_string();
    let attempt = state.attempt(Scope::Verify, &subject, now).await?;
    let secret = state.keys.decrypt_secret(user.id, sealed)?;
    let step = match VerificationCode::parse(code.expose()) {
        Some(code) => totp::matching_step(&secret, code.expose(), now)?,
        None => None,
    };
    let Some(step) = step else {
        return Err(failed_code(state, user, attempt, ApiError::InvalidCode, origin, now).await);
    };
    let (codes, hashes) = new_backup_codes(state);
    let confirmation =
        Confirmation { user_id: user.id, secret: sealed, step, backup_code_hashes: &hashes, origin, now };
    match state.store.confirm_enrollment(confirmation).await? {
        ConfirmOutcome::Enabled => Ok(ConfirmResponse { enabled: true, backup_codes: codes }),
        ConfirmOutcome::StepAlreadyUsed => {
            Err(failed_code(state, user, attempt, ApiError::CodeAlreadyUsed, origin, now).await)
        }
        ConfirmOutcome::NoPending => Err(ApiError::NoPendingEnrollment),
    }
}

/// `error`, after recording `throttled` if this failed confirmation code starts a back-off.
async fn failed_code<S: Store>(
    state: &Services<S>,
    user: &UserRecord,
    attempt: Attempt,
    error: ApiError,
    origin: &Origin,
    now: i64,
) -> ApiError {
    let Some(throttled) = attempt.throttled(ThrottleScope::SecondFactor) else { return error };
    match state.store.record_events(user.id, &[throttled], origin, now).await {
        Ok(()) => error,
        Err(failed) => failed.into(),
    }
}

/// Drops a pending enrollment; nothing to do when none is pending.
pub async fn cancel_enrollment<S: Store>(state: &Services<S>, user: &UserRecord) -> Result<(), ApiError> {
    state.store.clear_pending_enrollment(user.id).await?;
    Ok(())
}

/// Ten new backup codes after the password; every older one stops working.
pub async fn regenerate_backup_codes<S: Store>(
    state: &Services<S>,
    user: &UserRecord,
    password: &SecretString,
    origin: &Origin,
) -> Result<BackupCodesResponse, ApiError> {
    require_enabled_and_password(state, user, password, origin).await?;
    let (codes, hashes) = new_backup_codes(state);
    if !state.store.replace_backup_codes(user.id, &hashes, origin, state.clock.unix()).await? {
        return Err(ApiError::NotEnabled);
    }
    Ok(BackupCodesResponse { backup_codes: codes })
}

/// 2FA off after the password: the secret and the backup codes are deleted. While the workspace
/// requires 2FA: 403 `two_factor_required`, before the password (no attempt is counted).
pub async fn disable<S: Store>(
    state: &Services<S>,
    signed_in: &SignedIn,
    password: &SecretString,
) -> Result<DisableResponse, ApiError> {
    let SignedIn { user, origin, .. } = signed_in;
    if signed_in.policy.two_factor_required {
        return Err(ApiError::TwoFactorRequired);
    }
    require_enabled_and_password(state, user, password, origin).await?;
    if !state.store.disable_two_factor(user.id, origin, state.clock.unix()).await? {
        return Err(ApiError::NotEnabled);
    }
    Ok(DisableResponse { enabled: false })
}

/// 409 `not_enabled` while 2FA is off (checked before the password), then the password (throttled).
async fn require_enabled_and_password<S: Store>(
    state: &Services<S>,
    user: &UserRecord,
    password: &SecretString,
    origin: &Origin,
) -> Result<(), ApiError> {
    if !user.two_factor_enabled() {
        return Err(ApiError::NotEnabled);
    }
    state.reenter_password(user, password, origin).await
}

/// Ten fresh, distinct codes as shown (`xxxxx-xxxxx`) and their keyed hashes for storage.
fn new_backup_codes<S>(state: &Services<S>) -> (Vec<SecretString>, Vec<Vec<u8>>) {
    let mut codes = Vec::with_capacity(BACKUP_CODE_COUNT);
    let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(BACKUP_CODE_COUNT);
    while codes.len() < BACKUP_CODE_COUNT {
        let code = random_backup_code();
        let hash = state.keys.lookup_hash(HashKind::BackupCode, code.canonical());
        if !hashes.contains(&hash) {
            codes.push(code.display());
            hashes.push(hash);
        }
    }
    (codes, hashes)
}
