//! The embedded default: one SQLite file in WAL mode.

use std::path::PathBuf;
use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Sqlite, Transaction};

use super::{Backend, Missing, RowsAffected, redact_url};

/// How long a writer waits for another one before SQLite reports "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections that only read, beside the one writer: in WAL mode they read while it writes.
const READERS: u32 = 4;

/// How much of the database file each connection reads through a memory map rather than `read` calls
/// (SQLite's default is none).
const MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// One writer connection and a pool of readers. Every write goes through the one writer, so writers
/// queue in this process (in order, asleep) instead of polling SQLite's lock through the busy handler;
/// the busy timeout remains for other processes (administrator commands). In memory both are the same
/// single connection.
#[derive(Clone)]
pub struct SqliteBackend {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteBackend {
    /// Opens (or, if `missing` allows, creates) the database and applies the migrations; returns the
    /// file path unless in memory, and whether the file was created.
    pub async fn connect(url: &str, missing: Missing) -> anyhow::Result<(Self, Option<PathBuf>, bool)> {
        let shown = redact_url(url);
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("cannot read the database URL {shown}"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let (options, file, max_connections, created) = if in_memory {
            // Every connection to `:memory:` is its own database: keep exactly one.
            (options, None, 1, false)
        } else {
            let file = options.get_filename().to_path_buf();
            let created = match missing {
                Missing::Create => {
                    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                        std::fs::create_dir_all(parent)
                            .with_context(|| format!("cannot create the directory {}", parent.display()))?;
                    }
                    create_private_file(&file)?
                }
                Missing::Refuse => {
                    anyhow::ensure!(
                        file.exists(),
                        "the database {} does not exist. Check --database (or USERCENTER_DATABASE_URL) for a \
                         typo; `usercenter serve` and `usercenter user add` create a new one",
                        file.display()
                    );
                    false
                }
            };
            let options = options
                .create_if_missing(missing == Missing::Create)
                .journal_mode(SqliteJournalMode::Wal)
                // A commit appends to the log without waiting for the disk (a power cut may lose the
                // last commits, never corrupt the file); the log is synced at each checkpoint.
                .synchronous(SqliteSynchronous::Normal)
                .pragma("mmap_size", MMAP_BYTES.to_string());
            // The writer; readers are a pool of their own, below.
            (options, Some(file), 1, created)
        };
        let pool = SqlitePoolOptions::new()
            // Rule 16: when a COMMIT fails (a full disk), SQLite rolls the transaction back itself, the
            // ROLLBACK sqlx then sends fails, and sqlx counts the connection as inside a transaction
            // for good: every later BEGIN on it fails. Such a connection is closed, not reused, so the
            // server answers normally again once space is free.
            .after_release(|connection, _| {
                Box::pin(async move {
                    if !connection.is_in_transaction() {
                        return Ok(true);
                    }
                    // A dropped transaction's ROLLBACK may still be on its way: let it arrive, then look.
                    connection.ping().await?;
                    Ok(!connection.is_in_transaction())
                })
            })
            .max_connections(max_connections)
            .min_connections(if in_memory { 1 } else { 0 })
            // An in-memory database dies with its last connection.
            .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(1800)) })
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open the database {shown}"))?;
        sqlx::migrate!("assets/migrations/sqlite")
            .run(&pool)
            .await
            .with_context(|| format!("cannot apply the migrations to {shown}"))?;
        let reader = if in_memory {
            pool.clone()
        } else {
            // `query_only`: a write sent to a reader by mistake fails rather than taking the lock.
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .min_connections(0)
                .idle_timeout(Some(Duration::from_secs(600)))
                .max_lifetime(Some(Duration::from_secs(1800)))
                .acquire_timeout(BUSY_TIMEOUT)
                .connect_with(options.pragma("query_only", "ON"))
                .await
                .with_context(|| format!("cannot open the database {shown}"))?
        };
        Ok((Self { reader, writer: pool }, file, created))
    }
}

impl Backend for SqliteBackend {
    type Db = Sqlite;

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// `BEGIN IMMEDIATE`: takes the write lock up front, so a transaction never fails half-way with
    /// "database is locked" when another process wrote after it first read.
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    const SKIPS_LOCKED_ROWS: bool = false;
    const DATA_MODIFYING_CTES: bool = false;
}

/// `SQLITE_FULL` (13) and `SQLITE_IOERR` (10) with any extended code (the primary code is the low byte).
pub(super) fn is_out_of_space_code(extended_code: i32) -> bool {
    matches!(extended_code & 0xff, 10 | 13)
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

/// Creates a missing database file readable by its owner only (SQLite gives the `-wal` and `-shm`
/// files the same permissions); true if it was missing.
fn create_private_file(file: &std::path::Path) -> anyhow::Result<bool> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot create the database file {}", file.display())),
    }
}
