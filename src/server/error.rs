//! `ApiError`: the only place an HTTP status is chosen. Every error answer is problem JSON.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::domain::{ErrorCode, Problem};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid code")]
    InvalidCode,
    #[error("code already used")]
    CodeAlreadyUsed,
    #[error("challenge expired")]
    ChallengeExpired,
    #[error("too many attempts")]
    TooManyAttempts { retry_after: Duration },
    #[error("invalid password")]
    InvalidPassword,
    #[error("already enabled")]
    AlreadyEnabled,
    #[error("no pending enrollment")]
    NoPendingEnrollment,
    #[error("not enabled")]
    NotEnabled,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, ErrorCode, &'static str, String) {
        match self {
            ApiError::InvalidRequest(detail) => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, "Invalid request", detail.clone())
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "Not signed in",
                "A valid session token is required. Sign in again.".into(),
            ),
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidCredentials,
                "Wrong username or password",
                "The username or the password is wrong.".into(),
            ),
            ApiError::InvalidCode => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidCode,
                "Invalid code",
                "That code is not valid. Check your authenticator app's clock and try the current code."
                    .into(),
            ),
            ApiError::CodeAlreadyUsed => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::CodeAlreadyUsed,
                "Code already used",
                "That code was already used. Wait for the next code.".into(),
            ),
            ApiError::ChallengeExpired => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::ChallengeExpired,
                "Sign-in expired",
                "This sign-in attempt expired or was already completed. Sign in again.".into(),
            ),
            ApiError::TooManyAttempts { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyAttempts,
                "Too many attempts",
                format!("Too many failed attempts. Try again in {} seconds.", retry_after.as_secs()),
            ),
            ApiError::InvalidPassword => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidPassword,
                "Wrong password",
                "The password is wrong.".into(),
            ),
            ApiError::AlreadyEnabled => (
                StatusCode::CONFLICT,
                ErrorCode::AlreadyEnabled,
                "Already enabled",
                "Two-factor authentication is already on.".into(),
            ),
            ApiError::NoPendingEnrollment => (
                StatusCode::CONFLICT,
                ErrorCode::NoPendingEnrollment,
                "No pending setup",
                "There is no two-factor setup in progress, or it expired. Start again.".into(),
            ),
            ApiError::NotEnabled => (
                StatusCode::CONFLICT,
                ErrorCode::NotEnabled,
                "Not enabled",
                "Two-factor authentication is off.".into(),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "Payload too large",
                format!("The request body is larger than {} bytes.", crate::server::MAX_BODY_BYTES),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "Not found",
                "There is nothing at this path.".into(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                "Method not allowed",
                "This path does not accept that method.".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalError,
                "Internal error",
                "The server failed to handle the request. Try again later.".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            // The chain names the failing step; no request data (and so no secret) is part of it.
            tracing::error!(error = %format!("{error:#}"), "internal error");
        }
        let (status, code, title, detail) = self.parts();
        let mut problem = Problem::new(status.as_u16(), code, title, detail);
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        problem.retry_after_s = retry_after;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `Json` whose rejections are problem JSON: 413 over the body limit, 400 `invalid_request` otherwise
/// (malformed JSON, a wrong type, a missing field, a missing or wrong content type).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(&rejection)),
        }
    }
}

fn rejection_to_error(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    let detail = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "The body must be JSON with Content-Type: application/json.".into()
        }
        // serde names the field and the expected type (it may quote the value: it goes back to the
        // client that sent it, never to the log).
        JsonRejection::JsonDataError(e) => format!("The JSON does not fit the request: {}", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => format!("The body is not valid JSON: {}", e.body_text()),
        other => format!("The body cannot be read: {}", other.body_text()),
    };
    ApiError::InvalidRequest(detail)
}
