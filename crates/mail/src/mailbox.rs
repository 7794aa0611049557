//! Reading messages from `.eml` files, mbox files and Maildir folders.
//!
//! This module owns the bytes of mail files before they become one raw message each:
//! telling a single message from an mbox by its content (an mbox starts with a `From `
//! line), gzip, splitting an mbox into messages as a stream ([`split_mbox`], also used
//! for uploaded mbox bodies), and walking directories in a fixed order. Memory is bounded
//! by [`Limits::max_message_bytes`] per message whatever the size of the file: a message
//! over it is reported as an error for its index and skipped, the rest still read.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use model::{Mail, MailOrigin};

use crate::parse::{Limits, MailError, parse_message};

/// Why a path could not be read as mail at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path} is neither a file nor a directory")]
    NotMail { path: String },
}

/// Deepest directory level walked; mail trees are shallow, symlink loops are not followed.
const MAX_WALK_DEPTH: usize = 32;

/// Bytes of a line looked at to tell an mbox `From ` separator from body text.
const SEPARATOR_HEAD: usize = 256;

/// Opens `path` for reading messages: a single message file, an mbox file (either may be
/// gzip-compressed), a Maildir (its `cur/` and `new/`), or a directory tree of those.
///
/// In a directory, files are taken in byte order of their paths: those named `*.eml`,
/// `*.mbox`, `*.mbx` (optionally `.gz`), and every file under a `cur/` or `new/` folder
/// (Maildir; `tmp/` and dot-files are left alone). Nothing is read until the iterator is.
pub fn read_path(path: &Path, limits: &Limits) -> Result<MailReader, SourceError> {
    let meta = std::fs::metadata(path).map_err(|source| SourceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut reader = MailReader {
        limits: limits.clone(),
        files: Vec::new(),
        current: None,
    };
    if meta.is_file() {
        reader.files.push(Ok(path.to_path_buf()));
    } else if meta.is_dir() {
        walk(path, 0, &mut reader.files).map_err(|source| SourceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        reader
            .files
            .sort_by(|a, b| listed_path(a).cmp(listed_path(b)));
    } else {
        return Err(SourceError::NotMail {
            path: path.display().to_string(),
        });
    }
    reader.files.reverse();
    Ok(reader)
}

/// A file to read, or a directory that could not be listed (reported in its place).
type Listed = Result<PathBuf, (PathBuf, io::Error)>;

fn listed_path(listed: &Listed) -> &Path {
    match listed {
        Ok(path) | Err((path, _)) => path,
    }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Listed>) -> io::Result<()> {
    let maildir_leaf = matches!(
        dir.file_name().and_then(|n| n.to_str()),
        Some("cur" | "new")
    );
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && !entry.file_type()?.is_dir() {
            continue;
        }
        // file_type does not follow symlinks: linked directories are not walked (no
        // loops), linked files are read.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth < MAX_WALK_DEPTH
                && name != "tmp"
                && let Err(e) = walk(&path, depth + 1, out)
            {
                out.push(Err((path, e)));
            }
        } else if (kind.is_file() || path.is_file())
            && (maildir_leaf || is_mail_file_name(&name) || starts_like_mail(&path))
        {
            out.push(Ok(path));
        }
    }
    Ok(())
}

/// Mail header names a message file starts with; a log line or a document never does.
const HEADER_NAMES: &[&str] = &[
    "return-path",
    "received",
    "delivered-to",
    "x-original-to",
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "dkim-signature",
    "arc-seal",
    "authentication-results",
    "reply-to",
    "content-type",
    "x-mailer",
];

/// Whether `head`, the first bytes of a file, is the start of a message or an mbox: an
/// mbox `From ` separator, or header fields (`X-Status:`, folded lines) up to a known
/// mail header name within the first lines. MH folders and corpora name their messages
/// `1`, `2`, … or `*.txt`, so names alone are not enough; a log line is never a header.
pub fn looks_like_mail(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    if text.starts_with("From ") {
        return true;
    }
    for line in text.lines().take(16) {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        let is_field_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !is_field_name {
            return false;
        }
        if HEADER_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
            return true;
        }
    }
    false
}

/// Whether the file at `path` starts like mail (see [`looks_like_mail`]); gzip'd files
/// are judged by their name only.
fn starts_like_mail(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    match File::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(n) => looks_like_mail(&head[..n]),
        Err(_) => false,
    }
}

fn is_mail_file_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".eml", ".mbox", ".mbx"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Messages read from a path, one at a time: `(origin, message or why not)`. The origin's
/// `file` is the file the message is in and `index` counts from 1 within that file.
pub struct MailReader {
    limits: Limits,
    /// Files still to read, last first.
    files: Vec<Listed>,
    current: Option<OpenFile>,
}

/// The file being read: its name, the index of the last message given out, its messages.
type OpenFile = (String, u64, MboxMessages<Box<dyn BufRead>>);

impl Iterator for MailReader {
    type Item = (MailOrigin, Result<Mail, MailError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((file, index, messages)) = &mut self.current {
                if let Some(raw) = messages.next() {
                    *index += 1;
                    let origin = MailOrigin::File {
                        file: file.clone(),
                        index: *index,
                    };
                    return Some((
                        origin,
                        raw.and_then(|raw| parse_message(&raw, &self.limits)),
                    ));
                }
                self.current = None;
            }
            let listed = self.files.pop()?;
            let (path, opened) = match listed {
                Ok(path) => {
                    let opened = open(&path);
                    (path, opened)
                }
                Err((path, e)) => (path, Err(e)),
            };
            let file = path.display().to_string();
            match opened {
                Ok(input) => {
                    self.current = Some((file, 0, MboxMessages::new(input, &self.limits)));
                }
                Err(e) => {
                    let origin = MailOrigin::File { file, index: 1 };
                    return Some((origin, Err(MailError::Read(e))));
                }
            }
        }
    }
}

/// Opens a file, decompressing it when it starts with the gzip magic.
fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut input = BufReader::new(File::open(path)?);
    if input.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(input))))
    } else {
        Ok(Box::new(input))
    }
}

/// Splits an mbox stream into raw messages, each at most [`Limits::max_message_bytes`]
/// long; a longer one is an `Err` for its index (with its full size), skipped without
/// being held. Input that does not start with a `From ` line is one message (an `.eml`),
/// also when empty.
///
/// A `From ` line separates messages when it starts the input or follows an empty line,
/// and looks like what mail systems write there: a sender, then a date with a time and a
/// year (`From ana@example.org Thu Aug 22 12:36:23 2002`). Body lines starting with
/// `From ` that mboxo writers left unescaped rarely look like that, so they stay in the
/// body. `>From `, `>>From `, … lose one `>` (mboxrd).
pub fn split_mbox<R: BufRead>(input: R, limits: &Limits) -> MboxMessages<R> {
    MboxMessages::new(input, limits)
}

/// The raw messages of an mbox stream; see [`split_mbox`]. An I/O error is yielded once
/// and ends the stream.
pub struct MboxMessages<R> {
    input: R,
    limit: u64,
    /// The next message's separator has been read (or the input has not begun).
    at_start: bool,
    /// No line has been read yet.
    first_line: bool,
    /// The input did not start with a separator: it is one message, `From ` lines and all.
    single: bool,
    previous_blank: bool,
    /// Its length, so that the empty line before a separator is not counted in a size.
    previous_blank_length: u64,
    done: bool,
    head: Vec<u8>,
}

impl<R: BufRead> MboxMessages<R> {
    fn new(input: R, limits: &Limits) -> Self {
        MboxMessages {
            input,
            limit: limits.max_message_bytes,
            at_start: true,
            first_line: true,
            single: false,
            previous_blank: true,
            previous_blank_length: 0,
            done: false,
            head: Vec::with_capacity(SEPARATOR_HEAD),
        }
    }

    /// Reads one line, appending it to `message` unless that would pass the limit (then
    /// `message` is emptied and `oversized` set). Returns the line's length, 0 at the end.
    fn read_line(&mut self, message: &mut Vec<u8>, oversized: &mut bool) -> io::Result<u64> {
        self.head.clear();
        let mut length = 0u64;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(length);
            }
            let (take, ends) = match chunk.iter().position(|&c| c == b'\n') {
                Some(p) => (p + 1, true),
                None => (chunk.len(), false),
            };
            let piece = &chunk[..take];
            let room = SEPARATOR_HEAD.saturating_sub(self.head.len());
            self.head.extend_from_slice(&piece[..take.min(room)]);
            if !*oversized {
                if (message.len() + take) as u64 > self.limit {
                    *oversized = true;
                    *message = Vec::new();
                } else {
                    message.extend_from_slice(piece);
                }
            }
            length += take as u64;
            self.input.consume(take);
            if ends {
                return Ok(length);
            }
        }
    }
}

impl<R: BufRead> Iterator for MboxMessages<R> {
    type Item = Result<Vec<u8>, MailError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut message = Vec::new();
        let mut oversized = false;
        let mut size = 0u64;
        let mut began = !self.at_start;
        loop {
            let line_start = message.len();
            let length = match self.read_line(&mut message, &mut oversized) {
                Ok(length) => length,
                Err(e) => {
                    self.done = true;
                    return Some(Err(MailError::Read(e)));
                }
            };
            if length == 0 {
                self.done = true;
                // An empty input is one empty message, so that the caller reports it.
                if !began && !self.first_line {
                    return None;
                }
                break;
            }
            if std::mem::take(&mut self.first_line) {
                self.single = !is_separator(&self.head);
            }
            if !self.single && self.previous_blank && is_separator(&self.head) {
                message.truncate(line_start);
                self.previous_blank = false;
                if began || !self.at_start {
                    self.at_start = true;
                    break;
                }
                // The separator before the first message.
                self.at_start = false;
                began = true;
                continue;
            }
            began = true;
            self.at_start = false;
            size += length;
            self.previous_blank = matches!(self.head.as_slice(), b"\n" | b"\r\n");
            self.previous_blank_length = if self.previous_blank { length } else { 0 };
            if !oversized && !self.single && is_escaped_from(&self.head) {
                message.remove(line_start);
            }
        }
        if oversized {
            if !self.single {
                size = size.saturating_sub(self.previous_blank_length);
            }
            return Some(Err(MailError::MessageTooLarge {
                size,
                limit: self.limit,
            }));
        }
        // The empty line an mbox writer puts after each message (before the next
        // separator or at the end) is not the message's.
        if !self.single {
            if message.ends_with(b"\r\n\r\n") {
                message.truncate(message.len() - 2);
            } else if message.ends_with(b"\n\n") {
                message.pop();
            }
        }
        Some(Ok(message))
    }
}

/// `From <sender> <date with hh:mm and a year>` as mbox writers put between messages.
fn is_separator(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let rest = String::from_utf8_lossy(rest);
    let mut time = false;
    let mut year = false;
    for token in rest.split_ascii_whitespace().skip(1) {
        let parts: Vec<&str> = token.split(':').collect();
        if (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        {
            time = true;
        } else if token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()) {
            year = true;
        }
    }
    time && year
}

/// `>From `, `>>From `, …: a body line an mboxrd writer escaped.
fn is_escaped_from(line: &[u8]) -> bool {
    let quoted = line.iter().take_while(|&&c| c == b'>').count();
    quoted > 0 && line[quoted..].starts_with(b"From ")
}

#[cfg(test)]
mod tests;
