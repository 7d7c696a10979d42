//! Property tests of the app: random sequences of keys, typing, resizes, ticks and answers (successes,
//! every error, answers lost, answers that arrive after the screen was left) driven through `update`,
//! with the app's promises checked after every step:
//!
//! 1. nothing panics;
//! 2. at most one request of a kind is awaited at a time (Enter twice sends once);
//! 3. backup codes kept nowhere are never left without a question answered;
//! 4. once in the user center, no secret of the sign-in or the wizard (password, TOTP secret, codes)
//!    is held in the app's state or drawn;
//! 5. drawing at any size from 1x1 to 300x100 never panics and never writes outside its area.
//!
//! The seed is fixed, so `cargo test` is repeatable. `USERCENTER_PROPTEST_SEED=random` adds a run with a
//! random seed, printed first; `USERCENTER_PROPTEST_SEED=<64 hex digits>` replays one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::widgets::Widget as _;

use super::msg::{Answer, ApiCall, Effect, Msg, Reply, RequestId, Work};
use crate::client::ClientError;
use crate::domain::secret::shown_in_tests;
use crate::domain::{
    BackupCodesResponse, DisableResponse, ErrorCode, EventsPage, Health, LoginResponse, RevokedSessions,
};
use crate::tui::clipboard::{CopyError, CopyMethod, Osc52Route};
use crate::tui::savefile::SaveError;
use crate::tui::screens::home::HomeScreen;
use crate::tui::testing::*;

/// One step of a run: what happens, and the size the app is drawn at afterwards.
type Step = (Event, (u16, u16));

/// What a person or the world does next.
#[derive(Clone, Debug)]
enum Event {
    Key(KeyEvent),
    Type(&'static str),
    Resize(u16, u16),
    /// The clock moves on this many seconds.
    Tick(u64),
    /// The answer to the `n`-th request still out (modulo how many are), with outcome `outcome`.
    Answer {
        n: usize,
        outcome: u8,
    },
    /// The `n`-th request still out is never answered (a connection lost on the way back).
    Lose(usize),
    Terminate,
}

/// Typed text: a password, a TOTP code, a backup code, a file name.
const TYPED: [&str; 5] = [PASSWORD, TOTP_CODE, "abcde-fghjk", "~/codes.txt", "alice"];
const PASSWORD: &str = "pw-Xq7!secret";
const TOTP_CODE: &str = "864209";

fn key_event() -> impl Strategy<Value = KeyEvent> {
    let plain = prop_oneof![
        Just(KeyCode::Enter),
        Just(KeyCode::Esc),
        Just(KeyCode::Tab),
        Just(KeyCode::BackTab),
        Just(KeyCode::Up),
        Just(KeyCode::Down),
        Just(KeyCode::Left),
        Just(KeyCode::Right),
        Just(KeyCode::PageUp),
        Just(KeyCode::PageDown),
        Just(KeyCode::Home),
        Just(KeyCode::End),
        Just(KeyCode::Backspace),
        Just(KeyCode::Delete),
        Just(KeyCode::F(1)),
        prop::sample::select(b"0123456789abcdegijknoqrsxy? ".to_vec())
            .prop_map(|c| KeyCode::Char(char::from(c))),
    ]
    .prop_map(|code| KeyEvent::new(code, KeyModifiers::NONE));
    let control = prop::sample::select(b"cuwaez".to_vec())
        .prop_map(|c| KeyEvent::new(KeyCode::Char(char::from(c)), KeyModifiers::CONTROL));
    prop_oneof![8 => plain, 1 => control]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        12 => key_event().prop_map(Event::Key),
        3 => prop::sample::select(TYPED.to_vec()).prop_map(Event::Type),
        1 => (1u16..=300, 1u16..=100).prop_map(|(w, h)| Event::Resize(w, h)),
        2 => prop_oneof![Just(1u64), Just(31), Just(900)].prop_map(Event::Tick),
        10 => (any::<usize>(), any::<u8>()).prop_map(|(n, outcome)| Event::Answer { n, outcome }),
        1 => any::<usize>().prop_map(Event::Lose),
        1 => Just(Event::Terminate),
    ]
}

/// A run: where the app starts (sign-in, the user center with 2FA off, the backup codes, the user
/// center with 2 codes left, the second factor), what happens, and the sizes it is drawn at after each
/// step.
fn run() -> impl Strategy<Value = (u8, Vec<Step>)> {
    let step = (event(), (1u16..=300, 1u16..=100));
    (0u8..5, prop::collection::vec(step, 1..48))
}

/// Every error an answer can carry.
fn error(n: u8) -> ClientError {
    let url = format!("{URL}/v1/x");
    let errors = [
        ClientError::InvalidCredentials,
        ClientError::InvalidPassword,
        ClientError::InvalidCode { server_date: None },
        ClientError::CodeAlreadyUsed,
        ClientError::ChallengeExpired,
        ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) },
        ClientError::TooManyRequests { retry_after: Duration::from_secs(2) },
        ClientError::SecondFactorLocked,
        ClientError::ServiceUnavailable { retry_after: Duration::from_secs(5) },
        ClientError::Unauthorized,
        ClientError::TwoFactorSetupRequired,
        ClientError::TwoFactorRequired,
        ClientError::NotFound,
        ClientError::AlreadyEnabled,
        ClientError::NoPendingEnrollment,
        ClientError::NotEnabled,
        ClientError::InvalidRequest { detail: "bad".into() },
        ClientError::Server { status: 500, code: ErrorCode::InternalError, detail: "boom".into() },
        ClientError::Unreachable { url: url.clone(), cause: "connection refused".into() },
        ClientError::Timeout { url: url.clone() },
        ClientError::Protocol { url: url.clone(), detail: "garbage".into() },
        ClientError::NotPlatform { url, answer: "HTTP 200, a web page (HTML)".into() },
    ];
    errors[usize::from(n) % errors.len()].clone()
}

/// The answer to `work`: a success half of the time (of several shapes), else an error.
fn answer_for(work: &Work, outcome: u8) -> Reply {
    let fails = outcome % 2 == 1;
    let pick = outcome / 2;
    match work {
        Work::Api(call) => api_answer(call, fails, pick),
        Work::Copy(_) if fails => Reply::Copied(Err(CopyError::Write("no terminal".into()))),
        Work::Copy(_) if pick.is_multiple_of(2) => Reply::Copied(Ok(CopyMethod::SystemClipboard)),
        Work::Copy(_) => Reply::Copied(Ok(CopyMethod::Osc52(Osc52Route::Terminal))),
        Work::Save(_) if fails && pick.is_multiple_of(2) => {
            Reply::Saved(Err(SaveError::Exists("/home/alice/codes.txt".into())))
        }
        Work::Save(_) if fails => Reply::Saved(Err(SaveError::PermissionDenied("/root/x".into()))),
        Work::Save(_) => Reply::Saved(Ok(PathBuf::from("/home/alice/codes.txt"))),
    }
}

fn api_answer(call: &ApiCall, fails: bool, pick: u8) -> Reply {
    macro_rules! result {
        ($ok:expr) => {
            if fails { Err(error(pick)) } else { Ok($ok) }
        };
    }
    match call {
        ApiCall::CheckHealth => Reply::Health(result!(Health { status: "ok".into() })),
        ApiCall::Login { .. } => Reply::Login(result!(match pick % 3 {
            0 => LoginResponse::Authenticated(session(None)),
            1 => LoginResponse::SecondFactorRequired(challenge()),
            _ => LoginResponse::TwoFactorSetupRequired(session(None)),
        })),
        ApiCall::SecondFactor { .. } => {
            Reply::SecondFactor(result!(session(if pick.is_multiple_of(2) { None } else { Some(2) })))
        }
        ApiCall::LoadMe { .. } => Reply::Me(result!(match pick % 4 {
            0 => me(false, 0),
            1 => me(true, 10),
            2 => me(true, 1),
            _ => me_required(),
        })),
        ApiCall::Logout { .. } => Reply::Logout(result!(())),
        ApiCall::StartEnrollment { .. } => Reply::EnrollmentStarted(result!(enrollment())),
        ApiCall::ConfirmEnrollment { .. } => Reply::Confirmed(result!(confirmed())),
        ApiCall::CancelEnrollment { .. } => Reply::EnrollmentCancelled(result!(())),
        ApiCall::RegenerateCodes { .. } => {
            Reply::Regenerated(result!(BackupCodesResponse { backup_codes: backup_codes() }))
        }
        ApiCall::Disable { .. } => Reply::Disabled(result!(DisableResponse { enabled: false })),
        ApiCall::LoadEvents { .. } => Reply::Events(result!(if pick.is_multiple_of(2) {
            quiet_history()
        } else {
            EventsPage { events: vec![signed_in_event(9, 60 * 48)], next_before: Some(9) }
        })),
        ApiCall::LoadSessions { .. } => Reply::Sessions(result!(three_sessions())),
        ApiCall::RevokeSession { .. } => Reply::SessionRevoked(result!(())),
        ApiCall::RevokeOtherSessions { .. } => Reply::OthersRevoked(result!(RevokedSessions { revoked: 2 })),
    }
}

/// The secrets the app was given or had typed into it: none may stay once the user center shows.
fn secrets() -> Vec<String> {
    let mut secrets = vec![PASSWORD.to_owned(), SECRET.to_owned()];
    secrets.extend(backup_codes().iter().map(|code| code.expose().to_owned()));
    secrets
}

/// The manual key as the scan step draws it: in groups of four.
fn secret_as_drawn() -> String {
    SECRET
        .as_bytes()
        .chunks(4)
        .take(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One run, checking the promises after every step. `Err` says which broke, and where.
fn check(start: u8, steps: &[Step]) -> Result<(), String> {
    let mut app = match start {
        0 => app(),
        1 => signed_in(me(false, 0)),
        2 => at_codes(),
        3 => signed_in(me(true, 2)),
        _ => {
            let mut app = app();
            submit_login(&mut app, "alice", PASSWORD);
            reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
            app
        }
    };
    // Requests still out, oldest first; requests answered stay out of it (their ids are spent).
    let mut out: Vec<(RequestId, Work)> = Vec::new();
    let mut clock = 0u64;
    for (index, (event, (width, height))) in steps.iter().enumerate() {
        let kept_before = !app.would_lose_work();
        let broken = |what: &str| format!("step {index} ({event:?}): {what}");
        let effects: Vec<Effect> = match event {
            Event::Key(key) => app.update(Msg::Key(*key)).into_iter().collect(),
            Event::Type(text) => {
                text.chars().filter_map(|c| app.update(Msg::Key(key(KeyCode::Char(c))))).collect()
            }
            Event::Resize(w, h) => app.update(Msg::Resize(*w, *h)).into_iter().collect(),
            Event::Tick(seconds) => {
                clock += seconds;
                app.update(Msg::Tick(at(clock))).into_iter().collect()
            }
            Event::Answer { n, outcome } if !out.is_empty() => {
                let (id, work) = out.remove(n % out.len());
                let reply = answer_for(&work, *outcome);
                app.update(Msg::Reply(Answer { id, now: at(clock), reply })).into_iter().collect()
            }
            Event::Lose(n) if !out.is_empty() => {
                out.remove(n % out.len());
                Vec::new()
            }
            Event::Answer { .. } | Event::Lose(_) => Vec::new(),
            Event::Terminate => app.update(Msg::Terminate).into_iter().collect(),
        };
        let mut quit = false;
        for effect in effects {
            match effect {
                Effect::Run(id, work) => out.push((id, work)),
                Effect::Quit(_) => quit = true,
                Effect::Suspend | Effect::RememberUsername(_) => {}
            }
        }

        // 2. One request of a kind awaited at a time.
        let mut awaited: HashMap<&str, usize> = HashMap::new();
        for (id, work) in &out {
            if app.account.awaits(*id) {
                *awaited.entry(work.name()).or_default() += 1;
            }
        }
        if let Some((kind, count)) = awaited.iter().find(|(_, count)| **count > 1) {
            return Err(broken(&format!("{count} {kind} requests awaited at once")));
        }

        // 3. Codes kept nowhere are left only by answering a question (y, a second Ctrl-C), by a
        //    signal, or by keeping them (a save, a copy read back).
        let kept_after = !app.would_lose_work();
        if !kept_before && kept_after && !quit {
            let answered = match event {
                Event::Key(k) => {
                    matches!(k.code, KeyCode::Char('y'))
                        || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
                }
                Event::Answer { .. } => true,
                _ => false,
            };
            if !answered {
                return Err(broken(&format!(
                    "backup codes were dropped without a question:\n{}",
                    screen_text(&app)
                )));
            }
        }
        if quit {
            return Ok(());
        }

        // 4. In the user center, nothing of the sign-in or the wizard is held or drawn.
        if app.screen::<HomeScreen>().is_some() {
            let state = shown_in_tests::while_shown(|| format!("{app:?}"));
            let drawn = screen_text(&app);
            for secret in secrets() {
                if state.contains(&secret) {
                    return Err(broken(&format!("{secret:?} is still held in the user center")));
                }
                if drawn.contains(&secret) {
                    return Err(broken(&format!("{secret:?} is drawn in the user center:\n{drawn}")));
                }
            }
            for drawn_secret in [secret_as_drawn(), TOTP_CODE.to_owned()] {
                if drawn.contains(&drawn_secret) {
                    return Err(broken(&format!("{drawn_secret:?} is drawn in the user center:\n{drawn}")));
                }
            }
        }

        // 5. Drawn at any size, inside its area only.
        let area = Rect::new(1, 1, *width, *height);
        let mut buf = Buffer::filled(Rect::new(0, 0, width + 2, height + 2), Cell::new("¤"));
        (&app).render(area, &mut buf);
        for y in 0..height + 2 {
            for x in 0..width + 2 {
                let inside = (1..=*width).contains(&x) && (1..=*height).contains(&y);
                if !inside && buf[(x, y)].symbol() != "¤" {
                    return Err(broken(&format!("drawn outside its {width}x{height} area at ({x},{y})")));
                }
            }
        }
    }
    Ok(())
}

/// The seed of the run: fixed, or from USERCENTER_PROPTEST_SEED (`random`, or 64 hex digits).
fn seeds() -> Vec<(String, [u8; 32])> {
    let fixed = [7u8; 32];
    let mut seeds = vec![("fixed".to_owned(), fixed)];
    match std::env::var("USERCENTER_PROPTEST_SEED").as_deref() {
        Ok("random") => {
            let seed: [u8; 32] = rand::random();
            seeds.push((hex(&seed), seed));
        }
        Ok(given) if given.len() == 64 => {
            let bytes: Option<Vec<u8>> =
                (0..32).map(|i| u8::from_str_radix(&given[2 * i..2 * i + 2], 16).ok()).collect();
            if let Some(seed) = bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                seeds = vec![(given.to_owned(), seed)];
            }
        }
        _ => {}
    }
    seeds
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_app_keeps_its_promises_whatever_happens() {
    for (name, seed) in seeds() {
        eprintln!("app property test: seed {name} (replay with USERCENTER_PROPTEST_SEED={})", hex(&seed));
        let config = Config {
            cases: std::env::var("USERCENTER_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let result = runner.run(&run(), |(start, steps)| check(start, &steps).map_err(TestCaseError::fail));
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, (start, steps))) => {
                panic!("seed {name}: {why}\nstart {start}, steps {steps:#?}")
            }
            Err(TestError::Abort(why)) => panic!("seed {name}: aborted: {why}"),
        }
    }
}
