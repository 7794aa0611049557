//! Microsoft Entra sign-ins through Microsoft Graph: `GET /auditLogs/signIns`, with an
//! app-only token from the OAuth 2.0 client-credentials flow against the tenant's token
//! endpoint.
//!
//! A window asks for `createdDateTime ge <since>` and follows `@odata.nextLink` to its
//! end. Graph lists the newest first, so the window's lower bound only moves once the
//! whole window is committed: to the newest event seen less `[connectors] overlap`,
//! because sign-ins appear in Graph minutes after they happen. The position is committed
//! with each page (the next link too), so a restart resumes the same window at the same
//! page; a next link Graph no longer honours restarts the window from `since`, and
//! intake drops by record id what comes twice.
//!
//! Interactive and non-interactive sign-ins: v1.0 lists interactive ones only, so by
//! default the beta endpoint is used with a `signInEventTypes` filter for both.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::http::{self, AccessToken, Answer, PullError};
use super::window::Window;
use super::{Page, PullConfig, endpoint, newest_time};

/// The public cloud's endpoints; national clouds set theirs.
const LOGIN_BASE: &str = "https://login.microsoftonline.com";
const GRAPH_BETA: &str = "https://graph.microsoft.com/beta";
const GRAPH_V1: &str = "https://graph.microsoft.com/v1.0";

/// A Graph connector's settings; the credential is the app's client secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSettings {
    /// The directory (tenant) id, a GUID, or a verified domain of the tenant.
    pub tenant_id: String,
    /// The application (client) id of the app registration with `AuditLog.Read.All`.
    pub client_id: String,
    /// Also non-interactive sign-ins (token refreshes, apps acting for a user), from the
    /// beta endpoint. Default: true.
    #[serde(default = "yes")]
    pub non_interactive: bool,
    /// The token service, for a national cloud (`https://login.microsoftonline.us`).
    /// Default: the public cloud's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_base: Option<String>,
    /// The Graph endpoint with its version (`https://graph.microsoft.us/beta`).
    /// Default: the public cloud's beta, or v1.0 without non-interactive sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_base: Option<String>,
}

fn yes() -> bool {
    true
}

impl GraphSettings {
    pub(crate) fn check(&self, secret: Option<&str>, allow_http: bool) -> Result<(), String> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.len() <= 256
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        };
        if !plain(&self.tenant_id) {
            return Err(format!(
                "tenant_id {:?} is not a tenant id (a GUID) or domain",
                self.tenant_id
            ));
        }
        if !plain(&self.client_id) {
            return Err(format!(
                "client_id {:?} is not an application id",
                self.client_id
            ));
        }
        self.endpoints(allow_http)?;
        if secret.is_some_and(str::is_empty) {
            return Err("the client secret is empty".into());
        }
        Ok(())
    }

    fn endpoints(&self, allow_http: bool) -> Result<(url::Url, url::Url), String> {
        let login = endpoint(
            self.login_base.as_deref().unwrap_or(LOGIN_BASE),
            "login_base",
            allow_http,
        )?;
        let default_graph = if self.non_interactive {
            GRAPH_BETA
        } else {
            GRAPH_V1
        };
        let graph = endpoint(
            self.graph_base.as_deref().unwrap_or(default_graph),
            "graph_base",
            allow_http,
        )?;
        Ok((login, graph))
    }
}

pub(crate) struct Graph {
    settings: GraphSettings,
    secret: String,
    login: url::Url,
    graph: url::Url,
    client: reqwest::Client,
    token: Option<AccessToken>,
    overlap: jiff::SignedDuration,
    page_size: u32,
    max_body: usize,
}

#[derive(Deserialize)]
struct ListAnswer<'a> {
    #[serde(borrow, default)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

impl Graph {
    pub(crate) fn new(
        settings: GraphSettings,
        secret: String,
        config: &PullConfig,
        client: reqwest::Client,
    ) -> Result<Graph, String> {
        settings.check(Some(&secret), config.allow_http)?;
        let (login, graph) = settings.endpoints(config.allow_http)?;
        Ok(Graph {
            settings,
            secret,
            login,
            graph,
            client,
            token: None,
            overlap: config.overlap,
            page_size: config.page_size.clamp(1, 1000),
            max_body: config.max_response_bytes,
        })
    }

    /// An access token, fetched when there is none or it is about to expire.
    async fn token(&mut self) -> Result<String, PullError> {
        if let Some(fresh) = self.token.as_ref().and_then(AccessToken::fresh) {
            return Ok(fresh.to_owned());
        }
        let mut url = self.login.clone();
        url.path_segments_mut()
            .map_err(|_| PullError::transient("login_base cannot take a path"))?
            .pop_if_empty()
            .extend([self.settings.tenant_id.as_str(), "oauth2", "v2.0", "token"]);
        let mut scope = self.graph.clone();
        scope.set_path("/.default");
        let form = [
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("scope", scope.as_str()),
            ("grant_type", "client_credentials"),
        ];
        let answer = http::send(
            self.client.post(url).form(&form),
            self.max_body,
            "token request",
        )
        .await?;
        if !answer.status.is_success() {
            // `invalid_client` (a wrong or expired secret), `unauthorized_client`,
            // `invalid_request` for a tenant that does not exist.
            return Err(answer.refusal(
                &[400, 401, 403],
                "token request",
                "Microsoft refused the app's credential",
                TOKEN_ACTION,
            ));
        }
        let token = AccessToken::read(&answer)?;
        let value = token.fresh().unwrap_or_default().to_owned();
        self.token = Some(token);
        Ok(value)
    }

    async fn get(&mut self, url: &url::Url) -> Result<Answer, PullError> {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let answer = http::send(
                self.client
                    .get(url.clone())
                    .bearer_auth(token)
                    .header("Accept", "application/json"),
                self.max_body,
                "sign-in list",
            )
            .await?;
            // A 401 from Graph with a token we thought valid: it expired early or was
            // revoked. Fetch a new one once; a second 401 is a refusal.
            if answer.status == reqwest::StatusCode::UNAUTHORIZED && !renewed {
                self.token = None;
                renewed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    fn first_page_url(&self, since: Timestamp) -> url::Url {
        let mut url = self.graph.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["auditLogs", "signIns"]);
        }
        let mut filter = format!(
            "createdDateTime ge {}",
            since.strftime("%Y-%m-%dT%H:%M:%SZ")
        );
        if self.settings.non_interactive {
            filter.push_str(
                " and (signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser'))",
            );
        }
        url.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$top", &self.page_size.to_string());
        url
    }

    pub(crate) async fn next_page(
        &mut self,
        position: Option<&Value>,
        start: Timestamp,
    ) -> Result<Page, PullError> {
        let mut window = Window::resume(position, start);
        let url = match &window.next {
            Some(link) => http::same_origin(&self.graph, link)?,
            None => self.first_page_url(window.since),
        };
        let answer = self.get(&url).await?;
        if !answer.status.is_success() {
            if window.next.is_some() && matches!(answer.status.as_u16(), 400 | 404 | 410) {
                return Ok(window.restarted(url.to_string()));
            }
            return Err(answer.refusal(
                &[401, 403],
                "sign-in list",
                "Microsoft Graph refused to list sign-ins",
                LIST_ACTION,
            ));
        }
        let list: ListAnswer<'_> = serde_json::from_slice(&answer.body)
            .map_err(|e| PullError::transient(format!("sign-in list: unreadable answer ({e})")))?;
        let newest_here = newest_time(&list.value, "/createdDateTime");
        let more = window.advance(newest_here, list.next_link, self.overlap);
        Ok(Page {
            records: list.value.into_iter().map(RawValue::to_owned).collect(),
            position: window.to_value(),
            more,
            pause: None,
            request: url.to_string(),
        })
    }
}

const TOKEN_ACTION: &str = "In the Entra admin centre, open the app registration, check its client secret (Certificates & secrets) and that it has the AuditLog.Read.All application permission with admin consent; create a new secret if it expired.";

const LIST_ACTION: &str = "Grant the app the AuditLog.Read.All (and Directory.Read.All) application permissions with admin consent; reading sign-in logs also needs a Microsoft Entra ID P1 or P2 licence.";
