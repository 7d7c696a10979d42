//! A real server on 127.0.0.1:0 for the pseudo-terminal tests: its own SQLite file and runtime, so
//! tests running in parallel threads never share a database, a port or a clock.

#![allow(dead_code)]

use std::time::Duration;

use usercenter::client::{ApiClient, ClientError};
use usercenter::domain::{LoginResponse, Me, SecondFactorInput, SecretString, Session};
use usercenter::server::{RunningServer, ServerConfig, create_user, start};

pub struct AppServer {
    /// Multi-threaded, so the server keeps answering while the test thread blocks on the terminal.
    runtime: tokio::runtime::Runtime,
    server: Option<RunningServer>,
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub client: ApiClient,
    /// The server's database, for the administrator's commands (`policy set`, `user add`).
    pub database_url: String,
    _dir: tempfile::TempDir,
}

impl AppServer {
    /// Starts a server whose database holds one account.
    pub fn with_user(username: &str, password: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the server");
        let dir = tempfile::tempdir().expect("a folder for the database");
        let database_url = format!("sqlite://{}", dir.path().join("usercenter.db").display());
        let server = runtime.block_on(async {
            create_user(&database_url, username, &SecretString::new(password))
                .await
                .expect("create the user");
            start(ServerConfig {
                listen: "127.0.0.1:0".parse().expect("an address"),
                database_url: database_url.clone(),
                issuer: "usercenter".into(),
                ..ServerConfig::default()
            })
            .await
            .expect("start the server")
        });
        let addr = server.addr();
        let url = format!("http://{addr}");
        let client = ApiClient::new(&url).expect("a client");
        Self { runtime, server: Some(server), url, addr, client, database_url, _dir: dir }
    }

    /// Runs `usercenter ARGS --database URL` on this server's database, as an administrator would;
    /// `stdin` is the input (a password for `--password-stdin`). Panics unless it succeeds.
    pub fn admin(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_usercenter"))
            .args(args)
            .args(["--database", &self.database_url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run usercenter");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        let output = child.wait_with_output().expect("usercenter ends");
        assert!(output.status.success(), "usercenter {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A password sign-in from another device (2FA off): its token.
    pub fn other_device(&self, username: &str, password: &str) -> SecretString {
        self.block_on(async {
            match self.client.login(username, &SecretString::new(password)).await.expect("sign in") {
                LoginResponse::Authenticated(session) => session.token,
                other => panic!("two-factor authentication is unexpectedly on: {other:?}"),
            }
        })
    }

    /// A wrong password from another device: refused.
    pub fn wrong_password(&self, username: &str) {
        let refused = self.block_on(self.client.login(username, &SecretString::new("not the password")));
        assert!(matches!(refused, Err(ClientError::InvalidCredentials)), "{refused:?}");
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Signs in through the API with a password and then `second`, as another device would.
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
        second: SecondFactorInput,
    ) -> Result<Session, ClientError> {
        self.block_on(async {
            match self.client.login(username, &SecretString::new(password)).await? {
                LoginResponse::SecondFactorRequired(challenge) => {
                    self.client.second_factor(&challenge.challenge, &second).await
                }
                other => panic!("two-factor authentication is unexpectedly off: {other:?}"),
            }
        })
    }
}

impl AppServer {
    /// The account as the server sees it, through a fresh password-only session (2FA off).
    pub fn me(&self, username: &str, password: &str) -> Me {
        self.block_on(async {
            match self.client.login(username, &SecretString::new(password)).await.expect("sign in") {
                LoginResponse::Authenticated(session) => self.client.me(&session.token).await.expect("me"),
                other => panic!("two-factor authentication is unexpectedly on: {other:?}"),
            }
        })
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let stopped = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await });
            if !matches!(stopped, Ok(Ok(()))) {
                eprintln!("the test server did not stop cleanly");
            }
        }
    }
}
