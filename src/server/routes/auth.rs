//! Health, login, second factor, logout and the account summary.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{Anonymous, RequestOrigin, SetupAllowed};
use crate::domain::{Health, LoginRequest, LoginResponse, Me, SecondFactorRequest, paths};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiJson};
use crate::server::service::{signin, two_factor};
use crate::server::store::Store;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(paths::HEALTH, get(health))
        .route(paths::LOGIN, post(login::<S>))
        .route(paths::SECOND_FACTOR, post(second_factor::<S>))
        .route(paths::LOGOUT, post(logout::<S>))
        .route(paths::ME, get(me::<S>))
}

#[utoipa::path(get, path = "/v1/health", tag = "server", operation_id = "health",
    summary = "Whether the server answers",
    responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "sign-in", operation_id = "login",
    summary = "Sign in with a username and password",
    description = "An unknown user and a wrong password get the same answer, in about the same time.",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse,
        description = "`authenticated` (2FA off: a session), `second_factor_required` (a challenge for \
                       POST /v1/auth/second-factor) or `two_factor_setup_required` (the workspace requires \
                       2FA: a token that may only set it up)")))]
pub(crate) async fn login<S: Store>(
    State(state): State<AppState<S>>,
    Anonymous(client): Anonymous,
    RequestOrigin(origin): RequestOrigin,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let answer = signin::with_password(&state, client, &origin, &request).await;
    if let Some(metrics) = &state.metrics {
        metrics.sign_in("password", &answer);
    }
    Ok(Json(answer?))
}

#[utoipa::path(post, path = "/v1/auth/second-factor", tag = "sign-in", operation_id = "second_factor",
    summary = "Complete a sign-in with a TOTP code or a backup code",
    description = "Send `code` (six digits) or `backup_code` (xxxxx-xxxxx, any case, dash optional).",
    request_body = SecondFactorRequest,
    responses((status = 200, body = LoginResponse,
        description = "Always `authenticated`; `backup_codes_remaining` when a backup code was used")))]
pub(crate) async fn second_factor<S: Store>(
    State(state): State<AppState<S>>,
    Anonymous(_): Anonymous,
    RequestOrigin(origin): RequestOrigin,
    ApiJson(request): ApiJson<SecondFactorRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let method = if request.backup_code.is_some() { "backup_code" } else { "totp" };
    let answer = signin::with_second_factor(&state, &origin, request).await.map(LoginResponse::Authenticated);
    if let Some(metrics) = &state.metrics {
        metrics.sign_in(method, &answer);
    }
    Ok(Json(answer?))
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "sign-in", operation_id = "logout",
    summary = "Sign out: the token stops working", security(("bearer" = [])),
    responses((status = 204, description = "Signed out")))]
pub(crate) async fn logout<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<StatusCode, ApiError> {
    signin::sign_out(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me", tag = "account", operation_id = "me",
    summary = "The account: its two-factor state and the workspace policy", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in account", body = Me)))]
pub(crate) async fn me<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<Json<Me>, ApiError> {
    Ok(Json(two_factor::summary(&state, auth).await?))
}
