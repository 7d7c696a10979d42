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

#[utoipa::path(post, path = "/v1/me/two-factor/enrollment", tag = "two-factor",
    operation_id = "start_enrollment", summary = "Start turning two-factor authentication on",
    description = "Needs the password. Replaces a pending enrollment; it lasts 10 minutes. 2FA stays off \
                   until confirmed.",
    security(("bearer" = [])), request_body = PasswordRequest,
    responses((status = 201, description = "A new secret to scan (otpauth URI) or type", body = Enrollment)))]
pub(crate) async fn start_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<(StatusCode, Json<Enrollment>), ApiError> {
    let enrollment = two_factor::start_enrollment(&state, auth.user, &request.password, &auth.origin).await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

#[utoipa::path(post, path = "/v1/me/two-factor/enrollment/confirm", tag = "two-factor",
    operation_id = "confirm_enrollment", summary = "Turn two-factor authentication on with a code",
    security(("bearer" = [])), request_body = ConfirmRequest,
    responses((status = 200, description = "On; ten backup codes, shown this once", body = ConfirmResponse)))]
pub(crate) async fn confirm_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
    ApiJson(request): ApiJson<ConfirmRequest>,
) -> Result<Json<ConfirmResponse>, ApiError> {
    Ok(Json(two_factor::confirm_enrollment(&state, &auth.user, &request.code, &auth.origin).await?))
}

#[utoipa::path(delete, path = "/v1/me/two-factor/enrollment", tag = "two-factor",
    operation_id = "cancel_enrollment", summary = "Cancel a pending enrollment",
    security(("bearer" = [])),
    responses((status = 204, description = "Cancelled, or none was pending")))]
pub(crate) async fn cancel_enrollment<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<StatusCode, ApiError> {
    two_factor::cancel_enrollment(&state, &auth.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/me/two-factor/backup-codes", tag = "two-factor",
    operation_id = "regenerate_backup_codes", summary = "Replace all ten backup codes",
    security(("bearer" = [])), request_body = PasswordRequest,
    responses((status = 200, description = "Ten new codes; every older one stops working",
        body = BackupCodesResponse)))]
pub(crate) async fn regenerate_backup_codes<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<BackupCodesResponse>, ApiError> {
    Ok(Json(two_factor::regenerate_backup_codes(&state, &auth.user, &request.password, &auth.origin).await?))
}

#[utoipa::path(post, path = "/v1/me/two-factor/disable", tag = "two-factor", operation_id = "disable",
    summary = "Turn two-factor authentication off", security(("bearer" = [])), request_body = PasswordRequest,
    responses((status = 200, description = "Off; the secret and the backup codes are deleted",
        body = DisableResponse)))]
pub(crate) async fn disable<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<DisableResponse>, ApiError> {
    Ok(Json(two_factor::disable(&state, &auth, &request.password).await?))
}
