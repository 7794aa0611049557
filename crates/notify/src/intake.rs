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
use crate::indicators;
use crate::lifecycle::{self, Sample};
use crate::payload;
use detect::{DetectConfig, Detectors};
use intel::live::{Live, Loaded};
use intel::{Match, Observed};
use model::{Detection, DetectionKind, EventId, Incident, Observation, OrgId, SignIn};
use store::{Intake, Organisation, Store, StoreError};

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

/// Where accepted sign-ins go when detection runs in other processes (`serve --role
/// ingest`): the JetStream publisher of the `pipeline` crate. `Ok` means the stream holds
/// them durably; an error means it took none of them for certain and the sender should
/// retry ([`StoreError::Unavailable`]).
pub trait Publish: Send + Sync {
    fn publish<'a>(
        &'a self,
        org: OrgId,
        sign_ins: &'a [SignIn],
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;
}

/// How far back detector state reaches: what a restart or a partition's new owner
/// replays — the longest window of any detector, so that the rebuilt state judges the
/// next sign-in as the state that was lost would have. (The networks an account
/// usually signs in from are remembered for 30 days but rebuilt only from this
/// horizon: after a restart a success from a network last used before it can be
/// reported as a compromise of an attacked account — an alert too many, never one too
/// few.)
pub fn replay_horizon(detect: &DetectConfig) -> jiff::SignedDuration {
    [
        detect.brute_force.window,
        detect.password_spray.window,
        detect.distributed_spray.window,
        detect.campaign.window,
        detect.compromise_window,
    ]
    .into_iter()
    .max()
    .unwrap_or(detect.brute_force.window)
}

/// Feeds `detectors` the stored sign-ins inside `horizon` of the newest one that `keep`
/// selects (a worker keeps its partition's), in stored order, and drops what they
/// detect: those detections were committed and notified before. Returns how many were
/// replayed.
pub async fn replay(
    store: &Store,
    detectors: &mut Detectors,
    horizon: jiff::SignedDuration,
    keep: &(dyn Fn(&Observation) -> bool + Sync),
) -> Result<u32, StoreError> {
    let Some(latest) = store.latest_signin_time().await? else {
        return Ok(0);
    };
    let since = latest.checked_sub(horizon).unwrap_or(Timestamp::MIN);
    let mut replayed = 0u32;
    let mut read = 0u32;
    let mut last: Option<Observation> = None;
    while read < MAX_REPLAYED {
        let page = store
            .observations_since(since, last.as_ref(), REPLAY_PAGE)
            .await?;
        let Some(tail) = page.last().cloned() else {
            break;
        };
        read = read.saturating_add(page.len() as u32);
        for observation in page.iter().filter(|o| keep(o)) {
            let _ = detectors.observe(observation);
            replayed += 1;
        }
        last = Some(tail);
    }
    Ok(replayed)
}

/// An observation queued for a later stage: the subject, the message id the stream
/// drops repeats by, and the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardTo {
    pub subject: String,
    pub message_id: String,
    pub payload: String,
}

/// Which partition's work a transaction commits, and how far into its stream.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    pub stage: &'a str,
    pub partition: u32,
    pub owner: &'a str,
    pub seq: u64,
}

/// The stateful intake pipeline; one per process.
pub struct SignInIntake {
    store: Store,
    /// `Some` in the ingest role: sign-ins are published for the detector workers
    /// instead of being detected here.
    publisher: Option<Arc<dyn Publish>>,
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
        let horizon = replay_horizon(&detect);
        let mut detectors = Detectors::new(detect);
        // Detections made now were made, committed and notified before the restart.
        replay(&store, &mut detectors, horizon, &|_| true).await?;
        Ok(SignInIntake {
            store,
            publisher: None,
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
        self.accept_up_to(org, sign_ins, None).await
    }

    /// [`SignInIntake::accept`] for a connector: `checkpoint` (its name and position) is
    /// saved in the same transaction as the sign-ins, so that after a crash the connector
    /// resumes exactly after what was committed.
    pub async fn accept_up_to(
        &self,
        org: OrgId,
        sign_ins: Vec<SignIn>,
        checkpoint: Option<(&str, &str)>,
    ) -> Result<Accepted, StoreError> {
        let own = self
            .store
            .organisation(org)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("organisation {org} does not exist")))?;
        metrics::counter!("tocsin_events_received_total").increment(sign_ins.len() as u64);
        if let Some(publisher) = &self.publisher {
            // The stream holds them before the position moves past them: a crash in
            // between publishes them again, and the stream drops the repeats by id.
            publisher.publish(org, &sign_ins).await?;
            if let Some((name, position)) = checkpoint {
                let mut tx = self.store.begin_intake().await?;
                tx.save_checkpoint(name, org, position).await?;
                tx.commit().await?;
            }
            return Ok(Accepted {
                accepted: sign_ins.len() as u64,
                ..Accepted::default()
            });
        }
        // One batch at a time: detector state and incident rows change together.
        let mut detectors = self.detectors.lock().await;
        let mut tx = self.store.begin_intake().await?;
        let mut report = Accepted::default();
        let mut batch = Batch::new(self.intel.current());
        batch.organisations.insert(org, own);
        for sign_in in sign_ins {
            self.take_sign_in(
                &mut tx,
                &mut batch,
                &mut detectors,
                (org, sign_in),
                Some(org),
                &mut report,
            )
            .await?;
        }
        let (opened, escalated, queued) = batch.commit(&mut tx, &self.config, Some(org)).await?;
        report.incidents_opened = opened;
        report.incidents_escalated = escalated;
        if let Some((name, position)) = checkpoint {
            tx.save_checkpoint(name, org, position).await?;
        }
        tx.commit().await?;
        drop(detectors);
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }

    /// An intake for a detector worker: its detectors are the partitions' own
    /// ([`SignInIntake::accept_partition`]), rebuilt with [`replay`] when it takes one.
    pub fn for_workers(store: Store, detect: DetectConfig, config: NotifyConfig) -> Self {
        SignInIntake {
            store,
            publisher: None,
            detectors: Mutex::new(Detectors::new(detect)),
            config,
            outbox_wake: Arc::new(Notify::new()),
            intel: Arc::new(Live::default()),
        }
    }

    /// An intake for the ingest role: sign-ins are published with `publisher` and
    /// detected by the workers of `serve --role detect`; nothing is replayed here.
    pub fn publishing(
        store: Store,
        detect: DetectConfig,
        config: NotifyConfig,
        publisher: Arc<dyn Publish>,
    ) -> Self {
        SignInIntake {
            store,
            publisher: Some(publisher),
            detectors: Mutex::new(Detectors::new(detect)),
            config,
            outbox_wake: Arc::new(Notify::new()),
            intel: Arc::new(Live::default()),
        }
    }

    /// A detector worker's unit of work: sign-ins of one partition, in stream order,
    /// stored, run through `detectors` (the partition's own) and folded into incidents in
    /// one transaction that also moves the partition's progress to `progress.seq` —
    /// only if this worker still holds its lease. `forward` says, for each stored
    /// observation, where the next stages want it (subject, message id, payload); those
    /// are queued in the same transaction. Returns what was done.
    pub async fn accept_partition(
        &self,
        detectors: &mut Detectors,
        items: Vec<(OrgId, SignIn)>,
        progress: &Progress<'_>,
        forward: &(dyn Fn(&Observation) -> Vec<ForwardTo> + Sync),
    ) -> Result<Accepted, StoreError> {
        let mut tx = self.store.begin_intake().await?;
        let mut report = Accepted::default();
        let mut batch = Batch::new(self.intel.current());
        let mut forwards: Vec<ForwardTo> = Vec::new();
        for (org, sign_in) in items {
            if let std::collections::hash_map::Entry::Vacant(slot) = batch.organisations.entry(org)
            {
                match tx.organisation(org).await? {
                    Some(own) => {
                        slot.insert(own);
                    }
                    // Deleted since it was published: nobody to tell.
                    None => continue,
                }
            }
            let taken = self
                .take_sign_in(
                    &mut tx,
                    &mut batch,
                    detectors,
                    (org, sign_in),
                    None,
                    &mut report,
                )
                .await?;
            if let Some(observation) = taken {
                forwards.extend(forward(&observation));
            }
        }
        let rows: Vec<(&str, &str, &str)> = forwards
            .iter()
            .map(|f| {
                (
                    f.subject.as_str(),
                    f.message_id.as_str(),
                    f.payload.as_str(),
                )
            })
            .collect();
        tx.queue_forwards(&rows).await?;
        self.commit_partition(tx, batch, report, progress).await
    }

    /// A campaign-stage worker's unit of work: observations already stored by stage 1,
    /// run through `detectors` (the partition's campaign detectors) and folded into
    /// incidents, with the partition's progress, in one transaction.
    ///
    /// `advance_to` then moves the detectors' clocks to how far the whole stream has got
    /// (a partition hears only its own events), folding in what that makes due.
    pub async fn absorb_partition(
        &self,
        detectors: &mut Detectors,
        observations: Vec<Observation>,
        advance_to: Option<Timestamp>,
        progress: &Progress<'_>,
    ) -> Result<Accepted, StoreError> {
        let mut tx = self.store.begin_intake().await?;
        let mut report = Accepted::default();
        let mut batch = Batch::new(self.intel.current());
        for observation in observations {
            let detections = detectors.observe(&observation);
            report.detections += detections.len() as u64;
            batch
                .absorb(&mut tx, &self.config, &observation, detections, Vec::new())
                .await?;
        }
        if let Some(time) = advance_to {
            let detections = detectors.advance_to(time);
            report.detections += detections.len() as u64;
            batch
                .absorb_detections(&mut tx, &self.config, detections, &[])
                .await?;
        }
        self.commit_partition(tx, batch, report, progress).await
    }

    /// Stores one sign-in, runs it through `detectors` and the indicators, and folds what
    /// they find into `batch`, counting in `report` (detections of `counted` only, when
    /// given: a campaign's detections for other organisations are theirs). Returns the
    /// observation, or `None` for a record delivered before.
    async fn take_sign_in(
        &self,
        tx: &mut Intake,
        batch: &mut Batch,
        detectors: &mut Detectors,
        (org, sign_in): (OrgId, SignIn),
        counted: Option<OrgId>,
        report: &mut Accepted,
    ) -> Result<Option<Observation>, StoreError> {
        let Some(id) = tx.insert_signin(org, &sign_in).await? else {
            report.duplicates += 1;
            return Ok(None);
        };
        report.accepted += 1;
        let matches = batch
            .intel
            .matches(&Observed::sign_in(&sign_in), sign_in.time);
        let observation = Observation { id, org, sign_in };
        let detections = detectors.observe(&observation);
        report.detections += detections
            .iter()
            .filter(|d| counted.is_none_or(|org| d.org == org))
            .count() as u64;
        report.detections += u64::from(!matches.is_empty());
        batch
            .absorb(tx, &self.config, &observation, detections, matches)
            .await?;
        Ok(Some(observation))
    }

    /// Writes a partition batch's incidents and notifications, moves the partition's
    /// position (only while this worker holds the lease) and commits.
    async fn commit_partition(
        &self,
        mut tx: Intake,
        batch: Batch,
        mut report: Accepted,
        progress: &Progress<'_>,
    ) -> Result<Accepted, StoreError> {
        let (opened, escalated, queued) = batch.commit(&mut tx, &self.config, None).await?;
        report.incidents_opened = opened;
        report.incidents_escalated = escalated;
        tx.advance_partition(
            progress.stage,
            progress.partition,
            progress.owner,
            progress.seq,
            Timestamp::now().as_microsecond(),
        )
        .await?;
        tx.commit().await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(report)
    }

    /// Opens or extends `known_indicator` incidents for stored sign-ins that a retro-hunt
    /// found to match indicators which arrived after them, in one transaction, and queues
    /// the notifications those changes call for. Returns the incidents opened or changed.
    pub async fn absorb_hunted(
        &self,
        hits: Vec<(Observation, Vec<Match>)>,
    ) -> Result<u64, StoreError> {
        if hits.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin_intake().await?;
        let mut batch = Batch::new(self.intel.current());
        for (observation, matches) in hits {
            batch
                .absorb(&mut tx, &self.config, &observation, Vec::new(), matches)
                .await?;
        }
        let changed = batch.touched.len() as u64;
        let (_, _, queued) = batch.commit(&mut tx, &self.config, None).await?;
        tx.commit().await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(changed)
    }
}

/// The incidents one batch of sign-ins changes, folded in memory and written once.
struct Batch {
    intel: Arc<Loaded>,
    organisations: HashMap<OrgId, Organisation>,
    touched: HashMap<(OrgId, String), Touched>,
}

impl Batch {
    fn new(intel: Arc<Loaded>) -> Batch {
        Batch {
            intel,
            organisations: HashMap::new(),
            touched: HashMap::new(),
        }
    }

    /// Folds the detectors' detections for one stored sign-in, and the `known_indicator`
    /// detection when it matched indicators, into the batch's incidents.
    async fn absorb(
        &mut self,
        tx: &mut Intake,
        config: &NotifyConfig,
        observation: &Observation,
        detections: Vec<Detection>,
        matches: Vec<Match>,
    ) -> Result<(), StoreError> {
        let known = (!matches.is_empty()).then(|| {
            let mut detection = indicators::detection(
                observation.org,
                observation.id,
                &observation.sign_in,
                &matches,
            );
            detection.reasons.truncate(Incident::MAX_REASONS);
            detection
        });
        let detections: Vec<Detection> = detections.into_iter().chain(known).collect();
        self.absorb_detections(tx, config, detections, &matches)
            .await
    }

    /// Folds detections into the batch's incidents; `matches` are the indicators of the
    /// sign-in behind a `known_indicator` detection.
    async fn absorb_detections(
        &mut self,
        tx: &mut Intake,
        config: &NotifyConfig,
        detections: Vec<Detection>,
        matches: &[Match],
    ) -> Result<(), StoreError> {
        for detection in detections {
            let key = (detection.org, detection.campaign_key.clone());
            let previous = match self.touched.remove(&key) {
                Some(t) => Some(t),
                None => {
                    let not_before = detection
                        .first_seen
                        .checked_sub(config.reopen_after)
                        .unwrap_or(Timestamp::MIN);
                    let stored = tx
                        .open_incident(detection.org, &detection.campaign_key, not_before)
                        .await?;
                    stored.map(Touched::stored)
                }
            };
            let mut folded = Touched::fold(previous, &detection);
            if detection.kind == DetectionKind::KnownIndicator {
                indicators::attach(&mut folded.incident, matches);
            }
            self.touched.insert(key, folded);
        }
        Ok(())
    }

    /// Writes every changed incident with its evidence, intelligence and attribution, and
    /// queues the notifications. Returns the incidents of `counted` (an organisation, or
    /// all) opened and escalated, and whether anything was queued.
    async fn commit(
        mut self,
        tx: &mut Intake,
        config: &NotifyConfig,
        counted: Option<OrgId>,
    ) -> Result<(u64, u64, bool), StoreError> {
        let mut touched: Vec<Touched> = std::mem::take(&mut self.touched).into_values().collect();
        touched.sort_by(|a, b| {
            (a.incident.first_seen, &a.incident.id).cmp(&(b.incident.first_seen, &b.incident.id))
        });
        let (mut opened, mut escalated, mut queued) = (0, 0, false);
        let now = Timestamp::now();
        for mut t in touched {
            let victim = t.incident.org;
            if counted.is_none_or(|org| org == victim) {
                match t.change {
                    Change::Opened => opened += 1,
                    Change::Escalated { .. } => escalated += 1,
                    Change::Extended => {}
                }
            }
            let organisation = match self.organisations.entry(victim) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    match tx.organisation(victim).await? {
                        Some(o) => slot.insert(o),
                        // Deleted since its sign-ins were seen: nobody left to tell.
                        None => continue,
                    }
                }
            };
            indicators::attach_sources(&mut t.incident, &self.intel);
            t.incident.attribution =
                Some(self.intel.attribute(&t.incident, Some(organisation.sector)));
            crate::correlate::refresh_summary(&mut t.incident);
            tx.save_incident(&t.incident).await?;
            tx.add_evidence(&t.incident.id, &t.linked).await?;
            queued |= lifecycle::after_change(
                tx,
                config,
                organisation,
                &mut t.incident,
                t.change,
                t.linked.len(),
                Sample::SignIns(&t.sample),
                now,
            )
            .await?;
        }
        Ok((opened, escalated, queued))
    }
}
