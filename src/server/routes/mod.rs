//! Thin handlers: parse the request, call one function of [`crate::server::service`], answer.
//! Statuses are chosen only by the error codes ([`crate::domain::ErrorCode`]).

pub mod auth;
pub mod two_factor;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use super::service::signin::{self, SignedIn};
use super::store::Store;

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The account behind `Authorization: Bearer <token>`; 401 `unauthorized` otherwise.
pub struct AuthUser(pub SignedIn);

impl<S: Store> FromRequestParts<AppState<S>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let header =
            parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::Unauthorized);
        }
        Ok(Self(signin::signed_in(state, token).await?))
    }
}
