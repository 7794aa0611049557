//! The routes of an incident's life after it is opened: the organisation acknowledges,
//! resolves or rejects it as a false positive, reads its timeline and sets how it wants
//! to be told; operators read the false positives by detector to tune detectors.
//!
//! The organisation always comes from the key; an incident of another organisation is
//! answered exactly like a missing one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::auth::{Actor, Operator, OrgAdmin, OrgReader};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use model::{Incident, IncidentState, OrgId, Severity};
use notify::policy::{Policy, PolicyConfig, QuietHours};
use store::{FalsePositives, IncidentEvent, NotifySettings, StateChange};

/// Longest false-positive reason and resolution note kept.
pub(crate) const MAX_REASON_CHARS: usize = 500;
pub(crate) const MAX_NOTE_CHARS: usize = 2000;
/// Timeline entries returned.
const TIMELINE_LIMIT: u32 = 5000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/incidents/{id}/resolve", post(resolve))
        .route(
            "/api/v1/incidents/{id}/false-positive",
            post(false_positive),
        )
        .route("/api/v1/incidents/{id}/timeline", get(timeline))
        .route("/api/v1/false-positives", get(false_positives))
        .route("/api/v1/org/settings", get(settings).put(set_settings))
}

async fn change(
    state: &AppState,
    actor: &Actor,
    org: OrgId,
    id: &str,
    to: IncidentState,
    reason: Option<&str>,
    note: Option<&str>,
) -> Result<Json<Incident>, ApiError> {
    match state
        .store()
        .change_state(org, id, to, reason, note, &actor.0)
        .await?
    {
        StateChange::Changed(incident) => {
            tracing::info!(%org, incident = %id, state = %to, "Incident state changed.");
            Ok(Json(*incident))
        }
        StateChange::NotFound => Err(ApiError::not_found("incident not found")),
        StateChange::Refused { current } => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "the incident is {}; it cannot become {} from there",
                current.as_str().replace('_', " "),
                to.as_str().replace('_', " ")
            ),
        )),
    }
}

async fn acknowledge(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    change(
        &state,
        &actor,
        org,
        &id,
        IncidentState::Acknowledged,
        None,
        None,
    )
    .await
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolve {
    note: Option<String>,
}

/// The body is optional: no body, or `{}`, or `{"note": "…"}`.
async fn resolve(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Incident>, ApiError> {
    let body: Resolve = if body.iter().all(u8::is_ascii_whitespace) {
        Resolve::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ApiError::bad_request(format!(
            "note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    change(
        &state,
        &actor,
        org,
        &id,
        IncidentState::Resolved,
        None,
        note,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FalsePositive {
    reason: String,
}

async fn false_positive(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FalsePositive>,
) -> Result<Json<Incident>, ApiError> {
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "reason is required: say why this was no attack (it tunes the detectors)",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    change(
        &state,
        &actor,
        org,
        &id,
        IncidentState::FalsePositive,
        Some(reason),
        None,
    )
    .await
}

#[derive(Serialize)]
struct Timeline {
    incident_id: String,
    events: Vec<IncidentEvent>,
}

async fn timeline(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let events = state
        .store()
        .timeline(org, &id, TIMELINE_LIMIT)
        .await?
        .ok_or_else(|| ApiError::not_found("incident not found"))?;
    Ok(Json(Timeline {
        incident_id: id,
        events,
    }))
}

#[derive(Serialize)]
struct FalsePositiveReport {
    detectors: Vec<FalsePositives>,
}

async fn false_positives(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<FalsePositiveReport>, ApiError> {
    Ok(Json(FalsePositiveReport {
        detectors: state.store().false_positives().await?,
    }))
}

/// The settings in force for the organisation: its own where it set them, the
/// service's otherwise.
#[derive(Serialize)]
struct Settings {
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    update_interval: jiff::SignedDuration,
    digest_below: Severity,
    /// The service's digest hour, in `timezone`; not set per organisation.
    digest_hour: u8,
    quiet_hours: String,
    timezone: String,
}

fn effective(config: &PolicyConfig, own: &NotifySettings) -> Settings {
    let policy = Policy::for_org(config, own);
    Settings {
        update_interval: policy.update_interval,
        digest_below: policy.digest_below,
        digest_hour: policy.digest_hour,
        quiet_hours: policy.quiet.map(|q| q.to_string()).unwrap_or_default(),
        timezone: policy
            .tz
            .iana_name()
            .unwrap_or(config.timezone.as_str())
            .to_owned(),
    }
}

async fn settings(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<Settings>, ApiError> {
    let own = state.store().notify_settings(org).await?;
    Ok(Json(effective(&state.intake.config().policy, &own)))
}

/// Every field is optional; one left out (or `null`) takes the service's default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSettings {
    /// `"2h"`, `"30m"` (or ISO 8601, `"PT2H"`).
    update_interval: Option<jiff::SignedDuration>,
    digest_below: Option<Severity>,
    quiet_hours: Option<String>,
    timezone: Option<String>,
}

async fn set_settings(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SetSettings>,
) -> Result<Json<Settings>, ApiError> {
    let quiet_hours = match body.quiet_hours {
        // Written back in one form, so that what is read is what is in force.
        Some(text) => Some(
            QuietHours::parse(&text)
                .map_err(|e| ApiError::bad_request(e.to_string()))?
                .map(|q| q.to_string())
                .unwrap_or_default(),
        ),
        None => None,
    };
    let own = NotifySettings {
        update_interval: body.update_interval,
        digest_below: body.digest_below,
        quiet_hours,
        timezone: body.timezone.map(|tz| tz.trim().to_owned()),
    };
    Policy::check(&own).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.store().set_notify_settings(org, &own).await?;
    let settings = effective(&state.intake.config().policy, &own);
    state
        .store()
        .audit(
            &actor.0,
            Some(org),
            "notify_settings.set",
            &serde_json::to_value(&settings).unwrap_or_default(),
        )
        .await?;
    Ok(Json(settings))
}
