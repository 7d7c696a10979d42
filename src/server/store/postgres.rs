//! PostgreSQL: several server processes may share one database; every rule is enforced in SQL.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Postgres, Transaction};

use super::{Backend, RowsAffected, redact_url};

#[derive(Clone)]
pub struct PostgresBackend {
    pool: PgPool,
}

impl PostgresBackend {
    /// Connects and applies the migrations (the database itself must exist, as PostgreSQL requires).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let shown = redact_url(url);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to the database {shown}"))?;
        sqlx::migrate!("assets/migrations/postgres")
            .run(&pool)
            .await
            .with_context(|| format!("cannot apply the migrations to {shown}"))?;
        Ok(Self { pool })
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
