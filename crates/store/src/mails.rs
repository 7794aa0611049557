//! Judged mail: the records of messages sent to an organisation's accounts, and their
//! links to the incidents they are evidence of.

use jiff::Timestamp;
use sqlx::Row;

use crate::signins::Intake;
use crate::{Result, Store, corrupt};
use model::{EventId, MailAnalysis, MailRecord, Mailbox, OrgId};

/// Who sent a message, as a campaign is recognised by: a domain of its own, or one
/// account at a provider many share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    Domain(String),
    Address(String),
}

/// A stored mail record with its id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredMail {
    pub id: EventId,
    #[serde(flatten)]
    pub record: MailRecord,
}

impl Intake {
    /// Stores the record of a message sent to `org`. Returns `None` when the same message
    /// (by SHA-256 of its raw bytes) was stored for this organisation before.
    pub async fn insert_mail(&mut self, org: OrgId, mail: &MailRecord) -> Result<Option<EventId>> {
        let received_at = self.received_at().to_owned();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO mails (org_id, time_us, message_id, from_addr, from_domain, from_name, \
             reply_to, subject, recipients, verdict, score, reasons, attachments, sha256, \
             origin, received_at, links) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(org.0)
        .bind(mail.time.as_microsecond())
        .bind(&mail.message_id)
        .bind(&mail.from.address)
        .bind(mail.from.domain().unwrap_or_default().to_ascii_lowercase())
        .bind(&mail.from.name)
        .bind(&mail.reply_to)
        .bind(&mail.subject)
        .bind(json(&mail.recipients)?)
        .bind(mail.analysis.verdict.as_str())
        .bind(mail.analysis.score)
        .bind(json(&mail.analysis.reasons)?)
        .bind(json(&mail.attachments)?)
        .bind(&mail.sha256)
        .bind(json(&mail.origin)?)
        .bind(received_at)
        .bind(json(&mail.links)?)
        .fetch_optional(self.connection())
        .await?;
        Ok(id.map(EventId))
    }

    /// How many organisations other than `org` received messages judged phishing from
    /// `sender` at or after `since`: a campaign only a service protecting many
    /// organisations can see. Only the count leaves the store, never which.
    pub async fn other_orgs_phished_by(
        &mut self,
        org: OrgId,
        sender: &Sender,
        since: Timestamp,
    ) -> Result<u64> {
        let (sql, value) = match sender {
            Sender::Domain(d) => (
                "SELECT count(DISTINCT org_id) FROM mails WHERE from_domain = $1 \
                 AND verdict = 'phishing' AND time_us >= $2 AND org_id != $3",
                d,
            ),
            Sender::Address(a) => (
                "SELECT count(DISTINCT org_id) FROM mails WHERE from_addr = $1 \
                 AND verdict = 'phishing' AND time_us >= $2 AND org_id != $3",
                a,
            ),
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(value.to_ascii_lowercase())
            .bind(since.as_microsecond())
            .bind(org.0)
            .fetch_one(self.connection())
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Links stored messages to an incident as its evidence.
    pub async fn add_mail_evidence(&mut self, incident_id: &str, mails: &[EventId]) -> Result<()> {
        for id in mails {
            sqlx::query(
                "INSERT INTO incident_mails (incident_id, mail_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(incident_id)
            .bind(id.0)
            .execute(self.connection())
            .await?;
        }
        Ok(())
    }

    /// Mail records of `org` by id, in time order; ids of other organisations are skipped.
    pub async fn mails(&mut self, org: OrgId, ids: &[EventId]) -> Result<Vec<StoredMail>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = crate::rows_of_org_by_id("mails", org, ids)
            .fetch_all(self.connection())
            .await?;
        rows.iter().map(mail_from_row).collect()
    }
}

impl Store {
    /// The messages linked to incident `incident_id` of `org`, oldest first, at most
    /// `limit`. An incident of another organisation has none.
    pub async fn incident_mails(
        &self,
        org: OrgId,
        incident_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredMail>> {
        let rows = sqlx::query(
            "SELECT m.* FROM incident_mails e JOIN mails m ON m.id = e.mail_id \
             JOIN incidents i ON i.id = e.incident_id \
             WHERE e.incident_id = $1 AND i.org_id = $2 AND m.org_id = $3 \
             ORDER BY m.time_us, m.id LIMIT $4",
        )
        .bind(incident_id)
        .bind(org.0)
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// The newest mail records of `org`, at most `limit`.
    pub async fn recent_mails(&self, org: OrgId, limit: u32) -> Result<Vec<StoredMail>> {
        let rows = sqlx::query(
            "SELECT * FROM mails WHERE org_id = $1 ORDER BY time_us DESC, id DESC LIMIT $2",
        )
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }
}

pub(crate) fn mail_from_row(row: &sqlx::any::AnyRow) -> Result<StoredMail> {
    fn parsed<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, name: &str) -> Result<T> {
        let text: String = row.try_get(name)?;
        serde_json::from_str(&text).map_err(corrupt)
    }
    let verdict: String = row.try_get("verdict")?;
    let verdict = serde_json::from_value(serde_json::Value::String(verdict)).map_err(corrupt)?;
    Ok(StoredMail {
        id: EventId(row.try_get("id")?),
        record: MailRecord {
            time: Timestamp::from_microsecond(row.try_get("time_us")?).map_err(corrupt)?,
            message_id: row.try_get("message_id")?,
            from: Mailbox {
                name: row.try_get("from_name")?,
                address: row.try_get("from_addr")?,
            },
            reply_to: row.try_get("reply_to")?,
            subject: row.try_get("subject")?,
            recipients: parsed(row, "recipients")?,
            attachments: parsed(row, "attachments")?,
            links: parsed(row, "links")?,
            sha256: row.try_get("sha256")?,
            origin: parsed(row, "origin")?,
            analysis: MailAnalysis {
                verdict,
                score: row.try_get("score")?,
                reasons: parsed(row, "reasons")?,
            },
        },
    })
}

/// JSON text for a column. The values are plain data, so a failure would be a bug; it is
/// reported as a corrupt row rather than a panic.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(corrupt)
}
