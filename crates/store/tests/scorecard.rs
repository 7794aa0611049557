//! The weekly tally behind the governance metrics, on telemetry whose answers are known:
//! every count is checked against what was written, week boundaries included, and one
//! organisation's tally never includes another's rows.

use model::{
    Authentication, DetectionKind, FailureKind, Format, Incident, IncidentState, OrgId, Origin,
    Outcome, Protocol, Sector, SignIn, Timestamp,
};
use scorecard::{DomainPosture, Week, posture};
use tocsin_store::{EventKind, NewOrganisation, Store};

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn organisation(name: &str) -> NewOrganisation {
    NewOrganisation {
        name: name.into(),
        sector: Sector::Hospital,
        country: "fr".into(),
        domains: vec![format!("{}.example", name.to_lowercase())],
        webhook_url: None,
        language: tocsin_store::Language::En,
    }
}

struct Attempt {
    at: &'static str,
    account: &'static str,
    outcome: Outcome,
    failure: Option<FailureKind>,
    protocol: Protocol,
    strength: Option<Authentication>,
    format: Format,
}

fn sign_in(n: usize, a: &Attempt) -> SignIn {
    SignIn {
        time: t(a.at),
        account: a.account.into(),
        source_ip: Some("198.51.100.7".parse().expect("ip")),
        outcome: a.outcome,
        failure_kind: a.failure,
        protocol: a.protocol,
        app: None,
        result_code: None,
        reason: None,
        record_id: Some(format!("r{n}")),
        country: None,
        asn: None,
        user_agent: None,
        authentication: a.strength,
        format: a.format,
        origin: Origin::RequestLine {
            request: "known-answers".into(),
            line: n as u64,
        },
    }
}

fn attempts() -> Vec<Attempt> {
    use Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    let ok = |at, account, protocol, strength| Attempt {
        at,
        account,
        outcome: Outcome::Success,
        failure: None,
        protocol,
        strength,
        format: Format::EntraGraph,
    };
    let fail = |at, account, failure, protocol, format| Attempt {
        at,
        account,
        outcome: Outcome::Failure,
        failure: Some(failure),
        protocol,
        strength: None,
        format,
    };
    let mut all = vec![
        ok(
            "2026-11-24T08:00:00Z",
            "a1@alpha.example",
            Protocol::Browser,
            Some(MultiFactor),
        ),
        ok(
            "2026-11-24T08:05:00Z",
            "a1@alpha.example",
            Protocol::Browser,
            Some(PhishingResistant),
        ),
        ok(
            "2026-11-24T09:00:00Z",
            "a2@alpha.example",
            Protocol::Browser,
            Some(SingleFactor),
        ),
        ok(
            "2026-11-24T09:10:00Z",
            "a2@alpha.example",
            Protocol::ModernClient,
            Some(MultiFactor),
        ),
        ok(
            "2026-11-25T09:00:00Z",
            "a3@alpha.example",
            Protocol::Browser,
            Some(PhishingResistant),
        ),
        ok(
            "2026-11-25T10:00:00Z",
            "a4@alpha.example",
            Protocol::Imap,
            None,
        ),
        ok(
            "2026-11-29T23:59:59Z",
            "a5@alpha.example",
            Protocol::Imap,
            Some(SingleFactor),
        ),
        // The weeks before and after.
        ok(
            "2026-11-22T12:00:00Z",
            "a7@alpha.example",
            Protocol::Browser,
            Some(MultiFactor),
        ),
        ok(
            "2026-11-30T00:00:00Z",
            "a8@alpha.example",
            Protocol::Browser,
            Some(SingleFactor),
        ),
    ];
    for minute in 0..3 {
        let at = [
            "2026-11-26T07:00:00Z",
            "2026-11-26T07:01:00Z",
            "2026-11-26T07:02:00Z",
        ][minute];
        all.push(fail(
            at,
            "a2@alpha.example",
            FailureKind::Locked,
            Protocol::Browser,
            Format::EntraGraph,
        ));
    }
    for at in [
        "2026-11-26T03:00:00Z",
        "2026-11-26T03:00:01Z",
        "2026-11-26T03:00:02Z",
        "2026-11-26T03:00:03Z",
        "2026-11-26T03:00:04Z",
    ] {
        all.push(fail(
            at,
            "a6@alpha.example",
            FailureKind::BadPassword,
            Protocol::Imap,
            Format::Dovecot,
        ));
    }
    all.push(Attempt {
        at: "2026-11-26T04:00:00Z",
        account: "root",
        outcome: Outcome::PreAuth,
        failure: None,
        protocol: Protocol::Ssh,
        strength: None,
        format: Format::Sshd,
    });
    all
}

fn incident(
    org: OrgId,
    id: &str,
    kind: DetectionKind,
    first_seen: &str,
    accounts: &[&str],
    compromised: &[&str],
) -> Incident {
    Incident {
        id: id.into(),
        org,
        kind,
        technique: kind.technique(),
        severity: model::Severity::High,
        state: IncidentState::Notified,
        campaign_key: format!("{}:{id}", kind.as_str()),
        accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        sources: vec!["198.51.100.7".into()],
        compromised_accounts: compromised.iter().map(|a| (*a).to_owned()).collect(),
        first_seen: t(first_seen),
        last_seen: t(first_seen),
        evidence_count: 1,
        summary: "known answers".into(),
        reasons: vec![],
        indicators: vec![],
        attribution: None,
    }
}

fn mail(
    n: usize,
    from: &str,
    verdict: model::Verdict,
    recipients: &[&str],
    reasons: &[(&str, &str)],
) -> model::MailRecord {
    model::MailRecord {
        time: t("2026-11-25T12:00:00Z"),
        message_id: Some(format!("m{n}@known.example")),
        from: model::Mailbox {
            name: None,
            address: from.into(),
        },
        reply_to: None,
        subject: format!("message {n}"),
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        attachments: vec![],
        links: vec![],
        sha256: format!("{n:064}"),
        origin: model::MailOrigin::Upload {
            request: "known-answers".into(),
            index: n as u64,
        },
        analysis: model::MailAnalysis {
            verdict,
            score: 0,
            reasons: reasons
                .iter()
                .map(|(code, evidence)| model::Reason {
                    code: (*code).into(),
                    weight: 10,
                    evidence: (*evidence).into(),
                })
                .collect(),
        },
    }
}

async fn write_telemetry(store: &Store, org: OrgId) {
    let mut tx = store.begin_intake().await.expect("begin");
    for (n, attempt) in attempts().iter().enumerate() {
        tx.insert_signin(org, &sign_in(n, attempt))
            .await
            .expect("sign-in");
    }
    let incidents = [
        incident(
            org,
            "i1",
            DetectionKind::BruteForce,
            "2026-11-24T10:00:00Z",
            &["a6@alpha.example"],
            &[],
        ),
        incident(
            org,
            "i2",
            DetectionKind::PasswordSpray,
            "2026-11-25T08:00:00Z",
            &["a1@alpha.example", "a2@alpha.example", "a6@alpha.example"],
            &["a2@alpha.example"],
        ),
        incident(
            org,
            "i3",
            DetectionKind::Phishing,
            "2026-11-25T12:00:00Z",
            &["ana@alpha.example"],
            &[],
        ),
        incident(
            org,
            "i4",
            DetectionKind::BruteForce,
            "2026-11-20T10:00:00Z",
            &["a9@alpha.example"],
            &[],
        ),
    ];
    for i in &incidents {
        tx.save_incident(i).await.expect("incident");
    }
    let sent =
        |d: &str| serde_json::json!({"event": "incident.opened", "delivery_id": d, "queued": 1});
    let held =
        serde_json::json!({"event": "incident.opened", "held_until": "x", "why": "quiet hours"});
    let to = |s: &str| serde_json::json!({"from": "notified", "to": s});
    let events = [
        (
            "i1",
            "2026-11-24T10:00:00Z",
            EventKind::Notification,
            sent("d1"),
        ),
        (
            "i1",
            "2026-11-24T12:00:00Z",
            EventKind::State,
            to("acknowledged"),
        ),
        (
            "i1",
            "2026-11-25T10:00:00Z",
            EventKind::State,
            to("resolved"),
        ),
        ("i2", "2026-11-25T09:00:00Z", EventKind::Notification, held),
        (
            "i2",
            "2026-11-25T10:00:00Z",
            EventKind::Notification,
            sent("d2"),
        ),
        (
            "i2",
            "2026-11-25T14:00:00Z",
            EventKind::State,
            to("acknowledged"),
        ),
        (
            "i3",
            "2026-11-26T00:00:00Z",
            EventKind::Notification,
            sent("d3"),
        ),
        // Notified the week before; an update this week does not make it this week's.
        (
            "i4",
            "2026-11-20T10:00:00Z",
            EventKind::Notification,
            sent("d4"),
        ),
        (
            "i4",
            "2026-11-24T10:00:00Z",
            EventKind::Notification,
            sent("d5"),
        ),
        (
            "i4",
            "2026-11-24T11:00:00Z",
            EventKind::State,
            to("acknowledged"),
        ),
    ];
    for (id, at, kind, detail) in &events {
        tx.record_event(org, id, t(at), *kind, "tocsin", detail)
            .await
            .expect("event");
    }
    let phishing = model::Verdict::Phishing;
    let mails = [
        mail(
            1,
            "it@alpha-example.com",
            phishing,
            &["ana@alpha.example", "bob@alpha.example"],
            &[(
                "lookalike_sender",
                "From: it@alpha-example.com: alpha-example.com imitates alpha.example (Alpha): one character changed",
            )],
        ),
        mail(
            2,
            "news@partner.example",
            model::Verdict::Clean,
            &[
                "ana@alpha.example",
                "carl@alpha.example",
                "someone@gmail.example",
            ],
            &[],
        ),
        mail(
            3,
            "ceo@alpha.example",
            phishing,
            &["dan@alpha.example"],
            &[("dmarc_fail", "dmarc=fail header.from=alpha.example")],
        ),
        mail(
            4,
            "covid19@who-int.org",
            model::Verdict::Suspicious,
            &["ana@alpha.example"],
            &[(
                "lookalike_sender",
                "From: covid19@who-int.org: who-int.org imitates who.int (WHO): various",
            )],
        ),
        // The organisation's own mail, passing DMARC at a trusted receiving host.
        mail(
            6,
            "payroll@alpha.example",
            model::Verdict::Clean,
            &["dan@alpha.example"],
            &[("dmarc_pass", "dmarc=pass header.from=alpha.example")],
        ),
        // The lookalike is in Reply-To: the host the evidence names counts, not From's.
        mail(
            5,
            "hr@partner.example",
            model::Verdict::Suspicious,
            &["ana@alpha.example"],
            &[(
                "lookalike_sender",
                "Reply-To: hr@alpha-exarnple.com: alpha-exarnple.com imitates alpha.example (Alpha): rn for m",
            )],
        ),
    ];
    for m in &mails {
        tx.insert_mail(org, m).await.expect("mail");
    }
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_week_is_counted_exactly_and_only_for_its_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (alpha, _) = store
        .create_organisation(&organisation("Alpha"))
        .await
        .expect("alpha");
    let (bravo, _) = store
        .create_organisation(&organisation("Bravo"))
        .await
        .expect("bravo");
    write_telemetry(&store, alpha.id).await;
    let own = DomainPosture {
        domain: "alpha.example".into(),
        spf: posture::spf(&["v=spf1 -all".into()]),
        dmarc: posture::dmarc(&["v=DMARC1; p=quarantine".into()]),
        dkim: vec![],
        error: None,
    };
    let checked = t("2026-11-27T00:00:00Z");
    store
        .record_posture(alpha.id, &own, checked)
        .await
        .expect("posture");
    let foreign = DomainPosture {
        domain: "unverified.example".into(),
        ..DomainPosture::default()
    };
    store
        .record_posture(alpha.id, &foreign, checked)
        .await
        .expect("posture");

    let week = Week::parse("2026-W48").expect("week");
    let during = t("2026-11-30T01:00:00Z");
    let c = store
        .week_counts(&alpha, week, during)
        .await
        .expect("counts");
    assert_eq!(
        c.sign_ins, 15,
        "7 successes, 3 lockouts, 5 wrong passwords; probes left out"
    );
    assert_eq!(c.successes, 7);
    assert_eq!(c.successes_with_strength, 6);
    assert_eq!(c.successes_multi_factor, 4);
    assert_eq!(c.successes_phishing_resistant, 2);
    assert_eq!((c.active_accounts, c.active_accounts_multi_factor), (4, 2));
    assert_eq!((c.legacy_successes, c.legacy_attempts), (2, 7));
    assert_eq!((c.lockouts, c.locked_accounts), (3, 1));
    assert_eq!(c.sign_in_sources, ["dovecot", "entra_graph", "sshd"]);
    assert_eq!(
        c.staff, 6,
        "successful accounts in the 28 days to the week's end"
    );
    assert_eq!(
        (c.attacks, c.attacks_succeeded, c.targeted_accounts),
        (2, 1, 3)
    );
    assert_eq!((c.messages, c.phishing_messages, c.mailboxes), (6, 2, 4));
    assert_eq!(
        c.lookalike_domains,
        ["alpha-example.com", "alpha-exarnple.com"]
    );
    assert_eq!(c.own_domain_spoofs, 1);
    assert_eq!((c.own_domain_messages, c.own_domain_dmarc_pass), (2, 1));
    assert_eq!((c.notified_incidents, c.unacknowledged), (3, 1));
    assert_eq!(
        c.acknowledge_seconds,
        Some(3 * 3600),
        "median of 2 h and 4 h"
    );
    assert_eq!(c.resolve_seconds, Some(24 * 3600));
    assert_eq!(c.domains, std::slice::from_ref(&own));
    assert_eq!(c.staff_opted_in, 0);

    // What the monthly report lists: the week's incidents by kind (i4 began the week before).
    assert_eq!(
        store
            .incidents_by_kind(alpha.id, week.start(), week.end())
            .await
            .expect("by kind"),
        [
            (DetectionKind::BruteForce, 1),
            (DetectionKind::PasswordSpray, 1),
            (DetectionKind::Phishing, 1)
        ]
    );

    // Every metric of that tally, and the score (docs/metrics.md has the formulas).
    let card = scorecard::Scorecard::of(week, &c);
    let expected: [(&str, Option<f64>, Option<f64>); 16] = [
        ("mfa_sign_ins", Some(66.7), None),             // 4 of 6
        ("mfa_accounts", Some(50.0), Some(50.0)),       // a1, a3 of a1, a2, a3, a5
        ("phishing_resistant", Some(50.0), Some(50.0)), // 2 of 4
        ("legacy_protocols", Some(28.6), Some(0.0)),    // 2 of 7; 100 − 5·28.6 < 0
        ("attack_success", Some(50.0), Some(50.0)),     // 1 of 2
        ("targeted_accounts", Some(3.0), None),
        ("lockouts", Some(3.0), None),
        ("phishing_per_1000_mailboxes", Some(500.0), None), // 2 · 1000 / 4
        ("lookalike_domains", Some(2.0), None),
        ("mail_authentication", Some(62.5), Some(62.5)), // ½·75 + ¼·100 + ¼·0
        ("own_domain_spoofs", Some(1.0), None),
        ("own_domain_dmarc_pass", Some(50.0), None), // 1 of 2
        ("time_to_acknowledge", Some(3.0), Some(65.4)), // 100·(1 − ln 3 / ln 24)
        ("time_to_resolve", Some(24.0), Some(100.0)),
        ("telemetry_coverage", Some(100.0), Some(100.0)),
        ("staff_opt_in", Some(0.0), Some(0.0)),
    ];
    let got: Vec<(&str, Option<f64>, Option<f64>)> = card
        .metrics
        .iter()
        .map(|m| (m.metric.id(), m.value, m.points))
        .collect();
    assert_eq!(got, expected);
    // (20·50 + 10·50 + 15·0 + 10·50 + 15·62.5 + 10·65.4 + 5·100 + 10·100 + 5·0) / 100
    assert_eq!(card.measured_weight, 100);
    assert_eq!(card.score, Some(50.9));
    assert_eq!(card.grade, Some(scorecard::Grade::E));
    let actions: Vec<&str> = card.actions.iter().map(|a| a.metric.id()).collect();
    assert_eq!(
        actions,
        ["legacy_protocols", "mfa_accounts", "mail_authentication"]
    );

    let empty = store
        .week_counts(&bravo, week, during)
        .await
        .expect("bravo");
    assert_eq!(
        empty,
        scorecard::WeekCounts::default(),
        "Alpha's rows are not Bravo's"
    );

    // A settled week is kept as counted; an unsettled one is counted again.
    let settled = t("2026-12-06T00:00:00Z");
    assert_eq!(
        store
            .week_counts(&alpha, week, settled)
            .await
            .expect("kept"),
        c
    );
    let late = Attempt {
        at: "2026-11-28T10:00:00Z",
        account: "a1@alpha.example",
        outcome: Outcome::Success,
        failure: None,
        protocol: Protocol::Browser,
        strength: Some(Authentication::MultiFactor),
        format: Format::EntraGraph,
    };
    let mut tx = store.begin_intake().await.expect("begin");
    tx.insert_signin(alpha.id, &sign_in(99, &late))
        .await
        .expect("late");
    tx.commit().await.expect("commit");
    assert_eq!(
        store
            .week_counts(&alpha, week, settled)
            .await
            .expect("kept")
            .successes,
        7
    );
    assert_eq!(
        store
            .week_counts(&alpha, week, during)
            .await
            .expect("recount")
            .successes,
        8
    );
}

#[tokio::test]
async fn staff_opted_in_counts_confirmations_before_the_week_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(dir.path()).await.expect("open");
    let (alpha, _) = store
        .create_organisation(&organisation("Alpha"))
        .await
        .expect("alpha");
    let token = store
        .invite_personal(
            alpha.id,
            "ana.personal@gmail.example",
            "admin@alpha.example",
            jiff::SignedDuration::from_hours(24),
            10,
        )
        .await
        .expect("invite");
    store.confirm_personal(&token).await.expect("confirm");
    let now = Timestamp::now();
    let this_week = Week::containing(now);
    let c = store
        .week_counts(&alpha, this_week, now)
        .await
        .expect("counts");
    assert_eq!(c.staff_opted_in, 1);
    let before = store
        .week_counts(&alpha, this_week.previous(), now)
        .await
        .expect("counts");
    assert_eq!(before.staff_opted_in, 0, "confirmed after that week ended");
}
