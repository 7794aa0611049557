//! OpenSSH `sshd` authentication messages inside syslog lines.
//!
//! This module owns which sshd messages are sign-in attempts and what they mean. The rules
//! follow the lines fail2ban's sshd filter counts in its normal mode, so that tocsin's
//! failures are the failures administrators already know:
//!
//! - `Failed <method> for [invalid user ]<user> from <addr> port <n> ssh2` is a failure and
//!   `Accepted <method> for <user> from …` a success. `invalid user` makes the failure
//!   [`FailureKind::UnknownAccount`]; a wrong password or keyboard-interactive/PAM answer
//!   for a real user is [`FailureKind::BadPassword`]. A refused public key for a real user
//!   is noise, because clients holding several keys offer them in turn; for an invalid
//!   user it is a failure.
//! - `Failed none for …` is noise: it is the client asking which methods are allowed.
//! - `Invalid user <user> from <addr>`, `User <user> from <addr> not allowed because …`,
//!   `ROOT LOGIN REFUSED FROM <addr>`, `refused connect from … (<addr>)` (TCP wrappers),
//!   `error: PAM: Authentication failure for <user> from <addr>`, `maximum authentication
//!   attempts exceeded`, `Disconnecting: Too many authentication failures`, `Disconnecting
//!   invalid user …: Change of username …` and `Received disconnect from <addr>: 3: …
//!   Auth fail` are failures. Some of these follow a `Failed …` line for the same try;
//!   like fail2ban, tocsin then counts the connection once more, which errs towards alarm.
//! - Clients that leave before trying a credential — `Connection closed|reset by …
//!   [preauth]`, `Disconnected from … [preauth]`, `Did not receive identification string`,
//!   `Bad protocol version identification`, `Unable to negotiate …`, `banner exchange: …`,
//!   `kex_exchange_identification: …`, `Received disconnect …: 11|14: … [preauth]` — are
//!   [`Outcome::PreAuth`] events (fail2ban counts them only in its `ddos`, `extra` and
//!   `aggressive` modes): scanners, context for spray detection, never failures.
//! - `message repeated N times: [ <message>]` (rsyslog's reduction) is N events.
//! - Everything else sshd says (session lines, `pam_unix(sshd:auth)`, which is normally
//!   followed by the `Failed …` line of the same try) is noise.
//!
//! Those are the rules for one line on its own ([`parse_message`], and
//! [`crate::parse_line`]). Some of fail2ban's rules depend on earlier lines of the same
//! connection (`account is locked`, a `Too many authentication failures` that names no
//! address, `pam_unix` failures for several users); [`SessionTracker`] keeps that context
//! and owns those rules, and [`crate::LineParser`] and [`crate::SourceReader`] use it.

use std::net::IpAddr;

use jiff::Timestamp;
use model::{FailureKind, Format, Origin, Outcome, Protocol, SignIn};

use crate::{ParseOptions, Parsed, RecordError, syslog};

mod session;

pub use session::{DEFAULT_MAX_CONNECTIONS, MAX_HELD_PAM_FAILURES, MAX_HELD_TEXT, SessionTracker};

/// The largest repeat count accepted from `message repeated N times`, so that one forged
/// line cannot make millions of events.
pub const MAX_REPEAT: u32 = 10_000;

/// One sshd authentication message, before it is given a time and an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The user name as sshd logged it, lower-cased; may be empty (a client that sent no
    /// name).
    pub account: String,
    /// The client address; `None` when sshd logged a host name (`UseDNS yes`).
    pub source_ip: Option<IpAddr>,
    pub outcome: Outcome,
    pub failure_kind: Option<FailureKind>,
    /// How many attempts the line stands for (`message repeated N times`), at least 1.
    pub count: u32,
    /// The sshd message itself.
    pub message: String,
}

/// Parses a syslog line and, if it is from sshd, its message. Lines from other programs
/// are [`Parsed::Noise`], as are lines whose header cannot be read unless they mention
/// sshd.
pub fn parse_syslog_line(
    line: &str,
    origin: &Origin,
    opts: &ParseOptions,
) -> Result<Parsed, RecordError> {
    if line.trim().is_empty() {
        return Ok(Parsed::Noise);
    }
    let header = match syslog::split(line) {
        Ok(header) => header,
        Err(problem) if looks_like_sshd(line) => return Err(RecordError::header(problem)),
        Err(_) => return Ok(Parsed::Noise),
    };
    if !matches!(header.program, "sshd" | "sshd-session") {
        return Ok(Parsed::Noise);
    }
    let Some(attempt) = parse_message(header.message)? else {
        return Ok(Parsed::Noise);
    };
    let time = header.stamp.resolve(opts)?;
    Ok(Parsed::SignIns(attempt.into_sign_ins(time, origin)))
}

/// Whether an unreadable line is probably sshd's, which makes it worth an error.
pub(crate) fn looks_like_sshd(line: &str) -> bool {
    ["sshd[", "sshd:", "sshd-session", " sshd "]
        .iter()
        .any(|needle| line.contains(needle))
}

/// Parses the message part of an sshd line: `Some` for a sign-in attempt or a
/// pre-authentication event, `None` for anything else sshd says.
pub fn parse_message(message: &str) -> Result<Option<Attempt>, RecordError> {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("message repeated ") {
        return parse_repeated(message, rest);
    }
    let text = strip_prefixes(message);
    if let Some(attempt) = other_failure(message, text).or_else(|| pre_auth(message, text)) {
        return Ok(Some(attempt));
    }
    let (outcome, rest) = if let Some(rest) = text.strip_prefix("Failed ") {
        (Outcome::Failure, rest)
    } else if let Some(rest) = text.strip_prefix("Accepted ") {
        (Outcome::Success, rest)
    } else {
        return Ok(None);
    };
    // "Failed to …" and other prose share the prefix; only "<method> for " is ours.
    let Some((method, rest)) = rest.split_once(' ') else {
        return Ok(None);
    };
    // A line cut short after "for" is still an attempt we failed to read, not prose.
    let Some(rest) = rest.strip_prefix("for ").or((rest == "for").then_some("")) else {
        return Ok(None);
    };
    if method == "none" {
        return Ok(None);
    }
    let (invalid, rest) = match rest.strip_prefix("invalid user ") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let Some((user, address)) = split_user_and_address(rest) else {
        return Err(RecordError::Sshd {
            message: message.to_owned(),
            expected: "`for <user> from <address> port <port>`",
        });
    };
    // Solaris writes the unknown name as `<invalid username>`.
    let (invalid, user) = if user == "<invalid username>" {
        (true, "")
    } else {
        (invalid, user)
    };
    if outcome == Outcome::Failure && method == "publickey" && !invalid {
        return Ok(None);
    }
    let failure_kind = match outcome {
        Outcome::Success | Outcome::PreAuth => None,
        Outcome::Failure if invalid => Some(FailureKind::UnknownAccount),
        Outcome::Failure if method == "password" || method.starts_with("keyboard-interactive") => {
            Some(FailureKind::BadPassword)
        }
        Outcome::Failure => Some(FailureKind::Other),
    };
    Ok(Some(Attempt {
        account: user.to_lowercase(),
        source_ip: parse_address(address),
        outcome,
        failure_kind,
        count: 1,
        message: message.to_owned(),
    }))
}

/// The message without the prefixes some systems put before sshd's own text.
pub(crate) fn strip_prefixes(message: &str) -> &str {
    // Solaris prefixes `[ID 800047 auth.info] `; `error: ` and `fatal: ` are log levels.
    let mut text = message.trim();
    if text.starts_with("[ID ")
        && let Some((_, rest)) = text.split_once("] ")
    {
        text = rest;
    }
    // journald may prefix a kernel-style clock: `kernel:[  970.699396]: Failed …`.
    if text.starts_with("kernel:")
        && let Some((_, rest)) = text.split_once(']')
    {
        text = rest.trim_start_matches(':').trim_start();
    }
    for level in ["error: ", "fatal: "] {
        text = text.strip_prefix(level).unwrap_or(text);
    }
    text
}

pub(crate) fn parse_address(address: &str) -> Option<IpAddr> {
    address.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

fn attempt(
    message: &str,
    account: &str,
    address: Option<&str>,
    outcome: Outcome,
    failure_kind: Option<FailureKind>,
) -> Attempt {
    Attempt {
        account: account.to_lowercase(),
        source_ip: address.and_then(parse_address),
        outcome,
        failure_kind,
        count: 1,
        message: message.to_owned(),
    }
}

/// Failures other than `Failed <method> for …`.
fn other_failure(message: &str, text: &str) -> Option<Attempt> {
    let fail = |account: &str, address: Option<&str>, kind| {
        Some(attempt(
            message,
            account,
            address,
            Outcome::Failure,
            Some(kind),
        ))
    };
    let text_no_preauth = text.strip_suffix(" [preauth]").unwrap_or(text);
    if let Some(rest) = text.strip_prefix("Invalid user ") {
        let (user, address) = split_user_and_address(rest)?;
        return fail(user, Some(address), FailureKind::UnknownAccount);
    }
    if let Some(rest) = text.strip_prefix("User ")
        && let Some((head, _reason)) = rest.split_once(" not allowed because ")
        && let Some((user, address)) = head.rsplit_once(" from ")
    {
        return fail(user, Some(address), FailureKind::Other);
    }
    if let Some(rest) = text_no_preauth.strip_prefix("ROOT LOGIN REFUSED FROM ") {
        let address = rest.split(' ').next().unwrap_or_default();
        return fail("root", Some(address), FailureKind::Other);
    }
    if let Some(rest) = text.strip_prefix("refused connect from ") {
        // TCP wrappers: `refused connect from <name> (<addr>)`.
        let address = rest.rsplit_once('(').and_then(|(_, a)| a.strip_suffix(')'));
        return fail("", address, FailureKind::BlockedSource);
    }
    if let Some(rest) = text.strip_prefix("PAM: ") {
        let lower = rest.to_ascii_lowercase();
        let unknown = lower.starts_with("user not known");
        if !(unknown
            || lower.starts_with("authentication failure for ")
            || lower.starts_with("authentication error for "))
        {
            return None;
        }
        let (_, rest) = rest.split_once(" for ")?;
        let rest = rest.strip_prefix("illegal user ").unwrap_or(rest);
        let (user, tail) = rest.rsplit_once(" from ")?;
        let address = tail.split(' ').next();
        let kind = if unknown {
            FailureKind::UnknownAccount
        } else {
            FailureKind::BadPassword
        };
        return fail(user, address, kind);
    }
    if let Some(rest) =
        text_no_preauth.strip_prefix("maximum authentication attempts exceeded for ")
    {
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let (user, address) = split_user_and_address(rest)?;
        return fail(user, Some(address), FailureKind::Other);
    }
    if let Some(rest) =
        text_no_preauth.strip_prefix("Disconnecting: Too many authentication failures")
    {
        let user = rest.strip_prefix(" for ").unwrap_or_default();
        let user = user.strip_prefix("invalid user ").unwrap_or(user);
        return fail(user, None, FailureKind::Other);
    }
    if let Some(rest) = text_no_preauth
        .strip_prefix("Disconnecting invalid user ")
        .or_else(|| text_no_preauth.strip_prefix("Disconnecting authenticating user "))
        && let Some((who, _reason)) = rest.split_once(": ")
    {
        let (user, address) = user_address_port(who)?;
        return fail(user, Some(address), FailureKind::Other);
    }
    if let Some(rest) = text.strip_prefix("Received disconnect from ")
        && let Some((who, reason)) = rest.split_once(':')
        && reason.trim_start().starts_with("3:")
        && reason.contains("Auth fail")
    {
        let address = who.split(' ').next();
        return fail("", address, FailureKind::BadPassword);
    }
    None
}

/// Clients that left, or were turned away, before trying a credential.
fn pre_auth(message: &str, text: &str) -> Option<Attempt> {
    let event = |account: &str, address: Option<&str>| {
        Some(attempt(message, account, address, Outcome::PreAuth, None))
    };
    let preauth = text.strip_suffix(" [preauth]");
    if let Some(rest) = preauth {
        for prefix in [
            "Connection closed by ",
            "Connection reset by ",
            "Disconnected from ",
        ] {
            if let Some(who) = rest.strip_prefix(prefix) {
                let who = who
                    .strip_prefix("authenticating user ")
                    .or_else(|| who.strip_prefix("invalid user "));
                let (user, address) = match who {
                    Some(who) => user_address_port(who)?,
                    None => (
                        "",
                        rest[prefix.len()..].split(' ').next().unwrap_or_default(),
                    ),
                };
                return event(user, Some(address));
            }
        }
        if let Some(rest) = rest.strip_prefix("Received disconnect from ")
            && let Some((who, reason)) = rest.split_once(':')
            && !reason.trim_start().starts_with("3:")
        {
            return event("", who.split(' ').next());
        }
    }
    if let Some(rest) = text.strip_prefix("Did not receive identification string from ") {
        return event("", rest.split(' ').next());
    }
    if text.starts_with("Bad protocol version identification ")
        && let Some((_, tail)) = text.rsplit_once(" from ")
    {
        return event("", tail.split(' ').next());
    }
    if let Some(rest) = text.strip_prefix("Unable to negotiate with ") {
        return event("", rest.split(' ').next());
    }
    if let Some(rest) = text.strip_prefix("banner exchange: Connection from ") {
        return event("", rest.split(' ').next());
    }
    let no_address = [
        "kex_exchange_identification: ",
        "Unable to negotiate a key exchange method",
        "no matching ",
        "Read from socket failed: Connection reset by peer",
    ];
    // These name no address (sshd logged it on an earlier line of the connection), but
    // they still say a client probed the server; a detector can count them per host.
    if no_address.iter().any(|p| text.starts_with(p))
        && (preauth.is_some() || text.starts_with("kex_exchange_identification: "))
    {
        return event("", None);
    }
    None
}

/// `<user> <addr> port <n>`, where the user name may hold spaces (it is the client's).
fn user_address_port(who: &str) -> Option<(&str, &str)> {
    let who = match who.rsplit_once(" port ") {
        Some((head, port)) if port.parse::<u16>().is_ok() => head,
        _ => who,
    };
    Some(who.rsplit_once(' ').unwrap_or(("", who)))
}

/// `message repeated N times: [ <message>]`, with `rest` after "message repeated ".
fn parse_repeated(message: &str, rest: &str) -> Result<Option<Attempt>, RecordError> {
    let malformed = || RecordError::Sshd {
        message: message.to_owned(),
        expected: "`message repeated <N> times: [ <message>]`",
    };
    let (count, inner) = rest.split_once(" times: [").ok_or_else(malformed)?;
    let inner = inner.strip_suffix(']').ok_or_else(malformed)?;
    let count = count.parse::<u32>().map_err(|_| malformed())?;
    if count > MAX_REPEAT {
        return Err(RecordError::Sshd {
            message: message.to_owned(),
            expected: "a repeat count of at most 10000",
        });
    }
    // Nested repeats are not something rsyslog writes; treat them as a plain message.
    if inner.trim_start().starts_with("message repeated ") {
        return Err(malformed());
    }
    Ok(parse_message(inner)?.map(|attempt| Attempt {
        count: count.max(1),
        ..attempt
    }))
}

/// Splits `<user> from <address> port <n> [sshN][: <info>]` at the right ` from `. User
/// names are chosen by the client and may themselves contain " from 1.2.3.4 port 22", and
/// so may the auth info after `: `. As fail2ban does, a one-word user followed by the end
/// or by `: ` wins; otherwise the rightmost ` from ` followed by an address and port.
fn split_user_and_address(rest: &str) -> Option<(&str, &str)> {
    let mut candidates = Vec::new();
    let mut fallback = None;
    for (i, _) in rest.match_indices(" from ") {
        let user = &rest[..i];
        let tail = &rest[i + " from ".len()..];
        let mut words = tail.splitn(4, ' ');
        let address = words.next().unwrap_or_default();
        if address.is_empty() {
            continue;
        }
        match (words.next(), words.next()) {
            (Some("port"), Some(port)) if port.trim_end_matches(':').parse::<u16>().is_ok() => {
                let after_port = &tail[address.len() + " port ".len() + port.len()..];
                candidates.push((user, address, port.ends_with(':'), after_port));
            }
            // Old sshd wrote no port: "Invalid user x from 1.2.3.4".
            (None, _) | (Some("[preauth]"), _) => fallback = Some((user, address)),
            _ => {}
        }
    }
    let ends_cleanly = |after: &str, colon: bool| {
        let after = after.trim_start_matches(' ');
        let after = after
            .strip_prefix("ssh2")
            .or_else(|| after.strip_prefix("ssh1"))
            .unwrap_or(after);
        colon || after.is_empty() || after.starts_with(':') || after.trim() == "[preauth]"
    };
    if let Some(&(user, address, _, _)) = candidates
        .iter()
        .find(|(user, _, colon, after)| !user.contains(' ') && ends_cleanly(after, *colon))
    {
        return Some((user, address));
    }
    if let Some(&(user, address, _, _)) = candidates.last() {
        return Some((user, address));
    }
    // A leading " from " means the user name is empty.
    fallback.or_else(|| {
        let tail = rest.strip_prefix("from ")?;
        Some(("", tail.split(' ').next()?))
    })
}

impl Attempt {
    /// The attempt as `count` sign-ins at `time`.
    pub fn into_sign_ins(self, time: Timestamp, origin: &Origin) -> Vec<SignIn> {
        let sign_in = SignIn {
            time,
            account: self.account,
            source_ip: self.source_ip,
            outcome: self.outcome,
            failure_kind: self.failure_kind,
            protocol: Protocol::Ssh,
            app: Some("sshd".to_owned()),
            result_code: None,
            reason: Some(self.message),
            record_id: None,
            country: None,
            asn: None,
            user_agent: None,
            format: Format::Sshd,
            origin: origin.clone(),
            authentication: None,
        };
        vec![sign_in; self.count.max(1) as usize]
    }
}

#[cfg(test)]
mod tests;
