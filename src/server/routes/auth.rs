//! Health, login, second factor, logout and the account summary.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AuthUser, timestamp};
use crate::domain::{
    BackupCode, Challenge, Health, LoginRequest, LoginResponse, Me, SecondFactorMethod, SecondFactorRequest,
    SecretString, Session, TwoFactorStatus, VerificationCode, paths,
};
use crate::server::crypto::{HashKind, random_token};
use crate::server::error::{ApiError, ApiJson};
use crate::server::store::{BackupCodeOutcome, Scope};
use crate::server::{AppState, CHALLENGE_TTL_S, totp};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::HEALTH, get(health))
        .route(paths::LOGIN, post(login))
        .route(paths::SECOND_FACTOR, post(second_factor))
        .route(paths::LOGOUT, post(logout))
        .route(paths::ME, get(me))
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let now = state.clock.unix();
    // Throttled per username, known or not, so a 429 does not reveal which accounts exist.
    state.attempt(Scope::Login, &request.username, now).await?;
    let user = state.store.user_by_name(&request.username).await?;
    // An unknown user is checked against a dummy hash: same work, same answer.
    let matches =
        state.passwords.verify(&request.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::InvalidCredentials);
    };
    state.store.throttle_reset(Scope::Login, &request.username).await?;
    if !user.two_factor_enabled() {
        return Ok(Json(LoginResponse::Authenticated(state.issue_session(user.id, now, None).await?)));
    }
    let challenge = random_token();
    let expires_at = now + CHALLENGE_TTL_S;
    let hash = state.keys.lookup_hash(HashKind::Challenge, challenge.expose());
    state.store.create_challenge(&hash, user.id, expires_at, now).await?;
    Ok(Json(LoginResponse::SecondFactorRequired(Challenge {
        challenge,
        expires_at: timestamp(expires_at)?,
        methods: vec![SecondFactorMethod::Totp, SecondFactorMethod::BackupCode],
    })))
}

enum Proof {
    Totp(SecretString),
    Backup(SecretString),
}

async fn second_factor(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SecondFactorRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let proof = match (request.code, request.backup_code) {
        (Some(code), None) => Proof::Totp(code),
        (None, Some(code)) => Proof::Backup(code),
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::InvalidRequest("Send exactly one of \"code\" and \"backup_code\".".into()));
        }
    };
    let now = state.clock.unix();
    let challenge_hash = state.keys.lookup_hash(HashKind::Challenge, request.challenge.expose());
    // Unknown, expired and already completed challenges all answer challenge_expired: sign in again.
    let user_id =
        state.store.challenge_user(&challenge_hash, now).await?.ok_or(ApiError::ChallengeExpired)?;
    let subject = user_id.to_string();
    state.attempt(Scope::Verify, &subject, now).await?;
    let backup_codes_remaining = match proof {
        Proof::Totp(code) => {
            let user = state.store.user_by_id(user_id).await?.ok_or(ApiError::ChallengeExpired)?;
            // 2FA was turned off (by support) after this challenge was issued.
            let sealed = user.totp_secret.ok_or(ApiError::ChallengeExpired)?;
            let secret = state.keys.decrypt_secret(user_id, &sealed)?;
            let code = VerificationCode::parse(code.expose()).ok_or(ApiError::InvalidCode)?;
            let step = totp::matching_step(&secret, code.expose(), now)?.ok_or(ApiError::InvalidCode)?;
            if !state.store.accept_totp_step(user_id, step).await? {
                return Err(ApiError::CodeAlreadyUsed);
            }
            None
        }
        Proof::Backup(code) => {
            let code = BackupCode::parse(code.expose()).ok_or(ApiError::InvalidCode)?;
            let hash = state.keys.lookup_hash(HashKind::BackupCode, code.canonical());
            match state.store.use_backup_code(user_id, &hash, now).await? {
                BackupCodeOutcome::Accepted { remaining } => Some(remaining),
                BackupCodeOutcome::AlreadyUsed => return Err(ApiError::CodeAlreadyUsed),
                BackupCodeOutcome::Unknown => return Err(ApiError::InvalidCode),
            }
        }
    };
    // The code is spent first, so a wrong code does not kill the challenge; a challenge completed
    // meanwhile by a parallel request loses here.
    if !state.store.consume_challenge(&challenge_hash, now).await? {
        return Err(ApiError::ChallengeExpired);
    }
    state.store.throttle_reset(Scope::Verify, &subject).await?;
    let session: Session = state.issue_session(user_id, now, backup_codes_remaining).await?;
    Ok(Json(LoginResponse::Authenticated(session)))
}

async fn logout(State(state): State<AppState>, auth: AuthUser) -> Result<StatusCode, ApiError> {
    state.store.delete_session(&auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Me>, ApiError> {
    let user = auth.user;
    let enabled = user.two_factor_enabled();
    let backup_codes_remaining = if enabled { state.store.backup_codes_remaining(user.id).await? } else { 0 };
    let enabled_at = match user.totp_enabled_at.filter(|_| enabled) {
        Some(at) => Some(timestamp(at)?),
        None => None,
    };
    let pending_enrollment = !enabled && user.live_pending_secret(state.clock.unix()).is_some();
    Ok(Json(Me {
        username: user.username,
        two_factor: TwoFactorStatus { enabled, enabled_at, backup_codes_remaining, pending_enrollment },
    }))
}
