//! Pull connectors: sign-in logs fetched from the identity provider's API on behalf of
//! each organisation that set one up — Microsoft Graph ([`graph`]), Okta ([`okta`]) and
//! Google Workspace ([`google`]).
//!
//! This module owns the loop every connector runs: fetch a page from the saved position,
//! parse its records with `ingest`, commit the sign-ins and the position after them in one
//! transaction (`SignInIntake::accept_up_to`), record the status, and wait. A restart reads
//! the position back and asks for exactly the next page; records fetched twice (windows
//! overlap on purpose, because vendors publish late) are dropped by record id at intake.
//!
//! Failures are of two kinds ([`PullError`]). Transient ones (429, 5xx, the network) are
//! retried after an exponential backoff with jitter, never sooner than the vendor's
//! `Retry-After`. A refused credential puts the connector in the `failed` state and tells
//! the organisation once (a `connector.failed` notification); it keeps retrying slowly,
//! and the first success clears the state so that a later failure is told again.
//!
//! [`Pulls`] runs one task per connector in the store and follows changes: a connector
//! added, changed (its generation moves) or deleted through the API is started, restarted
//! or stopped at the next reconciliation, which [`Pulls::wake`] brings forward.

pub mod google;
pub mod graph;
mod http;
pub mod okta;
mod window;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ingest::{LineParser, ParseOptions, Parsed};
use jiff::{SignedDuration, Timestamp};
use model::{OrgId, Origin, SignIn};
use notify::SignInIntake;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use store::{Connector, ConnectorKey, PullState, Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use http::PullError;

/// How pull connectors behave; the `[connectors]` section of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PullConfig {
    /// Whether the connectors organisations set up are run by this instance. Default: true.
    pub enabled: bool,
    /// A file holding the 64 hex digits of the key credentials are sealed with. The
    /// environment variable `TOCSIN_CONNECTOR_KEY` takes precedence. With neither, a key
    /// derived from the data directory's `master.key` is used. Default: none.
    pub key_file: Option<PathBuf>,
    /// How long to wait after the newest page before asking again. Default: 1 min.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub poll_every: SignedDuration,
    /// How far back a new connector starts. Default: 7 days.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub lookback: SignedDuration,
    /// How far each window reaches back before the newest event already seen, because
    /// Graph and Google publish sign-ins minutes late, not always in order; what is
    /// fetched twice is dropped by record id. Default: 15 min.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub overlap: SignedDuration,
    /// Records asked for per page (Graph, Okta and Google all allow 1000). Default: 1000.
    pub page_size: u32,
    /// The first wait after a failure; it doubles with each failure in a row, with
    /// jitter. Default: 2 s.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub backoff_base: SignedDuration,
    /// The longest wait between attempts, also for a refused credential. Default: 15 min.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub max_backoff: SignedDuration,
    /// How long one request may take. Default: 60 s.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub request_timeout: SignedDuration,
    /// The largest answer read. Default: 64 MiB.
    pub max_response_bytes: usize,
    /// Whether connectors may use `http://` endpoints (tests and labs only: the
    /// credential would cross the network in clear). Default: false.
    pub allow_http: bool,
    /// How often the connectors in the store are compared with the running ones (changes
    /// through the API are picked up at once). Default: 30 s.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub reconcile_every: SignedDuration,
}

impl Default for PullConfig {
    fn default() -> Self {
        PullConfig {
            enabled: true,
            key_file: None,
            poll_every: SignedDuration::from_mins(1),
            lookback: SignedDuration::from_hours(7 * 24),
            overlap: SignedDuration::from_mins(15),
            page_size: 1000,
            backoff_base: SignedDuration::from_secs(2),
            max_backoff: SignedDuration::from_mins(15),
            request_timeout: SignedDuration::from_secs(60),
            max_response_bytes: 64 * 1024 * 1024,
            allow_http: false,
            reconcile_every: SignedDuration::from_secs(30),
        }
    }
}

fn std_duration(d: SignedDuration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// The environment variable that holds the connector key.
pub const KEY_VARIABLE: &str = "TOCSIN_CONNECTOR_KEY";

impl PullConfig {
    /// The key credentials are sealed with: `TOCSIN_CONNECTOR_KEY`, else `key_file`, else
    /// derived from the store's master key.
    pub fn key(&self, store: &Store) -> Result<ConnectorKey, StoreError> {
        if let Ok(hex) = std::env::var(KEY_VARIABLE) {
            return ConnectorKey::from_hex(&hex)
                .map_err(|e| StoreError::Invalid(format!("{KEY_VARIABLE}: {e}")));
        }
        if let Some(path) = &self.key_file {
            let text = std::fs::read_to_string(path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            return ConnectorKey::from_hex(&text)
                .map_err(|e| StoreError::Invalid(format!("{}: {e}", path.display())));
        }
        Ok(ConnectorKey::derived_from(store.master_key()))
    }
}

/// What a connector pulls from, as an organisation sets it up (without the credential).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Settings {
    Graph(graph::GraphSettings),
    Okta(okta::OktaSettings),
    Google(google::GoogleSettings),
}

impl Settings {
    pub fn kind(&self) -> &'static str {
        match self {
            Settings::Graph(_) => "graph",
            Settings::Okta(_) => "okta",
            Settings::Google(_) => "google",
        }
    }

    /// Checks the settings and, when given, the credential, before they are stored: the
    /// reason in words otherwise.
    pub fn check(&self, secret: Option<&str>, allow_http: bool) -> Result<(), String> {
        match self {
            Settings::Graph(s) => s.check(secret, allow_http),
            Settings::Okta(s) => s.check(secret, allow_http),
            Settings::Google(s) => s.check(secret, allow_http),
        }
    }
}

/// The name rule for connectors: what the API accepts in its path.
pub fn is_connector_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An endpoint URL from the settings, with the scheme rule applied.
pub(crate) fn endpoint(text: &str, what: &str, allow_http: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{what} {text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(format!("{what} must be an https:// URL, not {text:?}")),
    }
    if url.host_str().is_none() {
        return Err(format!("{what} {text:?} has no host"));
    }
    Ok(url)
}

/// A page of records and the position just after them.
pub(crate) struct Page {
    /// The records as the vendor sent them, one JSON value each.
    pub records: Vec<Box<RawValue>>,
    /// Where the next page starts: committed with these records.
    pub position: Value,
    /// Whether the next page can be asked for at once (this one was full or more are
    /// linked) rather than after `poll_every`.
    pub more: bool,
    /// A wait the vendor asked for before the next request (Okta's rate limit).
    pub pause: Option<Duration>,
    /// What to call this page in an origin: the request, for finding a record again.
    pub request: String,
}

/// The newest of the times at `pointer` (a JSON pointer, `/createdDateTime`) in `records`;
/// records without a readable time there are passed over.
pub(crate) fn newest_time(records: &[&RawValue], pointer: &str) -> Option<Timestamp> {
    records
        .iter()
        .filter_map(|record| {
            let value: Value = serde_json::from_str(record.get()).ok()?;
            value.pointer(pointer)?.as_str()?.parse().ok()
        })
        .max()
}

/// One vendor's client, with its credential and token.
enum Source {
    Graph(Box<graph::Graph>),
    Okta(Box<okta::Okta>),
    Google(Box<google::Google>),
}

impl Source {
    fn new(
        settings: Settings,
        secret: String,
        config: &PullConfig,
        client: reqwest::Client,
    ) -> Result<Source, String> {
        Ok(match settings {
            Settings::Graph(s) => {
                Source::Graph(Box::new(graph::Graph::new(s, secret, config, client)?))
            }
            Settings::Okta(s) => {
                Source::Okta(Box::new(okta::Okta::new(s, secret, config, client)?))
            }
            Settings::Google(s) => {
                Source::Google(Box::new(google::Google::new(s, secret, config, client)?))
            }
        })
    }

    async fn next_page(
        &mut self,
        position: Option<&Value>,
        start: Timestamp,
    ) -> Result<Page, PullError> {
        match self {
            Source::Graph(s) => s.next_page(position, start).await,
            Source::Okta(s) => s.next_page(position, start).await,
            Source::Google(s) => s.next_page(position, start).await,
        }
    }
}

/// What the connectors share.
struct Shared {
    config: PullConfig,
    intake: Arc<SignInIntake>,
    enricher: Arc<enrich::Enricher>,
    key: ConnectorKey,
    client: reqwest::Client,
}

/// The running pull connectors.
pub struct Pulls {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Pulls {
    /// Starts running every connector in the store, and follows changes to them. Every
    /// sign-in pulled is located (country, ASN) by `enricher` before it is stored.
    pub fn start(
        config: PullConfig,
        intake: Arc<SignInIntake>,
        enricher: Arc<enrich::Enricher>,
        key: ConnectorKey,
    ) -> Result<Pulls, PullError> {
        let client = intel::taxii::http_client(std_duration(config.request_timeout))
            .map_err(|e| PullError::transient(format!("cannot build the HTTP client: {e}")))?;
        let shared = Arc::new(Shared {
            config,
            intake,
            enricher,
            key,
            client,
        });
        let wake = Arc::new(Notify::new());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(supervise(shared, Arc::clone(&wake), stop_rx));
        Ok(Pulls { wake, stop, task })
    }

    /// What the API calls after a change, so that it takes effect now.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Compares the store with the running connectors now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops every connector: a page being committed is committed, a request in flight
    /// is abandoned (it is asked again after the restart).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Running {
    generation: i64,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

async fn supervise(shared: Arc<Shared>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let mut running: HashMap<(OrgId, String), Running> = HashMap::new();
    let every = std_duration(shared.config.reconcile_every).max(Duration::from_millis(10));
    loop {
        match shared.intake.store().all_connectors().await {
            Ok(connectors) => {
                let wanted: HashMap<(OrgId, String), Connector> = connectors
                    .into_iter()
                    .map(|c| ((c.org, c.name.clone()), c))
                    .collect();
                let gone: Vec<(OrgId, String)> = running
                    .iter()
                    .filter(|(id, run)| {
                        wanted
                            .get(*id)
                            .is_none_or(|c| c.generation != run.generation)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in gone {
                    if let Some(run) = running.remove(&id) {
                        let _ = run.stop.send(true);
                        let _ = run.task.await;
                    }
                }
                for (id, connector) in wanted {
                    if running.contains_key(&id) {
                        continue;
                    }
                    let (tx, rx) = watch::channel(false);
                    let generation = connector.generation;
                    let task = tokio::spawn(run_connector(Arc::clone(&shared), connector, rx));
                    running.insert(
                        id,
                        Running {
                            generation,
                            stop: tx,
                            task,
                        },
                    );
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the connectors from the store"),
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
        }
    }
    for (_, run) in running {
        let _ = run.stop.send(true);
        let _ = run.task.await;
    }
}

/// Sleeps for `duration` unless told to stop first; true when stopped.
async fn pause(duration: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(duration) => *stop.borrow(),
    }
}

/// The wait before attempt `failures + 1`: `base · 2^(failures-1)` capped at `max`, of
/// which a random half is taken away (so that many connectors failing together do not
/// retry together), and never less than the vendor's `Retry-After` (itself capped at an
/// hour).
pub fn backoff(
    failures: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exponent).min(max);
    let jittered = full / 2 + full.mul_f64(fastrand::f64() / 2.0);
    let vendor = retry_after.map_or(Duration::ZERO, |d| d.min(Duration::from_secs(3600)));
    jittered.max(vendor)
}

async fn run_connector(shared: Arc<Shared>, connector: Connector, mut stop: watch::Receiver<bool>) {
    let store = shared.intake.store().clone();
    let (org, name) = (connector.org, connector.name.clone());
    let base = std_duration(shared.config.backoff_base);
    let max = std_duration(shared.config.max_backoff);
    let source = match open_source(&shared, &connector).await {
        Ok(source) => source,
        Err(refusal) => {
            let error = PullError::Refused {
                message: refusal,
                action: "Set the connector up again with a valid configuration and credential."
                    .into(),
            };
            fail_and_notify(&shared, &connector, &error).await;
            // Nothing will change until the connector does; its new generation restarts us.
            let _ = stop.changed().await;
            return;
        }
    };
    let mut source = source;
    let checkpoint = format!("pull:{}:{name}", org.0);
    // The saved position: read again until the store answers (starting over instead
    // would fetch the whole lookback again); an unreadable one is said and started over.
    let mut attempts = 0;
    let mut position: Option<Value> = loop {
        match store.connector_position(org, &name).await {
            Ok(text) => {
                break text.and_then(|t| match serde_json::from_str(&t) {
                    Ok(value) => Some(value),
                    Err(error) => {
                        tracing::warn!(org = org.0, connector = %name, %error, "the saved position is unreadable; starting again from the lookback (what comes twice is dropped by record id)");
                        None
                    }
                });
            }
            Err(error) => {
                attempts += 1;
                tracing::error!(org = org.0, connector = %name, %error, "cannot read the connector's position; trying again");
                if pause(backoff(attempts, base, max, None), &mut stop).await {
                    return;
                }
            }
        }
    };
    let start = Timestamp::now() - shared.config.lookback;
    let mut failures: u32 = 0;
    let mut parser = LineParser::new(ParseOptions::for_year(
        Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year(),
    ));
    loop {
        let page = tokio::select! {
            _ = stop.changed() => return,
            page = source.next_page(position.as_ref(), start) => page,
        };
        let wait = match page {
            Ok(page) => match commit(&shared, &connector, &checkpoint, &mut parser, &page).await {
                Ok(()) => {
                    failures = 0;
                    let pause_for = page.pause.unwrap_or(Duration::ZERO);
                    position = Some(page.position);
                    if page.more {
                        pause_for
                    } else {
                        pause_for.max(std_duration(shared.config.poll_every))
                    }
                }
                Err(error) => {
                    failures += 1;
                    tracing::error!(org = org.0, connector = %name, %error, "cannot commit a page; it is fetched again");
                    backoff(failures, base, max, None)
                }
            },
            Err(error) => {
                failures += 1;
                match &error {
                    PullError::Transient {
                        message,
                        retry_after,
                    } => {
                        tracing::warn!(org = org.0, connector = %name, %message, "pull failed; retrying");
                        if let Err(e) = store
                            .record_pull_error(org, &name, PullState::BackingOff, message)
                            .await
                        {
                            tracing::error!(%e, "cannot record a connector's status");
                        }
                        backoff(failures, base, max, *retry_after)
                    }
                    PullError::Refused { .. } => {
                        fail_and_notify(&shared, &connector, &error).await;
                        backoff(failures, base, max, None).max(max / 2)
                    }
                }
            }
        };
        if pause(wait, &mut stop).await {
            return;
        }
    }
}

async fn open_source(shared: &Shared, connector: &Connector) -> Result<Source, String> {
    let mut object: serde_json::Map<String, Value> = serde_json::from_str(&connector.settings)
        .map_err(|e| format!("the stored settings are unreadable: {e}"))?;
    object.insert("kind".into(), Value::String(connector.kind.clone()));
    let settings: Settings = serde_json::from_value(Value::Object(object))
        .map_err(|e| format!("the stored settings are unreadable: {e}"))?;
    let secret = shared
        .intake
        .store()
        .connector_secret(connector.org, &connector.name, &shared.key)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the connector has no credential".to_owned())?;
    Source::new(settings, secret, &shared.config, shared.client.clone())
}

/// Parses a page's records and commits their sign-ins with the position after them.
async fn commit(
    shared: &Shared,
    connector: &Connector,
    checkpoint: &str,
    parser: &mut LineParser,
    page: &Page,
) -> Result<(), StoreError> {
    let mut sign_ins: Vec<SignIn> = Vec::new();
    let mut rejected = 0u64;
    for (index, record) in page.records.iter().enumerate() {
        let origin = Origin::RequestLine {
            request: format!("{} {}", connector.name, page.request),
            line: index as u64 + 1,
        };
        match parser.parse(record.get(), origin.clone()) {
            Ok(Parsed::SignIns(batch)) => sign_ins.extend(batch),
            Ok(Parsed::Noise | Parsed::OtherEvent { .. }) => {}
            Err(error) => {
                rejected += 1;
                metrics::counter!("tocsin_parse_errors_total", "source" => connector.kind.clone())
                    .increment(1);
                tracing::warn!(org = connector.org.0, %origin, %error, "record not read");
            }
        }
    }
    for sign_in in &mut sign_ins {
        shared.enricher.enrich(sign_in);
    }
    let newest = sign_ins.iter().map(|s| s.time).max();
    let position = page.position.to_string();
    let accepted = shared
        .intake
        .accept_up_to(connector.org, sign_ins, Some((checkpoint, &position)))
        .await?;
    let received = page.records.len() as u64 - accepted.duplicates;
    if rejected > 0 {
        tracing::warn!(org = connector.org.0, connector = %connector.name, rejected, "records of a page could not be read");
    }
    shared
        .intake
        .store()
        .record_pull_success(connector.org, &connector.name, received, newest)
        .await
}

/// Puts the connector in the `failed` state and, the first time since its last success,
/// queues a `connector.failed` notification in the same transaction.
async fn fail_and_notify(shared: &Shared, connector: &Connector, error: &PullError) {
    let (message, action) = match error {
        PullError::Refused { message, action } => (message.as_str(), action.as_str()),
        PullError::Transient { message, .. } => (message.as_str(), ""),
    };
    tracing::error!(org = connector.org.0, connector = %connector.name, %message, "connector failed");
    let result: Result<bool, StoreError> = async {
        let store = shared.intake.store();
        let mut tx = store.begin_intake().await?;
        let first = tx
            .mark_connector_failed(connector.org, &connector.name, message)
            .await?;
        let organisation = tx.organisation(connector.org).await?;
        if first && let Some(organisation) = organisation {
            let channels =
                notify::notice::channels(&mut tx, &shared.intake.config().email, &organisation)
                    .await?;
            let delivery_id = uuid::Uuid::now_v7().to_string();
            let document = notify::notice::connector_failed_document(
                &delivery_id,
                &organisation,
                &connector.name,
                &connector.kind,
                message,
                action,
            );
            notify::notice::queue_document(
                &mut tx,
                &channels,
                &organisation,
                None,
                notify::notice::CONNECTOR_FAILED_EVENT,
                delivery_id,
                document,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(first)
    }
    .await;
    match result {
        Ok(true) => shared.intake.outbox_wake().notify_one(),
        Ok(false) => {}
        Err(error) => tracing::error!(%error, "cannot record a connector's failure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_is_capped_and_honours_retry_after() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        for _ in 0..100 {
            let first = backoff(1, base, max, None);
            assert!(
                first >= Duration::from_secs(1) && first <= base,
                "{first:?}"
            );
            let third = backoff(3, base, max, None);
            assert!(third >= Duration::from_secs(4) && third <= Duration::from_secs(8));
            let many = backoff(40, base, max, None);
            assert!(many >= max / 2 && many <= max);
            let vendor = backoff(1, base, max, Some(Duration::from_secs(30)));
            assert!(vendor >= Duration::from_secs(30));
            let absurd = backoff(1, base, max, Some(Duration::from_secs(86_400)));
            assert_eq!(absurd, Duration::from_secs(3600));
        }
        // Jitter: not every wait is the same.
        let waits: std::collections::HashSet<Duration> =
            (0..50).map(|_| backoff(5, base, max, None)).collect();
        assert!(waits.len() > 1);
    }

    #[test]
    fn connector_names_are_short_plain_words() {
        assert!(is_connector_name("entra-prod_1"));
        assert!(!is_connector_name(""));
        assert!(!is_connector_name("a/b"));
        assert!(!is_connector_name(&"x".repeat(65)));
    }
}
