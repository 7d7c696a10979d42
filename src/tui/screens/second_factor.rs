//! The verification code at sign-in: the app's 6-digit code, or a backup code in its place.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Text};
use ratatui::widgets::Widget;
use time::OffsetDateTime;

use super::common::{
    Countdown, FormStatus, Notice, Ui, error_or_countdown, invalid_code_hints, tick_countdown,
};
use crate::client::ClientError;
use crate::domain::{Challenge, SecondFactorInput, SecretString};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::FormCard;

pub const PROMPT: &str = "Enter the 6-digit code from your authenticator app, or one of your backup codes.";

#[derive(Debug)]
pub struct SecondFactorScreen {
    pub username: String,
    pub challenge: SecretString,
    pub field: TextField,
    pub pending: bool,
    pub error: Option<Notice>,
    pub hints: Vec<Notice>,
    pub throttle: Option<Countdown>,
    /// Set once the code was accepted, while the account loads: backup codes left, if one was used.
    pub signed_in: Option<Option<u32>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SecondFactorIntent {
    Nothing,
    Submit(SecondFactorInput),
    Back,
}

impl SecondFactorScreen {
    pub fn new(username: &str, challenge: Challenge) -> Self {
        Self {
            username: username.to_owned(),
            challenge: challenge.challenge,
            field: TextField::plain(24),
            pending: false,
            error: None,
            hints: Vec::new(),
            throttle: None,
            signed_in: None,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> SecondFactorIntent {
        match key.code {
            // Leaving while the code is checked would strand a session the server just opened.
            KeyCode::Esc if self.pending => SecondFactorIntent::Nothing,
            KeyCode::Esc => SecondFactorIntent::Back,
            KeyCode::Enter => {
                if self.pending || self.throttle.is_some() {
                    return SecondFactorIntent::Nothing;
                }
                match SecondFactorInput::parse(self.field.text()) {
                    Some(input) => {
                        self.pending = true;
                        self.error = None;
                        self.hints.clear();
                        SecondFactorIntent::Submit(input)
                    }
                    None => {
                        self.error = Some(Notice::error(
                            "Type the 6 digits from your app, or a backup code such as abcde-fghjk.",
                        ));
                        SecondFactorIntent::Nothing
                    }
                }
            }
            _ => {
                if !self.pending {
                    self.field.handle_key(key);
                }
                SecondFactorIntent::Nothing
            }
        }
    }

    /// `local` is this computer's time when the answer arrived, to compare with the server's.
    pub fn on_error(&mut self, error: &ClientError, now: Instant, local: OffsetDateTime) {
        self.pending = false;
        self.hints.clear();
        if let ClientError::InvalidCode { server_date } = error {
            self.field.clear();
            self.hints = invalid_code_hints(*server_date, local);
        } else if matches!(error, ClientError::CodeAlreadyUsed) {
            self.field.clear();
            self.hints =
                vec![Notice::info("Wait for the next code in your app, or use another backup code.")];
        }
        error_or_countdown(error, now, &mut self.error, &mut self.throttle);
    }

    pub fn tick(&mut self, now: Instant) {
        tick_countdown(&mut self.throttle, now);
    }

    pub fn hints(&self) -> Vec<(&'static str, &'static str)> {
        vec![("Enter", "verify"), ("Esc", "back to sign in"), ("F1", "help")]
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let status = FormStatus {
            pending: self.pending.then_some("Checking the code…"),
            throttle: self.throttle.as_ref(),
            error: self.error.as_ref(),
            hints: &self.hints,
        };
        let field = FormCard {
            title: "Verification code",
            width: area.width.min(72),
            height: (12 + self.hints.len() as u16).min(area.height),
            intro: Text::from(vec![
                Line::from(format!("Signing in as {}.", self.username)),
                Line::from(""),
                Line::from(PROMPT),
            ]),
            intro_rows: 4,
            status: status.lines(ui),
        }
        .render(area, buf);
        FieldView { label: "Code", field: &self.field, focused: !self.pending, label_width: 5 }
            .render(Rect { width: field.width.min(28), ..field }, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::client::ClientError;
    use crate::domain::LoginResponse;
    use crate::tui::app::{App, Msg, Reply};
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
        app.update(Msg::Api(at(0), Reply::SecondFactor(Err(ClientError::InvalidCode { server_date }))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
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
