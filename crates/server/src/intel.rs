//! The threat-intelligence endpoints: for operators, the feeds and their state, bundle
//! uploads, the actor catalogue, the compiled index's state and retro-hunts; for an
//! organisation, whether it agrees to be named when its incidents are shared, and the
//! export of an incident as a STIX 2.1 bundle or a MISP event.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::{Operator, OrgAdmin, OrgReader};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use intel::export::{self, SharedIncident, Sharing};
use model::{DetectionKind, Incident, OrgId};
use notify::feeds::{FeedError, LISTED_PROBLEMS, TakenIn};
use store::{Feed, RetroHunt, StoredMail};

/// The largest bundle an operator may upload in one request.
const MAX_BUNDLE_BYTES: usize = 128 << 20;
/// Messages of an incident read for its export (their links and attachments).
const MAILS_EXPORTED: u32 = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/intel", get(status))
        .route("/api/v1/intel/feeds", get(feeds))
        .route(
            "/api/v1/intel/feeds/{name}/bundles",
            post(upload).layer(DefaultBodyLimit::max(MAX_BUNDLE_BYTES)),
        )
        .route("/api/v1/intel/feeds/{name}/pull", post(pull_now))
        .route("/api/v1/intel/actors", get(actors))
        .route(
            "/api/v1/intel/retro-hunts",
            get(list_hunts).post(start_hunt),
        )
        .route("/api/v1/intel/retro-hunts/{id}", get(one_hunt))
        .route("/api/v1/org/sharing", get(sharing).put(set_sharing))
        .route("/api/v1/incidents/{id}/export", get(export_own))
        .route("/api/v1/orgs/{org}/incidents/{id}/export", get(export_any))
}

#[derive(Serialize)]
struct Status {
    /// Indicators compiled and matched against every event.
    indicators: usize,
    /// Indicators whose patterns tocsin does not evaluate, with the reason (the first
    /// ones; `refused_count` counts all).
    refused: Vec<intel::Problem>,
    refused_count: usize,
    actors: usize,
    built: Timestamp,
    memory_bytes: usize,
}

async fn status(_: Operator, State(state): State<AppState>) -> Json<Status> {
    let loaded = state.intel.live().current();
    Json(Status {
        indicators: loaded.indicators,
        refused: loaded
            .problems
            .iter()
            .take(LISTED_PROBLEMS)
            .cloned()
            .collect(),
        refused_count: loaded.problems.len(),
        actors: loaded.actors.len(),
        built: loaded.built,
        memory_bytes: loaded.index.memory_estimate(),
    })
}

async fn feeds(_: Operator, State(state): State<AppState>) -> Result<Json<Vec<Feed>>, ApiError> {
    Ok(Json(state.store().feeds().await?))
}

#[derive(Serialize)]
struct TakenInAnswer {
    #[serde(flatten)]
    taken_in: TakenIn,
    /// The retro-hunt started for the new indicators, to follow at
    /// `GET /api/v1/intel/retro-hunts/{id}`.
    retro_hunt: Option<RetroHunt>,
}

fn feed_error(error: FeedError) -> ApiError {
    match error {
        FeedError::Store(e) => e.into(),
        FeedError::Source(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

async fn upload(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<TakenInAnswer>, ApiError> {
    if !intel::source::is_feed_name(&name) {
        return Err(ApiError::bad_request(intel::source::FEED_NAME_RULE));
    }
    let (taken_in, retro_hunt) = state
        .intel
        .upload(&name, &actor.0, &body)
        .await
        .map_err(feed_error)?;
    state
        .store()
        .audit(
            &actor.0,
            None,
            "intel.upload",
            &serde_json::json!({
                "feed": name,
                "indicators": taken_in.indicators,
                "changed": taken_in.changed,
                "problems": taken_in.problem_count,
            }),
        )
        .await?;
    tracing::info!(feed = %name, changed = taken_in.changed, "Bundle uploaded: {}", taken_in.summary);
    Ok(Json(TakenInAnswer {
        taken_in,
        retro_hunt,
    }))
}

async fn pull_now(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<TakenInAnswer>, ApiError> {
    if !state.intel.config.feeds.iter().any(|f| f.name == name) {
        return Err(ApiError::not_found("no such feed in [[intel.feeds]]"));
    }
    let (taken_in, retro_hunt) = state.intel.pull_now(&name).await.map_err(feed_error)?;
    state
        .store()
        .audit(
            &actor.0,
            None,
            "intel.pull",
            &serde_json::json!({ "feed": name, "changed": taken_in.changed }),
        )
        .await?;
    Ok(Json(TakenInAnswer {
        taken_in,
        retro_hunt,
    }))
}

async fn actors(_: Operator, State(state): State<AppState>) -> Json<Vec<intel::Actor>> {
    let loaded = state.intel.live().current();
    Json(loaded.actors.actors().to_vec())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HuntRequest {
    /// Hunt for the indicators that arrived at or after this instant (default: all).
    indicators_since: Option<Timestamp>,
    /// How many days of stored events to search (default: `[intel] retro_hunt_days`).
    days: Option<u32>,
}

async fn start_hunt(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<RetroHunt>), ApiError> {
    // An empty body asks for the defaults.
    let request: HuntRequest = if body.iter().all(u8::is_ascii_whitespace) {
        HuntRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the request body: {e}")))?
    };
    if request.days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(ApiError::bad_request("days must be between 1 and 3650"));
    }
    let hunt = state
        .intel
        .hunter
        .start(
            request.indicators_since.unwrap_or(Timestamp::MIN),
            request.days,
        )
        .await?;
    state
        .store()
        .audit(
            &actor.0,
            None,
            "intel.retro_hunt",
            &serde_json::json!({ "hunt": hunt.id, "days": request.days }),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(hunt)))
}

async fn list_hunts(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<RetroHunt>>, ApiError> {
    Ok(Json(state.store().retro_hunts(50).await?))
}

async fn one_hunt(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<RetroHunt>, ApiError> {
    state
        .store()
        .retro_hunt(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such retro-hunt"))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SharingChoice {
    /// Whether incidents shared out (STIX, MISP) name the organisation; otherwise they
    /// carry a pseudonym that is stable for the organisation and says nothing of it.
    share_identity: bool,
}

async fn sharing(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<SharingChoice>, ApiError> {
    Ok(Json(SharingChoice {
        share_identity: state.store().share_identity(org).await?,
    }))
}

async fn set_sharing(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(choice): ApiJson<SharingChoice>,
) -> Result<Json<SharingChoice>, ApiError> {
    state
        .store()
        .set_share_identity(org, choice.share_identity, &actor.0)
        .await?;
    Ok(Json(choice))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// `stix` (the default) or `misp`.
    format: Option<String>,
}

async fn export_own(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    export_incident(&state, org, &id, query, &actor.0).await
}

async fn export_any(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path((org, id)): Path<(i64, String)>,
    Query(query): Query<ExportQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    export_incident(&state, OrgId(org), &id, query, &actor.0).await
}

async fn export_incident(
    state: &AppState,
    org: OrgId,
    id: &str,
    query: ExportQuery,
    actor: &str,
) -> Result<Json<serde_json::Value>, ApiError> {
    let format = query.format.as_deref().unwrap_or("stix");
    if !matches!(format, "stix" | "misp") {
        return Err(ApiError::bad_request("format is `stix` or `misp`"));
    }
    let store = state.store();
    // Another organisation's incident is indistinguishable from a missing one.
    let incident = store
        .incident(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such incident"))?;
    let organisation = store
        .organisation(org)
        .await?
        .ok_or_else(|| ApiError::not_found("no such incident"))?;
    let mails = store.incident_mails(org, id, MAILS_EXPORTED).await?;
    let named = store.share_identity(org).await?;
    let key = pseudonym_key(store.master_key());
    let org_id = org.0.to_string();
    let sharing = Sharing {
        organisation: export::Organisation {
            id: &org_id,
            sector: Some(organisation.sector),
        },
        named: named.then_some(organisation.name.as_str()),
        pseudonym_key: &key,
    };
    let shared = shared_incident(&incident, &mails);
    let document = match format {
        "misp" => export::misp_event(&shared, &sharing),
        _ => export::stix_bundle(&shared, &sharing),
    }
    .map_err(ApiError::internal)?;
    store
        .audit(
            actor,
            Some(org),
            "incident.export",
            &serde_json::json!({ "incident": id, "format": format, "named": named }),
        )
        .await?;
    Ok(Json(document))
}

/// The key pseudonyms of organisations are derived with, itself derived from the master
/// key so that it is never stored and stays the same across restarts.
fn pseudonym_key(master: &store::MasterKey) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"tocsin sharing pseudonym key v1");
    mac.finalize().into_bytes().into()
}

/// What of an incident may leave the service: its infrastructure and what matched, never
/// the accounts (the export drops them; they are passed so that it can scrub them from
/// free text).
fn shared_incident(incident: &Incident, mails: &[StoredMail]) -> SharedIncident {
    let phishing = incident.kind == DetectionKind::Phishing;
    let mut domains: Vec<String> = Vec::new();
    let mut urls: Vec<String> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    for stored in mails {
        if let Some(domain) = stored.record.from.domain() {
            let domain = domain.to_ascii_lowercase();
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        for link in &stored.record.links {
            if urls.len() < 100 && !urls.contains(link) {
                urls.push(link.clone());
            }
        }
        for attachment in &stored.record.attachments {
            if !hashes.contains(&attachment.sha256) {
                hashes.push(attachment.sha256.clone());
            }
        }
    }
    SharedIncident {
        id: incident.id.clone(),
        kind: incident.kind.as_str().to_string(),
        technique: incident.technique.id().to_string(),
        severity: incident.severity.as_str().to_string(),
        first_seen: incident.first_seen,
        last_seen: incident.last_seen,
        events: incident.evidence_count,
        summary: incident.summary.clone(),
        sources: if phishing {
            Vec::new()
        } else {
            incident.sources.clone()
        },
        accounts: incident.accounts.clone(),
        senders: if phishing {
            incident.sources.clone()
        } else {
            Vec::new()
        },
        domains,
        urls,
        hashes,
        matches: incident.indicators.clone(),
        attribution: incident.attribution.clone(),
    }
}
