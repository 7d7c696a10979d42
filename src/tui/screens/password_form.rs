//! Re-entering the password: the first step of enabling, of new backup codes and of disabling.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;

use super::common::{Countdown, FormStatus, Notice, Ui, error_or_countdown, tick_countdown};
use crate::client::ClientError;
use crate::domain::SecretString;
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;
use crate::tui::widgets::popup::wrapped_height;

pub const PASSWORD_MAX_CHARS: usize = 64;

#[derive(Debug)]
pub struct PasswordForm {
    pub field: TextField,
    pub pending: bool,
    pub error: Option<Notice>,
    pub throttle: Option<Countdown>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormIntent {
    Nothing,
    Submit(SecretString),
    Cancel,
}

impl Default for PasswordForm {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordForm {
    pub fn new() -> Self {
        Self { field: TextField::masked(PASSWORD_MAX_CHARS), pending: false, error: None, throttle: None }
    }

    /// Enter returns the password; the caller sets `pending` when it actually sends it.
    pub fn on_key(&mut self, key: &KeyEvent) -> FormIntent {
        match key.code {
            KeyCode::Esc => FormIntent::Cancel,
            KeyCode::Enter => {
                if self.pending || self.throttle.is_some() {
                    FormIntent::Nothing
                } else if self.field.is_empty() {
                    self.error = Some(Notice::error("Enter your password."));
                    FormIntent::Nothing
                } else {
                    self.error = None;
                    FormIntent::Submit(self.field.secret())
                }
            }
            _ => {
                if !self.pending {
                    self.field.handle_key(key);
                }
                FormIntent::Nothing
            }
        }
    }

    pub fn on_error(&mut self, error: &ClientError, now: Instant) {
        self.pending = false;
        if matches!(error, ClientError::InvalidPassword) {
            self.field.clear();
        }
        error_or_countdown(error, now, &mut self.error, &mut self.throttle);
    }

    pub fn tick(&mut self, now: Instant) {
        tick_countdown(&mut self.throttle, now);
    }

    pub fn status(&self, ui: &Ui, pending_text: &str) -> Vec<Line<'static>> {
        FormStatus {
            pending: self.pending.then_some(pending_text),
            throttle: self.throttle.as_ref(),
            error: self.error.as_ref(),
            hints: &[],
        }
        .lines(ui)
    }
}

/// A centred box: `intro` text, the password field, and the status line.
pub fn render_password_panel(
    title: &str,
    intro: Vec<Line<'_>>,
    form: &PasswordForm,
    area: Rect,
    buf: &mut Buffer,
    ui: &Ui,
    pending_text: &str,
) {
    let width = area.width.min(72);
    let intro_rows = wrapped_height(&intro, width.saturating_sub(4));
    let field_area = FormCard {
        title,
        width,
        height: intro_rows + 7,
        intro: Text::from(intro),
        intro_rows,
        status: form.status(ui, pending_text),
    }
    .render(area, buf);
    FieldView { label: "Password", field: &form.field, focused: !form.pending, label_width: 9 }
        .render(field_area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn empty_password_is_refused_and_wrong_password_clears() {
        let mut form = PasswordForm::new();
        assert_eq!(form.on_key(&key(KeyCode::Enter)), FormIntent::Nothing);
        assert!(form.error.is_some());
        form.on_key(&key(KeyCode::Char('x')));
        assert_eq!(form.on_key(&key(KeyCode::Enter)), FormIntent::Submit("x".into()));
        form.pending = true;
        form.on_error(&ClientError::InvalidPassword, Instant::now());
        assert!(form.field.is_empty());
        assert!(!form.pending);
    }
}
