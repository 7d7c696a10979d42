//! Thin handlers: parse the request, call one function of [`crate::server::service`], answer.
//! Statuses are chosen only by the error codes ([`crate::domain::ErrorCode`]).

pub mod activity;
pub mod auth;
pub mod two_factor;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;

use super::AppState;
use super::address::AddressKey;
use super::error::ApiError;
use super::service::signin::{self, SignedIn};
use super::store::{Origin, Store};

/// Longest user agent recorded (bytes); longer ones are cut at a character boundary.
pub const MAX_USER_AGENT_BYTES: usize = 256;

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The account behind `Authorization: Bearer <token>` with a full session; 401 `unauthorized` without
/// a live session, 403 `two_factor_setup_required` for a session that may only set up 2FA (policy).
pub struct AuthUser(pub SignedIn);

impl<S: Store> FromRequestParts<AppState<S>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let SetupAllowed(signed_in) = SetupAllowed::from_request_parts(parts, state).await?;
        if signed_in.setup_only() {
            return Err(ApiError::TwoFactorSetupRequired);
        }
        Ok(Self(signed_in))
    }
}

/// Like [`AuthUser`], but a session that may only set up 2FA is let through too: for `GET /v1/me`,
/// `GET /v1/me/events`, the three enrollment endpoints and logout.
pub struct SetupAllowed(pub SignedIn);

impl<S: Store> FromRequestParts<AppState<S>> for SetupAllowed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let Ok(RequestOrigin(origin)) = RequestOrigin::from_request_parts(parts, state).await;
        let header =
            parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthorized)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(ApiError::Unauthorized);
        }
        Ok(Self(signin::signed_in(state, token, origin).await?))
    }
}

/// Where the request came from, as events and sessions record it: the client address and the
/// `User-Agent` header (control characters dropped, at most [`MAX_USER_AGENT_BYTES`]).
pub struct RequestOrigin(pub Origin);

impl<S: Store> FromRequestParts<AppState<S>> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, Infallible> {
        let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(parts, state).await;
        let user_agent = parts.headers.get(USER_AGENT).map(|value| clean_user_agent(value.as_bytes()));
        Ok(Self(Origin {
            address: Some(client.to_string()),
            user_agent: user_agent.filter(|ua| !ua.is_empty()),
        }))
    }
}

/// A user agent fit to store and show: valid UTF-8, no control characters, at most
/// [`MAX_USER_AGENT_BYTES`] bytes.
fn clean_user_agent(raw: &[u8]) -> String {
    let mut cleaned = String::new();
    for c in String::from_utf8_lossy(raw).chars().filter(|c| !c.is_control()) {
        if cleaned.len() + c.len_utf8() > MAX_USER_AGENT_BYTES {
            break;
        }
        cleaned.push(c);
    }
    cleaned.trim().to_owned()
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
/// `too_many_requests` otherwise, before anything else is looked at. Holds the client address.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cleaned_and_cut() {
        assert_eq!(clean_user_agent(b"usercenter/0.1.0"), "usercenter/0.1.0");
        assert_eq!(clean_user_agent(b"evil\x1b[2Jagent\n"), "evil[2Jagent");
        let long = "\u{e9}".repeat(200);
        let cut = clean_user_agent(long.as_bytes());
        assert_eq!(cut.len(), MAX_USER_AGENT_BYTES);
        assert!(cut.chars().all(|c| c == '\u{e9}'));
        assert_eq!(clean_user_agent(&[0xff, b'a']), "\u{fffd}a");
    }
}
