//! Enrolment end to end through the router: the public form, the operator's review, the
//! audit log, and domains proved against a real DNS server (hickory-server on
//! 127.0.0.1, serving a zone the test edits as it goes).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use tocsin_server::{AppState, EnrolmentConfig, router};

mod common;
#[path = "common/dns.rs"]
mod dns;

use dns::Dns;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    operator: String,
    dns: Dns,
}

async fn fixture(configure: impl FnOnce(&mut EnrolmentConfig)) -> Fixture {
    let dns = Dns::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let operator = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator key");
    let mut enrolment = EnrolmentConfig {
        nameservers: vec![dns.address],
        dns_timeout: jiff::SignedDuration::from_secs(2),
        ..EnrolmentConfig::default()
    };
    configure(&mut enrolment);
    let mut state = common::state(store, Default::default()).await;
    state.enrolment = enrolment;
    Fixture {
        _dir: dir,
        state,
        operator,
        dns,
    }
}

impl Fixture {
    async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send_raw(
            method,
            path,
            key,
            "application/json",
            body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        )
        .await
    }

    async fn send_raw(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let response = router(self.state.clone())
            .oneshot(request.body(Body::from(body)).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, json)
    }

    /// Applies, and has the operator approve: the organisation's id and key.
    async fn enrol(&self, name: &str, domain: &str) -> (i64, String) {
        let (status, body) = self
            .send(
                "POST",
                "/api/v1/applications",
                None,
                Some(form(name, "FR", "hospital", &[domain])),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("id");
        let (status, body) = self
            .send(
                "POST",
                &format!("/api/v1/applications/{id}/approve"),
                Some(&self.operator),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["organisation_id"].as_i64().expect("org id"),
            body["api_key"].as_str().expect("key").to_owned(),
        )
    }
}

fn form(name: &str, country: &str, sector: &str, domains: &[&str]) -> Value {
    json!({
        "name": name,
        "sector": sector,
        "country": country,
        "language": "fr",
        "contacts": [{"name": "Ana Lima", "email": "ana.lima@contact.example"}],
        "domains": domains,
    })
}

fn message(body: &Value) -> String {
    body["error"].as_str().unwrap_or_default().to_owned()
}

const MAIL: &str = "From: Payroll <payroll@sender.test>\r\nTo: nurse@alpha.example\r\nSubject: Hello\r\nMessage-ID: <m1@sender.test>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nHello.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_is_reviewed_enrolled_and_proves_its_domain_with_every_step_audited() {
    let f = fixture(|_| {}).await;

    // Anyone may apply; nobody but an operator may read applications.
    let (status, applied) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("Hôpital Alpha", "fr", "hospital", &["Alpha.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{applied}");
    assert_eq!(applied["state"], "pending");
    assert_eq!(applied["domains"], json!(["alpha.example"]));
    let id = applied["id"].as_i64().expect("id");
    let (status, _) = f.send("GET", "/api/v1/applications", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, listed) = f
        .send(
            "GET",
            "/api/v1/applications?state=pending",
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["applications"][0]["id"], id, "{listed}");
    let (status, listed) = f
        .send(
            "GET",
            "/api/v1/applications?state=approved",
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["applications"], json!([]));

    // Approval creates the organisation and its key, once.
    let (status, approved) = f
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/approve"),
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{approved}");
    let key = approved["api_key"].as_str().expect("key").to_owned();
    let record = approved["records"][0].clone();
    assert_eq!(record["name"], "_tocsin.alpha.example");
    let (status, again) = f
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/approve"),
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(message(&again).contains("already approved"), "{again}");
    let (status, again) = f
        .send(
            "POST",
            &format!("/api/v1/applications/{id}/reject"),
            Some(&f.operator),
            Some(json!({"reason": "late"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (status, own) = f.send("GET", "/api/v1/org", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["language"], "fr");
    assert_eq!(
        own["domains"],
        json!([]),
        "not the organisation's before proof: {own}"
    );

    // Mail to an unproved domain is judged and forgotten.
    let (status, judged) = f
        .send_raw(
            "POST",
            "/api/v1/mail",
            Some(&key),
            "message/rfc822",
            MAIL.into(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{judged}");
    assert_eq!(
        judged["messages"][0]["disposition"], "not_enrolled",
        "{judged}"
    );

    let (status, domains) = f.send("GET", "/api/v1/org/domains", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(domains["domains"][0]["verified"], false, "{domains}");
    assert_eq!(domains["domains"][0]["record"], record, "{domains}");
    let expected = record["value"].as_str().expect("value").to_owned();
    assert!(expected.starts_with("tocsin-verification="), "{expected}");

    // No record at all.
    let verify = "/api/v1/org/domains/alpha.example/verify";
    let (status, failed) = f.send("POST", verify, Some(&key), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{failed}");
    assert!(message(&failed).contains(&expected), "{failed}");
    assert!(message(&failed).contains("no TXT record"), "{failed}");

    // A wrong token is named beside the expected one.
    f.dns
        .publish_txt("_tocsin.alpha.example", "tocsin-verification=0000")
        .await;
    let (status, failed) = f.send("POST", verify, Some(&key), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{failed}");
    assert!(message(&failed).contains(&expected), "{failed}");
    assert!(
        message(&failed).contains("tocsin-verification=0000"),
        "{failed}"
    );

    // The right one, among others at the same name.
    f.dns.publish_txt("_tocsin.alpha.example", &expected).await;
    let (status, verified) = f.send("POST", verify, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["method"], "dns");
    let (_, own) = f.send("GET", "/api/v1/org", Some(&key), None).await;
    assert_eq!(own["domains"], json!(["alpha.example"]), "{own}");

    // Mail intake now takes the domain as the organisation's.
    let second = MAIL.replace("<m1@", "<m2@");
    let (status, judged) = f
        .send_raw(
            "POST",
            "/api/v1/mail",
            Some(&key),
            "message/rfc822",
            second.into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{judged}");
    assert_eq!(judged["messages"][0]["disposition"], "stored", "{judged}");

    // Every step, with who did it.
    let (status, audit) = f
        .send("GET", "/api/v1/audit", Some(&f.operator), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let steps: Vec<String> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {}",
                e["actor"].as_str().unwrap_or("?"),
                e["action"].as_str().unwrap_or("?")
            )
        })
        .collect();
    // The actor is the credential that acted: "key:" and the key's public prefix.
    let org_actor = format!("key:{}", &key[..12]);
    let operator_actor = format!("key:{}", &f.operator[..12]);
    assert_eq!(
        steps,
        vec![
            "public application.submitted".to_owned(),
            format!("{operator_actor} application.approved"),
            format!("{org_actor} domain.verification_failed"),
            format!("{org_actor} domain.verification_failed"),
            format!("{org_actor} domain.verified"),
        ],
        "{audit}"
    );
    let (status, _) = f.send("GET", "/api/v1/audit", Some(&key), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, own_audit) = f.send("GET", "/api/v1/org/audit", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        own_audit["entries"].as_array().expect("entries").len(),
        4,
        "{own_audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ineligible_application_is_told_which_field_and_what_is_served() {
    let f = fixture(|c| {
        c.countries = vec!["FR".into(), "DE".into()];
        c.sectors = vec![model::Sector::Hospital, model::Sector::Humanitarian];
    })
    .await;
    let cases = [
        (
            form("A", "XX", "hospital", &["a.example"]),
            "country XX is not served by this tocsin; it serves: FR, DE",
        ),
        (
            form("A", "de", "lab", &["a.example"]),
            "sector lab is not served by this tocsin; it serves: hospital, humanitarian",
        ),
        (
            form("A", "FR", "bakery", &["a.example"]),
            "sector \"bakery\" is not a sector",
        ),
        (form("", "FR", "hospital", &["a.example"]), "name is empty"),
        (
            form("A", "FR", "hospital", &["not a domain"]),
            "domain \"not a domain\" is not a domain name",
        ),
        (form("A", "FR", "hospital", &[]), "domains is empty"),
        (
            form(
                "A",
                "FR",
                "hospital",
                &(0..21)
                    .map(|i| format!("d{i}.example"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            ),
            "more than 20",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = f
            .send("POST", "/api/v1/applications", None, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            message(&answer).contains(expected),
            "{answer} lacks {expected}"
        );
    }
    let mut bad_mail = form("A", "FR", "hospital", &["a.example"]);
    bad_mail["contacts"] = json!([{"name": "A", "email": "a at example"}]);
    let (status, answer) = f
        .send("POST", "/api/v1/applications", None, Some(bad_mail))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&answer).contains("contact email"), "{answer}");
    let mut many = form("A", "FR", "hospital", &["a.example"]);
    many["contacts"] = json!(
        (0..11)
            .map(|i| json!({"name": "A", "email": format!("a{i}@a.example")}))
            .collect::<Vec<_>>()
    );
    let (status, answer) = f
        .send("POST", "/api/v1/applications", None, Some(many))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&answer).contains("more than 10"), "{answer}");

    let (_, listed) = f
        .send("GET", "/api/v1/applications", Some(&f.operator), None)
        .await;
    assert_eq!(
        listed["applications"],
        json!([]),
        "nothing ineligible was stored"
    );
    let (status, _) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("A", "de", "humanitarian", &["a.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_needs_a_reason_and_open_applications_are_bounded() {
    let f = fixture(|c| c.max_pending = 2).await;
    for domain in ["a.example", "b.example"] {
        let (status, body) = f
            .send(
                "POST",
                "/api/v1/applications",
                None,
                Some(form("A", "FR", "hospital", &[domain])),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("A", "FR", "hospital", &["c.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        message(&body).contains("2 applications are already waiting"),
        "{body}"
    );

    let reject = "/api/v1/applications/1/reject";
    let (status, body) = f
        .send("POST", reject, Some(&f.operator), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).contains("reason"), "{body}");
    let (status, body) = f
        .send(
            "POST",
            reject,
            Some(&f.operator),
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = f
        .send(
            "POST",
            reject,
            Some(&f.operator),
            Some(json!({"reason": "outside our constituency"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "rejected");
    assert_eq!(body["reason"], "outside our constituency");
    let (status, _) = f
        .send(
            "POST",
            "/api/v1/applications/1/approve",
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = f
        .send(
            "POST",
            "/api/v1/applications/99/approve",
            Some(&f.operator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The rejection made room.
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("A", "FR", "hospital", &["c.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, audit) = f
        .send("GET", "/api/v1/audit?limit=1", Some(&f.operator), None)
        .await;
    assert_eq!(
        audit["entries"][0]["action"], "application.submitted",
        "{audit}"
    );
    let (_, audit) = f
        .send("GET", "/api/v1/audit", Some(&f.operator), None)
        .await;
    let rejected = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "application.rejected")
        .cloned()
        .expect("rejection audited");
    assert_eq!(
        rejected["actor"].as_str(),
        Some(format!("key:{}", &f.operator[..12]).as_str())
    );
    assert_eq!(rejected["detail"]["reason"], "outside our constituency");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_per_hour_are_bounded() {
    let f = fixture(|c| c.max_per_hour = 1).await;
    let (status, _) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("A", "FR", "hospital", &["a.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/applications",
            None,
            Some(form("B", "FR", "hospital", &["b.example"])),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(message(&body).contains("in the last hour"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_organisation_can_neither_read_nor_prove_what_is_another_s() {
    let f = fixture(|_| {}).await;
    let (a, a_key) = f.enrol("Alpha", "alpha.example").await;
    let (b, b_key) = f.enrol("Bravo", "bravo.example").await;

    // B claims A's domain while nobody has proved it; A's record does not prove it for B.
    let (status, claimed) = f
        .send(
            "POST",
            "/api/v1/org/domains",
            Some(&b_key),
            Some(json!({"domain": "alpha.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claimed}");
    let a_record = dns_record(&f, &a_key, "alpha.example").await;
    assert_ne!(
        claimed["record"]["value"], a_record,
        "tokens are per organisation"
    );
    f.dns.publish_txt("_tocsin.alpha.example", &a_record).await;
    let (status, failed) = f
        .send(
            "POST",
            "/api/v1/org/domains/alpha.example/verify",
            Some(&b_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{failed}");
    assert!(
        message(&failed).contains(&a_record),
        "found A's record: {failed}"
    );
    let (status, verified) = f
        .send(
            "POST",
            "/api/v1/org/domains/alpha.example/verify",
            Some(&a_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");

    // Once it is A's, B can no longer claim it.
    let (status, taken) = f
        .send(
            "POST",
            "/api/v1/org/domains",
            Some(&b_key),
            Some(json!({"domain": "ALPHA.example."})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{taken}");
    assert!(
        message(&taken).contains("verified by another organisation"),
        "{taken}"
    );
    // B cannot verify a domain it never claimed.
    let (status, _) = f
        .send(
            "POST",
            "/api/v1/org/domains/bravo2.example/verify",
            Some(&b_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Each reads only its own audit entries and domains.
    for (org, key) in [(a, &a_key), (b, &b_key)] {
        let (status, audit) = f.send("GET", "/api/v1/org/audit", Some(key), None).await;
        assert_eq!(status, StatusCode::OK);
        let entries = audit["entries"].as_array().expect("entries");
        assert!(!entries.is_empty());
        assert!(entries.iter().all(|e| e["org_id"] == org), "{audit}");
    }
    let (_, b_domains) = f
        .send("GET", "/api/v1/org/domains", Some(&b_key), None)
        .await;
    let names: Vec<&str> = b_domains["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .filter_map(|d| d["domain"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["alpha.example", "bravo.example"],
        "B's own claims only"
    );
    assert!(
        b_domains["domains"]
            .as_array()
            .expect("domains")
            .iter()
            .all(|d| d["verified"] == false)
    );
    // Operators act for no organisation on the organisation API.
    let (status, _) = f
        .send("GET", "/api/v1/org/audit", Some(&f.operator), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn dns_record(f: &Fixture, key: &str, domain: &str) -> String {
    let (_, domains) = f.send("GET", "/api/v1/org/domains", Some(key), None).await;
    domains["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .find(|d| d["domain"] == domain)
        .and_then(|d| d["record"]["value"].as_str())
        .expect("record")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nameserver_that_does_not_answer_is_reported_as_such() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let address = silent.local_addr().expect("addr");
    let f = fixture(move |c| {
        c.nameservers = vec![address];
        c.dns_timeout = jiff::SignedDuration::from_millis(300);
    })
    .await;
    let (_, key) = f.enrol("Alpha", "alpha.example").await;
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/org/domains/alpha.example/verify",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(message(&body).contains("_tocsin.alpha.example"), "{body}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_disappears_is_audited_and_the_domain_stays_verified() {
    let f = fixture(|_| {}).await;
    let (a, a_key) = f.enrol("Alpha", "alpha.example").await;
    let value = dns_record(&f, &a_key, "alpha.example").await;
    f.dns.publish_txt("_tocsin.alpha.example", &value).await;
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/org/domains/alpha.example/verify",
            Some(&a_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let store = f.state.intake.store();
    let lookup = f.state.enrolment.txt_lookup();
    let recheck = tocsin_server::recheck_domains(store, &lookup)
        .await
        .expect("recheck");
    assert_eq!((recheck.present, recheck.missing.len()), (1, 0));

    // The same store asked of a nameserver where the record is not (as after a DNS
    // change that dropped it).
    let empty = Dns::start().await;
    let lookup = tocsin_server::dns::TxtLookup::new(vec![empty.address], Duration::from_secs(2));
    let recheck = tocsin_server::recheck_domains(store, &lookup)
        .await
        .expect("recheck");
    assert_eq!(
        recheck.missing,
        vec![(model::OrgId(a), "alpha.example".to_owned())]
    );
    let (_, audit) = f
        .send("GET", "/api/v1/org/audit?limit=1", Some(&a_key), None)
        .await;
    assert_eq!(
        audit["entries"][0]["action"], "domain.record_missing",
        "{audit}"
    );
    assert_eq!(audit["entries"][0]["actor"], "tocsin", "{audit}");
    let (_, own) = f.send("GET", "/api/v1/org", Some(&a_key), None).await;
    assert_eq!(
        own["domains"],
        json!(["alpha.example"]),
        "still verified: {own}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_form_takes_small_bodies_only() {
    let f = fixture(|_| {}).await;
    let mut big = form("A", "FR", "hospital", &["a.example"]);
    big["name"] = json!("x".repeat(70 * 1024));
    let (status, _) = f
        .send("POST", "/api/v1/applications", None, Some(big))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut long = form("A", "FR", "hospital", &["a.example"]);
    long["name"] = json!("x".repeat(201));
    let (status, body) = f
        .send("POST", "/api/v1/applications", None, Some(long))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&body).contains("longer than 200"), "{body}");
    let mut unknown = form("A", "FR", "hospital", &["a.example"]);
    unknown["org_id"] = json!(1);
    let (status, body) = f
        .send("POST", "/api/v1/applications", None, Some(unknown))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).contains("unknown field `org_id`"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_verifications_are_bounded_per_organisation() {
    let f = fixture(|_| {}).await;
    let (_, a_key) = f.enrol("Alpha", "alpha.example").await;
    let (_, b_key) = f.enrol("Bravo", "bravo.example").await;
    let verify = "/api/v1/org/domains/alpha.example/verify";
    for _ in 0..30 {
        let (status, body) = f.send("POST", verify, Some(&a_key), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = f.send("POST", verify, Some(&a_key), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(message(&body).contains("30 verifications failed"), "{body}");
    // Another organisation is not held back by A's attempts.
    let (status, body) = f
        .send(
            "POST",
            "/api/v1/org/domains/bravo.example/verify",
            Some(&b_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
