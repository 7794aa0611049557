//! The brute-force detector: many credential failures against one account.
//!
//! Owns the per-(organisation, account) episodes: the crossing of the threshold, the
//! extensions that carry each further failure, escalation, and the compromise that a
//! success from an attacking address reveals. It works on event time only, reads no
//! clock, does no I/O and never looks at another organisation's state.

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::Timestamp;
use model::{Detection, DetectionKind, EventId, FailureKind, Observation, OrgId, Severity};

use crate::config::{BruteForceConfig, MAX_RETAINED_EVENTS};
use crate::one_sign_in;
use crate::window::{Keyed, LastSeen, TimeWindow, minus, plus};
use crate::{Class, KeyStats, brute_force_key, classify};

/// Escalation to high severity happens once an episode passes this many failures.
const ESCALATE_AFTER_FAILURES: u64 = 100;

/// Source addresses an episode remembers for the compromise check; a distributed attack
/// from more addresses than this still alerts, but a success from one of the forgotten
/// addresses is not recognised as a compromise.
const MAX_EPISODE_SOURCES: usize = MAX_RETAINED_EVENTS;

#[derive(Debug)]
struct Failure {
    id: EventId,
    ip: Option<IpAddr>,
    kind: Option<FailureKind>,
}

/// An alerted attack on one account, from its crossing until `window` passes without a
/// failure.
#[derive(Debug)]
struct Episode {
    first: Timestamp,
    last: Timestamp,
    failures: u64,
    sources: BTreeSet<IpAddr>,
    severity: Severity,
}

#[derive(Debug)]
struct AccountState {
    last_seen: Timestamp,
    /// Failures not yet part of an episode; never more than `min_failures`, because
    /// reaching that many opens an episode and empties it.
    pending: TimeWindow<Failure>,
    episode: Option<Episode>,
}

impl LastSeen for AccountState {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

/// Brute-force detection over a stream of observations.
#[derive(Debug)]
pub(crate) struct BruteForceDetector {
    config: BruteForceConfig,
    keys: Keyed<(OrgId, String), AccountState>,
}

impl BruteForceDetector {
    pub(crate) fn new(config: BruteForceConfig, max_tracked_keys: usize) -> Self {
        let keys = Keyed::new(max_tracked_keys, config.window);
        BruteForceDetector { config, keys }
    }

    pub(crate) fn stats(&self) -> KeyStats {
        KeyStats {
            tracked_keys: self.keys.len(),
            evicted_keys: self.keys.evicted(),
            expired_keys: self.keys.expired(),
            dropped_evidence: 0,
        }
    }

    pub(crate) fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        let s = &obs.sign_in;
        self.keys.advance(s.time);
        let key = (obs.org, s.account.clone());
        match classify(s) {
            Class::Context => {}
            Class::ValidPassword => {
                // A success never opens a key: only accounts under attack are worth memory.
                if let Some(state) = self.keys.get_mut(&key) {
                    state.last_seen = state.last_seen.max(s.time);
                    if let Some(d) = compromise(&self.config, state, obs) {
                        out.push(d);
                    }
                }
            }
            Class::CredentialFailure => {
                let min_failures = self.config.min_failures as usize;
                let state = self.keys.entry(key, || AccountState {
                    last_seen: s.time,
                    pending: TimeWindow::new(min_failures.min(MAX_RETAINED_EVENTS)),
                    episode: None,
                });
                state.last_seen = state.last_seen.max(s.time);
                out.extend(failure(&self.config, state, obs));
            }
        }
    }
}

fn failure(
    config: &BruteForceConfig,
    state: &mut AccountState,
    obs: &Observation,
) -> Option<Detection> {
    let s = &obs.sign_in;
    if state
        .episode
        .as_ref()
        .is_some_and(|ep| s.time > plus(ep.last, config.window))
    {
        state.episode = None;
    }
    if let Some(ep) = &mut state.episode {
        return Some(extend(ep, obs));
    }
    state.pending.insert(
        s.time,
        Failure {
            id: obs.id,
            ip: s.source_ip,
            kind: s.failure_kind,
        },
    );
    if let Some(newest) = state.pending.newest() {
        state
            .pending
            .prune_before(minus(newest, config.window), drop);
    }
    if state.pending.len() < config.min_failures as usize {
        return None;
    }
    Some(cross(config, state, obs))
}

/// The threshold is reached: one detection with every failure in the window.
fn cross(config: &BruteForceConfig, state: &mut AccountState, obs: &Observation) -> Detection {
    let account = &obs.sign_in.account;
    let mut evidence = Vec::with_capacity(state.pending.len());
    let mut sources = BTreeSet::new();
    let mut locked = false;
    for (_, f) in state.pending.iter() {
        evidence.push(f.id);
        sources.extend(f.ip);
        locked |= f.kind == Some(FailureKind::Locked);
    }
    let first = state
        .pending
        .iter()
        .next()
        .map_or(obs.sign_in.time, |(t, _)| *t);
    let last = state.pending.newest().unwrap_or(obs.sign_in.time);
    let failures = evidence.len() as u64;
    let mut reasons = vec![format!(
        "{failures} failed sign-ins against {account} within {span:#} from {n} {addresses}, \
         reaching the threshold of {min} within {window:#}.",
        span = last.duration_since(first),
        n = sources.len(),
        addresses = if sources.len() == 1 {
            "address"
        } else {
            "addresses"
        },
        min = config.min_failures,
        window = config.window,
    )];
    let mut severity = Severity::Medium;
    if locked {
        severity = Severity::High;
        reasons.push(format!("{account} was locked out by the attempts."));
    } else if failures > ESCALATE_AFTER_FAILURES {
        severity = Severity::High;
        reasons.push(format!(
            "More than {ESCALATE_AFTER_FAILURES} failed sign-ins."
        ));
    }
    state.pending.clear();
    let detection = Detection {
        kind: DetectionKind::BruteForce,
        org: obs.org,
        campaign_key: brute_force_key(account),
        severity,
        first_seen: first,
        last_seen: last,
        accounts: vec![account.clone()],
        sources: sources.iter().copied().collect(),
        compromised: Vec::new(),
        evidence,
        reasons,
    };
    let mut episode_sources = sources;
    while episode_sources.len() > MAX_EPISODE_SOURCES {
        episode_sources.pop_last();
    }
    state.episode = Some(Episode {
        first,
        last,
        failures,
        sources: episode_sources,
        severity,
    });
    detection
}

/// A further failure during an episode: a detection with only this failure as evidence.
/// It carries reasons only when it makes the attack worse: correlation keeps an
/// extension's reasons only then, and formatting them for every sign-in of a flood was a
/// large share of its cost.
fn extend(ep: &mut Episode, obs: &Observation) -> Detection {
    let s = &obs.sign_in;
    ep.failures += 1;
    ep.first = ep.first.min(s.time);
    ep.last = ep.last.max(s.time);
    if let Some(ip) = s.source_ip
        && ep.sources.len() < MAX_EPISODE_SOURCES
    {
        ep.sources.insert(ip);
    }
    let mut reasons = Vec::new();
    if ep.severity < Severity::High {
        let worse = if s.failure_kind == Some(FailureKind::Locked) {
            Some(format!("{} was locked out by the attempts.", s.account))
        } else if ep.failures > ESCALATE_AFTER_FAILURES {
            Some(format!(
                "More than {ESCALATE_AFTER_FAILURES} failed sign-ins."
            ))
        } else {
            None
        };
        if let Some(worse) = worse {
            ep.severity = Severity::High;
            reasons.push(format!(
                "Failed sign-in number {} against {} in an ongoing brute force.",
                ep.failures, s.account
            ));
            reasons.push(worse);
        }
    }
    one_sign_in(
        obs,
        DetectionKind::BruteForce,
        brute_force_key(&s.account),
        ep.severity,
        reasons,
    )
}

/// A valid password for an account under attack, from an attacking address, during the
/// episode or within `window` after its last failure.
fn compromise(
    config: &BruteForceConfig,
    state: &AccountState,
    obs: &Observation,
) -> Option<Detection> {
    let s = &obs.sign_in;
    let ep = state.episode.as_ref()?;
    let ip = s.source_ip?;
    if !ep.sources.contains(&ip) || s.time < ep.first || s.time > plus(ep.last, config.window) {
        return None;
    }
    let reason = match s.failure_kind {
        None => format!(
            "{} signed in successfully from {ip} after {} failed attempts.",
            s.account, ep.failures
        ),
        Some(kind) => format!(
            "The password of {} was accepted from {ip} after {} failed attempts (the sign-in \
             then failed with {}).",
            s.account,
            ep.failures,
            kind.as_str()
        ),
    };
    Some(Detection {
        compromised: vec![s.account.clone()],
        ..one_sign_in(
            obs,
            DetectionKind::BruteForce,
            brute_force_key(&s.account),
            Severity::Critical,
            vec![reason],
        )
    })
}

impl BruteForceDetector {
    pub(crate) fn watermark(&self) -> Option<Timestamp> {
        self.keys.watermark()
    }
}
