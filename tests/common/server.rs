//! Helpers for the server's end-to-end tests: a database per test (SQLite file, or a fresh PostgreSQL
//! database when USERCENTER_TEST_POSTGRES_URL is set), servers on 127.0.0.1:0, and a phone's TOTP.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use super::Phone;
use sqlx::Connection as _;
use usercenter::client::ApiClient;
use usercenter::domain::{
    BackupCode, ConfirmResponse, LoginResponse, SecondFactorInput, SecretString, Session, VerificationCode,
};
use usercenter::server::{Clock as _, ManualClock, RunningServer, ServerConfig, start_with_clock};

pub const PASSWORD: &str = "correct horse battery staple";
pub const POSTGRES_ENV: &str = "USERCENTER_TEST_POSTGRES_URL";

/// One test's database; a PostgreSQL database is dropped when this is.
pub struct TestDb {
    pub url: String,
    pub key_file: PathBuf,
    pub dir: tempfile::TempDir,
    /// SQLite only: the database file.
    pub sqlite_file: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        Self::sqlite_with(tempfile::tempdir().unwrap())
    }

    /// A SQLite database in a new folder inside `parent` (a small file system, say).
    pub fn sqlite_in(parent: &std::path::Path) -> Self {
        Self::sqlite_with(tempfile::tempdir_in(parent).unwrap())
    }

    fn sqlite_with(dir: tempfile::TempDir) -> Self {
        let file = dir.path().join("usercenter.db");
        let url = format!("sqlite://{}", file.display());
        let key_file = dir.path().join("usercenter.db.key");
        Self { url, key_file, dir, sqlite_file: Some(file), postgres: None }
    }

    /// A fresh database with a random name, or `None` (with a note) when the variable is unset.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_in(None).await
    }

    /// [`TestDb::postgres`] with its files in a new tablespace at `location` (a folder the PostgreSQL
    /// server can write, on its machine); `None` with a note when that cannot be made.
    pub async fn postgres_in(location: Option<&std::path::Path>) -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipped: set {POSTGRES_ENV} to run this test against PostgreSQL");
            return None;
        };
        let name = format!("uc_test_{:016x}", rand::random::<u64>());
        let mut admin =
            sqlx::PgConnection::connect(&admin_url).await.expect("connect to the test PostgreSQL");
        let mut create = format!("CREATE DATABASE {name}");
        if let Some(location) = location {
            let made = sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLESPACE {name} LOCATION '{}'",
                location.display()
            )))
            .execute(&mut admin)
            .await;
            if let Err(e) = made {
                eprintln!("skipped: cannot make a tablespace at {} ({e})", location.display());
                return None;
            }
            create.push_str(&format!(" TABLESPACE {name}"));
        }
        sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let mut url = reqwest::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("server.key");
        let key: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        std::fs::write(&key_file, key + "\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Some(Self {
            url: url.to_string(),
            key_file,
            dir,
            sqlite_file: None,
            postgres: Some((admin_url, name)),
        })
    }

    /// The anonymous rate limit is off: tests send bursts from 127.0.0.1 (those about the limit set it).
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: self.url.clone(),
            issuer: "usercenter".into(),
            key_file: self.postgres.as_ref().map(|_| self.key_file.clone()),
            anonymous_rate: 0,
            ..ServerConfig::default()
        }
    }
}

impl TestDb {
    /// Runs `sql` (a query for one integer) directly on the database, as an operator would.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.postgres.is_some() {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut connection).await.unwrap()
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut connection).await.unwrap()
        }
    }

    /// Runs a statement directly on the database.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.postgres.is_some() {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
        }
    }

    /// Every text value of the throttle table, to look for raw usernames.
    pub async fn throttle_subjects(&self) -> Vec<String> {
        let sql = "SELECT subject FROM throttles";
        if self.postgres.is_some() {
            let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut connection).await.unwrap()
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut connection).await.unwrap()
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // Drop runs outside any runtime we may block: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut admin)
                    .await?;
                // Made by `postgres_in` under the database's name; usually there is none.
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLESPACE IF EXISTS {name}")))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database");
        }
    }
}

/// A server on the test database, with a manual clock starting at the real time.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub client: ApiClient,
    pub base_url: String,
    pub clock: ManualClock,
}

impl TestServer {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, ManualClock::starting_now()).await
    }

    /// Several servers on one database share a clock, as processes share the system clock.
    pub async fn start_with(db: &TestDb, clock: ManualClock) -> Self {
        Self::start_configured(db.config(), clock).await
    }

    /// A server with this configuration (its database is `config.database_url`).
    pub async fn start_configured(config: ServerConfig, clock: ManualClock) -> Self {
        let server = start_with_clock(config, Arc::new(clock.clone())).await.unwrap();
        let base_url = format!("http://{}", server.addr());
        let client = ApiClient::new(&base_url).unwrap();
        Self { server: Some(server), client, base_url, clock }
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.unix()
    }

    pub async fn login_token(&self, username: &str) -> SecretString {
        match self.client.login(username, &SecretString::new(PASSWORD)).await.unwrap() {
            LoginResponse::Authenticated(session) => session.token,
            other => panic!("2FA unexpectedly on or required: {other:?}"),
        }
    }

    pub async fn challenge(&self, username: &str) -> SecretString {
        match self.client.login(username, &SecretString::new(PASSWORD)).await.unwrap() {
            LoginResponse::SecondFactorRequired(challenge) => challenge.challenge,
            other => panic!("2FA unexpectedly off: {other:?}"),
        }
    }

    /// Enables 2FA as a person would: scan the URI into a "phone", type its current code.
    pub async fn enable(&self, token: &SecretString) -> (Phone, ConfirmResponse) {
        let enrollment = self.client.start_enrollment(token, &SecretString::new(PASSWORD)).await.unwrap();
        let phone = Phone::scan(enrollment.otpauth_uri.expose());
        let confirmed = self.client.confirm_enrollment(token, &phone.code_at(self.now())).await.unwrap();
        (phone, confirmed)
    }

    pub async fn sign_in_with(&self, challenge: &SecretString, input: SecondFactorInput) -> Session {
        self.client.second_factor(challenge, &input).await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Dropping a RunningServer stops it too; nothing to wait for here.
        self.server.take();
    }
}

pub fn backup(code: &SecretString) -> SecondFactorInput {
    SecondFactorInput::Backup(BackupCode::parse(code.expose()).unwrap())
}

/// A six-digit code that is not `right`.
pub fn wrong_code(right: &VerificationCode) -> SecondFactorInput {
    let wrong = if right.expose() == "000000" { "111111" } else { "000000" };
    SecondFactorInput::Totp(VerificationCode::parse(wrong).unwrap())
}
