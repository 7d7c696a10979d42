//! Disable two-factor authentication: the password, then a confirmation.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;

use super::password_form::{FormIntent, PasswordForm, render_password_panel_with};
use crate::client::ClientError;
use crate::domain::SecretString;
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Cx, Screen, Session, Transition, Ui, unasked};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Password,
    Confirm,
}

pub const KEYS: &[KeyBinding<Stage>] = &[
    KeyBinding::new("Enter", "continue").hinted_if(|s| s == Stage::Password),
    KeyBinding::new("Esc", "cancel").hinted_if(|s| s == Stage::Password),
    keys::help_f1().hinted_if(|s| s == Stage::Password),
    KeyBinding::new("y", "turn it off").when(|s| s == Stage::Confirm, "when asked"),
    KeyBinding::new("n", "keep it on").also("Esc").when(|s| s == Stage::Confirm, "when asked"),
];

#[derive(Debug)]
pub struct DisableScreen {
    pub form: PasswordForm,
    /// The password typed, while the confirmation is asked.
    pub confirming: Option<SecretString>,
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

    fn stage(&self) -> Stage {
        if self.confirming.is_some() { Stage::Confirm } else { Stage::Password }
    }
}

impl Screen for DisableScreen {
    type Account = Session;
    type Route = SignedInRoute;

    fn activity(&self) -> Activity {
        self.form.request.activity()
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.form.request.awaits(id)
    }

    fn accepts_text(&self) -> bool {
        self.confirming.is_none()
    }

    fn tick(&mut self, now: std::time::Instant) {
        self.form.request.tick(now);
    }

    fn reconnected(&mut self) {
        self.form.request.reconnected();
    }

    fn keys(&self, _: &Session) -> Vec<Key> {
        keys::resolve(KEYS, self.stage())
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if let Some(password) = &self.confirming {
            match key.code {
                KeyCode::Char('y' | 'Y') => {
                    let password = password.clone();
                    self.confirming = None;
                    self.form.request.sent(cx.send(ApiCall::Disable { token: cx.token(), password }));
                }
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                    // Kept on: nothing typed stays behind.
                    self.confirming = None;
                    self.form.field.clear();
                }
                _ => {}
            }
            return Transition::Stay;
        }
        match self.form.on_key(key) {
            FormIntent::Nothing => Transition::Stay,
            FormIntent::Submit(password) => {
                self.confirming = Some(password);
                Transition::Stay
            }
            FormIntent::Cancel if self.form.request.is_sending() => Transition::Stay,
            FormIntent::Cancel => Transition::Go(SignedInRoute::Home { notice: None, refresh: false }),
        }
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let Answer { reply, now, .. } = answer;
        match reply {
            Reply::Disabled(Ok(_)) => {
                let two_factor = &mut cx.account.me.two_factor;
                two_factor.enabled = false;
                two_factor.enabled_at = None;
                two_factor.backup_codes_remaining = 0;
                let notice = Notice::success("Two-factor authentication is off.");
                Transition::Go(SignedInRoute::FactorChanged(notice))
            }
            // The workspace began to require it since the account was loaded.
            Reply::Disabled(Err(ClientError::TwoFactorRequired)) => {
                cx.account.me.policy.two_factor_required = true;
                let notice = Some(Notice::error(ClientError::TwoFactorRequired.to_string()));
                Transition::Go(SignedInRoute::Home { notice, refresh: true })
            }
            Reply::Disabled(Err(error)) => {
                self.form.failed(&error, now, cx);
                Transition::Stay
            }
            other => unasked(&other),
        }
    }

    fn render(&self, _: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
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
        render_password_panel_with(
            "Disable two-factor authentication",
            intro,
            &self.form,
            self.confirming.is_none(),
            (area, buf),
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

    /// Found: the masked password stayed on screen under the y/n question, and after `n` it was still
    /// in the field.
    #[test]
    fn disable_confirm() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        let text = screen_text(&app);
        assert!(!text.contains("Password") && !text.contains("••"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
        press(&mut app, KeyCode::Char('n'));
        let screen = app.screen::<super::DisableScreen>().expect("still on disable");
        assert!(screen.form.field.is_empty(), "n leaves the form empty");
    }
}
