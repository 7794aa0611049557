//! The endpoints of notification channels: an organisation's e-mail recipients, its
//! webhook signing secret and its rotation, a test notification; and for operators the
//! dead letters and their manual retry.
//!
//! The organisation always comes from the key (`OrgKey`), never from the request.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::{Operator, OrgAdmin, OrgReader};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use notify::{notice, webhook};
use store::{DeliveryRecord, Recipient};

/// Dead letters listed when the request does not say how many.
const DEAD_LISTED: u32 = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/org/recipients",
            get(list_recipients).put(set_recipients),
        )
        .route("/api/v1/org/notifications/test", post(send_test))
        .route("/api/v1/org/webhook/secret", get(current_secret))
        .route("/api/v1/org/webhook/rotate", post(rotate_secret))
        .route("/api/v1/deliveries", get(list_deliveries))
        .route("/api/v1/deliveries/{id}/retry", post(retry_delivery))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipients {
    recipients: Vec<Recipient>,
}

async fn list_recipients(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<Recipients>, ApiError> {
    Ok(Json(Recipients {
        recipients: state.store().recipients(org).await?,
    }))
}

async fn set_recipients(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Recipients>,
) -> Result<Json<Recipients>, ApiError> {
    let recipients = state.store().set_recipients(org, &body.recipients).await?;
    let addresses: Vec<&str> = recipients.iter().map(|r| r.address.as_str()).collect();
    state
        .store()
        .audit(
            &actor.0,
            Some(org),
            "recipients.set",
            &serde_json::json!({ "recipients": addresses }),
        )
        .await?;
    tracing::info!(%org, count = recipients.len(), "Notification recipients set.");
    Ok(Json(Recipients { recipients }))
}

/// Queues a test notification on every channel the organisation has; 409 when it has
/// none, since nothing could arrive.
async fn send_test(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let queued = queue_test(&state, org, &actor).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "queued": queued })),
    ))
}

/// Queues a test notification on every channel `org` has (the API's and the dashboard's
/// "send a test"); 409 when it has none, since nothing could arrive.
pub(crate) async fn queue_test(
    state: &AppState,
    org: model::OrgId,
    actor: &crate::Actor,
) -> Result<Vec<notice::Queued>, ApiError> {
    let store = state.store();
    let organisation = store
        .organisation(org)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation not found"))?;
    let mut tx = store.begin_intake().await?;
    let channels = notice::channels(&mut tx, &state.intake.config().email, &organisation).await?;
    if !channels.any() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the organisation has no channel: set a webhook URL (PUT /api/v1/org/webhook) or, \
             when this service sends e-mail, recipients (PUT /api/v1/org/recipients)",
        ));
    }
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let document = notice::test_document(&delivery_id, &organisation);
    let queued = notice::queue_document(
        &mut tx,
        &channels,
        &organisation,
        None,
        notice::TEST_EVENT,
        delivery_id,
        document,
    )
    .await?;
    tx.commit().await?;
    state.intake.outbox_wake().notify_one();
    store
        .audit(
            &actor.0,
            Some(org),
            "notification.test",
            &serde_json::json!({ "queued": queued.len() }),
        )
        .await?;
    Ok(queued)
}

async fn current_secret(
    OrgAdmin { org, .. }: OrgAdmin,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let generation = state
        .store()
        .secret_generation(org)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation not found"))?;
    let secret = webhook::generation_secret(state.store().master_key(), org, generation.generation);
    Ok(Json(serde_json::json!({
        "webhook_secret": secret,
        "generation": generation.generation,
        "rotated_at": generation.rotated_at,
    })))
}

/// Moves to a new signing secret and returns it. The previous secret keeps signing
/// (as a second `v1=`) for `notify.webhook.rotation_overlap`.
async fn rotate_secret(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let generation = state
        .store()
        .rotate_webhook_secret(org)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation not found"))?;
    let secret = webhook::generation_secret(state.store().master_key(), org, generation.generation);
    let overlap = state.intake.config().webhook.rotation_overlap;
    let previous_valid_until = generation
        .rotated_at
        .and_then(|at| at.checked_add(overlap).ok());
    tracing::info!(%org, generation = generation.generation, "Webhook signing secret rotated.");
    state
        .store()
        .audit(
            &actor.0,
            Some(org),
            "webhook.secret_rotated",
            &serde_json::json!({ "generation": generation.generation }),
        )
        .await?;
    Ok(Json(serde_json::json!({
        "webhook_secret": secret,
        "generation": generation.generation,
        "rotated_at": generation.rotated_at,
        "previous_secret_valid_until": previous_valid_until,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryFilter {
    state: String,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Deliveries {
    deliveries: Vec<DeliveryRecord>,
}

/// The notifications given up on, newest first: what an operator must look at.
async fn list_deliveries(
    _: Operator,
    State(state): State<AppState>,
    Query(filter): Query<DeliveryFilter>,
) -> Result<Json<Deliveries>, ApiError> {
    if filter.state != "dead" {
        return Err(ApiError::bad_request(
            "only state=dead is listed; an incident's deliveries are in GET /api/v1/incidents/{id}",
        ));
    }
    let limit = filter
        .limit
        .unwrap_or(DEAD_LISTED)
        .clamp(1, store::MAX_DEAD_LISTED);
    Ok(Json(Deliveries {
        deliveries: state.store().dead_deliveries(limit).await?,
    }))
}

/// Puts a dead notification back in the queue, due now; it is sent with the same id and
/// body as before.
async fn retry_delivery(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<DeliveryRecord>), ApiError> {
    let store = state.store();
    let Some(record) = store.delivery(id).await? else {
        return Err(ApiError::not_found("no such delivery"));
    };
    if !store.retry_delivery(id, jiff::Timestamp::now()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "delivery {id} is {}, not dead; only dead deliveries are retried by hand",
                record.state
            ),
        ));
    }
    tracing::info!(delivery = %record.delivery_id, %actor, "Dead notification put back in the queue.");
    store
        .audit(
            &actor.0,
            record.org,
            "delivery.retried",
            &serde_json::json!({ "delivery": id, "delivery_id": record.delivery_id }),
        )
        .await?;
    state.intake.outbox_wake().notify_one();
    let record = store
        .delivery(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such delivery"))?;
    Ok((StatusCode::ACCEPTED, Json(record)))
}
