//! User-centric compromise: a sign-in that succeeds (or proves the password) for an
//! account under attack, from wherever it comes.
//!
//! The other detectors see a compromise only when the success comes from the attacking
//! address or network; attackers rotate addresses to avoid exactly that. This module
//! remembers which accounts were recently attacked and which networks each account
//! normally signs in from, and reports a success for an attacked account from a network
//! the account has not used. It owns only that memory: it decides nothing about what an
//! attack is (it learns that from the other detectors' output) and, like them, reads no
//! clock and does no I/O.

use jiff::{SignedDuration, Timestamp};
use model::{Detection, DetectionKind, Network, Observation, OrgId, Severity};

use crate::one_sign_in;
use crate::window::{Keyed, LastSeen, plus};
use crate::{Class, KeyStats, classify};

/// Networks remembered per attacked account (the attack's) and per account (its own).
const MAX_NETWORKS: usize = 16;
/// How long an account's usual networks are remembered without a sign-in from them.
const KNOWN_FOR: SignedDuration = SignedDuration::from_hours(24 * 30);

#[derive(Debug)]
struct Target {
    since: Timestamp,
    last_seen: Timestamp,
    kind: DetectionKind,
    campaign_key: String,
    /// Networks the attack came from.
    networks: Vec<Network>,
}

impl LastSeen for Target {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

#[derive(Debug)]
struct Known {
    last_seen: Timestamp,
    networks: Vec<Network>,
}

impl LastSeen for Known {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

#[derive(Debug)]
pub(crate) struct CompromiseWatch {
    window: SignedDuration,
    targeted: Keyed<(OrgId, String), Target>,
    /// Networks each account signs in from.
    known: Keyed<(OrgId, String), Known>,
    /// Networks several of an organisation's accounts sign in from: its offices and VPN.
    /// A success from one is the organisation's own, whoever the account.
    egress: Keyed<(OrgId, Network), Egress>,
}

#[derive(Debug)]
struct Egress {
    last_seen: Timestamp,
    /// Distinct accounts seen signing in from the network, up to [`EGRESS_ACCOUNTS`].
    accounts: Vec<String>,
}

impl LastSeen for Egress {
    fn last_seen(&self) -> Timestamp {
        self.last_seen
    }
}

/// Accounts that must have signed in from a network for it to count as the
/// organisation's own egress.
const EGRESS_ACCOUNTS: usize = 3;

impl CompromiseWatch {
    pub(crate) fn new(window: SignedDuration, max_tracked_keys: usize) -> Self {
        CompromiseWatch {
            window,
            targeted: Keyed::new(max_tracked_keys, window),
            known: Keyed::new(max_tracked_keys, KNOWN_FOR),
            egress: Keyed::new(max_tracked_keys, KNOWN_FOR),
        }
    }

    pub(crate) fn stats(&self) -> KeyStats {
        KeyStats {
            tracked_keys: self.targeted.len() + self.known.len() + self.egress.len(),
            evicted_keys: self.targeted.evicted() + self.known.evicted() + self.egress.evicted(),
            expired_keys: self.targeted.expired() + self.known.expired() + self.egress.expired(),
            dropped_evidence: 0,
        }
    }

    /// Checks one observation against the accounts under attack. `found` is what the
    /// other detectors made of the same observation: a compromise they already report is
    /// not reported twice.
    pub(crate) fn observe(&mut self, obs: &Observation, found: &[Detection]) -> Option<Detection> {
        let s = &obs.sign_in;
        self.targeted.advance(s.time);
        self.known.advance(s.time);
        self.egress.advance(s.time);
        if classify(s) != Class::ValidPassword {
            return None;
        }
        let network = s.source_network()?;
        let key = (obs.org, s.account.clone());
        let detection = match self.targeted.get_mut(&key) {
            Some(target)
                if s.time >= target.since
                    && s.time <= plus(target.last_seen, self.window)
                    && !found.iter().any(|d| d.compromised.contains(&s.account)) =>
            {
                let usual = self
                    .known
                    .get_mut(&key)
                    .is_some_and(|k| k.networks.contains(&network))
                    || self
                        .egress
                        .get_mut(&(obs.org, network))
                        .is_some_and(|e| e.accounts.len() >= EGRESS_ACCOUNTS);
                let from_attack = target.networks.contains(&network);
                (from_attack || !usual).then(|| report(obs, network, target, from_attack))
            }
            _ => None,
        };
        // An account's usual networks are learnt only from sign-ins that raised nothing,
        // so that the attacker's network never becomes "usual".
        if detection.is_none() && found.is_empty() {
            let known = self.known.entry(key, || Known {
                last_seen: s.time,
                networks: Vec::new(),
            });
            known.last_seen = known.last_seen.max(s.time);
            if !known.networks.contains(&network) {
                if known.networks.len() >= MAX_NETWORKS {
                    known.networks.remove(0);
                }
                known.networks.push(network);
            }
            let egress = self.egress.entry((obs.org, network), || Egress {
                last_seen: s.time,
                accounts: Vec::new(),
            });
            egress.last_seen = egress.last_seen.max(s.time);
            if egress.accounts.len() < EGRESS_ACCOUNTS && !egress.accounts.contains(&s.account) {
                egress.accounts.push(s.account.clone());
            }
        }
        detection
    }

    /// Remembers the accounts that detections of attacks name.
    pub(crate) fn note(&mut self, detections: &[Detection]) {
        for d in detections.iter().filter(|d| d.compromised.is_empty()) {
            for account in &d.accounts {
                let target = self.targeted.entry((d.org, account.clone()), || Target {
                    since: d.first_seen,
                    last_seen: d.last_seen,
                    kind: d.kind,
                    campaign_key: d.campaign_key.clone(),
                    networks: Vec::new(),
                });
                target.since = target.since.min(d.first_seen);
                target.last_seen = target.last_seen.max(d.last_seen);
                for network in d.sources.iter().map(|ip| Network::of(*ip)) {
                    if target.networks.len() < MAX_NETWORKS && !target.networks.contains(&network) {
                        target.networks.push(network);
                    }
                }
            }
        }
    }
}

fn report(obs: &Observation, network: Network, target: &Target, from_attack: bool) -> Detection {
    let s = &obs.sign_in;
    let ip = s
        .source_ip
        .map_or_else(|| network.to_string(), |ip| ip.to_string());
    let after = s
        .time
        .duration_since(target.last_seen)
        .max(SignedDuration::ZERO);
    let attack = target.kind.as_str().replace('_', " ");
    let what = match s.failure_kind {
        None => "signed in successfully".to_owned(),
        Some(kind) => format!(
            "had its password accepted (the sign-in then stopped at {})",
            kind.as_str()
        ),
    };
    let reason = if from_attack {
        format!(
            "{} {what} from {ip}, in a network the {attack} came from, {after:#} after the attack.",
            s.account
        )
    } else {
        format!(
            "{} {what} from {ip}, a network this account has not signed in from before, {after:#} \
             after a {attack} targeted it. Attackers rotate addresses; confirm with the person, \
             and if it was not them treat the account as compromised.",
            s.account
        )
    };
    Detection {
        compromised: vec![s.account.clone()],
        ..one_sign_in(
            obs,
            target.kind,
            target.campaign_key.clone(),
            Severity::Critical,
            vec![reason],
        )
    }
}
