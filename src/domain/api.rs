//! Request and response bodies of API v1, defined once for the server and the client.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::SecretString;

/// Paths of API v1.
pub mod paths {
    pub const HEALTH: &str = "/v1/health";
    pub const LOGIN: &str = "/v1/auth/login";
    pub const SECOND_FACTOR: &str = "/v1/auth/second-factor";
    pub const LOGOUT: &str = "/v1/auth/logout";
    pub const ME: &str = "/v1/me";
    pub const ENROLLMENT: &str = "/v1/me/two-factor/enrollment";
    pub const ENROLLMENT_CONFIRM: &str = "/v1/me/two-factor/enrollment/confirm";
    pub const BACKUP_CODES: &str = "/v1/me/two-factor/backup-codes";
    pub const DISABLE: &str = "/v1/me/two-factor/disable";
    /// `?limit=N&before=ID`, newest first.
    pub const EVENTS: &str = "/v1/me/events";
    pub const SESSIONS: &str = "/v1/me/sessions";
    /// One session by its id (not its token), as axum's route syntax writes it.
    pub const SESSION: &str = "/v1/me/sessions/{id}";
    pub const REVOKE_OTHER_SESSIONS: &str = "/v1/me/sessions/revoke-others";

    /// The path of one session.
    pub fn session(id: &str) -> String {
        SESSION.replace("{id}", id)
    }
}

/// Number of backup codes issued at once.
pub const BACKUP_CODE_COUNT: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    #[schema(value_type = String)]
    pub password: SecretString,
}

/// Answer of `POST /v1/auth/login` and `POST /v1/auth/second-factor`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResponse {
    Authenticated(Session),
    SecondFactorRequired(Challenge),
    /// v1.1 policy: the workspace requires 2FA and this account has none yet. The token works only for
    /// `GET /v1/me`, `GET /v1/me/events`, the enrollment endpoints and logout until enrollment is
    /// confirmed; then it is a full session.
    TwoFactorSetupRequired(Session),
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    #[schema(value_type = String)]
    pub token: SecretString,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Present only when a backup code was used to sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_codes_remaining: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    Totp,
    BackupCode,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Challenge {
    #[schema(value_type = String)]
    pub challenge: SecretString,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub methods: Vec<SecondFactorMethod>,
}

/// `{"challenge","code"}` or `{"challenge","backup_code"}`: exactly one of the two.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorRequest {
    #[schema(value_type = String)]
    pub challenge: SecretString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub code: Option<SecretString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub backup_code: Option<SecretString>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub two_factor: TwoFactorStatus,
    /// v1.1; absent from a v1 server, which has no policy.
    #[serde(default)]
    pub policy: Policy,
}

/// The workspace's rules for every account (v1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub two_factor_required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub enabled_at: Option<OffsetDateTime>,
    pub backup_codes_remaining: u32,
    pub pending_enrollment: bool,
}

/// Body of every call that re-enters the password: enrollment, new backup codes, disable.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordRequest {
    #[schema(value_type = String)]
    pub password: SecretString,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Enrollment {
    #[schema(value_type = String)]
    pub secret: SecretString,
    #[schema(value_type = String)]
    pub otpauth_uri: SecretString,
    pub issuer: String,
    pub account: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmRequest {
    #[schema(value_type = String)]
    pub code: SecretString,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfirmResponse {
    pub enabled: bool,
    #[schema(value_type = Vec<String>)]
    pub backup_codes: Vec<SecretString>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BackupCodesResponse {
    #[schema(value_type = Vec<String>)]
    pub backup_codes: Vec<SecretString>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DisableResponse {
    pub enabled: bool,
}

/// Answer of `GET /v1/me/events`: newest first; `next_before` asks for the page after this one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<Event>,
    pub next_before: Option<i64>,
}

/// Query of `GET /v1/me/events`: `limit` 1 to 100 (default 20), `before` an event id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

/// Events per page when the request names no limit, and the most it may name.
pub const EVENTS_DEFAULT_LIMIT: u32 = 20;
pub const EVENTS_MAX_LIMIT: u32 = 100;

/// Something that happened to an account: `{"id","type","at","address","user_agent","details"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: i64,
    /// `type` and `details`.
    #[serde(flatten)]
    pub kind: EventKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The client address of the request that caused it; `None` for an administrator's command.
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// What happened, with its `details` (an empty object where there are none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "details", rename_all = "snake_case")]
pub enum EventKind {
    SignIn {
        method: SignInMethod,
    },
    SignInFailed {
        reason: SignInFailure,
    },
    /// Once when a back-off starts, not for each refused request.
    Throttled {
        scope: ThrottleScope,
    },
    SecondFactorLocked {},
    SecondFactorUnlocked {},
    TwoFactorEnabled {},
    TwoFactorDisabled {},
    BackupCodesRegenerated {},
    /// By an administrator (`usercenter user reset-2fa`).
    TwoFactorReset {},
    SessionRevoked {},
    SessionsRevoked {
        count: u32,
    },
    PasswordChanged {},
}

impl EventKind {
    /// An attempt refused, throttled or locked out: the app draws it as a warning, and its ECS
    /// document says `event.outcome: failure`. Every kind is listed, so a new one must be decided.
    pub fn is_failure(&self) -> bool {
        match self {
            EventKind::SignInFailed { .. }
            | EventKind::Throttled { .. }
            | EventKind::SecondFactorLocked {} => true,
            EventKind::SignIn { .. }
            | EventKind::SecondFactorUnlocked {}
            | EventKind::TwoFactorEnabled {}
            | EventKind::TwoFactorDisabled {}
            | EventKind::BackupCodesRegenerated {}
            | EventKind::TwoFactorReset {}
            | EventKind::SessionRevoked {}
            | EventKind::SessionsRevoked { .. }
            | EventKind::PasswordChanged {} => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    Totp,
    BackupCode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    InvalidPassword,
    InvalidCode,
    CodeAlreadyUsed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleScope {
    Login,
    SecondFactor,
    Password,
}

/// Answer of `GET /v1/me/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// One signed-in session of the account; `id` names it (URL-safe: letters, digits, `-`, `_`) and is
/// not its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session that asked.
    pub current: bool,
}

/// Answer of `POST /v1/me/sessions/revoke-others`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevokedSessions {
    pub revoked: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn login_response_is_tagged_by_status() {
        let v = json!({"status":"second_factor_required","challenge":"c","expires_at":"2026-01-01T00:00:00Z","methods":["totp","backup_code"]});
        let r: LoginResponse = serde_json::from_value(v).unwrap();
        assert!(
            matches!(r, LoginResponse::SecondFactorRequired(c) if c.methods == [SecondFactorMethod::Totp, SecondFactorMethod::BackupCode])
        );
        let s = LoginResponse::Authenticated(Session {
            token: "t".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
            backup_codes_remaining: None,
        });
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"status":"authenticated","token":"t","expires_at":"1970-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn second_factor_request_sends_only_the_given_proof() {
        let r = SecondFactorRequest {
            challenge: "c".into(),
            code: None,
            backup_code: Some("abcde-fghjk".into()),
        };
        assert_eq!(serde_json::to_value(&r).unwrap(), json!({"challenge":"c","backup_code":"abcde-fghjk"}));
    }

    #[test]
    fn events_are_written_as_the_contract_says() {
        let event = Event {
            id: 7,
            kind: EventKind::SignIn { method: SignInMethod::BackupCode },
            at: OffsetDateTime::UNIX_EPOCH,
            address: Some("203.0.113.7".into()),
            user_agent: None,
        };
        let v = json!({"id":7,"type":"sign_in","at":"1970-01-01T00:00:00Z","address":"203.0.113.7",
                       "user_agent":null,"details":{"method":"backup_code"}});
        assert_eq!(serde_json::to_value(&event).unwrap(), v);
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), event);
        let enabled = Event { kind: EventKind::TwoFactorEnabled {}, ..event };
        assert_eq!(
            serde_json::to_value(&enabled).unwrap()["details"],
            json!({}),
            "details are always an object"
        );
        let page = json!({"events":[], "next_before": null});
        assert_eq!(serde_json::from_value::<EventsPage>(page).unwrap().next_before, None);
    }

    #[test]
    fn the_session_path_names_the_id() {
        assert_eq!(paths::session("abc"), "/v1/me/sessions/abc");
    }

    #[test]
    fn me_allows_null_enabled_at() {
        let v = json!({"username":"u","two_factor":{"enabled":false,"enabled_at":null,"backup_codes_remaining":0,"pending_enrollment":false},"policy":{"two_factor_required":true}});
        let me: Me = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&me).unwrap(), v);
    }

    #[test]
    fn a_v1_server_without_a_policy_requires_nothing() {
        let v = json!({"username":"u","two_factor":{"enabled":false,"enabled_at":null,"backup_codes_remaining":0,"pending_enrollment":false}});
        assert!(!serde_json::from_value::<Me>(v).unwrap().policy.two_factor_required);
    }

    #[test]
    fn setup_required_is_tagged_by_status() {
        let v = json!({"status":"two_factor_setup_required","token":"t","expires_at":"2026-01-01T00:00:00Z"});
        let r: LoginResponse = serde_json::from_value(v.clone()).unwrap();
        assert!(matches!(r, LoginResponse::TwoFactorSetupRequired(_)));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
