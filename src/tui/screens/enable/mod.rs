//! The enable wizard: Password → Authenticator app → Verify → Backup codes.

pub mod codes;
pub mod password;
pub mod scan;
pub mod verify;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use self::codes::{CodesKind, CodesOutcome, CodesStep};
use self::scan::{ScanIntent, ScanLayout, ScanStep};
use self::verify::{VerifyIntent, VerifyStep};
use super::password_form::{FormIntent, PasswordForm};
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Cleanup, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Chrome, Cx, Screen, Session, Transition, Ui, unasked};
use crate::tui::widgets::popup::Popup;
use crate::tui::widgets::stepbar::StepBar;

/// Asked when Esc would cancel a setup whose code may already be in the person's app.
pub const CANCEL_QUESTION: &str = "You may have scanned this code already: cancel the setup? y/n";

/// The keys while the cancel question is asked.
pub const CANCEL_KEYS: &[KeyBinding] = &[
    KeyBinding::new("y", "cancel the setup").context("when asked"),
    KeyBinding::new("n", "keep going").also("Esc").context("when asked"),
];

pub const STEPS: [&str; 4] = ["Password", "Authenticator app", "Verify", "Backup codes"];

/// Each step holds only its own data.
#[derive(Debug)]
pub enum Step {
    Password(PasswordForm),
    Scan(ScanStep),
    Verify(VerifyStep),
    Codes(CodesStep),
}

#[derive(Debug)]
pub struct EnableWizard {
    pub step: Step,
    /// Esc on the QR code or verify step asked whether to cancel the setup.
    pub cancel_asked: bool,
}

impl Default for EnableWizard {
    fn default() -> Self {
        Self::new()
    }
}

impl EnableWizard {
    pub fn new() -> Self {
        Self { step: Step::Password(PasswordForm::new()), cancel_asked: false }
    }

    pub fn step_index(&self) -> usize {
        match self.step {
            Step::Password(_) => 0,
            Step::Scan(_) => 1,
            Step::Verify(_) => 2,
            Step::Codes(_) => 3,
        }
    }

    /// Back to the user center; `cancel_enrollment` when a setup may be pending on the server.
    fn leave(cancel_enrollment: bool, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if cancel_enrollment {
            // Nobody waits for the answer: the setup is abandoned either way.
            cx.send(ApiCall::CancelEnrollment { token: cx.token() });
        }
        let notice = Some(Notice::info("Setup cancelled: two-factor authentication is still off."));
        Transition::Go(SignedInRoute::Home { notice, refresh: false })
    }
}

impl Screen for EnableWizard {
    type Account = Session;
    type Route = SignedInRoute;

    fn activity(&self) -> Activity {
        match &self.step {
            Step::Password(form) => form.request.activity(),
            Step::Scan(_) => Activity::Idle,
            Step::Verify(verify) => verify.activity(),
            Step::Codes(codes) => codes.activity(),
        }
    }

    fn awaits(&self, id: RequestId) -> bool {
        match &self.step {
            Step::Password(form) => form.request.awaits(id),
            Step::Scan(_) => false,
            Step::Verify(verify) => verify.awaits(id),
            Step::Codes(codes) => codes.awaits(id),
        }
    }

    fn accepts_text(&self) -> bool {
        if self.cancel_asked {
            return false;
        }
        match &self.step {
            Step::Password(_) | Step::Verify(_) => true,
            Step::Scan(_) => false,
            Step::Codes(codes) => codes.accepts_text(),
        }
    }

    fn tick(&mut self, now: std::time::Instant) {
        match &mut self.step {
            Step::Password(form) => form.request.tick(now),
            Step::Verify(verify) => verify.tick(now),
            Step::Scan(_) | Step::Codes(_) => {}
        }
    }

    fn reconnected(&mut self) {
        match &mut self.step {
            Step::Password(form) => form.request.reconnected(),
            Step::Verify(verify) => verify.reconnected(),
            Step::Scan(_) | Step::Codes(_) => {}
        }
    }

    fn keys(&self, _: &Session) -> Vec<Key> {
        if self.cancel_asked {
            return keys::resolve(CANCEL_KEYS, ());
        }
        match &self.step {
            Step::Password(_) => keys::resolve(password::KEYS, ()),
            Step::Scan(scan) => scan.keys(),
            Step::Verify(verify) => verify.keys(),
            Step::Codes(codes) => codes.keys(),
        }
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if self.cancel_asked {
            match key.code {
                KeyCode::Char('y' | 'Y') => return Self::leave(true, cx),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => self.cancel_asked = false,
                _ => {}
            }
            return Transition::Stay;
        }
        match &mut self.step {
            Step::Password(form) => match form.on_key(key) {
                FormIntent::Nothing => {}
                FormIntent::Submit(password) => {
                    form.request.sent(cx.send(ApiCall::StartEnrollment { token: cx.token(), password }));
                }
                FormIntent::Cancel => return Self::leave(form.request.is_sending(), cx),
            },
            Step::Scan(scan) => match scan.on_key(key) {
                ScanIntent::Nothing => {}
                ScanIntent::Continue => self.step = Step::Verify(VerifyStep::new(scan.enrollment.clone())),
                ScanIntent::Cancel => self.cancel_asked = true,
            },
            Step::Verify(verify) => match verify.on_key(key, cx) {
                VerifyIntent::Nothing => {}
                VerifyIntent::Back => self.step = Step::Scan(ScanStep::new(verify.enrollment.clone())),
                VerifyIntent::Cancel => self.cancel_asked = true,
            },
            Step::Codes(codes) => match codes.on_key(key, cx) {
                CodesOutcome::Stay => {}
                CodesOutcome::Done => {
                    let notice = Notice::success(
                        "Two-factor authentication is on: each sign-in now asks for a code from your app.",
                    );
                    return Transition::Go(SignedInRoute::Home { notice: Some(notice), refresh: true });
                }
            },
        }
        Transition::Stay
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let Answer { reply, now, .. } = answer;
        match (&mut self.step, reply) {
            (Step::Password(_), Reply::EnrollmentStarted(Ok(enrollment))) => {
                self.step = Step::Scan(ScanStep::new(enrollment));
            }
            (Step::Password(form), Reply::EnrollmentStarted(Err(error))) => form.failed(&error, now, cx),
            (Step::Verify(verify), Reply::Confirmed(Ok(response))) => {
                let codes = CodesStep::new(
                    response.backup_codes,
                    &verify.enrollment.issuer,
                    &verify.enrollment.account,
                    now.wall,
                    CodesKind::Enabled,
                );
                self.step = Step::Codes(codes);
                // Shown at once on the user center; the refresh after the codes confirms it.
                let two_factor = &mut cx.account.me.two_factor;
                two_factor.enabled = true;
                two_factor.enabled_at = Some(now.wall);
                two_factor.backup_codes_remaining = codes::full_set();
                two_factor.pending_enrollment = false;
            }
            (Step::Verify(verify), Reply::Confirmed(Err(error))) => verify.confirm_failed(error, now, cx),
            (Step::Verify(verify), Reply::Me(result)) => return verify.on_check(result, cx),
            (Step::Codes(codes), reply) => return codes.on_reply(reply),
            (Step::Password(_) | Step::Scan(_) | Step::Verify(_), other) => return unasked(&other),
        }
        Transition::Stay
    }

    /// The QR code takes the header's and step bar's rows when the terminal is short, and the hint
    /// line too when it is narrow (its own line then says how to go on).
    fn chrome(&self, area: Rect) -> Chrome {
        let Step::Scan(scan) = &self.step else { return Chrome::Full };
        // Under the header and step bar (and a blank row), above the hints.
        let body = Rect { height: area.height.saturating_sub(4), ..area };
        let short = Rect { height: area.height.saturating_sub(1), ..area };
        if scan.key_shown || scan.layout(body) == ScanLayout::Beside {
            Chrome::Full
        } else if scan.layout(short) == ScanLayout::Beside {
            Chrome::NoHeader
        } else if scan.layout(area) == ScanLayout::QrOnly {
            Chrome::Bare
        } else {
            Chrome::Full
        }
    }

    fn quit_warning(&self) -> Option<&'static str> {
        match &self.step {
            Step::Codes(codes) => codes.quit_warning(),
            Step::Password(_) | Step::Scan(_) | Step::Verify(_) => None,
        }
    }

    fn cleanup(&self) -> Cleanup {
        let cancel_enrollment = match &self.step {
            Step::Password(form) => form.request.is_sending(),
            Step::Scan(_) | Step::Verify(_) => true,
            Step::Codes(_) => false,
        };
        Cleanup { token: None, cancel_enrollment }
    }

    fn render(&self, account: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        self.render_step(account, area, buf, ui);
        if self.cancel_asked {
            let lines = vec![
                Line::from("Cancelling removes the setup from the server; a code you scanned stops working."),
                Line::from(""),
                Line::from(CANCEL_QUESTION).bold(),
            ];
            Popup::new("Cancel the setup?", lines)
                .warning()
                .width(area.width.saturating_sub(4).min(72))
                .render(area, buf);
        }
    }
}

impl EnableWizard {
    fn render_step(&self, _: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        if let (Chrome::NoHeader | Chrome::Bare, Step::Scan(scan)) = (ui.chrome, &self.step) {
            // No step bar either: the step's title goes beside the QR code.
            scan.render(area, buf, true, ui.phone);
            return;
        }
        let [bar, _, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        StepBar { steps: &STEPS, current: self.step_index() }.render(bar, buf);
        match &self.step {
            Step::Password(form) => password::render(form, body, buf, ui),
            Step::Scan(scan) => scan.render(body, buf, false, ui.phone),
            Step::Verify(verify) => verify.render(body, buf, ui),
            Step::Codes(codes) => codes.render(body, buf, ui),
        }
    }
}
