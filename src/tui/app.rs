//! The app's state, its messages and effects, and `update()`: The Elm Architecture.
//!
//! `update` is synchronous and pure: no I/O and no clock. Time arrives in messages (`Msg::Tick`, and
//! the `Now` stamped on every API answer); effects are run by the runtime and come back as messages.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use time::OffsetDateTime;

use super::DemoAccount;
use super::clipboard::{CopyError, CopyMethod};
use super::savefile::SaveError;
use super::screens::common::{ErrorClass, Notice, Ui, classify};
use super::screens::connect::{ConnectIntent, ConnectScreen, ConnectState};
use super::screens::disable::{DisableIntent, DisableScreen};
use super::screens::enable::codes::{CodesIntent, CodesKind, CodesStep};
use super::screens::enable::scan::ScanStep;
use super::screens::enable::{EnableIntent, EnableWizard, Step};
use super::screens::help;
use super::screens::home::{Action, FEW_BACKUP_CODES, HomeIntent, HomeScreen, Section};
use super::screens::login::{LoginIntent, LoginScreen};
use super::screens::regenerate::{RegenIntent, RegenReason, RegenStage, RegenerateScreen};
use super::screens::second_factor::{SecondFactorIntent, SecondFactorScreen};
use super::widgets::keyhints::KeyHints;
use super::widgets::popup::{Popup, TooSmall};
use super::widgets::spinner;
use crate::client::ClientError;
use crate::domain::{
    BackupCodesResponse, ConfirmResponse, DisableResponse, Enrollment, Health, LoginResponse, Me,
    SecondFactorInput, SecretString, Session, VerificationCode,
};

/// Below this size no screen is drawn, only a request to enlarge the terminal.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 14;
/// Spinner speed while a request is out; the countdown needs only one tick a second.
pub const SPINNER_TICK: Duration = Duration::from_millis(120);
pub const COUNTDOWN_TICK: Duration = Duration::from_secs(1);
/// The issuer for saved codes when no enrollment told us the server's (new codes after a re-login).
const FALLBACK_ISSUER: &str = "usercenter";

/// When an answer arrived: the monotonic instant for countdowns, the wall clock to compare with the
/// server's `Date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub instant: Instant,
    pub wall: OffsetDateTime,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Tick(Instant),
    Api(Now, Reply),
    Copied(Result<CopyMethod, CopyError>),
    Saved(Result<PathBuf, SaveError>),
}

/// The answer to an [`Effect`] that called the API.
#[derive(Debug)]
pub enum Reply {
    Health(Result<Health, ClientError>),
    Login(Result<LoginResponse, ClientError>),
    SecondFactor(Result<Session, ClientError>),
    Me(Result<Me, ClientError>),
    Logout(Result<(), ClientError>),
    EnrollmentStarted(Result<Enrollment, ClientError>),
    Confirmed(Result<ConfirmResponse, ClientError>),
    EnrollmentCancelled(Result<(), ClientError>),
    Regenerated(Result<BackupCodesResponse, ClientError>),
    Disabled(Result<DisableResponse, ClientError>),
}

impl Reply {
    fn error(&self) -> Option<&ClientError> {
        match self {
            Reply::Health(r) => r.as_ref().err(),
            Reply::Login(r) => r.as_ref().err(),
            Reply::SecondFactor(r) => r.as_ref().err(),
            Reply::Me(r) => r.as_ref().err(),
            Reply::Logout(r) | Reply::EnrollmentCancelled(r) => r.as_ref().err(),
            Reply::EnrollmentStarted(r) => r.as_ref().err(),
            Reply::Confirmed(r) => r.as_ref().err(),
            Reply::Regenerated(r) => r.as_ref().err(),
            Reply::Disabled(r) => r.as_ref().err(),
        }
    }
}

/// Work for the runtime; each API effect comes back as `Msg::Api(_, Reply::..)`.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    CheckHealth,
    Login { username: String, password: SecretString },
    SecondFactor { challenge: SecretString, input: SecondFactorInput },
    LoadMe { token: SecretString },
    Logout { token: SecretString },
    StartEnrollment { token: SecretString, password: SecretString },
    ConfirmEnrollment { token: SecretString, code: VerificationCode },
    CancelEnrollment { token: SecretString },
    RegenerateCodes { token: SecretString, password: SecretString },
    Disable { token: SecretString, password: SecretString },
    /// Copy to the clipboard; answered by `Msg::Copied`.
    Copy(SecretString),
    /// Save to `path_input` (`~` expanded by the runtime); answered by `Msg::Saved`.
    Save { path_input: String, contents: SecretString, overwrite: bool },
    /// Leave the app; on the way out, end the session and cancel a pending setup (best effort).
    Quit { token: Option<SecretString>, cancel_enrollment: bool },
}

#[derive(Debug)]
pub enum Screen {
    Connect(ConnectScreen),
    Login(LoginScreen),
    SecondFactor(SecondFactorScreen),
    Home(HomeScreen),
    Enable(EnableWizard),
    Regenerate(RegenerateScreen),
    Disable(DisableScreen),
}

#[derive(Debug)]
pub enum Overlay {
    Help,
    /// Ctrl-C with backup codes on screen that were neither copied nor saved.
    QuitConfirm,
    /// A request failed to reach the server mid-session; the screen below keeps its state.
    Unreachable(ConnectScreen),
}

#[derive(Debug)]
pub struct App {
    api_url: String,
    insecure: bool,
    demo: Option<DemoAccount>,
    token: Option<SecretString>,
    me: Option<Me>,
    /// The server's issuer name, learnt from an enrollment.
    issuer: Option<String>,
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    spinner: usize,
}

/// Plain `http://` to anything but this machine: passwords travel readable.
pub fn is_insecure_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

impl App {
    pub fn new(api_url: &str, demo: Option<DemoAccount>) -> Self {
        Self {
            api_url: api_url.to_owned(),
            insecure: is_insecure_url(api_url),
            demo,
            token: None,
            me: None,
            issuer: None,
            screen: Screen::Connect(ConnectScreen::checking(api_url)),
            overlay: None,
            spinner: 0,
        }
    }

    /// The first effect: is the server there?
    pub fn start(&mut self) -> Option<Effect> {
        Some(Effect::CheckHealth)
    }

    pub fn update(&mut self, msg: Msg) -> Option<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Resize(_, _) => None,
            Msg::Tick(now) => {
                self.on_tick(now);
                None
            }
            Msg::Api(now, reply) => self.on_reply(now, reply),
            Msg::Copied(result) => {
                if let Some(codes) = self.codes_mut() {
                    codes.on_copied(result);
                }
                None
            }
            Msg::Saved(result) => {
                if let Some(codes) = self.codes_mut() {
                    codes.on_saved(result);
                }
                None
            }
        }
    }

    /// How often the runtime should send `Msg::Tick`; `None` while idle, so the app sleeps.
    pub fn tick_interval(&self) -> Option<Duration> {
        if self.is_busy() {
            Some(SPINNER_TICK)
        } else if self.countdown_visible() {
            Some(COUNTDOWN_TICK)
        } else {
            None
        }
    }

    pub fn me(&self) -> Option<&Me> {
        self.me.as_ref()
    }

    pub fn is_signed_in(&self) -> bool {
        self.token.is_some()
    }

    fn login_screen(&self) -> LoginScreen {
        LoginScreen::new(self.insecure, self.demo.clone())
    }

    fn is_busy(&self) -> bool {
        if let Some(Overlay::Unreachable(c)) = &self.overlay
            && c.is_pending()
        {
            return true;
        }
        match &self.screen {
            Screen::Connect(c) => c.is_pending(),
            Screen::Login(s) => s.pending,
            Screen::SecondFactor(s) => s.pending,
            Screen::Home(h) => h.is_pending(),
            Screen::Enable(w) => w.is_pending(),
            Screen::Regenerate(r) => r.is_pending(),
            Screen::Disable(d) => d.is_pending(),
        }
    }

    fn countdown_visible(&self) -> bool {
        match &self.screen {
            Screen::Login(s) => s.throttle.is_some(),
            Screen::SecondFactor(s) => s.throttle.is_some(),
            Screen::Enable(w) => match &w.step {
                Step::Password(f) => f.throttle.is_some(),
                Step::Verify(v) => v.throttle.is_some(),
                Step::Scan(_) | Step::Codes(_) => false,
            },
            Screen::Regenerate(r) => match &r.stage {
                RegenStage::Password(f) => f.throttle.is_some(),
                RegenStage::Codes(_) => false,
            },
            Screen::Disable(d) => d.form.throttle.is_some(),
            Screen::Connect(_) | Screen::Home(_) => false,
        }
    }

    /// A text field has the focus: letters such as `?` are typed, not keys.
    fn accepts_text(&self) -> bool {
        match &self.screen {
            Screen::Login(_) | Screen::SecondFactor(_) => true,
            Screen::Connect(_) | Screen::Home(_) => false,
            Screen::Enable(w) => w.accepts_text(),
            Screen::Regenerate(r) => r.accepts_text(),
            Screen::Disable(d) => d.accepts_text(),
        }
    }

    fn codes(&self) -> Option<&CodesStep> {
        match &self.screen {
            Screen::Enable(EnableWizard { step: Step::Codes(codes) }) => Some(codes),
            Screen::Regenerate(RegenerateScreen { stage: RegenStage::Codes(codes), .. }) => Some(codes),
            Screen::Enable(_)
            | Screen::Regenerate(_)
            | Screen::Connect(_)
            | Screen::Login(_)
            | Screen::SecondFactor(_)
            | Screen::Home(_)
            | Screen::Disable(_) => None,
        }
    }

    fn codes_mut(&mut self) -> Option<&mut CodesStep> {
        match &mut self.screen {
            Screen::Enable(EnableWizard { step: Step::Codes(codes) }) => Some(codes),
            Screen::Regenerate(RegenerateScreen { stage: RegenStage::Codes(codes), .. }) => Some(codes),
            Screen::Enable(_)
            | Screen::Regenerate(_)
            | Screen::Connect(_)
            | Screen::Login(_)
            | Screen::SecondFactor(_)
            | Screen::Home(_)
            | Screen::Disable(_) => None,
        }
    }

    /// Backup codes are on screen and went nowhere yet.
    pub fn has_unsaved_codes(&self) -> bool {
        self.codes().is_some_and(|c| !c.secured())
    }

    fn quit(&self) -> Effect {
        let cancel_enrollment = match &self.screen {
            Screen::Enable(w) => match &w.step {
                Step::Password(form) => form.pending,
                Step::Scan(_) | Step::Verify(_) => true,
                Step::Codes(_) => false,
            },
            Screen::Connect(_)
            | Screen::Login(_)
            | Screen::SecondFactor(_)
            | Screen::Home(_)
            | Screen::Regenerate(_)
            | Screen::Disable(_) => false,
        };
        Effect::Quit { token: self.token.clone(), cancel_enrollment }
    }

    fn session_ended(&mut self) -> Option<Effect> {
        let username = self.me.take().map(|me| me.username).unwrap_or_default();
        self.token = None;
        self.overlay = None;
        let mut login = self.login_screen().with_notice(Notice::warning(ClientError::Unauthorized.to_string()));
        if !username.is_empty() {
            login = login.with_username(&username);
        }
        self.screen = Screen::Login(login);
        None
    }

    fn show_if_unreachable(&mut self, error: &ClientError) {
        if classify(error) == ErrorClass::Transport {
            self.overlay = Some(Overlay::Unreachable(ConnectScreen::failed(&self.api_url, error.clone())));
        }
    }

    /// Back to the user center; `refresh` reloads the account from the server.
    fn go_home(&mut self, notice: Option<Notice>, refresh: bool) -> Option<Effect> {
        let mut home = HomeScreen::new(Section::Security, notice);
        let effect = match (&self.token, refresh) {
            (Some(token), true) => {
                home.loading = true;
                Some(Effect::LoadMe { token: token.clone() })
            }
            (Some(_), false) | (None, _) => None,
        };
        self.screen = Screen::Home(home);
        effect
    }

    fn on_tick(&mut self, now: Instant) {
        if self.is_busy() {
            self.spinner = self.spinner.wrapping_add(1);
        }
        match &mut self.screen {
            Screen::Login(s) => s.tick(now),
            Screen::SecondFactor(s) => s.tick(now),
            Screen::Enable(w) => match &mut w.step {
                Step::Password(f) => f.tick(now),
                Step::Verify(v) => v.tick(now),
                Step::Scan(_) | Step::Codes(_) => {}
            },
            Screen::Regenerate(r) => match &mut r.stage {
                RegenStage::Password(f) => f.tick(now),
                RegenStage::Codes(_) => {}
            },
            Screen::Disable(d) => d.form.tick(now),
            Screen::Connect(_) | Screen::Home(_) => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            if matches!(self.overlay, Some(Overlay::QuitConfirm)) || !self.has_unsaved_codes() {
                return Some(self.quit());
            }
            self.overlay = Some(Overlay::QuitConfirm);
            return None;
        }
        match self.overlay.take() {
            Some(Overlay::Help) => return None,
            Some(Overlay::QuitConfirm) => {
                return match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => Some(self.quit()),
                    KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => None,
                    _ => {
                        self.overlay = Some(Overlay::QuitConfirm);
                        None
                    }
                };
            }
            Some(Overlay::Unreachable(mut dialog)) => {
                return match dialog.on_key(&key) {
                    ConnectIntent::Nothing => {
                        self.overlay = Some(Overlay::Unreachable(dialog));
                        None
                    }
                    ConnectIntent::Retry => {
                        self.overlay = Some(Overlay::Unreachable(dialog));
                        Some(Effect::CheckHealth)
                    }
                    ConnectIntent::Leave => None,
                };
            }
            None => {}
        }
        if key.code == KeyCode::F(1) || (key.code == KeyCode::Char('?') && !self.accepts_text()) {
            self.overlay = Some(Overlay::Help);
            return None;
        }
        self.on_screen_key(key)
    }

    fn on_screen_key(&mut self, key: KeyEvent) -> Option<Effect> {
        match &mut self.screen {
            Screen::Connect(c) => match c.on_key(&key) {
                ConnectIntent::Nothing => None,
                ConnectIntent::Retry => Some(Effect::CheckHealth),
                ConnectIntent::Leave => Some(self.quit()),
            },
            Screen::Login(s) => match s.on_key(&key) {
                LoginIntent::Nothing => None,
                LoginIntent::Submit { username, password } => Some(Effect::Login { username, password }),
                LoginIntent::Quit => Some(self.quit()),
            },
            Screen::SecondFactor(s) => match s.on_key(&key) {
                SecondFactorIntent::Nothing => None,
                SecondFactorIntent::Submit(input) => {
                    Some(Effect::SecondFactor { challenge: s.challenge.clone(), input })
                }
                SecondFactorIntent::Back => {
                    let username = s.username.clone();
                    self.screen = Screen::Login(self.login_screen().with_username(&username));
                    None
                }
            },
            Screen::Home(h) => {
                let me = self.me.as_ref()?;
                match h.on_key(&key, me) {
                    HomeIntent::Nothing => None,
                    HomeIntent::Start(Action::Enable) => {
                        self.screen = Screen::Enable(EnableWizard::new());
                        None
                    }
                    HomeIntent::Start(Action::Regenerate) => {
                        self.screen = Screen::Regenerate(RegenerateScreen::new(RegenReason::Requested));
                        None
                    }
                    HomeIntent::Start(Action::Disable) => {
                        self.screen = Screen::Disable(DisableScreen::new());
                        None
                    }
                    HomeIntent::LogOut => match &self.token {
                        Some(token) => Some(Effect::Logout { token: token.clone() }),
                        None => self.session_ended(),
                    },
                }
            }
            Screen::Enable(w) => {
                let intent = w.on_key(&key);
                self.on_enable_intent(intent)
            }
            Screen::Regenerate(r) => match r.on_key(&key) {
                RegenIntent::Nothing => None,
                RegenIntent::Submit(password) => self.with_token(|token| Effect::RegenerateCodes { token, password }),
                RegenIntent::Leave => self.go_home(None, false),
                RegenIntent::Codes(intent) => self.on_codes_intent(intent),
            },
            Screen::Disable(d) => match d.on_key(&key) {
                DisableIntent::Nothing => None,
                DisableIntent::Disable(password) => self.with_token(|token| Effect::Disable { token, password }),
                DisableIntent::Leave => self.go_home(None, false),
            },
        }
    }

    fn with_token(&mut self, effect: impl FnOnce(SecretString) -> Effect) -> Option<Effect> {
        match &self.token {
            Some(token) => Some(effect(token.clone())),
            None => self.session_ended(),
        }
    }

    fn on_enable_intent(&mut self, intent: EnableIntent) -> Option<Effect> {
        match intent {
            EnableIntent::Nothing => None,
            EnableIntent::StartEnrollment(password) => {
                self.with_token(|token| Effect::StartEnrollment { token, password })
            }
            EnableIntent::Confirm(code) => self.with_token(|token| Effect::ConfirmEnrollment { token, code }),
            EnableIntent::CheckAgain => self.with_token(|token| Effect::LoadMe { token }),
            EnableIntent::Leave { cancel_enrollment } => {
                let effect = match (&self.token, cancel_enrollment) {
                    (Some(token), true) => Some(Effect::CancelEnrollment { token: token.clone() }),
                    (Some(_), false) | (None, _) => None,
                };
                let notice = Notice::info("Setup cancelled: two-factor authentication is still off.");
                self.go_home(Some(notice), false);
                effect
            }
            EnableIntent::Codes(intent) => self.on_codes_intent(intent),
        }
    }

    fn on_codes_intent(&mut self, intent: CodesIntent) -> Option<Effect> {
        match intent {
            CodesIntent::Nothing => None,
            CodesIntent::Copy(text) => Some(Effect::Copy(text)),
            CodesIntent::Save { path_input, contents, overwrite } => {
                Some(Effect::Save { path_input, contents, overwrite })
            }
            CodesIntent::Done => {
                let notice = match self.codes().map(|c| c.kind) {
                    Some(CodesKind::Enabled) | None => Notice::success(
                        "Two-factor authentication is on: each sign-in now asks for a code from your app.",
                    ),
                    Some(CodesKind::Regenerated) => {
                        Notice::success("New backup codes are active; the old ones no longer work.")
                    }
                };
                self.go_home(Some(notice), true)
            }
        }
    }

    fn on_reply(&mut self, now: Now, reply: Reply) -> Option<Effect> {
        let unauthorized = matches!(reply.error(), Some(ClientError::Unauthorized));
        if unauthorized && self.token.is_some() && !matches!(reply, Reply::Logout(_)) {
            return self.session_ended();
        }
        match reply {
            Reply::Health(result) => {
                self.on_health(result.map(drop));
                None
            }
            Reply::Login(result) => self.on_login(result, now),
            Reply::SecondFactor(result) => self.on_second_factor(result, now),
            Reply::Me(result) => self.on_me(result, now),
            Reply::Logout(result) => self.on_logout(result),
            Reply::EnrollmentStarted(result) => self.on_enrollment_started(result, now),
            Reply::Confirmed(result) => self.on_confirmed(result, now),
            Reply::EnrollmentCancelled(_) => None,
            Reply::Regenerated(result) => self.on_regenerated(result, now),
            Reply::Disabled(result) => self.on_disabled(result, now),
        }
    }

    fn on_health(&mut self, result: Result<(), ClientError>) {
        if let Some(Overlay::Unreachable(dialog)) = &mut self.overlay {
            match result {
                Ok(()) => self.overlay = None,
                Err(e) => dialog.state = ConnectState::Failed(e),
            }
            return;
        }
        if let Screen::Connect(c) = &mut self.screen {
            match result {
                Ok(()) => self.screen = Screen::Login(self.login_screen()),
                Err(e) => c.state = ConnectState::Failed(e),
            }
        }
    }

    fn on_login(&mut self, result: Result<LoginResponse, ClientError>, now: Now) -> Option<Effect> {
        let Screen::Login(s) = &mut self.screen else { return None };
        if !s.pending || self.token.is_some() {
            return None;
        }
        match result {
            Ok(LoginResponse::Authenticated(session)) => {
                self.token = Some(session.token.clone());
                Some(Effect::LoadMe { token: session.token })
            }
            Ok(LoginResponse::SecondFactorRequired(challenge)) => {
                let username = s.username.text().trim().to_owned();
                self.screen = Screen::SecondFactor(SecondFactorScreen::new(&username, challenge));
                None
            }
            Err(e) => {
                s.on_error(&e, now.instant);
                self.show_if_unreachable(&e);
                None
            }
        }
    }

    fn on_second_factor(&mut self, result: Result<Session, ClientError>, now: Now) -> Option<Effect> {
        let Screen::SecondFactor(s) = &mut self.screen else { return None };
        if !s.pending || s.signed_in.is_some() {
            return None;
        }
        match result {
            Ok(session) => {
                s.signed_in = Some(session.backup_codes_remaining);
                self.token = Some(session.token.clone());
                Some(Effect::LoadMe { token: session.token })
            }
            Err(ClientError::ChallengeExpired) => {
                let username = s.username.clone();
                let notice = Notice::warning(ClientError::ChallengeExpired.to_string());
                self.screen = Screen::Login(self.login_screen().with_username(&username).with_notice(notice));
                None
            }
            Err(e) => {
                s.on_error(&e, now.instant, now.wall);
                self.show_if_unreachable(&e);
                None
            }
        }
    }

    fn on_me(&mut self, result: Result<Me, ClientError>, now: Now) -> Option<Effect> {
        match &mut self.screen {
            Screen::Login(s) if s.pending => match result {
                Ok(me) => {
                    self.me = Some(me);
                    self.screen = Screen::Home(HomeScreen::new(Section::Security, None));
                    None
                }
                Err(e) => {
                    self.token = None;
                    s.on_error(&e, now.instant);
                    self.show_if_unreachable(&e);
                    None
                }
            },
            Screen::SecondFactor(s) if s.pending => match result {
                Ok(me) => {
                    let notice = s.signed_in.flatten().map(backup_code_used_notice);
                    self.me = Some(me);
                    self.screen = Screen::Home(HomeScreen::new(Section::Security, notice));
                    None
                }
                Err(e) => {
                    self.token = None;
                    s.signed_in = None;
                    s.on_error(&e, now.instant, now.wall);
                    self.show_if_unreachable(&e);
                    None
                }
            },
            Screen::Home(h) => {
                h.loading = false;
                match result {
                    Ok(me) => self.me = Some(me),
                    Err(e) => {
                        h.notice = Some(Notice::error(format!("Could not refresh your account: {e}")));
                        self.show_if_unreachable(&e);
                    }
                }
                None
            }
            Screen::Enable(EnableWizard { step: Step::Verify(v) }) if v.check.is_some() => {
                match result {
                    Ok(me) if me.two_factor.enabled => {
                        self.me = Some(me);
                        self.screen = Screen::Regenerate(RegenerateScreen::new(RegenReason::CodesNeverArrived));
                    }
                    Ok(me) => {
                        self.me = Some(me);
                        v.check_says_off();
                    }
                    Err(e) => v.check_failed(e),
                }
                None
            }
            Screen::Connect(_)
            | Screen::Login(_)
            | Screen::SecondFactor(_)
            | Screen::Enable(_)
            | Screen::Regenerate(_)
            | Screen::Disable(_) => None,
        }
    }

    fn on_logout(&mut self, result: Result<(), ClientError>) -> Option<Effect> {
        let Screen::Home(h) = &self.screen else { return None };
        if !h.logging_out {
            return None;
        }
        let username = self.me.take().map(|me| me.username).unwrap_or_default();
        self.token = None;
        let notice = match result {
            Ok(()) | Err(ClientError::Unauthorized) => Notice::success("Signed out."),
            Err(e) => Notice::warning(format!("Signed out on this computer, but the server was not told: {e}")),
        };
        self.screen = Screen::Login(self.login_screen().with_username(&username).with_notice(notice));
        None
    }

    fn on_enrollment_started(&mut self, result: Result<Enrollment, ClientError>, now: Now) -> Option<Effect> {
        if let Screen::Enable(w) = &mut self.screen
            && let Step::Password(form) = &mut w.step
            && form.pending
        {
            match result {
                Ok(enrollment) => {
                    self.issuer = Some(enrollment.issuer.clone());
                    w.step = Step::Scan(ScanStep::new(enrollment));
                }
                Err(e) => {
                    form.on_error(&e, now.instant);
                    self.show_if_unreachable(&e);
                }
            }
            return None;
        }
        // The person left the wizard while the setup was on its way: undo it.
        match (result, &self.token) {
            (Ok(_), Some(token)) => Some(Effect::CancelEnrollment { token: token.clone() }),
            (Ok(_), None) | (Err(_), _) => None,
        }
    }

    fn on_confirmed(&mut self, result: Result<ConfirmResponse, ClientError>, now: Now) -> Option<Effect> {
        let Screen::Enable(EnableWizard { step }) = &mut self.screen else { return None };
        let Step::Verify(v) = step else { return None };
        if !v.pending {
            return None;
        }
        match result {
            Ok(response) => {
                let codes = CodesStep::new(
                    response.backup_codes,
                    &v.enrollment.issuer,
                    &v.enrollment.account,
                    now.wall,
                    CodesKind::Enabled,
                );
                *step = Step::Codes(codes);
                None
            }
            // The code may have been taken while its answer was lost, or the setup is gone: ask the
            // server whether 2FA is on before saying anything.
            Err(e) if e.is_transport() || matches!(e, ClientError::NoPendingEnrollment) => {
                v.start_check(e);
                self.with_token(|token| Effect::LoadMe { token })
            }
            Err(e) => {
                v.on_error(&e, now.instant, now.wall);
                None
            }
        }
    }

    fn on_regenerated(&mut self, result: Result<BackupCodesResponse, ClientError>, now: Now) -> Option<Effect> {
        let Screen::Regenerate(r) = &mut self.screen else { return None };
        let RegenStage::Password(form) = &mut r.stage else { return None };
        if !form.pending {
            return None;
        }
        match result {
            Ok(response) => {
                let issuer = self.issuer.as_deref().unwrap_or(FALLBACK_ISSUER);
                let account = self.me.as_ref().map(|me| me.username.as_str()).unwrap_or_default();
                r.stage = RegenStage::Codes(CodesStep::new(
                    response.backup_codes,
                    issuer,
                    account,
                    now.wall,
                    CodesKind::Regenerated,
                ));
                None
            }
            Err(e) => {
                form.on_error(&e, now.instant);
                self.show_if_unreachable(&e);
                None
            }
        }
    }

    fn on_disabled(&mut self, result: Result<DisableResponse, ClientError>, now: Now) -> Option<Effect> {
        let Screen::Disable(d) = &mut self.screen else { return None };
        if !d.form.pending {
            return None;
        }
        match result {
            Ok(_) => self.go_home(Some(Notice::success("Two-factor authentication is off.")), true),
            Err(e) => {
                d.form.on_error(&e, now.instant);
                self.show_if_unreachable(&e);
                None
            }
        }
    }

    fn hints(&self) -> Vec<(&'static str, &'static str)> {
        match &self.overlay {
            Some(Overlay::Help) => return vec![("any key", "close")],
            Some(Overlay::QuitConfirm) => return vec![("y", "quit"), ("n", "stay"), ("Ctrl-C", "quit")],
            Some(Overlay::Unreachable(dialog)) => return dialog.hints(true),
            None => {}
        }
        match &self.screen {
            Screen::Connect(c) => c.hints(false),
            Screen::Login(s) => s.hints(),
            Screen::SecondFactor(s) => s.hints(),
            Screen::Home(h) => self.me.as_ref().map(|me| h.hints(me)).unwrap_or_default(),
            Screen::Enable(w) => w.hints(),
            Screen::Regenerate(r) => r.hints(),
            Screen::Disable(d) => d.hints(),
        }
    }

    fn render_header(&self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" "), Span::raw("usercenter").bold(), Span::raw(" · ").dark_gray()];
        spans.push(Span::raw(self.api_url.clone()).dark_gray());
        if self.insecure {
            spans.push(Span::raw(" (not encrypted)").yellow());
        }
        Line::from(spans).render(area, buf);
        if let Some(me) = &self.me {
            Paragraph::new(Line::from(format!("{} ", me.username)).bold()).right_aligned().render(area, buf);
        }
    }
}

/// Shown on the user center after signing in with a backup code.
fn backup_code_used_notice(left: u32) -> Notice {
    let codes = if left == 1 { "code" } else { "codes" };
    let text = format!("You signed in with a backup code: {left} backup {codes} left.");
    if left <= FEW_BACKUP_CODES { Notice::warning(text) } else { Notice::info(text) }
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            TooSmall { need: (MIN_WIDTH, MIN_HEIGHT) }.render(area, buf);
            return;
        }
        let ui = Ui { spinner: spinner::frame(self.spinner) };
        let [header, body, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        match &self.screen {
            Screen::Enable(w) if w.wants_full_screen(body) => {
                w.render(Rect { height: area.height - 1, ..area }, buf, &ui, true);
            }
            screen => {
                self.render_header(header, buf);
                match screen {
                    Screen::Connect(c) => c.render(body, buf, &ui),
                    Screen::Login(s) => s.render(body, buf, &ui),
                    Screen::SecondFactor(s) => s.render(body, buf, &ui),
                    Screen::Home(h) => {
                        if let Some(me) = &self.me {
                            h.render(me, &self.api_url, body, buf, &ui);
                        }
                    }
                    Screen::Enable(w) => w.render(body, buf, &ui, false),
                    Screen::Regenerate(r) => r.render(body, buf, &ui),
                    Screen::Disable(d) => d.render(body, buf, &ui),
                }
            }
        }
        KeyHints(&self.hints()).render(footer, buf);
        match &self.overlay {
            Some(Overlay::Help) => help::render(area, buf),
            Some(Overlay::QuitConfirm) => {
                let lines = vec![
                    Line::from("Your backup codes were neither copied nor saved, and they are not shown again."),
                    Line::from(""),
                    Line::from("Quit anyway? y quits · n stays (Ctrl-C again quits)").bold(),
                ];
                Popup::new("Quit?", lines).warning().width(60).render(area, buf);
            }
            Some(Overlay::Unreachable(dialog)) => dialog.render(area, buf, &ui),
            None => {}
        }
    }
}
