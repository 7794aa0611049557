//! The service end to end: `tocsin serve` as a child process on an ephemeral port, real
//! HTTP requests, a real webhook receiver, and crashes by SIGKILL.

mod support;

use jiff::{SignedDuration, Timestamp};
use scenario::{BruteForce, PasswordSpray, brute_force, password_spray, render_graph, render_sshd};
use support::Harness;

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// Graph JSON lines of a brute force: `failures` bad passwords then a success.
fn brute_force_lines(account: &str, failures: u32, start: &str) -> Vec<String> {
    let mut attack = BruteForce::new(
        account,
        "198.51.100.23".parse().expect("ip"),
        at(start),
        failures,
        SignedDuration::from_secs(5),
    );
    attack.then_success = true;
    brute_force(&attack).iter().map(render_graph).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_become_one_incident_per_attack_delivered_signed_and_only_to_their_organisation() {
    let mut h = Harness::start(0).await;
    let (api, receiver, operator) = (&h.api, &h.receiver, &h.operator);

    let (a_id, a_key, a_secret) = api
        .enrol(operator, "Alpha", &format!("{}/alpha", receiver.base))
        .await;
    let (_b_id, b_key, _) = api
        .enrol(operator, "Bravo", &format!("{}/bravo", receiver.base))
        .await;

    // Keys act only within their role.
    let (status, body) = api
        .post_json("/api/v1/orgs", &a_key, serde_json::json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = api.get("/api/v1/incidents", "tsn_0000").await;
    assert_eq!(status, 401);
    let (status, _) = api.get("/api/v1/incidents", operator).await;
    assert_eq!(status, 403);

    // 12 bad passwords and a success, with a malformed line and a noise line among them.
    let mut lines = brute_force_lines("nurse.kelly@alpha.example", 12, "2026-11-20T09:00:00Z");
    lines.insert(3, "{\"createdDateTime\": \"2026-11-20T09:00:00Z\"".into());
    lines.insert(
        5,
        "Nov 20 09:00:01 gw CRON[88]: (root) CMD (run-parts /etc/cron.hourly)".into(),
    );
    let (status, report) = api
        .post_text("/api/v1/signins", &a_key, lines.join("\n"))
        .await;
    assert_eq!(status, 207, "{report}");
    assert_eq!(report["accepted"], 13, "{report}");
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["ignored"], 1, "{report}");
    assert_eq!(report["errors"][0]["line"], 4, "{report}");
    assert!(
        report["errors"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("JSON"),
        "{report}"
    );
    assert_eq!(report["incidents_opened"], 1, "{report}");

    // Pushing the same records again adds nothing.
    let (status, report) = api
        .post_text("/api/v1/signins", &a_key, lines[..3].join("\n"))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["accepted"].as_u64(), report["duplicates"].as_u64()),
        (Some(0), Some(3)),
        "{report}"
    );

    let (status, listed) = api.get("/api/v1/incidents", &a_key).await;
    assert_eq!(status, 200);
    let incidents = listed["incidents"].as_array().expect("list");
    assert_eq!(incidents.len(), 1, "{listed}");
    let incident = &incidents[0];
    assert_eq!(incident["kind"], "brute_force");
    assert_eq!(incident["technique"], "T1110.001");
    assert_eq!(incident["severity"], "critical");
    assert_eq!(
        incident["accounts"],
        serde_json::json!(["nurse.kelly@alpha.example"])
    );
    assert_eq!(incident["sources"], serde_json::json!(["198.51.100.23"]));
    assert_eq!(
        incident["compromised_accounts"],
        serde_json::json!(["nurse.kelly@alpha.example"])
    );
    assert_eq!(incident["evidence_count"], 13);
    let evidence = incident["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.len(), 13);
    assert_eq!(
        evidence
            .iter()
            .filter(|e| e["outcome"] == "failure")
            .count(),
        12
    );
    assert!(
        evidence
            .iter()
            .all(|e| e["account"] == "nurse.kelly@alpha.example"
                && e["source_ip"] == "198.51.100.23")
    );
    let incident_id = incident["id"].as_str().expect("id").to_owned();

    // The notification: one delivery, to Alpha's receiver, signed with Alpha's secret.
    let delivered = receiver.wait_for_delivered(1, 30).await;
    assert_eq!(delivered.len(), 1);
    let note = &delivered[0];
    assert_eq!(note.path, "/alpha");
    assert_eq!(note.event, "incident.opened");
    let now = Timestamp::now().as_second();
    notify::webhook::verify(&a_secret, &note.signature, &note.body, now, 300)
        .expect("signature verifies");
    assert!(notify::webhook::verify("whsec_wrong", &note.signature, &note.body, now, 300).is_err());
    let payload = note.json();
    assert_eq!(payload["delivery_id"], note.delivery_id.as_str());
    assert_eq!(payload["organisation"]["id"], a_id);
    assert_eq!(payload["incident"]["id"], incident_id.as_str());
    assert_eq!(payload["incident"]["severity"], "critical");
    assert_eq!(payload["evidence"].as_array().map(Vec::len), Some(13));
    assert!(
        payload["recommended_actions"][0]
            .as_str()
            .expect("action")
            .contains("reset their passwords")
    );
    assert!(
        python_verifier_from_the_docs(&a_secret, &note.signature, &note.body),
        "docs/webhooks.md's Python accepts it"
    );
    assert!(
        !python_verifier_from_the_docs("whsec_wrong", &note.signature, &note.body),
        "and refuses a wrong secret"
    );

    // Bravo sees nothing of Alpha's, by list or by id.
    let (status, listed) = api.get("/api/v1/incidents", &b_key).await;
    assert_eq!(
        (status, listed["incidents"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _) = api
        .get(&format!("/api/v1/incidents/{incident_id}"), &b_key)
        .await;
    assert_eq!(status, 404);
    let (status, one) = api
        .get(&format!("/api/v1/incidents/{incident_id}"), &a_key)
        .await;
    assert_eq!((status, one["evidence_count"].as_u64()), (200, Some(13)));

    // The same attack pushed with Bravo's key is Bravo's own incident and notification.
    let (status, report) = api
        .post_text("/api/v1/signins", &b_key, lines.join("\n"))
        .await;
    assert_eq!(
        (status, report["incidents_opened"].as_u64()),
        (207, Some(1)),
        "{report}"
    );
    let delivered = receiver.wait_for_delivered(2, 30).await;
    assert_eq!(delivered[1].path, "/bravo");
    assert_ne!(delivered[1].json()["incident"]["id"], incident_id.as_str());
    let (_, listed) = api.get("/api/v1/incidents", &a_key).await;
    assert_eq!(
        listed["incidents"][0]["evidence_count"], 13,
        "Alpha's incident is untouched: {listed}"
    );

    // A password spray over sshd lines, in the same service.
    let accounts: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
    let mut spray = PasswordSpray::new(
        "203.0.113.66".parse().expect("ip"),
        &accounts,
        2,
        at("2026-11-21T02:00:00Z"),
        SignedDuration::from_secs(20),
    );
    spray.format = model::Format::Sshd;
    spray.protocol = model::Protocol::Ssh;
    let sshd: Vec<String> = password_spray(&spray)
        .iter()
        .map(|s| render_sshd(s, "gw"))
        .collect();
    let (status, report) = api
        .post_text("/api/v1/signins", &a_key, sshd.join("\n"))
        .await;
    assert_eq!(
        (
            status,
            report["accepted"].as_u64(),
            report["incidents_opened"].as_u64()
        ),
        (200, Some(24), Some(1)),
        "{report}"
    );
    let (_, listed) = api.get("/api/v1/incidents", &a_key).await;
    // Most recently active first.
    let spray_incident = &listed["incidents"][0];
    assert_eq!(spray_incident["kind"], "password_spray", "{listed}");
    assert_eq!(listed["incidents"][1]["kind"], "brute_force", "{listed}");
    assert_eq!(spray_incident["technique"], "T1110.003");
    assert_eq!(
        spray_incident["sources"],
        serde_json::json!(["203.0.113.66"])
    );
    assert_eq!(
        spray_incident["accounts"].as_array().map(Vec::len),
        Some(12)
    );
    h.server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_delivery_loses_nothing_and_keeps_the_delivery_id() {
    // The receiver is down for the first attempt (answers 500).
    let mut h = Harness::start(1).await;
    let (api, receiver, operator) = (&h.api, h.receiver.clone(), &h.operator);
    let (_, key, secret) = api
        .enrol(operator, "Charlie", &format!("{}/charlie", receiver.base))
        .await;

    let lines = brute_force_lines("ward.clerk@charlie.example", 10, "2026-11-20T10:00:00Z");
    let (status, report) = api
        .post_text("/api/v1/signins", &key, lines.join("\n"))
        .await;
    assert_eq!(
        (status, report["incidents_opened"].as_u64()),
        (200, Some(1)),
        "{report}"
    );

    // Wait for the failed first attempt, then crash before the retry.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while receiver.all().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery attempt"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    h.crash_and_restart().await;
    let first = receiver.all()[0].clone();
    assert_eq!(first.answered, 500);
    let delivered = receiver.wait_for_delivered(1, 30).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0].delivery_id, first.delivery_id,
        "the retry after the crash carries the same delivery id"
    );
    assert_eq!(delivered[0].body, first.body, "and the same body");
    let now = Timestamp::now().as_second();
    notify::webhook::verify(
        &secret,
        &delivered[0].signature,
        &delivered[0].body,
        now,
        300,
    )
    .expect("signature");
    h.server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_accepted_before_a_crash_still_count_towards_detection_after_it() {
    let mut h = Harness::start(0).await;
    let (api, receiver, operator) = (&h.api, h.receiver.clone(), &h.operator);
    let (_, key, _) = api
        .enrol(operator, "Delta", &format!("{}/delta", receiver.base))
        .await;

    // 14 failures: below the threshold of 10 in the first half, above it together.
    let mut attack = BruteForce::new(
        "pharmacist@delta.example",
        "198.51.100.77".parse().expect("ip"),
        at("2026-11-20T11:00:00Z"),
        14,
        SignedDuration::from_secs(10),
    );
    attack.seed = 9;
    attack.then_success = true;
    let lines: Vec<String> = brute_force(&attack).iter().map(render_graph).collect();
    let (status, report) = api
        .post_text("/api/v1/signins", &key, lines[..7].join("\n"))
        .await;
    assert_eq!(
        (
            status,
            report["accepted"].as_u64(),
            report["detections"].as_u64()
        ),
        (200, Some(7), Some(0)),
        "{report}"
    );
    h.crash_and_restart().await;
    let api = &h.api;
    let (status, report) = api
        .post_text("/api/v1/signins", &key, lines[7..14].join("\n"))
        .await;
    assert_eq!(
        (status, report["incidents_opened"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    let (_, listed) = api.get("/api/v1/incidents", &key).await;
    assert_eq!(
        listed["incidents"][0]["evidence_count"], 14,
        "the 7 sign-ins from before the crash are evidence too: {listed}"
    );
    let opened = receiver.wait_for_delivered(1, 30).await;
    assert_eq!(opened[0].event, "incident.opened");
    assert_eq!(opened[0].json()["incident"]["severity"], "medium");

    // The attacker's success, pushed later, escalates the same incident and says so.
    let (status, report) = api
        .post_text("/api/v1/signins", &key, lines[14].clone())
        .await;
    assert_eq!(
        (
            status,
            report["incidents_opened"].as_u64(),
            report["incidents_escalated"].as_u64()
        ),
        (200, Some(0), Some(1)),
        "{report}"
    );
    let delivered = receiver.wait_for_delivered(2, 30).await;
    let escalation = delivered[1].json();
    assert_eq!(delivered[1].event, "incident.escalated");
    assert_ne!(delivered[1].delivery_id, delivered[0].delivery_id);
    assert_eq!(
        escalation["incident"]["id"],
        opened[0].json()["incident"]["id"]
    );
    assert_eq!(escalation["incident"]["severity"], "critical");
    assert_eq!(
        escalation["incident"]["compromised_accounts"],
        serde_json::json!(["pharmacist@delta.example"])
    );
    assert_eq!(
        escalation["evidence"].as_array().map(Vec::len),
        Some(1),
        "the escalating sign-in: {escalation}"
    );
    assert_eq!(escalation["evidence"][0]["outcome"], "success");
    h.server.kill().await;
}

/// Runs the Python verifier printed in docs/webhooks.md, so the documentation cannot
/// drift from what the service sends.
fn python_verifier_from_the_docs(secret: &str, header: &str, body: &[u8]) -> bool {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/webhooks.md"
    ))
    .expect("docs");
    let start = docs.find("```python\n").expect("a python block") + "```python\n".len();
    let code = &docs[start..start + docs[start..].find("```").expect("block end")];
    let program = format!(
        "{code}\nimport sys\nbody = sys.stdin.buffer.read()\nsys.exit(0 if verify(sys.argv[1], sys.argv[2], body) else 1)\n"
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &program, secret, header])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/test installs it)");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), body).expect("write body");
    child.wait().expect("python3 runs").success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_across_organisations_tells_each_only_about_itself() {
    let mut h = Harness::start(0).await;
    let names = ["Echo", "Foxtrot", "Golf"];
    let mut orgs = Vec::new();
    for name in names {
        let lower = name.to_lowercase();
        orgs.push(h.enrol(name, &lower).await);
    }
    let targets: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            (0..4)
                .map(|i| format!("staff{i}@{}.example", n.to_lowercase()))
                .collect()
        })
        .collect();
    let campaign = scenario::CrossOrgCampaign::new(
        targets.clone(),
        at("2026-11-20T02:00:00Z"),
        SignedDuration::from_secs(90),
    );
    // Each organisation pushes its own lines, in time order, as its shipper would.
    for (o, sign_in) in scenario::cross_org_campaign(&campaign) {
        let (status, report) = h
            .api
            .post_text("/api/v1/signins", &orgs[o].1, render_graph(&sign_in))
            .await;
        assert_eq!(status, 200, "{report}");
    }
    // The campaign is reported once event time has moved on by an hour.
    let later = BruteForce::new(
        "night.shift@echo.example",
        "192.0.2.10".parse().expect("ip"),
        at("2026-11-20T04:00:00Z"),
        1,
        SignedDuration::from_secs(1),
    );
    let line = render_graph(&brute_force(&later)[0]);
    let (status, _) = h.api.post_text("/api/v1/signins", &orgs[0].1, line).await;
    assert_eq!(status, 200);

    let delivered = h.receiver.wait_for_delivered(3, 30).await;
    for (o, name) in names.iter().enumerate() {
        let (_, listed) = h.api.get("/api/v1/incidents", &orgs[o].1).await;
        let campaign = listed["incidents"]
            .as_array()
            .expect("list")
            .iter()
            .find(|i| i["kind"] == "cross_org_campaign")
            .unwrap_or_else(|| panic!("{name}: no campaign incident in {listed}"));
        let mine: Vec<String> = targets[o].clone();
        assert_eq!(campaign["accounts"], serde_json::json!(mine), "{name}");
        let note = delivered
            .iter()
            .find(|r| r.path == format!("/{}", name.to_lowercase()))
            .unwrap_or_else(|| panic!("{name} was not notified"));
        let body = String::from_utf8_lossy(&note.body);
        for (other, other_name) in names.iter().enumerate().filter(|(i, _)| *i != o) {
            assert!(
                !body.contains(other_name),
                "{name}'s notification names {other_name}"
            );
            for account in &targets[other] {
                assert!(
                    !body.contains(account.as_str()),
                    "{name}'s notification shows {account}"
                );
            }
        }
        assert!(
            body.contains("2 other organisations"),
            "{name} is told how many others: {body}"
        );
    }
    h.server.kill().await;
}
