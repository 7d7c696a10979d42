//! Step 3 of enabling: the 6-digit code from the app, sent as soon as six digits are typed.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;

use crate::client::ClientError;
use crate::domain::{Enrollment, Me, VerificationCode};
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{ApiCall, Now, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::request::{Problem, Request};
use crate::tui::screen::{Activity, Cx, Session, Transition, Ui};
use crate::tui::screens::advice::invalid_code_hints;
use crate::tui::screens::regenerate::RegenReason;
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;

/// The mode of the keys: whether asking the server failed.
pub const KEYS: &[KeyBinding<bool>] = &[
    KeyBinding::new("r", "check again")
        .when(|check_failed| check_failed, "when the server could not be asked"),
    KeyBinding::new("0-9", "code (sent at 6 digits)").hinted_if(|check_failed| !check_failed),
    KeyBinding::new("Shift-Tab", "back to QR code").also("←").hinted_if(|check_failed| !check_failed),
    KeyBinding::new("Esc", "cancel").context("also cancels the setup on the server"),
    keys::help_f1(),
];

#[derive(Debug)]
pub enum VerifyPhase {
    /// Typing the code and sending it.
    Code(Request),
    /// The answer to the code never came (or the setup is gone): is 2FA on now?
    Check(Check),
}

/// After a confirm whose outcome is unknown, the app asks the server whether 2FA got turned on.
#[derive(Debug)]
pub enum Check {
    Asking { id: RequestId, confirm_error: ClientError },
    Failed { confirm_error: ClientError, check_error: ClientError },
}

#[derive(Debug)]
pub struct VerifyStep {
    pub enrollment: Enrollment,
    pub field: TextField,
    pub phase: VerifyPhase,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyIntent {
    Nothing,
    /// Back to the QR code.
    Back,
    Cancel,
}

impl VerifyStep {
    pub fn new(enrollment: Enrollment) -> Self {
        Self { enrollment, field: TextField::digits(6), phase: VerifyPhase::Code(Request::default()) }
    }

    pub fn activity(&self) -> Activity {
        match &self.phase {
            VerifyPhase::Code(request) => request.activity(),
            VerifyPhase::Check(Check::Asking { .. }) => Activity::Waiting,
            VerifyPhase::Check(Check::Failed { .. }) => Activity::Idle,
        }
    }

    pub fn awaits(&self, id: RequestId) -> bool {
        match &self.phase {
            VerifyPhase::Code(request) => request.awaits(id),
            VerifyPhase::Check(Check::Asking { id: asking, .. }) => *asking == id,
            VerifyPhase::Check(Check::Failed { .. }) => false,
        }
    }

    pub fn is_checking(&self) -> bool {
        matches!(self.phase, VerifyPhase::Check(_))
    }

    fn check_failed(&self) -> bool {
        matches!(self.phase, VerifyPhase::Check(Check::Failed { .. }))
    }

    pub fn keys(&self) -> Vec<Key> {
        keys::resolve(KEYS, self.check_failed())
    }

    pub fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> VerifyIntent {
        if self.activity() == Activity::Waiting {
            // Leaving now could cancel a setup that is just being turned on.
            return VerifyIntent::Nothing;
        }
        match key.code {
            KeyCode::Esc => return VerifyIntent::Cancel,
            KeyCode::BackTab | KeyCode::Left => return VerifyIntent::Back,
            KeyCode::Char('r') if self.check_failed() => {
                let id = cx.send(ApiCall::LoadMe { token: cx.token() });
                let phase = std::mem::replace(&mut self.phase, VerifyPhase::Code(Request::default()));
                if let VerifyPhase::Check(Check::Failed { confirm_error, .. }) = phase {
                    self.phase = VerifyPhase::Check(Check::Asking { id, confirm_error });
                }
            }
            KeyCode::Enter => self.submit(cx),
            _ => {
                if !matches!(self.phase, VerifyPhase::Code(Request::Throttled(_))) {
                    self.field.handle_key(key);
                    if self.field.char_count() == 6 {
                        self.submit(cx);
                    }
                }
            }
        }
        VerifyIntent::Nothing
    }

    fn submit(&mut self, cx: &mut Cx<'_, Session>) {
        let VerifyPhase::Code(request) = &mut self.phase else { return };
        if !request.is_editing() {
            return;
        }
        match VerificationCode::parse(self.field.text()) {
            Some(code) => request.sent(cx.send(ApiCall::ConfirmEnrollment { token: cx.token(), code })),
            None => request.refuse("Type the 6 digits your app shows."),
        }
    }

    /// The code was not confirmed. When its answer was lost (or the setup is gone) the server is asked
    /// whether 2FA is on before anything is said.
    pub fn confirm_failed(&mut self, error: ClientError, now: Now, cx: &mut Cx<'_, Session>) {
        self.field.clear();
        if error.is_transport() || matches!(error, ClientError::NoPendingEnrollment) {
            let id = cx.send(ApiCall::LoadMe { token: cx.token() });
            self.phase = VerifyPhase::Check(Check::Asking { id, confirm_error: error });
            return;
        }
        let advice = if let ClientError::InvalidCode { server_date } = &error {
            invalid_code_hints(*server_date, now.wall)
        } else {
            Vec::new()
        };
        self.phase = VerifyPhase::Code(Request::failure(&error, now.instant, advice));
    }

    /// The server's answer to "is 2FA on?": on means the codes never arrived; off means the code can be
    /// tried again.
    pub fn on_check(
        &mut self,
        result: Result<Me, ClientError>,
        cx: &mut Cx<'_, Session>,
    ) -> Transition<SignedInRoute> {
        let phase = std::mem::replace(&mut self.phase, VerifyPhase::Code(Request::default()));
        let VerifyPhase::Check(Check::Asking { confirm_error, .. } | Check::Failed { confirm_error, .. }) =
            phase
        else {
            self.phase = phase;
            return Transition::Stay;
        };
        match result {
            Ok(me) if me.two_factor.enabled => {
                cx.account.me = me;
                Transition::Go(SignedInRoute::Regenerate(RegenReason::CodesNeverArrived))
            }
            Ok(me) => {
                cx.account.me = me;
                let advice = if matches!(confirm_error, ClientError::NoPendingEnrollment) {
                    Notice::info("Press Esc and start the setup again.")
                } else {
                    Notice::info("Two-factor authentication is still off. Type a new code to try again.")
                };
                let problem = Problem::new(Notice::error(confirm_error.to_string()), vec![advice]);
                self.phase = VerifyPhase::Code(Request::Editing { problem: Some(problem) });
                Transition::Stay
            }
            Err(check_error) => {
                self.phase = VerifyPhase::Check(Check::Failed { confirm_error, check_error });
                Transition::Stay
            }
        }
    }

    pub fn reconnected(&mut self) {
        match &mut self.phase {
            VerifyPhase::Code(request) => request.reconnected(),
            VerifyPhase::Check(_) => {}
        }
    }

    pub fn tick(&mut self, now: Instant) {
        match &mut self.phase {
            VerifyPhase::Code(request) => request.tick(now),
            VerifyPhase::Check(_) => {}
        }
    }

    fn advice_rows(&self) -> u16 {
        match &self.phase {
            VerifyPhase::Code(request) => request.advice_rows(),
            VerifyPhase::Check(_) => 0,
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let intro = format!(
            "Type the 6-digit code your app now shows for {} ({}). It is sent as soon as you type the sixth digit.",
            self.enrollment.issuer, self.enrollment.account
        );
        let field = FormCard {
            title: "Verify",
            width: area.width.min(72),
            height: 12u16.saturating_add(self.advice_rows()).min(area.height),
            intro: Text::from(intro),
            intro_rows: 3,
            status: self.status(ui),
        }
        .render(area, buf);
        let focused = self.activity() != Activity::Waiting;
        FieldView { label: "Code", field: &self.field, focused, label_width: 5 }
            .render(Rect { width: field.width.min(24), ..field }, buf);
    }

    /// Asking whether 2FA got turned on comes before the code's own progress and errors.
    fn status(&self, ui: &Ui) -> Vec<Line<'static>> {
        match &self.phase {
            VerifyPhase::Check(Check::Asking { .. }) => vec![
                Line::from(format!(
                    "{} No answer to the code. Asking the server whether two-factor authentication is on…",
                    ui.spinner
                ))
                .cyan(),
            ],
            VerifyPhase::Check(Check::Failed { check_error, .. }) => vec![
                Notice::error("Could not tell whether two-factor authentication got turned on.").line(),
                Line::from(check_error.to_string()),
                Line::from("Press r to ask the server again."),
            ],
            VerifyPhase::Code(request) => request.status("Checking the code…", ui),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::client::ClientError;
    use crate::tui::app::msg::Reply;
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
        reply_at(&mut app, at(0), Reply::Confirmed(Err(ClientError::InvalidCode { server_date })));
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
