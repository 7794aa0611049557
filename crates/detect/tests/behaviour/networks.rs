//! Issue 11: sprays keyed by network, credential stuffing, shared egress and trusted
//! egress, and the user-centric compromise that address rotation cannot hide.

use model::{DetectionKind, FailureKind, OrgId, Severity};

use crate::*;

/// One failure per account, 30 s apart, from the addresses `sources` in turn.
fn failures(accounts: usize, sources: &[&str], kind: FailureKind) -> Vec<model::SignIn> {
    let start = ts("2025-02-03T02:00:00Z");
    (0..accounts)
        .map(|i| {
            sign_in(
                start + secs(30 * i as i64),
                &format!("staff{i}@org.example"),
                Some(ip(sources[i % sources.len()])),
                Some(kind),
            )
        })
        .collect()
}

#[test]
fn a_spray_rotating_through_one_slash_24_is_one_attack_from_several_addresses() {
    let mut d = detectors();
    let sources = ["203.0.113.5", "203.0.113.77", "203.0.113.200"];
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(12, &sources, FailureKind::BadPassword),
    );
    let all = attacks(&out);
    assert_eq!(all.len(), 1, "{all:#?}");
    let (key, attack) = all.iter().next().expect("one attack");
    assert_eq!(key.1, "password_spray");
    assert_eq!(key.2, "password_spray:203.0.113.0/24");
    assert_eq!(attack.sources.len(), 3);
    assert_eq!(attack.accounts.len(), 12);
    assert!(
        out[0].reasons[0].starts_with("3 addresses in 203.0.113.0/24 failed"),
        "{:?}",
        out[0].reasons
    );
}

#[test]
fn addresses_in_different_networks_are_different_sources() {
    let mut d = detectors();
    let sources = ["203.0.113.5", "203.0.114.5", "203.0.115.5"];
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(12, &sources, FailureKind::BadPassword),
    );
    assert!(
        out.is_empty(),
        "four accounts per /24 are not a spray: {out:#?}"
    );
}

#[test]
fn unknown_accounts_tried_once_each_are_credential_stuffing() {
    let mut d = detectors();
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(12, &["198.51.100.9"], FailureKind::UnknownAccount),
    );
    assert_eq!(out[0].kind, DetectionKind::CredentialStuffing);
    assert_eq!(out[0].kind.technique().id(), "T1110.004");
    assert!(
        out[0]
            .reasons
            .iter()
            .any(|r| r.contains("leaked user names")),
        "{:?}",
        out[0].reasons
    );
    // Existing accounts sprayed the same way are a password spray.
    let mut d = detectors();
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(12, &["198.51.100.9"], FailureKind::BadPassword),
    );
    assert_eq!(out[0].kind, DetectionKind::PasswordSpray);
}

#[test]
fn shared_egress_raises_the_threshold_instead_of_silencing() {
    // 100.64.0.0/10 (carrier-grade NAT) is shared egress by default: three times the
    // accounts are needed.
    for (accounts, alerts) in [(29, false), (30, true)] {
        let mut d = detectors();
        let out = run(
            &mut d,
            OrgId(1),
            0,
            &failures(accounts, &["100.64.1.1"], FailureKind::BadPassword),
        );
        assert_eq!(!out.is_empty(), alerts, "{accounts} accounts");
        if alerts {
            assert!(
                out[0].reasons.iter().any(|r| r.contains("shared egress")),
                "{:?}",
                out[0].reasons
            );
        }
    }
}

#[test]
fn an_organisations_own_egress_is_not_a_spray_of_that_organisation_only() {
    let config = DetectConfig {
        sources: detect::SourcePolicy {
            trusted: vec![detect::TrustedEgress {
                org: 1,
                networks: vec!["192.0.2.0/24".parse().expect("net")],
            }],
            ..Default::default()
        },
        ..Default::default()
    };
    let events = failures(12, &["192.0.2.10"], FailureKind::BadPassword);
    let mut d = Detectors::new(config.clone());
    assert!(run(&mut d, OrgId(1), 0, &events).is_empty());
    let mut d = Detectors::new(config);
    assert_eq!(
        run(&mut d, OrgId(2), 0, &events).len(),
        3,
        "another organisation has no such trust"
    );
}

#[test]
fn after_a_spray_a_sign_in_from_a_new_network_is_a_compromise_but_the_office_is_not() {
    let mut d = detectors();
    // Three colleagues sign in from the office the day before: it is the organisation's egress.
    let office: Vec<model::SignIn> = (0..3)
        .map(|i| {
            sign_in(
                ts("2025-02-02T09:00:00Z") + secs(i),
                &format!("colleague{i}@org.example"),
                Some(ip("192.0.2.10")),
                None,
            )
        })
        .collect();
    run(&mut d, OrgId(1), 1000, &office);
    let spray = failures(12, &["203.0.113.66"], FailureKind::BadPassword);
    let out = run(&mut d, OrgId(1), 0, &spray);
    assert_eq!(out.len(), 3, "crossing at ten accounts and two extensions");
    // staff3 signs in from the office an hour later: the organisation's own network.
    let later = ts("2025-02-03T03:00:00Z");
    let from_office = sign_in(later, "staff3@org.example", Some(ip("192.0.2.44")), None);
    assert!(run(&mut d, OrgId(1), 2000, &[from_office]).is_empty());
    // staff5 signs in from a network nobody at the organisation uses, not the sprayer's.
    let rotated = sign_in(
        later + secs(60),
        "staff5@org.example",
        Some(ip("198.51.100.250")),
        None,
    );
    let out = run(&mut d, OrgId(1), 3000, &[rotated]);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].severity, Severity::Critical);
    assert_eq!(out[0].campaign_key, "password_spray:203.0.113.0/24");
    assert_eq!(out[0].compromised, ["staff5@org.example"]);
    // An account the spray did not target is not affected.
    let bystander = sign_in(
        later + secs(120),
        "someone.else@org.example",
        Some(ip("198.51.100.251")),
        None,
    );
    assert!(run(&mut d, OrgId(1), 4000, &[bystander]).is_empty());
}

#[test]
fn an_organisation_with_its_own_thresholds_gets_them_and_the_others_keep_theirs() {
    let config = DetectConfig {
        organisations: vec![detect::OrgDetectConfig {
            org: 2,
            brute_force: Some(detect::BruteForceConfig {
                min_failures: 5,
                ..Default::default()
            }),
            password_spray: None,
            distributed_spray: None,
        }],
        ..Default::default()
    };
    assert_eq!(config.validate(), Ok(()));
    let mut p = scenario::BruteForce::new(
        "ward@org.example",
        ip("198.51.100.40"),
        ts("2025-02-03T02:00:00Z"),
        6,
        secs(10),
    );
    p.seed = 3;
    let attack = scenario::brute_force(&p);
    let mut d = Detectors::new(config.clone());
    assert!(
        run(&mut d, OrgId(1), 0, &attack).is_empty(),
        "six failures are below the shared threshold of ten"
    );
    let out = run(&mut d, OrgId(2), 100, &attack);
    assert_eq!(out[0].kind, DetectionKind::BruteForce, "{out:#?}");
    assert_eq!(
        out[0].evidence.len(),
        5,
        "organisation 2's own threshold is five"
    );
    assert_eq!(d.stats().observed, 12);

    let bad = DetectConfig {
        organisations: vec![detect::OrgDetectConfig {
            org: 7,
            brute_force: Some(detect::BruteForceConfig {
                min_failures: 0,
                ..Default::default()
            }),
            password_spray: None,
            distributed_spray: None,
        }],
        ..Default::default()
    };
    let error = bad.validate().expect_err("zero threshold");
    assert!(
        error.starts_with("organisations (org 7).brute_force.min_failures"),
        "{error}"
    );
}
