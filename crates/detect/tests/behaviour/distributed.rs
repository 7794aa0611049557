use std::net::IpAddr;

use detect::DistributedSprayConfig;
use model::{DetectionKind, EventId, FailureKind, Format, OrgId, Severity};

use crate::*;

fn accounts(n: usize) -> Vec<String> {
    scenario::staff_accounts(11, n, Some("hospital.example"))
}

fn distributed(d: &[Detection]) -> Vec<&Detection> {
    d.iter()
        .filter(|d| d.kind == DetectionKind::DistributedSpray)
        .collect()
}

#[test]
fn a_spray_from_300_addresses_over_12_hours_is_one_distributed_spray() {
    let targets = accounts(40);
    let p = scenario::DistributedSpray::new(
        3,
        &targets,
        300,
        ts("2024-11-25T06:00:00Z"),
        SignedDuration::from_hours(12),
    );
    let events = scenario::distributed_spray(&p);
    let mut d = detectors();
    let out = run(&mut d, OrgId(1), 0, &events);
    assert!(
        out.iter()
            .all(|d| d.kind == DetectionKind::DistributedSpray),
        "no other detector sees it: {:?}",
        out.iter().map(|d| d.kind).collect::<Vec<_>>()
    );
    let all = attacks(&out);
    assert_eq!(all.len(), 1);
    let a = &all[&(
        OrgId(1),
        "distributed_spray",
        "distributed_spray:1".to_owned(),
    )];
    assert_eq!(a.severity, Some(Severity::High));
    let expected: BTreeSet<String> = targets.iter().cloned().collect();
    assert_eq!(a.accounts, expected);
    let sources: BTreeSet<IpAddr> = events.iter().filter_map(|s| s.source_ip).collect();
    assert_eq!(sources.len(), 300);
    assert_eq!(a.sources, sources);
    assert_eq!(
        a.evidence,
        ids(0..events.len() as i64),
        "every failure, once"
    );
    // One crossing, then one extension per further failure.
    let crossing = &out[0];
    assert_eq!(a.detections, 1 + events.len() - crossing.evidence.len());
    assert!(crossing.evidence.len() >= 20, "{}", crossing.evidence.len());
    assert!(crossing.accounts.len() >= 20);
    assert!(crossing.sources.len() >= 10);
    assert!(
        crossing.reasons[0].contains("each address used at most twice and never successfully"),
        "{:?}",
        crossing.reasons
    );
    assert!(out[1..].iter().all(|d| d.evidence.len() == 1));
}

#[test]
fn the_crossing_says_how_many_accounts_and_addresses() {
    // Twenty addresses in networks of their own, one failure each against its own
    // account, a minute apart.
    let start = ts("2024-11-25T06:00:00Z");
    let targets = accounts(20);
    let events: Vec<_> = (0..20)
        .map(|i| {
            sign_in(
                start + secs(60 * i),
                &targets[i as usize],
                Some(ip(&format!("2001:db8:{}::1", i + 1))),
                Some(FailureKind::BadPassword),
            )
        })
        .collect();
    let mut d = detectors();
    let out = run(&mut d, OrgId(4), 0, &events);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].campaign_key, "distributed_spray:4");
    assert_eq!(out[0].evidence, ids(0..20));
    assert_eq!(
        out[0].reasons,
        [
            "20 accounts failed to sign in from 20 addresses over 19m, each address used at \
             most twice and never successfully — a distributed password spray.",
            "No address on its own looks like an attack; together they reach the thresholds \
             of 20 accounts and 10 addresses within 24h (20 failed sign-ins)."
        ]
    );
}

#[test]
fn nineteen_accounts_are_not_a_distributed_spray_and_twenty_are() {
    let start = ts("2024-11-25T06:00:00Z");
    let targets = accounts(20);
    for (n, found) in [(19usize, 0usize), (20, 1)] {
        let events: Vec<_> = (0..n)
            .map(|i| {
                sign_in(
                    start + secs(60 * i as i64),
                    &targets[i],
                    Some(ip(&format!("203.0.113.{}", i + 1))),
                    Some(FailureKind::BadPassword),
                )
            })
            .collect();
        let mut d = detectors();
        assert_eq!(distributed(&run(&mut d, OrgId(1), 0, &events)).len(), found);
    }
}

#[test]
fn nine_addresses_are_not_a_distributed_spray_and_ten_are() {
    let start = ts("2024-11-25T06:00:00Z");
    let targets = accounts(20);
    for (n, found) in [(9usize, 0usize), (10, 1)] {
        // Each address twice, against two accounts: 2n accounts, n addresses.
        let mut d = Detectors::new(DetectConfig {
            distributed_spray: DistributedSprayConfig {
                min_accounts: 5,
                ..Default::default()
            },
            ..Default::default()
        });
        let events: Vec<_> = (0..n)
            .map(|i| {
                sign_in(
                    start + secs(60 * i as i64),
                    &targets[i],
                    Some(ip(&format!("203.0.113.{}", i + 1))),
                    Some(FailureKind::BadPassword),
                )
            })
            .collect();
        assert_eq!(distributed(&run(&mut d, OrgId(1), 0, &events)).len(), found);
    }
}

#[test]
fn a_third_attempt_takes_an_address_out_of_the_count() {
    let start = ts("2024-11-25T06:00:00Z");
    let targets = accounts(20);
    // Ten addresses, two accounts each: twenty accounts. Address 1 first tries a third
    // time, so it no longer counts: nine addresses and eighteen accounts remain.
    let mut events = Vec::new();
    for third in [false, true] {
        events.clear();
        let mut t = start;
        for i in 0..10 {
            for k in 0..2 {
                t += secs(60);
                events.push(sign_in(
                    t,
                    &targets[2 * i + k],
                    Some(ip(&format!("203.0.113.{}", i + 1))),
                    Some(FailureKind::BadPassword),
                ));
            }
            if third && i == 0 {
                t += secs(60);
                events.push(sign_in(
                    t,
                    &targets[0],
                    Some(ip("203.0.113.1")),
                    Some(FailureKind::BadPassword),
                ));
            }
        }
        let mut d = detectors();
        let found = distributed(&run(&mut d, OrgId(1), 0, &events)).len();
        assert_eq!(found, usize::from(!third), "third attempt: {third}");
    }
}

#[test]
fn a_success_from_an_address_clears_its_failures() {
    // Typos: twenty users each mistype once from their own address, then sign in.
    let start = ts("2024-11-25T08:00:00Z");
    let targets = accounts(20);
    let mut events = Vec::new();
    for (i, account) in targets.iter().enumerate() {
        let source = Some(ip(&format!("192.0.2.{}", i + 1)));
        let t = start + secs(600 * i as i64);
        events.push(sign_in(t, account, source, Some(FailureKind::BadPassword)));
        events.push(sign_in(t + secs(15), account, source, None));
    }
    let mut d = detectors();
    assert!(run(&mut d, OrgId(1), 0, &events).is_empty());
}

/// Three days of ordinary traffic for `users`, with homes in a network of their own.
fn days(seed: u64, org: u8, users: usize, format: Format) -> Vec<model::SignIn> {
    let domain = format!("org{org}.example");
    let accounts = scenario::staff_accounts(
        seed + u64::from(org),
        users,
        (format == Format::EntraGraph).then_some(domain.as_str()),
    );
    let homes: Vec<IpAddr> = (0..40u16)
        .map(|h| {
            IpAddr::V6(std::net::Ipv6Addr::new(
                0x2001,
                0xdb8,
                u16::from(org),
                h,
                0,
                0,
                0,
                1,
            ))
        })
        .chain((0..20).map(|h| IpAddr::from([198, 51, 100, org * 20 + h])))
        .collect();
    let mut p = scenario::Benign::new(
        seed,
        accounts,
        ts("2024-11-25T00:00:00Z"),
        SignedDuration::from_hours(72),
        IpAddr::from([203, 0, 113, org]),
        homes,
    );
    p.typo_rate = 0.1;
    p.stale_clients = 6;
    p.new_device_rate = 0.1;
    p.format = format;
    scenario::benign(&p)
}

#[test]
fn three_days_of_ordinary_traffic_is_neither_a_distributed_spray_nor_a_campaign() {
    for seed in 0..5 {
        let mut d = detectors();
        let mut events = Vec::new();
        for (org, users, format) in [
            (1u8, 200, Format::EntraGraph),
            (2, 120, Format::EntraGraph),
            (3, 50, Format::Sshd),
        ] {
            for (i, s) in days(seed, org, users, format).into_iter().enumerate() {
                events.push((
                    OrgId(i64::from(org)),
                    EventId(i64::from(org) * 1_000_000 + i as i64),
                    s,
                ));
            }
        }
        assert!(events.len() > 2_000, "{}", events.len());
        let out = run_merged(&mut d, &events);
        let found: Vec<_> = out
            .iter()
            .filter(|d| {
                matches!(
                    d.kind,
                    DetectionKind::DistributedSpray | DetectionKind::CrossOrgCampaign
                )
            })
            .collect();
        assert!(found.is_empty(), "seed {seed}: {found:#?}");
    }
}
