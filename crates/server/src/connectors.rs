//! The endpoints of pull connectors: an organisation sets up, reads and deletes its own
//! (`/api/v1/org/connectors`), operators read any organisation's status.
//!
//! The organisation always comes from the credential. A credential sent here is sealed
//! before it is stored and is never returned: answers carry the settings and the status
//! (state, last success, last error in words, events today, lag) only.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::auth::{Operator, OrgAdmin, OrgReader};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use connect::pull::{Settings, is_connector_name};
use model::OrgId;
use store::{Connector, ConnectorKey, ConnectorStatus, NewConnector};

/// What the API needs to set connectors up: the sealing key, the URL rule, and a way to
/// make the running service pick a change up at once.
#[derive(Clone, Debug)]
pub struct ConnectorAccess {
    pub key: ConnectorKey,
    /// Whether `http://` endpoints are accepted (`[connectors] allow_http`).
    pub allow_http: bool,
    /// Woken after a change; `None` when this instance runs no connectors.
    pub wake: Option<Arc<tokio::sync::Notify>>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/org/connectors", get(list_own))
        .route(
            "/api/v1/org/connectors/{name}",
            get(one_own).put(put_own).delete(delete_own),
        )
        .route("/api/v1/orgs/{org}/connectors", get(list_of_org))
}

/// A connector as the API shows it.
#[derive(Serialize)]
struct ConnectorView {
    name: String,
    kind: String,
    /// The settings as set, without the credential.
    settings: Value,
    created_at: Timestamp,
    updated_at: Timestamp,
    status: ConnectorStatus,
    /// Seconds between the newest event received and now.
    lag_seconds: Option<i64>,
}

impl TryFrom<Connector> for ConnectorView {
    type Error = ApiError;

    /// Fails only for settings the store holds that are not JSON: a corrupt row.
    fn try_from(c: Connector) -> Result<Self, ApiError> {
        let lag_seconds = c
            .status
            .newest_event_at
            .map(|newest| Timestamp::now().duration_since(newest).as_secs().max(0));
        Ok(ConnectorView {
            settings: serde_json::from_str(&c.settings).map_err(ApiError::internal)?,
            name: c.name,
            kind: c.kind,
            created_at: c.created_at,
            updated_at: c.updated_at,
            status: c.status,
            lag_seconds,
        })
    }
}

#[derive(Serialize)]
struct ConnectorList {
    connectors: Vec<ConnectorView>,
}

async fn list_own(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<ConnectorList>, ApiError> {
    list(&state, org).await
}

async fn list_of_org(
    _: Operator,
    State(state): State<AppState>,
    Path(org): Path<i64>,
) -> Result<Json<ConnectorList>, ApiError> {
    let org = OrgId(org);
    if state.store().organisation(org).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "organisation {org} does not exist"
        )));
    }
    list(&state, org).await
}

async fn list(state: &AppState, org: OrgId) -> Result<Json<ConnectorList>, ApiError> {
    let connectors = state.store().connectors(org).await?;
    Ok(Json(ConnectorList {
        connectors: connectors
            .into_iter()
            .map(ConnectorView::try_from)
            .collect::<Result<_, _>>()?,
    }))
}

async fn one_own(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ConnectorView>, ApiError> {
    state
        .store()
        .connector(org, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no connector named {name:?}")))
        .and_then(ConnectorView::try_from)
        .map(Json)
}

/// `PUT /api/v1/org/connectors/{name}`: `{"kind": "graph" | "okta" | "google", …settings,
/// "secret": …}`. The secret is a string, or for Google the key file's JSON object; it
/// may be left out when changing an existing connector's settings.
async fn put_own(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, Value>>,
) -> Result<(StatusCode, Json<ConnectorView>), ApiError> {
    if !is_connector_name(&name) {
        return Err(ApiError::bad_request(
            "a connector name is 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    let mut body = body;
    let secret = match body.remove("secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(object @ Value::Object(_)) => Some(object.to_string()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "secret must be a string (or, for google, the key file's JSON object)",
            ));
        }
    };
    let settings: Settings = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::bad_request(format!("connector settings: {e}")))?;
    settings
        .check(secret.as_deref(), state.connectors.allow_http)
        .map_err(ApiError::bad_request)?;
    let mut stored = serde_json::to_value(&settings).map_err(ApiError::internal)?;
    if let Value::Object(map) = &mut stored {
        map.remove("kind");
    }
    let existed = state.store().connector(org, &name).await?.is_some();
    let connector = state
        .store()
        .put_connector(
            org,
            &state.connectors.key,
            &NewConnector {
                name: &name,
                kind: settings.kind(),
                settings: &stored.to_string(),
                secret: secret.as_deref(),
            },
        )
        .await?;
    state
        .store()
        .audit(
            &actor.0,
            Some(org),
            "connector.set",
            &serde_json::json!({
                "name": name,
                "kind": settings.kind(),
                "secret_changed": secret.is_some(),
            }),
        )
        .await?;
    if let Some(wake) = &state.connectors.wake {
        wake.notify_one();
    }
    tracing::info!(%org, connector = %name, kind = settings.kind(), "Connector set.");
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(connector.try_into()?)))
}

async fn delete_own(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store().delete_connector(org, &name).await? {
        return Err(ApiError::not_found(format!("no connector named {name:?}")));
    }
    state
        .store()
        .audit(
            &actor.0,
            Some(org),
            "connector.delete",
            &serde_json::json!({ "name": name }),
        )
        .await?;
    if let Some(wake) = &state.connectors.wake {
        wake.notify_one();
    }
    Ok(StatusCode::NO_CONTENT)
}
