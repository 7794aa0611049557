//! The outbox worker: delivers queued notifications, retrying with backoff, until each
//! is delivered or given up on.
//!
//! Delivery is at least once: a crash after the receiver answered but before the row is
//! marked delivered sends the notification again, with the same `Tocsin-Delivery` id and
//! the same body, so the receiver can tell.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::config::WebhookConfig;
use crate::webhook::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use store::{Delivery, Store, StoreError};

/// How many due notifications one round takes.
const BATCH: u32 = 32;
/// The longest the worker sleeps without looking at the table, in case a wake-up is
/// missed (another process queued, the clock jumped).
const MAX_IDLE: Duration = Duration::from_secs(5);

/// Why one delivery attempt failed.
enum Failure {
    /// Worth trying again, possibly not before the receiver's `Retry-After`.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help.
    GiveUp(String),
}

/// Delivers notifications until the task is dropped.
pub async fn deliver_forever(
    store: Store,
    config: WebhookConfig,
    wake: Arc<Notify>,
) -> Result<(), StoreError> {
    let client = webhook::client(unsigned(config.timeout), config.allow_private_targets).map_err(
        |error| StoreError::Invalid(format!("cannot build the webhook client: {error}")),
    )?;
    loop {
        let due = store.due_deliveries(Timestamp::now(), BATCH).await?;
        for delivery in &due {
            deliver(&store, &client, &config, delivery).await?;
        }
        if due.len() as u32 == BATCH {
            continue;
        }
        let sleep = match store.next_delivery_time().await? {
            Some(at) => unsigned(at.duration_since(Timestamp::now())).min(MAX_IDLE),
            None => MAX_IDLE,
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

async fn deliver(
    store: &Store,
    client: &reqwest::Client,
    config: &WebhookConfig,
    delivery: &Delivery,
) -> Result<(), StoreError> {
    match attempt(store, client, config, delivery).await {
        Ok(()) => {
            tracing::info!(delivery = %delivery.delivery_id, org = %delivery.org, event = %delivery.event, "Notification delivered.");
            store.mark_delivered(delivery.id).await
        }
        Err(Failure::GiveUp(error)) => {
            tracing::warn!(delivery = %delivery.delivery_id, org = %delivery.org, %error, "Notification given up on.");
            store.mark_failed(delivery.id, &error, None).await
        }
        Err(Failure::Retry { error, retry_after }) => {
            let attempts = delivery.attempts + 1;
            if attempts >= config.max_attempts {
                tracing::warn!(delivery = %delivery.delivery_id, org = %delivery.org, %error, attempts, "Notification given up on after its last attempt.");
                return store.mark_failed(delivery.id, &error, None).await;
            }
            let backoff = config.backoff(attempts, fastrand::f64());
            let wait = retry_after.map_or(backoff, |after| {
                backoff.max(after.try_into().unwrap_or(backoff))
            });
            let retry_at = Timestamp::now().checked_add(wait).unwrap_or(Timestamp::MAX);
            tracing::info!(delivery = %delivery.delivery_id, org = %delivery.org, %error, attempts, %retry_at, "Notification attempt failed; will retry.");
            store.mark_failed(delivery.id, &error, Some(retry_at)).await
        }
    }
}

async fn attempt(
    store: &Store,
    client: &reqwest::Client,
    config: &WebhookConfig,
    delivery: &Delivery,
) -> Result<(), Failure> {
    if delivery.channel != "webhook" {
        return Err(Failure::GiveUp(format!(
            "this tocsin cannot deliver on channel {:?}",
            delivery.channel
        )));
    }
    let url = delivery
        .target
        .as_deref()
        .or(delivery.webhook_url.as_deref())
        .ok_or_else(|| Failure::GiveUp("the organisation has no webhook URL any more".into()))?;
    let url = webhook::check_target(url, config.allow_private_targets)
        .map_err(|error| Failure::GiveUp(error.to_string()))?;
    let secret = webhook::signing_secret(store.master_key(), delivery.org);
    let signature = webhook::sign(
        &secret,
        Timestamp::now().as_second(),
        delivery.payload.as_bytes(),
    );
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(DELIVERY_HEADER, &delivery.delivery_id)
        .header(EVENT_HEADER, &delivery.event)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| Failure::Retry {
            error: describe(&error),
            retry_after: None,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status == reqwest::StatusCode::GONE {
        return Err(Failure::GiveUp("the receiver answered 410 Gone".into()));
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.min(86_400)));
    Err(Failure::Retry {
        error: format!("the receiver answered {status}"),
        retry_after,
    })
}

/// The error and its causes on one line: reqwest's own message alone says little.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn unsigned(duration: jiff::SignedDuration) -> Duration {
    duration.try_into().unwrap_or(Duration::ZERO)
}
