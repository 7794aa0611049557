//! The `[smtp]` journal listener of `tocsin serve`: Microsoft 365 and Google Workspace
//! forward a copy of every inbound message to it (journaling), and each copy goes through
//! the same mail intake as an upload.
//!
//! An organisation is recognised either by its journal address
//! (`journal-<id>-<token>@…`, the token derived from the master key) or by SMTP AUTH with
//! one of its API keys; a message for neither is refused at `RCPT`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use model::{MailOrigin, OrgId};
use notify::{MailIntake, MailIntakeError};
use smtp::{Envelope, JournalSink, Rejection, Route};
use store::{Principal, Store};

/// The `[smtp]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Address to accept journaled mail on, e.g. "127.0.0.1:2525". Empty: no listener.
    pub listen: String,
    /// Name given in the greeting and in journal addresses.
    pub hostname: String,
    /// Speak LMTP instead of SMTP (behind a local MTA such as Postfix).
    pub lmtp: bool,
    /// Largest message accepted, in bytes; larger ones are refused with 552.
    pub max_message_bytes: u64,
    /// Recipients accepted per message.
    pub max_recipients: usize,
    /// Sessions served at once; more are told to retry (421).
    pub max_sessions: usize,
    /// PEM certificate chain and key for STARTTLS. Both or neither.
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Refuse mail until the client has started TLS.
    pub require_tls: bool,
    /// Allow AUTH without TLS from loopback addresses (a local MTA relaying journal copies).
    pub plaintext_auth_on_loopback: bool,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: String::new(),
            hostname: "tocsin.localhost".into(),
            lmtp: false,
            max_message_bytes: 26_214_400,
            max_recipients: 100,
            max_sessions: 64,
            tls_certificate: None,
            tls_key: None,
            require_tls: false,
            plaintext_auth_on_loopback: true,
        }
    }
}

impl SmtpConfig {
    /// The listener's settings, reading the TLS files if configured.
    pub fn listener(&self) -> anyhow::Result<smtp::ListenerConfig> {
        let mut config = smtp::ListenerConfig::new(self.hostname.clone());
        config.lmtp = self.lmtp;
        config.max_message_bytes = self.max_message_bytes;
        config.max_recipients = self.max_recipients;
        config.max_sessions = self.max_sessions;
        config.require_tls = self.require_tls;
        config.plaintext_auth_on_loopback = self.plaintext_auth_on_loopback;
        config.tls = match (&self.tls_certificate, &self.tls_key) {
            (Some(cert), Some(key)) => {
                let read = |p: &PathBuf| {
                    std::fs::read(p).with_context(|| format!("smtp: cannot read {}", p.display()))
                };
                Some(smtp::tls_config(&read(cert)?, &read(key)?).context("smtp: TLS files")?)
            }
            (None, None) => None,
            _ => anyhow::bail!("smtp: set both tls_certificate and tls_key, or neither"),
        };
        Ok(config)
    }

    pub fn address(&self) -> anyhow::Result<Option<SocketAddr>> {
        if self.listen.trim().is_empty() {
            return Ok(None);
        }
        let address = self
            .listen
            .parse()
            .with_context(|| format!("smtp.listen: `{}` is not an address:port", self.listen))?;
        Ok(Some(address))
    }
}

/// The service's side of the journal listener.
pub struct ServiceJournal {
    pub store: Store,
    pub mail: Arc<MailIntake>,
}

fn route(org: OrgId, name: &str) -> Route {
    Route {
        org,
        name: name.to_owned(),
    }
}

impl JournalSink for ServiceJournal {
    async fn authenticate(&self, _user: &str, password: &str) -> Option<Route> {
        match self.store.authenticate(password).await {
            Ok(Some(Principal::Organisation(org))) => Some(route(org, "api key")),
            _ => None,
        }
    }

    async fn recipient(&self, address: &str, authenticated: Option<&Route>) -> Option<Route> {
        if let Some(org) = notify::mail_intake::journal_org(self.store.master_key(), address) {
            // An authenticated client journals only for its own organisation.
            return match authenticated {
                Some(a) if a.org != org => None,
                _ => Some(route(org, "journal address")),
            };
        }
        authenticated.cloned()
    }

    async fn deliver(&self, envelope: Envelope, raw: Vec<u8>) -> Result<(), Rejection> {
        let mut orgs: Vec<OrgId> = envelope.recipients.iter().map(|r| r.route.org).collect();
        orgs.sort_unstable();
        orgs.dedup();
        for org in orgs {
            let origin = MailOrigin::Smtp {
                smtp: envelope.id.clone(),
                peer: envelope.peer.to_string(),
            };
            match self.mail.accept(org, &raw, origin).await {
                Ok(report) => tracing::info!(
                    org = %org,
                    message = %envelope.id,
                    verdict = %report.analysis.verdict,
                    score = report.analysis.score,
                    "Journaled message judged."
                ),
                Err(MailIntakeError::Unreadable(error)) => {
                    return Err(Rejection::Permanent(error.to_string()));
                }
                Err(MailIntakeError::Store(error)) => {
                    tracing::error!(%error, "Cannot store a journaled message.");
                    return Err(Rejection::Temporary("cannot store the message now".into()));
                }
            }
        }
        Ok(())
    }
}
