//! The organisation portal in the browser: a sign-in page, the overview (open incidents by
//! severity, failed sign-ins per hour with incidents marked, the most targeted accounts
//! and most failing addresses, the connectors' health), the incident page (summary,
//! attribution, what to do, evidence, acknowledge and resolve) and the settings (domains
//! and their proof, notification channels with a test, API keys); and for operators the
//! console (organisations and whether their telemetry arrives, the enrolment queue, the
//! intelligence feeds' freshness, dead-lettered notifications with a retry button).
//!
//! Pages are rendered on the server (askama templates in `templates/dashboard/`, escaped
//! by default) and work without JavaScript; charts are SVG drawn here (`chart.rs`). Pages
//! are for people: only a session cookie opens them, and the organisation comes from the
//! session. Every page carries a Content-Security-Policy that forbids scripts and inline
//! styles, so even text that escaped escaping could not run. Forms carry the session's
//! CSRF token.

mod chart;
mod governance;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::auth::{Caller, Credential};
use crate::{ApiError, AppState};
use model::{IncidentState, OrgId, Severity};
use store::{Role, Session, StateChange};

/// Scripts, styles and images from here only (no inline script, no inline style), fetches
/// only to here, forms only to here, no framing.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                      connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How often `live.js` refreshes a page's live regions, unless `?refresh=<seconds>` says.
const REFRESH_MS: u64 = 15_000;

/// Hours of failed sign-ins drawn on the overview.
const CHART_HOURS: i64 = 48;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(login_page))
        .route("/static/tocsin.css", get(stylesheet))
        .route("/static/live.js", get(live_script))
        .route("/dashboard", get(overview))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/settings", get(settings_page))
        .route("/dashboard/scorecard", get(governance::scorecard_page))
        .route("/dashboard/report", get(governance::report_page))
        .route("/dashboard/settings/test", post(send_test))
        .route("/dashboard/settings/personal", post(invite_personal))
        .route("/dashboard/settings/keys", post(create_key))
        .route("/dashboard/settings/keys/{prefix}/revoke", post(revoke_key))
        .route("/console", get(console))
        .route("/console/scorecards", get(governance::sectors_page))
        .route("/console/deliveries/{id}/retry", post(retry_delivery))
        .route(
            "/console/applications/{id}/{decision}",
            post(decide_application),
        )
        .route("/dashboard/incidents/{id}", get(incident_page))
        .route("/dashboard/incidents/{id}/{action}", post(change_incident))
}

/// A page answer: HTML with the policy, never cached (it holds an organisation's data).
fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

fn render(template: &impl Template, status: StatusCode) -> Result<Response, ApiError> {
    Ok(page(status, template.render().map_err(ApiError::internal)?))
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/tocsin.css"),
    )
        .into_response()
}

async fn live_script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/live.js"),
    )
        .into_response()
}

/// `?refresh=<seconds>` (1 to 300) on a live page: how often it refreshes.
#[derive(Deserialize, Default)]
struct Refresh {
    refresh: Option<u64>,
}

impl Refresh {
    fn millis(&self) -> u64 {
        self.refresh
            .map_or(REFRESH_MS, |seconds| seconds.clamp(1, 300) * 1000)
    }
}

#[derive(Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage {
    failed: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Result<Response, ApiError> {
    render(
        &LoginPage {
            failed: query.failed.is_some(),
        },
        StatusCode::OK,
    )
}

/// The signed-in person of a page request and their organisation.
struct Person {
    session: Session,
    organisation: store::Organisation,
}

/// What every signed-in page's frame shows and needs: whose it is, who is reading, the
/// CSRF token its forms carry, and how often its live parts refresh.
struct Frame {
    refresh_ms: u64,
    org_name: String,
    user: String,
    csrf: String,
}

impl Frame {
    fn console(session: &Session) -> Frame {
        Frame {
            refresh_ms: REFRESH_MS,
            org_name: "Operator console".into(),
            user: session.user.email.clone(),
            csrf: session.csrf_token.clone(),
        }
    }
}

impl Person {
    fn frame(&self, refresh_ms: u64) -> Frame {
        Frame {
            refresh_ms,
            org_name: self.organisation.name.clone(),
            user: self.session.user.email.clone(),
            csrf: self.session.csrf_token.clone(),
        }
    }

    fn org(&self) -> OrgId {
        self.organisation.id
    }

    fn admin(&self) -> bool {
        self.session.user.role == Role::OrgAdmin
    }
}

/// The person of a page request, or the answer instead of the page: the sign-in page for
/// a request without a session, the console for an operator.
async fn person(
    state: &AppState,
    caller: Result<Caller, ApiError>,
) -> Result<Person, Box<Response>> {
    let to_login = || Box::new(Redirect::to("/login").into_response());
    let Ok(Caller(credential)) = caller else {
        return Err(to_login());
    };
    let Credential::Session { session, .. } = credential.as_ref() else {
        return Err(to_login());
    };
    // Operators have no organisation: their pages are the console.
    let Some(org) = session.user.org else {
        return Err(Box::new(Redirect::to("/console").into_response()));
    };
    match state.store().organisation(org).await {
        Ok(Some(organisation)) => Ok(Person {
            session: session.clone(),
            organisation,
        }),
        Ok(None) => Err(Box::new(
            ApiError::not_found("organisation not found").into_response(),
        )),
        Err(error) => Err(Box::new(ApiError::from(error).into_response())),
    }
}

/// The organisation admin behind a form post, and who they are for logs and audit; or the
/// answer instead: the sign-in page, the console, or 403 for a viewer (`refusal` says why).
async fn admin(
    state: &AppState,
    caller: Caller,
    refusal: &str,
) -> Result<(Person, crate::Actor), Box<Response>> {
    let actor = caller.0.actor();
    let person = person(state, Ok(caller)).await?;
    if !person.admin() {
        return Err(Box::new(ApiError::forbidden(refusal).into_response()));
    }
    Ok((person, actor))
}

/// One open incident in a list.
struct IncidentRow {
    id: String,
    kind: String,
    severity: &'static str,
    state: &'static str,
    summary: String,
    last_seen: String,
}

struct ConnectorRow {
    name: String,
    kind: String,
    state: String,
    last_success: String,
    last_error: String,
    events_today: i64,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    frame: Frame,
    headline: String,
    severities: Vec<(&'static str, usize)>,
    open: Vec<IncidentRow>,
    chart: String,
    accounts: Vec<store::Ranked>,
    sources: Vec<store::Ranked>,
    connectors: Vec<ConnectorRow>,
}

fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time the store keeps as RFC 3339 text, shown like the others (as stored if unreadable).
fn stored_time(text: String) -> String {
    text.parse::<Timestamp>().map(time).unwrap_or(text)
}

async fn overview(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(refresh): Query<Refresh>,
) -> Result<Response, ApiError> {
    let person = match person(&state, caller).await {
        Ok(person) => person,
        Err(response) => return Ok(*response),
    };
    let store = state.store();
    let org = person.org();
    let incidents = store.incidents(org, 200).await?;
    let open: Vec<_> = incidents
        .iter()
        .filter(|i| {
            matches!(
                i.state,
                IncidentState::New | IncidentState::Notified | IncidentState::Acknowledged
            )
        })
        .collect();
    let severities: Vec<(&'static str, usize)> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .into_iter()
    .map(|s| (s.as_str(), open.iter().filter(|i| i.severity == s).count()))
    .collect();
    let headline = match open.len() {
        0 => "No open incident.".to_owned(),
        n => {
            let worst = open
                .iter()
                .map(|i| i.severity)
                .max()
                .unwrap_or(Severity::Low);
            format!(
                "{n} open incident{}; the most severe is {}.",
                if n == 1 { "" } else { "s" },
                worst.as_str()
            )
        }
    };
    // The chart ends at the newest failure or now, whichever is later: a replayed or
    // delayed log still shows.
    let now = Timestamp::now();
    let end = store.latest_failure(org).await?.map_or(now, |t| t.max(now));
    let end = Timestamp::from_second(end.as_second() - end.as_second().rem_euclid(3600) + 3600)
        .unwrap_or(end);
    let from = end - SignedDuration::from_hours(CHART_HOURS);
    let counts = store.failures_by_hour(org, from, end).await?;
    let phishing = store.phishing_by_hour(org, from, end).await?;
    let markers: Vec<chart::Marker> = incidents
        .iter()
        .map(|i| chart::Marker {
            at: i.first_seen,
            label: format!(
                "{} {} opened {}",
                i.severity.as_str(),
                i.kind.as_str().replace('_', " "),
                time(i.first_seen)
            ),
        })
        .collect();
    let week = now - SignedDuration::from_hours(7 * 24);
    let connectors = store
        .connectors(org)
        .await?
        .into_iter()
        .map(|c| ConnectorRow {
            name: c.name,
            kind: c.kind,
            state: c.status.state,
            last_success: c
                .status
                .last_success_at
                .map(time)
                .unwrap_or_else(|| "never".into()),
            last_error: c.status.last_error.unwrap_or_default(),
            events_today: c.status.events_today,
        })
        .collect();
    let page = OverviewPage {
        frame: person.frame(refresh.millis()),
        headline,
        severities,
        open: open
            .iter()
            .map(|i| IncidentRow {
                id: i.id.clone(),
                kind: i.kind.as_str().replace('_', " "),
                severity: i.severity.as_str(),
                state: i.state.as_str(),
                summary: i.summary.clone(),
                last_seen: time(i.last_seen),
            })
            .collect(),
        chart: chart::attack_volume(&counts, &phishing, from, CHART_HOURS as usize, &markers),
        accounts: store
            .most_targeted_accounts(org, week.min(from), 10)
            .await?,
        sources: store.most_failing_sources(org, week.min(from), 10).await?,
        connectors,
    };
    render(&page, StatusCode::OK)
}

struct EvidenceRow {
    time: String,
    account: String,
    source: String,
    outcome: &'static str,
    country: String,
    app: String,
}

struct MessageRow {
    time: String,
    from_name: String,
    from_address: String,
    subject: String,
    verdict: String,
    reasons: Vec<String>,
    links: Vec<String>,
    attachments: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard/incident.html")]
struct IncidentPage {
    frame: Frame,
    id: String,
    kind: String,
    technique: String,
    severity: &'static str,
    state: &'static str,
    summary: String,
    first_seen: String,
    last_seen: String,
    accounts: Vec<String>,
    sources: Vec<String>,
    compromised: Vec<String>,
    reasons: Vec<String>,
    attribution: Option<String>,
    attribution_evidence: Vec<String>,
    actions: Vec<&'static str>,
    evidence: Vec<EvidenceRow>,
    messages: Vec<MessageRow>,
    can_acknowledge: bool,
    can_resolve: bool,
    /// The evidence filter as given, and how many sign-ins it hides.
    filter_account: String,
    filter_source: String,
    evidence_total: usize,
    timeline: Vec<TimelineRow>,
}

struct TimelineRow {
    at: String,
    kind: &'static str,
    actor: String,
    what: String,
}

#[derive(Deserialize, Default)]
struct EvidenceFilter {
    account: Option<String>,
    source: Option<String>,
}

/// One timeline entry in words, from its stored detail.
fn timeline_words(event: &store::IncidentEvent) -> String {
    let d = &event.detail;
    let text = |key: &str| {
        d.get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    match event.kind {
        store::EventKind::State => {
            let mut words = format!("{} → {}", text("from"), text("to"));
            for key in ["reason", "note"] {
                let value = text(key);
                if !value.is_empty() {
                    words.push_str(&format!("; {key}: {value}"));
                }
            }
            words
        }
        store::EventKind::Notification => {
            let channel = d
                .get("delivery")
                .and_then(|v| v.get("channel"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let state = d
                .get("delivery")
                .and_then(|v| v.get("state"))
                .and_then(|v| v.as_str())
                .unwrap_or("held");
            format!("{} {channel} {state}", text("event"))
                .trim()
                .to_owned()
        }
        store::EventKind::Detection => format!("detection {}", text("change")),
    }
}

async fn incident_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    Query(filter): Query<EvidenceFilter>,
) -> Result<Response, ApiError> {
    let person = match person(&state, caller).await {
        Ok(person) => person,
        Err(response) => return Ok(*response),
    };
    let store = state.store();
    let org = person.org();
    // Another organisation's incident is indistinguishable from a missing one.
    let Some(incident) = store.incident(org, &id).await? else {
        return Ok(page(
            StatusCode::NOT_FOUND,
            "<!doctype html><html lang=\"en\"><title>Not found · tocsin</title>\
             <p>No such incident. <a href=\"/dashboard\">Back to the overview</a></p></html>"
                .into(),
        ));
    };
    let evidence = store.evidence(org, &id, 1000).await?;
    let evidence_total = evidence.len();
    let wanted = |value: &str, filter: &Option<String>| {
        filter
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .is_none_or(|f| value.to_lowercase().contains(&f.to_lowercase()))
    };
    let evidence: Vec<_> = evidence
        .into_iter()
        .filter(|e| {
            wanted(&e.sign_in.account, &filter.account)
                && wanted(
                    &e.sign_in
                        .source_ip
                        .map(|ip| ip.to_string())
                        .unwrap_or_default(),
                    &filter.source,
                )
        })
        .collect();
    let timeline = store
        .timeline(org, &id, 200)
        .await?
        .unwrap_or_default()
        .iter()
        .map(|event| TimelineRow {
            at: time(event.at),
            kind: event.kind.as_str(),
            actor: event.actor.clone(),
            what: timeline_words(event),
        })
        .collect();
    let messages = store.incident_mails(org, &id, 200).await?;
    let admin = person.admin();
    let open = matches!(
        incident.state,
        IncidentState::New | IncidentState::Notified | IncidentState::Acknowledged
    );
    let page = IncidentPage {
        frame: person.frame(REFRESH_MS),
        id: incident.id.clone(),
        kind: incident.kind.as_str().replace('_', " "),
        technique: incident.technique.to_string(),
        severity: incident.severity.as_str(),
        state: incident.state.as_str(),
        summary: incident.summary.clone(),
        first_seen: time(incident.first_seen),
        last_seen: time(incident.last_seen),
        accounts: incident.accounts.clone(),
        sources: incident.sources.clone(),
        compromised: incident.compromised_accounts.clone(),
        reasons: incident.reasons.clone(),
        attribution: incident.attribution.as_ref().map(|a| a.headline()),
        attribution_evidence: incident
            .attribution
            .as_ref()
            .map(|a| a.evidence.clone())
            .unwrap_or_default(),
        actions: notify::payload::recommended_actions(&incident),
        evidence: evidence
            .iter()
            .map(|e| EvidenceRow {
                time: time(e.sign_in.time),
                account: e.sign_in.account.clone(),
                source: e
                    .sign_in
                    .source_ip
                    .map(|ip| ip.to_string())
                    .unwrap_or_default(),
                outcome: e.sign_in.outcome.as_str(),
                country: e.sign_in.country.clone().unwrap_or_default(),
                app: e.sign_in.app.clone().unwrap_or_default(),
            })
            .collect(),
        messages: messages
            .iter()
            .map(|m| MessageRow {
                time: time(m.record.time),
                from_name: m.record.from.name.clone().unwrap_or_default(),
                from_address: m.record.from.address.clone(),
                subject: m.record.subject.clone(),
                verdict: format!(
                    "{} (score {})",
                    m.record.analysis.verdict.as_str(),
                    m.record.analysis.score
                ),
                reasons: m
                    .record
                    .analysis
                    .reasons
                    .iter()
                    .map(|r| format!("{} (+{}): {}", r.code, r.weight, r.evidence))
                    .collect(),
                links: m
                    .record
                    .links
                    .iter()
                    .take(20)
                    .map(|l| notify::email::defang(l))
                    .collect(),
                attachments: m
                    .record
                    .attachments
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({}, {} bytes)",
                            a.name.as_deref().unwrap_or("unnamed"),
                            a.content_type,
                            a.size
                        )
                    })
                    .collect(),
            })
            .collect(),
        can_acknowledge: admin
            && matches!(incident.state, IncidentState::New | IncidentState::Notified),
        can_resolve: admin && open,
        filter_account: filter.account.unwrap_or_default(),
        filter_source: filter.source.unwrap_or_default(),
        evidence_total,
        timeline,
    };
    render(&page, StatusCode::OK)
}

/// `POST /dashboard/incidents/{id}/acknowledge|resolve|false-positive` from the incident
/// page's buttons: an admin's session with its CSRF token (a missing or wrong token is
/// refused, 403, by the extractor before this runs); `resolve` takes an optional `note`,
/// `false-positive` a required `reason`. Back to the page.
async fn change_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (person, actor) = match admin(&state, caller, "a viewer cannot change an incident").await {
        Ok(found) => found,
        Err(response) => return Ok(*response),
    };
    let field = |name: &str| form_field(&body, name);
    let (to, reason, note) = match action.as_str() {
        "acknowledge" => (IncidentState::Acknowledged, None, None),
        "resolve" => (IncidentState::Resolved, None, field("note")),
        "false-positive" => {
            let reason = field("reason").ok_or_else(|| {
                ApiError::bad_request("say why this was no attack: the reason tunes the detectors")
            })?;
            (IncidentState::FalsePositive, Some(reason), None)
        }
        _ => return Err(ApiError::not_found("no such action")),
    };
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > crate::lifecycle::MAX_REASON_CHARS)
        || note
            .as_ref()
            .is_some_and(|n| n.chars().count() > crate::lifecycle::MAX_NOTE_CHARS)
    {
        return Err(ApiError::bad_request("the reason or note is too long"));
    }
    match state
        .store()
        .change_state(
            person.org(),
            &id,
            to,
            reason.as_deref(),
            note.as_deref(),
            &actor.0,
        )
        .await?
    {
        StateChange::NotFound => Err(ApiError::not_found("incident not found")),
        StateChange::Changed(_) | StateChange::Refused { .. } => {
            Ok(Redirect::to(&format!("/dashboard/incidents/{id}")).into_response())
        }
    }
}

/// Ends the session and goes back to the sign-in page.
async fn logout(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Response, ApiError> {
    if let Ok(Caller(credential)) = caller
        && let Credential::Session { token, .. } = credential.as_ref()
    {
        state.store().delete_session(token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        crate::people::session_cookie_header(&state, "", 0)?,
    );
    Ok(response)
}

struct DomainRow {
    domain: String,
    state: String,
    /// The TXT record to publish, while the domain waits for its proof.
    record: Option<(String, String)>,
}

struct KeyRow {
    prefix: String,
    label: String,
    created_at: String,
    last_used_at: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    frame: Frame,
    admin: bool,
    /// What the last "send a test" did, in words.
    notice: Option<String>,
    domains: Vec<DomainRow>,
    webhook: Option<String>,
    recipients: Vec<(String, &'static str)>,
    keys: Vec<KeyRow>,
    /// Staff's personal addresses watched (confirmed) and invited (waiting).
    personal: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct SettingsQuery {
    sent: Option<usize>,
    error: Option<String>,
    invited: Option<String>,
}

async fn settings_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, ApiError> {
    let person = match person(&state, caller).await {
        Ok(person) => person,
        Err(response) => return Ok(*response),
    };
    let store = state.store();
    let org = person.org();
    let admin = person.admin();
    let domains = store
        .org_domains(org)
        .await?
        .into_iter()
        .map(|d| {
            let (state_words, record) = match (d.verified_at, d.method) {
                (Some(at), Some(method)) => {
                    (format!("proved ({}, {})", method.as_str(), time(at)), None)
                }
                _ => {
                    let expected = crate::dns::expected_record(store.master_key(), org, &d.domain);
                    (
                        "waiting for its DNS proof".to_owned(),
                        Some((expected.name, expected.value)),
                    )
                }
            };
            DomainRow {
                domain: d.domain,
                state: state_words,
                record,
            }
        })
        .collect();
    let keys = if admin {
        store
            .api_keys(org, 100)
            .await?
            .into_iter()
            .map(|k| KeyRow {
                prefix: k.prefix,
                label: k.label.unwrap_or_default(),
                created_at: stored_time(k.created_at),
                last_used_at: k.last_used_at.map_or_else(|| "never".into(), stored_time),
                revoked: k.revoked_at.is_some(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let notice = match (query.sent, query.error) {
        (_, Some(error)) if error == "no-channel" => Some(
            "Nothing was sent: the organisation has no webhook and no e-mail recipient yet."
                .to_owned(),
        ),
        (_, Some(error)) if error == "invitation" => Some(
            "That address could not be invited: check it, or wait for earlier invitations to be answered."
                .to_owned(),
        ),
        _ if query.invited.is_some() => Some(
            "The invitation is on its way: the address must confirm it from the message before anything is watched."
                .to_owned(),
        ),
        (Some(n), _) => Some(format!(
            "A test notification was queued on {n} channel{}; it should arrive within seconds.",
            if n == 1 { "" } else { "s" }
        )),
        _ => None,
    };
    let page = SettingsPage {
        frame: person.frame(REFRESH_MS),
        admin,
        notice,
        domains,
        webhook: person.organisation.webhook_url.clone(),
        recipients: store
            .recipients(org)
            .await?
            .into_iter()
            .map(|r| (r.address, r.language.as_str()))
            .collect(),
        keys,
        personal: {
            let mut rows: Vec<(String, String)> = store
                .personal_accounts(org)
                .await?
                .into_iter()
                .map(|p| {
                    (
                        p.email,
                        format!("watched since {}", stored_time(p.confirmed_at)),
                    )
                })
                .collect();
            rows.extend(store.pending_personal(org).await?.into_iter().map(|p| {
                (
                    p.email,
                    format!("invited, waiting until {}", time(p.expires_at)),
                )
            }));
            rows
        },
    };
    render(&page, StatusCode::OK)
}

/// `POST /dashboard/settings/personal`: invite a staff member's personal address.
async fn invite_personal(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (person, actor) = match admin(&state, caller, "a viewer cannot invite an address").await {
        Ok(found) => found,
        Err(response) => return Ok(*response),
    };
    let email = form_field(&body, "email").unwrap_or_default();
    let to = match crate::personal::invite_personal(&state, person.org(), &actor, &email).await {
        Ok(_) => "/dashboard/settings?invited=1",
        Err(error) if error.status().is_client_error() => "/dashboard/settings?error=invitation",
        Err(error) => return Err(error),
    };
    Ok(Redirect::to(to).into_response())
}

/// `POST /dashboard/settings/test`: the settings page's "send a test" button.
async fn send_test(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let (person, actor) =
        match admin(&state, caller, "a viewer cannot send a test notification").await {
            Ok(found) => found,
            Err(response) => return Ok(*response),
        };
    match crate::channels::queue_test(&state, person.org(), &actor).await {
        Ok(queued) => {
            Ok(Redirect::to(&format!("/dashboard/settings?sent={}", queued.len())).into_response())
        }
        Err(error) if error.status() == StatusCode::CONFLICT => {
            Ok(Redirect::to("/dashboard/settings?error=no-channel").into_response())
        }
        Err(error) => Err(error),
    }
}

/// The signed-in operator of a console request, or the way to the sign-in page (an
/// organisation's person is sent to their own overview).
fn operator(caller: Result<Caller, ApiError>) -> Result<Session, Box<Response>> {
    let Ok(Caller(credential)) = caller else {
        return Err(Box::new(Redirect::to("/login").into_response()));
    };
    match credential.as_ref() {
        Credential::Session { session, .. } if session.user.role == Role::Operator => {
            Ok(session.clone())
        }
        Credential::Session { .. } => Err(Box::new(Redirect::to("/dashboard").into_response())),
        Credential::Key { .. } => Err(Box::new(Redirect::to("/login").into_response())),
    }
}

struct OrgRow {
    id: i64,
    name: String,
    sector: String,
    newest_event: String,
    /// Whether sign-ins arrived within the last day.
    flowing: bool,
    open_incidents: i64,
    connectors: String,
}

struct ApplicationRow {
    id: i64,
    name: String,
    country: String,
    domains: String,
    submitted_at: String,
}

struct FeedRow {
    name: String,
    kind: String,
    last_success: String,
    last_error: String,
    indicators: i64,
}

struct DeadRow {
    id: i64,
    org: String,
    channel: String,
    event: String,
    attempts: i64,
    last_error: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "dashboard/console.html")]
struct ConsolePage {
    frame: Frame,
    organisations: Vec<OrgRow>,
    applications: Vec<ApplicationRow>,
    feeds: Vec<FeedRow>,
    dead: Vec<DeadRow>,
    campaigns: Vec<CampaignRow>,
    actors: Vec<ActorRow>,
}

struct CampaignRow {
    key: String,
    kind: String,
    organisations: String,
    incidents: i64,
    last_seen: String,
}

struct ActorRow {
    name: String,
    aliases: String,
    origin: String,
    techniques: String,
}

async fn console(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> Result<Response, ApiError> {
    let session = match operator(caller) {
        Ok(session) => session,
        Err(response) => return Ok(*response),
    };
    let store = state.store();
    let organisations = store.organisations().await?;
    let health: std::collections::HashMap<OrgId, store::OrgHealth> = store
        .organisation_health()
        .await?
        .into_iter()
        .map(|h| (h.org, h))
        .collect();
    let mut connectors: std::collections::HashMap<OrgId, Vec<String>> = Default::default();
    for c in store.all_connectors().await? {
        connectors
            .entry(c.org)
            .or_default()
            .push(format!("{} ({}): {}", c.name, c.kind, c.status.state));
    }
    let day_ago = Timestamp::now() - SignedDuration::from_hours(24);
    let names: std::collections::HashMap<OrgId, String> = organisations
        .iter()
        .map(|o| (o.id, o.name.clone()))
        .collect();
    let page = ConsolePage {
        frame: Frame::console(&session),
        organisations: organisations
            .iter()
            .map(|o| {
                let h = health.get(&o.id);
                let newest = h.and_then(|h| h.newest_event);
                OrgRow {
                    id: o.id.0,
                    name: o.name.clone(),
                    sector: o.sector.to_string(),
                    newest_event: newest.map(time).unwrap_or_else(|| "none yet".into()),
                    flowing: newest.is_some_and(|t| t >= day_ago),
                    open_incidents: h.map_or(0, |h| h.open_incidents),
                    connectors: connectors.remove(&o.id).unwrap_or_default().join("; "),
                }
            })
            .collect(),
        applications: store
            .applications(Some(store::ApplicationState::Pending), 100)
            .await?
            .into_iter()
            .map(|a| ApplicationRow {
                id: a.id,
                name: a.name,
                country: a.country,
                domains: a.domains.join(", "),
                submitted_at: time(a.submitted_at),
            })
            .collect(),
        feeds: store
            .feeds()
            .await?
            .into_iter()
            .map(|f| FeedRow {
                name: f.name,
                kind: f.kind,
                last_success: f.last_success.map_or_else(|| "never".into(), stored_time),
                last_error: f.last_error.unwrap_or_default(),
                indicators: f.indicators,
            })
            .collect(),
        campaigns: store
            .shared_campaigns(50)
            .await?
            .into_iter()
            .map(|c| CampaignRow {
                key: c.key,
                kind: c.kind.replace('_', " "),
                organisations: c
                    .organisations
                    .iter()
                    .map(|o| names.get(o).cloned().unwrap_or_else(|| format!("#{}", o.0)))
                    .collect::<Vec<_>>()
                    .join(", "),
                incidents: c.incidents,
                last_seen: time(c.last_seen),
            })
            .collect(),
        actors: state
            .intel
            .live()
            .current()
            .actors
            .actors()
            .iter()
            .take(200)
            .map(|a| ActorRow {
                name: a.name.clone(),
                aliases: a.aliases.join(", "),
                origin: a.origin.clone().unwrap_or_default(),
                techniques: a
                    .techniques
                    .iter()
                    .take(8)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        dead: store
            .dead_deliveries(100)
            .await?
            .into_iter()
            .map(|d| DeadRow {
                id: d.id,
                org: d
                    .org
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_else(|| "-".into()),
                channel: d.channel,
                event: d.event,
                attempts: d.attempts,
                last_error: d.last_error.unwrap_or_default(),
                created_at: stored_time(d.created_at),
            })
            .collect(),
    };
    render(&page, StatusCode::OK)
}

/// `POST /console/deliveries/{id}/retry`: a dead notification back in the queue.
async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let actor = caller.0.actor();
    if let Err(response) = operator(Ok(caller)) {
        return Ok(*response);
    }
    if !state.store().retry_delivery(id, Timestamp::now()).await? {
        return Err(ApiError::not_found("no dead notification with that id"));
    }
    state.intake.outbox_wake().notify_one();
    state
        .store()
        .audit(
            &actor.0,
            None,
            "delivery.retried",
            &serde_json::json!({ "delivery": id }),
        )
        .await?;
    Ok(Redirect::to("/console").into_response())
}

#[derive(Template)]
#[template(path = "dashboard/approved.html")]
struct ApprovedPage {
    frame: Frame,
    name: String,
    organisation_id: i64,
    api_key: String,
    records: Vec<(String, String)>,
}

/// `POST /console/applications/{id}/approve|reject`: the enrolment queue's buttons.
/// Approving shows the new organisation's key once, on the answer page (never mailed);
/// rejecting needs the reason, which the applicant is told.
async fn decide_application(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, decision)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let actor = caller.0.actor();
    let session = match operator(Ok(caller)) {
        Ok(session) => session,
        Err(response) => return Ok(*response),
    };
    match decision.as_str() {
        "approve" => {
            let approved = crate::enrolment::approve_application(&state, id, &actor).await?;
            let page = ApprovedPage {
                frame: Frame::console(&session),
                name: approved.application.name,
                organisation_id: approved.organisation_id.0,
                api_key: approved.api_key,
                records: approved
                    .records
                    .into_iter()
                    .map(|r| (r.name, r.value))
                    .collect(),
            };
            render(&page, StatusCode::CREATED)
        }
        "reject" => {
            let reason = form_field(&body, "reason")
                .ok_or_else(|| ApiError::bad_request("say why the application is rejected"))?;
            state
                .store()
                .reject_application(id, &reason, &actor.0)
                .await?;
            Ok(Redirect::to("/console").into_response())
        }
        _ => Err(ApiError::not_found("no such decision")),
    }
}

#[derive(Template)]
#[template(path = "dashboard/key.html")]
struct NewKeyPage {
    frame: Frame,
    label: String,
    api_key: String,
}

/// The value of form field `name`, trimmed; `None` when absent or empty.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// `POST /dashboard/settings/keys` (`label`): makes a key and shows it, once.
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (person, actor) = match admin(&state, caller, "a viewer cannot make keys").await {
        Ok(found) => found,
        Err(response) => return Ok(*response),
    };
    let label = form_field(&body, "label")
        .ok_or_else(|| ApiError::bad_request("say what the key is for (its label)"))?;
    let (key, api_key) = state
        .store()
        .create_org_key(person.org(), &label, &actor.0)
        .await?;
    tracing::info!(by = %actor, org = %person.org(), key = %key.prefix, "API key created.");
    let page = NewKeyPage {
        frame: person.frame(REFRESH_MS),
        label,
        api_key,
    };
    render(&page, StatusCode::CREATED)
}

/// `POST /dashboard/settings/keys/{prefix}/revoke`.
async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(prefix): Path<String>,
) -> Result<Response, ApiError> {
    let (person, actor) = match admin(&state, caller, "a viewer cannot revoke keys").await {
        Ok(found) => found,
        Err(response) => return Ok(*response),
    };
    if state.store().revoke_api_key(person.org(), &prefix).await? == 0 {
        return Err(ApiError::not_found(
            "no key of your organisation in use with that prefix",
        ));
    }
    tracing::info!(by = %actor, org = %person.org(), key = %prefix, "API key revoked.");
    Ok(Redirect::to("/dashboard/settings").into_response())
}
