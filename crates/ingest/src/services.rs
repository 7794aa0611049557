//! Text lines from mail and login services: which framing a line has and which service's
//! parser reads its message.
//!
//! This module owns the framings that are not plain syslog — Exim's and Dovecot's own
//! `2013-01-04 17:03:46 …` logs, Roundcube's `[22-Jan-2013 22:28:21 +0200]: …` files and
//! daemontools' TAI64N `@4000… prog: …` stamps — and the routing of a message to
//! [`crate::sshd`], [`crate::dovecot`], [`crate::postfix`], [`crate::exim`] or
//! [`crate::roundcube`] by the program that wrote it. It knows nothing about what any
//! message means; each service module owns that, and returns a [`ServiceEvent`].

use std::net::IpAddr;

use jiff::Timestamp;
use model::{FailureKind, Format, Origin, Outcome, Protocol, SignIn};

use crate::sshd::SessionTracker;
use crate::syslog::{self, Stamp};
use crate::{ParseOptions, Parsed, RecordError, dovecot, exim, postfix, roundcube, sshd};

/// One authentication event a service logged, before it is given a time and an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEvent {
    /// The account as the service logged it, lower-cased; empty when it logged none.
    pub account: String,
    /// The client address, when the line names one as an address (not a host name).
    pub source_ip: Option<IpAddr>,
    /// Success, failure, or a client that left before trying a credential.
    pub outcome: Outcome,
    /// Why it failed; `None` unless `outcome` is a failure.
    pub failure_kind: Option<FailureKind>,
    /// The protocol the client used, as far as the line tells.
    pub protocol: Protocol,
    /// The service, as [`SignIn::app`] names it (`dovecot`, `postfix`).
    pub app: &'static str,
    /// The format the line was read as.
    pub format: Format,
    /// The service's own message, kept as [`SignIn::reason`].
    pub message: String,
}

impl ServiceEvent {
    /// An event of `outcome` with no account, address or kind yet; callers fill those.
    pub(crate) fn new(outcome: Outcome, format: Format, app: &'static str, message: &str) -> Self {
        ServiceEvent {
            account: String::new(),
            source_ip: None,
            outcome,
            failure_kind: None,
            protocol: Protocol::Unknown,
            app,
            format,
            message: message.trim().to_owned(),
        }
    }

    /// The event as a sign-in at `time`.
    pub fn into_sign_in(self, time: Timestamp, origin: &Origin) -> SignIn {
        SignIn {
            time,
            account: self.account.to_lowercase(),
            source_ip: self.source_ip,
            outcome: self.outcome,
            failure_kind: if self.outcome == Outcome::Failure {
                self.failure_kind.or(Some(FailureKind::Other))
            } else {
                None
            },
            protocol: self.protocol,
            app: Some(self.app.to_owned()),
            result_code: None,
            reason: Some(self.message),
            record_id: None,
            country: None,
            asn: None,
            user_agent: None,
            format: self.format,
            origin: origin.clone(),
            authentication: None,
        }
    }
}

/// Reads `text` as an IP address, accepting `[…]` around it and turning IPv4-mapped IPv6
/// into IPv4.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim_start_matches('[').trim_end_matches(']');
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The address in the last `[…]` of `text` that holds one (`host[1.2.3.4]`,
/// `(helo) [1.2.3.4]:25`): mail servers put the client-chosen HELO name first, so the last
/// bracketed address is the one the server saw.
pub(crate) fn last_bracketed_ip(text: &str) -> Option<IpAddr> {
    let mut end = text.len();
    while let Some(close) = text[..end].rfind(']') {
        let open = text[..close].rfind('[')?;
        if let Some(ip) = parse_ip(&text[open + 1..close]) {
            return Some(ip);
        }
        end = open;
    }
    None
}

/// The value of `key=` in a comma- or space-separated list (`user=<bob>, rip=1.2.3.4`),
/// without the `<…>` dovecot puts around user names.
pub(crate) fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut search = 0;
    while let Some(found) = text[search..].find(key) {
        let at = search + found;
        let boundary = at == 0 || matches!(text.as_bytes()[at - 1], b' ' | b',' | b'(' | b';');
        let value_start = at + key.len();
        if boundary {
            let rest = &text[value_start..];
            if let Some(inner) = rest.strip_prefix('<') {
                return inner.split_once('>').map(|(value, _)| value);
            }
            let end = rest.find([',', ' ', ')']).unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
        search = value_start;
    }
    None
}

/// A line split into its time and, when it has one, the program that wrote it.
struct Framed<'a> {
    when: When<'a>,
    program: Option<&'a str>,
    /// The host and process id of a syslog line, which name an sshd connection; `None`
    /// for framings that carry no pid, whose sshd lines are then read on their own.
    process: Option<(&'a str, &'a str)>,
    message: &'a str,
}

enum When<'a> {
    Syslog(Stamp<'a>),
    At(Timestamp),
}

/// Parses a text line in any supported framing and, if a known service wrote it, its
/// message. Lines from other programs are [`Parsed::Noise`].
pub fn parse_text_line(
    line: &str,
    origin: &Origin,
    opts: &ParseOptions,
) -> Result<Parsed, RecordError> {
    parse_text_line_in(line, origin, opts, None)
}

/// [`parse_text_line`], reading sshd lines in the light of their connection's earlier
/// lines when `sessions` is given.
pub(crate) fn parse_text_line_in(
    line: &str,
    origin: &Origin,
    opts: &ParseOptions,
    sessions: Option<&mut SessionTracker>,
) -> Result<Parsed, RecordError> {
    if line.trim().is_empty() {
        return Ok(Parsed::Noise);
    }
    let framed = match frame(line) {
        Ok(framed) => framed,
        Err(problem) if sshd::looks_like_sshd(line) => return Err(RecordError::header(problem)),
        Err(_) => return Ok(Parsed::Noise),
    };
    let events = route(framed.program, framed.process, framed.message, sessions)?;
    if events.is_empty() {
        return Ok(Parsed::Noise);
    }
    let time = match framed.when {
        When::Syslog(stamp) => stamp.resolve(opts)?,
        When::At(time) => time,
    };
    Ok(Parsed::SignIns(
        events
            .into_iter()
            .flat_map(|event| match event {
                Routed::Sshd(attempt) => attempt.into_sign_ins(time, origin),
                Routed::Service(event) => vec![event.into_sign_in(time, origin)],
            })
            .collect(),
    ))
}

enum Routed {
    Sshd(sshd::Attempt),
    Service(ServiceEvent),
}

/// Hands the message to the service that wrote it; an unknown or missing program (Exim's
/// own log has none) is tried against the services whose messages are unambiguous.
fn route(
    program: Option<&str>,
    process: Option<(&str, &str)>,
    message: &str,
    sessions: Option<&mut SessionTracker>,
) -> Result<Vec<Routed>, RecordError> {
    let service =
        |event: Option<ServiceEvent>| Ok(event.map(Routed::Service).into_iter().collect());
    match program {
        Some("sshd" | "sshd-session") => match (sessions, process) {
            (Some(sessions), Some((host, pid))) => Ok(sessions
                .observe(host, pid, message)?
                .into_iter()
                .map(Routed::Sshd)
                .collect()),
            _ => Ok(sshd::parse_message(message)?
                .map(Routed::Sshd)
                .into_iter()
                .collect()),
        },
        Some(p) if dovecot::is_program(p) => service(dovecot::parse_message(p, message)),
        Some(p) if p.starts_with("postfix") => service(postfix::parse_message(p, message)),
        Some("exim" | "exim4") => service(exim::parse_message(message)),
        Some("roundcube") => service(roundcube::parse_message(message)),
        Some(_) => Ok(Vec::new()),
        None => service(
            exim::parse_message(message)
                .or_else(|| roundcube::parse_message(message))
                .or_else(|| dovecot::parse_message("", message)),
        ),
    }
}

/// Splits a line into time, program and message, trying the non-syslog framings first
/// because their stamps would otherwise be misread as syslog headers.
fn frame(line: &str) -> Result<Framed<'_>, String> {
    if let Some(framed) = frame_tai64n(line)
        .or_else(|| {
            roundcube::frame(line)
                .map(|(time, message)| tagged(When::At(time), Some("roundcube"), message))
        })
        .or_else(|| frame_native(line))
    {
        return Ok(framed);
    }
    let split = syslog::split(line)?;
    Ok(Framed {
        when: When::Syslog(split.stamp),
        program: Some(split.program),
        process: split.pid.map(|pid| (split.host, pid)),
        message: split.message,
    })
}

fn tagged<'a>(when: When<'a>, program: Option<&'a str>, message: &'a str) -> Framed<'a> {
    Framed {
        when,
        program,
        process: None,
        message,
    }
}

/// `@4000000012345678abcdef01 prog: message` (daemontools multilog).
fn frame_tai64n(line: &str) -> Option<Framed<'_>> {
    let rest = line.strip_prefix('@')?;
    let (label, rest) = rest.split_once(' ')?;
    if label.len() != 24 {
        return None;
    }
    let seconds = u64::from_str_radix(label.get(..16)?, 16).ok()?;
    // TAI64 labels count from 2^62; TAI runs 10 s ahead of UTC before leap seconds,
    // which multilog's users ignore as well.
    let unix = i64::try_from(seconds.checked_sub(1 << 62)?).ok()?;
    let nanos = i32::try_from(u32::from_str_radix(label.get(16..)?, 16).ok()?).ok()?;
    let time = Timestamp::new(unix.checked_sub(10)?, nanos.min(999_999_999)).ok()?;
    let (program, message) = split_program(rest);
    Some(tagged(When::At(time), program, message))
}

/// `2013-01-04 17:03:46 message` as Exim and Dovecot write their own logs, optionally
/// followed by a syslog-style `host prog[pid]:` tag.
fn frame_native(line: &str) -> Option<Framed<'_>> {
    let bytes = line.as_bytes();
    let shape = bytes.len() > 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b' '
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[19] == b' '
        && bytes[..4].iter().all(u8::is_ascii_digit);
    if !shape {
        return None;
    }
    let stamp = line.get(..19)?;
    let rest = line.get(20..)?;
    let (program, message) = split_program(rest);
    let (program, message) = match program {
        Some(p) => (Some(p), message),
        // `mx1 exim[29786]: …`: a host, then the tag.
        None => match rest.split_once(' ') {
            Some((_host, after)) => match split_program(after) {
                (Some(p), m)
                    if p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c)) =>
                {
                    (Some(p), m)
                }
                _ => (None, rest),
            },
            None => (None, rest),
        },
    };
    Some(tagged(When::Syslog(Stamp::Iso(stamp)), program, message))
}

/// `prog[pid]: message` or `prog: message` at the start of `text`, if its first word is a
/// tag; otherwise no program and the whole text.
fn split_program(text: &str) -> (Option<&str>, &str) {
    let Some((tag, rest)) = text.split_once(": ") else {
        return (None, text);
    };
    if tag.is_empty() || tag.contains(char::is_whitespace) {
        return (None, text);
    }
    let program = tag.split_once('[').map_or(tag, |(program, _)| program);
    (Some(program), rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            last_bracketed_ip("(x) [8.8.8.8]\" H=(y) [192.0.2.6] AUTH"),
            parse_ip("192.0.2.6")
        );
        assert_eq!(
            last_bracketed_ip("h ([10.0.0.1]) [1.2.3.4]:25"),
            parse_ip("1.2.3.4")
        );
        assert_eq!(last_bracketed_ip("no [address] here"), None);
        assert_eq!(parse_ip("[::ffff:1.2.3.4]"), parse_ip("1.2.3.4"));
        assert_eq!(
            field("user=<a b>, rip=1.2.3.4, lip=5", "rip="),
            Some("1.2.3.4")
        );
        assert_eq!(field("user=<a b>, rip=1.2.3.4", "user="), Some("a b"));
        assert_eq!(
            field("ruser=rhost=1.2.3.4 rhost=9.9.9.9", "rhost="),
            Some("9.9.9.9")
        );
        assert_eq!(field("x", "rip="), None);
    }
}
