use std::time::Duration;

use crossterm::event::KeyCode;

use super::msg::{Answer, ApiCall, Cleanup, Effect, Msg, Reply, SaveRequest, Work};
use super::*;
use crate::client::ClientError;
use crate::domain::{
    BackupCodesResponse, DisableResponse, EventsQuery, Health, LoginResponse, Me, SecondFactorInput,
};
use crate::tui::clipboard::{CopyMethod, Osc52Route};
use crate::tui::savefile::SaveError;
use crate::tui::screens::connect::{ConnectScreen, ConnectState};
use crate::tui::screens::enable::{EnableWizard, Step};
use crate::tui::screens::home::HomeScreen;
use crate::tui::screens::login::LoginScreen;
use crate::tui::screens::regenerate::{RegenReason, RegenerateScreen};
use crate::tui::screens::second_factor::SecondFactorScreen;
use crate::tui::testing::*;

fn transport_error() -> ClientError {
    ClientError::Unreachable { url: format!("{URL}/v1/x"), cause: "connection refused".into() }
}

#[test]
fn unreachable_at_start_then_retry() {
    let mut app = App::new(URL, None);
    assert_eq!(api(app.start()), Some(ApiCall::CheckHealth));
    assert_eq!(app.tick_interval(), Some(SPINNER_TICK));
    reply(&mut app, Reply::Health(Err(transport_error())));
    assert!(app.screen::<ConnectScreen>().is_some_and(|c| matches!(c.0.state, ConnectState::Failed(_))));
    assert_eq!(app.tick_interval(), None, "idle means asleep");
    assert_eq!(api(press(&mut app, KeyCode::Char('r'))), Some(ApiCall::CheckHealth));
    assert_eq!(press(&mut app, KeyCode::Char('r')), None, "one check at a time");
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    assert!(app.screen::<LoginScreen>().is_some());
}

#[test]
fn login_without_2fa_sends_once_and_opens_the_user_center() {
    let mut app = app();
    let effect = submit_login(&mut app, "alice", "secret pw");
    assert_eq!(api(effect), Some(ApiCall::Login { username: "alice".into(), password: "secret pw".into() }));
    assert_eq!(press(&mut app, KeyCode::Enter), None, "Enter twice sends once");
    assert_eq!(app.tick_interval(), Some(SPINNER_TICK));
    let effect = reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    let effect = reply(&mut app, Reply::Me(Ok(me(false, 0))));
    let query = EventsQuery { limit: Some(100), before: None };
    assert_eq!(
        api(effect),
        Some(ApiCall::LoadEvents { token: "token-1".into(), query }),
        "what happened since"
    );
    assert_eq!(app.tick_interval(), Some(SPINNER_TICK), "still signing in");
    reply(&mut app, Reply::Events(Ok(quiet_history())));
    assert!(app.screen::<HomeScreen>().is_some());
    assert!(screen_text(&app).contains("Enable two-factor authentication"));
    assert_eq!(app.tick_interval(), None);
}

#[test]
fn wrong_credentials_keep_the_username_and_clear_the_password() {
    let mut app = app();
    submit_login(&mut app, "alice", "wrong");
    reply(&mut app, Reply::Login(Err(ClientError::InvalidCredentials)));
    let s = app.screen::<LoginScreen>().expect("not on sign-in");
    assert_eq!(s.username.text(), "alice");
    assert!(s.password.is_empty());
    assert!(screen_text(&app).contains("Wrong username or password."));
}

#[test]
fn throttled_login_counts_down_from_retry_after() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Err(ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) })));
    assert!(screen_text(&app).contains("Too many attempts. Try again in 30 s."));
    assert_eq!(app.tick_interval(), Some(COUNTDOWN_TICK));
    assert_eq!(press(&mut app, KeyCode::Enter), None, "no attempt while throttled");
    app.update(Msg::Tick(after(Duration::from_millis(1500))));
    assert!(screen_text(&app).contains("Try again in 29 s."));
    app.update(Msg::Tick(after(Duration::from_secs(30))));
    assert!(!screen_text(&app).contains("Too many attempts"));
    assert_eq!(app.tick_interval(), None);
    assert!(matches!(api(press(&mut app, KeyCode::Enter)), Some(ApiCall::Login { .. })));
}

#[test]
fn transport_error_at_login_shows_the_unreachable_dialog_and_keeps_fields() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Err(transport_error())));
    assert!(matches!(app.overlay, Some(Overlay::Unreachable(_))));
    assert_eq!(api(press(&mut app, KeyCode::Char('r'))), Some(ApiCall::CheckHealth));
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    assert!(app.overlay.is_none());
    let s = app.screen::<LoginScreen>().expect("not on sign-in");
    assert_eq!(s.password.text(), "pw");
    assert!(matches!(api(press(&mut app, KeyCode::Enter)), Some(ApiCall::Login { .. })));
}

#[test]
fn login_with_a_backup_code_reports_codes_left() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
    assert!(app.screen::<SecondFactorScreen>().is_some());
    type_text(&mut app, "ABCDE-FGHJK");
    let effect = press(&mut app, KeyCode::Enter);
    let Some(ApiCall::SecondFactor { challenge, input }) = api(effect) else { panic!("not sent") };
    assert_eq!(challenge.expose(), "challenge-1");
    assert!(matches!(input, SecondFactorInput::Backup(_)));
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    let effect = reply(&mut app, Reply::SecondFactor(Ok(session(Some(2)))));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    reply(&mut app, Reply::Me(Ok(me(true, 2))));
    reply(&mut app, Reply::Events(Ok(quiet_history())));
    let text = screen_text(&app);
    assert!(text.contains("You signed in with a backup code: only 2 backup codes"), "{text}");
    assert!(text.contains("Press g to generate new ones"), "{text}");
    assert_eq!(api(press(&mut app, KeyCode::Char('g'))), None, "g offered, and it works");
    assert!(app.screen::<RegenerateScreen>().is_some());
}

#[test]
fn totp_code_at_sign_in_and_expired_challenge() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Ok(LoginResponse::SecondFactorRequired(challenge()))));
    type_text(&mut app, "123456");
    let effect = press(&mut app, KeyCode::Enter);
    assert!(matches!(api(effect), Some(ApiCall::SecondFactor { input: SecondFactorInput::Totp(_), .. })));
    reply(&mut app, Reply::SecondFactor(Err(ClientError::ChallengeExpired)));
    let s = app.screen::<LoginScreen>().expect("not back on sign-in");
    assert_eq!(s.username.text(), "alice");
    assert!(screen_text(&app).contains("The sign-in took too long"));
}

#[test]
fn enable_wizard_end_to_end() {
    let mut app = signed_in(me(false, 0));
    assert_eq!(press(&mut app, KeyCode::Enter), None, "into the actions");
    assert_eq!(press(&mut app, KeyCode::Enter), None, "Enable two-factor authentication");
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Password(_))));
    type_text(&mut app, "pw");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        api(effect),
        Some(ApiCall::StartEnrollment { token: "token-1".into(), password: "pw".into() })
    );
    assert_eq!(press(&mut app, KeyCode::Enter), None, "Enter twice sends once");
    reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Scan(_))));
    press(&mut app, KeyCode::Char('i'));
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(&w.step, Step::Scan(s) if s.inverted)));
    press(&mut app, KeyCode::Enter);
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Verify(_))));
    let effects = type_text(&mut app, "12a3456");
    assert_eq!(effects.len(), 1, "sent once, at the sixth digit");
    assert!(
        matches!(&effects[0], Effect::Run(_, Work::Api(ApiCall::ConfirmEnrollment { code, .. })) if code.expose() == "123456")
    );
    assert!(type_text(&mut app, "7").is_empty());
    reply(&mut app, Reply::Confirmed(Ok(confirmed())));
    assert!(app.would_lose_work());
    assert_eq!(work(press(&mut app, KeyCode::Char('c'))), Some(Work::Copy(backup_codes_text().into())));
    reply(&mut app, Reply::Copied(Ok(CopyMethod::SystemClipboard)));
    assert!(!app.would_lose_work());
    assert!(screen_text(&app).contains("Copied to the clipboard (read back to check)."));
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    assert!(app.screen::<HomeScreen>().is_some());
    reply(&mut app, Reply::Me(Ok(me(true, 10))));
    assert!(screen_text(&app).contains("Two-factor authentication is on"));
}

fn backup_codes_text() -> String {
    backup_codes().iter().map(|c| c.expose().to_owned()).collect::<Vec<_>>().join("\n")
}

#[test]
fn esc_asks_then_leaves_the_wizard_and_cancels_the_enrollment() {
    let mut app = at_scan();
    assert_eq!(press(&mut app, KeyCode::Esc), None, "asks first");
    assert!(screen_text(&app).contains("You may have scanned this code already: cancel the setup? y/n"));
    insta::assert_snapshot!("scan_esc_asks_before_cancelling", render(&app, 80, 24).backend());
    assert_eq!(press(&mut app, KeyCode::Esc), None, "Esc again keeps going");
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Scan(_))));
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        api(press(&mut app, KeyCode::Char('y'))),
        Some(ApiCall::CancelEnrollment { token: "token-1".into() })
    );
    assert!(app.screen::<HomeScreen>().is_some());
    let mut app = at_verify();
    type_text(&mut app, "12");
    assert_eq!(press(&mut app, KeyCode::Esc), None, "asks first");
    insta::assert_snapshot!("verify_esc_asks_before_cancelling", render(&app, 80, 24).backend());
    assert_eq!(press(&mut app, KeyCode::Char('n')), None);
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Verify(_))));
    press(&mut app, KeyCode::Esc);
    assert_eq!(
        api(press(&mut app, KeyCode::Char('y'))),
        Some(ApiCall::CancelEnrollment { token: "token-1".into() })
    );
    let mut app = signed_in(me(false, 0));
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(press(&mut app, KeyCode::Esc), None, "nothing pending yet");
}

#[test]
fn esc_is_ignored_while_the_code_is_checked() {
    let mut app = at_verify();
    type_text(&mut app, "123456");
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert!(app.screen::<EnableWizard>().is_some_and(|w| matches!(w.step, Step::Verify(_))));
}

#[test]
fn an_enrollment_that_arrives_after_leaving_is_cancelled() {
    let mut app = signed_in(me(false, 0));
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "pw");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        api(press(&mut app, KeyCode::Esc)),
        Some(ApiCall::CancelEnrollment { token: "token-1".into() })
    );
    let effect = reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
    assert_eq!(api(effect), Some(ApiCall::CancelEnrollment { token: "token-1".into() }));
}

#[test]
fn invalid_code_clears_the_field_and_mentions_the_clocks() {
    let mut app = at_verify();
    type_text(&mut app, "123456");
    let server_date = Some(WALL - Duration::from_secs(40));
    reply_at(&mut app, at(0), Reply::Confirmed(Err(ClientError::InvalidCode { server_date })));
    let Some(EnableWizard { step: Step::Verify(v), .. }) = app.screen::<EnableWizard>() else { panic!() };
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
    app.update(Msg::Tick(after(Duration::from_secs(60))));
    assert_eq!(type_text(&mut app, "123456").len(), 1);
}

#[test]
fn lost_confirm_answer_with_2fa_on_leads_to_new_codes() {
    let mut app = at_verify();
    type_text(&mut app, "123456");
    let effect = reply(&mut app, Reply::Confirmed(Err(transport_error())));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }), "asks the server first");
    assert!(app.overlay.is_none());
    assert_eq!(press(&mut app, KeyCode::Esc), None, "cannot leave while asking");
    reply(&mut app, Reply::Me(Ok(me(true, 10))));
    assert!(app.screen::<RegenerateScreen>().is_some_and(|r| r.reason == RegenReason::CodesNeverArrived));
    assert!(screen_text(&app).contains("never"), "{}", screen_text(&app));
    type_text(&mut app, "pw");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        api(effect),
        Some(ApiCall::RegenerateCodes { token: "token-1".into(), password: "pw".into() })
    );
    reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
    assert!(app.would_lose_work());
}

#[test]
fn lost_confirm_answer_with_2fa_off_goes_back_to_verify() {
    let mut app = at_verify();
    type_text(&mut app, "123456");
    reply(&mut app, Reply::Confirmed(Err(transport_error())));
    reply(&mut app, Reply::Me(Ok(me(false, 0))));
    let Some(EnableWizard { step: Step::Verify(v), .. }) = app.screen::<EnableWizard>() else { panic!() };
    assert!(!v.is_checking());
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
    assert_eq!(api(press(&mut app, KeyCode::Char('r'))), Some(ApiCall::LoadMe { token: "token-1".into() }));
}

#[test]
fn ctrl_c_asks_first_when_codes_are_unsaved() {
    let mut app = at_codes();
    assert_eq!(ctrl_c(&mut app), None);
    assert!(matches!(app.overlay, Some(Overlay::QuitConfirm(_))));
    assert!(screen_text(&app).contains("Quit anyway?"));
    assert_eq!(press(&mut app, KeyCode::Char('n')), None);
    assert!(app.overlay.is_none());
    ctrl_c(&mut app);
    let effect = ctrl_c(&mut app);
    assert_eq!(
        effect,
        Some(Effect::Quit(Cleanup { token: Some("token-1".into()), cancel_enrollment: false }))
    );
    let mut app = signed_in(me(false, 0));
    assert!(matches!(ctrl_c(&mut app), Some(Effect::Quit(_))), "nothing to lose: quits at once");
    let mut app = at_scan();
    let effect = ctrl_c(&mut app);
    assert_eq!(
        effect,
        Some(Effect::Quit(Cleanup { token: Some("token-1".into()), cancel_enrollment: true }))
    );
}

#[test]
fn a_signal_quits_at_once_and_cleans_up() {
    let mut app = at_scan();
    let effect = app.update(Msg::Terminate);
    assert_eq!(
        effect,
        Some(Effect::Quit(Cleanup { token: Some("token-1".into()), cancel_enrollment: true }))
    );
    let mut app = at_codes();
    assert!(matches!(app.update(Msg::Terminate), Some(Effect::Quit(_))), "nobody left to ask");
}

#[test]
fn leaving_unsaved_codes_asks() {
    let mut app = at_codes();
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    assert!(screen_text(&app).contains("Leave anyway?"));
    press(&mut app, KeyCode::Char('n'));
    assert!(app.would_lose_work());
    press(&mut app, KeyCode::Esc);
    let effect = press(&mut app, KeyCode::Char('y'));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    assert!(app.screen::<HomeScreen>().is_some());
}

#[test]
fn save_asks_before_replacing_and_shows_errors() {
    let mut app = at_codes();
    press(&mut app, KeyCode::Char('s'));
    let effect = press(&mut app, KeyCode::Enter);
    let Some(Work::Save(SaveRequest { path_input, contents, overwrite: false })) = work(effect) else {
        panic!("not a save")
    };
    assert_eq!(path_input, crate::tui::savefile::default_path("usercenter"));
    assert!(contents.expose().contains("abcde-fghjk"));
    assert_eq!(press(&mut app, KeyCode::Enter), None, "one save at a time");
    reply(&mut app, Reply::Saved(Err(SaveError::Exists("/home/alice/usercenter-backup-codes.txt".into()))));
    assert!(screen_text(&app).contains("Replace it? y/n"));
    let effect = press(&mut app, KeyCode::Char('y'));
    assert!(matches!(work(effect), Some(Work::Save(SaveRequest { overwrite: true, .. }))));
    reply(&mut app, Reply::Saved(Err(SaveError::PermissionDenied("/home/alice/x".into()))));
    let text = screen_text(&app);
    assert!(text.contains("Not saved: Permission denied"), "{text}");
    assert!(text.contains("abcde-fghjk"), "the codes stay on screen");
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Saved(Ok("/home/alice/usercenter-backup-codes.txt".into())));
    assert!(screen_text(&app).contains("saved to /home/alice/usercenter-backup-codes.txt"));
    assert!(!app.would_lose_work());
}

#[test]
fn regenerate_flow() {
    let mut app = signed_in(me(true, 3));
    assert!(screen_text(&app).contains("Only 3 backup codes left"));
    press(&mut app, KeyCode::Char('g'));
    assert!(screen_text(&app).contains("stop working"));
    type_text(&mut app, "pw");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        api(effect),
        Some(ApiCall::RegenerateCodes { token: "token-1".into(), password: "pw".into() })
    );
    assert_eq!(press(&mut app, KeyCode::Esc), None, "cannot lose the new codes by leaving");
    reply(&mut app, Reply::Regenerated(Err(ClientError::InvalidPassword)));
    assert!(screen_text(&app).contains("Wrong password."));
    type_text(&mut app, "pw");
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
    assert!(screen_text(&app).contains("New backup codes"));
    assert!(matches!(work(press(&mut app, KeyCode::Char('c'))), Some(Work::Copy(_))));
    reply(&mut app, Reply::Copied(Ok(CopyMethod::Osc52(Osc52Route::Terminal))));
    assert!(screen_text(&app).contains("not confirmed"));
    press(&mut app, KeyCode::Char('y'));
    assert!(matches!(api(press(&mut app, KeyCode::Enter)), Some(ApiCall::LoadMe { .. })));
}

#[test]
fn disable_asks_for_confirmation() {
    let mut app = signed_in(me(true, 10));
    press(&mut app, KeyCode::Char('d'));
    type_text(&mut app, "pw");
    assert_eq!(press(&mut app, KeyCode::Enter), None, "asks first");
    assert!(screen_text(&app).contains("Turn off two-factor authentication for this account?"));
    assert_eq!(press(&mut app, KeyCode::Char('n')), None);
    type_text(&mut app, "pw");
    press(&mut app, KeyCode::Enter);
    let effect = press(&mut app, KeyCode::Char('y'));
    assert_eq!(api(effect), Some(ApiCall::Disable { token: "token-1".into(), password: "pw".into() }));
    let effect = reply(&mut app, Reply::Disabled(Ok(DisableResponse { enabled: false })));
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
    assert!(screen_text(&app).contains("Two-factor authentication is off."));
}

#[test]
fn logout_returns_to_sign_in() {
    let mut app = signed_in(me(false, 0));
    go_to(&mut app, "Log out");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(api(effect), Some(ApiCall::Logout { token: "token-1".into() }));
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    reply(&mut app, Reply::Logout(Ok(())));
    let s = app.screen::<LoginScreen>().expect("not on sign-in");
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
    assert!(app.screen::<LoginScreen>().is_some());
    assert!(!app.is_signed_in());
    assert!(screen_text(&app).contains("Your session has ended. Sign in again."));
}

#[test]
fn help_opens_with_question_mark_only_outside_text_fields() {
    let mut app = app();
    press(&mut app, KeyCode::Char('?'));
    assert!(app.overlay.is_none(), "typed into the username");
    press(&mut app, KeyCode::F(1));
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
    press(&mut app, KeyCode::Char('x'));
    assert!(app.overlay.is_none());
    let mut app = signed_in(me(false, 0));
    press(&mut app, KeyCode::Char('?'));
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
}

#[test]
fn key_releases_are_ignored() {
    let mut app = app();
    let mut release = key(KeyCode::Char('a'));
    release.kind = crossterm::event::KeyEventKind::Release;
    app.update(Msg::Key(release));
    let s = app.screen::<LoginScreen>().expect("not on sign-in");
    assert!(s.username.is_empty());
}

#[test]
fn stale_answers_are_ignored() {
    let mut app = signed_in(me(false, 0));
    assert_eq!(reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None))))), None);
    assert_eq!(reply(&mut app, Reply::Confirmed(Ok(confirmed()))), None);
    assert!(app.screen::<HomeScreen>().is_some());
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
    let mut activity = signed_in(me(true, 1));
    go_to(&mut activity, "Activity");
    reply(&mut activity, Reply::Events(Ok(quiet_history())));
    press(&mut activity, KeyCode::Enter);
    let mut sessions = signed_in(me(true, 1));
    go_to(&mut sessions, "Sessions");
    reply(&mut sessions, Reply::Sessions(Ok(three_sessions())));
    press(&mut sessions, KeyCode::Enter);
    press(&mut sessions, KeyCode::Char('o'));
    let mut leaving_the_required_setup = required_setup();
    press(&mut leaving_the_required_setup, KeyCode::Esc);
    let apps = [
        activity,
        sessions,
        required_setup(),
        leaving_the_required_setup,
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

#[test]
fn an_answer_is_taken_by_its_id_not_by_its_kind() {
    let mut app = app();
    let health_check = app.last_request();
    submit_login(&mut app, "alice", "pw");
    let accepted = || Reply::Login(Ok(LoginResponse::Authenticated(session(None))));
    let stale = Msg::Reply(Answer { id: health_check, now: at(0), reply: accepted() });
    assert_eq!(app.update(stale), None, "not the answer the form waits for");
    assert_eq!(app.tick_interval(), Some(SPINNER_TICK), "still waiting");
    let effect = reply(&mut app, accepted());
    assert_eq!(api(effect), Some(ApiCall::LoadMe { token: "token-1".into() }));
}

#[test]
fn quitting_while_the_account_loads_ends_the_new_session() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    let effect = ctrl_c(&mut app);
    assert_eq!(
        effect,
        Some(Effect::Quit(Cleanup { token: Some("token-1".into()), cancel_enrollment: false }))
    );
}

#[test]
fn a_failed_refresh_says_so_on_the_user_center() {
    let mut app = at_codes();
    press(&mut app, KeyCode::Char('c'));
    reply(&mut app, Reply::Copied(Ok(CopyMethod::SystemClipboard)));
    assert_eq!(api(press(&mut app, KeyCode::Enter)), Some(ApiCall::LoadMe { token: "token-1".into() }));
    reply(&mut app, Reply::Me(Err(transport_error())));
    assert!(screen_text(&app).contains("Could not refresh your account"));
    assert!(matches!(app.overlay, Some(Overlay::Unreachable(_))));
}

/// Found: "Not replaced. Choose another name." stayed on the codes step after Esc closed the prompt.
#[test]
fn the_save_prompts_notice_goes_with_the_prompt() {
    let mut app = at_codes();
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Saved(Err(SaveError::Exists("/home/alice/x.txt".into()))));
    press(&mut app, KeyCode::Char('n'));
    assert!(screen_text(&app).contains("Not replaced"));
    press(&mut app, KeyCode::Esc);
    let text = screen_text(&app);
    assert!(!text.contains("Not replaced"), "{text}");
    insta::assert_snapshot!("codes_after_esc_from_the_save_prompt", render(&app, 80, 24).backend());
}

/// Found: "Cannot reach … connection refused" stayed on the sign-in form after a successful retry.
#[test]
fn a_successful_retry_clears_the_connection_error() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Err(transport_error())));
    assert!(matches!(app.overlay, Some(Overlay::Unreachable(_))));
    let effect = press(&mut app, KeyCode::Char('r'));
    assert_eq!(api(effect), Some(ApiCall::CheckHealth));
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    assert!(app.overlay.is_none());
    let text = screen_text(&app);
    assert_eq!(text.matches("Cannot reach").count(), 0, "{text}");
    insta::assert_snapshot!("sign_in_after_a_successful_retry", render(&app, 80, 24).backend());
}

/// Found: "New backup codes are active" followed the person to the Log out page.
#[test]
fn a_notice_stays_on_its_page() {
    let mut app = signed_in(me(true, 3));
    press(&mut app, KeyCode::Char('g'));
    type_text(&mut app, "pw");
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Regenerated(Ok(BackupCodesResponse { backup_codes: backup_codes() })));
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Saved(Ok("/home/alice/codes.txt".into())));
    press(&mut app, KeyCode::Esc);
    assert!(screen_text(&app).contains("New backup codes are active"));
    go_to(&mut app, "Log out");
    let text = screen_text(&app);
    assert!(text.contains("Press Enter to log out.") && !text.contains("New backup codes"), "{text}");
    insta::assert_snapshot!("log_out_without_the_notice_of_another_page", render(&app, 80, 24).backend());
}

#[test]
fn quitting_after_cannot_reach_is_a_failure_and_a_normal_quit_is_not() {
    let mut app = App::new(URL, None);
    reply(&mut app, Reply::Health(Err(transport_error())));
    assert!(matches!(press(&mut app, KeyCode::Char('q')), Some(Effect::Quit(_))));
    let reason = app.exit_failure().expect("a failure");
    assert!(reason.contains("Cannot reach"), "{reason}");
    let mut app = crate::tui::testing::app();
    assert!(matches!(press(&mut app, KeyCode::Esc), Some(Effect::Quit(_))));
    assert_eq!(app.exit_failure(), None);
}

#[test]
fn the_remembered_username_is_offered_and_a_sign_in_remembers_it() {
    let mut app = App::new(URL, None).remembering(Some("carol".into()));
    reply(&mut app, Reply::Health(Ok(Health { status: "ok".into() })));
    let login = app.screen::<LoginScreen>().expect("sign-in");
    assert_eq!(login.username.text(), "carol");
    type_text(&mut app, "pw");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(api(effect), Some(ApiCall::Login { username: "carol".into(), password: "pw".into() }));
    reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    reply(&mut app, Reply::Me(Ok(Me { username: "carol".into(), ..me(false, 0) })));
    let effect = reply(&mut app, Reply::Events(Ok(quiet_history())));
    assert_eq!(effect, Some(Effect::RememberUsername("carol".into())), "the name, never the password");
}

#[test]
fn the_demo_remembers_nothing() {
    let mut app = demo_app();
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    reply(&mut app, Reply::Me(Ok(me(false, 0))));
    assert_eq!(reply(&mut app, Reply::Events(Ok(quiet_history()))), None);
}

#[test]
fn q_quits_outside_text_fields_and_asks_where_work_would_be_lost() {
    let mut app = signed_in(me(false, 0));
    assert!(matches!(press(&mut app, KeyCode::Char('q')), Some(Effect::Quit(_))));
    let mut app = at_scan();
    assert_eq!(press(&mut app, KeyCode::Char('q')), None, "a setup in progress: asks");
    assert!(matches!(app.overlay, Some(Overlay::QuitConfirm(_))));
    insta::assert_snapshot!("q_on_the_qr_code_asks", render(&app, 80, 24).backend());
    let mut app = at_codes();
    assert_eq!(press(&mut app, KeyCode::Char('q')), None, "unsaved codes: asks");
    assert!(screen_text(&app).contains("Quit anyway?"));
    assert!(matches!(press(&mut app, KeyCode::Char('y')), Some(Effect::Quit(_))));
    let mut app = crate::tui::testing::app();
    assert_eq!(press(&mut app, KeyCode::Char('q')), None, "typed into the username");
    assert_eq!(app.screen::<LoginScreen>().map(|l| l.username.text().to_owned()).as_deref(), Some("q"));
}

#[test]
fn ctrl_z_suspends_from_anywhere() {
    use crossterm::event::{KeyEvent, KeyModifiers};
    let ctrl_z = || Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
    let mut app = app();
    assert_eq!(app.update(ctrl_z()), Some(Effect::Suspend));
    let mut app = at_codes();
    assert_eq!(app.update(ctrl_z()), Some(Effect::Suspend));
    assert!(app.screen::<EnableWizard>().is_some(), "the codes stay");
}

#[test]
fn j_and_k_move_where_the_arrows_move() {
    let mut app = signed_in(me(true, 10));
    press(&mut app, KeyCode::Char('j'));
    assert!(screen_text(&app).contains("┌ Activity"));
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(press(&mut app, KeyCode::Enter).map(|_| ()), None);
    assert!(app.screen::<crate::tui::screens::disable::DisableScreen>().is_some(), "j chose Disable");
    let mut app = at_codes();
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Char('k'));
    assert!(matches!(work(press(&mut app, KeyCode::Enter)), Some(Work::Copy(_))), "k moved to Copy");
}

/// Found: a long username was drawn over the server's address in the header.
#[test]
fn a_long_username_does_not_overwrite_the_header() {
    let name = "alexandra.konstantinopoulou.vandenberg@research-labs.example.org";
    let app = signed_in(Me { username: name.into(), ..me(false, 0) });
    let terminal = render(&app, 80, 24);
    let header = terminal.backend().to_string().lines().next().unwrap_or_default().to_owned();
    assert!(header.contains("usercenter · http://127.0.0.1"), "{header}");
    assert!(header.contains("alexandra.konstantinopoulou") && header.contains('…'), "{header}");
    insta::assert_snapshot!("a_long_username_in_the_header", terminal.backend());
}

/// In the demo, signed in and at the QR code step.
fn demo_at_scan() -> App {
    let mut app = demo_app();
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::Login(Ok(LoginResponse::Authenticated(session(None)))));
    reply(&mut app, Reply::Me(Ok(Me { username: "demo".into(), ..me(false, 0) })));
    reply(&mut app, Reply::Events(Ok(quiet_history())));
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "demo-password");
    press(&mut app, KeyCode::Enter);
    reply(&mut app, Reply::EnrollmentStarted(Ok(enrollment())));
    app
}

#[test]
fn the_demo_has_a_stand_in_phone_the_normal_app_does_not() {
    use crate::tui::demo_phone::DemoPhone;
    let phone = DemoPhone::scan(&otpauth_uri().into()).expect("a readable URI");
    let mut app = demo_at_scan();
    let code = phone.code_at(WALL);
    let text = screen_text(&app);
    assert!(text.contains(&format!("stand-in phone: {} ({} s)", code.code, code.seconds_left)), "{text}");
    insta::assert_snapshot!("demo_scan_with_the_stand_in_phone", render(&app, 80, 24).backend());
    assert_eq!(app.tick_interval(), Some(COUNTDOWN_TICK), "the countdown moves while idle");
    app.update(Msg::Tick(after(Duration::from_secs(31))));
    let later = phone.code_at(WALL + Duration::from_secs(31));
    press(&mut app, KeyCode::Enter);
    let text = screen_text(&app);
    assert!(text.contains(&later.label()), "the verify step shows the current code:\n{text}");
    insta::assert_snapshot!("demo_verify_with_the_stand_in_phone", render(&app, 80, 24).backend());

    let app = at_scan();
    assert!(!screen_text(&app).contains("stand-in phone"), "never in the normal app");
    assert_eq!(app.tick_interval(), None);
}

/// The policy came on while signed in without 2FA: any refused request leads to the required setup.
#[test]
fn a_403_two_factor_setup_required_leads_to_the_required_setup() {
    let mut app = signed_in(me(false, 0));
    go_to(&mut app, "Sessions");
    reply(&mut app, Reply::Sessions(Err(ClientError::TwoFactorSetupRequired)));
    let wizard = app.screen::<EnableWizard>().expect("the required setup");
    assert_eq!(wizard.need, crate::tui::screens::enable::Need::Required);
    assert!(screen_text(&app).contains(crate::tui::screens::enable::REQUIRED_BANNER));
    press(&mut app, KeyCode::Esc);
    assert!(app.screen::<HomeScreen>().is_none(), "Esc asks, it does not lead to the user center");
}

#[test]
fn a_setup_required_login_then_a_lost_session() {
    let mut app = app();
    submit_login(&mut app, "alice", "pw");
    reply(&mut app, Reply::Login(Ok(LoginResponse::TwoFactorSetupRequired(session(None)))));
    reply(&mut app, Reply::Me(Ok(me_required())));
    reply(&mut app, Reply::Events(Err(ClientError::Unauthorized)));
    assert!(app.screen::<LoginScreen>().is_some(), "the new token was refused at once");
    assert!(screen_text(&app).contains("Your session has ended"));
}
