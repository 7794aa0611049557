//! The life of an incident after it is opened: state changes made by people, the
//! timeline of everything that happened to it, notifications held back by the
//! organisation's pacing settings, and the counts of a campaign across organisations.
//!
//! Every write here happens in the transaction of the change it records, so the timeline
//! never says something happened that did not commit, nor misses something that did.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

use crate::incidents::{INCIDENT_COLUMNS, incident_from_row};
use crate::mails::mail_from_row;
use crate::signins::signin_from_row;
use crate::{Intake, Result, Store, StoredMail, StoredSignIn, corrupt, now_text};
use model::{DetectionKind, Incident, IncidentState, OrgId, Severity};

/// Timeline entries kept per incident for detections that only add evidence; an attack
/// that goes on for days must not grow a timeline without end. Openings, escalations,
/// notifications and state changes are always kept.
pub const MAX_EXTENSION_EVENTS: i64 = 1000;

/// Incidents the policy ticker looks at per round.
pub const PENDING_PER_ROUND: u32 = 1000;

/// What kind of thing happened to an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A detector's finding joined (or opened) the incident.
    Detection,
    /// A notification was queued (or held back, or an attempt was made).
    Notification,
    /// The incident's state changed.
    State,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Detection => "detection",
            EventKind::Notification => "notification",
            EventKind::State => "state",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            EventKind::Detection,
            EventKind::Notification,
            EventKind::State,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One entry of an incident's timeline.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IncidentEvent {
    pub at: Timestamp,
    pub kind: EventKind,
    /// Who did it: `tocsin` for the service itself, otherwise the person or key.
    pub actor: String,
    pub detail: serde_json::Value,
}

/// How notifications about one incident are paced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pacing {
    /// A notification decided but held back, and since when.
    pub pending: Option<(String, Timestamp)>,
    /// When the organisation was last sent something about the incident.
    pub last_notified: Option<Timestamp>,
}

/// An organisation's own pacing of notifications; `None` means the service's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NotifySettings {
    pub update_interval: Option<SignedDuration>,
    pub digest_below: Option<Severity>,
    /// `HH:MM-HH:MM`, or empty for none.
    pub quiet_hours: Option<String>,
    /// An IANA time zone name.
    pub timezone: Option<String>,
}

/// How many other organisations have an open incident of the same campaign. Counts
/// only: which organisations, and anything of theirs, never leaves the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CampaignReach {
    pub other_organisations: u64,
    pub same_sector: u64,
}

/// What became of a request to change an incident's state.
#[derive(Clone, Debug, PartialEq)]
pub enum StateChange {
    Changed(Box<Incident>),
    /// No such incident in this organisation (another organisation's id included).
    NotFound,
    /// The incident is in a state this change cannot start from.
    Refused {
        current: IncidentState,
    },
}

/// False positives of one detector, for tuning it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FalsePositives {
    pub kind: DetectionKind,
    pub count: u64,
    /// The reasons given, most frequent first, each with its count.
    pub reasons: Vec<ReasonCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

/// Reasons listed per detector in the false-positive report.
const REASONS_PER_KIND: usize = 50;

async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    incident_id: &str,
    at: Timestamp,
    kind: EventKind,
    actor: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_events (incident_id, org_id, at_us, kind, actor, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(incident_id)
    .bind(org.0)
    .bind(at.as_microsecond())
    .bind(kind.as_str())
    .bind(actor)
    .bind(detail.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn pacing_from_row(row: &sqlx::any::AnyRow) -> Result<Pacing> {
    let time = |us: Option<i64>| -> Result<Option<Timestamp>> {
        us.map(|us| Timestamp::from_microsecond(us).map_err(corrupt))
            .transpose()
    };
    let event: Option<String> = row.try_get("pending_event")?;
    let since = time(row.try_get("pending_since_us")?)?;
    Ok(Pacing {
        pending: event.zip(since),
        last_notified: time(row.try_get("last_notified_us")?)?,
    })
}

fn settings_from_row(row: &sqlx::any::AnyRow) -> Result<NotifySettings> {
    let interval: Option<i64> = row.try_get("update_interval")?;
    let digest: Option<String> = row.try_get("digest_below")?;
    Ok(NotifySettings {
        update_interval: interval.map(SignedDuration::from_secs),
        digest_below: digest
            .map(|d| Severity::parse(&d).ok_or_else(|| corrupt(format!("severity {d:?}"))))
            .transpose()?,
        quiet_hours: row.try_get("quiet_hours")?,
        timezone: row.try_get("timezone")?,
    })
}

async fn read_settings(conn: &mut sqlx::AnyConnection, org: OrgId) -> Result<NotifySettings> {
    let row = sqlx::query(
        "SELECT update_interval, digest_below, quiet_hours, timezone \
         FROM org_notify_settings WHERE org_id = $1",
    )
    .bind(org.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref()
        .map(settings_from_row)
        .transpose()
        .map(Option::unwrap_or_default)
}

impl Intake {
    /// Adds an entry to an incident's timeline.
    pub async fn record_event(
        &mut self,
        org: OrgId,
        incident_id: &str,
        at: Timestamp,
        kind: EventKind,
        actor: &str,
        detail: &serde_json::Value,
    ) -> Result<()> {
        insert_event(self.connection(), org, incident_id, at, kind, actor, detail).await
    }

    /// Adds a detection that only added evidence to the timeline, unless the incident
    /// already has [`MAX_EXTENSION_EVENTS`] entries.
    pub async fn record_extension(
        &mut self,
        org: OrgId,
        incident_id: &str,
        at: Timestamp,
        detail: &serde_json::Value,
    ) -> Result<()> {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM incident_events WHERE incident_id = $1")
                .bind(incident_id)
                .fetch_one(self.connection())
                .await?;
        if count >= MAX_EXTENSION_EVENTS {
            return Ok(());
        }
        let actor = "tocsin";
        insert_event(
            self.connection(),
            org,
            incident_id,
            at,
            EventKind::Detection,
            actor,
            detail,
        )
        .await
    }

    /// How notifications about an incident of `org` are paced; `None` for an incident of
    /// another organisation or none.
    pub async fn pacing(&mut self, org: OrgId, incident_id: &str) -> Result<Option<Pacing>> {
        let row = sqlx::query(
            "SELECT pending_event, pending_since_us, last_notified_us FROM incidents \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.0)
        .bind(incident_id)
        .fetch_optional(self.connection())
        .await?;
        row.as_ref().map(pacing_from_row).transpose()
    }

    /// Holds a notification back (`Some((event, since, due))`: held since `since`, to be
    /// looked at again at `due`) or clears the one held (`None`).
    pub async fn set_pending(
        &mut self,
        org: OrgId,
        incident_id: &str,
        pending: Option<(&str, Timestamp, Timestamp)>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE incidents SET pending_event = $1, pending_since_us = $2, pending_due_us = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(pending.map(|(event, _, _)| event))
        .bind(pending.map(|(_, since, _)| since.as_microsecond()))
        .bind(pending.map(|(_, _, due)| due.as_microsecond()))
        .bind(org.0)
        .bind(incident_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// Records that the organisation was sent something about the incident at `at`:
    /// nothing is held back any more, and a `new` incident becomes `notified`.
    pub async fn mark_notified(
        &mut self,
        org: OrgId,
        incident_id: &str,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE incidents SET pending_event = NULL, pending_since_us = NULL, \
             pending_due_us = NULL, last_notified_us = $1, state = CASE state WHEN 'new' THEN 'notified' ELSE state END \
             WHERE org_id = $2 AND id = $3",
        )
        .bind(at.as_microsecond())
        .bind(org.0)
        .bind(incident_id)
        .execute(self.connection())
        .await?;
        Ok(())
    }

    /// The organisation's pacing settings (all `None` when it set none).
    pub async fn notify_settings(&mut self, org: OrgId) -> Result<NotifySettings> {
        read_settings(self.connection(), org).await
    }

    /// How many other organisations have an open incident with `campaign_key` active
    /// since `since`, and how many of those share `org`'s sector.
    pub async fn campaign_reach(
        &mut self,
        org: OrgId,
        campaign_key: &str,
        since: Timestamp,
    ) -> Result<CampaignReach> {
        let row = sqlx::query(
            "SELECT count(DISTINCT i.org_id) AS others, \
             count(DISTINCT CASE WHEN o.sector = (SELECT sector FROM organisations WHERE id = $1) \
             THEN i.org_id END) AS same_sector \
             FROM incidents i JOIN organisations o ON o.id = i.org_id \
             WHERE i.campaign_key = $2 AND i.org_id != $3 AND i.last_seen_us >= $4 \
             AND i.state IN ('new', 'notified', 'acknowledged')",
        )
        .bind(org.0)
        .bind(campaign_key)
        .bind(org.0)
        .bind(since.as_microsecond())
        .fetch_one(self.connection())
        .await?;
        let others: i64 = row.try_get("others")?;
        let same: i64 = row.try_get("same_sector")?;
        Ok(CampaignReach {
            other_organisations: others.max(0) as u64,
            same_sector: same.max(0) as u64,
        })
    }

    /// Incidents of every organisation with a notification held back that is due at
    /// `now`, the longest due first, at most [`PENDING_PER_ROUND`]: what the policy
    /// ticker decides on.
    pub async fn due_pending(&mut self, now: Timestamp) -> Result<Vec<(Incident, Pacing)>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS}, pending_event, pending_since_us, last_notified_us \
             FROM incidents WHERE pending_event IS NOT NULL AND pending_due_us <= $1 \
             ORDER BY pending_due_us, id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.as_microsecond())
            .bind(i64::from(PENDING_PER_ROUND))
            .fetch_all(self.connection())
            .await?;
        rows.iter()
            .map(|row| Ok((incident_from_row(row)?, pacing_from_row(row)?)))
            .collect()
    }

    /// The newest evidence of an incident of `org` (sign-ins and messages), at most
    /// `limit` of each, in time order: what a held notification shows when it goes.
    pub async fn latest_evidence(
        &mut self,
        org: OrgId,
        incident_id: &str,
        limit: u32,
    ) -> Result<(Vec<StoredSignIn>, Vec<StoredMail>)> {
        let rows = sqlx::query(
            "SELECT s.* FROM incident_evidence e JOIN signins s ON s.id = e.signin_id \
             WHERE e.incident_id = $1 AND s.org_id = $2 ORDER BY s.time_us DESC, s.id DESC LIMIT $3",
        )
        .bind(incident_id)
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(self.connection())
        .await?;
        let mut signins = rows
            .iter()
            .map(signin_from_row)
            .collect::<Result<Vec<_>>>()?;
        signins.reverse();
        let rows = sqlx::query(
            "SELECT m.* FROM incident_mails e JOIN mails m ON m.id = e.mail_id \
             WHERE e.incident_id = $1 AND m.org_id = $2 ORDER BY m.time_us DESC, m.id DESC LIMIT $3",
        )
        .bind(incident_id)
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(self.connection())
        .await?;
        let mut mails = rows.iter().map(mail_from_row).collect::<Result<Vec<_>>>()?;
        mails.reverse();
        Ok((signins, mails))
    }

    /// One incident of `org` with its pacing, read inside this transaction.
    pub async fn incident_with_pacing(
        &mut self,
        org: OrgId,
        incident_id: &str,
    ) -> Result<Option<(Incident, Pacing)>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS}, pending_event, pending_since_us, last_notified_us \
             FROM incidents WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(incident_id)
            .fetch_optional(self.connection())
            .await?;
        row.as_ref()
            .map(|row| Ok((incident_from_row(row)?, pacing_from_row(row)?)))
            .transpose()
    }
}

impl Store {
    /// Moves an incident of `org` to `to` (acknowledged, resolved or false positive) for
    /// `actor`, with the change on its timeline, in one transaction. `reason` is the
    /// false-positive reason, `note` a resolution's free text. A closed incident holds no
    /// notification back any more.
    pub async fn change_state(
        &self,
        org: OrgId,
        incident_id: &str,
        to: IncidentState,
        reason: Option<&str>,
        note: Option<&str>,
        actor: &str,
    ) -> Result<StateChange> {
        let mut tx = self.begin_intake().await?;
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(incident_id)
            .fetch_optional(tx.connection())
            .await?;
        let Some(mut incident) = row.as_ref().map(incident_from_row).transpose()? else {
            return Ok(StateChange::NotFound);
        };
        let from = incident.state;
        if !from.may_become(to) {
            return Ok(StateChange::Refused { current: from });
        }
        let now = Timestamp::now();
        let closing = !to.is_open();
        sqlx::query(
            "UPDATE incidents SET state = $1, updated_at = $2, \
             closed_reason = CASE WHEN $3 THEN $4 ELSE closed_reason END, \
             closed_note = CASE WHEN $5 THEN $6 ELSE closed_note END, \
             closed_at = CASE WHEN $7 THEN $8 ELSE closed_at END, \
             closed_by = CASE WHEN $9 THEN $10 ELSE closed_by END, \
             pending_event = CASE WHEN $11 THEN NULL ELSE pending_event END, \
             pending_since_us = CASE WHEN $12 THEN NULL ELSE pending_since_us END, \
             pending_due_us = CASE WHEN $13 THEN NULL ELSE pending_due_us END \
             WHERE org_id = $14 AND id = $15",
        )
        .bind(to.as_str())
        .bind(now_text())
        .bind(closing)
        .bind(reason)
        .bind(closing)
        .bind(note)
        .bind(closing)
        .bind(now.to_string())
        .bind(closing)
        .bind(actor)
        .bind(closing)
        .bind(closing)
        .bind(closing)
        .bind(org.0)
        .bind(incident_id)
        .execute(tx.connection())
        .await?;
        let mut detail = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
        if let Some(reason) = reason {
            detail["reason"] = reason.into();
        }
        if let Some(note) = note {
            detail["note"] = note.into();
        }
        tx.record_event(org, incident_id, now, EventKind::State, actor, &detail)
            .await?;
        tx.commit().await?;
        incident.state = to;
        Ok(StateChange::Changed(Box::new(incident)))
    }

    /// An incident's timeline, oldest first, at most `limit` entries; `None` when `org`
    /// has no incident with this id.
    pub async fn timeline(
        &self,
        org: OrgId,
        incident_id: &str,
        limit: u32,
    ) -> Result<Option<Vec<IncidentEvent>>> {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM incidents WHERE org_id = $1 AND id = $2")
                .bind(org.0)
                .bind(incident_id)
                .fetch_optional(&self.pool)
                .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT at_us, kind, actor, detail FROM incident_events \
             WHERE incident_id = $1 AND org_id = $2 ORDER BY at_us, id LIMIT $3",
        )
        .bind(incident_id)
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut events = rows
            .iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let detail: String = row.try_get("detail")?;
                Ok(IncidentEvent {
                    at: Timestamp::from_microsecond(row.try_get("at_us")?).map_err(corrupt)?,
                    kind: EventKind::parse(&kind)
                        .ok_or_else(|| corrupt(format!("event kind {kind:?}")))?,
                    actor: row.try_get("actor")?,
                    detail: serde_json::from_str(&detail).map_err(corrupt)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // What became of each notification queued: every outbox row it made (the webhook's
        // and one per e-mail recipient, `<id>.mail<n>`) as it is now, with its attempts.
        let mut made: Vec<(usize, Vec<(i64, serde_json::Value)>)> = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let Some(delivery_id) = event.detail["delivery_id"].as_str() else {
                continue;
            };
            let rows = sqlx::query(
                "SELECT id, channel, target, state, attempts, last_error, delivered_at FROM outbox \
                 WHERE org_id = $1 AND (delivery_id = $2 OR delivery_id LIKE $3 ESCAPE '\\') \
                 ORDER BY id LIMIT $4",
            )
            .bind(org.0)
            .bind(delivery_id)
            .bind(format!("{}.mail%", like_escape(delivery_id)))
            .bind(DELIVERIES_PER_NOTICE)
            .fetch_all(&self.pool)
            .await?;
            let rows = rows
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get::<i64, _>("id")?,
                        serde_json::json!({
                            "channel": row.try_get::<String, _>("channel")?,
                            "target": row.try_get::<Option<String>, _>("target")?,
                            "state": row.try_get::<String, _>("state")?,
                            "attempts": row.try_get::<i64, _>("attempts")?,
                            "last_error": row.try_get::<Option<String>, _>("last_error")?,
                            "delivered_at": row.try_get::<Option<String>, _>("delivered_at")?,
                        }),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            made.push((index, rows));
        }
        // The attempts of all those rows in one query per few hundred rows, not one per row.
        let ids: Vec<i64> = made
            .iter()
            .flat_map(|(_, rows)| rows.iter().map(|(id, _)| *id))
            .collect();
        let mut attempts: HashMap<i64, Vec<serde_json::Value>> = HashMap::new();
        for chunk in ids.chunks(256) {
            let placeholders = crate::placeholders(1, chunk.len());
            let sql = format!(
                "SELECT outbox_id, attempt, at, outcome, detail, duration_ms FROM delivery_attempts \
                 WHERE outbox_id IN ({placeholders}) ORDER BY outbox_id, attempt"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            for a in query.fetch_all(&self.pool).await? {
                attempts
                    .entry(a.try_get("outbox_id")?)
                    .or_default()
                    .push(serde_json::json!({
                        "attempt": a.try_get::<i64, _>("attempt")?,
                        "at": a.try_get::<String, _>("at")?,
                        "outcome": a.try_get::<String, _>("outcome")?,
                        "detail": a.try_get::<String, _>("detail")?,
                        "duration_ms": a.try_get::<i64, _>("duration_ms")?,
                    }));
            }
        }
        for (index, rows) in made {
            let deliveries: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|(id, mut delivery)| {
                    let mut log = attempts.remove(&id).unwrap_or_default();
                    // The latest attempts, oldest first.
                    let skip = log.len().saturating_sub(ATTEMPTS_PER_DELIVERY);
                    log.drain(..skip);
                    delivery["attempt_log"] = serde_json::Value::Array(log);
                    delivery
                })
                .collect();
            let event = &mut events[index];
            if let Some(first) = deliveries.first() {
                event.detail["delivery"] = first.clone();
            }
            event.detail["deliveries"] = serde_json::Value::Array(deliveries);
        }
        Ok(Some(events))
    }

    /// False positives by detector with the reasons given; for operators tuning
    /// detectors. Reasons are the organisations' words, without who said them.
    pub async fn false_positives(&self) -> Result<Vec<FalsePositives>> {
        let rows = sqlx::query(
            "SELECT kind, coalesce(closed_reason, '') AS reason, count(*) AS n FROM incidents \
             WHERE state = 'false_positive' GROUP BY kind, reason ORDER BY kind, n DESC, reason",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<FalsePositives> = Vec::new();
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let kind = DetectionKind::parse(&kind)
                .ok_or_else(|| corrupt(format!("incident kind {kind:?}")))?;
            let reason: String = row.try_get("reason")?;
            let n: i64 = row.try_get("n")?;
            let n = n.max(0) as u64;
            if out.last().is_none_or(|f| f.kind != kind) {
                out.push(FalsePositives {
                    kind,
                    count: 0,
                    reasons: Vec::new(),
                });
            }
            if let Some(entry) = out.last_mut() {
                entry.count += n;
                if entry.reasons.len() < REASONS_PER_KIND {
                    entry.reasons.push(ReasonCount { reason, count: n });
                }
            }
        }
        Ok(out)
    }

    /// The organisation's pacing settings (all `None` when it set none).
    pub async fn notify_settings(&self, org: OrgId) -> Result<NotifySettings> {
        let mut conn = self.pool.acquire().await?;
        read_settings(&mut conn, org).await
    }

    /// Replaces the organisation's pacing settings.
    pub async fn set_notify_settings(&self, org: OrgId, settings: &NotifySettings) -> Result<()> {
        sqlx::query(
            "INSERT INTO org_notify_settings (org_id, update_interval, digest_below, quiet_hours, \
             timezone, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id) DO UPDATE SET \
             update_interval = excluded.update_interval, digest_below = excluded.digest_below, \
             quiet_hours = excluded.quiet_hours, timezone = excluded.timezone, \
             updated_at = excluded.updated_at",
        )
        .bind(org.0)
        .bind(settings.update_interval.map(|d| d.as_secs()))
        .bind(settings.digest_below.map(Severity::as_str))
        .bind(&settings.quiet_hours)
        .bind(&settings.timezone)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Outbox rows shown per notification on a timeline (the webhook and e-mail recipients).
const DELIVERIES_PER_NOTICE: i64 = 60;
/// The latest attempts shown per outbox row on a timeline.
const ATTEMPTS_PER_DELIVERY: usize = 20;

/// `text` for a LIKE pattern with `\` as the escape character.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
