//! Channels in the store: recipients (bounded, checked, per organisation), the attempt
//! log, dead letters and their manual retry, and secret generations.

use model::{OrgId, Sector, Timestamp};
use tocsin_store::{Attempt, Language, NewDelivery, NewOrganisation, Outcome, Recipient, Store};

async fn store_with_two_orgs() -> (tempfile::TempDir, Store, OrgId, OrgId) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let mut ids = Vec::new();
    for name in ["Alpha", "Bravo"] {
        let (org, _) = store
            .create_organisation(&NewOrganisation {
                name: name.into(),
                sector: Sector::Hospital,
                country: "IE".into(),
                domains: vec![],
                webhook_url: Some("https://hooks.example/x".into()),
                language: Language::En,
            })
            .await
            .expect("create");
        ids.push(org.id);
    }
    (dir, store, ids[0], ids[1])
}

fn recipient(address: &str, language: Language) -> Recipient {
    Recipient {
        address: address.into(),
        language,
    }
}

#[tokio::test]
async fn recipients_are_per_organisation_bounded_and_checked() {
    let (_dir, store, a, b) = store_with_two_orgs().await;
    let stored = store
        .set_recipients(a, &[recipient(" SOC@Alpha.EXAMPLE ", Language::Fr)])
        .await
        .expect("set");
    assert_eq!(stored, [recipient("SOC@alpha.example", Language::Fr)]);
    assert_eq!(store.recipients(b).await.expect("list"), []);
    store
        .set_recipients(b, &[recipient("soc@bravo.example", Language::En)])
        .await
        .expect("set");
    assert_eq!(store.recipients(a).await.expect("list"), stored);
    let too_many: Vec<Recipient> = (0..=tocsin_store::MAX_RECIPIENTS)
        .map(|n| recipient(&format!("p{n}@a.example"), Language::En))
        .collect();
    assert!(store.set_recipients(a, &too_many).await.is_err());
    for bad in [
        "no-at",
        "a@b",
        "x@y.example\r\nBcc: z@evil.example",
        "<x@y.example>",
        "a b@c.example",
    ] {
        assert!(
            store
                .set_recipients(a, &[recipient(bad, Language::En)])
                .await
                .is_err(),
            "{bad:?}"
        );
    }
    let twice = [
        recipient("x@a.example", Language::En),
        recipient("X@A.example", Language::Fr),
    ];
    assert!(store.set_recipients(a, &twice).await.is_err());
    // A refused list leaves the stored one alone.
    assert_eq!(store.recipients(a).await.expect("list"), stored);
}

#[tokio::test]
async fn attempts_are_logged_dead_rows_are_listed_and_retried_by_hand() {
    let (_dir, store, a, b) = store_with_two_orgs().await;
    store
        .enqueue(&NewDelivery {
            delivery_id: "d1.mail1".into(),
            org: a,
            incident_id: Some("inc-a".into()),
            channel: "email".into(),
            target: Some("soc@alpha.example".into()),
            event: "incident.opened".into(),
            payload: "{}".into(),
            not_before: Timestamp::now(),
        })
        .await
        .expect("enqueue");
    let due = store
        .due_deliveries(Timestamp::now(), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    let id = due[0].id;
    let later = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .expect("later");
    let retry = Attempt {
        outcome: Outcome::Retry,
        detail: "451 4.3.0 try later",
        duration_ms: 12,
        retry_at: Some(later),
    };
    store.finish_attempt(id, &retry).await.expect("retry");
    assert!(
        store
            .due_deliveries(Timestamp::now(), 10)
            .await
            .expect("due")
            .is_empty()
    );
    let dead = Attempt {
        outcome: Outcome::Dead,
        detail: "550 5.1.1 no such mailbox",
        duration_ms: 7,
        retry_at: None,
    };
    store.finish_attempt(id, &dead).await.expect("dead");
    let listed = store.dead_deliveries(100).await.expect("dead");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].attempts, 2);
    assert_eq!(listed[0].org, Some(a));
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some("550 5.1.1 no such mailbox")
    );
    let log = store.delivery_attempts(id).await.expect("log");
    assert_eq!(
        log.iter()
            .map(|a| (a.attempt, a.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(1, "retry"), (2, "dead")]
    );
    // The incident's view is its organisation's only.
    assert_eq!(
        store
            .incident_deliveries(a, "inc-a")
            .await
            .expect("a")
            .len(),
        1
    );
    assert!(
        store
            .incident_deliveries(b, "inc-a")
            .await
            .expect("b")
            .is_empty()
    );
    assert_eq!(
        store.incident_attempts(a, "inc-a").await.expect("a").len(),
        2
    );
    assert!(
        store
            .incident_attempts(b, "inc-a")
            .await
            .expect("b")
            .is_empty()
    );

    assert!(
        store
            .retry_delivery(id, Timestamp::now())
            .await
            .expect("retry")
    );
    assert!(
        !store
            .retry_delivery(id, Timestamp::now())
            .await
            .expect("not dead any more")
    );
    let due = store
        .due_deliveries(Timestamp::now(), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 0, "a manual retry gets a fresh budget");
    let delivered = Attempt {
        outcome: Outcome::Delivered,
        detail: "250 queued",
        duration_ms: 3,
        retry_at: None,
    };
    store
        .finish_attempt(id, &delivered)
        .await
        .expect("delivered");
    let record = store.delivery(id).await.expect("row").expect("exists");
    assert_eq!((record.state.as_str(), record.attempts), ("delivered", 3));
    assert!(store.dead_deliveries(100).await.expect("dead").is_empty());
}

#[tokio::test]
async fn a_rotation_moves_one_organisation_to_its_next_generation() {
    let (_dir, store, a, b) = store_with_two_orgs().await;
    let before = store
        .secret_generation(a)
        .await
        .expect("read")
        .expect("org");
    assert_eq!((before.generation, before.rotated_at), (0, None));
    let after = store
        .rotate_webhook_secret(a)
        .await
        .expect("rotate")
        .expect("org");
    assert_eq!(after.generation, 1);
    assert!(after.rotated_at.is_some());
    let due_gen = store
        .secret_generation(b)
        .await
        .expect("read")
        .expect("org");
    assert_eq!(due_gen.generation, 0, "Bravo's secret did not move");
    assert!(
        store
            .rotate_webhook_secret(OrgId(999))
            .await
            .expect("rotate")
            .is_none()
    );
}
