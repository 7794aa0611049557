//! Authentication: who is asking, from a bearer API key or a session cookie, and what
//! they may do.
//!
//! Machines send `Authorization: Bearer tsn_…`; people signed in to the dashboard send
//! the `tocsin_session` cookie, and with it, on every request that changes something,
//! the session's CSRF token (header `X-CSRF-Token` or form field `csrf_token`): a cookie
//! is sent by the browser whoever made the page, the token only by pages of ours. The
//! organisation a request acts for always comes from the credential.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::{ApiError, AppState};
use model::OrgId;
use store::{Principal, Role, Session};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tocsin_session";
/// The header a signed-in page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field a signed-in HTML form sends its CSRF token in.
pub const CSRF_FIELD: &str = "csrf_token";
/// The largest form body read to find the CSRF token.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Who did something, as audit logs and incident timelines name them:
/// `user:<email>` for a person, `key:<prefix>` for an API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request by the service's staff: an operator's key or an operator signed in.
pub struct Operator {
    pub actor: Actor,
}

/// A request that may read an organisation's data: its viewer or admin signed in, or one
/// of its keys.
pub struct OrgReader {
    pub org: OrgId,
    pub actor: Actor,
}

/// A request that may change an organisation's data and settings: its admin signed in,
/// or one of its keys.
pub struct OrgAdmin {
    pub org: OrgId,
    pub actor: Actor,
}

/// A request that acts for an organisation, for handlers that need only which one: a
/// request that reads (GET, HEAD) needs an [`OrgReader`], any other an [`OrgAdmin`].
pub struct OrgKey(pub OrgId);

/// How a request proved who it is.
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    Key {
        principal: Principal,
        prefix: String,
    },
    Session {
        session: Session,
        token: String,
    },
}

impl Credential {
    pub(crate) fn actor(&self) -> Actor {
        match self {
            Credential::Key { prefix, .. } => Actor(format!("key:{prefix}")),
            Credential::Session { session, .. } => Actor(format!("user:{}", session.user.email)),
        }
    }
}

/// The resolved credential of a request, for handlers that look at it as a whole.
pub(crate) struct Caller(pub Arc<Credential>);

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing, unknown, revoked or expired credentials: send `Authorization: Bearer tsn_...` \
         or sign in at POST /login",
    )
}

/// The value of the session cookie, if the request carries one.
pub(crate) fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Credential, ApiError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(unauthorized)?;
        let key = state
            .store()
            .authenticate_key(token)
            .await?
            .ok_or_else(unauthorized)?;
        return Ok(Credential::Key {
            principal: key.principal,
            prefix: key.prefix,
        });
    }
    let token = session_cookie(&parts.headers).ok_or_else(unauthorized)?;
    let session = state
        .store()
        .session(token, state.http.accounts.session_idle)
        .await?
        .ok_or_else(unauthorized)?;
    if changes_something(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        let expected = session.csrf_token.as_bytes();
        if sent.is_empty() || !bool::from(sent.ct_eq(expected)) {
            return Err(ApiError::forbidden(
                "missing or wrong CSRF token: send the session's token in the X-CSRF-Token \
                 header (GET /api/v1/session shows it)",
            ));
        }
    }
    Ok(Credential::Session {
        session,
        token: token.to_owned(),
    })
}

/// Resolves a request's credential once; later extractors of the same request reuse it.
async fn credential(parts: &mut Parts, state: &AppState) -> Result<Arc<Credential>, ApiError> {
    if let Some(found) = parts.extensions.get::<Arc<Credential>>() {
        return Ok(Arc::clone(found));
    }
    let found = Arc::new(resolve(parts, state).await?);
    parts.extensions.insert(Arc::clone(&found));
    Ok(found)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        credential(parts, state).await.map(Caller)
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(credential(parts, state).await?.actor())
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = credential(parts, state).await?;
        let allowed = match credential.as_ref() {
            Credential::Key { principal, .. } => *principal == Principal::Operator,
            Credential::Session { session, .. } => session.user.role == Role::Operator,
        };
        if !allowed {
            return Err(ApiError::forbidden("this needs an operator"));
        }
        Ok(Operator {
            actor: credential.actor(),
        })
    }
}

/// The organisation of a credential and whether it may change things there.
fn organisation_of(credential: &Credential) -> Result<(OrgId, bool), ApiError> {
    let operator = || {
        ApiError::forbidden(
            "this needs an organisation's user or key; operators act for no organisation here",
        )
    };
    match credential {
        Credential::Key {
            principal: Principal::Organisation(org),
            ..
        } => Ok((*org, true)),
        Credential::Key {
            principal: Principal::Operator,
            ..
        } => Err(operator()),
        Credential::Session { session, .. } => match (session.user.role, session.user.org) {
            (Role::OrgAdmin, Some(org)) => Ok((org, true)),
            (Role::OrgViewer, Some(org)) => Ok((org, false)),
            _ => Err(operator()),
        },
    }
}

impl FromRequestParts<AppState> for OrgReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = credential(parts, state).await?;
        let (org, _) = organisation_of(&credential)?;
        Ok(OrgReader {
            org,
            actor: credential.actor(),
        })
    }
}

impl FromRequestParts<AppState> for OrgAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = credential(parts, state).await?;
        let (org, admin) = organisation_of(&credential)?;
        if !admin {
            return Err(ApiError::forbidden(
                "a viewer may read but not change; ask an admin of the organisation",
            ));
        }
        Ok(OrgAdmin {
            org,
            actor: credential.actor(),
        })
    }
}

impl FromRequestParts<AppState> for OrgKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if changes_something(&parts.method) {
            OrgAdmin::from_request_parts(parts, state)
                .await
                .map(|admin| OrgKey(admin.org))
        } else {
            OrgReader::from_request_parts(parts, state)
                .await
                .map(|reader| OrgKey(reader.org))
        }
    }
}

/// The address the request came from, when the listener recorded it (not for requests
/// made in process). Behind a proxy this is the proxy's address.
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// Lets plain HTML forms of a signed-in page carry the CSRF token as a field: for a
/// form post with the session cookie and no token header, the field is read from the
/// (bounded) body and put in the header the extractors check.
pub(crate) async fn csrf_form_field(request: Request, next: Next) -> Result<Response, ApiError> {
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form
        || !changes_something(request.method())
        || request.headers().contains_key(CSRF_HEADER)
        || request.headers().contains_key(AUTHORIZATION)
        || session_cookie(request.headers()).is_none()
    {
        return Ok(next.run(request).await);
    }
    let (mut parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a form may be at most {MAX_FORM_BYTES} bytes"),
            )
        })?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        parts.headers.insert(CSRF_HEADER, value);
    }
    Ok(next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await)
}
