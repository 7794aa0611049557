//! Issue 11 acceptance: three organisations' ordinary traffic over three days with every
//! kind of attack injected at several speeds. Every attack must be found (recall), under
//! the key the ground truth names, and nothing else may be (no false incidents, no false
//! compromise).

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::SignedDuration;
use model::{DetectionKind, EventId, Format, Network, OrgId, Protocol, SignIn};

use crate::*;

/// An attack the detectors must find: organisation, kind and campaign key.
type Truth = (OrgId, &'static str, String);

struct World {
    events: Vec<(OrgId, EventId, SignIn)>,
    truth: BTreeSet<Truth>,
    /// Accounts the attacker got into, by organisation.
    compromised: BTreeSet<(OrgId, String)>,
    next_id: i64,
}

impl World {
    fn add(&mut self, org: OrgId, sign_ins: Vec<SignIn>) {
        for s in sign_ins {
            self.events.push((org, EventId(self.next_id), s));
            self.next_id += 1;
        }
    }
}

fn users(org: usize, n: usize) -> Vec<String> {
    scenario::staff_accounts(100 + org as u64, n, Some(&format!("org{org}.example")))
}

fn world(seed: u64) -> World {
    let day0 = ts("2025-04-07T00:00:00Z");
    let day2 = day0 + SignedDuration::from_hours(48);
    let mut w = World {
        events: Vec::new(),
        truth: BTreeSet::new(),
        compromised: BTreeSet::new(),
        next_id: 0,
    };
    let sizes = [120, 60, 30];
    for (o, size) in sizes.iter().enumerate() {
        let org = OrgId(o as i64 + 1);
        let office: IpAddr = format!("192.0.2.{}", 10 + o).parse().expect("ip");
        let homes = (0..6)
            .map(|h| format!("192.0.2.{}", 100 + o * 20 + h).parse().expect("ip"))
            .collect();
        let mut benign = scenario::Benign::new(
            seed * 10 + o as u64,
            users(o, *size),
            day0,
            SignedDuration::from_hours(72),
            office,
            homes,
        );
        benign.typo_rate = 0.08;
        benign.stale_clients = 3;
        w.add(org, scenario::benign(&benign));
    }

    // Brute force against one account of org 1 at three speeds (2 s, 20 s, 55 s apart).
    for (k, spacing) in [2, 20, 55].into_iter().enumerate() {
        let account = &users(0, 120)[10 + k];
        let start = day2 + SignedDuration::from_hours(1 + 2 * k as i64);
        let mut p = scenario::BruteForce::new(
            account,
            ip(&format!("198.51.100.{}", 20 + k)),
            start,
            14,
            secs(spacing),
        );
        p.seed = seed + k as u64;
        w.add(OrgId(1), scenario::brute_force(&p));
        w.truth.insert((
            OrgId(1),
            DetectionKind::BruteForce.as_str(),
            detect::brute_force_key(account),
        ));
    }

    // Password sprays against org 2 at three speeds, each from a /64 of its own.
    for (k, spacing) in [5, 60, 180].into_iter().enumerate() {
        let source: IpAddr = format!("2001:db8:ffff:{k}::66").parse().expect("ip");
        let targets: Vec<String> = users(1, 60)[k * 15..k * 15 + 15].to_vec();
        let start = day2 + SignedDuration::from_hours(8 + 3 * k as i64);
        let mut p = scenario::PasswordSpray::new(source, &targets, 1, start, secs(spacing));
        p.seed = seed + 10 + k as u64;
        w.add(OrgId(2), scenario::password_spray(&p));
        w.truth.insert((
            OrgId(2),
            DetectionKind::PasswordSpray.as_str(),
            detect::password_spray_key(Network::of(source)),
        ));
        if k == 1 {
            // The slow spray found a password; the attacker uses it from another network
            // half an hour later, as rotating infrastructure does.
            let victim = &targets[7];
            let end = start + secs(spacing * 15);
            let used = sign_in(
                end + SignedDuration::from_mins(30),
                victim,
                Some(ip("2001:db8:dddd::9")),
                None,
            );
            w.add(OrgId(2), vec![used]);
            w.compromised.insert((OrgId(2), victim.clone()));
        }
    }

    // Credential stuffing against org 3: leaked names, most of which do not exist here.
    let stuffed: Vec<String> = (0..14)
        .map(|i| format!("leaked.user{i}@org2.example"))
        .collect();
    let source: IpAddr = "2001:db8:eeee::7".parse().expect("ip");
    let mut p = scenario::PasswordSpray::new(
        source,
        &stuffed,
        1,
        day2 + SignedDuration::from_hours(4),
        secs(15),
    );
    p.accounts = stuffed.iter().map(|a| (a.clone(), false)).collect();
    p.seed = seed + 20;
    w.add(OrgId(3), scenario::password_spray(&p));
    w.truth.insert((
        OrgId(3),
        DetectionKind::CredentialStuffing.as_str(),
        detect::password_spray_key(Network::of(source)),
    ));

    // A distributed, low-and-slow spray against org 1 over 10 hours.
    let mut p = scenario::DistributedSpray::new(
        seed + 30,
        &users(0, 120)[40..80],
        300,
        day2 + SignedDuration::from_hours(6),
        SignedDuration::from_hours(10),
    );
    p.format = Format::EntraGraph;
    p.protocol = Protocol::Imap;
    w.add(OrgId(1), scenario::distributed_spray(&p));
    w.truth.insert((
        OrgId(1),
        DetectionKind::DistributedSpray.as_str(),
        detect::distributed_spray_key(OrgId(1)),
    ));

    // A campaign across all three organisations, four accounts each, from 203.0.113.0/24.
    let targets: Vec<Vec<String>> = (0..3)
        .map(|o| {
            users(o, sizes[o])[100 % sizes[o]..]
                .iter()
                .take(4)
                .cloned()
                .collect()
        })
        .collect();
    let campaign =
        scenario::CrossOrgCampaign::new(targets, day2 + SignedDuration::from_hours(14), secs(90));
    for (o, s) in scenario::cross_org_campaign(&campaign) {
        w.add(OrgId(o as i64 + 1), vec![s]);
        let network = Network::of(s_source(&w));
        w.truth.insert((
            OrgId(o as i64 + 1),
            DetectionKind::CrossOrgCampaign.as_str(),
            detect::campaign_key(network),
        ));
    }
    // An attack tool across all three organisations from a new address each time, tied
    // together only by its user agent: five accounts each, two guesses per account.
    let targets: Vec<Vec<String>> = (0..3)
        .map(|o| users(o, sizes[o])[sizes[o] - 8..sizes[o] - 3].to_vec())
        .collect();
    let mut tool = scenario::RotatingCampaign::new(
        "BAV2ROPC",
        targets,
        day2 + SignedDuration::from_hours(15),
        secs(45),
    );
    tool.seed = seed + 40;
    tool.attempts_per_account = 2;
    for (o, s) in scenario::rotating_campaign(&tool) {
        w.add(OrgId(o as i64 + 1), vec![s]);
    }
    for o in tool.victims() {
        w.truth.insert((
            OrgId(o as i64 + 1),
            DetectionKind::CrossOrgCampaign.as_str(),
            detect::user_agent_campaign_key("BAV2ROPC").expect("a user agent"),
        ));
    }
    // Event time must move on for the campaigns to settle.
    let late = day2 + SignedDuration::from_hours(20);
    w.add(
        OrgId(1),
        vec![sign_in(
            late,
            "night.shift@org0.example",
            Some(ip("192.0.2.10")),
            None,
        )],
    );
    w
}

/// The source of the sign-in added last.
fn s_source(w: &World) -> IpAddr {
    w.events
        .last()
        .and_then(|(_, _, s)| s.source_ip)
        .expect("a source")
}

#[test]
fn every_attack_at_every_speed_is_found_and_nothing_else() {
    for seed in [1, 2, 3] {
        let w = world(seed);
        let mut d = detectors();
        let out = run_merged(&mut d, &w.events);
        let found: BTreeSet<Truth> = out
            .iter()
            .map(|d| (d.org, d.kind.as_str(), d.campaign_key.clone()))
            .collect();
        let missed: Vec<&Truth> = w.truth.difference(&found).collect();
        let false_alarms: Vec<&Truth> = found.difference(&w.truth).collect();
        let compromised: BTreeSet<(OrgId, String)> = out
            .iter()
            .flat_map(|d| d.compromised.iter().map(|a| (d.org, a.clone())))
            .collect();
        let false_compromise: Vec<&(OrgId, String)> =
            compromised.difference(&w.compromised).collect();
        let missed_compromise: Vec<&(OrgId, String)> =
            w.compromised.difference(&compromised).collect();
        println!(
            "seed {seed}: {} events, {} attacks, found {}, missed {}, false incidents {}, false compromises {}",
            w.events.len(),
            w.truth.len(),
            w.truth.len() - missed.len(),
            missed.len(),
            false_alarms.len(),
            false_compromise.len()
        );
        assert!(missed.is_empty(), "seed {seed}: missed {missed:#?}");
        assert!(
            false_alarms.is_empty(),
            "seed {seed}: false incidents {false_alarms:#?}"
        );
        assert!(
            missed_compromise.is_empty(),
            "seed {seed}: missed compromise {missed_compromise:?}"
        );
        assert!(
            false_compromise.is_empty(),
            "seed {seed}: false compromise {false_compromise:#?}"
        );
    }
}

#[test]
fn the_same_traffic_without_attacks_raises_nothing() {
    for seed in [4, 5, 6] {
        let mut w = world(seed);
        // Keep only the ordinary traffic: documentation networks used by attacks out.
        w.events.retain(|(_, _, s)| {
            s.source_ip
                .is_some_and(|ip| matches!(ip, IpAddr::V4(v4) if v4.octets()[..3] == [192, 0, 2]))
        });
        let mut d = detectors();
        let out = run_merged(&mut d, &w.events);
        assert!(w.events.len() > 2_000, "three days of three organisations");
        assert!(out.is_empty(), "seed {seed}: {out:#?}");
    }
}
