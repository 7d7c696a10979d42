//! The verification code at sign-in: the app's 6-digit code, or a backup code in its place.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;

use super::advice::invalid_code_hints;
use super::sign_in::{Access, SignInPhase};
use crate::client::ClientError;
use crate::domain::{Challenge, SecondFactorInput, SecretString};
use crate::tui::app::SignedOutRoute;
use crate::tui::app::msg::{Answer, ApiCall, Cleanup, Now, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::request::Request;
use crate::tui::screen::{Activity, Cx, Screen, Transition, Ui, unasked};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;

pub const PROMPT: &str = "Enter the 6-digit code from your authenticator app, or one of your backup codes.";

pub const KEYS: &[KeyBinding] = &[
    KeyBinding::new("Enter", "verify").context("the 6-digit code or a backup code"),
    KeyBinding::new("Esc", "back to sign in"),
    keys::help_f1(),
];

#[derive(Debug)]
pub struct SecondFactorScreen {
    pub username: String,
    pub challenge: SecretString,
    pub field: TextField,
    pub sign_in: SignInPhase,
    /// The last code sent was a backup code: a refusal then says nothing about clocks.
    pub sent_backup: bool,
}

impl SecondFactorScreen {
    pub fn new(username: &str, challenge: Challenge) -> Self {
        Self {
            username: username.to_owned(),
            challenge: challenge.challenge,
            field: TextField::plain(24),
            sign_in: SignInPhase::default(),
            sent_backup: false,
        }
    }

    fn submit(&mut self, cx: &mut Cx<'_, ()>) {
        let SignInPhase::Form(request) = &mut self.sign_in else { return };
        if !request.is_editing() {
            return;
        }
        match SecondFactorInput::parse(self.field.text()) {
            Some(input) => {
                self.sent_backup = matches!(input, SecondFactorInput::Backup(_));
                request.sent(cx.send(ApiCall::SecondFactor { challenge: self.challenge.clone(), input }));
            }
            None => request.refuse("Type the 6 digits from your app, or a backup code such as abcde-fghjk."),
        }
    }

    /// The code was refused: say why, and what to try next.
    fn failed(&mut self, error: &ClientError, now: Now, cx: &mut Cx<'_, ()>) {
        let advice = if let ClientError::InvalidCode { server_date } = error {
            self.field.clear();
            if self.sent_backup {
                vec![Notice::info(
                    "Check the backup code for typos. Each works once, and new codes replace all old ones.",
                )]
            } else {
                invalid_code_hints(*server_date, now.wall)
            }
        } else if matches!(error, ClientError::CodeAlreadyUsed) {
            self.field.clear();
            vec![Notice::info("Wait for the next code in your app, or use another backup code.")]
        } else {
            Vec::new()
        };
        self.sign_in = SignInPhase::Form(Request::failure(error, now.instant, advice));
        cx.connection_lost(error);
    }

    fn advice_rows(&self) -> u16 {
        match &self.sign_in {
            SignInPhase::Form(request) => request.advice_rows(),
            SignInPhase::LoadingAccount { .. } | SignInPhase::LoadingActivity { .. } => 0,
        }
    }
}

impl Screen for SecondFactorScreen {
    type Account = ();
    type Route = SignedOutRoute;

    fn activity(&self) -> Activity {
        self.sign_in.activity()
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.sign_in.awaits(id)
    }

    fn accepts_text(&self) -> bool {
        true
    }

    fn tick(&mut self, now: std::time::Instant) {
        self.sign_in.tick(now);
    }

    fn reconnected(&mut self) {
        self.sign_in.reconnected();
    }

    fn keys(&self, (): &()) -> Vec<Key> {
        keys::resolve(KEYS, ())
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        match key.code {
            // Leaving while the code is checked would strand a session the server just opened.
            KeyCode::Esc if self.sign_in.is_busy() => {}
            KeyCode::Esc => {
                let username = Some(self.username.clone());
                return Transition::Go(SignedOutRoute::SignIn { username, notice: None });
            }
            KeyCode::Enter => self.submit(cx),
            _ => {
                if !self.sign_in.is_busy() {
                    self.field.handle_key(key);
                }
            }
        }
        Transition::Stay
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        let Answer { reply, now, .. } = answer;
        match reply {
            Reply::SecondFactor(Ok(session)) => {
                self.sign_in.opened(session, Access::Full, cx);
                Transition::Stay
            }
            Reply::SecondFactor(Err(ClientError::ChallengeExpired)) => {
                Transition::Go(SignedOutRoute::SignIn {
                    username: Some(self.username.clone()),
                    notice: Some(Notice::warning(ClientError::ChallengeExpired.to_string())),
                })
            }
            Reply::SecondFactor(Err(error)) => {
                self.failed(&error, now, cx);
                Transition::Stay
            }
            Reply::Me(result) => self.sign_in.on_account(result, now, cx),
            Reply::Events(result) => self.sign_in.on_activity(result),
            other => unasked(&other),
        }
    }

    fn cleanup(&self) -> Cleanup {
        Cleanup { token: self.sign_in.opened_token().cloned(), cancel_enrollment: false }
    }

    fn render(&self, (): &(), area: Rect, buf: &mut Buffer, ui: &Ui) {
        let field = FormCard {
            title: "Verification code",
            width: area.width.min(72),
            height: 12u16.saturating_add(self.advice_rows()).min(area.height),
            intro: Text::from(vec![
                Line::from(format!("Signing in as {}.", self.username)),
                Line::from(""),
                Line::from(PROMPT),
            ]),
            intro_rows: 4,
            status: self.sign_in.status("Checking the code…", ui),
        }
        .render(area, buf);
        FieldView { label: "Code", field: &self.field, focused: !self.sign_in.is_busy(), label_width: 5 }
            .render(Rect { width: field.width.min(28), ..field }, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::client::ClientError;
    use crate::domain::LoginResponse;
    use crate::tui::app::App;
    use crate::tui::app::msg::Reply;
    use crate::tui::testing::*;

    fn at_second_factor() -> App {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
        app
    }

    #[test]
    fn verification_code() {
        let mut app = at_second_factor();
        type_text(&mut app, "12345");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn invalid_code_with_clock_hint() {
        let mut app = at_second_factor();
        type_text(&mut app, "123456");
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        let server_date = Some(WALL + Duration::from_secs(95));
        reply_at(&mut app, at(0), Reply::SecondFactor(Err(ClientError::InvalidCode { server_date })));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    /// Found: an old backup code got "Check that your phone's clock is set automatically".
    #[test]
    fn a_refused_backup_code_gets_no_clock_hint() {
        let mut app = at_second_factor();
        type_text(&mut app, "abcde-fghjk");
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        let server_date = Some(WALL + Duration::from_secs(95));
        reply_at(&mut app, at(0), Reply::SecondFactor(Err(ClientError::InvalidCode { server_date })));
        let text = screen_text(&app);
        assert!(!text.contains("clock"), "{text}");
        assert!(text.contains("Check the backup code for typos"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    /// Found: the clock hint of a refused code stayed under "Type the 6 digits…" after an empty Enter.
    #[test]
    fn a_new_mistake_replaces_the_old_advice() {
        let mut app = at_second_factor();
        type_text(&mut app, "123456");
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        let server_date = Some(WALL + Duration::from_secs(95));
        reply_at(&mut app, at(0), Reply::SecondFactor(Err(ClientError::InvalidCode { server_date })));
        assert!(screen_text(&app).contains("clock"));
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        let text = screen_text(&app);
        assert!(text.contains("Type the 6 digits") && !text.contains("clock"), "{text}");
    }

    #[test]
    fn second_factor_throttled() {
        let mut app = at_second_factor();
        type_text(&mut app, "123456");
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        let err = ClientError::TooManyAttempts { retry_after: Duration::from_secs(120) };
        reply(&mut app, Reply::SecondFactor(Err(err)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn code_already_used() {
        let mut app = at_second_factor();
        type_text(&mut app, "abcde-fghjk");
        crate::tui::testing::press(&mut app, crossterm::event::KeyCode::Enter);
        reply(&mut app, Reply::SecondFactor(Err(ClientError::CodeAlreadyUsed)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
