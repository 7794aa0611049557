//! `serve --role detect`: one coordinator per stage keeps this process's fair share of
//! the stage's partitions leased; one task per held partition rebuilds the partition's
//! detector state from the store and then does its stream, a batch per transaction.
//! A forwarder hands the observations the organisation stage committed to the campaign
//! stages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::AckKind;
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use jiff::Timestamp;
use model::{EventId, Observation, OrgId, SignIn};
use notify::{ForwardTo, Progress, SignInIntake};
use serde::{Deserialize, Serialize};
use store::StoreError;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::publish::Published;
use crate::{Pipeline, Result, Stage, partition_of};

/// An observation on a campaign stage's subjects: stored by the organisation stage, so it
/// has its id.
#[derive(Debug, Serialize, Deserialize)]
struct Forwarded {
    id: i64,
    org: OrgId,
    sign_in: SignIn,
}

/// Everything a partition task needs, shared.
struct Context {
    pipeline: Pipeline,
    intake: Arc<SignInIntake>,
    detect: detect::DetectConfig,
    owner: String,
    forward_wake: Notify,
}

impl Context {
    /// The partition of `stage` an observation belongs to (`None`: the stage has no use
    /// for it, such as a network campaign for a sign-in without an address).
    fn partition(&self, stage: Stage, org: OrgId, sign_in: &SignIn) -> Option<u32> {
        let partitions = stage.partitions(&self.pipeline.config);
        match stage {
            Stage::Organisation => Some(partition_of(&org.0.to_be_bytes(), partitions)),
            Stage::Network => sign_in
                .source_network()
                .map(|network| partition_of(network.to_string().as_bytes(), partitions)),
            Stage::Agent => {
                if !self.detect.campaign.by_user_agent {
                    return None;
                }
                sign_in
                    .user_agent
                    .as_deref()
                    .and_then(detect::user_agent_campaign_key)
                    .map(|key| partition_of(key.as_bytes(), partitions))
            }
        }
    }

    /// Where the campaign stages want a stored observation.
    fn forwards(&self, observation: &Observation) -> Vec<ForwardTo> {
        let mut out = Vec::new();
        for stage in [Stage::Network, Stage::Agent] {
            let Some(partition) = self.partition(stage, observation.org, &observation.sign_in)
            else {
                continue;
            };
            let Ok(payload) = serde_json::to_string(&Forwarded {
                id: observation.id.0,
                org: observation.org,
                sign_in: observation.sign_in.clone(),
            }) else {
                continue;
            };
            out.push(ForwardTo {
                subject: self.pipeline.subject(stage, partition),
                message_id: format!("{}-{}", stage.name(), observation.id.0),
                payload,
            });
        }
        out
    }
}

/// The detector workers of one process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts this process's workers of every stage, named `owner` in the leases (unique
    /// per process: host, process id and a random part).
    pub fn start(
        pipeline: Pipeline,
        intake: Arc<SignInIntake>,
        detect: detect::DetectConfig,
        owner: String,
    ) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let context = Arc::new(Context {
            pipeline,
            intake,
            detect,
            owner,
            forward_wake: Notify::new(),
        });
        let mut tasks: Vec<JoinHandle<()>> = Stage::ALL
            .iter()
            .map(|&stage| tokio::spawn(coordinate(Arc::clone(&context), stage, stopped.clone())))
            .collect();
        tasks.push(tokio::spawn(forward_forever(Arc::clone(&context), stopped)));
        Workers { stop, tasks }
    }

    /// Stops every task at once, as a crash would: no batch finishes, no lease is given
    /// up (the partitions move when the leases expire), nothing unacknowledged is
    /// acknowledged. For tests of what the other workers do then.
    pub fn abort(self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    /// Stops taking work, lets each partition finish its batch, and gives the leases up
    /// so that other workers take the partitions at once.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn now_us() -> i64 {
    Timestamp::now().as_microsecond()
}

/// Keeps this process's share of `stage`'s partitions: heartbeat, renew, give up what is
/// more than the share, take free ones up to it.
async fn coordinate(context: Arc<Context>, stage: Stage, mut stopped: watch::Receiver<bool>) {
    let config = context.pipeline.config.clone();
    let store = context.intake.store().clone();
    let partitions = stage.partitions(&config);
    let lease_us = config.lease.as_micros() as i64;
    let tick = config.lease.unsigned_abs() / 3;
    // Start the search for free partitions at a place of our own, so that workers
    // starting together do not all race for partition 0.
    let offset = partition_of(context.owner.as_bytes(), partitions);
    let mut held: HashMap<u32, (watch::Sender<bool>, JoinHandle<()>)> = HashMap::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        let now = now_us();
        let alive = match store
            .worker_heartbeat(stage.name(), &context.owner, now, now - lease_us)
            .await
        {
            Ok(alive) => alive.max(1),
            Err(error) => {
                tracing::warn!(%error, stage = stage.name(), "Pipeline heartbeat failed.");
                wait(&mut stopped, tick).await;
                continue;
            }
        };
        let share = partitions.div_ceil(alive) as usize;
        // A partition task that ended (lease lost, store error) gives its partition up:
        // its detector state may be ahead of the store, so it is rebuilt when taken again.
        let ended: Vec<u32> = held
            .iter()
            .filter(|(_, (_, task))| task.is_finished())
            .map(|(&p, _)| p)
            .collect();
        for partition in ended {
            held.remove(&partition);
            let _ = store
                .release_partition(stage.name(), partition, &context.owner)
                .await;
        }
        // Renew what is held, in one statement; a lease that could not be renewed was
        // taken by another worker after it expired (this one's commits were refused from
        // then on: each checks the lease).
        let mine: Vec<u32> = held.keys().copied().collect();
        let lost: Vec<u32> = match store
            .renew_partitions(stage.name(), &mine, &context.owner, now + lease_us)
            .await
        {
            Ok(renewed) => mine.into_iter().filter(|p| !renewed.contains(p)).collect(),
            Err(error) => {
                tracing::warn!(%error, stage = stage.name(), "Lease renewal failed.");
                Vec::new()
            }
        };
        for partition in lost {
            if let Some((stop, task)) = held.remove(&partition) {
                let _ = stop.send(true);
                let _ = task.await;
            }
        }
        // More than the share (workers joined): give the extra up, newest numbers first.
        while held.len() > share {
            let Some(&partition) = held.keys().max() else {
                break;
            };
            if let Some((stop, task)) = held.remove(&partition) {
                let _ = stop.send(true);
                let _ = task.await;
            }
            let _ = store
                .release_partition(stage.name(), partition, &context.owner)
                .await;
        }
        // Fewer than the share: take free or expired partitions.
        for step in 0..partitions {
            if held.len() >= share {
                break;
            }
            let partition = (offset + step) % partitions;
            if held.contains_key(&partition) {
                continue;
            }
            match store
                .claim_partition(stage.name(), partition, &context.owner, now, now + lease_us)
                .await
            {
                Ok(Some(claimed)) => {
                    let (stop, stop_rx) = watch::channel(false);
                    let task =
                        tokio::spawn(run_partition(Arc::clone(&context), stage, claimed, stop_rx));
                    tracing::info!(
                        stage = stage.name(),
                        partition,
                        done_seq = claimed.done_seq,
                        "Partition taken."
                    );
                    held.insert(partition, (stop, task));
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, partition, stage = stage.name(), "Lease claim failed.");
                }
            }
        }
        metrics::gauge!("tocsin_partitions_held", "stage" => stage.name()).set(held.len() as f64);
        wait(&mut stopped, tick).await;
    }
    for (partition, (stop, task)) in held {
        let _ = stop.send(true);
        let _ = task.await;
        let _ = store
            .release_partition(stage.name(), partition, &context.owner)
            .await;
    }
}

async fn wait(stopped: &mut watch::Receiver<bool>, period: Duration) {
    let _ = tokio::time::timeout(period, stopped.changed()).await;
}

/// Does one partition's stream until told to stop or until its lease is lost.
async fn run_partition(
    context: Arc<Context>,
    stage: Stage,
    claimed: store::Claimed,
    stop: watch::Receiver<bool>,
) {
    let partition = claimed.partition;
    if let Err(error) = partition_loop(&context, stage, claimed, stop).await {
        match error {
            crate::PipelineError::Store(StoreError::LeaseLost { .. }) => {
                tracing::info!(
                    stage = stage.name(),
                    partition,
                    "Partition moved to another worker."
                );
            }
            error => {
                tracing::error!(%error, stage = stage.name(), partition, "Partition stopped; it will be taken again.");
            }
        }
    }
}

async fn partition_loop(
    context: &Context,
    stage: Stage,
    claimed: store::Claimed,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let partition = claimed.partition;
    let store = context.intake.store();
    let mut detectors = detect::Detectors::for_stage(context.detect.clone(), stage.detectors());
    let started = Instant::now();
    let keep = |o: &Observation| context.partition(stage, o.org, &o.sign_in) == Some(partition);
    let replayed = notify::replay(
        store,
        &mut detectors,
        notify::replay_horizon(&context.detect),
        &keep,
    )
    .await?;
    tracing::debug!(
        stage = stage.name(),
        partition,
        replayed,
        seconds = started.elapsed().as_secs_f64(),
        "Partition state rebuilt."
    );
    let consumer = context.pipeline.consumer(stage, partition).await?;
    let mut done = claimed.done_seq;
    let mut advanced: Option<Timestamp> = None;
    let batch_size = context.pipeline.config.batch;
    while !*stop.borrow() {
        let mut fetched = consumer
            .fetch()
            .max_messages(batch_size)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .map_err(|error| crate::PipelineError::JetStream(error.to_string()))?;
        let mut messages = Vec::new();
        while let Some(message) = fetched.next().await {
            match message {
                Ok(message) => messages.push(message),
                Err(error) => {
                    tracing::warn!(%error, stage = stage.name(), partition, "Fetch interrupted.");
                    break;
                }
            }
        }
        let Some(last) = messages.last() else {
            if stage != Stage::Organisation {
                advanced =
                    advance_when_idle(context, stage, partition, &mut detectors, advanced, done)
                        .await?;
            }
            continue;
        };
        let last_seq = sequence(last)?;
        let batch_started = Instant::now();
        let mut fresh = Vec::new();
        for message in &messages {
            if sequence(message)? > done {
                fresh.push(message);
            }
        }
        let progress = Progress {
            stage: stage.name(),
            partition,
            owner: &context.owner,
            seq: last_seq,
        };
        let outcome = if fresh.is_empty() {
            // Done before a crash, delivered again: acknowledged, not done twice.
            Ok(notify::Accepted::default())
        } else if stage == Stage::Organisation {
            let items = decode::<Published>(&fresh, stage, partition)
                .into_iter()
                .map(|p| (p.org, p.sign_in))
                .collect();
            let forward = |o: &Observation| context.forwards(o);
            context
                .intake
                .accept_partition(&mut detectors, items, &progress, &forward)
                .await
        } else {
            let observations = decode::<Forwarded>(&fresh, stage, partition)
                .into_iter()
                .map(|f| Observation {
                    id: EventId(f.id),
                    org: f.org,
                    sign_in: f.sign_in,
                })
                .collect();
            context
                .intake
                .absorb_partition(&mut detectors, observations, None, &progress)
                .await
        };
        match outcome {
            Ok(report) => {
                done = last_seq;
                // Work-queue streams want every message acknowledged; the stream then
                // forgets them, which is what keeps it bounded.
                try_join_all(messages.iter().map(|message| message.ack()))
                    .await
                    .map_err(|error| crate::PipelineError::JetStream(error.to_string()))?;
                if stage == Stage::Organisation {
                    context.forward_wake.notify_one();
                }
                if report.detections > 0 {
                    context.pipeline.wake_notifier().await;
                }
                metrics::counter!("tocsin_detect_events_total", "stage" => stage.name())
                    .increment(report.accepted.max(fresh.len() as u64));
                metrics::counter!("tocsin_detect_duplicates_total", "stage" => stage.name())
                    .increment((messages.len() - fresh.len()) as u64 + report.duplicates);
                metrics::histogram!("tocsin_detect_batch_seconds", "stage" => stage.name())
                    .record(batch_started.elapsed().as_secs_f64());
            }
            Err(error) => {
                // The detectors saw what the store did not keep: this state is wrong now.
                // Hand the batch back at once and let the partition be rebuilt.
                for message in &messages {
                    let _ = message.ack_with(AckKind::Nak(None)).await;
                }
                return Err(error.into());
            }
        }
    }
    Ok(())
}

/// A campaign partition with nothing to do moves its clock to how far the organisation
/// stage has got, and commits what that makes due — but only once nothing that stage
/// has taken in can still reach this partition: a partition of it that is behind (its
/// worker died, its lease has not expired yet) holds earlier sign-ins that the
/// campaign must count before it judges. The checks run in the order that makes that
/// true: the newest stored time first; then the organisation stage empty (everything
/// published before is stored, with its forwards); then no forward waiting (they are
/// all in the stream); then nothing on this partition's own subject.
async fn advance_when_idle(
    context: &Context,
    stage: Stage,
    partition: u32,
    detectors: &mut detect::Detectors,
    advanced: Option<Timestamp>,
    done: u64,
) -> Result<Option<Timestamp>> {
    let store = context.intake.store();
    let pipeline = &context.pipeline;
    let Some(latest) = store.latest_signin_time().await? else {
        return Ok(advanced);
    };
    if advanced.is_some_and(|a| a >= latest) {
        return Ok(advanced);
    }
    let organisation_stage = format!(
        "{}.{}.>",
        pipeline.config.prefix(),
        Stage::Organisation.name()
    );
    if pipeline.pending_on(&organisation_stage).await? > 0
        || !store.pending_forwards(1).await?.is_empty()
        || pipeline
            .pending_on(&pipeline.subject(stage, partition))
            .await?
            > 0
    {
        return Ok(advanced);
    }
    let progress = Progress {
        stage: stage.name(),
        partition,
        owner: &context.owner,
        seq: done,
    };
    context
        .intake
        .absorb_partition(detectors, Vec::new(), Some(latest), &progress)
        .await?;
    Ok(Some(latest))
}

fn sequence(message: &async_nats::jetstream::Message) -> Result<u64> {
    message
        .info()
        .map(|info| info.stream_sequence)
        .map_err(|error| crate::PipelineError::JetStream(error.to_string()))
}

/// The messages' payloads; one that does not parse is reported with its sequence and
/// skipped (it can only come from something that is not tocsin publishing).
fn decode<T: serde::de::DeserializeOwned>(
    messages: &[&async_nats::jetstream::Message],
    stage: Stage,
    partition: u32,
) -> Vec<T> {
    messages
        .iter()
        .filter_map(|message| match serde_json::from_slice(&message.payload) {
            Ok(value) => Some(value),
            Err(error) => {
                let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                tracing::error!(%error, stage = stage.name(), partition, seq, "Unreadable event skipped.");
                metrics::counter!("tocsin_detect_unreadable_total", "stage" => stage.name())
                    .increment(1);
                None
            }
        })
        .collect()
}

/// Publishes the observations the organisation stage queued, and forgets them once the
/// stream has them; a crash in between publishes them again, and the stream drops the
/// repeats by message id.
async fn forward_forever(context: Arc<Context>, mut stopped: watch::Receiver<bool>) {
    let store = context.intake.store().clone();
    loop {
        if *stopped.borrow() {
            break;
        }
        match forward_once(&context, &store).await {
            Ok(0) => {
                tokio::select! {
                    _ = context.forward_wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stopped.changed() => {}
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "Forwarding to the campaign stages failed; retrying.");
                wait(&mut stopped, Duration::from_secs(1)).await;
            }
        }
    }
}

async fn forward_once(context: &Context, store: &store::Store) -> Result<usize> {
    let pending = store.pending_forwards(1000).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut acks = Vec::with_capacity(pending.len());
    for row in &pending {
        let message = async_nats::jetstream::message::PublishMessage::build()
            .payload(row.payload.clone().into())
            .message_id(&row.message_id);
        let ack = context
            .pipeline
            .jetstream
            .send_publish(row.subject.clone(), message)
            .await
            .map_err(|error| crate::PipelineError::JetStream(error.to_string()))?;
        acks.push(ack.into_future());
    }
    try_join_all(acks)
        .await
        .map_err(|error| crate::PipelineError::JetStream(error.to_string()))?;
    let ids: Vec<i64> = pending.iter().map(|row| row.id).collect();
    store.forwarded(&ids).await?;
    metrics::counter!("tocsin_events_forwarded_total").increment(ids.len() as u64);
    Ok(ids.len())
}
