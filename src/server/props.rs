//! Property test of the server's rules against a small model of ../shared/API.md.
//!
//! Random interleavings of sign-ins (right and wrong passwords), codes (right, replayed, from the
//! neighbouring steps and beyond the window), backup codes (unused, used, from an older set), runs of
//! wrong codes up to the hard lock, unlocks, new backup codes, disabling and enabling again, and clock
//! moves, from two accounts, go through `router(state).oneshot` on SQLite in memory with the manual
//! clock. After every request the server and the model must agree on the answer (status, error code,
//! what it carries) and on the account's events.
//!
//! The model is the contract, written plainly: rule 2 (a step is good once, also across a disable),
//! rule 4 (backup codes once; a new set replaces the old), rule 5 (five failures, then 30 s doubling to
//! 15 min; a 429 is not an attempt; a success resets), rule 7 (challenges live 5 minutes and die on
//! success; sessions 12 hours), rule 8 (the login count per username and address, forgotten after 12
//! hours without a failure), rule 10 (100 failed second factors in a row lock until an unlock) and the
//! v1.1 events (what each action records, and `throttled` once when a back-off starts).
//!
//! The seed: see `crate::property`.

use std::collections::HashSet;
use std::sync::Arc;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::store::Store as _;
use super::{AppState, Clock as _, ManualClock, SqliteStore, router};
use crate::domain::{EventKind, SignInFailure, SignInMethod, ThrottleScope, paths};

const T0: i64 = 1_800_000_000;
const STEP: i64 = 30;
const PASSWORD: &str = "correct horse battery";
const ACCOUNTS: [&str; 2] = ["alice", "bob"];
const CHALLENGE_TTL: i64 = 5 * 60;
const SESSION_TTL: i64 = 12 * 60 * 60;
const LOGIN_DECAY: i64 = 12 * 60 * 60;
const LOCK_AFTER: i64 = 100;

/// What a person (or an attacker, or an administrator) does next.
#[derive(Clone, Debug)]
enum Op {
    Login {
        account: usize,
        right: bool,
    },
    /// Wrong passwords in a row, without waiting: into the login back-off (rule 8).
    PasswordGuesses {
        account: usize,
        count: usize,
    },
    /// The code for the step `offset` away from now, on the newest challenge or the oldest (`older`).
    Code {
        account: usize,
        offset: i64,
        older: bool,
    },
    /// `which` picks an unused, a used or an old backup code.
    Backup {
        account: usize,
        which: u8,
        pick: usize,
    },
    /// Wrong codes, each after waiting out the back-off: towards the hard lock.
    Guesses {
        account: usize,
        count: usize,
    },
    Unlock {
        account: usize,
    },
    Regenerate {
        account: usize,
        right: bool,
    },
    Disable {
        account: usize,
        right: bool,
    },
    Enable {
        account: usize,
    },
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let account = 0usize..2;
    prop_oneof![
        6 => (account.clone(), prop::bool::weighted(0.7)).prop_map(|(account, right)| Op::Login { account, right }),
        1 => (account.clone(), 1usize..8).prop_map(|(account, count)| Op::PasswordGuesses { account, count }),
        6 => (account.clone(), -2i64..=2, prop::bool::weighted(0.15))
            .prop_map(|(account, offset, older)| Op::Code { account, offset, older }),
        3 => (account.clone(), 0u8..3, any::<usize>()).prop_map(|(account, which, pick)| Op::Backup { account, which, pick }),
        1 => (account.clone(), prop_oneof![1usize..8, 90usize..110]).prop_map(|(account, count)| Op::Guesses { account, count }),
        1 => account.clone().prop_map(|account| Op::Unlock { account }),
        2 => (account.clone(), prop::bool::weighted(0.7)).prop_map(|(account, right)| Op::Regenerate { account, right }),
        1 => (account.clone(), prop::bool::weighted(0.7)).prop_map(|(account, right)| Op::Disable { account, right }),
        1 => account.prop_map(|account| Op::Enable { account }),
        4 => prop_oneof![Just(1i64), Just(29), Just(30), Just(31), Just(300), Just(901), Just(LOGIN_DECAY + 1)].prop_map(Op::Wait),
    ]
}

/// A count of consecutive failures with rule 5's back-off (and, for logins, rule 8's decay).
#[derive(Clone, Debug, Default)]
struct Count {
    failures: i64,
    locked_until: Option<i64>,
    updated_at: i64,
}

impl Count {
    fn locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Counts a failure at `now`; true when it starts a back-off.
    fn fail(&mut self, now: i64, decay: Option<i64>) -> bool {
        let forgotten = decay.is_some_and(|d| self.failures > 0 && self.updated_at <= now - d);
        self.failures = if forgotten { 1 } else { self.failures + 1 };
        self.updated_at = now;
        self.locked_until = (self.failures >= 5).then(|| now + backoff(self.failures));
        self.locked_until.is_some()
    }

    fn clear(&mut self) {
        *self = Count::default();
    }
}

/// 30 s from the fifth failure, doubling, at most 15 minutes.
fn backoff(failures: i64) -> i64 {
    let doublings = u32::try_from(failures - 5).unwrap_or(0).min(5);
    (30i64 << doublings).min(900)
}

#[derive(Clone, Debug)]
struct Account {
    name: &'static str,
    enabled: bool,
    secret: Option<String>,
    /// The newest step accepted for the account (rule 2); kept across a disable.
    last_step: i64,
    codes: Vec<String>,
    used: HashSet<String>,
    old_codes: Vec<String>,
    /// Every challenge issued, oldest first: (value, when it dies, spent). A new login does not end the
    /// earlier ones (rule 7: they die after 5 minutes, or on success).
    challenges: Vec<(String, i64, bool)>,
    token: Option<(String, i64)>,
    login: Count,
    verify: Count,
    /// Failed second factors in a row (rule 10).
    hard: i64,
    events: Vec<EventKind>,
}

impl Account {
    /// The newest challenge, or the oldest one (`older`), whatever its state.
    fn challenge(&self, older: bool) -> Option<&(String, i64, bool)> {
        if older { self.challenges.first() } else { self.challenges.last() }
    }

    fn is_live(&self, challenge: &str, now: i64) -> bool {
        self.challenges.iter().any(|(c, dies, spent)| c == challenge && *dies > now && !spent)
    }

    fn live_challenge(&self, now: i64) -> Option<&str> {
        self.challenge(false).filter(|(c, _, _)| self.is_live(c, now)).map(|(c, _, _)| c.as_str())
    }

    fn live_token(&self, now: i64) -> Option<String> {
        self.token.as_ref().filter(|(_, dies)| *dies > now).map(|(t, _)| t.clone())
    }

    fn unused_codes(&self) -> Vec<&String> {
        self.codes.iter().filter(|c| !self.used.contains(*c)).collect()
    }
}

/// An answer as the test compares it.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    status: u16,
    /// The problem's code, or the success's `status` field where there is one.
    code: String,
    remaining: Option<u64>,
}

impl Outcome {
    fn ok(status: u16, code: &str) -> Self {
        Self { status, code: code.into(), remaining: None }
    }
}

struct World {
    app: Router,
    state: AppState<SqliteStore>,
    clock: ManualClock,
    accounts: Vec<Account>,
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => {
            request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string()))
        }
        None => request.body(Body::empty()),
    }
    .expect("a request");
    let response = app.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("a body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") };
    (status, body)
}

fn outcome(status: StatusCode, body: &Value) -> Outcome {
    let code = body["code"].as_str().or_else(|| body["status"].as_str()).unwrap_or_default().to_owned();
    Outcome { status: status.as_u16(), code, remaining: body["backup_codes_remaining"].as_u64() }
}

/// A password hash with the smallest argon2 parameters: the rules are what is tested, not argon2.
fn cheap_hash(password: &str) -> String {
    let params = Params::new(8, 1, 1, Some(32)).expect("parameters");
    let salt = [7u8; 16];
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .expect("a hash");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("params"),
        salt: Some(Salt::new(&salt).expect("salt")),
        hash: Some(Output::new(&out).expect("output")),
    }
    .to_string()
}

fn code_at(secret: &str, step: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32");
    let totp = totp_rs::Builder::new().with_secret(secret).build().expect("a TOTP");
    totp.generate(u64::try_from(step * STEP).expect("after 1970")).to_string()
}

impl World {
    async fn new() -> Self {
        let clock = ManualClock::at_unix(T0);
        let state = AppState::in_memory(Arc::new(clock.clone())).await.expect("a state");
        for name in ACCOUNTS {
            assert!(state.store.create_user(name, &cheap_hash(PASSWORD), T0).await.expect("a user"));
        }
        let accounts = ACCOUNTS
            .iter()
            .map(|&name| Account {
                name,
                enabled: false,
                secret: None,
                last_step: 0,
                codes: Vec::new(),
                used: HashSet::new(),
                old_codes: Vec::new(),
                challenges: Vec::new(),
                token: None,
                login: Count::default(),
                verify: Count::default(),
                hard: 0,
                events: Vec::new(),
            })
            .collect();
        let mut world = Self { app: router(state.clone()), state, clock, accounts };
        for account in 0..ACCOUNTS.len() {
            world.apply(&Op::Login { account, right: true }).await.expect("sign in");
            world.apply(&Op::Enable { account }).await.expect("enable");
        }
        world
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }

    /// Sends one request, asks the model what it must answer, and compares.
    async fn expect(
        &self,
        expected: Outcome,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let (status, answer) = call(&self.app, method, path, token, body).await;
        let got = outcome(status, &answer);
        if got == expected {
            Ok(answer)
        } else {
            Err(format!("{path}: the server answered {got:?}, the model {expected:?}: {answer}"))
        }
    }

    async fn apply(&mut self, op: &Op) -> Result<(), String> {
        let now = self.now();
        match *op {
            Op::Wait(seconds) => {
                self.clock.advance(seconds);
                Ok(())
            }
            Op::Login { account, right } => self.login(account, right).await,
            Op::PasswordGuesses { account, count } => {
                for _ in 0..count {
                    self.login(account, false).await?;
                }
                Ok(())
            }
            Op::Code { account, offset, older } => {
                let a = &self.accounts[account];
                let Some(secret) = a.secret.clone() else { return Ok(()) };
                let step = now / STEP + offset;
                let code = code_at(&secret, step);
                let proof = json!({"code": code});
                // Beyond the window the code is wrong, unless it happens to equal one inside it.
                let in_window =
                    (-1..=1).any(|near| code_at(&secret, now / STEP + near) == code) && offset.abs() <= 1;
                let verdict = if in_window && step > a.last_step {
                    Verdict::Good { step: Some(step) }
                } else if in_window {
                    Verdict::Failed(SignInFailure::CodeAlreadyUsed)
                } else {
                    Verdict::Failed(SignInFailure::InvalidCode)
                };
                self.second_factor(account, proof, verdict, older).await
            }
            Op::Backup { account, which, pick } => {
                let a = &self.accounts[account];
                let unused = a.unused_codes();
                let used: Vec<&String> = a.used.iter().filter(|c| a.codes.contains(c)).collect();
                let (code, verdict) = match which {
                    0 if !unused.is_empty() => {
                        (unused[pick % unused.len()].clone(), Verdict::Good { step: None })
                    }
                    1 if !used.is_empty() => {
                        (used[pick % used.len()].clone(), Verdict::Failed(SignInFailure::CodeAlreadyUsed))
                    }
                    _ if !a.old_codes.is_empty() => (
                        a.old_codes[pick % a.old_codes.len()].clone(),
                        Verdict::Failed(SignInFailure::InvalidCode),
                    ),
                    _ => return Ok(()),
                };
                self.second_factor(account, json!({"backup_code": code}), verdict, false).await
            }
            Op::Guesses { account, count } => {
                for _ in 0..count {
                    let a = &self.accounts[account];
                    let Some(secret) = a.secret.clone() else { return Ok(()) };
                    if a.live_challenge(self.now()).is_none() {
                        self.login(account, true).await?;
                        if self.accounts[account].live_challenge(self.now()).is_none() {
                            return Ok(());
                        }
                    }
                    if let Some(until) = self.accounts[account].verify.locked_until {
                        let wait = until - self.now();
                        if wait > 0 {
                            self.clock.advance(wait);
                        }
                    }
                    // A code far outside the window: wrong whatever the clock.
                    let now = self.now();
                    let wrong = (2..20)
                        .map(|far| code_at(&secret, now / STEP + far))
                        .find(|code| (-1..=1).all(|near| code_at(&secret, now / STEP + near) != *code))
                        .expect("a wrong code");
                    let verdict = Verdict::Failed(SignInFailure::InvalidCode);
                    self.second_factor(account, json!({"code": wrong}), verdict, false).await?;
                    if self.accounts[account].hard >= LOCK_AFTER {
                        break;
                    }
                }
                Ok(())
            }
            Op::Unlock { account } => {
                let name = self.accounts[account].name;
                self.state.store.unlock_second_factor(name, now).await.map_err(|e| e.to_string())?;
                let a = &mut self.accounts[account];
                if a.hard >= LOCK_AFTER {
                    a.events.push(EventKind::SecondFactorUnlocked {});
                }
                a.hard = 0;
                a.verify.clear();
                Ok(())
            }
            Op::Regenerate { account, right } => {
                let Some(answer) = self.with_password(account, right, paths::BACKUP_CODES).await? else {
                    return Ok(());
                };
                let a = &mut self.accounts[account];
                a.old_codes = std::mem::take(&mut a.codes);
                a.used.clear();
                let codes = answer["backup_codes"].as_array().into_iter().flatten();
                a.codes = codes.filter_map(|c| c.as_str().map(str::to_owned)).collect();
                a.events.push(EventKind::BackupCodesRegenerated {});
                Ok(())
            }
            Op::Disable { account, right } => {
                if self.with_password(account, right, paths::DISABLE).await?.is_some() {
                    let a = &mut self.accounts[account];
                    a.enabled = false;
                    a.secret = None;
                    a.old_codes = std::mem::take(&mut a.codes);
                    a.used.clear();
                    a.events.push(EventKind::TwoFactorDisabled {});
                }
                Ok(())
            }
            Op::Enable { account } => self.enable(account).await,
        }
    }

    /// The password step of `account` and what the model expects of it.
    async fn login(&mut self, account: usize, right: bool) -> Result<(), String> {
        let now = self.now();
        let a = &mut self.accounts[account];
        let body = json!({"username": a.name, "password": if right { PASSWORD } else { "wrong password" }});
        let expected = if a.login.locked(now) {
            Outcome::ok(429, "too_many_attempts")
        } else {
            let backs_off = a.login.fail(now, Some(LOGIN_DECAY));
            if right {
                a.login.clear();
                if a.enabled {
                    Outcome::ok(200, "second_factor_required")
                } else {
                    a.events.push(EventKind::SignIn { method: SignInMethod::Password });
                    Outcome::ok(200, "authenticated")
                }
            } else {
                a.events.push(EventKind::SignInFailed { reason: SignInFailure::InvalidPassword });
                if backs_off {
                    a.events.push(EventKind::Throttled { scope: ThrottleScope::Login });
                }
                Outcome::ok(401, "invalid_credentials")
            }
        };
        let answer = self.expect(expected, Method::POST, paths::LOGIN, None, Some(body)).await?;
        let a = &mut self.accounts[account];
        if let Some(challenge) = answer["challenge"].as_str() {
            a.challenges.push((challenge.to_owned(), now + CHALLENGE_TTL, false));
        }
        if let Some(token) = answer["token"].as_str() {
            a.token = Some((token.to_owned(), now + SESSION_TTL));
        }
        Ok(())
    }

    /// A second factor (`proof`) on the account's newest challenge, or on its oldest (`older`), which
    /// may have been spent or have died.
    async fn second_factor(
        &mut self,
        account: usize,
        proof: Value,
        verdict: Verdict,
        older: bool,
    ) -> Result<(), String> {
        let now = self.now();
        let a = &mut self.accounts[account];
        let Some(challenge) = a.challenge(older).map(|(c, _, _)| c.clone()) else { return Ok(()) };
        let mut body = proof;
        body["challenge"] = json!(challenge);
        let expected = if !a.is_live(&challenge, now) {
            Outcome::ok(401, "challenge_expired")
        } else if a.hard >= LOCK_AFTER {
            Outcome::ok(403, "second_factor_locked")
        } else if a.verify.locked(now) {
            Outcome::ok(429, "too_many_attempts")
        } else if !a.enabled {
            // Two-factor authentication was turned off after the challenge was issued: sign in again.
            Outcome::ok(401, "challenge_expired")
        } else {
            let backs_off = a.verify.fail(now, None);
            a.hard += 1;
            match verdict {
                Verdict::Good { step } => {
                    a.verify.clear();
                    a.hard = 0;
                    if let Some(step) = step {
                        a.last_step = step;
                    }
                    let method = match step {
                        Some(_) => SignInMethod::Totp,
                        None => SignInMethod::BackupCode,
                    };
                    a.events.push(EventKind::SignIn { method });
                    Outcome::ok(200, "authenticated")
                }
                Verdict::Failed(reason) => {
                    a.events.push(EventKind::SignInFailed { reason });
                    if backs_off {
                        a.events.push(EventKind::Throttled { scope: ThrottleScope::SecondFactor });
                    }
                    if a.hard >= LOCK_AFTER {
                        a.events.push(EventKind::SecondFactorLocked {});
                    }
                    let code = match reason {
                        SignInFailure::CodeAlreadyUsed => "code_already_used",
                        SignInFailure::InvalidCode | SignInFailure::InvalidPassword => "invalid_code",
                    };
                    Outcome::ok(401, code)
                }
            }
        };
        let mut expected = expected;
        if let Some(code) = body["backup_code"].as_str().filter(|_| expected.status == 200) {
            a.used.insert(code.to_owned());
            expected.remaining = Some(a.unused_codes().len() as u64);
        }
        let answer = self.expect(expected, Method::POST, paths::SECOND_FACTOR, None, Some(body)).await?;
        let a = &mut self.accounts[account];
        if let Some(token) = answer["token"].as_str() {
            a.token = Some((token.to_owned(), now + SESSION_TTL));
            if let Some(entry) = a.challenges.iter_mut().find(|(c, _, _)| *c == challenge) {
                entry.2 = true;
            }
        }
        Ok(())
    }

    /// New backup codes or disabling (`path`): 409 while 2FA is off, else the password re-entered. The
    /// answer when it went through; `None` when it was refused as the model expected, or no session is
    /// live to ask with.
    async fn with_password(
        &mut self,
        account: usize,
        right: bool,
        path: &str,
    ) -> Result<Option<Value>, String> {
        let Some(token) = self.accounts[account].live_token(self.now()) else { return Ok(None) };
        let body = json!({"password": if right { PASSWORD } else { "wrong password" }});
        let expected = if !self.accounts[account].enabled {
            Outcome::ok(409, "not_enabled")
        } else {
            self.reenter(account, right).unwrap_or(Outcome::ok(200, ""))
        };
        let done = expected.status == 200;
        let answer = self.expect(expected, Method::POST, path, Some(&token), Some(body)).await?;
        Ok(done.then_some(answer))
    }

    /// A password re-entered by a signed-in account (rule 5, counted with its second factors): the
    /// refusal the model expects, or `None` when it goes through.
    fn reenter(&mut self, account: usize, right: bool) -> Option<Outcome> {
        let now = self.now();
        let a = &mut self.accounts[account];
        if a.verify.locked(now) {
            return Some(Outcome::ok(429, "too_many_attempts"));
        }
        let backs_off = a.verify.fail(now, None);
        if right {
            a.verify.clear();
            return None;
        }
        if backs_off {
            a.events.push(EventKind::Throttled { scope: ThrottleScope::Password });
        }
        Some(Outcome::ok(401, "invalid_password"))
    }

    /// Starts and confirms an enrollment with the code of the current step, as a phone would.
    async fn enable(&mut self, account: usize) -> Result<(), String> {
        let now = self.now();
        let Some(token) = self.accounts[account].live_token(now) else { return Ok(()) };
        let expected = if self.accounts[account].enabled {
            Outcome::ok(409, "already_enabled")
        } else {
            self.reenter(account, true).unwrap_or(Outcome::ok(201, ""))
        };
        let body = json!({"password": PASSWORD});
        let started =
            self.expect(expected, Method::POST, paths::ENROLLMENT, Some(&token), Some(body)).await?;
        let Some(secret) = started["secret"].as_str().map(str::to_owned) else { return Ok(()) };
        let step = now / STEP;
        let a = &mut self.accounts[account];
        let expected = if a.verify.locked(now) {
            Outcome::ok(429, "too_many_attempts")
        } else if step <= a.last_step {
            // The step was used already (rule 2, across the disable): refused and counted.
            let backs_off = a.verify.fail(now, None);
            if backs_off {
                a.events.push(EventKind::Throttled { scope: ThrottleScope::SecondFactor });
            }
            Outcome::ok(401, "code_already_used")
        } else {
            a.verify.fail(now, None);
            a.verify.clear();
            a.enabled = true;
            a.last_step = step;
            a.events.push(EventKind::TwoFactorEnabled {});
            Outcome::ok(200, "")
        };
        let body = json!({"code": code_at(&secret, step)});
        let confirmed =
            self.expect(expected, Method::POST, paths::ENROLLMENT_CONFIRM, Some(&token), Some(body)).await?;
        let a = &mut self.accounts[account];
        if let Some(codes) = confirmed["backup_codes"].as_array() {
            a.secret = Some(secret);
            a.old_codes = std::mem::take(&mut a.codes);
            a.used.clear();
            a.codes = codes.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect();
        }
        Ok(())
    }

    /// The account's events as the server recorded them, oldest first.
    async fn recorded_events(&self, account: usize) -> Result<Vec<EventKind>, String> {
        let name = self.accounts[account].name;
        let user = self.state.store.user_by_name(name).await.map_err(|e| e.to_string())?.ok_or("no user")?;
        let mut events =
            self.state.store.events(Some(user.user.id), None, 10_000).await.map_err(|e| e.to_string())?;
        events.reverse();
        events
            .into_iter()
            .map(|e| {
                let details: Value = serde_json::from_str(&e.details).map_err(|err| err.to_string())?;
                serde_json::from_value(json!({"type": e.kind, "details": details}))
                    .map_err(|err| err.to_string())
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug)]
enum Verdict {
    /// The proof is good: a TOTP code of this step, or a backup code (`None`).
    Good {
        step: Option<i64>,
    },
    Failed(SignInFailure),
}

fn check(ops: &[Op]) -> Result<(), String> {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut world = World::new().await;
        for (index, op) in ops.iter().enumerate() {
            world.apply(op).await.map_err(|e| format!("step {index} ({op:?}): {e}"))?;
            for (account, name) in ACCOUNTS.iter().enumerate() {
                let recorded = world.recorded_events(account).await?;
                let modelled = &world.accounts[account].events;
                if &recorded != modelled {
                    return Err(format!(
                        "step {index} ({op:?}): {name}'s events differ\n server: {recorded:?}\n model:  {modelled:?}"
                    ));
                }
            }
        }
        Ok(())
    })
}

#[test]
fn the_server_keeps_the_rules_of_the_contract() {
    let ops = prop::collection::vec(op(), 1..40);
    crate::property::check("server rules property test", 11, 48, ops, |ops| check(&ops));
}
