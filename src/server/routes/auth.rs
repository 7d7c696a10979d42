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

async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

async fn login<S: Store>(
    State(state): State<AppState<S>>,
    Anonymous(client): Anonymous,
    RequestOrigin(origin): RequestOrigin,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    Ok(Json(signin::with_password(&state, client, &origin, &request).await?))
}

async fn second_factor<S: Store>(
    State(state): State<AppState<S>>,
    Anonymous(_): Anonymous,
    RequestOrigin(origin): RequestOrigin,
    ApiJson(request): ApiJson<SecondFactorRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let session = signin::with_second_factor(&state, &origin, request).await?;
    Ok(Json(LoginResponse::Authenticated(session)))
}

async fn logout<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<StatusCode, ApiError> {
    signin::sign_out(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
) -> Result<Json<Me>, ApiError> {
    Ok(Json(two_factor::summary(&state, auth).await?))
}
