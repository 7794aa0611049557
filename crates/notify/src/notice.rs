//! Queuing what an organisation is told: one place where a change to an incident becomes
//! outbox rows, one per channel the organisation has set up.
//!
//! The lifecycle (`lifecycle::after_change` and its ticker) and the test notification come
//! here once the organisation must hear something; which channels exist and what each row
//! carries is decided here, in the caller's transaction, so that the notification
//! commits with the change that caused it.

use jiff::Timestamp;

use crate::config::EmailConfig;
use crate::email;
use store::{Intake, NewDelivery, Organisation, Recipient, StoreError};

/// The channels an organisation is told on, read in the caller's transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    /// Whether the organisation has a webhook URL.
    pub webhook: bool,
    /// Who receives e-mail; empty when e-mail is off in this service.
    pub recipients: Vec<Recipient>,
    /// The domain that ends the Message-ID of every e-mail (the From address's).
    pub message_domain: String,
}

impl Channels {
    /// Whether the organisation can be told anything at all. Without a channel an
    /// incident stays `new`, visible through the API.
    pub fn any(&self) -> bool {
        self.webhook || !self.recipients.is_empty()
    }
}

/// One outbox row queued.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Queued {
    pub delivery_id: String,
    pub channel: String,
    /// The recipient's address for e-mail; `None` for the webhook.
    pub target: Option<String>,
}

/// Which channels `organisation` has: its webhook URL, and its e-mail recipients when
/// this service sends e-mail.
pub async fn channels(
    tx: &mut Intake,
    email: &EmailConfig,
    organisation: &Organisation,
) -> Result<Channels, StoreError> {
    let recipients = if email.enabled() {
        tx.recipients(organisation.id).await?
    } else {
        Vec::new()
    };
    Ok(Channels {
        webhook: organisation.webhook_url.is_some(),
        recipients,
        message_domain: email.from_domain().to_owned(),
    })
}

/// Fans one notification document (the JSON a webhook receives, built once) out to the
/// organisation's channels: the webhook gets the document itself; each e-mail recipient
/// gets it rendered in their language when queued, so that each attempt sends the same
/// message. E-mail rows are `<delivery_id>.mail<n>`, so they trace back to the document.
pub async fn queue_document(
    tx: &mut Intake,
    channels: &Channels,
    organisation: &Organisation,
    incident_id: Option<&str>,
    event: &str,
    delivery_id: String,
    document: String,
) -> Result<Vec<Queued>, StoreError> {
    let mut queued = Vec::new();
    let now = Timestamp::now();
    for (n, recipient) in channels.recipients.iter().enumerate() {
        let row_id = format!("{delivery_id}.mail{}", n + 1);
        let message_id = email::message_id(&row_id, &channels.message_domain);
        let rendered = email::render(&document, recipient.language, message_id)
            .map_err(|error| StoreError::Invalid(error.to_string()))?;
        let payload = serde_json::to_string(&rendered)
            .map_err(|error| StoreError::Invalid(error.to_string()))?;
        tx.enqueue(&NewDelivery {
            delivery_id: row_id.clone(),
            org: organisation.id,
            incident_id: incident_id.map(str::to_owned),
            channel: "email".into(),
            target: Some(recipient.address.clone()),
            event: event.into(),
            payload,
            not_before: now,
        })
        .await?;
        queued.push(Queued {
            delivery_id: row_id,
            channel: "email".into(),
            target: Some(recipient.address.clone()),
        });
    }
    if channels.webhook {
        tx.enqueue(&NewDelivery {
            delivery_id: delivery_id.clone(),
            org: organisation.id,
            incident_id: incident_id.map(str::to_owned),
            channel: "webhook".into(),
            target: None,
            event: event.into(),
            payload: document,
            not_before: now,
        })
        .await?;
        queued.push(Queued {
            delivery_id,
            channel: "webhook".into(),
            target: None,
        });
    }
    Ok(queued)
}

/// The document of a test notification: says it is a test, names the organisation, and
/// carries no incident.
pub fn test_document(delivery_id: &str, organisation: &Organisation) -> String {
    serde_json::json!({
        "event": TEST_EVENT,
        "delivery_id": delivery_id,
        "organisation": { "id": organisation.id, "name": organisation.name },
        "test": true,
        "message": "This is a test notification that the organisation asked for. No attack was detected.",
    })
    .to_string()
}

/// The document telling an organisation that one of its connectors stopped: which, why
/// in words, and what to do. Carries no incident.
pub fn connector_failed_document(
    delivery_id: &str,
    organisation: &Organisation,
    connector: &str,
    kind: &str,
    error: &str,
    action: &str,
) -> String {
    serde_json::json!({
        "event": CONNECTOR_FAILED_EVENT,
        "delivery_id": delivery_id,
        "organisation": { "id": organisation.id, "name": organisation.name },
        "connector": { "name": connector, "kind": kind, "error": error, "action": action },
    })
    .to_string()
}

/// The event of a connector that stopped pulling: told once per failure.
pub const CONNECTOR_FAILED_EVENT: &str = "connector.failed";

/// The event of a test notification.
pub const TEST_EVENT: &str = "notification.test";

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
