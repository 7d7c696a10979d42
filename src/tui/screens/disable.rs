//! Disable two-factor authentication: the password, then a confirmation.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;

use super::common::Ui;
use super::password_form::{FormIntent, PasswordForm, render_password_panel};
use crate::domain::SecretString;

#[derive(Debug)]
pub struct DisableScreen {
    pub form: PasswordForm,
    /// The password typed, while the confirmation is asked.
    pub confirming: Option<SecretString>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DisableIntent {
    Nothing,
    Disable(SecretString),
    Leave,
}

impl Default for DisableScreen {
    fn default() -> Self {
        Self::new()
    }
}

impl DisableScreen {
    pub fn new() -> Self {
        Self { form: PasswordForm::new(), confirming: None }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> DisableIntent {
        if let Some(password) = &self.confirming {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    let password = password.clone();
                    self.confirming = None;
                    self.form.pending = true;
                    DisableIntent::Disable(password)
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                    self.confirming = None;
                    DisableIntent::Nothing
                }
                _ => DisableIntent::Nothing,
            };
        }
        match self.form.on_key(key) {
            FormIntent::Nothing => DisableIntent::Nothing,
            FormIntent::Submit(password) => {
                self.confirming = Some(password);
                DisableIntent::Nothing
            }
            FormIntent::Cancel => {
                if self.form.pending {
                    DisableIntent::Nothing
                } else {
                    DisableIntent::Leave
                }
            }
        }
    }

    pub fn is_pending(&self) -> bool {
        self.form.pending
    }

    pub fn accepts_text(&self) -> bool {
        self.confirming.is_none()
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        if self.confirming.is_some() {
            vec![("y", "turn it off"), ("n", "keep it on")]
        } else {
            vec![("Enter", "continue"), ("Esc", "cancel"), ("F1", "help")]
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let mut intro = vec![
            Line::from(
                "Without two-factor authentication, your password alone signs you in. The codes from your \
                 authenticator app and all your backup codes stop working.",
            ),
            Line::from(""),
        ];
        if self.confirming.is_some() {
            intro
                .push(Line::from("Turn off two-factor authentication for this account? y/n").bold().yellow());
        } else {
            intro.push(Line::from("Enter your password to continue."));
        }
        render_password_panel(
            "Disable two-factor authentication",
            intro,
            &self.form,
            area,
            buf,
            ui,
            "Turning off two-factor authentication…",
        );
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::tui::testing::*;

    #[test]
    fn disable_password() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn disable_confirm() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
