//! What every end-to-end test shares: a phone's authenticator app and one way to wait for something.
//!
//! Each test crate says `mod common;` and uses the parts it needs: `server` (databases and servers for the
//! API suite), `app_server` and `pty` (the real binary in a pseudo-terminal), `lossy_proxy`.

#![allow(dead_code)]

/// Runs `scenario` on SQLite (`sqlite`) and on PostgreSQL (`postgres`); the test crate must have
/// `TestDb` in scope at its root (`use common::server::TestDb;`).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(&super::TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(db) = super::TestDb::postgres().await {
                    super::$name(&db).await;
                }
            }
        }
    };
}

pub mod app_server;
pub mod lossy_proxy;
pub mod pty;
pub mod server;
pub mod tmux;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use usercenter::domain::{SecondFactorInput, VerificationCode};

/// How often [`within`] looks again: soon at first, then every 50 ms.
const FIRST_POLL: Duration = Duration::from_millis(5);
const POLL: Duration = Duration::from_millis(50);

/// Looks with `check` until it finds something, and returns it; after `timeout`, panics with `what()`
/// (which can describe the state seen last, such as the screen).
pub fn eventually<T>(timeout: Duration, what: impl Fn() -> String, check: impl FnMut() -> Option<T>) -> T {
    within(timeout, check).unwrap_or_else(|| panic!("gave up after {timeout:?}: {}", what()))
}

/// Looks with `check` until it finds something, for `timeout` at most.
pub fn within<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_POLL;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL);
    }
}

/// The system clock in Unix seconds, as a phone reads it.
pub fn unix_now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970");
    i64::try_from(since.as_secs()).expect("a clock before the year 292 billion")
}

/// An authenticator app, built from the otpauth URI alone (as scanned from a QR code).
pub struct Phone(totp_rs::Totp);

impl Phone {
    pub fn scan(uri: &str) -> Self {
        Self(totp_rs::Totp::from_url(uri).expect("the otpauth URI must be readable by an authenticator"))
    }

    /// What the app shows next to the code.
    pub fn account_name(&self) -> &str {
        self.0.account_name()
    }

    pub fn issuer(&self) -> Option<&str> {
        self.0.issuer()
    }

    pub fn code_at(&self, unix: i64) -> VerificationCode {
        let code = self.0.generate(u64::try_from(unix).expect("a time after 1970"));
        VerificationCode::parse(&code.to_string()).expect("six digits")
    }

    pub fn input_at(&self, unix: i64) -> SecondFactorInput {
        SecondFactorInput::Totp(self.code_at(unix))
    }

    /// The code the app shows now, and the 30-second step it belongs to.
    pub fn code_now(&self) -> (String, i64) {
        let now = unix_now();
        (self.code_at(now).expose().to_owned(), now / self.step())
    }

    /// Waits, as a person would, until the app shows a code of a later step than `used_step`.
    pub fn code_after(&self, used_step: i64) -> String {
        let wait = (used_step + 1) * self.step() - unix_now();
        if wait > 0 {
            std::thread::sleep(Duration::from_secs(wait.unsigned_abs()));
        }
        eventually(
            Duration::from_secs(5),
            || format!("no code after step {used_step}"),
            || {
                let (code, step) = self.code_now();
                (step > used_step).then_some(code)
            },
        )
    }

    /// The key for typing by hand: base32 without padding.
    pub fn secret_base32(&self) -> String {
        self.0.secret().to_base32().trim_end_matches('=').to_owned()
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        self.0.secret().as_bytes().to_vec()
    }

    fn step(&self) -> i64 {
        i64::try_from(self.0.step()).expect("a 30-second step")
    }
}
