//! Attacks spread thin: a low-and-slow spray from many addresses against one
//! organisation, one network's campaign across several organisations, and an attack
//! tool's campaign across organisations from rotating addresses, tied together only by
//! its user agent.
//!
//! Owns the shape of these attacks only, like [`crate::attack`]; whether they are
//! detected is the detector's business. Every address is a documentation address
//! (RFC 5737, RFC 3849).

use std::net::{IpAddr, Ipv6Addr};

use fastrand::Rng;
use jiff::{SignedDuration, Timestamp};
use model::{FailureKind, Format, Protocol, SignIn};

use crate::event::{Spec, SshMethod};

/// Parameters of [`distributed_spray`].
#[derive(Clone, Debug)]
pub struct DistributedSpray {
    /// Seeds the times, the number of attempts per address and the record ids.
    pub seed: u64,
    /// The sprayed accounts, taken in turn: attempt `k` of the whole spray is against
    /// `accounts[k % accounts.len()]`.
    pub accounts: Vec<String>,
    /// How many distinct addresses the spray comes from.
    pub sources: usize,
    /// Each address makes between 1 and this many attempts (against different accounts).
    pub max_attempts_per_source: u32,
    /// Time of the earliest attempt possible.
    pub start: Timestamp,
    /// Attempts are spread uniformly over `start .. start + duration`.
    pub duration: SignedDuration,
    pub protocol: Protocol,
    pub format: Format,
}

impl DistributedSpray {
    /// A spray over IMAP, as an Entra log shows it, from `sources` addresses each used
    /// once or twice.
    pub fn new(
        seed: u64,
        accounts: &[String],
        sources: usize,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Self {
        DistributedSpray {
            seed,
            accounts: accounts.to_vec(),
            sources,
            max_attempts_per_source: 2,
            start,
            duration,
            protocol: Protocol::Imap,
            format: Format::EntraGraph,
        }
    }
}

/// The `i`-th address of a distributed spray, in 2001:db8::/32: the /64 is `i` (so every
/// address is distinct and in a network of its own), the interface bits come from `rng`.
pub fn spray_address(i: usize, rng: &mut Rng) -> IpAddr {
    // Each address in a /64 of its own, as a botnet's are in networks of their own: the
    // documentation ranges hold only three IPv4 /24s, and addresses sharing a /24 are
    // one source to the per-network spray detector.
    let i = i as u64;
    IpAddr::V6(Ipv6Addr::new(
        0x2001,
        0xdb8,
        (i >> 16) as u16,
        i as u16,
        rng.u16(..),
        rng.u16(..),
        rng.u16(..),
        rng.u16(1..),
    ))
}

/// A low-and-slow spray: `sources` addresses, each making 1 to `max_attempts_per_source`
/// failed attempts at random times within the period, the accounts taken in turn. In time
/// order and numbered as by [`crate::sort_and_number`].
pub fn distributed_spray(p: &DistributedSpray) -> Vec<SignIn> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out = Vec::new();
    if p.accounts.is_empty() {
        return out;
    }
    let span = p.duration.as_millis().max(1) as i64;
    let mut k = 0;
    for i in 0..p.sources {
        let ip = spray_address(i, &mut rng);
        let attempts = rng.u32(1..=p.max_attempts_per_source.max(1));
        for _ in 0..attempts {
            let time = p.start + SignedDuration::from_millis(rng.i64(0..span));
            let spec = Spec {
                time,
                account: &p.accounts[k % p.accounts.len()],
                ip: Some(ip),
                kind: Some(FailureKind::BadPassword),
                protocol: p.protocol,
                format: p.format,
                country: None,
                ssh_method: SshMethod::Password,
                user_agent: None,
            };
            out.push(spec.build(&mut rng));
            k += 1;
        }
    }
    crate::sort_and_number(&mut out);
    out
}

/// Parameters of [`cross_org_campaign`].
#[derive(Clone, Debug)]
pub struct CrossOrgCampaign {
    /// Seeds the addresses within the network and the record ids.
    pub seed: u64,
    /// The first three octets of the /24 every attempt comes from.
    pub network: [u8; 3],
    /// The targeted accounts of each organisation, in the caller's order of
    /// organisations.
    pub orgs: Vec<Vec<String>>,
    /// Time of the first attempt.
    pub start: Timestamp,
    /// Time between consecutive attempts, whichever organisation they target.
    pub spacing: SignedDuration,
    pub protocol: Protocol,
    pub format: Format,
}

impl CrossOrgCampaign {
    /// A campaign over IMAP, as Entra logs show it, from 203.0.113.0/24.
    pub fn new(orgs: Vec<Vec<String>>, start: Timestamp, spacing: SignedDuration) -> Self {
        CrossOrgCampaign {
            seed: 5,
            network: [203, 0, 113],
            orgs,
            start,
            spacing,
            protocol: Protocol::Imap,
            format: Format::EntraGraph,
        }
    }
}

/// One network's campaign: a single failed attempt against each account, the
/// organisations taken in turn (first account of each, then the second, ...), each
/// attempt from an address of the /24 drawn at random, `spacing` apart. Returns each
/// sign-in with the index of its organisation, in time order; each organisation's
/// sign-ins alone are what [`crate::sort_and_number`] would give.
pub fn cross_org_campaign(p: &CrossOrgCampaign) -> Vec<(usize, SignIn)> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out: Vec<(usize, SignIn)> = Vec::new();
    let rounds = p.orgs.iter().map(Vec::len).max().unwrap_or(0);
    let mut time = p.start;
    for round in 0..rounds {
        for (org, accounts) in p.orgs.iter().enumerate() {
            let Some(account) = accounts.get(round) else {
                continue;
            };
            let [a, b, c] = p.network;
            let spec = Spec {
                time,
                account,
                ip: Some(IpAddr::from([a, b, c, rng.u8(1..=254)])),
                kind: Some(FailureKind::BadPassword),
                protocol: p.protocol,
                format: p.format,
                country: None,
                ssh_method: SshMethod::Password,
                user_agent: None,
            };
            out.push((org, spec.build(&mut rng)));
            time += p.spacing;
        }
    }
    number_per_org(&mut out, p.orgs.len());
    out
}

/// Numbers each organisation's sign-ins from 0, as [`crate::sort_and_number`] would
/// number that organisation's alone.
fn number_per_org(events: &mut [(usize, SignIn)], orgs: usize) {
    let mut counts = vec![0u64; orgs];
    for (org, s) in events {
        s.origin = model::Origin::FileRecord {
            file: crate::ORIGIN_FILE.into(),
            record: counts[*org],
        };
        counts[*org] += 1;
    }
}

/// Parameters of [`rotating_campaign`].
#[derive(Clone, Debug)]
pub struct RotatingCampaign {
    /// Seeds the jitter, the interface bits of the addresses and the record ids.
    pub seed: u64,
    /// The user agent every attempt sends: the attack tool's own.
    pub user_agent: String,
    /// The targeted accounts of each organisation, in the caller's order of
    /// organisations.
    pub orgs: Vec<Vec<String>>,
    /// Failed attempts against each account (a spray's one or two).
    pub attempts_per_account: u32,
    /// Time of the first attempt.
    pub start: Timestamp,
    /// Time between consecutive attempts, whichever organisation they target, plus a
    /// random jitter of up to half of it.
    pub spacing: SignedDuration,
    /// Attempt `k` of the campaign comes from [`spray_address`]`(first_source + k)`: an
    /// address of its own in a /64 of its own, so that no network repeats.
    pub first_source: usize,
    pub protocol: Protocol,
    pub format: Format,
}

impl RotatingCampaign {
    /// One attempt per account over IMAP with `user_agent`, as Entra sign-ins (which
    /// carry it in the Log Analytics export; [`crate::render_graph`]'s Graph v1.0 shape
    /// has no field for it), each attempt from a /64 of its own in 2001:db8:c0::/48.
    pub fn new(
        user_agent: &str,
        orgs: Vec<Vec<String>>,
        start: Timestamp,
        spacing: SignedDuration,
    ) -> Self {
        RotatingCampaign {
            seed: 6,
            user_agent: user_agent.to_owned(),
            orgs,
            attempts_per_account: 1,
            start,
            spacing,
            first_source: 0x00c0_0000,
            protocol: Protocol::Imap,
            format: Format::EntraGraph,
        }
    }

    /// The ground truth: the organisations (indexes into `orgs`) the campaign attacks.
    pub fn victims(&self) -> Vec<usize> {
        let attacked = self.attempts_per_account > 0;
        (0..self.orgs.len())
            .filter(|o| attacked && !self.orgs[*o].is_empty())
            .collect()
    }
}

/// An attack tool's campaign across organisations: round after round
/// (`attempts_per_account` of them), the organisations taken in turn (first account of
/// each, then the second, ...), every attempt a failure with the same user agent from an
/// address used for nothing else. Returns each sign-in with the index of its
/// organisation, in time order; each organisation's sign-ins alone are what
/// [`crate::sort_and_number`] would give.
pub fn rotating_campaign(p: &RotatingCampaign) -> Vec<(usize, SignIn)> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out: Vec<(usize, SignIn)> = Vec::new();
    let accounts = p.orgs.iter().map(Vec::len).max().unwrap_or(0);
    let jitter = (p.spacing.as_millis() / 2).max(1) as i64;
    let mut time = p.start;
    let mut k = 0;
    for _round in 0..p.attempts_per_account {
        for slot in 0..accounts {
            for (org, targets) in p.orgs.iter().enumerate() {
                let Some(account) = targets.get(slot) else {
                    continue;
                };
                let spec = Spec {
                    time,
                    account,
                    ip: Some(spray_address(p.first_source + k, &mut rng)),
                    kind: Some(FailureKind::BadPassword),
                    protocol: p.protocol,
                    format: p.format,
                    country: None,
                    ssh_method: SshMethod::Password,
                    user_agent: Some(&p.user_agent),
                };
                out.push((org, spec.build(&mut rng)));
                k += 1;
                time += p.spacing + SignedDuration::from_millis(rng.i64(0..jitter));
            }
        }
    }
    number_per_org(&mut out, p.orgs.len());
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn distributed_spray_uses_each_address_at_most_twice_and_covers_every_account() {
        let accounts: Vec<String> = (0..40).map(|i| format!("u{i}@x.example")).collect();
        let p = DistributedSpray::new(
            7,
            &accounts,
            600,
            ts("2024-11-25T08:00:00Z"),
            SignedDuration::from_hours(12),
        );
        let events = distributed_spray(&p);
        assert_eq!(events, distributed_spray(&p));
        assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
        let mut per_ip = std::collections::BTreeMap::new();
        for e in &events {
            *per_ip.entry(e.source_ip.expect("ip")).or_insert(0) += 1;
        }
        assert_eq!(per_ip.len(), 600);
        assert!(per_ip.values().all(|n| (1..=2).contains(n)));
        let hit: BTreeSet<&str> = events.iter().map(|e| e.account.as_str()).collect();
        assert_eq!(hit.len(), 40);
        assert!(per_ip.keys().any(|ip| ip.is_ipv6()));
    }

    #[test]
    fn campaign_takes_organisations_in_turn_from_one_network() {
        let orgs: Vec<Vec<String>> = (0..3)
            .map(|o| (0..4).map(|i| format!("u{i}@org{o}.example")).collect())
            .collect();
        let p = CrossOrgCampaign::new(
            orgs,
            ts("2024-11-25T08:00:00Z"),
            SignedDuration::from_secs(60),
        );
        let events = cross_org_campaign(&p);
        assert_eq!(events.len(), 12);
        let order: Vec<usize> = events.iter().map(|(o, _)| *o).collect();
        assert_eq!(order[..6], [0, 1, 2, 0, 1, 2]);
        assert!(events.iter().all(|(o, s)| {
            s.account.ends_with(&format!("@org{o}.example"))
                && s.source_network().map(|n| n.to_string()) == Some("203.0.113.0/24".to_owned())
        }));
        assert_eq!(events, cross_org_campaign(&p));
    }

    #[test]
    fn rotating_campaign_shares_only_its_user_agent() {
        let orgs: Vec<Vec<String>> = (0..3)
            .map(|o| (0..5).map(|i| format!("u{i}@org{o}.example")).collect())
            .collect();
        let mut p = RotatingCampaign::new(
            "python-requests/2.25.1",
            orgs,
            ts("2024-11-25T08:00:00Z"),
            SignedDuration::from_secs(60),
        );
        p.attempts_per_account = 2;
        let events = rotating_campaign(&p);
        assert_eq!(events.len(), 30);
        assert_eq!(events, rotating_campaign(&p));
        assert_eq!(p.victims(), [0, 1, 2]);
        assert!(events.windows(2).all(|w| w[0].1.time < w[1].1.time));
        let networks: BTreeSet<String> = events
            .iter()
            .filter_map(|(_, s)| s.source_network().map(|n| n.to_string()))
            .collect();
        assert_eq!(networks.len(), 30, "no network repeats");
        assert!(events.iter().all(|(o, s)| {
            s.user_agent.as_deref() == Some("python-requests/2.25.1")
                && s.account.ends_with(&format!("@org{o}.example"))
                && s.is_failure()
        }));
        let records: Vec<u64> = events
            .iter()
            .filter(|(o, _)| *o == 2)
            .map(|(_, s)| match &s.origin {
                model::Origin::FileRecord { record, .. } => *record,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(records, (0..10).collect::<Vec<u64>>());
    }
}
