//! What the dashboard draws: an organisation's failed sign-ins counted by hour, and the
//! accounts and addresses they came at or from most. Counts only, for one organisation.

use jiff::Timestamp;
use sqlx::Row;

use crate::{OrgId, Result, Store};

/// One account or address and how many failed sign-ins it had.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ranked {
    pub value: String,
    pub failures: i64,
}

const HOUR_US: i64 = 3_600_000_000;

impl Store {
    /// How many incidents of each kind `org` had first seen from `since` (inclusive) to
    /// `until` (exclusive), most first: what a monthly report lists.
    pub async fn incidents_by_kind(
        &self,
        org: OrgId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(model::DetectionKind, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, count(*) AS n FROM incidents WHERE org_id = $1 \
             AND first_seen_us >= $2 AND first_seen_us < $3 GROUP BY kind ORDER BY n DESC, kind",
        )
        .bind(org.0)
        .bind(since.as_microsecond())
        .bind(until.as_microsecond())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let kind = serde_json::from_value(serde_json::Value::String(kind))
                    .map_err(crate::corrupt)?;
                Ok((kind, row.try_get("n")?))
            })
            .collect()
    }

    /// Failed sign-ins of `org` per hour from `since` (inclusive) to `until` (exclusive):
    /// `(start of the hour, count)`, hours without a failure left out.
    pub async fn failures_by_hour(
        &self,
        org: OrgId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(Timestamp, i64)>> {
        self.per_hour("signins", "outcome = 'failure'", org, since, until)
            .await
    }

    /// `(start of hour, rows)` of `table` for `org` matching `condition` (a constant of
    /// ours) between `since` and `until`.
    async fn per_hour(
        &self,
        table: &'static str,
        condition: &'static str,
        org: OrgId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(Timestamp, i64)>> {
        // Only a table name and a condition of ours are spliced in; values are bound.
        let sql = format!(
            "SELECT time_us / $1 AS hour, count(*) AS n FROM {table} \
             WHERE org_id = $2 AND {condition} AND time_us >= $3 AND time_us < $4 \
             GROUP BY hour ORDER BY hour"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(HOUR_US)
            .bind(org.0)
            .bind(since.as_microsecond())
            .bind(until.as_microsecond())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let hour: i64 = row.try_get("hour")?;
                let start = Timestamp::from_microsecond(hour * HOUR_US).map_err(crate::corrupt)?;
                Ok((start, row.try_get("n")?))
            })
            .collect()
    }

    /// The time of `org`'s newest failed sign-in.
    pub async fn latest_failure(&self, org: OrgId) -> Result<Option<Timestamp>> {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT max(time_us) FROM signins WHERE org_id = $1 AND outcome = 'failure'",
        )
        .bind(org.0)
        .fetch_one(&self.pool)
        .await?;
        newest
            .map(|us| Timestamp::from_microsecond(us).map_err(crate::corrupt))
            .transpose()
    }

    /// The accounts with the most failed sign-ins of `org` since `since`, at most `limit`.
    pub async fn most_targeted_accounts(
        &self,
        org: OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ranked>> {
        self.ranked("account", org, since, limit).await
    }

    /// The addresses with the most failed sign-ins of `org` since `since`.
    pub async fn most_failing_sources(
        &self,
        org: OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ranked>> {
        self.ranked("source_ip", org, since, limit).await
    }

    async fn ranked(
        &self,
        column: &'static str,
        org: OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ranked>> {
        // Only a column name of ours is spliced in; values are bound.
        let sql = format!(
            "SELECT {column} AS value, count(*) AS n FROM signins \
             WHERE org_id = $1 AND outcome = 'failure' AND time_us >= $2 AND {column} IS NOT NULL \
             GROUP BY {column} ORDER BY n DESC, {column} LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(since.as_microsecond())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Ranked {
                    value: row.try_get("value")?,
                    failures: row.try_get("n")?,
                })
            })
            .collect()
    }
}

/// How one organisation looks from the operator's console: is telemetry arriving, is it
/// under attack. Counts and times only.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrgHealth {
    pub org: OrgId,
    /// The time of its newest sign-in event.
    pub newest_event: Option<Timestamp>,
    /// Incidents new, notified or acknowledged.
    pub open_incidents: i64,
}

impl Store {
    /// Every organisation's health (operator-level: one row per organisation, counts only).
    pub async fn organisation_health(&self) -> Result<Vec<OrgHealth>> {
        let rows = sqlx::query(
            "SELECT o.id AS org, \
               (SELECT max(time_us) FROM signins s WHERE s.org_id = o.id) AS newest, \
               (SELECT count(*) FROM incidents i WHERE i.org_id = o.id \
                  AND i.state IN ('new', 'notified', 'acknowledged')) AS open \
             FROM organisations o ORDER BY o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let newest: Option<i64> = row.try_get("newest")?;
                Ok(OrgHealth {
                    org: OrgId(row.try_get("org")?),
                    newest_event: newest
                        .map(|us| Timestamp::from_microsecond(us).map_err(crate::corrupt))
                        .transpose()?,
                    open_incidents: row.try_get("open")?,
                })
            })
            .collect()
    }
}

/// One attack seen at several organisations: incidents that share a correlation key
/// (the same sender's domain, the same attacking network) and are still open.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SharedCampaign {
    /// The correlation key: `phishing:<domain>`, `password_spray:<network>`, ….
    pub key: String,
    pub kind: String,
    pub organisations: Vec<OrgId>,
    pub incidents: i64,
    pub last_seen: Timestamp,
}

impl Store {
    /// Open incidents whose correlation key spans more than one organisation, most recent
    /// first, at most `limit` (operator-level: for the console).
    pub async fn shared_campaigns(&self, limit: u32) -> Result<Vec<SharedCampaign>> {
        let rows = sqlx::query(self.dialect.pick(
            "SELECT campaign_key, min(kind) AS kind, group_concat(DISTINCT org_id) AS orgs, \
               count(*) AS n, max(last_seen_us) AS last \
             FROM incidents WHERE state IN ('new', 'notified', 'acknowledged') \
             GROUP BY campaign_key HAVING count(DISTINCT org_id) > 1 \
             ORDER BY last DESC LIMIT $1",
            "SELECT campaign_key, min(kind) AS kind, string_agg(DISTINCT CAST(org_id AS TEXT), ',') AS orgs, \
               count(*) AS n, max(last_seen_us) AS last \
             FROM incidents WHERE state IN ('new', 'notified', 'acknowledged') \
             GROUP BY campaign_key HAVING count(DISTINCT org_id) > 1 \
             ORDER BY last DESC LIMIT $1",
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let orgs: String = row.try_get("orgs")?;
                let mut organisations: Vec<OrgId> = orgs
                    .split(',')
                    .filter_map(|id| id.trim().parse().ok().map(OrgId))
                    .collect();
                organisations.sort();
                Ok(SharedCampaign {
                    key: row.try_get("campaign_key")?,
                    kind: row.try_get("kind")?,
                    organisations,
                    incidents: row.try_get("n")?,
                    last_seen: Timestamp::from_microsecond(row.try_get("last")?)
                        .map_err(crate::corrupt)?,
                })
            })
            .collect()
    }

    /// Messages of `org` judged phishing, per hour, as [`Store::failures_by_hour`].
    pub async fn phishing_by_hour(
        &self,
        org: OrgId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(Timestamp, i64)>> {
        self.per_hour("mails", "verdict = 'phishing'", org, since, until)
            .await
    }
}
