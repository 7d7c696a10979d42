//! The RFC 9457 problem body every error answer carries, and its stable machine-readable codes.

use serde::{Deserialize, Serialize};

/// Stable error codes of API v1. Clients branch on these, never on text. Each code's string, HTTP
/// status and title live in one table, [`ErrorCode::spec`]; serde reads and writes the string from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "&'static str")]
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
    /// v1.1 rule 9: the anonymous rate limit of one client address.
    TooManyRequests,
    /// v1.1 rule 10: 100 wrong second factors in a row; an administrator must unlock the account.
    SecondFactorLocked,
    /// v1.1 rule 13: the request was not sent in time.
    RequestTimeout,
    /// v1.1 rule 16 (a full disk) and a full password-hashing queue.
    ServiceUnavailable,
    /// v1.1 policy: a token that may only set up two-factor authentication asked for something else.
    TwoFactorSetupRequired,
    /// v1.1 policy: two-factor authentication is required, so it cannot be turned off.
    TwoFactorRequired,
    /// A code this version does not know (a newer server); kept so old clients still show the text.
    /// Last, so that every known code's discriminant is its index in [`ErrorCode::KNOWN`].
    Unknown,
}

impl ErrorCode {
    /// Every code this version knows, in declaration order.
    pub const KNOWN: [ErrorCode; 21] = [
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
        ErrorCode::TooManyRequests,
        ErrorCode::SecondFactorLocked,
        ErrorCode::RequestTimeout,
        ErrorCode::ServiceUnavailable,
        ErrorCode::TwoFactorSetupRequired,
        ErrorCode::TwoFactorRequired,
    ];

    /// The one table of the API's errors: (code as sent, HTTP status, short title).
    const fn spec(self) -> (&'static str, u16, &'static str) {
        match self {
            ErrorCode::InvalidRequest => ("invalid_request", 400, "Invalid request"),
            ErrorCode::Unauthorized => ("unauthorized", 401, "Not signed in"),
            ErrorCode::InvalidCredentials => ("invalid_credentials", 401, "Wrong username or password"),
            ErrorCode::InvalidCode => ("invalid_code", 401, "Invalid code"),
            ErrorCode::CodeAlreadyUsed => ("code_already_used", 401, "Code already used"),
            ErrorCode::ChallengeExpired => ("challenge_expired", 401, "Sign-in expired"),
            ErrorCode::TooManyAttempts => ("too_many_attempts", 429, "Too many attempts"),
            ErrorCode::InvalidPassword => ("invalid_password", 401, "Wrong password"),
            ErrorCode::AlreadyEnabled => ("already_enabled", 409, "Already enabled"),
            ErrorCode::NoPendingEnrollment => ("no_pending_enrollment", 409, "No pending setup"),
            ErrorCode::NotEnabled => ("not_enabled", 409, "Not enabled"),
            ErrorCode::PayloadTooLarge => ("payload_too_large", 413, "Payload too large"),
            ErrorCode::NotFound => ("not_found", 404, "Not found"),
            ErrorCode::MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed"),
            ErrorCode::InternalError => ("internal_error", 500, "Internal error"),
            ErrorCode::TooManyRequests => ("too_many_requests", 429, "Too many requests"),
            ErrorCode::SecondFactorLocked => ("second_factor_locked", 403, "Second factor locked"),
            ErrorCode::RequestTimeout => ("request_timeout", 408, "Request timeout"),
            ErrorCode::ServiceUnavailable => ("service_unavailable", 503, "Service unavailable"),
            ErrorCode::TwoFactorSetupRequired => {
                ("two_factor_setup_required", 403, "Two-factor authentication must be set up first")
            }
            ErrorCode::TwoFactorRequired => {
                ("two_factor_required", 403, "Two-factor authentication is required")
            }
            // Never sent by this server; a client shows the status it actually got.
            ErrorCode::Unknown => ("unknown", 500, "Unknown error"),
        }
    }

    /// The code as it appears in problem JSON (`"invalid_code"`).
    pub const fn as_str(self) -> &'static str {
        self.spec().0
    }

    /// The HTTP status every answer with this code has.
    pub const fn status(self) -> u16 {
        self.spec().1
    }

    /// The problem's `title`.
    pub const fn title(self) -> &'static str {
        self.spec().2
    }

    /// The code named `code`, or [`ErrorCode::Unknown`].
    pub fn from_code(code: &str) -> Self {
        Self::KNOWN.into_iter().find(|known| known.as_str() == code).unwrap_or(ErrorCode::Unknown)
    }
}

/// In the OpenAPI document: a string, one of the known codes (a client must still expect new ones).
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::KNOWN.map(ErrorCode::as_str)))
            .description(Some("Stable and machine-readable: clients branch on it, never on the text."))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        Self::from_code(&code)
    }
}

impl From<ErrorCode> for &'static str {
    fn from(code: ErrorCode) -> Self {
        code.as_str()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `application/problem+json` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    pub status: u16,
    pub code: ErrorCode,
    pub title: String,
    pub detail: String,
    /// Present on 429 (`too_many_attempts`, `too_many_requests`) and 503 `service_unavailable`; mirrors
    /// the `Retry-After` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl Problem {
    /// The body for `code`: its status and title, and a `detail` for this case.
    pub fn for_code(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(code.status(), code, code.title(), detail)
    }

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
        for code in ErrorCode::KNOWN {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn known_lists_every_code_once_in_declaration_order() {
        for (index, code) in ErrorCode::KNOWN.into_iter().enumerate() {
            assert_eq!(code as usize, index, "{code}");
            assert_eq!(ErrorCode::from_code(code.as_str()), code);
        }
        assert_eq!(ErrorCode::Unknown as usize, ErrorCode::KNOWN.len(), "Unknown comes last");
    }

    #[test]
    fn problem_round_trip_keeps_retry_after() {
        let mut p = Problem::new(429, ErrorCode::TooManyAttempts, "Too many attempts", "Wait.");
        p.retry_after_s = Some(30);
        let back: Problem = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
