//! Reads of incidents, always scoped to one organisation except for operators.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Result, Store, corrupt};
use model::{DetectionKind, Incident, IncidentState, OrgId, Severity};

pub(crate) const INCIDENT_COLUMNS: &str = "id, org_id, kind, campaign_key, severity, state, \
    accounts, sources, compromised, first_seen_us, last_seen_us, evidence_count, summary, reasons, \
    indicators, attribution";

impl Store {
    /// The organisation's incidents, most recently active first, at most `limit`.
    pub async fn incidents(&self, org: OrgId, limit: u32) -> Result<Vec<Incident>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 \
             ORDER BY last_seen_us DESC, id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(incident_from_row).collect()
    }

    /// One incident of the organisation; another organisation's id yields `None`.
    pub async fn incident(&self, org: OrgId, id: &str) -> Result<Option<Incident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(incident_from_row).transpose()
    }

    /// Incidents of every organisation; for operators only.
    pub async fn all_incidents(&self, limit: u32) -> Result<Vec<Incident>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY org_id, first_seen_us, id LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(incident_from_row).collect()
    }
}

pub(crate) fn incident_from_row(row: &sqlx::any::AnyRow) -> Result<Incident> {
    let list = |name: &str| -> Result<Vec<String>> {
        let text: String = row.try_get(name)?;
        serde_json::from_str(&text).map_err(corrupt)
    };
    let time = |name: &str| -> Result<Timestamp> {
        Timestamp::from_microsecond(row.try_get(name)?).map_err(corrupt)
    };
    let kind: String = row.try_get("kind")?;
    let kind =
        DetectionKind::parse(&kind).ok_or_else(|| corrupt(format!("incident kind {kind:?}")))?;
    let severity: String = row.try_get("severity")?;
    let state: String = row.try_get("state")?;
    let evidence_count: i64 = row.try_get("evidence_count")?;
    Ok(Incident {
        id: row.try_get("id")?,
        org: OrgId(row.try_get("org_id")?),
        kind,
        technique: kind.technique(),
        severity: Severity::parse(&severity)
            .ok_or_else(|| corrupt(format!("severity {severity:?}")))?,
        state: IncidentState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?,
        campaign_key: row.try_get("campaign_key")?,
        accounts: list("accounts")?,
        sources: list("sources")?,
        compromised_accounts: list("compromised")?,
        first_seen: time("first_seen_us")?,
        last_seen: time("last_seen_us")?,
        evidence_count: u64::try_from(evidence_count).map_err(corrupt)?,
        summary: row.try_get("summary")?,
        reasons: list("reasons")?,
        indicators: {
            let text: String = row.try_get("indicators")?;
            serde_json::from_str(&text).map_err(corrupt)?
        },
        attribution: {
            let text: Option<String> = row.try_get("attribution")?;
            text.map(|t| serde_json::from_str(&t).map_err(corrupt))
                .transpose()?
        },
    })
}
