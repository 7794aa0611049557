//! The routes of API version 1 and their handlers.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::auth::{Operator, OrgKey};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use ingest::{ParseOptions, Parsed};
use model::{Incident, Origin, Sector};
use notify::webhook;
use store::{NewOrganisation, Organisation, StoredMail, StoredSignIn};

/// Evidence listed per incident in a list of incidents, and in one incident.
const EVIDENCE_IN_LIST: u32 = 50;
const EVIDENCE_IN_ONE: u32 = 1000;

pub(crate) fn router(state: AppState) -> Router {
    let body_limit = state.http.max_body_bytes;
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/api/v1/orgs", post(create_org).get(list_orgs))
        .route("/api/v1/org", get(own_org))
        .route("/api/v1/org/webhook", put(set_webhook))
        .route("/api/v1/org/journal", get(journal_address))
        .route("/api/v1/signins", post(push_signins))
        .route("/api/v1/mail", post(push_mail))
        .route("/api/v1/incidents", get(list_incidents))
        .route("/api/v1/incidents/{id}", get(one_incident))
        .merge(crate::enrolment::routes())
        .merge(crate::people::routes())
        .merge(crate::personal::routes())
        .merge(crate::channels::routes())
        .merge(crate::lifecycle::routes())
        .merge(crate::intel::routes())
        .merge(crate::connectors::routes())
        .merge(crate::scorecard::routes())
        .merge(crate::dashboard::routes())
        // Layers apply to the routes above them: every route is merged before this line.
        .layer(axum::middleware::from_fn(crate::auth::csrf_form_field))
        .layer(axum::Extension(std::sync::Arc::new(
            crate::throttle::LoginThrottle::new(&state.http.accounts),
        )))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    name: String,
    sector: String,
    country: String,
    #[serde(default)]
    domains: Vec<String>,
    webhook_url: Option<String>,
    /// `en` (the default) or `fr`.
    #[serde(default)]
    language: Option<String>,
}

#[derive(Serialize)]
struct Created {
    organisation: Organisation,
    /// Shown once; only its hash is kept.
    api_key: String,
    webhook_secret: String,
}

async fn create_org(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateOrg>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let sector: Sector = body
        .sector
        .parse()
        .map_err(|e: model::UnknownSector| ApiError::bad_request(e.to_string()))?;
    if let Some(url) = &body.webhook_url {
        webhook::check_target(url, state.allow_private_webhooks)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let language = match &body.language {
        Some(text) => text.parse()?,
        None => store::Language::En,
    };
    let new = NewOrganisation {
        name: body.name,
        sector,
        country: body.country,
        domains: body.domains,
        webhook_url: body.webhook_url,
        language,
    };
    let (organisation, api_key) = state.store().create_organisation(&new).await?;
    let webhook_secret = webhook::signing_secret(state.store().master_key(), organisation.id);
    tracing::info!(org = %organisation.id, name = %organisation.name, "Organisation enrolled.");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            organisation,
            api_key,
            webhook_secret,
        }),
    ))
}

async fn list_orgs(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    Ok(Json(state.store().organisations().await?))
}

async fn own_org(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
) -> Result<Json<Organisation>, ApiError> {
    let organisation = state
        .store()
        .organisation(org)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation not found"))?;
    Ok(Json(organisation))
}

/// Where the organisation's mail system should journal inbound mail: an address only it
/// knows (derived from the master key), on the service's SMTP listener.
async fn journal_address(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(domain) = &state.journal_domain else {
        return Err(ApiError::not_found(
            "the SMTP journal listener is off; the operator enables it with [smtp] listen",
        ));
    };
    let local = notify::mail_intake::journal_local_part(state.store().master_key(), org);
    Ok(Json(
        serde_json::json!({ "address": format!("{local}@{domain}") }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetWebhook {
    url: Option<String>,
}

async fn set_webhook(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetWebhook>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(url) = &body.url {
        webhook::check_target(url, state.allow_private_webhooks)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    state.store().set_webhook(org, body.url.as_deref()).await?;
    let generation = state
        .store()
        .secret_generation(org)
        .await?
        .map_or(0, |g| g.generation);
    let secret = webhook::generation_secret(state.store().master_key(), org, generation);
    Ok(Json(
        serde_json::json!({ "url": body.url, "webhook_secret": secret }),
    ))
}

/// One line of an intake request that was not accepted.
#[derive(Serialize)]
struct LineError {
    line: u64,
    reason: String,
}

#[derive(Serialize)]
struct IntakeReport {
    request_id: String,
    /// Sign-ins stored (committed before this answer was sent).
    accepted: u64,
    /// Sign-ins already delivered before, by record id.
    duplicates: u64,
    /// Lines that are valid but not sign-in events (other daemons' syslog lines).
    ignored: u64,
    /// Lines that could not be read; `errors` lists the first of them.
    rejected: u64,
    errors: Vec<LineError>,
    detections: u64,
    incidents_opened: u64,
    incidents_escalated: u64,
}

/// Takes sign-in records, one per line: Entra ID Graph `signIn` JSON objects (NDJSON) or
/// syslog lines, mixed freely. A bad line is reported with its number and does not stop
/// the others. Answers 200 when every line was read, 207 when some were not, and 422 when
/// none was.
async fn push_signins(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<IntakeReport>), ApiError> {
    let request_id = uuid::Uuid::now_v7().to_string();
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    let options = ParseOptions {
        max_line_bytes: state.http.max_line_bytes,
        ..ParseOptions::for_year(year)
    };
    // One request is one stretch of a stream: lines of one sshd connection that arrive
    // together are read together (a locked account, "too many failures").
    let mut parser = ingest::LineParser::new(options);
    let mut report = IntakeReport {
        request_id: request_id.clone(),
        accepted: 0,
        duplicates: 0,
        ignored: 0,
        rejected: 0,
        errors: Vec::new(),
        detections: 0,
        incidents_opened: 0,
        incidents_escalated: 0,
    };
    let mut sign_ins = Vec::new();
    let reject = |report: &mut IntakeReport, line: u64, reason: String| {
        report.rejected += 1;
        metrics::counter!("tocsin_parse_errors_total", "source" => "http").increment(1);
        if report.errors.len() < state.http.max_reported_errors {
            report.errors.push(LineError { line, reason });
        }
    };
    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line_no = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if raw.len() > state.http.max_line_bytes {
            let reason = format!(
                "line is {} bytes, longer than the limit of {}",
                raw.len(),
                state.http.max_line_bytes
            );
            reject(&mut report, line_no, reason);
            continue;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            reject(&mut report, line_no, "line is not valid UTF-8".into());
            continue;
        };
        let origin = Origin::RequestLine {
            request: request_id.clone(),
            line: line_no,
        };
        match parser.parse(text, origin) {
            Ok(Parsed::SignIns(mut parsed)) => {
                // Enriched before storing, so that the stored sign-ins, the detectors and
                // the notifications all see the same country and ASN.
                for sign_in in &mut parsed {
                    state.enricher.enrich(sign_in);
                }
                sign_ins.extend(parsed);
            }
            Ok(Parsed::Noise | Parsed::OtherEvent { .. }) => report.ignored += 1,
            Err(error) => reject(&mut report, line_no, error.to_string()),
        }
    }
    let accepted = state.intake.accept(org, sign_ins).await?;
    report.accepted = accepted.accepted;
    report.duplicates = accepted.duplicates;
    report.detections = accepted.detections;
    report.incidents_opened = accepted.incidents_opened;
    report.incidents_escalated = accepted.incidents_escalated;
    let status = match (
        report.rejected,
        report.accepted + report.duplicates + report.ignored,
    ) {
        (0, _) => StatusCode::OK,
        (_, 0) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::MULTI_STATUS,
    };
    Ok((status, Json(report)))
}

/// One message of a mail upload that could not be read.
#[derive(Serialize)]
struct MessageError {
    index: u64,
    reason: String,
}

#[derive(Serialize)]
struct MailUploadReport {
    request_id: String,
    /// One report per message read: verdict, score, reasons, and whether it was kept.
    messages: Vec<notify::MailReport>,
    /// Messages that could not be read; `errors` lists them.
    rejected: u64,
    errors: Vec<MessageError>,
}

/// Takes inbound mail: one raw RFC 5322 message (`Content-Type: message/rfc822`, the
/// default) or an mbox of several (`application/mbox`). Each message is judged against
/// the organisation's domains; those sent to its enrolled domains are kept, and a
/// phishing verdict opens or extends an incident. Answers 200 when every message was
/// read, 207 when some were not, and 422 when none was.
async fn push_mail(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<MailUploadReport>), ApiError> {
    let request_id = uuid::Uuid::now_v7().to_string();
    let is_mbox = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/mbox")
        });
    let raws: Vec<Result<Vec<u8>, String>> = if is_mbox {
        mail::mailbox::split_mbox(&body[..], state.mail.limits())
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    } else {
        vec![Ok(body.to_vec())]
    };
    let mut report = MailUploadReport {
        request_id: request_id.clone(),
        messages: Vec::new(),
        rejected: 0,
        errors: Vec::new(),
    };
    for (i, raw) in raws.into_iter().enumerate() {
        let index = i as u64 + 1;
        let raw = match raw {
            Ok(raw) => raw,
            Err(reason) => {
                report.rejected += 1;
                report.errors.push(MessageError { index, reason });
                continue;
            }
        };
        let origin = model::MailOrigin::Upload {
            request: request_id.clone(),
            index,
        };
        match state.mail.accept(org, &raw, origin).await {
            Ok(judged) => report.messages.push(judged),
            Err(notify::MailIntakeError::Unreadable(error)) => {
                report.rejected += 1;
                report.errors.push(MessageError {
                    index,
                    reason: error.to_string(),
                });
            }
            Err(notify::MailIntakeError::Store(error)) => return Err(error.into()),
        }
    }
    let status = match (report.rejected, report.messages.len()) {
        (0, _) => StatusCode::OK,
        (_, 0) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::MULTI_STATUS,
    };
    Ok((status, Json(report)))
}

#[derive(Serialize)]
struct IncidentWithEvidence {
    #[serde(flatten)]
    incident: Incident,
    evidence: Vec<StoredSignIn>,
    /// For a phishing incident: the messages judged phishing (headers, verdict, reasons).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<StoredMail>,
    /// In one incident: every notification queued about it, with its state and attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    deliveries: Option<Vec<store::DeliveryRecord>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
}

async fn list_incidents(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let mut incidents = Vec::new();
    for incident in state.store().incidents(org, limit).await? {
        let evidence = state
            .store()
            .evidence(org, &incident.id, EVIDENCE_IN_LIST)
            .await?;
        let messages = state
            .store()
            .incident_mails(org, &incident.id, EVIDENCE_IN_LIST)
            .await?;
        incidents.push(IncidentWithEvidence {
            incident,
            evidence,
            messages,
            deliveries: None,
        });
    }
    Ok(Json(serde_json::json!({ "incidents": incidents })))
}

async fn one_incident(
    OrgKey(org): OrgKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentWithEvidence>, ApiError> {
    // Another organisation's incident is indistinguishable from a missing one.
    let incident = state
        .store()
        .incident(org, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such incident"))?;
    let evidence = state.store().evidence(org, &id, EVIDENCE_IN_ONE).await?;
    let messages = state
        .store()
        .incident_mails(org, &id, EVIDENCE_IN_ONE)
        .await?;
    let deliveries = state.store().incident_deliveries(org, &id).await?;
    Ok(Json(IncidentWithEvidence {
        incident,
        evidence,
        messages,
        deliveries: Some(deliveries),
    }))
}
