//! Authentication: the bearer key of a request, resolved to who is asking.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::{ApiError, AppState};
use model::OrgId;
use store::Principal;

/// A request made with an operator's key.
pub struct Operator;

/// A request made with an organisation's key: the organisation it may act for.
pub struct OrgKey(pub OrgId);

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    state
        .store()
        .authenticate(token)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Operator => Ok(Operator),
            Principal::Organisation(_) => Err(ApiError::forbidden("this needs an operator key")),
        }
    }
}

impl FromRequestParts<AppState> for OrgKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Organisation(org) => Ok(OrgKey(org)),
            Principal::Operator => Err(ApiError::forbidden(
                "this needs an organisation's key; operators act for no organisation here",
            )),
        }
    }
}
