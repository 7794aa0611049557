//! Which database holds the store, and how long events are kept: the `[store]` section,
//! and the deletion that keeps the event tables inside the horizon.
//!
//! Sign-ins and message records older than the horizon are deleted in small batches
//! (each its own short transaction), so that deletion keeps pace with intake without
//! holding the write turn for long. Incidents stay: an incident outlives the sign-ins
//! it was built from, keeping its counts, accounts and summary; only the links to the
//! deleted evidence go.

use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// The `[store]` section of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `postgres://user@host/database` for PostgreSQL; empty for the embedded SQLite
    /// database in the data directory.
    pub url: String,
    /// Sign-ins and message records older than this many days are deleted; 0 keeps them
    /// for ever.
    pub retention_days: u32,
    /// Rows deleted per transaction.
    pub retention_batch: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: String::new(),
            retention_days: 180,
            retention_batch: 5_000,
        }
    }
}

impl StoreConfig {
    /// The URL to open, `None` for the embedded default.
    pub fn url(&self) -> Option<&str> {
        Some(self.url.trim()).filter(|url| !url.is_empty())
    }
}

/// What one retention pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub sign_ins: u64,
    pub mails: u64,
}

impl Store {
    /// Deletes sign-ins and message records with an event time before `before_us`, at
    /// most `batch` per transaction, until none is left. Returns how many went.
    pub async fn delete_events_before(&self, before_us: i64, batch: u32) -> Result<Deleted> {
        let batch = i64::from(batch.max(1));
        let mut deleted = Deleted::default();
        for (table, count) in [
            ("signins", &mut deleted.sign_ins),
            ("mails", &mut deleted.mails),
        ] {
            loop {
                let mut tx = self.begin_write().await?;
                // Only the table name (a constant of ours) is spliced in.
                let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE id IN \
                     (SELECT id FROM {table} WHERE time_us < $1 ORDER BY time_us LIMIT $2)"
                )))
                .bind(before_us)
                .bind(batch)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                *count += done.rows_affected();
                if done.rows_affected() < batch as u64 {
                    break;
                }
                // Let intake take its turn between batches.
                tokio::task::yield_now().await;
            }
        }
        Ok(deleted)
    }
}
