//! `ApiError`: every way a request fails, each answered with one [`ErrorCode`] (which fixes the HTTP
//! status and title) and a detail. Every error answer is problem JSON.

use std::borrow::Cow;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::domain::{ErrorCode, Problem};

#[derive(Debug)]
pub enum ApiError {
    InvalidRequest(String),
    Unauthorized,
    InvalidCredentials,
    InvalidCode,
    CodeAlreadyUsed,
    ChallengeExpired,
    TooManyAttempts {
        retry_after: Duration,
    },
    InvalidPassword,
    AlreadyEnabled,
    NoPendingEnrollment,
    NotEnabled,
    PayloadTooLarge,
    NotFound,
    /// A session id that is not one of the account's live sessions (unknown, ended, or another's).
    NoSuchSession,
    MethodNotAllowed,
    /// v1.1 policy: this session may only set up two-factor authentication.
    TwoFactorSetupRequired,
    /// v1.1 policy: two-factor authentication is required, so it cannot be turned off.
    TwoFactorRequired,
    /// Rule 9: the client address used up its anonymous budget.
    TooManyRequests {
        retry_after: Duration,
    },
    /// Rule 10: the account's second factor is locked until `usercenter user unlock`.
    SecondFactorLocked,
    /// Rule 13: the request was not complete within its time; the connection closes after the answer.
    RequestTimeout,
    /// Rule 16 (the database is out of space) and a full password-hashing queue: try again later.
    ServiceUnavailable {
        retry_after: Duration,
    },
    Internal(anyhow::Error),
}

impl ApiError {
    /// The code this error answers with, and the detail for a person to read.
    fn code_and_detail(&self) -> (ErrorCode, Cow<'static, str>) {
        match self {
            ApiError::InvalidRequest(detail) => (ErrorCode::InvalidRequest, detail.clone().into()),
            ApiError::Unauthorized => {
                (ErrorCode::Unauthorized, "A valid session token is required. Sign in again.".into())
            }
            ApiError::InvalidCredentials => {
                (ErrorCode::InvalidCredentials, "The username or the password is wrong.".into())
            }
            ApiError::InvalidCode => (
                ErrorCode::InvalidCode,
                "That code is not valid. Check your authenticator app's clock and try the current code."
                    .into(),
            ),
            ApiError::CodeAlreadyUsed => {
                (ErrorCode::CodeAlreadyUsed, "That code was already used. Wait for the next code.".into())
            }
            ApiError::ChallengeExpired => (
                ErrorCode::ChallengeExpired,
                "This sign-in attempt expired or was already completed. Sign in again.".into(),
            ),
            ApiError::TooManyAttempts { retry_after } => (
                ErrorCode::TooManyAttempts,
                format!("Too many failed attempts. Try again in {} seconds.", retry_after.as_secs()).into(),
            ),
            ApiError::InvalidPassword => (ErrorCode::InvalidPassword, "The password is wrong.".into()),
            ApiError::AlreadyEnabled => {
                (ErrorCode::AlreadyEnabled, "Two-factor authentication is already on.".into())
            }
            ApiError::NoPendingEnrollment => (
                ErrorCode::NoPendingEnrollment,
                "There is no two-factor setup in progress, or it expired. Start again.".into(),
            ),
            ApiError::NotEnabled => (ErrorCode::NotEnabled, "Two-factor authentication is off.".into()),
            ApiError::PayloadTooLarge => (
                ErrorCode::PayloadTooLarge,
                format!("The request body is larger than {} bytes.", crate::server::MAX_BODY_BYTES).into(),
            ),
            ApiError::NotFound => (ErrorCode::NotFound, "There is nothing at this path.".into()),
            ApiError::NoSuchSession => (
                ErrorCode::NotFound,
                "You have no session with that id: it has ended already, or it never was yours.".into(),
            ),
            ApiError::TwoFactorSetupRequired => (
                ErrorCode::TwoFactorSetupRequired,
                "Your organisation requires two-factor authentication: set it up first \
                 (POST /v1/me/two-factor/enrollment, then confirm)."
                    .into(),
            ),
            ApiError::TwoFactorRequired => (
                ErrorCode::TwoFactorRequired,
                "Your organisation requires two-factor authentication, so it cannot be turned off.".into(),
            ),
            ApiError::MethodNotAllowed => {
                (ErrorCode::MethodNotAllowed, "This path does not accept that method.".into())
            }
            ApiError::TooManyRequests { retry_after } => (
                ErrorCode::TooManyRequests,
                format!(
                    "Too many requests from your address. Try again in {} seconds.",
                    retry_after.as_secs()
                )
                .into(),
            ),
            ApiError::SecondFactorLocked => (
                ErrorCode::SecondFactorLocked,
                "Too many wrong codes: ask an administrator to unlock your account.".into(),
            ),
            ApiError::RequestTimeout => (
                ErrorCode::RequestTimeout,
                format!(
                    "The request was not received within {} seconds. Send it again.",
                    crate::server::http::REQUEST_TIMEOUT.as_secs()
                )
                .into(),
            ),
            ApiError::ServiceUnavailable { retry_after } => (
                ErrorCode::ServiceUnavailable,
                format!(
                    "The server cannot take this request now. Try again in {} seconds.",
                    retry_after.as_secs()
                )
                .into(),
            ),
            ApiError::Internal(_) => {
                (ErrorCode::InternalError, "The server failed to handle the request. Try again later.".into())
            }
        }
    }
}

impl From<anyhow::Error> for ApiError {
    /// A database that is out of space (or failing to write) is 503 with Retry-After, not 500: the
    /// request changed nothing and may be sent again once space is free (rule 16).
    fn from(error: anyhow::Error) -> Self {
        if crate::server::store::is_out_of_space(&error) {
            tracing::warn!(error = %format!("{error:#}"), "the database cannot write: answering 503");
            return ApiError::ServiceUnavailable { retry_after: OUT_OF_SPACE_RETRY };
        }
        ApiError::Internal(error)
    }
}

/// Retry-After of a 503 for a database out of space: long enough for an operator to notice.
const OUT_OF_SPACE_RETRY: Duration = Duration::from_secs(30);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Internal(error) => write!(f, "{error}"),
            other => f.write_str(other.code_and_detail().0.as_str()),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Internal(error) => error.source(),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            // The chain names the failing step; no request data (and so no secret) is part of it.
            tracing::error!(error = %format!("{error:#}"), "internal error");
        }
        let (code, detail) = self.code_and_detail();
        let mut problem = Problem::for_code(code, detail);
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after }
            | ApiError::TooManyRequests { retry_after }
            | ApiError::ServiceUnavailable { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        problem.retry_after_s = retry_after;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body).into_response();
        // For the metrics layer, which counts 429s by throttle.
        response.extensions_mut().insert(code);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, ApiError::RequestTimeout) {
            // The rest of the request may still be on its way: this connection cannot be reused.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
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
    if crate::server::http::is_request_timeout(rejection) {
        return ApiError::RequestTimeout;
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
