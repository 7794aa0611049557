//! The store's promises, through its public API: tenancy, idempotent intake, hashed keys,
//! transactional outbox, and refusal of a newer schema.

use model::{
    Format, Incident, IncidentState, OrgId, Origin, Outcome, Protocol, Sector, SignIn, Timestamp,
};
use sqlx::Connection;
use tocsin_store::{NewDelivery, NewOrganisation, Principal, Store, StoreError};

fn org(name: &str) -> NewOrganisation {
    NewOrganisation {
        name: name.into(),
        sector: Sector::Hospital,
        country: "ie".into(),
        domains: vec![
            format!("{}.example", name.to_lowercase()),
            "Dup.example.".into(),
            "dup.example".into(),
        ],
        webhook_url: None,
        language: tocsin_store::Language::En,
    }
}

fn sign_in(record: &str) -> SignIn {
    SignIn {
        time: "2026-11-20T09:00:00Z".parse().expect("time"),
        account: "alice@a.example".into(),
        source_ip: Some("198.51.100.1".parse().expect("ip")),
        outcome: Outcome::Failure,
        failure_kind: Some(model::FailureKind::BadPassword),
        protocol: Protocol::Imap,
        app: Some("Office 365 Exchange Online".into()),
        result_code: Some("50126".into()),
        reason: None,
        record_id: Some(record.into()),
        country: Some("NL".into()),
        asn: Some(64496),
        user_agent: Some("python-requests/2.31".into()),
        format: Format::EntraGraph,
        origin: Origin::RequestLine {
            request: "r".into(),
            line: 1,
        },
        authentication: None,
    }
}

fn incident(org: OrgId, id: &str, evidence_count: u64) -> Incident {
    let t: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    Incident {
        id: id.into(),
        org,
        kind: model::DetectionKind::BruteForce,
        technique: model::DetectionKind::BruteForce.technique(),
        severity: model::Severity::Medium,
        state: IncidentState::New,
        campaign_key: "brute_force:alice@a.example".into(),
        accounts: vec!["alice@a.example".into()],
        sources: vec!["198.51.100.1".into()],
        compromised_accounts: vec![],
        first_seen: t,
        last_seen: t,
        evidence_count,
        summary: "s".into(),
        reasons: vec!["because".into()],
        indicators: vec![],
        attribution: None,
    }
}

#[tokio::test]
async fn organisations_keys_and_incidents_stay_with_their_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, a_key) = store
        .create_organisation(&org("Alpha"))
        .await
        .expect("alpha");
    let (b, b_key) = store
        .create_organisation(&org("Bravo"))
        .await
        .expect("bravo");
    assert_eq!(a.country, "IE");
    assert_eq!(
        a.domains,
        vec!["alpha.example".to_string(), "dup.example".to_string()]
    );
    assert_eq!(
        store.authenticate(&a_key).await.expect("auth"),
        Some(Principal::Organisation(a.id))
    );
    assert_eq!(
        store.authenticate(&b_key).await.expect("auth"),
        Some(Principal::Organisation(b.id))
    );
    assert_eq!(
        store.authenticate("tsn_not-a-key").await.expect("auth"),
        None
    );

    let mut tx = store.begin_intake().await.expect("begin");
    let first = tx
        .insert_signin(a.id, &sign_in("r1"))
        .await
        .expect("insert")
        .expect("new");
    assert_eq!(
        tx.insert_signin(a.id, &sign_in("r1"))
            .await
            .expect("insert"),
        None,
        "same record twice"
    );
    let bs = tx
        .insert_signin(b.id, &sign_in("r1"))
        .await
        .expect("insert")
        .expect("same id, other org");
    tx.save_incident(&incident(a.id, "inc-a", 1))
        .await
        .expect("save");
    tx.add_evidence("inc-a", &[first]).await.expect("evidence");
    // Another organisation's sign-ins are not read back through an incident of A.
    assert!(tx.signins(a.id, &[bs]).await.expect("read").is_empty());
    tx.commit().await.expect("commit");

    assert_eq!(store.incidents(a.id, 10).await.expect("list").len(), 1);
    assert!(store.incidents(b.id, 10).await.expect("list").is_empty());
    assert!(store.incident(b.id, "inc-a").await.expect("one").is_none());
    assert!(
        store
            .evidence(b.id, "inc-a", 10)
            .await
            .expect("evidence")
            .is_empty()
    );
    let evidence = store.evidence(a.id, "inc-a", 10).await.expect("evidence");
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        evidence[0].sign_in,
        sign_in("r1"),
        "a stored sign-in reads back unchanged"
    );

    // Revoked keys stop working at once.
    let prefix: String = a_key.chars().take(12).collect();
    assert_eq!(
        store.revoke_api_key(a.id, &prefix).await.expect("revoke"),
        1
    );
    assert_eq!(store.authenticate(&a_key).await.expect("auth"), None);
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let key = store
        .create_api_key(Principal::Operator)
        .await
        .expect("key");
    assert!(key.starts_with("tsn_") && key.len() == 68, "{key}");
    store.close().await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    let secret = &key[4..];
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the token is nowhere on disk"
    );
}

#[tokio::test]
async fn a_rolled_back_intake_leaves_no_trace_and_a_committed_one_queues_its_notification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha"))
        .await
        .expect("alpha");
    let delivery = |id: &str| NewDelivery {
        delivery_id: id.into(),
        org: a.id,
        incident_id: Some("inc".into()),
        channel: "webhook".into(),
        target: None,
        event: "incident.opened".into(),
        payload: "{}".into(),
        not_before: "2026-01-01T00:00:00Z".parse().expect("time"),
    };
    let mut tx = store.begin_intake().await.expect("begin");
    tx.insert_signin(a.id, &sign_in("r1"))
        .await
        .expect("insert");
    tx.enqueue(&delivery("d1")).await.expect("enqueue");
    drop(tx);
    assert_eq!(store.latest_signin_time().await.expect("latest"), None);
    assert_eq!(store.outbox_counts().await.expect("counts").pending, 0);

    let mut tx = store.begin_intake().await.expect("begin");
    tx.enqueue(&delivery("d2")).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let due = store
        .due_deliveries(Timestamp::now(), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].delivery_id, "d2");
    let later = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .expect("later");
    store
        .mark_failed(due[0].id, "receiver down", Some(later))
        .await
        .expect("fail");
    assert!(
        store
            .due_deliveries(Timestamp::now(), 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        store
            .next_delivery_time()
            .await
            .expect("next")
            .map(|t| t.as_second()),
        Some(later.as_second())
    );
}

#[tokio::test]
async fn a_database_from_a_newer_tocsin_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let store_dialect = store.dialect();
    store.close().await;
    drop(store);
    // Pretend a future release migrated the database further.
    sqlx::any::install_default_drivers();
    let url = tocsin_store::raw_database_url(dir.path())
        .await
        .expect("url");
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("INSERT INTO schema_version (version) VALUES (999)")
        .execute(&mut conn)
        .await
        .expect("insert");
    conn.close().await.expect("close");
    match Store::open_for_tests(dir.path()).await {
        Err(StoreError::SchemaTooNew {
            found: 999,
            supported,
        }) if supported == tocsin_store::schema_version(store_dialect) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn replay_pages_through_every_sign_in_once_in_time_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store
        .create_organisation(&org("Alpha"))
        .await
        .expect("alpha");
    let base: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    let mut tx = store.begin_intake().await.expect("begin");
    // Inserted out of time order, with ties, as pushes from several shippers arrive.
    for i in 0..25i64 {
        let mut s = sign_in(&format!("r{i}"));
        s.time = base
            .checked_add(jiff::SignedDuration::from_secs((i * 7) % 11))
            .expect("time");
        tx.insert_signin(a.id, &s).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let since = base
        .checked_add(jiff::SignedDuration::from_secs(2))
        .expect("since");
    let mut seen = Vec::new();
    let mut last = None;
    loop {
        let page = store
            .observations_since(since, last.as_ref(), 4)
            .await
            .expect("page");
        let Some(tail) = page.last().cloned() else {
            break;
        };
        assert!(page.len() <= 4);
        seen.extend(page.into_iter().map(|o| (o.sign_in.time, o.id)));
        last = Some(tail);
    }
    let mut expected = seen.clone();
    expected.sort();
    expected.dedup();
    assert_eq!(seen, expected, "in (time, id) order without repeats");
    // (i * 7) % 11 >= 2 holds for all but the i whose offset is 0 or 1.
    let wanted = (0..25i64).filter(|i| (i * 7) % 11 >= 2).count();
    assert_eq!(seen.len(), wanted);
}

fn mail_record(sha256: &str) -> model::MailRecord {
    model::MailRecord {
        time: "2020-04-02T09:15:00Z".parse().expect("time"),
        message_id: Some("m1@example.org".into()),
        from: model::Mailbox {
            name: Some("World Health Organization".into()),
            address: "covid19@who-int.org".into(),
        },
        reply_to: None,
        subject: "COVID-19 <script>".into(),
        recipients: vec!["ana@alpha.example".into()],
        attachments: vec![],
        links: vec![],
        sha256: sha256.into(),
        origin: model::MailOrigin::Upload {
            request: "r1".into(),
            index: 1,
        },
        analysis: model::MailAnalysis {
            verdict: model::Verdict::Phishing,
            score: 60,
            reasons: vec![model::Reason {
                code: "lookalike_sender".into(),
                weight: 50,
                evidence: "From: covid19@who-int.org".into(),
            }],
        },
    }
}

#[tokio::test]
async fn mail_records_round_trip_once_and_stay_with_their_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (alpha, _) = store
        .create_organisation(&org("Alpha"))
        .await
        .expect("alpha");
    let (beta, _) = store.create_organisation(&org("Beta")).await.expect("beta");
    let record = mail_record("aa11");
    let mut tx = store.begin_intake().await.expect("tx");
    let id = tx
        .insert_mail(alpha.id, &record)
        .await
        .expect("insert")
        .expect("new");
    assert_eq!(
        tx.insert_mail(alpha.id, &record).await.expect("again"),
        None,
        "the same raw message is stored once per organisation"
    );
    assert!(
        tx.insert_mail(beta.id, &record)
            .await
            .expect("beta")
            .is_some(),
        "another organisation's copy is its own"
    );
    let incident = incident(alpha.id, "i-mail", 1);
    tx.save_incident(&incident).await.expect("save");
    tx.add_mail_evidence("i-mail", &[id]).await.expect("link");
    assert_eq!(tx.mails(beta.id, &[id]).await.expect("read"), vec![]);
    tx.commit().await.expect("commit");

    let linked = store
        .incident_mails(alpha.id, "i-mail", 10)
        .await
        .expect("read");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].record, record);
    assert_eq!(
        store
            .incident_mails(beta.id, "i-mail", 10)
            .await
            .expect("read"),
        vec![],
        "another organisation's incident shows no messages"
    );
    assert_eq!(
        store.recent_mails(beta.id, 10).await.expect("recent").len(),
        1
    );
}

/// A connector's position commits with the events up to it, or not at all.
#[tokio::test]
async fn a_checkpoint_commits_with_its_transaction_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store.create_organisation(&org("Alpha")).await.expect("org");
    assert_eq!(store.checkpoint("tail:auth.log").await.expect("read"), None);

    let mut tx = store.begin_intake().await.expect("begin");
    tx.save_checkpoint("tail:auth.log", a.id, r#"{"offset":120}"#)
        .await
        .expect("save");
    drop(tx); // rolled back: the events did not commit, nor does the position
    assert_eq!(store.checkpoint("tail:auth.log").await.expect("read"), None);

    let mut tx = store.begin_intake().await.expect("begin");
    tx.insert_signin(a.id, &sign_in("r1"))
        .await
        .expect("insert");
    tx.save_checkpoint("tail:auth.log", a.id, r#"{"offset":240}"#)
        .await
        .expect("save");
    tx.commit().await.expect("commit");
    assert_eq!(
        store
            .checkpoint("tail:auth.log")
            .await
            .expect("read")
            .as_deref(),
        Some(r#"{"offset":240}"#)
    );
}

#[tokio::test]
async fn retention_deletes_only_what_is_past_the_horizon_and_keeps_incidents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (a, _) = store.create_organisation(&org("Alpha")).await.expect("org");
    let base: Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    // 25 sign-ins an hour apart, the oldest first; the horizon falls after the tenth.
    let mut tx = store.begin_intake().await.expect("begin");
    let mut ids = Vec::new();
    for n in 0..25i64 {
        let mut s = sign_in(&format!("r{n}"));
        s.time = base
            .checked_add(jiff::SignedDuration::from_hours(n))
            .expect("time");
        ids.push(
            tx.insert_signin(a.id, &s)
                .await
                .expect("insert")
                .expect("new"),
        );
    }
    tx.save_incident(&incident(a.id, "old-attack", 25))
        .await
        .expect("incident");
    tx.add_evidence("old-attack", &ids).await.expect("evidence");
    tx.commit().await.expect("commit");

    let horizon = base
        .checked_add(jiff::SignedDuration::from_hours(10))
        .expect("horizon");
    // Batches of 4: the deletion goes on until nothing older is left.
    let deleted = store
        .delete_events_before(horizon.as_microsecond(), 4)
        .await
        .expect("retention");
    assert_eq!(deleted.sign_ins, 10);
    assert_eq!(deleted.mails, 0);
    let left = store
        .observations_since(Timestamp::MIN, None, 100)
        .await
        .expect("left");
    assert_eq!(left.len(), 15);
    assert!(left.iter().all(|o| o.sign_in.time >= horizon));
    // The incident outlives its oldest evidence, with its count.
    let incidents = store.incidents(a.id, 10).await.expect("incidents");
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].evidence_count, 25);
    // A second pass has nothing to do.
    let again = store
        .delete_events_before(horizon.as_microsecond(), 4)
        .await
        .expect("retention");
    assert_eq!(again.sign_ins, 0);
}
