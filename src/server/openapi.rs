//! The API's OpenAPI 3.1 document, generated from the code: the schemas from the request and response
//! types of [`crate::domain`], the operations from the handlers' `#[utoipa::path]`, and each
//! operation's error answers from [`errors_of`], typed as [`ErrorCode`]s (their statuses and titles
//! come from the one table of codes). Served at `GET /v1/openapi.json` and checked in as
//! `docs/openapi.json`; `USERCENTER_UPDATE_OPENAPI=1 cargo test --lib openapi` rewrites that copy.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi as _;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};

use super::routes;
use crate::domain::ErrorCode;

/// Where the document is served.
pub const PATH: &str = "/v1/openapi.json";
/// The checked-in copy, relative to the crate.
pub const CHECKED_IN: &str = "docs/openapi.json";
/// The content type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "usercenter platform API",
        version = "1.1.0",
        description = "The contract between the usercenter terminal app and its platform (docs/API.md, \
                       v1 and v1.1). JSON in and out; every error is `application/problem+json` \
                       (RFC 9457) with a stable `code` to branch on. An unknown path answers 404 \
                       `not_found` and a known path with another method 405 `method_not_allowed`, \
                       both problem JSON. Every answer carries `Cache-Control: no-store`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        routes::auth::health,
        routes::auth::login,
        routes::auth::second_factor,
        routes::auth::logout,
        routes::auth::me,
        routes::two_factor::start_enrollment,
        routes::two_factor::confirm_enrollment,
        routes::two_factor::cancel_enrollment,
        routes::two_factor::regenerate_backup_codes,
        routes::two_factor::disable,
        routes::activity::events,
        routes::activity::sessions,
        routes::activity::revoke,
        routes::activity::revoke_others,
        openapi_json,
    ),
    components(schemas(crate::domain::Problem, ErrorCode)),
    modifiers(&BearerAuth, &ErrorAnswers),
    tags(
        (name = "server", description = "The server itself"),
        (name = "sign-in", description = "Signing in and out"),
        (name = "account", description = "The signed-in account"),
        (name = "two-factor", description = "Turning two-factor authentication on and off"),
        (name = "activity", description = "Security events and sessions (v1.1)"),
    ),
)]
struct ApiDoc;

/// The document.
pub fn document() -> OpenApi {
    ApiDoc::openapi()
}

/// The document as served and checked in: pretty JSON with a final newline.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // Serialising our own document cannot fail: every key is a string.
        let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
        text.push('\n');
        text
    })
}

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "server", operation_id = "openapi",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json",
        body = serde_json::Value)))]
pub async fn openapi_json() -> Response {
    let mut response = document_json().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `Authorization: Bearer <token>`, the only security scheme.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A session token from POST /v1/auth/login or /v1/auth/second-factor. A missing, unknown, \
                 expired or revoked token gets 401 `unauthorized`.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// Adds each operation's error answers, grouped by status, from [`errors_of`].
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations =
                [&mut item.get, &mut item.post, &mut item.delete, &mut item.put, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                add_errors(operation);
            }
        }
    }
}

fn add_errors(operation: &mut Operation) {
    let id = operation.operation_id.clone().unwrap_or_default();
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    // An operation missing from the table gets no error answers: the tests then fail on its errors.
    for code in errors_of(&id).unwrap_or_default() {
        by_status.entry(code.status()).or_default().push(code);
    }
    for (status, codes) in by_status {
        operation.responses.responses.insert(status.to_string(), RefOr::T(problem_response(status, &codes)));
    }
}

/// The answer of one status: problem JSON whose `code` is one of `codes`.
fn problem_response(status: u16, codes: &[ErrorCode]) -> utoipa::openapi::Response {
    let description =
        codes.iter().map(|code| format!("`{code}`: {}", code.title())).collect::<Vec<_>>().join("; ");
    let retry = matches!(status, 429 | 503);
    let mut narrowed = ObjectBuilder::new()
        .property("status", ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([status])))
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.iter().map(|code| code.as_str()))),
        );
    if retry {
        narrowed = narrowed.required("retry_after_s");
    }
    let schema = AllOfBuilder::new().item(Ref::from_schema_name("Problem")).item(narrowed);
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(schema)).build());
    if retry {
        let seconds = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .description(Some("Whole seconds to wait before trying again (also `retry_after_s`)"))
            .build();
        response = response.header("Retry-After", seconds);
    }
    response.build()
}

/// The error codes each operation (by `operation_id`) may answer; `None` for an operation this table
/// does not know.
pub fn errors_of(operation_id: &str) -> Option<Vec<ErrorCode>> {
    use ErrorCode as E;
    // A JSON body: malformed or wrong (400), too big (413), too slow (408).
    const BODY: &[E] = &[E::InvalidRequest, E::PayloadTooLarge, E::RequestTimeout];
    // Login and second factor: the anonymous rate of rule 9, and a full hashing queue.
    const ANONYMOUS: &[E] = &[E::TooManyRequests];
    // A bearer token: missing, unknown, expired or revoked.
    const BEARER: &[E] = &[E::Unauthorized];
    // Not for a token that may only set up 2FA (policy).
    const FULL_SESSION: &[E] = &[E::TwoFactorSetupRequired];
    // The database: full (503, rule 16) or failing (500); the password hashing queue full (503).
    const STORED: &[E] = &[E::ServiceUnavailable, E::InternalError];
    let parts: &[&[E]] = match operation_id {
        "health" | "openapi" => &[],
        "login" => &[BODY, ANONYMOUS, &[E::InvalidCredentials, E::TooManyAttempts], STORED],
        "second_factor" => &[
            BODY,
            ANONYMOUS,
            &[
                E::InvalidCode,
                E::CodeAlreadyUsed,
                E::ChallengeExpired,
                E::TooManyAttempts,
                E::SecondFactorLocked,
            ],
            STORED,
        ],
        "logout" | "me" | "cancel_enrollment" => &[BEARER, STORED],
        "start_enrollment" => {
            &[BODY, BEARER, &[E::InvalidPassword, E::AlreadyEnabled, E::TooManyAttempts], STORED]
        }
        "confirm_enrollment" => &[
            BODY,
            BEARER,
            &[E::InvalidCode, E::CodeAlreadyUsed, E::NoPendingEnrollment, E::TooManyAttempts],
            STORED,
        ],
        "regenerate_backup_codes" => {
            &[BODY, BEARER, FULL_SESSION, &[E::InvalidPassword, E::NotEnabled, E::TooManyAttempts], STORED]
        }
        "disable" => &[
            BODY,
            BEARER,
            FULL_SESSION,
            &[E::InvalidPassword, E::NotEnabled, E::TwoFactorRequired, E::TooManyAttempts],
            STORED,
        ],
        "events" => &[BEARER, &[E::InvalidRequest], STORED],
        "sessions" | "revoke_other_sessions" => &[BEARER, FULL_SESSION, STORED],
        "revoke_session" => &[BEARER, FULL_SESSION, &[E::NotFound], STORED],
        _ => return None,
    };
    Some(parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_openapi_document_is_the_generated_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKED_IN);
        if std::env::var_os("USERCENTER_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, document_json()).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == document_json(),
            "{CHECKED_IN} differs from the document the code generates: run \
             `USERCENTER_UPDATE_OPENAPI=1 cargo test --lib openapi` and review the diff"
        );
    }

    #[test]
    fn every_error_code_is_documented_with_its_status_and_checked_as_an_answer() {
        let document = document();
        for code in ErrorCode::KNOWN {
            let status = code.status().to_string();
            let problem = serde_json::json!({"type": "about:blank", "title": code.title(),
                "status": code.status(), "detail": "d", "code": code.as_str(), "retry_after_s": 1});
            if code == ErrorCode::MethodNotAllowed {
                // The fallback of every path, not an operation's answer.
                conformance::check("PUT", crate::domain::paths::ME, 405, Some(PROBLEM_JSON), &problem)
                    .unwrap();
                continue;
            }
            let mut documented = 0;
            for (path, item) in &document.paths.paths {
                for (method, operation) in
                    [("GET", &item.get), ("POST", &item.post), ("DELETE", &item.delete)]
                {
                    let Some(operation) = operation else { continue };
                    let id = operation.operation_id.clone().unwrap_or_default();
                    if !errors_of(&id).unwrap_or_default().contains(&code) {
                        continue;
                    }
                    assert!(
                        operation.responses.responses.contains_key(&status),
                        "{id}: no {status} for {code}"
                    );
                    let path = path.replace("{id}", "some-session");
                    conformance::check(method, &path, code.status(), Some(PROBLEM_JSON), &problem)
                        .unwrap_or_else(|e| panic!("{code} on {id}: {e}"));
                    documented += 1;
                }
            }
            assert!(documented > 0, "{code} is answered by no operation of the document");
        }
    }

    #[test]
    fn every_operation_has_its_errors_and_the_contract_s_paths() {
        let document = document();
        assert_eq!(serde_json::to_value(&document.openapi).unwrap(), "3.1.0");
        let mut operations = Vec::new();
        for (path, item) in &document.paths.paths {
            for (method, operation) in [("get", &item.get), ("post", &item.post), ("delete", &item.delete)] {
                if let Some(operation) = operation {
                    let id = operation.operation_id.clone().unwrap();
                    assert!(errors_of(&id).is_some(), "{id} has no entry in errors_of");
                    operations.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        operations.sort();
        let mut expected = [
            "GET /v1/health",
            "POST /v1/auth/login",
            "POST /v1/auth/second-factor",
            "POST /v1/auth/logout",
            "GET /v1/me",
            "POST /v1/me/two-factor/enrollment",
            "POST /v1/me/two-factor/enrollment/confirm",
            "DELETE /v1/me/two-factor/enrollment",
            "POST /v1/me/two-factor/backup-codes",
            "POST /v1/me/two-factor/disable",
            "GET /v1/me/events",
            "GET /v1/me/sessions",
            "DELETE /v1/me/sessions/{id}",
            "POST /v1/me/sessions/revoke-others",
            "GET /v1/openapi.json",
        ];
        expected.sort_unstable();
        assert_eq!(operations, expected);
    }
}

/// Real answers checked against the document (used by the handler tests on every answer they get).
#[cfg(test)]
pub(crate) mod conformance {
    use std::sync::OnceLock;

    use serde_json::Value;

    fn document() -> &'static Value {
        static DOCUMENT: OnceLock<Value> = OnceLock::new();
        DOCUMENT.get_or_init(|| serde_json::from_str(super::document_json()).expect("the document is JSON"))
    }

    /// The document's path template that `path` (no query) matches: `{id}` stands for one segment.
    fn template_of(path: &str) -> Option<&'static str> {
        let segments: Vec<&str> = path.split('/').collect();
        let paths = document()["paths"].as_object()?;
        paths.keys().map(String::as_str).find(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    (part.starts_with('{') && part.ends_with('}') && !segment.is_empty()) || part == segment
                })
        })
    }

    /// Validates `body` against `schema`, whose `$ref`s point into the document's components.
    fn validate(schema: &Value, body: &Value) -> Result<(), String> {
        let mut root = schema.clone();
        if let Value::Object(map) = &mut root {
            map.insert("components".to_owned(), document()["components"].clone());
        }
        let validator =
            jsonschema::draft202012::new(&root).map_err(|e| format!("the schema does not compile: {e}"))?;
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).collect();
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }

    /// Checks one answer: its path and method are in the document (or it is the 404 / 405 fallback),
    /// its status is one the operation lists, and its body matches that answer's schema.
    pub(crate) fn check(
        method: &str,
        uri: &str,
        status: u16,
        content_type: Option<&str>,
        body: &Value,
    ) -> Result<(), String> {
        let path = uri.split('?').next().unwrap_or(uri);
        let problem = serde_json::json!({"$ref": "#/components/schemas/Problem"});
        let fallback = |code: &str| -> Result<(), String> {
            validate(&problem, body)?;
            if body["code"] != code {
                return Err(format!("expected the fallback {code}, got {body}"));
            }
            Ok(())
        };
        let Some(template) = template_of(path) else { return fallback("not_found") };
        let Some(operation) = document()["paths"][template].get(method.to_lowercase()) else {
            return fallback("method_not_allowed");
        };
        let id = operation["operationId"].as_str().unwrap_or(template);
        let Some(answer) = operation["responses"].get(status.to_string()) else {
            return Err(format!("{id}: status {status} is not in the document ({body})"));
        };
        let Some(content) = answer.get("content").and_then(Value::as_object) else {
            return if body.is_null() {
                Ok(())
            } else {
                Err(format!("{id} {status}: a body the document has not"))
            };
        };
        let media = content_type.unwrap_or("").split(';').next().unwrap_or("").trim();
        let Some(schema) = content.get(media).and_then(|c| c.get("schema")) else {
            return Err(format!("{id} {status}: content type {media:?} is not in the document"));
        };
        validate(schema, body).map_err(|e| format!("{id} {status}: {e}\nbody: {body}"))
    }
}
