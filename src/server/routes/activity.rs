//! The account's security events and sessions.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use super::{AuthUser, SetupAllowed};
use crate::domain::{EventsPage, EventsQuery, RevokedSessions, SessionList, paths};
use crate::server::AppState;
use crate::server::error::ApiError;
use crate::server::service::activity;
use crate::server::store::Store;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(paths::EVENTS, get(events::<S>))
        .route(paths::SESSIONS, get(sessions::<S>))
        .route(paths::REVOKE_OTHER_SESSIONS, post(revoke_others::<S>))
        .route(paths::SESSION, delete(revoke::<S>))
}

/// A session that may only set up 2FA may read its events: the app shows them before the wizard.
#[utoipa::path(get, path = "/v1/me/events", tag = "activity", operation_id = "events",
    summary = "The account's security events, newest first", security(("bearer" = [])), params(EventsQuery),
    responses((status = 200, body = EventsPage,
        description = "A page of events; `next_before` asks for the next page (null: none)")))]
pub(crate) async fn events<S: Store>(
    State(state): State<AppState<S>>,
    SetupAllowed(auth): SetupAllowed,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventsPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidRequest(format!(
            "\"limit\" must be a number from 1 to 100 and \"before\" an event id: {}",
            rejection.body_text()
        ))
    })?;
    Ok(Json(activity::events(&state, &auth, query).await?))
}

#[utoipa::path(get, path = "/v1/me/sessions", tag = "activity", operation_id = "sessions",
    summary = "The account's signed-in sessions", security(("bearer" = [])),
    responses((status = 200, description = "Every live session; `current` is the one asking", body = SessionList)))]
pub(crate) async fn sessions<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    Ok(Json(activity::sessions(&state, &auth).await?))
}

#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "activity", operation_id = "revoke_session",
    summary = "End one session (the current one too)", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id from GET /v1/me/sessions (not its token)")),
    responses((status = 204, description = "That session's token stops working")))]
pub(crate) async fn revoke<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    activity::revoke(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/me/sessions/revoke-others", tag = "activity",
    operation_id = "revoke_other_sessions", summary = "End every other session of the account",
    security(("bearer" = [])),
    responses((status = 200, description = "How many sessions ended", body = RevokedSessions)))]
pub(crate) async fn revoke_others<S: Store>(
    State(state): State<AppState<S>>,
    AuthUser(auth): AuthUser,
) -> Result<Json<RevokedSessions>, ApiError> {
    Ok(Json(activity::revoke_others(&state, &auth).await?))
}
