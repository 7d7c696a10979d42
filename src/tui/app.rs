//! The app (The Elm Architecture): who is signed in, which screen shows, the overlay on top, and where
//! each screen's transition leads.
//!
//! - [`msg`]: messages in, effects out, each request with its id.
//! - [`update`](App::update): synchronous and pure, no I/O and no clock (time arrives in messages).
//! - `view`: `impl Widget for &App`.
//!
//! `App` never reads a screen's fields: it talks to screens through [`Screen`]. Where a screen can
//! lead ([`SignedOutRoute`], [`SignedInRoute`]) and the two functions that build the next screen
//! (`route_signed_out`, `route_signed_in`) are here, in one place.

pub mod msg;
mod update;
mod view;

use std::time::Duration;

use self::msg::{ApiCall, Cleanup, Effect, RequestIds, Work};
use super::DemoAccount;
use super::demo_phone::{DemoPhone, PhoneCode};
use super::keys::Key;
use super::notice::Notice;
use super::screen::{Activity, Chrome, Cx, Screen, Session, Ui};
use super::screens::connect::{ConnectDialog, ConnectScreen};
use super::screens::disable::DisableScreen;
use super::screens::enable::EnableWizard;
use super::screens::home::HomeScreen;
use super::screens::login::LoginScreen;
use super::screens::regenerate::{RegenReason, RegenerateScreen};
use super::screens::second_factor::SecondFactorScreen;
use super::theme::Palette;
use crate::client::is_insecure_url;
use crate::domain::Challenge;

/// Below this size no screen is drawn, only a request to enlarge the terminal.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 14;
/// Spinner speed while a request is out; the countdown needs only one tick a second.
pub const SPINNER_TICK: Duration = Duration::from_millis(120);
pub const COUNTDOWN_TICK: Duration = Duration::from_secs(1);
/// The issuer for saved codes when no enrollment told us the server's (new codes after a re-login).
const FALLBACK_ISSUER: &str = "usercenter";

/// What the app was started with, and what it learnt about the server.
#[derive(Debug)]
struct Config {
    api_url: String,
    insecure: bool,
    demo: Option<DemoAccount>,
    /// The server's issuer name, learnt from an enrollment.
    issuer: Option<String>,
    /// The username the config file remembers, offered on the sign-in form.
    remembered: Option<String>,
    /// What the role colours become on this terminal.
    palette: Palette,
    /// The person's time zone (UTC until the runtime says otherwise, so tests are the same anywhere).
    time_zone: jiff::tz::TimeZone,
    /// In the demo only: the stand-in phone, once a setup started.
    demo_phone: Option<DemoPhone>,
    /// The wall clock as the last message told it (update never reads the clock).
    wall: Option<time::OffsetDateTime>,
}

impl Config {
    /// What the demo's stand-in phone shows now, if there is one.
    fn phone_code(&self) -> Option<PhoneCode> {
        Some(self.demo_phone.as_ref()?.code_at(self.wall?))
    }
}

impl Config {
    fn issuer(&self) -> &str {
        self.issuer.as_deref().unwrap_or(FALLBACK_ISSUER)
    }

    /// The sign-in form, with the username filled in and a word on why we are here.
    fn sign_in(&self, username: Option<&str>, notice: Option<Notice>) -> LoginScreen {
        let mut login = LoginScreen::new(self.insecure, self.demo.clone());
        let offered = if self.demo.is_some() { None } else { self.remembered.as_deref() };
        if let Some(username) = username.or(offered).filter(|u| !u.is_empty()) {
            login = login.with_username(username);
        }
        if let Some(notice) = notice {
            login = login.with_notice(notice);
        }
        login
    }
}

/// Signed out (connect, sign-in, second factor), or signed in with the session every screen of the
/// user center relies on.
#[derive(Debug)]
pub enum Account {
    SignedOut(SignedOutScreen),
    SignedIn { session: Session, screen: SignedInScreen },
}

#[derive(Debug)]
pub enum Overlay {
    /// The keys of the screen below, scrolled down by `scroll` lines.
    Help { scroll: u16 },
    /// Ctrl-C where quitting would lose something; holds what would be lost.
    QuitConfirm(&'static str),
    /// A request failed to reach the server mid-session; the screen below keeps its state.
    Unreachable(ConnectDialog),
}

#[derive(Debug)]
pub struct App {
    config: Config,
    account: Account,
    pub(crate) overlay: Option<Overlay>,
    ids: RequestIds,
    spinner: usize,
}

/// Where a screen before sign-in leads.
#[derive(Debug)]
pub enum SignedOutRoute {
    /// The sign-in form, with the username filled in and a word on why we are here.
    SignIn {
        username: Option<String>,
        notice: Option<Notice>,
    },
    SecondFactor {
        username: String,
        challenge: Challenge,
    },
    /// The account is loaded: the user center opens, `notices` on top; or, when the workspace requires
    /// 2FA and the account has none, its setup, which only logging out or quitting leaves.
    SignedIn {
        session: Session,
        notices: Vec<Notice>,
        setup_required: bool,
    },
}

/// Where a screen of the user center leads.
#[derive(Debug)]
pub enum SignedInRoute {
    /// The user center, `notice` on top; `refresh` reloads the account from the server.
    Home {
        notice: Option<Notice>,
        refresh: bool,
    },
    /// Two-factor authentication was just turned on or off: the user center, `notice` on top, offers to
    /// sign out the other sessions.
    FactorChanged(Notice),
    Enable,
    Regenerate(RegenReason),
    Disable,
    /// Logged out: the sign-in form says `notice`.
    SignedOut(Notice),
}

pub type SignedOutScreen = Box<dyn Screen<Account = (), Route = SignedOutRoute>>;
pub type SignedInScreen = Box<dyn Screen<Account = Session, Route = SignedInRoute>>;

/// Builds what a route before sign-in leads to.
fn route_signed_out(route: SignedOutRoute, config: &Config) -> Account {
    match route {
        SignedOutRoute::SignIn { username, notice } => {
            Account::SignedOut(Box::new(config.sign_in(username.as_deref(), notice)))
        }
        SignedOutRoute::SecondFactor { username, challenge } => {
            Account::SignedOut(Box::new(SecondFactorScreen::new(&username, challenge)))
        }
        SignedOutRoute::SignedIn { session, notices, setup_required } => {
            let screen: SignedInScreen = if setup_required {
                Box::new(EnableWizard::required(notices))
            } else {
                Box::new(HomeScreen::new(notices))
            };
            Account::SignedIn { session, screen }
        }
    }
}

/// What a route of the user center leads to: another of its screens, or back to sign-in.
enum Leads {
    Screen(SignedInScreen),
    SignedOut(SignedOutScreen),
}

/// Builds what a route of the user center leads to.
fn route_signed_in(route: SignedInRoute, config: &Config, cx: &mut Cx<'_, Session>) -> Leads {
    Leads::Screen(match route {
        SignedInRoute::Home { notice, refresh } => {
            let mut home = HomeScreen::new(notice.into_iter().collect());
            if refresh {
                home.refresh(cx);
            }
            Box::new(home)
        }
        SignedInRoute::FactorChanged(notice) => Box::new(HomeScreen::after_factor_change(notice, cx)),
        SignedInRoute::Enable => Box::new(EnableWizard::new()),
        SignedInRoute::Regenerate(reason) => Box::new(RegenerateScreen::new(reason, config.issuer())),
        SignedInRoute::Disable => Box::new(DisableScreen::new()),
        SignedInRoute::SignedOut(notice) => {
            let username = Some(cx.account.me.username.as_str());
            return Leads::SignedOut(Box::new(config.sign_in(username, Some(notice))));
        }
    })
}

impl App {
    pub fn new(api_url: &str, demo: Option<DemoAccount>) -> Self {
        let mut ids = RequestIds::default();
        let connect = ConnectScreen(ConnectDialog::checking(api_url, ids.fresh()));
        Self {
            config: Config {
                api_url: api_url.to_owned(),
                insecure: is_insecure_url(api_url),
                demo,
                issuer: None,
                remembered: None,
                palette: Palette::default(),
                time_zone: jiff::tz::TimeZone::UTC,
                demo_phone: None,
                wall: None,
            },
            account: Account::SignedOut(Box::new(connect)),
            overlay: None,
            ids,
            spinner: 0,
        }
    }

    /// Offers `username` (remembered in the config file) on the sign-in form.
    pub fn remembering(mut self, username: Option<String>) -> Self {
        self.config.remembered = username;
        self
    }

    /// Draws with `palette` (the terminal's background and colour depth).
    pub fn with_palette(mut self, palette: Palette) -> Self {
        self.config.palette = palette;
        self
    }

    /// Shows times in `time_zone`.
    pub fn in_time_zone(mut self, time_zone: jiff::tz::TimeZone) -> Self {
        self.config.time_zone = time_zone;
        self
    }

    /// The first effect: is the server there?
    pub fn start(&mut self) -> Option<Effect> {
        let id = self.ids.fresh();
        self.account =
            Account::SignedOut(Box::new(ConnectScreen(ConnectDialog::checking(&self.config.api_url, id))));
        Some(Effect::Run(id, Work::Api(ApiCall::CheckHealth)))
    }

    /// How often the runtime should send `Msg::Tick`; `None` while idle, so the app sleeps.
    pub fn tick_interval(&self) -> Option<Duration> {
        if self.is_busy() {
            Some(SPINNER_TICK)
        } else if self.account.activity() == Activity::CountingDown || self.config.demo_phone.is_some() {
            Some(COUNTDOWN_TICK)
        } else {
            None
        }
    }

    pub fn is_signed_in(&self) -> bool {
        matches!(self.account, Account::SignedIn { .. })
    }

    /// Quitting now would lose something (backup codes kept nowhere yet).
    pub fn would_lose_work(&self) -> bool {
        self.account.quit_warning().is_some()
    }

    fn is_busy(&self) -> bool {
        let dialog_checks =
            matches!(&self.overlay, Some(Overlay::Unreachable(dialog)) if dialog.is_checking());
        dialog_checks || self.account.activity() == Activity::Waiting
    }

    /// Quitting now ends the program unsuccessfully: the server could not be reached. The reason is
    /// printed on standard error once the terminal is restored.
    pub fn exit_failure(&self) -> Option<String> {
        match &self.overlay {
            Some(Overlay::Unreachable(dialog)) => dialog.failure(),
            Some(Overlay::Help { .. } | Overlay::QuitConfirm(_)) | None => None,
        }
        .or_else(|| self.account.failure())
    }

    fn quit(&self) -> Effect {
        Effect::Quit(self.account.cleanup())
    }

    /// The workspace requires 2FA and this account has none (the policy changed while signed in): its
    /// setup, whatever was showing.
    fn setup_required(&mut self) {
        if let Account::SignedIn { session, screen } = &mut self.account {
            session.me.policy.two_factor_required = true;
            self.overlay = None;
            *screen = Box::new(EnableWizard::required(Vec::new()));
        }
    }

    /// The server no longer knows the session: back to sign-in, whatever was showing.
    fn session_ended(&mut self) {
        let username = match &self.account {
            Account::SignedIn { session, .. } => Some(session.me.username.clone()),
            Account::SignedOut(_) => None,
        };
        let notice = Notice::warning(crate::client::ClientError::Unauthorized.to_string());
        self.overlay = None;
        self.account = Account::SignedOut(Box::new(self.config.sign_in(username.as_deref(), Some(notice))));
    }
}

/// The screen showing, whichever side of sign-in it is on.
impl Account {
    fn activity(&self) -> Activity {
        match self {
            Account::SignedOut(screen) => screen.activity(),
            Account::SignedIn { screen, .. } => screen.activity(),
        }
    }

    fn awaits(&self, id: msg::RequestId) -> bool {
        match self {
            Account::SignedOut(screen) => screen.awaits(id),
            Account::SignedIn { screen, .. } => screen.awaits(id),
        }
    }

    fn accepts_text(&self) -> bool {
        match self {
            Account::SignedOut(screen) => screen.accepts_text(),
            Account::SignedIn { screen, .. } => screen.accepts_text(),
        }
    }

    fn tick(&mut self, now: std::time::Instant) {
        match self {
            Account::SignedOut(screen) => screen.tick(now),
            Account::SignedIn { screen, .. } => screen.tick(now),
        }
    }

    fn reconnected(&mut self) {
        match self {
            Account::SignedOut(screen) => screen.reconnected(),
            Account::SignedIn { screen, .. } => screen.reconnected(),
        }
    }

    fn keys(&self) -> Vec<Key> {
        match self {
            Account::SignedOut(screen) => screen.keys(&()),
            Account::SignedIn { session, screen } => screen.keys(session),
        }
    }

    fn chrome(&self, area: ratatui::layout::Rect) -> Chrome {
        match self {
            Account::SignedOut(screen) => screen.chrome(area),
            Account::SignedIn { screen, .. } => screen.chrome(area),
        }
    }

    fn failure(&self) -> Option<String> {
        match self {
            Account::SignedOut(screen) => screen.failure(),
            Account::SignedIn { screen, .. } => screen.failure(),
        }
    }

    fn quit_warning(&self) -> Option<&'static str> {
        match self {
            Account::SignedOut(screen) => screen.quit_warning(),
            Account::SignedIn { screen, .. } => screen.quit_warning(),
        }
    }

    /// Signed in, quitting ends the session; the screen adds what else to undo.
    fn cleanup(&self) -> Cleanup {
        match self {
            Account::SignedOut(screen) => screen.cleanup(),
            Account::SignedIn { session, screen } => {
                Cleanup { token: Some(session.token.clone()), ..screen.cleanup() }
            }
        }
    }

    fn render(&self, area: ratatui::layout::Rect, buf: &mut ratatui::buffer::Buffer, ui: &Ui) {
        match self {
            Account::SignedOut(screen) => screen.render(&(), area, buf, ui),
            Account::SignedIn { session, screen } => screen.render(session, area, buf, ui),
        }
    }
}

/// Reaching into the app, for tests only.
#[cfg(test)]
impl App {
    /// The screen showing, if it is a `T`.
    pub fn screen<T: 'static>(&self) -> Option<&T> {
        let screen: &dyn std::any::Any = match &self.account {
            Account::SignedOut(screen) => screen.as_ref(),
            Account::SignedIn { screen, .. } => screen.as_ref(),
        };
        screen.downcast_ref()
    }

    /// The id of the request made last: tests answer with it.
    pub fn last_request(&self) -> msg::RequestId {
        self.ids.last()
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod snapshot_tests {
    use crate::tui::testing::*;

    #[test]
    fn too_small() {
        let app = signed_in(me(true, 10));
        insta::assert_snapshot!(render(&app, 20, 5).backend());
    }
}
