//! PostgreSQL: several server processes may share one database; every rule is enforced in SQL.

use std::str::FromStr as _;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Connection as _, Postgres, Transaction};

use super::{Backend, RowsAffected, redact_url};

#[derive(Clone)]
pub struct PostgresBackend {
    pool: PgPool,
}

impl PostgresBackend {
    /// Connects and applies the migrations (the database itself must exist, as PostgreSQL requires).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let shown = redact_url(url);
        let options = probe(url, &shown).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to the database {shown}"))?;
        let migrated = sqlx::migrate!("assets/migrations/postgres")
            .run(&pool)
            .await
            .map_err(|error| super::explain_migration(error, &shown, |e| anyhow::anyhow!("{e}")));
        if let Err(error) = migrated {
            pool.close().await;
            return Err(error);
        }
        Ok(Self { pool })
    }
}

/// How long the first connection may take before the server says PostgreSQL does not answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection first, so that a server that is down, a wrong host or a refused sign-in is said
/// within [`PROBE_TIMEOUT`] and in words; the pool would retry for its whole acquire timeout and then
/// say only "pool timed out".
async fn probe(url: &str, shown: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| anyhow::anyhow!("cannot read the database URL {shown}: {e}"))?;
    let at = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await {
        Err(_) => anyhow::bail!(
            "no answer from PostgreSQL at {at} within {} s; check the host and port of --database (or \
             USERCENTER_DATABASE_URL), and that no firewall drops the connection",
            PROBE_TIMEOUT.as_secs()
        ),
        Ok(Err(error)) => Err(explain(&error, &at)),
        Ok(Ok(connection)) => {
            // Only a check: the pool makes its own connections.
            let _ = connection.close().await;
            Ok(options)
        }
    }
}

/// A failed first connection in words, said once.
fn explain(error: &sqlx::Error, at: &str) -> anyhow::Error {
    match error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => anyhow::anyhow!(
            "connection refused at {at}: is PostgreSQL running and listening there? Start it, or fix the \
             host and port of --database (or USERCENTER_DATABASE_URL)"
        ),
        sqlx::Error::Io(io) => anyhow::anyhow!(
            "cannot reach PostgreSQL at {at}: {io}; check the host and port of --database (or \
             USERCENTER_DATABASE_URL)"
        ),
        sqlx::Error::Database(db) => anyhow::anyhow!(
            "PostgreSQL at {at} refused the connection: {}; check the user, password and database name of \
             --database (or USERCENTER_DATABASE_URL)",
            db.message()
        ),
        other => anyhow::anyhow!("cannot connect to PostgreSQL at {at}: {other}"),
    }
}

impl Backend for PostgresBackend {
    type Db = Postgres;

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn pools(&self) -> Vec<&PgPool> {
        vec![&self.pool]
    }

    /// Row locks taken by each `UPDATE` serialise concurrent writers; no stronger start is needed.
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.pool.begin().await
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    const SKIPS_LOCKED_ROWS: bool = true;
    const DATA_MODIFYING_CTES: bool = true;
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}
