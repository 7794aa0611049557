//! The incident lifecycle through the real intake and store: escalation to critical,
//! closed incidents not reopened, the timeline, batched updates, quiet hours, the digest
//! and a campaign's reach told without naming anyone.

use jiff::{SignedDuration, Timestamp};
use model::{
    FailureKind, Format, IncidentState, OrgId, Origin, Outcome, Protocol, Sector, Severity, SignIn,
};
use notify::lifecycle;
use store::{Delivery, EventKind, NewOrganisation, NotifySettings, StateChange, Store};
use tocsin_notify as notify;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    intake: notify::SignInIntake,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("store");
    let intake = notify::SignInIntake::new(
        store.clone(),
        detect::DetectConfig::default(),
        notify::NotifyConfig::default(),
    )
    .await
    .expect("intake");
    Fixture {
        _dir: dir,
        store,
        intake,
    }
}

async fn enrol(f: &Fixture, name: &str, sector: Sector) -> OrgId {
    let (org, _) = f
        .store
        .create_organisation(&NewOrganisation {
            name: name.into(),
            sector,
            country: "FR".into(),
            domains: vec![domain(name)],
            webhook_url: Some(format!("https://hooks.example/{}", domain(name))),
            language: store::Language::En,
        })
        .await
        .expect("enrol");
    org.id
}

fn domain(name: &str) -> String {
    format!(
        "{}.example",
        name.split(' ').next().unwrap_or(name).to_lowercase()
    )
}

fn sign_in(at: Timestamp, account: String, ip: &str, outcome: Outcome) -> SignIn {
    SignIn {
        time: at,
        account,
        source_ip: Some(ip.parse().expect("ip")),
        outcome,
        failure_kind: (outcome == Outcome::Failure).then_some(FailureKind::BadPassword),
        protocol: Protocol::Imap,
        app: None,
        result_code: None,
        reason: None,
        record_id: None,
        country: None,
        asn: None,
        user_agent: None,
        format: Format::EntraGraph,
        origin: Origin::RequestLine {
            request: "test".into(),
            line: 1,
        },
        authentication: None,
    }
}

/// `n` failures from `ip`, one per account `u{from}`…, a second apart from `start`.
fn spray(start: Timestamp, domain: &str, ip: &str, from: usize, n: usize) -> Vec<SignIn> {
    (from..from + n)
        .map(|i| {
            sign_in(
                start + SignedDuration::from_secs(i as i64),
                format!("u{i}@{domain}"),
                ip,
                Outcome::Failure,
            )
        })
        .collect()
}

fn minutes_ago(m: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_mins(m)
}

async fn queued(store: &Store, org: OrgId) -> Vec<Delivery> {
    let far = Timestamp::now() + SignedDuration::from_hours(24 * 30);
    store
        .due_deliveries(far, 1000)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|d| d.org == org)
        .collect()
}

fn document(d: &Delivery) -> serde_json::Value {
    serde_json::from_str(&d.payload).expect("json")
}

/// The spray incident of `org` (the cross-organisation campaign detector may open
/// others).
async fn spray_incident(store: &Store, org: OrgId) -> Vec<model::Incident> {
    store
        .incidents(org, 100)
        .await
        .expect("incidents")
        .into_iter()
        .filter(|i| i.campaign_key.starts_with("password_spray:"))
        .collect()
}

#[tokio::test]
async fn a_success_after_a_spray_is_critical_and_a_resolved_incident_is_not_reopened() {
    let f = fixture().await;
    let a = enrol(&f, "Alpha Clinic", Sector::Clinic).await;
    let start = minutes_ago(30);
    let report = f
        .intake
        .accept(a, spray(start, "alpha.example", "203.0.113.7", 0, 10))
        .await
        .expect("spray");
    assert_eq!(report.incidents_opened, 1, "{report:?}");
    let [incident] = spray_incident(&f.store, a).await.try_into().expect("one");
    assert_eq!(incident.severity, Severity::Medium);
    assert_eq!(incident.state, IncidentState::Notified);
    let sent = queued(&f.store, a).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].event, "incident.opened");
    let opened = document(&sent[0]);
    assert_eq!(opened["playbook"]["id"], "password_spray", "{opened}");
    assert_eq!(opened["playbook"]["version"], 1);
    assert!(opened.get("compromise_playbook").is_none(), "{opened}");
    assert!(
        opened.get("campaign").is_none(),
        "nobody else was hit: {opened}"
    );

    let success = sign_in(
        start + SignedDuration::from_mins(5),
        "u3@alpha.example".into(),
        "203.0.113.7",
        Outcome::Success,
    );
    let report = f.intake.accept(a, vec![success]).await.expect("success");
    assert_eq!(report.incidents_escalated, 1, "{report:?}");
    let [incident] = spray_incident(&f.store, a).await.try_into().expect("one");
    assert_eq!(
        incident.severity,
        Severity::Critical,
        "a successful sign-in after a spray"
    );
    assert_eq!(incident.compromised_accounts, ["u3@alpha.example"]);
    let sent = queued(&f.store, a).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].event, "incident.escalated");
    let escalated = document(&sent[1]);
    assert_eq!(escalated["compromise_playbook"]["id"], "account_compromise");
    assert_eq!(escalated["incident"]["severity"], "critical");

    let actor = format!("org:{a}");
    let resolved = f
        .store
        .change_state(a, &incident.id, IncidentState::Resolved, None, None, &actor)
        .await
        .expect("resolve");
    assert!(matches!(resolved, StateChange::Changed(_)));
    let timeline = f
        .store
        .timeline(a, &incident.id, 100)
        .await
        .expect("timeline")
        .expect("exists");
    let kinds: Vec<(EventKind, String)> = timeline
        .iter()
        .map(|e| {
            let what = e.detail["change"]
                .as_str()
                .or(e.detail["event"].as_str())
                .or(e.detail["to"].as_str())
                .unwrap_or_default()
                .to_owned();
            (e.kind, what)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Detection, "opened".to_owned()),
            (EventKind::Notification, "incident.opened".to_owned()),
            (EventKind::Detection, "escalated".to_owned()),
            (EventKind::Notification, "incident.escalated".to_owned()),
            (EventKind::State, "resolved".to_owned()),
        ],
        "{timeline:#?}"
    );
    assert_eq!(
        timeline[1].detail["delivery_id"],
        sent[0].delivery_id.as_str()
    );
    assert_eq!(timeline[4].actor, actor);

    // The attack goes on after the organisation closed the incident: that is news.
    let report = f
        .intake
        .accept(
            a,
            spray(
                start + SignedDuration::from_mins(10),
                "alpha.example",
                "203.0.113.8",
                20,
                10,
            ),
        )
        .await
        .expect("more");
    assert_eq!(report.incidents_opened, 1, "{report:?}");
    let incidents = spray_incident(&f.store, a).await;
    assert_eq!(incidents.len(), 2);
    let reopened = incidents
        .iter()
        .find(|i| i.id != incident.id)
        .expect("a new incident");
    assert_eq!(reopened.state, IncidentState::Notified);
    let old = f
        .store
        .incident(a, &incident.id)
        .await
        .expect("read")
        .expect("old");
    assert_eq!(
        old.state,
        IncidentState::Resolved,
        "the closed one stays closed"
    );
    assert_eq!(old.evidence_count, incident.evidence_count);
}

#[tokio::test]
async fn later_evidence_is_batched_into_one_update_per_interval() {
    let f = fixture().await;
    let a = enrol(&f, "Alpha Clinic", Sector::Clinic).await;
    let start = minutes_ago(30);
    f.intake
        .accept(a, spray(start, "alpha.example", "203.0.113.7", 0, 10))
        .await
        .expect("spray");
    for batch in 0..3 {
        let more = spray(
            start + SignedDuration::from_mins(1 + batch),
            "alpha.example",
            "203.0.113.7",
            10 + 5 * batch as usize,
            5,
        );
        f.intake.accept(a, more).await.expect("more");
    }
    let sent = queued(&f.store, a).await;
    assert_eq!(
        sent.iter().map(|d| d.event.as_str()).collect::<Vec<_>>(),
        ["incident.opened"],
        "later evidence waits"
    );
    let config = notify::NotifyConfig::default();
    let now = Timestamp::now();
    let early = lifecycle::round(&f.store, &config, now)
        .await
        .expect("round");
    assert_eq!(
        early,
        lifecycle::Round::default(),
        "the interval has not passed"
    );
    let later = now + SignedDuration::from_mins(61);
    let round = lifecycle::round(&f.store, &config, later)
        .await
        .expect("round");
    assert_eq!(round.notices, 1, "three batches, one update");
    let sent = queued(&f.store, a).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].event, "incident.updated");
    let updated = document(&sent[1]);
    assert_eq!(updated["incident"]["evidence_count"], 25, "{updated}");
    assert_eq!(
        updated["evidence"].as_array().map(Vec::len),
        Some(notify::payload::EVIDENCE_IN_NOTIFICATION)
    );
    let again = lifecycle::round(&f.store, &config, later + SignedDuration::from_mins(1))
        .await
        .expect("round");
    assert_eq!(again.notices, 0, "nothing more to say");

    let [incident] = spray_incident(&f.store, a).await.try_into().expect("one");
    let timeline = f
        .store
        .timeline(a, &incident.id, 100)
        .await
        .expect("timeline")
        .expect("exists");
    let held: Vec<_> = timeline
        .iter()
        .filter(|e| e.detail.get("held_until").is_some())
        .collect();
    assert_eq!(held.len(), 1, "held once, not per batch: {timeline:#?}");
    assert_eq!(held[0].detail["event"], "incident.updated");
    let extensions = timeline
        .iter()
        .filter(|e| e.detail["change"] == "extended")
        .count();
    assert_eq!(extensions, 3, "each batch is on the timeline");
}

#[tokio::test]
async fn quiet_hours_hold_all_but_critical_and_low_incidents_wait_for_the_digest() {
    let f = fixture().await;
    let a = enrol(&f, "Alpha Clinic", Sector::Clinic).await;
    let b = enrol(&f, "Bravo Clinic", Sector::Clinic).await;
    let now = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let quiet = format!(
        "{}-{}",
        (now.clone() - SignedDuration::from_hours(1)).strftime("%H:%M"),
        (now.clone() + SignedDuration::from_hours(2)).strftime("%H:%M")
    );
    f.store
        .set_notify_settings(
            a,
            &NotifySettings {
                quiet_hours: Some(quiet),
                ..NotifySettings::default()
            },
        )
        .await
        .expect("settings");
    f.store
        .set_notify_settings(
            b,
            &NotifySettings {
                digest_below: Some(Severity::Critical),
                ..NotifySettings::default()
            },
        )
        .await
        .expect("settings");
    let start = minutes_ago(30);
    f.intake
        .accept(a, spray(start, "alpha.example", "203.0.113.7", 0, 10))
        .await
        .expect("spray a");
    assert!(
        queued(&f.store, a).await.is_empty(),
        "a medium spray waits for the morning"
    );
    let [incident] = spray_incident(&f.store, a).await.try_into().expect("one");
    assert_eq!(incident.state, IncidentState::New, "not told yet");
    let success = sign_in(
        start + SignedDuration::from_mins(5),
        "u3@alpha.example".into(),
        "203.0.113.7",
        Outcome::Success,
    );
    f.intake.accept(a, vec![success]).await.expect("success");
    let sent = queued(&f.store, a).await;
    assert_eq!(sent.len(), 1, "critical goes through quiet hours");
    assert_eq!(
        sent[0].event, "incident.opened",
        "the first word is the opening"
    );
    assert_eq!(document(&sent[0])["incident"]["severity"], "critical");

    f.intake
        .accept(b, spray(start, "bravo.example", "198.51.100.7", 0, 10))
        .await
        .expect("spray b");
    assert!(
        queued(&f.store, b).await.is_empty(),
        "below the digest threshold"
    );
    let config = notify::NotifyConfig::default();
    let tomorrow = Timestamp::now() + SignedDuration::from_hours(25);
    let round = lifecycle::round(&f.store, &config, tomorrow)
        .await
        .expect("round");
    assert_eq!((round.digests, round.digested), (1, 1), "{round:?}");
    let sent = queued(&f.store, b).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].event, "digest");
    assert_eq!(sent[0].incident_id, None);
    let digest = document(&sent[0]);
    assert_eq!(
        digest["incidents"].as_array().map(Vec::len),
        Some(1),
        "{digest}"
    );
    assert_eq!(digest["incidents"][0]["playbook"]["id"], "password_spray");
    assert_eq!(digest["incidents"][0]["incident"]["state"], "notified");
}

#[tokio::test]
async fn a_campaign_is_counted_for_each_victim_without_naming_the_others() {
    let f = fixture().await;
    let a = enrol(&f, "Alpha Clinic", Sector::Clinic).await;
    let b = enrol(&f, "Bravo Clinic", Sector::Clinic).await;
    let start = minutes_ago(30);
    f.intake
        .accept(b, spray(start, "bravo.example", "203.0.113.7", 0, 10))
        .await
        .expect("spray b");
    f.intake
        .accept(
            a,
            spray(
                start + SignedDuration::from_mins(2),
                "alpha.example",
                "203.0.113.9",
                0,
                10,
            ),
        )
        .await
        .expect("spray a");
    let sent = queued(&f.store, a).await;
    let opened = sent
        .iter()
        .map(document)
        .find(|d| d["event"] == "incident.opened" && d["incident"]["kind"] == "password_spray")
        .expect("A's spray notification");
    assert_eq!(
        opened["campaign"],
        serde_json::json!({ "other_organisations": 1, "same_sector": 1 }),
        "{opened}"
    );
    assert_eq!(opened["organisation"]["id"], a.0);
    let text = opened.to_string();
    for trace in ["Bravo", "bravo.example", "hooks.example"] {
        assert!(!text.contains(trace), "{trace} in {text}");
    }
    let b_incidents = spray_incident(&f.store, b).await;
    for incident in &b_incidents {
        assert!(!text.contains(&incident.id), "B's incident id in {text}");
    }
    // The only organisation in the document is A; no field carries B's id.
    for end in [',', '}'] {
        for key in ["org_id", "org", "id"] {
            let field = format!("\"{key}\":{}{end}", b.0);
            assert!(!text.contains(&field), "{field} in {text}");
        }
    }
}
