use model::{DetectionKind, EventId, FailureKind, OrgId, Severity};

use crate::*;

fn accounts(org: usize, n: usize) -> Vec<String> {
    scenario::staff_accounts(org as u64, n, Some(&format!("org{org}.example")))
}

fn spray(org: usize, n: usize, attempts: u32, success: bool) -> Vec<model::SignIn> {
    let targets = accounts(org, n);
    let mut p = scenario::PasswordSpray::new(
        ip("203.0.113.66"),
        &targets,
        attempts,
        ts("2024-11-25T10:00:00Z"),
        secs(20),
    );
    if success {
        p.success = Some(targets[3].clone());
    }
    scenario::password_spray(&p)
}

#[test]
fn a_spray_yields_one_detection_per_org_with_exactly_the_sprayed_accounts() {
    let mut d = detectors();
    let mut events = Vec::new();
    for org in 0..3 {
        for (i, s) in spray(org, 15, 2, false).into_iter().enumerate() {
            events.push((
                OrgId(org as i64 + 1),
                EventId(org as i64 * 1000 + i as i64),
                s,
            ));
        }
    }
    let out = run_merged(&mut d, &events);
    let all = attacks(&out);
    assert_eq!(all.len(), 3, "{all:#?}");
    for org in 0..3 {
        let key = (
            OrgId(org as i64 + 1),
            DetectionKind::PasswordSpray.as_str(),
            "password_spray:203.0.113.0/24".to_owned(),
        );
        let a = &all[&key];
        let expected: BTreeSet<String> = accounts(org, 15).into_iter().collect();
        assert_eq!(a.accounts, expected);
        assert_eq!(a.sources, BTreeSet::from([ip("203.0.113.66")]));
        assert_eq!(a.severity, Some(Severity::Medium));
        assert!(a.compromised.is_empty());
        // Crossing at the tenth account, then one detection per further failure.
        assert_eq!(a.detections, 1 + 5 + 15);
        let base = org as i64 * 1000;
        assert_eq!(a.evidence, ids(base..base + 30));
    }
    let crossings: Vec<_> = out.iter().filter(|d| d.evidence.len() > 1).collect();
    assert_eq!(crossings.len(), 3);
    for c in crossings {
        assert_eq!(c.evidence.len(), 10);
        assert_eq!(c.accounts.len(), 10);
        assert_eq!(
            c.reasons,
            [
                "203.0.113.66 failed to sign in to 10 accounts with at most 6 attempts each within \
              3m, reaching the threshold of 10 accounts within 1h; 10 of its 10 sign-ins failed."
            ]
        );
    }
}

#[test]
fn a_success_from_the_spraying_address_is_a_compromise() {
    let mut d = detectors();
    let events = spray(0, 12, 1, true);
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 1 + 2 + 1);
    let last = &out[3];
    assert_eq!(last.kind, DetectionKind::PasswordSpray);
    assert_eq!(last.severity, Severity::Critical);
    assert_eq!(last.compromised, [accounts(0, 12)[3].clone()]);
    assert_eq!(last.evidence, [EventId(12)]);
}

#[test]
fn a_success_in_the_window_before_the_crossing_is_reported_at_the_crossing() {
    let mut d = detectors();
    let mut events = spray(0, 10, 1, false);
    let mut success = events[0].clone();
    success.outcome = model::Outcome::Success;
    success.failure_kind = None;
    success.time = events[0].time - secs(60);
    events.insert(0, success);
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].evidence.len(), 10);
    assert_eq!(out[1].severity, Severity::Critical);
    assert_eq!(out[1].evidence, [EventId(0)]);
}

#[test]
fn the_failure_ratio_is_a_threshold_inclusive_at_its_boundary() {
    // 10 failures and 2 successes: 83 % failed; with 3 successes: 77 %.
    for (successes, alerts) in [(2, true), (3, false)] {
        let mut d = detectors();
        let start = ts("2024-11-25T10:00:00Z");
        let mut events = Vec::new();
        for i in 0..successes {
            events.push(sign_in(
                start + secs(i),
                &format!("ok{i}@x.example"),
                Some(ip("203.0.113.9")),
                None,
            ));
        }
        for i in 0..10 {
            events.push(sign_in(
                start + secs(10 + i),
                &format!("u{i}@x.example"),
                Some(ip("203.0.113.9")),
                Some(FailureKind::BadPassword),
            ));
        }
        let out = run(&mut d, OrgId(1), 0, &events);
        if alerts {
            // The spray, then the valid passwords the address had in its window.
            assert_eq!(out.len(), 1 + successes as usize, "{out:#?}");
            assert!(out[1..].iter().all(|d| d.severity == Severity::Critical));
            assert_eq!(out[1].compromised, ["ok0@x.example"]);
        } else {
            assert!(out.is_empty(), "{successes} successes: {out:#?}");
        }
    }
    let mut d = Detectors::new(DetectConfig {
        password_spray: detect::PasswordSprayConfig {
            min_failure_ratio: 1.0,
            ..Default::default()
        },
        ..Default::default()
    });
    let out = run(&mut d, OrgId(1), 0, &spray(0, 10, 1, false));
    assert_eq!(
        out.len(),
        1,
        "a ratio of exactly 1 is reached by a spray without successes"
    );
}

#[test]
fn accounts_with_more_than_max_attempts_do_not_count() {
    let mut d = detectors();
    // Ten accounts, seven attempts each (the limit is six), one account after the
    // other: whenever a new account gets its first failure, every earlier one is
    // already over the limit.
    let start = ts("2024-11-25T10:00:00Z");
    let mut events = Vec::new();
    for a in 0..10 {
        for k in 0..7 {
            events.push(sign_in(
                start + secs(a * 80 + k * 10),
                &format!("u{a}@x.example"),
                Some(ip("203.0.113.9")),
                Some(FailureKind::BadPassword),
            ));
        }
    }
    let out = run(&mut d, OrgId(1), 0, &events);
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn nine_accounts_are_not_a_spray_and_ten_are() {
    for (n, alerts) in [(9, 0), (10, 1)] {
        let mut d = detectors();
        let out = run(&mut d, OrgId(1), 0, &spray(0, n, 1, false));
        assert_eq!(out.len(), alerts, "{n} accounts");
    }
}

#[test]
fn a_spray_of_five_times_the_threshold_is_high() {
    let mut d = detectors();
    let out = run(&mut d, OrgId(1), 0, &spray(0, 60, 1, false));
    assert_eq!(out.len(), 1 + 50);
    assert_eq!(out[0].severity, Severity::Medium);
    // The fiftieth account is the 40th extension.
    assert_eq!(out[39].severity, Severity::Medium);
    assert_eq!(out[40].severity, Severity::High);
    assert_eq!(out[40].reasons.len(), 2);
    assert!(out[41..].iter().all(|d| d.severity == Severity::High));
}

#[test]
fn a_spray_spread_over_more_than_the_window_is_not_detected() {
    let mut d = detectors();
    let targets = accounts(0, 20);
    // One attempt every 7 minutes: never more than 9 accounts in an hour.
    let p = scenario::PasswordSpray::new(
        ip("203.0.113.66"),
        &targets,
        1,
        ts("2024-11-25T10:00:00Z"),
        secs(420),
    );
    let out = run(&mut d, OrgId(1), 0, &scenario::password_spray(&p));
    assert!(out.is_empty(), "{out:#?}");
}
