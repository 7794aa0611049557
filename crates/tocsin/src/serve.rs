//! `tocsin serve`: the store, the intake pipeline, the outbox worker and the HTTP API in
//! one process (`--role all`), or one role of a scaled-out deployment: `ingest` (the HTTP
//! API, connectors and listeners, publishing sign-ins to NATS JetStream), `detect` (the
//! detector workers) or `notify` (delivery, the notification policy, retention).

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::Config;

/// What this process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything, in one process, without NATS: the embedded deployment.
    All,
    /// The HTTP API and dashboard, connectors, syslog, file tail and SMTP journal;
    /// sign-ins are published to JetStream for the detector workers.
    Ingest,
    /// Detector workers: leased partitions of the JetStream stages.
    Detect,
    /// Notification delivery (webhooks, e-mail), the notification policy's ticker and
    /// event retention.
    Notify,
}

/// A running service; dropping it does not stop it, [`Service::shutdown`] does.
pub struct Service {
    pub address: std::net::SocketAddr,
    pub intake: Arc<notify::SignInIntake>,
    /// Where the `[smtp]` journal listener accepts mail, when it is on.
    pub smtp_address: Option<std::net::SocketAddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    smtp_stop: Option<tokio::sync::oneshot::Sender<()>>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Delivery runs here in role all; role ingest leaves it to the notify role.
    outbox: Option<Worker>,
    recheck: tokio::task::JoinHandle<()>,
    /// Reads the organisations' SPF, DKIM and DMARC records and keeps settled scorecard
    /// weeks; in the process that delivers, so that a scaled deployment does it once.
    scorecards: Option<tokio::task::JoinHandle<()>>,
    /// Sends held notifications (batched updates, digests, quiet hours) when due.
    policy: Option<Worker>,
    /// Pulls threat-intelligence feeds and hunts through stored events for what they bring.
    intel_tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The `[syslog]` listener, when it is on.
    pub syslog: Option<connect::syslog::SyslogListener>,
    /// The `[tail]` file follower, when it has files.
    tail: Option<connect::tail::FileTail>,
    /// The organisations' pull connectors (Graph, Okta, Google), when `[connectors]` is on.
    pulls: Option<connect::pull::Pulls>,
    /// Deletes events past the `[store]` horizon (role all).
    retention: Option<tokio::task::JoinHandle<()>>,
    /// Tells the notify role over NATS what this process queued (role ingest).
    wake_relay: Option<tokio::task::JoinHandle<()>>,
}

impl Service {
    /// Opens the store, rebuilds detector state and starts listening: role all. In role
    /// ingest (`publish_to` set) sign-ins go to the stream and nothing is delivered here.
    pub async fn start(config: Config) -> anyhow::Result<Service> {
        Service::start_as(config, None).await
    }

    pub async fn start_as(
        config: Config,
        publish_to: Option<pipeline::Pipeline>,
    ) -> anyhow::Result<Service> {
        config.validate()?;
        // Opened before the store so that a wrong database path fails the start at once,
        // before anything is listening.
        let enricher = open_enricher(&config.enrich)?;
        // Said even when off, so that an operator who expected countries sees why.
        log_enrichment(&enricher);
        let store = open_store(&config).await?;
        let intake = match &publish_to {
            None => notify::SignInIntake::new(
                store.clone(),
                config.detect.clone(),
                config.notify.clone(),
            )
            .await
            .context("cannot rebuild detector state from the store")?,
            Some(pipeline) => notify::SignInIntake::publishing(
                store.clone(),
                config.detect.clone(),
                config.notify.clone(),
                Arc::new(pipeline::Publisher::new(pipeline.clone())),
            ),
        };
        let intake = Arc::new(intake);
        let delivers = publish_to.is_none();
        let analyser =
            mail::analyse::Analyser::new(&config.mail).context("the [mail] section is invalid")?;
        let mail_intake = Arc::new(notify::MailIntake::new(
            store.clone(),
            Arc::new(analyser),
            config.mail.limits.clone(),
            config.notify.clone(),
            intake.outbox_wake(),
            Arc::clone(intake.intel()),
        ));
        let intel = Arc::new(
            notify::feeds::Intelligence::open(
                store.clone(),
                config.intel.clone(),
                Arc::clone(&intake),
                Arc::clone(&mail_intake),
            )
            .await
            .context("cannot load the stored threat intelligence")?,
        );
        let intel_tasks = intel.start();
        let (smtp_address, smtp_stop) =
            start_journal(&config.smtp, store.clone(), Arc::clone(&mail_intake)).await?;
        let mailer = notify::email::Mailer::new(&config.notify.email)
            .context("the [notify.email] section is invalid")?
            .map(Arc::new);
        if let Some(mailer) = &mailer {
            tracing::info!(?mailer, "E-mail notifications on.");
        }
        // In role ingest, what this process queues itself (phishing, state changes,
        // connector failures) wakes the notify role.
        let wake_relay = publish_to.clone().map(|pipeline| {
            let wake = intake.outbox_wake();
            tokio::spawn(async move {
                loop {
                    wake.notified().await;
                    pipeline.wake_notifier().await;
                }
            })
        });
        let (policy, outbox, retention) = if delivers {
            let (policy, outbox) = start_delivery(&config, &store, mailer, intake.outbox_wake());
            (
                Some(policy),
                Some(outbox),
                Some(tokio::spawn(retention_forever(
                    store.clone(),
                    config.store.clone(),
                ))),
            )
        } else {
            (None, None, None)
        };
        let recheck = tokio::spawn(server::recheck_domains_forever(
            intake.store().clone(),
            config.enrolment.clone(),
        ));
        let scorecards = delivers.then(|| {
            tokio::spawn(server::scorecard::keep_scorecards_forever(
                intake.store().clone(),
                config.enrolment.clone(),
            ))
        });
        let enricher = Arc::new(enricher);
        // Telemetry that arrives by itself: syslog from the organisations' hosts, and log
        // files on this machine.
        let syslog = if config.syslog.udp.is_some() || config.syslog.tcp.is_some() {
            let listener = connect::syslog::SyslogListener::start_enriched(
                config.syslog.clone(),
                Arc::clone(&intake),
                Arc::clone(&enricher),
            )
            .await
            .context("cannot start the [syslog] listener")?;
            tracing::info!(
                udp = ?listener.udp_address(),
                tcp = ?listener.tcp_address(),
                "Syslog listener on."
            );
            Some(listener)
        } else {
            None
        };
        let tail = if config.tail.files.is_empty() {
            None
        } else {
            Some(
                connect::tail::FileTail::start(
                    config.tail.clone(),
                    Arc::clone(&intake),
                    intake.store().clone(),
                )
                .await
                .context("cannot start following the [tail] files")?,
            )
        };
        let connector_key = config.connectors.key(intake.store()).context(
            "cannot read the connector key ([connectors] key_file or TOCSIN_CONNECTOR_KEY)",
        )?;
        let pulls = if config.connectors.enabled {
            Some(
                connect::pull::Pulls::start(
                    config.connectors.clone(),
                    Arc::clone(&intake),
                    Arc::clone(&enricher),
                    connector_key.clone(),
                )
                .map_err(|e| anyhow::anyhow!(e.message().to_owned()))
                .context("cannot start the pull connectors")?,
            )
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}; is another service using it? Choose another with --listen", config.http.listen))?;
        let address = listener.local_addr()?;
        let mut http = config.http.clone();
        // Links in mail point where the service listens unless a public URL (a proxy's)
        // was set: the default one names the default listen address.
        let default = server::HttpConfig::default();
        if http.public_url == default.public_url && address != default.listen {
            http.public_url = format!("http://{address}");
        }
        let state = server::AppState {
            intake: Arc::clone(&intake),
            mail: mail_intake,
            journal_domain: smtp_address.map(|_| config.smtp.hostname.clone()),
            enricher: Arc::clone(&enricher),
            http,
            allow_private_webhooks: config.notify.webhook.allow_private_targets,
            enrolment: config.enrolment.clone(),
            intel,
            connectors: server::ConnectorAccess {
                key: connector_key,
                allow_http: config.connectors.allow_http,
                wake: pulls.as_ref().map(connect::pull::Pulls::waker),
            },
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let scrape = Scrape {
            store: intake.store().clone(),
            pipeline: publish_to,
        };
        let http = tokio::spawn(server::serve_with(
            listener,
            state,
            metrics_routes(scrape),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Service {
            address,
            intake,
            smtp_address,
            stop,
            smtp_stop,
            http,
            outbox,
            recheck,
            scorecards,
            policy,
            intel_tasks,
            syslog,
            tail,
            pulls,
            retention,
            wake_relay,
        })
    }

    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        if let Some(stop) = self.smtp_stop {
            let _ = stop.send(());
        }
        self.http.await.context("the HTTP server panicked")??;
        // What the connectors hold is committed before the store closes.
        if let Some(syslog) = self.syslog {
            syslog.stop().await;
        }
        if let Some(tail) = self.tail {
            tail.stop().await.context("stopping the [tail] connector")?;
        }
        if let Some(pulls) = self.pulls {
            pulls.stop().await;
        }
        for task in [self.outbox, self.policy].into_iter().flatten() {
            task.abort();
        }
        for task in [self.retention, self.wake_relay].into_iter().flatten() {
            task.abort();
        }
        self.recheck.abort();
        if let Some(scorecards) = &self.scorecards {
            scorecards.abort();
        }
        for task in &self.intel_tasks {
            task.abort();
        }
        self.intake.store().close().await;
        Ok(())
    }
}

/// Starts the `[smtp]` journal listener when it is configured.
async fn start_journal(
    config: &crate::journal::SmtpConfig,
    store: store::Store,
    mail: Arc<notify::MailIntake>,
) -> anyhow::Result<(
    Option<std::net::SocketAddr>,
    Option<tokio::sync::oneshot::Sender<()>>,
)> {
    let Some(address) = config.address()? else {
        return Ok((None, None));
    };
    let listener_config = config.listener()?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for journaled mail on {address} (smtp.listen)"))?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sink = Arc::new(crate::journal::ServiceJournal { store, mail });
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = smtp::serve(listener, listener_config, sink, shutdown).await {
            tracing::error!(%error, "The journal listener stopped.");
        }
    });
    tracing::info!(%address, "Accepting journaled mail (SMTP{}).", if config.lmtp { "/LMTP" } else { "" });
    Ok((Some(address), Some(stop)))
}

/// Opens the databases of the `[enrich]` section.
pub(crate) fn open_enricher(config: &enrich::EnrichConfig) -> anyhow::Result<enrich::Enricher> {
    enrich::Enricher::open(config).context("cannot open the databases of [enrich]")
}

/// Logs which databases enrich sign-ins, as a sentence.
pub(crate) fn log_enrichment(enricher: &enrich::Enricher) {
    let line = enricher.describe();
    let mut chars = line.chars();
    let sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => line,
    };
    tracing::info!("{sentence}.");
}

pub async fn run(config: Config, role: Role) -> anyhow::Result<()> {
    install_metrics()?;
    match role {
        Role::All => run_service(config, None).await,
        Role::Ingest => {
            config.validate()?;
            let pipeline = connect_pipeline(&config).await?;
            run_service(config, Some(pipeline)).await
        }
        Role::Detect => run_detect(config).await,
        Role::Notify => run_notify(config).await,
    }
}

async fn run_service(config: Config, publish_to: Option<pipeline::Pipeline>) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let role = if publish_to.is_some() {
        "ingest"
    } else {
        "all"
    };
    let service = Service::start_as(config, publish_to).await?;
    // Scripts and tests read this line to find the port when they asked for port 0.
    println!("tocsin listening on http://{}", service.address);
    if let Some(smtp) = service.smtp_address {
        println!("tocsin accepting journaled mail on smtp://{smtp}");
    }
    tracing::info!(
        address = %service.address,
        role,
        data_dir = %data_dir.display(),
        "Service started. Create an operator key with `tocsin operator-key --data-dir {}`.",
        data_dir.display()
    );
    let mut service = service;
    let outbox = async {
        match service.outbox.as_mut() {
            Some(task) => task.await,
            None => std::future::pending().await,
        }
    };
    let policy = async {
        match service.policy.as_mut() {
            Some(task) => task.await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = shutdown_signal() => {}
        // The worker only returns on a store failure; a service that cannot deliver
        // notifications must not pretend to run.
        result = outbox => {
            anyhow::bail!("the notification worker failed: {}", ended(result));
        }
        result = policy => {
            anyhow::bail!("the notification policy ticker failed: {}", ended(result));
        }
    }
    tracing::info!("Shutting down.");
    service.shutdown().await
}

fn ended(result: Result<Result<(), store::StoreError>, tokio::task::JoinError>) -> String {
    match result {
        Ok(Ok(())) => "stopped".to_owned(),
        Ok(Err(error)) => error.to_string(),
        Err(error) => error.to_string(),
    }
}

/// `--role detect`: this process's share of every stage's partitions, until a signal.
async fn run_detect(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let store = open_store(&config).await?;
    let pipeline = connect_pipeline(&config).await?;
    let intake = Arc::new(notify::SignInIntake::for_workers(
        store.clone(),
        config.detect.clone(),
        config.notify.clone(),
    ));
    // Indicators are matched by the organisation stage: load them, and follow what the
    // ingest role's feed pulls bring.
    notify::feeds::reload(&store, intake.intel())
        .await
        .context("cannot load the stored threat intelligence")?;
    let intel = tokio::spawn({
        let store = store.clone();
        let live = Arc::clone(intake.intel());
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                if let Err(error) = notify::feeds::reload(&store, &live).await {
                    tracing::warn!(%error, "Reloading the threat intelligence failed.");
                }
            }
        }
    });
    let owner = worker_name();
    let workers = pipeline::Workers::start(
        pipeline.clone(),
        Arc::clone(&intake),
        config.detect.clone(),
        owner.clone(),
    );
    let (address, http) = serve_metrics(
        &config,
        Scrape {
            store: store.clone(),
            pipeline: Some(pipeline),
        },
    )
    .await?;
    println!("tocsin detect worker {owner}; metrics on http://{address}/metrics");
    tracing::info!(%address, owner, "Detector worker started.");
    shutdown_signal().await;
    tracing::info!("Shutting down: finishing batches and giving the partitions up.");
    workers.stop().await;
    intel.abort();
    http.abort();
    store.close().await;
    Ok(())
}

/// `--role notify`: delivery, the notification policy and retention, until a signal.
async fn run_notify(config: Config) -> anyhow::Result<()> {
    config.validate()?;
    let store = open_store(&config).await?;
    let mailer = notify::email::Mailer::new(&config.notify.email)
        .context("the [notify.email] section is invalid")?
        .map(Arc::new);
    // The detector workers say on NATS when they queued notifications; the outbox
    // worker also polls, for the wake-ups a restart misses.
    let wake = Arc::new(tokio::sync::Notify::new());
    let pipeline = connect_pipeline(&config).await?;
    let wakes = tokio::spawn({
        let wake = Arc::clone(&wake);
        async move {
            if let Err(error) = pipeline.forward_wakes(wake).await {
                tracing::warn!(%error, "No wake-ups from the detector workers; delivery polls.");
            }
        }
    });
    let (mut policy, mut outbox) = start_delivery(&config, &store, mailer, wake);
    let retention = tokio::spawn(retention_forever(store.clone(), config.store.clone()));
    let scorecards = tokio::spawn(server::scorecard::keep_scorecards_forever(
        store.clone(),
        config.enrolment.clone(),
    ));
    let (address, http) = serve_metrics(
        &config,
        Scrape {
            store: store.clone(),
            pipeline: None,
        },
    )
    .await?;
    println!("tocsin notify; metrics on http://{address}/metrics");
    let outcome = tokio::select! {
        () = shutdown_signal() => Ok(()),
        result = &mut outbox => Err(anyhow::anyhow!("the notification worker failed: {}", ended(result))),
        result = &mut policy => Err(anyhow::anyhow!("the notification policy ticker failed: {}", ended(result))),
    };
    for task in [policy, outbox] {
        task.abort();
    }
    wakes.abort();
    retention.abort();
    scorecards.abort();
    http.abort();
    store.close().await;
    outcome
}

/// A background task that returns only when the store fails.
type Worker = tokio::task::JoinHandle<Result<(), store::StoreError>>;

fn start_delivery(
    config: &Config,
    store: &store::Store,
    mailer: Option<Arc<notify::email::Mailer>>,
    wake: Arc<tokio::sync::Notify>,
) -> (Worker, Worker) {
    let policy = tokio::spawn(notify::lifecycle::run_forever(
        store.clone(),
        config.notify.clone(),
        Arc::new(tokio::sync::Notify::new()),
        Arc::clone(&wake),
    ));
    let outbox = tokio::spawn(notify::outbox::deliver_forever(
        store.clone(),
        config.notify.webhook.clone(),
        mailer,
        wake,
    ));
    (policy, outbox)
}

/// Opens the store `[store]` names, with what to do when it cannot.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<store::Store> {
    store::Store::connect(config.store.url(), &config.data_dir)
        .await
        .with_context(|| match config.store.url() {
            Some(_) => format!(
                "cannot open the store at [store] url (is PostgreSQL running, does the database \
                 exist, may this user create tables?); master.key is read from {}",
                config.data_dir.display()
            ),
            None => format!(
                "cannot open the data directory {}",
                config.data_dir.display()
            ),
        })
}

async fn connect_pipeline(config: &Config) -> anyhow::Result<pipeline::Pipeline> {
    pipeline::Pipeline::connect(&config.pipeline)
        .await
        .context("cannot set up the JetStream stream of [pipeline]; is NATS running with JetStream (nats-server -js)?")
}

/// A name for this process in partition leases: host, process id, start time.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "tocsin".into());
    // The start's nanoseconds tell apart two processes that reuse one process id (a
    // restarted container).
    let start = jiff::Timestamp::now().subsec_nanosecond() & 0xff_ffff;
    format!("{host}-{}-{start:06x}", std::process::id())
}

/// Deletes events past the `[store]` horizon every hour (the first pass an hour after
/// start, so that a restart loop does not turn into a deletion loop).
async fn retention_forever(store: store::Store, config: store::StoreConfig) {
    if config.retention_days == 0 {
        return;
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        let horizon = jiff::SignedDuration::from_hours(24 * i64::from(config.retention_days));
        let before = jiff::Timestamp::now()
            .checked_sub(horizon)
            .unwrap_or(jiff::Timestamp::MIN);
        match store
            .delete_events_before(before.as_microsecond(), config.retention_batch)
            .await
        {
            Ok(deleted) => {
                metrics::counter!("tocsin_retention_deleted_total", "table" => "signins")
                    .increment(deleted.sign_ins);
                metrics::counter!("tocsin_retention_deleted_total", "table" => "mails")
                    .increment(deleted.mails);
                tracing::info!(sign_ins = deleted.sign_ins, mails = deleted.mails, %before, "Retention pass done.");
            }
            Err(error) => tracing::warn!(%error, "Retention pass failed; retrying in an hour."),
        }
    }
}

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder once per process.
fn install_metrics() -> anyhow::Result<()> {
    if METRICS.get().is_none() {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .context("cannot install the metrics recorder")?;
        let _ = METRICS.set(handle);
    }
    Ok(())
}

/// What a scrape reads besides the counters: gauges that are a query.
#[derive(Clone)]
struct Scrape {
    store: store::Store,
    pipeline: Option<pipeline::Pipeline>,
}

/// `/metrics` (Prometheus text); the API serves `/healthz` itself.
fn metrics_routes(scrape: Scrape) -> axum::Router {
    use axum::routing::get;
    axum::Router::new().route(
        "/metrics",
        get(move || {
            let scrape = scrape.clone();
            async move { render_metrics(&scrape).await }
        }),
    )
}

async fn render_metrics(scrape: &Scrape) -> String {
    if let Ok(counts) = scrape.store.outbox_counts().await {
        metrics::gauge!("tocsin_outbox_depth", "state" => "pending").set(counts.pending as f64);
        metrics::gauge!("tocsin_outbox_depth", "state" => "dead").set(counts.dead as f64);
    }
    if let Some(pipeline) = &scrape.pipeline
        && let Ok(backlog) = pipeline.backlog().await
    {
        metrics::gauge!("tocsin_pipeline_backlog_events").set(backlog as f64);
    }
    METRICS
        .get()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

async fn serve_metrics(
    config: &Config,
    scrape: Scrape,
) -> anyhow::Result<(
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for /metrics; choose another with --listen",
                config.http.listen
            )
        })?;
    let address = listener.local_addr()?;
    // The roles without the API answer health checks here.
    let router = metrics_routes(scrape).route("/healthz", axum::routing::get(|| async { "ok\n" }));
    Ok((
        address,
        tokio::spawn(async move { axum::serve(listener, router).await }),
    ))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
