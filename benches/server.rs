//! The server's hot paths: the CPU checks of a second factor, and whole requests through
//! `router(state).oneshot` on a SQLite file (WAL, the writer and readers the server uses).
//!
//! `cargo bench --bench server`; compare runs side by side (the machine may be shared).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tower::ServiceExt as _;
use usercenter::domain::{BackupCode, SecretString};
use usercenter::server::crypto::{HashKind, Keys, random_public_id, random_token};
use usercenter::server::store::{
    self, AfterPassword, Confirmation, NewCredential, NewSession, OpenedStore, Origin, PasswordLogin,
};
use usercenter::server::{
    AppState, Clock as _, ManualClock, Missing, Passwords, RequestLimits, SqliteStore, Store, router, totp,
};

const START: i64 = 1_800_000_000;

fn code_at(secret: &[u8], unix: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .expect("a TOTP generator");
    totp.generate(u64::try_from(unix).expect("after 1970")).to_string()
}

/// The CPU part of a second factor, as `service::signin` does it before its transaction.
fn checks(c: &mut Criterion) {
    let keys = Keys::random();
    let secret = totp::generate_secret();
    let sealed = keys.encrypt_secret(7, &secret).expect("sealed");
    let code = code_at(&secret, START);
    c.bench_function("totp verify (decrypt the secret, match the code in ±1 step)", |b| {
        b.iter(|| {
            let secret = keys.decrypt_secret(7, std::hint::black_box(&sealed)).expect("decrypted");
            totp::matching_step(&secret, std::hint::black_box(&code), START).expect("checked")
        });
    });
    c.bench_function("backup code check (parse, keyed hash)", |b| {
        b.iter(|| {
            let code = BackupCode::parse(std::hint::black_box("ABCDE fghjk")).expect("well formed");
            keys.lookup_hash(HashKind::BackupCode, code.canonical())
        });
    });
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: AppState<SqliteStore>,
    clock: ManualClock,
    user_id: i64,
    secret: Vec<u8>,
    session: String,
    _dir: tempfile::TempDir,
}

/// A server state on a new SQLite file, one account with 2FA on and a session.
fn fixture() -> Fixture {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let clock = ManualClock::at_unix(START);
    let (state, user_id, secret, session) = runtime.block_on(async {
        let OpenedStore::Sqlite { store, .. } = store::open(&url, Missing::Create).await.expect("opened")
        else {
            unreachable!("a SQLite URL")
        };
        let passwords = Passwords::new(1).expect("hashing pool");
        let clock_dyn = Arc::new(clock.clone());
        let state = AppState::new(
            store,
            Keys::random(),
            "bench".into(),
            clock_dyn,
            passwords,
            RequestLimits::default(),
        );
        state.create_user("alice", &SecretString::new("correct horse battery")).await.expect("user");
        let user_id = state.store.user_by_name("alice").await.expect("read").expect("alice").user.id;
        let secret = totp::generate_secret();
        let sealed = state.keys.encrypt_secret(user_id, &secret).expect("sealed");
        assert!(state.store.set_pending_enrollment(user_id, &sealed, START + 600).await.expect("pending"));
        let hashes: Vec<Vec<u8>> =
            (0..10).map(|i| state.keys.lookup_hash(HashKind::BackupCode, &format!("code{i:06}"))).collect();
        let confirmation = Confirmation {
            user_id,
            secret: &sealed,
            step: START / 30 - 10,
            backup_code_hashes: &hashes,
            origin: &Origin::ADMIN,
            now: START,
        };
        state.store.confirm_enrollment(confirmation).await.expect("enabled");
        let token = random_token();
        let hash = state.keys.lookup_hash(HashKind::SessionToken, token.expose());
        let public_id = random_public_id();
        let credential = NewCredential { hash: &hash, expires_at: START + 10 * 365 * 86_400 };
        let then = AfterPassword::Session(NewSession { credential, public_id: &public_id });
        let login =
            PasswordLogin { user_id, throttle_subject: "bench", then, origin: &Origin::ADMIN, now: START };
        state.store.complete_password_login(login).await.expect("session");
        (state, user_id, secret.to_vec(), token.expose().to_owned())
    });
    Fixture { runtime, state, clock, user_id, secret, session, _dir: dir }
}

fn requests(c: &mut Criterion) {
    let f = fixture();
    let app = router(f.state.clone());
    // Each sign-in a minute after the last, so its step is new (rule 2); its challenge is stored first,
    // untimed, as the password step would.
    c.bench_function("POST /v1/auth/second-factor (TOTP) via router, SQLite file", |b| {
        b.iter_batched(
            || {
                f.clock.advance(60);
                let now = f.clock.unix();
                let token = random_token();
                let hash = f.state.keys.lookup_hash(HashKind::Challenge, token.expose());
                let then = AfterPassword::Challenge(NewCredential { hash: &hash, expires_at: now + 300 });
                let login = PasswordLogin {
                    user_id: f.user_id,
                    throttle_subject: "bench",
                    then,
                    origin: &Origin::ADMIN,
                    now,
                };
                f.runtime.block_on(f.state.store.complete_password_login(login)).expect("challenge");
                let body =
                    serde_json::json!({ "challenge": token.expose(), "code": code_at(&f.secret, now) });
                Request::post("/v1/auth/second-factor")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .expect("request")
            },
            |request| {
                let response = f.runtime.block_on(app.clone().oneshot(request)).expect("answered");
                assert_eq!(response.status(), StatusCode::OK);
                response
            },
            BatchSize::PerIteration,
        );
    });
    c.bench_function("GET /v1/me via router, SQLite file", |b| {
        b.iter(|| {
            let request = Request::get("/v1/me")
                .header("authorization", format!("Bearer {}", f.session))
                .body(Body::empty())
                .expect("request");
            let response = f.runtime.block_on(app.clone().oneshot(request)).expect("answered");
            assert_eq!(response.status(), StatusCode::OK);
            response
        });
    });
    c.bench_function("GET /v1/health via router", |b| {
        b.iter(|| {
            let request = Request::get("/v1/health").body(Body::empty()).expect("request");
            f.runtime.block_on(app.clone().oneshot(request)).expect("answered")
        });
    });
}

criterion_group!(benches, checks, requests);
criterion_main!(benches);
