//! Ingest's side: accepted sign-ins into the stream, on their organisation's partition,
//! each with a message id derived from its content so that a republication (a
//! connector that resumes from an older position after a crash) is dropped by the
//! stream instead of detected twice.

use std::future::Future;
use std::pin::Pin;

use futures_util::future::try_join_all;
use model::{OrgId, SignIn};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::StoreError;

use crate::{Pipeline, Stage, partition_of};

/// One sign-in on the organisation stage's subjects.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Published {
    pub org: OrgId,
    pub sign_in: SignIn,
}

/// Publishes accepted sign-ins for the detector workers; `notify::SignInIntake` calls it
/// in the ingest role.
pub struct Publisher {
    pipeline: Pipeline,
}

impl Publisher {
    pub fn new(pipeline: Pipeline) -> Publisher {
        Publisher { pipeline }
    }

    /// The organisation-stage partition of `org`.
    pub fn partition(&self, org: OrgId) -> u32 {
        partition_of(&org.0.to_be_bytes(), self.pipeline.config.partitions)
    }

    async fn publish_all(&self, org: OrgId, sign_ins: &[SignIn]) -> Result<(), StoreError> {
        let subject = self
            .pipeline
            .subject(Stage::Organisation, self.partition(org));
        let unavailable = |what: String| {
            metrics::counter!("tocsin_publish_refused_total").increment(1);
            StoreError::Unavailable(what)
        };
        for chunk in sign_ins.chunks(self.pipeline.config.max_in_flight) {
            let mut acks = Vec::with_capacity(chunk.len());
            for sign_in in chunk {
                let body = serde_json::to_vec(&Published {
                    org,
                    sign_in: sign_in.clone(),
                })
                .map_err(|error| StoreError::Invalid(error.to_string()))?;
                let id = hex::encode(&Sha256::digest(&body)[..16]);
                let message = async_nats::jetstream::message::PublishMessage::build()
                    .payload(body.into())
                    .message_id(id);
                let ack = self
                    .pipeline
                    .jetstream
                    .send_publish(subject.clone(), message)
                    .await
                    .map_err(|error| unavailable(error.to_string()))?;
                acks.push(ack.into_future());
            }
            // Every publication of the chunk is in flight at once; the request is
            // answered only when the stream has stored them all.
            let acked = try_join_all(acks)
                .await
                .map_err(|error| unavailable(error.to_string()))?;
            let repeated = acked.iter().filter(|ack| ack.duplicate).count();
            metrics::counter!("tocsin_events_published_total")
                .increment((acked.len() - repeated) as u64);
            metrics::counter!("tocsin_events_republished_total").increment(repeated as u64);
        }
        Ok(())
    }
}

impl notify::Publish for Publisher {
    fn publish<'a>(
        &'a self,
        org: OrgId,
        sign_ins: &'a [SignIn],
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(self.publish_all(org, sign_ins))
    }
}
