//! Dovecot IMAP, POP3, submission and ManageSieve authentication lines.
//!
//! This module owns what Dovecot's login processes (`imap-login: … rip=1.2.3.4`) and its
//! auth processes (`auth-worker(304): pam(user,1.2.3.4): unknown user`) mean:
//!
//! - `… (auth failed, N attempts …): user=<x>, method=PLAIN, rip=…` and the plaintext
//!   refusals (`tried to use disabled plaintext auth`) are failures; `Login: user=<x>, …`
//!   is a success.
//! - `<driver>(user,1.2.3.4[,session]): unknown user | Password mismatch | …` from the auth
//!   process is a failure with its kind, and so is `pam_unix(dovecot:auth): authentication
//!   failure; … rhost=…`.
//! - `(no auth attempts …)`, `(disconnected before auth was ready …)` and `(client didn't
//!   finish SASL auth …)` are pre-authentication events: a client, usually a scanner, that
//!   connected and left without trying a password.
//!
//! A login process line and an auth process line may describe the same attempt when
//! `auth_verbose` is on; Dovecot's default logs only the first kind, so both are counted.

use model::{FailureKind, Format, Outcome, Protocol};

use crate::services::{ServiceEvent, field, parse_ip};

/// Programs (syslog tags) Dovecot's processes log under.
pub fn is_program(program: &str) -> bool {
    matches!(program, "dovecot" | "dovecot-auth" | "auth")
        || program.ends_with("-login")
        || program.starts_with("auth-worker")
        || program.starts_with("auth(")
}

/// Password-check drivers that log `driver(user,ip…): result`.
const DRIVERS: &[&str] = &[
    "pam(",
    "passwd-file(",
    "sql(",
    "ldap(",
    "passwd(",
    "shadow(",
    "checkpassword(",
    "bsdauth(",
    "lua(",
    "oauth2(",
    "static(",
    "dict(",
];

/// Parses a Dovecot message; `None` for anything that is not an authentication event.
pub fn parse_message(program: &str, message: &str) -> Option<ServiceEvent> {
    let protocol = protocol_of(program, message);
    if message.contains("rip=") {
        return login_process(message, protocol);
    }
    if let Some(rest) = message.split("pam_unix(dovecot:auth): ").nth(1) {
        if !rest.starts_with("authentication failure") {
            return None;
        }
        let mut event = failure(message, protocol, FailureKind::BadPassword);
        event.source_ip = field(rest, "rhost=").and_then(parse_ip);
        event.account = field(rest, "user=")
            .or_else(|| field(rest, "ruser="))
            .unwrap_or_default()
            .to_owned();
        return Some(event);
    }
    auth_process(message, protocol)
}

fn protocol_of(program: &str, message: &str) -> Protocol {
    let head = format!("{program} {}", message.get(..40).unwrap_or(message));
    if head.contains("pop3") {
        Protocol::Pop3
    } else if head.contains("imap") {
        Protocol::Imap
    } else if head.contains("submission") {
        Protocol::Smtp
    } else {
        Protocol::Unknown
    }
}

fn failure(message: &str, protocol: Protocol, kind: FailureKind) -> ServiceEvent {
    ServiceEvent {
        failure_kind: Some(kind),
        protocol,
        ..ServiceEvent::new(Outcome::Failure, Format::Dovecot, "dovecot", message)
    }
}

/// `imap-login: Disconnected (auth failed, 1 attempts): user=<x>, method=PLAIN, rip=…`.
fn login_process(message: &str, protocol: Protocol) -> Option<ServiceEvent> {
    let (outcome, kind) =
        if message.contains("(auth failed") || message.contains("(proxy dest auth failed)") {
            (Outcome::Failure, Some(FailureKind::BadPassword))
        } else if message.contains("plaintext auth)") {
            // The client sent a password in the clear where that is refused: a guess whose
            // result the server never checked.
            (Outcome::Failure, Some(FailureKind::Other))
        } else if message.contains("(no auth attempts")
            || message.contains("(disconnected before auth was ready")
            || message.contains("(client didn't finish SASL auth")
        {
            (Outcome::PreAuth, None)
        } else if message.contains("Login: user=<") {
            (Outcome::Success, None)
        } else {
            return None;
        };
    // Fields follow the last "): " or ": " before `user=`/`rip=`; the free text before
    // them may hold anything the client sent.
    let fields_at = message
        .find(": user=<")
        .or_else(|| message.rfind(" rip="))
        .unwrap_or(0);
    let fields = &message[fields_at..];
    Some(ServiceEvent {
        account: field(fields, "user=").unwrap_or_default().to_owned(),
        source_ip: field(fields, "rip=").and_then(parse_ip),
        failure_kind: kind,
        protocol,
        ..ServiceEvent::new(outcome, Format::Dovecot, "dovecot", message)
    })
}

/// `auth-worker(304): pam(user,1.2.3.4): pam_authenticate() failed: …` and the like.
fn auth_process(message: &str, protocol: Protocol) -> Option<ServiceEvent> {
    let (start, driver) = DRIVERS
        .iter()
        .filter_map(|d| find_driver(message, d).map(|at| (at, *d)))
        .min_by_key(|(at, _)| *at)?;
    let inside_start = start + driver.len();
    let close = message[inside_start..].find("): ")? + inside_start;
    let inside = &message[inside_start..close];
    let result = &message[close + 3..];
    let kind = if result.contains("unknown user") || result.contains("User not known") {
        FailureKind::UnknownAccount
    } else if result.contains("assword mismatch")
        || result.contains("Authentication failure")
        || result.contains("invalid credentials")
        || result.contains("Permission denied")
    {
        FailureKind::BadPassword
    } else {
        return None;
    };
    // `user,1.2.3.4[,<session>]`: the address is the first part after the user that is
    // one, so a user name holding a comma still reads right.
    let parts: Vec<&str> = inside.split(',').collect();
    let ip_index = (1..parts.len()).find(|&i| parse_ip(parts[i]).is_some());
    let (account, source_ip) = match ip_index {
        Some(i) => (parts[..i].join(","), parse_ip(parts[i])),
        None => (parts.first().copied().unwrap_or_default().to_owned(), None),
    };
    Some(ServiceEvent {
        account,
        source_ip,
        ..failure(message, protocol, kind)
    })
}

/// Where `driver(` starts as a word of its own (not `xpam(`).
fn find_driver(message: &str, driver: &str) -> Option<usize> {
    message
        .match_indices(driver)
        .map(|(at, _)| at)
        .find(|&at| at == 0 || matches!(message.as_bytes()[at - 1], b' ' | b':' | b'>'))
}

#[cfg(test)]
mod tests;
