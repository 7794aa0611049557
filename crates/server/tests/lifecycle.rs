//! An incident's life over the API: acknowledge, resolve, reject as a false positive,
//! the timeline, the operator's false-positive report and notification settings; one
//! organisation never reaches another's incidents or settings.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use model::{DetectionKind, Incident, IncidentState, OrgId, Sector, Severity};
use tocsin_server::{AppState, router};

mod common;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    a: OrgId,
    a_key: String,
    b_key: String,
    operator: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let enrol = |name: &str| store::NewOrganisation {
        name: name.into(),
        sector: Sector::Clinic,
        country: "FR".into(),
        domains: vec![format!("{}.example", name.to_lowercase())],
        webhook_url: None,
        language: store::Language::En,
    };
    let (a, a_key) = store.create_organisation(&enrol("Alpha")).await.expect("a");
    let (_, b_key) = store.create_organisation(&enrol("Bravo")).await.expect("b");
    let operator = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator");
    let state = common::state(store, Default::default()).await;
    Fixture {
        _dir: dir,
        state,
        a: a.id,
        a_key,
        b_key,
        operator,
    }
}

async fn incident(f: &Fixture, id: &str, kind: DetectionKind) {
    let t: jiff::Timestamp = "2026-11-20T09:00:00Z".parse().expect("time");
    let incident = Incident {
        id: id.into(),
        org: f.a,
        kind,
        technique: kind.technique(),
        severity: Severity::High,
        state: IncidentState::Notified,
        campaign_key: format!("{kind}:{id}"),
        accounts: vec!["ana@alpha.example".into()],
        sources: vec!["198.51.100.9".into()],
        compromised_accounts: vec![],
        first_seen: t,
        last_seen: t,
        evidence_count: 12,
        summary: "s".into(),
        reasons: vec![],
        indicators: vec![],
        attribution: None,
    };
    let mut tx = f.state.intake.store().begin_intake().await.expect("begin");
    tx.save_incident(&incident).await.expect("save");
    tx.commit().await.expect("commit");
}

async fn send(
    f: &Fixture,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = router(f.state.clone())
        .oneshot(request)
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

#[tokio::test]
async fn an_incident_is_acknowledged_then_resolved_and_the_timeline_says_who() {
    let f = fixture().await;
    incident(&f, "inc-1", DetectionKind::PasswordSpray).await;
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/incidents/inc-1/acknowledge",
        &f.a_key,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "acknowledged");
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/incidents/inc-1/acknowledge",
        &f.a_key,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["error"],
        "the incident is acknowledged; it cannot become acknowledged from there"
    );
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/incidents/inc-1/resolve",
        &f.a_key,
        r#"{"note": "passwords reset, MFA enforced"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "resolved");
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/incidents/inc-1/false-positive",
        &f.a_key,
        r#"{"reason": "too late"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("the incident is resolved")),
        "{body}"
    );

    let (status, body) = send(&f, "GET", "/api/v1/incidents/inc-1/timeline", &f.a_key, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{body}");
    // Who did it: the key that acted, by its public prefix.
    let actor = format!("key:{}", &f.a_key[..12]);
    for (event, (from, to)) in events
        .iter()
        .zip([("notified", "acknowledged"), ("acknowledged", "resolved")])
    {
        assert_eq!(event["kind"], "state");
        assert_eq!(event["actor"], actor.as_str());
        assert_eq!(event["detail"]["from"], from);
        assert_eq!(event["detail"]["to"], to);
    }
    assert_eq!(events[1]["detail"]["note"], "passwords reset, MFA enforced");
}

#[tokio::test]
async fn another_organisation_cannot_touch_or_read_an_incident() {
    let f = fixture().await;
    incident(&f, "inc-1", DetectionKind::BruteForce).await;
    for (method, path, body) in [
        ("POST", "/api/v1/incidents/inc-1/acknowledge", ""),
        ("POST", "/api/v1/incidents/inc-1/resolve", ""),
        (
            "POST",
            "/api/v1/incidents/inc-1/false-positive",
            r#"{"reason": "not ours"}"#,
        ),
        ("GET", "/api/v1/incidents/inc-1/timeline", ""),
    ] {
        let (status, body) = send(&f, method, path, &f.b_key, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"], "incident not found", "{path}");
    }
    let (status, body) = send(&f, "GET", "/api/v1/incidents/inc-1", &f.a_key, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "notified", "untouched: {body}");
}

#[tokio::test]
async fn false_positives_need_a_reason_and_operators_see_them_by_detector() {
    let f = fixture().await;
    incident(&f, "inc-1", DetectionKind::PasswordSpray).await;
    incident(&f, "inc-2", DetectionKind::PasswordSpray).await;
    for body in ["{}", r#"{"reason": "   "}"#] {
        let (status, answer) = send(
            &f,
            "POST",
            "/api/v1/incidents/inc-1/false-positive",
            &f.a_key,
            body,
        )
        .await;
        assert!(
            status.is_client_error() && status != StatusCode::NOT_FOUND,
            "{body}: {status} {answer}"
        );
    }
    for id in ["inc-1", "inc-2"] {
        let (status, body) = send(
            &f,
            "POST",
            &format!("/api/v1/incidents/{id}/false-positive"),
            &f.a_key,
            r#"{"reason": "our vulnerability scanner"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "false_positive");
    }
    let (status, _) = send(&f, "GET", "/api/v1/false-positives", &f.a_key, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(&f, "GET", "/api/v1/false-positives", &f.operator, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["detectors"][0]["kind"], "password_spray", "{body}");
    assert_eq!(body["detectors"][0]["count"], 2, "{body}");
    assert_eq!(
        body["detectors"][0]["reasons"][0]["reason"],
        "our vulnerability scanner"
    );
    assert!(
        !body.to_string().contains("Alpha"),
        "no organisation named: {body}"
    );
}

#[tokio::test]
async fn notification_settings_are_the_organisations_own_and_checked() {
    let f = fixture().await;
    let (status, body) = send(&f, "GET", "/api/v1/org/settings", &f.a_key, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        serde_json::json!({
            "update_interval": "1h",
            "digest_below": "medium",
            "digest_hour": 8,
            "quiet_hours": "",
            "timezone": "UTC",
        })
    );
    let (status, body) = send(
        &f,
        "PUT",
        "/api/v1/org/settings",
        &f.a_key,
        r#"{"update_interval": "2h", "digest_below": "high", "quiet_hours": "22:00-07:00", "timezone": "Europe/Paris"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = send(&f, "GET", "/api/v1/org/settings", &f.a_key, "").await;
    assert_eq!(body["update_interval"], "2h", "{body}");
    assert_eq!(body["digest_below"], "high");
    assert_eq!(body["quiet_hours"], "22:00-07:00");
    assert_eq!(body["timezone"], "Europe/Paris");
    let (_, other) = send(&f, "GET", "/api/v1/org/settings", &f.b_key, "").await;
    assert_eq!(other["timezone"], "UTC", "B keeps the defaults: {other}");
    assert_eq!(other["quiet_hours"], "");

    for (wrong, says) in [
        (r#"{"timezone": "Mars/Olympus"}"#, "IANA"),
        (r#"{"quiet_hours": "10pm-7am"}"#, "HH:MM-HH:MM"),
        (
            r#"{"update_interval": "5s"}"#,
            "between 1 minute and 7 days",
        ),
        (r#"{"org_id": 2}"#, "unknown field"),
    ] {
        let (status, body) = send(&f, "PUT", "/api/v1/org/settings", &f.a_key, wrong).await;
        assert!(status.is_client_error(), "{wrong}: {status}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains(says)),
            "{wrong}: {body}"
        );
    }
    let (_, body) = send(&f, "GET", "/api/v1/org/settings", &f.a_key, "").await;
    assert_eq!(
        body["timezone"], "Europe/Paris",
        "a refused change changes nothing"
    );
}
