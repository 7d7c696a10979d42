//! Pieces every screen shares: notices, the throttling countdown, error classes, rendering context.

use std::time::{Duration, Instant};

use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use time::OffsetDateTime;

use crate::client::ClientError;

/// What rendering needs beyond a screen's own state.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// The spinner's current frame.
    pub spinner: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

/// A one-line message on a screen: an error, a success, a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub tone: Tone,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Self {
        Self { tone: Tone::Info, text: text.into() }
    }
    pub fn success(text: impl Into<String>) -> Self {
        Self { tone: Tone::Success, text: text.into() }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self { tone: Tone::Warning, text: text.into() }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self { tone: Tone::Error, text: text.into() }
    }

    pub fn line(&self) -> Line<'static> {
        let (mark, style) = match self.tone {
            Tone::Info => ("", Style::new()),
            Tone::Success => ("✓ ", Style::new().green()),
            Tone::Warning => ("! ", Style::new().yellow()),
            Tone::Error => ("✗ ", Style::new().red()),
        };
        Line::from(vec![Span::styled(mark, style.bold()), Span::styled(self.text.clone(), style)])
    }
}

/// "Too many attempts. Try again in N s", counted down by ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    until: Instant,
    now: Instant,
}

impl Countdown {
    pub fn start(now: Instant, wait: Duration) -> Self {
        Self { until: now + wait, now }
    }

    pub fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    pub fn remaining_secs(&self) -> u64 {
        let left = self.until.saturating_duration_since(self.now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }

    pub fn is_over(&self) -> bool {
        self.now >= self.until
    }

    pub fn notice(&self) -> Notice {
        Notice::error(format!("Too many attempts. Try again in {} s.", self.remaining_secs()))
    }
}

/// What a form says below its field while a request is out or after it failed.
pub struct FormStatus<'a> {
    /// What the spinner says while the request is out; `None` when none is.
    pub pending: Option<&'a str>,
    pub throttle: Option<&'a Countdown>,
    pub error: Option<&'a Notice>,
    /// Shown under the error: what to try next.
    pub hints: &'a [Notice],
}

impl FormStatus<'_> {
    /// The spinner, else the countdown, else the error and its hints; empty when all is quiet.
    pub fn lines(&self, ui: &Ui) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        if let Some(pending) = self.pending {
            lines.push(Line::from(format!("{} {pending}", ui.spinner)).cyan());
        } else if let Some(t) = self.throttle {
            lines.push(t.notice().line());
        } else if let Some(e) = self.error {
            lines.push(e.line());
            lines.extend(self.hints.iter().map(Notice::line));
        }
        lines
    }
}

/// A failed request as a form shows it: too many attempts start a countdown in place of an error; any
/// other error is shown as its text.
pub fn error_or_countdown(
    error: &ClientError,
    now: Instant,
    shown: &mut Option<Notice>,
    throttle: &mut Option<Countdown>,
) {
    match classify(error) {
        ErrorClass::Throttled(wait) => {
            *throttle = Some(Countdown::start(now, wait));
            *shown = None;
        }
        ErrorClass::SessionEnded | ErrorClass::Transport | ErrorClass::Shown => {
            *shown = Some(Notice::error(error.to_string()));
        }
    }
}

/// Advances an optional countdown and drops it once it has run out.
pub fn tick_countdown(countdown: &mut Option<Countdown>, now: Instant) {
    if let Some(c) = countdown {
        c.tick(now);
        if c.is_over() {
            *countdown = None;
        }
    }
}

/// How a screen reacts to an error, decided once for every [`ClientError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The session is gone: back to sign-in.
    SessionEnded,
    /// Wait before trying again.
    Throttled(Duration),
    /// The request may not have reached the server.
    Transport,
    /// Anything else: show the text.
    Shown,
}

pub fn classify(error: &ClientError) -> ErrorClass {
    match error {
        ClientError::Unauthorized => ErrorClass::SessionEnded,
        ClientError::TooManyAttempts { retry_after } | ClientError::TooManyRequests { retry_after } => {
            ErrorClass::Throttled(*retry_after)
        }
        ClientError::Unreachable { .. } | ClientError::Timeout { .. } | ClientError::Protocol { .. } => {
            ErrorClass::Transport
        }
        ClientError::InvalidCredentials
        | ClientError::InvalidPassword
        | ClientError::InvalidCode { .. }
        | ClientError::CodeAlreadyUsed
        | ClientError::ChallengeExpired
        | ClientError::AlreadyEnabled
        | ClientError::NoPendingEnrollment
        | ClientError::NotEnabled
        | ClientError::InvalidRequest { .. }
        | ClientError::SecondFactorLocked
        | ClientError::ServiceUnavailable { .. }
        | ClientError::Server { .. } => ErrorClass::Shown,
    }
}

/// Beyond this difference between the server's clock and ours, codes from a phone set by the network
/// still work while this computer's idea of "now" would mislead the person.
pub const CLOCK_SKEW_LIMIT_S: i64 = 15;

/// The hints shown after an invalid code: the phone's clock, and this computer's if it is off.
pub fn invalid_code_hints(server_date: Option<OffsetDateTime>, local: OffsetDateTime) -> Vec<Notice> {
    let mut hints =
        vec![Notice::info("Check that your phone's clock is set automatically, then try the newest code.")];
    if let Some(server) = server_date {
        let skew = (local - server).whole_seconds();
        if skew.abs() > CLOCK_SKEW_LIMIT_S {
            let direction = if skew > 0 { "ahead of" } else { "behind" };
            hints.push(Notice::warning(format!(
                "This computer's clock is off by {} s ({direction} the server's clock).",
                skew.abs()
            )));
        }
    }
    hints
}

/// `Me.two_factor.enabled_at` as shown to people.
pub fn format_time(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    utc.format(format).unwrap_or_else(|_| utc.to_string())
}

/// Capitalises the first letter of a lower-case error text for a sentence of its own.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let s: String = first.to_uppercase().chain(chars).collect();
            if s.ends_with('.') { s } else { s + "." }
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_rounds_up_and_ends() {
        let t0 = Instant::now();
        let mut c = Countdown::start(t0, Duration::from_secs(30));
        assert_eq!(c.remaining_secs(), 30);
        c.tick(t0 + Duration::from_millis(1500));
        assert_eq!(c.remaining_secs(), 29);
        let mut opt = Some(c);
        tick_countdown(&mut opt, t0 + Duration::from_secs(30));
        assert!(opt.is_none());
    }

    #[test]
    fn clock_hint_only_beyond_the_limit() {
        let server = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(500_000);
        assert_eq!(invalid_code_hints(Some(server), server + time::Duration::seconds(15)).len(), 1);
        let hints = invalid_code_hints(Some(server), server - time::Duration::seconds(42));
        assert_eq!(hints.len(), 2);
        assert!(hints[1].text.contains("off by 42 s (behind"), "{}", hints[1].text);
        assert_eq!(invalid_code_hints(None, server).len(), 1);
    }
}
