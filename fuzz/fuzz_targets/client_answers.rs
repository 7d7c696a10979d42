//! Whatever a server (or something pretending to be one) answers with an error status, through the
//! client's one mapping (`error_from_answer`), and the problem-JSON body on its own.
//!
//! Invariant: never a panic; a problem body that parses serialises to one that parses to the same
//! value; a problem's code decides the error (never its text); the message shown is bounded.

#![no_main]

use usercenter::client::{ClientError, ErrorAnswer, error_from_answer};
use usercenter::domain::{ErrorCode, Problem};

/// The most a person is shown of one error, whatever the server sent.
const MAX_SHOWN: usize = 400;

// Two bytes of status (big-endian), then the `Date`, `Retry-After` and `Content-Type` headers, each up
// to a newline (an empty line: no header), then the body. Seeds in fuzz/seeds/client_answers/ are real answers.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [high, low, rest @ ..] = data else { return };
    let status = u16::from_be_bytes([*high, *low]);
    let (date, rest) = header_line(rest);
    let (retry_after, rest) = header_line(rest);
    let (content_type, body) = header_line(rest);
    let answer = ErrorAnswer { status, content_type, date, retry_after, body };
    let error = error_from_answer("http://127.0.0.1:8080/v1/x", &answer);
    let shown = error.to_string();
    assert!(shown.chars().count() <= MAX_SHOWN, "{} characters shown: {shown}", shown.chars().count());
    assert!(!shown.chars().any(char::is_control), "a control character reaches the terminal: {shown:?}");
    if let Ok(problem) = serde_json::from_slice::<Problem>(body) {
        let again: Problem =
            serde_json::from_slice(&serde_json::to_vec(&problem).expect("serialises")).expect("parses again");
        assert_eq!(again, problem);
        let by_code = match problem.code {
            ErrorCode::InvalidCredentials => matches!(error, ClientError::InvalidCredentials),
            ErrorCode::InvalidCode => matches!(error, ClientError::InvalidCode { .. }),
            ErrorCode::TooManyAttempts => matches!(error, ClientError::TooManyAttempts { .. }),
            ErrorCode::Unauthorized => matches!(error, ClientError::Unauthorized),
            _ => true,
        };
        assert!(by_code, "{:?} became {error:?}", problem.code);
    }
});

/// A header value up to the first newline (`None` when empty or not UTF-8), and what follows it.
fn header_line(data: &[u8]) -> (Option<&str>, &[u8]) {
    let end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let value = std::str::from_utf8(&data[..end]).ok().filter(|v| !v.is_empty());
    (value, data.get(end + 1..).unwrap_or_default())
}
