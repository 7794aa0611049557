//! The webhook documents as receivers get them, snapshot-tested: an opening, an
//! escalation to a compromise, a batched update of a campaign seen elsewhere, and the
//! daily digest.

use jiff::Timestamp;
use model::{
    DetectionKind, EventId, FailureKind, Format, Incident, IncidentState, OrgId, Origin, Outcome,
    Protocol, Severity, SignIn,
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
