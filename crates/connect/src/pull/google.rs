//! Google Workspace sign-ins through the Admin SDK Reports API: `activities.list` for
//! `applicationName=login`, as a service account with domain-wide delegation acting for
//! an administrator.
//!
//! The token comes from the OAuth 2.0 JWT-bearer flow: an assertion signed RS256 with the
//! service account's key (`iss` the account, `sub` the administrator, `scope` the
//! read-only audit scope, `aud` the token URI, valid for an hour) exchanged at the token
//! URI. The assertion carries times, so the local clock matters here: every answer's
//! `Date` header updates what the clock is off by, and an assertion refused for its times
//! is signed again on Google's clock once.
//!
//! Windows are as for Graph: Google lists the newest first and pages with `pageToken`,
//! so the window's `startTime` moves only when the window is done, to the newest event
//! less the overlap (login events can appear minutes after newer ones).

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::http::{self, AccessToken, Answer, PullError};
use super::window::Window;
use super::{Page, PullConfig, endpoint, newest_time};

const REPORTS_BASE: &str = "https://admin.googleapis.com";
/// The only scope asked for: reading audit reports.
pub const SCOPE: &str = "https://www.googleapis.com/auth/admin.reports.audit.readonly";

/// A Google Workspace connector's settings; the credential is the service account's JSON
/// key file, whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    /// The administrator the service account acts for (domain-wide delegation's
    /// subject): a super administrator or one with the Reports privilege.
    pub delegated_admin: String,
    /// The Workspace customer id. Default: `my_customer`, the administrator's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The Reports API endpoint. Default: Google's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports_base: Option<String>,
}

impl GoogleSettings {
    pub(crate) fn check(&self, secret: Option<&str>, allow_http: bool) -> Result<(), String> {
        if !store::is_plausible_email(&self.delegated_admin) {
            return Err(format!(
                "delegated_admin {:?} is not an e-mail address",
                self.delegated_admin
            ));
        }
        if let Some(id) = &self.customer_id
            && (id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(format!("customer_id {id:?} is not a Workspace customer id"));
        }
        endpoint(
            self.reports_base.as_deref().unwrap_or(REPORTS_BASE),
            "reports_base",
            allow_http,
        )?;
        if let Some(secret) = secret {
            ServiceAccount::read(secret, allow_http)?;
        }
        Ok(())
    }
}

/// The fields of a service-account key file that are used.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: RsaKeyPair,
    token_uri: url::Url,
}

impl ServiceAccount {
    fn read(text: &str, allow_http: bool) -> Result<ServiceAccount, String> {
        let file: KeyFile = serde_json::from_str(text).map_err(|e| {
            format!("the credential must be the service account's JSON key file: {e}")
        })?;
        if file.kind.as_deref().is_some_and(|k| k != "service_account") {
            return Err(
                "the key file is not a service account's (type is not \"service_account\")".into(),
            );
        }
        let der = pem_body(&file.private_key)
            .ok_or("the key file's private_key is not a PEM \"PRIVATE KEY\"")?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| format!("the key file's private_key is not an RSA key: {e}"))?;
        let token_uri = endpoint(
            file.token_uri
                .as_deref()
                .unwrap_or("https://oauth2.googleapis.com/token"),
            "token_uri",
            allow_http,
        )?;
        Ok(ServiceAccount {
            email: file.client_email,
            key_id: file.private_key_id,
            key,
            token_uri,
        })
    }

    /// The signed assertion for `subject`, issued at `issued_at` (Google's time).
    fn assertion(&self, subject: &str, issued_at: Timestamp) -> Result<String, PullError> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(kid) = &self.key_id {
            header["kid"] = Value::String(kid.clone());
        }
        let iat = issued_at.as_second();
        let claims = serde_json::json!({
            "iss": self.email,
            "sub": subject,
            "scope": SCOPE,
            "aud": self.token_uri.as_str(),
            "iat": iat,
            "exp": iat + 3600,
        });
        let signing_input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| PullError::transient("signing the assertion failed"))?;
        Ok(format!("{signing_input}.{}", b64.encode(signature)))
    }
}

/// The DER inside a `-----BEGIN PRIVATE KEY-----` block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN PRIVATE KEY-----")? + "-----BEGIN PRIVATE KEY-----".len();
    let end = pem[start..].find("-----END PRIVATE KEY-----")? + start;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

pub(crate) struct Google {
    settings: GoogleSettings,
    account: ServiceAccount,
    base: url::Url,
    client: reqwest::Client,
    token: Option<AccessToken>,
    /// Google's clock minus ours, from the last `Date` header seen.
    skew: SignedDuration,
    overlap: SignedDuration,
    page_size: u32,
    max_body: usize,
}

#[derive(Deserialize)]
struct ListAnswer<'a> {
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
}

impl Google {
    pub(crate) fn new(
        settings: GoogleSettings,
        secret: String,
        config: &PullConfig,
        client: reqwest::Client,
    ) -> Result<Google, String> {
        settings.check(None, config.allow_http)?;
        let account = ServiceAccount::read(&secret, config.allow_http)?;
        let base = endpoint(
            settings.reports_base.as_deref().unwrap_or(REPORTS_BASE),
            "reports_base",
            config.allow_http,
        )?;
        Ok(Google {
            settings,
            account,
            base,
            client,
            token: None,
            skew: SignedDuration::ZERO,
            overlap: config.overlap,
            page_size: config.page_size.clamp(1, 1000),
            max_body: config.max_response_bytes,
        })
    }

    fn note_clock(&mut self, answer: &Answer) {
        if let Some(theirs) = answer.server_time() {
            self.skew = theirs.duration_since(Timestamp::now());
        }
    }

    async fn token(&mut self) -> Result<String, PullError> {
        if let Some(fresh) = self.token.as_ref().and_then(AccessToken::fresh) {
            return Ok(fresh.to_owned());
        }
        let mut corrected = false;
        loop {
            // Issued a little in the past, on Google's clock as last seen.
            let issued_at = Timestamp::now() + self.skew - SignedDuration::from_secs(30);
            let assertion = self
                .account
                .assertion(&self.settings.delegated_admin, issued_at)?;
            let form = [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ];
            let answer = http::send(
                self.client.post(self.account.token_uri.clone()).form(&form),
                self.max_body,
                "token request",
            )
            .await?;
            let before = self.skew;
            self.note_clock(&answer);
            if answer.status.is_success() {
                let token = AccessToken::read(&answer)?;
                let value = token.fresh().unwrap_or_default().to_owned();
                self.token = Some(token);
                return Ok(value);
            }
            // An assertion refused for its times, signed on a clock Google now told us
            // is off: sign it again on Google's clock, once.
            if !corrected && refused_for_time(&answer) && self.skew != before {
                corrected = true;
                tracing::warn!(
                    skew_seconds = self.skew.as_secs(),
                    "the local clock is off from Google's; the assertion is signed again on Google's time"
                );
                continue;
            }
            return Err(answer.refusal(
                &[400, 401, 403],
                "token request",
                "Google refused the service account",
                TOKEN_ACTION,
            ));
        }
    }

    async fn get(&mut self, url: &url::Url) -> Result<Answer, PullError> {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let answer = http::send(
                self.client.get(url.clone()).bearer_auth(token),
                self.max_body,
                "login activities",
            )
            .await?;
            self.note_clock(&answer);
            if answer.status == reqwest::StatusCode::UNAUTHORIZED && !renewed {
                self.token = None;
                renewed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    fn page_url(&self, window: &Window) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend([
                "admin",
                "reports",
                "v1",
                "activity",
                "users",
                "all",
                "applications",
                "login",
            ]);
        }
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair(
                    "startTime",
                    &window.since.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                )
                .append_pair("maxResults", &self.page_size.to_string());
            if let Some(customer) = &self.settings.customer_id {
                query.append_pair("customerId", customer);
            }
            if let Some(token) = &window.next {
                query.append_pair("pageToken", token);
            }
        }
        url
    }

    pub(crate) async fn next_page(
        &mut self,
        position: Option<&Value>,
        start: Timestamp,
    ) -> Result<Page, PullError> {
        let window = Window::resume(position, start);
        let url = self.page_url(&window);
        let answer = self.get(&url).await?;
        if !answer.status.is_success() {
            if window.next.is_some() && answer.status.as_u16() == 400 {
                return Ok(window.restarted(url.to_string()));
            }
            return Err(answer.refusal(
                &[401, 403],
                "login activities",
                "Google refused to list login activities",
                LIST_ACTION,
            ));
        }
        let list: ListAnswer<'_> = serde_json::from_slice(&answer.body).map_err(|e| {
            PullError::transient(format!("login activities: unreadable answer ({e})"))
        })?;
        let mut window = window;
        let newest_here = newest_time(&list.items, "/id/time");
        let more = window.advance(newest_here, list.next_page_token, self.overlap);
        Ok(Page {
            records: list.items.into_iter().map(RawValue::to_owned).collect(),
            position: window.to_value(),
            more,
            pause: None,
            request: url.to_string(),
        })
    }
}

fn refused_for_time(answer: &Answer) -> bool {
    let words = answer.vendor_message().to_ascii_lowercase();
    answer.status.as_u16() == 400
        && (words.contains("timeframe") || words.contains("iat") || words.contains("exp"))
}

const TOKEN_ACTION: &str = "In the Google Admin console (Security > Access and data control > API controls > Domain-wide delegation), check that the service account's client id is allowed the scope https://www.googleapis.com/auth/admin.reports.audit.readonly, that delegated_admin is an administrator with the Reports privilege, and that the key was not deleted in Google Cloud.";

const LIST_ACTION: &str = "Give delegated_admin the Reports privilege (or make it a super administrator) and check the domain-wide delegation scopes.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_that_is_not_a_service_accounts_is_refused_with_the_reason() {
        let err = |text: &str| ServiceAccount::read(text, false).err().unwrap_or_default();
        assert!(err("not json").contains("JSON key file"));
        assert!(
            err(r#"{"type":"authorized_user","client_email":"a@b","private_key":""}"#)
                .contains("not a service account")
        );
        assert!(
            err(r#"{"type":"service_account","client_email":"a@b","private_key":"xyz"}"#)
                .contains("not a PEM")
        );
        assert!(err(r#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#)
            .contains("not an RSA key"));
    }
}
