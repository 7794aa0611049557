//! The scaled-out pipeline's bookkeeping: partition leases, stream progress and the
//! forwarding outbox of the detector workers.
//!
//! A partition of a stage is owned by at most one worker at a time: the lease is taken
//! and renewed here, and every transaction that commits a partition's work also checks
//! the lease and moves its `done_seq` ([`Intake::advance_partition`]), so that a worker
//! that lost its lease (paused, partitioned from the database) cannot commit, and a
//! message delivered again after a crash is known to be done.

use sqlx::Row;

use crate::{Intake, Result, Store, StoreError};

/// A partition this worker holds, and the last stream sequence committed for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub partition: u32,
    pub done_seq: u64,
}

/// An observation waiting to be handed to the next stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub id: i64,
    pub subject: String,
    pub message_id: String,
    pub payload: String,
}

impl Store {
    /// Says `owner` (a worker of `stage`) is alive at `now_us`, forgets workers silent
    /// since before `dead_before_us`, and returns how many are alive.
    pub async fn worker_heartbeat(
        &self,
        stage: &str,
        owner: &str,
        now_us: i64,
        dead_before_us: i64,
    ) -> Result<u32> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO pipeline_workers (owner, stage, seen_us) VALUES ($1, $2, $3) \
             ON CONFLICT (stage, owner) DO UPDATE SET seen_us = excluded.seen_us",
        )
        .bind(owner)
        .bind(stage)
        .bind(now_us)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM pipeline_workers WHERE seen_us < $1")
            .bind(dead_before_us)
            .execute(&mut *tx)
            .await?;
        let alive: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pipeline_workers WHERE stage = $1")
                .bind(stage)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(u32::try_from(alive).unwrap_or(u32::MAX))
    }

    /// Takes or renews the lease of `partition` for `owner` until `until_us`, if it is
    /// free, expired (at `now_us`) or already `owner`'s. Returns where its work stands.
    pub async fn claim_partition(
        &self,
        stage: &str,
        partition: u32,
        owner: &str,
        now_us: i64,
        until_us: i64,
    ) -> Result<Option<Claimed>> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO pipeline_partitions (stage, part) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(stage)
        .bind(i64::from(partition))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "UPDATE pipeline_partitions SET owner = $1, lease_until_us = $2 \
             WHERE stage = $3 AND part = $4 \
             AND (owner IS NULL OR owner = $1 OR lease_until_us < $5) RETURNING done_seq",
        )
        .bind(owner)
        .bind(until_us)
        .bind(stage)
        .bind(i64::from(partition))
        .bind(now_us)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.map(|row| {
            let done: i64 = row.try_get("done_seq")?;
            Ok(Claimed {
                partition,
                done_seq: u64::try_from(done).unwrap_or(0),
            })
        })
        .transpose()
    }

    /// Renews the leases `owner` holds on `partitions` of `stage` until `until_us`, in one
    /// statement; returns the partitions still held (a lease that expired and was taken
    /// by another worker is not among them).
    pub async fn renew_partitions(
        &self,
        stage: &str,
        partitions: &[u32],
        owner: &str,
        until_us: i64,
    ) -> Result<Vec<u32>> {
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        // Only numbered placeholders are spliced in; the values are bound.
        let sql = format!(
            "UPDATE pipeline_partitions SET lease_until_us = $1 \
             WHERE stage = $2 AND owner = $3 AND part IN ({}) RETURNING part",
            crate::placeholders(4, partitions.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(until_us)
            .bind(stage)
            .bind(owner);
        for partition in partitions {
            query = query.bind(i64::from(*partition));
        }
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let part: i64 = row.try_get("part")?;
                u32::try_from(part).map_err(crate::corrupt)
            })
            .collect()
    }

    /// Gives `partition` up (a worker with more than its share, or stopping), so that
    /// another worker can take it at once instead of waiting for the lease to expire.
    pub async fn release_partition(&self, stage: &str, partition: u32, owner: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE pipeline_partitions SET owner = NULL, lease_until_us = 0 \
             WHERE stage = $1 AND part = $2 AND owner = $3",
        )
        .bind(stage)
        .bind(i64::from(partition))
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who holds each partition of `stage` now (`None` for free or expired leases), in
    /// partition order: for metrics and tests.
    pub async fn partition_owners(
        &self,
        stage: &str,
        now_us: i64,
    ) -> Result<Vec<(u32, Option<String>, u64)>> {
        let rows = sqlx::query(
            "SELECT part, CASE WHEN lease_until_us >= $1 THEN owner END AS owner, done_seq \
             FROM pipeline_partitions WHERE stage = $2 ORDER BY part",
        )
        .bind(now_us)
        .bind(stage)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let part: i64 = row.try_get("part")?;
                let done: i64 = row.try_get("done_seq")?;
                Ok((
                    u32::try_from(part).map_err(crate::corrupt)?,
                    row.try_get("owner")?,
                    u64::try_from(done).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// The oldest observations waiting to be forwarded, at most `limit`.
    pub async fn pending_forwards(&self, limit: u32) -> Result<Vec<Forward>> {
        let rows = sqlx::query(
            "SELECT id, subject, message_id, payload FROM pipeline_forward ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Forward {
                    id: row.try_get("id")?,
                    subject: row.try_get("subject")?,
                    message_id: row.try_get("message_id")?,
                    payload: row.try_get("payload")?,
                })
            })
            .collect()
    }

    /// Forgets forwards the next stage's stream has acknowledged.
    pub async fn forwarded(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in ids.chunks(500) {
            let sql = format!(
                "DELETE FROM pipeline_forward WHERE id IN ({})",
                crate::placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Intake {
    /// Records, in this transaction, that `partition` of `stage` is done up to stream
    /// sequence `seq` — if `owner` still holds its lease at `now_us`. A worker that lost
    /// the lease gets [`StoreError::LeaseLost`] and must roll back: another worker owns
    /// the partition and will do the work again.
    pub async fn advance_partition(
        &mut self,
        stage: &str,
        partition: u32,
        owner: &str,
        seq: u64,
        now_us: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE pipeline_partitions SET done_seq = $1 \
             WHERE stage = $2 AND part = $3 AND owner = $4 AND lease_until_us >= $5",
        )
        .bind(i64::try_from(seq).map_err(crate::corrupt)?)
        .bind(stage)
        .bind(i64::from(partition))
        .bind(owner)
        .bind(now_us)
        .execute(&mut *self.connection())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost {
                stage: stage.to_owned(),
                partition,
            });
        }
        Ok(())
    }

    /// Queues observations for the next stages, in this transaction: `(subject, message
    /// id, payload)` each, written a few hundred rows per statement.
    pub async fn queue_forwards(&mut self, forwards: &[(&str, &str, &str)]) -> Result<()> {
        for chunk in forwards.chunks(300) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            // Only numbered placeholders are spliced in; the values are bound.
            let sql = format!(
                "INSERT INTO pipeline_forward (subject, message_id, payload) VALUES {values}"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (subject, message_id, payload) in chunk {
                query = query.bind(*subject).bind(*message_id).bind(*payload);
            }
            query.execute(&mut *self.connection()).await?;
        }
        Ok(())
    }
}
