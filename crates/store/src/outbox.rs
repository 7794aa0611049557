//! The notification outbox: rows written with the incident change that causes them, read
//! and updated by the delivery worker.
//!
//! A row's `delivery_id` never changes, whatever the number of attempts: receivers drop
//! duplicates by it, which turns at-least-once delivery into exactly-once processing.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Result, Store, corrupt, now_text};
use model::OrgId;

/// A notification to queue.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub delivery_id: String,
    pub org: OrgId,
    /// The incident it is about; `None` for notices about no incident (a confirmation
    /// link, a test notification).
    pub incident_id: Option<String>,
    /// The channel that will carry it (`webhook`, `email`).
    pub channel: String,
    /// Where it goes: the recipient's address for `email`; for `webhook`, `None` means
    /// the organisation's endpoint as it is at delivery time.
    pub target: Option<String>,
    /// What happened (`incident.opened`, `incident.escalated`).
    pub event: String,
    /// The exact body to send, fixed when queued so every attempt sends the same bytes.
    pub payload: String,
    pub not_before: Timestamp,
}

/// A queued notification that is due.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    pub delivery_id: String,
    pub org: OrgId,
    pub incident_id: Option<String>,
    pub channel: String,
    pub target: Option<String>,
    pub event: String,
    pub payload: String,
    pub attempts: u32,
    /// Where the organisation wants notifications now (read at delivery time, so a
    /// corrected URL takes effect for queued notifications too).
    pub webhook_url: Option<String>,
}

pub(crate) async fn insert(conn: &mut sqlx::SqliteConnection, d: &NewDelivery) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (delivery_id, org_id, incident_id, channel, target, event, payload, \
         state, attempts, next_attempt_us, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
    )
    .bind(&d.delivery_id)
    .bind(d.org.0)
    .bind(&d.incident_id)
    .bind(&d.channel)
    .bind(&d.target)
    .bind(&d.event)
    .bind(&d.payload)
    .bind(d.not_before.as_microsecond())
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Queues one notification on its own, outside an intake transaction (a test
    /// notification, a confirmation link).
    pub async fn enqueue(&self, delivery: &NewDelivery) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, delivery).await
    }

    /// Pending notifications due at `now`, oldest first, at most `limit`.
    pub async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT o.id, o.delivery_id, o.org_id, o.incident_id, o.channel, o.target, o.event, o.payload, \
             o.attempts, g.webhook_url FROM outbox o JOIN organisations g ON g.id = o.org_id \
             WHERE o.state = 'pending' AND o.next_attempt_us <= ? \
             ORDER BY o.next_attempt_us, o.id LIMIT ?",
        )
        .bind(now.as_microsecond())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get("attempts")?;
                Ok(Delivery {
                    id: row.try_get("id")?,
                    delivery_id: row.try_get("delivery_id")?,
                    org: OrgId(row.try_get("org_id")?),
                    incident_id: row.try_get("incident_id")?,
                    channel: row.try_get("channel")?,
                    target: row.try_get("target")?,
                    event: row.try_get("event")?,
                    payload: row.try_get("payload")?,
                    attempts: u32::try_from(attempts).map_err(corrupt)?,
                    webhook_url: row.try_get("webhook_url")?,
                })
            })
            .collect()
    }

    /// When the next pending notification falls due, if any is pending.
    pub async fn next_delivery_time(&self) -> Result<Option<Timestamp>> {
        let us: Option<i64> =
            sqlx::query_scalar("SELECT min(next_attempt_us) FROM outbox WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        us.map(|us| Timestamp::from_microsecond(us).map_err(corrupt))
            .transpose()
    }

    pub async fn mark_delivered(&self, id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, \
             last_error = NULL WHERE id = ?",
        )
        .bind(now_text())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or given up on (`None`).
    pub async fn mark_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let (state, next) = match retry_at {
            Some(at) => ("pending", Some(at.as_microsecond())),
            None => ("dead", None),
        };
        sqlx::query(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, \
             next_attempt_us = coalesce(?, next_attempt_us) WHERE id = ?",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many notifications are in each state, for health checks and tests.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let row = sqlx::query(
            "SELECT coalesce(sum(state = 'pending'), 0) AS pending, \
             coalesce(sum(state = 'delivered'), 0) AS delivered, \
             coalesce(sum(state = 'dead'), 0) AS dead FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts {
            pending: row.try_get("pending")?,
            delivered: row.try_get("delivered")?,
            dead: row.try_get("dead")?,
        })
    }
}

/// Notifications by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
}
