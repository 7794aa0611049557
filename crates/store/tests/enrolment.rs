//! Applications, the operator's decision, domain claims and the audit log, on a real
//! SQLite file.

use model::{OrgId, Sector};
use tocsin_store::{
    ApplicationState, Contact, EnrolmentError, Language, NewApplication, Store, SubmissionLimits,
    VerificationMethod,
};

const ROOMY: SubmissionLimits = SubmissionLimits {
    max_pending: 100,
    max_per_hour: 100,
};

fn application(name: &str, domain: &str) -> NewApplication {
    NewApplication {
        name: name.into(),
        sector: Sector::Humanitarian,
        country: "fr".into(),
        language: Language::Fr,
        contacts: vec![Contact {
            name: "Ana Lima".into(),
            email: format!("ana@{domain}"),
        }],
        domains: vec![domain.to_uppercase(), format!("{domain}.")],
    }
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    (dir, store)
}

#[tokio::test]
async fn an_approved_application_becomes_an_organisation_whose_domains_wait_for_proof() {
    let (_dir, store) = store().await;
    let submitted = store
        .submit_application(
            &application("Médecins Example", "med.example"),
            ROOMY,
            "public",
        )
        .await
        .expect("submit");
    assert_eq!(submitted.country, "FR");
    assert_eq!(submitted.domains, vec!["med.example".to_string()]);
    let pending = store
        .applications(Some(ApplicationState::Pending), 10)
        .await
        .expect("list");
    assert_eq!(pending, vec![submitted.clone()]);

    let (org, key) = store
        .approve_application(submitted.id, "operator")
        .await
        .expect("approve");
    assert!(key.starts_with("tsn_"));
    let organisation = store
        .organisation(org)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(organisation.language, Language::Fr);
    assert!(
        organisation.domains.is_empty(),
        "unverified domains are not the organisation's"
    );
    let domains = store.org_domains(org).await.expect("domains");
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0].verified_at, None);

    match store.approve_application(submitted.id, "operator").await {
        Err(EnrolmentError::AlreadyDecided { state, .. }) => {
            assert_eq!(state, ApplicationState::Approved)
        }
        other => panic!("approved twice: {other:?}"),
    }
    assert!(matches!(
        store
            .reject_application(submitted.id, "late", "operator")
            .await,
        Err(EnrolmentError::AlreadyDecided { .. })
    ));

    store
        .verify_domain(org, "med.example", VerificationMethod::Dns, "org:1")
        .await
        .expect("verify");
    let organisation = store
        .organisation(org)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(organisation.domains, vec!["med.example".to_string()]);

    let actions: Vec<String> = store
        .audit_log(100, None)
        .await
        .expect("audit")
        .into_iter()
        .rev()
        .map(|e| format!("{} {}", e.actor, e.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            "public application.submitted",
            "operator application.approved",
            "org:1 domain.verified"
        ]
    );
}

#[tokio::test]
async fn rejection_needs_a_reason_and_is_final() {
    let (_dir, store) = store().await;
    let submitted = store
        .submit_application(&application("Nope", "nope.example"), ROOMY, "public")
        .await
        .expect("submit");
    assert!(matches!(
        store
            .reject_application(submitted.id, "  ", "operator")
            .await,
        Err(EnrolmentError::Invalid(_))
    ));
    let rejected = store
        .reject_application(submitted.id, "not in our constituency", "operator")
        .await
        .expect("reject");
    assert_eq!(rejected.state, ApplicationState::Rejected);
    assert_eq!(
        store.application(submitted.id).await.expect("read"),
        Some(rejected)
    );
    assert!(matches!(
        store.approve_application(submitted.id, "operator").await,
        Err(EnrolmentError::AlreadyDecided { .. })
    ));
    assert!(matches!(
        store.approve_application(999, "operator").await,
        Err(EnrolmentError::NoSuchApplication(999))
    ));
}

#[tokio::test]
async fn submissions_are_bounded_in_total_and_per_hour() {
    let (_dir, store) = store().await;
    let tight = SubmissionLimits {
        max_pending: 2,
        max_per_hour: 3,
    };
    for i in 0..2 {
        store
            .submit_application(&application("A", &format!("a{i}.example")), tight, "public")
            .await
            .expect("within bounds");
    }
    assert!(matches!(
        store
            .submit_application(&application("A", "a9.example"), tight, "public")
            .await,
        Err(EnrolmentError::TooManyPending { limit: 2 })
    ));
    store
        .reject_application(1, "duplicate", "operator")
        .await
        .expect("reject");
    store
        .submit_application(&application("A", "a3.example"), tight, "public")
        .await
        .expect("room again");
    store
        .reject_application(2, "duplicate", "operator")
        .await
        .expect("reject");
    assert!(matches!(
        store
            .submit_application(&application("A", "a4.example"), tight, "public")
            .await,
        Err(EnrolmentError::TooManySubmissions { limit: 3 })
    ));
}

#[tokio::test]
async fn malformed_applications_name_the_field() {
    let (_dir, store) = store().await;
    let cases: Vec<(NewApplication, &str)> = vec![
        (
            NewApplication {
                name: " ".into(),
                ..application("x", "x.example")
            },
            "name is empty",
        ),
        (
            NewApplication {
                contacts: vec![Contact {
                    name: "A".into(),
                    email: "not an address".into(),
                }],
                ..application("x", "x.example")
            },
            "contact email",
        ),
        (
            NewApplication {
                domains: (0..21).map(|i| format!("d{i}.example")).collect(),
                ..application("x", "x.example")
            },
            "more than 20",
        ),
        (
            NewApplication {
                domains: vec!["localhost".into()],
                ..application("x", "x.example")
            },
            "not a domain name",
        ),
        (
            NewApplication {
                country: "France".into(),
                ..application("x", "x.example")
            },
            "alpha-2",
        ),
    ];
    for (new, expected) in cases {
        match store.submit_application(&new, ROOMY, "public").await {
            Err(EnrolmentError::Invalid(message)) => {
                assert!(message.contains(expected), "{message} lacks {expected}")
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_domain_verified_by_one_organisation_cannot_be_claimed_or_verified_by_another() {
    let (_dir, store) = store().await;
    let mut orgs = Vec::new();
    for name in ["A", "B"] {
        let id = store
            .submit_application(
                &application(name, &format!("{}.example", name.to_lowercase())),
                ROOMY,
                "public",
            )
            .await
            .expect("submit")
            .id;
        orgs.push(
            store
                .approve_application(id, "operator")
                .await
                .expect("approve")
                .0,
        );
    }
    let (a, b) = (orgs[0], orgs[1]);
    // Both may claim while nobody has proved it.
    store
        .claim_domain(b, "a.example", "org:b")
        .await
        .expect("claim");
    store
        .verify_domain(a, "a.example", VerificationMethod::Dns, "org:a")
        .await
        .expect("verify");
    assert!(matches!(
        store
            .verify_domain(b, "a.example", VerificationMethod::Dns, "org:b")
            .await,
        Err(EnrolmentError::DomainTaken { .. })
    ));
    assert!(matches!(
        store.claim_domain(b, "A.example.", "org:b").await,
        Err(EnrolmentError::DomainTaken { .. })
    ));
    assert!(matches!(
        store
            .verify_domain(b, "z.example", VerificationMethod::Dns, "org:b")
            .await,
        Err(EnrolmentError::NotClaimed { .. })
    ));
    // Each organisation reads only its own audit entries.
    let of_b = store.org_audit_log(b, 100, None).await.expect("audit");
    assert!(of_b.iter().all(|e| e.org_id == Some(b)), "{of_b:?}");
    assert!(of_b.iter().any(|e| e.action == "domain.claimed"));
    let of_a = store.org_audit_log(a, 100, None).await.expect("audit");
    assert!(of_a.iter().all(|e| e.org_id == Some(a)));
    assert!(of_a.iter().any(|e| e.action == "domain.verified"));
    assert_ne!(a, OrgId(0));
}

/// Regression guard for issue 4's migration: organisations enrolled before review existed
/// keep their domains, verified by the operator who gave them.
#[tokio::test]
async fn a_database_from_before_enrolment_keeps_its_domains_verified() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join(Store::DATABASE_FILE))
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("pool");
    sqlx::raw_sql("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("version table");
    let before = [
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/sqlite/0002_signin_asn_user_agent.sql"),
        include_str!("../migrations/sqlite/0003_incident_reasons.sql"),
        include_str!("../migrations/sqlite/0004_mails.sql"),
        include_str!("../migrations/sqlite/0005_outbox_channels.sql"),
    ];
    for (i, sql) in before.iter().enumerate() {
        sqlx::raw_sql(*sql)
            .execute(&pool)
            .await
            .expect("old migration");
        sqlx::query("INSERT INTO schema_version (version) VALUES (?)")
            .bind(i as i64 + 1)
            .execute(&pool)
            .await
            .expect("version");
    }
    sqlx::raw_sql(
        "INSERT INTO organisations (id, name, sector, country, created_at) \
         VALUES (7, 'Legacy', 'hospital', 'IE', '2026-01-01T00:00:00Z'); \
         INSERT INTO org_domains (org_id, domain) VALUES (7, 'legacy.example');",
    )
    .execute(&pool)
    .await
    .expect("old rows");
    pool.close().await;

    // The SQLite history only: PostgreSQL starts at the current schema.
    let store = Store::open(dir.path()).await.expect("migrated");
    let org = store
        .organisation(OrgId(7))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(org.domains, vec!["legacy.example".to_string()]);
    assert_eq!(org.language, Language::En);
    let domains = store.org_domains(OrgId(7)).await.expect("domains");
    assert_eq!(domains[0].method, Some(VerificationMethod::Operator));
    assert_eq!(
        domains[0].verified_at,
        Some("2026-01-01T00:00:00Z".parse().expect("time"))
    );
}
