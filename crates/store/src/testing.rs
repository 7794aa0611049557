//! The store the tests open: the embedded SQLite database in a test's data directory,
//! or, when `TOCSIN_TEST_DATABASE_URL` names a PostgreSQL database, a schema of its own
//! in that database. `scripts/test` runs the store's, the intakes' and the connectors'
//! suites once each way, so that both engines keep every promise those tests check.

use std::path::Path;

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

use crate::{Result, Store};

/// The variable naming the PostgreSQL database tests use; unset or empty means SQLite.
pub const TEST_DATABASE_VARIABLE: &str = "TOCSIN_TEST_DATABASE_URL";

impl Store {
    /// Opens the store of a test whose data directory is `data_dir` on the engine the
    /// environment chooses. Opening the same directory again opens the same database
    /// (on PostgreSQL, the schema is named after the directory).
    pub async fn open_for_tests(data_dir: &Path) -> Result<Store> {
        match test_database_url(data_dir).await? {
            Some(url) => Store::connect(Some(&url), data_dir).await,
            None => Store::open(data_dir).await,
        }
    }
}

/// The URL a test can open a raw connection with to the same database as
/// [`Store::open_for_tests`]: the SQLite file, or the PostgreSQL database with the test's
/// schema first in its search path (created if missing).
pub async fn test_database_url(data_dir: &Path) -> Result<Option<String>> {
    let Some(base) = std::env::var(TEST_DATABASE_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
    else {
        return Ok(None);
    };
    sqlx::any::install_default_drivers();
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let schema = format!("t_{}", hex::encode(&digest[..12]));
    let mut admin = AnyConnection::connect(&base).await?;
    // The name is ours (hex digits), never input.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    let separator = if base.contains('?') { '&' } else { '?' };
    Ok(Some(format!(
        "{base}{separator}options=-c%20search_path%3D{schema}"
    )))
}

/// The raw URL of the database a test's store is in, whichever engine.
pub async fn raw_database_url(data_dir: &Path) -> Result<String> {
    Ok(match test_database_url(data_dir).await? {
        Some(url) => url,
        None => format!("sqlite:{}", data_dir.join(Store::DATABASE_FILE).display()),
    })
}
