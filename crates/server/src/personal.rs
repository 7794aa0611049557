//! Personal mail addresses by double opt-in: an organisation's admin invites an address,
//! its owner confirms from the link mailed to it, and can opt out at any time.
//!
//! The pages behind the links only show a button: confirming and opting out are POSTs,
//! so that a mail scanner that fetches every link in a message does neither. The tokens
//! are the only credential of these pages; they are random and stored hashed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::auth::{OrgAdmin, OrgReader};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use notify::email::escape;
use notify::notice::EmailNotice;
use store::{Confirmation, NewDelivery, PendingPersonal, PersonalAccount};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/org/personal", get(list))
        .route("/api/v1/org/personal-invite", post(invite))
        .route("/personal/confirm", get(confirm_page).post(confirm))
        .route("/personal/opt-out", get(opt_out_page).post(opt_out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invite {
    email: String,
}

#[derive(Serialize)]
pub(crate) struct Invited {
    pub email: String,
    pub expires_at: String,
}

/// Records the invitation and queues the confirmation message on the `email` channel.
async fn invite(
    admin: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Invite>,
) -> Result<(StatusCode, Json<Invited>), ApiError> {
    let invited = invite_personal(&state, admin.org, &admin.actor, &body.email).await?;
    Ok((StatusCode::CREATED, Json(invited)))
}

/// Invites `email` to have its attacks watched for `org` (the API's and the dashboard's
/// invitation): records it and queues the confirmation message.
pub(crate) async fn invite_personal(
    state: &AppState,
    org: model::OrgId,
    actor: &crate::Actor,
    email: &str,
) -> Result<Invited, ApiError> {
    let email = store::normalise_email(email)?;
    let organisation = state
        .store()
        .organisation(org)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation not found"))?;
    let accounts = &state.http.accounts;
    let token = state
        .store()
        .invite_personal(
            org,
            &email,
            &actor.0,
            accounts.personal_confirm_ttl,
            accounts.max_pending_personal,
        )
        .await?;
    let expires_at = jiff::Timestamp::now()
        .checked_add(accounts.personal_confirm_ttl)
        .map_err(ApiError::internal)?;
    let link = format!(
        "{}/personal/confirm?token={token}",
        state.http.public_base()
    );
    // The Message-ID names the outbox row, as every e-mail tocsin sends does.
    let delivery_id = uuid::Uuid::now_v7().to_string();
    let message_id =
        notify::email::message_id(&delivery_id, state.intake.config().email.from_domain());
    let notice = confirmation_message(message_id, &organisation.name, &email, &link, expires_at);
    let payload = serde_json::to_string(&notice).map_err(ApiError::internal)?;
    state
        .store()
        .enqueue(&NewDelivery {
            delivery_id,
            org,
            incident_id: None,
            channel: "email".into(),
            target: Some(email.clone()),
            event: "personal.confirm".into(),
            payload,
            not_before: jiff::Timestamp::now(),
        })
        .await?;
    state.intake.outbox_wake().notify_one();
    tracing::info!(by = %actor, %org, "Personal address invited.");
    Ok(Invited {
        email,
        expires_at: expires_at.to_string(),
    })
}

fn confirmation_message(
    message_id: String,
    organisation: &str,
    email: &str,
    link: &str,
    expires_at: jiff::Timestamp,
) -> EmailNotice {
    let expires = expires_at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    // A name with a line break must not become a header of its own.
    let subject = format!("Confirm that {organisation} may watch {email} for attacks")
        .replace(char::is_control, " ");
    let text = format!(
        "{organisation} asked tocsin to warn it when {email} is attacked: password guessing \
         against it, phishing sent to it.\n\n\
         If this is your address and you agree, open this link and press Confirm:\n\n\
         {link}\n\n\
         The link works until {expires}. If you did not expect this message, ignore it: \
         nothing is watched without your confirmation.\n"
    );
    let html = format!(
        "<p>{org} asked tocsin to warn it when <strong>{mail}</strong> is attacked: \
         password guessing against it, phishing sent to it.</p>\
         <p>If this is your address and you agree, open this link and press Confirm:</p>\
         <p><a href=\"{href}\">{href}</a></p>\
         <p>The link works until {expires}. If you did not expect this message, ignore it: \
         nothing is watched without your confirmation.</p>",
        org = escape(organisation),
        mail = escape(email),
        href = escape(link),
    );
    EmailNotice {
        subject,
        text,
        html,
        message_id,
    }
}

#[derive(Serialize)]
struct Listed {
    confirmed: Vec<PersonalAccount>,
    pending: Vec<PendingView>,
}

#[derive(Serialize)]
struct PendingView {
    email: String,
    requested_by: String,
    expires_at: String,
}

async fn list(reader: OrgReader, State(state): State<AppState>) -> Result<Json<Listed>, ApiError> {
    let confirmed = state.store().personal_accounts(reader.org).await?;
    let pending = state
        .store()
        .pending_personal(reader.org)
        .await?
        .into_iter()
        .map(|p: PendingPersonal| PendingView {
            email: p.email,
            requested_by: p.requested_by,
            expires_at: p.expires_at.to_string(),
        })
        .collect();
    Ok(Json(Listed { confirmed, pending }))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · tocsin</title></head><body><main><h1>{title}</h1>{body_html}</main>\
         </body></html>",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    // The token is in the address: keep the page out of caches and other sites' referers.
    // No other site may frame the page and trick a click on its button.
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

fn button_form(action: &str, token: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\">{label}</button></form>",
        action = escape(action),
        token = escape(token),
        label = escape(label),
    )
}

fn unknown_link() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Unknown link",
        "<p>This link is not valid, or was used already. Ask the organisation that invited \
         you to send a new one.</p>",
    )
}

fn expired_link() -> Response {
    page(
        StatusCode::GONE,
        "Link expired",
        "<p>This confirmation link has expired. Ask the organisation that invited you to \
         send a new one.</p>",
    )
}

/// The token of a POST: the form field, or the query string.
fn posted_token(query: TokenQuery, body: &Bytes) -> String {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or(query.token)
}

async fn confirm_page(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let Some(pending) = state.store().personal_invitation(&query.token).await? else {
        return Ok(unknown_link());
    };
    if pending.expires_at <= jiff::Timestamp::now() {
        return Ok(expired_link());
    }
    let organisation = state
        .store()
        .organisation(pending.org)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let body = format!(
        "<p>{org} asks to be warned when <strong>{mail}</strong> is attacked: password \
         guessing against it, phishing sent to it. Sign-ins and messages of this address \
         that reach tocsin are then kept to detect attacks, until you opt out.</p>{form}",
        org = escape(&organisation),
        mail = escape(&pending.email),
        form = button_form("/personal/confirm", &query.token, "Confirm"),
    );
    Ok(page(StatusCode::OK, "Confirm your address", &body))
}

async fn confirm(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = posted_token(query, &body);
    match state.store().confirm_personal(&token).await? {
        Confirmation::Unknown => Ok(unknown_link()),
        Confirmation::Expired => Ok(expired_link()),
        Confirmation::Confirmed {
            org,
            email,
            opt_out_token,
        } => {
            tracing::info!(org = %org, "Personal address confirmed.");
            let link = format!(
                "{}/personal/opt-out?token={opt_out_token}",
                state.http.public_base()
            );
            let body = format!(
                "<p><strong>{mail}</strong> is now watched. To stop at any time, and have \
                 its sign-ins and messages deleted, use this link (keep it; it is shown \
                 once):</p><p><a href=\"{href}\">{href}</a></p>",
                mail = escape(&email),
                href = escape(&link),
            );
            Ok(page(StatusCode::OK, "Address confirmed", &body))
        }
    }
}

async fn opt_out_page(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, ApiError> {
    let Some((_, email)) = state.store().personal_opt_out_target(&query.token).await? else {
        return Ok(unknown_link());
    };
    let body = format!(
        "<p>Stop watching <strong>{mail}</strong>? Its sign-ins and the records of \
         messages sent to it are deleted.</p>{form}",
        mail = escape(&email),
        form = button_form("/personal/opt-out", &query.token, "Opt out and delete"),
    );
    Ok(page(StatusCode::OK, "Opt out", &body))
}

async fn opt_out(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = posted_token(query, &body);
    let Some(done) = state.store().opt_out_personal(&token).await? else {
        return Ok(unknown_link());
    };
    tracing::info!(
        org = %done.org,
        signins = done.signins_deleted,
        mails = done.mails_deleted,
        "Personal address opted out and its events deleted."
    );
    let body = format!(
        "<p><strong>{mail}</strong> is no longer watched. {signins} sign-ins and {mails} \
         message records were deleted.</p>",
        mail = escape(&done.email),
        signins = done.signins_deleted,
        mails = done.mails_deleted,
    );
    Ok(page(StatusCode::OK, "Opted out", &body))
}

#[cfg(test)]
mod tests {
    use super::{confirmation_message, escape};

    #[test]
    fn the_confirmation_message_reads_well_and_escapes_the_organisation() {
        let expires: jiff::Timestamp = "2026-12-08T09:30:00Z".parse().expect("time");
        let notice = confirmation_message(
            notify::email::message_id(
                "0193a000-0000-7000-8000-000000000001",
                "tocsin.cert.example",
            ),
            "Echo <Clinic> & Co\r\nBcc: x@evil.example",
            "ana.perso@mail.example",
            "https://tocsin.cert.example/personal/confirm?token=0123abcd",
            expires,
        );
        assert!(notice.message_id.ends_with("@tocsin.cert.example>"));
        assert!(!notice.subject.contains('\n') && !notice.subject.contains('\r'));
        insta::assert_snapshot!("confirmation_subject", notice.subject);
        insta::assert_snapshot!("confirmation_text", notice.text);
        insta::assert_snapshot!("confirmation_html", notice.html);
    }

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">O'Neil & co</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}
