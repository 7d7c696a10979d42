//! The enable wizard: Password → Authenticator app → Verify → Backup codes.

pub mod codes;
pub mod password;
pub mod scan;
pub mod verify;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use self::codes::{CodesIntent, CodesStep};
use self::scan::{ScanIntent, ScanStep};
use self::verify::{VerifyIntent, VerifyStep};
use super::common::Ui;
use super::password_form::{FormIntent, PasswordForm};
use crate::domain::{SecretString, VerificationCode};
use crate::tui::widgets::stepbar::StepBar;

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
}

#[derive(Debug, PartialEq, Eq)]
pub enum EnableIntent {
    Nothing,
    StartEnrollment(SecretString),
    Confirm(VerificationCode),
    CheckAgain,
    /// Leave the wizard; `cancel_enrollment` when a setup may be pending on the server.
    Leave {
        cancel_enrollment: bool,
    },
    Codes(CodesIntent),
}

impl Default for EnableWizard {
    fn default() -> Self {
        Self::new()
    }
}

impl EnableWizard {
    pub fn new() -> Self {
        Self { step: Step::Password(PasswordForm::new()) }
    }

    pub fn step_index(&self) -> usize {
        match self.step {
            Step::Password(_) => 0,
            Step::Scan(_) => 1,
            Step::Verify(_) => 2,
            Step::Codes(_) => 3,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> EnableIntent {
        match &mut self.step {
            Step::Password(form) => match form.on_key(key) {
                FormIntent::Nothing => EnableIntent::Nothing,
                FormIntent::Submit(password) => {
                    form.pending = true;
                    EnableIntent::StartEnrollment(password)
                }
                FormIntent::Cancel => EnableIntent::Leave { cancel_enrollment: form.pending },
            },
            Step::Scan(scan) => match scan.on_key(key) {
                ScanIntent::Nothing => EnableIntent::Nothing,
                ScanIntent::Continue => {
                    self.step = Step::Verify(VerifyStep::new(scan.enrollment.clone()));
                    EnableIntent::Nothing
                }
                ScanIntent::Cancel => EnableIntent::Leave { cancel_enrollment: true },
            },
            Step::Verify(verify) => match verify.on_key(key) {
                VerifyIntent::Nothing => EnableIntent::Nothing,
                VerifyIntent::Submit(code) => EnableIntent::Confirm(code),
                VerifyIntent::Back => {
                    self.step = Step::Scan(ScanStep::new(verify.enrollment.clone()));
                    EnableIntent::Nothing
                }
                VerifyIntent::Cancel => EnableIntent::Leave { cancel_enrollment: true },
                VerifyIntent::CheckAgain => EnableIntent::CheckAgain,
            },
            Step::Codes(codes) => EnableIntent::Codes(codes.on_key(key)),
        }
    }

    pub fn is_pending(&self) -> bool {
        match &self.step {
            Step::Password(form) => form.pending,
            Step::Scan(_) => false,
            Step::Verify(verify) => verify.is_pending(),
            Step::Codes(codes) => codes.is_pending(),
        }
    }

    pub fn accepts_text(&self) -> bool {
        match &self.step {
            Step::Password(_) | Step::Verify(_) => true,
            Step::Scan(_) => false,
            Step::Codes(codes) => codes.accepts_text(),
        }
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        match &self.step {
            Step::Password(_) => password::hints(),
            Step::Scan(scan) => scan.hints(),
            Step::Verify(verify) => verify.hints(),
            Step::Codes(codes) => codes.hints(),
        }
    }

    /// Whether the step takes the whole terminal (the QR code at small sizes).
    pub fn wants_full_screen(&self, body: Rect) -> bool {
        match &self.step {
            Step::Scan(scan) => scan.needs_full_height(body.height.saturating_sub(2)),
            Step::Password(_) | Step::Verify(_) | Step::Codes(_) => false,
        }
    }

    /// `full_screen`: `area` is the whole terminal but the hint line; no step bar.
    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui, full_screen: bool) {
        if full_screen {
            if let Step::Scan(scan) = &self.step {
                scan.render(area, buf, true);
            }
            return;
        }
        let [bar, _, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        StepBar { steps: &STEPS, current: self.step_index() }.render(bar, buf);
        match &self.step {
            Step::Password(form) => password::render(form, body, buf, ui),
            Step::Scan(scan) => scan.render(body, buf, false),
            Step::Verify(verify) => verify.render(body, buf, ui),
            Step::Codes(codes) => codes.render(body, buf, ui),
        }
    }
}
