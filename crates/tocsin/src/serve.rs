//! `tocsin serve`: the store, the intake pipeline, the outbox worker and the HTTP API in
//! one process.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;

/// A running service; dropping it does not stop it, [`Service::shutdown`] does.
pub struct Service {
    pub address: std::net::SocketAddr,
    pub intake: Arc<notify::SignInIntake>,
    /// Where the `[smtp]` journal listener accepts mail, when it is on.
    pub smtp_address: Option<std::net::SocketAddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    smtp_stop: Option<tokio::sync::oneshot::Sender<()>>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    outbox: tokio::task::JoinHandle<Result<(), store::StoreError>>,
    recheck: tokio::task::JoinHandle<()>,
    /// Sends held notifications (batched updates, digests, quiet hours) when due.
    policy: tokio::task::JoinHandle<Result<(), store::StoreError>>,
    /// Pulls threat-intelligence feeds and hunts through stored events for what they bring.
    intel_tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The `[syslog]` listener, when it is on.
    pub syslog: Option<connect::syslog::SyslogListener>,
    /// The `[tail]` file follower, when it has files.
    tail: Option<connect::tail::FileTail>,
    /// The organisations' pull connectors (Graph, Okta, Google), when `[connectors]` is on.
    pulls: Option<connect::pull::Pulls>,
}

impl Service {
    /// Opens the store, rebuilds detector state and starts listening.
    pub async fn start(config: Config) -> anyhow::Result<Service> {
        config.validate()?;
        // Opened before the store so that a wrong database path fails the start at once,
        // before anything is listening.
        let enricher = open_enricher(&config.enrich)?;
        // Said even when off, so that an operator who expected countries sees why.
        log_enrichment(&enricher);
        let store = store::Store::open(&config.data_dir)
            .await
            .with_context(|| {
                format!(
                    "cannot open the data directory {}",
                    config.data_dir.display()
                )
            })?;
        let intake =
            notify::SignInIntake::new(store.clone(), config.detect.clone(), config.notify.clone())
                .await
                .context("cannot rebuild detector state from the store")?;
        let intake = Arc::new(intake);
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
        let policy = tokio::spawn(notify::lifecycle::run_forever(
            store.clone(),
            config.notify.clone(),
            Arc::new(tokio::sync::Notify::new()),
            intake.outbox_wake(),
        ));
        let outbox = tokio::spawn(notify::outbox::deliver_forever(
            store,
            config.notify.webhook.clone(),
            mailer,
            intake.outbox_wake(),
        ));
        let recheck = tokio::spawn(server::recheck_domains_forever(
            intake.store().clone(),
            config.enrolment.clone(),
        ));
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
        let http = tokio::spawn(server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Ok(Service {
            address,
            intake,
            smtp_address,
            stop,
            smtp_stop,
            http,
            outbox,
            recheck,
            policy,
            intel_tasks,
            syslog,
            tail,
            pulls,
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
        self.outbox.abort();
        self.recheck.abort();
        for task in &self.intel_tasks {
            task.abort();
        }
        self.policy.abort();
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

pub async fn run(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let service = Service::start(config).await?;
    // Scripts and tests read this line to find the port when they asked for port 0.
    println!("tocsin listening on http://{}", service.address);
    if let Some(smtp) = service.smtp_address {
        println!("tocsin accepting journaled mail on smtp://{smtp}");
    }
    tracing::info!(
        address = %service.address,
        data_dir = %data_dir.display(),
        "Service started. Create an operator key with `tocsin operator-key --data-dir {}`.",
        data_dir.display()
    );
    let mut service = service;
    tokio::select! {
        () = shutdown_signal() => {}
        // The worker only returns on a store failure; a service that cannot deliver
        // notifications must not pretend to run.
        result = &mut service.outbox => {
            let cause = match result {
                Ok(Ok(())) => "stopped".to_owned(),
                Ok(Err(error)) => error.to_string(),
                Err(error) => error.to_string(),
            };
            anyhow::bail!("the notification worker failed: {cause}");
        }
        result = &mut service.policy => {
            let cause = match result {
                Ok(Ok(())) => "stopped".to_owned(),
                Ok(Err(error)) => error.to_string(),
                Err(error) => error.to_string(),
            };
            anyhow::bail!("the notification policy ticker failed: {cause}");
        }
    }
    tracing::info!("Shutting down.");
    service.shutdown().await
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
