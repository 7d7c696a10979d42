//! Enabling, confirming, cancelling, new backup codes and disabling.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::{AuthUser, timestamp};
use crate::domain::{
    BACKUP_CODE_COUNT, BackupCodesResponse, ConfirmRequest, ConfirmResponse, DisableResponse, Enrollment,
    PasswordRequest, SecretString, VerificationCode, paths,
};
use crate::server::crypto::{HashKind, random_backup_code};
use crate::server::error::{ApiError, ApiJson};
use crate::server::store::{ConfirmOutcome, Scope};
use crate::server::{AppState, ENROLLMENT_TTL_S, totp};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::ENROLLMENT, post(start_enrollment).delete(cancel_enrollment))
        .route(paths::ENROLLMENT_CONFIRM, post(confirm_enrollment))
        .route(paths::BACKUP_CODES, post(regenerate_backup_codes))
        .route(paths::DISABLE, post(disable))
}

async fn start_enrollment(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<(StatusCode, Json<Enrollment>), ApiError> {
    let user = auth.user;
    if user.two_factor_enabled() {
        return Err(ApiError::AlreadyEnabled);
    }
    state.reenter_password(&user, &request.password).await?;
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
    let enrollment = Enrollment {
        secret: secret_base32,
        otpauth_uri,
        issuer: state.issuer.clone(),
        account: user.username,
        algorithm: totp::ALGORITHM.into(),
        digits: totp::DIGITS,
        period: totp::PERIOD,
        expires_at: timestamp(expires_at)?,
    };
    Ok((StatusCode::CREATED, Json(enrollment)))
}

async fn confirm_enrollment(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> Result<Json<ConfirmResponse>, ApiError> {
    let user = auth.user;
    let now = state.clock.unix();
    let sealed = user.live_pending_secret(now).ok_or(ApiError::NoPendingEnrollment)?.to_vec();
    let subject = user.id.to_string();
    state.attempt(Scope::Verify, &subject, now).await?;
    let secret = state.keys.decrypt_secret(user.id, &sealed)?;
    let code = VerificationCode::parse(request.code.expose()).ok_or(ApiError::InvalidCode)?;
    let step = totp::matching_step(&secret, code.expose(), now)?.ok_or(ApiError::InvalidCode)?;
    let (codes, hashes) = new_backup_codes(&state);
    match state.store.confirm_enrollment(user.id, &sealed, step, now, &hashes).await? {
        ConfirmOutcome::Enabled => {}
        ConfirmOutcome::StepAlreadyUsed => return Err(ApiError::CodeAlreadyUsed),
        ConfirmOutcome::NoPending => return Err(ApiError::NoPendingEnrollment),
    }
    state.store.throttle_reset(Scope::Verify, &subject).await?;
    Ok(Json(ConfirmResponse { enabled: true, backup_codes: codes }))
}

async fn cancel_enrollment(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state.store.clear_pending_enrollment(auth.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn regenerate_backup_codes(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<BackupCodesResponse>, ApiError> {
    let user = auth.user;
    if !user.two_factor_enabled() {
        return Err(ApiError::NotEnabled);
    }
    state.reenter_password(&user, &request.password).await?;
    let (codes, hashes) = new_backup_codes(&state);
    if !state.store.replace_backup_codes(user.id, &hashes).await? {
        return Err(ApiError::NotEnabled);
    }
    Ok(Json(BackupCodesResponse { backup_codes: codes }))
}

async fn disable(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<DisableResponse>, ApiError> {
    let user = auth.user;
    if !user.two_factor_enabled() {
        return Err(ApiError::NotEnabled);
    }
    state.reenter_password(&user, &request.password).await?;
    if !state.store.disable_two_factor(user.id).await? {
        return Err(ApiError::NotEnabled);
    }
    Ok(Json(DisableResponse { enabled: false }))
}

/// Ten fresh, distinct codes as shown (`xxxxx-xxxxx`) and their keyed hashes for storage.
fn new_backup_codes(state: &AppState) -> (Vec<SecretString>, Vec<Vec<u8>>) {
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
