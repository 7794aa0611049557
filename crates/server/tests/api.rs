//! The router in process (no socket): authentication, and how intake treats bad input.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use tocsin_server::{AppState, HttpConfig, router};

mod common;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    key: String,
}

async fn fixture(http: HttpConfig) -> Fixture {
    fixture_with(http, enrich::Enricher::disabled()).await
}

async fn fixture_with(http: HttpConfig, enricher: enrich::Enricher) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let (_, key) = store
        .create_organisation(&store::NewOrganisation {
            name: "Echo Clinic".into(),
            sector: model::Sector::Clinic,
            country: "FR".into(),
            domains: vec!["echo.example".into()],
            webhook_url: None,
            language: store::Language::En,
        })
        .await
        .expect("org");
    let mut state = common::state(store, Default::default()).await;
    state.enricher = Arc::new(enricher);
    state.http = http;
    Fixture {
        _dir: dir,
        state,
        key,
    }
}

async fn send(
    f: &Fixture,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    // Intake ignores the content type; the JSON endpoints require it.
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let response = router(f.state.clone())
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
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
    });
    (status, json)
}

const GOOD: &str = r#"{"id":"r1","createdDateTime":"2026-11-20T09:00:00Z","userPrincipalName":"Ana@echo.example","ipAddress":"198.51.100.9","status":{"errorCode":50126,"failureReason":"Invalid username or password."},"clientAppUsed":"IMAP4","appDisplayName":"Office 365 Exchange Online"}"#;

#[tokio::test]
async fn each_bad_line_is_named_and_the_good_ones_are_kept() {
    let http = HttpConfig {
        max_line_bytes: 1024,
        max_reported_errors: 2,
        ..HttpConfig::default()
    };
    let f = fixture(http).await;
    let mut body = Vec::new();
    body.extend_from_slice(GOOD.as_bytes());
    body.extend_from_slice(b"\r\n\n");
    body.extend_from_slice(b"Nov 20 09:00:01 gw sshd[1]: Failed password for \xff\xfe from 198.51.100.9 port 22 ssh2\n");
    body.extend_from_slice(format!("{{\"x\": \"{}\"}}\n", "a".repeat(2000)).as_bytes());
    body.extend_from_slice(b"{\"userPrincipalName\": \"a@echo.example\"}\n");
    body.extend_from_slice(
        b"Nov 20 09:00:02 gw sshd[1]: Accepted publickey for ana from 198.51.100.9 port 22 ssh2\n",
    );
    let (status, report) = send(&f, "POST", "/api/v1/signins", Some(&f.key), body).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{report}");
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected"], 3, "{report}");
    // Only the first two are listed (max_reported_errors), with their line numbers.
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(report["errors"][0]["reason"], "line is not valid UTF-8");
    assert_eq!(report["errors"][1]["line"], 4);
    assert!(
        report["errors"][1]["reason"]
            .as_str()
            .expect("reason")
            .contains("longer than the limit of 1024"),
        "{report}"
    );
}

#[tokio::test]
async fn a_request_with_nothing_readable_is_422_and_an_oversized_one_413() {
    let http = HttpConfig {
        max_body_bytes: 4096,
        ..HttpConfig::default()
    };
    let f = fixture(http).await;
    let (status, report) = send(
        &f,
        "POST",
        "/api/v1/signins",
        Some(&f.key),
        b"{\"nope\": 1}\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert!(
        report["errors"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("createdDateTime"),
        "{report}"
    );
    let (status, _) = send(
        &f,
        "POST",
        "/api/v1/signins",
        Some(&f.key),
        vec![b'x'; 8192],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, report) = send(
        &f,
        "POST",
        "/api/v1/signins",
        Some(&f.key),
        GOOD.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        (status, report["accepted"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{report}"
    );
}

#[tokio::test]
async fn requests_without_a_valid_key_learn_nothing() {
    let f = fixture(HttpConfig::default()).await;
    for key in [None, Some("tsn_0123"), Some("not even the prefix")] {
        let (status, body) = send(&f, "GET", "/api/v1/incidents", key, Vec::new()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert!(
            body["error"].as_str().expect("error").contains("Bearer"),
            "{body}"
        );
        let (status, _) = send(&f, "POST", "/api/v1/signins", key, GOOD.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = send(
        &f,
        "PUT",
        "/api/v1/org/webhook",
        Some(&f.key),
        br#"{"url":"http://169.254.169.254/latest"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("allow_private_targets"),
        "{body}"
    );
}

/// Issue 11: sign-ins are stored with the country and ASN of their source address.
#[tokio::test]
async fn intake_enriches_sign_ins_before_storing_them() {
    let test_data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ipdb/maxmind-test-data/test-data");
    let config = enrich::EnrichConfig {
        country_db: Some(test_data.join("GeoLite2-City-Test.mmdb")),
        asn_db: Some(test_data.join("GeoLite2-ASN-Test.mmdb")),
    };
    let enricher = enrich::Enricher::open(&config).unwrap_or_else(|error| {
        panic!("{error} (the repository must be checked out beside shared/)")
    });
    let f = fixture_with(HttpConfig::default(), enricher).await;
    let body = "\
Nov 20 09:00:01 gw sshd[1]: Failed password for ana from 67.43.156.13 port 22 ssh2
Nov 20 09:00:02 gw sshd[1]: Failed password for ana from 10.1.2.3 port 22 ssh2
Nov 20 09:00:03 gw sshd[1]: Failed password for ana from ::ffff:89.160.20.128 port 22 ssh2
";
    let (status, report) = send(
        &f,
        "POST",
        "/api/v1/signins",
        Some(&f.key),
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let stored = f
        .state
        .intake
        .store()
        .observations_since(jiff::Timestamp::MIN, None, 10)
        .await
        .expect("stored sign-ins");
    let located: Vec<(Option<&str>, Option<u32>)> = stored
        .iter()
        .map(|o| (o.sign_in.country.as_deref(), o.sign_in.asn))
        .collect();
    assert_eq!(
        located,
        [
            (Some("BT"), Some(35908)),
            (None, None),
            (Some("SE"), Some(29518))
        ]
    );
}

/// Enrols the corpus's clinic (`clinic.example`) beside the fixture's organisation.
async fn enrol_clinic(f: &Fixture) -> String {
    let (_, key) = f
        .state
        .intake
        .store()
        .create_organisation(&store::NewOrganisation {
            name: "Clinic".into(),
            sector: model::Sector::Clinic,
            country: "FR".into(),
            domains: vec![scenario::CORPUS_OWN_DOMAIN.into()],
            webhook_url: None,
            language: store::Language::En,
        })
        .await
        .expect("org");
    key
}

fn corpus_message(name: &str) -> Vec<u8> {
    scenario::mail_corpus()
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.raw)
        .expect("corpus case")
}

#[tokio::test]
async fn uploaded_phishing_opens_an_incident_only_its_recipients_organisation_sees() {
    let f = fixture(HttpConfig::default()).await;
    let clinic = enrol_clinic(&f).await;
    let raw = corpus_message("who-lookalike-covid");

    // The fixture's own organisation (echo.example) is not a recipient: judged, not kept.
    let (status, body) = send(&f, "POST", "/api/v1/mail", Some(&f.key), raw.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"][0]["verdict"], "phishing");
    assert_eq!(body["messages"][0]["disposition"], "not_enrolled");
    assert!(body["messages"][0].get("incident").is_none());

    let (status, body) = send(&f, "POST", "/api/v1/mail", Some(&clinic), raw.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = &body["messages"][0];
    assert_eq!(message["disposition"], "stored");
    assert_eq!(
        message["recipients"],
        serde_json::json!(["ana.silva@clinic.example"])
    );
    assert_eq!(message["reasons"][0]["code"], "lookalike_sender");
    let incident = message["incident"]
        .as_str()
        .expect("incident id")
        .to_owned();

    // The same message again is a duplicate and opens nothing new.
    let (_, again) = send(&f, "POST", "/api/v1/mail", Some(&clinic), raw).await;
    assert_eq!(again["messages"][0]["disposition"], "duplicate");

    let (status, one) = send(
        &f,
        "GET",
        &format!("/api/v1/incidents/{incident}"),
        Some(&clinic),
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["kind"], "phishing");
    assert_eq!(one["technique"], "T1566");
    assert_eq!(one["evidence_count"], 1);
    assert_eq!(one["sources"], serde_json::json!(["covid19@who-int.org"]));
    assert_eq!(
        one["messages"][0]["subject"],
        "COVID-19 vaccine: urgent guidance for health workers"
    );
    assert!(
        one["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Spear-phishing against ana.silva@clinic.example"),
        "{}",
        one["summary"]
    );

    let (status, _) = send(
        &f,
        "GET",
        &format!("/api/v1/incidents/{incident}"),
        Some(&f.key),
        vec![],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organisation's incident is invisible"
    );
}

#[tokio::test]
async fn an_mbox_upload_reports_each_message_and_keeps_the_readable_ones() {
    let f = fixture(HttpConfig::default()).await;
    let clinic = enrol_clinic(&f).await;
    let messages = [
        corpus_message("colleague-docx"),
        corpus_message("rtlo-salary-review"),
    ];
    let mbox = scenario::mbox(messages.iter().map(Vec::as_slice));
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/mail")
        .header("content-type", "application/mbox")
        .header("authorization", format!("Bearer {clinic}"))
        .body(Body::from(mbox))
        .expect("request");
    let response = router(f.state.clone())
        .oneshot(request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let verdicts: Vec<&str> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["verdict"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(verdicts, ["clean", "phishing"]);
    assert_eq!(body["messages"][1]["origin"]["index"], 2);

    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/mail",
        Some(&clinic),
        b"not a message at all".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["index"], 1);
}

#[tokio::test]
async fn a_sender_phishing_several_organisations_is_called_a_campaign_without_naming_them() {
    let f = fixture(HttpConfig::default()).await;
    let clinic = enrol_clinic(&f).await;
    let raw = corpus_message("linkedin-homoglyph");
    // The fixture's organisation (echo.example) gets the same lure first.
    let to_echo = scenario::readdressed(&raw, "echo.example");
    let (_, first) = send(&f, "POST", "/api/v1/mail", Some(&f.key), to_echo).await;
    assert_eq!(first["messages"][0]["disposition"], "stored", "{first}");
    let (_, second) = send(&f, "POST", "/api/v1/mail", Some(&clinic), raw).await;
    let incident = second["messages"][0]["incident"]
        .as_str()
        .expect("incident");
    let (_, one) = send(
        &f,
        "GET",
        &format!("/api/v1/incidents/{incident}"),
        Some(&clinic),
        vec![],
    )
    .await;
    let reasons = one["reasons"].to_string();
    assert!(
        reasons.contains("The same sender domain, linkedln.com, sent messages judged phishing to 1 other organisation"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("echo"),
        "the other organisation is never named: {reasons}"
    );
    assert_eq!(one["severity"], "high");
}
