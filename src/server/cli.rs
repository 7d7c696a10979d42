//! `usercenter serve` and `usercenter user …`: the command-line face of the server.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{ServerConfig, TrustedProxies, Unlock};
use crate::domain::SecretString;

/// The database used when none is given: `usercenter.db` in the current directory (its key file is
/// `usercenter.db.key` beside it).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://usercenter.db";

/// `--database URL`, flattened into every command that opens the database.
// No `Debug`: the database URL may hold a password.
#[derive(clap::Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://PATH (created if missing) or postgres://USER:PASSWORD@HOST/DB
    #[arg(
        long = "database",
        value_name = "DATABASE_URL",
        env = "USERCENTER_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true
    )]
    pub url: String,
}

// No `Debug`: the database URL may hold a password.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed)
    #[arg(long, env = "USERCENTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Name shown in authenticator apps next to the account
    #[arg(long, env = "USERCENTER_ISSUER", default_value = "usercenter")]
    pub issuer: String,
    /// Server key file (64 hex characters, mode 0600); default for SQLite: <database file>.key, created
    /// on first start
    #[arg(long, env = "USERCENTER_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Reverse proxies (CIDR[,CIDR…]) whose X-Forwarded-For names the client address; default: none
    #[arg(
        long,
        env = "USERCENTER_TRUSTED_PROXIES",
        value_name = "CIDR,…",
        default_value = "",
        hide_default_value = true
    )]
    pub trusted_proxies: TrustedProxies,
    /// Login and second-factor requests per second per client address (bursts of 5×N); 0 turns it off
    #[arg(long, env = "USERCENTER_ANONYMOUS_RATE", value_name = "N", default_value_t = super::DEFAULT_ANONYMOUS_RATE)]
    pub anonymous_rate: u32,
    /// Open connections per client address (trusted proxies exempt); further ones are closed at once
    #[arg(long, value_name = "N", default_value_t = super::http::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: u32,
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is asked for twice at a terminal, or read with --password-stdin
    Add {
        username: String,
        /// Read the password from standard input (one line), for scripts; it never shows in `ps`
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Turn two-factor authentication off for someone who lost both phone and backup codes
    #[command(name = "reset-2fa")]
    Reset2fa {
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Let an account use its second factor again after 100 wrong codes in a row locked it
    Unlock {
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

/// Runs the server until Ctrl-C or SIGTERM; logs to standard error, prints the address on standard output.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Fails only if a subscriber is already installed (a test harness): keep that one.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();

    let config = ServerConfig {
        listen: args.listen,
        database_url: args.database.url,
        issuer: args.issuer,
        key_file: args.key_file,
        trusted_proxies: args.trusted_proxies,
        anonymous_rate: args.anonymous_rate,
        max_connections_per_address: args.max_connections_per_address,
    };
    let mut signal = ShutdownSignal::listen()?;
    let server = super::start(config).await?;
    if let Some(key_file) = server.created_key_file() {
        // Rule 15: said once, where the operator looks, whatever the log level.
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "usercenter: created the server key file {} (mode 0600). Back it up together with the \
             database: without it, nobody with two-factor authentication can sign in.",
            key_file.display()
        );
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", server.addr()).context("cannot write to standard output")?;
    stdout.flush().context("cannot write to standard output")?;
    drop(stdout);
    tracing::info!(addr = %server.addr(), "serving");

    signal.received().await?;
    tracing::info!("shutting down");
    server.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { username, password_stdin, database } => {
            let password = if password_stdin { read_password_from_stdin()? } else { ask_new_password()? };
            super::create_user(&database.url, &username, &password).await?;
            println!("created user {username}");
            Ok(())
        }
        UserCommand::Reset2fa { username, database } => {
            super::reset_two_factor(&database.url, &username).await?;
            println!("two-factor authentication is off for {username}; their sessions were signed out");
            Ok(())
        }
        UserCommand::Unlock { username, database } => {
            match super::unlock_second_factor(&database.url, &username).await? {
                Unlock::Unlocked => println!("unlocked {username}: their second factor works again"),
                Unlock::WasNotLocked | Unlock::NoSuchUser => {
                    println!("{username} was not locked; their count of wrong codes starts again from zero");
                }
            }
            Ok(())
        }
    }
}

/// The first line of standard input, without its line ending; empty is refused.
fn read_password_from_stdin() -> anyhow::Result<SecretString> {
    let mut line = zeroize::Zeroizing::new(String::new());
    // One line, not to the end: at a terminal, Enter finishes the input.
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    anyhow::ensure!(!password.is_empty(), "the password is empty: pass it on standard input");
    Ok(SecretString::new(password))
}

/// At a terminal: the password twice, without echo. Anywhere else there is no one to ask.
fn ask_new_password() -> anyhow::Result<SecretString> {
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "standard input is not a terminal: pass --password-stdin and the password on standard input"
    );
    ask_twice(|prompt| rpassword::prompt_password(prompt))
}

/// Asks for a new password twice, so a typo does not become the password.
fn ask_twice(mut ask: impl FnMut(&str) -> std::io::Result<String>) -> anyhow::Result<SecretString> {
    let first = zeroize::Zeroizing::new(ask("Password: ").context("cannot read the password")?);
    anyhow::ensure!(!first.is_empty(), "the password is empty");
    let again = zeroize::Zeroizing::new(ask("Password again: ").context("cannot read the password")?);
    anyhow::ensure!(*first == *again, "the two passwords differ; nothing was created");
    Ok(SecretString::new(first.as_str()))
}

/// Ctrl-C or SIGTERM, listened for from its creation: made before the address is printed, so a
/// supervisor that signals as soon as it reads the address still gets a clean stop.
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn received(&mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Ok(()),
                _ = self.terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(given: &[&str]) -> impl FnMut(&str) -> std::io::Result<String> {
        let mut given: Vec<String> = given.iter().rev().map(|s| (*s).to_owned()).collect();
        move |_prompt| given.pop().ok_or_else(|| std::io::Error::other("asked too often"))
    }

    #[test]
    fn a_new_password_is_asked_twice_and_must_match() {
        let password = ask_twice(answers(&["s3cret pass", "s3cret pass"])).unwrap();
        assert_eq!(password.expose(), "s3cret pass");
        let differ = ask_twice(answers(&["s3cret pass", "s3cret pas"])).unwrap_err();
        assert!(differ.to_string().contains("differ"), "{differ}");
        let empty = ask_twice(answers(&[""])).unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }
}
