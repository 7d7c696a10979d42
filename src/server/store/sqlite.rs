//! The embedded default: one SQLite file in WAL mode.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

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
    /// In memory: `reader` is a clone of `writer`, the same single connection.
    shared: bool,
}

impl SqliteBackend {
    /// Opens (or, if `missing` allows, creates) the database and applies the migrations; returns the
    /// file path unless in memory, and whether the file was created.
    pub async fn connect(url: &str, missing: Missing) -> anyhow::Result<(Self, Option<PathBuf>, bool)> {
        let shown = redact_url(url);
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("cannot read the database URL {shown}: {e}"))?
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
                        std::fs::create_dir_all(parent).map_err(|e| cannot_create(parent, &e))?;
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
            .map_err(|error| explain(&error, file.as_deref(), &shown))?;
        let migrated = async {
            refuse_foreign_database(&pool, file.as_deref(), &shown).await?;
            sqlx::migrate!("assets/migrations/sqlite").run(&pool).await.map_err(|error| {
                super::explain_migration(error, &shown, |e| explain(e, file.as_deref(), &shown))
            })
        };
        if let Err(error) = migrated.await {
            pool.close().await;
            return Err(error);
        }
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
                .map_err(|error| explain(&error, file.as_deref(), &shown))?
        };
        Ok((Self { reader, writer: pool, shared: in_memory }, file, created))
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

    fn pools(&self) -> Vec<&SqlitePool> {
        if self.shared { vec![&self.writer] } else { vec![&self.writer, &self.reader] }
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
        Err(e) => Err(cannot_create(file, &e)),
    }
}

/// A file or folder that cannot be made, said once and in words.
fn cannot_create(path: &Path, error: &std::io::Error) -> anyhow::Error {
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "permission denied: {} (cannot create the database there; give --database a path in a folder \
             this user may write to)",
            path.display()
        ),
        std::io::ErrorKind::ReadOnlyFilesystem => anyhow::anyhow!(
            "read-only file system: {} (cannot create the database there; give --database a writable path)",
            path.display()
        ),
        _ => anyhow::anyhow!("cannot create {}: {error}", path.display()),
    }
}

/// SQLite's result codes in words, each said once (sqlx's own text repeats the code through its
/// source), with what to do about it.
fn explain(error: &sqlx::Error, file: Option<&Path>, shown: &str) -> anyhow::Error {
    let place = file.map_or_else(|| shown.to_owned(), |f| f.display().to_string());
    let sqlx::Error::Database(db) = error else {
        return anyhow::anyhow!("cannot open the database {place}: {error}");
    };
    // The primary result code is the low byte of the extended one.
    let primary = db.code().and_then(|code| code.parse::<i32>().ok()).map(|code| code & 0xff);
    match (primary, file) {
        // SQLITE_CANTOPEN: find out which of the file and its folder is in the way.
        (Some(14), Some(file)) => cannot_open(file),
        // SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH.
        (Some(8 | 3 | 23), _) => anyhow::anyhow!(
            "permission denied: {place} (the database cannot be written by this user; run as the file's \
             owner, or fix its permissions and its folder's)"
        ),
        // SQLITE_NOTADB.
        (Some(26), _) => anyhow::anyhow!(
            "not a usercenter database: {place} (the file is not a SQLite database); check --database \
             (or USERCENTER_DATABASE_URL)"
        ),
        // SQLITE_BUSY, SQLITE_LOCKED.
        (Some(5 | 6), _) => anyhow::anyhow!(
            "the database {place} is locked by another program; stop it, or wait and try again"
        ),
        // SQLITE_FULL, SQLITE_IOERR.
        (Some(code), _) if is_out_of_space_code(code) => {
            anyhow::anyhow!("cannot write the database {place}: {} (is the disk full?)", db.message())
        }
        _ => anyhow::anyhow!("cannot open the database {place}: {}", db.message()),
    }
}

/// Why SQLite could not open `file`: the file, or its folder (WAL mode creates `-wal` and `-shm`
/// files beside it).
fn cannot_open(file: &Path) -> anyhow::Error {
    let denied = |path: &Path, what: &str| {
        anyhow::anyhow!(
            "permission denied: {} ({what}; run as its owner, or fix its permissions)",
            path.display()
        )
    };
    match std::fs::OpenOptions::new().read(true).write(true).open(file) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return denied(file, "the database file cannot be read and written by this user");
        }
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory || file.is_dir() => {
            return anyhow::anyhow!(
                "not a usercenter database: {} (it is a folder); give --database the file's path",
                file.display()
            );
        }
        Err(e) => return anyhow::anyhow!("cannot open the database {}: {e}", file.display()),
        Ok(_) => {}
    }
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match tempfile::tempfile_in(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => denied(
            folder,
            "SQLite must create the database's -wal and -shm files in its folder, which this user cannot \
             write",
        ),
        _ => anyhow::anyhow!("cannot open the database {}: SQLite cannot open the file", file.display()),
    }
}

/// A SQLite file that holds another program's tables is left alone: migrating it would add usercenter's
/// tables to someone else's database.
async fn refuse_foreign_database(pool: &SqlitePool, file: Option<&Path>, shown: &str) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(|error| explain(&error, file, shown))?;
    if tables.is_empty() || tables.iter().any(|t| t == "_sqlx_migrations") {
        return Ok(());
    }
    let place = file.map_or_else(|| shown.to_owned(), |f| f.display().to_string());
    anyhow::bail!(
        "not a usercenter database: {place} (it holds another program's tables, such as {}); give \
         --database usercenter's own file, or a new path to create one",
        tables[0]
    )
}
