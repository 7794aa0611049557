//! The path every accepted sign-in takes: store it, run the detectors, fold detections
//! into incidents and queue notifications, all in one transaction.
//!
//! Whatever the source (HTTP push today; syslog and pull connectors later), sign-ins
//! enter through [`SignInIntake::accept`]. When it returns, the sign-ins, the incidents
//! they changed and the notifications those changes call for are committed together:
//! a crash after that loses nothing, and a crash before it leaves nothing half-done.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::{Mutex, Notify};

use crate::config::NotifyConfig;
use crate::correlate::{Change, absorb};
use crate::payload;
use detect::{DetectConfig, Detectors};
use model::{EventId, Incident, IncidentState, Observation, OrgId, SignIn};
use store::{NewDelivery, Store, StoreError};

/// Incidents link at most this many sign-ins as evidence; the count goes on.
pub const MAX_LINKED_EVIDENCE: u64 = 10_000;

/// Detector windows are rebuilt at start from at most this many stored sign-ins.
const MAX_REPLAYED: u32 = 2_000_000;
/// Sign-ins read from the store at a time while replaying.
const REPLAY_PAGE: u32 = 10_000;

/// What one call to [`SignInIntake::accept`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    /// Sign-ins stored.
    pub accepted: u64,
    /// Sign-ins dropped because the same record was delivered before.
    pub duplicates: u64,
    pub detections: u64,
    pub incidents_opened: u64,
    pub incidents_escalated: u64,
}

/// The stateful intake pipeline; one per process.
pub struct SignInIntake {
    store: Store,
    detectors: Mutex<Detectors>,
    config: NotifyConfig,
    outbox_wake: Arc<Notify>,
}

/// An incident being changed by one batch, and what the batch did to it.
struct Touched {
    incident: Incident,
    change: Change,
    /// The first few sign-ins of this batch's evidence, for the notification.
    sample: Vec<EventId>,
}

impl SignInIntake {
    /// Builds the pipeline and warms the detectors up with the stored sign-ins that are
    /// still inside their windows, so a restart does not forget an attack in progress.
    pub async fn new(
        store: Store,
        detect: DetectConfig,
        config: NotifyConfig,
    ) -> Result<Self, StoreError> {
        let horizon = detect.brute_force.window.max(detect.password_spray.window);
        let mut detectors = Detectors::new(detect);
        if let Some(latest) = store.latest_signin_time().await? {
            let since = latest.checked_sub(horizon).unwrap_or(Timestamp::MIN);
            // Detections made now were made, committed and notified before the restart.
            let mut replayed = 0u32;
            let mut last: Option<Observation> = None;
            while replayed < MAX_REPLAYED {
                let page = store
                    .observations_since(since, last.as_ref(), REPLAY_PAGE)
                    .await?;
                let Some(tail) = page.last().cloned() else {
                    break;
                };
                for observation in &page {
                    let _ = detectors.observe(observation);
                }
                replayed = replayed.saturating_add(page.len() as u32);
                last = Some(tail);
            }
        }
        Ok(SignInIntake {
            store,
            detectors: Mutex::new(detectors),
            config,
            outbox_wake: Arc::new(Notify::new()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Woken whenever a notification is queued; the outbox worker waits on it.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        Arc::clone(&self.outbox_wake)
    }

    /// Accepts sign-ins for `org` and commits them with everything they cause.
    pub async fn accept(&self, org: OrgId, sign_ins: Vec<SignIn>) -> Result<Accepted, StoreError> {
        let organisation = self
            .store
            .organisation(org)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("organisation {org} does not exist")))?;
        // One batch at a time: detector state and incident rows change together.
        let mut detectors = self.detectors.lock().await;
        let mut tx = self.store.begin_intake().await?;
        let mut report = Accepted::default();
        let mut touched: HashMap<String, Touched> = HashMap::new();
        for sign_in in sign_ins {
            let Some(id) = tx.insert_signin(org, &sign_in).await? else {
                report.duplicates += 1;
                continue;
            };
            report.accepted += 1;
            let observation = Observation { id, org, sign_in };
            for detection in detectors.observe(&observation) {
                report.detections += 1;
                let existing = match touched.remove(&detection.campaign_key) {
                    Some(t) => Some(t),
                    None => {
                        let not_before = detection
                            .first_seen
                            .checked_sub(self.config.reopen_after)
                            .unwrap_or(Timestamp::MIN);
                        tx.open_incident(org, &detection.campaign_key, not_before)
                            .await?
                            .map(|incident| Touched {
                                incident,
                                change: Change::Extended,
                                sample: Vec::new(),
                            })
                    }
                };
                let linked_before = existing.as_ref().map_or(0, |t| t.incident.evidence_count);
                let (previous_change, mut sample, incident) = match existing {
                    Some(t) => (Some(t.change), t.sample, Some(t.incident)),
                    None => (None, Vec::new(), None),
                };
                let (incident, change) =
                    absorb(incident, &detection, || uuid::Uuid::now_v7().to_string());
                let room = MAX_LINKED_EVIDENCE.saturating_sub(linked_before) as usize;
                let linked = &detection.evidence[..detection.evidence.len().min(room)];
                let room = payload::EVIDENCE_IN_NOTIFICATION.saturating_sub(sample.len());
                sample.extend(detection.evidence.iter().take(room));
                // Within a batch an opening dominates, then an escalation: the
                // organisation hears once, about the incident as the batch left it.
                let change = match (previous_change, change) {
                    (Some(Change::Opened), _) => Change::Opened,
                    (Some(Change::Escalated { from }), _) => Change::Escalated { from },
                    (_, change) => change,
                };
                tx.save_incident(&incident).await?;
                tx.add_evidence(&incident.id, linked).await?;
                touched.insert(
                    detection.campaign_key.clone(),
                    Touched {
                        incident,
                        change,
                        sample,
                    },
                );
            }
        }
        let mut touched: Vec<Touched> = touched.into_values().collect();
        touched.sort_by(|a, b| {
            a.incident
                .first_seen
                .cmp(&b.incident.first_seen)
                .then(a.incident.id.cmp(&b.incident.id))
        });
        let mut queued = false;
        for mut t in touched {
            let Some(event) = t.change.event() else {
                continue;
            };
            match t.change {
                Change::Opened => report.incidents_opened += 1,
                _ => report.incidents_escalated += 1,
            }
            if organisation.webhook_url.is_none() {
                continue;
            }
            t.incident.state = IncidentState::Notified;
            tx.save_incident(&t.incident).await?;
            let evidence = tx.signins(org, &t.sample).await?;
            let delivery_id = uuid::Uuid::now_v7().to_string();
            let body = payload::notification(
                event,
                &delivery_id,
                &organisation.name,
                &t.incident,
                &evidence,
            );
            tx.enqueue(&NewDelivery {
                delivery_id,
                org,
                incident_id: t.incident.id.clone(),
                channel: "webhook".into(),
                event: event.into(),
                payload: body,
                not_before: Timestamp::now(),
            })
            .await?;
            queued = true;
        }
        tx.commit().await?;
        drop(detectors);
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }
}
