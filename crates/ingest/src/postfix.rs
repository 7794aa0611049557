//! Postfix `smtpd` SASL authentication lines and its pre-authentication disconnects.
//!
//! This module owns which Postfix messages are sign-ins:
//!
//! - `warning: host[1.2.3.4]: SASL LOGIN authentication failed: …` is a failure, unless
//!   the reason is the server's own (`Connection lost to authentication server`: Postfix
//!   could not ask, nobody guessed anything) or an unsupported mechanism, which is a
//!   client probing before it tries a password (pre-authentication).
//! - `client=host[1.2.3.4], sasl_method=PLAIN, sasl_username=alice` is a success.
//! - `lost connection after CONNECT|EHLO|STARTTLS|AUTH …`, `disconnect from … auth=0/N`
//!   and postscreen's `PREGREET`, `HANGUP` and `COMMAND … LIMIT` are pre-authentication
//!   events: clients, mostly scanners, that left or were cut off before signing in.
//! - Everything else, notably RBL, relay, HELO and recipient rejections, is noise: those
//!   are mail being refused, not anyone signing in.

use model::{FailureKind, Format, Outcome, Protocol};

use crate::services::{ServiceEvent, field, last_bracketed_ip};

/// Commands after which a lost connection means the client never got to a password.
const PRE_AUTH_COMMANDS: &[&str] = &["CONNECT", "EHLO", "HELO", "STARTTLS", "AUTH", "UNKNOWN"];

/// Parses a message from a Postfix program (`postfix/smtpd`, `postfix/submission/smtpd`,
/// `postfix/postscreen`); `None` for anything that is not a sign-in or a pre-auth event.
pub fn parse_message(_program: &str, message: &str) -> Option<ServiceEvent> {
    let event = |outcome, address_part: &str| ServiceEvent {
        source_ip: last_bracketed_ip(address_part),
        protocol: Protocol::Smtp,
        ..ServiceEvent::new(outcome, Format::Postfix, "postfix", message)
    };
    if let Some(rest) = message.strip_prefix("warning: ") {
        let at = rest.find(": SASL ")?;
        let after = &rest[at + ": SASL ".len()..];
        let (_mechanism, reason) = after.split_once(" authentication failed:")?;
        if reason.contains("Connection lost to authentication server") {
            return None;
        }
        let address = &rest[..at];
        if reason.contains("Invalid authentication mechanism") {
            return Some(event(Outcome::PreAuth, address));
        }
        let mut failed = event(Outcome::Failure, address);
        failed.failure_kind = Some(FailureKind::BadPassword);
        // Postfix 3.x appends `sasl_username=` when the client sent one.
        failed.account = field(reason, "sasl_username=")
            .unwrap_or_default()
            .to_owned();
        return Some(failed);
    }
    if message.contains("sasl_username=") && message.contains("client=") {
        let mut success = event(Outcome::Success, field(message, "client=")?);
        success.account = field(message, "sasl_username=")?.to_owned();
        return Some(success);
    }
    if let Some(rest) = message.strip_prefix("lost connection after ") {
        let (command, from) = rest.split_once(" from ")?;
        return PRE_AUTH_COMMANDS
            .contains(&command)
            .then(|| event(Outcome::PreAuth, from));
    }
    if let Some(rest) = message.strip_prefix("disconnect from ") {
        // `auth=0/1`: the client tried and failed, and the SASL warning already counted
        // it; what is left is a connection that never signed in.
        let failed_auth = rest
            .split(' ')
            .any(|word| word.strip_prefix("auth=0/").is_some());
        return failed_auth.then(|| event(Outcome::PreAuth, rest));
    }
    let postscreen = [
        "PREGREET ",
        "HANGUP ",
        "COMMAND TIME LIMIT ",
        "COMMAND COUNT LIMIT ",
    ];
    if postscreen.iter().any(|p| message.starts_with(p)) {
        return Some(event(Outcome::PreAuth, message));
    }
    None
}

#[cfg(test)]
mod tests;
