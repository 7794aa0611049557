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
use crate::indicators::{self, SourceHits};
use crate::lifecycle::{self, Sample};
use crate::payload;
use detect::{DetectConfig, Detectors};
use intel::Observed;
use intel::live::Live;
use model::{Detection, EventId, Incident, Observation, OrgId, SignIn};
use store::{Organisation, Store, StoreError};

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
    intel: Arc<Live>,
}

/// An incident being changed by one batch, and what the batch did to it. Written once,
/// at the end of the batch, however many detections it absorbed.
struct Touched {
    incident: Incident,
    change: Change,
    /// The first few sign-ins of this batch's evidence, for the notification.
    sample: Vec<EventId>,
    /// This batch's evidence to link to the incident (up to [`MAX_LINKED_EVIDENCE`]).
    linked: Vec<EventId>,
}

impl Touched {
    /// An incident as stored before this batch: nothing has happened to it yet.
    fn stored(incident: Incident) -> Touched {
        Touched {
            incident,
            change: Change::Extended,
            sample: Vec::new(),
            linked: Vec::new(),
        }
    }

    /// Folds `detection` into what the batch has made of its incident so far, or opens
    /// one.
    fn fold(previous: Option<Touched>, detection: &Detection) -> Touched {
        let (incident, previous_change, mut sample, mut linked) = match previous {
            Some(t) => (Some(t.incident), Some(t.change), t.sample, t.linked),
            None => (None, None, Vec::new(), Vec::new()),
        };
        let evidence_before = incident.as_ref().map_or(0, |i| i.evidence_count);
        let (incident, change) = absorb(incident, detection, || uuid::Uuid::now_v7().to_string());
        let room = MAX_LINKED_EVIDENCE.saturating_sub(evidence_before) as usize;
        linked.extend(detection.evidence.iter().take(room));
        let room = payload::EVIDENCE_IN_NOTIFICATION.saturating_sub(sample.len());
        sample.extend(detection.evidence.iter().take(room));
        // Within a batch an opening dominates, then an escalation: the organisation
        // hears once, about the incident as the batch left it.
        let change = match previous_change {
            Some(earlier @ (Change::Opened | Change::Escalated { .. })) => earlier,
            _ => change,
        };
        Touched {
            incident,
            change,
            sample,
            linked,
        }
    }
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
            intel: Arc::new(Live::default()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The settings the pipeline runs with (correlation, delivery, notification policy).
    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// The threat intelligence every sign-in (and message) is matched against; the feed
    /// puller installs new versions into it.
    pub fn intel(&self) -> &Arc<Live> {
        &self.intel
    }

    /// Woken whenever a notification is queued; the outbox worker waits on it.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        Arc::clone(&self.outbox_wake)
    }

    /// Accepts sign-ins for `org` and commits them with everything they cause.
    ///
    /// A detection may belong to another organisation than `org`: a campaign across
    /// organisations tells each victim when the next one is hit. Each goes to its own
    /// organisation's incident and channel; the report returned to `org` counts only
    /// what concerns `org`.
    pub async fn accept(&self, org: OrgId, sign_ins: Vec<SignIn>) -> Result<Accepted, StoreError> {
        let mut organisations: HashMap<OrgId, Organisation> = HashMap::new();
        let own = self
            .store
            .organisation(org)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("organisation {org} does not exist")))?;
        organisations.insert(org, own);
        // One batch at a time: detector state and incident rows change together.
        let mut detectors = self.detectors.lock().await;
        let mut tx = self.store.begin_intake().await?;
        let mut report = Accepted::default();
        let mut touched: HashMap<(OrgId, String), Touched> = HashMap::new();
        let intel = self.intel.current();
        let mut hits = SourceHits::default();
        for sign_in in sign_ins {
            let Some(id) = tx.insert_signin(org, &sign_in).await? else {
                report.duplicates += 1;
                continue;
            };
            report.accepted += 1;
            let matches = intel.matches(&Observed::sign_in(&sign_in), sign_in.time);
            let known = (!matches.is_empty()).then(|| {
                if let Some(ip) = sign_in.source_ip {
                    hits.record(&ip.to_string(), &matches);
                }
                let mut detection = indicators::detection(org, id, &sign_in, &matches);
                detection.reasons.truncate(Incident::MAX_REASONS);
                (detection, matches)
            });
            let observation = Observation { id, org, sign_in };
            let detections = detectors.observe(&observation);
            let known_detection = known.as_ref().map(|(d, _)| d.clone());
            for detection in detections.into_iter().chain(known_detection) {
                if detection.org == org {
                    report.detections += 1;
                }
                let key = (detection.org, detection.campaign_key.clone());
                let previous = match touched.remove(&key) {
                    Some(t) => Some(t),
                    None => {
                        let not_before = detection
                            .first_seen
                            .checked_sub(self.config.reopen_after)
                            .unwrap_or(Timestamp::MIN);
                        let stored = tx
                            .open_incident(detection.org, &detection.campaign_key, not_before)
                            .await?;
                        stored.map(Touched::stored)
                    }
                };
                let mut folded = Touched::fold(previous, &detection);
                if detection.kind == model::DetectionKind::KnownIndicator
                    && let Some((_, matches)) = &known
                {
                    indicators::attach(&mut folded.incident, matches);
                }
                touched.insert(key, folded);
            }
        }
        let mut touched: Vec<Touched> = touched.into_values().collect();
        touched.sort_by(|a, b| {
            (a.incident.first_seen, &a.incident.id).cmp(&(b.incident.first_seen, &b.incident.id))
        });
        let mut queued = false;
        let now = Timestamp::now();
        for mut t in touched {
            let victim = t.incident.org;
            if victim == org {
                match t.change {
                    Change::Opened => report.incidents_opened += 1,
                    Change::Escalated { .. } => report.incidents_escalated += 1,
                    Change::Extended => {}
                }
            }
            let organisation = match organisations.entry(victim) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    match tx.organisation(victim).await? {
                        Some(o) => slot.insert(o),
                        // Deleted since its sign-ins were seen: nobody left to tell.
                        None => continue,
                    }
                }
            };
            hits.attach_to(&mut t.incident);
            t.incident.attribution = Some(intel.attribute(&t.incident, Some(organisation.sector)));
            crate::correlate::refresh_summary(&mut t.incident);
            tx.save_incident(&t.incident).await?;
            tx.add_evidence(&t.incident.id, &t.linked).await?;
            queued |= lifecycle::after_change(
                &mut tx,
                &self.config,
                organisation,
                &mut t.incident,
                t.change,
                t.linked.len(),
                Sample::SignIns(&t.sample),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        drop(detectors);
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }
}
