//! Issue 8 end to end: security events (each from the action that causes it, and from nothing else),
//! paging, retention, sessions, the workspace policy, the outbox's delivery to the events log and the
//! webhook, and the administrator's commands. Every scenario that touches SQL runs on SQLite and, when
//! USERCENTER_TEST_POSTGRES_URL is set, on PostgreSQL. Everything stays on 127.0.0.1 and is bounded in
//! time.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{PASSWORD, TestDb, TestServer, backup, wrong_code};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use usercenter::client::ClientError;
use usercenter::domain::{EventsQuery, LoginResponse, SecondFactorInput, SecretString, paths};
use usercenter::server::admin::Admin;
use usercenter::server::{EventsLogTarget, ManualClock, Missing, ServerConfig};

const USER_AGENT: &str = concat!("usercenter/", env!("CARGO_PKG_VERSION"));

async fn new_user(db: &TestDb, username: &str) {
    usercenter::server::create_user(&db.url, username, &SecretString::new(PASSWORD)).await.unwrap();
}

/// The events of one account as stored, read as an operator would (`usercenter events`), so the
/// check works also after the account's sessions ended.
struct Log<'a> {
    db: &'a TestDb,
    username: &'a str,
    seen: i64,
}

impl<'a> Log<'a> {
    fn new(db: &'a TestDb, username: &'a str) -> Self {
        Self { db, username, seen: 0 }
    }

    /// The account's events since the last call, oldest first, as `{"type", "details"}`.
    async fn new_events(&mut self) -> Vec<Value> {
        let admin = Admin::open(&self.db.url, Missing::Refuse).await.unwrap();
        let records = admin.events(Some(self.username), 1000).await.unwrap().unwrap();
        admin.close().await;
        let mut fresh: Vec<_> = records.into_iter().filter(|r| r.id > self.seen).collect();
        fresh.sort_by_key(|r| r.id);
        if let Some(last) = fresh.last() {
            self.seen = last.id;
        }
        fresh
            .iter()
            .map(|r| json!({"type": r.kind, "details": serde_json::from_str::<Value>(&r.details).unwrap()}))
            .collect()
    }

    async fn expect(&mut self, what: &str, expected: &[Value]) {
        let got = self.new_events().await;
        assert_eq!(got, expected, "after {what}");
    }
}

fn event(kind: &str, details: Value) -> Value {
    json!({"type": kind, "details": details})
}

fn sign_in(method: &str) -> Value {
    event("sign_in", json!({"method": method}))
}

fn failed(reason: &str) -> Value {
    event("sign_in_failed", json!({"reason": reason}))
}

fn throttled(scope: &str) -> Value {
    event("throttled", json!({"scope": scope}))
}

fn plain(kind: &str) -> Value {
    event(kind, json!({}))
}

on_both_backends!(every_event_type_comes_from_the_action_that_causes_it);
async fn every_event_type_comes_from_the_action_that_causes_it(db: &TestDb) {
    new_user(db, "alice").await;
    new_user(db, "bob").await;
    let s = TestServer::start(db).await;
    let mut log = Log::new(db, "alice");
    let pw = SecretString::new(PASSWORD);
    let wrong = SecretString::new("not the password");

    let token = s.login_token("alice").await;
    log.expect("a sign-in with the password", &[sign_in("password")]).await;
    let page = s.client.events(&token, EventsQuery::default()).await.unwrap();
    let first = &page.events[0];
    assert_eq!(first.address.as_deref(), Some("127.0.0.1"), "the client address of the request");
    assert_eq!(first.user_agent.as_deref(), Some(USER_AGENT));

    // Logout records nothing; a username that names no account records nothing anywhere.
    let other = s.login_token("alice").await;
    s.client.logout(&other).await.unwrap();
    log.expect("a sign-in and a logout", &[sign_in("password")]).await;
    assert_eq!(s.client.login("nobody", &pw).await.unwrap_err(), ClientError::InvalidCredentials);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM events").await, 2, "only alice's two sign-ins");

    // Five wrong passwords: five failures, and the fifth starts a back-off (once); a 429 is nothing.
    for _ in 0..5 {
        assert_eq!(s.client.login("alice", &wrong).await.unwrap_err(), ClientError::InvalidCredentials);
    }
    for password in [&wrong, &pw] {
        let refused = s.client.login("alice", password).await.unwrap_err();
        assert!(matches!(refused, ClientError::TooManyAttempts { .. }), "{refused:?}");
    }
    let mut expected = vec![failed("invalid_password"); 5];
    expected.push(throttled("login"));
    log.expect("five wrong passwords and two refused attempts", &expected).await;
    s.clock.advance(30);

    // A wrong password re-entry is no sign-in: nothing, until the fifth starts a back-off.
    for _ in 0..5 {
        let refused = s.client.start_enrollment(&token, &wrong).await.unwrap_err();
        assert_eq!(refused, ClientError::InvalidPassword);
    }
    log.expect("five wrong password re-entries", &[throttled("password")]).await;
    s.clock.advance(30);
    let (phone, confirmed) = s.enable(&token).await;
    log.expect("enabling 2FA", &[plain("two_factor_enabled")]).await;

    // The second factor: the password step alone records nothing; then each outcome.
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    let right = phone.code_at(s.now());
    s.client.second_factor(&challenge, &wrong_code(&right)).await.unwrap_err();
    let replayed = phone.input_at(s.now() - 30);
    assert_eq!(
        s.client.second_factor(&challenge, &replayed).await.unwrap_err(),
        ClientError::CodeAlreadyUsed
    );
    s.sign_in_with(&challenge, SecondFactorInput::Totp(right.clone())).await;
    log.expect(
        "a wrong, a spent and a right code",
        &[failed("invalid_code"), failed("code_already_used"), sign_in("totp")],
    )
    .await;
    let challenge = s.challenge("alice").await;
    s.sign_in_with(&challenge, backup(&confirmed.backup_codes[0])).await;
    log.expect("a backup code", &[sign_in("backup_code")]).await;

    // Five wrong codes: the fifth starts a back-off; the 429 after it is nothing.
    let challenge = s.challenge("alice").await;
    for _ in 0..5 {
        s.client.second_factor(&challenge, &wrong_code(&right)).await.unwrap_err();
    }
    let refused = s.client.second_factor(&challenge, &wrong_code(&right)).await.unwrap_err();
    assert!(matches!(refused, ClientError::TooManyAttempts { .. }), "{refused:?}");
    let mut expected = vec![failed("invalid_code"); 5];
    expected.push(throttled("second_factor"));
    log.expect("five wrong codes and a refused one", &expected).await;
    s.clock.advance(30);
    s.sign_in_with(&challenge, phone.input_at(s.now())).await;
    log.expect("signing in after the back-off", &[sign_in("totp")]).await;

    // The hundredth wrong code in a row locks the second factor (rule 10); user unlock lifts it.
    db.execute("UPDATE users SET second_factor_failures = 99 WHERE username = 'alice'").await;
    let challenge = s.challenge("alice").await;
    s.client.second_factor(&challenge, &wrong_code(&right)).await.unwrap_err();
    let locked = s.client.second_factor(&challenge, &phone.input_at(s.now() + 30)).await.unwrap_err();
    assert_eq!(locked, ClientError::SecondFactorLocked);
    log.expect("the hundredth wrong code", &[failed("invalid_code"), plain("second_factor_locked")]).await;
    usercenter::server::unlock_second_factor(&db.url, "alice").await.unwrap();
    usercenter::server::unlock_second_factor(&db.url, "alice").await.unwrap();
    log.expect("user unlock, twice", &[plain("second_factor_unlocked")]).await;

    s.client.regenerate_backup_codes(&token, &pw).await.unwrap();
    log.expect("new backup codes", &[plain("backup_codes_regenerated")]).await;

    // Sessions: one ended from another, then all the others.
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    let second = s.sign_in_with(&challenge, phone.input_at(s.now())).await.token;
    let theirs = s.client.sessions(&second).await.unwrap();
    let second_id = theirs.sessions.iter().find(|session| session.current).unwrap().id.clone();
    s.client.revoke_session(&token, &second_id).await.unwrap();
    assert_eq!(s.client.me(&second).await.unwrap_err(), ClientError::Unauthorized);
    let others = s.client.sessions(&token).await.unwrap().sessions.len() - 1;
    assert!(others >= 2, "the sign-ins above left sessions: {others}");
    let revoked = s.client.revoke_other_sessions(&token).await.unwrap();
    assert_eq!(revoked.revoked as usize, others);
    assert_eq!(s.client.revoke_other_sessions(&token).await.unwrap().revoked, 0);
    let count = u32::try_from(others).unwrap();
    log.expect(
        "ending one session, then the others (twice)",
        &[sign_in("totp"), plain("session_revoked"), event("sessions_revoked", json!({"count": count}))],
    )
    .await;

    s.client.disable(&token, &pw).await.unwrap();
    log.expect("disabling 2FA", &[plain("two_factor_disabled")]).await;

    // The administrator: reset-2fa and set-password record only their own event, though both end
    // sessions.
    s.clock.advance(30);
    s.enable(&token).await;
    log.expect("enabling 2FA again", &[plain("two_factor_enabled")]).await;
    usercenter::server::reset_two_factor(&db.url, "alice").await.unwrap();
    let admin = Admin::open(&db.url, Missing::Refuse).await.unwrap();
    assert!(admin.set_password("alice", &SecretString::new("a new passphrase")).await.unwrap());
    assert!(!admin.set_password("nobody", &SecretString::new("a new passphrase")).await.unwrap());
    let records = admin.events(Some("alice"), 2).await.unwrap().unwrap();
    admin.close().await;
    assert!(records.iter().all(|r| r.address.is_none() && r.user_agent.is_none()), "{records:?}");
    log.expect("reset-2fa and set-password", &[plain("two_factor_reset"), plain("password_changed")]).await;
    assert_eq!(s.client.me(&token).await.unwrap_err(), ClientError::Unauthorized);

    let mut bob = Log::new(db, "bob");
    bob.expect("all of alice's doings", &[]).await;
}

on_both_backends!(events_come_in_pages_newest_first);
async fn events_come_in_pages_newest_first(db: &TestDb) {
    new_user(db, "alice").await;
    new_user(db, "bob").await;
    let s = TestServer::start(db).await;
    let mut tokens = Vec::new();
    for _ in 0..25 {
        tokens.push(s.login_token("alice").await);
    }
    s.login_token("bob").await;
    let token = &tokens[0];
    let page = s.client.events(token, EventsQuery::default()).await.unwrap();
    assert_eq!(page.events.len(), 20, "20 by default");
    let ids: Vec<i64> = page.events.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(page.next_before, Some(ids[19]));
    let rest = s.client.events(token, EventsQuery { limit: None, before: page.next_before }).await.unwrap();
    assert_eq!(rest.events.len(), 5, "bob's event is not alice's");
    assert!(rest.events.iter().all(|e| e.id < ids[19]));
    assert_eq!(rest.next_before, None);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.client.events(token, EventsQuery { limit: Some(7), before }).await.unwrap();
        assert!(page.events.len() <= 7);
        seen.extend(page.events.iter().map(|e| e.id));
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let all = s.client.events(token, EventsQuery { limit: Some(100), before: None }).await.unwrap();
    assert_eq!((all.events.len(), all.next_before), (25, None));
    assert_eq!(
        s.client.events(token, EventsQuery { limit: Some(1), before: Some(1) }).await.unwrap().events,
        []
    );

    let http = reqwest::Client::new();
    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "before=abc",
        "before=0",
        "before=-5",
        "limit=",
        "limit=1.5",
    ] {
        let answer = http
            .get(format!("{}{}?{query}", s.base_url, paths::EVENTS))
            .bearer_auth(token.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.headers()["content-type"], "application/problem+json");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "invalid_request", "{query}: {body}");
    }
    let raw: Value = http
        .get(format!("{}{}?limit=1", s.base_url, paths::EVENTS))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = &raw["events"][0];
    let mut keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["address", "at", "details", "id", "type", "user_agent"], "{raw}");
    assert_eq!(event["details"], json!({"method": "password"}));
    assert!(raw["next_before"].is_i64(), "{raw}");
}

on_both_backends!(events_older_than_the_retention_are_purged);
async fn events_older_than_the_retention_are_purged(db: &TestDb) {
    new_user(db, "alice").await;
    let clock = ManualClock::starting_now();
    let mut s = TestServer::start_with(db, clock.clone()).await;
    s.login_token("alice").await;
    clock.advance(89 * 24 * 3600);
    s.login_token("alice").await;
    s.stop().await;
    // The purge runs when a server starts (and every 10 minutes).
    let mut s = TestServer::start_with(db, clock.clone()).await;
    let mut log = Log::new(db, "alice");
    assert_eq!(log.new_events().await.len(), 2, "89 days old: kept");
    clock.advance(24 * 3600 + 1);
    s.stop().await;
    let mut s = TestServer::start_with(db, clock.clone()).await;
    let kept = common::eventually(
        Duration::from_secs(10),
        || "no purge".into(),
        || {
            let count = futures_executor_scalar(db, "SELECT COUNT(*) FROM events");
            (count == 1).then_some(count)
        },
    );
    assert_eq!(kept, 1, "the event of 90 days and a second ago is gone, the one of a day ago stays");
    s.stop().await;

    // A shorter retention, as --events-retention-days sets it.
    let config = ServerConfig { events_retention_days: 1, ..db.config() };
    let mut s = TestServer::start_configured(config, clock.clone()).await;
    common::eventually(
        Duration::from_secs(10),
        || "no purge with 1 day".into(),
        || (futures_executor_scalar(db, "SELECT COUNT(*) FROM events") == 0).then_some(()),
    );
    s.stop().await;
}

/// [`TestDb::scalar`] from a synchronous closure (for [`common::eventually`]).
fn futures_executor_scalar(db: &TestDb, sql: &str) -> i64 {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(db.scalar(sql))
            })
            .join()
            .unwrap()
    })
}

/// A raw call: the status and the problem code (or the body).
async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &SecretString,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{path}", s.base_url)).bearer_auth(token.expose());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap();
    (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
}

async fn set_policy(db: &TestDb, required: bool) {
    let admin = Admin::open(&db.url, Missing::Refuse).await.unwrap();
    admin.set_policy(usercenter::domain::Policy { two_factor_required: required }).await.unwrap();
    admin.close().await;
}

on_both_backends!(a_workspace_that_requires_2fa_lets_a_new_user_only_enroll);
async fn a_workspace_that_requires_2fa_lets_a_new_user_only_enroll(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let earlier = s.login_token("alice").await;
    assert!(!s.client.me(&earlier).await.unwrap().policy.two_factor_required);
    set_policy(db, true).await;
    // The change takes effect at the next request: the earlier session is now setup-only too.
    assert!(s.client.me(&earlier).await.unwrap().policy.two_factor_required);
    assert_eq!(s.client.sessions(&earlier).await.unwrap_err(), ClientError::TwoFactorSetupRequired);

    let LoginResponse::TwoFactorSetupRequired(session) =
        s.client.login("alice", &SecretString::new(PASSWORD)).await.unwrap()
    else {
        panic!("a user without 2FA must set it up");
    };
    let token = session.token;
    let (status, body) = call(
        &s,
        Method::POST,
        paths::LOGIN,
        &token,
        Some(json!({"username": "alice", "password": PASSWORD})),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("two_factor_setup_required")),
        "{body}"
    );
    assert!(body["token"].is_string() && body["expires_at"].is_string(), "{body}");

    let pw = json!({"password": PASSWORD});
    let session_path = paths::session("abc");
    let refused: [(Method, &str, Option<Value>); 5] = [
        (Method::POST, paths::BACKUP_CODES, Some(pw.clone())),
        (Method::POST, paths::DISABLE, Some(pw.clone())),
        (Method::GET, paths::SESSIONS, None),
        (Method::DELETE, &session_path, None),
        (Method::POST, paths::REVOKE_OTHER_SESSIONS, None),
    ];
    for (method, path, body) in refused.clone() {
        let (status, answer) = call(&s, method.clone(), path, &token, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "two_factor_setup_required", "{method} {path}");
    }
    // What it may do: read the account and its events, set up 2FA (and cancel it), sign out.
    let (status, me) = call(&s, Method::GET, paths::ME, &token, None).await;
    assert_eq!((status, &me["policy"]), (StatusCode::OK, &json!({"two_factor_required": true})), "{me}");
    assert_eq!(call(&s, Method::GET, paths::EVENTS, &token, None).await.0, StatusCode::OK);
    assert_eq!(
        call(&s, Method::POST, paths::ENROLLMENT, &token, Some(pw.clone())).await.0,
        StatusCode::CREATED
    );
    assert_eq!(call(&s, Method::DELETE, paths::ENROLLMENT, &token, None).await.0, StatusCode::NO_CONTENT);
    let (phone, _) = s.enable(&token).await;
    // Confirmed: the same token is a full session.
    for (method, path, _) in &refused[2..3] {
        assert_eq!(call(&s, method.clone(), path, &token, None).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(s.client.sessions(&earlier).await.unwrap().sessions.len(), 3);
    // While required, 2FA cannot be turned off (before the password is even looked at).
    for password in [PASSWORD, "wrong"] {
        let (status, answer) =
            call(&s, Method::POST, paths::DISABLE, &token, Some(json!({"password": password}))).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::FORBIDDEN, Some("two_factor_required")));
    }
    assert_eq!(
        s.client.disable(&token, &SecretString::new(PASSWORD)).await.unwrap_err(),
        ClientError::TwoFactorRequired
    );
    // A user with 2FA signs in as usual.
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    s.sign_in_with(&challenge, phone.input_at(s.now())).await;
    // Off again: disabling works at the next request.
    set_policy(db, false).await;
    assert!(!s.client.disable(&token, &SecretString::new(PASSWORD)).await.unwrap().enabled);
    // Logout works for a setup-only session.
    set_policy(db, true).await;
    let LoginResponse::TwoFactorSetupRequired(last) =
        s.client.login("alice", &SecretString::new(PASSWORD)).await.unwrap()
    else {
        panic!("2FA is off again")
    };
    s.client.logout(&last.token).await.unwrap();
    assert_eq!(s.client.me(&last.token).await.unwrap_err(), ClientError::Unauthorized);
}

/// Two servers on one PostgreSQL database: a policy change on the database reaches both at their next
/// request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_policy_change_reaches_every_server_at_the_next_request() {
    let Some(db) = TestDb::postgres().await else { return };
    new_user(&db, "alice").await;
    let clock = ManualClock::starting_now();
    let a = TestServer::start_with(&db, clock.clone()).await;
    let b = TestServer::start_with(&db, clock.clone()).await;
    let token = a.login_token("alice").await;
    assert!(!b.client.me(&token).await.unwrap().policy.two_factor_required);
    set_policy(&db, true).await;
    for server in [&a, &b] {
        assert!(server.client.me(&token).await.unwrap().policy.two_factor_required);
        assert_eq!(server.client.sessions(&token).await.unwrap_err(), ClientError::TwoFactorSetupRequired);
    }
    let LoginResponse::TwoFactorSetupRequired(_) =
        b.client.login("alice", &SecretString::new(PASSWORD)).await.unwrap()
    else {
        panic!("b does not see the policy");
    };
}

on_both_backends!(sessions_are_listed_ended_one_by_one_or_all_but_this_one);
async fn sessions_are_listed_ended_one_by_one_or_all_but_this_one(db: &TestDb) {
    new_user(db, "alice").await;
    new_user(db, "bob").await;
    let s = TestServer::start(db).await;
    let a = s.login_token("alice").await;
    s.clock.advance(10);
    let b = s.login_token("alice").await;
    let list = s.client.sessions(&a).await.unwrap().sessions;
    assert_eq!(list.len(), 2);
    let mine = list.iter().find(|x| x.current).unwrap();
    assert_eq!(list.iter().filter(|x| x.current).count(), 1);
    for session in &list {
        assert!(
            session.id.len() >= 16
                && session.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
            "{}",
            session.id
        );
        assert!(session.id != a.expose() && session.id != b.expose() && !a.expose().contains(&session.id));
        assert_eq!(session.address.as_deref(), Some("127.0.0.1"));
        assert_eq!(session.user_agent.as_deref(), Some(USER_AGENT));
        assert_eq!(session.expires_at - session.created_at, time::Duration::hours(12));
        assert_eq!(session.last_seen_at, session.created_at);
    }
    let other = list.iter().find(|x| !x.current).unwrap().clone();
    assert_eq!(other.created_at - mine.created_at, time::Duration::seconds(10));
    let raw = call(&s, Method::GET, paths::SESSIONS, &a, None).await.1;
    let mut keys: Vec<&str> = raw["sessions"][0].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["address", "created_at", "current", "expires_at", "id", "last_seen_at", "user_agent"]);

    // last_seen_at: written at most once a minute, not on every request.
    for _ in 0..100 {
        s.client.me(&a).await.unwrap();
    }
    s.clock.advance(49);
    s.client.me(&a).await.unwrap();
    let seen = |list: &[usercenter::domain::SessionInfo], id: &str| {
        list.iter().find(|x| x.id == id).unwrap().last_seen_at
    };
    assert_eq!(
        seen(&s.client.sessions(&a).await.unwrap().sessions, &mine.id),
        mine.created_at,
        "101 requests within 59 s: no write"
    );
    s.clock.advance(1);
    s.client.me(&a).await.unwrap();
    let list = s.client.sessions(&a).await.unwrap().sessions;
    assert_eq!(seen(&list, &mine.id), mine.created_at + time::Duration::seconds(60), "written at 60 s");
    assert_eq!(list[0].id, mine.id, "most recently seen first");

    // Another user's session, and an unknown one: 404 not_found alike.
    let bobs = s.login_token("bob").await;
    let bobs_id = s.client.sessions(&bobs).await.unwrap().sessions[0].id.clone();
    for id in [bobs_id.as_str(), "no-such-session", &"x".repeat(300)] {
        let (status, body) = call(&s, Method::DELETE, &paths::session(id), &a, None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    }
    s.client.me(&bobs).await.unwrap();

    // One ended: its token stops working at once.
    let (status, body) = call(&s, Method::DELETE, &paths::session(&other.id), &a, None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(s.client.me(&b).await.unwrap_err(), ClientError::Unauthorized);
    assert_eq!(s.client.revoke_session(&a, &other.id).await.unwrap_err(), ClientError::NotFound);

    // All others: a count, and only this account's.
    let c = s.login_token("alice").await;
    let d = s.login_token("alice").await;
    let (status, body) = call(&s, Method::POST, paths::REVOKE_OTHER_SESSIONS, &a, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"revoked": 2})));
    for gone in [&c, &d] {
        assert_eq!(s.client.me(gone).await.unwrap_err(), ClientError::Unauthorized);
    }
    s.client.me(&bobs).await.unwrap();
    assert_eq!(s.client.sessions(&a).await.unwrap().sessions.len(), 1);
    // Ending the current session is allowed too.
    s.client.revoke_session(&a, &mine.id).await.unwrap();
    assert_eq!(s.client.me(&a).await.unwrap_err(), ClientError::Unauthorized);
}

/// A webhook receiver on 127.0.0.1: records each body; can refuse (500) or hang.
struct Receiver {
    addr: std::net::SocketAddr,
    bodies: Arc<Mutex<Vec<Value>>>,
    mode: Arc<Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    Hang,
}

impl Receiver {
    async fn start() -> Self {
        Self::on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    fn on(listener: tokio::net::TcpListener) -> Self {
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let (recorded, current) = (Arc::clone(&bodies), Arc::clone(&mode));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (recorded, current) = (Arc::clone(&recorded), Arc::clone(&current));
                async move {
                    let mode = *current.lock().unwrap();
                    if mode == Mode::Hang {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                    recorded.lock().unwrap().push(body);
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, bodies, mode, task }
    }

    fn url(&self) -> reqwest::Url {
        format!("http://{}/hook", self.addr).parse().unwrap()
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits until `count` bodies arrived.
    async fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let bodies = self.bodies();
            if bodies.len() >= count {
                return bodies;
            }
            assert!(Instant::now() < deadline, "only {} of {count} webhook calls: {bodies:?}", bodies.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn read_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

async fn wait_for_lines(path: &std::path::Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = read_lines(path);
        if lines.len() >= count {
            return lines;
        }
        assert!(Instant::now() < deadline, "only {} of {count} lines: {lines:?}", lines.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outbox_empty(db: &TestDb) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.scalar("SELECT COUNT(*) FROM outbox").await > 0 {
        assert!(Instant::now() < deadline, "the outbox is not emptied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends!(events_reach_the_events_log_and_factor_changes_the_webhook);
async fn events_reach_the_events_log_and_factor_changes_the_webhook(db: &TestDb) {
    new_user(db, "alice").await;
    let receiver = Receiver::start().await;
    let events_log = db.dir.path().join("events.json");
    let config = ServerConfig {
        events_log: Some(EventsLogTarget::File(events_log.clone())),
        notify_webhook: Some(receiver.url()),
        ..db.config()
    };
    let s = TestServer::start_configured(config, ManualClock::starting_now()).await;
    let pw = SecretString::new(PASSWORD);
    let token = s.login_token("alice").await;
    s.client.login("alice", &SecretString::new("wrong password")).await.unwrap_err();
    let (phone, confirmed) = s.enable(&token).await;
    let fresh = s.client.regenerate_backup_codes(&token, &pw).await.unwrap();
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    s.sign_in_with(&challenge, phone.input_at(s.now())).await;
    s.client.disable(&token, &pw).await.unwrap();
    usercenter::server::reset_two_factor(&db.url, "alice").await.unwrap();

    let bodies = receiver.wait_for(4).await;
    wait_for_lines(&events_log, 7).await;
    outbox_empty(db).await;
    // Each once, in any order.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.bodies().len(), 4, "{:?}", receiver.bodies());
    let mut told: Vec<&str> = bodies.iter().map(|b| b["event"]["type"].as_str().unwrap()).collect();
    told.sort_unstable();
    assert_eq!(
        told,
        ["backup_codes_regenerated", "two_factor_disabled", "two_factor_enabled", "two_factor_reset"]
    );
    for body in &bodies {
        assert_eq!(body["username"], "alice");
        let mut keys: Vec<&str> = body["event"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["address", "at", "details", "id", "type", "user_agent"], "{body}");
    }
    let lines = read_lines(&events_log);
    assert_eq!(lines.len(), 7, "{lines:?}");
    let actions: Vec<&str> = lines.iter().map(|l| l["event"]["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "sign_in",
            "sign_in_failed",
            "two_factor_enabled",
            "backup_codes_regenerated",
            "sign_in",
            "two_factor_disabled",
            "two_factor_reset"
        ]
    );
    for line in &lines {
        assert!(line["@timestamp"].as_str().unwrap().ends_with('Z'), "{line}");
        assert_eq!(line["event"]["kind"], "event");
        assert_eq!(line["user"]["name"], "alice");
        assert!(line["ecs"]["version"].is_string());
        assert!(line["usercenter"]["details"].is_object());
        assert!(line.as_object().unwrap().keys().all(|k| k == "@timestamp" || !k.contains('.')), "{line}");
    }
    let failure = &lines[1];
    assert_eq!(failure["event"]["category"], json!(["authentication"]));
    assert_eq!(failure["event"]["outcome"], "failure");
    assert_eq!(failure["usercenter"]["details"], json!({"reason": "invalid_password"}));
    assert_eq!(failure["source"]["ip"], "127.0.0.1");
    assert_eq!(failure["user_agent"]["original"], USER_AGENT);
    assert_eq!(
        (lines[0]["event"]["category"][0].as_str(), lines[0]["event"]["outcome"].as_str()),
        (Some("authentication"), Some("success"))
    );
    assert_eq!(
        (lines[2]["event"]["category"][0].as_str(), lines[2]["event"]["outcome"].as_str()),
        (Some("iam"), Some("success"))
    );
    assert_eq!(lines[6]["source"]["ip"], Value::Null, "an administrator's command has no address");

    // Nothing secret leaves: not the password, a token, a code or the TOTP secret.
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&events_log).unwrap(),
        serde_json::to_string(&bodies).unwrap()
    );
    let mut secrets = vec![PASSWORD.to_owned(), token.expose().to_owned(), phone.secret_base32()];
    secrets.extend(confirmed.backup_codes.iter().chain(&fresh.backup_codes).map(|c| c.expose().to_owned()));
    for secret in secrets {
        assert!(!text.contains(&secret), "{secret} left the server");
    }
}

/// The receiver hangs for a minute: requests are answered at once all the same (measured), and the
/// events log keeps getting its lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_webhook_never_delays_a_request() {
    let db = TestDb::sqlite();
    new_user(&db, "alice").await;
    let receiver = Receiver::start().await;
    *receiver.mode.lock().unwrap() = Mode::Hang;
    let events_log = db.dir.path().join("events.json");
    let config = ServerConfig {
        events_log: Some(EventsLogTarget::File(events_log.clone())),
        notify_webhook: Some(receiver.url()),
        ..db.config()
    };
    let s = TestServer::start_configured(config, ManualClock::starting_now()).await;
    let pw = SecretString::new(PASSWORD);
    let token = s.login_token("alice").await;
    // Baseline: the same request without a webhook call in flight.
    let started = Instant::now();
    s.client.start_enrollment(&token, &pw).await.unwrap();
    let baseline = started.elapsed();
    s.client.cancel_enrollment(&token).await.unwrap();
    let started = Instant::now();
    s.enable(&token).await;
    let enable = started.elapsed();
    // The webhook call for two_factor_enabled is now hanging; more factor changes while it does.
    let lines = wait_for_lines(&events_log, 2).await;
    assert_eq!(lines[1]["event"]["action"], "two_factor_enabled");
    let mut during = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        s.client.regenerate_backup_codes(&token, &pw).await.unwrap();
        during.push(started.elapsed());
    }
    let lines = wait_for_lines(&events_log, 5).await;
    assert_eq!(lines.len(), 5, "the events log does not wait for the webhook");
    assert!(receiver.bodies().is_empty());
    eprintln!(
        "while the webhook receiver hung: enabling 2FA took {enable:?} (start+confirm), new backup codes \
         {during:?}; start enrollment alone {baseline:?} before"
    );
    for took in during.iter().chain([&enable]) {
        assert!(*took < Duration::from_secs(2), "a request waited for the webhook: {took:?}");
    }
    // The hanging calls time out after 10 s and are tried again; the receiver answers then.
    *receiver.mode.lock().unwrap() = Mode::Accept;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.bodies().len() < 4 {
        assert!(Instant::now() < deadline, "never delivered: {:?}", receiver.bodies());
        s.clock.advance(5);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

on_both_backends!(a_refused_webhook_call_is_tried_again);
async fn a_refused_webhook_call_is_tried_again(db: &TestDb) {
    new_user(db, "alice").await;
    // A port where nothing listens yet: the first calls are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url: reqwest::Url = format!("http://127.0.0.1:{port}/hook").parse().unwrap();
    let config = ServerConfig { notify_webhook: Some(url), ..db.config() };
    let s = TestServer::start_configured(config, ManualClock::starting_now()).await;
    let token = s.login_token("alice").await;
    s.enable(&token).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.scalar("SELECT COALESCE(MAX(attempts), 0) FROM outbox").await < 1 {
        assert!(Instant::now() < deadline, "no failed attempt recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Not tried again before its back-off (5 s on the server's clock) has run.
    let receiver = Receiver::on(tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.bodies().is_empty());
    assert_eq!(db.scalar("SELECT attempts FROM outbox").await, 1);
    s.clock.advance(5);
    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies[0]["event"]["type"], "two_factor_enabled");
    outbox_empty(db).await;
}

on_both_backends!(a_delivery_cut_short_is_taken_up_after_its_lease_and_admin_events_wait_for_a_server);
async fn a_delivery_cut_short_is_taken_up_after_its_lease_and_admin_events_wait_for_a_server(db: &TestDb) {
    new_user(db, "alice").await;
    // No server runs: the event waits in the outbox.
    let admin = Admin::open(&db.url, Missing::Refuse).await.unwrap();
    assert!(admin.set_password("alice", &SecretString::new("a new passphrase")).await.unwrap());
    admin.close().await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM outbox").await, 1);
    // A server that claimed it and died (its lease of 5 minutes runs on).
    let clock = ManualClock::starting_now();
    db.execute(&format!(
        "UPDATE outbox SET claimed_until = {}",
        usercenter::server::Clock::unix(&clock) + 300
    ))
    .await;
    let receiver = Receiver::start().await;
    let events_log = db.dir.path().join("events.json");
    let config = ServerConfig {
        events_log: Some(EventsLogTarget::File(events_log.clone())),
        notify_webhook: Some(receiver.url()),
        ..db.config()
    };
    let s = TestServer::start_configured(config, clock.clone()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.bodies().is_empty() && read_lines(&events_log).is_empty(), "taken from a live lease");
    s.clock.advance(300);
    let bodies = receiver.wait_for(1).await;
    assert_eq!(bodies[0]["event"]["type"], "password_changed");
    assert_eq!(bodies[0]["event"]["address"], Value::Null);
    assert_eq!(wait_for_lines(&events_log, 1).await[0]["event"]["action"], "password_changed");
    outbox_empty(db).await;
}

/// Two servers on one PostgreSQL database deliver each event once between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_deliver_each_event_once() {
    let Some(db) = TestDb::postgres().await else { return };
    let receiver = Receiver::start().await;
    let clock = ManualClock::starting_now();
    let mut servers = Vec::new();
    for name in ["a", "b"] {
        let config = ServerConfig {
            events_log: Some(EventsLogTarget::File(db.dir.path().join(format!("{name}.json")))),
            notify_webhook: Some(receiver.url()),
            ..db.config()
        };
        servers.push(TestServer::start_configured(config, clock.clone()).await);
    }
    let users = ["alice", "bob", "carol", "dave"];
    for user in users {
        new_user(&db, user).await;
    }
    let pw = SecretString::new(PASSWORD);
    let work = users.iter().enumerate().map(|(i, user)| {
        let s = &servers[i % 2];
        let pw = pw.clone();
        async move {
            let token = s.login_token(user).await;
            for _ in 0..3 {
                s.login_token(user).await;
            }
            s.enable(&token).await;
            s.client.regenerate_backup_codes(&token, &pw).await.unwrap();
            s.client.regenerate_backup_codes(&token, &pw).await.unwrap();
        }
    });
    futures_util::future::join_all(work).await;
    let total = db.scalar("SELECT COUNT(*) FROM events").await;
    assert_eq!(total, 4 * 7);
    outbox_empty(&db).await;
    let bodies = receiver.wait_for(4 * 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids: Vec<i64> = Vec::new();
    let mut per_server = Vec::new();
    for name in ["a", "b"] {
        let lines = read_lines(&db.dir.path().join(format!("{name}.json")));
        per_server.push(lines.len());
        ids.extend(lines.iter().map(|l| l["event"]["id"].as_str().unwrap().parse::<i64>().unwrap()));
    }
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!((before, ids.len()), (28, 28), "each event once across both logs");
    let mut told: Vec<i64> = receiver.bodies().iter().map(|b| b["event"]["id"].as_i64().unwrap()).collect();
    told.sort_unstable();
    told.dedup();
    assert_eq!((bodies.len(), told.len()), (12, 12), "each factor change once");
    eprintln!("two servers, 28 events: {per_server:?} lines in each server's events log, 12 webhook calls");
}

mod cli {
    use std::io::Write as _;
    use std::process::{Command, Output, Stdio};
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::common::server::{PASSWORD, TestDb};

    const BIN: &str = env!("CARGO_BIN_EXE_usercenter");

    fn run(args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("USERCENTER_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // A command that refuses before reading its input may already have exited.
            match input.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                written => written.unwrap(),
            }
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn ok(output: &Output) -> String {
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout.clone()).unwrap()
    }

    fn failed(output: &Output) -> String {
        assert!(!output.status.success(), "{output:?}");
        String::from_utf8(output.stderr.clone()).unwrap()
    }

    #[test]
    fn only_serve_and_user_add_create_a_database_and_they_say_so() {
        let db = TestDb::sqlite();
        let file = db.sqlite_file.clone().unwrap();
        let url = db.url.as_str();
        for args in [
            vec!["user", "list", "--database", url],
            vec!["user", "delete", "alice", "--database", url],
            vec!["user", "set-password", "alice", "--password-stdin", "--database", url],
            vec!["user", "reset-2fa", "alice", "--database", url],
            vec!["user", "unlock", "alice", "--database", url],
            vec!["events", "--database", url],
            vec!["policy", "show", "--database", url],
            vec!["policy", "set", "--require-2fa", "on", "--database", url],
        ] {
            let said = failed(&run(&args, Some("a new passphrase\n")));
            assert!(
                said.contains(&file.display().to_string()) && said.contains("does not exist"),
                "{args:?}: {said}"
            );
            assert!(said.contains("usercenter user add"), "{said}");
            assert!(!file.exists(), "{args:?} created the database");
        }
        let added = run(
            &["user", "add", "alice", "--password-stdin", "--database", url],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(ok(&added).contains("created user alice"));
        let said = String::from_utf8_lossy(&added.stderr);
        assert!(
            said.contains("created the database") && said.contains(&file.display().to_string()),
            "{said}"
        );
        let again = run(
            &["user", "add", "bob", "--password-stdin", "--database", url],
            Some(&format!("{PASSWORD}\n")),
        );
        ok(&again);
        assert!(!String::from_utf8_lossy(&again.stderr).contains("created the database"));
        // Also from the environment variable.
        let from_env =
            Command::new(BIN).args(["user", "list"]).env("USERCENTER_DATABASE_URL", url).output().unwrap();
        assert!(ok(&from_env).contains("bob"));
    }

    #[test]
    fn passwords_are_8_to_128_characters() {
        let db = TestDb::sqlite();
        let url = db.url.as_str();
        for bad in ["seven c", &"x".repeat(129)] {
            let said = failed(&run(
                &["user", "add", "alice", "--password-stdin", "--database", url],
                Some(&format!("{bad}\n")),
            ));
            assert!(said.contains("8 to 128 characters"), "{said}");
        }
        assert!(!db.sqlite_file.as_ref().unwrap().exists(), "a refused password creates no database");
        ok(&run(
            &["user", "add", "alice", "--password-stdin", "--database", url],
            Some(&format!("{}\n", "é".repeat(128))),
        ));
        let said = failed(&run(
            &["user", "set-password", "alice", "--password-stdin", "--database", url],
            Some("short\n"),
        ));
        assert!(said.contains("8 to 128 characters"), "{said}");
    }

    #[test]
    fn user_list_delete_set_password_events_and_policy() {
        let db = TestDb::sqlite();
        let url = db.url.as_str();
        for user in ["bob", "alice"] {
            ok(&run(
                &["user", "add", user, "--password-stdin", "--database", url],
                Some(&format!("{PASSWORD}\n")),
            ));
        }
        let listed: Value =
            serde_json::from_str(&ok(&run(&["user", "list", "--json", "--database", url], None))).unwrap();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["username"], "alice", "by name");
        let mut keys: Vec<&str> = listed[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "second_factor_locked", "two_factor_enabled", "username"]);
        assert_eq!(
            (listed[0]["two_factor_enabled"].as_bool(), listed[0]["second_factor_locked"].as_bool()),
            (Some(false), Some(false))
        );
        assert!(
            time::OffsetDateTime::parse(
                listed[0]["created_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
        let table = ok(&run(&["user", "list", "--database", url], None));
        assert!(table.contains("alice") && table.contains("bob"), "{table}");

        // set-password: a new password, every session ends, password_changed.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (token, server) = runtime.block_on(async {
            let s = super::TestServer::start(&db).await;
            (s.login_token("alice").await, s)
        });
        ok(&run(
            &["user", "set-password", "alice", "--password-stdin", "--database", url],
            Some("a new passphrase\n"),
        ));
        runtime.block_on(async {
            assert_eq!(
                server.client.me(&token).await.unwrap_err(),
                usercenter::client::ClientError::Unauthorized
            );
            let old = server.client.login("alice", &usercenter::domain::SecretString::new(PASSWORD)).await;
            assert!(old.is_err());
            server
                .client
                .login("alice", &usercenter::domain::SecretString::new("a new passphrase"))
                .await
                .unwrap();
        });
        drop(server);
        let nobody = failed(&run(
            &["user", "set-password", "nobody", "--password-stdin", "--database", url],
            Some("a new passphrase\n"),
        ));
        assert!(nobody.contains("nobody"), "{nobody}");

        // events --json: one object per line, the API's event plus "username", newest first.
        let text = ok(&run(&["events", "--json", "--database", url], None));
        let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        // Newest first: the sign-in with the new password, the old one refused, the change, the first.
        assert_eq!(types, ["sign_in", "sign_in_failed", "password_changed", "sign_in"], "{text}");
        let mut keys: Vec<&str> = events[2].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["address", "at", "details", "id", "type", "user_agent", "username"]);
        assert_eq!((events[2]["username"].as_str(), &events[2]["details"]), (Some("alice"), &json!({})));
        assert_eq!(
            ok(&run(&["events", "--json", "--limit", "1", "--database", url], None)).lines().count(),
            1
        );
        assert_eq!(ok(&run(&["events", "--json", "--user", "bob", "--database", url], None)), "");
        let text = ok(&run(&["events", "--user", "alice", "--database", url], None));
        assert!(text.contains("password_changed") && text.contains("alice"), "{text}");
        let unknown = failed(&run(&["events", "--user", "nobody", "--database", url], None));
        assert!(unknown.contains("nobody"), "{unknown}");

        // The policy.
        let show = |json: bool| {
            let mut args = vec!["policy", "show", "--database", url];
            if json {
                args.push("--json");
            }
            ok(&run(&args, None))
        };
        assert_eq!(
            serde_json::from_str::<Value>(&show(true)).unwrap(),
            json!({"two_factor_required": false})
        );
        ok(&run(&["policy", "set", "--require-2fa", "on", "--database", url], None));
        assert_eq!(serde_json::from_str::<Value>(&show(true)).unwrap(), json!({"two_factor_required": true}));
        assert!(show(false).contains("required"));
        failed(&run(&["policy", "set", "--require-2fa", "maybe", "--database", url], None));
        ok(&run(&["policy", "set", "--require-2fa", "off", "--database", url], None));
        assert_eq!(
            serde_json::from_str::<Value>(&show(true)).unwrap(),
            json!({"two_factor_required": false})
        );

        // delete: the account goes, with its events.
        assert!(
            ok(&run(&["user", "delete", "alice", "--database", url], None)).contains("deleted user alice")
        );
        let gone = failed(&run(&["user", "delete", "alice", "--database", url], None));
        assert!(gone.contains("alice"), "{gone}");
        let listed: Value =
            serde_json::from_str(&ok(&run(&["user", "list", "--json", "--database", url], None))).unwrap();
        assert_eq!(
            listed,
            json!([{"username": "bob", "two_factor_enabled": false, "second_factor_locked": false,
                                   "created_at": listed[0]["created_at"]}])
        );
        assert_eq!(ok(&run(&["events", "--json", "--database", url], None)), "");
    }

    #[test]
    fn serve_writes_ecs_lines_to_standard_output_with_events_log_dash() {
        use std::io::{BufRead as _, BufReader};
        let db = TestDb::sqlite();
        ok(&run(
            &["user", "add", "alice", "--password-stdin", "--database", &db.url],
            Some(&format!("{PASSWORD}\n")),
        ));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url, "--events-log", "-"])
            .env_remove("USERCENTER_KEY_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let client = usercenter::client::ApiClient::new(&url).unwrap();
            client.login("alice", &usercenter::domain::SecretString::new(PASSWORD)).await.unwrap();
        });
        // Bounded: the line comes within a second or so; kill the server if it does not.
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            stdout.read_line(&mut line).map(|_| line)
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !reader.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        let line = reader.join().unwrap().unwrap();
        let ecs: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert_eq!(ecs["event"]["action"], "sign_in");
        assert_eq!(ecs["user"]["name"], "alice");
        assert_eq!(ecs["usercenter"]["details"], json!({"method": "password"}));
    }

    #[test]
    fn serve_refuses_a_webhook_that_is_not_an_http_url() {
        let db = TestDb::sqlite();
        for bad in ["ftp://example.com/hook", "not a url"] {
            let said = failed(&run(&["serve", "--database", &db.url, "--notify-webhook", bad], None));
            assert!(said.contains("--notify-webhook"), "{said}");
        }
        assert!(!db.sqlite_file.as_ref().unwrap().exists());
    }

    #[test]
    fn set_password_at_a_terminal_asks_twice_without_echo() {
        let db = TestDb::sqlite();
        let url = db.url.as_str();
        ok(&run(
            &["user", "add", "erin", "--password-stdin", "--database", url],
            Some(&format!("{PASSWORD}\n")),
        ));
        let set = |first: &str, again: &str| {
            let args = ["user", "set-password", "erin", "--database", url];
            super::common::pty::PtyApp::answer_password_twice(&args, first, again)
        };
        let (changed, screen) = set("first passphrase", "other passphrase");
        assert!(!changed && screen.contains("the two passwords differ"), "{screen}");
        let (changed, screen) = set("secret!", "secret!");
        assert!(!changed && screen.contains("8 to 128 characters"), "{screen}");
        let (changed, screen) = set("a new passphrase", "a new passphrase");
        assert!(changed && screen.contains("changed the password of erin"), "{screen}");
        assert!(!screen.contains("a new passphrase"), "no echo: {screen}");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s = super::TestServer::start(&db).await;
            s.client.login("erin", &usercenter::domain::SecretString::new("a new passphrase")).await.unwrap();
        });
        let not_a_terminal = failed(&run(&["user", "set-password", "erin", "--database", url], None));
        assert!(not_a_terminal.contains("--password-stdin"), "{not_a_terminal}");
    }
}
