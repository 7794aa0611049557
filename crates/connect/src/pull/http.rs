//! What the vendors' HTTP answers mean to a pull connector: which failures pass (429,
//! 5xx, the network) and which need someone to act (a refused credential), how long to
//! wait (`Retry-After`, Okta's `X-Rate-Limit-Reset`), where the next page is (`Link`),
//! and what time the vendor thinks it is (`Date`), so that a skewed local clock never
//! decides a wait or a signed assertion's validity.
//!
//! Error messages are built from the vendor's own error fields, cut short and stripped of
//! control characters; no credential ever goes into one.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

/// Why a page could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullError {
    /// It may work later: 429, 5xx, a timeout, a refused connection, an unreadable page.
    /// `retry_after` is the vendor's own wait when it said one.
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The vendor refused the credential or its permissions: someone must act. `action`
    /// says what, for the notification.
    Refused { message: String, action: String },
}

impl PullError {
    pub(crate) fn transient(message: impl Into<String>) -> PullError {
        PullError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            PullError::Transient { message, .. } | PullError::Refused { message, .. } => message,
        }
    }
}

/// An OAuth 2.0 access token (RFC 6749 §5.1), renewed five minutes before it expires by
/// our own clock: the vendor's clock never enters this.
pub(crate) struct AccessToken {
    value: String,
    renew_after: Instant,
}

impl AccessToken {
    /// Reads a token endpoint's successful answer.
    pub fn read(answer: &Answer) -> Result<AccessToken, PullError> {
        #[derive(Deserialize)]
        struct Body {
            access_token: String,
            expires_in: Option<u64>,
        }
        let body: Body = serde_json::from_slice(&answer.body)
            .map_err(|e| PullError::transient(format!("token request: unreadable answer ({e})")))?;
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(3600));
        Ok(AccessToken {
            value: body.access_token,
            renew_after: Instant::now() + lifetime.saturating_sub(Duration::from_secs(300)),
        })
    }

    /// The token while it is fresh.
    pub fn fresh(&self) -> Option<&str> {
        (Instant::now() < self.renew_after).then_some(self.value.as_str())
    }
}

/// One answer, read within the size limit.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The vendor's clock, from its `Date` header.
    pub fn server_time(&self) -> Option<Timestamp> {
        let date = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(date)
            .ok()
    }

    /// How long the vendor asked us to wait: `Retry-After` in seconds or as an HTTP date
    /// (measured against the vendor's `Date`, not our clock).
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self
            .headers
            .get(reqwest::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        let at = jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(value)
            .ok()?;
        let now = self.server_time().unwrap_or_else(Timestamp::now);
        Some(until(now, at))
    }

    /// The URL of `rel="next"` in the `Link` headers (Okta), if any.
    pub fn next_link(&self) -> Option<String> {
        self.headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .find_map(|link| {
                let (target, params) = link.split_once(';')?;
                let is_next = params.split(';').any(|param| {
                    param
                        .trim()
                        .strip_prefix("rel=")
                        .is_some_and(|rel| rel.trim_matches('"') == "next")
                });
                let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
                is_next.then(|| target.to_owned())
            })
    }

    /// An integer header (`X-Rate-Limit-Remaining`, `X-Rate-Limit-Reset`).
    pub fn header_number(&self, name: &str) -> Option<i64> {
        self.headers.get(name)?.to_str().ok()?.trim().parse().ok()
    }

    /// The vendor's own words for an error answer: Graph's and Google's
    /// `error.message`, OAuth's `error_description`, Okta's `errorSummary`.
    pub fn vendor_message(&self) -> String {
        let json: Option<Value> = serde_json::from_slice(&self.body).ok();
        let words = json.as_ref().and_then(|body| {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            body.get("error_description")
                .and_then(text)
                .or_else(|| body.get("errorSummary").and_then(text))
                .or_else(|| {
                    body.get("error")
                        .and_then(|e| e.get("message"))
                        .and_then(text)
                })
                .or_else(|| body.get("error").and_then(text))
        });
        let words = words.unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        let status = self.status;
        let words = clean(&words);
        if words.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {words}")
        }
    }

    /// A refusal that needs someone to act when the status is one of `refused` (the
    /// vendor's words after `words`, and `action` for the notification); otherwise
    /// [`Answer::failure`].
    pub fn refusal(&self, refused: &[u16], what: &str, words: &str, action: &str) -> PullError {
        if refused.contains(&self.status.as_u16()) {
            PullError::Refused {
                message: format!("{words}: {}", self.vendor_message()),
                action: action.to_owned(),
            }
        } else {
            self.failure(what)
        }
    }

    /// The error for a status that is not success and not a refused credential: 429 and
    /// 5xx pass with time; anything else is reported and retried all the same, slowly.
    pub fn failure(&self, what: &str) -> PullError {
        PullError::Transient {
            message: format!("{what}: {}", self.vendor_message()),
            retry_after: self.retry_after(),
        }
    }
}

/// The time from `now` until `at`, zero when it is past.
pub(crate) fn until(now: Timestamp, at: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}

/// Vendor text made safe for a status line and a notification: one line, no control
/// characters, at most 300 characters.
pub(crate) fn clean(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if trimmed.chars().count() > 300 {
        let cut: String = trimmed.chars().take(300).collect();
        format!("{cut}…")
    } else {
        trimmed
    }
}

/// Sends a request and reads the answer within `max_body` bytes. Network failures and
/// over-long bodies are transient: they are retried with backoff.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    max_body: usize,
    what: &str,
) -> Result<Answer, PullError> {
    let response = request.send().await.map_err(|error| {
        // reqwest's message names the URL, never headers or body: no credential in it.
        PullError::transient(format!("{what}: {}", clean(&error.to_string())))
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = intel::taxii::read_body(response, max_body)
        .await
        .map_err(|reason| PullError::transient(format!("{what}: {reason}")))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Whether `link` may be followed with the credential of `base`: same scheme, host and
/// port. A next link elsewhere would hand the token to a stranger.
pub(crate) fn same_origin(base: &url::Url, link: &str) -> Result<url::Url, PullError> {
    let url = url::Url::parse(link)
        .map_err(|_| PullError::transient(format!("the next-page link {link:?} is not a URL")))?;
    if url.origin() == base.origin() {
        Ok(url)
    } else {
        Err(PullError::transient(format!(
            "the next-page link points to {}, not to {}; not followed with the credential",
            url.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn answer(headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn okta_link_headers_give_the_next_page() {
        let a = answer(
            &[
                (
                    "link",
                    "<https://x.okta.com/api/v1/logs?limit=2>; rel=\"self\"",
                ),
                (
                    "link",
                    "<https://x.okta.com/api/v1/logs?limit=2&after=1669>; rel=\"next\"",
                ),
            ],
            "",
        );
        assert_eq!(
            a.next_link().as_deref(),
            Some("https://x.okta.com/api/v1/logs?limit=2&after=1669")
        );
        let one_header = answer(
            &[(
                "link",
                "<https://a/self>; rel=\"self\", <https://a/next>; rel=next",
            )],
            "",
        );
        assert_eq!(one_header.next_link().as_deref(), Some("https://a/next"));
        assert_eq!(answer(&[], "").next_link(), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date_on_the_vendors_clock() {
        assert_eq!(
            answer(&[("retry-after", "7")], "").retry_after(),
            Some(Duration::from_secs(7))
        );
        // The vendor's clock is a year behind ours: the wait is still 30 s.
        let dated = answer(
            &[
                ("date", "Sun, 06 Nov 2022 08:49:37 GMT"),
                ("retry-after", "Sun, 06 Nov 2022 08:50:07 GMT"),
            ],
            "",
        );
        assert_eq!(dated.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(answer(&[("retry-after", "soon")], "").retry_after(), None);
    }

    #[test]
    fn vendor_messages_are_read_from_each_vendors_error_shape() {
        let graph = answer(
            &[],
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#,
        );
        assert_eq!(
            graph.vendor_message(),
            "HTTP 429 Too Many Requests: Access token has expired or is not yet valid."
        );
        let oauth = answer(
            &[],
            r#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired.\r\nTrace ID: 1"}"#,
        );
        assert!(
            oauth.vendor_message().ends_with(
                "AADSTS7000222: The provided client secret keys are expired. Trace ID: 1"
            )
        );
        let okta = answer(
            &[],
            r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae1","errorCauses":[]}"#,
        );
        assert!(okta.vendor_message().ends_with("Invalid token provided"));
        assert_eq!(
            answer(&[], "").vendor_message(),
            "HTTP 429 Too Many Requests"
        );
    }

    #[test]
    fn next_links_to_another_origin_are_not_followed() {
        let base = url::Url::parse("https://graph.microsoft.com/beta").expect("url");
        assert!(
            same_origin(
                &base,
                "https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=x"
            )
            .is_ok()
        );
        assert!(same_origin(&base, "https://evil.example/beta/auditLogs/signIns").is_err());
        assert!(same_origin(&base, "http://graph.microsoft.com/beta").is_err());
    }
}
