//! Reaching the server: the check at start, and the "cannot reach" dialog with retry, which also
//! opens over any screen whose request could not reach the server.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use crate::client::ClientError;
use crate::tui::app::SignedOutRoute;
use crate::tui::app::msg::{Answer, ApiCall, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::screen::{Activity, Cx, Screen, Transition, Ui, unasked};
use crate::tui::widgets::popup::Popup;

/// Where the dialog is shown: its own screen at start, or over the screen whose request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Start,
    OverScreen,
}

pub const KEYS: &[KeyBinding<Place>] = &[
    KeyBinding::new("r", "retry").also("Enter"),
    KeyBinding::new("q", "quit").also("Esc").when(|p| p == Place::Start, "at start"),
    KeyBinding::new("Esc", "close").also("q").when(|p| p == Place::OverScreen, "over another screen"),
    keys::quit(),
];

#[derive(Debug)]
pub struct ConnectDialog {
    pub url: String,
    pub state: ConnectState,
}

#[derive(Debug)]
pub enum ConnectState {
    Checking(RequestId),
    Failed(ClientError),
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConnectIntent {
    Nothing,
    Retry,
    /// Quit at start; close the dialog when shown over another screen.
    Leave,
}

impl ConnectDialog {
    pub fn checking(url: &str, id: RequestId) -> Self {
        Self { url: url.to_owned(), state: ConnectState::Checking(id) }
    }

    pub fn failed(url: &str, error: ClientError) -> Self {
        Self { url: url.to_owned(), state: ConnectState::Failed(error) }
    }

    pub fn is_checking(&self) -> bool {
        matches!(self.state, ConnectState::Checking(_))
    }

    pub fn awaits(&self, id: RequestId) -> bool {
        matches!(self.state, ConnectState::Checking(checking) if checking == id)
    }

    /// `Retry` only after a failed check: one check at a time.
    pub fn on_key(&self, key: &KeyEvent) -> ConnectIntent {
        match key.code {
            KeyCode::Char('r' | 'R') | KeyCode::Enter => match self.state {
                ConnectState::Checking(_) => ConnectIntent::Nothing,
                ConnectState::Failed(_) => ConnectIntent::Retry,
            },
            KeyCode::Esc | KeyCode::Char('q') => ConnectIntent::Leave,
            _ => ConnectIntent::Nothing,
        }
    }

    /// Why the app is quitting unsuccessfully, if the server could not be reached.
    pub fn failure(&self) -> Option<String> {
        match &self.state {
            ConnectState::Checking(_) => None,
            ConnectState::Failed(error) => Some(error.to_string()),
        }
    }

    pub fn retry(&mut self, id: RequestId) {
        self.state = ConnectState::Checking(id);
    }

    pub fn keys(&self, place: Place) -> Vec<Key> {
        keys::resolve(KEYS, place)
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, ui: &Ui) {
        let (title, lines) = match &self.state {
            ConnectState::Checking(_) => {
                ("Connecting", vec![Line::from(format!("{} Connecting to {}…", ui.spinner, self.url)).cyan()])
            }
            ConnectState::Failed(error) => {
                // The title says "Cannot reach" once; the lines say where and why.
                let (title, why) = match error {
                    ClientError::Unreachable { cause, .. } => (
                        "Cannot reach the server",
                        format!("{}: is the server running?", sentence_start(cause)),
                    ),
                    ClientError::NotPlatform { answer, .. } => {
                        ("Not a usercenter platform", format!("It answered with {answer}."))
                    }
                    ClientError::Timeout { .. } => ("No answer from the server", error.to_string()),
                    other => ("The server did not answer as expected", other.to_string()),
                };
                (
                    title,
                    vec![
                        Line::from(self.url.clone()).cyan(),
                        Line::from(""),
                        Line::from(why).red(),
                        Line::from(""),
                        Line::from("Check the address and your network, then press r to retry."),
                    ],
                )
            }
        };
        Popup::new(title, lines).width(72).render(area, buf);
    }
}

/// `connection refused (os error 111)` as the start of a sentence.
fn sentence_start(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The app at start, until the server answers.
#[derive(Debug)]
pub struct ConnectScreen(pub ConnectDialog);

impl Screen for ConnectScreen {
    type Account = ();
    type Route = SignedOutRoute;

    fn activity(&self) -> Activity {
        if self.0.is_checking() { Activity::Waiting } else { Activity::Idle }
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.0.awaits(id)
    }

    fn accepts_text(&self) -> bool {
        false
    }

    fn keys(&self, (): &()) -> Vec<Key> {
        self.0.keys(Place::Start)
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        match self.0.on_key(key) {
            ConnectIntent::Nothing => Transition::Stay,
            ConnectIntent::Retry => {
                self.0.retry(cx.send(ApiCall::CheckHealth));
                Transition::Stay
            }
            ConnectIntent::Leave => Transition::Quit,
        }
    }

    fn on_reply(&mut self, answer: Answer, _cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        match answer.reply {
            Reply::Health(Ok(_)) => Transition::Go(SignedOutRoute::SignIn { username: None, notice: None }),
            Reply::Health(Err(error)) => {
                self.0.state = ConnectState::Failed(error);
                Transition::Stay
            }
            other => unasked(&other),
        }
    }

    fn render(&self, (): &(), area: Rect, buf: &mut Buffer, ui: &Ui) {
        self.0.render(area, buf, ui);
    }

    fn failure(&self) -> Option<String> {
        self.0.failure()
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;

    use crate::client::ClientError;
    use crate::tui::app::App;
    use crate::tui::app::msg::Reply;
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

#[cfg(test)]
mod not_a_platform_tests {
    use crate::client::ClientError;
    use crate::tui::app::App;
    use crate::tui::app::msg::Reply;
    use crate::tui::testing::*;

    /// Another kind of server is named as such; its page is never shown.
    #[test]
    fn another_kind_of_server() {
        let mut app = App::new(URL, None);
        let answer = "HTTP 200 OK, a web page (HTML)".to_owned();
        reply(
            &mut app,
            Reply::Health(Err(ClientError::NotPlatform { url: format!("{URL}/v1/health"), answer })),
        );
        let text = screen_text(&app);
        assert!(text.contains("Not a usercenter platform") && text.contains("a web page (HTML)"), "{text}");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
