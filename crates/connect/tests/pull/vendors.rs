//! Local stand-ins for Microsoft Graph, Okta and Google Workspace, on 127.0.0.1: the real
//! APIs cannot be reached from here, so each serves what the vendor documents — the same
//! paths and parameters, records field for field as the vendors publish them, paging
//! links, error bodies and headers — over a data set the test controls, with faults the
//! test scripts (429 with Retry-After, 5xx, a token that expires, a revoked credential)
//! and a clock of its own (the `Date` header, Okta's rate-limit reset, JWT validation).
//!
//! Every request is logged with the time it arrived, so that tests can check what the
//! connector asked for and when.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// One sign-in attempt in the vendor's data set.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub time: Timestamp,
    pub user: String,
    pub ip: String,
    pub success: bool,
}

/// `n` attempts, one a minute up to `newest`, alternating users, most of them failures.
pub fn events(prefix: &str, n: usize, newest: Timestamp) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            id: format!("{prefix}-{i:05}"),
            time: newest - SignedDuration::from_mins((n - 1 - i) as i64),
            user: format!("user{}@echo.example", i % 7),
            ip: format!("203.0.113.{}", 1 + i % 200),
            success: i % 5 == 0,
        })
        .collect()
}

/// A scripted answer instead of the real one, for the next list request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The real answer.
    Pass,
    /// 429 with `Retry-After: n`.
    TooMany(u64),
    /// 500 or 503 with the vendor's error body.
    Unavailable,
    /// The access token expires now: this and later requests with it get 401.
    ExpireToken,
}

/// One request as the vendor saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub query: String,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Default)]
pub struct VendorState {
    pub events: Vec<Event>,
    pub faults: VecDeque<Fault>,
    /// Answer every list request with 500 while set.
    pub down: bool,
    /// Go down by itself once this many list requests were answered 200: a failure at
    /// an exact page, whatever the timing.
    pub down_after: Option<usize>,
    /// The credential the vendor accepts (client secret, API token).
    pub credential: String,
    /// Whether the credential (or Google's delegation) is accepted at all.
    pub credential_valid: bool,
    /// The access token now valid.
    pub token: Option<String>,
    pub tokens_issued: u32,
    pub token_requests: Vec<Seen>,
    pub list_requests: Vec<Seen>,
    /// The vendor's clock minus ours.
    pub skew: SignedDuration,
    /// Okta: requests per window, and the window's length.
    pub rate_limit: Option<(i64, i64)>,
    pub window: Option<(i64, i64)>,
    /// Google: the public key assertions are checked with (PKCS#1 DER), and the
    /// subject delegation allows.
    pub public_key: Vec<u8>,
    pub subject: String,
    pub base: String,
}

#[derive(Clone, Default)]
pub struct Vendor(pub Arc<Mutex<VendorState>>);

impl Vendor {
    pub fn state(&self) -> MutexGuard<'_, VendorState> {
        self.0.lock().expect("vendor state")
    }

    fn now(&self) -> Timestamp {
        Timestamp::now() + self.state().skew
    }
}

fn date_header(now: Timestamp) -> HeaderValue {
    let text = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&now)
        .expect("http date");
    HeaderValue::from_str(&text).expect("header")
}

fn answer(vendor: &Vendor, status: StatusCode, body: Value, extra: &[(&str, String)]) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("date", date_header(vendor.now()));
    for (name, value) in extra {
        headers.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    response
}

fn seen(query: &Option<String>, headers: &HeaderMap, status: u16) -> Seen {
    Seen {
        at: Instant::now(),
        query: query.clone().unwrap_or_default(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        status,
    }
}

fn param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    address
}

/// The fault to answer the next list request with, if any.
fn next_fault(vendor: &Vendor) -> Option<Fault> {
    let mut state = vendor.state();
    let answered = state
        .list_requests
        .iter()
        .filter(|r| r.status == 200)
        .count();
    if state.down_after.is_some_and(|n| answered >= n) {
        state.down = true;
        state.down_after = None;
    }
    if state.down {
        return Some(Fault::Unavailable);
    }
    state.faults.pop_front()
}

fn bearer_ok(vendor: &Vendor, headers: &HeaderMap) -> bool {
    let state = vendor.state();
    let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
    matches!((sent, &state.token), (Some(sent), Some(token)) if sent == format!("Bearer {token}"))
}

/// A vendor's error bodies for a bearer-authenticated list request that is refused.
struct Refusals {
    /// A token the vendor does not hold (expired, revoked).
    expired: (StatusCode, Value),
    /// 429, sent with the scripted `Retry-After`.
    too_many: Value,
    /// 5xx, with its extra headers.
    unavailable: (StatusCode, Value, Vec<(&'static str, String)>),
}

/// The answer to a bearer-authenticated list request when it is not the real one: a token
/// the vendor does not hold, or the next scripted fault (each logged). `None`: answer for
/// real.
fn bearer_fault(
    vendor: &Vendor,
    headers: &HeaderMap,
    query: &Option<String>,
    refusals: Refusals,
) -> Option<Response> {
    let log = |status: StatusCode| {
        vendor
            .state()
            .list_requests
            .push(seen(query, headers, status.as_u16()));
    };
    let refuse = |(status, body): (StatusCode, Value)| {
        log(status);
        answer(vendor, status, body, &[])
    };
    if !bearer_ok(vendor, headers) {
        return Some(refuse(refusals.expired));
    }
    match next_fault(vendor)? {
        Fault::Pass => None,
        Fault::TooMany(seconds) => {
            log(StatusCode::TOO_MANY_REQUESTS);
            Some(answer(
                vendor,
                StatusCode::TOO_MANY_REQUESTS,
                refusals.too_many,
                &[("retry-after", seconds.to_string())],
            ))
        }
        Fault::Unavailable => {
            let (status, body, extra) = refusals.unavailable;
            log(status);
            Some(answer(vendor, status, body, &extra))
        }
        Fault::ExpireToken => {
            vendor.state().token = None;
            Some(refuse(refusals.expired))
        }
    }
}

/// A page of `events` (already in the vendor's order) after the one with id `after`.
fn page_after<'a>(events: &'a [Event], after: Option<&str>, size: usize) -> (&'a [Event], bool) {
    let start = after
        .and_then(|id| events.iter().position(|e| e.id == id).map(|i| i + 1))
        .unwrap_or(0);
    let end = (start + size).min(events.len());
    (&events[start..end], end < events.len())
}

// ---------------------------------------------------------------------------------------
// Microsoft Graph and the Microsoft identity platform's token endpoint.

pub fn graph_record(event: &Event) -> Value {
    let (code, reason) = if event.success {
        (0, "Other.")
    } else {
        (
            50126,
            "Error validating credentials due to invalid username or password.",
        )
    };
    json!({
        "id": event.id,
        "createdDateTime": event.time.to_string(),
        "userDisplayName": event.user.split('@').next(),
        "userPrincipalName": event.user,
        "userId": "26be570a-ae82-4189-b4e2-a37c6808512d",
        "appId": "00000002-0000-0ff1-ce00-000000000000",
        "appDisplayName": "Office 365 Exchange Online",
        "ipAddress": event.ip,
        "clientAppUsed": "Browser",
        "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
        "conditionalAccessStatus": "notApplied",
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes_v2": [],
        "resourceDisplayName": "Office 365 Exchange Online",
        "resourceId": "00000002-0000-0ff1-ce00-000000000000",
        "signInEventTypes": ["interactiveUser"],
        "status": { "errorCode": code, "failureReason": reason, "additionalDetails": null },
        "deviceDetail": { "deviceId": "", "displayName": null, "operatingSystem": "Windows 10", "browser": "Edge 120.0", "isCompliant": false, "isManaged": false, "trustType": null },
        "location": { "city": "Lyon", "state": "Auvergne-Rhone-Alpes", "countryOrRegion": "FR", "geoCoordinates": { "altitude": null, "latitude": 45.76, "longitude": 4.83 } },
        "appliedConditionalAccessPolicies": []
    })
}

/// Starts a Graph stand-in for tenant `tenant`; returns it and its base URL
/// (`http://127.0.0.1:port`).
pub async fn graph(tenant: &str, secret: &str, events: Vec<Event>) -> (Vendor, String) {
    let vendor = Vendor::default();
    {
        let mut state = vendor.state();
        state.events = events;
        state.credential = secret.to_owned();
        state.credential_valid = true;
    }
    let token_path = format!("/{tenant}/oauth2/v2.0/token");
    let app = Router::new()
        .route(&token_path, post(graph_token))
        .route("/beta/auditLogs/signIns", get(graph_list))
        .with_state(vendor.clone());
    let address = serve(app).await;
    let base = format!("http://{address}");
    vendor.state().base = base.clone();
    (vendor, base)
}

async fn graph_token(State(vendor): State<Vendor>, headers: HeaderMap, body: Bytes) -> Response {
    let form = String::from_utf8_lossy(&body).into_owned();
    let secret = param(&form, "client_secret");
    let grant = param(&form, "grant_type");
    let scope = param(&form, "scope");
    let mut state = vendor.state();
    let ok = state.credential_valid
        && secret.as_deref() == Some(state.credential.as_str())
        && grant.as_deref() == Some("client_credentials")
        && scope.as_deref().is_some_and(|s| s.ends_with("/.default"));
    let status = if ok { 200 } else { 401 };
    state.token_requests.push(seen(&None, &headers, status));
    if !ok {
        drop(state);
        let now = vendor.now().to_string();
        return answer(
            &vendor,
            StatusCode::UNAUTHORIZED,
            json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000222: The provided client secret keys for app '6731de76-14a6-49ae-97bc-6eba6914391e' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds. Trace ID: 0c2c8f4e-2f8d-4a45-9b3c-6f4d2e0a1b00 Correlation ID: 5b1f7f0e-3c2d-4a59-8d0e-1a2b3c4d5e6f Timestamp: {now}"),
                "error_codes": [7000222],
                "timestamp": now,
                "trace_id": "0c2c8f4e-2f8d-4a45-9b3c-6f4d2e0a1b00",
                "correlation_id": "5b1f7f0e-3c2d-4a59-8d0e-1a2b3c4d5e6f",
                "error_uri": "https://login.microsoftonline.com/error?code=7000222"
            }),
            &[],
        );
    }
    state.tokens_issued += 1;
    let token = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.graph-{}",
        state.tokens_issued
    );
    state.token = Some(token.clone());
    drop(state);
    answer(
        &vendor,
        StatusCode::OK,
        json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }),
        &[],
    )
}

fn graph_error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message, "innerError": { "date": "2026-12-06T05:30:00", "request-id": "b6a1c2d3-0000-4000-8000-000000000001", "client-request-id": "b6a1c2d3-0000-4000-8000-000000000001" } } })
}

async fn graph_list(
    State(vendor): State<Vendor>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let refusals = Refusals {
        expired: (
            StatusCode::UNAUTHORIZED,
            graph_error(
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            ),
        ),
        too_many: graph_error("TooManyRequests", "Too many requests."),
        unavailable: (
            StatusCode::SERVICE_UNAVAILABLE,
            graph_error(
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            ),
            vec![("retry-after", "1".to_owned())],
        ),
    };
    if let Some(refused) = bearer_fault(&vendor, &headers, &query, refusals) {
        return refused;
    }
    let log = |status: u16| {
        vendor
            .state()
            .list_requests
            .push(seen(&query, &headers, status));
    };
    let query_text = query.clone().unwrap_or_default();
    let filter = param(&query_text, "$filter").unwrap_or_default();
    let since: Option<Timestamp> = filter
        .strip_prefix("createdDateTime ge ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|t| t.parse().ok());
    let Some(since) = since else {
        log(400);
        return answer(
            &vendor,
            StatusCode::BAD_REQUEST,
            graph_error("Request_UnsupportedQuery", "Invalid filter clause"),
            &[],
        );
    };
    let top: usize = param(&query_text, "$top")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1000);
    let skiptoken = param(&query_text, "$skiptoken");
    let state = vendor.state();
    // Newest first, as Graph lists them.
    let mut window: Vec<Event> = state
        .events
        .iter()
        .filter(|e| e.time >= since)
        .cloned()
        .collect();
    window.sort_by(|a, b| b.time.cmp(&a.time).then(b.id.cmp(&a.id)));
    let (page, more) = page_after(&window, skiptoken.as_deref(), top);
    let value: Vec<Value> = page.iter().map(graph_record).collect();
    let mut body = json!({
        "@odata.context": format!("{}/beta/$metadata#auditLogs/signIns", state.base),
        "value": value,
    });
    if more && let Some(last) = page.last() {
        let mut next =
            url::Url::parse(&format!("{}/beta/auditLogs/signIns", state.base)).expect("url");
        next.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$top", &top.to_string())
            .append_pair("$skiptoken", &last.id);
        body["@odata.nextLink"] = Value::String(next.to_string());
    }
    drop(state);
    log(200);
    answer(&vendor, StatusCode::OK, body, &[])
}

// ---------------------------------------------------------------------------------------
// Okta System Log.

pub fn okta_record(event: &Event) -> Value {
    let (result, reason) = if event.success {
        ("SUCCESS", Value::Null)
    } else {
        ("FAILURE", Value::String("INVALID_CREDENTIALS".into()))
    };
    json!({
        "actor": { "id": "00u1qw1mqitPHM8AJ0g7", "type": "User", "alternateId": event.user, "displayName": "Dana Lee", "detailEntry": null },
        "client": {
            "userAgent": { "rawUserAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36", "os": "Linux", "browser": "CHROME" },
            "zone": "null", "device": "Computer", "id": null, "ipAddress": event.ip,
            "geographicalContext": { "city": "Lisbon", "state": "Lisbon", "country": "Portugal", "postalCode": "1000-001", "geolocation": { "lat": 38.72, "lon": -9.14 } }
        },
        "device": null,
        "authenticationContext": { "authenticationProvider": null, "credentialProvider": null, "credentialType": null, "issuer": null, "interface": null, "authenticationStep": 0, "externalSessionId": "unknown" },
        "displayMessage": "User login to Okta",
        "eventType": "user.session.start",
        "outcome": { "result": result, "reason": reason },
        "published": event.time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "securityContext": { "asNumber": 64502, "asOrg": "example transit", "isp": "example isp", "domain": "example.net", "isProxy": false },
        "severity": "INFO",
        "debugContext": { "debugData": { "requestUri": "/api/v1/authn", "threatSuspected": "false", "url": "/api/v1/authn?" } },
        "legacyEventType": "core.user_auth.login_failed",
        "transaction": { "type": "WEB", "id": "Zjh3aW5kb3dz", "detail": {} },
        "uuid": event.id,
        "version": "0",
        "request": { "ipChain": [ { "ip": event.ip, "geographicalContext": { "city": "Lisbon", "state": "Lisbon", "country": "Portugal" }, "version": "V4", "source": null } ] },
        "target": null
    })
}

pub async fn okta(token: &str, events: Vec<Event>) -> (Vendor, String) {
    let vendor = Vendor::default();
    {
        let mut state = vendor.state();
        state.events = events;
        state.credential = token.to_owned();
        state.credential_valid = true;
    }
    let app = Router::new()
        .route("/api/v1/logs", get(okta_logs))
        .with_state(vendor.clone());
    let address = serve(app).await;
    let base = format!("http://{address}");
    vendor.state().base = base.clone();
    (vendor, base)
}

fn okta_error(code: &str, summary: &str) -> Value {
    json!({ "errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaeq3b2b9Zs6WkBGf4nDk6kYg", "errorCauses": [] })
}

/// Okta's rate-limit headers for a window of `limit` requests resetting at `reset`.
fn okta_limits(limit: i64, remaining: i64, reset: i64) -> Vec<(&'static str, String)> {
    vec![
        ("x-rate-limit-limit", limit.to_string()),
        ("x-rate-limit-remaining", remaining.to_string()),
        ("x-rate-limit-reset", reset.to_string()),
    ]
}

async fn okta_logs(
    State(vendor): State<Vendor>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let now = vendor.now().as_second();
    // The rate-limit window, on Okta's clock.
    let limits = {
        let mut state = vendor.state();
        match state.rate_limit {
            Some((limit, length)) => {
                let (start, used) = match state.window {
                    Some((start, used)) if now < start + length => (start, used + 1),
                    _ => (now, 1),
                };
                state.window = Some((start, used));
                Some((limit, limit - used, start + length))
            }
            None => None,
        }
    };
    let limit_headers = limits
        .map(|(limit, remaining, reset)| okta_limits(limit, remaining.max(0), reset))
        .unwrap_or_default();
    let log = |status: u16| {
        vendor
            .state()
            .list_requests
            .push(seen(&query, &headers, status));
    };
    if let Some((_, remaining, _)) = limits
        && remaining < 0
    {
        log(429);
        return answer(
            &vendor,
            StatusCode::TOO_MANY_REQUESTS,
            okta_error(
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
            ),
            &limit_headers,
        );
    }
    let token_ok = {
        let state = vendor.state();
        state.credential_valid
            && headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some(format!("SSWS {}", state.credential).as_str())
    };
    if !token_ok {
        log(401);
        return answer(
            &vendor,
            StatusCode::UNAUTHORIZED,
            okta_error("E0000011", "Invalid token provided"),
            &limit_headers,
        );
    }
    match next_fault(&vendor) {
        Some(Fault::TooMany(seconds)) => {
            log(429);
            let mut extra = limit_headers.clone();
            extra.push(("retry-after", seconds.to_string()));
            return answer(
                &vendor,
                StatusCode::TOO_MANY_REQUESTS,
                okta_error(
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                ),
                &extra,
            );
        }
        Some(Fault::Unavailable | Fault::ExpireToken) => {
            log(500);
            return answer(
                &vendor,
                StatusCode::INTERNAL_SERVER_ERROR,
                okta_error("E0000009", "Internal Server Error"),
                &limit_headers,
            );
        }
        Some(Fault::Pass) | None => {}
    }
    let query_text = query.clone().unwrap_or_default();
    let limit: usize = param(&query_text, "limit")
        .and_then(|t| t.parse().ok())
        .unwrap_or(100);
    let filter = param(&query_text, "filter").unwrap_or_default();
    let after = param(&query_text, "after");
    let since: Option<Timestamp> = param(&query_text, "since").and_then(|t| t.parse().ok());
    let state = vendor.state();
    // In the order Okta stored them (the data set's order); `after` is the last
    // event's id, so an event stored later is found after the cursor even when its
    // `published` is older than the cursor's.
    let log_events: Vec<Event> = state
        .events
        .iter()
        .filter(|e| since.is_none_or(|s| e.time >= s))
        .cloned()
        .collect();
    let (page, _) = page_after(&log_events, after.as_deref(), limit);
    let body = Value::Array(page.iter().map(okta_record).collect());
    // A polling query always has a next link: after the last event returned, or the same
    // cursor when none was.
    let cursor = page.last().map(|e| e.id.clone()).or(after);
    let mut next = url::Url::parse(&format!("{}/api/v1/logs", state.base)).expect("url");
    {
        let mut pairs = next.query_pairs_mut();
        pairs
            .append_pair("limit", &limit.to_string())
            .append_pair("sortOrder", "ASCENDING")
            .append_pair("filter", &filter);
        match &cursor {
            Some(cursor) => pairs.append_pair("after", cursor),
            None => pairs.append_pair("since", &param(&query_text, "since").unwrap_or_default()),
        };
    }
    let mut self_link = url::Url::parse(&format!("{}/api/v1/logs", state.base)).expect("url");
    self_link.set_query(query.as_deref());
    drop(state);
    let mut extra = limit_headers;
    extra.push(("link", format!("<{self_link}>; rel=\"self\"")));
    extra.push(("link", format!("<{next}>; rel=\"next\"")));
    log(200);
    answer(&vendor, StatusCode::OK, body, &extra)
}

// ---------------------------------------------------------------------------------------
// Google: the OAuth 2.0 token endpoint (JWT bearer) and the Reports API.

pub fn google_record(event: &Event) -> Value {
    let events = if event.success {
        json!([{ "type": "login", "name": "login_success", "parameters": [
            { "name": "login_type", "value": "google_password" },
            { "name": "login_challenge_method", "multiValue": ["password"] },
            { "name": "is_suspicious", "boolValue": false } ] }])
    } else {
        json!([{ "type": "login", "name": "login_failure", "parameters": [
            { "name": "login_type", "value": "google_password" },
            { "name": "login_challenge_method", "multiValue": ["password"] },
            { "name": "login_failure_type", "value": "login_failure_invalid_password" },
            { "name": "is_suspicious", "boolValue": false } ] }])
    };
    json!({
        "kind": "admin#reports#activity",
        "id": { "time": event.time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), "uniqueQualifier": event.id, "applicationName": "login", "customerId": "C03az79cb" },
        "etag": "\"JDMC8884sebSctZ17CIssbQ/ZLeTC5bUrnkxF0hHSvJZZPjXzG8\"",
        "actor": { "callerType": "USER", "email": event.user, "profileId": "114511147312345678901" },
        "ipAddress": event.ip,
        "networkInfo": { "ipAsn": [64503], "regionCode": "FR", "subdivisionCode": "FR-75" },
        "events": events
    })
}

pub async fn google(public_key: Vec<u8>, subject: &str, events: Vec<Event>) -> (Vendor, String) {
    let vendor = Vendor::default();
    {
        let mut state = vendor.state();
        state.events = events;
        state.credential_valid = true;
        state.public_key = public_key;
        state.subject = subject.to_owned();
    }
    let app = Router::new()
        .route("/token", post(google_token))
        .route(
            "/admin/reports/v1/activity/users/all/applications/login",
            get(google_list),
        )
        .with_state(vendor.clone());
    let address = serve(app).await;
    let base = format!("http://{address}");
    vendor.state().base = base.clone();
    (vendor, base)
}

/// Why Google would refuse this assertion, if it would.
fn google_refusal(
    vendor: &Vendor,
    assertion: &str,
) -> Option<(StatusCode, &'static str, &'static str)> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bad = (
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "Invalid JWT Signature.",
    );
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Some(bad);
    };
    let state = vendor.state();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        state.public_key.clone(),
    );
    let signed = format!("{header}.{claims}");
    let Ok(signature) = b64.decode(signature) else {
        return Some(bad);
    };
    if key.verify(signed.as_bytes(), &signature).is_err() {
        return Some(bad);
    }
    let header: Value = serde_json::from_slice(&b64.decode(header).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&b64.decode(claims).ok()?).ok()?;
    if header["alg"] != "RS256" {
        return Some(bad);
    }
    let now = (Timestamp::now() + state.skew).as_second();
    let iat = claims["iat"].as_i64().unwrap_or(0);
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if (iat - now).abs() > 300 || exp - iat > 3600 || exp < now {
        return Some((
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        ));
    }
    let token_uri = format!("{}/token", state.base);
    if claims["aud"] != token_uri.as_str()
        || claims["scope"] != "https://www.googleapis.com/auth/admin.reports.audit.readonly"
        || claims["iss"] != "tocsin-reports@tocsin-test.iam.gserviceaccount.com"
    {
        return Some((
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT Signature.",
        ));
    }
    if !state.credential_valid || claims["sub"] != state.subject.as_str() {
        return Some((
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        ));
    }
    None
}

async fn google_token(State(vendor): State<Vendor>, headers: HeaderMap, body: Bytes) -> Response {
    let form = String::from_utf8_lossy(&body).into_owned();
    let grant = param(&form, "grant_type");
    let assertion = param(&form, "assertion").unwrap_or_default();
    let refusal = if grant.as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        Some((
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        ))
    } else {
        google_refusal(&vendor, &assertion)
    };
    let status = refusal.map_or(200, |(s, _, _)| s.as_u16());
    vendor
        .state()
        .token_requests
        .push(seen(&Some(form.clone()), &headers, status));
    if let Some((status, error, description)) = refusal {
        return answer(
            &vendor,
            status,
            json!({ "error": error, "error_description": description }),
            &[],
        );
    }
    let token = {
        let mut state = vendor.state();
        state.tokens_issued += 1;
        let token = format!("ya29.c.fake-{}", state.tokens_issued);
        state.token = Some(token.clone());
        token
    };
    answer(
        &vendor,
        StatusCode::OK,
        json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" }),
        &[],
    )
}

fn google_error(code: u16, message: &str, status: &str, reason: &str) -> Value {
    json!({ "error": { "code": code, "message": message, "errors": [ { "message": message, "domain": "global", "reason": reason } ], "status": status } })
}

async fn google_list(
    State(vendor): State<Vendor>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let expired = google_error(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "UNAUTHENTICATED",
        "authError",
    );
    let refusals = Refusals {
        expired: (StatusCode::UNAUTHORIZED, expired),
        too_many: google_error(
            429,
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.",
            "RESOURCE_EXHAUSTED",
            "rateLimitExceeded",
        ),
        unavailable: (
            StatusCode::SERVICE_UNAVAILABLE,
            google_error(
                503,
                "The service is currently unavailable.",
                "UNAVAILABLE",
                "backendError",
            ),
            Vec::new(),
        ),
    };
    if let Some(refused) = bearer_fault(&vendor, &headers, &query, refusals) {
        return refused;
    }
    let log = |status: u16| {
        vendor
            .state()
            .list_requests
            .push(seen(&query, &headers, status));
    };
    let query_text = query.clone().unwrap_or_default();
    let Some(since) = param(&query_text, "startTime").and_then(|t| t.parse::<Timestamp>().ok())
    else {
        log(400);
        return answer(
            &vendor,
            StatusCode::BAD_REQUEST,
            google_error(400, "Bad Request", "INVALID_ARGUMENT", "badRequest"),
            &[],
        );
    };
    let max: usize = param(&query_text, "maxResults")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1000);
    let token = param(&query_text, "pageToken");
    let state = vendor.state();
    let mut window: Vec<Event> = state
        .events
        .iter()
        .filter(|e| e.time >= since)
        .cloned()
        .collect();
    window.sort_by(|a, b| b.time.cmp(&a.time).then(b.id.cmp(&a.id)));
    let (page, more) = page_after(&window, token.as_deref(), max);
    let mut body = json!({
        "kind": "admin#reports#activities",
        "etag": "\"JDMC8884sebSctZ17CIssbQ/Fi6qCBYaZ6H3sMcDOiW0vl5v0Kw\"",
    });
    if !page.is_empty() {
        body["items"] = Value::Array(page.iter().map(google_record).collect());
    }
    if more && let Some(last) = page.last() {
        body["nextPageToken"] = Value::String(last.id.clone());
    }
    drop(state);
    log(200);
    answer(&vendor, StatusCode::OK, body, &[])
}
