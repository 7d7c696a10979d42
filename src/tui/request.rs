//! A form's request, from typing to the answer: one phase every form shares, so a form cannot be
//! sending, throttled and showing an error all at once.

use std::time::{Duration, Instant};

use ratatui::style::Stylize;
use ratatui::text::Line;

use super::app::msg::RequestId;
use super::notice::Notice;
use super::screen::{Activity, Ui};
use crate::client::ClientError;

#[derive(Debug)]
pub enum Request {
    /// Typing; `problem` says why the last attempt did not go through, if it did not.
    Editing { problem: Option<Problem> },
    /// Sent: the answer with this id is awaited.
    Sending(RequestId),
    /// Too many attempts: no new one until the countdown ends.
    Throttled(Countdown),
}

/// Why an attempt did not go through, and what to try next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub notice: Notice,
    /// Shown under the notice.
    pub advice: Vec<Notice>,
    /// The request may not have reached the server: once it is reachable again, this is old news.
    pub lost_connection: bool,
}

impl Problem {
    pub fn new(notice: Notice, advice: Vec<Notice>) -> Self {
        Self { notice, advice, lost_connection: false }
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::Editing { problem: None }
    }
}

impl Request {
    /// A new attempt may be sent.
    pub fn is_editing(&self) -> bool {
        matches!(self, Request::Editing { .. })
    }

    pub fn is_sending(&self) -> bool {
        matches!(self, Request::Sending(_))
    }

    pub fn awaits(&self, id: RequestId) -> bool {
        matches!(self, Request::Sending(sent) if *sent == id)
    }

    pub fn activity(&self) -> Activity {
        match self {
            Request::Editing { .. } => Activity::Idle,
            Request::Sending(_) => Activity::Waiting,
            Request::Throttled(_) => Activity::CountingDown,
        }
    }

    /// Refused before sending (an empty field): `text` replaces the last notice and its advice, which
    /// was about another mistake.
    pub fn refuse(&mut self, text: &str) {
        *self = Request::Editing { problem: Some(Problem::new(Notice::error(text), Vec::new())) };
    }

    /// The server is reachable again: a "cannot reach" problem is no longer true.
    pub fn reconnected(&mut self) {
        if let Request::Editing { problem: Some(problem) } = self
            && problem.lost_connection
        {
            self.clear();
        }
    }

    /// Forgets what the last attempt said.
    pub fn clear(&mut self) {
        *self = Request::default();
    }

    pub fn sent(&mut self, id: RequestId) {
        *self = Request::Sending(id);
    }

    /// The request failed: too many attempts start a countdown in place of an error; any other error
    /// is shown as its text, with `advice` under it.
    pub fn failure(error: &ClientError, now: Instant, advice: Vec<Notice>) -> Self {
        match classify(error) {
            ErrorClass::Throttled(wait) => Request::Throttled(Countdown::start(now, wait)),
            class @ (ErrorClass::SessionEnded | ErrorClass::Transport | ErrorClass::Shown) => {
                let problem = Problem {
                    notice: Notice::error(error.to_string()),
                    advice,
                    lost_connection: class == ErrorClass::Transport,
                };
                Request::Editing { problem: Some(problem) }
            }
        }
    }

    /// As [`Request::failure`], in place.
    pub fn failed(&mut self, error: &ClientError, now: Instant, advice: Vec<Notice>) {
        *self = Self::failure(error, now, advice);
    }

    /// Advances the countdown; once it has run out the form may send again.
    pub fn tick(&mut self, now: Instant) {
        if let Request::Throttled(countdown) = self {
            countdown.tick(now);
            if countdown.is_over() {
                self.clear();
            }
        }
    }

    /// Rows the advice under the notice takes.
    pub fn advice_rows(&self) -> u16 {
        match self {
            Request::Editing { problem: Some(problem) } => {
                u16::try_from(problem.advice.len()).unwrap_or(u16::MAX)
            }
            Request::Editing { problem: None } | Request::Sending(_) | Request::Throttled(_) => 0,
        }
    }

    /// What the form says below its field: the spinner with `sending`, the countdown, or the problem
    /// and its advice; empty when all is quiet.
    pub fn status(&self, sending: &str, ui: &Ui) -> Vec<Line<'static>> {
        match self {
            Request::Editing { problem: None } => Vec::new(),
            Request::Editing { problem: Some(problem) } => {
                let mut lines = vec![problem.notice.line()];
                lines.extend(problem.advice.iter().map(Notice::line));
                lines
            }
            Request::Sending(_) => vec![Line::from(format!("{} {sending}", ui.spinner)).cyan()],
            Request::Throttled(countdown) => vec![countdown.notice().line()],
        }
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
        ClientError::Unreachable { .. }
        | ClientError::Timeout { .. }
        | ClientError::Protocol { .. }
        | ClientError::NotPlatform { .. } => ErrorClass::Transport,
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
        | ClientError::TwoFactorSetupRequired
        | ClientError::TwoFactorRequired
        | ClientError::NotFound
        | ClientError::ServiceUnavailable { .. }
        | ClientError::Server { .. } => ErrorClass::Shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::msg::RequestIds;

    #[test]
    fn countdown_rounds_up_and_ends() {
        let t0 = Instant::now();
        let mut c = Countdown::start(t0, Duration::from_secs(30));
        assert_eq!(c.remaining_secs(), 30);
        c.tick(t0 + Duration::from_millis(1500));
        assert_eq!(c.remaining_secs(), 29);
        let mut request = Request::Throttled(c);
        request.tick(t0 + Duration::from_secs(30));
        assert!(matches!(request, Request::Editing { problem: None }));
    }

    #[test]
    fn one_phase_at_a_time() {
        let mut ids = RequestIds::default();
        let t0 = Instant::now();
        let mut request = Request::default();
        let id = ids.fresh();
        request.sent(id);
        assert!(request.awaits(id) && !request.awaits(ids.fresh()));
        let wait = Duration::from_secs(5);
        request.failed(&ClientError::TooManyAttempts { retry_after: wait }, t0, Vec::new());
        assert_eq!(request.activity(), Activity::CountingDown);
        assert!(!request.is_editing(), "no attempt while throttled");
        request.tick(t0 + wait);
        request.failed(&ClientError::InvalidPassword, t0, vec![Notice::info("advice")]);
        request.refuse("Enter your password.");
        let Request::Editing { problem: Some(problem) } = &request else { panic!("{request:?}") };
        assert_eq!(problem.notice, Notice::error("Enter your password."));
        assert_eq!(problem.advice, Vec::new(), "advice about an earlier mistake goes with it");
        request.reconnected();
        assert!(matches!(request, Request::Editing { problem: Some(_) }), "not about the connection");
        let lost = ClientError::Timeout { url: "http://x/v1/me".into() };
        request.failed(&lost, t0, Vec::new());
        request.reconnected();
        assert!(matches!(request, Request::Editing { problem: None }), "old news once reconnected");
    }
}
