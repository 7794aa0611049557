//! The distributed (low-and-slow) spray detector: many addresses, each used once or
//! twice and never successfully, failing against many accounts of one organisation over
//! hours or days.
//!
//! Owns, per organisation, the few newest attempts of every address it has seen in the
//! window, the incremental counts of "counting suspect" addresses and of the accounts
//! they failed against, and the spray episode with its extensions. An address is
//! *suspect* while it has failed and has not proved a valid password (for any account of
//! the organisation) within the window; it *counts* while it has also made at most
//! `max_attempts_per_source` attempts. Busier addresses are left to the per-address
//! detectors. Event time only: no clock, no I/O, and no state shared between
//! organisations. It must not rescan an organisation's addresses per event: every count
//! is updated by the change one event (or one expiry) makes.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use model::{Detection, DetectionKind, EventId, Observation, OrgId, Severity};

use crate::config::{DistributedSprayConfig, MAX_RETAINED_EVENTS};
use crate::one_sign_in;
use crate::window::{minus, plus};
use crate::{Class, HashMap, KeyStats, classify, distributed_spray_key};

/// Addresses a detection lists at most; the reasons give the full count.
const MAX_LISTED_SOURCES: usize = 1_000;

#[derive(Debug)]
struct Attempt {
    time: Timestamp,
    id: EventId,
    account: String,
    /// A valid-password event rather than a credential failure.
    valid: bool,
}

/// The newest attempts of one address, in time order: at most `max_attempts + 1`, which
/// is enough to tell whether it made more than `max_attempts` within the window.
#[derive(Debug)]
struct Source {
    attempts: VecDeque<Attempt>,
    last_seen: Timestamp,
}

impl Source {
    /// Whether the address is a counting suspect: it failed, never proved a valid
    /// password, and made few enough attempts.
    fn counts(&self, max_attempts: u32) -> bool {
        !self.attempts.is_empty()
            && self.attempts.len() <= max_attempts as usize
            && self.attempts.iter().all(|a| !a.valid)
    }

    fn oldest(&self) -> Option<Timestamp> {
        self.attempts.front().map(|a| a.time)
    }
}

#[derive(Debug)]
struct Episode {
    first: Timestamp,
    last: Timestamp,
    failures: u64,
}

/// One organisation's view.
#[derive(Debug, Default)]
struct OrgState {
    watermark: Option<Timestamp>,
    sources: HashMap<IpAddr, Source>,
    /// Every tracked address by the time of its oldest retained attempt, so that expiry
    /// visits only the addresses that have something to forget.
    expiry: BTreeSet<(Timestamp, IpAddr)>,
    /// Failures from counting suspects per account. Holds only accounts with at least
    /// one, so its length is the number of accounts failing; it is bounded by
    /// `max_sources * max_attempts_per_source`.
    accounts: HashMap<String, u32>,
    /// Addresses that are counting suspects now.
    counting: u32,
    episode: Option<Episode>,
}

impl OrgState {
    fn add(&mut self, source: &Source) {
        self.counting += 1;
        for a in &source.attempts {
            *self.accounts.entry(a.account.clone()).or_insert(0) += 1;
        }
    }

    fn remove(&mut self, source: &Source) {
        self.counting = self.counting.saturating_sub(1);
        for a in &source.attempts {
            if let Some(n) = self.accounts.get_mut(&a.account) {
                *n -= 1;
                if *n == 0 {
                    self.accounts.remove(&a.account);
                }
            }
        }
    }

    /// Applies `change` to the address's state, keeping the counts and the expiry index
    /// right, and forgets the address once it holds nothing.
    fn update(&mut self, ip: IpAddr, max_attempts: u32, change: impl FnOnce(&mut Source)) {
        let Some(mut source) = self.sources.remove(&ip) else {
            return;
        };
        let counted = source.counts(max_attempts);
        let oldest = source.oldest();
        if counted {
            self.remove(&source);
        }
        change(&mut source);
        if source.counts(max_attempts) {
            self.add(&source);
        }
        if oldest != source.oldest() {
            if let Some(t) = oldest {
                self.expiry.remove(&(t, ip));
            }
            if let Some(t) = source.oldest() {
                self.expiry.insert((t, ip));
            }
        }
        if !source.attempts.is_empty() {
            self.sources.insert(ip, source);
        }
    }

    /// Forgets every attempt older than `cutoff`.
    fn expire(&mut self, cutoff: Timestamp, max_attempts: u32) {
        while let Some(&(t, ip)) = self.expiry.first() {
            if t >= cutoff {
                break;
            }
            self.update(ip, max_attempts, |s| {
                while s.attempts.front().is_some_and(|a| a.time < cutoff) {
                    s.attempts.pop_front();
                }
            });
            // An address whose attempts were all dropped is gone from `sources` but its
            // index entry went with `update`; guard against a stale one all the same.
            if self.expiry.first() == Some(&(t, ip)) {
                self.expiry.pop_first();
            }
        }
    }

    /// Forgets the tenth of the addresses seen least recently; returns how many.
    fn evict(&mut self, max_attempts: u32) -> u64 {
        let n = (self.sources.len() / 10).max(1);
        let mut ages: Vec<(Timestamp, IpAddr)> = self
            .sources
            .iter()
            .map(|(ip, s)| (s.last_seen, *ip))
            .collect();
        if n < ages.len() {
            ages.select_nth_unstable(n - 1);
        }
        let mut evicted = 0;
        for &(_, ip) in ages.iter().take(n) {
            if let Some(source) = self.sources.remove(&ip) {
                if source.counts(max_attempts) {
                    self.remove(&source);
                }
                if let Some(t) = source.oldest() {
                    self.expiry.remove(&(t, ip));
                }
                evicted += 1;
            }
        }
        evicted
    }
}

/// Distributed-spray detection over a stream of observations.
#[derive(Debug)]
pub(crate) struct DistributedSprayDetector {
    config: DistributedSprayConfig,
    orgs: HashMap<OrgId, OrgState>,
    evicted: u64,
    dropped_evidence: u64,
}

impl DistributedSprayDetector {
    pub(crate) fn new(config: DistributedSprayConfig) -> Self {
        DistributedSprayDetector {
            config,
            orgs: HashMap::default(),
            evicted: 0,
            dropped_evidence: 0,
        }
    }

    /// Tracked keys are addresses, all organisations together; expired keys are not
    /// counted separately (an address leaves with its last attempt).
    pub(crate) fn stats(&self) -> KeyStats {
        KeyStats {
            tracked_keys: self.orgs.values().map(|o| o.sources.len()).sum(),
            evicted_keys: self.evicted,
            expired_keys: 0,
            dropped_evidence: self.dropped_evidence,
        }
    }

    pub(crate) fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        let s = &obs.sign_in;
        let class = classify(s);
        let Some(ip) = s.source_ip else {
            return;
        };
        if class == Class::Context {
            return;
        }
        let config = &self.config;
        let max = config.max_attempts_per_source;
        let org = self.orgs.entry(obs.org).or_default();
        let watermark = org.watermark.map_or(s.time, |w| w.max(s.time));
        org.watermark = Some(watermark);
        let cutoff = minus(watermark, config.window);
        org.expire(cutoff, max);
        if s.time < cutoff {
            // Too late to matter: its window has passed.
            return;
        }
        if org
            .episode
            .as_ref()
            .is_some_and(|ep| s.time > plus(ep.last, config.window))
        {
            org.episode = None;
        }
        if !org.sources.contains_key(&ip) {
            if org.sources.len() >= config.max_sources {
                self.evicted += org.evict(max);
            }
            org.sources.insert(
                ip,
                Source {
                    attempts: VecDeque::new(),
                    last_seen: s.time,
                },
            );
        }
        let attempt = Attempt {
            time: s.time,
            id: obs.id,
            account: s.account.clone(),
            valid: class == Class::ValidPassword,
        };
        org.update(ip, max, |source| {
            source.last_seen = source.last_seen.max(s.time);
            let at = source.attempts.partition_point(|a| a.time <= s.time);
            source.attempts.insert(at, attempt);
            // Only "more than max" matters, so the oldest beyond max + 1 can go.
            while source.attempts.len() > max as usize + 1 {
                source.attempts.pop_front();
            }
        });
        let counts = org.sources.get(&ip).is_some_and(|src| src.counts(max));
        if let Some(ep) = &mut org.episode {
            if counts && class == Class::CredentialFailure {
                out.push(extend(ep, obs));
            }
            return;
        }
        if org.counting >= config.min_sources && org.accounts.len() >= config.min_accounts as usize
        {
            let dropped = cross(config, org, obs.org, out);
            self.dropped_evidence += dropped;
        }
    }
}

/// The thresholds are reached: one detection with every failure from the counting
/// suspects. Returns how many failures did not fit in its evidence.
fn cross(
    config: &DistributedSprayConfig,
    org: &mut OrgState,
    org_id: OrgId,
    out: &mut Vec<Detection>,
) -> u64 {
    let max = config.max_attempts_per_source;
    let mut failures: Vec<(EventId, Timestamp)> = Vec::new();
    let mut sources = BTreeSet::new();
    for (ip, source) in &org.sources {
        if source.counts(max) {
            sources.insert(*ip);
            failures.extend(source.attempts.iter().map(|a| (a.id, a.time)));
        }
    }
    // Hash-map order is arbitrary: sort so that the same events give the same detection.
    failures.sort();
    let total = failures.len() as u64;
    let first = failures.iter().map(|(_, t)| *t).min();
    let last = failures.iter().map(|(_, t)| *t).max();
    let (Some(first), Some(last)) = (first, last) else {
        return 0;
    };
    let dropped = failures.len().saturating_sub(MAX_RETAINED_EVENTS) as u64;
    failures.truncate(MAX_RETAINED_EVENTS);
    let mut accounts: Vec<String> = org.accounts.keys().cloned().collect();
    accounts.sort();
    accounts.truncate(MAX_RETAINED_EVENTS);
    let n_sources = sources.len();
    let span = SignedDuration::from_secs(last.duration_since(first).as_secs());
    let reasons = vec![
        format!(
            "{accounts} accounts failed to sign in from {n_sources} addresses over {span:#}, \
             each address used {times} and never successfully — a distributed password spray.",
            accounts = org.accounts.len(),
            times = at_most(max),
        ),
        format!(
            "No address on its own looks like an attack; together they reach the thresholds of \
             {} accounts and {} addresses within {:#} ({total} failed sign-ins).",
            config.min_accounts, config.min_sources, config.window,
        ),
    ];
    out.push(Detection {
        kind: DetectionKind::DistributedSpray,
        org: org_id,
        campaign_key: distributed_spray_key(org_id),
        severity: Severity::High,
        first_seen: first,
        last_seen: last,
        accounts,
        sources: sources.into_iter().take(MAX_LISTED_SOURCES).collect(),
        compromised: Vec::new(),
        evidence: failures.into_iter().map(|(id, _)| id).collect(),
        reasons,
    });
    org.episode = Some(Episode {
        first,
        last,
        failures: total,
    });
    dropped
}

/// A further failure from a counting suspect during an episode: a detection with only
/// this failure as evidence, and no reason (the incident was told why when it opened, and
/// an episode does not get worse).
fn extend(ep: &mut Episode, obs: &Observation) -> Detection {
    let s = &obs.sign_in;
    ep.failures += 1;
    ep.first = ep.first.min(s.time);
    ep.last = ep.last.max(s.time);
    one_sign_in(
        obs,
        DetectionKind::DistributedSpray,
        distributed_spray_key(obs.org),
        Severity::High,
        Vec::new(),
    )
}

/// "at most once", "at most twice", "at most 5 times".
fn at_most(n: u32) -> String {
    match n {
        1 => "at most once".to_owned(),
        2 => "at most twice".to_owned(),
        n => format!("at most {n} times"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("ts")
    }

    fn attempt(t: i64, account: &str, valid: bool) -> Attempt {
        Attempt {
            time: ts(t),
            id: EventId(t),
            account: account.to_owned(),
            valid,
        }
    }

    fn org_with(ip: IpAddr, attempts: Vec<Attempt>) -> OrgState {
        let mut org = OrgState::default();
        org.sources.insert(
            ip,
            Source {
                attempts: VecDeque::new(),
                last_seen: ts(0),
            },
        );
        org.update(ip, 2, |s| s.attempts.extend(attempts));
        org
    }

    #[test]
    fn counts_follow_the_address_in_and_out_of_suspicion() {
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let mut org = org_with(ip, vec![attempt(0, "a", false)]);
        assert_eq!((org.counting, org.accounts.len()), (1, 1));
        org.update(ip, 2, |s| s.attempts.push_back(attempt(1, "a", true)));
        assert_eq!(
            (org.counting, org.accounts.len()),
            (0, 0),
            "proved a password"
        );
        org.expire(ts(1), 2);
        assert_eq!(org.counting, 0, "the success is still in the window");
        org.expire(ts(2), 2);
        assert!(org.sources.is_empty() && org.expiry.is_empty());
    }

    #[test]
    fn a_third_attempt_stops_the_address_counting_until_it_expires() {
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let mut org = org_with(
            ip,
            vec![
                attempt(0, "a", false),
                attempt(1, "b", false),
                attempt(2, "c", false),
            ],
        );
        assert_eq!((org.counting, org.accounts.len()), (0, 0));
        org.expire(ts(1), 2);
        assert_eq!((org.counting, org.accounts.len()), (1, 2));
        assert_eq!(org.expiry.first(), Some(&(ts(1), ip)));
    }
}
