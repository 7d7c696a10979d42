//! End-to-end: the API over a real socket, driven by `ApiClient`, with codes computed as a phone would.
//! Every scenario runs on SQLite, and on PostgreSQL when USERCENTER_TEST_POSTGRES_URL is set (a fresh
//! database per test); without it the PostgreSQL variants print a skip note and pass.

#[macro_use]
mod common;

use std::time::Duration;

use common::Phone;
use common::server::{PASSWORD, TestDb, TestServer, backup, wrong_code};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usercenter::client::ClientError;
use usercenter::domain::{LoginResponse, SecondFactorInput, SecretString, paths};
use usercenter::server::ManualClock;

async fn new_user(db: &TestDb, username: &str) {
    usercenter::server::create_user(&db.url, username, &SecretString::new(PASSWORD)).await.unwrap();
}

on_both_backends!(full_life_cycle);
async fn full_life_cycle(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    assert_eq!(s.client.health().await.unwrap().status, "ok");
    let token = s.login_token("alice").await;
    let me = s.client.me(&token).await.unwrap();
    assert!(!me.two_factor.enabled && !me.two_factor.pending_enrollment);

    let (phone, confirmed) = s.enable(&token).await;
    assert!(confirmed.enabled);
    assert_eq!(confirmed.backup_codes.len(), 10);
    let me = s.client.me(&token).await.unwrap();
    assert!(me.two_factor.enabled);
    assert_eq!(me.two_factor.backup_codes_remaining, 10);
    assert!(me.two_factor.enabled_at.is_some());
    s.client.logout(&token).await.unwrap();
    assert_eq!(s.client.me(&token).await.unwrap_err(), ClientError::Unauthorized);

    // The next code, 30 s later.
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    let session = s.sign_in_with(&challenge, phone.input_at(s.now())).await;
    assert_eq!(session.backup_codes_remaining, None);
    assert_eq!(s.client.me(&session.token).await.unwrap().username, "alice");

    let challenge = s.challenge("alice").await;
    let session = s.sign_in_with(&challenge, backup(&confirmed.backup_codes[0])).await;
    assert_eq!(session.backup_codes_remaining, Some(9));
    let token = session.token;

    let fresh = s.client.regenerate_backup_codes(&token, &SecretString::new(PASSWORD)).await.unwrap();
    assert_eq!(fresh.backup_codes.len(), 10);
    let challenge = s.challenge("alice").await;
    let old = s.client.second_factor(&challenge, &backup(&confirmed.backup_codes[1])).await.unwrap_err();
    assert!(matches!(old, ClientError::InvalidCode { .. }), "{old:?}");
    let session = s.sign_in_with(&challenge, backup(&fresh.backup_codes[1])).await;
    assert_eq!(session.backup_codes_remaining, Some(9));
    assert_eq!(s.client.me(&token).await.unwrap().two_factor.backup_codes_remaining, 9);

    let wrong = s.client.disable(&token, &SecretString::new("wrong")).await.unwrap_err();
    assert_eq!(wrong, ClientError::InvalidPassword);
    assert!(!s.client.disable(&token, &SecretString::new(PASSWORD)).await.unwrap().enabled);
    let me = s.client.me(&token).await.unwrap();
    assert!(!me.two_factor.enabled);
    assert_eq!(me.two_factor.backup_codes_remaining, 0);
    assert!(matches!(
        s.client.login("alice", &SecretString::new(PASSWORD)).await.unwrap(),
        LoginResponse::Authenticated(_)
    ));
    assert_eq!(
        s.client.disable(&token, &SecretString::new(PASSWORD)).await.unwrap_err(),
        ClientError::NotEnabled
    );
}

on_both_backends!(enrollment_errors_and_cancel);
async fn enrollment_errors_and_cancel(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    let pw = SecretString::new(PASSWORD);
    assert_eq!(
        s.client.start_enrollment(&token, &SecretString::new("no")).await.unwrap_err(),
        ClientError::InvalidPassword
    );
    let enrollment = s.client.start_enrollment(&token, &pw).await.unwrap();
    assert_eq!(enrollment.account, "alice");
    assert_eq!((enrollment.algorithm.as_str(), enrollment.digits, enrollment.period), ("SHA1", 6, 30));
    assert!(s.client.me(&token).await.unwrap().two_factor.pending_enrollment);
    s.client.cancel_enrollment(&token).await.unwrap();
    s.client.cancel_enrollment(&token).await.unwrap();
    let phone = Phone::scan(enrollment.otpauth_uri.expose());
    let gone = s.client.confirm_enrollment(&token, &phone.code_at(s.now())).await.unwrap_err();
    assert_eq!(gone, ClientError::NoPendingEnrollment);
    let (_, _) = s.enable(&token).await;
    assert_eq!(s.client.start_enrollment(&token, &pw).await.unwrap_err(), ClientError::AlreadyEnabled);
}

on_both_backends!(replayed_code_is_refused);
async fn replayed_code_is_refused(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    let (phone, _) = s.enable(&token).await;
    // The code that enabled 2FA cannot sign in.
    let challenge = s.challenge("alice").await;
    let replay = s.client.second_factor(&challenge, &phone.input_at(s.now())).await.unwrap_err();
    assert_eq!(replay, ClientError::CodeAlreadyUsed);
    s.clock.advance(30);
    let code = phone.input_at(s.now());
    s.sign_in_with(&challenge, code.clone()).await;
    let challenge = s.challenge("alice").await;
    assert_eq!(s.client.second_factor(&challenge, &code).await.unwrap_err(), ClientError::CodeAlreadyUsed);
    let expired = s.client.second_factor(&SecretString::new("made-up"), &code).await.unwrap_err();
    assert_eq!(expired, ClientError::ChallengeExpired);
}

on_both_backends!(sixth_attempt_after_five_failures_gets_429_even_when_right);
async fn sixth_attempt_after_five_failures_gets_429_even_when_right(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    let (phone, _) = s.enable(&token).await;
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    let right = phone.code_at(s.now());
    for _ in 0..5 {
        let e = s.client.second_factor(&challenge, &wrong_code(&right)).await.unwrap_err();
        assert!(matches!(e, ClientError::InvalidCode { .. }), "{e:?}");
    }
    let locked =
        s.client.second_factor(&challenge, &SecondFactorInput::Totp(right.clone())).await.unwrap_err();
    assert_eq!(locked, ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) });
    // The raw answer: Retry-After header and retry_after_s in problem JSON.
    let raw = reqwest::Client::new()
        .post(format!("{}{}", s.base_url, paths::SECOND_FACTOR))
        .json(&json!({"challenge": challenge.expose(), "code": right.expose()}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(raw.headers()["retry-after"], "30");
    assert_eq!(raw.headers()["content-type"], "application/problem+json");
    let body: Value = raw.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), body["retry_after_s"].as_u64()),
        (Some("too_many_attempts"), Some(30))
    );
    // Once the back-off has run out, the right code works.
    s.clock.advance(30);
    s.sign_in_with(&challenge, phone.input_at(s.now())).await;
}

on_both_backends!(back_off_doubles_from_thirty_seconds_to_fifteen_minutes);
async fn back_off_doubles_from_thirty_seconds_to_fifteen_minutes(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let wrong = SecretString::new("not the password");
    let mut back_offs = Vec::new();
    for round in 0..7 {
        // Five failures start the back-off; after it, each further failure starts a longer one.
        for _ in 0..if round == 0 { 5 } else { 1 } {
            assert_eq!(s.client.login("alice", &wrong).await.unwrap_err(), ClientError::InvalidCredentials);
        }
        let Err(ClientError::TooManyAttempts { retry_after }) = s.client.login("alice", &wrong).await else {
            panic!("round {round}: no back-off");
        };
        back_offs.push(retry_after.as_secs());
        s.clock.advance(i64::try_from(retry_after.as_secs()).unwrap());
    }
    assert_eq!(back_offs, [30, 60, 120, 240, 480, 900, 900]);
}

/// 50 challenges, then 50 simultaneous second factors with the same proof: exactly one may win.
async fn race(s: &TestServer, others: &[&TestServer], proof: SecondFactorInput) {
    let mut challenges = Vec::new();
    for _ in 0..50 {
        challenges.push(s.challenge("alice").await);
    }
    let servers: Vec<&TestServer> = std::iter::once(s).chain(others.iter().copied()).collect();
    let attempts = challenges.iter().enumerate().map(|(i, challenge)| {
        let client = servers[i % servers.len()].client.clone();
        let proof = proof.clone();
        let challenge = challenge.clone();
        tokio::spawn(async move { client.second_factor(&challenge, &proof).await })
    });
    let results: Vec<_> = join_all(attempts).await.into_iter().map(|joined| joined.unwrap()).collect();
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    for result in &results {
        if let Err(e) = result {
            assert!(
                matches!(e, ClientError::CodeAlreadyUsed | ClientError::TooManyAttempts { .. }),
                "unexpected failure: {e:?}"
            );
        }
    }
}

on_both_backends!(fifty_concurrent_uses_of_one_backup_code_one_wins);
async fn fifty_concurrent_uses_of_one_backup_code_one_wins(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    let (_, confirmed) = s.enable(&token).await;
    race(&s, &[], backup(&confirmed.backup_codes[4])).await;
    assert_eq!(s.client.me(&token).await.unwrap().two_factor.backup_codes_remaining, 9);
}

on_both_backends!(fifty_concurrent_uses_of_one_totp_code_one_wins);
async fn fifty_concurrent_uses_of_one_totp_code_one_wins(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    let (phone, _) = s.enable(&token).await;
    s.clock.advance(30);
    race(&s, &[], phone.input_at(s.now())).await;
}

// Issue 11: on SQLite the right codes that arrive together are signed in as one group, in one
// transaction. Each gets its own answer; a second use of a code in the same group still loses.
on_both_backends!(accounts_signing_in_at_once_each_get_in_once);
async fn accounts_signing_in_at_once_each_get_in_once(db: &TestDb) {
    const ACCOUNTS: usize = 8;
    let s = TestServer::start(db).await;
    let mut phones = Vec::new();
    for i in 0..ACCOUNTS {
        let name = format!("user{i}");
        new_user(db, &name).await;
        let token = s.login_token(&name).await;
        phones.push(s.enable(&token).await.0);
    }
    s.clock.advance(30);
    let mut attempts = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        // The first account sends its code twice, on two challenges.
        for _ in 0..if i == 0 { 2 } else { 1 } {
            attempts.push((s.challenge(&format!("user{i}")).await, phone.input_at(s.now())));
        }
    }
    let (sign_ins, sessions) = (
        db.scalar("SELECT COUNT(*) FROM events WHERE type = 'sign_in'").await,
        db.scalar("SELECT COUNT(*) FROM sessions").await,
    );
    let sent = attempts.into_iter().map(|(challenge, code)| {
        let client = s.client.clone();
        tokio::spawn(async move { client.second_factor(&challenge, &code).await })
    });
    let results: Vec<_> = join_all(sent).await.into_iter().map(|joined| joined.unwrap()).collect();
    let tokens: std::collections::HashSet<_> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|session| session.token.expose().to_owned())
        .collect();
    assert_eq!(tokens.len(), ACCOUNTS, "{results:?}");
    let lost: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(lost, [&ClientError::CodeAlreadyUsed], "{results:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM events WHERE type = 'sign_in'").await, sign_ins + 8);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sessions").await, sessions + 8);
    for token in &tokens {
        s.client.me(&SecretString::new(token.as_str())).await.unwrap();
    }
}

on_both_backends!(bad_bodies_get_problem_json);
async fn bad_bodies_get_problem_json(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let http = reqwest::Client::new();
    let url = format!("{}{}", s.base_url, paths::LOGIN);
    let send = |body: String| http.post(&url).header("content-type", "application/json").body(body).send();
    let check = |status: StatusCode, code: &'static str| {
        move |response: reqwest::Response| async move {
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], code, "{body}");
            assert_eq!(body["status"], status.as_u16());
        }
    };
    let big = format!(r#"{{"username":"alice","password":"{}"}}"#, "x".repeat(65 * 1024));
    check(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")(send(big).await.unwrap()).await;
    check(StatusCode::BAD_REQUEST, "invalid_request")(send("{\"username\":".into()).await.unwrap()).await;
    let wrong_type = json!({"username": ["alice"], "password": PASSWORD}).to_string();
    check(StatusCode::BAD_REQUEST, "invalid_request")(send(wrong_type).await.unwrap()).await;
    let missing = json!({"username": "alice"}).to_string();
    check(StatusCode::BAD_REQUEST, "invalid_request")(send(missing).await.unwrap()).await;
    let no_type = http.post(&url).body(json!({"username": "alice", "password": PASSWORD}).to_string()).send();
    check(StatusCode::BAD_REQUEST, "invalid_request")(no_type.await.unwrap()).await;
    let unknown = http.get(format!("{}/v1/unknown", s.base_url)).send().await.unwrap();
    check(StatusCode::NOT_FOUND, "not_found")(unknown).await;
    let wrong_method = http.delete(&url).send().await.unwrap();
    check(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")(wrong_method).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_holds_no_secret_in_plain_text() {
    let db = TestDb::sqlite();
    new_user(&db, "alice").await;
    let mut s = TestServer::start(&db).await;
    let token = s.login_token("alice").await;
    // A pending enrollment, replaced by the one that gets confirmed.
    s.client.start_enrollment(&token, &SecretString::new(PASSWORD)).await.unwrap();
    let (phone, confirmed) = s.enable(&token).await;
    s.clock.advance(30);
    let challenge = s.challenge("alice").await;
    let session = s.sign_in_with(&challenge, phone.input_at(s.now())).await;
    let challenge2 = s.challenge("alice").await;

    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("password".into(), PASSWORD.as_bytes().to_vec()),
        ("secret (base32)".into(), phone.secret_base32().into_bytes()),
        ("secret (raw)".into(), phone.secret_bytes()),
        ("first token".into(), token.expose().as_bytes().to_vec()),
        ("second token".into(), session.token.expose().as_bytes().to_vec()),
        ("challenge".into(), challenge2.expose().as_bytes().to_vec()),
    ];
    for code in &confirmed.backup_codes {
        needles.push(("backup code".into(), code.expose().as_bytes().to_vec()));
        needles.push(("backup code (canonical)".into(), code.expose().replace('-', "").into_bytes()));
    }
    let file = db.sqlite_file.clone().unwrap();
    let scan = |when: &str| {
        let mut haystacks = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", file.display());
            if let Ok(bytes) = std::fs::read(&path) {
                haystacks.push((path, bytes));
            }
        }
        assert!(!haystacks.is_empty());
        for (path, bytes) in &haystacks {
            for (what, needle) in &needles {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{when}: {what} found in {path}"
                );
            }
        }
    };
    scan("while running");
    s.stop().await;
    scan("after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_database_and_key_file_are_private_to_the_owner() {
    let db = TestDb::sqlite();
    let s = TestServer::start(&db).await;
    let meta = std::fs::metadata(&db.key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(std::fs::read_to_string(&db.key_file).unwrap().trim().len(), 64);
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt as _;
        let path = format!("{}{suffix}", db.sqlite_file.as_ref().unwrap().display());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_is_prompt_with_an_idle_keep_alive_connection() {
    let db = TestDb::sqlite();
    let mut s = TestServer::start(&db).await;
    // The client keeps its connection open in its pool, as the terminal app does.
    s.client.health().await.unwrap();
    let started = std::time::Instant::now();
    s.stop().await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(matches!(s.client.health().await.unwrap_err(), ClientError::Unreachable { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_requires_a_key_file() {
    let Some(db) = TestDb::postgres().await else { return };
    let mut config = db.config();
    config.key_file = None;
    let error = usercenter::server::start(config).await.err().expect("must refuse to start");
    assert!(format!("{error:#}").contains("--key-file"), "{error:#}");
}

/// Two server processes on one PostgreSQL database: counts and single use hold across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_share_throttling_and_single_use() {
    let Some(db) = TestDb::postgres().await else { return };
    new_user(&db, "alice").await;
    let clock = ManualClock::starting_now();
    let a = TestServer::start_with(&db, clock.clone()).await;
    let b = TestServer::start_with(&db, clock.clone()).await;
    assert_ne!(a.base_url, b.base_url);
    let token = a.login_token("alice").await;
    let (phone, confirmed) = a.enable(&token).await;
    // The session made on A works on B.
    assert!(b.client.me(&token).await.unwrap().two_factor.enabled);

    // A TOTP code accepted on A is spent on B.
    clock.advance(30);
    let code = phone.input_at(a.now());
    let challenge = a.challenge("alice").await;
    a.sign_in_with(&challenge, code.clone()).await;
    let challenge = b.challenge("alice").await;
    assert_eq!(b.client.second_factor(&challenge, &code).await.unwrap_err(), ClientError::CodeAlreadyUsed);

    // A backup code used on B is spent on A.
    let challenge = b.challenge("alice").await;
    b.sign_in_with(&challenge, backup(&confirmed.backup_codes[0])).await;
    let challenge = a.challenge("alice").await;
    let spent = a.client.second_factor(&challenge, &backup(&confirmed.backup_codes[0])).await.unwrap_err();
    assert_eq!(spent, ClientError::CodeAlreadyUsed);

    // Failures on both count together: 3 on A and 2 on B lock both (the earlier spent codes count too,
    // so start from a success that resets the count).
    clock.advance(30);
    let right = phone.code_at(a.now());
    a.sign_in_with(&challenge, SecondFactorInput::Totp(right.clone())).await;
    clock.advance(30);
    let right = phone.code_at(a.now());
    let challenge_a = a.challenge("alice").await;
    let challenge_b = b.challenge("alice").await;
    for (server, challenge) in
        [(&a, &challenge_a), (&b, &challenge_b), (&a, &challenge_a), (&b, &challenge_b), (&a, &challenge_a)]
    {
        let e = server.client.second_factor(challenge, &wrong_code(&right)).await.unwrap_err();
        assert!(matches!(e, ClientError::InvalidCode { .. }), "{e:?}");
    }
    let right = SecondFactorInput::Totp(right);
    for (server, challenge) in [(&a, &challenge_a), (&b, &challenge_b)] {
        let locked = server.client.second_factor(challenge, &right).await.unwrap_err();
        assert_eq!(locked, ClientError::TooManyAttempts { retry_after: Duration::from_secs(30) });
    }
    // Password logins: 3 failures on A and 2 on B, then the right password is refused on both.
    for server in [&a, &b, &a, &b, &a] {
        let e = server.client.login("alice", &SecretString::new("wrong")).await.unwrap_err();
        assert_eq!(e, ClientError::InvalidCredentials);
    }
    for server in [&a, &b] {
        let e = server.client.login("alice", &SecretString::new(PASSWORD)).await.unwrap_err();
        assert!(matches!(e, ClientError::TooManyAttempts { .. }), "{e:?}");
    }
    clock.advance(30);
    b.sign_in_with(&challenge_b, right).await;

    // 50 simultaneous uses of one backup code, spread over both servers.
    race(&a, &[&b], backup(&confirmed.backup_codes[5])).await;
}

on_both_backends!(support_reset_turns_two_factor_off);
async fn support_reset_turns_two_factor_off(db: &TestDb) {
    new_user(db, "alice").await;
    let s = TestServer::start(db).await;
    let token = s.login_token("alice").await;
    s.enable(&token).await;
    let missing = usercenter::server::reset_two_factor(&db.url, "nobody").await.unwrap_err();
    assert!(missing.to_string().contains("nobody"), "{missing}");
    usercenter::server::reset_two_factor(&db.url, "alice").await.unwrap();
    assert_eq!(s.client.me(&token).await.unwrap_err(), ClientError::Unauthorized, "sessions are revoked");
    let token = s.login_token("alice").await;
    assert!(!s.client.me(&token).await.unwrap().two_factor.enabled);
    let duplicate = usercenter::server::create_user(&db.url, "alice", &SecretString::new("another one"))
        .await
        .unwrap_err();
    assert!(duplicate.to_string().contains("already exists"), "{duplicate}");
}

mod cli {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::common::server::TestDb;

    const BIN: &str = env!("CARGO_BIN_EXE_usercenter");

    fn user_add(db: &TestDb, username: &str, stdin: &str) -> std::process::Output {
        let mut child = Command::new(BIN)
            .args(["user", "add", username, "--password-stdin", "--database", &db.url])
            .env_remove("USERCENTER_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    #[test]
    fn user_add_reads_the_password_from_stdin_and_refuses_empty_and_duplicates() {
        let db = TestDb::sqlite();
        let empty = user_add(&db, "alice", "");
        assert!(!empty.status.success());
        assert!(String::from_utf8_lossy(&empty.stderr).contains("empty"), "{empty:?}");
        let empty_line = user_add(&db, "alice", "\n");
        assert!(!empty_line.status.success());

        let added = user_add(&db, "alice", "s3cret pass\n");
        assert!(added.status.success(), "{added:?}");
        assert!(db.sqlite_file.as_ref().unwrap().exists(), "the database is created");
        let again = user_add(&db, "alice", "another one\n");
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"), "{again:?}");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s = super::TestServer::start(&db).await;
            let pw = usercenter::domain::SecretString::new("s3cret pass");
            assert!(s.client.login("alice", &pw).await.is_ok(), "the trailing newline is not part of it");
        });

        let reset =
            Command::new(BIN).args(["user", "reset-2fa", "alice", "--database", &db.url]).output().unwrap();
        assert!(reset.status.success(), "{reset:?}");
        let unknown =
            Command::new(BIN).args(["user", "reset-2fa", "bob", "--database", &db.url]).output().unwrap();
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("bob"), "{unknown:?}");
        let no_flag =
            Command::new(BIN).args(["user", "add", "carol", "--database", &db.url]).output().unwrap();
        assert!(!no_flag.status.success(), "--password-stdin is required");
        let said = String::from_utf8_lossy(&no_flag.stderr);
        assert!(said.contains("not a terminal") && said.contains("--password-stdin"), "{said}");
    }

    #[test]
    fn user_add_at_a_terminal_asks_twice_and_refuses_a_mismatch() {
        let db = TestDb::sqlite();
        let add = |first: &str, again: &str| {
            let args = ["user", "add", "dave", "--database", &db.url];
            super::common::pty::PtyApp::answer_password_twice(&args, first, again)
        };
        let (created, screen) = add("first pass", "other pass");
        assert!(!created && screen.contains("the two passwords differ"), "{screen}");
        let (created, screen) = add("s3cret pass", "s3cret pass");
        assert!(created && screen.contains("created user dave"), "{screen}");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s = super::TestServer::start(&db).await;
            let pw = usercenter::domain::SecretString::new("s3cret pass");
            assert!(s.client.login("dave", &pw).await.is_ok());
        });
    }

    #[test]
    fn serve_prints_its_address_and_stops_on_sigterm() {
        let db = TestDb::sqlite();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url, "--issuer", "Acme"])
            .env_remove("USERCENTER_KEY_FILE")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
        assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let client = usercenter::client::ApiClient::new(&url).unwrap();
            assert_eq!(client.health().await.unwrap().status, "ok");
        });
        assert!(db.key_file.exists(), "the key file is created beside the database");

        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let status = super::common::eventually(
            Duration::from_secs(20),
            || "the server did not stop on SIGTERM".into(),
            || child.try_wait().unwrap(),
        );
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "{status:?}\n{stderr}");
        assert!(stderr.contains("/v1/health"), "requests are logged: {stderr}");
        assert!(!stderr.to_lowercase().contains("authorization"), "{stderr}");
    }

    #[test]
    fn serve_refuses_postgres_without_a_key_file() {
        let output = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", "postgres://nobody@127.0.0.1:1/none"])
            .env_remove("USERCENTER_KEY_FILE")
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--key-file"), "{stderr}");
    }
}
