//! OpenSSH `sshd` authentication messages inside syslog lines.
//!
//! This module owns which sshd messages are sign-in attempts and what they mean. The rules,
//! chosen so that one attempt is counted once:
//!
//! - `Failed <method> for [invalid user ]<user> from <addr> port <n> ssh2` is a failure and
//!   `Accepted <method> for <user> from …` a success. `invalid user` makes the failure
//!   [`FailureKind::UnknownAccount`]; a wrong password or keyboard-interactive/PAM answer
//!   for a real user is [`FailureKind::BadPassword`]; a refused public key is
//!   [`FailureKind::Other`], because clients holding several keys offer them in turn and
//!   a refused key is not a guessed password.
//! - `Failed none for …` is noise: it is the client asking which methods are allowed,
//!   not a guess (fail2ban counts it only in its aggressive mode).
//! - `Invalid user <user> from <addr>` and `User <user> from <addr> not allowed because …`
//!   are noise: sshd follows them with `Failed … for invalid user <user>` for each try,
//!   and that line is the event. A client that gives up before trying a password is
//!   therefore not counted, which costs nothing for detecting guessing.
//! - `message repeated N times: [ <message>]` (rsyslog's reduction) is N attempts.
//! - Everything else sshd says (disconnects, `maximum authentication attempts exceeded`,
//!   PAM session lines) is noise: the attempts behind it were already counted.

use std::net::IpAddr;

use jiff::Timestamp;
use model::{FailureKind, Format, Origin, Outcome, Protocol, SignIn};

use crate::{ParseOptions, Parsed, RecordError, syslog};

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
fn looks_like_sshd(line: &str) -> bool {
    ["sshd[", "sshd:", "sshd-session", " sshd "]
        .iter()
        .any(|needle| line.contains(needle))
}

/// Parses the message part of an sshd line: `Some` for a sign-in attempt, `None` for
/// anything else sshd says.
pub fn parse_message(message: &str) -> Result<Option<Attempt>, RecordError> {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("message repeated ") {
        return parse_repeated(message, rest);
    }
    let (outcome, rest) = if let Some(rest) = message.strip_prefix("Failed ") {
        (Outcome::Failure, rest)
    } else if let Some(rest) = message.strip_prefix("Accepted ") {
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
        source_ip: address.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()),
        outcome,
        failure_kind,
        count: 1,
        message: message.to_owned(),
    }))
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

/// Splits `<user> from <address> port <n> …` at the right ` from `: user names are chosen
/// by the client and may themselves contain " from 1.2.3.4 port 22", so the rightmost
/// ` from ` followed by an address-and-port wins.
fn split_user_and_address(rest: &str) -> Option<(&str, &str)> {
    let mut fallback = None;
    for (i, _) in rest.rmatch_indices(" from ") {
        let user = &rest[..i];
        let tail = &rest[i + " from ".len()..];
        let mut words = tail.split(' ');
        let address = words.next().unwrap_or_default();
        if address.is_empty() {
            continue;
        }
        match (words.next(), words.next()) {
            (Some("port"), Some(port)) if port.parse::<u16>().is_ok() => {
                return Some((user, address));
            }
            // Old sshd wrote no port: "Invalid user x from 1.2.3.4".
            (None, _) | (Some("[preauth]"), _) => fallback = fallback.or(Some((user, address))),
            _ => {}
        }
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
        };
        vec![sign_in; self.count.max(1) as usize]
    }
}

#[cfg(test)]
mod tests;
