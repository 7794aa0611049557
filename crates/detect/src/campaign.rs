//! The cross-organisation campaign detector: one source network (the /24 of an IPv4
//! address, the /64 of an IPv6 one) failing against accounts of several organisations
//! protected by the same service — the view no single organisation has.
//!
//! Owns, per network, the window of failures kept apart per organisation, the
//! valid-password events that make a shared network benign, and the campaign with the
//! organisations already told. It is the only detector whose state spans organisations,
//! so it carries the tenancy rule itself: a detection for one organisation holds only
//! that organisation's accounts, addresses and evidence, and says how many others were
//! hit without naming them. Event time only: no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use model::{Detection, DetectionKind, EventId, Network, Observation, OrgId, Severity};

use crate::config::{CampaignConfig, MAX_RETAINED_EVENTS};
use crate::one_sign_in;
use crate::window::{AccountTally, Keyed, LastSeen, TimeWindow, minus, plus};
use crate::{Class, KeyStats, campaign_key, classify};

#[derive(Debug)]
struct Failure {
    id: EventId,
    account: String,
    source: IpAddr,
}

/// One organisation's failures from the network within the window.
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
struct NetworkState {
    last_seen: Timestamp,
    slices: BTreeMap<OrgId, Slice>,
    /// Valid-password events from the network within the window, any organisation.
    valid: TimeWindow<()>,
    /// Failures in all slices.
    failures: usize,
    /// Sprayed accounts in all slices (an account name at two organisations is two
    /// accounts).
    sprayed: usize,
    campaign: Option<Campaign>,
    /// When the network is due in [`CampaignDetector::run_due`], if it is.
    scheduled: Option<Timestamp>,
}

impl LastSeen for NetworkState {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

impl NetworkState {
    fn new(time: Timestamp) -> Self {
        NetworkState {
            last_seen: time,
            slices: BTreeMap::new(),
            valid: TimeWindow::new(MAX_RETAINED_EVENTS),
            failures: 0,
            sprayed: 0,
            campaign: None,
            scheduled: None,
        }
    }

    fn prune(&mut self, cutoff: Timestamp, max: u32) {
        let (mut failures, mut sprayed) = (0, 0);
        for slice in self.slices.values_mut() {
            let mut gone = Vec::new();
            slice
                .failures
                .prune_before(cutoff, |f| gone.push(f.account));
            for account in gone {
                slice.accounts.uncount(&account, max);
            }
            failures += slice.failures.len();
            sprayed += slice.accounts.within() as usize;
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

/// Cross-organisation campaign detection over a stream of observations.
#[derive(Debug)]
pub(crate) struct CampaignDetector {
    config: CampaignConfig,
    keys: Keyed<Network, NetworkState>,
    /// Networks to look at closely once the watermark reaches the time, one entry each.
    due: BTreeSet<(Timestamp, Network)>,
    dropped_evidence: u64,
}

impl CampaignDetector {
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
        let (Some(ip), Some(network)) = (s.source_ip, s.source_network()) else {
            return;
        };
        if class == Class::Context {
            return;
        }
        let config = &self.config;
        let max = config.max_attempts_per_account;
        let state = self.keys.entry(network, || NetworkState::new(s.time));
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
        if let Some((_, old)) = slice.failures.insert(s.time, failure) {
            self.dropped_evidence += 1;
            slice.accounts.uncount(&old.account, max);
        }
        slice.accounts.count(&s.account, max);
        let sprayed = (1..=max).contains(&slice.accounts.of(&s.account));
        state.prune(minus(state.last_seen, config.window), max);

        if let Some(campaign) = &mut state.campaign
            && let Some(shown) = campaign.told.get_mut(&obs.org)
        {
            // A stale client in the same network is not the campaign going on.
            if sprayed {
                *shown += 1;
                let number = *shown;
                campaign.last = campaign.last.max(s.time);
                let others = campaign.told.len() - 1;
                out.push(extend(obs, ip, network, number, others));
            }
            return;
        }
        // The counts are cheap and include accounts that have not settled yet: only when
        // they reach the thresholds is the network looked at closely, once its newest
        // failure has settled.
        if state.scheduled.is_none() && plausible(config, state) {
            let due = plus(state.last_seen, config.settle);
            state.scheduled = Some(due);
            self.due.insert((due, network));
        }
    }

    /// Looks closely at every network whose time has come.
    fn run_due(&mut self, out: &mut Vec<Detection>) {
        let Some(watermark) = self.keys.watermark() else {
            return;
        };
        while let Some(&(due, network)) = self.due.first() {
            if due > watermark {
                break;
            }
            self.due.pop_first();
            let config = &self.config;
            // A network evicted or expired meanwhile has nothing left to report.
            let Some(state) = self.keys.get_mut(&network) else {
                continue;
            };
            state.scheduled = None;
            let crossed = evaluate(config, state, network, watermark, out);
            // Failures that came after this one was scheduled have not settled yet.
            if !crossed && state.campaign.is_none() && plausible(config, state) {
                let again = plus(state.last_seen, config.settle).max(plus(
                    watermark,
                    SignedDuration::from_secs(config.settle.as_secs() / 4 + 1),
                ));
                state.scheduled = Some(again);
                self.due.insert((again, network));
            }
        }
    }
}

/// Whether the network reaches the thresholds when every sprayed account is counted,
/// settled or not.
fn plausible(config: &CampaignConfig, state: &NetworkState) -> bool {
    let orgs = state
        .slices
        .values()
        .filter(|s| s.accounts.within() > 0)
        .count() as u64;
    orgs >= u64::from(config.min_organisations)
        && state.sprayed as u64 >= u64::from(config.min_accounts)
        && state.failure_ratio() >= config.min_failure_ratio
}

/// Counts only the settled sprayed accounts — first failed at least `settle` before
/// `now` and still at no more than `max_attempts_per_account` failures — and opens (or
/// widens) the campaign when they reach the thresholds. Returns whether it did.
fn evaluate(
    config: &CampaignConfig,
    state: &mut NetworkState,
    network: Network,
    now: Timestamp,
    out: &mut Vec<Detection>,
) -> bool {
    let cutoff = minus(now, config.settle);
    let max = config.max_attempts_per_account;
    let mut settled: BTreeMap<OrgId, BTreeSet<String>> = BTreeMap::new();
    for (org, slice) in &state.slices {
        let mut accounts = BTreeSet::new();
        for (t, f) in slice.failures.iter() {
            if *t > cutoff {
                break;
            }
            if (1..=max).contains(&slice.accounts.of(&f.account)) {
                accounts.insert(f.account.clone());
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
        || state.failure_ratio() < config.min_failure_ratio
    {
        return false;
    }
    cross(config, state, network, now, &settled, out);
    true
}

/// The thresholds are reached (or a further organisation joins a campaign): one detection
/// for each organisation hit and not told yet, with only its own settled accounts'
/// failures.
fn cross(
    config: &CampaignConfig,
    state: &mut NetworkState,
    network: Network,
    time: Timestamp,
    settled: &BTreeMap<OrgId, BTreeSet<String>>,
    out: &mut Vec<Detection>,
) {
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
        let max = config.max_attempts_per_account;
        let failures: Vec<(Timestamp, &Failure)> = slice
            .failures
            .iter()
            .filter(|(_, f)| (1..=max).contains(&slice.accounts.of(&f.account)))
            .map(|(t, f)| (*t, f))
            .collect();
        let accounts: BTreeSet<&String> = failures.iter().map(|(_, f)| &f.account).collect();
        let evidence: Vec<EventId> = failures.iter().map(|(_, f)| f.id).collect();
        let sources: BTreeSet<IpAddr> = failures.iter().map(|(_, f)| f.source).collect();
        let first = failures.first().map_or(time, |(t, _)| *t);
        let last = failures.last().map_or(time, |(t, _)| *t);
        campaign.last = campaign.last.max(last);
        let span = SignedDuration::from_secs(last.duration_since(first).as_secs());
        if let Some(shown) = campaign.told.get_mut(&org) {
            *shown = evidence.len() as u64;
        }
        let reasons = vec![
            format!(
                "{network} failed to sign in to {n} of your accounts ({f} attempts from {a} \
                 within {span:#}), and the same network also targeted {others} other {orgs} \
                 protected by this service in the same hours — a campaign across \
                 organisations.",
                n = accounts.len(),
                f = evidence.len(),
                a = plural(sources.len(), "address", "addresses"),
                orgs = if others == 1 {
                    "organisation"
                } else {
                    "organisations"
                },
            ),
            format!(
                "Across all organisations it reached the thresholds of {} organisations and {} \
                 accounts (each tried at most {} times) within {:#}, with at least {:.0} % of \
                 its sign-ins failing.",
                config.min_organisations,
                config.min_accounts,
                config.max_attempts_per_account,
                config.window,
                config.min_failure_ratio * 100.0,
            ),
        ];
        out.push(Detection {
            kind: DetectionKind::CrossOrgCampaign,
            org,
            campaign_key: campaign_key(network),
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

/// A further failure against an organisation already told: only this failure as
/// evidence.
fn extend(
    obs: &Observation,
    ip: IpAddr,
    network: Network,
    number: u64,
    others: usize,
) -> Detection {
    let s = &obs.sign_in;
    one_sign_in(
        obs,
        DetectionKind::CrossOrgCampaign,
        campaign_key(network),
        Severity::High,
        vec![format!(
            "Failed sign-in number {number} from {ip} against {}, in a campaign from \
             {network} that also targets {others} other {} protected by this service.",
            s.account,
            if others == 1 {
                "organisation"
            } else {
                "organisations"
            },
        )],
    )
}

/// "1 address", "3 addresses".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
