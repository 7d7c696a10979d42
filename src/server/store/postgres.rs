//! PostgreSQL: several server processes may share one database; every rule is enforced in SQL.

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::redact_url;

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
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

    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await
    }
}

super::impl_sql_store!(PostgresStore);
