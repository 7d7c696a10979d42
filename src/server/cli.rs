//! `usercenter serve` and `usercenter user …`: the command-line face of the server.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use super::admin::Admin;
use super::delivery::EventsLogTarget;
use super::service::activity::api_event;
use super::store::{EventRecord, Missing, UserRecord};
use super::{ServerConfig, TrustedProxies, Unlock};
use crate::domain::{Event, Policy, SecretString};
use crate::logging::LogFormat;

/// The database used when none is given: `usercenter.db` in the current directory (its key file is
/// `usercenter.db.key` beside it).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://usercenter.db";

/// `--database URL`, flattened into every command that opens the database.
// No `Debug`: the database URL may hold a password.
#[derive(clap::Args)]
pub struct DatabaseArg {
    /// Database URL: sqlite://PATH (only serve and user add create a missing one) or
    /// postgres://USER:PASSWORD@HOST/DB
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
    /// Address to listen on, HOST:PORT (a host name is resolved); port 0 picks a free port (the bound
    /// address is printed)
    #[arg(long, env = "USERCENTER_LISTEN", value_name = "HOST:PORT", default_value = "127.0.0.1:8080",
          value_parser = parse_listen)]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArg,
    /// Name shown in authenticator apps next to the account
    #[arg(long, env = "USERCENTER_ISSUER", default_value = "usercenter")]
    pub issuer: String,
    /// Server key file (64 hex characters, mode 0600); default for SQLite: <database file>.key, created
    /// on first start
    #[arg(long, env = "USERCENTER_KEY_FILE", value_name = "PATH", value_parser = parse_path)]
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
    /// Days security events are kept; older ones are purged
    #[arg(long, env = "USERCENTER_EVENTS_RETENTION_DAYS", value_name = "DAYS",
          default_value_t = super::DEFAULT_EVENTS_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub events_retention_days: u32,
    /// Also write every security event as one ECS JSON line to this file (appended), or - for stdout
    #[arg(long, env = "USERCENTER_EVENTS_LOG", value_name = "PATH|-")]
    pub events_log: Option<EventsLogTarget>,
    /// POST factor changes (2FA on/off, new backup codes, reset, lock, password) to this URL
    #[arg(long, env = "USERCENTER_NOTIFY_WEBHOOK", value_name = "URL", hide_env_values = true,
          value_parser = super::delivery::parse_webhook_url)]
    pub notify_webhook: Option<reqwest::Url>,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (keep it private); default: off
    #[arg(long, env = "USERCENTER_METRICS_LISTEN", value_name = "HOST:PORT", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,
    /// Log lines on standard error as text or as JSON objects, one a line; RUST_LOG filters them
    #[arg(long, env = "USERCENTER_LOG_FORMAT", value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `--listen` and `--metrics-listen`: HOST:PORT as people type it (`localhost:8080`, `[::1]:8080`,
/// `0.0.0.0:8080`); a host name is resolved, its first IPv4 address preferred (as `localhost` is usually
/// meant).
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let example = "use HOST:PORT, such as localhost:8080, 127.0.0.1:8080 or 0.0.0.0:8080";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!("{text:?} has no port: {example}"));
    };
    let port: u16 = port.parse().map_err(|_| format!("{port:?} is not a port number: {example}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{text:?} has no host: {example}"));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve the host {host:?} ({e}): {example}"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("the host {host:?} has no address: {example}"))
}

/// A path option, with `~` expanded where no shell did (an environment variable, `--key-file=~/…`).
fn parse_path(text: &str) -> Result<PathBuf, String> {
    if text.trim().is_empty() {
        return Err("the path is empty: give a file's path".to_owned());
    }
    super::expand_home(text).map_err(|e| e.to_string())
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is asked for twice at a terminal, or read with --password-stdin
    #[command(
        after_help = "Examples:\n  usercenter user add alice                                  # asks twice, without echo\n  printf '%s\\n' \"$PW\" | usercenter user add alice --password-stdin"
    )]
    Add {
        /// The new account's name (up to 64 bytes; no colon, spaces or control characters)
        username: String,
        /// Read the password from standard input (one line), for scripts; it never shows in `ps`
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List the accounts: two-factor authentication, lock, creation time
    #[command(
        after_help = "Examples:\n  usercenter user list\n  usercenter user list --json | jq -r '.[] | select(.two_factor_enabled | not) | .username'"
    )]
    List {
        /// Print a JSON array of {username, two_factor_enabled, second_factor_locked, created_at}
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Delete an account with its sessions, backup codes and events
    #[command(after_help = "Example:\n  usercenter user delete mallory")]
    Delete {
        /// The account to delete
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Give an account a new password (8 to 128 characters) and sign out all of its sessions
    #[command(
        name = "set-password",
        after_help = "Examples:\n  usercenter user set-password alice                          # asks twice, without echo\n  printf '%s\\n' \"$PW\" | usercenter user set-password alice --password-stdin"
    )]
    SetPassword {
        /// The account whose password changes
        username: String,
        /// Read the password from standard input (one line), for scripts; it never shows in `ps`
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Turn two-factor authentication off for someone who lost both phone and backup codes
    #[command(name = "reset-2fa", after_help = "Example:\n  usercenter user reset-2fa alice")]
    Reset2fa {
        /// The account whose two-factor authentication is turned off
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Let an account use its second factor again after 100 wrong codes in a row locked it
    #[command(after_help = "Example:\n  usercenter user unlock alice")]
    Unlock {
        /// The locked account
        username: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

/// `usercenter events`: what happened to the accounts.
#[derive(clap::Args)]
pub struct EventsArgs {
    /// Only this account's events
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    /// How many events, newest first
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// One JSON object per line: the API's event object plus "username"
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub database: DatabaseArg,
}

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Require two-factor authentication of every account, or stop requiring it
    #[command(
        after_help = "Examples:\n  usercenter policy set --require-2fa on\n  usercenter policy set --require-2fa off"
    )]
    Set {
        /// on: accounts without 2FA must set it up at their next sign-in and cannot turn it off
        #[arg(long = "require-2fa", value_name = "on|off", value_parser = parse_on_off,
              action = clap::ArgAction::Set, required = true)]
        require_2fa: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Show the workspace policy
    #[command(after_help = "Examples:\n  usercenter policy show\n  usercenter policy show --json")]
    Show {
        /// Print {"two_factor_required": bool}
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

fn parse_on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("{other:?}: use on or off")),
    }
}

/// Runs the server until Ctrl-C or SIGTERM; logs to standard error, prints the address on standard output.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    crate::logging::init_stderr(args.log_format);

    let config = ServerConfig {
        listen: args.listen,
        database_url: args.database.url,
        issuer: args.issuer,
        key_file: args.key_file,
        trusted_proxies: args.trusted_proxies,
        anonymous_rate: args.anonymous_rate,
        max_connections_per_address: args.max_connections_per_address,
        events_retention_days: args.events_retention_days,
        events_log: args.events_log,
        notify_webhook: args.notify_webhook,
        metrics_listen: args.metrics_listen,
    };
    let mut signal = ShutdownSignal::listen()?;
    let server = super::start(config).await?;
    if let Some(file) = server.created_database() {
        say_created_database(file);
    }
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
    if let Some(metrics) = server.metrics_addr() {
        writeln!(stdout, "metrics on http://{metrics}{}", super::metrics::PATH)
            .context("cannot write to standard output")?;
    }
    stdout.flush().context("cannot write to standard output")?;
    drop(stdout);
    let metrics = server.metrics_addr().map_or_else(|| "off".to_owned(), |addr| addr.to_string());
    tracing::info!(addr = %server.addr(), %metrics, "serving");

    signal.received().await?;
    tracing::info!("shutting down");
    server.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { username, password_stdin, database } => {
            if let Some(problem) = super::username_problem(&username) {
                anyhow::bail!(problem);
            }
            let password = new_password(password_stdin)?;
            let admin = Admin::open(&database.url, Missing::Create).await?;
            if let Some(file) = admin.created_file() {
                say_created_database(&file);
            }
            let added = admin.add_user(&username, &password).await;
            admin.close().await;
            anyhow::ensure!(added?, "the user {username:?} already exists");
            println!("created user {username}");
        }
        UserCommand::List { json, database } => {
            let admin = Admin::open(&database.url, Missing::Refuse).await?;
            let users = admin.users().await;
            admin.close().await;
            let users = users?;
            let mut out = std::io::stdout().lock();
            if json {
                let listed = users.iter().map(ListedUser::of).collect::<anyhow::Result<Vec<_>>>()?;
                writeln!(out, "{}", serde_json::to_string(&listed)?)?;
            } else {
                write_user_table(&mut out, &users)?;
            }
        }
        UserCommand::Delete { username, database } => {
            let admin = Admin::open(&database.url, Missing::Refuse).await?;
            let deleted = admin.delete_user(&username).await;
            admin.close().await;
            anyhow::ensure!(deleted?, "there is no user {username:?}");
            println!("deleted user {username} with their sessions, backup codes and events");
        }
        UserCommand::SetPassword { username, password_stdin, database } => {
            // The account is looked for first, so nobody types a password for a name with a typo.
            let admin = Admin::open(&database.url, Missing::Refuse).await?;
            let exists = admin.users().await.map(|users| users.iter().any(|u| u.username == username));
            let changed = match exists {
                Ok(true) => match new_password(password_stdin) {
                    Ok(password) => admin.set_password(&username, &password).await,
                    Err(error) => Err(error),
                },
                Ok(false) => Ok(false),
                Err(error) => Err(error),
            };
            admin.close().await;
            anyhow::ensure!(changed?, "there is no user {username:?}");
            println!("changed the password of {username}; their sessions were signed out");
        }
        UserCommand::Reset2fa { username, database } => {
            super::reset_two_factor(&database.url, &username).await?;
            println!("two-factor authentication is off for {username}; their sessions were signed out");
        }
        UserCommand::Unlock { username, database } => {
            match super::unlock_second_factor(&database.url, &username).await? {
                Unlock::Unlocked => println!("unlocked {username}: their second factor works again"),
                Unlock::WasNotLocked | Unlock::NoSuchUser => {
                    println!("{username} was not locked; their count of wrong codes starts again from zero");
                }
            }
        }
    }
    Ok(())
}

/// `usercenter events`: newest first, as a table or as JSON lines.
pub async fn events(args: EventsArgs) -> anyhow::Result<()> {
    let EventsArgs { user, limit, json, database } = args;
    let admin = Admin::open(&database.url, Missing::Refuse).await?;
    let found = admin.events(user.as_deref(), limit).await;
    admin.close().await;
    let Some(records) = found? else {
        anyhow::bail!("there is no user {:?}", user.unwrap_or_default());
    };
    let mut out = std::io::stdout().lock();
    for record in &records {
        let event = api_event(record).map_err(|e| anyhow::anyhow!("{e}"))?;
        if json {
            writeln!(
                out,
                "{}",
                serde_json::to_string(&ListedEvent { event: &event, username: &record.username })?
            )?;
        } else {
            writeln!(out, "{}", event_line(record, &event))?;
        }
    }
    if records.is_empty() && !json {
        writeln!(out, "no events")?;
    }
    Ok(())
}

/// `usercenter policy …`.
pub async fn policy(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Set { require_2fa, database } => {
            let policy = Policy { two_factor_required: require_2fa };
            let admin = Admin::open(&database.url, Missing::Refuse).await?;
            let set = admin.set_policy(policy).await;
            admin.close().await;
            set?;
            println!("{}", policy_text(policy));
        }
        PolicyCommand::Show { json, database } => {
            let admin = Admin::open(&database.url, Missing::Refuse).await?;
            let policy = admin.policy().await;
            admin.close().await;
            let policy = policy?;
            if json {
                println!("{}", serde_json::to_string(&policy)?);
            } else {
                println!("{}", policy_text(policy));
            }
        }
    }
    Ok(())
}

fn policy_text(policy: Policy) -> &'static str {
    if policy.two_factor_required {
        "two-factor authentication is required: accounts without it must set it up at their next sign-in \
         and cannot turn it off"
    } else {
        "two-factor authentication is not required"
    }
}

fn say_created_database(file: &std::path::Path) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "usercenter: created the database {} (mode 0600)", file.display());
}

/// One account as `user list --json` prints it.
#[derive(Serialize)]
struct ListedUser<'a> {
    username: &'a str,
    two_factor_enabled: bool,
    second_factor_locked: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
}

impl<'a> ListedUser<'a> {
    fn of(user: &'a UserRecord) -> anyhow::Result<Self> {
        Ok(Self {
            username: &user.username,
            two_factor_enabled: user.two_factor_enabled(),
            second_factor_locked: user.second_factor_locked(),
            created_at: time::OffsetDateTime::from_unix_timestamp(user.created_at)?,
        })
    }
}

/// One event as `events --json` prints it: the API's event plus `username`.
#[derive(Serialize)]
struct ListedEvent<'a> {
    #[serde(flatten)]
    event: &'a Event,
    username: &'a str,
}

fn write_user_table(out: &mut impl std::io::Write, users: &[UserRecord]) -> anyhow::Result<()> {
    if users.is_empty() {
        writeln!(out, "no users")?;
        return Ok(());
    }
    let width = users.iter().map(|u| u.username.chars().count()).max().unwrap_or(0).max("USERNAME".len());
    writeln!(out, "{:<width$}  2FA  LOCKED  CREATED", "USERNAME")?;
    for user in users {
        let created = time::OffsetDateTime::from_unix_timestamp(user.created_at)?
            .format(&time::format_description::well_known::Rfc3339)?;
        let two_factor = if user.two_factor_enabled() { "on " } else { "off" };
        let locked = if user.second_factor_locked() { "yes   " } else { "no    " };
        writeln!(out, "{:<width$}  {two_factor}  {locked}  {created}", user.username)?;
    }
    Ok(())
}

/// One event as text: when, who, what (with its details), from where.
fn event_line(record: &EventRecord, event: &Event) -> String {
    let at = event.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let details = if record.details == "{}" { String::new() } else { format!(" {}", record.details) };
    let from = match (&event.address, &event.user_agent) {
        (Some(address), Some(agent)) => format!("  from {address} ({agent})"),
        (Some(address), None) => format!("  from {address}"),
        (None, _) => "  (administrator)".to_owned(),
    };
    format!("{at}  {}  {}{details}{from}", record.username, record.kind)
}

/// The new password: from standard input with `--password-stdin`, else asked twice at a terminal;
/// 8 to 128 characters.
fn new_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    let password = if from_stdin { read_password_from_stdin()? } else { ask_new_password()? };
    super::check_password(&password)?;
    Ok(password)
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
    anyhow::ensure!(*first == *again, "the two passwords differ; nothing was changed");
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
    #[test]
    fn listen_addresses_are_host_port_as_people_type_them() {
        assert_eq!(parse_listen("127.0.0.1:8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(parse_listen("[::1]:8080").unwrap().to_string(), "[::1]:8080");
        assert_eq!(parse_listen(" localhost:8080 ").unwrap().to_string(), "127.0.0.1:8080");
        for (text, said) in [
            ("localhost", "has no port"),
            ("localhost:http", "is not a port number"),
            (":8080", "has no host"),
            ("no-such-host.invalid:8080", "cannot resolve the host"),
        ] {
            let error = parse_listen(text).unwrap_err();
            assert!(error.contains(said) && error.contains("localhost:8080"), "{text}: {error}");
        }
    }

    #[test]
    fn a_path_option_expands_the_home_folder_and_refuses_an_empty_one() {
        assert!(parse_path(" ").unwrap_err().contains("empty"));
        assert_eq!(parse_path("/etc/usercenter/key").unwrap(), PathBuf::from("/etc/usercenter/key"));
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if let Some(home) = home.filter(|h| !h.as_os_str().is_empty()) {
            assert_eq!(parse_path("~/server.key").unwrap(), home.join("server.key"));
        }
        assert!(parse_path("~bob/server.key").unwrap_err().contains("~user"));
    }
}
