//! Threat intelligence through the API: a bundle uploaded by the operator is matched on
//! every sign-in and message, attributed, hunted for in what was stored before it came,
//! revoked and expired indicators stop matching, and an incident is shared out without
//! naming the organisation unless it agreed.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt;

use tocsin_server::{AppState, router};

mod common;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    operator: String,
    alpha: String,
    bravo: String,
}

async fn fixture() -> Fixture {
    fixture_with(notify::feeds::IntelConfig::default()).await
}

async fn fixture_with(config: notify::feeds::IntelConfig) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let enrol = |name: &str| store::NewOrganisation {
        name: format!("{name} Vaccine Institute"),
        sector: model::Sector::Pharmaceutical,
        country: "FR".into(),
        domains: vec![format!("{}.example", name.to_lowercase())],
        webhook_url: None,
        language: store::Language::En,
    };
    let (_, alpha) = store.create_organisation(&enrol("Alpha")).await.expect("a");
    let (_, bravo) = store.create_organisation(&enrol("Bravo")).await.expect("b");
    let operator = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator");
    let state = common::state(store, config).await;
    Fixture {
        _dir: dir,
        state,
        operator,
        alpha,
        bravo,
    }
}

async fn send(
    f: &Fixture,
    method: &str,
    path: &str,
    key: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"));
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
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

/// A Graph sign-in of `account` from `ip`, `hours_ago` hours before now.
fn sign_in(id: &str, account: &str, ip: &str, hours_ago: i64, failed: bool) -> String {
    let at = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(hours_ago))
        .expect("time")
        .strftime("%Y-%m-%dT%H:%M:%SZ");
    let status = if failed {
        json!({"errorCode": 50126, "failureReason": "Invalid username or password."})
    } else {
        json!({"errorCode": 0})
    };
    json!({
        "id": id,
        "createdDateTime": at.to_string(),
        "userPrincipalName": account,
        "ipAddress": ip,
        "status": status,
        "clientAppUsed": "Browser",
        "appDisplayName": "Office 365 Exchange Online",
    })
    .to_string()
}

const APT28_SET: &str = "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c";

/// An OASIS-shaped bundle: an intrusion set, indicators, and "indicates" relationships.
fn bundle(objects: Vec<Value>) -> Vec<u8> {
    json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": objects,
    })
    .to_string()
    .into_bytes()
}

fn indicator(id: &str, pattern: &str, modified: &str, extra: Value) -> Value {
    let mut object = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-10T08:00:00.000Z",
        "modified": modified,
        "name": "Password-spray infrastructure",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-10T08:00:00Z",
    });
    if let (Some(object), Some(extra)) = (object.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            object.insert(k.clone(), v.clone());
        }
    }
    object
}

fn indicates(id: &str, indicator: &str) -> Value {
    json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": id,
        "created": "2026-01-10T08:00:00.000Z",
        "modified": "2026-01-10T08:00:00.000Z",
        "relationship_type": "indicates",
        "source_ref": indicator,
        "target_ref": APT28_SET,
    })
}

fn apt28() -> Value {
    json!({
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": APT28_SET,
        "created": "2026-01-10T08:00:00.000Z",
        "modified": "2026-01-10T08:00:00.000Z",
        "name": "APT28",
        "aliases": ["Fancy Bear", "STRONTIUM"],
    })
}

const SPRAY_NET: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const SENDER: &str = "indicator--d81f86b9-975b-4c0b-875e-810c5ad45a4f";
const EXPIRED: &str = "indicator--e5c8a1a4-3f0c-4f8a-9a6e-1c2b3d4e5f60";
const LATE: &str = "indicator--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn first_bundle() -> Vec<u8> {
    bundle(vec![
        apt28(),
        indicator(
            SPRAY_NET,
            "[ipv4-addr:value = '203.0.113.0/24']",
            "2026-01-10T08:00:00.000Z",
            json!({}),
        ),
        indicator(
            SENDER,
            "[domain-name:value = 'recruit-talent.example']",
            "2026-01-10T08:00:00.000Z",
            json!({}),
        ),
        indicator(
            EXPIRED,
            "[ipv4-addr:value = '198.51.100.66']",
            "2026-01-10T08:00:00.000Z",
            json!({"valid_until": "2026-02-01T00:00:00Z"}),
        ),
        indicates(
            "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
            SPRAY_NET,
        ),
        indicates("relationship--6598bf44-1c10-4218-af9f-75b7e0bc5f8b", SENDER),
    ])
}

async fn incidents(f: &Fixture, key: &str) -> Vec<Value> {
    let (status, body) = send(f, "GET", "/api/v1/incidents", key, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no incidents list: {body}"))
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|i| i["kind"] == kind).collect()
}

async fn wait_for_hunt(f: &Fixture, id: i64) -> Value {
    for _ in 0..200 {
        let (status, hunt) = send(
            f,
            "GET",
            &format!("/api/v1/intel/retro-hunts/{id}"),
            &f.operator,
            vec![],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{hunt}");
        if hunt["state"] != "running" {
            return hunt;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("retro-hunt {id} did not finish");
}

#[tokio::test]
async fn an_uploaded_indicator_opens_an_attributed_incident_on_the_next_sign_in() {
    let f = fixture().await;
    // Only operators bring intelligence.
    let (status, _) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.alpha,
        first_bundle(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, taken) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.operator,
        first_bundle(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["indicators"], 3, "{taken}");
    assert_eq!(taken["changed"], 3, "{taken}");
    assert_eq!(taken["actors"], 1, "{taken}");
    let (_, status_now) = send(&f, "GET", "/api/v1/intel", &f.operator, vec![]).await;
    assert_eq!(status_now["indicators"], 3, "{status_now}");

    let lines = [
        sign_in("a1", "ana@alpha.example", "203.0.113.45", 2, true),
        sign_in("a2", "ben@alpha.example", "198.51.100.66", 2, true),
        sign_in("a3", "cy@alpha.example", "192.0.2.10", 2, false),
    ]
    .join("\n");
    let (status, report) = send(&f, "POST", "/api/v1/signins", &f.alpha, lines.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["incidents_opened"], 1, "{report}");

    let all = incidents(&f, &f.alpha).await;
    let known = of_kind(&all, "known_indicator");
    assert_eq!(known.len(), 1, "{all:?}");
    let incident = known[0];
    assert_eq!(incident["sources"], json!(["203.0.113.45"]));
    assert_eq!(incident["indicators"][0]["indicator"], SPRAY_NET);
    assert_eq!(incident["indicators"][0]["feed"], "isac");
    assert_eq!(incident["indicators"][0]["field"], "ipv4-addr:value");
    assert_eq!(incident["indicators"][0]["observed"], "203.0.113.45");
    // The upload's intrusion set is the catalogue's APT28; one feed: very likely.
    assert_eq!(
        incident["attribution"]["actor"]["id"], "apt28",
        "{incident}"
    );
    assert_eq!(incident["attribution"]["words"], "very likely");
    assert_eq!(incident["attribution"]["confidence"], "high");
    // The expired indicator named 198.51.100.66 until February: nothing now.
    assert!(
        all.iter()
            .all(|i| !i["sources"].to_string().contains("198.51.100.66")),
        "{all:?}"
    );
    // The other organisation has seen nothing.
    assert!(incidents(&f, &f.bravo).await.is_empty());
}

#[tokio::test]
async fn a_message_from_an_indicator_domain_is_phishing_with_the_indicator_named() {
    let f = fixture().await;
    let (status, _) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.operator,
        first_bundle(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let raw = "From: Talent Team <jobs@recruit-talent.example>\r\n\
               To: ana@alpha.example\r\n\
               Subject: Your application\r\n\
               Message-ID: <1@recruit-talent.example>\r\n\
               Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n\
               \r\n\
               Thank you for your interest. Details to follow.\r\n";
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/mail",
        &f.alpha,
        raw.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = &body["messages"][0];
    assert_eq!(message["verdict"], "phishing", "{message}");
    let reason = message["reasons"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "known_indicator"))
        .expect("known_indicator reason");
    assert!(
        reason["evidence"]
            .as_str()
            .is_some_and(|e| e.contains(SENDER) && e.contains("isac")),
        "{reason}"
    );
    let id = message["incident"].as_str().expect("incident");
    let (_, one) = send(
        &f,
        "GET",
        &format!("/api/v1/incidents/{id}"),
        &f.alpha,
        vec![],
    )
    .await;
    let incident = one.get("incident").unwrap_or(&one);
    assert_eq!(incident["indicators"][0]["indicator"], SENDER, "{one}");
    assert_eq!(incident["attribution"]["actor"]["id"], "apt28", "{one}");
}

#[tokio::test]
async fn a_retro_hunt_finds_a_sign_in_stored_before_the_indicator_came() {
    let f = fixture().await;
    let line = sign_in("r1", "dee@bravo.example", "192.0.2.77", 48, false);
    let (status, report) = send(&f, "POST", "/api/v1/signins", &f.bravo, line.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(incidents(&f, &f.bravo).await.is_empty());

    let late = bundle(vec![indicator(
        LATE,
        "[ipv4-addr:value = '192.0.2.77']",
        "2026-01-10T08:00:00.000Z",
        json!({}),
    )]);
    let (status, taken) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/cert/bundles",
        &f.operator,
        late,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    let hunt = taken["retro_hunt"]["id"].as_i64().expect("a hunt started");
    let hunt = wait_for_hunt(&f, hunt).await;
    assert_eq!(hunt["state"], "done", "{hunt}");
    assert_eq!(hunt["events_scanned"], 1, "{hunt}");
    assert_eq!(hunt["matches"], 1, "{hunt}");
    assert_eq!(hunt["incidents"], 1, "{hunt}");

    let all = incidents(&f, &f.bravo).await;
    let known = of_kind(&all, "known_indicator");
    assert_eq!(known.len(), 1, "{all:?}");
    // A successful sign-in from the named address: the account is treated as compromised.
    assert_eq!(known[0]["severity"], "critical");
    assert_eq!(
        known[0]["compromised_accounts"],
        json!(["dee@bravo.example"])
    );
    assert_eq!(known[0]["indicators"][0]["indicator"], LATE);

    // Hunting again for every indicator finds nothing new: the sign-in arrived before
    // the indicator, but it is already the incident's evidence.
    let (status, again) = send(
        &f,
        "POST",
        "/api/v1/intel/retro-hunts",
        &f.operator,
        b"{\"days\": 7}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    let again = wait_for_hunt(&f, again["id"].as_i64().expect("id")).await;
    assert_eq!(again["state"], "done", "{again}");
    assert_eq!(again["events_scanned"], 1, "{again}");
    assert_eq!(again["matches"], 0, "{again}");
    let all = incidents(&f, &f.bravo).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["evidence_count"], 1, "{all:?}");
}

#[tokio::test]
async fn a_revoked_indicator_stops_matching() {
    let f = fixture().await;
    let (status, _) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.operator,
        first_bundle(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let revoked = bundle(vec![indicator(
        SPRAY_NET,
        "[ipv4-addr:value = '203.0.113.0/24']",
        "2026-03-01T08:00:00.000Z",
        json!({"revoked": true}),
    )]);
    let (status, taken) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.operator,
        revoked,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["removed"], 1, "{taken}");
    let (_, now) = send(&f, "GET", "/api/v1/intel", &f.operator, vec![]).await;
    assert_eq!(now["indicators"], 2, "{now}");
    let line = sign_in("v1", "ana@alpha.example", "203.0.113.45", 1, true);
    send(&f, "POST", "/api/v1/signins", &f.alpha, line.into_bytes()).await;
    assert!(of_kind(&incidents(&f, &f.alpha).await, "known_indicator").is_empty());
}

#[tokio::test]
async fn an_export_names_the_organisation_only_when_it_agreed_and_never_its_accounts() {
    let f = fixture().await;
    send(
        &f,
        "POST",
        "/api/v1/intel/feeds/isac/bundles",
        &f.operator,
        first_bundle(),
    )
    .await;
    let line = sign_in("e1", "ana@alpha.example", "203.0.113.45", 1, true);
    send(&f, "POST", "/api/v1/signins", &f.alpha, line.into_bytes()).await;
    let all = incidents(&f, &f.alpha).await;
    let id = of_kind(&all, "known_indicator")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/v1/incidents/{id}/export?format=stix");

    let (status, stix) = send(&f, "GET", &path, &f.alpha, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{stix}");
    let text = stix.to_string();
    assert_eq!(stix["type"], "bundle");
    assert!(!text.contains("Alpha Vaccine Institute"), "{text}");
    assert!(
        !text.contains("ana@alpha.example"),
        "accounts never leave: {text}"
    );
    assert!(text.contains("203.0.113.45"), "{text}");
    assert!(
        text.contains(SPRAY_NET),
        "the matched indicator is referred to: {text}"
    );
    let kinds: Vec<&str> = stix["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["type"].as_str())
        .collect();
    for kind in ["sighting", "observed-data", "identity"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    // Another organisation's incident does not exist for Bravo.
    let (status, _) = send(&f, "GET", &path, &f.bravo, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = send(
        &f,
        "PUT",
        "/api/v1/org/sharing",
        &f.alpha,
        b"{\"share_identity\": true}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, named) = send(&f, "GET", &path, &f.alpha, vec![]).await;
    assert!(
        named.to_string().contains("Alpha Vaccine Institute"),
        "{named}"
    );

    let (status, misp) = send(
        &f,
        "GET",
        &format!("/api/v1/incidents/{id}/export?format=misp"),
        &f.alpha,
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{misp}");
    let attributes = misp["Event"]["Attribute"].as_array().expect("attributes");
    assert!(
        attributes
            .iter()
            .any(|a| a["type"] == "ip-src" && a["value"] == "203.0.113.45"),
        "{misp}"
    );
}

#[tokio::test]
async fn a_configured_misp_feed_is_pulled_on_demand_and_its_state_is_shown() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/intel/misp-feed-sample");
    assert!(
        sample.join("manifest.json").is_file(),
        "{} is missing: the repository must be checked out beside shared/",
        sample.display()
    );
    let feed: intel::source::FeedConfig = toml::from_str(&format!(
        "name = \"circl\"\nkind = \"misp\"\nlocation = {:?}\n",
        sample.display().to_string()
    ))
    .expect("feed");
    let f = fixture_with(notify::feeds::IntelConfig {
        feeds: vec![feed],
        ..Default::default()
    })
    .await;
    let (status, feeds) = send(&f, "GET", "/api/v1/intel/feeds", &f.operator, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{feeds}");
    assert_eq!(feeds[0]["name"], "circl");
    assert_eq!(
        feeds[0]["last_success"],
        Value::Null,
        "not pulled yet: {feeds}"
    );

    let (status, pulled) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/circl/pull",
        &f.operator,
        vec![],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pulled}");
    // PyMISP's sample feed: 71 attributes marked for detection in two events.
    assert_eq!(pulled["indicators"], 71, "{pulled}");
    let (_, feeds) = send(&f, "GET", "/api/v1/intel/feeds", &f.operator, vec![]).await;
    assert_eq!(feeds[0]["indicators"], 71, "{feeds}");
    assert!(feeds[0]["last_success"].is_string(), "{feeds}");
    assert_eq!(feeds[0]["last_error"], Value::Null, "{feeds}");

    // Pulled again: the manifest is unchanged, nothing is new.
    let (_, again) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/circl/pull",
        &f.operator,
        vec![],
    )
    .await;
    assert_eq!(again["changed"], 0, "{again}");
    assert_eq!(again["retro_hunt"], Value::Null, "{again}");

    // Uploading into a configured feed is refused with the reason.
    let (status, refused) = send(
        &f,
        "POST",
        "/api/v1/intel/feeds/circl/bundles",
        &f.operator,
        first_bundle(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused.to_string().contains("configured location"),
        "{refused}"
    );

    let (_, status_now) = send(&f, "GET", "/api/v1/intel", &f.operator, vec![]).await;
    assert_eq!(status_now["indicators"], 71, "{status_now}");

    // A message linking to a host of the Sednit event (a subdomain of its domain).
    let raw = "From: Newsletter <news@bravo-partner.example>\r\n\
               To: ana@alpha.example\r\n\
               Subject: Movie night\r\n\
               Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n\
               \r\n\
               Tickets at http://www.movieultimate.com/tickets\r\n";
    let (status, body) = send(
        &f,
        "POST",
        "/api/v1/mail",
        &f.alpha,
        raw.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message = &body["messages"][0];
    assert_eq!(message["verdict"], "phishing", "{message}");
    assert!(
        message["reasons"]
            .to_string()
            .contains("5a3c3045-ab0c-4d38-8efe-459002de0b81"),
        "the MISP attribute's uuid is named: {message}"
    );
}
