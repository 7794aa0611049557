//! A TAXII 2.1 client: discovery, an API root's collections, and pulling a collection's
//! objects added since a checkpoint, page by page, through the STIX reader. Also the HTTP
//! client and bounded body reading the MISP feed reader shares.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::stix::{self, Bundle};

/// The media type of every TAXII 2.1 request and response (spec section 1.6.8).
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

#[derive(Debug, thiserror::Error)]
pub enum TaxiiError {
    #[error("{url}: {reason}")]
    Request { url: String, reason: String },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: not a TAXII {what}: {reason}")]
    Format {
        url: String,
        what: &'static str,
        reason: String,
    },
    #[error("{url}: not a URL: {reason}")]
    Url { url: String, reason: String },
    #[error("building the HTTP client: {0}")]
    Client(String),
    #[error("`{0}` is not a collection id")]
    Collection(String),
}

/// Makes ring the process's TLS provider (reqwest is built without a default one) and
/// builds a client that does not follow redirects off the configured server.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("tocsin/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Reads a response body of at most `max` bytes; the reason otherwise.
pub async fn read_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if let Some(length) = response.content_length()
        && length > max as u64
    {
        return Err(format!("{length} bytes is more than the {max} allowed"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(format!("more than the {max} bytes allowed"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// How much one pull may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Objects asked for per page (`limit`); servers may send fewer.
    pub page_size: usize,
    /// Pages per pull; what remains is read by the next pull from the checkpoint.
    pub max_pages: usize,
    /// The largest page body read.
    pub max_page_bytes: usize,
    /// Pages stop once their bodies together reach this; the checkpoint resumes there.
    pub max_pull_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            page_size: 1000,
            max_pages: 100,
            max_page_bytes: 64 << 20,
            max_pull_bytes: 256 << 20,
        }
    }
}

/// The server's discovery resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// An API root's information resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ApiRoot {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub max_content_length: Option<u64>,
}

/// One collection of an API root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Collection {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub can_read: bool,
    pub can_write: bool,
    #[serde(default)]
    pub media_types: Vec<String>,
}

#[derive(Deserialize)]
struct Collections {
    #[serde(default)]
    collections: Vec<Collection>,
}

/// The envelope of a page of objects; every member is optional (an empty result is `{}`).
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    objects: Vec<Value>,
}

/// What one pull of a collection gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pull {
    /// The objects of every page, read as one bundle.
    pub bundle: Bundle,
    /// Pass as `added_after` next time: the `X-TAXII-Date-Added-Last` of the last page
    /// with objects, or the checkpoint given when nothing was added.
    pub checkpoint: Option<String>,
    pub pages: usize,
    pub objects: usize,
    /// False when `max_pages` stopped the pull before the server said there is no more.
    pub complete: bool,
}

/// A client of one TAXII 2.1 API root.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    api_root: url::Url,
    auth: Option<(String, String)>,
    pub limits: Limits,
    /// The feed name put on every indicator.
    pub feed: String,
}

/// Fetches `url` as TAXII JSON; the body and the `X-TAXII-Date-Added-Last` header.
async fn get(
    http: &reqwest::Client,
    auth: Option<&(String, String)>,
    url: &url::Url,
    max: usize,
) -> Result<(Vec<u8>, Option<String>), TaxiiError> {
    let mut request = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, MEDIA_TYPE);
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    let request_error = |reason: String| TaxiiError::Request {
        url: url.to_string(),
        reason,
    };
    let response = request
        .send()
        .await
        .map_err(|e| request_error(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(TaxiiError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let added_last = response
        .headers()
        .get("X-TAXII-Date-Added-Last")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.parse::<jiff::Timestamp>().is_ok())
        .map(str::to_string);
    let body = read_body(response, max).await.map_err(request_error)?;
    Ok((body, added_last))
}

fn parse<T: for<'de> Deserialize<'de>>(
    url: &url::Url,
    what: &'static str,
    body: &[u8],
) -> Result<T, TaxiiError> {
    serde_json::from_slice(body).map_err(|e| TaxiiError::Format {
        url: url.to_string(),
        what,
        reason: e.to_string(),
    })
}

fn parse_url(text: &str) -> Result<url::Url, TaxiiError> {
    let mut url = url::Url::parse(text).map_err(|e| TaxiiError::Url {
        url: text.to_string(),
        reason: e.to_string(),
    })?;
    // Resources are below the root: relative joins need the trailing slash.
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// Reads the server's discovery resource (`<server>/taxii2/`). API roots are returned as
/// absolute URLs, resolved against the server when given relative.
pub async fn discover(
    server: &str,
    auth: Option<(String, String)>,
) -> Result<Discovery, TaxiiError> {
    let http =
        http_client(Duration::from_secs(60)).map_err(|e| TaxiiError::Client(e.to_string()))?;
    let base = parse_url(server)?;
    let url = base.join("taxii2/").map_err(|e| TaxiiError::Url {
        url: server.to_string(),
        reason: e.to_string(),
    })?;
    let (body, _) = get(&http, auth.as_ref(), &url, 1 << 20).await?;
    let mut discovery: Discovery = parse(&url, "discovery resource", &body)?;
    discovery.api_roots.truncate(1000);
    for root in discovery
        .api_roots
        .iter_mut()
        .chain(discovery.default.as_mut())
    {
        if let Ok(absolute) = base.join(root) {
            *root = absolute.to_string();
        }
    }
    Ok(discovery)
}

impl Client {
    /// A client of the API root at `api_root` (e.g. `https://taxii.example/api1/`), with
    /// HTTP basic authentication when `auth` is given.
    pub fn new(
        feed: &str,
        api_root: &str,
        auth: Option<(String, String)>,
    ) -> Result<Client, TaxiiError> {
        Ok(Client {
            http: http_client(Duration::from_secs(60))
                .map_err(|e| TaxiiError::Client(e.to_string()))?,
            api_root: parse_url(api_root)?,
            auth,
            limits: Limits::default(),
            feed: feed.to_string(),
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, TaxiiError> {
        self.api_root.join(path).map_err(|e| TaxiiError::Url {
            url: format!("{}{path}", self.api_root),
            reason: e.to_string(),
        })
    }

    /// The API root's information.
    pub async fn api_root(&self) -> Result<ApiRoot, TaxiiError> {
        let url = self.api_root.clone();
        let (body, _) = get(&self.http, self.auth.as_ref(), &url, 1 << 20).await?;
        parse(&url, "API root", &body)
    }

    /// The collections of the API root.
    pub async fn collections(&self) -> Result<Vec<Collection>, TaxiiError> {
        let url = self.url("collections/")?;
        let (body, _) = get(
            &self.http,
            self.auth.as_ref(),
            &url,
            self.limits.max_page_bytes,
        )
        .await?;
        let mut collections: Collections = parse(&url, "collections resource", &body)?;
        collections.collections.truncate(10_000);
        Ok(collections.collections)
    }

    /// The objects of `collection` added after `added_after` (everything when `None`),
    /// read through the STIX reader. Pages follow `next`; a server that says `more`
    /// without `next` is asked again from the last page's date added.
    pub async fn pull(
        &self,
        collection: &str,
        added_after: Option<&str>,
    ) -> Result<Pull, TaxiiError> {
        // The id becomes a path segment: only the characters ids use.
        if collection.is_empty()
            || collection.len() > 128
            || !collection
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(TaxiiError::Collection(collection.to_string()));
        }
        let objects_url = self.url(&format!("collections/{collection}/objects/"))?;
        let mut asked_after = added_after.map(str::to_string);
        // The newest `X-TAXII-Date-Added-Last` of a page with objects.
        let mut latest: Option<(jiff::Timestamp, String)> =
            added_after.and_then(|after| after.parse().ok().map(|t| (t, after.to_string())));
        let mut next: Option<String> = None;
        let mut objects: Vec<Value> = Vec::new();
        let mut pull = Pull::default();
        let mut bytes = 0usize;
        while pull.pages < self.limits.max_pages
            && objects.len() <= stix::MAX_OBJECTS
            && bytes < self.limits.max_pull_bytes
        {
            let mut url = objects_url.clone();
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("limit", &self.limits.page_size.max(1).to_string());
                if let Some(after) = &asked_after {
                    query.append_pair("added_after", after);
                }
                if let Some(next) = &next {
                    query.append_pair("next", next);
                }
            }
            let (body, added_last) = get(
                &self.http,
                self.auth.as_ref(),
                &url,
                self.limits.max_page_bytes,
            )
            .await?;
            bytes += body.len();
            let envelope: Envelope = parse(&url, "envelope", &body)?;
            pull.pages += 1;
            pull.objects += envelope.objects.len();
            if !envelope.objects.is_empty()
                && let Some(text) = added_last
                && let Ok(at) = text.parse::<jiff::Timestamp>()
                && latest.as_ref().is_none_or(|(held, _)| at > *held)
            {
                latest = Some((at, text));
            }
            objects.extend(envelope.objects);
            if !envelope.more {
                pull.complete = true;
                break;
            }
            match envelope.next {
                Some(token) if token.len() <= 1024 => next = Some(token),
                _ => {
                    // `more` without `next`: ask again from the last date added, unless
                    // that would ask the same question again.
                    let after = latest.as_ref().map(|(_, text)| text.clone());
                    if after.is_none() || after == asked_after {
                        break;
                    }
                    next = None;
                    asked_after = after;
                }
            }
        }
        pull.checkpoint = latest
            .map(|(_, text)| text)
            .or_else(|| added_after.map(str::to_string));
        pull.bundle = stix::read_objects(&self.feed, objects_url.as_str(), objects);
        Ok(pull)
    }
}
