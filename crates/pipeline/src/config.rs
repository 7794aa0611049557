//! The `[pipeline]` section: where NATS is, what the stream is called, how many
//! partitions each stage has, and the limits that make intake push back instead of
//! growing without bound.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::{PipelineError, Result};

/// How the scaled-out pipeline runs; read by every role but `all`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// NATS server URL(s), comma-separated for a cluster.
    pub nats_url: String,
    /// The JetStream stream's name; its subjects are `<stream in lower case>.<stage>.<n>`.
    /// Two deployments on one NATS cluster need two names.
    pub stream: String,
    /// Partitions of the organisation stage: the most detector workers that can share it.
    /// Fixed for the life of a stream (a key's partition must not move).
    pub partitions: u32,
    /// Partitions of each campaign stage (network, user agent).
    pub campaign_partitions: u32,
    /// Copies of the stream in a NATS cluster (1 for one server, 3 for a cluster of 3).
    pub replicas: usize,
    /// The stream holds at most this many bytes of events not yet done; beyond it
    /// publishing fails and intake answers 503 (back-pressure), never dropping silently.
    pub max_stream_bytes: i64,
    /// ... and at most this many messages.
    pub max_stream_messages: i64,
    /// Messages each partition takes per store transaction.
    pub batch: usize,
    /// Publications awaiting the stream's acknowledgement at once, per ingest process.
    pub max_in_flight: usize,
    /// How long a partition lease lasts without renewal: how soon a dead worker's
    /// partitions move. Renewed every third of it.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub lease: SignedDuration,
    /// How long JetStream waits for an acknowledgement before delivering again.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub ack_wait: SignedDuration,
    /// Republications of the same event within this window are dropped by the stream.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub duplicate_window: SignedDuration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            nats_url: "nats://127.0.0.1:4222".into(),
            stream: "TOCSIN".into(),
            partitions: 16,
            campaign_partitions: 8,
            replicas: 1,
            max_stream_bytes: 8 << 30,
            max_stream_messages: 50_000_000,
            batch: 500,
            max_in_flight: 4096,
            lease: SignedDuration::from_secs(15),
            ack_wait: SignedDuration::from_secs(30),
            duplicate_window: SignedDuration::from_mins(10),
        }
    }
}

impl PipelineConfig {
    /// Checks the values that would make the pipeline misbehave, naming the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(PipelineError::Config(what.to_owned()));
        if self.nats_url.trim().is_empty() {
            return bad("nats_url is empty: give the NATS server, e.g. nats://127.0.0.1:4222");
        }
        if self.stream.is_empty()
            || !self
                .stream
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return bad("stream must be letters, digits, '_' or '-'");
        }
        if !(1..=1024).contains(&self.partitions) || !(1..=1024).contains(&self.campaign_partitions)
        {
            return bad("partitions and campaign_partitions must be between 1 and 1024");
        }
        if !(1..=5).contains(&self.replicas) {
            return bad("replicas must be between 1 and 5");
        }
        if self.max_stream_bytes < 1 << 20 || self.max_stream_messages < 1000 {
            return bad("max_stream_bytes must be at least 1 MiB and max_stream_messages 1000");
        }
        if !(1..=10_000).contains(&self.batch) || !(1..=100_000).contains(&self.max_in_flight) {
            return bad("batch must be 1–10000 and max_in_flight 1–100000");
        }
        if self.lease < SignedDuration::from_secs(1) || self.ack_wait < SignedDuration::from_secs(1)
        {
            return bad("lease and ack_wait must be at least 1s");
        }
        if self.duplicate_window < self.ack_wait {
            return bad("duplicate_window must be at least ack_wait");
        }
        Ok(())
    }

    /// The subject prefix: the stream's name in lower case.
    pub fn prefix(&self) -> String {
        self.stream.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_nonsense_is_named() {
        assert!(PipelineConfig::default().validate().is_ok());
        let zero = PipelineConfig {
            partitions: 0,
            ..PipelineConfig::default()
        };
        assert!(
            zero.validate()
                .expect_err("refused")
                .to_string()
                .contains("partitions")
        );
        let dotted = PipelineConfig {
            stream: "a.b".into(),
            ..PipelineConfig::default()
        };
        assert!(
            dotted
                .validate()
                .expect_err("refused")
                .to_string()
                .contains("stream")
        );
    }
}
