//! Sign in: username and masked password.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::password_form::PASSWORD_MAX_CHARS;
use super::sign_in::{Access, SignInPhase};
use crate::client::ClientError;
use crate::domain::LoginResponse;
use crate::tui::DemoAccount;
use crate::tui::app::SignedOutRoute;
use crate::tui::app::msg::{Answer, ApiCall, Cleanup, Now, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::request::Request;
use crate::tui::screen::{Activity, Cx, Screen, Transition, Ui, unasked};
use crate::tui::widgets::input::{FieldView, TextField};
use crate::tui::widgets::panel::TitledBox;
use crate::tui::widgets::popup::{Popup, centered, wrapped_height};

/// The longest username the server accepts (`user add`).
pub const USERNAME_MAX_CHARS: usize = 64;

pub const INSECURE_WARNING: &str = "The connection is not encrypted (plain http:// to another machine): your password can be read on the way.";

/// The mode of the keys: whether quitting the demo is being asked.
pub const KEYS: &[KeyBinding<bool>] = &[
    KeyBinding::new("Enter", "sign in").hinted_if(|asked| !asked),
    KeyBinding::new("Tab", "next field").also("Shift-Tab ↑ ↓").hinted_if(|asked| !asked),
    KeyBinding::new("Esc", "quit").context("asks first in the demo").hinted_if(|asked| !asked),
    keys::help_f1().hinted_if(|asked| !asked),
    KeyBinding::new("y", "quit the demo").when(|asked| asked, "when asked"),
    KeyBinding::new("n", "stay").also("Esc").when(|asked| asked, "when asked"),
];

/// Asked before Esc ends the demo.
pub const DEMO_QUIT_QUESTION: &str = "Quit the demo? Its server, account and data are deleted. y/n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginFocus {
    Username,
    Password,
}

#[derive(Debug)]
pub struct LoginScreen {
    pub username: TextField,
    pub password: TextField,
    pub focus: LoginFocus,
    pub sign_in: SignInPhase,
    /// Why we are here: "Signed out.", "Your session has ended."...
    pub notice: Option<Notice>,
    pub insecure: bool,
    pub demo: Option<DemoAccount>,
    /// Esc in the demo asked whether to quit (quitting deletes the demo's data).
    pub quit_asked: bool,
}

impl LoginScreen {
    /// In the demo the demo account's name and password are filled in: Enter signs in.
    pub fn new(insecure: bool, demo: Option<DemoAccount>) -> Self {
        let (username, password) = match &demo {
            Some(account) => (
                TextField::plain(USERNAME_MAX_CHARS).with_text(&account.username),
                TextField::masked(PASSWORD_MAX_CHARS).with_text(&account.password),
            ),
            None => (TextField::plain(USERNAME_MAX_CHARS), TextField::masked(PASSWORD_MAX_CHARS)),
        };
        Self {
            username,
            password,
            focus: LoginFocus::Username,
            sign_in: SignInPhase::default(),
            notice: None,
            insecure,
            demo,
            quit_asked: false,
        }
    }

    pub fn with_username(mut self, username: &str) -> Self {
        self.username = TextField::plain(USERNAME_MAX_CHARS).with_text(username);
        self.focus = LoginFocus::Password;
        self
    }

    pub fn with_notice(mut self, notice: Notice) -> Self {
        self.notice = Some(notice);
        self
    }

    fn submit(&mut self, cx: &mut Cx<'_, ()>) {
        let SignInPhase::Form(request) = &mut self.sign_in else { return };
        if !request.is_editing() {
            return;
        }
        let username = self.username.text().trim().to_owned();
        if username.is_empty() {
            self.focus = LoginFocus::Username;
            request.refuse("Enter your username.");
            return;
        }
        if self.password.is_empty() {
            // Enter in the username field moves on, as people expect.
            if self.focus == LoginFocus::Username {
                self.focus = LoginFocus::Password;
            } else {
                request.refuse("Enter your password.");
            }
            return;
        }
        request.sent(cx.send(ApiCall::Login { username, password: self.password.secret() }));
        self.notice = None;
    }

    fn failed(&mut self, error: &ClientError, now: Now, cx: &mut Cx<'_, ()>) {
        if matches!(error, ClientError::InvalidCredentials) {
            self.password.clear();
            self.focus = LoginFocus::Password;
        }
        self.sign_in = SignInPhase::Form(Request::failure(error, now.instant, Vec::new()));
        cx.connection_lost(error);
    }
}

impl Screen for LoginScreen {
    type Account = ();
    type Route = SignedOutRoute;

    fn activity(&self) -> Activity {
        self.sign_in.activity()
    }

    fn awaits(&self, id: RequestId) -> bool {
        self.sign_in.awaits(id)
    }

    fn accepts_text(&self) -> bool {
        !self.quit_asked
    }

    fn tick(&mut self, now: std::time::Instant) {
        self.sign_in.tick(now);
    }

    fn reconnected(&mut self) {
        self.sign_in.reconnected();
    }

    fn keys(&self, (): &()) -> Vec<Key> {
        keys::resolve(KEYS, self.quit_asked)
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        if self.quit_asked {
            match key.code {
                KeyCode::Char('y' | 'Y') => return Transition::Quit,
                KeyCode::Char('n' | 'N') | KeyCode::Esc => self.quit_asked = false,
                _ => {}
            }
            return Transition::Stay;
        }
        match key.code {
            KeyCode::Esc if self.demo.is_some() => self.quit_asked = true,
            KeyCode::Esc => return Transition::Quit,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.focus = match self.focus {
                    LoginFocus::Username => LoginFocus::Password,
                    LoginFocus::Password => LoginFocus::Username,
                };
            }
            KeyCode::Enter => self.submit(cx),
            _ => {
                if !self.sign_in.is_busy() {
                    match self.focus {
                        LoginFocus::Username => self.username.handle_key(key),
                        LoginFocus::Password => self.password.handle_key(key),
                    };
                }
            }
        }
        Transition::Stay
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, ()>) -> Transition<SignedOutRoute> {
        let Answer { reply, now, .. } = answer;
        match reply {
            Reply::Login(Ok(LoginResponse::Authenticated(session))) => {
                self.sign_in.opened(session, Access::Full, cx);
                Transition::Stay
            }
            // The workspace requires 2FA and the account has none: straight into its setup.
            Reply::Login(Ok(LoginResponse::TwoFactorSetupRequired(session))) => {
                self.sign_in.opened(session, Access::SetupOnly, cx);
                Transition::Stay
            }
            Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge))) => {
                let username = self.username.text().trim().to_owned();
                Transition::Go(SignedOutRoute::SecondFactor { username, challenge })
            }
            Reply::Login(Err(error)) => {
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
        let width = area.width.min(64);
        let warning_rows: u16 = if self.insecure {
            wrapped_height(&[Line::from(format!("! {INSECURE_WARNING}"))], width.saturating_sub(4))
        } else {
            0
        };
        let height = (8 + warning_rows).min(area.height);
        let [box_area, demo_area] = Layout::vertical([Constraint::Length(height), Constraint::Length(2)])
            .areas(centered(area, width, height + 2));
        let inner = TitledBox::new("Sign in").render(box_area, buf);
        let [warning_area, _, user_area, pass_area, _, status_area] = Layout::vertical([
            Constraint::Length(warning_rows),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        if self.insecure {
            Paragraph::new(Line::from(format!("! {INSECURE_WARNING}")).style(Style::new().yellow().bold()))
                .wrap(Wrap { trim: false })
                .render(warning_area, buf);
        }
        let editing = !self.sign_in.is_busy();
        FieldView {
            label: "Username",
            field: &self.username,
            focused: editing && self.focus == LoginFocus::Username,
            label_width: 9,
        }
        .render(user_area, buf);
        FieldView {
            label: "Password",
            field: &self.password,
            focused: editing && self.focus == LoginFocus::Password,
            label_width: 9,
        }
        .render(pass_area, buf);
        let mut status = self.sign_in.status("Signing in…", ui);
        // Why we are here matters only until something newer is said.
        if status.is_empty() {
            status.extend(self.notice.as_ref().map(Notice::line));
        }
        Paragraph::new(Text::from(status)).wrap(Wrap { trim: false }).render(status_area, buf);
        if let Some(demo) = &self.demo {
            let line = Line::from(format!("Demo account: {} / {}", demo.username, demo.password)).dark_gray();
            Paragraph::new(line).centered().render(demo_area, buf);
        }
        if self.quit_asked {
            let lines = vec![Line::from(DEMO_QUIT_QUESTION).bold()];
            Popup::new("Quit the demo?", lines)
                .warning()
                .width(area.width.saturating_sub(4).min(64))
                .render(area, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::client::ClientError;
    use crate::domain::Health;
    use crossterm::event::KeyCode;

    use super::LoginScreen;
    use crate::tui::app::App;
    use crate::tui::app::msg::{ApiCall, Effect, Reply};
    use crate::tui::testing::*;

    #[test]
    fn sign_in() {
        let mut app = app();
        type_text(&mut app, "alice");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn sign_in_demo() {
        let app = demo_app();
        let text = render(&app, 80, 24).backend().to_string();
        assert!(text.contains("Demo account: demo / demo-password"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn the_demo_fills_in_its_account_and_enter_signs_in() {
        let mut app = demo_app();
        let login = app.screen::<LoginScreen>().expect("sign-in");
        assert_eq!((login.username.text(), login.password.text()), ("demo", "demo-password"));
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(
            api(effect),
            Some(ApiCall::Login { username: "demo".into(), password: "demo-password".into() })
        );
    }

    #[test]
    fn esc_in_the_demo_asks_before_quitting() {
        let mut app = demo_app();
        assert_eq!(press(&mut app, KeyCode::Esc), None, "asks first");
        let text = screen_text(&app);
        assert!(text.contains(super::DEMO_QUIT_QUESTION), "{text}");
        insta::assert_snapshot!("sign_in_demo_esc_asks", render(&app, 80, 24).backend());
        assert_eq!(press(&mut app, KeyCode::Char('n')), None);
        assert!(!screen_text(&app).contains(super::DEMO_QUIT_QUESTION));
        press(&mut app, KeyCode::Esc);
        assert!(matches!(press(&mut app, KeyCode::Char('y')), Some(Effect::Quit(_))));
        let mut app = crate::tui::testing::app();
        assert!(matches!(press(&mut app, KeyCode::Esc), Some(Effect::Quit(_))), "no demo: quits at once");
    }

    #[test]
    fn sign_in_not_encrypted() {
        let mut app = App::new("http://platform.example.com", None);
        reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
        let text = render(&app, 80, 24).backend().to_string();
        assert!(text.contains("connection is not encrypted"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn signing_in() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn wrong_password() {
        let mut app = app();
        submit_login(&mut app, "alice", "wrong");
        reply(&mut app, Reply::Login(Err(ClientError::InvalidCredentials)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn throttled() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(
            &mut app,
            Reply::Login(Err(ClientError::TooManyAttempts { retry_after: Duration::from_secs(60) })),
        );
        app.update(crate::tui::app::msg::Msg::Tick(after(Duration::from_secs(18))));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }

    #[test]
    fn session_ended() {
        let mut app = signed_in(me(false, 0));
        reply(&mut app, Reply::Me(Err(ClientError::Unauthorized)));
        insta::assert_snapshot!(render(&app, 80, 24).backend());
    }
}
