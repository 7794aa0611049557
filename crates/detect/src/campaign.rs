//! The cross-organisation campaign detectors: failures against accounts of several
//! organisations protected by the same service that share something the attacker cannot
//! help sharing — the view no single organisation has. Two things tie them together
//! ([`Clue`]): one source network (the /24 of an IPv4 address, the /64 of an IPv6 one),
//! and one rare user agent (an attack tool's, sent from addresses rotated across
//! networks, which the network key misses); see `user_agent.rs`.
//!
//! Owns, per clue, the window of failures kept apart per organisation, the
//! valid-password events that make a shared clue benign, and the campaign with the
//! organisations already told. These are the only detectors whose state spans
//! organisations, so they carry the tenancy rule themselves: a detection for one
//! organisation holds only that organisation's accounts, addresses and evidence, and says
//! how many others were hit without naming them. Event time only: no clock, no I/O.

mod user_agent;

pub(crate) use user_agent::UserAgent;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use model::{Detection, DetectionKind, EventId, Network, Observation, OrgId, Severity, SignIn};

use crate::config::{CampaignConfig, MAX_RETAINED_EVENTS};
use crate::one_sign_in;
use crate::window::{AccountTally, Keyed, LastSeen, TimeWindow, minus, plus};
use crate::{Class, HashMap, KeyStats, classify};

/// What ties failures at several organisations into one campaign.
pub(crate) trait Clue: Clone + Ord + Hash + Debug {
    /// The clue a sign-in carries, if any.
    fn of(sign_in: &SignIn) -> Option<Self>;

    /// The campaign key, the same in every organisation the campaign hits.
    fn campaign_key(&self) -> String;

    /// How many distinct source networks the counted failures must come from, all
    /// organisations together.
    fn min_networks(config: &CampaignConfig) -> u32;

    /// Why the campaign was reported to one organisation: what it did there, and what
    /// it did elsewhere in counts only.
    fn opening(&self, seen: &Seen) -> String;
}

/// What one organisation's opening detection says, in counts.
#[derive(Debug)]
pub(crate) struct Seen {
    /// The organisation's own sprayed accounts, failures, addresses and their span.
    pub accounts: usize,
    pub failures: usize,
    pub sources: usize,
    pub span: SignedDuration,
    /// Other organisations told, this round included.
    pub others: usize,
    /// Addresses and networks the counted failures came from and their span, all
    /// organisations together.
    pub all_sources: usize,
    pub all_networks: usize,
    pub all_span: SignedDuration,
    /// Sign-ins with a valid password carrying the clue within the window, and all its
    /// sign-ins, all organisations together.
    pub valid: usize,
    pub attempts: usize,
}

impl Clue for Network {
    fn of(sign_in: &SignIn) -> Option<Self> {
        sign_in.source_network()
    }

    fn campaign_key(&self) -> String {
        crate::campaign_key(*self)
    }

    fn min_networks(_: &CampaignConfig) -> u32 {
        1
    }

    fn opening(&self, seen: &Seen) -> String {
        format!(
            "{self} failed to sign in to {n} of your accounts ({f} attempts from {a} \
             within {span:#}), and the same network also targeted {others} other {orgs} \
             protected by this service in the same hours — a campaign across \
             organisations.",
            n = seen.accounts,
            f = seen.failures,
            a = plural(seen.sources, "address", "addresses"),
            span = seen.span,
            others = seen.others,
            orgs = organisations(seen.others),
        )
    }
}

#[derive(Debug)]
struct Failure {
    id: EventId,
    account: String,
    source: IpAddr,
}

/// One organisation's failures carrying the clue within the window.
#[derive(Debug)]
struct Slice {
    failures: TimeWindow<Failure>,
    /// Failures in `failures` per account, and how many accounts have 1 to
    /// `max_attempts_per_account`: sprayed, rather than retried by a stale client or
    /// brute-forced.
    accounts: AccountTally,
}

impl Slice {
    fn new() -> Self {
        Slice {
            failures: TimeWindow::new(MAX_RETAINED_EVENTS),
            accounts: AccountTally::default(),
        }
    }
}

/// A campaign under way: the organisations told so far, with the failures each was
/// shown, and the time of the newest failure.
#[derive(Debug)]
struct Campaign {
    last: Timestamp,
    told: BTreeMap<OrgId, u64>,
}

#[derive(Debug)]
struct ClueState {
    last_seen: Timestamp,
    slices: BTreeMap<OrgId, Slice>,
    /// Valid-password events carrying the clue within the window, any organisation.
    valid: TimeWindow<()>,
    /// Failures in all slices.
    failures: usize,
    /// Failures in all slices per source network: rotation across networks shows here.
    networks: HashMap<Network, u32>,
    /// Sprayed accounts in all slices (an account name at two organisations is two
    /// accounts).
    sprayed: usize,
    campaign: Option<Campaign>,
    /// When the clue is due in [`CampaignDetector::run_due`], if it is.
    scheduled: Option<Timestamp>,
}

impl LastSeen for ClueState {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

impl ClueState {
    fn new(time: Timestamp) -> Self {
        ClueState {
            last_seen: time,
            slices: BTreeMap::new(),
            valid: TimeWindow::new(MAX_RETAINED_EVENTS),
            failures: 0,
            networks: HashMap::default(),
            sprayed: 0,
            campaign: None,
            scheduled: None,
        }
    }

    fn count_network(&mut self, source: IpAddr) {
        *self.networks.entry(Network::of(source)).or_insert(0) += 1;
    }

    fn uncount_network(&mut self, source: IpAddr) {
        let network = Network::of(source);
        if let Some(n) = self.networks.get_mut(&network) {
            *n -= 1;
            if *n == 0 {
                self.networks.remove(&network);
            }
        }
    }

    fn prune(&mut self, cutoff: Timestamp, max: u32) {
        let (mut failures, mut sprayed) = (0, 0);
        let mut gone_sources = Vec::new();
        for slice in self.slices.values_mut() {
            let mut gone = Vec::new();
            slice.failures.prune_before(cutoff, |f| gone.push(f));
            for f in gone {
                slice.accounts.uncount(&f.account, max);
                gone_sources.push(f.source);
            }
            failures += slice.failures.len();
            sprayed += slice.accounts.within() as usize;
        }
        for source in gone_sources {
            self.uncount_network(source);
        }
        self.slices.retain(|_, s| s.failures.len() > 0);
        self.failures = failures;
        self.sprayed = sprayed;
        self.valid.prune_before(cutoff, drop);
    }

    fn failure_ratio(&self) -> f64 {
        let failures = self.failures as f64;
        let all = failures + self.valid.len() as f64;
        if all == 0.0 { 0.0 } else { failures / all }
    }
}

/// Cross-organisation campaign detection over a stream of observations, keyed by `K`.
#[derive(Debug)]
pub(crate) struct CampaignDetector<K: Clue> {
    config: CampaignConfig,
    keys: Keyed<K, ClueState>,
    /// Clues to look at closely once the watermark reaches the time, one entry each.
    due: BTreeSet<(Timestamp, K)>,
    dropped_evidence: u64,
}

impl<K: Clue> CampaignDetector<K> {
    /// A detector tracking at most `max_tracked_keys` clues.
    pub(crate) fn new(config: CampaignConfig, max_tracked_keys: usize) -> Self {
        let keys = Keyed::new(max_tracked_keys, config.window);
        CampaignDetector {
            config,
            keys,
            due: BTreeSet::new(),
            dropped_evidence: 0,
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

    pub(crate) fn observe(&mut self, obs: &Observation, out: &mut Vec<Detection>) {
        let s = &obs.sign_in;
        self.keys.advance(s.time);
        self.run_due(out);
        let class = classify(s);
        let (Some(ip), Some(clue)) = (s.source_ip, K::of(s)) else {
            return;
        };
        if class == Class::Context {
            return;
        }
        let ip = ip.to_canonical();
        let config = &self.config;
        let max = config.max_attempts_per_account;
        let state = self.keys.entry(clue.clone(), || ClueState::new(s.time));
        state.last_seen = state.last_seen.max(s.time);
        if state
            .campaign
            .as_ref()
            .is_some_and(|c| s.time > plus(c.last, config.window))
        {
            state.campaign = None;
        }
        if class == Class::ValidPassword {
            if state.valid.insert(s.time, ()).is_some() {
                self.dropped_evidence += 1;
            }
            state.prune(minus(state.last_seen, config.window), max);
            return;
        }
        let slice = state.slices.entry(obs.org).or_insert_with(Slice::new);
        let failure = Failure {
            id: obs.id,
            account: s.account.clone(),
            source: ip,
        };
        let dropped = slice.failures.insert(s.time, failure);
        if let Some((_, old)) = &dropped {
            slice.accounts.uncount(&old.account, max);
        }
        slice.accounts.count(&s.account, max);
        let sprayed = (1..=max).contains(&slice.accounts.of(&s.account));
        if let Some((_, old)) = dropped {
            self.dropped_evidence += 1;
            state.uncount_network(old.source);
        }
        state.count_network(ip);
        state.prune(minus(state.last_seen, config.window), max);

        if let Some(campaign) = &mut state.campaign
            && let Some(shown) = campaign.told.get_mut(&obs.org)
        {
            // A stale client sharing the clue is not the campaign going on.
            if sprayed {
                *shown += 1;
                campaign.last = campaign.last.max(s.time);
                // Extends the incident: it was told why when it opened.
                out.push(one_sign_in(
                    obs,
                    DetectionKind::CrossOrgCampaign,
                    clue.campaign_key(),
                    Severity::High,
                    Vec::new(),
                ));
            }
            return;
        }
        // The counts are cheap and include accounts that have not settled yet: only when
        // they reach the thresholds is the clue looked at closely, once its newest
        // failure has settled.
        if state.scheduled.is_none() && plausible::<K>(config, state) {
            let due = plus(state.last_seen, config.settle);
            state.scheduled = Some(due);
            self.due.insert((due, clue));
        }
    }

    /// Moves the clock to `time` without an observation and runs what comes due.
    pub(crate) fn advance_to(&mut self, time: Timestamp, out: &mut Vec<Detection>) {
        self.keys.advance(time);
        self.run_due(out);
    }

    /// Looks closely at every clue whose time has come.
    fn run_due(&mut self, out: &mut Vec<Detection>) {
        let Some(watermark) = self.keys.watermark() else {
            return;
        };
        while let Some((due, _)) = self.due.first() {
            if *due > watermark {
                break;
            }
            let Some((_, clue)) = self.due.pop_first() else {
                break;
            };
            let config = &self.config;
            // A clue evicted or expired meanwhile has nothing left to report.
            let Some(state) = self.keys.get_mut(&clue) else {
                continue;
            };
            state.scheduled = None;
            let crossed = evaluate(config, state, &clue, watermark, out);
            // Failures that came after this one was scheduled have not settled yet.
            if !crossed && state.campaign.is_none() && plausible::<K>(config, state) {
                let again = plus(state.last_seen, config.settle).max(plus(
                    watermark,
                    SignedDuration::from_secs(config.settle.as_secs() / 4 + 1),
                ));
                state.scheduled = Some(again);
                self.due.insert((again, clue));
            }
        }
    }
}

/// Whether the clue reaches the thresholds when every sprayed account is counted,
/// settled or not.
fn plausible<K: Clue>(config: &CampaignConfig, state: &ClueState) -> bool {
    let orgs = state
        .slices
        .values()
        .filter(|s| s.accounts.within() > 0)
        .count() as u64;
    orgs >= u64::from(config.min_organisations)
        && state.sprayed as u64 >= u64::from(config.min_accounts)
        && state.networks.len() as u64 >= u64::from(K::min_networks(config))
        && state.failure_ratio() >= config.min_failure_ratio
}

/// Counts only the settled sprayed accounts — first failed at least `settle` before
/// `now` and still at no more than `max_attempts_per_account` failures — and opens (or
/// widens) the campaign when they reach the thresholds. Returns whether it did.
fn evaluate<K: Clue>(
    config: &CampaignConfig,
    state: &mut ClueState,
    clue: &K,
    now: Timestamp,
    out: &mut Vec<Detection>,
) -> bool {
    let cutoff = minus(now, config.settle);
    let max = config.max_attempts_per_account;
    let mut settled: BTreeMap<OrgId, BTreeSet<String>> = BTreeMap::new();
    let mut networks: BTreeSet<Network> = BTreeSet::new();
    for (org, slice) in &state.slices {
        let mut accounts = BTreeSet::new();
        for (t, f) in slice.failures.iter() {
            if *t > cutoff {
                break;
            }
            if (1..=max).contains(&slice.accounts.of(&f.account)) {
                accounts.insert(f.account.clone());
                networks.insert(Network::of(f.source));
            }
        }
        if !accounts.is_empty() {
            settled.insert(*org, accounts);
        }
    }
    let total: usize = settled.values().map(BTreeSet::len).sum();
    let new_orgs = settled
        .keys()
        .filter(|o| {
            !state
                .campaign
                .as_ref()
                .is_some_and(|c| c.told.contains_key(o))
        })
        .count();
    if new_orgs == 0
        || (settled.len() as u64) < u64::from(config.min_organisations)
        || (total as u64) < u64::from(config.min_accounts)
        || (networks.len() as u64) < u64::from(K::min_networks(config))
        || state.failure_ratio() < config.min_failure_ratio
    {
        return false;
    }
    cross(config, state, clue, now, &settled, out);
    true
}

/// The sprayed failures of one organisation, in time order.
fn sprayed_failures(slice: &Slice, max: u32) -> Vec<(Timestamp, &Failure)> {
    slice
        .failures
        .iter()
        .filter(|(_, f)| (1..=max).contains(&slice.accounts.of(&f.account)))
        .map(|(t, f)| (*t, f))
        .collect()
}

fn span(first: Timestamp, last: Timestamp) -> SignedDuration {
    SignedDuration::from_secs(last.duration_since(first).as_secs())
}

/// The thresholds are reached (or a further organisation joins a campaign): one detection
/// for each organisation hit and not told yet, with only its own sprayed accounts'
/// failures.
fn cross<K: Clue>(
    config: &CampaignConfig,
    state: &mut ClueState,
    clue: &K,
    time: Timestamp,
    settled: &BTreeMap<OrgId, BTreeSet<String>>,
    out: &mut Vec<Detection>,
) {
    let max = config.max_attempts_per_account;
    // What every organisation together saw, in counts: never who.
    let mut all_sources = BTreeSet::new();
    let mut all_times: Option<(Timestamp, Timestamp)> = None;
    for slice in state.slices.values() {
        for (t, f) in sprayed_failures(slice, max) {
            all_sources.insert(f.source);
            all_times = Some(all_times.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
    }
    let (all_first, all_last) = all_times.unwrap_or((time, time));
    let all_networks: BTreeSet<Network> = all_sources.iter().map(|ip| Network::of(*ip)).collect();
    let valid = state.valid.len();
    let attempts = state.failures + valid;

    let campaign = state.campaign.get_or_insert_with(|| Campaign {
        last: time,
        told: BTreeMap::new(),
    });
    let new: Vec<OrgId> = settled
        .keys()
        .filter(|org| !campaign.told.contains_key(org))
        .copied()
        .collect();
    for org in &new {
        campaign.told.insert(*org, 0);
    }
    // Everyone told so far, this round included, minus the organisation addressed.
    let others = campaign.told.len() - 1;
    for org in new {
        let Some(slice) = state.slices.get(&org) else {
            continue;
        };
        // The settled accounts establish the campaign; every sprayed account of the
        // organisation belongs to it, settled or not.
        let failures = sprayed_failures(slice, max);
        let accounts: BTreeSet<&String> = failures.iter().map(|(_, f)| &f.account).collect();
        let evidence: Vec<EventId> = failures.iter().map(|(_, f)| f.id).collect();
        let sources: BTreeSet<IpAddr> = failures.iter().map(|(_, f)| f.source).collect();
        let first = failures.first().map_or(time, |(t, _)| *t);
        let last = failures.last().map_or(time, |(t, _)| *t);
        campaign.last = campaign.last.max(last);
        if let Some(shown) = campaign.told.get_mut(&org) {
            *shown = evidence.len() as u64;
        }
        let seen = Seen {
            accounts: accounts.len(),
            failures: evidence.len(),
            sources: sources.len(),
            span: span(first, last),
            others,
            all_sources: all_sources.len(),
            all_networks: all_networks.len(),
            all_span: span(all_first, all_last),
            valid,
            attempts,
        };
        let reasons = vec![clue.opening(&seen), thresholds::<K>(config)];
        out.push(Detection {
            kind: DetectionKind::CrossOrgCampaign,
            org,
            campaign_key: clue.campaign_key(),
            severity: Severity::High,
            first_seen: first,
            last_seen: last,
            accounts: accounts.into_iter().cloned().collect(),
            sources: sources.into_iter().collect(),
            compromised: Vec::new(),
            evidence,
            reasons,
        });
    }
}

/// The thresholds a campaign reached, in words.
fn thresholds<K: Clue>(config: &CampaignConfig) -> String {
    let networks = K::min_networks(config);
    let networks = if networks > 1 {
        format!(" from {networks} networks")
    } else {
        String::new()
    };
    format!(
        "Across all organisations it reached the thresholds of {} organisations and {} \
         accounts (each tried at most {} times){networks} within {:#}, with at least {:.0} % \
         of its sign-ins failing.",
        config.min_organisations,
        config.min_accounts,
        config.max_attempts_per_account,
        config.window,
        config.min_failure_ratio * 100.0,
    )
}

/// "organisation", "organisations".
fn organisations(n: usize) -> &'static str {
    if n == 1 {
        "organisation"
    } else {
        "organisations"
    }
}

/// "1 address", "3 addresses".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
