//! Okta System Log: `GET /api/v1/logs` with an SSWS API token, polled the way Okta
//! documents for polling: `since` (no `until`), `sortOrder=ASCENDING`, and the
//! `Link: rel="next"` URL of each answer, which Okta always gives for such a query, even
//! when the page is empty. The position is that next URL, committed with the page.
//!
//! Rate limits: every answer carries `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (the
//! epoch second the window resets). When nothing remains, the connector waits until the
//! reset, measured against the answer's `Date` header so that a local clock that is off
//! neither hammers Okta nor sleeps for hours; a 429 waits the same way.
//!
//! Only sign-in event types are asked for (`filter`), which is most of the volume saved.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::http::{self, Answer, PullError};
use super::{Page, PullConfig, endpoint, newest_time};

/// The event types the sign-in parser reads (see `ingest::okta`).
pub const SIGN_IN_FILTER: &str = "eventType eq \"user.session.start\" or eventType sw \"user.authentication\" or eventType sw \"user.mfa\" or eventType eq \"policy.evaluate_sign_on\" or eventType sw \"user.account.lock\"";

/// An Okta connector's settings; the credential is an API token (`SSWS`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaSettings {
    /// The organisation's Okta URL: `https://example.okta.com` or its custom domain.
    pub org_url: String,
    /// The System Log filter. Default: the sign-in event types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl OktaSettings {
    pub(crate) fn check(&self, secret: Option<&str>, allow_http: bool) -> Result<(), String> {
        let url = endpoint(&self.org_url, "org_url", allow_http)?;
        if url.path() != "/" || url.query().is_some() {
            return Err(format!(
                "org_url must be the Okta domain alone (https://example.okta.com), not {:?}",
                self.org_url
            ));
        }
        if let Some(token) = secret
            && (token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err("the API token must be the token Okta showed, without spaces".into());
        }
        Ok(())
    }
}

/// Where an Okta connector is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    /// The `rel="next"` URL of the last answer committed.
    next: Option<String>,
    /// The newest `published` committed: where to start again without a next URL.
    newest: Option<Timestamp>,
}

pub(crate) struct Okta {
    settings: OktaSettings,
    token: String,
    base: url::Url,
    client: reqwest::Client,
    page_size: u32,
    max_body: usize,
}

impl Okta {
    pub(crate) fn new(
        settings: OktaSettings,
        token: String,
        config: &PullConfig,
        client: reqwest::Client,
    ) -> Result<Okta, String> {
        settings.check(Some(&token), config.allow_http)?;
        let base = endpoint(&settings.org_url, "org_url", config.allow_http)?;
        Ok(Okta {
            settings,
            token,
            base,
            client,
            page_size: config.page_size.clamp(1, 1000),
            max_body: config.max_response_bytes,
        })
    }

    fn first_url(&self, since: Timestamp) -> url::Url {
        let mut url = self.base.clone();
        url.set_path("/api/v1/logs");
        url.query_pairs_mut()
            .append_pair(
                "since",
                &since.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            )
            .append_pair("sortOrder", "ASCENDING")
            .append_pair("limit", &self.page_size.to_string())
            .append_pair(
                "filter",
                self.settings.filter.as_deref().unwrap_or(SIGN_IN_FILTER),
            );
        url
    }

    pub(crate) async fn next_page(
        &mut self,
        position: Option<&Value>,
        start: Timestamp,
    ) -> Result<Page, PullError> {
        let mut position: Position = position
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or(Position {
                next: None,
                newest: None,
            });
        let url = match &position.next {
            Some(link) => http::same_origin(&self.base, link)?,
            None => self.first_url(position.newest.unwrap_or(start)),
        };
        let answer = http::send(
            self.client
                .get(url.clone())
                .header("Authorization", format!("SSWS {}", self.token))
                .header("Accept", "application/json"),
            self.max_body,
            "System Log",
        )
        .await?;
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        let records: Vec<&RawValue> = serde_json::from_slice(&answer.body)
            .map_err(|e| PullError::transient(format!("System Log: unreadable answer ({e})")))?;
        let newest_here = newest_time(&records, "/published");
        position.newest = position.newest.max(newest_here);
        position.next = answer.next_link();
        let full = records.len() >= self.page_size as usize;
        Ok(Page {
            more: full && position.next.is_some(),
            pause: rate_limit_pause(&answer),
            records: records.into_iter().map(RawValue::to_owned).collect(),
            position: serde_json::to_value(&position).unwrap_or(Value::Null),
            request: url.to_string(),
        })
    }
}

/// When the rate-limit window is spent, the time until it resets, on Okta's clock.
fn rate_limit_pause(answer: &Answer) -> Option<Duration> {
    let remaining = answer.header_number("x-rate-limit-remaining")?;
    if remaining > 0 {
        return None;
    }
    reset_wait(answer)
}

fn reset_wait(answer: &Answer) -> Option<Duration> {
    let reset = Timestamp::from_second(answer.header_number("x-rate-limit-reset")?).ok()?;
    let now = answer.server_time().unwrap_or_else(Timestamp::now);
    // One second more: the reset second itself may still be inside the window.
    Some(http::until(now, reset) + Duration::from_secs(1))
}

fn failure(answer: &Answer) -> PullError {
    match answer.status.as_u16() {
        429 => PullError::Transient {
            message: format!("System Log: {}", answer.vendor_message()),
            retry_after: answer.retry_after().or_else(|| reset_wait(answer)),
        },
        403 => answer.refusal(&[403], "System Log", "Okta refused to show the System Log", "Give the token's administrator a role that can read the System Log (Read-only Administrator or higher)."),
        _ => answer.refusal(&[401], "System Log", "Okta refused the API token", "In the Okta admin console (Security > API > Tokens), create a new API token for an administrator who can read the System Log (Read-only Administrator is enough); tokens unused for 30 days expire."),
    }
}
