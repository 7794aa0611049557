use std::net::IpAddr;

use model::{EventId, Format, OrgId};

use crate::*;

/// A day of ordinary traffic for an organisation of `users` behind one NAT'd office, with
/// plenty of typos and stale clients.
fn day(seed: u64, org: u8, users: usize, format: Format) -> Vec<model::SignIn> {
    let domain = format!("org{org}.example");
    let accounts = scenario::staff_accounts(
        seed,
        users,
        (format == Format::EntraGraph).then_some(domain.as_str()),
    );
    let homes: Vec<IpAddr> = (0..10)
        .map(|h| IpAddr::from([192, 0, 2, 100 + org * 10 + h]))
        .collect();
    let mut p = scenario::Benign::new(
        seed,
        accounts,
        ts("2024-11-25T00:00:00Z"),
        SignedDuration::from_hours(48),
        IpAddr::from([192, 0, 2, org]),
        homes,
    );
    p.typo_rate = 0.08;
    p.stale_clients = 4;
    p.new_device_rate = 0.1;
    p.format = format;
    scenario::benign(&p)
}

#[test]
fn ordinary_traffic_yields_no_detection_at_all() {
    for seed in 0..5 {
        let mut d = detectors();
        let mut events = Vec::new();
        for (org, users, format) in [
            (1u8, 50, Format::EntraGraph),
            (2, 50, Format::EntraGraph),
            (3, 20, Format::Sshd),
        ] {
            for (i, s) in day(seed, org, users, format).into_iter().enumerate() {
                events.push((
                    OrgId(i64::from(org)),
                    EventId(i64::from(org) * 100_000 + i as i64),
                    s,
                ));
            }
        }
        assert!(events.len() > 500, "{}", events.len());
        let out = run_merged(&mut d, &events);
        assert!(out.is_empty(), "seed {seed}: {out:#?}");
    }
}

#[test]
fn a_nat_office_of_fifty_typing_users_is_not_a_spray() {
    // Everyone at the office, all at once, and one in four mistyping first.
    let accounts = scenario::staff_accounts(9, 50, Some("office.example"));
    let mut p = scenario::Benign::new(
        9,
        accounts,
        ts("2024-11-25T00:00:00Z"),
        SignedDuration::from_hours(24),
        IpAddr::from([192, 0, 2, 10]),
        Vec::new(),
    );
    p.typo_rate = 0.25;
    p.stale_clients = 0;
    let events = scenario::benign(&p);
    let failures = events.iter().filter(|s| s.is_failure()).count();
    assert!(failures > 30, "{failures}");
    let mut d = detectors();
    assert!(run(&mut d, OrgId(1), 0, &events).is_empty());
}
