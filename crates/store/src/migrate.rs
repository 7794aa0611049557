//! Schema migrations, embedded in the binary and applied in order at start.
//!
//! A database written by a newer tocsin is refused rather than guessed at.

use sqlx::AnyPool;

use crate::{Dialect, Result, StoreError, begin_write};

/// Every SQLite migration, in order; the version is the position plus one.
const SQLITE: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_signin_asn_user_agent.sql"),
    include_str!("../migrations/sqlite/0003_incident_reasons.sql"),
    include_str!("../migrations/sqlite/0004_mails.sql"),
    include_str!("../migrations/sqlite/0005_outbox_channels.sql"),
    include_str!("../migrations/sqlite/0006_enrolment.sql"),
    include_str!("../migrations/sqlite/0007_people.sql"),
    include_str!("../migrations/sqlite/0008_incident_lifecycle.sql"),
    include_str!("../migrations/sqlite/0009_channels.sql"),
    include_str!("../migrations/sqlite/0010_intel.sql"),
    include_str!("../migrations/sqlite/0011_connectors.sql"),
    include_str!("../migrations/sqlite/0012_pull_connectors.sql"),
    include_str!("../migrations/sqlite/0013_pipeline.sql"),
    include_str!("../migrations/sqlite/0014_scorecard.sql"),
];

/// Every PostgreSQL migration, in order. PostgreSQL support began with the schema of
/// SQLite's version 12, so its history is shorter; each engine counts its own versions.
const POSTGRES: &[&str] = &[
    include_str!("../migrations/postgres/0001_schema.sql"),
    include_str!("../migrations/postgres/0002_pipeline.sql"),
    include_str!("../migrations/postgres/0003_scorecard.sql"),
];

/// The schema version this tocsin writes to SQLite: the number of its migrations.
pub const SCHEMA_VERSION: i64 = SQLITE.len() as i64;

/// The schema version this tocsin writes for `dialect`.
pub fn schema_version(dialect: Dialect) -> i64 {
    migrations(dialect).len() as i64
}

fn migrations(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    }
}

pub(crate) async fn apply(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    // On PostgreSQL the write lock also keeps two processes starting at once from both
    // migrating.
    let mut tx = begin_write(pool, dialect).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
        .fetch_one(&mut *tx)
        .await?;
    let found = found.unwrap_or(0);
    let migrations = migrations(dialect);
    let supported = migrations.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, sql) in migrations.iter().enumerate().skip(found as usize) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
            .bind(index as i64 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
