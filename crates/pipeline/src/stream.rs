//! The JetStream stream and its subjects: one stream holds every stage's events, one
//! subject per stage and partition (`tocsin.organisation.3`), one durable consumer per
//! subject. Work-queue retention removes what was acknowledged, so the stream's size is
//! the work not yet done, and its limits are intake's back-pressure.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use crate::{PipelineConfig, PipelineError, Result};

/// A stage of detection: which detectors run and how their events are partitioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Keyed by organisation; fed by ingest.
    Organisation,
    /// Keyed by source network; fed by the organisation stage.
    Network,
    /// Keyed by user agent; fed by the organisation stage.
    Agent,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Organisation, Stage::Network, Stage::Agent];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Organisation => "organisation",
            Stage::Network => "network",
            Stage::Agent => "agent",
        }
    }

    pub fn partitions(self, config: &PipelineConfig) -> u32 {
        match self {
            Stage::Organisation => config.partitions,
            Stage::Network | Stage::Agent => config.campaign_partitions,
        }
    }

    pub(crate) fn detectors(self) -> detect::Stage {
        match self {
            Stage::Organisation => detect::Stage::Organisation,
            Stage::Network => detect::Stage::NetworkCampaign,
            Stage::Agent => detect::Stage::UserAgentCampaign,
        }
    }
}

/// A connection to NATS and the stream, set up.
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) config: PipelineConfig,
    pub(crate) client: async_nats::Client,
    pub(crate) jetstream: jetstream::Context,
    pub(crate) stream: stream::Stream,
}

impl Pipeline {
    /// Connects and creates the stream if it is missing (an existing one is used as it
    /// is: its partitions must not change under running workers).
    pub async fn connect(config: &PipelineConfig) -> Result<Pipeline> {
        config.validate()?;
        let client = async_nats::ConnectOptions::new()
            .name("tocsin")
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(config.nats_url.as_str())
            .await
            .map_err(|error| PipelineError::Connect {
                url: config.nats_url.clone(),
                reason: error.to_string(),
            })?;
        let mut jetstream = jetstream::new(client.clone());
        jetstream.set_timeout(Duration::from_secs(10));
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: config.stream.clone(),
                subjects: vec![format!("{}.>", config.prefix())],
                retention: stream::RetentionPolicy::WorkQueue,
                discard: stream::DiscardPolicy::New,
                max_bytes: config.max_stream_bytes,
                max_messages: config.max_stream_messages,
                storage: stream::StorageType::File,
                num_replicas: config.replicas,
                duplicate_window: config.duplicate_window.unsigned_abs(),
                description: Some("tocsin sign-ins on their way to the detectors".into()),
                ..Default::default()
            })
            .await
            .map_err(|error| {
                PipelineError::JetStream(format!("stream {}: {error}", config.stream))
            })?;
        Ok(Pipeline {
            config: config.clone(),
            client,

            jetstream,
            stream,
        })
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The subject of `stage`'s `partition`.
    pub fn subject(&self, stage: Stage, partition: u32) -> String {
        format!("{}.{}.{partition}", self.config.prefix(), stage.name())
    }

    /// The durable consumer of `stage`'s `partition`, created on first use. At most one
    /// batch is outstanding, so a batch that is not acknowledged comes back before any
    /// later message: a partition is always done in stream order.
    pub(crate) async fn consumer(
        &self,
        stage: Stage,
        partition: u32,
    ) -> Result<consumer::Consumer<consumer::pull::Config>> {
        let name = format!("{}-{partition}", stage.name());
        self.stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: self.subject(stage, partition),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait.unsigned_abs(),
                    max_ack_pending: self.config.batch as i64,
                    ..Default::default()
                },
            )
            .await
            .map_err(|error| PipelineError::JetStream(format!("consumer {name}: {error}")))
    }

    /// Events in the stream not yet done (all stages): the detector lag in events.
    pub async fn backlog(&self) -> Result<u64> {
        let mut stream = self.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|error| PipelineError::JetStream(error.to_string()))?;
        Ok(info.state.messages)
    }

    /// Messages not yet done on the subjects matching `filter` (such as
    /// `tocsin.organisation.>`).
    pub async fn pending_on(&self, filter: &str) -> Result<u64> {
        use futures_util::StreamExt;
        let stream = self.stream.clone();
        let mut subjects = stream
            .info_with_subjects(filter)
            .await
            .map_err(|error| PipelineError::JetStream(error.to_string()))?;
        let mut total = 0u64;
        while let Some(entry) = subjects.next().await {
            let (_, count) = entry.map_err(|error| PipelineError::JetStream(error.to_string()))?;
            total += count as u64;
        }
        Ok(total)
    }

    /// The core-NATS subject on which workers say they queued notifications, so that the
    /// notify role delivers at once instead of at its next poll. Outside the stream's
    /// subjects: a wake-up is worth nothing once missed, and the poll catches it.
    fn wake_subject(&self) -> String {
        format!("_tocsin.{}.outbox", self.config.prefix())
    }

    /// Tells the notify role that notifications are queued.
    pub async fn wake_notifier(&self) {
        let _ = self
            .client
            .publish(self.wake_subject(), Vec::new().into())
            .await;
    }

    /// Calls `wake.notify_one()` whenever a worker queued notifications, until the
    /// connection closes.
    pub async fn forward_wakes(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> Result<()> {
        use futures_util::StreamExt;
        let mut wakes = self
            .client
            .subscribe(self.wake_subject())
            .await
            .map_err(|error| PipelineError::JetStream(error.to_string()))?;
        while wakes.next().await.is_some() {
            wake.notify_one();
        }
        Ok(())
    }

    /// Deletes the stream (tests, and `tocsin` when told to start over).
    pub async fn delete(&self) -> Result<()> {
        self.jetstream
            .delete_stream(&self.config.stream)
            .await
            .map_err(|error| PipelineError::JetStream(error.to_string()))?;
        Ok(())
    }
}
