//! The RFC 9457 problem body every error answer carries, and its stable machine-readable codes.

use serde::{Deserialize, Serialize};

/// Stable error codes of API v1. Clients branch on these, never on text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    InvalidCredentials,
    InvalidCode,
    CodeAlreadyUsed,
    ChallengeExpired,
    TooManyAttempts,
    InvalidPassword,
    AlreadyEnabled,
    NoPendingEnrollment,
    NotEnabled,
    PayloadTooLarge,
    NotFound,
    MethodNotAllowed,
    InternalError,
    /// A code this version does not know (a newer server); kept so old clients still show the text.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidCode => "invalid_code",
            ErrorCode::CodeAlreadyUsed => "code_already_used",
            ErrorCode::ChallengeExpired => "challenge_expired",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::InvalidPassword => "invalid_password",
            ErrorCode::AlreadyEnabled => "already_enabled",
            ErrorCode::NoPendingEnrollment => "no_pending_enrollment",
            ErrorCode::NotEnabled => "not_enabled",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `application/problem+json` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    pub status: u16,
    pub code: ErrorCode,
    pub title: String,
    pub detail: String,
    /// Present on 429 `too_many_attempts`; mirrors the `Retry-After` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl Problem {
    pub fn new(status: u16, code: ErrorCode, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: about_blank(),
            status,
            code,
            title: title.into(),
            detail: detail.into(),
            retry_after_s: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_documented() {
        let json = serde_json::to_string(&ErrorCode::NoPendingEnrollment).unwrap();
        assert_eq!(json, "\"no_pending_enrollment\"");
        let code: ErrorCode = serde_json::from_str("\"something_new\"").unwrap();
        assert_eq!(code, ErrorCode::Unknown);
    }

    #[test]
    fn as_str_matches_serde_for_every_known_code() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::Unauthorized,
            ErrorCode::InvalidCredentials,
            ErrorCode::InvalidCode,
            ErrorCode::CodeAlreadyUsed,
            ErrorCode::ChallengeExpired,
            ErrorCode::TooManyAttempts,
            ErrorCode::InvalidPassword,
            ErrorCode::AlreadyEnabled,
            ErrorCode::NoPendingEnrollment,
            ErrorCode::NotEnabled,
            ErrorCode::PayloadTooLarge,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::InternalError,
        ] {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn problem_round_trip_keeps_retry_after() {
        let mut p = Problem::new(429, ErrorCode::TooManyAttempts, "Too many attempts", "Wait.");
        p.retry_after_s = Some(30);
        let back: Problem = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
