//! The enable wizard: Password → Authenticator app → Verify → Backup codes.
//!
//! When the workspace requires two-factor authentication and the account has none, signing in leads
//! here, with a banner: leaving only logs out or quits, and the user center opens once it is on.

pub mod codes;
pub mod password;
pub mod scan;
pub mod verify;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use self::codes::{CodesKind, CodesOutcome, CodesStep};
use self::scan::{ScanIntent, ScanLayout, ScanStep};
use self::verify::{VerifyIntent, VerifyStep};
use super::password_form::{FormIntent, PasswordForm};
use crate::client::ClientError;
use crate::tui::app::SignedInRoute;
use crate::tui::app::msg::{Answer, ApiCall, Cleanup, Reply, RequestId};
use crate::tui::keys::{self, Key, KeyBinding};
use crate::tui::notice::Notice;
use crate::tui::screen::{Activity, Chrome, Cx, Screen, Session, Transition, Ui, unasked};
use crate::tui::text::fit;
use crate::tui::widgets::popup::Popup;
use crate::tui::widgets::stepbar::StepBar;

/// Asked when Esc would cancel a setup whose code may already be in the person's app.
pub const CANCEL_QUESTION: &str = "You may have scanned this code already: cancel the setup? y/n";

/// The keys while the cancel question is asked.
pub const CANCEL_KEYS: &[KeyBinding] = &[
    KeyBinding::new("y", "cancel the setup").context("when asked"),
    KeyBinding::new("n", "keep going").also("Esc").context("when asked"),
];

/// Esc in the setup the workspace requires: it cannot lead to the user center, so it asks.
pub const LEAVE_KEY: KeyBinding =
    KeyBinding::new("Esc", "log out or quit").context("asks first: the workspace requires 2FA");

/// The keys while leaving the required setup is asked.
pub const LEAVE_KEYS: &[KeyBinding] = &[
    KeyBinding::new("y", "log out").context("when asked; also cancels the setup on the server"),
    KeyBinding::new("n", "keep setting up").also("Esc").context("when asked"),
    KeyBinding::new("q", "quit").context("when asked"),
];

/// Said above every step of the setup the workspace requires.
pub const REQUIRED_BANNER: &str = "Your organisation requires two-factor authentication.";

/// Asked when Esc would leave the setup the workspace requires.
pub const LEAVE_QUESTION: &str = "Log out? y logs out · n keeps setting up · q quits";

pub const STEPS: [&str; 4] = ["Password", "Authenticator app", "Verify", "Backup codes"];

/// Whether the setup may be left for the user center.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Chosen from the Security page.
    Chosen,
    /// The workspace requires it: only logging out or quitting leaves.
    Required,
}

/// Leaving the required setup: the pending setup is cancelled, then the session logs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaving {
    Cancelling(RequestId),
    LoggingOut(RequestId),
}

/// Each step holds only its own data.
#[derive(Debug)]
pub enum Step {
    Password(PasswordForm),
    Scan(ScanStep),
    Verify(VerifyStep),
    Codes(CodesStep),
}

#[derive(Debug)]
pub struct EnableWizard {
    pub step: Step,
    /// Esc on the QR code or verify step asked whether to cancel the setup (whether to log out, when
    /// the setup is required).
    pub cancel_asked: bool,
    pub need: Need,
    /// Said at sign-in (failed attempts since the last visit...), above the password.
    pub notices: Vec<Notice>,
    pub leaving: Option<Leaving>,
}

impl Default for EnableWizard {
    fn default() -> Self {
        Self::new()
    }
}

impl EnableWizard {
    pub fn new() -> Self {
        Self {
            step: Step::Password(PasswordForm::new()),
            cancel_asked: false,
            need: Need::Chosen,
            notices: Vec::new(),
            leaving: None,
        }
    }

    /// The setup the workspace requires, straight after the password; `notices` said at sign-in.
    pub fn required(notices: Vec<Notice>) -> Self {
        Self { need: Need::Required, notices, ..Self::new() }
    }

    /// A setup may be pending on the server: leaving should cancel it.
    fn setup_pending(&self) -> bool {
        self.cleanup().cancel_enrollment
    }

    /// y to leaving the required setup: cancel what may be pending, then log out.
    fn leave_required(&mut self, cx: &mut Cx<'_, Session>) {
        self.leaving = Some(if self.setup_pending() {
            Leaving::Cancelling(cx.send(ApiCall::CancelEnrollment { token: cx.token() }))
        } else {
            Leaving::LoggingOut(cx.send(ApiCall::Logout { token: cx.token() }))
        });
    }

    fn on_leaving_reply(&mut self, reply: Reply, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        match (self.leaving, reply) {
            // Cancelled or not, the setup expires on its own: logging out matters more.
            (Some(Leaving::Cancelling(_)), Reply::EnrollmentCancelled(_)) => {
                self.leaving = Some(Leaving::LoggingOut(cx.send(ApiCall::Logout { token: cx.token() })));
                Transition::Stay
            }
            (Some(Leaving::LoggingOut(_)), Reply::Logout(result)) => {
                let told = match result {
                    Ok(()) | Err(ClientError::Unauthorized) => String::new(),
                    Err(error) => format!(" (the server was not told: {error})"),
                };
                Transition::Go(SignedInRoute::SignedOut(Notice::info(format!(
                    "Signed out{told}. Your organisation requires two-factor authentication: set it up at your next sign-in."
                ))))
            }
            (_, other) => unasked(&other),
        }
    }

    /// Esc on a step: asks first where a setup may be pending (or always, when required).
    fn cancel(&mut self, pending: bool, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        match self.need {
            Need::Required => {
                self.cancel_asked = true;
                Transition::Stay
            }
            Need::Chosen => Self::leave(pending, cx),
        }
    }

    pub fn step_index(&self) -> usize {
        match self.step {
            Step::Password(_) => 0,
            Step::Scan(_) => 1,
            Step::Verify(_) => 2,
            Step::Codes(_) => 3,
        }
    }

    /// Back to the user center; `cancel_enrollment` when a setup may be pending on the server.
    fn leave(cancel_enrollment: bool, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if cancel_enrollment {
            // Nobody waits for the answer: the setup is abandoned either way.
            cx.send(ApiCall::CancelEnrollment { token: cx.token() });
        }
        let notice = Some(Notice::info("Setup cancelled: two-factor authentication is still off."));
        Transition::Go(SignedInRoute::Home { notice, refresh: false })
    }
}

impl Screen for EnableWizard {
    type Account = Session;
    type Route = SignedInRoute;

    fn activity(&self) -> Activity {
        if self.leaving.is_some() {
            return Activity::Waiting;
        }
        match &self.step {
            Step::Password(form) => form.request.activity(),
            Step::Scan(_) => Activity::Idle,
            Step::Verify(verify) => verify.activity(),
            Step::Codes(codes) => codes.activity(),
        }
    }

    fn awaits(&self, id: RequestId) -> bool {
        if let Some(Leaving::Cancelling(leaving) | Leaving::LoggingOut(leaving)) = self.leaving {
            return leaving == id;
        }
        match &self.step {
            Step::Password(form) => form.request.awaits(id),
            Step::Scan(_) => false,
            Step::Verify(verify) => verify.awaits(id),
            Step::Codes(codes) => codes.awaits(id),
        }
    }

    fn accepts_text(&self) -> bool {
        if self.cancel_asked || self.leaving.is_some() {
            return false;
        }
        match &self.step {
            Step::Password(_) | Step::Verify(_) => true,
            Step::Scan(_) => false,
            Step::Codes(codes) => codes.accepts_text(),
        }
    }

    fn tick(&mut self, now: std::time::Instant) {
        match &mut self.step {
            Step::Password(form) => form.request.tick(now),
            Step::Verify(verify) => verify.tick(now),
            Step::Scan(_) | Step::Codes(_) => {}
        }
    }

    fn reconnected(&mut self) {
        match &mut self.step {
            Step::Password(form) => form.request.reconnected(),
            Step::Verify(verify) => verify.reconnected(),
            Step::Scan(_) | Step::Codes(_) => {}
        }
    }

    fn keys(&self, _: &Session) -> Vec<Key> {
        let required = self.need == Need::Required;
        if self.leaving.is_some() {
            return Vec::new();
        }
        if self.cancel_asked {
            return if required { keys::resolve(LEAVE_KEYS, ()) } else { keys::resolve(CANCEL_KEYS, ()) };
        }
        let step_keys = match &self.step {
            Step::Password(_) => keys::resolve(password::KEYS, ()),
            Step::Scan(scan) => scan.keys(),
            Step::Verify(verify) => verify.keys(),
            Step::Codes(codes) => codes.keys(),
        };
        match (self.need, &self.step) {
            // Esc cannot lead to the user center: it asks whether to log out.
            (Need::Required, Step::Password(_) | Step::Scan(_) | Step::Verify(_)) => step_keys
                .into_iter()
                .map(|key| if key.keys == "Esc" { keys::resolve(&[LEAVE_KEY], ()).remove(0) } else { key })
                .collect(),
            (Need::Required, Step::Codes(_)) | (Need::Chosen, _) => step_keys,
        }
    }

    fn on_key(&mut self, key: &KeyEvent, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        if self.leaving.is_some() {
            return Transition::Stay;
        }
        if self.cancel_asked {
            match (key.code, self.need) {
                (KeyCode::Char('y' | 'Y'), Need::Chosen) => return Self::leave(true, cx),
                (KeyCode::Char('y' | 'Y'), Need::Required) => {
                    self.cancel_asked = false;
                    self.leave_required(cx);
                }
                (KeyCode::Char('n' | 'N') | KeyCode::Esc, _) => self.cancel_asked = false,
                _ => {}
            }
            return Transition::Stay;
        }
        match &mut self.step {
            Step::Password(form) => match form.on_key(key) {
                FormIntent::Nothing => {}
                FormIntent::Submit(password) => {
                    form.request.sent(cx.send(ApiCall::StartEnrollment { token: cx.token(), password }));
                }
                FormIntent::Cancel => {
                    let pending = form.request.is_sending();
                    return self.cancel(pending, cx);
                }
            },
            Step::Scan(scan) => match scan.on_key(key) {
                ScanIntent::Nothing => {}
                ScanIntent::Continue => self.step = Step::Verify(VerifyStep::new(scan.enrollment.clone())),
                ScanIntent::Cancel => self.cancel_asked = true,
            },
            Step::Verify(verify) => match verify.on_key(key, cx) {
                VerifyIntent::Nothing => {}
                VerifyIntent::Back => self.step = Step::Scan(ScanStep::new(verify.enrollment.clone())),
                VerifyIntent::Cancel => self.cancel_asked = true,
            },
            Step::Codes(codes) => match codes.on_key(key, cx) {
                CodesOutcome::Stay => {}
                CodesOutcome::Done => {
                    let notice = Notice::success(
                        "Two-factor authentication is on: each sign-in now asks for a code from your app.",
                    );
                    return Transition::Go(SignedInRoute::FactorChanged(notice));
                }
            },
        }
        Transition::Stay
    }

    fn on_reply(&mut self, answer: Answer, cx: &mut Cx<'_, Session>) -> Transition<SignedInRoute> {
        let Answer { reply, now, .. } = answer;
        if self.leaving.is_some() {
            return self.on_leaving_reply(reply, cx);
        }
        match (&mut self.step, reply) {
            (Step::Password(_), Reply::EnrollmentStarted(Ok(enrollment))) => {
                self.step = Step::Scan(ScanStep::new(enrollment));
            }
            (Step::Password(form), Reply::EnrollmentStarted(Err(error))) => form.failed(&error, now, cx),
            (Step::Verify(verify), Reply::Confirmed(Ok(response))) => {
                let codes = CodesStep::new(
                    response.backup_codes,
                    &verify.enrollment.issuer,
                    &verify.enrollment.account,
                    now.wall,
                    CodesKind::Enabled,
                );
                self.step = Step::Codes(codes);
                // Shown at once on the user center; the refresh after the codes confirms it.
                let two_factor = &mut cx.account.me.two_factor;
                two_factor.enabled = true;
                two_factor.enabled_at = Some(now.wall);
                two_factor.backup_codes_remaining = codes::full_set();
                two_factor.pending_enrollment = false;
            }
            (Step::Verify(verify), Reply::Confirmed(Err(error))) => verify.confirm_failed(error, now, cx),
            (Step::Verify(verify), Reply::Me(result)) => return verify.on_check(result, cx),
            (Step::Codes(codes), reply) => return codes.on_reply(reply),
            (Step::Password(_) | Step::Scan(_) | Step::Verify(_), other) => return unasked(&other),
        }
        Transition::Stay
    }

    /// The QR code takes the header's and step bar's rows when the terminal is short, and the hint
    /// line too when it is narrow (its own line then says how to go on).
    fn chrome(&self, area: Rect) -> Chrome {
        let Step::Scan(scan) = &self.step else { return Chrome::Full };
        // Under the header and step bar (and a blank row), above the hints.
        let body = Rect { height: area.height.saturating_sub(4), ..area };
        let short = Rect { height: area.height.saturating_sub(1), ..area };
        if scan.key_shown || scan.layout(body) == ScanLayout::Beside {
            Chrome::Full
        } else if scan.layout(short) == ScanLayout::Beside {
            Chrome::NoHeader
        } else if scan.layout(area) == ScanLayout::QrOnly {
            Chrome::Bare
        } else {
            Chrome::Full
        }
    }

    fn quit_warning(&self) -> Option<&'static str> {
        match &self.step {
            Step::Codes(codes) => codes.quit_warning(),
            Step::Password(_) | Step::Scan(_) | Step::Verify(_) => None,
        }
    }

    fn cleanup(&self) -> Cleanup {
        let cancel_enrollment = match &self.step {
            Step::Password(form) => form.request.is_sending(),
            Step::Scan(_) | Step::Verify(_) => true,
            Step::Codes(_) => false,
        };
        Cleanup { token: None, cancel_enrollment }
    }

    fn render(&self, account: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        self.render_step(account, area, buf, ui);
        if self.leaving.is_some() {
            let lines = vec![Line::from(format!("{} Signing out…", ui.spinner)).cyan()];
            Popup::new("Leaving the setup", lines)
                .width(area.width.saturating_sub(4).min(40))
                .render(area, buf);
        } else if self.cancel_asked && self.need == Need::Required {
            let lines = vec![
                Line::from(
                    "Your organisation requires two-factor authentication: the user center opens once it is set up.",
                ),
                Line::from(""),
                Line::from(LEAVE_QUESTION).bold(),
            ];
            Popup::new("Leave the setup?", lines)
                .warning()
                .width(area.width.saturating_sub(4).min(72))
                .render(area, buf);
        } else if self.cancel_asked {
            let lines = vec![
                Line::from("Cancelling removes the setup from the server; a code you scanned stops working."),
                Line::from(""),
                Line::from(CANCEL_QUESTION).bold(),
            ];
            Popup::new("Cancel the setup?", lines)
                .warning()
                .width(area.width.saturating_sub(4).min(72))
                .render(area, buf);
        }
    }
}

impl EnableWizard {
    fn render_step(&self, _: &Session, area: Rect, buf: &mut Buffer, ui: &Ui) {
        if let (Chrome::NoHeader | Chrome::Bare, Step::Scan(scan)) = (ui.chrome, &self.step) {
            // No step bar either: the step's title goes beside the QR code.
            scan.render(area, buf, true, ui.phone);
            return;
        }
        let [bar, banner, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        StepBar { steps: &STEPS, current: self.step_index() }.render(bar, buf);
        if self.need == Need::Required {
            let line = Line::from(vec![
                Span::raw(" "),
                Span::styled(format!("! {REQUIRED_BANNER}"), Style::new().yellow().bold()),
            ]);
            fit(line, banner.width).render(banner, buf);
        }
        match &self.step {
            Step::Password(form) => password::render(form, self.need, &self.notices, body, buf, ui),
            Step::Scan(scan) => scan.render(body, buf, false, ui.phone),
            Step::Verify(verify) => verify.render(body, buf, ui),
            Step::Codes(codes) => codes.render(body, buf, ui),
        }
    }
}

#[cfg(test)]
mod required_tests {
    use crossterm::event::KeyCode;

    use super::{EnableWizard, LEAVE_QUESTION, Need, REQUIRED_BANNER, Step};
    use crate::domain::{EventKind, EventsPage, SignInFailure};
    use crate::tui::app::msg::{ApiCall, Cleanup, Effect, Reply};
    use crate::tui::clipboard::CopyMethod;
    use crate::tui::screens::home::HomeScreen;
    use crate::tui::screens::login::LoginScreen;
    use crate::tui::testing::*;

    fn wizard(app: &crate::tui::app::App) -> &EnableWizard {
        app.screen::<EnableWizard>().expect("in the setup")
    }

    #[test]
    fn the_password_leads_straight_into_the_setup_with_its_banner() {
        let app = required_setup();
        assert!(matches!(wizard(&app).step, Step::Password(_)) && wizard(&app).need == Need::Required);
        let text = screen_text(&app);
        assert!(text.contains(REQUIRED_BANNER), "{text}");
        assert!(text.contains("Esc log out or quit"), "the hint says where Esc leads:\n{text}");
        insta::assert_snapshot!("required_setup", render(&app, 80, 24).backend());
    }

    #[test]
    fn what_happened_since_the_last_visit_is_said_above_the_password() {
        let failed = EventKind::SignInFailed { reason: SignInFailure::InvalidPassword };
        let history = EventsPage {
            events: vec![
                event(
                    9,
                    EventKind::SignIn { method: crate::domain::SignInMethod::Password },
                    0,
                    Some("192.0.2.10"),
                ),
                event(8, failed, 5, Some("203.0.113.7")),
                event(7, EventKind::TwoFactorReset {}, 60, None),
                signed_in_event(6, 2 * 24 * 60),
            ],
            next_before: None,
        };
        let app = required_setup_after(history);
        let text = screen_text(&app);
        assert!(text.contains("1 failed sign-in attempt since your last visit"), "{text}");
        insta::assert_snapshot!("required_setup_after_a_reset", render(&app, 80, 24).backend());
    }

    #[test]
    fn esc_cannot_lead_into_the_user_center_only_to_log_out_or_quit() {
        let mut app = required_setup();
        type_text(&mut app, "pw");
        assert_eq!(press(&mut app, KeyCode::Esc), None, "asks");
        let text = screen_text(&app);
        assert!(text.contains(LEAVE_QUESTION), "{text}");
        insta::assert_snapshot!("required_setup_esc_asks", render(&app, 80, 24).backend());
        assert_eq!(press(&mut app, KeyCode::Esc), None, "Esc again keeps setting up");
        assert!(app.screen::<EnableWizard>().is_some() && app.screen::<HomeScreen>().is_none());
        press(&mut app, KeyCode::Esc);
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(
            api(effect),
            Some(ApiCall::Logout { token: "token-1".into() }),
            "nothing pending to cancel"
        );
        reply(&mut app, Reply::Logout(Ok(())));
        let login = app.screen::<LoginScreen>().expect("signed out");
        assert_eq!(login.username.text(), "alice");
        assert!(screen_text(&app).contains("set it up at your next sign-in"));
        // q when asked quits, ending the session.
        let mut app = required_setup();
        press(&mut app, KeyCode::Esc);
        let effect = press(&mut app, KeyCode::Char('q'));
        assert_eq!(
            effect,
            Some(Effect::Quit(Cleanup { token: Some("token-1".into()), cancel_enrollment: false }))
        );
    }

    #[test]
    fn leaving_at_the_qr_code_cancels_the_setup_then_logs_out() {
        let mut app = required_setup();
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
        assert_eq!(press(&mut app, KeyCode::Esc), None);
        assert!(screen_text(&app).contains(LEAVE_QUESTION));
        let effect = press(&mut app, KeyCode::Char('y'));
        assert_eq!(api(effect), Some(ApiCall::CancelEnrollment { token: "token-1".into() }));
        assert_eq!(press(&mut app, KeyCode::Enter), None, "keys wait while leaving");
        let effect = reply(&mut app, Reply::EnrollmentCancelled(Ok(())));
        assert_eq!(api(effect), Some(ApiCall::Logout { token: "token-1".into() }));
        reply(&mut app, Reply::Logout(Ok(())));
        assert!(app.screen::<LoginScreen>().is_some());
    }

    #[test]
    fn once_confirmed_the_user_center_opens() {
        let mut app = required_setup();
        type_text(&mut app, "pw");
        press(&mut app, KeyCode::Enter);
        reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
        press(&mut app, KeyCode::Enter);
        type_text(&mut app, "123456");
        reply(&mut app, Reply::Confirmed(Ok(confirmed())));
        assert!(matches!(wizard(&app).step, Step::Codes(_)));
        press(&mut app, KeyCode::Char('c'));
        reply(&mut app, Reply::Copied(Ok(CopyMethod::SystemClipboard)));
        let effect = press(&mut app, KeyCode::Esc);
        assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }), "now a full session");
        assert!(app.screen::<HomeScreen>().is_some());
        let enabled = crate::domain::Me { two_factor: me(true, 10).two_factor, ..me_required() };
        reply(&mut app, Reply::Me(Ok(enabled)));
        assert!(screen_text(&app).contains("Two-factor authentication is on"));
    }
}
