//! Exim authenticator failures and the SMTP-level probes around them.
//!
//! This module owns which Exim main-log messages are sign-ins:
//!
//! - `<driver> authenticator failed for <helo> [1.2.3.4]: 535 Incorrect authentication
//!   data (set_id=user)` is a failure; `set_id` names the account when present.
//! - `SMTP protocol error in "AUTH …" … AUTH command used when not advertised`, SMTP
//!   synchronisation errors, `no MAIL in SMTP connection` and `dropped: too many …` are
//!   pre-authentication events: clients probing the server without a usable login.
//! - Everything else (sender verification, relay and recipient rejections) is noise: mail
//!   being refused, not anyone signing in.

use model::{FailureKind, Format, Outcome, Protocol};

use crate::services::{ServiceEvent, last_bracketed_ip};

/// Parses an Exim message (from its own log or from syslog); `None` for anything that is
/// not a sign-in or a pre-auth event.
pub fn parse_message(message: &str) -> Option<ServiceEvent> {
    let event = |outcome, address_part: &str| ServiceEvent {
        source_ip: last_bracketed_ip(address_part),
        protocol: Protocol::Smtp,
        ..ServiceEvent::new(outcome, Format::Exim, "exim", message)
    };
    if let Some(at) = message.find(" authenticator failed for ") {
        let rest = &message[at..];
        let (client, reason) = rest.split_once(": 535")?;
        // ` I=[10.0.0.1]:25` is the local interface, not the client.
        let client = client.split(" I=[").next().unwrap_or(client);
        let mut failed = event(Outcome::Failure, client);
        failed.failure_kind = Some(FailureKind::BadPassword);
        failed.account = reason
            .rsplit_once("(set_id=")
            .and_then(|(_, id)| id.strip_suffix(')'))
            .unwrap_or_default()
            .to_owned();
        return Some(failed);
    }
    let until_interface = |text: &'static str| {
        let at = message.find(text)?;
        let client = &message[..at + text.len()];
        let client = message[at..]
            .find(" I=[")
            .map_or(client, |i| &message[..at + i]);
        Some(client)
    };
    let probes = [
        " AUTH command used when not advertised",
        "SMTP protocol synchronization error",
        "no MAIL in SMTP connection from ",
        " dropped: too many ",
    ];
    for probe in probes {
        if message.contains(probe) {
            let client = if probe == " AUTH command used when not advertised" {
                until_interface(probe).unwrap_or(message)
            } else {
                message.split(" I=[").next().unwrap_or(message)
            };
            return Some(event(Outcome::PreAuth, client));
        }
    }
    None
}

#[cfg(test)]
mod tests;
