use std::net::IpAddr;

use model::{DetectionKind, EventId, OrgId, Severity};

use crate::*;

fn org_accounts(org: usize, n: usize) -> Vec<String> {
    scenario::staff_accounts(org as u64 + 20, n, Some(&format!("org{org}.example")))
}

/// The campaign against `orgs` organisations, 4 accounts each, plus a day of ordinary
/// traffic for each in a network of its own (which moves event time on).
fn campaign_and_background(orgs: usize) -> Vec<(OrgId, EventId, model::SignIn)> {
    let p = scenario::CrossOrgCampaign::new(
        (0..orgs).map(|o| org_accounts(o, 4)).collect(),
        ts("2024-11-25T09:00:00Z"),
        secs(90),
    );
    let mut events = Vec::new();
    for (i, (org, s)) in scenario::cross_org_campaign(&p).into_iter().enumerate() {
        let org = org as i64 + 1;
        events.push((OrgId(org), EventId(org * 100_000 + i as i64), s));
    }
    for o in 0..orgs {
        let mut b = scenario::Benign::new(
            o as u64,
            org_accounts(o, 30),
            ts("2024-11-25T00:00:00Z"),
            SignedDuration::from_hours(24),
            IpAddr::from([192, 0, 2, o as u8 + 1]),
            vec![IpAddr::from([198, 51, 100, o as u8 + 1])],
        );
        b.stale_clients = 0;
        let org = o as i64 + 1;
        for (i, s) in scenario::benign(&b).into_iter().enumerate() {
            events.push((OrgId(org), EventId(org * 100_000 + 50_000 + i as i64), s));
        }
    }
    events
}

#[test]
fn one_network_against_three_orgs_is_one_campaign_detection_per_org() {
    let events = campaign_and_background(3);
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    let campaign: Vec<_> = out
        .iter()
        .filter(|d| d.kind == DetectionKind::CrossOrgCampaign)
        .collect();
    assert_eq!(campaign.len(), 3, "{campaign:#?}");
    assert!(
        out.iter()
            .all(|d| d.kind == DetectionKind::CrossOrgCampaign),
        "the per-organisation detectors see nothing"
    );
    for (o, det) in campaign.iter().enumerate() {
        let org = o as i64 + 1;
        assert_eq!(det.org, OrgId(org));
        assert_eq!(det.campaign_key, "campaign:203.0.113.0/24");
        assert_eq!(det.severity, Severity::High);
        let mine: BTreeSet<String> = org_accounts(o, 4).into_iter().collect();
        assert_eq!(det.accounts.iter().cloned().collect::<BTreeSet<_>>(), mine);
        assert_eq!(det.evidence.len(), 4);
        assert!(
            det.evidence.iter().all(|id| id.0 / 100_000 == org),
            "only its own evidence: {det:#?}"
        );
        assert!(
            det.sources
                .iter()
                .all(|s| s.to_string().starts_with("203.0.113."))
        );
        let text = det.reasons.join(" ");
        assert!(
            text.contains("4 of your accounts")
                && text.contains("also targeted 2 other organisations protected by this service"),
            "{text}"
        );
        for other in ["org0", "org1", "org2"] {
            if other != format!("org{o}") {
                assert!(!text.contains(other), "names another organisation: {text}");
            }
        }
    }
}

#[test]
fn a_campaign_within_one_organisation_is_not_cross_organisation() {
    let p = scenario::CrossOrgCampaign::new(
        vec![org_accounts(0, 12)],
        ts("2024-11-25T09:00:00Z"),
        secs(90),
    );
    let mut events: Vec<_> = scenario::cross_org_campaign(&p)
        .into_iter()
        .enumerate()
        .map(|(i, (_, s))| (OrgId(1), EventId(i as i64), s))
        .collect();
    let mut b = scenario::Benign::new(
        1,
        org_accounts(0, 30),
        ts("2024-11-25T00:00:00Z"),
        SignedDuration::from_hours(24),
        IpAddr::from([192, 0, 2, 1]),
        Vec::new(),
    );
    b.stale_clients = 0;
    for (i, s) in scenario::benign(&b).into_iter().enumerate() {
        events.push((OrgId(1), EventId(10_000 + i as i64), s));
    }
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter()
            .all(|d| d.kind != DetectionKind::CrossOrgCampaign),
        "{out:#?}"
    );
}

#[test]
fn a_campaign_is_reported_only_once_its_accounts_have_settled() {
    // Without later traffic the watermark never passes the settling hour.
    let p = scenario::CrossOrgCampaign::new(
        (0..3).map(|o| org_accounts(o, 4)).collect(),
        ts("2024-11-25T09:00:00Z"),
        secs(90),
    );
    let events: Vec<_> = scenario::cross_org_campaign(&p)
        .into_iter()
        .enumerate()
        .map(|(i, (o, s))| (OrgId(o as i64 + 1), EventId(i as i64), s))
        .collect();
    let mut d = detectors();
    assert!(run_merged(&mut d, &events).is_empty());
    // Any event an hour after the newest failure lets it through.
    let later = sign_in(
        ts("2024-11-25T10:30:00Z"),
        "someone@org9.example",
        Some(ip("192.0.2.99")),
        None,
    );
    let out = run(&mut d, OrgId(9), 1_000, &[later]);
    assert_eq!(out.len(), 3, "{out:#?}");
}
