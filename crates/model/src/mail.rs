//! Inbound mail as the analyser sees it, and what the analyser concludes.
//!
//! [`Mail`] is the one shape every mail path (files, HTTP upload, the SMTP/LMTP journal
//! listener) ends in: decoded headers, bodies and attachments, already bounded by the
//! parser's limits. [`MailAnalysis`] is the verdict with its [`Reason`]s; the reason codes
//! and the verdict names are part of the output format (docs/output.md).

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where a message was read from, so that a user can find it again.
///
/// Serialised as `{"file": "inbox.mbox", "index": 3}` (index counts from 1 within an mbox
/// or a directory walk; a single `.eml` file is index 1), `{"request": "…", "index": 2}`
/// for the n-th message of an HTTP upload and `{"smtp": "…", "peer": "…"}` for a message
/// received by the journal listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MailOrigin {
    File { file: String, index: u64 },
    Upload { request: String, index: u64 },
    Smtp { smtp: String, peer: String },
}

impl fmt::Display for MailOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailOrigin::File { file, index } => write!(f, "{file} message {index}"),
            MailOrigin::Upload { request, index } => write!(f, "request {request} message {index}"),
            MailOrigin::Smtp { smtp, peer } => write!(f, "smtp session {smtp} from {peer}"),
        }
    }
}

/// A display name and an address, as in `"WHO Director" <who@example.org>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// Decoded display name (encoded words resolved), if the header had one.
    pub name: Option<String>,
    /// The address as written, lower-cased. May be empty for a group or a broken header.
    pub address: String,
}

impl Mailbox {
    /// The part after the last `@`, lower-cased, or `None` when there is none.
    pub fn domain(&self) -> Option<&str> {
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>'))
            .filter(|d| !d.is_empty())
    }
}

/// An `Authentication-Results` or `ARC-Authentication-Results` header as received,
/// unfolded. Which of them are trusted is the analyser's decision (only the configured
/// receiving hosts' `authserv-id`s count), so the parser keeps them all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHeader {
    /// `true` for `ARC-Authentication-Results`.
    pub arc: bool,
    pub value: String,
}

/// A file attached to (or inline in) a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Decoded file name from Content-Disposition or Content-Type, if any.
    pub name: Option<String>,
    /// Lower-cased MIME type as declared by the sender (not trusted).
    pub content_type: String,
    /// Decoded size in bytes (before truncation of `data`).
    pub size: u64,
    /// Hex SHA-256 of the decoded content.
    pub sha256: String,
    /// Decoded content, for the analyser to look inside (macros, archives). Bounded by the
    /// parser's per-message size limit.
    pub data: Vec<u8>,
}

/// One inbound message, decoded and bounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mail {
    pub message_id: Option<String>,
    /// The `Date` header, when it parses.
    pub date: Option<Timestamp>,
    pub subject: String,
    pub from: Vec<Mailbox>,
    pub sender: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// The `Return-Path` address (envelope sender), without angle brackets.
    pub return_path: Option<String>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Recipients the delivering system names: SMTP `RCPT TO`, `Delivered-To`,
    /// `X-Original-To`, `Envelope-To`. Journaled copies put the real recipients here.
    pub envelope_recipients: Vec<String>,
    pub auth_headers: Vec<AuthHeader>,
    /// The `List-Id` of a mailing list's message (`razor-users.lists.example.org` from
    /// `Razor <razor-users.lists.example.org>`), lower-cased; for lists without one, the
    /// domain of the address in `List-Post`, `Mailing-List` or `List-Unsubscribe`.
    pub list_id: Option<String>,
    /// Plain-text bodies, concatenated, bounded.
    pub text: String,
    /// HTML bodies as received (not rendered), concatenated, bounded.
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// Size of the raw message in bytes.
    pub size: u64,
    /// Problems the parser noticed but went on past (a part over the limit, a broken
    /// header). They are reported with the message, never silently dropped.
    pub warnings: Vec<String>,
}

impl Mail {
    /// Every recipient address this message names, lower-cased, without repeats: the
    /// envelope recipients first, then To and Cc.
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let header = self.to.iter().chain(&self.cc).map(|m| m.address.as_str());
        for a in self
            .envelope_recipients
            .iter()
            .map(String::as_str)
            .chain(header)
        {
            let a = a.trim().trim_matches(['<', '>']).to_ascii_lowercase();
            if !a.is_empty() && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// What the analyser concludes about a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Clean,
    Suspicious,
    Phishing,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Phishing => "phishing",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named signal with its weight and the evidence that raised it: the header, the
/// URL, the file name. The `code` is stable (docs/output.md lists them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    /// Points this reason adds to the score. Negative for signals that vouch for a
    /// message (an aligned DMARC pass from a trusted receiving host).
    pub weight: i32,
    pub evidence: String,
}

/// The analyser's conclusion about one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAnalysis {
    pub verdict: Verdict,
    pub score: i32,
    /// Strongest first.
    pub reasons: Vec<Reason>,
}

/// What tocsin keeps of a judged message: enough for a person to find it in a mailbox
/// and see why it was judged so, never the body. The JSON shape is part of the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRecord {
    /// The `Date` header, or when tocsin received the message when it has none.
    pub time: Timestamp,
    pub message_id: Option<String>,
    pub from: Mailbox,
    pub reply_to: Option<String>,
    pub subject: String,
    /// The recipients in the organisation the record belongs to.
    pub recipients: Vec<String>,
    pub attachments: Vec<AttachmentRecord>,
    /// Where its links point, normalised, at most [`MailRecord::MAX_LINKS`]: kept so that
    /// a URL or domain that becomes an indicator later finds the message.
    #[serde(default)]
    pub links: Vec<String>,
    /// Hex SHA-256 of the raw message: the same message delivered twice is one record.
    pub sha256: String,
    pub origin: MailOrigin,
    #[serde(flatten)]
    pub analysis: MailAnalysis,
}

impl MailRecord {
    pub const MAX_LINKS: usize = 200;
}

/// An attachment as listed in a [`MailRecord`]: never its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

impl From<&Attachment> for AttachmentRecord {
    fn from(a: &Attachment) -> Self {
        AttachmentRecord {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_merge_envelope_and_headers_without_repeats() {
        let mail = Mail {
            envelope_recipients: vec!["<Ana@Clinic.example>".into()],
            to: vec![Mailbox {
                name: None,
                address: "ana@clinic.example".into(),
            }],
            cc: vec![Mailbox {
                name: Some("Bo".into()),
                address: "bo@clinic.example".into(),
            }],
            ..Mail::default()
        };
        assert_eq!(
            mail.recipients(),
            ["ana@clinic.example", "bo@clinic.example"]
        );
    }

    #[test]
    fn mailbox_domain() {
        let m = Mailbox {
            name: None,
            address: "x@who-int.org".into(),
        };
        assert_eq!(m.domain(), Some("who-int.org"));
        assert_eq!(Mailbox::default().domain(), None);
    }

    #[test]
    fn origin_serialises_as_documented() {
        let o = MailOrigin::File {
            file: "in.mbox".into(),
            index: 3,
        };
        assert_eq!(
            serde_json::to_string(&o).ok().as_deref(),
            Some(r#"{"file":"in.mbox","index":3}"#)
        );
    }
}
