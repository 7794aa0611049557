//! Cross-organisation campaigns tied together by a rare user agent: an attack tool
//! rotating its addresses across networks, which the network key misses.

use std::collections::BTreeSet;
use std::net::IpAddr;

use model::{DetectionKind, EventId, OrgId, SignIn};

use crate::*;

const TOOL: &str = "python-requests/2.25.1";

fn org_accounts(org: usize, n: usize) -> Vec<String> {
    scenario::staff_accounts(org as u64 + 40, n, Some(&format!("org{org}.example")))
}

/// A day of ordinary traffic for each of `orgs` organisations (common browsers and mail
/// clients, typos, stale clients), each from networks of its own.
fn background(orgs: usize) -> Vec<(OrgId, EventId, SignIn)> {
    let mut events = Vec::new();
    for o in 0..orgs {
        let homes = (0..4)
            .map(|h| IpAddr::from([198, 51, 100, (o * 8 + h) as u8]))
            .collect();
        let mut b = scenario::Benign::new(
            o as u64,
            org_accounts(o, 40),
            ts("2024-11-25T00:00:00Z"),
            SignedDuration::from_hours(24),
            IpAddr::from([192, 0, 2, o as u8 + 1]),
            homes,
        );
        b.typo_rate = 0.08;
        b.stale_clients = 3;
        let org = o as i64 + 1;
        for (i, s) in scenario::benign(&b).into_iter().enumerate() {
            events.push((OrgId(org), EventId(org * 100_000 + 50_000 + i as i64), s));
        }
    }
    events
}

/// The tool's campaign against the first `victims` organisations, 5 accounts each, with
/// `user_agent`, at 09:00 (working hours: the common clients sign in all around it).
fn campaign(
    user_agent: &str,
    victims: usize,
) -> (scenario::RotatingCampaign, Vec<(OrgId, EventId, SignIn)>) {
    let p = scenario::RotatingCampaign::new(
        user_agent,
        (0..victims)
            .map(|o| org_accounts(o, 40)[30..35].to_vec())
            .collect(),
        ts("2024-11-25T09:00:00Z"),
        secs(100),
    );
    let events = scenario::rotating_campaign(&p)
        .into_iter()
        .enumerate()
        .map(|(i, (o, s))| {
            let org = o as i64 + 1;
            (OrgId(org), EventId(org * 100_000 + i as i64), s)
        })
        .collect();
    (p, events)
}

fn key(user_agent: &str) -> String {
    detect::user_agent_campaign_key(user_agent).expect("a user agent")
}

#[test]
fn a_tool_rotating_addresses_across_three_orgs_is_one_detection_per_victim() {
    let (p, mut events) = campaign(TOOL, 3);
    let attack = events.clone();
    events.extend(background(4));
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter().all(|d| d.campaign_key == key(TOOL)),
        "nothing else fires, the network key least of all: {out:#?}"
    );
    assert_eq!(out.len(), 3, "{out:#?}");
    let victims: Vec<OrgId> = p.victims().iter().map(|o| OrgId(*o as i64 + 1)).collect();
    assert_eq!(out.iter().map(|d| d.org).collect::<Vec<_>>(), victims);
    for det in &out {
        let o = (det.org.0 - 1) as usize;
        assert_eq!(det.kind, DetectionKind::CrossOrgCampaign);
        assert_eq!(det.severity, Severity::High);
        // Only its own evidence, accounts and addresses: nothing of the others.
        let own: Vec<&(OrgId, EventId, SignIn)> = attack
            .iter()
            .filter(|(org, _, _)| *org == det.org)
            .collect();
        let own_ids: Vec<EventId> = own.iter().map(|(_, id, _)| *id).collect();
        let own_sources: BTreeSet<IpAddr> =
            own.iter().filter_map(|(_, _, s)| s.source_ip).collect();
        assert_eq!(det.evidence, own_ids);
        assert_eq!(
            det.accounts.iter().cloned().collect::<BTreeSet<_>>(),
            org_accounts(o, 40)[30..35].iter().cloned().collect()
        );
        assert_eq!(
            det.sources.iter().copied().collect::<BTreeSet<_>>(),
            own_sources
        );
        let text = det.reasons.join(" ");
        println!("{}: {text}", det.org);
        assert!(
            text.contains(&format!(
                "The same client software, \"{TOOL}\", failed to sign in to accounts of 3 \
                 organisations protected by this service from 15 different addresses in 15 \
                 networks within "
            )) && text.contains("no account anywhere signed in successfully with it")
                && text.contains(
                    "Here it failed against 5 of your accounts (5 attempts from 5 addresses"
                ),
            "{text}"
        );
        for (org, _, s) in &attack {
            if *org != det.org {
                let ip = s.source_ip.expect("ip").to_string();
                assert!(!text.contains(&ip), "names another's address: {text}");
                assert!(
                    !text.contains(&s.account),
                    "names another's account: {text}"
                );
            }
        }
        for other in (0..3).filter(|x| *x != o) {
            assert!(!text.contains(&format!("org{other}")), "{text}");
        }
    }
}

#[test]
fn common_clients_shared_by_every_organisation_never_fire() {
    // The same tool run, but sending Outlook's user agent: people sign in with it all
    // day, so it is no clue. Ten organisations' stale phones retrying with a client
    // nobody signs in with are no campaign either: they retry too often to be a spray.
    let outlook = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)";
    let (_, mut events) = campaign(outlook, 3);
    events.extend(background(10));
    let stale: BTreeSet<&str> = events
        .iter()
        .filter(|(_, _, s)| s.is_failure())
        .filter_map(|(_, _, s)| s.user_agent.as_deref())
        .filter(|ua| ua.starts_with("iOS/") || ua.starts_with("Apple-iPhone"))
        .collect();
    assert!(!stale.is_empty(), "the background has stale clients");
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter().all(|d| !d.campaign_key.starts_with("ua:")),
        "{out:#?}"
    );
    assert!(d.stats().campaign_by_user_agent.tracked_keys > 5);
    // The control: without the share of failures, Outlook would be taken for the tool.
    let mut config = DetectConfig::default();
    config.campaign.min_failure_ratio = 0.0;
    let mut d = Detectors::new(config);
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter().any(|d| d.campaign_key == key(outlook)),
        "the test traffic would show the campaign: {out:#?}"
    );
}

#[test]
fn ordinary_traffic_of_many_organisations_is_no_user_agent_campaign() {
    for orgs in [2, 6, 12] {
        let mut d = detectors();
        let out = run_merged(&mut d, &background(orgs));
        assert!(out.is_empty(), "{orgs} organisations: {out:#?}");
    }
}

#[test]
fn one_organisation_alone_is_not_a_cross_organisation_campaign() {
    let p = scenario::RotatingCampaign::new(
        TOOL,
        vec![org_accounts(0, 40)[20..40].to_vec()],
        ts("2024-11-25T09:00:00Z"),
        secs(100),
    );
    let mut events: Vec<_> = scenario::rotating_campaign(&p)
        .into_iter()
        .enumerate()
        .map(|(i, (_, s))| (OrgId(1), EventId(i as i64), s))
        .collect();
    events.extend(background(1));
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter()
            .all(|d| d.kind != DetectionKind::CrossOrgCampaign),
        "{out:#?}"
    );
}

#[test]
fn a_tool_that_once_gets_in_is_still_reported_and_the_switch_turns_it_off() {
    let (_, mut events) = campaign(TOOL, 3);
    // One of the fifteen guesses was right: 1 success in 16 sign-ins is still rare.
    let mut got_in = events[7].2.clone();
    got_in.outcome = model::Outcome::Success;
    got_in.failure_kind = None;
    got_in.time += secs(30);
    events.push((events[7].0, EventId(999_999), got_in));
    events.extend(background(3));
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    let ua: Vec<_> = out.iter().filter(|d| d.campaign_key == key(TOOL)).collect();
    assert_eq!(ua.len(), 3, "{out:#?}");
    assert!(
        ua.iter()
            .any(|d| d.reasons[0].contains("only 1 of its 16 sign-ins anywhere succeeded")),
        "{ua:#?}"
    );

    let mut config = DetectConfig::default();
    config.campaign.by_user_agent = false;
    let mut d = Detectors::new(config);
    let out = run_merged(&mut d, &events);
    assert!(
        out.iter().all(|d| !d.campaign_key.starts_with("ua:")),
        "{out:#?}"
    );
    assert_eq!(
        d.stats().campaign_by_user_agent,
        detect::KeyStats::default()
    );
}

#[test]
fn a_tool_sending_a_new_user_agent_each_time_keeps_them_under_the_cap() {
    let cap = 500;
    let mut config = DetectConfig::default();
    config.campaign.max_user_agents = cap;
    let mut d = Detectors::new(config);
    let start = ts("2024-11-25T10:00:00Z");
    let template = sign_in(start, "x", None, Some(model::FailureKind::BadPassword));
    for i in 0..100_000u32 {
        let mut s = template.clone();
        s.time = start + SignedDuration::from_millis(i64::from(i) * 10);
        s.account = format!("user{}@org{}.example", i % 5_000, i % 2);
        s.source_ip = Some(IpAddr::from([198, 51, (i >> 8) as u8, i as u8]));
        // Random-looking and long: every one a key of its own, each cut to 512 bytes.
        s.user_agent = Some(format!("agent-{i:08x}-{}", "z".repeat(2_000)));
        d.observe(&model::Observation {
            id: EventId(i64::from(i)),
            org: OrgId(i64::from(i % 2) + 1),
            sign_in: s,
        });
        if i % 4096 == 0 {
            assert!(d.stats().campaign_by_user_agent.tracked_keys <= cap);
        }
    }
    let stats = d.stats().campaign_by_user_agent;
    assert!(stats.tracked_keys <= cap, "{stats:?}");
    assert!(stats.evicted_keys >= 100_000 - cap as u64, "{stats:?}");
}
