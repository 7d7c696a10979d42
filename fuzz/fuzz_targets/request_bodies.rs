//! Every request body of the API, as bytes off the wire, through the server's own extractor (`ApiJson`).
//!
//! Invariant: never a panic; a refusal is a 4xx answer in problem JSON; what is accepted serialises to
//! a body that is accepted again and serialises the same (nothing is lost or invented on the way).

#![no_main]

use axum::body::Body;
use axum::extract::FromRequest as _;
use axum::http::{Request, header};
use axum::response::IntoResponse as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use usercenter::domain::{ConfirmRequest, LoginRequest, PasswordRequest, SecondFactorRequest};
use usercenter::server::error::ApiJson;

// The first byte picks the body type (low two bits) and the content type (next two); the rest is the
// body. Seeds in fuzz/seeds/request_bodies/ are real bodies behind such a byte.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let content_type = match (selector >> 2) & 3 {
        0 => ContentType::Json,
        1 => ContentType::JsonWithCharset,
        2 => ContentType::Text,
        _ => ContentType::Missing,
    };
    let body = body.to_vec();
    match selector & 3 {
        0 => check::<LoginRequest>(&content_type, body),
        1 => check::<SecondFactorRequest>(&content_type, body),
        2 => check::<PasswordRequest>(&content_type, body),
        _ => check::<ConfirmRequest>(&content_type, body),
    }
});

enum ContentType {
    Json,
    JsonWithCharset,
    Text,
    Missing,
}

fn check<T: DeserializeOwned + Serialize>(content_type: &ContentType, body: Vec<u8>) {
    match extract::<T>(content_type, body) {
        Ok(value) => {
            let again = serde_json::to_vec(&value).expect("an accepted body serialises");
            let second = extract::<T>(&ContentType::Json, again.clone()).unwrap_or_else(|_| {
                panic!("the server refuses its own serialisation {:?}", String::from_utf8_lossy(&again))
            });
            assert_eq!(
                serde_json::to_vec(&second).expect("serialises"),
                again,
                "not stable through a round trip"
            );
        }
        Err(refusal) => {
            let response = refusal.into_response();
            assert!(response.status().is_client_error(), "a bad body got {}", response.status());
            let kind = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            assert_eq!(kind, Some("application/problem+json"));
        }
    }
}

fn extract<T: DeserializeOwned>(
    content_type: &ContentType,
    body: Vec<u8>,
) -> Result<T, usercenter::server::error::ApiError> {
    let mut request = Request::builder().method("POST").uri("/v1/x");
    request = match content_type {
        ContentType::Json => request.header(header::CONTENT_TYPE, "application/json"),
        ContentType::JsonWithCharset => {
            request.header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        }
        ContentType::Text => request.header(header::CONTENT_TYPE, "text/plain"),
        ContentType::Missing => request,
    };
    let request = request.body(Body::from(body)).expect("a request");
    runtime().block_on(ApiJson::<T>::from_request(request, &())).map(|ApiJson(value)| value)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}
