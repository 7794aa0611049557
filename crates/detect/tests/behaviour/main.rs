//! Behavioural tests of the detectors, fed with `scenario` traffic. One binary, one
//! module per theme.

mod benign;
mod boundaries;
mod brute_force;
mod campaign;
mod demo;
mod distributed;
mod memory;
mod networks;
mod password_spray;
mod recall;
mod tenancy;
mod user_agent;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use tocsin_detect as detect;

use detect::{DetectConfig, Detectors};
use jiff::{SignedDuration, Timestamp};
use model::{Detection, EventId, FailureKind, Observation, OrgId, Severity, SignIn};

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

pub fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// Feeds `sign_ins` for `org` with ids `first_id..` and returns every detection.
pub fn run(d: &mut Detectors, org: OrgId, first_id: i64, sign_ins: &[SignIn]) -> Vec<Detection> {
    let mut out = Vec::new();
    for (i, s) in sign_ins.iter().enumerate() {
        let obs = Observation {
            id: EventId(first_id + i as i64),
            org,
            sign_in: s.clone(),
        };
        out.extend(d.observe(&obs));
    }
    out
}

/// Feeds several organisations' events merged in time order (stable, so ties keep
/// org order) and returns every detection.
pub fn run_merged(d: &mut Detectors, events: &[(OrgId, EventId, SignIn)]) -> Vec<Detection> {
    let mut order: Vec<&(OrgId, EventId, SignIn)> = events.iter().collect();
    order.sort_by_key(|(_, _, s)| s.time);
    let mut out = Vec::new();
    for (org, id, s) in order {
        out.extend(d.observe(&Observation {
            id: *id,
            org: *org,
            sign_in: s.clone(),
        }));
    }
    out
}

pub fn detectors() -> Detectors {
    Detectors::new(DetectConfig::default())
}

pub fn ids(range: std::ops::Range<i64>) -> Vec<EventId> {
    range.map(EventId).collect()
}

/// All detections of one attack folded together, as an incident would see them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Attack {
    pub detections: usize,
    pub severity: Option<Severity>,
    pub accounts: BTreeSet<String>,
    pub sources: BTreeSet<IpAddr>,
    pub compromised: BTreeSet<String>,
    pub evidence: Vec<EventId>,
}

/// Keyed by organisation, kind (as its name, which orders brute force before spray) and
/// campaign key.
pub fn attacks(detections: &[Detection]) -> BTreeMap<(OrgId, &'static str, String), Attack> {
    let mut out: BTreeMap<(OrgId, &'static str, String), Attack> = BTreeMap::new();
    for d in detections {
        let a = out
            .entry((d.org, d.kind.as_str(), d.campaign_key.clone()))
            .or_default();
        a.detections += 1;
        a.severity = a.severity.max(Some(d.severity));
        a.accounts.extend(d.accounts.iter().cloned());
        a.sources.extend(d.sources.iter().copied());
        a.compromised.extend(d.compromised.iter().cloned());
        a.evidence.extend(d.evidence.iter().copied());
    }
    out
}

/// A hand-made sign-in, for tests that need one exact event.
pub fn sign_in(
    time: Timestamp,
    account: &str,
    source: Option<IpAddr>,
    kind: Option<FailureKind>,
) -> SignIn {
    let mut p = scenario::BruteForce::new(account, ip("198.51.100.1"), time, 1, secs(1));
    p.then_success = kind.is_none();
    p.failures = u32::from(kind.is_some());
    if let Some(kind) = kind {
        p.failure_kind = kind;
    }
    let mut s = scenario::brute_force(&p).remove(0);
    s.source_ip = source;
    s
}
