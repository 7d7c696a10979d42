//! Load test of `usercenter serve`, for developers and operators.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example load -- --db sqlite,postgres --concurrency 1,16,64 --seconds 5
//! # compare two builds side by side, interleaved, in one run:
//! cargo run --release --example load -- --server old/usercenter --server target/release/usercenter
//! # or a server that is already running (its database and key file are needed to seed it):
//! cargo run --release --example load -- --url http://127.0.0.1:8080 --database sqlite://usercenter.db \
//!     --key-file usercenter.db.key --server-pid $(pidof usercenter)
//! ```
//!
//! What it does, per server (each on its own fresh database):
//! 1. Seeds through the store's public API with the server key, as `usercenter user add` and a person
//!    enrolling would leave it: `--users` accounts with 2FA on (one argon2id hash shared by all, so the
//!    seeding takes seconds), three login challenges each (as if each had just given the password; they
//!    expire in an hour rather than five minutes, so a long run does not lose them), and one session
//!    per client for `GET /v1/me`.
//! 2. Starts `usercenter serve` on 127.0.0.1 (unless `--url`) with `--anonymous-rate 0` and a high
//!    `--max-connections-per-address` (every client comes from 127.0.0.1), logging at its default level
//!    to a file, and waits until the outbox of the seeded events is empty.
//! 3. For each scenario and each concurrency, and for each server in turn (interleaved, so a noisy
//!    machine affects all of them alike), runs N clients on keep-alive connections for `--seconds`:
//!    - `health`: `GET /v1/health`;
//!    - `me`: `GET /v1/me` with one session per client;
//!    - `login`: `POST /v1/auth/login` with the right password of a 2FA account (argon2id, then a new
//!      challenge is stored);
//!    - `totp`: `POST /v1/auth/second-factor` with a right TOTP code: every request is a real, successful
//!      sign-in (the attempt counted, the step spent, the challenge consumed, a session and its event
//!      stored). Rule 2 lets an account sign in once per 30 s step (three times with the ±1 window), so
//!      each client takes an unused account and signs in with its codes for the steps T-1, T and T+1 in
//!      that order, one challenge each (T-1 is skipped in the last 2 s of a step, when it could arrive
//!      after the step ends and fall out of the window), then moves to the next account; a run that
//!      uses up the accounts ends early and says so.
//! 4. Prints requests per second, p50 and p99 latency, the share of answers that were the expected
//!    200, the CPU used meanwhile (the server, PostgreSQL's processes, this load generator; 100% is one
//!    core) and the server's RSS, then its peak RSS (VmHWM) at the end.
//!
//! Only 127.0.0.1 is ever contacted; every run is bounded in time and stops by itself.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use futures_util::StreamExt as _;
use sqlx::Connection as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use usercenter::domain::SecretString;
use usercenter::server::crypto::{HashKind, Keys, random_public_id, random_token};
use usercenter::server::store::{
    self, AfterPassword, Confirmation, NewCredential, NewSession, OpenedStore, Origin, PasswordLogin,
};
use usercenter::server::{Missing, Passwords, Store, totp};

const PASSWORD: &str = "load-test password";

#[derive(Parser)]
#[command(about = "Load test of usercenter serve (see the top of examples/load.rs)")]
struct Args {
    /// usercenter binaries to compare, each with its own database; default target/release/usercenter
    #[arg(long = "server", value_name = "BIN")]
    servers: Vec<PathBuf>,
    /// Databases to run on: sqlite, postgres (a throwaway database on --postgres)
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    db: Vec<DbKind>,
    /// PostgreSQL server on which throwaway databases are created and dropped
    #[arg(long, env = "USERCENTER_TEST_POSTGRES_URL", hide_env_values = true)]
    postgres: Option<String>,
    /// Load a server that is already running instead (needs --database and --key-file to seed it)
    #[arg(long, requires_all = ["database", "key_file"])]
    url: Option<String>,
    /// With --url: the server's database
    #[arg(long)]
    database: Option<String>,
    /// With --url: the server's key file
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// With --url: the server's process id, for its CPU time and RSS
    #[arg(long)]
    server_pid: Option<u32>,
    /// Accounts with 2FA (three successful TOTP sign-ins each)
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Concurrent clients, each on its own keep-alive connection
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Seconds each scenario runs at each concurrency
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Scenarios, in this order
    #[arg(long, value_delimiter = ',', default_value = "health,me,login,totp")]
    scenarios: Vec<Scenario>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    Health,
    Me,
    Login,
    Totp,
}

/// One account of the TOTP pool: its secret and three unused challenges.
struct TotpUser {
    secret: Vec<u8>,
    challenges: Vec<String>,
}

/// What a target was seeded with.
struct Seeded {
    usernames: Vec<String>,
    sessions: Vec<String>,
    totp: Vec<TotpUser>,
    next_totp: AtomicUsize,
}

/// A server under load.
struct Target {
    label: String,
    db: DbKind,
    addr: SocketAddr,
    pid: Option<u32>,
    child: Option<Child>,
    seeded: Arc<Seeded>,
    /// The database's URL (to wait for the outbox) and the throwaway PostgreSQL database to drop.
    database_url: String,
    drop_postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The generator runs on one thread, so it takes at most one of the machine's cores.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.seconds > 0.0 && args.seconds <= 600.0, "--seconds must be in (0, 600]");
    let max_clients = args.concurrency.iter().copied().max().unwrap_or(1);
    anyhow::ensure!(max_clients <= 4096, "at most 4096 clients");
    let mut targets = Vec::new();
    let outcome = async {
        if let Some(url) = &args.url {
            targets.push(external_target(&args, url, max_clients).await?);
        } else {
            let servers = if args.servers.is_empty() {
                vec![PathBuf::from("target/release/usercenter")]
            } else {
                args.servers.clone()
            };
            for &db in &args.db {
                for (index, bin) in servers.iter().enumerate() {
                    let label = format!("{}#{index}", bin.display());
                    targets.push(spawned_target(&args, db, bin, label, max_clients).await?);
                }
            }
        }
        for target in &targets {
            wait_for_empty_outbox(target).await?;
        }
        measure(&args, &targets).await
    }
    .await;
    for target in &mut targets {
        stop(target).await;
    }
    outcome
}

async fn measure(args: &Args, targets: &[Target]) -> anyhow::Result<()> {
    let duration = Duration::from_secs_f64(args.seconds);
    if args.scenarios.contains(&Scenario::Login) {
        let (hash, ceiling) = argon2_ceiling().await?;
        println!(
            "argon2 ceiling: {} cores / {:.1} ms per hash = {ceiling:.1} logins/s",
            cores(),
            hash.as_secs_f64() * 1000.0
        );
    }
    println!(
        "{:<34} {:<8} {:<7} {:>7} {:>9} {:>8} {:>8} {:>6} {:>7} {:>6} {:>6} {:>7}",
        "server",
        "db",
        "test",
        "clients",
        "rps",
        "p50 ms",
        "p99 ms",
        "ok %",
        "srv cpu",
        "pg cpu",
        "gen",
        "rss MiB"
    );
    for &db in &args.db {
        for &scenario in &args.scenarios {
            for &clients in &args.concurrency {
                for target in targets.iter().filter(|t| t.db == db || args.url.is_some()) {
                    let result = run_segment(target, scenario, clients, duration).await?;
                    print_row(target, scenario, clients, &result);
                }
            }
        }
        if args.url.is_some() {
            break;
        }
    }
    println!();
    for target in targets {
        if let Some(pid) = target.pid {
            let (peak, now) = rss_kib(pid).unwrap_or((0, 0));
            println!(
                "{} on {:?}: peak RSS {:.1} MiB, RSS after {:.1} MiB",
                target.label,
                target.db,
                kib_to_mib(peak),
                kib_to_mib(now)
            );
        }
    }
    Ok(())
}

/// What one scenario at one concurrency measured.
struct SegmentResult {
    requests: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, usize>,
    errors: usize,
    retry_after_seen: bool,
    exhausted: bool,
    cpu: CpuShares,
    rss_kib: Option<u64>,
}

#[derive(Default)]
struct CpuShares {
    server: Option<f64>,
    postgres: Option<f64>,
    generator: f64,
}

async fn run_segment(
    target: &Target,
    scenario: Scenario,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<SegmentResult> {
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(Http::connect(target.addr).await?);
    }
    let ticks = clock_ticks();
    let server_before = target.pid.and_then(process_cpu_ticks);
    let postgres_before = (target.db == DbKind::Postgres).then(postgres_cpu_ticks);
    let generator_before = process_cpu_ticks(std::process::id()).unwrap_or(0);
    let started = Instant::now();
    let deadline = started + duration;
    let seeded = &target.seeded;
    let workers = connections
        .into_iter()
        .enumerate()
        .map(|(index, http)| async move { client(http, index, scenario, seeded, deadline).await });
    let finished = futures_util::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let seconds = elapsed.as_secs_f64();
    let share = |before: Option<u64>, after: Option<u64>| match (before, after) {
        #[allow(clippy::cast_precision_loss)]
        (Some(before), Some(after)) => Some((after.saturating_sub(before)) as f64 / ticks / seconds * 100.0),
        _ => None,
    };
    let cpu = CpuShares {
        server: share(server_before, target.pid.and_then(process_cpu_ticks)),
        postgres: share(postgres_before, postgres_before.map(|_| postgres_cpu_ticks())),
        generator: share(Some(generator_before), process_cpu_ticks(std::process::id())).unwrap_or(0.0),
    };
    let mut result = SegmentResult {
        requests: 0,
        elapsed,
        latencies_us: Vec::new(),
        statuses: BTreeMap::new(),
        errors: 0,
        retry_after_seen: false,
        exhausted: false,
        cpu,
        rss_kib: target.pid.and_then(rss_kib).map(|(_, now)| now),
    };
    for worker in finished {
        result.requests += worker.latencies_us.len();
        result.latencies_us.extend(worker.latencies_us);
        for (status, count) in worker.statuses {
            *result.statuses.entry(status).or_default() += count;
        }
        result.errors += worker.errors;
        result.retry_after_seen |= worker.retry_after_seen;
        result.exhausted |= worker.exhausted;
    }
    result.latencies_us.sort_unstable();
    Ok(result)
}

#[derive(Default)]
struct WorkerResult {
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, usize>,
    errors: usize,
    retry_after_seen: bool,
    exhausted: bool,
}

/// One client: requests one after the other on its connection until the deadline.
async fn client(
    mut http: Http,
    index: usize,
    scenario: Scenario,
    seeded: &Seeded,
    deadline: Instant,
) -> WorkerResult {
    let mut result = WorkerResult::default();
    let mut sent = 0usize;
    let mut account: Option<(&TotpUser, usize)> = None;
    while Instant::now() < deadline {
        let request = match scenario {
            Scenario::Health => get("/v1/health", None),
            Scenario::Me => get("/v1/me", Some(&seeded.sessions[index % seeded.sessions.len()])),
            Scenario::Login => {
                let username = &seeded.usernames[(index + sent * 64) % seeded.usernames.len()];
                post("/v1/auth/login", &serde_json::json!({ "username": username, "password": PASSWORD }))
            }
            Scenario::Totp => {
                let (user, used) = match account.take() {
                    Some((user, used)) if used < user.challenges.len() => (user, used),
                    _ => {
                        let next = seeded.next_totp.fetch_add(1, Ordering::Relaxed);
                        let Some(user) = seeded.totp.get(next) else {
                            result.exhausted = true;
                            break;
                        };
                        (user, 0)
                    }
                };
                account = Some((user, used + 1));
                // Steps T-1, T, T+1 in this order: each newer than the last one accepted (rule 2).
                let now = unix_now();
                if used == 0 && now % 30 >= 28 {
                    // T-1 sent in the last 2 s of T may arrive in T+1, out of the ±1 window: a 401 that
                    // is the generator's, not the server's. Skip it; this account signs in twice.
                    continue;
                }
                let step = now / 30 - 1 + i64::try_from(used).unwrap_or(0);
                let code = totp_code(&user.secret, step * 30);
                post(
                    "/v1/auth/second-factor",
                    &serde_json::json!({ "challenge": user.challenges[used], "code": code }),
                )
            }
        };
        sent += 1;
        let started = Instant::now();
        match http.send(&request).await {
            Ok(answer) => {
                let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                result.latencies_us.push(micros);
                *result.statuses.entry(answer.status).or_default() += 1;
                result.retry_after_seen |= answer.retry_after;
                if answer.close && http.reconnect().await.is_err() {
                    result.errors += 1;
                    break;
                }
            }
            Err(_) => {
                result.errors += 1;
                if http.reconnect().await.is_err() {
                    break;
                }
            }
        }
    }
    result
}

fn print_row(target: &Target, scenario: Scenario, clients: usize, result: &SegmentResult) {
    #[allow(clippy::cast_precision_loss)]
    let rps = result.requests as f64 / result.elapsed.as_secs_f64();
    let percentile = |p: f64| {
        if result.latencies_us.is_empty() {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let index = ((result.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(result.latencies_us[index]) / 1000.0
    };
    let ok = result.statuses.get(&200).copied().unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let ok_share = if result.requests == 0 { 0.0 } else { ok as f64 / result.requests as f64 * 100.0 };
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.0}%"));
    let mut notes = Vec::new();
    for (status, count) in &result.statuses {
        if *status != 200 {
            notes.push(format!("{count}x{status}"));
        }
    }
    if result.retry_after_seen {
        notes.push("Retry-After".into());
    }
    if result.errors > 0 {
        notes.push(format!("{} errors", result.errors));
    }
    if result.exhausted {
        notes.push("accounts used up".into());
    }
    println!(
        "{:<34} {:<8} {:<7} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>6.1} {:>7} {:>6} {:>6} {:>7} {}",
        shorten(&target.label, 34),
        format!("{:?}", target.db).to_lowercase(),
        format!("{scenario:?}").to_lowercase(),
        clients,
        rps,
        percentile(0.50),
        percentile(0.99),
        ok_share,
        show(result.cpu.server),
        show(result.cpu.postgres),
        format!("{:.0}%", result.cpu.generator),
        result.rss_kib.map_or_else(|| "-".to_owned(), |kib| format!("{:.1}", kib_to_mib(kib))),
        notes.join(" "),
    );
}

fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max { text.to_owned() } else { text.chars().skip(count - max).collect() }
}

#[allow(clippy::cast_precision_loss)]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// One argon2id hash with the server's parameters (the median of 9 on one thread), and the logins per
/// second the machine's cores could verify at most.
async fn argon2_ceiling() -> anyhow::Result<(Duration, f64)> {
    let passwords = Passwords::hasher_only(1)?;
    let password = SecretString::new(PASSWORD);
    let mut times = Vec::new();
    for _ in 0..9 {
        let started = Instant::now();
        passwords.hash(&password).await?;
        times.push(started.elapsed());
    }
    times.sort();
    let hash = times[times.len() / 2];
    #[allow(clippy::cast_precision_loss)]
    let ceiling = cores() as f64 / hash.as_secs_f64();
    Ok((hash, ceiling))
}

// ---- seeding -------------------------------------------------------------------------------------

async fn spawned_target(
    args: &Args,
    db: DbKind,
    bin: &Path,
    label: String,
    max_clients: usize,
) -> anyhow::Result<Target> {
    anyhow::ensure!(bin.exists(), "{} does not exist: build it first (cargo build --release)", bin.display());
    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("server.key");
    let master: [u8; 32] = rand::random();
    write_key_file(&key_file, &master)?;
    let (database_url, drop_postgres) = match db {
        DbKind::Sqlite => (format!("sqlite://{}", dir.path().join("usercenter.db").display()), None),
        DbKind::Postgres => {
            let admin = args.postgres.as_deref().context("--db postgres needs --postgres ADMIN_URL")?;
            let name = format!("uc_load_{:016x}", rand::random::<u64>());
            let mut connection = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut connection)
                .await?;
            connection.close().await?;
            let mut url = reqwest::Url::parse(admin)?;
            url.set_path(&format!("/{name}"));
            (url.to_string(), Some((admin.to_owned(), name)))
        }
    };
    let started = Instant::now();
    let seeded = seed(&database_url, &Keys::from_master(&master), args.users, max_clients).await?;
    eprintln!(
        "seeded {} accounts for {label} on {db:?} in {:.1} s",
        seeded.totp.len(),
        started.elapsed().as_secs_f64()
    );
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database_url])
        .arg("--key-file")
        .arg(&key_file)
        .args(["--anonymous-rate", "0", "--max-connections-per-address", "65535"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no standard output")?;
    let addr = tokio::task::spawn_blocking(move || listening_address(stdout)).await??;
    let pid = child.id();
    Ok(Target {
        label,
        db,
        addr,
        pid: Some(pid),
        child: Some(child),
        seeded: Arc::new(seeded),
        database_url,
        drop_postgres,
        _dir: Some(dir),
    })
}

async fn external_target(args: &Args, url: &str, max_clients: usize) -> anyhow::Result<Target> {
    let parsed = reqwest::Url::parse(url)?;
    let host = parsed.host_str().context("no host in --url")?;
    anyhow::ensure!(
        matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        "the load test only loads servers on this machine (127.0.0.1)"
    );
    let port = parsed.port_or_known_default().context("no port in --url")?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let database_url = args.database.clone().context("--url needs --database")?;
    let key_file = args.key_file.as_deref().context("--url needs --key-file")?;
    let key = usercenter::server::crypto::load_server_key(Some(key_file), None, false, false)?;
    let seeded = seed(&database_url, &key.keys, args.users, max_clients).await?;
    let db = if store::is_postgres_url(&database_url) { DbKind::Postgres } else { DbKind::Sqlite };
    Ok(Target {
        label: url.to_owned(),
        db,
        addr,
        pid: args.server_pid,
        child: None,
        seeded: Arc::new(seeded),
        database_url,
        drop_postgres: None,
        _dir: None,
    })
}

fn write_key_file(path: &Path, master: &[u8; 32]) -> anyhow::Result<()> {
    let hex: String = master.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options.open(path)?.write_all(format!("{hex}\n").as_bytes())?;
    Ok(())
}

fn listening_address(stdout: std::process::ChildStdout) -> anyhow::Result<SocketAddr> {
    let mut lines = std::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next().transpose()? {
        if let Some(addr) = line.strip_prefix("listening on http://") {
            return addr.parse().context("cannot read the address the server printed");
        }
    }
    anyhow::bail!("the server stopped before listening (see its log)")
}

/// A password accepted for `user_id` as an administrator's seeding, then `then` (a challenge or a
/// session) stored.
fn seeding_login(user_id: i64, then: AfterPassword<'_>, now: i64) -> PasswordLogin<'_> {
    PasswordLogin { user_id, throttle_subject: "seed", then, origin: &Origin::ADMIN, now }
}

async fn seed(database_url: &str, keys: &Keys, users: usize, sessions: usize) -> anyhow::Result<Seeded> {
    match store::open(database_url, Missing::Create).await? {
        OpenedStore::Sqlite { store, .. } => seed_store(store, keys, users, sessions, 1).await,
        OpenedStore::Postgres(store) => seed_store(store, keys, users, sessions, 16).await,
    }
}

/// Seeds `users` accounts with 2FA on, three challenges each, and `sessions` sessions, with `parallel`
/// accounts at once.
async fn seed_store<S: Store>(
    store: S,
    keys: &Keys,
    users: usize,
    sessions: usize,
    parallel: usize,
) -> anyhow::Result<Seeded> {
    let password_hash = Passwords::hasher_only(1)?.hash(&SecretString::new(PASSWORD)).await?;
    let now = unix_now();
    let prefix = format!("load{:08x}", rand::random::<u32>());
    let store = &store;
    let password_hash = password_hash.as_str();
    let prefix = prefix.as_str();
    let seeded: Vec<(String, TotpUser, Option<String>)> =
        futures_util::stream::iter(0..users.max(sessions).max(1))
            .map(|index| async move {
                let username = format!("{prefix}-{index:06}");
                anyhow::ensure!(store.create_user(&username, password_hash, now).await?, "user exists");
                let account = store.user_by_name(&username).await?.context("the new user is missing")?;
                let id = account.user.id;
                let secret = totp::generate_secret();
                let sealed = keys.encrypt_secret(id, &secret)?;
                anyhow::ensure!(
                    store.set_pending_enrollment(id, &sealed, now + 600).await?,
                    "2FA already on"
                );
                let confirmation = Confirmation {
                    user_id: id,
                    secret: &sealed,
                    step: now / 30 - 100,
                    backup_code_hashes: &[],
                    origin: &Origin::ADMIN,
                    now,
                };
                store.confirm_enrollment(confirmation).await?;
                let mut challenges = Vec::with_capacity(3);
                for _ in 0..3 {
                    let token = random_token();
                    let hash = keys.lookup_hash(HashKind::Challenge, token.expose());
                    let then =
                        AfterPassword::Challenge(NewCredential { hash: &hash, expires_at: now + 3600 });
                    store.complete_password_login(seeding_login(id, then, now)).await?;
                    challenges.push(token.expose().to_owned());
                }
                let session = if index < sessions {
                    let token = random_token();
                    let hash = keys.lookup_hash(HashKind::SessionToken, token.expose());
                    let public_id = random_public_id();
                    let credential = NewCredential { hash: &hash, expires_at: now + 12 * 3600 };
                    let then = AfterPassword::Session(NewSession { credential, public_id: &public_id });
                    store.complete_password_login(seeding_login(id, then, now)).await?;
                    Some(token.expose().to_owned())
                } else {
                    None
                };
                anyhow::Ok((username, TotpUser { secret: secret.to_vec(), challenges }, session))
            })
            .buffer_unordered(parallel)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()?;
    store.close().await;
    let mut result = Seeded {
        usernames: Vec::new(),
        sessions: Vec::new(),
        totp: Vec::new(),
        next_totp: AtomicUsize::new(0),
    };
    for (username, user, session) in seeded {
        result.usernames.push(username);
        result.totp.push(user);
        result.sessions.extend(session);
    }
    result.totp.truncate(users);
    Ok(result)
}

/// Waits until the server has delivered the seeded events (the outbox is empty), at most a minute.
async fn wait_for_empty_outbox(target: &Target) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left: i64 = if target.db == DbKind::Postgres {
            let mut connection = sqlx::PgConnection::connect(&target.database_url).await?;
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut connection).await?
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&target.database_url).await?;
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut connection).await?
        };
        if left == 0 {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{} events still in the outbox after a minute", left);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn stop(target: &mut Target) {
    if let Some(mut child) = target.child.take() {
        // SIGTERM: the server shuts down gracefully (SQLite checkpoints its WAL).
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill only sends a signal to the child we started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let waited = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        });
        let _ = waited.await;
    }
    if let Some((admin, name)) = target.drop_postgres.take() {
        let dropped = async {
            let mut connection = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut connection)
                .await?;
            connection.close().await
        };
        if let Err(error) = dropped.await {
            eprintln!("could not drop the database {name}: {error}");
        }
    }
}

// ---- HTTP/1.1 on a keep-alive connection ---------------------------------------------------------

/// A minimal HTTP/1.1 client: the generator must cost the machine as little as it can, since it shares
/// the cores with the server.
struct Http {
    addr: SocketAddr,
    stream: TcpStream,
    buf: Vec<u8>,
}

struct HttpAnswer {
    status: u16,
    retry_after: bool,
    close: bool,
}

impl Http {
    async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self { addr, stream, buf: Vec::with_capacity(4096) })
    }

    async fn reconnect(&mut self) -> anyhow::Result<()> {
        *self = Self::connect(self.addr).await?;
        Ok(())
    }

    async fn send(&mut self, request: &[u8]) -> anyhow::Result<HttpAnswer> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])?;
                let mut lines = head.split("\r\n");
                let status_line = lines.next().context("empty answer")?;
                let status: u16 =
                    status_line.split(' ').nth(1).context("no status")?.parse().context("bad status")?;
                let (mut length, mut retry_after, mut close) = (0usize, false, false);
                for line in lines {
                    let Some((name, value)) = line.split_once(':') else { continue };
                    let value = value.trim();
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.parse().context("bad content-length")?;
                    } else if name.eq_ignore_ascii_case("retry-after") {
                        retry_after = true;
                    } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                        close = true;
                    }
                }
                while self.buf.len() < end + 4 + length {
                    self.read_more().await?;
                }
                return Ok(HttpAnswer { status, retry_after, close });
            }
            self.read_more().await?;
        }
    }

    async fn read_more(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nuser-agent: usercenter-load\r\n{auth}\r\n")
        .into_bytes()
}

fn post(path: &str, body: &serde_json::Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nuser-agent: usercenter-load\r\ncontent-type: \
         application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn totp_code(secret: &[u8], unix: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .unwrap_or_else(|e| panic!("cannot build a TOTP generator: {e}"));
    totp.generate(u64::try_from(unix).unwrap_or(0)).to_string()
}

fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

// ---- /proc -----------------------------------------------------------------------------------------

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    #[allow(clippy::cast_precision_loss)]
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// utime + stime of a process (all its threads), in clock ticks.
fn process_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after it are counted from its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of every process named `postgres` on this machine (the PostgreSQL server's backends).
fn postgres_cpu_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres")
        })
        .filter_map(process_cpu_ticks)
        .sum()
}

/// (VmHWM, VmRSS) in KiB.
fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}
