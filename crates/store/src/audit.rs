//! The audit log: who did what, to which organisation, and when.
//!
//! Entries are appended in the transaction of the change they describe (`append` takes
//! the open connection), so the log never claims a change that was rolled back nor misses
//! one that was committed. Nothing here updates or deletes an entry.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, corrupt};
use model::OrgId;

/// The most entries one read returns.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    /// Who did it: `operator`, `org:<id>`, `public` (an applicant), `system`.
    pub actor: String,
    /// The organisation it concerns, if any.
    pub org_id: Option<OrgId>,
    /// What was done, as `<thing>.<verb>`: `application.submitted`, `domain.verified`.
    pub action: String,
    pub detail: serde_json::Value,
}

/// Appends an entry inside the caller's transaction.
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    actor: &str,
    org: Option<OrgId>,
    action: &str,
    detail: &serde_json::Value,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, org_id, action, detail) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(Timestamp::now().to_string())
    .bind(actor)
    .bind(org.map(|o| o.0))
    .bind(action)
    .bind(detail.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

impl Store {
    /// Records something that changed nothing else in the store (a failed verification,
    /// a record that disappeared).
    pub async fn audit(
        &self,
        actor: &str,
        org: Option<OrgId>,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        append(&mut conn, actor, org, action, detail).await
    }

    /// How many entries of `action` concern `org` since `since`; for bounds on what an
    /// organisation may make the service do (DNS lookups, for one).
    pub async fn audit_count_since(
        &self,
        org: OrgId,
        action: &str,
        since: Timestamp,
    ) -> Result<i64> {
        // RFC 3339 text in UTC compares in time order to within the second, which is as
        // exact as an hourly bound needs.
        let count = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND action = $2 AND at >= $3",
        )
        .bind(org.0)
        .bind(action)
        .bind(since.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    /// The newest entries of every organisation and of none; for operators only.
    /// `before` pages back from an entry id.
    pub async fn audit_log(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, org_id, action, detail FROM audit_log \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit.clamp(1, MAX_AUDIT_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }

    /// The newest entries that concern `org`, and only those.
    pub async fn org_audit_log(
        &self,
        org: OrgId,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, org_id, action, detail FROM audit_log \
             WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(org.0)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit.clamp(1, MAX_AUDIT_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }
}

fn entry(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let at: String = row.try_get("at")?;
    let org: Option<i64> = row.try_get("org_id")?;
    let detail: String = row.try_get("detail")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: at.parse().map_err(corrupt)?,
        actor: row.try_get("actor")?,
        org_id: org.map(OrgId),
        action: row.try_get("action")?,
        detail: serde_json::from_str(&detail).map_err(corrupt)?,
    })
}
