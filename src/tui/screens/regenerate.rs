//! Generate new backup codes: the password, a warning that the old codes stop working, then the
//! same codes screen as the enable wizard.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;

use super::common::Ui;
use super::enable::codes::{CodesIntent, CodesStep};
use super::password_form::{FormIntent, PasswordForm, render_password_panel};
use crate::domain::SecretString;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegenReason {
    /// Chosen from the Security page.
    Requested,
    /// 2FA got turned on but the codes of the confirmation never arrived.
    CodesNeverArrived,
}

#[derive(Debug)]
pub enum RegenStage {
    Password(PasswordForm),
    Codes(CodesStep),
}

#[derive(Debug)]
pub struct RegenerateScreen {
    pub stage: RegenStage,
    pub reason: RegenReason,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RegenIntent {
    Nothing,
    Submit(SecretString),
    Leave,
    Codes(CodesIntent),
}

impl RegenerateScreen {
    pub fn new(reason: RegenReason) -> Self {
        Self { stage: RegenStage::Password(PasswordForm::new()), reason }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> RegenIntent {
        match &mut self.stage {
            RegenStage::Password(form) => match form.on_key(key) {
                FormIntent::Nothing => RegenIntent::Nothing,
                FormIntent::Submit(password) => {
                    form.pending = true;
                    RegenIntent::Submit(password)
                }
                // Leaving while the request is out would lose codes that replace the old ones.
                FormIntent::Cancel if form.pending => RegenIntent::Nothing,
                FormIntent::Cancel => RegenIntent::Leave,
            },
            RegenStage::Codes(codes) => RegenIntent::Codes(codes.on_key(key)),
        }
    }

    pub fn is_pending(&self) -> bool {
        match &self.stage {
            RegenStage::Password(form) => form.pending,
            RegenStage::Codes(codes) => codes.is_pending(),
        }
    }

    pub fn accepts_text(&self) -> bool {
        match &self.stage {
            RegenStage::Password(_) => true,
            RegenStage::Codes(codes) => codes.accepts_text(),
        }
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        match &self.stage {
            RegenStage::Password(_) => vec![("Enter", "generate"), ("Esc", "cancel"), ("F1", "help")],
            RegenStage::Codes(codes) => codes.hints(),
        }
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        match &self.stage {
            RegenStage::Password(form) => {
                let mut intro = Vec::new();
                if self.reason == RegenReason::CodesNeverArrived {
                    intro.push(
                        Line::from(
                            "Two-factor authentication is now on, but your backup codes never reached this \
                             computer: the connection failed. Generate new ones now, so that you can still \
                             sign in if you lose your phone.",
                        )
                        .yellow(),
                    );
                    intro.push(Line::from(""));
                }
                intro.push(
                    Line::from("! Your current backup codes stop working as soon as new ones are made.")
                        .yellow()
                        .bold(),
                );
                intro.push(Line::from(""));
                intro.push(Line::from("Enter your password to generate ten new backup codes."));
                render_password_panel(
                    "Generate new backup codes",
                    intro,
                    form,
                    area,
                    buf,
                    ui,
                    "Generating new codes…",
                );
            }
            RegenStage::Codes(codes) => codes.render(area, buf, ui),
        }
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::domain::BackupCodesResponse;
    use crate::tui::app::Reply;
    use crate::tui::testing::*;

    #[test]
    fn regenerate_password() {
        let mut app = signed_in(me(true, 3));
        press(&mut app, KeyCode::Char('g'));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn regenerate_after_lost_codes() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Err(ClientError::Timeout { url: format!("{URL}/v1/x") })));
        reply(&mut app, Reply::Me(Ok(me(true, 10))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn regenerated_codes() {
        let mut app = signed_in(me(true, 3));
        press(&mut app, KeyCode::Char('g'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
