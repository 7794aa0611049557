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
    /// The organisation's webhook signing secret generation at delivery time, and when
    /// it was rotated: within the overlap a webhook carries the previous one's signature
    /// too.
    pub secret_generation: u32,
    pub secret_rotated_at: Option<Timestamp>,
    /// When the notification was queued: delivery latency is measured from it.
    pub queued_at: Option<Timestamp>,
}

/// How one delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Delivered,
    /// Failed; the row stays pending and is tried again later.
    Retry,
    /// Failed; given up on until an operator retries it.
    Dead,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retry => "retry",
            Outcome::Dead => "dead",
        }
    }
}

/// One finished delivery attempt, to record.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    pub outcome: Outcome,
    /// The SMTP reply, HTTP status or error; on success what the receiver said.
    pub detail: &'a str,
    pub duration_ms: u64,
    /// When to try again, for [`Outcome::Retry`].
    pub retry_at: Option<Timestamp>,
}

/// A queued notification as an operator or an organisation sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryRecord {
    pub id: i64,
    pub delivery_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    pub incident_id: Option<String>,
    pub channel: String,
    pub target: Option<String>,
    pub event: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Every attempt made, manual retries included.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// One recorded attempt, as the `delivery_attempts` table keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AttemptRecord {
    pub attempt: i64,
    pub at: String,
    pub outcome: String,
    pub detail: String,
    pub duration_ms: i64,
}

/// One attempt at one of an incident's notifications, for the incident's timeline.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IncidentAttempt {
    pub delivery_id: String,
    pub channel: String,
    pub target: Option<String>,
    pub event: String,
    #[serde(flatten)]
    pub attempt: AttemptRecord,
}

/// The most dead letters one listing returns.
pub const MAX_DEAD_LISTED: u32 = 500;

const SELECT_RECORD: &str = "SELECT o.id, o.delivery_id, o.org_id, o.incident_id, o.channel, \
     o.target, o.event, o.state, o.last_error, o.created_at, o.delivered_at, \
     (SELECT count(*) FROM delivery_attempts a WHERE a.outbox_id = o.id) AS attempt_count \
     FROM outbox o";

fn record(row: &sqlx::any::AnyRow, with_org: bool) -> Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: row.try_get("id")?,
        delivery_id: row.try_get("delivery_id")?,
        org: with_org
            .then(|| row.try_get("org_id").map(OrgId))
            .transpose()?,
        incident_id: row.try_get("incident_id")?,
        channel: row.try_get("channel")?,
        target: row.try_get("target")?,
        event: row.try_get("event")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempt_count")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

pub(crate) async fn insert(conn: &mut sqlx::AnyConnection, d: &NewDelivery) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (delivery_id, org_id, incident_id, channel, target, event, payload, \
         state, attempts, next_attempt_us, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9)",
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
             o.attempts, o.created_at, g.webhook_url, g.webhook_secret_generation, g.webhook_rotated_at \
             FROM outbox o JOIN organisations g ON g.id = o.org_id \
             WHERE o.state = 'pending' AND o.next_attempt_us <= $1 \
             ORDER BY o.next_attempt_us, o.id LIMIT $2",
        )
        .bind(now.as_microsecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get("attempts")?;
                let generation: i64 = row.try_get("webhook_secret_generation")?;
                let rotated_at: Option<String> = row.try_get("webhook_rotated_at")?;
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
                    secret_generation: u32::try_from(generation).map_err(corrupt)?,
                    secret_rotated_at: rotated_at
                        .map(|at| at.parse::<Timestamp>().map_err(corrupt))
                        .transpose()?,
                    queued_at: row
                        .try_get::<String, _>("created_at")
                        .ok()
                        .and_then(|at| at.parse().ok()),
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
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, \
             last_error = NULL WHERE id = $2",
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
            "UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_us = coalesce($3, next_attempt_us) WHERE id = $4",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records one finished attempt and moves the row on, in one transaction, so that the
    /// attempt log and the row's state never disagree.
    pub async fn finish_attempt(&self, id: i64, attempt: &Attempt<'_>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_text();
        match attempt.outcome {
            Outcome::Delivered => {
                sqlx::query(
                    "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, \
                     delivered_at = $1, last_error = NULL WHERE id = $2",
                )
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            Outcome::Retry | Outcome::Dead => {
                let (state, next) = match (attempt.outcome, attempt.retry_at) {
                    (Outcome::Retry, Some(at)) => ("pending", Some(at.as_microsecond())),
                    _ => ("dead", None),
                };
                sqlx::query(
                    "UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, \
                     next_attempt_us = coalesce($3, next_attempt_us) WHERE id = $4",
                )
                .bind(state)
                .bind(attempt.detail)
                .bind(next)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "INSERT INTO delivery_attempts (outbox_id, attempt, at, outcome, detail, duration_ms) \
             VALUES ($1, (SELECT count(*) + 1 FROM delivery_attempts WHERE outbox_id = $2), $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(id)
        .bind(&now)
        .bind(attempt.outcome.as_str())
        .bind(attempt.detail)
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Notifications given up on, newest first, at most `limit` (capped at
    /// [`MAX_DEAD_LISTED`]); for operators.
    pub async fn dead_deliveries(&self, limit: u32) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECORD} WHERE o.state = 'dead' ORDER BY o.id DESC LIMIT $1"
        )))
        .bind(i64::from(limit.min(MAX_DEAD_LISTED)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| record(row, true)).collect()
    }

    /// One queued notification by its row id; for operators.
    pub async fn delivery(&self, id: i64) -> Result<Option<DeliveryRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECORD} WHERE o.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| record(&row, true)).transpose()
    }

    /// Puts a dead notification back in the queue, due now, with a fresh budget of
    /// attempts (its history stays in `delivery_attempts`). `false` when no dead row has
    /// this id.
    pub async fn retry_delivery(&self, id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_us = $1 \
             WHERE id = $2 AND state = 'dead'",
        )
        .bind(now.as_microsecond())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The notifications queued about one of `org`'s incidents, oldest first.
    pub async fn incident_deliveries(
        &self,
        org: OrgId,
        incident_id: &str,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_RECORD} WHERE o.org_id = $1 AND o.incident_id = $2 ORDER BY o.id LIMIT 1000"
        )))
        .bind(org.0)
        .bind(incident_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| record(row, false)).collect()
    }

    /// Every attempt made at one notification, in order.
    pub async fn delivery_attempts(&self, id: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query(
            "SELECT attempt, at, outcome, detail, duration_ms FROM delivery_attempts \
             WHERE outbox_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AttemptRecord {
                    attempt: row.try_get("attempt")?,
                    at: row.try_get("at")?,
                    outcome: row.try_get("outcome")?,
                    detail: row.try_get("detail")?,
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// Every attempt at the notifications about one of `org`'s incidents, in time order
    /// (at most 1,000): what the incident's timeline shows of its notifications.
    pub async fn incident_attempts(
        &self,
        org: OrgId,
        incident_id: &str,
    ) -> Result<Vec<IncidentAttempt>> {
        let rows = sqlx::query(
            "SELECT o.delivery_id, o.channel, o.target, o.event, a.attempt, a.at, a.outcome, \
             a.detail, a.duration_ms FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id \
             WHERE o.org_id = $1 AND o.incident_id = $2 ORDER BY a.id LIMIT 1000",
        )
        .bind(org.0)
        .bind(incident_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(IncidentAttempt {
                    delivery_id: row.try_get("delivery_id")?,
                    channel: row.try_get("channel")?,
                    target: row.try_get("target")?,
                    event: row.try_get("event")?,
                    attempt: AttemptRecord {
                        attempt: row.try_get("attempt")?,
                        at: row.try_get("at")?,
                        outcome: row.try_get("outcome")?,
                        detail: row.try_get("detail")?,
                        duration_ms: row.try_get("duration_ms")?,
                    },
                })
            })
            .collect()
    }

    /// How many notifications are in each state, for health checks and tests.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let row = sqlx::query(
            "SELECT count(*) FILTER (WHERE state = 'pending') AS pending, \
             count(*) FILTER (WHERE state = 'delivered') AS delivered, \
             count(*) FILTER (WHERE state = 'dead') AS dead FROM outbox",
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
