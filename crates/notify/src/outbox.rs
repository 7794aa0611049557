//! The outbox worker: delivers queued notifications, retrying with backoff, until each
//! is delivered or given up on.
//!
//! Delivery is at least once: a crash after the receiver answered but before the row is
//! marked delivered sends the notification again, with the same `Tocsin-Delivery` id and
//! the same body, so the receiver can tell.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use crate::config::WebhookConfig;
use crate::email::{Mailer, SendError};
use crate::notice::EmailNotice;
use crate::webhook::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use store::{Attempt, Delivery, Outcome, Store, StoreError};

/// How many due notifications one round takes, beyond those already in flight.
const BATCH: u32 = 64;
/// The longest the worker sleeps without looking at the table, in case a wake-up is
/// missed (another process queued, the clock jumped).
const MAX_IDLE: Duration = Duration::from_secs(5);
/// How often the worker looks again while deliveries are in flight and nothing is due
/// that is not already being delivered.
const BUSY_POLL: Duration = Duration::from_millis(250);
/// Webhooks in flight at once. Channels have separate limits so that one slow SMTP relay
/// cannot hold webhooks back, nor a slow receiver e-mail.
const WEBHOOKS_IN_FLIGHT: usize = 32;
/// E-mails in flight at once: relays throttle clients that open many connections.
const EMAILS_IN_FLIGHT: usize = 8;
/// Delivery tasks at once, sending or waiting to record what became of their attempt.
/// A task gives its channel's place back as soon as its attempt ends, so that recording
/// (one at a time, behind SQLite's one writer) never holds sending back; this bounds how
/// far recording may fall behind.
const TASKS_AT_MOST: usize = 512;

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

/// What the worker needs to deliver on every channel.
struct Channels {
    store: Store,
    config: WebhookConfig,
    client: reqwest::Client,
    mailer: Option<Arc<Mailer>>,
    /// One delivery task records its outcome at a time. SQLite has one writer; tasks
    /// that each held a pooled connection while waiting for it could take every
    /// connection the writer in progress needs.
    recording: Semaphore,
}

/// Delivers notifications until the task is dropped. Each due row is delivered in its
/// own task, under its channel's limit; every attempt is recorded in
/// `delivery_attempts`. `mailer` is `None` when e-mail is off: e-mail rows then wait
/// (and are retried with backoff) until it is configured or they die.
pub async fn deliver_forever(
    store: Store,
    config: WebhookConfig,
    mailer: Option<Arc<Mailer>>,
    wake: Arc<Notify>,
) -> Result<(), StoreError> {
    let client = webhook::client(unsigned(config.timeout), config.allow_private_targets).map_err(
        |error| StoreError::Invalid(format!("cannot build the webhook client: {error}")),
    )?;
    let channels = Arc::new(Channels {
        store: store.clone(),
        config,
        client,
        mailer,
        recording: Semaphore::new(1),
    });
    let webhooks = Arc::new(Semaphore::new(WEBHOOKS_IN_FLIGHT));
    let emails = Arc::new(Semaphore::new(EMAILS_IN_FLIGHT));
    let in_flight: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();
    loop {
        while let Some(done) = tasks.try_join_next() {
            finished(done);
        }
        // A row in flight when the query starts may finish while it runs: the query can
        // then return it as it was before its attempt was recorded. Such rows are skipped
        // this round (the next query sees them as they are now), or they would be sent
        // twice.
        let flying: HashSet<i64> = lock(&in_flight).clone();
        let mut waiting = flying.len() >= TASKS_AT_MOST;
        let due = if waiting {
            Vec::new()
        } else {
            store
                .due_deliveries(Timestamp::now(), BATCH + flying.len() as u32)
                .await?
        };
        for delivery in due {
            if flying.contains(&delivery.id) || lock(&in_flight).contains(&delivery.id) {
                continue;
            }
            let limit = if delivery.channel == "email" {
                &emails
            } else {
                &webhooks
            };
            let Ok(permit) = Arc::clone(limit).try_acquire_owned() else {
                waiting = true;
                continue;
            };
            lock(&in_flight).insert(delivery.id);
            let channels = Arc::clone(&channels);
            let in_flight = Arc::clone(&in_flight);
            tasks.spawn(async move {
                let result = deliver(&channels, &delivery, permit).await;
                lock(&in_flight).remove(&delivery.id);
                result
            });
        }
        let now = Timestamp::now();
        let sleep = match store.next_delivery_time().await? {
            // Due now but in flight or over its channel's limit: a finishing task or a
            // short poll brings the worker back.
            Some(at) if at <= now && (waiting || !tasks.is_empty()) => BUSY_POLL,
            Some(at) => unsigned(at.duration_since(now)).min(MAX_IDLE),
            None => MAX_IDLE,
        };
        if sleep.is_zero() {
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            Some(done) = tasks.join_next() => finished(done),
        }
    }
}

fn lock(set: &Mutex<HashSet<i64>>) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    // A panicking delivery task leaves the set as it was; its contents stay meaningful.
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A task that could not record its outcome leaves its row as it was (still due): it is
/// sent again, which at-least-once delivery allows. The worker goes on either way; one
/// busy database must not stop every notification after it.
fn finished(done: Result<Result<(), StoreError>, tokio::task::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "Could not record a delivery attempt; the notification stays due.");
        }
        Err(error) => tracing::error!(%error, "A delivery task failed."),
    }
}

/// Makes one attempt under `place` (the channel's limit), gives the place back, then
/// records the outcome.
async fn deliver(
    channels: &Channels,
    delivery: &Delivery,
    place: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), StoreError> {
    let store = &channels.store;
    let config = &channels.config;
    let started = Instant::now();
    let result = match delivery.channel.as_str() {
        "webhook" => attempt_webhook(channels, delivery).await,
        "email" => attempt_email(channels, delivery).await,
        other => Err(Failure::GiveUp(format!(
            "this tocsin cannot deliver on channel {other:?}"
        ))),
    };
    drop(place);
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (outcome, detail, retry_at) = match result {
        Ok(reply) => {
            tracing::info!(delivery = %delivery.delivery_id, org = %delivery.org, channel = %delivery.channel, event = %delivery.event, duration_ms, "Notification delivered.");
            if let Some(queued) = delivery.queued_at {
                let waited = Timestamp::now().duration_since(queued).as_secs_f64();
                metrics::histogram!("tocsin_delivery_seconds", "channel" => delivery.channel.clone())
                    .record(waited.max(0.0));
            }
            (Outcome::Delivered, reply, None)
        }
        Err(Failure::GiveUp(error)) => {
            tracing::warn!(delivery = %delivery.delivery_id, org = %delivery.org, channel = %delivery.channel, %error, "Notification given up on.");
            (Outcome::Dead, error, None)
        }
        Err(Failure::Retry { error, retry_after }) => {
            let attempts = delivery.attempts + 1;
            if attempts >= config.max_attempts {
                tracing::warn!(delivery = %delivery.delivery_id, org = %delivery.org, channel = %delivery.channel, %error, attempts, "Notification given up on after its last attempt.");
                (Outcome::Dead, error, None)
            } else {
                let backoff = config.backoff(attempts, fastrand::f64());
                let wait = retry_after.map_or(backoff, |after| {
                    backoff.max(after.try_into().unwrap_or(backoff))
                });
                let retry_at = Timestamp::now().checked_add(wait).unwrap_or(Timestamp::MAX);
                tracing::info!(delivery = %delivery.delivery_id, org = %delivery.org, channel = %delivery.channel, %error, attempts, %retry_at, "Notification attempt failed; will retry.");
                (Outcome::Retry, error, Some(retry_at))
            }
        }
    };
    metrics::counter!(
        "tocsin_delivery_attempts_total",
        "channel" => delivery.channel.clone(),
        "outcome" => match outcome {
            Outcome::Delivered => "delivered",
            Outcome::Retry => "retry",
            Outcome::Dead => "dead",
        }
    )
    .increment(1);
    // Closed never: the semaphore lives as long as the worker.
    let _recording = channels.recording.acquire().await;
    store
        .finish_attempt(
            delivery.id,
            &Attempt {
                outcome,
                detail: &detail,
                duration_ms,
                retry_at,
            },
        )
        .await
}

/// Sends one e-mail row. A permanent refusal (5xx, at any stage, RCPT included) is dead at
/// once: the relay said the mailbox or the message will never be accepted, and an
/// operator who fixed the cause can retry it by hand. Everything else (4xx, timeouts,
/// refused connections) is retried with backoff.
async fn attempt_email(channels: &Channels, delivery: &Delivery) -> Result<String, Failure> {
    let Some(mailer) = &channels.mailer else {
        return Err(Failure::Retry {
            error: "e-mail is off in this tocsin (notify.email.smtp_host is unset)".into(),
            retry_after: None,
        });
    };
    let to = delivery
        .target
        .as_deref()
        .ok_or_else(|| Failure::GiveUp("an e-mail row without a recipient".into()))?;
    let notice: EmailNotice = serde_json::from_str(&delivery.payload)
        .map_err(|error| Failure::GiveUp(format!("the queued e-mail is unreadable: {error}")))?;
    // lettre's timeout does not bound every wait (a relay that never greets holds the
    // connection open); this bounds the whole exchange, so a silent or trickling relay
    // cannot hold a slot for ever.
    let whole = mailer.timeout();
    match tokio::time::timeout(whole, mailer.send(to, &notice)).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(SendError::Permanent(error))) => Err(Failure::GiveUp(error)),
        Ok(Err(SendError::Transient(error))) => Err(Failure::Retry {
            error,
            retry_after: None,
        }),
        Err(_) => Err(Failure::Retry {
            error: format!("timed out: the SMTP exchange took longer than {whole:?}"),
            retry_after: None,
        }),
    }
}

async fn attempt_webhook(channels: &Channels, delivery: &Delivery) -> Result<String, Failure> {
    let config = &channels.config;
    let url = delivery
        .target
        .as_deref()
        .or(delivery.webhook_url.as_deref())
        .ok_or_else(|| Failure::GiveUp("the organisation has no webhook URL any more".into()))?;
    let url = webhook::check_target(url, config.allow_private_targets)
        .map_err(|error| Failure::GiveUp(error.to_string()))?;
    let now = Timestamp::now();
    let secrets = webhook::active_secrets(
        channels.store.master_key(),
        delivery.org,
        delivery.secret_generation,
        delivery.secret_rotated_at,
        now,
        config.rotation_overlap,
    );
    let signature = webhook::sign_all(&secrets, now.as_second(), delivery.payload.as_bytes());
    let response = channels
        .client
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
        return Ok(format!("HTTP {status}"));
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
        error: format!("the receiver answered HTTP {status}"),
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
