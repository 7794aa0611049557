//! Sign-in intake: the write transaction that stores accepted sign-ins together with the
//! incident changes and notifications they cause, and reads of stored sign-ins.

use jiff::Timestamp;
use sqlx::Row;

use crate::incidents::{INCIDENT_COLUMNS, incident_from_row};
use crate::outbox::NewDelivery;
use crate::{Result, Store, corrupt, now_text};
use model::{EventId, Incident, Observation, OrgId, SignIn};

/// A stored sign-in with its id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredSignIn {
    pub id: EventId,
    #[serde(flatten)]
    pub sign_in: SignIn,
    /// The /24 or /64 of the source address, as detectors group addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_network: Option<model::Network>,
}

/// One write transaction. Nothing in it is visible or durable until [`Intake::commit`];
/// dropping it rolls everything back.
pub struct Intake {
    tx: crate::Write,
    received_at: String,
}

impl Store {
    /// Starts a write transaction. SQLite has one writer at a time; taking the write lock
    /// up front avoids a deadlock between two readers that both want to write.
    pub async fn begin_intake(&self) -> Result<Intake> {
        Ok(Intake {
            tx: self.begin_write().await?,
            received_at: now_text(),
        })
    }

    /// One page of the sign-ins of every organisation at or after `since`, in (time, id)
    /// order, starting after `after` (the last observation of the previous page): what
    /// the detectors replay at start to rebuild their windows, a page at a time so that
    /// memory does not grow with the store.
    pub async fn observations_since(
        &self,
        since: Timestamp,
        after: Option<&Observation>,
        page: u32,
    ) -> Result<Vec<Observation>> {
        let (after_us, after_id) = after.map_or((i64::MIN, i64::MIN), |o| {
            (o.sign_in.time.as_microsecond(), o.id.0)
        });
        let rows = sqlx::query(
            "SELECT * FROM signins WHERE time_us >= $1 AND (time_us, id) > ($2, $3) \
             ORDER BY time_us, id LIMIT $4",
        )
        .bind(since.as_microsecond())
        .bind(after_us)
        .bind(after_id)
        .bind(i64::from(page))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let stored = signin_from_row(row)?;
                Ok(Observation {
                    id: stored.id,
                    org: OrgId(row.try_get("org_id")?),
                    sign_in: stored.sign_in,
                })
            })
            .collect()
    }

    /// The newest event time stored, if any sign-in is stored.
    pub async fn latest_signin_time(&self) -> Result<Option<Timestamp>> {
        let us: Option<i64> = sqlx::query_scalar("SELECT max(time_us) FROM signins")
            .fetch_one(&self.pool)
            .await?;
        us.map(|us| Timestamp::from_microsecond(us).map_err(corrupt))
            .transpose()
    }

    /// The sign-ins an incident of `org` rests on, oldest first, at most `limit`.
    /// An incident of another organisation yields nothing.
    pub async fn evidence(
        &self,
        org: OrgId,
        incident_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredSignIn>> {
        let rows = sqlx::query(
            "SELECT s.* FROM incident_evidence e \
             JOIN incidents i ON i.id = e.incident_id \
             JOIN signins s ON s.id = e.signin_id \
             WHERE e.incident_id = $1 AND i.org_id = $2 AND s.org_id = $3 \
             ORDER BY s.time_us, s.id LIMIT $4",
        )
        .bind(incident_id)
        .bind(org.0)
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(signin_from_row).collect()
    }
}

impl Intake {
    pub(crate) fn received_at(&self) -> &str {
        &self.received_at
    }

    /// Records where connector `name` got to, in this transaction: it commits with the
    /// events up to that position or not at all.
    pub async fn save_checkpoint(&mut self, name: &str, org: OrgId, position: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO connector_checkpoints (name, org_id, position, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET org_id = excluded.org_id, \
             position = excluded.position, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(org.0)
        .bind(position)
        .bind(&self.received_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub(crate) fn connection(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Stores a sign-in for `org`. Returns `None` when the source already delivered a
    /// record with the same id for this organisation.
    pub async fn insert_signin(&mut self, org: OrgId, sign_in: &SignIn) -> Result<Option<EventId>> {
        let origin = serde_json::to_string(&sign_in.origin).map_err(corrupt)?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO signins (org_id, time_us, account, source_ip, outcome, failure_kind, \
             protocol, app, result_code, reason, record_id, country, asn, user_agent, format, \
             origin, received_at, authentication) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.0)
        .bind(sign_in.time.as_microsecond())
        .bind(&sign_in.account)
        .bind(sign_in.source_ip.map(|ip| ip.to_string()))
        .bind(sign_in.outcome.as_str())
        .bind(sign_in.failure_kind.map(|kind| kind.as_str()))
        .bind(sign_in.protocol.as_str())
        .bind(&sign_in.app)
        .bind(&sign_in.result_code)
        .bind(&sign_in.reason)
        .bind(&sign_in.record_id)
        .bind(&sign_in.country)
        .bind(sign_in.asn.map(i64::from))
        .bind(&sign_in.user_agent)
        .bind(sign_in.format.as_str())
        .bind(origin)
        .bind(&self.received_at)
        .bind(sign_in.authentication.map(|a| a.as_str()))
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(id.map(EventId))
    }

    /// The newest open incident (new, notified or acknowledged) of `org` for
    /// `campaign_key` last seen at or after `not_before`. A resolved or rejected incident
    /// is never extended: the attack coming back opens a new one.
    pub async fn open_incident(
        &mut self,
        org: OrgId,
        campaign_key: &str,
        not_before: Timestamp,
    ) -> Result<Option<Incident>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND campaign_key = $2 \
             AND last_seen_us >= $3 AND state IN ('new', 'notified', 'acknowledged') ORDER BY last_seen_us DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(campaign_key)
            .bind(not_before.as_microsecond())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(incident_from_row).transpose()
    }

    /// Inserts or replaces an incident.
    pub async fn save_incident(&mut self, incident: &Incident) -> Result<()> {
        let json = |list: &Vec<String>| serde_json::to_string(list).map_err(corrupt);
        let now = now_text();
        sqlx::query(
            "INSERT INTO incidents (id, org_id, kind, campaign_key, severity, state, accounts, \
             sources, compromised, first_seen_us, last_seen_us, evidence_count, summary, \
             opened_at, updated_at, reasons, indicators, attribution) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state, \
             accounts = excluded.accounts, sources = excluded.sources, \
             compromised = excluded.compromised, first_seen_us = excluded.first_seen_us, \
             last_seen_us = excluded.last_seen_us, evidence_count = excluded.evidence_count, \
             summary = excluded.summary, updated_at = excluded.updated_at, \
             reasons = excluded.reasons, indicators = excluded.indicators, \
             attribution = excluded.attribution \
             WHERE incidents.org_id = excluded.org_id",
        )
        .bind(&incident.id)
        .bind(incident.org.0)
        .bind(incident.kind.as_str())
        .bind(&incident.campaign_key)
        .bind(incident.severity.as_str())
        .bind(incident.state.as_str())
        .bind(json(&incident.accounts)?)
        .bind(json(&incident.sources)?)
        .bind(json(&incident.compromised_accounts)?)
        .bind(incident.first_seen.as_microsecond())
        .bind(incident.last_seen.as_microsecond())
        .bind(incident.evidence_count as i64)
        .bind(&incident.summary)
        .bind(&now)
        .bind(&now)
        .bind(json(&incident.reasons)?)
        .bind(serde_json::to_string(&incident.indicators).map_err(corrupt)?)
        .bind(
            incident
                .attribution
                .as_ref()
                .map(|a| serde_json::to_string(a).map_err(corrupt))
                .transpose()?,
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Links sign-ins to an incident as its evidence.
    pub async fn add_evidence(&mut self, incident_id: &str, evidence: &[EventId]) -> Result<()> {
        for id in evidence {
            sqlx::query(
                "INSERT INTO incident_evidence (incident_id, signin_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(incident_id)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Sign-ins of `org` by id, in time order; ids of other organisations are skipped.
    pub async fn signins(&mut self, org: OrgId, ids: &[EventId]) -> Result<Vec<StoredSignIn>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::rows_of_org_by_id("signins", org, ids)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(signin_from_row).collect()
    }

    /// Queues a notification; it is delivered only if this transaction commits.
    pub async fn enqueue(&mut self, delivery: &NewDelivery) -> Result<()> {
        crate::outbox::insert(&mut self.tx, delivery).await
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

pub(crate) fn signin_from_row(row: &sqlx::any::AnyRow) -> Result<StoredSignIn> {
    let text = |name: &str| -> Result<String> { Ok(row.try_get::<String, _>(name)?) };
    let opt =
        |name: &str| -> Result<Option<String>> { Ok(row.try_get::<Option<String>, _>(name)?) };
    let time = Timestamp::from_microsecond(row.try_get("time_us")?).map_err(corrupt)?;
    let sign_in = SignIn {
        time,
        account: text("account")?,
        source_ip: opt("source_ip")?
            .map(|ip| ip.parse())
            .transpose()
            .map_err(corrupt)?,
        outcome: parse_name(text("outcome")?)?,
        failure_kind: opt("failure_kind")?.map(parse_name).transpose()?,
        protocol: parse_name(text("protocol")?)?,
        app: opt("app")?,
        result_code: opt("result_code")?,
        reason: opt("reason")?,
        record_id: opt("record_id")?,
        country: opt("country")?,
        asn: row
            .try_get::<Option<i64>, _>("asn")?
            .map(u32::try_from)
            .transpose()
            .map_err(corrupt)?,
        user_agent: opt("user_agent")?,
        format: parse_name(text("format")?)?,
        origin: serde_json::from_str(&text("origin")?).map_err(corrupt)?,
        authentication: opt("authentication")?.map(parse_name).transpose()?,
    };
    Ok(StoredSignIn {
        id: EventId(row.try_get("id")?),
        source_network: sign_in.source_network(),
        sign_in,
    })
}

/// Reads back one of the model's snake_case enums from the name it was stored under.
fn parse_name<T: serde::de::DeserializeOwned>(name: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name)).map_err(corrupt)
}
