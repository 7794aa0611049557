//! Decoding one raw message into a [`model::Mail`] within [`Limits`].
//!
//! This module owns the line between attacker-controlled bytes and the analyser: it
//! decides which limits make a message unreadable (an error naming the limit and the
//! value) and which only cost part of it (a warning in [`Mail::warnings`], the rest still
//! analysed). MIME decoding is mail-parser's; what this module adds is the bounding
//! around it ([`structure`] keeps part bombs away from the parser) and the mapping of
//! mail-parser's view onto [`Mail`]. It never panics on any input.

mod structure;

use std::fmt;

use jiff::Timestamp;
use mail_parser::{Address, MessageParser, MessagePart, MimeHeaders, PartType};
use model::{Attachment, AuthHeader, Mail, Mailbox};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use structure::Crossed;

/// How much of a message tocsin is willing to read. Set under `[mail.limits]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest raw message accepted, in bytes. A larger one is refused with an error.
    /// Default 25 MiB, the common size limit of mail providers.
    pub max_message_bytes: u64,
    /// Largest header section of the message (not of its parts), in bytes. A larger one
    /// is refused. Default 256 KiB.
    pub max_header_bytes: u64,
    /// Most MIME parts (the message itself, multipart containers and leaves) decoded.
    /// Parts after this many are not decoded and a warning says so. Default 1,000.
    pub max_parts: usize,
    /// Deepest nesting of multiparts and attached messages decoded. Deeper parts are not
    /// decoded and a warning says so. Default 20.
    pub max_depth: usize,
    /// Decoded bytes kept of one attachment for the analyser to look inside. The size and
    /// SHA-256 always describe the whole attachment. Default 10 MiB.
    pub max_attachment_bytes: u64,
    /// Bytes kept of the plain-text bodies together, and separately of the HTML bodies
    /// together; the rest is cut at a character boundary with a warning. Default 2 MiB.
    pub max_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 25 << 20,
            max_header_bytes: 256 << 10,
            max_parts: 1_000,
            max_depth: 20,
            max_attachment_bytes: 10 << 20,
            max_text_bytes: 2 << 20,
        }
    }
}

/// Why a message could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "message is {} bytes, over the {}-byte limit (mail.limits.max_message_bytes)",
        Grouped(*size),
        Grouped(*limit)
    )]
    MessageTooLarge { size: u64, limit: u64 },
    #[error(
        "header section is over the {}-byte limit (mail.limits.max_header_bytes)",
        Grouped(*limit)
    )]
    HeaderTooLarge { limit: u64 },
    #[error("no header fields: not an RFC 5322 message")]
    NotAMessage,
    #[error("the MIME parser failed on this message; it was not analysed")]
    ParserFailed,
    #[error("could not read the message: {0}")]
    Read(#[source] std::io::Error),
}

/// Headers naming the recipients the delivering system saw, as opposed to To and Cc.
const ENVELOPE_HEADERS: [&str; 4] = [
    "delivered-to",
    "x-original-to",
    "envelope-to",
    "x-envelope-to",
];

/// Decodes one raw RFC 5322 message (an optional leading mbox `From ` line is skipped).
///
/// Refused (`Err`) when the message is larger than [`Limits::max_message_bytes`], its
/// header section larger than [`Limits::max_header_bytes`], or it has no header at all.
/// Too many parts, too deep nesting, an oversized attachment or text body only cost the
/// excess: the message is returned with a warning for each.
pub fn parse_message(raw: &[u8], limits: &Limits) -> Result<Mail, MailError> {
    parse(raw, limits, true)
}

/// [`parse_message`], unwrapping a journal report only when `unwrap` (once: an attacker's
/// report nested in a report is judged as the report it is, never recursed into).
fn parse(raw: &[u8], limits: &Limits, unwrap: bool) -> Result<Mail, MailError> {
    let size = raw.len() as u64;
    // mail-parser keeps offsets as u32: nothing past 4 GiB can be read whatever the limit.
    let limit = limits.max_message_bytes.min(u64::from(u32::MAX));
    if size > limit {
        return Err(MailError::MessageTooLarge { size, limit });
    }
    let raw = skip_from_line(raw);
    if header_section_exceeds(raw, limits.max_header_bytes) {
        return Err(MailError::HeaderTooLarge {
            limit: limits.max_header_bytes,
        });
    }

    let mut warnings = Vec::new();
    let mut decoded = raw;
    if let Some(cut) = structure::cut(raw, limits.max_parts, limits.max_depth) {
        warnings.push(match cut.why {
            Crossed::Parts | Crossed::Boundaries => format!(
                "more than {} MIME parts (mail.limits.max_parts): the last {} bytes were not decoded",
                Grouped(limits.max_parts as u64),
                Grouped((raw.len() - cut.at) as u64)
            ),
            Crossed::Depth => format!(
                "MIME parts nested deeper than {} levels (mail.limits.max_depth): the last {} bytes were not decoded",
                Grouped(limits.max_depth as u64),
                Grouped((raw.len() - cut.at) as u64)
            ),
        });
        decoded = &raw[..cut.at];
    }

    // mail-parser promises not to panic, but its debug assertions and overflow checks do
    // on some malformed nesting (found by the fuzz target); a panic inside it is reported
    // as this message's error instead of taking the intake down.
    let message = std::panic::catch_unwind(|| MessageParser::default().parse(decoded))
        .map_err(|_| MailError::ParserFailed)?
        .filter(|m| !m.parts.is_empty() && !m.root_part().headers().is_empty())
        // A lenient parser reads any first line as a header; a message names at least
        // its sender, date, subject, id or a hop that carried it.
        .filter(|m| {
            m.from().is_some()
                || m.date().is_some()
                || m.subject().is_some()
                || m.message_id().is_some()
                || m.header("Received").is_some()
        })
        .ok_or(MailError::NotAMessage)?;

    let mut mail = Mail {
        size,
        ..Mail::default()
    };
    let journal_report = message.header("X-MS-Journal-Report").is_some();
    read_headers(&message, decoded, &mut mail);
    read_parts(&message.parts, decoded, limits, &mut mail, &mut warnings);
    mail.warnings = warnings;
    if journal_report && unwrap {
        return Ok(unwrap_journal_report(mail, limits));
    }
    Ok(mail)
}

/// The message a Microsoft Exchange envelope journal report carries, with the report's
/// recipients as its envelope recipients. Microsoft 365 journaling delivers every copy
/// this way: the report (from the journaling agent) has the original attached unaltered
/// as `message/rfc822`, and its text names the envelope, one field a line:
/// `Sender:`, `Subject:`, `Message-ID:`, then `To:`, `Cc:`, `Bcc:` or `Recipient:`
/// lines, each perhaps followed by `, Expanded: <list>` or `, Forwarded: <address>`.
/// With journal report decryption on, a protected message comes twice, encrypted then
/// decrypted; the last copy is the readable one. A report without a readable original
/// is judged as it is, with a warning.
fn unwrap_journal_report(report: Mail, limits: &Limits) -> Mail {
    let original = report
        .attachments
        .iter()
        .rev()
        .find(|a| a.content_type == "message/rfc822" && a.size == a.data.len() as u64);
    let inner = original.map(|a| parse(&a.data, limits, false));
    let Some(Ok(mut mail)) = inner else {
        let mut report = report;
        report.warnings.push(
            "a Microsoft journal report without a readable original message: the report itself was judged"
                .to_owned(),
        );
        return report;
    };
    for line in report.text.lines().take(10_000) {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if !["to", "cc", "bcc", "recipient"].contains(&field.trim().to_ascii_lowercase().as_str()) {
            continue;
        }
        let address = value
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        if address.contains('@') && !mail.envelope_recipients.contains(&address) {
            mail.envelope_recipients.push(address);
        }
    }
    mail.size = report.size;
    mail
}

fn skip_from_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        let next = raw
            .iter()
            .position(|&c| c == b'\n')
            .map_or(raw.len(), |p| p + 1);
        &raw[next..]
    } else {
        raw
    }
}

/// Whether the header section (up to the first empty line, or all of `raw` when there
/// is none) is longer than `limit`. Looks at no more than `limit` + 4 bytes.
fn header_section_exceeds(raw: &[u8], limit: u64) -> bool {
    let look = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(4);
    let head = &raw[..raw.len().min(look)];
    let blank_line_after = |p: usize| {
        head[p] == b'\n' && matches!(head.get(p + 1..), Some([b'\n', ..] | [b'\r', b'\n', ..]))
    };
    let end = (0..head.len())
        .find(|&p| blank_line_after(p))
        .map_or(raw.len(), |p| p + 1);
    end as u64 > limit
}

fn read_headers(message: &mail_parser::Message<'_>, raw: &[u8], mail: &mut Mail) {
    mail.message_id = message.message_id().map(str::to_owned);
    mail.date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok());
    mail.subject = message.subject().unwrap_or_default().to_owned();
    mail.from = mailboxes(message.from());
    mail.sender = mailboxes(message.sender()).into_iter().next();
    mail.reply_to = mailboxes(message.reply_to());
    mail.to = mailboxes(message.to());
    mail.cc = mailboxes(message.cc());

    for header in message.root_part().headers() {
        let name = header.name();
        let value = || {
            let (start, end) = (header.offset_start() as usize, header.offset_end() as usize);
            unfold(raw.get(start..end).unwrap_or_default())
        };
        if name.eq_ignore_ascii_case("authentication-results") {
            mail.auth_headers.push(AuthHeader {
                arc: false,
                value: value(),
            });
        } else if name.eq_ignore_ascii_case("arc-authentication-results") {
            mail.auth_headers.push(AuthHeader {
                arc: true,
                value: value(),
            });
        } else if name.eq_ignore_ascii_case("list-id") {
            let id = bare_address(&value());
            if !id.is_empty() {
                mail.list_id = Some(id);
            }
        } else if ["list-post", "mailing-list", "list-unsubscribe"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            // Lists that predate List-Id (Yahoo Groups' `Mailing-List: list x@…`) still
            // name their address: its domain stands in for the id.
            if mail.list_id.is_none() {
                mail.list_id = list_address_domain(&value());
            }
        } else if name.eq_ignore_ascii_case("return-path") {
            if mail.return_path.is_none() {
                let address = bare_address(&value());
                mail.return_path = (!address.is_empty()).then_some(address);
            }
        } else if ENVELOPE_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            for address in value().split(',').map(bare_address) {
                if !address.is_empty() && !mail.envelope_recipients.contains(&address) {
                    mail.envelope_recipients.push(address);
                }
            }
        }
    }
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address
        .into_iter()
        .flat_map(|a| a.iter())
        .map(|a| Mailbox {
            name: a
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            address: a
                .address
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_lowercase(),
        })
        .filter(|m| m.name.is_some() || !m.address.is_empty())
        .collect()
}

/// A header value on one line: each line break with the blanks after it becomes a space.
fn unfold(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    if let Some(first) = lines.next() {
        out.push_str(first.trim());
    }
    for line in lines {
        let line = line.trim();
        if !line.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
    out
}

/// `<Ana@Example.org>` → `ana@example.org`; also drops a trailing comment.
/// The domain of the first mail address in a list header (`<mailto:x-unsubscribe@lists.example>`).
fn list_address_domain(value: &str) -> Option<String> {
    let token = value
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'))
        .find(|t| t.contains('@'))?;
    let token = token.strip_prefix("mailto:").unwrap_or(token);
    let domain = token.rsplit_once('@')?.1.split('?').next()?.to_lowercase();
    (!domain.is_empty()).then_some(domain)
}

fn bare_address(value: &str) -> String {
    let value = value.trim();
    let inner = match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split_whitespace().next().unwrap_or_default(),
    };
    inner.trim().to_lowercase()
}

/// Fills bodies and attachments from the message's own parts (an attached message is one
/// attachment; its parts are not opened here).
fn read_parts(
    parts: &[MessagePart<'_>],
    raw: &[u8],
    limits: &Limits,
    mail: &mut Mail,
    warnings: &mut Vec<String>,
) {
    if parts.len() > limits.max_parts {
        // The structure scan missed some (a multipart/digest's implicit messages): the
        // parser already holds them, but the analyser need not.
        warnings.push(format!(
            "{} MIME parts, over the {}-part limit (mail.limits.max_parts): parts after it were ignored",
            Grouped(parts.len() as u64),
            Grouped(limits.max_parts as u64)
        ));
    }
    let text_limit = usize::try_from(limits.max_text_bytes).unwrap_or(usize::MAX);
    let mut text = Bounded::new(text_limit);
    let mut html = Bounded::new(text_limit);
    let mut attachment_budget = limits.max_message_bytes;

    for part in parts.iter().take(limits.max_parts) {
        let declared = part.content_type();
        let ctype = declared.map(|c| c.ctype().to_ascii_lowercase());
        let subtype = declared
            .and_then(|c| c.subtype())
            .map(str::to_ascii_lowercase);
        let is_attachment = part
            .content_disposition()
            .is_some_and(|d| d.is_attachment());
        match &part.body {
            PartType::Multipart(_) => continue,
            PartType::Text(t) | PartType::Html(t) if !is_attachment => {
                match (ctype.as_deref(), subtype.as_deref()) {
                    (None | Some("text"), None | Some("plain")) | (Some("multipart"), _) => {
                        text.push(t);
                        continue;
                    }
                    (Some("text"), Some("html")) => {
                        html.push(t);
                        continue;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        let content_type = match (ctype, subtype) {
            (Some(t), Some(s)) => format!("{t}/{s}"),
            (Some(t), None) => t,
            (None, _) if part.is_message() => "message/rfc822".to_owned(),
            (None, _) => "text/plain".to_owned(),
        };
        let mut name = part.attachment_name().map(str::to_owned);
        let data = if let PartType::Message(_) = part.body {
            name.get_or_insert_with(|| "attached-message.eml".to_owned());
            attached_message(part, raw)
        } else {
            part.contents()
        };
        let keep = (data.len() as u64)
            .min(limits.max_attachment_bytes)
            .min(attachment_budget);
        if keep < data.len() as u64 {
            warnings.push(format!(
                "attachment {:?} is {} bytes: kept the first {} (mail.limits.max_attachment_bytes)",
                name.as_deref().unwrap_or("(unnamed)"),
                Grouped(data.len() as u64),
                Grouped(keep)
            ));
        }
        attachment_budget -= keep;
        mail.attachments.push(Attachment {
            name,
            content_type,
            size: data.len() as u64,
            sha256: hex::encode(Sha256::digest(data)),
            data: data[..usize::try_from(keep).unwrap_or(data.len())].to_vec(),
        });
    }

    for (what, body) in [("text", &text), ("HTML", &html)] {
        if body.dropped > 0 {
            warnings.push(format!(
                "{what} bodies are {} bytes: kept the first {} (mail.limits.max_text_bytes)",
                Grouped((body.text.len() + body.dropped) as u64),
                Grouped(body.text.len() as u64)
            ));
        }
    }
    mail.text = text.text;
    mail.html = html.text;
}

/// The raw bytes of an attached message. mail-parser gives the nested message the whole
/// outer message as its "raw" when it was not encoded, so the part's own offsets are
/// used when they make sense.
fn attached_message<'a>(part: &'a MessagePart<'_>, raw: &'a [u8]) -> &'a [u8] {
    let (start, end) = (
        part.raw_body_offset() as usize,
        part.raw_end_offset() as usize,
    );
    match raw.get(start..end) {
        Some(own) if part.encoding == mail_parser::Encoding::None && end > start => own,
        _ => part.contents(),
    }
}

/// Bodies joined by a newline, kept up to a byte limit at a character boundary.
struct Bounded {
    text: String,
    limit: usize,
    dropped: usize,
}

impl Bounded {
    fn new(limit: usize) -> Self {
        Bounded {
            text: String::new(),
            limit,
            dropped: 0,
        }
    }

    fn push(&mut self, body: &str) {
        let sep = if self.text.is_empty() { "" } else { "\n" };
        let room = self.limit.saturating_sub(self.text.len());
        let wanted = sep.len() + body.len();
        if wanted <= room {
            self.text.push_str(sep);
            self.text.push_str(body);
            return;
        }
        if room > sep.len() {
            let end = body.floor_char_boundary(room - sep.len());
            self.text.push_str(sep);
            self.text.push_str(&body[..end]);
            self.dropped += body.len() - end;
        } else {
            self.dropped += body.len();
        }
    }
}

/// A count with thousands separators, as limits are written in messages.
struct Grouped(u64);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
