//! The syslog listener: RFC 3164 / RFC 5424 messages over UDP (one per datagram) and TCP
//! (RFC 6587 framing), from hosts mapped to organisations, parsed by `ingest` and
//! committed through the intake in batches per organisation.
//!
//! Socket tasks frame messages and hand them over a bounded channel to one committer,
//! which owns a parser per sending host and the batches. While a batch commits, the
//! channel fills and the socket readers wait: a TCP sender is slowed down rather than
//! dropped. A UDP sender cannot be slowed; its datagrams wait in the kernel's buffer.

mod framing;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ingest::{LineParser, ParseOptions, Parsed};
use ipnet::IpNet;
use jiff::SignedDuration;
use model::{OrgId, Origin, SignIn};
use notify::SignInIntake;
use serde::{Deserialize, Deserializer, Serialize};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

/// The largest UDP payload there can be.
const MAX_DATAGRAM_BYTES: usize = 65_535;
/// The most `max_message_bytes` may be: every open connection may hold one message this
/// long, and the channel [`CHANNEL_MESSAGES`] of them.
pub const MAX_MESSAGE_BYTES_LIMIT: usize = 1024 * 1024;
/// Messages waiting between the socket readers and the committer.
const CHANNEL_MESSAGES: usize = 4096;
/// A warning of one kind (unmapped host, parse error, refused connection) is logged at
/// most this often; the ones in between are counted in [`Stats`].
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Where the listener listens and whom it listens to. Every limit has a default.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// UDP address to receive datagrams on (one message each); none by default.
    #[serde(default)]
    pub udp: Option<SocketAddr>,
    /// TCP address to accept RFC 6587 streams on; none by default.
    #[serde(default)]
    pub tcp: Option<SocketAddr>,
    /// The hosts allowed to send, each mapped to its organisation. A message from any
    /// other address is dropped and counted ([`Stats::unmapped`]).
    #[serde(default)]
    pub sources: Vec<SyslogSource>,
    /// Longer messages are cut at this many bytes and counted ([`Stats::truncated`]).
    /// Default 8192; at most [`MAX_MESSAGE_BYTES_LIMIT`] (1 MiB).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// TCP connections open at once; more are closed on arrival. Default 256.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Sign-ins of one organisation committed together at most. Default 1000.
    #[serde(default = "default_batch_lines")]
    pub batch_lines: usize,
    /// A batch is committed when full or this long after its first sign-in arrived.
    /// Default 1 s (`"1s"`).
    #[serde(default = "default_flush_after")]
    pub flush_after: SignedDuration,
    /// Sending hosts whose parser (and sshd connection context) is kept; the least
    /// recently heard from is forgotten first. Default 1024.
    #[serde(default = "default_max_hosts")]
    pub max_hosts: usize,
}

fn default_max_message_bytes() -> usize {
    8192
}
fn default_max_connections() -> usize {
    256
}
fn default_batch_lines() -> usize {
    1000
}
fn default_flush_after() -> SignedDuration {
    SignedDuration::from_secs(1)
}
fn default_max_hosts() -> usize {
    1024
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            udp: None,
            tcp: None,
            sources: Vec::new(),
            max_message_bytes: default_max_message_bytes(),
            max_connections: default_max_connections(),
            batch_lines: default_batch_lines(),
            flush_after: default_flush_after(),
            max_hosts: default_max_hosts(),
        }
    }
}

/// A sending host, or a network of them, and the organisation its sign-ins belong to.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SyslogSource {
    /// `192.0.2.7` (one host) or `192.0.2.0/24`. The most specific match wins.
    #[serde(deserialize_with = "address_or_network")]
    pub address: IpNet,
    pub org: i64,
}

fn address_or_network<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpNet, D::Error> {
    let text = String::deserialize(deserializer)?;
    if let Ok(network) = text.parse::<IpNet>() {
        return Ok(network.trunc());
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
        serde::de::Error::custom(format!(
            "source address {text:?} is neither an IP address nor a CIDR network"
        ))
    })
}

/// What can stop the listener from starting.
#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    #[error("syslog configuration: {0}")]
    Config(String),
    #[error("syslog cannot listen on {protocol} {address}: {source}")]
    Bind {
        protocol: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("syslog source {address} names organisation {org}, which does not exist")]
    UnknownOrganisation { address: IpNet, org: i64 },
    #[error("syslog: {0}")]
    Store(#[from] store::StoreError),
}

/// The listener's counters since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Messages received, from mapped and unmapped hosts.
    pub received: u64,
    /// Sign-ins stored (duplicates of stored records not counted).
    pub accepted_sign_ins: u64,
    /// Messages dropped because their host maps to no organisation.
    pub unmapped: u64,
    /// Messages cut at `max_message_bytes`.
    pub truncated: u64,
    /// Messages the parser rejected.
    pub parse_errors: u64,
    /// Batches committed.
    pub batches: u64,
    /// Sign-ins lost because their batch failed to commit (logged as errors).
    pub failed_sign_ins: u64,
    /// TCP connections closed on arrival because `max_connections` were open.
    pub refused_connections: u64,
    /// TCP connections closed because their framing was broken.
    pub bad_frames: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    accepted_sign_ins: AtomicU64,
    unmapped: AtomicU64,
    truncated: AtomicU64,
    parse_errors: AtomicU64,
    batches: AtomicU64,
    failed_sign_ins: AtomicU64,
    refused_connections: AtomicU64,
    bad_frames: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            received: get(&self.received),
            accepted_sign_ins: get(&self.accepted_sign_ins),
            unmapped: get(&self.unmapped),
            truncated: get(&self.truncated),
            parse_errors: get(&self.parse_errors),
            batches: get(&self.batches),
            failed_sign_ins: get(&self.failed_sign_ins),
            refused_connections: get(&self.refused_connections),
            bad_frames: get(&self.bad_frames),
        }
    }
}

/// Lets one warning of a kind through per [`WARN_EVERY`], from any task.
struct Throttle {
    epoch: Instant,
    /// Milliseconds after `epoch` of the last warning let through, plus one (0: never).
    last: AtomicU64,
}

impl Throttle {
    fn new() -> Self {
        Throttle {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn allow(&self) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        let every = WARN_EVERY.as_millis() as u64;
        (last == 0 || now.saturating_sub(last) >= every)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// What the socket tasks share.
struct Shared {
    /// Most specific network first.
    sources: Vec<(IpNet, OrgId)>,
    max_message_bytes: usize,
    counters: Counters,
    unmapped_warning: Throttle,
    parse_warning: Throttle,
    refused_warning: Throttle,
}

impl Shared {
    fn org_of(&self, host: IpAddr) -> Option<OrgId> {
        self.sources
            .iter()
            .find(|(network, _)| network.contains(&host))
            .map(|(_, org)| *org)
    }

    /// Counts a message from `host` and says which organisation it is for; a message
    /// from an unmapped host is counted and dropped here.
    fn admit(&self, host: IpAddr) -> Option<OrgId> {
        Counters::add(&self.counters.received, 1);
        let org = self.org_of(host);
        if org.is_none() {
            Counters::add(&self.counters.unmapped, 1);
            if self.unmapped_warning.allow() {
                tracing::warn!(
                    %host,
                    unmapped = self.counters.unmapped.load(Ordering::Relaxed),
                    "syslog message from a host mapped to no organisation dropped"
                );
            }
        }
        org
    }
}

/// One message for the committer.
struct Message {
    host: IpAddr,
    org: OrgId,
    text: String,
}

/// A running syslog listener. Dropping it stops the sockets without waiting; call
/// [`SyslogListener::stop`] to have what is buffered committed first.
pub struct SyslogListener {
    udp: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    readers: Vec<JoinHandle<()>>,
    committer: JoinHandle<()>,
}

impl SyslogListener {
    /// Binds the configured sockets and starts receiving. Fails if nothing is to be
    /// listened on, a limit is zero, a socket cannot be bound or a source names an
    /// organisation that does not exist.
    pub async fn start(
        config: SyslogConfig,
        intake: Arc<SignInIntake>,
    ) -> Result<SyslogListener, SyslogError> {
        Self::start_enriched(config, intake, Arc::new(enrich::Enricher::disabled())).await
    }

    /// [`SyslogListener::start`], with every sign-in located (country, ASN) by `enricher`
    /// before it is stored, as the HTTP intake does: the stored sign-ins, the detectors
    /// and the notifications then all see the same place.
    pub async fn start_enriched(
        config: SyslogConfig,
        intake: Arc<SignInIntake>,
        enricher: Arc<enrich::Enricher>,
    ) -> Result<SyslogListener, SyslogError> {
        check(&config)?;
        let mut sources = Vec::with_capacity(config.sources.len());
        for source in &config.sources {
            let org = OrgId(source.org);
            if intake.store().organisation(org).await?.is_none() {
                return Err(SyslogError::UnknownOrganisation {
                    address: source.address,
                    org: source.org,
                });
            }
            sources.push((source.address, org));
        }
        sources.sort_by_key(|(network, _)| std::cmp::Reverse(network.prefix_len()));
        let shared = Arc::new(Shared {
            sources,
            max_message_bytes: config.max_message_bytes,
            counters: Counters::default(),
            unmapped_warning: Throttle::new(),
            parse_warning: Throttle::new(),
            refused_warning: Throttle::new(),
        });
        let (stop, stopping) = watch::channel(false);
        let (sender, receiver) = mpsc::channel(CHANNEL_MESSAGES);
        let mut readers = Vec::new();
        let mut udp = None;
        if let Some(address) = config.udp {
            let socket = UdpSocket::bind(address)
                .await
                .map_err(|source| bind_error("UDP", address, source))?;
            let bound = socket
                .local_addr()
                .map_err(|source| bind_error("UDP", address, source))?;
            tracing::info!(address = %bound, "syslog listening on UDP");
            udp = Some(bound);
            readers.push(tokio::spawn(receive_datagrams(
                socket,
                Arc::clone(&shared),
                sender.clone(),
                stopping.clone(),
            )));
        }
        let mut tcp = None;
        if let Some(address) = config.tcp {
            let listener = TcpListener::bind(address)
                .await
                .map_err(|source| bind_error("TCP", address, source))?;
            let bound = listener
                .local_addr()
                .map_err(|source| bind_error("TCP", address, source))?;
            tracing::info!(address = %bound, "syslog listening on TCP");
            tcp = Some(bound);
            readers.push(tokio::spawn(accept_streams(
                listener,
                config.max_connections,
                Arc::clone(&shared),
                sender.clone(),
                stopping.clone(),
            )));
        }
        drop(sender);
        let committer = Committer {
            intake,
            enricher,
            shared: Arc::clone(&shared),
            hosts: HashMap::new(),
            max_hosts: config.max_hosts,
            batches: HashMap::new(),
            batch_lines: config.batch_lines,
            flush_after: Duration::try_from(config.flush_after).unwrap_or(Duration::from_secs(1)),
            tick: 0,
        };
        let committer = tokio::spawn(committer.run(receiver));
        Ok(SyslogListener {
            udp,
            tcp,
            shared,
            stop,
            readers,
            committer,
        })
    }

    /// The UDP address actually bound (the port chosen when 0 was asked for).
    pub fn udp_address(&self) -> Option<SocketAddr> {
        self.udp
    }

    /// The TCP address actually bound.
    pub fn tcp_address(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// The counters so far; readable while the listener runs.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stops receiving (open TCP connections are closed; a message half-read is lost),
    /// commits every batch still buffered, and returns the final counters.
    pub async fn stop(self) -> Stats {
        let _ = self.stop.send(true);
        for reader in self.readers {
            if let Err(error) = reader.await {
                tracing::error!(%error, "syslog reader task failed");
            }
        }
        if let Err(error) = self.committer.await {
            tracing::error!(%error, "syslog committer task failed");
        }
        self.shared.counters.snapshot()
    }
}

fn check(config: &SyslogConfig) -> Result<(), SyslogError> {
    let fail = |reason: &str| Err(SyslogError::Config(reason.to_string()));
    if config.udp.is_none() && config.tcp.is_none() {
        return fail("neither `udp` nor `tcp` is set: nothing to listen on");
    }
    if config.max_message_bytes == 0 || config.max_message_bytes > MAX_MESSAGE_BYTES_LIMIT {
        return fail("`max_message_bytes` must be between 1 and 1048576");
    }
    if config.max_connections == 0 {
        return fail("`max_connections` must be at least 1");
    }
    if config.batch_lines == 0 {
        return fail("`batch_lines` must be at least 1");
    }
    if config.max_hosts == 0 {
        return fail("`max_hosts` must be at least 1");
    }
    if config.flush_after.is_negative() || config.flush_after.is_zero() {
        return fail("`flush_after` must be positive");
    }
    Ok(())
}

fn bind_error(protocol: &'static str, address: SocketAddr, source: std::io::Error) -> SyslogError {
    SyslogError::Bind {
        protocol,
        address,
        source,
    }
}

/// A host as its organisation knows it: an IPv4 peer of a dual-stack socket is IPv4.
fn host_of(peer: SocketAddr) -> IpAddr {
    peer.ip().to_canonical()
}

fn message_text(bytes: &[u8]) -> String {
    // A cut can fall inside a UTF-8 sequence; the rest of the line is still worth reading.
    String::from_utf8_lossy(bytes).into_owned()
}

async fn receive_datagrams(
    socket: UdpSocket,
    shared: Arc<Shared>,
    sender: mpsc::Sender<Message>,
    mut stopping: watch::Receiver<bool>,
) {
    // One byte more than the limit tells a datagram at the limit from a longer one, which
    // the kernel cuts to the buffer.
    let mut buf = vec![0u8; shared.max_message_bytes.min(MAX_DATAGRAM_BYTES) + 1];
    loop {
        let received = tokio::select! {
            _ = stopping.changed() => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let (len, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                // ICMP errors surface here on some systems; the socket is still good.
                tracing::debug!(%error, "syslog UDP receive failed");
                continue;
            }
        };
        let host = host_of(peer);
        let Some(org) = shared.admit(host) else {
            continue;
        };
        let mut bytes = &buf[..len];
        if len > shared.max_message_bytes {
            Counters::add(&shared.counters.truncated, 1);
            bytes = &bytes[..shared.max_message_bytes];
        }
        while matches!(bytes.last(), Some(b'\n' | b'\r' | b'\0')) {
            bytes = &bytes[..bytes.len() - 1];
        }
        let message = Message {
            host,
            org,
            text: message_text(bytes),
        };
        if sender.send(message).await.is_err() {
            return;
        }
    }
}

async fn accept_streams(
    listener: TcpListener,
    max_connections: usize,
    shared: Arc<Shared>,
    sender: mpsc::Sender<Message>,
    mut stopping: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopping.changed() => break,
            Some(ended) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = ended {
                    tracing::error!(%error, "syslog connection task failed");
                }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(%error, "syslog TCP accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                    Counters::add(&shared.counters.refused_connections, 1);
                    if shared.refused_warning.allow() {
                        tracing::warn!(%peer, max_connections, "syslog TCP connection refused: too many open");
                    }
                    continue;
                };
                let shared = Arc::clone(&shared);
                let sender = sender.clone();
                let stopping = stopping.clone();
                connections.spawn(async move {
                    read_stream(stream, peer, shared, sender, stopping).await;
                    drop(slot);
                });
            }
        }
    }
    drop(sender);
    while let Some(ended) = connections.join_next().await {
        if let Err(error) = ended {
            tracing::error!(%error, "syslog connection task failed");
        }
    }
}

async fn read_stream(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    sender: mpsc::Sender<Message>,
    mut stopping: watch::Receiver<bool>,
) {
    let host = host_of(peer);
    let mut reader = BufReader::new(stream);
    let mut bytes = Vec::with_capacity(shared.max_message_bytes.min(64 * 1024));
    loop {
        let frame = tokio::select! {
            _ = stopping.changed() => return,
            frame = framing::next_frame(&mut reader, shared.max_message_bytes, &mut bytes) => frame,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                Counters::add(&shared.counters.bad_frames, 1);
                tracing::warn!(%peer, reason = %error, "syslog TCP connection closed");
                return;
            }
        };
        let Some(org) = shared.admit(host) else {
            continue;
        };
        if frame.truncated {
            Counters::add(&shared.counters.truncated, 1);
        }
        let message = Message {
            host,
            org,
            text: message_text(&bytes),
        };
        // Waiting here while the committer is busy is the back-pressure: the sender's
        // TCP window closes instead of messages piling up.
        if sender.send(message).await.is_err() {
            return;
        }
    }
}

/// The parser of one sending host: sshd's per-connection context lives in it.
struct Host {
    parser: LineParser,
    /// The year the parser gives to timestamps without one.
    year: i16,
    /// Messages from this host, for the origin of its sign-ins.
    line: u64,
    parse_errors: u64,
    /// When it was last heard from, in committer ticks.
    used: u64,
}

struct Batch {
    sign_ins: Vec<SignIn>,
    started: tokio::time::Instant,
}

struct Committer {
    intake: Arc<SignInIntake>,
    enricher: Arc<enrich::Enricher>,
    shared: Arc<Shared>,
    hosts: HashMap<IpAddr, Host>,
    max_hosts: usize,
    batches: HashMap<OrgId, Batch>,
    batch_lines: usize,
    flush_after: Duration,
    tick: u64,
}

impl Committer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        loop {
            let due = self
                .batches
                .values()
                .filter_map(|batch| batch.started.checked_add(self.flush_after))
                .min();
            tokio::select! {
                message = receiver.recv() => match message {
                    Some(message) => self.take(message).await,
                    None => break,
                },
                () = sleep_until(due), if due.is_some() => self.flush_due().await,
            }
        }
        let orgs: Vec<OrgId> = self.batches.keys().copied().collect();
        for org in orgs {
            self.commit(org).await;
        }
    }

    async fn take(&mut self, message: Message) {
        self.tick += 1;
        let tick = self.tick;
        if !self.hosts.contains_key(&message.host) && self.hosts.len() >= self.max_hosts {
            let oldest = self
                .hosts
                .iter()
                .min_by_key(|(_, host)| host.used)
                .map(|(address, _)| *address);
            if let Some(oldest) = oldest {
                self.hosts.remove(&oldest);
            }
        }
        let max_line_bytes = self.shared.max_message_bytes;
        let year = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .year();
        let parser = || {
            LineParser::new(ParseOptions {
                max_line_bytes,
                ..ParseOptions::for_year(year)
            })
        };
        let host = self.hosts.entry(message.host).or_insert_with(|| Host {
            parser: parser(),
            year,
            line: 0,
            parse_errors: 0,
            used: tick,
        });
        if host.year != year {
            // RFC 3164 timestamps carry no year: a parser made last year would date this
            // year's messages a year early. An sshd connection open across New Year
            // loses its context; nothing else does.
            host.parser = parser();
            host.year = year;
        }
        host.used = tick;
        host.line += 1;
        let origin = Origin::RequestLine {
            request: format!("syslog:{}", message.host),
            line: host.line,
        };
        let mut sign_ins = match host.parser.parse(&message.text, origin) {
            Ok(Parsed::SignIns(sign_ins)) => sign_ins,
            Ok(Parsed::Noise | Parsed::OtherEvent { .. }) => return,
            Err(error) => {
                host.parse_errors += 1;
                Counters::add(&self.shared.counters.parse_errors, 1);
                metrics::counter!("tocsin_parse_errors_total", "source" => "syslog").increment(1);
                if self.shared.parse_warning.allow() {
                    tracing::warn!(
                        host = %message.host,
                        line = host.line,
                        host_parse_errors = host.parse_errors,
                        %error,
                        "syslog message not understood"
                    );
                }
                return;
            }
        };
        for sign_in in &mut sign_ins {
            self.enricher.enrich(sign_in);
        }
        let batch = self.batches.entry(message.org).or_insert_with(|| Batch {
            sign_ins: Vec::new(),
            started: tokio::time::Instant::now(),
        });
        batch.sign_ins.extend(sign_ins);
        if batch.sign_ins.len() >= self.batch_lines {
            self.commit(message.org).await;
        }
    }

    async fn flush_due(&mut self) {
        let now = tokio::time::Instant::now();
        let due: Vec<OrgId> = self
            .batches
            .iter()
            .filter(|(_, batch)| {
                batch
                    .started
                    .checked_add(self.flush_after)
                    .is_some_and(|due| due <= now)
            })
            .map(|(org, _)| *org)
            .collect();
        for org in due {
            self.commit(org).await;
        }
    }

    async fn commit(&mut self, org: OrgId) {
        let Some(batch) = self.batches.remove(&org) else {
            return;
        };
        let count = batch.sign_ins.len() as u64;
        match self.intake.accept_up_to(org, batch.sign_ins, None).await {
            Ok(accepted) => {
                Counters::add(&self.shared.counters.batches, 1);
                Counters::add(&self.shared.counters.accepted_sign_ins, accepted.accepted);
            }
            Err(error) => {
                Counters::add(&self.shared.counters.failed_sign_ins, count);
                tracing::error!(%org, sign_ins = count, %error, "syslog batch could not be committed");
            }
        }
    }
}

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(sources: &[(&str, i64)]) -> Shared {
        let mut sources: Vec<(IpNet, OrgId)> = sources
            .iter()
            .map(|(net, org)| (net.parse().expect("network"), OrgId(*org)))
            .collect();
        sources.sort_by_key(|(network, _)| std::cmp::Reverse(network.prefix_len()));
        Shared {
            sources,
            max_message_bytes: 100,
            counters: Counters::default(),
            unmapped_warning: Throttle::new(),
            parse_warning: Throttle::new(),
            refused_warning: Throttle::new(),
        }
    }

    #[test]
    fn the_most_specific_source_names_the_organisation() {
        let shared = shared(&[("10.0.0.0/8", 1), ("10.1.2.3/32", 2), ("2001:db8::/32", 3)]);
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
        assert_eq!(shared.admit(ip("10.1.2.3")), Some(OrgId(2)));
        assert_eq!(shared.admit(ip("10.9.9.9")), Some(OrgId(1)));
        assert_eq!(shared.admit(ip("2001:db8::7")), Some(OrgId(3)));
        assert_eq!(shared.admit(ip("192.0.2.1")), None);
        let stats = shared.counters.snapshot();
        assert_eq!((stats.received, stats.unmapped), (4, 1));
    }

    #[test]
    fn an_ipv4_peer_of_a_dual_stack_socket_is_its_ipv4_host() {
        let peer: SocketAddr = "[::ffff:192.0.2.9]:514".parse().expect("peer");
        assert_eq!(host_of(peer), "192.0.2.9".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn a_warning_is_let_through_once_per_period() {
        let throttle = Throttle::new();
        assert!(throttle.allow());
        assert!(!throttle.allow());
        assert!(!throttle.allow());
    }

    #[test]
    fn a_listener_with_nothing_to_listen_on_is_refused() {
        let error = check(&SyslogConfig::default()).expect_err("no socket");
        assert_eq!(
            error.to_string(),
            "syslog configuration: neither `udp` nor `tcp` is set: nothing to listen on"
        );
        let huge = SyslogConfig {
            udp: Some("127.0.0.1:0".parse().expect("address")),
            max_message_bytes: MAX_MESSAGE_BYTES_LIMIT + 1,
            ..SyslogConfig::default()
        };
        let error = check(&huge).expect_err("too long");
        assert_eq!(
            error.to_string(),
            "syslog configuration: `max_message_bytes` must be between 1 and 1048576"
        );
    }
}
