//! The webhook documents as receivers get them, snapshot-tested: an opening, an
//! escalation to a compromise, a batched update of a campaign seen elsewhere, the daily
//! digest, and a sign-in from infrastructure the threat intelligence names, with its
//! indicators and attribution.

mod common;

use jiff::Timestamp;
use model::attribution::{Attribution, Confidence};
use model::{
    DetectionKind, EventId, FailureKind, Format, Incident, IncidentState, IndicatorMatch, OrgId,
    Origin, Outcome, Protocol, Severity, SignIn,
};
use store::{CampaignReach, StoredSignIn};
use tocsin_notify::payload::{self, DigestEntry};

fn t(s: &str) -> Timestamp {
    s.parse().expect("time")
}

fn spray() -> Incident {
    Incident {
        id: "01938a6e-0000-7000-8000-000000000001".into(),
        org: OrgId(1),
        kind: DetectionKind::PasswordSpray,
        technique: DetectionKind::PasswordSpray.technique(),
        severity: Severity::Medium,
        state: IncidentState::Notified,
        campaign_key: "password_spray:203.0.113.0/24".into(),
        accounts: vec!["ana@clinic.example".into(), "ben@clinic.example".into()],
        sources: vec!["203.0.113.7".into()],
        compromised_accounts: vec![],
        first_seen: t("2026-12-01T09:00:00Z"),
        last_seen: t("2026-12-01T09:04:00Z"),
        evidence_count: 12,
        summary: "Password spray from 203.0.113.7 against 2 accounts.".into(),
        reasons: vec!["203.0.113.7 failed to sign in to 12 accounts.".into()],
        indicators: vec![],
        attribution: None,
    }
}

/// A successful sign-in from an address a CERT feed links to Forest Blizzard, and a
/// failed one from a Tor exit, attributed with high confidence.
fn known_indicator() -> Incident {
    Incident {
        id: "01938a6e-0000-7000-8000-000000000005".into(),
        org: OrgId(1),
        kind: DetectionKind::KnownIndicator,
        technique: DetectionKind::KnownIndicator.technique(),
        severity: Severity::Critical,
        state: IncidentState::Notified,
        campaign_key: "known_indicator:198.51.100.23".into(),
        accounts: vec!["ana@clinic.example".into(), "ben@clinic.example".into()],
        sources: vec!["198.51.100.23".into(), "203.0.113.50".into()],
        compromised_accounts: vec!["ana@clinic.example".into()],
        first_seen: t("2026-12-01T09:00:00Z"),
        last_seen: t("2026-12-01T09:02:00Z"),
        evidence_count: 2,
        summary: "Sign-ins from 2 addresses named by threat intelligence; ana@clinic.example signed in from 198.51.100.23.".into(),
        reasons: vec!["198.51.100.23 is indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f of feed cert-feed.".into()],
        indicators: common::cert_feed_matches(),
        attribution: Some(common::forest_blizzard()),
    }
}

fn evidence(account: &str, at: &str, outcome: Outcome) -> StoredSignIn {
    StoredSignIn {
        id: EventId(7),
        sign_in: SignIn {
            time: t(at),
            account: account.into(),
            source_ip: Some("203.0.113.7".parse().expect("ip")),
            outcome,
            failure_kind: (outcome == Outcome::Failure).then_some(FailureKind::BadPassword),
            protocol: Protocol::Imap,
            app: Some("Office 365 Exchange Online".into()),
            result_code: None,
            reason: None,
            record_id: Some("r-7".into()),
            country: Some("NL".into()),
            asn: Some(64496),
            user_agent: None,
            format: Format::EntraGraph,
            origin: Origin::RequestLine {
                request: "req-1".into(),
                line: 1,
            },
            authentication: None,
        },
        source_network: None,
    }
}

/// The document with its keys sorted, indented: the same text whether or not another
/// crate in the build turns on serde_json's `preserve_order`.
fn pretty(document: &str) -> String {
    fn sorted(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(
                    entries.into_iter().map(|(k, v)| (k, sorted(v))).collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sorted).collect())
            }
            other => other,
        }
    }
    let value: serde_json::Value = serde_json::from_str(document).expect("json");
    serde_json::to_string_pretty(&sorted(value)).expect("pretty")
}

#[test]
fn an_opened_incident_carries_its_playbook() {
    let document = payload::document(
        "incident.opened",
        "delivery-1",
        "Clinic",
        &spray(),
        &[evidence(
            "ana@clinic.example",
            "2026-12-01T09:00:00Z",
            Outcome::Failure,
        )],
        &[],
        Some(CampaignReach::default()),
    );
    insta::assert_snapshot!("opened", pretty(&document));
}

#[test]
fn an_escalation_to_a_compromise_puts_the_compromise_playbook_first() {
    let mut incident = spray();
    incident.severity = Severity::Critical;
    incident.compromised_accounts = vec!["ben@clinic.example".into()];
    incident
        .reasons
        .push("203.0.113.7 then signed in to ben@clinic.example: the password was guessed.".into());
    let document = payload::document(
        "incident.escalated",
        "delivery-2",
        "Clinic",
        &incident,
        &[evidence(
            "ben@clinic.example",
            "2026-12-01T09:05:00Z",
            Outcome::Success,
        )],
        &[],
        None,
    );
    insta::assert_snapshot!("escalated", pretty(&document));
}

#[test]
fn an_update_says_how_far_the_campaign_reaches_without_names() {
    let mut incident = spray();
    incident.evidence_count = 40;
    incident.state = IncidentState::Acknowledged;
    let document = payload::document(
        "incident.updated",
        "delivery-3",
        "Clinic",
        &incident,
        &[evidence(
            "cat@clinic.example",
            "2026-12-01T09:30:00Z",
            Outcome::Failure,
        )],
        &[],
        Some(CampaignReach {
            other_organisations: 3,
            same_sector: 2,
        }),
    );
    insta::assert_snapshot!("updated", pretty(&document));
}

#[test]
fn the_digest_lists_the_days_low_incidents() {
    let mut first = spray();
    first.severity = Severity::Low;
    let mut second = spray();
    second.id = "01938a6e-0000-7000-8000-000000000002".into();
    second.kind = DetectionKind::BruteForce;
    second.technique = DetectionKind::BruteForce.technique();
    second.severity = Severity::Low;
    second.campaign_key = "brute_force:ana@clinic.example".into();
    second.accounts = vec!["ana@clinic.example".into()];
    second.summary = "Brute force against ana@clinic.example.".into();
    let document = payload::digest(
        "delivery-4",
        OrgId(1),
        "Clinic",
        &[
            DigestEntry {
                incident: first,
                reach: Some(CampaignReach {
                    other_organisations: 1,
                    same_sector: 0,
                }),
            },
            DigestEntry {
                incident: second,
                reach: None,
            },
        ],
    );
    insta::assert_snapshot!("digest", pretty(&document));
}

#[test]
fn a_known_indicator_incident_says_which_indicators_and_who() {
    let document = payload::document(
        "incident.opened",
        "delivery-5",
        "Clinic",
        &known_indicator(),
        &[evidence(
            "ana@clinic.example",
            "2026-12-01T09:00:00Z",
            Outcome::Success,
        )],
        &[],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(&document).expect("json");
    let incident = &value["incident"];
    assert_eq!(incident["indicator_count"], 2);
    assert_eq!(incident["indicators"][0]["observed"], "198.51.100.23");
    assert_eq!(incident["indicators"][0]["actors"][0], "forest-blizzard");
    assert_eq!(incident["indicators"][1]["labels"][0], "tor-exit");
    assert_eq!(incident["attribution"]["words"], "very likely");
    assert_eq!(incident["attribution"]["confidence"], "high");
    assert_eq!(
        incident["attribution"]["headline"],
        "Forest Blizzard (STRONTIUM, APT28): very likely, high confidence"
    );
    assert_eq!(value["playbook"]["id"], "known_indicator");
    insta::assert_snapshot!("known_indicator", pretty(&document));
}

/// An incident holds up to 50 matches; a notification carries the first 10 and says how
/// many there are, in the digest as in a single incident's document.
#[test]
fn indicator_matches_are_bounded_with_their_count() {
    let mut incident = known_indicator();
    let first = incident.indicators[0].clone();
    incident.indicators = (0..Incident::MAX_INDICATORS)
        .map(|n| IndicatorMatch {
            indicator: format!("blocklist:{n}"),
            ..first.clone()
        })
        .collect();
    let document = payload::document("incident.updated", "d", "Clinic", &incident, &[], &[], None);
    let value: serde_json::Value = serde_json::from_str(&document).expect("json");
    let shown = value["incident"]["indicators"]
        .as_array()
        .expect("indicators");
    assert_eq!(shown.len(), payload::INDICATORS_IN_NOTIFICATION);
    assert_eq!(shown[0]["indicator"], "blocklist:0");
    assert_eq!(shown[9]["indicator"], "blocklist:9");
    assert_eq!(value["incident"]["indicator_count"], 50);

    let entries: Vec<DigestEntry> = (0..3)
        .map(|_| DigestEntry {
            incident: incident.clone(),
            reach: None,
        })
        .collect();
    let digest = payload::digest("d", OrgId(1), "Clinic", &entries);
    let value: serde_json::Value = serde_json::from_str(&digest).expect("json");
    for item in value["incidents"].as_array().expect("incidents") {
        assert_eq!(
            item["incident"]["indicators"].as_array().map(Vec::len),
            Some(10)
        );
        assert_eq!(item["incident"]["indicator_count"], 50);
        assert_eq!(
            item["incident"]["attribution"]["headline"],
            "Forest Blizzard (STRONTIUM, APT28): very likely, high confidence"
        );
    }
}

/// Unattributed is said, not left out: `actor` null, the words, and why.
#[test]
fn an_unattributed_incident_says_why() {
    let mut incident = known_indicator();
    incident.attribution = Some(Attribution {
        actor: None,
        confidence: Confidence::Low,
        words: model::attribution::UNATTRIBUTED,
        evidence: vec!["No indicator linked to an actor matched, and no catalogued actor is known for technique T1078.".into()],
        conflict: false,
        alternatives: vec![],
    });
    let document = payload::document("incident.opened", "d", "Clinic", &incident, &[], &[], None);
    let value: serde_json::Value = serde_json::from_str(&document).expect("json");
    let attribution = &value["incident"]["attribution"];
    assert!(attribution["actor"].is_null());
    assert_eq!(attribution["words"], "unattributed");
    assert_eq!(attribution["headline"], "unattributed");
    assert_eq!(
        attribution["evidence"][0],
        "No indicator linked to an actor matched, and no catalogued actor is known for technique T1078."
    );
}
