//! `ApiClient`: the only way the terminal app reaches the platform. Every non-2xx answer becomes one
//! typed [`ClientError`] in [`error_from_answer`]; transport failures keep the URL for the message.

mod url;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::domain::{
    BackupCodesResponse, ConfirmRequest, ConfirmResponse, DisableResponse, Enrollment, ErrorCode, EventsPage,
    EventsQuery, Health, LoginRequest, LoginResponse, Me, PasswordRequest, Problem, RevokedSessions,
    SecondFactorInput, SecondFactorRequest, SecretString, Session, SessionList, VerificationCode, paths,
};

pub use self::url::{UrlError, check_base_url, is_insecure_url};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Idle pooled connections are dropped before the server closes them (after 10 s), so a request is
/// never sent on a connection the server is closing at that moment.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Retry-After assumed for a 503 that does not say.
const RETRY_UNAVAILABLE_S: u64 = 5;

/// Every way a call can fail, typed by the problem `code` the server sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("Wrong username or password.")]
    InvalidCredentials,
    #[error("Wrong password.")]
    InvalidPassword,
    /// `server_date` is the server's `Date` header, to spot a phone or computer whose clock is off.
    #[error("That code is not valid.")]
    InvalidCode { server_date: Option<OffsetDateTime> },
    #[error("That code was already used.")]
    CodeAlreadyUsed,
    #[error("The sign-in took too long. Start again.")]
    ChallengeExpired,
    #[error("Too many attempts. Try again in {} s.", retry_after.as_secs())]
    TooManyAttempts { retry_after: Duration },
    /// Too many requests from this address (the server's anonymous rate limit).
    #[error("Too many requests. Try again in {} s.", retry_after.as_secs())]
    TooManyRequests { retry_after: Duration },
    #[error("Too many wrong codes: ask an administrator to unlock your account.")]
    SecondFactorLocked,
    /// The server is out of capacity or disk space; nothing was done.
    #[error("The server cannot take the request now. Try again in {} s.", retry_after.as_secs())]
    ServiceUnavailable { retry_after: Duration },
    #[error("Your session has ended. Sign in again.")]
    Unauthorized,
    /// The workspace requires 2FA and this session may only set it up.
    #[error("Your organisation requires two-factor authentication: set it up first.")]
    TwoFactorSetupRequired,
    /// The workspace requires 2FA, so it cannot be turned off.
    #[error("Your organisation requires two-factor authentication, so it cannot be turned off.")]
    TwoFactorRequired,
    /// What the request named is not there (a session already ended, or another account's).
    #[error("That no longer exists.")]
    NotFound,
    #[error("Two-factor authentication is already on.")]
    AlreadyEnabled,
    #[error("The setup expired or was cancelled. Start again.")]
    NoPendingEnrollment,
    #[error("Two-factor authentication is off.")]
    NotEnabled,
    #[error("The server refused the request: {detail}")]
    InvalidRequest { detail: String },
    /// Any other error answer (500, 404, a code this version does not know).
    #[error("The server answered {status} ({code}): {detail}")]
    Server { status: u16, code: ErrorCode, detail: String },
    #[error("Cannot reach {url}: {cause}. Is the server running?")]
    Unreachable { url: String, cause: String },
    #[error("{url} did not answer within {} s.", REQUEST_TIMEOUT.as_secs())]
    Timeout { url: String },
    /// A 2xx answer we could not read, or an answer that is not problem JSON.
    #[error("Unexpected answer from {url}: {detail}")]
    Protocol { url: String, detail: String },
    /// The health check reached a server that is something else (a web site, another API).
    #[error("{url} is not a usercenter platform: it answered with {answer}. Check the address.")]
    NotPlatform { url: String, answer: String },
}

impl ClientError {
    /// True when the request may or may not have reached the server: the outcome is unknown.
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. } | Self::Protocol { .. })
    }
}

/// A stateless handle on the API; the session token is passed to each call that needs it.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
}

impl ApiClient {
    /// `base_url` such as `http://127.0.0.1:8080` (a trailing slash is fine); a mistyped address is
    /// refused with its fix ([`check_base_url`]).
    pub fn new(base_url: &str) -> Result<Self, UrlError> {
        let base_url = check_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .user_agent(concat!("usercenter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UrlError::NotAUrl { given: base_url.clone(), reason: e.to_string() })?;
        Ok(Self { http, base_url })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether the address is a usercenter platform: anything but its health answer (or its error
    /// JSON) is named as another kind of server, and its body is never shown.
    pub async fn health(&self) -> Result<Health, ClientError> {
        let url = self.url(paths::HEALTH);
        let response = self
            .request(Method::GET, paths::HEALTH, None)
            .send()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| transport_error(&url, &e))?;
        if status.is_success() {
            if let Ok(health) = serde_json::from_slice::<Health>(&bytes)
                && health.status == "ok"
            {
                return Ok(health);
            }
        } else if let Ok(problem) = serde_json::from_slice::<Problem>(&bytes) {
            return Err(ClientError::from_problem(problem, status.as_u16(), None, None));
        }
        Err(ClientError::NotPlatform { url, answer: describe_answer(status.as_u16(), &content_type, &bytes) })
    }

    pub async fn login(&self, username: &str, password: &SecretString) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest { username: username.to_owned(), password: password.clone() };
        self.call(Method::POST, paths::LOGIN, None, Some(&body)).await
    }

    /// Completes a login with the app's code or a backup code in its place.
    pub async fn second_factor(
        &self,
        challenge: &SecretString,
        input: &SecondFactorInput,
    ) -> Result<Session, ClientError> {
        let (code, backup_code) = match input {
            SecondFactorInput::Totp(code) => (Some(SecretString::new(code.expose())), None),
            SecondFactorInput::Backup(code) => (None, Some(code.display())),
        };
        let body = SecondFactorRequest { challenge: challenge.clone(), code, backup_code };
        let url = self.url(paths::SECOND_FACTOR);
        match self.call(Method::POST, paths::SECOND_FACTOR, None, Some(&body)).await? {
            LoginResponse::Authenticated(session) => Ok(session),
            LoginResponse::SecondFactorRequired(_) | LoginResponse::TwoFactorSetupRequired(_) => {
                Err(ClientError::Protocol {
                    url,
                    detail: "the server asked for a second factor again".into(),
                })
            }
        }
    }

    pub async fn logout(&self, token: &SecretString) -> Result<(), ClientError> {
        self.call_empty(Method::POST, paths::LOGOUT, token).await
    }

    pub async fn me(&self, token: &SecretString) -> Result<Me, ClientError> {
        self.call(Method::GET, paths::ME, Some(token), None::<&()>).await
    }

    pub async fn start_enrollment(
        &self,
        token: &SecretString,
        password: &SecretString,
    ) -> Result<Enrollment, ClientError> {
        let body = PasswordRequest { password: password.clone() };
        self.call(Method::POST, paths::ENROLLMENT, Some(token), Some(&body)).await
    }

    pub async fn confirm_enrollment(
        &self,
        token: &SecretString,
        code: &VerificationCode,
    ) -> Result<ConfirmResponse, ClientError> {
        let body = ConfirmRequest { code: SecretString::new(code.expose()) };
        self.call(Method::POST, paths::ENROLLMENT_CONFIRM, Some(token), Some(&body)).await
    }

    pub async fn cancel_enrollment(&self, token: &SecretString) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, paths::ENROLLMENT, token).await
    }

    pub async fn regenerate_backup_codes(
        &self,
        token: &SecretString,
        password: &SecretString,
    ) -> Result<BackupCodesResponse, ClientError> {
        let body = PasswordRequest { password: password.clone() };
        self.call(Method::POST, paths::BACKUP_CODES, Some(token), Some(&body)).await
    }

    pub async fn disable(
        &self,
        token: &SecretString,
        password: &SecretString,
    ) -> Result<DisableResponse, ClientError> {
        let body = PasswordRequest { password: password.clone() };
        self.call(Method::POST, paths::DISABLE, Some(token), Some(&body)).await
    }

    /// One page of the account's security events, newest first.
    pub async fn events(&self, token: &SecretString, query: EventsQuery) -> Result<EventsPage, ClientError> {
        let mut path = paths::EVENTS.to_owned();
        let params: Vec<String> = [("limit", query.limit.map(i64::from)), ("before", query.before)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
            .collect();
        if !params.is_empty() {
            path = format!("{path}?{}", params.join("&"));
        }
        self.call(Method::GET, &path, Some(token), None::<&()>).await
    }

    pub async fn sessions(&self, token: &SecretString) -> Result<SessionList, ClientError> {
        self.call(Method::GET, paths::SESSIONS, Some(token), None::<&()>).await
    }

    /// Ends one session of the account (this one too, if `id` is its own).
    pub async fn revoke_session(&self, token: &SecretString, id: &str) -> Result<(), ClientError> {
        // An id is ours to route: never let it add a path segment or a query.
        let id: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
        self.call_empty(Method::DELETE, &paths::session(&id), token).await
    }

    /// Ends every other session of the account; answers how many there were.
    pub async fn revoke_other_sessions(&self, token: &SecretString) -> Result<RevokedSessions, ClientError> {
        self.call(Method::POST, paths::REVOKE_OTHER_SESSIONS, Some(token), None::<&()>).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn request(&self, method: Method, path: &str, token: Option<&SecretString>) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token.expose()),
            None => builder,
        }
    }

    async fn send(&self, builder: RequestBuilder, url: &str) -> Result<Response, ClientError> {
        let response = builder.send().await.map_err(|e| transport_error(url, &e))?;
        if response.status().is_success() { Ok(response) } else { Err(error_from_response(response).await) }
    }

    async fn call<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let mut builder = self.request(method, path, token);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = self.send(builder, &url).await?;
        let bytes = response.bytes().await.map_err(|e| transport_error(&url, &e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Protocol { url, detail: format!("cannot read the answer: {e}") })
    }

    async fn call_empty(&self, method: Method, path: &str, token: &SecretString) -> Result<(), ClientError> {
        let url = self.url(path);
        self.send(self.request(method, path, Some(token)), &url).await.map(drop)
    }
}

/// Every error answer becomes a [`ClientError`] here, through [`error_from_answer`].
async fn error_from_response(response: Response) -> ClientError {
    let url = response.url().to_string();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let body = response.bytes().await.unwrap_or_default();
    let answer = ErrorAnswer {
        status,
        content_type: header("content-type"),
        date: header("date"),
        retry_after: header("retry-after"),
        body: &body,
    };
    error_from_answer(&url, &answer)
}

/// An error answer as it arrived: its status, the two headers that matter, its body.
#[derive(Clone, Copy, Debug)]
pub struct ErrorAnswer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    /// The `Date` header, to spot a clock that is off.
    pub date: Option<&'a str>,
    pub retry_after: Option<&'a str>,
    pub body: &'a [u8],
}

/// Problem JSON by its code ([`ClientError::from_problem`]), anything else by its status. Pure, so the
/// fuzz target `client_answers` can feed it anything a server might send.
pub fn error_from_answer(url: &str, answer: &ErrorAnswer<'_>) -> ClientError {
    let server_date = answer.date.and_then(parse_http_date);
    let retry_header = answer.retry_after.and_then(|v| v.trim().parse::<u64>().ok());
    let Ok(problem) = serde_json::from_slice::<Problem>(answer.body) else {
        let detail = describe_answer(answer.status, answer.content_type.unwrap_or_default(), answer.body);
        return match answer.status {
            429 => {
                ClientError::TooManyAttempts { retry_after: Duration::from_secs(retry_header.unwrap_or(30)) }
            }
            // A proxy in front of the server may answer 503 itself.
            503 => ClientError::ServiceUnavailable {
                retry_after: Duration::from_secs(retry_header.unwrap_or(RETRY_UNAVAILABLE_S)),
            },
            401 => ClientError::Unauthorized,
            _ => ClientError::Protocol { url: url.to_owned(), detail },
        };
    };
    ClientError::from_problem(problem, answer.status, server_date, retry_header)
}

impl ClientError {
    /// The one place a problem's `code` becomes a [`ClientError`]; `status`, the `Date` header and the
    /// `Retry-After` header come from the answer that carried it.
    fn from_problem(
        problem: Problem,
        status: u16,
        server_date: Option<OffsetDateTime>,
        retry_header: Option<u64>,
    ) -> Self {
        let retry_after =
            |default: u64| Duration::from_secs(retry_header.or(problem.retry_after_s).unwrap_or(default));
        match problem.code {
            ErrorCode::InvalidCredentials => ClientError::InvalidCredentials,
            ErrorCode::InvalidPassword => ClientError::InvalidPassword,
            ErrorCode::InvalidCode => ClientError::InvalidCode { server_date },
            ErrorCode::CodeAlreadyUsed => ClientError::CodeAlreadyUsed,
            ErrorCode::ChallengeExpired => ClientError::ChallengeExpired,
            ErrorCode::TooManyAttempts => ClientError::TooManyAttempts { retry_after: retry_after(30) },
            ErrorCode::TooManyRequests => ClientError::TooManyRequests { retry_after: retry_after(1) },
            ErrorCode::SecondFactorLocked => ClientError::SecondFactorLocked,
            ErrorCode::ServiceUnavailable => {
                ClientError::ServiceUnavailable { retry_after: retry_after(RETRY_UNAVAILABLE_S) }
            }
            ErrorCode::Unauthorized => ClientError::Unauthorized,
            ErrorCode::AlreadyEnabled => ClientError::AlreadyEnabled,
            ErrorCode::NoPendingEnrollment => ClientError::NoPendingEnrollment,
            ErrorCode::NotEnabled => ClientError::NotEnabled,
            ErrorCode::InvalidRequest => ClientError::InvalidRequest { detail: shown_text(&problem.detail) },
            ErrorCode::TwoFactorSetupRequired => ClientError::TwoFactorSetupRequired,
            ErrorCode::TwoFactorRequired => ClientError::TwoFactorRequired,
            ErrorCode::NotFound => ClientError::NotFound,
            ErrorCode::PayloadTooLarge
            | ErrorCode::MethodNotAllowed
            | ErrorCode::InternalError
            // The request did not arrive in time: shown as the server's words, like a 500.
            | ErrorCode::RequestTimeout
            | ErrorCode::Unknown => {
                ClientError::Server { status, code: problem.code, detail: shown_text(&problem.detail) }
            }
        }
    }
}

/// The most of a server's own words the app shows in one message.
const SHOWN_TEXT_CHARS: usize = 200;

/// A server's text as the app may show it: control characters (an escape sequence would reach the
/// terminal) become spaces, and it is cut to [`SHOWN_TEXT_CHARS`] with an ellipsis.
fn shown_text(text: &str) -> String {
    let mut shown: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(SHOWN_TEXT_CHARS + 1).collect();
    if shown.chars().count() > SHOWN_TEXT_CHARS {
        shown = shown.chars().take(SHOWN_TEXT_CHARS - 1).collect::<String>() + "…";
    }
    shown
}

/// An answer in a few words, never its body: a foreign server's page can be long, or hostile.
fn describe_answer(status: u16, content_type: &str, body: &[u8]) -> String {
    let status = StatusCode::from_u16(status).map_or_else(|_| status.to_string(), |s| s.to_string());
    // A header is visible ASCII and tabs (`HeaderValue::to_str`), and may be long: as a server's text.
    let media = shown_text(content_type.split(';').next().unwrap_or("").trim()).to_ascii_lowercase();
    let media: String = media.chars().take(60).collect();
    let looks_like_html = {
        let start = String::from_utf8_lossy(&body[..body.len().min(256)]).trim_start().to_ascii_lowercase();
        start.starts_with("<!doctype html") || start.starts_with("<html")
    };
    let what = if media == "text/html" || looks_like_html {
        "a web page (HTML)".to_owned()
    } else if media.ends_with("json") || serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        "JSON of another shape".to_owned()
    } else if body.is_empty() {
        "an empty body".to_owned()
    } else if media.is_empty() {
        format!("{} bytes of an unnamed type", body.len())
    } else {
        format!("{} bytes of {media}", body.len())
    };
    format!("HTTP {status}, {what}")
}

fn transport_error(url: &str, error: &reqwest::Error) -> ClientError {
    if error.is_timeout() {
        return ClientError::Timeout { url: url.to_owned() };
    }
    // The innermost cause is the one a person can act on ("Connection refused (os error 111)").
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let cause = cause.to_string();
    let cause = cause.strip_prefix("tcp connect error: ").unwrap_or(&cause).to_owned();
    ClientError::Unreachable { url: url.to_owned(), cause: lowercase_first(&cause) }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form servers may send today.
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), format).ok().map(|t| t.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz target `client_answers`: a server's `detail` was shown whole, however long,
    /// and with its control characters (an escape sequence in it would reach the terminal).
    #[test]
    fn a_server_text_is_shown_cut_and_without_control_characters() {
        let detail = format!("bad \u{1b}[2J{}", "x".repeat(5000));
        let body =
            serde_json::json!({"status": 400, "code": "invalid_request", "title": "t", "detail": detail});
        let body = serde_json::to_vec(&body).unwrap();
        let answer =
            ErrorAnswer { status: 400, content_type: None, date: None, retry_after: None, body: &body };
        let shown = error_from_answer("http://127.0.0.1:1/v1/x", &answer).to_string();
        assert!(shown.chars().count() <= 300, "{} characters", shown.chars().count());
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains("bad  [2J") && shown.ends_with('…'), "{shown}");
        let html = format!("<html>{}</html>", "y".repeat(5000));
        let answer = ErrorAnswer {
            status: 502,
            content_type: None,
            date: None,
            retry_after: None,
            body: html.as_bytes(),
        };
        assert!(error_from_answer("http://127.0.0.1:1/v1/x", &answer).to_string().chars().count() <= 300);
    }

    #[test]
    fn http_date_parses() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.unix_timestamp(), 784111777);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn answers_are_described_never_dumped() {
        let html = b"<!DOCTYPE html><html><body>secret internal page</body></html>";
        let text = describe_answer(StatusCode::OK.as_u16(), "text/html; charset=utf-8", html);
        assert_eq!(text, "HTTP 200 OK, a web page (HTML)");
        assert_eq!(
            describe_answer(StatusCode::NOT_FOUND.as_u16(), "", html),
            "HTTP 404 Not Found, a web page (HTML)"
        );
        let json = describe_answer(StatusCode::OK.as_u16(), "application/json", br#"{"status":"UP"}"#);
        assert_eq!(json, "HTTP 200 OK, JSON of another shape");
        let plain = describe_answer(StatusCode::BAD_GATEWAY.as_u16(), "text/plain", b"upstream down");
        assert_eq!(plain, "HTTP 502 Bad Gateway, 13 bytes of text/plain");
    }

    /// Found by fuzzing (fuzz/regressions/client_answers/content-type-with-control-characters): a
    /// content type's tab (which `HeaderValue::to_str` lets through) reached the terminal in the message.
    #[test]
    fn a_content_type_is_shown_without_control_characters() {
        let text = describe_answer(StatusCode::CONFLICT.as_u16(), "text/\tx\0y", b"abc");
        assert_eq!(text, "HTTP 409 Conflict, 3 bytes of text/ x y");
    }

    #[test]
    fn new_refuses_non_http_urls() {
        assert!(ApiClient::new("ftp://example").is_err());
        assert!(ApiClient::new("not a url").is_err());
        assert_eq!(ApiClient::new("http://127.0.0.1:1/").unwrap().base_url(), "http://127.0.0.1:1");
    }

    #[test]
    fn problems_map_by_code_keeping_status_retry_and_detail() {
        let problem = |code: ErrorCode| Problem::for_code(code, "detail");
        let throttled = Problem { retry_after_s: Some(7), ..problem(ErrorCode::TooManyAttempts) };
        assert_eq!(
            ClientError::from_problem(throttled.clone(), 429, None, Some(9)),
            ClientError::TooManyAttempts { retry_after: Duration::from_secs(9) },
            "the header wins"
        );
        assert_eq!(
            ClientError::from_problem(throttled, 429, None, None),
            ClientError::TooManyAttempts { retry_after: Duration::from_secs(7) }
        );
        let newer: Problem = serde_json::from_str(
            r#"{"status":418,"code":"something_new","title":"t","detail":"from a newer server"}"#,
        )
        .unwrap();
        let unknown = ClientError::from_problem(newer, 418, None, None);
        assert_eq!(unknown.to_string(), "The server answered 418 (unknown): from a newer server");
        assert_eq!(
            ClientError::from_problem(problem(ErrorCode::InvalidRequest), 400, None, None),
            ClientError::InvalidRequest { detail: "detail".into() }
        );
        let limited = Problem { retry_after_s: Some(2), ..problem(ErrorCode::TooManyRequests) };
        assert_eq!(
            ClientError::from_problem(limited, 429, None, None),
            ClientError::TooManyRequests { retry_after: Duration::from_secs(2) }
        );
        let unavailable = problem(ErrorCode::ServiceUnavailable);
        assert_eq!(
            ClientError::from_problem(unavailable, 503, None, Some(30)),
            ClientError::ServiceUnavailable { retry_after: Duration::from_secs(30) }
        );
        let locked = ClientError::from_problem(problem(ErrorCode::SecondFactorLocked), 403, None, None);
        assert_eq!(locked, ClientError::SecondFactorLocked);
        assert_eq!(locked.to_string(), "Too many wrong codes: ask an administrator to unlock your account.");
    }

    /// A server that is not a usercenter platform is named as such; its page never reaches the screen.
    #[tokio::test]
    async fn another_kind_of_server_is_named_and_its_body_is_not_shown() {
        use axum::routing::get;
        let page = "<!DOCTYPE html><html><body>PRIVATE INTRANET PAGE</body></html>";
        let router = axum::Router::new()
            .route("/v1/health", get(move || async move { axum::response::Html(page) }))
            .route("/json/v1/health", get(|| async { axum::Json(serde_json::json!({"status": "UP"})) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        for (base, what) in [(format!("http://{addr}"), "HTML"), (format!("http://{addr}/json"), "JSON")] {
            let error = ApiClient::new(&base).unwrap().health().await.unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, ClientError::NotPlatform { .. }), "{error:?}");
            assert!(text.contains("is not a usercenter platform") && text.contains(what), "{text}");
            assert!(!text.contains("PRIVATE") && !text.contains("UP"), "{text}");
        }
    }

    #[tokio::test]
    async fn unreachable_server_names_url_and_cause() {
        // Port 9 (discard) on loopback: nothing listens there in tests.
        let client = ApiClient::new("http://127.0.0.1:9").unwrap();
        let err = client.health().await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
        assert!(text.contains("http://127.0.0.1:9/v1/health"), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
    }
}
