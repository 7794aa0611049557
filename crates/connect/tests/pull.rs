//! Pull connectors against local stand-ins of Microsoft Graph, Okta and Google Workspace
//! (`pull/vendors.rs`: the real APIs cannot be reached from here), with a real store and
//! intake: paging across pages, 429 with Retry-After, a token that expires, a restart in
//! the middle of paging, a vendor clock that is hours off ours, and a credential that is
//! refused (the organisation is told once).

#[path = "pull/vendors.rs"]
mod vendors;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use model::{OrgId, SignIn};
use serde_json::{Value, json};
use store::{ConnectorKey, NewConnector, Store};
use tocsin_connect::pull::{PullConfig, Pulls};
use vendors::{Event, Fault, Vendor};

struct Harness {
    _dir: tempfile::TempDir,
    store: Store,
    intake: Arc<notify::SignInIntake>,
    org: OrgId,
    key: ConnectorKey,
    pulls: Option<Pulls>,
}

fn config() -> PullConfig {
    PullConfig {
        poll_every: SignedDuration::from_millis(100),
        lookback: SignedDuration::from_hours(30 * 24),
        overlap: SignedDuration::from_mins(15),
        page_size: 50,
        backoff_base: SignedDuration::from_millis(20),
        max_backoff: SignedDuration::from_millis(400),
        request_timeout: SignedDuration::from_secs(10),
        allow_http: true,
        reconcile_every: SignedDuration::from_millis(100),
        ..PullConfig::default()
    }
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_for_tests(&dir.path().join("data"))
        .await
        .expect("store");
    let (org, _) = store
        .create_organisation(&store::NewOrganisation {
            name: "Echo Clinic".into(),
            sector: model::Sector::Clinic,
            country: "FR".into(),
            domains: vec!["echo.example".into()],
            // A webhook, so that a failure notification has a channel to be queued on;
            // no outbox worker runs here, so it stays queued where the test can see it.
            webhook_url: Some("https://hooks.echo.example/tocsin".into()),
            language: store::Language::En,
        })
        .await
        .expect("org");
    let intake = Arc::new(
        notify::SignInIntake::new(
            store.clone(),
            detect::DetectConfig::default(),
            notify::NotifyConfig::default(),
        )
        .await
        .expect("intake"),
    );
    Harness {
        _dir: dir,
        store,
        intake,
        org: org.id,
        key: ConnectorKey::from_hex(&"42".repeat(32)).expect("key"),
        pulls: None,
    }
}

impl Harness {
    async fn put(&self, name: &str, kind: &str, settings: Value, secret: Option<&str>) {
        self.store
            .put_connector(
                self.org,
                &self.key,
                &NewConnector {
                    name,
                    kind,
                    settings: &settings.to_string(),
                    secret,
                },
            )
            .await
            .expect("connector stored");
        if let Some(pulls) = &self.pulls {
            pulls.wake();
        }
    }

    fn start(&mut self) {
        self.pulls = Some(
            Pulls::start(
                config(),
                Arc::clone(&self.intake),
                Arc::new(enrich::Enricher::disabled()),
                self.key.clone(),
            )
            .expect("pulls start"),
        );
    }

    async fn stop(&mut self) {
        if let Some(pulls) = self.pulls.take() {
            pulls.stop().await;
        }
    }

    /// Every sign-in stored, in the order stored.
    async fn stored(&self) -> Vec<SignIn> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .signins_for_hunt(Timestamp::MIN, after, 10_000)
                .await
                .expect("read sign-ins");
            let Some((last, _)) = page.last() else {
                return all;
            };
            after = last.id.0;
            all.extend(page.into_iter().map(|(o, _)| o.sign_in));
        }
    }

    /// Waits until `n` sign-ins are stored, then a few polls more; asserts that exactly
    /// the events `expected` are stored, each once.
    async fn settled(&self, expected: &[Event]) -> Vec<SignIn> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.stored().await.len() < expected.len() {
            assert!(
                Instant::now() < deadline,
                "{} of {} sign-ins stored",
                self.stored().await.len(),
                expected.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let stored = self.stored().await;
        // Google's record id is `time/uniqueQualifier`; the others' the vendor's id.
        let ids: Vec<String> = stored
            .iter()
            .map(|s| {
                let id = s
                    .record_id
                    .as_deref()
                    .expect("a pulled sign-in has its record id");
                id.rsplit('/').next().unwrap_or(id).to_owned()
            })
            .collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a record stored twice");
        let wanted: HashSet<&String> = expected.iter().map(|e| &e.id).collect();
        assert_eq!(unique, wanted, "stored records differ from the vendor's");
        stored
    }

    async fn status(&self, name: &str) -> store::ConnectorStatus {
        self.store
            .connector(self.org, name)
            .await
            .expect("read connector")
            .expect("connector exists")
            .status
    }

    async fn wait_for(
        &self,
        what: &str,
        mut done: impl FnMut(&store::ConnectorStatus) -> bool,
        name: &str,
    ) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status = self.status(name).await;
            if done(&status) {
                return;
            }
            assert!(Instant::now() < deadline, "never {what}: {status:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The `connector.failed` notifications queued for the organisation.
    async fn failure_notices(&self) -> Vec<Value> {
        self.store
            .due_deliveries(Timestamp::now() + SignedDuration::from_hours(1), 1000)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|d| d.event == "connector.failed" && d.org == self.org)
            .map(|d| serde_json::from_str(&d.payload).expect("payload JSON"))
            .collect()
    }

    /// Starts the connectors with a vendor that fails (5xx) after two pages of 50, waits
    /// for the failure and stops them, as a service stops in the middle of paging; asserts
    /// that the two pages, and only they, were committed.
    async fn stop_after_two_pages(&mut self, vendor: &Vendor) {
        vendor.state().down_after = Some(2);
        self.start();
        wait_until("a failure after two pages", || {
            vendor.state().list_requests.iter().any(|r| r.status >= 500)
        })
        .await;
        self.stop().await;
        assert_eq!(self.stored().await.len(), 100, "two pages of 50 committed");
    }

    /// Brings the vendor back, starts the connectors again and waits until exactly
    /// `events` are stored; returns the first list request after the restart.
    async fn restart_until(&mut self, vendor: &Vendor, events: &[Event]) -> vendors::Seen {
        let before = vendor.state().list_requests.len();
        vendor.state().down = false;
        self.start();
        self.settled(events).await;
        vendor.state().list_requests[before].clone()
    }

    async fn position(&self, name: &str) -> Value {
        let text = self
            .store
            .connector_position(self.org, name)
            .await
            .expect("read position")
            .expect("a position is saved");
        serde_json::from_str(&text).expect("position JSON")
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn graph_settings(base: &str) -> Value {
    json!({
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "login_base": base,
        "graph_base": format!("{base}/beta"),
    })
}

const GRAPH_SECRET: &str = "Qf~8Q~secret.value-from.entra";

#[tokio::test]
async fn graph_pages_a_window_through_a_429_and_an_expired_token_and_stores_each_sign_in_once() {
    let mut h = harness().await;
    let now = Timestamp::now();
    let mut events = vendors::events("g", 120, now - SignedDuration::from_mins(5));
    let (vendor, base) =
        vendors::graph("contoso.onmicrosoft.com", GRAPH_SECRET, events.clone()).await;
    // The second list request is throttled (Retry-After: 1); the third finds the token
    // expired.
    vendor
        .state()
        .faults
        .extend([Fault::Pass, Fault::TooMany(1), Fault::ExpireToken]);
    h.put("entra", "graph", graph_settings(&base), Some(GRAPH_SECRET))
        .await;
    h.start();
    // 120 events, 50 a page: three pages, asked newest first.
    h.settled(&events).await;
    let (requests, tokens) = {
        let state = vendor.state();
        (state.list_requests.clone(), state.token_requests.clone())
    };
    // The Retry-After of 1 s was honoured before the next request.
    let throttled = requests
        .iter()
        .position(|r| r.status == 429)
        .expect("a 429 was served");
    let after = &requests[throttled + 1];
    assert!(
        after.at.duration_since(requests[throttled].at) >= Duration::from_millis(950),
        "asked again {:?} after a Retry-After of 1 s",
        after.at.duration_since(requests[throttled].at)
    );
    // The expired token was replaced once, with the client-credentials grant.
    assert_eq!(tokens.iter().filter(|t| t.status == 200).count(), 2);
    let first = &requests[0].query;
    let filter = url::form_urlencoded::parse(first.as_bytes())
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.into_owned())
        .expect("a $filter");
    assert!(filter.starts_with("createdDateTime ge "), "{filter}");
    assert!(
        filter.contains(
            "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
        ),
        "non-interactive sign-ins are asked for: {filter}"
    );
    assert!(requests.iter().all(|r| {
        r.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer "))
    }));

    // New sign-ins arrive, and one that Graph published late, timed ten minutes before
    // the newest already taken: the next window overlaps the last by 15 minutes, so it
    // is taken, and what comes twice is dropped by record id.
    let mut newer = vendors::events("h", 30, Timestamp::now() + SignedDuration::from_mins(30));
    newer.push(Event {
        id: "late".into(),
        time: events[119].time - SignedDuration::from_mins(10),
        user: "user1@echo.example".into(),
        ip: "198.51.100.7".into(),
        success: false,
    });
    vendor.state().events.extend(newer.clone());
    events.extend(newer.clone());
    let stored = h.settled(&events).await;
    let status = h.status("entra").await;
    assert_eq!(status.state, "running");
    assert_eq!(status.last_error, None);
    assert_eq!(
        status.events_today, 151,
        "records received, duplicates not counted"
    );
    let newest = newer.iter().map(|e| e.time).max();
    assert_eq!(
        status.newest_event_at.map(|t| t.as_millisecond()),
        newest.map(|t| t.as_millisecond())
    );
    // The overlapping window was asked from the newest event less the overlap.
    let last_window = vendor
        .state()
        .list_requests
        .iter()
        .rev()
        .find(|r| !r.query.contains("skiptoken") && r.status == 200)
        .map(|r| r.query.clone())
        .expect("a window request");
    let expected_since = (newest.expect("newest") - SignedDuration::from_mins(15))
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let window_filter = url::form_urlencoded::parse(last_window.as_bytes())
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.into_owned())
        .expect("a $filter");
    assert!(
        window_filter.starts_with(&format!("createdDateTime ge {expected_since} ")),
        "{window_filter}"
    );
    // Failures are read as failures, with Graph's error code behind them.
    let failures = stored
        .iter()
        .filter(|s| s.outcome == model::Outcome::Failure)
        .count();
    assert_eq!(failures, events.iter().filter(|e| !e.success).count());
    h.stop().await;
}

#[tokio::test]
async fn graph_restart_in_the_middle_of_paging_resumes_at_the_next_page_without_gap_or_duplicate() {
    let mut h = harness().await;
    let events = vendors::events("r", 150, Timestamp::now() - SignedDuration::from_mins(1));
    let (vendor, base) =
        vendors::graph("contoso.onmicrosoft.com", GRAPH_SECRET, events.clone()).await;
    h.put("entra", "graph", graph_settings(&base), Some(GRAPH_SECRET))
        .await;
    h.stop_after_two_pages(&vendor).await;
    let position = h.position("entra").await;
    let next = position["next"]
        .as_str()
        .expect("the next link is committed");
    assert!(next.contains("skiptoken"), "{next}");
    let status = h.status("entra").await;
    assert_eq!(status.state, "backing_off");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503") && e.contains("temporarily unavailable")),
        "{status:?}"
    );

    let resumed = h.restart_until(&vendor, &events).await.query;
    assert!(
        resumed.contains("skiptoken"),
        "the restart asked for the next page, not the window again: {resumed}"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_expired_client_secret_fails_the_connector_and_tells_the_organisation_once() {
    let mut h = harness().await;
    let events = vendors::events("x", 10, Timestamp::now());
    let (vendor, base) =
        vendors::graph("contoso.onmicrosoft.com", GRAPH_SECRET, events.clone()).await;
    vendor.state().credential_valid = false;
    h.put("entra", "graph", graph_settings(&base), Some(GRAPH_SECRET))
        .await;
    h.start();
    wait_until("three refused token requests", || {
        vendor.state().token_requests.len() >= 3
    })
    .await;
    let status = h.status("entra").await;
    assert_eq!(status.state, "failed");
    let error = status.last_error.expect("the error in words");
    assert!(error.contains("AADSTS7000222"), "{error}");
    assert!(!error.contains(GRAPH_SECRET));
    assert!(status.failure_notified_at.is_some());
    let notices = h.failure_notices().await;
    assert_eq!(notices.len(), 1, "told once, not at every retry");
    assert_eq!(notices[0]["connector"]["name"], "entra");
    assert!(
        notices[0]["connector"]["action"]
            .as_str()
            .is_some_and(|a| a.contains("client secret"))
    );
    assert!(!notices[0].to_string().contains(GRAPH_SECRET));
    assert!(h.stored().await.is_empty());

    // The organisation sets a new secret: the connector restarts, pulls, and is well.
    vendor.state().credential = "new~secret".into();
    vendor.state().credential_valid = true;
    h.put("entra", "graph", graph_settings(&base), Some("new~secret"))
        .await;
    h.settled(&events).await;
    h.wait_for(
        "running again",
        |s| s.state == "running" && s.failure_notified_at.is_none(),
        "entra",
    )
    .await;

    // A later failure is a new one, told again.
    vendor.state().credential_valid = false;
    vendor.state().faults.push_back(Fault::ExpireToken);
    vendor.state().events.push(Event {
        id: "late".into(),
        time: Timestamp::now(),
        user: "a@echo.example".into(),
        ip: "203.0.113.9".into(),
        success: false,
    });
    h.wait_for("failed again", |s| s.state == "failed", "entra")
        .await;
    assert_eq!(h.failure_notices().await.len(), 2);
    h.stop().await;
}

#[tokio::test]
async fn graph_events_stamped_hours_ahead_of_our_clock_are_all_taken_once() {
    // Graph's clock (and so every createdDateTime) is three hours ahead of ours: windows
    // move on Graph's times only, so nothing is skipped or repeated.
    let mut h = harness().await;
    let ahead = Timestamp::now() + SignedDuration::from_hours(3);
    let mut events = vendors::events("s", 60, ahead);
    let (vendor, base) =
        vendors::graph("contoso.onmicrosoft.com", GRAPH_SECRET, events.clone()).await;
    vendor.state().skew = SignedDuration::from_hours(3);
    h.put("entra", "graph", graph_settings(&base), Some(GRAPH_SECRET))
        .await;
    h.start();
    h.settled(&events).await;
    let later = vendors::events("t", 5, ahead + SignedDuration::from_mins(10));
    vendor.state().events.extend(later.clone());
    events.extend(later);
    h.settled(&events).await;
    h.stop().await;
}

fn okta_settings(base: &str) -> Value {
    json!({ "org_url": base })
}

const OKTA_TOKEN: &str = "00QCjAl4MlV-WPXM-0HmjFx-vbGua";

#[tokio::test]
async fn okta_polls_the_next_link_and_waits_out_the_rate_limit_on_oktas_clock() {
    let mut h = harness().await;
    let mut events = vendors::events("o", 230, Timestamp::now() - SignedDuration::from_mins(1));
    let (vendor, base) = vendors::okta(OKTA_TOKEN, events.clone()).await;
    {
        let mut state = vendor.state();
        // Okta's clock is two hours behind ours; four requests per two-second window.
        state.skew = SignedDuration::from_hours(-2);
        state.rate_limit = Some((4, 2));
    }
    h.put("okta", "okta", okta_settings(&base), Some(OKTA_TOKEN))
        .await;
    h.start();
    h.settled(&events).await;
    let requests = vendor.state().list_requests.clone();
    assert_eq!(
        requests.iter().filter(|r| r.status == 429).count(),
        0,
        "the connector waited for the reset instead of running into 429s"
    );
    assert!(requests.len() >= 5, "five pages of 50");
    let first = &requests[0].query;
    assert!(
        first.contains("sortOrder=ASCENDING") && first.contains("since="),
        "{first}"
    );
    let filter = url::form_urlencoded::parse(first.as_bytes())
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        filter.as_deref(),
        Some(tocsin_connect::pull::okta::SIGN_IN_FILTER)
    );
    assert!(requests[1..].iter().all(|r| r.query.contains("after=")));
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("SSWS {OKTA_TOKEN}")))
    );
    // More events: the saved next link is polled and finds them.
    let newer = vendors::events("p", 20, Timestamp::now());
    vendor.state().events.extend(newer.clone());
    events.extend(newer);
    h.settled(&events).await;
    assert_eq!(h.status("okta").await.events_today, 250);
    h.stop().await;
}

#[tokio::test]
async fn okta_429_is_retried_after_the_reset_and_a_restart_resumes_from_the_committed_link() {
    let mut h = harness().await;
    let events = vendors::events("q", 180, Timestamp::now() - SignedDuration::from_mins(1));
    let (vendor, base) = vendors::okta(OKTA_TOKEN, events.clone()).await;
    vendor.state().faults.push_back(Fault::TooMany(1));
    h.put("okta", "okta", okta_settings(&base), Some(OKTA_TOKEN))
        .await;
    h.stop_after_two_pages(&vendor).await;
    let requests = vendor.state().list_requests.clone();
    let throttled = requests
        .iter()
        .position(|r| r.status == 429)
        .expect("a 429");
    assert!(
        requests[throttled + 1]
            .at
            .duration_since(requests[throttled].at)
            >= Duration::from_millis(950)
    );
    let next = h.position("okta").await["next"]
        .as_str()
        .expect("next link")
        .to_owned();
    let resumed = h.restart_until(&vendor, &events).await;
    assert_eq!(format!("{base}/api/v1/logs?{}", resumed.query), next);
    h.stop().await;
}

#[tokio::test]
async fn a_revoked_okta_token_fails_the_connector_and_tells_the_organisation_once() {
    let mut h = harness().await;
    let (vendor, base) = vendors::okta(OKTA_TOKEN, Vec::new()).await;
    vendor.state().credential_valid = false;
    h.put("okta", "okta", okta_settings(&base), Some(OKTA_TOKEN))
        .await;
    h.start();
    wait_until("three refusals", || vendor.state().list_requests.len() >= 3).await;
    let status = h.status("okta").await;
    assert_eq!(status.state, "failed");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("Invalid token provided"))
    );
    let notices = h.failure_notices().await;
    assert_eq!(notices.len(), 1);
    assert!(!notices[0].to_string().contains(OKTA_TOKEN));
    h.stop().await;
}

const ADMIN: &str = "admin@echo.example";

fn google_key(token_uri: &str) -> String {
    let mut key: Value =
        serde_json::from_str(include_str!("pull/service-account.json")).expect("key file");
    key["token_uri"] = Value::String(token_uri.to_owned());
    key.to_string()
}

fn google_public_key() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(include_str!("pull/service-account.pub.b64").trim())
        .expect("public key")
}

fn google_settings(base: &str) -> Value {
    json!({ "delegated_admin": ADMIN, "reports_base": base })
}

#[tokio::test]
async fn google_signs_on_googles_clock_pages_with_page_tokens_and_resumes_after_a_restart() {
    let mut h = harness().await;
    let events = vendors::events("go", 140, Timestamp::now() - SignedDuration::from_mins(1));
    let (vendor, base) = vendors::google(google_public_key(), ADMIN, events.clone()).await;
    // Google's clock is two hours ahead: an assertion on our clock is refused once, then
    // signed again on Google's.
    vendor.state().skew = SignedDuration::from_hours(2);
    h.put(
        "workspace",
        "google",
        google_settings(&base),
        Some(&google_key(&format!("{base}/token"))),
    )
    .await;
    h.stop_after_two_pages(&vendor).await;
    let tokens = vendor.state().token_requests.clone();
    assert_eq!(
        tokens.len(),
        2,
        "one assertion refused for its times, one accepted"
    );
    assert_eq!(tokens[0].status, 400);
    assert_eq!(tokens[1].status, 200);
    let position = h.position("workspace").await;
    assert!(position["next"].is_string(), "{position}");
    let resumed = h.restart_until(&vendor, &events).await.query;
    assert!(resumed.contains("pageToken="), "{resumed}");
    assert!(resumed.contains("maxResults=50"));
    // A 429 and an expired token on the next windows pass too.
    vendor
        .state()
        .faults
        .extend([Fault::TooMany(0), Fault::ExpireToken]);
    let mut all = events.clone();
    let newer = vendors::events("gp", 10, Timestamp::now());
    vendor.state().events.extend(newer.clone());
    all.extend(newer);
    h.settled(&all).await;
    assert_eq!(h.status("workspace").await.state, "running");
    h.stop().await;
}

#[tokio::test]
async fn google_revoked_delegation_fails_the_connector_and_tells_the_organisation_once() {
    let mut h = harness().await;
    let (vendor, base) =
        vendors::google(google_public_key(), "someone.else@echo.example", Vec::new()).await;
    h.put(
        "workspace",
        "google",
        google_settings(&base),
        Some(&google_key(&format!("{base}/token"))),
    )
    .await;
    h.start();
    wait_until("three refusals", || {
        vendor.state().token_requests.len() >= 3
    })
    .await;
    let status = h.status("workspace").await;
    assert_eq!(status.state, "failed");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("unauthorized") || e.contains("Client is unauthorized")),
        "{status:?}"
    );
    let notices = h.failure_notices().await;
    assert_eq!(notices.len(), 1);
    assert!(!notices[0].to_string().contains("PRIVATE KEY"));
    h.stop().await;
}

/// Sustained events/s of each pull connector on loopback, 20,000 sign-ins in pages of
/// 1000 through the whole intake (parsing, detection, SQLite). A measurement, not a
/// test: `cargo test --release -p tocsin-connect --test pull -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it on purpose"]
async fn events_per_second() {
    const N: usize = 20_000;
    for kind in ["graph", "okta", "google"] {
        let mut h = harness().await;
        // One a second, so that the detectors see realistic density.
        let newest = Timestamp::now() - SignedDuration::from_mins(1);
        let events: Vec<Event> = (0..N)
            .map(|i| Event {
                id: format!("{kind}-{i:06}"),
                time: newest - SignedDuration::from_secs((N - 1 - i) as i64),
                user: format!("user{}@echo.example", i % 500),
                ip: format!("198.51.{}.{}", i % 200, 1 + i % 250),
                success: i % 3 == 0,
            })
            .collect();
        let (vendor, base) = match kind {
            "graph" => {
                let (v, b) =
                    vendors::graph("contoso.onmicrosoft.com", GRAPH_SECRET, events.clone()).await;
                h.put("c", "graph", graph_settings(&b), Some(GRAPH_SECRET))
                    .await;
                (v, b)
            }
            "okta" => {
                let (v, b) = vendors::okta(OKTA_TOKEN, events.clone()).await;
                h.put("c", "okta", okta_settings(&b), Some(OKTA_TOKEN))
                    .await;
                (v, b)
            }
            _ => {
                let (v, b) = vendors::google(google_public_key(), ADMIN, events.clone()).await;
                h.put(
                    "c",
                    "google",
                    google_settings(&b),
                    Some(&google_key(&format!("{b}/token"))),
                )
                .await;
                (v, b)
            }
        };
        let _ = base;
        h.pulls = Some(
            Pulls::start(
                PullConfig {
                    page_size: 1000,
                    ..config()
                },
                Arc::clone(&h.intake),
                Arc::new(enrich::Enricher::disabled()),
                h.key.clone(),
            )
            .expect("pulls start"),
        );
        let started = Instant::now();
        h.wait_for("all events", |s| s.events_today == N as i64, "c")
            .await;
        let elapsed = started.elapsed();
        let pages = vendor.state().list_requests.len();
        println!(
            "{kind}: {N} events in {:.2} s = {:.0} events/s ({pages} requests)",
            elapsed.as_secs_f64(),
            N as f64 / elapsed.as_secs_f64()
        );
        h.stop().await;
    }
}
