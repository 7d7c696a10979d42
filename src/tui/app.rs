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
use super::screens::password_form::PasswordForm;
use super::screens::regenerate::{RegenIntent, RegenReason, RegenStage, RegenerateScreen};
use super::screens::second_factor::{SecondFactorIntent, SecondFactorScreen};
use super::widgets::keyhints::KeyHints;
use super::widgets::popup::{Popup, TooSmall};
use super::widgets::spinner;
use crate::client::{ClientError, is_insecure_url};
use crate::domain::{
    BACKUP_CODE_COUNT, BackupCodesResponse, ConfirmResponse, DisableResponse, Enrollment, Health,
    LoginResponse, Me, SecondFactorInput, SecretString, Session, VerificationCode,
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
    /// SIGTERM or SIGHUP (the SSH connection dropped): leave at once, there is nobody to ask.
    Terminate,
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
    Login {
        username: String,
        password: SecretString,
    },
    SecondFactor {
        challenge: SecretString,
        input: SecondFactorInput,
    },
    LoadMe {
        token: SecretString,
    },
    Logout {
        token: SecretString,
    },
    StartEnrollment {
        token: SecretString,
        password: SecretString,
    },
    ConfirmEnrollment {
        token: SecretString,
        code: VerificationCode,
    },
    CancelEnrollment {
        token: SecretString,
    },
    RegenerateCodes {
        token: SecretString,
        password: SecretString,
    },
    Disable {
        token: SecretString,
        password: SecretString,
    },
    /// Copy to the clipboard; answered by `Msg::Copied`.
    Copy(SecretString),
    /// Save to `path_input` (`~` expanded by the runtime); answered by `Msg::Saved`.
    Save {
        path_input: String,
        contents: SecretString,
        overwrite: bool,
    },
    /// Leave the app; on the way out, end the session and cancel a pending setup (best effort).
    Quit {
        token: Option<SecretString>,
        cancel_enrollment: bool,
    },
}

impl Effect {
    /// For logs: what is being done, never with what.
    pub fn name(&self) -> &'static str {
        match self {
            Effect::CheckHealth => "check_health",
            Effect::Login { .. } => "login",
            Effect::SecondFactor { .. } => "second_factor",
            Effect::LoadMe { .. } => "load_me",
            Effect::Logout { .. } => "logout",
            Effect::StartEnrollment { .. } => "start_enrollment",
            Effect::ConfirmEnrollment { .. } => "confirm_enrollment",
            Effect::CancelEnrollment { .. } => "cancel_enrollment",
            Effect::RegenerateCodes { .. } => "regenerate_codes",
            Effect::Disable { .. } => "disable",
            Effect::Copy(_) => "copy",
            Effect::Save { .. } => "save",
            Effect::Quit { .. } => "quit",
        }
    }
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
            Msg::Terminate => Some(self.quit()),
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
        let mut login =
            self.login_screen().with_notice(Notice::warning(ClientError::Unauthorized.to_string()));
        if !username.is_empty() {
            login = login.with_username(&username);
        }
        self.screen = Screen::Login(login);
        None
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
                RegenIntent::Submit(password) => {
                    self.with_token(|token| Effect::RegenerateCodes { token, password })
                }
                RegenIntent::Leave => self.go_home(None, false),
                RegenIntent::Codes(intent) => self.on_codes_intent(intent),
            },
            Screen::Disable(d) => match d.on_key(&key) {
                DisableIntent::Nothing => None,
                DisableIntent::Disable(password) => {
                    self.with_token(|token| Effect::Disable { token, password })
                }
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
            Err(e) => form_request_failed(s, &e, now, &mut self.overlay, &self.api_url),
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
            Err(e) => form_request_failed(s, &e, now, &mut self.overlay, &self.api_url),
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
                    form_request_failed(s, &e, now, &mut self.overlay, &self.api_url)
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
                    form_request_failed(s, &e, now, &mut self.overlay, &self.api_url)
                }
            },
            Screen::Home(h) => {
                h.loading = false;
                match result {
                    Ok(me) => self.me = Some(me),
                    Err(e) => {
                        h.notice = Some(Notice::error(format!("Could not refresh your account: {e}")));
                        show_if_unreachable(&mut self.overlay, &self.api_url, &e);
                    }
                }
                None
            }
            Screen::Enable(EnableWizard { step: Step::Verify(v) }) if v.check.is_some() => {
                match result {
                    Ok(me) if me.two_factor.enabled => {
                        self.me = Some(me);
                        self.screen =
                            Screen::Regenerate(RegenerateScreen::new(RegenReason::CodesNeverArrived));
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
            Err(e) => {
                Notice::warning(format!("Signed out on this computer, but the server was not told: {e}"))
            }
        };
        self.screen = Screen::Login(self.login_screen().with_username(&username).with_notice(notice));
        None
    }

    fn on_enrollment_started(&mut self, result: Result<Enrollment, ClientError>, now: Now) -> Option<Effect> {
        if let Screen::Enable(w) = &mut self.screen
            && let Step::Password(form) = &mut w.step
            && form.pending
        {
            return match result {
                Ok(enrollment) => {
                    self.issuer = Some(enrollment.issuer.clone());
                    w.step = Step::Scan(ScanStep::new(enrollment));
                    None
                }
                Err(e) => form_request_failed(form, &e, now, &mut self.overlay, &self.api_url),
            };
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
                // Shown at once on the user center; the refresh after the codes confirms it.
                if let Some(me) = &mut self.me {
                    me.two_factor.enabled = true;
                    me.two_factor.enabled_at = Some(now.wall);
                    me.two_factor.backup_codes_remaining = BACKUP_CODE_COUNT as u32;
                    me.two_factor.pending_enrollment = false;
                }
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

    fn on_regenerated(
        &mut self,
        result: Result<BackupCodesResponse, ClientError>,
        now: Now,
    ) -> Option<Effect> {
        let Screen::Regenerate(r) = &mut self.screen else { return None };
        let RegenStage::Password(form) = &mut r.stage else { return None };
        if !form.pending {
            return None;
        }
        match result {
            Ok(response) => {
                if let Some(me) = &mut self.me {
                    me.two_factor.backup_codes_remaining = BACKUP_CODE_COUNT as u32;
                }
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
            Err(e) => form_request_failed(form, &e, now, &mut self.overlay, &self.api_url),
        }
    }

    fn on_disabled(&mut self, result: Result<DisableResponse, ClientError>, now: Now) -> Option<Effect> {
        let Screen::Disable(d) = &mut self.screen else { return None };
        if !d.form.pending {
            return None;
        }
        match result {
            Ok(_) => {
                if let Some(me) = &mut self.me {
                    me.two_factor.enabled = false;
                    me.two_factor.enabled_at = None;
                    me.two_factor.backup_codes_remaining = 0;
                }
                self.go_home(Some(Notice::success("Two-factor authentication is off.")), true)
            }
            Err(e) => form_request_failed(&mut d.form, &e, now, &mut self.overlay, &self.api_url),
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

/// A form that shows in its own words why its request failed.
trait RequestForm {
    fn show_failure(&mut self, error: &ClientError, now: Now);
}

impl RequestForm for LoginScreen {
    fn show_failure(&mut self, error: &ClientError, now: Now) {
        self.on_error(error, now.instant);
    }
}

impl RequestForm for SecondFactorScreen {
    fn show_failure(&mut self, error: &ClientError, now: Now) {
        self.on_error(error, now.instant, now.wall);
    }
}

impl RequestForm for PasswordForm {
    fn show_failure(&mut self, error: &ClientError, now: Now) {
        self.on_error(error, now.instant);
    }
}

/// The form says why its request failed; a lost connection also opens the retry dialog over it.
fn form_request_failed(
    form: &mut impl RequestForm,
    error: &ClientError,
    now: Now,
    overlay: &mut Option<Overlay>,
    api_url: &str,
) -> Option<Effect> {
    form.show_failure(error, now);
    show_if_unreachable(overlay, api_url, error);
    None
}

/// Takes `overlay` and `api_url` rather than the `App`, whose screen the caller is holding.
fn show_if_unreachable(overlay: &mut Option<Overlay>, api_url: &str, error: &ClientError) {
    if classify(error) == ErrorClass::Transport {
        *overlay = Some(Overlay::Unreachable(ConnectScreen::failed(api_url, error.clone())));
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
                    Line::from(
                        "Your backup codes were neither copied nor saved, and they are not shown again.",
                    ),
                    Line::from(""),
                    Line::from("Quit anyway? y quits · n stays (Ctrl-C again quits)").bold(),
                ];
                Popup::new("Quit?", lines)
                    .warning()
                    .width(area.width.saturating_sub(4).min(76))
                    .render(area, buf);
            }
            Some(Overlay::Unreachable(dialog)) => dialog.render(area, buf, &ui),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crossterm::event::KeyCode;

    use super::*;
    use crate::tui::clipboard::CopyMethod;
    use crate::tui::screens::connect::ConnectState;
    use crate::tui::screens::home::HomeScreen;
    use crate::tui::testing::*;

    fn transport_error() -> ClientError {
        ClientError::Unreachable { url: format!("{URL}/v1/x"), cause: "connection refused".into() }
    }

    #[test]
    fn unreachable_at_start_then_retry() {
        let mut app = App::new(URL, None);
        assert_eq!(app.start(), Some(Effect::CheckHealth));
        assert_eq!(app.tick_interval(), Some(SPINNER_TICK));
        reply(&mut app, Reply::Health(Err(transport_error())));
        assert!(matches!(&app.screen, Screen::Connect(c) if matches!(c.state, ConnectState::Failed(_))));
        assert_eq!(app.tick_interval(), None, "idle means asleep");
        assert_eq!(press(&mut app, KeyCode::Char('r')), Some(Effect::CheckHealth));
        assert_eq!(press(&mut app, KeyCode::Char('r')), None, "one check at a time");
        reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
        assert!(matches!(app.screen, Screen::Login(_)));
    }

    #[test]
    fn login_without_2fa_sends_once_and_opens_the_user_center() {
        let mut app = app();
        let effect = submit_login(&mut app, "alice", "secret pw");
        assert_eq!(effect, Some(Effect::Login { username: "alice".into(), password: "secret pw".into() }));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "Enter twice sends once");
        assert_eq!(app.tick_interval(), Some(SPINNER_TICK));
        let effect = reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }));
        reply(&mut app, Reply::Me(Ok(me(false, 0))));
        assert!(matches!(app.screen, Screen::Home(_)));
        assert!(screen_text(&app).contains("Enable two-factor authentication"));
        assert_eq!(app.tick_interval(), None);
    }

    #[test]
    fn wrong_credentials_keep_the_username_and_clear_the_password() {
        let mut app = app();
        submit_login(&mut app, "alice", "wrong");
        reply(&mut app, Reply::Login(Err(ClientError::InvalidCredentials)));
        let Screen::Login(s) = &app.screen else { panic!("not on sign-in") };
        assert_eq!(s.username.text(), "alice");
        assert!(s.password.is_empty());
        assert!(screen_text(&app).contains("Wrong username or password."));
    }

    #[test]
    fn throttled_login_counts_down_from_retry_after() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(
            &mut app,
            Reply::Login(Err(ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) })),
        );
        assert!(screen_text(&app).contains("Too many attempts. Try again in 30 s."));
        assert_eq!(app.tick_interval(), Some(COUNTDOWN_TICK));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "no attempt while throttled");
        app.update(Msg::Tick(*T0 + Duration::from_millis(1500)));
        assert!(screen_text(&app).contains("Try again in 29 s."));
        app.update(Msg::Tick(*T0 + Duration::from_secs(30)));
        assert!(!screen_text(&app).contains("Too many attempts"));
        assert_eq!(app.tick_interval(), None);
        assert!(matches!(press(&mut app, KeyCode::Enter), Some(Effect::Login { .. })));
    }

    #[test]
    fn transport_error_at_login_shows_the_unreachable_dialog_and_keeps_fields() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(&mut app, Reply::Login(Err(transport_error())));
        assert!(matches!(app.overlay, Some(Overlay::Unreachable(_))));
        assert_eq!(press(&mut app, KeyCode::Char('r')), Some(Effect::CheckHealth));
        reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
        assert!(app.overlay.is_none());
        let Screen::Login(s) = &app.screen else { panic!("not on sign-in") };
        assert_eq!(s.password.text(), "pw");
        assert!(matches!(press(&mut app, KeyCode::Enter), Some(Effect::Login { .. })));
    }

    #[test]
    fn login_with_a_backup_code_reports_codes_left() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
        assert!(matches!(app.screen, Screen::SecondFactor(_)));
        type_text(&mut app, "ABCDE-FGHJK");
        let effect = press(&mut app, KeyCode::Enter);
        let Some(Effect::SecondFactor { challenge, input }) = effect else { panic!("{effect:?}") };
        assert_eq!(challenge.expose(), "challenge-1");
        assert!(matches!(input, SecondFactorInput::Backup(_)));
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        let effect = reply(&mut app, Reply::SecondFactor(Ok(session(Some(2)))));
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }));
        reply(&mut app, Reply::Me(Ok(me(true, 2))));
        let text = screen_text(&app);
        assert!(text.contains("2 backup codes left"), "{text}");
        assert!(text.contains("Generate new ones"), "{text}");
    }

    #[test]
    fn totp_code_at_sign_in_and_expired_challenge() {
        let mut app = app();
        submit_login(&mut app, "alice", "pw");
        reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
        type_text(&mut app, "123456");
        let effect = press(&mut app, KeyCode::Enter);
        assert!(matches!(effect, Some(Effect::SecondFactor { input: SecondFactorInput::Totp(_), .. })));
        reply(&mut app, Reply::SecondFactor(Err(ClientError::ChallengeExpired)));
        let Screen::Login(s) = &app.screen else { panic!("not back on sign-in") };
        assert_eq!(s.username.text(), "alice");
        assert!(screen_text(&app).contains("The sign-in took too long"));
    }

    #[test]
    fn enable_wizard_end_to_end() {
        let mut app = signed_in(me(false, 0));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "into the actions");
        assert_eq!(press(&mut app, KeyCode::Enter), None, "Enable two-factor authentication");
        assert!(matches!(&app.screen, Screen::Enable(w) if matches!(w.step, Step::Password(_))));
        type_text(&mut app, "pw");
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(effect, Some(Effect::StartEnrollment { token: "token-1".into(), password: "pw".into() }));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "Enter twice sends once");
        reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
        assert!(matches!(&app.screen, Screen::Enable(w) if matches!(w.step, Step::Scan(_))));
        press(&mut app, KeyCode::Char('i'));
        assert!(matches!(&app.screen, Screen::Enable(EnableWizard { step: Step::Scan(s) }) if s.inverted));
        press(&mut app, KeyCode::Enter);
        assert!(matches!(&app.screen, Screen::Enable(w) if matches!(w.step, Step::Verify(_))));
        let effects = type_text(&mut app, "12a3456");
        assert_eq!(effects.len(), 1, "sent once, at the sixth digit");
        assert!(matches!(&effects[0], Effect::ConfirmEnrollment { code, .. } if code.expose() == "123456"));
        assert!(type_text(&mut app, "7").is_empty());
        reply(&mut app, Reply::Confirmed(Ok(confirmed())));
        assert!(app.has_unsaved_codes());
        assert_eq!(press(&mut app, KeyCode::Char('c')), Some(Effect::Copy(backup_codes_text().into())));
        app.update(Msg::Copied(Ok(CopyMethod::SystemClipboard)));
        assert!(!app.has_unsaved_codes());
        assert!(screen_text(&app).contains("Copied to the clipboard."));
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }));
        assert!(matches!(app.screen, Screen::Home(_)));
        reply(&mut app, Reply::Me(Ok(me(true, 10))));
        assert!(screen_text(&app).contains("Two-factor authentication is on"));
    }

    fn backup_codes_text() -> String {
        backup_codes().iter().map(|c| c.expose().to_owned()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn esc_leaves_the_wizard_and_cancels_the_enrollment() {
        let mut app = at_scan();
        assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::CancelEnrollment { token: "token-1".into() }));
        assert!(matches!(app.screen, Screen::Home(_)));
        let mut app = at_verify();
        assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::CancelEnrollment { token: "token-1".into() }));
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Char('e'));
        assert_eq!(press(&mut app, KeyCode::Esc), None, "nothing pending yet");
    }

    #[test]
    fn esc_is_ignored_while_the_code_is_checked() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        assert_eq!(press(&mut app, KeyCode::Esc), None);
        assert!(matches!(&app.screen, Screen::Enable(w) if matches!(w.step, Step::Verify(_))));
    }

    #[test]
    fn an_enrollment_that_arrives_after_leaving_is_cancelled() {
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Char('e'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::CancelEnrollment { token: "token-1".into() }));
        let effect = reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
        assert_eq!(effect, Some(Effect::CancelEnrollment { token: "token-1".into() }));
    }

    #[test]
    fn invalid_code_clears_the_field_and_mentions_the_clocks() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        let server_date = Some(WALL - Duration::from_secs(40));
        app.update(Msg::Api(at(0), Reply::Confirmed(Err(ClientError::InvalidCode { server_date }))));
        let Screen::Enable(EnableWizard { step: Step::Verify(v) }) = &app.screen else { panic!() };
        assert!(v.field.is_empty());
        let text = screen_text(&app);
        assert!(text.contains("That code is not valid."), "{text}");
        assert!(text.contains("phone's clock"), "{text}");
        assert!(text.contains("off by 40 s"), "{text}");
    }

    #[test]
    fn throttled_verify_counts_down_and_ignores_digits() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        let err = ClientError::TooManyAttempts { retry_after: Duration::from_secs(60) };
        reply(&mut app, Reply::Confirmed(Err(err)));
        assert!(screen_text(&app).contains("Try again in 60 s."));
        assert!(type_text(&mut app, "123456").is_empty());
        app.update(Msg::Tick(*T0 + Duration::from_secs(60)));
        assert_eq!(type_text(&mut app, "123456").len(), 1);
    }

    #[test]
    fn lost_confirm_answer_with_2fa_on_leads_to_new_codes() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        let effect = reply(&mut app, Reply::Confirmed(Err(transport_error())));
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }), "asks the server first");
        assert!(app.overlay.is_none());
        assert_eq!(press(&mut app, KeyCode::Esc), None, "cannot leave while asking");
        reply(&mut app, Reply::Me(Ok(me(true, 10))));
        assert!(matches!(&app.screen, Screen::Regenerate(r) if r.reason == RegenReason::CodesNeverArrived));
        assert!(screen_text(&app).contains("never"), "{}", screen_text(&app));
        type_text(&mut app, "pw");
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(effect, Some(Effect::RegenerateCodes { token: "token-1".into(), password: "pw".into() }));
        reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
        assert!(app.has_unsaved_codes());
    }

    #[test]
    fn lost_confirm_answer_with_2fa_off_goes_back_to_verify() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Err(transport_error())));
        reply(&mut app, Reply::Me(Ok(me(false, 0))));
        let Screen::Enable(EnableWizard { step: Step::Verify(v) }) = &app.screen else { panic!() };
        assert!(v.check.is_none());
        assert!(screen_text(&app).contains("Cannot reach"));
        assert_eq!(type_text(&mut app, "654321").len(), 1, "can try again");
    }

    #[test]
    fn failed_check_can_be_retried_with_r() {
        let mut app = at_verify();
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Err(transport_error())));
        reply(&mut app, Reply::Me(Err(transport_error())));
        assert!(screen_text(&app).contains("Could not tell whether"));
        assert_eq!(press(&mut app, KeyCode::Char('r')), Some(Effect::LoadMe { token: "token-1".into() }));
    }

    #[test]
    fn ctrl_c_asks_first_when_codes_are_unsaved() {
        let mut app = at_codes();
        assert_eq!(ctrl_c(&mut app), None);
        assert!(matches!(app.overlay, Some(Overlay::QuitConfirm)));
        assert!(screen_text(&app).contains("Quit anyway?"));
        assert_eq!(press(&mut app, KeyCode::Char('n')), None);
        assert!(app.overlay.is_none());
        ctrl_c(&mut app);
        let effect = ctrl_c(&mut app);
        assert_eq!(effect, Some(Effect::Quit { token: Some("token-1".into()), cancel_enrollment: false }));
        let mut app = signed_in(me(false, 0));
        assert!(matches!(ctrl_c(&mut app), Some(Effect::Quit { .. })), "nothing to lose: quits at once");
        let mut app = at_scan();
        let effect = ctrl_c(&mut app);
        assert_eq!(effect, Some(Effect::Quit { token: Some("token-1".into()), cancel_enrollment: true }));
    }

    #[test]
    fn a_signal_quits_at_once_and_cleans_up() {
        let mut app = at_scan();
        let effect = app.update(Msg::Terminate);
        assert_eq!(effect, Some(Effect::Quit { token: Some("token-1".into()), cancel_enrollment: true }));
        let mut app = at_codes();
        assert!(matches!(app.update(Msg::Terminate), Some(Effect::Quit { .. })), "nobody left to ask");
    }

    #[test]
    fn leaving_unsaved_codes_asks() {
        let mut app = at_codes();
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        assert!(screen_text(&app).contains("Leave anyway?"));
        press(&mut app, KeyCode::Char('n'));
        assert!(app.has_unsaved_codes());
        press(&mut app, KeyCode::Esc);
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }));
        assert!(matches!(app.screen, Screen::Home(_)));
    }

    #[test]
    fn save_asks_before_replacing_and_shows_errors() {
        let mut app = at_codes();
        press(&mut app, KeyCode::Char('s'));
        let effect = press(&mut app, KeyCode::Enter);
        let Some(Effect::Save { path_input, contents, overwrite: false }) = effect else {
            panic!("{effect:?}")
        };
        assert_eq!(path_input, crate::tui::savefile::default_path("usercenter"));
        assert!(contents.expose().contains("abcde-fghjk"));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "one save at a time");
        app.update(Msg::Saved(Err(SaveError::Exists("/home/alice/usercenter-backup-codes.txt".into()))));
        assert!(screen_text(&app).contains("Replace it? y/n"));
        let effect = press(&mut app, KeyCode::Char('y'));
        assert!(matches!(effect, Some(Effect::Save { overwrite: true, .. })));
        app.update(Msg::Saved(Err(SaveError::PermissionDenied("/home/alice/x".into()))));
        let text = screen_text(&app);
        assert!(text.contains("Not saved: Permission denied"), "{text}");
        assert!(text.contains("abcde-fghjk"), "the codes stay on screen");
        press(&mut app, KeyCode::Enter);
        app.update(Msg::Saved(Ok("/home/alice/usercenter-backup-codes.txt".into())));
        assert!(screen_text(&app).contains("Saved to /home/alice/usercenter-backup-codes.txt"));
        assert!(!app.has_unsaved_codes());
    }

    #[test]
    fn regenerate_flow() {
        let mut app = signed_in(me(true, 3));
        assert!(screen_text(&app).contains("Only 3 backup codes left"));
        press(&mut app, KeyCode::Char('g'));
        assert!(screen_text(&app).contains("stop working"));
        type_text(&mut app, "pw");
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(effect, Some(Effect::RegenerateCodes { token: "token-1".into(), password: "pw".into() }));
        assert_eq!(press(&mut app, KeyCode::Esc), None, "cannot lose the new codes by leaving");
        reply(&mut app, Reply::Regenerated(Err(ClientError::InvalidPassword)));
        assert!(screen_text(&app).contains("Wrong password."));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
        assert!(screen_text(&app).contains("New backup codes"));
        assert!(matches!(press(&mut app, KeyCode::Char('c')), Some(Effect::Copy(_))));
        app.update(Msg::Copied(Ok(CopyMethod::Osc52 { tmux: false })));
        assert!(screen_text(&app).contains("OSC 52"));
        assert!(matches!(press(&mut app, KeyCode::Enter), Some(Effect::LoadMe { .. })));
    }

    #[test]
    fn disable_asks_for_confirmation() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('d'));
        type_text(&mut app, "pw");
        assert_eq!(press(&mut app, KeyCode::Enter), None, "asks first");
        assert!(screen_text(&app).contains("Turn off two-factor authentication for this account?"));
        assert_eq!(press(&mut app, KeyCode::Char('n')), None);
        press(&mut app, KeyCode::Enter);
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(effect, Some(Effect::Disable { token: "token-1".into(), password: "pw".into() }));
        let effect = reply(&mut app, Reply::Disabled(Ok(DisableResponse { enabled: false })));
        assert_eq!(effect, Some(Effect::LoadMe { token: "token-1".into() }));
        assert!(screen_text(&app).contains("Two-factor authentication is off."));
    }

    #[test]
    fn logout_returns_to_sign_in() {
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Down);
        let effect = press(&mut app, KeyCode::Enter);
        assert_eq!(effect, Some(Effect::Logout { token: "token-1".into() }));
        assert_eq!(press(&mut app, KeyCode::Enter), None);
        reply(&mut app, Reply::Logout(Ok(())));
        let Screen::Login(s) = &app.screen else { panic!("not on sign-in") };
        assert_eq!(s.username.text(), "alice");
        assert!(!app.is_signed_in());
        assert!(screen_text(&app).contains("Signed out."));
    }

    #[test]
    fn unauthorized_anywhere_ends_the_session() {
        let mut app = signed_in(me(true, 10));
        press(&mut app, KeyCode::Char('g'));
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::Regenerated(Err(ClientError::Unauthorized)));
        assert!(matches!(app.screen, Screen::Login(_)));
        assert!(!app.is_signed_in());
        assert!(screen_text(&app).contains("Your session has ended. Sign in again."));
    }

    #[test]
    fn help_opens_with_question_mark_only_outside_text_fields() {
        let mut app = app();
        press(&mut app, KeyCode::Char('?'));
        assert!(app.overlay.is_none(), "typed into the username");
        press(&mut app, KeyCode::F(1));
        assert!(matches!(app.overlay, Some(Overlay::Help)));
        press(&mut app, KeyCode::Char('x'));
        assert!(app.overlay.is_none());
        let mut app = signed_in(me(false, 0));
        press(&mut app, KeyCode::Char('?'));
        assert!(matches!(app.overlay, Some(Overlay::Help)));
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut app = app();
        let mut release = key(KeyCode::Char('a'));
        release.kind = crossterm::event::KeyEventKind::Release;
        app.update(Msg::Key(release));
        let Screen::Login(s) = &app.screen else { panic!("not on sign-in") };
        assert!(s.username.is_empty());
    }

    #[test]
    fn stale_answers_are_ignored() {
        let mut app = signed_in(me(false, 0));
        assert_eq!(reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None))))), None);
        assert_eq!(reply(&mut app, Reply::Confirmed(Ok(confirmed()))), None);
        assert!(matches!(app.screen, Screen::Home(HomeScreen { .. })));
    }

    #[test]
    fn every_screen_survives_tiny_and_odd_sizes() {
        let mut help = signed_in(me(true, 1));
        press(&mut help, KeyCode::Char('?'));
        let mut quitting = at_codes();
        ctrl_c(&mut quitting);
        let mut saving = at_codes();
        press(&mut saving, KeyCode::Char('s'));
        let mut regenerate = signed_in(me(true, 1));
        press(&mut regenerate, KeyCode::Char('g'));
        let mut disable = signed_in(me(true, 1));
        press(&mut disable, KeyCode::Char('d'));
        let mut unreachable = App::new(URL, None);
        reply(&mut unreachable, Reply::Health(Err(transport_error())));
        let mut second_factor = app();
        submit_login(&mut second_factor, "alice", "pw");
        reply(&mut second_factor, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
        let apps = [
            app(),
            demo_app(),
            signed_in(me(true, 1)),
            at_scan(),
            at_verify(),
            at_codes(),
            help,
            quitting,
            saving,
            regenerate,
            disable,
            unreachable,
            second_factor,
        ];
        for app in &apps {
            for (w, h) in [(1, 1), (20, 5), (49, 13), (50, 14), (60, 20), (80, 24), (120, 40), (300, 10)] {
                let text = render(app, w, h).backend().to_string();
                if w < MIN_WIDTH || h < MIN_HEIGHT {
                    assert!(text.contains("Terminal") || w < 20, "{w}x{h}: {text}");
                }
            }
        }
    }
}

#[cfg(test)]
mod snapshot_tests {
    use crate::tui::testing::*;

    #[test]
    fn too_small() {
        let app = signed_in(me(true, 10));
        insta::assert_snapshot!(render(&app, 20, 5).backend());
    }
}
