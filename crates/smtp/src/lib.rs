//! SMTP and LMTP intake for journaled copies of inbound mail.
//!
//! Microsoft 365 and Google Workspace can forward ("journal") a copy of every message an
//! organisation receives to an outside address. This crate owns the listener that takes
//! those copies: the accept loop and its limits ([`serve`]), the settings
//! ([`ListenerConfig`]), and the seam to the rest of tocsin ([`JournalSink`]), which says who
//! may journal here and takes each accepted message. The protocol itself is in `session`.
//!
//! Choices worth knowing:
//! - **No `Received:` header is added.** The sink gets the message exactly as the client sent
//!   it (after dot-unstuffing); the trace a `Received:` line would carry (peer, HELO name,
//!   TLS, authenticated user, time) is in the [`Envelope`] instead, so the analyser never
//!   mistakes our hop for the sender's infrastructure.
//! - **AUTH is offered only on TLS**, except to loopback peers when
//!   [`ListenerConfig::plaintext_auth_on_loopback`] is set (a relay on the same host, tests).
//!   Elsewhere an `AUTH` on a plain connection is answered `538 5.7.11`.
//! - **CHUNKING (BDAT) is not offered**; journaling clients fall back to `DATA`.
//! - **LMTP** answers the end of `DATA` once per accepted recipient with the one outcome of
//!   [`JournalSink::deliver`]: the message is stored once, for all of its routes.

mod session;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::OrgId;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How the listener behaves. Every limit bounds something a client controls.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// The name the server gives in its greeting and EHLO reply.
    pub hostname: String,
    /// Speak LMTP (RFC 2033: `LHLO`, one reply per recipient after `DATA`) instead of SMTP.
    pub lmtp: bool,
    /// Largest message accepted, advertised as `SIZE`. A bigger `SIZE=` on `MAIL FROM` is
    /// refused at once; a bigger `DATA` is read to its end, discarded and answered `552`.
    pub max_message_bytes: u64,
    /// Recipients per transaction; one more is answered `452`.
    pub max_recipients: usize,
    /// Longest command line, CRLF included; a longer one is discarded and answered `500 5.5.6`.
    pub max_line_bytes: usize,
    /// A session that sends nothing for this long is closed with `421`.
    pub idle_timeout: Duration,
    /// Sessions at once; a connection beyond this is answered `421` and closed.
    pub max_sessions: usize,
    /// Offer STARTTLS with this configuration (see [`tls_config`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Refuse `MAIL FROM` until the session is on TLS.
    pub require_tls: bool,
    /// Refuse `MAIL FROM` until the client has authenticated.
    pub require_auth: bool,
    /// Offer AUTH without TLS to loopback peers.
    pub plaintext_auth_on_loopback: bool,
}

impl ListenerConfig {
    /// Settings that suit a journal intake: 50 MB messages, 100 recipients, 5 minutes idle.
    pub fn new(hostname: impl Into<String>) -> Self {
        ListenerConfig {
            hostname: hostname.into(),
            lmtp: false,
            max_message_bytes: 50 * 1024 * 1024,
            max_recipients: 100,
            max_line_bytes: 4096,
            idle_timeout: Duration::from_secs(300),
            max_sessions: 64,
            tls: None,
            require_tls: false,
            require_auth: false,
            plaintext_auth_on_loopback: false,
        }
    }
}

/// Where journaled mail goes: the organisation it belongs to, and the name (journal address
/// or account) that matched, for logs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub org: OrgId,
    pub name: String,
}

/// A recipient the sink accepted, with the route it gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub address: String,
    pub route: Route,
}

/// Everything the SMTP conversation said about one message, besides its bytes.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// Unique per message: `<session>.<number within the session>`.
    pub id: String,
    /// Unique per connection (time, process and a counter).
    pub session: String,
    pub peer: SocketAddr,
    /// The name given in HELO, EHLO or LHLO.
    pub helo: String,
    /// The reverse path; empty for the null sender `<>`.
    pub mail_from: String,
    pub recipients: Vec<Accepted>,
    /// Whether the message came over TLS.
    pub tls: bool,
    /// The user that authenticated, if any.
    pub authenticated_as: Option<String>,
    /// When the end of the message was read.
    pub received_at: SystemTime,
}

/// Why the sink did not take a message. The reason is shown to the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Try again later: answered `451 4.3.0`.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Do not retry: answered `554 5.6.0`.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// The rest of tocsin, as the listener sees it: who may journal here and what happens to a
/// message once the client has sent it.
pub trait JournalSink: Send + Sync + 'static {
    /// Maps AUTH PLAIN or LOGIN credentials to a route; `None` is answered `535`.
    fn authenticate(
        &self,
        user: &str,
        password: &str,
    ) -> impl Future<Output = Option<Route>> + Send;

    /// Maps a `RCPT TO` address (a journal address such as `journal+<org>@host`) to a route;
    /// `None` is answered `550`. `authenticated` is the route of the session's AUTH, if any.
    fn recipient(
        &self,
        address: &str,
        authenticated: Option<&Route>,
    ) -> impl Future<Output = Option<Route>> + Send;

    /// Takes one message. `Ok` is answered `250` (LMTP: once per recipient) only after this
    /// returns, so a client that gets `250` may forget the message.
    fn deliver(
        &self,
        envelope: Envelope,
        raw: Vec<u8>,
    ) -> impl Future<Output = Result<(), Rejection>> + Send;
}

/// Why a certificate and key could not become a TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("reading PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    #[error("the certificate file holds no certificate")]
    NoCertificate,
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Builds the STARTTLS configuration from a PEM certificate chain and a PEM private key,
/// with the `ring` provider named here so no process-wide default has to be installed.
pub fn tls_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(cert_chain_pem).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(Arc::new(config))
}

/// Accepts sessions on `listener` until `shutdown` completes, then asks every open session
/// to close (`421` at its next read; a delivery under way finishes first) and waits for them.
pub async fn serve<S: JournalSink>(
    listener: TcpListener,
    config: ListenerConfig,
    sink: Arc<S>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_sessions));
    let (stop, stopping) = watch::channel(false);
    let mut sessions = JoinSet::new();
    tracing::info!(address = ?listener.local_addr()?, lmtp = config.lmtp, "mail intake listening");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(ended) = sessions.join_next(), if !sessions.is_empty() => {
                if let Err(error) = ended {
                    tracing::error!(%error, "mail intake session task failed");
                }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(%error, "mail intake accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let id = session_id();
                        sessions.spawn(session::run(
                            stream,
                            peer,
                            id,
                            config.clone(),
                            sink.clone(),
                            stopping.clone(),
                            slot,
                        ));
                    }
                    Err(_) => {
                        tracing::warn!(%peer, "mail intake full; connection refused");
                        // A fresh socket's send buffer is empty, so this does not block; a
                        // task per refusal would let a flood grow without bound.
                        let reply = format!(
                            "421 4.3.2 {} Too many connections, try again later\r\n",
                            config.hostname
                        );
                        let _ = stream.try_write(reply.as_bytes());
                    }
                }
            }
        }
    }
    let _ = stop.send(true);
    while let Some(ended) = sessions.join_next().await {
        if let Err(error) = ended {
            tracing::error!(%error, "mail intake session task failed");
        }
    }
    Ok(())
}

/// A session identifier unique across sessions of this process and across restarts.
fn session_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static STARTED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let started = *STARTED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{started:x}-{:x}-{n:x}", std::process::id())
}
