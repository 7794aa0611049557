//! Roundcube webmail login lines, from its own `logs/errors` and `logs/userlogins` files
//! (`[22-Jan-2013 22:28:21 +0200]: <sessid> …`) or from syslog (`roundcube: …`).
//!
//! This module owns that framing and what the messages mean: `FAILED login for <user>
//! from <addr>`, `Failed login for <user> from <addr> in session …` and `IMAP Error: Login
//! failed for <user> [against <server>] from <addr>. …` are failures; `Successful login
//! for <user> (ID: n) from <addr> …` is a success. The user name is typed by the client and
//! may itself hold ` from 1.2.3.4`, so the address is taken after the last ` from `
//! that is followed by one.

use jiff::Timestamp;
use model::{FailureKind, Format, Outcome, Protocol};

use crate::services::{ServiceEvent, parse_ip};

/// Splits Roundcube's own `[dd-Mon-yyyy hh:mm:ss +zzzz]: message` framing.
pub(crate) fn frame(line: &str) -> Option<(Timestamp, &str)> {
    let rest = line.strip_prefix('[')?;
    let (stamp, message) = rest.split_once("]: ")?;
    let time = jiff::fmt::strtime::parse("%d-%b-%Y %H:%M:%S %z", stamp)
        .ok()?
        .to_timestamp()
        .ok()?;
    Some((time, message))
}

/// Parses a Roundcube message; `None` for anything that is not a login.
pub fn parse_message(message: &str) -> Option<ServiceEvent> {
    // Roundcube 1.1+ puts the session id first: `<3z506z6r> IMAP Error: …`.
    let text = match message.strip_prefix('<') {
        Some(rest) => rest.split_once("> ").map_or(message, |(_, text)| text),
        None => message,
    };
    let (outcome, rest) = if let Some(rest) = text
        .strip_prefix("IMAP Error: Login failed for ")
        .or_else(|| text.strip_prefix("FAILED login for "))
        .or_else(|| text.strip_prefix("Failed login for "))
    {
        (Outcome::Failure, rest)
    } else if let Some(rest) = text.strip_prefix("Successful login for ") {
        (Outcome::Success, rest)
    } else {
        return None;
    };
    let (user, source_ip) = split_user_and_address(rest)?;
    // `alice (ID: 12)` on success lines.
    let user = match user.rsplit_once(" (ID: ") {
        Some((user, _)) if outcome == Outcome::Success => user,
        _ => user,
    };
    // `admin against imap.example.org`: the IMAP server the login was tried on.
    let user = user.split(" against ").next().unwrap_or(user);
    Some(ServiceEvent {
        account: user.to_owned(),
        source_ip,
        failure_kind: (outcome == Outcome::Failure).then_some(FailureKind::BadPassword),
        protocol: Protocol::Browser,
        ..ServiceEvent::new(outcome, Format::Roundcube, "roundcube", message)
    })
}

/// `<user> from <addr>[.][(X-Real-IP …)][ rest]`: the last ` from ` followed by an address
/// wins, so that a user name cannot choose the address.
fn split_user_and_address(rest: &str) -> Option<(&str, Option<std::net::IpAddr>)> {
    for (at, _) in rest.rmatch_indices(" from ") {
        let tail = &rest[at + " from ".len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
            .unwrap_or(tail.len());
        let candidate = tail[..end].trim_end_matches('.');
        let after = &tail[candidate.len()..];
        if let Some(ip) = parse_ip(candidate)
            && ends_address(after)
        {
            return Some((&rest[..at], Some(ip)));
        }
    }
    None
}

/// Whether the text after an address is what Roundcube writes there: nothing, `.`, the
/// proxy headers `(X-Real-IP: …)`, ` in session …`, or `. AUTHENTICATE PLAIN: <IMAP reply>`.
fn ends_address(after: &str) -> bool {
    if after.is_empty()
        || after == "."
        || after.starts_with('(')
        || after.starts_with(" in session")
    {
        return true;
    }
    let Some(reply) = after.strip_prefix(". ") else {
        return false;
    };
    let Some((word, rest)) = reply.split_once(' ') else {
        return false;
    };
    !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest
            .split_once(':')
            .is_some_and(|(_, after)| after.starts_with(' '))
}

#[cfg(test)]
mod tests;
