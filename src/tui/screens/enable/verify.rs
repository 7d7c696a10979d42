//! Step 3 of enabling: the 6-digit code from the app, sent as soon as six digits are typed.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;
use time::OffsetDateTime;

use crate::client::ClientError;
use crate::domain::{Enrollment, VerificationCode};
use crate::tui::screens::common::{
    Countdown, FormStatus, Notice, Ui, error_or_countdown, invalid_code_hints, tick_countdown,
};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;

/// After a confirm whose outcome is unknown, the app asks the server whether 2FA got turned on.
#[derive(Debug)]
pub enum Check {
    Running { confirm_error: ClientError },
    Failed { confirm_error: ClientError, check_error: ClientError },
}

#[derive(Debug)]
pub struct VerifyStep {
    pub enrollment: Enrollment,
    pub field: TextField,
    pub pending: bool,
    pub error: Option<Notice>,
    pub hints: Vec<Notice>,
    pub throttle: Option<Countdown>,
    pub check: Option<Check>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyIntent {
    Nothing,
    Submit(VerificationCode),
    /// Back to the QR code.
    Back,
    Cancel,
    CheckAgain,
}

impl VerifyStep {
    pub fn new(enrollment: Enrollment) -> Self {
        Self {
            enrollment,
            field: TextField::digits(6),
            pending: false,
            error: None,
            hints: Vec::new(),
            throttle: None,
            check: None,
        }
    }

    /// A request is out (the code, or the question whether 2FA got enabled).
    pub fn is_pending(&self) -> bool {
        self.pending || matches!(self.check, Some(Check::Running { .. }))
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> VerifyIntent {
        if self.is_pending() {
            // Leaving now could cancel a setup that is just being turned on.
            return VerifyIntent::Nothing;
        }
        match key.code {
            KeyCode::Esc => VerifyIntent::Cancel,
            KeyCode::BackTab | KeyCode::Left => VerifyIntent::Back,
            KeyCode::Char('r') if matches!(self.check, Some(Check::Failed { .. })) => {
                if let Some(Check::Failed { confirm_error, .. }) = self.check.take() {
                    self.check = Some(Check::Running { confirm_error });
                }
                VerifyIntent::CheckAgain
            }
            KeyCode::Enter => self.submit(),
            _ => {
                if self.throttle.is_some() {
                    return VerifyIntent::Nothing;
                }
                self.field.handle_key(key);
                if self.field.char_count() == 6 { self.submit() } else { VerifyIntent::Nothing }
            }
        }
    }

    fn submit(&mut self) -> VerifyIntent {
        if self.throttle.is_some() || self.check.is_some() {
            return VerifyIntent::Nothing;
        }
        match VerificationCode::parse(self.field.text()) {
            Some(code) => {
                self.pending = true;
                self.error = None;
                self.hints.clear();
                VerifyIntent::Submit(code)
            }
            None => {
                self.error = Some(Notice::error("Type the 6 digits your app shows."));
                VerifyIntent::Nothing
            }
        }
    }

    pub fn on_error(&mut self, error: &ClientError, now: Instant, local: OffsetDateTime) {
        self.pending = false;
        self.field.clear();
        self.hints.clear();
        if let ClientError::InvalidCode { server_date } = error {
            self.hints = invalid_code_hints(*server_date, local);
        }
        error_or_countdown(error, now, &mut self.error, &mut self.throttle);
    }

    /// The code's answer never arrived (or the setup is gone): ask the server before anything else.
    pub fn start_check(&mut self, confirm_error: ClientError) {
        self.pending = false;
        self.field.clear();
        self.check = Some(Check::Running { confirm_error });
    }

    /// The server says 2FA is still off: the code can be tried again.
    pub fn check_says_off(&mut self) {
        if let Some(Check::Running { confirm_error } | Check::Failed { confirm_error, .. }) =
            self.check.take()
        {
            self.hints.clear();
            if matches!(confirm_error, ClientError::NoPendingEnrollment) {
                self.hints.push(Notice::info("Press Esc and start the setup again."));
            } else {
                self.hints.push(Notice::info(
                    "Two-factor authentication is still off. Type a new code to try again.",
                ));
            }
            self.error = Some(Notice::error(confirm_error.to_string()));
        }
    }

    pub fn check_failed(&mut self, check_error: ClientError) {
        if let Some(Check::Running { confirm_error } | Check::Failed { confirm_error, .. }) =
            self.check.take()
        {
            self.check = Some(Check::Failed { confirm_error, check_error });
        }
    }

    pub fn tick(&mut self, now: Instant) {
        tick_countdown(&mut self.throttle, now);
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        if matches!(self.check, Some(Check::Failed { .. })) {
            return vec![("r", "check again"), ("Esc", "cancel"), ("F1", "help")];
        }
        vec![
            ("0-9", "code (sent at 6 digits)"),
            ("Shift-Tab", "back to QR code"),
            ("Esc", "cancel"),
            ("F1", "help"),
        ]
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let intro = format!(
            "Type the 6-digit code your app now shows for {} ({}). It is sent as soon as you type the sixth digit.",
            self.enrollment.issuer, self.enrollment.account
        );
        let field = FormCard {
            title: "Verify",
            width: area.width.min(72),
            height: (12 + self.hints.len() as u16).min(area.height),
            intro: Text::from(intro),
            intro_rows: 3,
            status: self.status(ui),
        }
        .render(area, buf);
        FieldView { label: "Code", field: &self.field, focused: !self.is_pending(), label_width: 5 }
            .render(Rect { width: field.width.min(24), ..field }, buf);
    }

    /// Asking whether 2FA got turned on comes before the code's own progress and errors.
    fn status(&self, ui: &Ui) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        match &self.check {
            Some(Check::Running { .. }) => lines.push(
                Line::from(format!(
                    "{} No answer to the code. Asking the server whether two-factor authentication is on…",
                    ui.spinner
                ))
                .cyan(),
            ),
            Some(Check::Failed { check_error, .. }) => {
                lines.push(
                    Notice::error("Could not tell whether two-factor authentication got turned on.").line(),
                );
                lines.push(Line::from(check_error.to_string()));
                lines.push(Line::from("Press r to ask the server again."));
            }
            None => lines.extend(
                FormStatus {
                    pending: self.pending.then_some("Checking the code…"),
                    throttle: self.throttle.as_ref(),
                    error: self.error.as_ref(),
                    hints: &self.hints,
                }
                .lines(ui),
            ),
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::client::ClientError;
    use crate::tui::app::{Msg, Reply};
    use crate::tui::testing::*;

    #[test]
    fn verify() {
        let mut app = at_verify();
        type_text(&mut app, "123");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn verify_invalid_code_clock_off() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        let server_date = Some(WALL - Duration::from_secs(42));
        app.update(Msg::Api(at(0), Reply::Confirmed(Err(ClientError::InvalidCode { server_date }))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn verify_throttled() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(
            &mut app,
            Reply::Confirmed(Err(ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) })),
        );
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn verify_asking_whether_enabled() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Err(ClientError::Timeout { url: format!("{URL}/v1/x") })));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn verify_check_failed() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        let lost =
            ClientError::Unreachable { url: format!("{URL}/v1/me"), cause: "connection refused".into() };
        reply(&mut app, Reply::Confirmed(Err(lost.clone())));
        reply(&mut app, Reply::Me(Err(lost)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
