//! The error a bad line or record gets: what is wrong, and what was expected instead.
//!
//! The position (file, line, record) is not part of the error; it travels beside it in
//! [`crate::Record::origin`], so that the same error reads well for a file and for an
//! HTTP request.

use std::fmt;

/// Why one line or record could not be turned into sign-ins. Its `Display` is a sentence
/// meant for the person who fed the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The text is not JSON.
    #[error("invalid JSON at {}: {message}", Position(*line, *column))]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON is well formed but not a shape this crate knows.
    #[error(
        "JSON record is not a recognised sign-in format: expected a Microsoft Graph signIn \
         with `createdDateTime` and `userPrincipalName`, an Azure Monitor or Log Analytics \
         sign-in, an Office 365 audit record, an Okta System Log event or a Google \
         Workspace activity{}",
        Hint(*hint)
    )]
    UnrecognisedJson { hint: Option<&'static str> },
    /// A field of a recognised record is missing or has a value that cannot be used.
    #[error("field `{field}`: {problem}")]
    Field { field: String, problem: String },
    /// A line longer than [`crate::ParseOptions::max_line_bytes`].
    #[error("line is {length} bytes, longer than the limit of {limit}")]
    LineTooLong { length: u64, limit: usize },
    /// A whole-document JSON file larger than [`crate::ParseOptions::max_document_bytes`].
    #[error("JSON document is larger than the limit of {limit} bytes")]
    DocumentTooLarge { limit: u64 },
    /// A line that is not UTF-8.
    #[error("line is not valid UTF-8: invalid byte at offset {offset}")]
    NotUtf8 { offset: usize },
    /// An sshd line whose syslog header cannot be read.
    #[error(
        "syslog header: {problem}; expected an RFC 3164 (`Mar  1 03:14:15 host sshd[1234]: …`), \
         RFC 5424 or ISO 8601 timestamp, then host and program"
    )]
    SyslogHeader { problem: String },
    /// An sshd sign-in message whose shape is not the one sshd writes.
    #[error("sshd message {message:?} is not understood: expected {expected}")]
    Sshd {
        message: String,
        expected: &'static str,
    },
    /// A damaged part of a Windows `.evtx` file; the chunks after it are still read.
    #[error("EVTX file: {message}")]
    Evtx { message: String },
    /// Reading the input failed; nothing after this record is read.
    #[error("reading the input failed: {message}")]
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
}

impl RecordError {
    pub(crate) fn field(field: impl Into<String>, problem: impl Into<String>) -> RecordError {
        RecordError::Field {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn header(problem: impl Into<String>) -> RecordError {
        RecordError::SyslogHeader {
            problem: problem.into(),
        }
    }

    /// Converts a serde_json syntax error, dropping the position suffix serde_json puts
    /// in its message because the variant carries the position itself.
    pub(crate) fn json(err: &serde_json::Error) -> RecordError {
        let full = err.to_string();
        let suffix = format!(" at line {} column {}", err.line(), err.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        RecordError::Json {
            line: err.line(),
            column: err.column(),
            message,
        }
    }

    pub(crate) fn io(err: &std::io::Error) -> RecordError {
        RecordError::Io {
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

struct Position(usize, usize);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Most records are one line; "line 1" there is noise.
        if self.0 <= 1 {
            write!(f, "column {}", self.1)
        } else {
            write!(f, "line {} column {}", self.0, self.1)
        }
    }
}

struct Hint(Option<&'static str>);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}
