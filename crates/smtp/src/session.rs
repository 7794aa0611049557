//! One SMTP or LMTP conversation: reading bounded command lines, answering them in order,
//! STARTTLS, AUTH PLAIN/LOGIN, and reading `DATA` into a message for the sink.
//!
//! Commands are parsed by `smtp-proto`; `DATA` is unstuffed by its `DataReceiver`, which ends
//! a message only at `<CRLF>.<CRLF>` (a bare LF before the dot does not end it, so a message
//! cannot smuggle a second one past us). Replies are buffered and written when the client
//! has no more pipelined input for us, or before we wait on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, Error as ParseError, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::Instrument;

use crate::{Accepted, Envelope, JournalSink, ListenerConfig, Rejection, Route};

/// Bad commands a session may send before it is dropped.
const MAX_BAD_COMMANDS: u32 = 10;
/// Room made in the input buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// Longest reason from the sink that is shown to the client.
const MAX_REASON_CHARS: usize = 200;

/// Runs one session to its end. Holding `_slot` is what counts it against `max_sessions`.
pub(crate) async fn run<S: JournalSink>(
    stream: TcpStream,
    peer: SocketAddr,
    id: String,
    config: Arc<ListenerConfig>,
    sink: Arc<S>,
    stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let span = tracing::info_span!("mail_session", session = %id, %peer);
    let session = Session {
        io: Io::Plain(stream),
        input: Vec::new(),
        output: Vec::new(),
        discarding_line: false,
        config,
        sink,
        peer,
        id,
        stopping,
        helo: None,
        auth: None,
        transaction: None,
        bad_commands: 0,
        messages: 0,
    };
    session.run().instrument(span).await;
}

/// Why a session ended.
#[derive(Debug)]
enum End {
    Quit,
    PeerClosed,
    IdleTimeout,
    ShuttingDown,
    TooManyErrors,
    Io(std::io::Error),
    Tls(std::io::Error),
}

/// The connection, before or after STARTTLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while the handshake owns the stream, or after it failed.
    Gone,
}

impl Io {
    /// Appends what the peer sent next to `buf`; 0 at its end.
    async fn read_into(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        buf.reserve(READ_CHUNK);
        match self {
            Io::Plain(stream) => stream.read_buf(buf).await,
            Io::Tls(stream) => stream.read_buf(buf).await,
            Io::Gone => Ok(0),
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(stream) => stream.write_all(bytes).await,
            Io::Tls(stream) => {
                stream.write_all(bytes).await?;
                // rustls holds records until flushed.
                stream.flush().await
            }
            Io::Gone => Ok(()),
        }
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Io::Plain(stream) => stream.shutdown().await,
            Io::Tls(stream) => stream.shutdown().await,
            Io::Gone => Ok(()),
        };
    }

    fn is_tls(&self) -> bool {
        matches!(self, Io::Tls(_))
    }
}

/// A mail transaction between `MAIL FROM` and the end of `DATA`.
struct Transaction {
    mail_from: String,
    recipients: Vec<Accepted>,
}

/// A command line as read: its bytes (LF included), or the news that it was too long.
enum Line {
    Text(Vec<u8>),
    TooLong,
}

struct Session<S> {
    io: Io,
    /// Bytes read but not yet used; never more than a line limit plus one read.
    input: Vec<u8>,
    /// Replies not yet written.
    output: Vec<u8>,
    /// Inside a command line that broke the limit: drop bytes up to its LF.
    discarding_line: bool,
    config: Arc<ListenerConfig>,
    sink: Arc<S>,
    peer: SocketAddr,
    id: String,
    stopping: watch::Receiver<bool>,
    helo: Option<String>,
    /// The authenticated user and the route the sink gave it.
    auth: Option<(String, Route)>,
    transaction: Option<Transaction>,
    bad_commands: u32,
    messages: u64,
}

impl<S: JournalSink> Session<S> {
    async fn run(mut self) {
        let end = self.converse().await;
        match &end {
            End::Tls(error) => tracing::info!(%error, "mail client TLS handshake failed"),
            End::Io(error) => tracing::debug!(%error, "mail session connection failed"),
            _ => tracing::debug!(?end, "mail session closed"),
        }
        let hostname = &self.config.hostname;
        let farewell = match end {
            End::IdleTimeout => format!("421 4.4.2 {hostname} Idle timeout, closing\r\n"),
            End::ShuttingDown => format!("421 4.3.0 {hostname} Service shutting down\r\n"),
            End::TooManyErrors => format!("421 4.7.0 {hostname} Too many errors\r\n"),
            End::Quit | End::PeerClosed | End::Io(_) | End::Tls(_) => String::new(),
        };
        self.output.extend_from_slice(farewell.as_bytes());
        let _ = self.flush().await;
        self.io.shutdown().await;
    }

    async fn converse(&mut self) -> End {
        let greeting = if self.config.lmtp { "LMTP" } else { "ESMTP" };
        let greeting = format!("{} {greeting} tocsin journal intake", self.config.hostname);
        self.reply(220, "", &greeting);
        loop {
            let line = match self.read_line().await {
                Ok(line) => line,
                Err(end) => return end,
            };
            let outcome = match line {
                Line::TooLong => {
                    self.bad_command(500, "5.5.6", "Line too long");
                    Ok(())
                }
                Line::Text(line) => self.command(&line).await,
            };
            if let Err(end) = outcome {
                return end;
            }
            if self.bad_commands >= MAX_BAD_COMMANDS {
                return End::TooManyErrors;
            }
        }
    }

    /// Answers one command line.
    async fn command(&mut self, line: &[u8]) -> Result<(), End> {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request.into_owned(),
            Err(error) => {
                self.parse_error(error);
                return Ok(());
            }
        };
        tracing::debug!(command = request.name(), "mail command");
        match request {
            Request::Ehlo { host } => self.hello(host, Hello::Ehlo),
            Request::Helo { host } => self.hello(host, Hello::Helo),
            Request::Lhlo { host } => self.hello(host, Hello::Lhlo),
            Request::StartTls => return self.start_tls().await,
            Request::Auth {
                mechanism,
                initial_response,
            } => return self.authenticate(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from.address, from.size),
            Request::Rcpt { to } => self.recipient(to.address).await,
            Request::Data => return self.data().await,
            Request::Rset => {
                self.transaction = None;
                self.reply(250, "2.0.0", "OK");
            }
            Request::Noop { .. } => self.reply(250, "2.0.0", "OK"),
            Request::Vrfy { .. } => self.reply(252, "2.5.0", "Cannot VRFY user"),
            Request::Help { .. } => self.reply(214, "2.0.0", "See RFC 5321"),
            Request::Quit => {
                self.reply(221, "2.0.0", "Bye");
                return Err(End::Quit);
            }
            Request::Bdat { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.bad_command(502, "5.5.1", "Command not implemented"),
        }
        Ok(())
    }

    fn parse_error(&mut self, error: ParseError) {
        match error {
            ParseError::UnknownCommand => self.bad_command(500, "5.5.1", "Unrecognized command"),
            ParseError::InvalidSenderAddress => {
                self.bad_command(501, "5.1.7", "Bad sender address syntax")
            }
            ParseError::InvalidRecipientAddress => {
                self.bad_command(501, "5.1.3", "Bad recipient address syntax")
            }
            ParseError::SyntaxError { syntax } => {
                self.bad_command(501, "5.5.4", &format!("Syntax: {syntax}"))
            }
            ParseError::InvalidParameter { param } => {
                self.bad_command(501, "5.5.4", &format!("Invalid {param} parameter"))
            }
            ParseError::UnsupportedParameter { .. } => {
                self.bad_command(555, "5.5.4", "Unsupported parameter")
            }
            ParseError::NeedsMoreData { .. }
            | ParseError::ResponseTooLong
            | ParseError::InvalidResponse { .. } => self.bad_command(500, "5.5.2", "Syntax error"),
        }
    }

    fn hello(&mut self, host: String, hello: Hello) {
        if self.config.lmtp != (hello == Hello::Lhlo) {
            let expected = if self.config.lmtp {
                "LHLO"
            } else {
                "EHLO or HELO"
            };
            self.bad_command(
                500,
                "5.5.1",
                &format!("Unrecognized command, use {expected}"),
            );
            return;
        }
        self.transaction = None;
        self.helo = Some(host);
        let hostname = self.config.hostname.clone();
        if hello == Hello::Helo {
            self.reply(250, "", &hostname);
            return;
        }
        let mut lines = vec![
            hostname,
            "PIPELINING".to_owned(),
            format!("SIZE {}", self.config.max_message_bytes),
            "8BITMIME".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
        ];
        if self.config.tls.is_some() && !self.io.is_tls() {
            lines.push("STARTTLS".to_owned());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".to_owned());
        }
        let last = lines.len() - 1;
        for (n, line) in lines.iter().enumerate() {
            let separator = if n == last { ' ' } else { '-' };
            self.output
                .extend_from_slice(format!("250{separator}{line}\r\n").as_bytes());
        }
    }

    fn auth_offered(&self) -> bool {
        self.io.is_tls() || (self.config.plaintext_auth_on_loopback && self.peer.ip().is_loopback())
    }

    async fn start_tls(&mut self) -> Result<(), End> {
        let Some(tls) = self.config.tls.clone() else {
            self.bad_command(502, "5.5.1", "STARTTLS not available");
            return Ok(());
        };
        if self.io.is_tls() {
            self.bad_command(503, "5.5.1", "Already on TLS");
            return Ok(());
        }
        self.reply(220, "2.0.0", "Ready to start TLS");
        self.flush().await?;
        // Anything pipelined after STARTTLS was sent in clear and must not be taken as
        // coming over TLS (the STARTTLS command injection, CVE-2011-0411).
        self.input.clear();
        self.discarding_line = false;
        let Io::Plain(stream) = std::mem::replace(&mut self.io, Io::Gone) else {
            return Err(End::PeerClosed);
        };
        let handshake = TlsAcceptor::from(tls).accept(stream);
        match tokio::time::timeout(self.config.idle_timeout, handshake).await {
            Ok(Ok(stream)) => self.io = Io::Tls(Box::new(stream)),
            Ok(Err(error)) => return Err(End::Tls(error)),
            Err(_) => return Err(End::IdleTimeout),
        }
        // RFC 3207 4.2: forget everything learnt from the client before TLS.
        self.helo = None;
        self.auth = None;
        self.transaction = None;
        Ok(())
    }

    async fn authenticate(&mut self, mechanism: u64, initial: String) -> Result<(), End> {
        if !self.auth_offered() {
            self.bad_command(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            );
            return Ok(());
        }
        if self.helo.is_none() {
            self.bad_command(503, "5.5.1", "Send EHLO first");
            return Ok(());
        }
        if self.auth.is_some() || self.transaction.is_some() {
            self.bad_command(503, "5.5.1", "Already authenticated or in a transaction");
            return Ok(());
        }
        let credentials = if mechanism == AUTH_PLAIN {
            let response = if initial.is_empty() {
                match self.challenge("").await? {
                    Some(response) => response,
                    None => return Ok(()),
                }
            } else {
                match decode_response(&initial) {
                    Some(response) => response,
                    None => {
                        self.bad_command(501, "5.5.2", "Invalid base64");
                        return Ok(());
                    }
                }
            };
            plain_credentials(&response)
        } else if mechanism == AUTH_LOGIN {
            let user = if initial.is_empty() {
                match self.challenge("VXNlcm5hbWU6").await? {
                    Some(user) => user,
                    None => return Ok(()),
                }
            } else {
                match decode_response(&initial) {
                    Some(user) => user,
                    None => {
                        self.bad_command(501, "5.5.2", "Invalid base64");
                        return Ok(());
                    }
                }
            };
            let Some(password) = self.challenge("UGFzc3dvcmQ6").await? else {
                return Ok(());
            };
            match (String::from_utf8(user), String::from_utf8(password)) {
                (Ok(user), Ok(password)) => Some((user, password)),
                _ => None,
            }
        } else {
            self.bad_command(504, "5.5.4", "Mechanism not supported, use PLAIN or LOGIN");
            return Ok(());
        };
        let route = match &credentials {
            Some((user, password)) => self.sink.authenticate(user, password).await,
            None => None,
        };
        match (credentials, route) {
            (Some((user, _)), Some(route)) => {
                tracing::info!(%user, org = %route.org, "mail client authenticated");
                self.auth = Some((user, route));
                self.reply(235, "2.7.0", "Authentication successful");
            }
            _ => {
                tracing::warn!("mail client authentication failed");
                self.bad_command(535, "5.7.8", "Authentication credentials invalid");
            }
        }
        Ok(())
    }

    /// Sends a `334` challenge and reads the decoded answer; `None` when the client cancelled
    /// or sent something that is not base64 (already answered).
    async fn challenge(&mut self, prompt: &str) -> Result<Option<Vec<u8>>, End> {
        self.reply(334, "", prompt);
        let line = match self.read_line().await? {
            Line::Text(line) => line,
            Line::TooLong => {
                self.bad_command(500, "5.5.6", "Line too long");
                return Ok(None);
            }
        };
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text == "*" {
            self.reply(501, "5.7.0", "Authentication cancelled");
            return Ok(None);
        }
        match decode_response(text) {
            Some(response) => Ok(Some(response)),
            None => {
                self.bad_command(501, "5.5.2", "Invalid base64");
                Ok(None)
            }
        }
    }

    fn mail(&mut self, from: String, size: usize) {
        if self.helo.is_none() {
            let hello = if self.config.lmtp { "LHLO" } else { "EHLO" };
            self.bad_command(503, "5.5.1", &format!("Send {hello} first"));
        } else if self.transaction.is_some() {
            self.bad_command(503, "5.5.1", "Nested MAIL command");
        } else if self.config.require_tls && !self.io.is_tls() {
            self.bad_command(530, "5.7.0", "Must issue a STARTTLS command first");
        } else if self.config.require_auth && self.auth.is_none() {
            self.bad_command(530, "5.7.0", "Authentication required");
        } else if u64::try_from(size).unwrap_or(u64::MAX) > self.config.max_message_bytes {
            self.reply(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        } else {
            self.transaction = Some(Transaction {
                mail_from: from,
                recipients: Vec::new(),
            });
            self.reply(250, "2.1.0", "OK");
        }
    }

    async fn recipient(&mut self, address: String) {
        let Some(transaction) = &self.transaction else {
            self.bad_command(503, "5.5.1", "Need MAIL before RCPT");
            return;
        };
        if transaction.recipients.len() >= self.config.max_recipients {
            self.reply(452, "4.5.3", "Too many recipients");
            return;
        }
        let authenticated = self.auth.as_ref().map(|(_, route)| route);
        match self.sink.recipient(&address, authenticated).await {
            Some(route) => {
                if let Some(transaction) = &mut self.transaction {
                    transaction.recipients.push(Accepted { address, route });
                }
                self.reply(250, "2.1.5", "OK");
            }
            None => {
                tracing::info!(%address, "mail recipient refused");
                self.bad_command(550, "5.1.1", "No such journal address");
            }
        }
    }

    async fn data(&mut self) -> Result<(), End> {
        let recipients = match &self.transaction {
            None => {
                self.bad_command(503, "5.5.1", "Need MAIL and RCPT before DATA");
                return Ok(());
            }
            Some(transaction) => transaction.recipients.len(),
        };
        if recipients == 0 {
            self.bad_command(554, "5.5.1", "No valid recipients");
            return Ok(());
        }
        self.reply(354, "", "End data with <CR><LF>.<CR><LF>");
        let message = self.read_message().await?;
        let Some(transaction) = self.transaction.take() else {
            return Ok(());
        };
        let (code, status, text) = match message {
            None => {
                tracing::warn!(
                    limit = self.config.max_message_bytes,
                    "mail message too large; discarded"
                );
                (
                    552,
                    "5.3.4",
                    "Message size exceeds fixed maximum message size".to_owned(),
                )
            }
            Some(raw) => {
                self.deliver(transaction.mail_from, &transaction.recipients, raw)
                    .await
            }
        };
        let replies = if self.config.lmtp { recipients } else { 1 };
        for _ in 0..replies {
            self.reply(code, status, &text);
        }
        Ok(())
    }

    async fn deliver(
        &mut self,
        mail_from: String,
        recipients: &[Accepted],
        raw: Vec<u8>,
    ) -> (u16, &'static str, String) {
        self.messages += 1;
        let id = format!("{}.{}", self.id, self.messages);
        let envelope = Envelope {
            id: id.clone(),
            session: self.id.clone(),
            peer: self.peer,
            helo: self.helo.clone().unwrap_or_default(),
            mail_from,
            recipients: recipients.to_vec(),
            tls: self.io.is_tls(),
            authenticated_as: self.auth.as_ref().map(|(user, _)| user.clone()),
            received_at: SystemTime::now(),
        };
        let bytes = raw.len();
        match self.sink.deliver(envelope, raw).await {
            Ok(()) => {
                tracing::info!(message = %id, bytes, recipients = recipients.len(), "mail accepted");
                (250, "2.0.0", format!("OK queued as {id}"))
            }
            Err(rejection) => {
                tracing::warn!(message = %id, %rejection, "mail rejected by sink");
                match rejection {
                    Rejection::Temporary(reason) => (451, "4.3.0", printable(&reason)),
                    Rejection::Permanent(reason) => (554, "5.6.0", printable(&reason)),
                }
            }
        }
    }

    /// Reads `DATA` up to `<CRLF>.<CRLF>`, unstuffed. `None` when it broke the size limit;
    /// the rest is then read and dropped so the session can go on.
    async fn read_message(&mut self) -> Result<Option<Vec<u8>>, End> {
        let limit = usize::try_from(self.config.max_message_bytes).unwrap_or(usize::MAX);
        let mut receiver = DataReceiver::new();
        let mut message = Vec::new();
        // The receiver unstuffs a dot only after a CRLF it has seen; the CRLF that ended the
        // DATA command counts, so show it one and forget the bytes.
        receiver.ingest(&mut b"\r\n".iter(), &mut message);
        message.clear();
        let mut discarding: Option<DummyDataReceiver> = None;
        loop {
            let mut bytes = self.input.iter();
            let done = match &mut discarding {
                Some(discard) => discard.ingest(&mut bytes),
                None => receiver.ingest(&mut bytes, &mut message),
            };
            let used = self.input.len() - bytes.as_slice().len();
            self.input.drain(..used);
            if discarding.is_none() && message.len() > limit {
                discarding = Some(DummyDataReceiver::new_data(&receiver));
                message = Vec::new();
            }
            if done {
                return Ok(discarding.is_none().then_some(message));
            }
            self.fill().await?;
        }
    }

    /// Reads one command line, LF included, within `max_line_bytes`.
    async fn read_line(&mut self) -> Result<Line, End> {
        loop {
            if let Some(lf) = self.input.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.input.drain(..=lf).collect();
                if std::mem::take(&mut self.discarding_line)
                    || line.len() > self.config.max_line_bytes
                {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Text(line));
            }
            if self.input.len() > self.config.max_line_bytes {
                self.input.clear();
                self.discarding_line = true;
            }
            self.fill().await?;
        }
    }

    /// Writes pending replies, then waits for more input (bounded by the idle timeout and
    /// cut short by shutdown).
    async fn fill(&mut self) -> Result<(), End> {
        self.flush().await?;
        if *self.stopping.borrow() {
            return Err(End::ShuttingDown);
        }
        let read = tokio::select! {
            _ = self.stopping.changed() => return Err(End::ShuttingDown),
            read = tokio::time::timeout(self.config.idle_timeout, self.io.read_into(&mut self.input)) => read,
        };
        match read {
            Err(_) => Err(End::IdleTimeout),
            Ok(Err(error)) => Err(End::Io(error)),
            Ok(Ok(0)) => Err(End::PeerClosed),
            Ok(Ok(_)) => Ok(()),
        }
    }

    async fn flush(&mut self) -> Result<(), End> {
        if self.output.is_empty() {
            return Ok(());
        }
        let output = std::mem::take(&mut self.output);
        match tokio::time::timeout(self.config.idle_timeout, self.io.write_all(&output)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(End::Io(error)),
            Err(_) => Err(End::IdleTimeout),
        }
    }

    fn reply(&mut self, code: u16, status: &str, text: &str) {
        let reply = if status.is_empty() {
            format!("{code} {text}\r\n")
        } else {
            format!("{code} {status} {text}\r\n")
        };
        self.output.extend_from_slice(reply.as_bytes());
    }

    /// Answers a command that should not have been sent, and counts it.
    fn bad_command(&mut self, code: u16, status: &str, text: &str) {
        self.bad_commands += 1;
        self.reply(code, status, text);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hello {
    Helo,
    Ehlo,
    Lhlo,
}

/// Decodes an AUTH response; `=` is the empty response (RFC 4954).
fn decode_response(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text == "=" {
        return Some(Vec::new());
    }
    BASE64.decode(text).ok()
}

/// Splits a PLAIN response `[authzid] NUL authcid NUL password` (RFC 4616). Acting for
/// another identity is not supported, so an authzid must be empty or the authcid itself.
fn plain_credentials(response: &[u8]) -> Option<(String, String)> {
    let mut parts = response.split(|&byte| byte == 0);
    let (authzid, user, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || user.is_empty() || !(authzid.is_empty() || authzid == user) {
        return None;
    }
    Some((
        String::from_utf8(user.to_vec()).ok()?,
        String::from_utf8(password.to_vec()).ok()?,
    ))
}

/// A sink's reason made safe for one reply line.
fn printable(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_credentials_table() {
        /// A PLAIN response and the (user, password) it should give.
        type Case = (&'static [u8], Option<(&'static str, &'static str)>);
        let cases: &[Case] = &[
            (b"\0alice\0secret", Some(("alice", "secret"))),
            (b"alice\0alice\0secret", Some(("alice", "secret"))),
            (b"\0alice\0", Some(("alice", ""))),
            (b"mallory\0alice\0secret", None),
            (b"\0\0secret", None),
            (b"alice\0secret", None),
            (b"\0alice\0se\0cret", None),
            (b"", None),
            (b"\0\xff\0secret", None),
        ];
        for (response, expected) in cases {
            let got = plain_credentials(response);
            let expected = expected.map(|(u, p)| (u.to_owned(), p.to_owned()));
            assert_eq!(got, expected, "response {response:?}");
        }
    }

    #[test]
    fn decode_response_table() {
        assert_eq!(decode_response("="), Some(Vec::new()));
        assert_eq!(decode_response("YWxpY2U="), Some(b"alice".to_vec()));
        assert_eq!(decode_response(" YWxpY2U= "), Some(b"alice".to_vec()));
        assert_eq!(decode_response("not base64!"), None);
    }

    #[test]
    fn printable_strips_line_breaks_and_bounds_length() {
        assert_eq!(printable("disk\r\nfull"), "disk  full");
        assert_eq!(printable(&"x".repeat(500)).len(), MAX_REASON_CHARS);
    }
}
