//! Parsers that turn sign-in logs into normalised [`SignIn`] events.
//!
//! This crate owns format sniffing and one parser per source format: Microsoft Graph
//! `signIn` records ([`entra`]), Entra sign-ins as Azure Monitor and Log Analytics export
//! them ([`entra_la`]), Office 365 audit records ([`o365`]), Okta System Log events
//! ([`okta`]), Google Workspace login activities ([`google`]), OpenSSH `sshd` lines
//! ([`sshd`]) inside syslog lines (`syslog`), Dovecot, Postfix, Exim and Roundcube login
//! lines ([`services`] routes them to [`dovecot`], [`postfix`], [`exim`] and
//! [`roundcube`]), Windows Security events as JSON or `.evtx` ([`windows`]), and a
//! [`SourceReader`] that turns a file or stream into records.
//!
//! Only the identity providers record how strongly a sign-in was authenticated, so only
//! [`entra`], [`entra_la`], [`okta`] and [`google`] fill [`SignIn::authentication`], each
//! with a table of what its source's values mean; every other parser leaves it `None`.
//!
//! [`parse_line`] reads one line on its own. [`LineParser`] reads the lines of one stream
//! in order and keeps a small, bounded memory of recent sshd connections
//! ([`SessionTracker`]), because some sshd lines mean a failure only after certain earlier
//! lines of the same connection; [`SourceReader`] uses one per file, and any intake that
//! receives a stream of lines (HTTP, syslog) should hold one per stream.
//!
//! Invariants: parsing is synchronous and, apart from that bounded connection memory, pure; it does no I/O beyond the `Read` it is
//! given, never reads the clock (the year of an RFC 3164 timestamp comes from
//! [`ParseOptions::default_year`]) and never panics, whatever the input. A bad record is
//! an error value that names what is wrong; it never stops the records after it.

pub mod dovecot;
pub mod entra;
pub mod entra_la;
mod error;
pub mod exim;
pub mod google;
mod json;
pub mod o365;
pub mod okta;
pub mod postfix;
mod reader;
pub mod roundcube;
pub mod services;
pub mod sshd;
mod syslog;
#[cfg(test)]
mod test_support;
pub mod windows;

use jiff::tz::TimeZone;
use model::{Format, Origin, SignIn};

pub use error::RecordError;
pub use reader::{Record, SourceReader};
pub use sshd::SessionTracker;

/// The longest line [`parse_line`] and [`SourceReader`] accept unless told otherwise.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// The largest whole JSON document [`SourceReader`] reads unless told otherwise.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 1024 * 1024 * 1024;

/// Settings that parsing needs but the input does not carry.
///
/// There is deliberately no `Default`: RFC 3164 syslog timestamps have no year, and only
/// the caller knows the clock. Build one with [`ParseOptions::for_year`] and override
/// fields with struct update syntax.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// The year given to syslog timestamps that carry none (RFC 3164, `Mar  1 03:14:15`).
    /// Callers set it from their clock, or from the file's modification time for old
    /// files; a file that spans New Year gets the wrong year for one side of it.
    pub default_year: i16,
    /// The zone of syslog timestamps without an offset. UTC from [`ParseOptions::for_year`].
    pub time_zone: TimeZone,
    /// Lines longer than this are rejected without being buffered whole.
    pub max_line_bytes: usize,
    /// Whole-document JSON files larger than this are rejected.
    pub max_document_bytes: u64,
}

impl ParseOptions {
    /// Options for input whose year-less timestamps fall in `default_year`, read as UTC,
    /// with the default size limits.
    pub fn for_year(default_year: i16) -> ParseOptions {
        ParseOptions {
            default_year,
            time_zone: TimeZone::UTC,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

/// What one line or record turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Sign-in attempts. Usually one; a Graph list page or an rsyslog
    /// `message repeated N times` line gives several, and the vector is never empty.
    SignIns(Vec<SignIn>),
    /// A valid line that is not a sign-in attempt: another daemon's syslog line, an sshd
    /// line about something else, an empty line.
    Noise,
    /// A record of a known format that is not a sign-in attempt: an Okta
    /// `user.account.reset_password`, an Exchange `MailItemsAccessed`, a Google
    /// `gov_attack_warning`. Counted like [`Parsed::Noise`] today; named so that the
    /// service can act on some of them later.
    OtherEvent {
        format: Format,
        /// The source's own name for the event (`eventType`, `Operation`, the Azure
        /// Monitor category, `application.event` for Google).
        event_type: String,
    },
}

/// Parses one line of input: a JSON record if it starts with `{` (after whitespace), of
/// whichever supported vendor shape its fields say, otherwise a syslog line.
///
/// `origin` is stamped on every [`SignIn`] produced so that a user can find the line again.
///
/// The line is read on its own. sshd lines whose meaning depends on earlier lines of the
/// same connection are read as best one line allows; a caller that has a stream of lines
/// should hold a [`LineParser`] for it instead.
pub fn parse_line(line: &str, origin: Origin, opts: &ParseOptions) -> Result<Parsed, RecordError> {
    parse_line_in(line, origin, opts, None)
}

/// Parses the lines of one stream (a file, a syslog connection, an HTTP client's batch) in
/// order, remembering what each sshd connection said before so that its later lines are
/// read the way fail2ban reads them ([`SessionTracker`]).
///
/// [`SourceReader`] holds one per file. An intake that receives lines from several
/// sources should hold one per source, so that lines of unrelated streams never meet; its
/// memory is bounded by the tracker's capacity whatever the input.
#[derive(Debug)]
pub struct LineParser {
    opts: ParseOptions,
    sessions: SessionTracker,
}

impl LineParser {
    /// A parser with a tracker of [`sshd::DEFAULT_MAX_CONNECTIONS`] connections.
    pub fn new(opts: ParseOptions) -> LineParser {
        LineParser::with_sessions(opts, SessionTracker::new())
    }

    /// A parser using `sessions`, for a tracker of another capacity.
    pub fn with_sessions(opts: ParseOptions, sessions: SessionTracker) -> LineParser {
        LineParser { opts, sessions }
    }

    /// The options lines are parsed with.
    pub fn options(&self) -> &ParseOptions {
        &self.opts
    }

    /// Parses the next line of the stream, like [`parse_line`] but in context.
    pub fn parse(&mut self, line: &str, origin: Origin) -> Result<Parsed, RecordError> {
        parse_line_in(line, origin, &self.opts, Some(&mut self.sessions))
    }
}

fn parse_line_in(
    line: &str,
    origin: Origin,
    opts: &ParseOptions,
    sessions: Option<&mut SessionTracker>,
) -> Result<Parsed, RecordError> {
    if line.len() > opts.max_line_bytes {
        return Err(RecordError::LineTooLong {
            length: line.len() as u64,
            limit: opts.max_line_bytes,
        });
    }
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        if let Some(result) = windows::try_parse(trimmed, &origin, opts) {
            return result;
        }
        json::parse(trimmed, &origin)
    } else {
        services::parse_text_line_in(line, &origin, opts, sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin::FileLine {
            file: "t".into(),
            line: 1,
        }
    }

    #[test]
    fn over_long_lines_are_rejected_with_their_length() {
        let opts = ParseOptions {
            max_line_bytes: 10,
            ..ParseOptions::for_year(2026)
        };
        let err = parse_line("01234567890", origin(), &opts).expect_err("too long");
        assert_eq!(
            err.to_string(),
            "line is 11 bytes, longer than the limit of 10"
        );
    }

    #[test]
    fn blank_lines_are_noise() {
        let opts = ParseOptions::for_year(2026);
        assert_eq!(parse_line("", origin(), &opts), Ok(Parsed::Noise));
        assert_eq!(parse_line("   ", origin(), &opts), Ok(Parsed::Noise));
    }
}
