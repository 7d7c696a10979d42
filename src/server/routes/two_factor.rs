//! Enabling, confirming, cancelling, new backup codes and disabling.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::{AuthUser, SetupAllowed};
use crate::domain::{
    BackupCodesResponse, ConfirmRequest, ConfirmResponse, DisableResponse, Enrollment, PasswordRequest, paths,
};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiJson};
use crate::server::service::two_factor;
use crate::server::store::Store;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(paths::ENROLLMENT, post(start_enrollment::<S>).delete(cancel_enrollment::<S>))
        .route(paths::ENROLLMENT_CONFIRM, post(confirm_enrollment::<S>))
        .route(paths::BACKUP_CODES, post(regenerate_backup_codes::<S>))
        .route(paths::DISABLE, post(disable::<S>))
}

async fn start_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<(StatusCode, Json<Enrollment>), ApiError> {
    let enrollment = two_factor::start_enrollment(&state, auth.user, &request.password, &auth.origin).await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

async fn confirm_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> Result<Json<ConfirmResponse>, ApiError> {
    Ok(Json(two_factor::confirm_enrollment(&state, &auth.user, &request.code, &auth.origin).await?))
}

async fn cancel_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<StatusCode, ApiError> {
    two_factor::cancel_enrollment(&state, &auth.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn regenerate_backup_codes<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<BackupCodesResponse>, ApiError> {
    Ok(Json(two_factor::regenerate_backup_codes(&state, &auth.user, &request.password, &auth.origin).await?))
}

async fn disable<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<DisableResponse>, ApiError> {
    Ok(Json(two_factor::disable(&state, &auth, &request.password).await?))
}
