//! The terminal app's render path on the QR step (step 2 of enabling 2FA) at 200x60: a whole frame
//! rendered, a keystroke from `update` to the frame's bytes written (the goal: at most 166 µs, 1% of a
//! 60 Hz frame), and ratatui's own cost of a frame that changes nothing, the floor under a keystroke.
//!
//! `cargo bench --bench tui`.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use time::OffsetDateTime;
use usercenter::domain::{
    Enrollment, EventsPage, Health, LoginResponse, Me, Policy, Session, TwoFactorStatus,
};
use usercenter::tui::app::App;
use usercenter::tui::app::msg::{Answer, Effect, Msg, Now, Reply};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

fn now() -> Now {
    Now { instant: Instant::now(), wall: OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) }
}

fn key(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// Answers the request `effect` made with `reply`; returns the next effect.
fn answer(app: &mut App, effect: Option<Effect>, reply: Reply) -> Option<Effect> {
    let Some(Effect::Run(id, _)) = effect else { panic!("expected a request, got {effect:?}") };
    app.update(Msg::Reply(Answer { id, now: now(), reply }))
}

/// The app signed in and at the QR step, through `update` only, as a person gets there.
fn at_scan() -> App {
    let mut app = App::new("http://127.0.0.1:8080", None);
    let started = app.start();
    answer(&mut app, started, Reply::Health(Ok(Health { status: "ok".into() })));
    type_text(&mut app, "jonathan.q.public@example.test");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "correct horse battery");
    let login = key(&mut app, KeyCode::Enter);
    let session = Session { token: "token".into(), expires_at: now().wall, backup_codes_remaining: None };
    let me = answer(&mut app, login, Reply::Login(Ok(LoginResponse::Authenticated(session))));
    let me_answer = Me {
        username: "jonathan.q.public@example.test".into(),
        two_factor: TwoFactorStatus {
            enabled: false,
            enabled_at: None,
            backup_codes_remaining: 0,
            pending_enrollment: false,
        },
        policy: Policy::default(),
    };
    let events = answer(&mut app, me, Reply::Me(Ok(me_answer)));
    answer(&mut app, events, Reply::Events(Ok(EventsPage { events: Vec::new(), next_before: None })));
    key(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "correct horse battery");
    let start = key(&mut app, KeyCode::Enter);
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let enrollment = Enrollment {
        secret: secret.into(),
        otpauth_uri: format!(
            "otpauth://totp/usercenter:jonathan.q.public%40example.test?secret={secret}&issuer=usercenter"
        )
        .into(),
        issuer: "usercenter".into(),
        account: "jonathan.q.public@example.test".into(),
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        expires_at: now().wall,
    };
    answer(&mut app, start, Reply::EnrollmentStarted(Ok(enrollment)));
    app
}

/// Where a frame's bytes go: memory, emptied at each flush (the end of a frame), as a terminal reads
/// them.
#[derive(Default)]
struct Screen {
    pending: Vec<u8>,
    last_frame: std::rc::Rc<std::cell::Cell<usize>>,
}

impl std::io::Write for Screen {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // `Terminal::draw` flushes more than once (the frame, then the cursor): keep the frame's size.
        if !self.pending.is_empty() {
            self.last_frame.set(self.pending.len());
            self.pending.clear();
        }
        Ok(())
    }
}

/// A terminal drawing into a [`Screen`]; the cell tells the size of the last frame written.
fn memory_terminal() -> (Terminal<CrosstermBackend<Screen>>, std::rc::Rc<std::cell::Cell<usize>>) {
    let viewport = Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT));
    let screen = Screen::default();
    let last_frame = std::rc::Rc::clone(&screen.last_frame);
    let terminal = Terminal::with_options(CrosstermBackend::new(screen), TerminalOptions { viewport })
        .expect("terminal");
    (terminal, last_frame)
}

fn qr_step(c: &mut Criterion) {
    let mut app = at_scan();
    let mut test_terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    test_terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("drawn");
    let screen = test_terminal.backend().to_string();
    assert!(screen.contains("JBSW Y3DP EHPK 3PXP"), "not at the QR step:\n{screen}");

    c.bench_function("render the QR step at 200x60 (a whole frame into a buffer)", |b| {
        let area = Rect::new(0, 0, WIDTH, HEIGHT);
        let mut buffer = ratatui::buffer::Buffer::empty(area);
        b.iter(|| {
            buffer.reset();
            ratatui::widgets::Widget::render(&app, area, &mut buffer);
        });
    });

    let (mut terminal, last_frame) = memory_terminal();
    terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("drawn");
    key(&mut app, KeyCode::Char('i'));
    terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("drawn");
    eprintln!("an inverting keystroke writes {} bytes", last_frame.get());
    c.bench_function("keystroke on the QR step at 200x60: update + draw + bytes written (i: invert)", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::Char('i'));
            terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("drawn");
        });
    });
    c.bench_function("keystroke on the QR step at 200x60: update + draw, nothing changes (F5)", |b| {
        b.iter(|| {
            key(&mut app, KeyCode::F(5));
            terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("drawn");
        });
    });

    // The floor under any frame at this size: ratatui's own work when nothing is drawn (the diff of
    // every cell against the last frame, the reset of the back buffer), in a terminal as above.
    let (mut blank, _) = memory_terminal();
    blank.draw(|_| {}).expect("drawn");
    c.bench_function("floor at 200x60: Terminal::draw of a blank frame, nothing changes", |b| {
        b.iter(|| {
            blank.draw(|_| {}).expect("drawn");
        });
    });
}

criterion_group!(benches, qr_step);
criterion_main!(benches);
