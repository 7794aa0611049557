//! Schema migrations, embedded in the binary and applied in order at start.
//!
//! A database written by a newer tocsin is refused rather than guessed at.

use sqlx::SqlitePool;

use crate::{Result, StoreError};

/// Every migration, in order; the version is the position plus one.
const MIGRATIONS: &[&str] = &[
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
];

/// The schema version this tocsin writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) async fn apply(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let found: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_version")
        .fetch_one(&mut *tx)
        .await?;
    let found = found.unwrap_or(0);
    let supported = SCHEMA_VERSION;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
            .bind(index as i64 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
