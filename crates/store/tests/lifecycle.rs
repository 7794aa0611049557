//! Incident lifecycle in the store: state changes stay within one organisation, closed
//! incidents take no more evidence, every change is on the timeline, and campaign reach
//! is counts only.

use model::{DetectionKind, Incident, IncidentState, OrgId, Sector, Severity, Timestamp};
use tocsin_store::{EventKind, NewOrganisation, NotifySettings, StateChange, Store};

fn org(name: &str, sector: Sector) -> NewOrganisation {
    NewOrganisation {
        name: name.into(),
        sector,
        country: "fr".into(),
        domains: vec![format!("{}.example", name.to_lowercase())],
        webhook_url: None,
        language: tocsin_store::Language::En,
    }
}

fn incident(org: OrgId, id: &str, key: &str) -> Incident {
    let t: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    Incident {
        id: id.into(),
        org,
        kind: DetectionKind::PasswordSpray,
        technique: DetectionKind::PasswordSpray.technique(),
        severity: Severity::High,
        state: IncidentState::Notified,
        campaign_key: key.into(),
        accounts: vec!["alice@a.example".into()],
        sources: vec!["198.51.100.1".into()],
        compromised_accounts: vec![],
        first_seen: t,
        last_seen: t,
        evidence_count: 3,
        summary: "s".into(),
        reasons: vec!["because".into()],
        indicators: vec![],
        attribution: None,
    }
}

async fn save(store: &Store, incident: &Incident) {
    let mut tx = store.begin_intake().await.expect("begin");
    tx.save_incident(incident).await.expect("save");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_resolved_incident_takes_no_more_evidence_and_its_change_is_on_the_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha", Sector::Hospital))
        .await
        .expect("alpha");
    let key = "password_spray:198.51.100.0/24";
    save(&store, &incident(a.id, "inc-a", key)).await;
    let since: Timestamp = "2026-11-19T09:00:00Z".parse().expect("time");

    let mut tx = store.begin_intake().await.expect("begin");
    let open = tx.open_incident(a.id, key, since).await.expect("open");
    assert_eq!(open.map(|i| i.id), Some("inc-a".to_owned()));
    drop(tx);

    let changed = store
        .change_state(
            a.id,
            "inc-a",
            IncidentState::Resolved,
            None,
            Some("reset"),
            "org:1",
        )
        .await
        .expect("resolve");
    assert!(
        matches!(&changed, StateChange::Changed(i) if i.state == IncidentState::Resolved),
        "{changed:?}"
    );
    let mut tx = store.begin_intake().await.expect("begin");
    assert_eq!(
        tx.open_incident(a.id, key, since).await.expect("open"),
        None,
        "a resolved incident is not extended: the attack coming back opens a new one"
    );
    drop(tx);

    let again = store
        .change_state(
            a.id,
            "inc-a",
            IncidentState::Acknowledged,
            None,
            None,
            "org:1",
        )
        .await
        .expect("ack");
    assert_eq!(
        again,
        StateChange::Refused {
            current: IncidentState::Resolved
        }
    );
    let timeline = store
        .timeline(a.id, "inc-a", 100)
        .await
        .expect("timeline")
        .expect("exists");
    assert_eq!(timeline.len(), 1, "{timeline:?}");
    assert_eq!(timeline[0].kind, EventKind::State);
    assert_eq!(timeline[0].actor, "org:1");
    assert_eq!(timeline[0].detail["from"], "notified");
    assert_eq!(timeline[0].detail["to"], "resolved");
    assert_eq!(timeline[0].detail["note"], "reset");
}

#[tokio::test]
async fn another_organisation_can_neither_change_nor_read_an_incident() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha", Sector::Hospital))
        .await
        .expect("alpha");
    let (b, _) = store
        .create_organisation(&org("Bravo", Sector::Hospital))
        .await
        .expect("bravo");
    save(&store, &incident(a.id, "inc-a", "brute_force:x")).await;
    let refused = store
        .change_state(
            b.id,
            "inc-a",
            IncidentState::FalsePositive,
            Some("ours"),
            None,
            "org:2",
        )
        .await
        .expect("change");
    assert_eq!(refused, StateChange::NotFound);
    assert_eq!(store.timeline(b.id, "inc-a", 10).await.expect("read"), None);
    assert!(store.false_positives().await.expect("fp").is_empty());

    store
        .set_notify_settings(
            a.id,
            &NotifySettings {
                quiet_hours: Some("22:00-07:00".into()),
                timezone: Some("Europe/Paris".into()),
                ..NotifySettings::default()
            },
        )
        .await
        .expect("settings");
    assert_eq!(
        store.notify_settings(b.id).await.expect("b"),
        NotifySettings::default()
    );
    assert_eq!(
        store
            .notify_settings(a.id)
            .await
            .expect("a")
            .timezone
            .as_deref(),
        Some("Europe/Paris")
    );
}

#[tokio::test]
async fn false_positives_are_counted_by_detector_with_their_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha", Sector::Hospital))
        .await
        .expect("alpha");
    for (id, reason) in [("i1", "pen test"), ("i2", "pen test"), ("i3", "vpn egress")] {
        save(&store, &incident(a.id, id, id)).await;
        store
            .change_state(
                a.id,
                id,
                IncidentState::FalsePositive,
                Some(reason),
                None,
                "org:1",
            )
            .await
            .expect("fp");
    }
    let report = store.false_positives().await.expect("report");
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].kind, DetectionKind::PasswordSpray);
    assert_eq!(report[0].count, 3);
    assert_eq!(report[0].reasons[0].reason, "pen test");
    assert_eq!(report[0].reasons[0].count, 2);
}

#[tokio::test]
async fn campaign_reach_counts_other_open_incidents_by_sector() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha", Sector::Hospital))
        .await
        .expect("a");
    let (b, _) = store
        .create_organisation(&org("Bravo", Sector::Hospital))
        .await
        .expect("b");
    let (c, _) = store
        .create_organisation(&org("Charlie", Sector::Humanitarian))
        .await
        .expect("c");
    let (d, _) = store
        .create_organisation(&org("Delta", Sector::Hospital))
        .await
        .expect("d");
    let key = "phishing:evil.example";
    for (o, id) in [(a.id, "a"), (b.id, "b"), (c.id, "c"), (d.id, "d")] {
        save(&store, &incident(o, id, key)).await;
    }
    store
        .change_state(d.id, "d", IncidentState::Resolved, None, None, "org:4")
        .await
        .expect("resolve");
    let since: Timestamp = "2026-11-13T09:00:00Z".parse().expect("time");
    let mut tx = store.begin_intake().await.expect("begin");
    let reach = tx.campaign_reach(a.id, key, since).await.expect("reach");
    assert_eq!(reach.other_organisations, 2, "b and c; d's is closed");
    assert_eq!(reach.same_sector, 1, "b");
}
