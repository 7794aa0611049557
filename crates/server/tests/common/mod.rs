//! The service's state over a store as the tests build it: every setting at its
//! default, the intelligence as given; each test then sets the fields it is about.

use std::sync::Arc;

use tocsin_server::{AppState, EnrolmentConfig, HttpConfig};

pub async fn state(store: store::Store, intel: notify::feeds::IntelConfig) -> AppState {
    let intake = Arc::new(
        notify::SignInIntake::new(
            store,
            detect::DetectConfig::default(),
            notify::NotifyConfig::default(),
        )
        .await
        .expect("intake"),
    );
    let analyser = mail::analyse::Analyser::new(&mail::analyse::MailConfig::default())
        .expect("default mail config");
    let mail = Arc::new(notify::MailIntake::new(
        intake.store().clone(),
        Arc::new(analyser),
        mail::parse::Limits::default(),
        notify::NotifyConfig::default(),
        intake.outbox_wake(),
        Arc::clone(intake.intel()),
    ));
    let intel = Arc::new(
        notify::feeds::Intelligence::open(
            intake.store().clone(),
            intel,
            Arc::clone(&intake),
            Arc::clone(&mail),
        )
        .await
        .expect("intelligence"),
    );
    AppState {
        intake,
        mail,
        enricher: Arc::new(enrich::Enricher::disabled()),
        http: HttpConfig::default(),
        journal_domain: None,
        allow_private_webhooks: false,
        enrolment: EnrolmentConfig::default(),
        intel,
        connectors: tocsin_server::ConnectorAccess {
            key: store::ConnectorKey::from_hex(&"5a".repeat(32)).expect("key"),
            allow_http: true,
            wake: None,
        },
    }
}
