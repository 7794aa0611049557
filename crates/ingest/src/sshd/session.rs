//! What one sshd connection said earlier, for the lines whose meaning depends on it.
//!
//! This module owns [`SessionTracker`]: a small, bounded memory of recent sshd connections,
//! keyed by the host that logged them and sshd's process id, and the rules that use it.
//! They follow fail2ban's multi-line rules in its normal mode:
//!
//! - `Connection from <addr>` (sshd's `LogLevel VERBOSE`) starts a connection and gives it
//!   its address, which later address-less lines (`Disconnecting: Too many authentication
//!   failures`, `kex_exchange_identification: …`) are then given.
//! - `User <user> not allowed because account is locked` and a `Too many authentication
//!   failures` that names no address are failures held back until a line of the same
//!   connection names the client (usually `Received disconnect …: 11: Bye Bye` or
//!   `Connection closed by <addr> [preauth]`), which becomes the failure in their place.
//! - `Disconnecting: Too many authentication failures` and `maximum authentication attempts
//!   exceeded` close a connection whose tries were already counted when it logged a
//!   failure before them, so they are then noise: only a connection whose tries were not
//!   counted (refused public keys) fails on them.
//! - `pam_unix(sshd:auth): authentication failure` is held back: it is normally followed by
//!   the `Failed …` line of the same try, which is counted instead. It becomes a failure
//!   only when the connection then tries another user (a second `pam_unix` line for
//!   someone else, or an `Accepted` for someone else, as when a PAM stack of pam_unix and
//!   pam_ldap lets a second user in). One for the user who is then accepted is forgotten,
//!   and so are those still held when the connection closes.
//! - `Accepted …` and the lines that close a connection forget it.
//!
//! The tracker holds at most [`DEFAULT_MAX_CONNECTIONS`] connections (or the number given
//! to [`SessionTracker::with_capacity`]); when full it forgets the tenth it heard from least
//! recently, so a log of connections that never close cannot grow it without bound. Each
//! connection holds a few addresses and at most [`MAX_HELD_PAM_FAILURES`] held failures,
//! whose messages are cut to [`MAX_HELD_TEXT`] bytes.

/// Keyed by what the log's writer controls; seeded at random per process and bounded (see
/// above), so foldhash rather than the slower SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::quality::RandomState>;
use std::net::IpAddr;

use model::{FailureKind, Outcome};

use super::{
    Attempt, attempt, parse_address, parse_message, split_user_and_address, strip_prefixes,
    user_address_port,
};
use crate::RecordError;
use crate::services::field;

/// How many connections a [`SessionTracker`] remembers unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How many `pam_unix` failures one connection holds back; older ones are forgotten.
pub const MAX_HELD_PAM_FAILURES: usize = 8;

/// The longest message or account name kept in a held-back failure, in bytes.
pub const MAX_HELD_TEXT: usize = 512;

/// Recent sshd connections and what they said, so that a line can be read in the light of
/// the lines before it. One tracker belongs to one stream of lines (a file, a syslog
/// connection); see [`crate::LineParser`].
#[derive(Debug)]
pub struct SessionTracker {
    connections: HashMap<ConnectionKey, Connection>,
    capacity: usize,
    /// Counts observed lines; a connection's `last_used` is the count when it was last heard.
    clock: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ConnectionKey {
    host: String,
    pid: String,
}

#[derive(Debug, Default)]
struct Connection {
    last_used: u64,
    /// The client's address, from the first line of the connection that named it.
    address: Option<IpAddr>,
    /// Whether a failure was already counted for this connection.
    failed: bool,
    /// A failure that named no address, waiting for a line that does.
    unaddressed: Option<Attempt>,
    /// `pam_unix` failures not (yet) reported by a `Failed …` line.
    pam: Vec<Attempt>,
    /// An address-less pre-authentication event was seen before the address was known.
    probed: bool,
}

impl Default for SessionTracker {
    fn default() -> Self {
        SessionTracker::with_capacity(DEFAULT_MAX_CONNECTIONS)
    }
}

impl SessionTracker {
    /// A tracker of at most [`DEFAULT_MAX_CONNECTIONS`] connections.
    pub fn new() -> SessionTracker {
        SessionTracker::default()
    }

    /// A tracker of at most `max_connections` connections (at least one).
    pub fn with_capacity(max_connections: usize) -> SessionTracker {
        SessionTracker {
            connections: HashMap::default(),
            capacity: max_connections.max(1),
            clock: 0,
        }
    }

    /// How many connections are remembered now.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no connection is remembered.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Reads the message of an sshd line logged by `host` (empty if none) from process
    /// `pid`, in the light of what that connection said before, and remembers what it says.
    pub(crate) fn observe(
        &mut self,
        host: &str,
        pid: &str,
        message: &str,
    ) -> Result<Vec<Attempt>, RecordError> {
        let stateless = parse_message(message)?;
        self.clock += 1;
        let key = ConnectionKey {
            host: host.to_owned(),
            pid: pid.to_owned(),
        };
        // A repeated message stands for several lines at once; its inner lines are counted
        // as they are, without context, rather than guessing how they interleaved.
        if message.trim_start().starts_with("message repeated ") {
            if let Some(found) = &stateless
                && found.outcome == Outcome::Failure
            {
                self.entry(&key).failed = true;
            }
            return Ok(stateless.into_iter().collect());
        }
        let text = strip_prefixes(message);
        let closing = closing_address(text);
        let found = match stateless {
            Some(found) => found,
            None => return Ok(self.observe_context(&key, message, text, closing)),
        };
        match found.outcome {
            Outcome::Failure => {
                let exceeded = is_attempts_exceeded(text);
                let connection = self.entry(&key);
                connection.address = connection.address.or(found.source_ip);
                let mut found = found;
                found.source_ip = found.source_ip.or(connection.address);
                let out = if !exceeded {
                    // The line reports the try that a `pam_unix` line announced, if any, and
                    // stands for a held-back failure: fail2ban counts the two as one.
                    connection.pam.pop();
                    connection.unaddressed = None;
                    connection.failed = true;
                    vec![found]
                } else if connection.failed {
                    Vec::new()
                } else if found.source_ip.is_none() {
                    connection.unaddressed = Some(held(found));
                    Vec::new()
                } else {
                    connection.failed = true;
                    connection.unaddressed = None;
                    vec![found]
                };
                if closing.is_some() {
                    self.connections.remove(&key);
                }
                Ok(out)
            }
            Outcome::Success => {
                let mut out = Vec::new();
                if let Some(connection) = self.connections.remove(&key) {
                    out.extend(
                        connection
                            .pam
                            .into_iter()
                            .filter(|pam| pam.account != clipped(&found.account))
                            .map(|pam| Attempt {
                                source_ip: pam.source_ip.or(found.source_ip),
                                ..pam
                            }),
                    );
                }
                out.push(found);
                Ok(out)
            }
            Outcome::PreAuth => {
                let mut found = found;
                if closing.is_some() {
                    if let Some(connection) = self.connections.remove(&key) {
                        let address = found.source_ip.or(connection.address);
                        if let Some(pending) = connection.unaddressed {
                            return Ok(vec![Attempt {
                                source_ip: address,
                                ..pending
                            }]);
                        }
                        found.source_ip = address;
                    }
                    return Ok(vec![found]);
                }
                if found.source_ip.is_none() {
                    let connection = self.entry(&key);
                    found.source_ip = connection.address;
                    connection.probed |= found.source_ip.is_none();
                }
                Ok(vec![found])
            }
        }
    }

    /// Lines that are not sign-in events on their own.
    fn observe_context(
        &mut self,
        key: &ConnectionKey,
        message: &str,
        text: &str,
        closing: Option<Option<IpAddr>>,
    ) -> Vec<Attempt> {
        match note(text) {
            Note::ConnectionFrom(address) => {
                // A new connection; an old entry under the same pid is a finished one.
                self.connections.remove(key);
                self.entry(key).address = address;
                Vec::new()
            }
            Note::AccountLocked(user) => {
                let connection = self.entry(key);
                let mut locked = attempt(
                    message,
                    user,
                    None,
                    Outcome::Failure,
                    Some(FailureKind::Locked),
                );
                locked.source_ip = connection.address;
                if locked.source_ip.is_some() {
                    connection.failed = true;
                    connection.unaddressed = None;
                    vec![locked]
                } else {
                    connection.unaddressed = Some(held(locked));
                    Vec::new()
                }
            }
            Note::PamFailure { account, address } => {
                let connection = self.entry(key);
                connection.address = connection.address.or(address);
                let account = account.to_lowercase();
                let account = clipped(&account);
                let (others, same): (Vec<_>, Vec<_>) = std::mem::take(&mut connection.pam)
                    .into_iter()
                    .partition(|pam| pam.account != account);
                connection.pam = same;
                if connection.pam.len() >= MAX_HELD_PAM_FAILURES {
                    connection.pam.remove(0);
                }
                let mut pam = attempt(
                    message,
                    account,
                    None,
                    Outcome::Failure,
                    Some(FailureKind::BadPassword),
                );
                pam.source_ip = address.or(connection.address);
                connection.pam.push(held(pam));
                connection.failed |= !others.is_empty();
                others
            }
            Note::Address(address) => {
                let connection = self.entry(key);
                connection.address = connection.address.or(address);
                match connection.unaddressed.take() {
                    Some(pending) if address.is_some() => {
                        connection.failed = true;
                        vec![Attempt {
                            source_ip: address,
                            ..pending
                        }]
                    }
                    pending => {
                        connection.unaddressed = pending;
                        Vec::new()
                    }
                }
            }
            Note::Nothing => {
                // A close that is not pre-authentication (`Connection closed by <addr>`).
                let Some(address) = closing else {
                    return Vec::new();
                };
                let Some(connection) = self.connections.remove(key) else {
                    return Vec::new();
                };
                let address = address.or(connection.address);
                if let Some(pending) = connection.unaddressed {
                    return vec![Attempt {
                        source_ip: address,
                        ..pending
                    }];
                }
                if connection.probed && address.is_some() {
                    let mut probe = attempt(message, "", None, Outcome::PreAuth, None);
                    probe.source_ip = address;
                    return vec![probe];
                }
                Vec::new()
            }
        }
    }

    /// The connection under `key`, remembered afresh if it was not, after forgetting the
    /// least recently heard tenth of the connections if the tracker is full.
    fn entry(&mut self, key: &ConnectionKey) -> &mut Connection {
        if !self.connections.contains_key(key) && self.connections.len() >= self.capacity {
            self.evict();
        }
        let connection = self.connections.entry(key.clone()).or_default();
        connection.last_used = self.clock;
        connection
    }

    /// Forgets the least recently heard tenth (at least one) of the connections. Evicting
    /// in batches keeps the cost per new connection small when the tracker stays full.
    fn evict(&mut self) {
        let mut ages: Vec<u64> = self.connections.values().map(|c| c.last_used).collect();
        let count = (self.capacity / 10).max(1).min(ages.len());
        if count == 0 {
            return;
        }
        let (_, cutoff, _) = ages.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        let mut left = count;
        self.connections.retain(|_, c| {
            if left > 0 && c.last_used <= cutoff {
                left -= 1;
                false
            } else {
                true
            }
        });
    }
}

/// A failure to hold back, with its client-chosen text cut short so that held failures
/// stay small.
fn held(mut found: Attempt) -> Attempt {
    truncate(&mut found.message, MAX_HELD_TEXT);
    truncate(&mut found.account, MAX_HELD_TEXT);
    found
}

fn truncate(text: &mut String, limit: usize) {
    let end = clipped_len(text, limit);
    text.truncate(end);
}

/// `account` as a held-back failure keeps it, for comparing with held ones.
fn clipped(account: &str) -> &str {
    &account[..clipped_len(account, MAX_HELD_TEXT)]
}

/// The length of the longest prefix of `text` within `limit` bytes that ends on a
/// character boundary.
fn clipped_len(text: &str, limit: usize) -> usize {
    if text.len() <= limit {
        return text.len();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// What a line that is not itself a sign-in event says about its connection.
enum Note<'a> {
    ConnectionFrom(Option<IpAddr>),
    AccountLocked(&'a str),
    PamFailure {
        account: &'a str,
        address: Option<IpAddr>,
    },
    /// A line that names the client and nothing else of use (a refused public key for a
    /// real user, a `SSH: Server;Ltype: …;Remote: <addr>-<port>` audit line).
    Address(Option<IpAddr>),
    Nothing,
}

fn note(text: &str) -> Note<'_> {
    if let Some(rest) = text.strip_prefix("Connection from ") {
        return Note::ConnectionFrom(parse_address(rest.split(' ').next().unwrap_or_default()));
    }
    if let Some(rest) = text.strip_prefix("User ")
        && let Some((user, _)) = rest.split_once(" not allowed because account is locked")
    {
        return Note::AccountLocked(user);
    }
    if text.starts_with("pam_") && text.contains("(sshd:auth): authentication failure;") {
        let account = field(text, "user=")
            .filter(|user| !user.is_empty())
            .or_else(|| field(text, "ruser="))
            .unwrap_or_default();
        let address = field(text, "rhost=").and_then(parse_address);
        return Note::PamFailure { account, address };
    }
    if let Some(rest) = text.strip_prefix("Failed publickey for ") {
        let address = split_user_and_address(rest).and_then(|(_, a)| parse_address(a));
        return Note::Address(address);
    }
    if text.starts_with("SSH: Server;Ltype: ")
        && let Some((_, rest)) = text.split_once(";Remote: ")
        && let Some((address, _port)) = rest.split(';').next().and_then(|r| r.rsplit_once('-'))
    {
        return Note::Address(parse_address(address));
    }
    Note::Nothing
}

/// Whether the line is sshd giving up on a connection after too many tries, which says
/// nothing new if the tries were already counted.
fn is_attempts_exceeded(text: &str) -> bool {
    text.starts_with("Disconnecting: Too many authentication failures")
        || text.starts_with("maximum authentication attempts exceeded ")
        || (text.starts_with("Disconnecting ")
            && text.contains(": Too many authentication failures"))
}

/// `Some(address)` when the line ends its connection (`Connection closed by …`,
/// `Received disconnect from …`), with or without `[preauth]`; the address is `None` when
/// the line names none that parses.
fn closing_address(text: &str) -> Option<Option<IpAddr>> {
    let text = text.strip_suffix(" [preauth]").unwrap_or(text);
    for prefix in [
        "Connection closed by ",
        "Connection reset by ",
        "Disconnected from ",
    ] {
        if let Some(who) = text.strip_prefix(prefix) {
            let named = ["authenticating user ", "invalid user ", "user "]
                .iter()
                .find_map(|p| who.strip_prefix(p));
            let address = match named {
                Some(who) => user_address_port(who).map(|(_, address)| address),
                None => who.split(' ').next(),
            };
            return Some(address.and_then(parse_address));
        }
    }
    if let Some(rest) = text.strip_prefix("Received disconnect from ") {
        // `<addr>: 11: …` or `<addr> port <n>:11: …`; an IPv6 address holds colons itself.
        let address = rest.split(' ').next().unwrap_or_default();
        let address = address.strip_suffix(':').unwrap_or(address);
        return Some(parse_address(address));
    }
    None
}

#[cfg(test)]
mod tests;
