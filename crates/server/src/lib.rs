//! The HTTP API of tocsin: enrolment of organisations, sign-in intake and incidents.
//!
//! This crate is the only one that knows HTTP. It authenticates every request to a
//! [`store::Principal`] and takes the organisation a request acts for from the key, never
//! from the request, so an organisation's key reaches only its own data. Handlers are
//! thin: parsing is `ingest`'s, the pipeline is `notify`'s, SQL is `store`'s.

mod auth;
mod channels;
mod config;
mod connectors;
mod dashboard;
pub mod dns;
mod enrolment;
mod error;
mod intel;
mod lifecycle;
mod people;
mod personal;
mod routes;
pub mod scorecard;
mod throttle;

use std::sync::Arc;

use axum::Router;

pub use auth::{Actor, Operator, OrgAdmin, OrgKey, OrgReader};
pub use config::{AccountsConfig, HttpConfig};
pub use connectors::ConnectorAccess;
pub use enrolment::{EnrolmentConfig, Recheck, recheck_domains, recheck_domains_forever};
pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub intake: Arc<notify::SignInIntake>,
    /// Judges uploaded mail and opens phishing incidents.
    pub mail: Arc<notify::MailIntake>,
    /// Adds country and ASN to sign-ins as they arrive, before they are stored and
    /// detected on; [`enrich::Enricher::disabled`] when no database is configured.
    pub enricher: Arc<enrich::Enricher>,
    pub http: HttpConfig,
    /// The domain of journal addresses when the SMTP journal listener is on.
    pub journal_domain: Option<String>,
    /// Whether organisations may point webhooks at internal addresses.
    pub allow_private_webhooks: bool,
    /// Who may apply, the bounds on open applications, and the DNS used to prove domains.
    pub enrolment: EnrolmentConfig,
    /// The operator's threat intelligence: feeds, the live index, retro-hunts.
    pub intel: Arc<notify::feeds::Intelligence>,
    /// Sealing and scheme rules for pull connectors, and the waker of the running ones.
    pub connectors: ConnectorAccess,
}

impl AppState {
    fn store(&self) -> &store::Store {
        self.intake.store()
    }
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// Serves the router and `extra` (the binary's `/metrics`) on `listener` until
/// `shutdown` completes.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    extra: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state)
            .merge(extra)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client's address feeds the sign-in throttle.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
