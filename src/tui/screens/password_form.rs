//! Re-entering the password: the first step of enabling, of new backup codes and of disabling.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;

use crate::client::ClientError;
use crate::domain::SecretString;
use crate::tui::app::msg::Now;
use crate::tui::request::Request;
use crate::tui::screen::{Cx, Ui};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;
use crate::tui::widgets::popup::wrapped_height;

pub const PASSWORD_MAX_CHARS: usize = 64;

#[derive(Debug)]
pub struct PasswordForm {
    pub field: TextField,
    pub request: Request,
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
        Self { field: TextField::masked(PASSWORD_MAX_CHARS), request: Request::default() }
    }

    /// Enter returns the password; the caller marks the request sent when it actually sends it.
    pub fn on_key(&mut self, key: &KeyEvent) -> FormIntent {
        match key.code {
            KeyCode::Esc => FormIntent::Cancel,
            KeyCode::Enter => {
                if !self.request.is_editing() {
                    FormIntent::Nothing
                } else if self.field.is_empty() {
                    self.request.refuse("Enter your password.");
                    FormIntent::Nothing
                } else {
                    self.request.clear();
                    FormIntent::Submit(self.field.secret())
                }
            }
            _ => {
                if !self.request.is_sending() {
                    self.field.handle_key(key);
                }
                FormIntent::Nothing
            }
        }
    }

    /// The request failed: the form says why; a lost connection also opens the retry dialog.
    pub fn failed<A>(&mut self, error: &ClientError, now: Now, cx: &mut Cx<'_, A>) {
        if matches!(error, ClientError::InvalidPassword) {
            self.field.clear();
        }
        self.request.failed(error, now.instant, Vec::new());
        cx.connection_lost(error);
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
    render_password_panel_with(title, intro, form, true, (area, buf), ui, pending_text);
}

/// As [`render_password_panel`]; without `field_shown` the field's row stays empty (a question is
/// asked instead).
pub fn render_password_panel_with(
    title: &str,
    intro: Vec<Line<'_>>,
    form: &PasswordForm,
    field_shown: bool,
    (area, buf): (Rect, &mut Buffer),
    ui: &Ui,
    pending_text: &str,
) {
    let width = area.width.min(72);
    let intro_rows = wrapped_height(&intro, width.saturating_sub(4));
    let field_area = FormCard {
        title,
        width,
        height: intro_rows.saturating_add(7),
        intro: Text::from(intro),
        intro_rows,
        status: form.request.status(pending_text, ui),
    }
    .render(area, buf);
    if field_shown {
        FieldView {
            label: "Password",
            field: &form.field,
            focused: !form.request.is_sending(),
            label_width: 9,
        }
        .render(field_area, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyModifiers;

    use super::*;
    use crate::tui::app::msg::RequestIds;
    use crate::tui::testing::at;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn empty_password_is_refused_and_wrong_password_clears() {
        let mut form = PasswordForm::new();
        assert_eq!(form.on_key(&key(KeyCode::Enter)), FormIntent::Nothing);
        assert!(matches!(form.request, Request::Editing { problem: Some(_) }));
        form.on_key(&key(KeyCode::Char('x')));
        assert_eq!(form.on_key(&key(KeyCode::Enter)), FormIntent::Submit("x".into()));
        let mut ids = RequestIds::default();
        form.request.sent(ids.fresh());
        let mut account = ();
        form.failed(&ClientError::InvalidPassword, at(0), &mut Cx::new(&mut account, &mut ids));
        assert!(form.field.is_empty());
        assert!(!form.request.is_sending());
    }
}
