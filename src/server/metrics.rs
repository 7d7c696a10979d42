//! Prometheus metrics, served at `GET /metrics` on the separate `--metrics-listen` address (off by
//! default; keep it private). One registry per server, so servers sharing a process (tests, the demo)
//! count apart; nothing is counted when metrics are off.
//!
//! - `usercenter_http_requests_total{route,status}`: `route` is the matched route template
//!   (`/v1/me/sessions/{id}`), never the raw path; `unmatched` for paths outside the API.
//! - `usercenter_http_request_duration_seconds{route}`: a histogram, from the request's arrival at the
//!   router to its answer's head.
//! - `usercenter_sign_ins_total{method,outcome}`: `method` password, totp or backup_code; `outcome`
//!   success, second_factor_required, failure, throttled, locked or error.
//! - `usercenter_throttled_total{scope}`: requests answered 429: `login`, `second_factor`, `password`
//!   (rule 5's back-offs) and `address` (rule 9's anonymous rate).
//! - `usercenter_argon2_queue_length`: password hashes waiting or running.
//! - `usercenter_db_pool_connections{state}`: the database's open connections, `idle` or `in_use`
//!   (summed over its pools: SQLite has a writer and readers).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use super::error::ApiError;
use super::store::Store;
use crate::domain::{ErrorCode, LoginResponse, paths};

/// The path the metrics are served at.
pub const PATH: &str = "/metrics";
/// OpenMetrics text, which Prometheus reads.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The `route` of a request no route matched.
const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabel {
    scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    state: &'static str,
}

/// Request durations from 1 ms to about 16 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabel, Histogram, fn() -> Histogram>,
    sign_ins: Family<SignInLabels, Counter>,
    throttled: Family<ScopeLabel, Counter>,
    argon2_queue: Gauge,
    pool: Family<PoolLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("usercenter");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        let durations = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by route template",
            durations.clone(),
        );
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register("sign_ins", "Sign-in attempts, by method and outcome", sign_ins.clone());
        let throttled = Family::<ScopeLabel, Counter>::default();
        registry.register("throttled", "Requests answered 429, by throttle", throttled.clone());
        let argon2_queue = Gauge::default();
        registry.register("argon2_queue_length", "Password hashes waiting or running", argon2_queue.clone());
        let pool = Family::<PoolLabel, Gauge>::default();
        registry.register("db_pool_connections", "Open database connections, idle or in use", pool.clone());
        Self { registry, requests, durations, sign_ins, throttled, argon2_queue, pool }
    }

    /// A sign-in attempt's outcome: `method` is password, totp or backup_code.
    pub fn sign_in(&self, method: &'static str, answer: &Result<LoginResponse, ApiError>) {
        let outcome = match answer {
            Ok(LoginResponse::Authenticated(_) | LoginResponse::TwoFactorSetupRequired(_)) => "success",
            Ok(LoginResponse::SecondFactorRequired(_)) => "second_factor_required",
            Err(
                ApiError::InvalidCredentials
                | ApiError::InvalidCode
                | ApiError::CodeAlreadyUsed
                | ApiError::ChallengeExpired
                | ApiError::InvalidRequest(_),
            ) => "failure",
            Err(ApiError::TooManyAttempts { .. } | ApiError::TooManyRequests { .. }) => "throttled",
            Err(ApiError::SecondFactorLocked) => "locked",
            Err(_) => "error",
        };
        self.sign_ins.get_or_create(&SignInLabels { method, outcome }).inc();
    }

    /// The text Prometheus scrapes, with the gauges read now.
    fn render(&self, argon2_queue: usize, pool: (u32, usize)) -> String {
        self.argon2_queue.set(i64::try_from(argon2_queue).unwrap_or(i64::MAX));
        let (size, idle) = pool;
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        self.pool.get_or_create(&PoolLabel { state: "idle" }).set(i64::from(idle));
        self.pool.get_or_create(&PoolLabel { state: "in_use" }).set(i64::from(size - idle));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    fn answered(&self, route: &str, status: StatusCode, started: Instant, code: Option<ErrorCode>) {
        let route = route.to_owned();
        self.requests.get_or_create(&RequestLabels { route: route.clone(), status: status.as_u16() }).inc();
        self.durations
            .get_or_create(&RouteLabel { route: route.clone() })
            .observe(started.elapsed().as_secs_f64());
        let scope = match code {
            Some(ErrorCode::TooManyRequests) => "address",
            Some(ErrorCode::TooManyAttempts) if route == paths::LOGIN => "login",
            Some(ErrorCode::TooManyAttempts) if route == paths::SECOND_FACTOR => "second_factor",
            Some(ErrorCode::TooManyAttempts) => "password",
            _ => return,
        };
        self.throttled.get_or_create(&ScopeLabel { scope }).inc();
    }
}

/// The router's layer that counts and times every answer (only when metrics are on).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    let code = response.extensions().get::<ErrorCode>().copied();
    metrics.answered(route.as_deref().unwrap_or(UNMATCHED), response.status(), started, code);
    response
}

/// The metrics server's router: `GET /metrics` and nothing else.
pub fn router<S: Store>(state: AppState<S>) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::get(scrape::<S>))
        .fallback(|| async { (StatusCode::NOT_FOUND, "metrics are at /metrics\n") })
        .with_state(state)
}

async fn scrape<S: Store>(State(state): State<AppState<S>>) -> Response {
    let Some(metrics) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are off\n").into_response();
    };
    let text = metrics.render(state.passwords.queue_length(), state.store.pool_connections());
    let mut response = text.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
