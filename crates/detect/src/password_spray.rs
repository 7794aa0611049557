//! The password-spray detector: one source network (an address's /24 or /64) failing
//! against many accounts, a few attempts each; and credential stuffing, its variant that
//! replays leaked user names, many of which do not exist.
//!
//! Owns the per-(organisation, network) windows of failures and successes, the spray
//! episodes with their extensions and escalation, and the compromise a success from a
//! spraying network reveals. Keying by network keeps an attacker who rotates through
//! neighbouring addresses in one attack. Event time only: no clock, no I/O, and no state
//! shared between organisations.

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::Timestamp;
use model::{
    Detection, DetectionKind, EventId, FailureKind, Network, Observation, OrgId, Severity,
};

use crate::config::{MAX_RETAINED_EVENTS, PasswordSprayConfig, SourcePolicy};
use crate::one_sign_in;
use crate::window::{AccountTally, Keyed, LastSeen, TimeWindow, minus, plus};
use crate::{Class, KeyStats, classify, password_spray_key};

/// Accounts an episode remembers; counting distinct accounts stops here.
const MAX_EPISODE_ACCOUNTS: usize = MAX_RETAINED_EVENTS;

/// Severity becomes high when a spray reaches this many times `min_accounts` accounts.
const HIGH_SEVERITY_FACTOR: u64 = 5;

/// Source addresses an episode lists; counting goes on past it.
const MAX_EPISODE_SOURCES: usize = 1000;

#[derive(Debug)]
struct Attempt {
    id: EventId,
    account: String,
    ip: IpAddr,
    /// The account does not exist.
    unknown: bool,
}

#[derive(Debug)]
struct Episode {
    kind: DetectionKind,
    /// The campaign key, kept rather than formatted again for every further sign-in.
    key: String,
    first: Timestamp,
    last: Timestamp,
    failures: u64,
    accounts: BTreeSet<String>,
    sources: BTreeSet<IpAddr>,
    severity: Severity,
}

#[derive(Debug)]
struct SourceState {
    last_seen: Timestamp,
    /// Credential failures in the window, outside an episode.
    failures: TimeWindow<Attempt>,
    /// Valid-password events in the window, outside an episode.
    successes: TimeWindow<Attempt>,
    /// Failures in `failures` per account (bounded by the window's cap), and how many
    /// accounts have 1 to `max_attempts_per_account` of them.
    tally: AccountTally,
    /// Failures in `failures` against accounts that do not exist.
    unknown: u32,
    episode: Option<Episode>,
}

impl LastSeen for SourceState {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

impl SourceState {
    fn new(time: Timestamp) -> Self {
        SourceState {
            last_seen: time,
            failures: TimeWindow::new(MAX_RETAINED_EVENTS),
            successes: TimeWindow::new(MAX_RETAINED_EVENTS),
            tally: AccountTally::default(),
            unknown: 0,
            episode: None,
        }
    }

    fn prune(&mut self, config: &PasswordSprayConfig) {
        let newest = match (self.failures.newest(), self.successes.newest()) {
            (Some(a), Some(b)) => a.max(b),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => return,
        };
        let cutoff = minus(newest, config.window);
        let mut gone = Vec::new();
        self.failures.prune_before(cutoff, |a| gone.push(a));
        for attempt in gone {
            self.forget(&attempt, config.max_attempts_per_account);
        }
        self.successes.prune_before(cutoff, drop);
    }

    /// Undoes the counts of a failure that left the window.
    fn forget(&mut self, attempt: &Attempt, max_attempts: u32) {
        self.tally.uncount(&attempt.account, max_attempts);
        if attempt.unknown {
            self.unknown = self.unknown.saturating_sub(1);
        }
    }

    fn clear_window(&mut self) {
        self.failures.clear();
        self.successes.clear();
        self.tally.clear();
        self.unknown = 0;
    }

    fn failure_ratio(&self) -> f64 {
        let failures = self.failures.len() as f64;
        let all = failures + self.successes.len() as f64;
        if all == 0.0 { 0.0 } else { failures / all }
    }
}

/// Password-spray detection over a stream of observations.
#[derive(Debug)]
pub(crate) struct PasswordSprayDetector {
    config: PasswordSprayConfig,
    policy: SourcePolicy,
    keys: Keyed<(OrgId, Network), SourceState>,
    dropped_evidence: u64,
    skipped_without_source: u64,
}

impl PasswordSprayDetector {
    pub(crate) fn new(
        config: PasswordSprayConfig,
        policy: SourcePolicy,
        max_tracked_keys: usize,
    ) -> Self {
        let keys = Keyed::new(max_tracked_keys, config.window);
        PasswordSprayDetector {
            config,
            policy,
            keys,
            dropped_evidence: 0,
            skipped_without_source: 0,
        }
    }

    pub(crate) fn stats(&self) -> KeyStats {
        KeyStats {
            tracked_keys: self.keys.len(),
            evicted_keys: self.keys.evicted(),
            expired_keys: self.keys.expired(),
            dropped_evidence: self.dropped_evidence,
        }
    }

    pub(crate) fn skipped_without_source(&self) -> u64 {
        self.skipped_without_source
    }

    pub(crate) fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        let s = &obs.sign_in;
        self.keys.advance(s.time);
        let class = classify(s);
        // Scanners that never try a password are context for later detectors, not
        // attempts: they must not open (or evict) a source's state.
        if class == Class::Context {
            return;
        }
        let Some(ip) = s.source_ip.map(|ip| ip.to_canonical()) else {
            self.skipped_without_source += 1;
            return;
        };
        // The organisation's own offices: their failures are its staff's.
        if self.policy.is_trusted(obs.org, ip) {
            return;
        }
        let network = Network::of(ip);
        let factor = self.policy.threshold_factor(ip);
        let config = &self.config;
        let state = self
            .keys
            .entry((obs.org, network), || SourceState::new(s.time));
        state.last_seen = state.last_seen.max(s.time);
        if state
            .episode
            .as_ref()
            .is_some_and(|ep| s.time > plus(ep.last, config.window))
        {
            state.episode = None;
        }
        let attempt = Attempt {
            id: obs.id,
            account: s.account.clone(),
            ip,
            unknown: s.failure_kind == Some(FailureKind::UnknownAccount),
        };
        match class {
            Class::Context => {}
            Class::ValidPassword => {
                if let Some(ep) = &state.episode {
                    if s.time >= ep.first {
                        out.push(compromise(obs, network, ip, ep));
                    }
                    return;
                }
                if state.successes.insert(s.time, attempt).is_some() {
                    self.dropped_evidence += 1;
                }
                state.prune(config);
            }
            Class::CredentialFailure => {
                if let Some(ep) = &mut state.episode {
                    out.push(extend(config, ep, obs, network, ip));
                    return;
                }
                let unknown = attempt.unknown;
                if let Some((_, old)) = state.failures.insert(s.time, attempt) {
                    self.dropped_evidence += 1;
                    state.forget(&old, config.max_attempts_per_account);
                }
                state
                    .tally
                    .count(&s.account, config.max_attempts_per_account);
                if unknown {
                    state.unknown += 1;
                }
                state.prune(config);
                let min_accounts = config.min_accounts.saturating_mul(factor);
                if state.tally.within() >= min_accounts
                    && state.failure_ratio() >= config.min_failure_ratio
                {
                    cross(config, factor, state, obs, network, out);
                }
            }
        }
    }
}

/// The threshold is reached: one detection with every failure in the window, and a
/// compromise for every valid password the network had in the window.
fn cross(
    config: &PasswordSprayConfig,
    factor: u32,
    state: &mut SourceState,
    obs: &Observation,
    network: Network,
    out: &mut Vec<Detection>,
) {
    let mut evidence = Vec::with_capacity(state.failures.len());
    let mut accounts = BTreeSet::new();
    let mut sources = BTreeSet::new();
    for (_, a) in state.failures.iter() {
        evidence.push(a.id);
        if accounts.len() < MAX_EPISODE_ACCOUNTS || accounts.contains(&a.account) {
            accounts.insert(a.account.clone());
        }
        if sources.len() < MAX_EPISODE_SOURCES {
            sources.insert(a.ip);
        }
    }
    let first = state
        .failures
        .iter()
        .next()
        .map_or(obs.sign_in.time, |(t, _)| *t);
    let last = state.failures.newest().unwrap_or(obs.sign_in.time);
    let failures = evidence.len() as u64;
    let attempts = failures + state.successes.len() as u64;
    let most_per_account = state.tally.most();
    let unknown_share = f64::from(state.unknown) / failures.max(1) as f64;
    let kind = if most_per_account <= 2 && unknown_share >= config.stuffing_min_unknown_ratio {
        DetectionKind::CredentialStuffing
    } else {
        DetectionKind::PasswordSpray
    };
    let min_accounts = config.min_accounts.saturating_mul(factor);
    let high = u64::from(state.tally.within()) >= HIGH_SEVERITY_FACTOR * u64::from(min_accounts);
    let from = describe_sources(network, &sources);
    let mut reasons = vec![format!(
        "{from} failed to sign in to {sprayed} accounts with at most {max} attempts each within \
         {span:#}, reaching the threshold of {min_accounts} accounts within {window:#}; \
         {failures} of its {attempts} sign-ins failed.",
        sprayed = state.tally.within(),
        max = config.max_attempts_per_account,
        span = last.duration_since(first),
        window = config.window,
    )];
    if factor > 1 {
        reasons.push(format!(
            "The network is shared egress (many unrelated people behind it), so the \
             threshold was raised {factor} times."
        ));
    }
    if kind == DetectionKind::CredentialStuffing {
        reasons.push(format!(
            "{} of the {failures} failures named accounts that do not exist, each tried at \
             most twice: a list of leaked user names and passwords being replayed.",
            state.unknown
        ));
    }
    if high {
        reasons.push(format!(
            "At least {} accounts were sprayed.",
            HIGH_SEVERITY_FACTOR * u64::from(min_accounts)
        ));
    }
    let severity = if high {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut episode = Episode {
        kind,
        key: password_spray_key(network),
        first,
        last,
        failures,
        accounts,
        sources,
        severity,
    };
    out.push(Detection {
        kind,
        org: obs.org,
        campaign_key: episode.key.clone(),
        severity,
        first_seen: first,
        last_seen: last,
        accounts: episode.accounts.iter().cloned().collect(),
        sources: episode.sources.iter().copied().collect(),
        compromised: Vec::new(),
        evidence,
        reasons,
    });
    for (time, success) in state.successes.iter() {
        let reason = format!(
            "{} proved a valid password for {} during the spray ({failures} failed attempts \
             from {network}).",
            success.ip, success.account
        );
        out.push(compromised(&episode, obs.org, success, *time, reason));
    }
    episode
        .sources
        .extend(state.successes.iter().map(|(_, a)| a.ip));
    state.clear_window();
    state.episode = Some(episode);
}

/// "203.0.113.66" for one address, "4 addresses in 203.0.113.0/24" for several.
fn describe_sources(network: Network, sources: &BTreeSet<IpAddr>) -> String {
    match sources.len() {
        0 => network.to_string(),
        1 => sources.iter().map(ToString::to_string).collect(),
        n => format!("{n} addresses in {network}"),
    }
}

/// A further failure during an episode: a detection with only this failure as evidence.
fn extend(
    config: &PasswordSprayConfig,
    ep: &mut Episode,
    obs: &Observation,
    network: Network,
    ip: IpAddr,
) -> Detection {
    let s = &obs.sign_in;
    ep.failures += 1;
    ep.first = ep.first.min(s.time);
    ep.last = ep.last.max(s.time);
    if ep.accounts.len() < MAX_EPISODE_ACCOUNTS {
        ep.accounts.insert(s.account.clone());
    }
    if ep.sources.len() < MAX_EPISODE_SOURCES {
        ep.sources.insert(ip);
    }
    // Reasons only when the attack gets worse: correlation keeps an extension's reasons
    // only then, and formatting them for every sign-in of a flood was a large share of
    // its cost.
    let mut reasons = Vec::new();
    let high_at = HIGH_SEVERITY_FACTOR * u64::from(config.min_accounts);
    if ep.severity < Severity::High && ep.accounts.len() as u64 >= high_at {
        ep.severity = Severity::High;
        reasons.push(format!(
            "Failed sign-in number {} from {network} ({ip}) in an ongoing {}, against {}.",
            ep.failures,
            ep.kind.as_str().replace('_', " "),
            s.account
        ));
        reasons.push(format!("At least {high_at} accounts were sprayed."));
    }
    one_sign_in(obs, ep.kind, ep.key.clone(), ep.severity, reasons)
}

/// A valid password from a spraying network.
fn compromise(obs: &Observation, network: Network, ip: IpAddr, ep: &Episode) -> Detection {
    let s = &obs.sign_in;
    let failures = ep.failures;
    let reason = match s.failure_kind {
        None => format!(
            "{} signed in successfully from {ip}, in {network}, which had failed {failures} \
             times against many accounts.",
            s.account
        ),
        Some(kind) => format!(
            "The password of {} was accepted from {ip}, in {network}, which had failed \
             {failures} times against many accounts (the sign-in then failed with {}).",
            s.account,
            kind.as_str()
        ),
    };
    let attempt = Attempt {
        id: obs.id,
        account: s.account.clone(),
        ip,
        unknown: false,
    };
    compromised(ep, obs.org, &attempt, s.time, reason)
}

fn compromised(
    ep: &Episode,
    org: OrgId,
    success: &Attempt,
    time: Timestamp,
    reason: String,
) -> Detection {
    Detection {
        kind: ep.kind,
        org,
        campaign_key: ep.key.clone(),
        severity: Severity::Critical,
        first_seen: time,
        last_seen: time,
        accounts: vec![success.account.clone()],
        sources: vec![success.ip],
        compromised: vec![success.account.clone()],
        evidence: vec![success.id],
        reasons: vec![reason],
    }
}
