//! Applying the notification policy: what an incident change puts on the timeline and in
//! the outbox, and the ticker that sends what was held back.
//!
//! Both intakes call [`after_change`] inside their transaction once an incident change is
//! saved: the detection goes on the timeline, [`policy::decide`] says whether to tell the
//! organisation now or later, and a notification due now is queued in that same
//! transaction. [`run_forever`] wakes every `tick` and sends held notifications that
//! fell due: batched updates, the daily digest (one document per organisation), and
//! whatever quiet hours held.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use crate::NotifyConfig;
use crate::correlate::Change;
use crate::notice;
use crate::notice::Channels;
use crate::payload::{self, DigestEntry};
use crate::policy::{self, Case, Decision, Notice, Policy};
use model::{EventId, Incident, IncidentState, OrgId};
use store::{
    CampaignReach, EventKind, Intake, Organisation, Pacing, Store, StoreError, StoredMail,
    StoredSignIn,
};

/// Other organisations' incidents of the same campaign count if active this recently.
pub const CAMPAIGN_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The actor of what the service does on its own.
pub const SERVICE: &str = "tocsin";

/// The evidence a change brought, to show if the organisation is told now.
#[derive(Clone, Copy, Debug)]
pub enum Sample<'a> {
    SignIns(&'a [EventId]),
    Mails(&'a [EventId]),
}

/// Records a saved incident change on the timeline and tells the organisation now, or
/// holds the notification, as its policy says. Returns whether a notification was
/// queued. `incident` is the incident as saved; its state becomes `notified` when the
/// first notification is queued.
#[allow(clippy::too_many_arguments)]
pub async fn after_change(
    tx: &mut Intake,
    config: &NotifyConfig,
    organisation: &Organisation,
    incident: &mut Incident,
    change: Change,
    evidence_added: usize,
    sample: Sample<'_>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    record_detection(tx, incident, change, evidence_added, now).await?;
    let channels = notice::channels(tx, &config.email, organisation).await?;
    if !channels.any() {
        return Ok(false);
    }
    let pacing = tx
        .pacing(incident.org, &incident.id)
        .await?
        .unwrap_or_default();
    let settings = tx.notify_settings(incident.org).await?;
    let policy = Policy::for_org(&config.policy, &settings);
    let case = case(Some(change), incident, &pacing);
    match policy::decide(&case, &policy, now) {
        Decision::Nothing => Ok(false),
        // The digest is one document per organisation: the ticker gathers it.
        Decision::Send(Notice::Digest) => {
            hold(tx, incident, &case, Notice::Digest, now, now).await?;
            Ok(false)
        }
        Decision::Send(notice) => {
            let (evidence, messages) = match sample {
                Sample::SignIns(ids) => (tx.signins(incident.org, ids).await?, Vec::new()),
                Sample::Mails(ids) => (Vec::new(), tx.mails(incident.org, ids).await?),
            };
            send(
                tx,
                &channels,
                organisation,
                incident,
                notice,
                &evidence,
                &messages,
                now,
            )
            .await?;
            Ok(true)
        }
        Decision::Hold {
            notice,
            since,
            until,
        } => {
            hold(tx, incident, &case, notice, since, until).await?;
            Ok(false)
        }
    }
}

fn case(change: Option<Change>, incident: &Incident, pacing: &Pacing) -> Case {
    Case {
        change,
        severity: incident.severity,
        // Incidents notified before pacing was recorded count as told.
        told_before: pacing.last_notified.is_some() || incident.state != IncidentState::New,
        last_notified: pacing.last_notified,
        held: pacing
            .pending
            .as_ref()
            .and_then(|(event, since)| Notice::parse(event).map(|n| (n, *since))),
    }
}

async fn record_detection(
    tx: &mut Intake,
    incident: &Incident,
    change: Change,
    evidence_added: usize,
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut detail = serde_json::json!({
        "change": match change {
            Change::Opened => "opened",
            Change::Escalated { .. } => "escalated",
            Change::Extended => "extended",
        },
        "detector": incident.kind.as_str(),
        "severity": incident.severity.as_str(),
        "evidence_added": evidence_added,
        "evidence_count": incident.evidence_count,
        "compromised_accounts": incident.compromised_accounts.len(),
    });
    if let Change::Escalated { from } = change {
        detail["from_severity"] = from.as_str().into();
    }
    if change == Change::Extended {
        tx.record_extension(incident.org, &incident.id, now, &detail)
            .await
    } else {
        tx.record_event(
            incident.org,
            &incident.id,
            now,
            EventKind::Detection,
            SERVICE,
            &detail,
        )
        .await
    }
}

/// Holds a notice back until `until`; the timeline says so when something new is held.
async fn hold(
    tx: &mut Intake,
    incident: &Incident,
    case: &Case,
    notice: Notice,
    since: Timestamp,
    until: Timestamp,
) -> Result<(), StoreError> {
    tx.set_pending(
        incident.org,
        &incident.id,
        Some((notice.event(), since, until)),
    )
    .await?;
    if case.held == Some((notice, since)) {
        return Ok(());
    }
    let why = match notice {
        Notice::Digest => "below the digest threshold: in the next daily digest",
        Notice::Updated => "updates are batched: at most one per update interval",
        Notice::Opened | Notice::Escalated => "quiet hours",
    };
    tx.record_event(
        incident.org,
        &incident.id,
        since,
        EventKind::Notification,
        SERVICE,
        &serde_json::json!({
            "event": notice.event(),
            "held_until": until.to_string(),
            "why": why,
        }),
    )
    .await
}

/// Queues `notice` about one incident now, with its campaign's reach.
#[allow(clippy::too_many_arguments)]
async fn send(
    tx: &mut Intake,
    channels: &Channels,
    organisation: &Organisation,
    incident: &mut Incident,
    notice: Notice,
    evidence: &[StoredSignIn],
    messages: &[StoredMail],
    now: Timestamp,
) -> Result<(), StoreError> {
    if incident.state == IncidentState::New {
        incident.state = IncidentState::Notified;
    }
    let reach = reach(tx, incident, now).await?;
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let document = payload::document(
        notice.event(),
        &delivery_id,
        &organisation.name,
        incident,
        evidence,
        messages,
        Some(reach),
    );
    let queued = notice::queue_document(
        tx,
        channels,
        organisation,
        Some(&incident.id),
        notice.event(),
        delivery_id.clone(),
        document,
    )
    .await?;
    tx.mark_notified(incident.org, &incident.id, now).await?;
    tx.record_event(
        incident.org,
        &incident.id,
        now,
        EventKind::Notification,
        SERVICE,
        &serde_json::json!({
            "event": notice.event(),
            "delivery_id": delivery_id,
            "queued": queued,
        }),
    )
    .await
}

async fn reach(
    tx: &mut Intake,
    incident: &Incident,
    now: Timestamp,
) -> Result<CampaignReach, StoreError> {
    let since = now.checked_sub(CAMPAIGN_WINDOW).unwrap_or(Timestamp::MIN);
    tx.campaign_reach(incident.org, &incident.campaign_key, since)
        .await
}

/// What one round of the ticker sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Notifications about one incident.
    pub notices: usize,
    /// Digest documents.
    pub digests: usize,
    /// Incidents listed in those digests.
    pub digested: usize,
}

/// Sends every held notification that is due at `now`, in one transaction.
pub async fn round(
    store: &Store,
    config: &NotifyConfig,
    now: Timestamp,
) -> Result<Round, StoreError> {
    let mut tx = store.begin_intake().await?;
    let mut report = Round::default();
    let mut organisations: HashMap<OrgId, Option<(Organisation, Channels)>> = HashMap::new();
    let mut policies: HashMap<OrgId, Policy> = HashMap::new();
    let mut digests: BTreeMap<OrgId, Vec<Incident>> = BTreeMap::new();
    for (mut incident, pacing) in tx.due_pending(now).await? {
        let org = incident.org;
        if let std::collections::hash_map::Entry::Vacant(slot) = organisations.entry(org) {
            let found = match tx.organisation(org).await? {
                Some(organisation) => {
                    let channels = notice::channels(&mut tx, &config.email, &organisation).await?;
                    Some((organisation, channels))
                }
                None => None,
            };
            slot.insert(found);
        }
        let Some(Some((organisation, channels))) = organisations.get(&org) else {
            continue;
        };
        if !incident.state.is_open() || !channels.any() {
            tx.set_pending(org, &incident.id, None).await?;
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = policies.entry(org) {
            let settings = tx.notify_settings(org).await?;
            slot.insert(Policy::for_org(&config.policy, &settings));
        }
        let Some(policy) = policies.get(&org) else {
            continue;
        };
        let case = case(None, &incident, &pacing);
        match policy::decide(&case, policy, now) {
            // One digest lists at most INCIDENTS_IN_DIGEST; the rest stay held for the next.
            Decision::Send(Notice::Digest) => {
                let digest = digests.entry(org).or_default();
                if digest.len() < payload::INCIDENTS_IN_DIGEST {
                    digest.push(incident);
                }
            }
            Decision::Send(notice) => {
                let (evidence, messages) = tx
                    .latest_evidence(org, &incident.id, payload::EVIDENCE_IN_NOTIFICATION as u32)
                    .await?;
                let (organisation, channels) = (organisation.clone(), channels.clone());
                send(
                    &mut tx,
                    &channels,
                    &organisation,
                    &mut incident,
                    notice,
                    &evidence,
                    &messages,
                    now,
                )
                .await?;
                report.notices += 1;
            }
            // Not due after all (the organisation changed its settings): later.
            Decision::Hold {
                notice,
                since,
                until,
            } => hold(&mut tx, &incident, &case, notice, since, until).await?,
            Decision::Nothing => tx.set_pending(org, &incident.id, None).await?,
        }
    }
    for (org, incidents) in digests {
        let Some(Some((organisation, channels))) = organisations.get(&org) else {
            continue;
        };
        let (organisation, channels) = (organisation.clone(), channels.clone());
        send_digest(
            &mut tx,
            &channels,
            &organisation,
            incidents,
            now,
            &mut report,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Queues one digest document for the organisation listing `incidents` (the first
/// [`payload::INCIDENTS_IN_DIGEST`]; the rest stay held for the next).
async fn send_digest(
    tx: &mut Intake,
    channels: &Channels,
    organisation: &Organisation,
    mut incidents: Vec<Incident>,
    now: Timestamp,
    report: &mut Round,
) -> Result<(), StoreError> {
    incidents.truncate(payload::INCIDENTS_IN_DIGEST);
    let mut entries = Vec::with_capacity(incidents.len());
    for mut incident in incidents {
        if incident.state == IncidentState::New {
            incident.state = IncidentState::Notified;
        }
        let reach = reach(tx, &incident, now).await?;
        entries.push(DigestEntry {
            incident,
            reach: Some(reach),
        });
    }
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let document = payload::digest(&delivery_id, organisation.id, &organisation.name, &entries);
    let queued = notice::queue_document(
        tx,
        channels,
        organisation,
        None,
        Notice::Digest.event(),
        delivery_id.clone(),
        document,
    )
    .await?;
    for entry in &entries {
        let incident = &entry.incident;
        tx.mark_notified(incident.org, &incident.id, now).await?;
        tx.record_event(
            incident.org,
            &incident.id,
            now,
            EventKind::Notification,
            SERVICE,
            &serde_json::json!({
                "event": Notice::Digest.event(),
                "delivery_id": delivery_id,
                "queued": queued,
            }),
        )
        .await?;
    }
    report.digests += 1;
    report.digested += entries.len();
    Ok(())
}

/// Runs [`round`] every `config.tick`, and at once when `wake` is notified; wakes the
/// outbox worker when it queued something. Returns only on a store failure.
pub async fn run_forever(
    store: Store,
    config: NotifyConfig,
    wake: Arc<Notify>,
    outbox_wake: Arc<Notify>,
) -> Result<(), StoreError> {
    let tick = config
        .policy
        .tick
        .try_into()
        .unwrap_or(std::time::Duration::from_secs(60));
    loop {
        let done = round(&store, &config, Timestamp::now()).await?;
        if done.notices + done.digests > 0 {
            tracing::info!(
                notices = done.notices,
                digests = done.digests,
                incidents_in_digests = done.digested,
                "Sent held notifications."
            );
            outbox_wake.notify_one();
        }
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = wake.notified() => {}
        }
    }
}
