//! People and machines that act for the service or an organisation: password sign-in and
//! sessions, users and their roles, and an organisation's API keys.
//!
//! Sign-in answers the same for an unknown address and a wrong password, and spends the
//! same time on both (an unknown address is checked against a dummy hash). Failures are
//! throttled per client address and per account ([`LoginThrottle`]).

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, ClientIp, Credential, Operator, OrgAdmin, OrgReader, SESSION_COOKIE};
use crate::error::ApiJson;
use crate::throttle::LoginThrottle;
use crate::{ApiError, AppState};
use model::OrgId;
use store::{ApiKey, NewUser, Principal, Role, User};

/// Users and keys listed at most per request.
const MAX_LISTED: u32 = 1000;

pub(crate) fn routes() -> Router<AppState> {
    // Hashed now, so that the first unknown address is not slower than the rest.
    LazyLock::force(&DUMMY_HASH);
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/api/v1/session", get(who_am_i))
        .route("/api/v1/users", get(all_users).post(create_any_user))
        .route("/api/v1/users/{id}", delete(disable_any_user))
        .route("/api/v1/org/users", get(org_users).post(create_org_user))
        .route("/api/v1/org/users/{id}", delete(disable_org_user))
        .route("/api/v1/org/keys", get(org_keys).post(create_org_key))
        .route("/api/v1/org/keys/{prefix}", delete(revoke_org_key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct SessionView {
    actor: String,
    /// `operator`, `org_admin`, `org_viewer`, or `key` for an API key.
    role: String,
    org: Option<OrgId>,
    /// The token to send in `X-CSRF-Token` with every change; only for sessions.
    csrf_token: Option<String>,
    expires_at: Option<String>,
}

fn session_view(credential: &Credential) -> SessionView {
    match credential {
        Credential::Key { principal, .. } => SessionView {
            actor: credential.actor().0,
            role: match principal {
                Principal::Operator => "operator_key".into(),
                Principal::Organisation(_) => "org_key".into(),
            },
            org: match principal {
                Principal::Operator => None,
                Principal::Organisation(org) => Some(*org),
            },
            csrf_token: None,
            expires_at: None,
        },
        Credential::Session { session, .. } => SessionView {
            actor: credential.actor().0,
            role: session.user.role.as_str().into(),
            org: session.user.org,
            csrf_token: Some(session.csrf_token.clone()),
            expires_at: Some(session.expires_at.to_string()),
        },
    }
}

/// A hash no password matches in practice, verified for unknown addresses so that they
/// take as long as known ones.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| store::hash_password("no account has this password, ever").ok());

/// Whether a request's body is an HTML form's.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

/// Whether the sign-in came from the dashboard's page in a browser (a form, and HTML
/// wanted back): it is redirected; anything else is answered JSON.
fn from_page(headers: &HeaderMap) -> bool {
    is_form(headers)
        && headers
            .get(axum::http::header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/html"))
}

fn read_login(headers: &HeaderMap, body: &Bytes) -> Result<Login, ApiError> {
    if is_form(headers) {
        let mut email = None;
        let mut password = None;
        for (name, value) in url::form_urlencoded::parse(body) {
            match name.as_ref() {
                "email" => email = Some(value.into_owned()),
                "password" => password = Some(value.into_owned()),
                _ => {}
            }
        }
        match (email, password) {
            (Some(email), Some(password)) => Ok(Login { email, password }),
            _ => Err(ApiError::bad_request(
                "the form needs the fields email and password",
            )),
        }
    } else {
        serde_json::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!(
                "send {{\"email\": ..., \"password\": ...}} as JSON or a form: {error}"
            ))
        })
    }
}

pub(crate) fn session_cookie_header(
    state: &AppState,
    value: &str,
    max_age_secs: i64,
) -> Result<HeaderValue, ApiError> {
    let secure = if state.http.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .map_err(ApiError::internal)
}

/// Signs in with an e-mail and password (JSON or a form) and sets the session cookie.
async fn login(
    State(state): State<AppState>,
    Extension(throttle): Extension<Arc<LoginThrottle>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let login = read_login(&headers, &body)?;
    let email = login.email.trim().to_lowercase();
    if let Err(wait) = throttle.check(client, &email) {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins; wait and try again",
        )
        .into_response();
        let seconds = wait.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&seconds) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let found = if login.password.len() > store::MAX_PASSWORD_BYTES {
        None
    } else {
        state.store().user_for_login(&email).await?
    };
    let hash = match &found {
        Some((_, hash)) => Some(hash.clone()),
        None => DUMMY_HASH.clone(),
    };
    let password = login.password;
    let matches = tokio::task::spawn_blocking(move || {
        hash.is_some_and(|hash| store::verify_password(&hash, &password))
    })
    .await
    .map_err(ApiError::internal)?;
    let user = match found {
        Some((user, _)) if matches => user,
        _ => {
            throttle.failed(client, &email);
            tracing::info!(client = ?client, "Failed sign-in.");
            if from_page(&headers) {
                return Ok(axum::response::Redirect::to("/login?failed=1").into_response());
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unknown e-mail address or wrong password",
            ));
        }
    };
    throttle.succeeded(&email);
    let lifetime = state.http.accounts.session_lifetime;
    let session = state.store().create_session(user.id, lifetime).await?;
    let cookie = session_cookie_header(&state, &session.token, lifetime.as_secs())?;
    tracing::info!(user = %user.email, "Signed in.");
    let view = SessionView {
        actor: format!("user:{}", user.email),
        role: user.role.as_str().into(),
        org: user.org,
        csrf_token: Some(session.csrf_token),
        expires_at: Some(session.expires_at.to_string()),
    };
    // The dashboard's form goes on to the overview; an API client reads the session.
    let mut response = if from_page(&headers) {
        axum::response::Redirect::to("/dashboard").into_response()
    } else {
        Json(view).into_response()
    };
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

/// Ends the session of the cookie and clears the cookie.
async fn logout(
    State(state): State<AppState>,
    Caller(credential): Caller,
) -> Result<Response, ApiError> {
    if let Credential::Session { token, .. } = credential.as_ref() {
        state.store().delete_session(token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie_header(&state, "", 0)?);
    Ok(response)
}

async fn who_am_i(Caller(credential): Caller) -> Json<SessionView> {
    Json(session_view(&credential))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    role: String,
    /// For an operator's request only: the organisation of an org_admin or org_viewer.
    #[serde(default)]
    org_id: Option<i64>,
}

async fn create_user(
    state: &AppState,
    body: CreateUser,
    org: Option<OrgId>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let role: Role = body.role.parse()?;
    let password = body.password;
    let password_hash = tokio::task::spawn_blocking(move || store::hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    let user = state
        .store()
        .create_user(&NewUser {
            email: body.email,
            name: body.name,
            password_hash,
            role,
            org,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn create_any_user(
    operator: Operator,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let org = body.org_id.map(OrgId);
    let created = create_user(&state, body, org).await?;
    tracing::info!(by = %operator.actor, user = %created.1.email, role = %created.1.role, "User created.");
    Ok(created)
}

async fn all_users(
    _: Operator,
    State(state): State<AppState>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.store().users(None, MAX_LISTED).await?))
}

async fn disable_any_user(
    operator: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<User>, ApiError> {
    let user = state
        .store()
        .disable_user(None, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    tracing::info!(by = %operator.actor, user = %user.email, "User disabled.");
    Ok(Json(user))
}

async fn org_users(
    reader: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(
        state.store().users(Some(reader.org), MAX_LISTED).await?,
    ))
}

/// An organisation's admin adds a colleague; the organisation is the admin's own.
async fn create_org_user(
    admin: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    if body.org_id.is_some() {
        return Err(ApiError::bad_request(
            "org_id is not accepted here: users are created in your own organisation",
        ));
    }
    if body.role.parse::<Role>()? == Role::Operator {
        return Err(ApiError::forbidden(
            "an organisation creates org_admin and org_viewer users only",
        ));
    }
    let created = create_user(&state, body, Some(admin.org)).await?;
    tracing::info!(by = %admin.actor, org = %admin.org, user = %created.1.email, "User created.");
    Ok(created)
}

async fn disable_org_user(
    admin: OrgAdmin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<User>, ApiError> {
    let user = state
        .store()
        .disable_user(Some(admin.org), id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user in your organisation"))?;
    tracing::info!(by = %admin.actor, org = %admin.org, user = %user.email, "User disabled.");
    Ok(Json(user))
}

async fn org_keys(
    admin: OrgAdmin,
    State(state): State<AppState>,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    Ok(Json(state.store().api_keys(admin.org, MAX_LISTED).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    label: String,
}

#[derive(Serialize)]
struct CreatedKey {
    #[serde(flatten)]
    key: ApiKey,
    /// Shown once; only its hash is kept.
    api_key: String,
}

async fn create_org_key(
    admin: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let (key, api_key) = state
        .store()
        .create_org_key(admin.org, &body.label, &admin.actor.0)
        .await?;
    tracing::info!(by = %admin.actor, org = %admin.org, key = %key.prefix, "API key created.");
    Ok((StatusCode::CREATED, Json(CreatedKey { key, api_key })))
}

async fn revoke_org_key(
    admin: OrgAdmin,
    State(state): State<AppState>,
    Path(prefix): Path<String>,
) -> Result<StatusCode, ApiError> {
    let revoked = state.store().revoke_api_key(admin.org, &prefix).await?;
    if revoked == 0 {
        return Err(ApiError::not_found(
            "no key of your organisation in use with that prefix",
        ));
    }
    tracing::info!(by = %admin.actor, org = %admin.org, key = %prefix, "API key revoked.");
    Ok(StatusCode::NO_CONTENT)
}
