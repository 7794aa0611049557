//! Queuing what an organisation is told: one place where a change to an incident becomes
//! outbox rows, one per channel the organisation has set up.
//!
//! Both intakes (sign-ins and mail) come here once they have decided that the
//! organisation must hear about an incident; which channels exist and what each row
//! carries is decided here, in the caller's transaction, so that the notification
//! commits with the change that caused it.

use jiff::Timestamp;

use crate::payload;
use model::Incident;
use store::{Intake, NewDelivery, Organisation, StoreError, StoredMail, StoredSignIn};

/// A change to an incident that the organisation must hear about.
pub struct IncidentNotice<'a> {
    /// `incident.opened`, `incident.escalated`, …
    pub event: &'a str,
    pub organisation: &'a Organisation,
    /// The incident as this change left it.
    pub incident: &'a Incident,
    /// The sign-ins to show (the first few of this change's evidence).
    pub evidence: &'a [StoredSignIn],
    /// The messages to show, for a phishing incident.
    pub messages: &'a [StoredMail],
}

/// Whether the organisation has any channel to be told on. Without one an incident stays
/// `new`, visible through the API.
pub fn has_channel(organisation: &Organisation) -> bool {
    organisation.webhook_url.is_some()
}

/// Queues the notice on every channel of the organisation; returns how many rows were
/// queued (0 when it has no channel).
pub async fn queue_incident(
    tx: &mut Intake,
    notice: &IncidentNotice<'_>,
) -> Result<usize, StoreError> {
    if !has_channel(notice.organisation) {
        return Ok(0);
    }
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let document = payload::notification(
        notice.event,
        &delivery_id,
        &notice.organisation.name,
        notice.incident,
        notice.evidence,
        notice.messages,
    );
    queue_document(
        tx,
        notice.organisation,
        Some(&notice.incident.id),
        notice.event,
        delivery_id,
        document,
    )
    .await
}

/// Fans one notification document (the JSON a webhook receives, built once) out to the
/// organisation's channels: the webhook gets the document itself; every other channel
/// gets it rendered when queued, so that each attempt sends the same bytes.
pub async fn queue_document(
    tx: &mut Intake,
    organisation: &Organisation,
    incident_id: Option<&str>,
    event: &str,
    delivery_id: String,
    document: String,
) -> Result<usize, StoreError> {
    if organisation.webhook_url.is_none() {
        return Ok(0);
    }
    tx.enqueue(&NewDelivery {
        delivery_id,
        org: organisation.id,
        incident_id: incident_id.map(str::to_owned),
        channel: "webhook".into(),
        target: None,
        event: event.into(),
        payload: document,
        not_before: Timestamp::now(),
    })
    .await?;
    Ok(1)
}

/// The payload of an outbox row on the `email` channel: a message rendered when queued.
/// The sender adds From, To, Date and the transport; everything a person reads is here.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmailNotice {
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part; every piece of attacker-controlled text in it is escaped.
    pub html: String,
    /// `<id@host>`, fixed when queued so that a retried message is recognisably the same.
    pub message_id: String,
}
