use model::{DetectionKind, FailureKind, OrgId, Severity};

use crate::*;

fn attack(failures: u32, then_success: bool) -> Vec<model::SignIn> {
    let mut p = scenario::BruteForce::new(
        "aoife.byrne@stbrigids-hospital.example",
        ip("198.51.100.23"),
        ts("2024-11-25T13:00:00Z"),
        failures,
        secs(6),
    );
    p.then_success = then_success;
    scenario::brute_force(&p)
}

#[test]
fn a_brute_force_crosses_once_extends_then_turns_critical_on_success() {
    let mut d = detectors();
    let events = attack(40, true);
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 1 + 30 + 1, "{out:#?}");

    let cross = &out[0];
    assert_eq!(cross.kind, DetectionKind::BruteForce);
    assert_eq!(cross.org, OrgId(1));
    assert_eq!(
        cross.campaign_key,
        "brute_force:aoife.byrne@stbrigids-hospital.example"
    );
    assert_eq!(cross.severity, Severity::Medium);
    assert_eq!(cross.evidence, ids(0..10));
    assert_eq!(cross.accounts, ["aoife.byrne@stbrigids-hospital.example"]);
    assert_eq!(cross.sources, [ip("198.51.100.23")]);
    assert!(cross.compromised.is_empty());
    assert_eq!(cross.first_seen, ts("2024-11-25T13:00:00Z"));
    assert_eq!(cross.last_seen, ts("2024-11-25T13:00:54Z"));
    assert_eq!(
        cross.reasons,
        [
            "10 failed sign-ins against aoife.byrne@stbrigids-hospital.example within 54s from 1 \
          address, reaching the threshold of 10 within 10m."
        ]
    );

    for (i, ext) in out[1..31].iter().enumerate() {
        assert_eq!(ext.evidence, [model::EventId(10 + i as i64)]);
        assert_eq!(ext.severity, Severity::Medium);
        assert_eq!(ext.campaign_key, cross.campaign_key);
        assert_eq!(ext.first_seen, events[10 + i].time);
        assert_eq!(ext.sources, [ip("198.51.100.23")]);
    }

    let critical = &out[31];
    assert_eq!(critical.severity, Severity::Critical);
    assert_eq!(
        critical.compromised,
        ["aoife.byrne@stbrigids-hospital.example"]
    );
    assert_eq!(critical.evidence, [model::EventId(40)]);
    assert_eq!(
        critical.reasons,
        [
            "aoife.byrne@stbrigids-hospital.example signed in successfully from 198.51.100.23 \
          after 40 failed attempts."
        ]
    );
    // Every sign-in of the attack is evidence exactly once.
    let all = attacks(&out);
    assert_eq!(all.len(), 1);
    let a = all.values().next().expect("one attack");
    assert_eq!(a.evidence, ids(0..41));
}

#[test]
fn more_than_a_hundred_failures_escalate_to_high_on_the_hundred_and_first() {
    let mut d = detectors();
    let out = run(&mut d, OrgId(1), 0, &attack(150, false));
    assert_eq!(out.len(), 141);
    // Detection k (k >= 1) carries failure number 10 + k.
    assert_eq!(out[90].evidence, [model::EventId(99)]);
    assert_eq!(out[90].severity, Severity::Medium);
    assert_eq!(out[91].evidence, [model::EventId(100)]);
    assert_eq!(out[91].severity, Severity::High);
    assert_eq!(
        out[91].reasons,
        [
            "Failed sign-in number 101 against aoife.byrne@stbrigids-hospital.example in an \
             ongoing brute force.",
            "More than 100 failed sign-ins."
        ]
    );
    // Further sign-ins only extend the incident: no reason to format for each.
    assert!(out[..91].iter().skip(1).all(|d| d.reasons.is_empty()));
    assert!(
        out[92..]
            .iter()
            .all(|d| d.severity == Severity::High && d.reasons.is_empty())
    );
}

#[test]
fn a_lockout_escalates_to_high() {
    let mut d = detectors();
    let mut events = attack(12, false);
    events[11].failure_kind = Some(FailureKind::Locked);
    let out = run(&mut d, OrgId(1), 0, &events);
    let severities: Vec<Severity> = out.iter().map(|d| d.severity).collect();
    assert_eq!(
        severities,
        [Severity::Medium, Severity::Medium, Severity::High]
    );
}

#[test]
fn a_lockout_before_the_crossing_makes_the_crossing_high() {
    let mut d = detectors();
    let mut events = attack(10, false);
    events[3].failure_kind = Some(FailureKind::Locked);
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].severity, Severity::High);
}

#[test]
fn a_password_accepted_with_mfa_pending_is_a_compromise_not_a_failure() {
    let mut d = detectors();
    let mut events = attack(11, false);
    events[10].failure_kind = Some(FailureKind::MfaRequired);
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].severity, Severity::Critical);
    assert_eq!(
        out[1].compromised,
        ["aoife.byrne@stbrigids-hospital.example"]
    );
    assert!(
        out[1].reasons[0].contains("mfa_required"),
        "{:?}",
        out[1].reasons
    );
}

#[test]
fn a_success_from_the_accounts_usual_network_is_not_a_compromise_but_from_a_new_one_it_is() {
    for (from, compromised) in [("192.0.2.77", false), ("203.0.113.200", true)] {
        let mut d = detectors();
        // The account signed in from its office network the day before.
        let mut usual = attack(0, true);
        usual[0].source_ip = Some(ip("192.0.2.10"));
        usual[0].time = ts("2024-11-24T09:00:00Z");
        run(&mut d, OrgId(1), 100, &usual);
        let mut events = attack(10, true);
        events[10].source_ip = Some(ip(from));
        events[10].time = events[9].time + secs(3600);
        let out = run(&mut d, OrgId(1), 0, &events);
        assert_eq!(
            out.len(),
            if compromised { 2 } else { 1 },
            "{from}: {out:#?}"
        );
        if compromised {
            assert_eq!(out[1].severity, Severity::Critical);
            assert_eq!(
                out[1].campaign_key, out[0].campaign_key,
                "joins the attack's incident"
            );
            assert_eq!(
                out[1].compromised,
                ["aoife.byrne@stbrigids-hospital.example"]
            );
            assert!(
                out[1].reasons[0].contains("a network this account has not signed in from before"),
                "{:?}",
                out[1].reasons
            );
        }
    }
}

#[test]
fn a_success_from_the_attacking_network_is_a_compromise_for_the_compromise_window() {
    // Within the brute-force window the detector itself reports it; after that, the
    // user-centric watch does, until `compromise_window` (3 h) has passed.
    for (gap, critical) in [
        (600, true),
        (601, true),
        (3 * 3600, true),
        (3 * 3600 + 1, false),
    ] {
        let mut d = detectors();
        let mut events = attack(10, true);
        events[10].time = events[9].time + secs(gap);
        let out = run(&mut d, OrgId(1), 0, &events);
        assert_eq!(out.len(), if critical { 2 } else { 1 }, "gap {gap}s");
    }
}

#[test]
fn the_episode_ends_after_a_quiet_window_and_the_next_crossing_is_new() {
    let mut d = detectors();
    let first = attack(12, false);
    let mut second = attack(10, false);
    for s in &mut second {
        s.time += secs(66 + 601);
    }
    let mut out = run(&mut d, OrgId(1), 0, &first);
    assert_eq!(out.len(), 3);
    out = run(&mut d, OrgId(1), 100, &second);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].evidence, ids(100..110));
    assert_eq!(out[0].reasons.len(), 1);
}

#[test]
fn out_of_order_failures_are_windowed_by_their_own_time() {
    let mut d = detectors();
    let mut events = attack(10, false);
    events.reverse();
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 1);
    // Evidence is in time order: ids were given in reverse.
    assert_eq!(
        out[0].evidence,
        (0..10).rev().map(model::EventId).collect::<Vec<_>>()
    );
    assert_eq!(out[0].first_seen, ts("2024-11-25T13:00:00Z"));
}

#[test]
fn failures_without_a_source_address_still_count() {
    let mut d = detectors();
    let mut events = attack(10, false);
    for s in &mut events {
        s.source_ip = None;
    }
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out.len(), 1);
    assert!(out[0].sources.is_empty());
    assert!(out[0].reasons[0].contains("from 0 addresses"));
    assert_eq!(d.stats().spray_skipped_without_source, 10);
}

#[test]
fn a_distributed_brute_force_lists_every_source() {
    let mut d = detectors();
    let mut events = attack(10, true);
    for (i, s) in events.iter_mut().enumerate() {
        s.source_ip = Some(ip(&format!("198.51.100.{}", 10 + i % 5)));
    }
    let out = run(&mut d, OrgId(1), 0, &events);
    assert_eq!(out[0].sources.len(), 5);
    // The success came from 198.51.100.10, which took part.
    assert_eq!(out.last().map(|d| d.severity), Some(Severity::Critical));
}
