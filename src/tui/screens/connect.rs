//! Reaching the server: the check at start, and the "cannot reach" screen with retry.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use super::common::Ui;
use crate::client::ClientError;
use crate::tui::widgets::popup::Popup;

#[derive(Debug)]
pub struct ConnectScreen {
    pub url: String,
    pub state: ConnectState,
}

#[derive(Debug)]
pub enum ConnectState {
    Checking,
    Failed(ClientError),
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConnectIntent {
    Nothing,
    Retry,
    /// Quit at start; close the dialog when shown over another screen.
    Leave,
}

impl ConnectScreen {
    pub fn checking(url: &str) -> Self {
        Self { url: url.to_owned(), state: ConnectState::Checking }
    }

    pub fn failed(url: &str, error: ClientError) -> Self {
        Self { url: url.to_owned(), state: ConnectState::Failed(error) }
    }

    pub fn is_pending(&self) -> bool {
        matches!(self.state, ConnectState::Checking)
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> ConnectIntent {
        match key.code {
            KeyCode::Char('r') | KeyCode::Char('R') | KeyCode::Enter => match self.state {
                ConnectState::Checking => ConnectIntent::Nothing,
                ConnectState::Failed(_) => {
                    self.state = ConnectState::Checking;
                    ConnectIntent::Retry
                }
            },
            KeyCode::Esc | KeyCode::Char('q') => ConnectIntent::Leave,
            _ => ConnectIntent::Nothing,
        }
    }

    pub fn hints(&self, over_screen: bool) -> Vec<(&'static str, &'static str)> {
        let leave = if over_screen { ("Esc", "close") } else { ("q", "quit") };
        vec![("r", "retry"), leave, ("Ctrl-C", "quit")]
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let (title, lines) = match &self.state {
            ConnectState::Checking => {
                ("Connecting", vec![Line::from(format!("{} Connecting to {}…", ui.spinner, self.url)).cyan()])
            }
            ConnectState::Failed(error) => (
                "Cannot reach the server",
                vec![
                    Line::from("Cannot reach the server at").bold(),
                    Line::from(self.url.clone()).cyan(),
                    Line::from(""),
                    Line::from(error.to_string()).red(),
                    Line::from(""),
                    Line::from("Check the address and your network, then press r to retry."),
                ],
            ),
        };
        Popup::new(title, lines).width(72).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::tui::app::{App, Reply};
    use crate::tui::testing::*;

    fn refused() -> ClientError {
        ClientError::Unreachable {
            url: format!("{URL}/v1/health"),
            cause: "connection refused (os error 111)".into(),
        }
    }

    #[test]
    fn connecting() {
        let app = App::new(URL, None);
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn unreachable_at_start() {
        let mut app = App::new(URL, None);
        reply(&mut app, Reply::Health(Err(refused())));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn unreachable_dialog_over_sign_in() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(
            &mut app,
            Reply::Login(Err(ClientError::Unreachable {
                url: format!("{URL}/v1/auth/login"),
                cause: "connection refused (os error 111)".into(),
            })),
        );
        insta::assert_snapshot!(render(&app, 80, 24).backend());
        press(&mut app, KeyCode::Esc);
        assert!(app.overlay.is_none());
    }
}
