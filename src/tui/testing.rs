//! Fixtures for the app's tests: a fixed clock, canned API answers, synthetic keys, rendering.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;
use time::macros::datetime;

use super::DemoAccount;
use super::app::App;
use super::app::msg::{Answer, ApiCall, Effect, Msg, Now, Reply, Work};
use super::screens::home::HomeScreen;
use super::screens::login::LoginScreen;
use crate::domain::{
    Challenge, ConfirmResponse, Enrollment, Event, EventKind, EventsPage, Health, LoginResponse, Me,
    SecondFactorMethod, SecretString, Session, SessionInfo, SessionList, SignInMethod, TwoFactorStatus,
};

pub const URL: &str = "http://127.0.0.1:8080";
/// The wall clock of every test: snapshots never see the real time.
pub const WALL: OffsetDateTime = datetime!(2026-11-28 12:00:00 UTC);
/// The monotonic origin; only differences from it matter, so tests stay deterministic.
pub static T0: LazyLock<Instant> = LazyLock::new(Instant::now);

/// 30 characters, the size the QR layout must handle at 80x24.
pub const LONG_ACCOUNT: &str = "jonathan.q.public@example.test";
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// As the server writes it (rule 1): the issuer in the label's prefix and in its own parameter.
pub fn otpauth_uri() -> String {
    format!("otpauth://totp/usercenter:jonathan.q.public%40example.test?secret={SECRET}&issuer=usercenter")
}

pub fn at(secs: u64) -> Now {
    Now { instant: *T0 + Duration::from_secs(secs), wall: WALL + Duration::from_secs(secs) }
}

/// `elapsed` after the start of every test.
pub fn after(elapsed: Duration) -> Now {
    Now { instant: *T0 + elapsed, wall: WALL + elapsed }
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(key(code)))
}

pub fn ctrl_c(app: &mut App) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)))
}

/// Types `text` key by key; returns the effects it caused.
pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().filter_map(|c| press(app, KeyCode::Char(c))).collect()
}

/// Answers the request made last.
pub fn reply(app: &mut App, reply: Reply) -> Option<Effect> {
    reply_at(app, at(0), reply)
}

pub fn reply_at(app: &mut App, now: Now, reply: Reply) -> Option<Effect> {
    let id = app.last_request();
    app.update(Msg::Reply(Answer { id, now, reply }))
}

/// The work an effect asks for, without its request id.
pub fn work(effect: Option<Effect>) -> Option<Work> {
    match effect? {
        Effect::Run(_, work) => Some(work),
        Effect::Quit(_) | Effect::Suspend | Effect::RememberUsername(_) => None,
    }
}

/// The API call an effect makes, if it makes one.
pub fn api(effect: Option<Effect>) -> Option<ApiCall> {
    match work(effect)? {
        Work::Api(call) => Some(call),
        Work::Copy(_) | Work::Save(_) => None,
    }
}

pub fn me(enabled: bool, remaining: u32) -> Me {
    Me {
        username: "alice".into(),
        two_factor: TwoFactorStatus {
            enabled,
            enabled_at: enabled.then_some(datetime!(2026-11-01 09:30:00 UTC)),
            backup_codes_remaining: remaining,
            pending_enrollment: false,
        },
        policy: crate::domain::Policy::default(),
    }
}

pub fn session(remaining: Option<u32>) -> Session {
    Session { token: "token-1".into(), expires_at: WALL, backup_codes_remaining: remaining }
}

pub fn challenge() -> Challenge {
    Challenge {
        challenge: "challenge-1".into(),
        expires_at: WALL,
        methods: vec![SecondFactorMethod::Totp, SecondFactorMethod::BackupCode],
    }
}

pub fn enrollment() -> Enrollment {
    Enrollment {
        secret: SECRET.into(),
        otpauth_uri: otpauth_uri().into(),
        issuer: "usercenter".into(),
        account: LONG_ACCOUNT.into(),
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        expires_at: WALL,
    }
}

pub fn backup_codes() -> Vec<SecretString> {
    [
        "abcde-fghjk",
        "mnpqr-stuvw",
        "xyz23-45678",
        "9abcd-efghj",
        "kmnpq-rstuv",
        "wxyz2-34567",
        "89abc-defgh",
        "jkmnp-qrstu",
        "vwxyz-23456",
        "789ab-cdefg",
    ]
    .into_iter()
    .map(SecretString::from)
    .collect()
}

pub fn confirmed() -> ConfirmResponse {
    ConfirmResponse { enabled: true, backup_codes: backup_codes() }
}

/// The app on the sign-in screen, the server having answered the health check.
pub fn app() -> App {
    let mut app = App::new(URL, None);
    assert_eq!(api(app.start()), Some(ApiCall::CheckHealth));
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    assert!(app.screen::<LoginScreen>().is_some());
    app
}

pub fn demo_app() -> App {
    let demo = DemoAccount { username: "demo".into(), password: "demo-password".into() };
    let mut app = App::new(URL, Some(demo));
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    app
}

/// Types a username and password and presses Enter; returns the effect.
pub fn submit_login(app: &mut App, username: &str, password: &str) -> Option<Effect> {
    type_text(app, username);
    press(app, KeyCode::Tab);
    type_text(app, password);
    press(app, KeyCode::Enter)
}

/// Signed in (2FA off or on, as `me` says) and on the user center, nothing new since the last visit.
pub fn signed_in(me: Me) -> App {
    signed_in_after(me, quiet_history())
}

/// Signed in, the sign-in having read `history` (the newest events, newest first).
pub fn signed_in_after(me: Me, history: EventsPage) -> App {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    let effect = reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    let effect = reply(&mut app, Reply::Me(Ok(me)));
    assert!(matches!(api(effect), Some(ApiCall::LoadEvents { .. })), "the sign-in reads the newest events");
    reply(&mut app, Reply::Events(Ok(history)));
    assert!(app.screen::<HomeScreen>().is_some());
    app
}

/// Moves down the user center's sidebar to the page labelled `label`; returns the effect of the last
/// step (a page of the server's data loads when shown).
pub fn go_to(app: &mut App, label: &str) -> Option<Effect> {
    let mut effect = None;
    for _ in 0..8 {
        if screen_text(app).contains(&format!("› {label} ")) {
            return effect;
        }
        effect = press(app, KeyCode::Down);
    }
    panic!("no page {label:?} in the sidebar:\n{}", screen_text(app));
}

/// An event `minutes` before [`WALL`].
pub fn event(id: i64, kind: EventKind, minutes: i64, address: Option<&str>) -> Event {
    Event {
        id,
        kind,
        at: WALL - time::Duration::minutes(minutes),
        address: address.map(str::to_owned),
        user_agent: Some("usercenter/0.1.0".into()),
    }
}

pub fn signed_in_event(id: i64, minutes: i64) -> Event {
    event(id, EventKind::SignIn { method: SignInMethod::Totp }, minutes, Some("192.0.2.10"))
}

/// This sign-in, and the previous one a day ago: nothing to say.
pub fn quiet_history() -> EventsPage {
    EventsPage { events: vec![signed_in_event(11, 0), signed_in_event(10, 24 * 60)], next_before: None }
}

/// A session of the account, last seen `minutes` ago.
pub fn session_info(id: &str, current: bool, address: &str, minutes: i64) -> SessionInfo {
    SessionInfo {
        id: id.into(),
        created_at: WALL - time::Duration::minutes(minutes + 90),
        last_seen_at: WALL - time::Duration::minutes(minutes),
        expires_at: WALL + time::Duration::hours(12),
        address: Some(address.into()),
        user_agent: Some("usercenter/0.1.0".into()),
        current,
    }
}

/// This session and two others.
pub fn three_sessions() -> SessionList {
    SessionList {
        sessions: vec![
            session_info("s-phone", false, "198.51.100.4", 3 * 60),
            session_info("s-this", true, "192.0.2.10", 0),
            session_info("s-laptop", false, "203.0.113.7", 12),
        ],
    }
}

/// In the enable wizard, at the Scan step with [`enrollment`].
pub fn at_scan() -> App {
    at_scan_with(enrollment())
}

pub fn at_scan_with(enrollment: Enrollment) -> App {
    let mut app = signed_in(me(false, 0));
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "pw");
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment)));
    app
}

/// The longest username `user add` allows (64 characters), with a 17-character issuer.
pub const USERNAME_64: &str = "alexandra.konstantinopoulou.vandenberg@research-labs.example.org";

/// An enrollment for [`USERNAME_64`] at "Newcomer Platform".
pub fn long_enrollment() -> Enrollment {
    let account = USERNAME_64.replace('@', "%40");
    Enrollment {
        otpauth_uri: format!(
            "otpauth://totp/Newcomer%20Platform:{account}?secret={SECRET}&issuer=Newcomer%20Platform"
        )
        .into(),
        issuer: "Newcomer Platform".into(),
        account: USERNAME_64.into(),
        ..enrollment()
    }
}

pub fn at_verify() -> App {
    let mut app = at_scan();
    press(&mut app, KeyCode::Enter);
    app
}

pub fn at_codes() -> App {
    let mut app = at_verify();
    type_text(&mut app, "123456");
    reply(&mut app, Reply::Confirmed(Ok(confirmed())));
    app
}

pub fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| frame.render_widget(app, frame.area())).expect("draw");
    terminal
}

/// The 80x24 screen as text, for `contains` checks.
pub fn screen_text(app: &App) -> String {
    render(app, 80, 24).backend().to_string()
}

/// The workspace requires 2FA; the account has none.
pub fn me_required() -> Me {
    Me { policy: crate::domain::Policy { two_factor_required: true }, ..me(false, 0) }
}

/// Signed in to an account that must set up 2FA: the login answered `two_factor_setup_required`, and
/// the sign-in read `history`.
pub fn required_setup_after(history: EventsPage) -> App {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    let effect = reply(&mut app, Reply::Login(Ok(LoginResponse::TwoFactorSetupRequired(session(None)))));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    let effect = reply(&mut app, Reply::Me(Ok(me_required())));
    assert!(
        matches!(api(effect), Some(ApiCall::LoadEvents { .. })),
        "GET /v1/me/events: the setup token may"
    );
    reply(&mut app, Reply::Events(Ok(history)));
    app
}

/// A new account's first sign-in, straight into the setup the workspace requires.
pub fn required_setup() -> App {
    let first = EventsPage {
        events: vec![event(1, EventKind::SignIn { method: SignInMethod::Password }, 0, Some("192.0.2.10"))],
        next_before: None,
    };
    required_setup_after(first)
}
