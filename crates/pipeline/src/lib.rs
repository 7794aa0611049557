//! The scaled-out pipeline: sign-ins through NATS JetStream to partitioned detector
//! workers that commit to the shared store (PostgreSQL).
//!
//! `serve --role ingest` publishes every accepted sign-in ([`Publisher`]) on a subject
//! that carries its organisation's partition. `serve --role detect` runs [`Workers`]: each
//! worker leases a fair share of every stage's partitions in the store, rebuilds their
//! detector state from stored sign-ins, and consumes their subjects from durable JetStream
//! consumers, in order, one batch per store transaction. A batch's transaction stores the
//! sign-ins, opens and extends incidents, queues notifications, queues the observations
//! the campaign stages need, and moves the partition's `done_seq` (only while the lease
//! is held); the batch is acknowledged after it commits. A message delivered again (a
//! crash before the acknowledgement, a partition that moved) at or below `done_seq` is
//! acknowledged without being done twice.
//!
//! Stages and their partition keys: `organisation` (brute force, password spray,
//! distributed spray, compromise and indicator matches: every key lives inside one
//! organisation), `network` (campaigns from one network across organisations) and
//! `agent` (campaigns by one rare user agent).

mod config;
mod publish;
mod stream;
mod worker;

pub use config::PipelineConfig;
pub use publish::Publisher;
pub use stream::{Pipeline, Stage};
pub use worker::Workers;

/// What can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot reach NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("[pipeline] {0}")]
    Config(String),
}

pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// A stable 64-bit mix of a key, so that every process puts a key in the same partition
/// (std's hasher is seeded per process).
pub(crate) fn partition_of(key: &[u8], partitions: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(partitions.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(partition_of(b"org:7", 16), partition_of(b"org:7", 16));
        let mut seen = [0u32; 16];
        for org in 0..1600 {
            seen[partition_of(format!("org:{org}").as_bytes(), 16) as usize] += 1;
        }
        // 100 expected per partition; a bad mix would leave some near empty.
        assert!(seen.iter().all(|&n| (60..=140).contains(&n)), "{seen:?}");
    }
}
