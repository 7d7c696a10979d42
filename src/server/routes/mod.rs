//! Thin handlers: parse the request, call one function of [`crate::server::service`], answer.
//! Statuses are chosen only by the error codes ([`crate::domain::ErrorCode`]).

pub mod auth;
pub mod two_factor;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::AppState;
use super::address::AddressKey;
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

/// The client address of the request (API v1.1): the socket's peer, or behind a trusted proxy the
/// address it names in `X-Forwarded-For`. In-process tests that send no [`ConnectInfo`] come from
/// `0.0.0.0`.
pub struct ClientAddress(pub IpAddr);

impl<S: Store> FromRequestParts<AppState<S>> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| peer.ip());
        Ok(Self(state.trusted_proxies.client_address(peer, &parts.headers)))
    }
}

/// An anonymous request (login, second factor) within its address's budget (rule 9); 429
/// `too_many_requests` otherwise, before anything else is looked at.
pub struct Anonymous(pub IpAddr);

impl<S: Store> FromRequestParts<AppState<S>> for Anonymous {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(parts, state).await;
        match state.anonymous.check(AddressKey::of(client), Instant::now()) {
            Ok(()) => Ok(Self(client)),
            // Whole seconds, rounded up: coming back after Retry-After finds a token.
            Err(wait) => {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::TooManyRequests { retry_after: Duration::from_secs(seconds.max(1)) })
            }
        }
    }
}
