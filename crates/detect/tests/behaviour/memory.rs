use std::net::{IpAddr, Ipv6Addr};

use model::{EventId, FailureKind, Observation, OrgId};

use crate::*;

#[test]
fn a_spray_from_a_million_addresses_keeps_keys_under_the_cap() {
    let cap = 1000;
    let mut d = Detectors::new(DetectConfig {
        max_tracked_keys: cap,
        distributed_spray: detect::DistributedSprayConfig {
            max_sources: cap,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut distributed = 0;
    let start = ts("2024-11-25T10:00:00Z");
    let template = sign_in(start, "x@x.example", None, Some(FailureKind::BadPassword));
    let mut detections = 0;
    for i in 0..1_000_000u32 {
        let mut s = template.clone();
        // Lazily made: one failure per address, a thousand a second.
        s.time = start + SignedDuration::from_millis(i64::from(i));
        s.account = format!("user{}@x.example", i % 100_000);
        // Every address in a /64 of its own: spray state is kept per network.
        let segments = [0x2001, 0xdb8, (i >> 16) as u16, i as u16, 0, 0, 0, 1];
        s.source_ip = Some(IpAddr::V6(Ipv6Addr::from(segments)));
        // A million addresses each used once is a distributed spray, which is found;
        // the per-address detectors must stay silent.
        let out = d.observe(&Observation {
            id: EventId(i64::from(i)),
            org: OrgId(1),
            sign_in: s,
        });
        let (spread, other): (Vec<_>, Vec<_>) = out
            .iter()
            .partition(|d| d.kind == model::DetectionKind::DistributedSpray);
        detections += other.len();
        distributed += spread.iter().filter(|d| d.evidence.len() > 1).count();
        if i % 4096 == 0 {
            let stats = d.stats();
            assert!(stats.password_spray.tracked_keys <= cap, "{stats:?}");
            assert!(stats.brute_force.tracked_keys <= cap, "{stats:?}");
            assert!(stats.distributed_spray.tracked_keys <= cap, "{stats:?}");
        }
    }
    let stats = d.stats();
    assert_eq!(detections, 0);
    assert_eq!(stats.observed, 1_000_000);
    assert!(stats.password_spray.tracked_keys <= cap);
    assert!(stats.brute_force.tracked_keys <= cap);
    // Every key beyond the cap was made room for by an eviction.
    assert!(
        stats.password_spray.evicted_keys >= 1_000_000 - cap as u64,
        "{stats:?}"
    );
    assert!(
        stats.brute_force.evicted_keys >= 100_000 - cap as u64,
        "{stats:?}"
    );
    assert!(stats.distributed_spray.tracked_keys <= cap, "{stats:?}");
    assert!(
        stats.distributed_spray.evicted_keys >= 1_000_000 - cap as u64,
        "{stats:?}"
    );
    assert_eq!(distributed, 1, "one crossing, then extensions");
}

#[test]
fn a_real_spray_is_still_found_under_eviction_pressure() {
    // The spraying address shows up once every 100 events: more recently than the
    // least recently seen tenth of a thousand keys, so it is never the one evicted.
    let cap = 1000;
    let mut d = Detectors::new(DetectConfig {
        max_tracked_keys: cap,
        ..Default::default()
    });
    let start = ts("2024-11-25T10:00:00Z");
    let mut found = Vec::new();
    for i in 0..20_000u32 {
        let time = start + SignedDuration::from_millis(i64::from(i) * 10);
        let (source, account) = if i % 100 == 0 {
            (ip("203.0.113.66"), format!("victim{}", i / 100))
        } else {
            (
                IpAddr::V6(Ipv6Addr::from([0x2001, 0xdb8, 1, i as u16, 0, 0, 0, 1])),
                format!("noise{i}"),
            )
        };
        let s = sign_in(time, &account, Some(source), Some(FailureKind::BadPassword));
        found.extend(d.observe(&Observation {
            id: EventId(i64::from(i)),
            org: OrgId(1),
            sign_in: s,
        }));
    }
    assert!(
        found
            .iter()
            .any(|d| d.campaign_key == "password_spray:203.0.113.0/24")
    );
}

#[test]
fn idle_keys_expire_once_the_watermark_passes_their_window() {
    let mut d = detectors();
    let start = ts("2024-11-25T10:00:00Z");
    let events: Vec<_> = (0..50)
        .map(|i| {
            sign_in(
                start + secs(i),
                &format!("u{i}"),
                // One network each: spray state is kept per /24.
                Some(ip(&format!("192.0.{i}.1"))),
                Some(FailureKind::BadPassword),
            )
        })
        .collect();
    run(&mut d, OrgId(1), 0, &events);
    assert_eq!(d.stats().brute_force.tracked_keys, 50);
    assert_eq!(d.stats().password_spray.tracked_keys, 50);
    let later = sign_in(
        start + SignedDuration::from_hours(3),
        "late",
        Some(ip("198.51.100.200")),
        None,
    );
    run(&mut d, OrgId(1), 100, &[later]);
    let stats = d.stats();
    assert_eq!(
        stats.brute_force.tracked_keys, 0,
        "a success opens no brute-force key"
    );
    assert_eq!(stats.brute_force.expired_keys, 50);
    assert_eq!(stats.password_spray.tracked_keys, 1);
    assert_eq!(stats.password_spray.expired_keys, 50);
    assert_eq!(d.watermark(), Some(start + SignedDuration::from_hours(3)));
}

#[test]
fn one_address_failing_without_end_retains_a_bounded_window() {
    let mut d = detectors();
    let start = ts("2024-11-25T10:00:00Z");
    let template = sign_in(
        start,
        "a",
        Some(ip("198.51.100.7")),
        Some(FailureKind::BadPassword),
    );
    for i in 0..12_000 {
        let mut s = template.clone();
        s.time = start + SignedDuration::from_millis(i * 100);
        d.observe(&Observation {
            id: EventId(i),
            org: OrgId(1),
            sign_in: s,
        });
    }
    assert_eq!(d.stats().password_spray.dropped_evidence, 2_000);
}
