//! Reading a file or stream into [`Record`]s: gzip detection, bounded line reading, and
//! the choice between line-oriented input and one whole JSON document.
//!
//! This module owns every byte of input before it becomes text, so it is where memory is
//! bounded: a line never grows past [`ParseOptions::max_line_bytes`] in memory, a JSON
//! document never past [`ParseOptions::max_document_bytes`]. Decompression is streaming,
//! so those caps also bound what a small gzip bomb can make it hold. It never panics on
//! input and never stops at a bad record; only an I/O error ends the stream early, after
//! being reported as a record of its own.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use model::Origin;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{ParseOptions, Parsed, RecordError, SessionTracker, parse_line_in, windows};

/// One line or record of input and what it parsed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Where it was: `FileLine` (1-based line) for line-oriented input, `FileRecord`
    /// (1-based record) for records inside one JSON document.
    pub origin: Origin,
    pub result: Result<Parsed, RecordError>,
}

/// Turns a file or stream of sign-in logs into [`Record`]s, one per line or JSON record.
///
/// Input may be gzip-compressed (detected by its magic bytes, several members allowed). A
/// file whose first non-blank character is `[`, or a `{` that does not close on its own
/// line, is read as one JSON document: an array of records (Graph `signIn` objects, Okta
/// events, any JSON shape [`crate::parse_line`] knows), a Graph list
/// response (`{"value": [...]}`), or concatenated objects as `jq` prints them. Anything
/// else is read line by line: NDJSON, syslog, or a mixture. A Windows `.evtx` file
/// (`ElfFile\0` magic, with the `evtx` feature) gives one record per event, numbered by
/// its EventRecordID.
///
/// Lines are read with a [`crate::LineParser`]'s memory of sshd connections, so a file
/// gives the failures fail2ban finds in it, including those that depend on earlier lines.
///
/// Nothing is read until the first call to `next`.
pub struct SourceReader<R: Read> {
    name: String,
    opts: ParseOptions,
    /// sshd connections of this input, so that a line is read with its connection's
    /// earlier lines in mind (see [`crate::LineParser`]).
    sessions: SessionTracker,
    consumed: Arc<AtomicU64>,
    state: State<R>,
}

enum State<R: Read> {
    Fresh(R),
    Lines {
        input: BufReader<Replay<R>>,
        line: u64,
        buf: Vec<u8>,
    },
    Document(VecDeque<Record>),
    Done,
}

/// The bytes already read while sniffing, then the rest of the decoded input.
type Replay<R> = Chain<Cursor<Vec<u8>>, Decoded<R>>;
type Raw<R> = Chain<Cursor<Vec<u8>>, Counting<R>>;

enum Decoded<R: Read> {
    Plain(Raw<R>),
    Gzip(Box<MultiGzDecoder<Raw<R>>>),
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Plain(input) => input.read(out),
            Decoded::Gzip(input) => input.read(out),
        }
    }
}

/// Counts raw (compressed) bytes for [`SourceReader::bytes_read`].
struct Counting<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How much leading whitespace sniffing looks through before settling on lines.
const SNIFF_LIMIT: usize = 1024 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BOM: &[u8] = b"\xef\xbb\xbf";

impl<R: Read> SourceReader<R> {
    /// A reader of `input`, whose records will name `name` as their file.
    pub fn new(name: &str, input: R, opts: ParseOptions) -> SourceReader<R> {
        SourceReader {
            name: name.to_owned(),
            opts,
            sessions: SessionTracker::new(),
            consumed: Arc::new(AtomicU64::new(0)),
            state: State::Fresh(input),
        }
    }

    /// Raw input bytes consumed so far (compressed bytes for gzip), for progress bars.
    /// Reading is buffered, so this runs ahead of the records returned.
    pub fn bytes_read(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    fn line_origin(&self, line: u64) -> Origin {
        Origin::FileLine {
            file: self.name.clone(),
            line,
        }
    }

    /// Detects compression and the kind of content, and sets up the state to read it.
    fn start(&mut self, input: R) -> Result<State<R>, Record> {
        let io_error = |this: &Self, err: &io::Error| Record {
            origin: this.line_origin(1),
            result: Err(RecordError::io(err)),
        };
        let mut raw = Counting {
            inner: input,
            consumed: Arc::clone(&self.consumed),
        };
        let mut magic = Vec::with_capacity(2);
        read_up_to(&mut raw, &mut magic, 2).map_err(|err| io_error(self, &err))?;
        let is_gzip = magic == GZIP_MAGIC;
        let raw = Cursor::new(magic).chain(raw);
        let mut decoded = if is_gzip {
            Decoded::Gzip(Box::new(MultiGzDecoder::new(raw)))
        } else {
            Decoded::Plain(raw)
        };
        let (prefix, is_document) =
            sniff(&mut decoded, &self.opts).map_err(|err| io_error(self, &err))?;
        let replay = Cursor::new(prefix).chain(decoded);
        #[cfg(feature = "evtx")]
        if replay
            .get_ref()
            .0
            .get_ref()
            .starts_with(windows::evtx_file::MAGIC)
        {
            return Ok(State::Document(self.read_evtx(replay)));
        }
        if is_document {
            Ok(State::Document(self.read_document(replay)))
        } else {
            let input = BufReader::with_capacity(64 * 1024, replay);
            Ok(State::Lines {
                input,
                line: 0,
                buf: Vec::new(),
            })
        }
    }

    /// Reads and splits a whole JSON document; every record, and the error that ends the
    /// document early if there is one, is queued.
    fn read_document(&self, input: Replay<R>) -> VecDeque<Record> {
        let limit = self.opts.max_document_bytes;
        let mut bytes = Vec::new();
        let mut queue = VecDeque::new();
        let failure = |origin, err| {
            VecDeque::from([Record {
                origin,
                result: Err(err),
            }])
        };
        if let Err(err) = input.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
            return failure(self.line_origin(1), RecordError::io(&err));
        }
        if bytes.len() as u64 > limit {
            return failure(self.line_origin(1), RecordError::DocumentTooLarge { limit });
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                let line = 1 + memchr::memchr_iter(b'\n', &err.as_bytes()[..offset]).count();
                return failure(
                    self.line_origin(line as u64),
                    RecordError::NotUtf8 { offset },
                );
            }
        };
        let doc = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let (ranges, error) = split_document(doc);
        for (i, range) in ranges.into_iter().enumerate() {
            let origin = Origin::FileRecord {
                file: self.name.clone(),
                record: i as u64 + 1,
            };
            let result = doc
                .get(range)
                .ok_or(RecordError::UnrecognisedJson { hint: None })
                .and_then(|record| {
                    if let Some(result) = windows::try_parse(record, &origin, &self.opts) {
                        return result;
                    }
                    crate::json::parse(record, &origin)
                });
            queue.push_back(Record { origin, result });
        }
        if let Some(err) = error {
            let origin = self.line_origin(err.line() as u64);
            queue.push_back(Record {
                origin,
                result: Err(RecordError::json(&err)),
            });
        }
        queue
    }
}

impl<R: Read> SourceReader<R> {
    /// Reads a whole Windows `.evtx` file, within the document size limit.
    #[cfg(feature = "evtx")]
    fn read_evtx(&self, input: Replay<R>) -> VecDeque<Record> {
        let limit = self.opts.max_document_bytes;
        let mut bytes = Vec::new();
        let failure = |err| {
            VecDeque::from([Record {
                origin: Origin::FileRecord {
                    file: self.name.clone(),
                    record: 0,
                },
                result: Err(err),
            }])
        };
        if let Err(err) = input.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
            return failure(RecordError::io(&err));
        }
        if bytes.len() as u64 > limit {
            return failure(RecordError::DocumentTooLarge { limit });
        }
        windows::evtx_file::read(&self.name, bytes, &self.opts)
    }
}

impl<R: Read> Iterator for SourceReader<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            match &mut self.state {
                State::Done => return None,
                State::Fresh(_) => {
                    let State::Fresh(input) = std::mem::replace(&mut self.state, State::Done)
                    else {
                        return None;
                    };
                    match self.start(input) {
                        Ok(state) => self.state = state,
                        Err(record) => return Some(record),
                    }
                }
                State::Document(queue) => {
                    let record = queue.pop_front();
                    if record.is_none() {
                        self.state = State::Done;
                    }
                    return record;
                }
                State::Lines { input, line, buf } => {
                    let limit = self.opts.max_line_bytes;
                    *line += 1;
                    let origin = Origin::FileLine {
                        file: self.name.clone(),
                        line: *line,
                    };
                    let result = match read_capped_line(input, buf, limit) {
                        Ok(None) => {
                            self.state = State::Done;
                            return None;
                        }
                        Err(err) => {
                            self.state = State::Done;
                            return Some(Record {
                                origin,
                                result: Err(RecordError::io(&err)),
                            });
                        }
                        Ok(Some(length)) if length > limit as u64 => {
                            Err(RecordError::LineTooLong { length, limit })
                        }
                        Ok(Some(_)) => match std::str::from_utf8(buf) {
                            Ok(text) => parse_line_in(
                                text,
                                origin.clone(),
                                &self.opts,
                                Some(&mut self.sessions),
                            ),
                            Err(err) => Err(RecordError::NotUtf8 {
                                offset: err.valid_up_to(),
                            }),
                        },
                    };
                    return Some(Record { origin, result });
                }
            }
        }
    }
}

/// Reads until `buf` holds `want` bytes or the input ends.
fn read_up_to(input: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
    let mut chunk = [0u8; 8192];
    while buf.len() < want {
        let room = (want - buf.len()).min(chunk.len());
        match input.read(&mut chunk[..room]) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Reads the start of the decoded input, far enough to tell a JSON document from lines.
/// Returns the bytes read (to be replayed) and whether the input is one document.
fn sniff(input: &mut impl Read, opts: &ParseOptions) -> io::Result<(Vec<u8>, bool)> {
    let mut prefix = Vec::new();
    loop {
        let before = prefix.len();
        read_up_to(input, &mut prefix, before + 8192)?;
        let at_end = prefix.len() < before + 8192;
        let body = prefix.strip_prefix(BOM).unwrap_or(&prefix);
        let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
            if at_end || prefix.len() > SNIFF_LIMIT {
                return Ok((prefix, false));
            }
            continue;
        };
        match body[first] {
            // Roundcube's own logs start `[22-Jan-2013 22:28:21 +0200]: …`, not a JSON array.
            b'[' if is_roundcube_line(&body[first..]) => return Ok((prefix, false)),
            b'[' => return Ok((prefix, true)),
            b'{' => {}
            _ => return Ok((prefix, false)),
        }
        // A `{` line that is a complete value is NDJSON, unless it is too long to be a
        // line (a Graph list response saved on one line); one that runs out before the
        // value closes is the start of a pretty-printed document. A syntax error is a
        // broken NDJSON line, reported as such.
        let rest = &body[first..];
        let line_end = memchr::memchr(b'\n', rest);
        if line_end.is_none() && !at_end && (prefix.len() as u64) <= opts.max_document_bytes {
            continue;
        }
        let line = &rest[..line_end.unwrap_or(rest.len())];
        let is_document = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Ok(_) => line.len() > opts.max_line_bytes,
            Err(err) => err.is_eof(),
        };
        return Ok((prefix, is_document));
    }
}

fn is_roundcube_line(text: &[u8]) -> bool {
    let line = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
    std::str::from_utf8(line).is_ok_and(|line| crate::roundcube::frame(line).is_some())
}

/// Splits a JSON document into the byte ranges of its records, and the syntax error that
/// stopped the split early, if any: records before the error are still returned.
///
/// Top-level values may be an array of records, a Graph list response whose `value` holds
/// the records, or a record; several top-level values may follow each other.
fn split_document(doc: &str) -> (Vec<Range<usize>>, Option<serde_json::Error>) {
    #[derive(Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        value: Option<Vec<&'a RawValue>>,
    }
    // Ranges are computed from where serde_json's borrowed slices sit inside `doc`, so
    // that records can be parsed one by one without copying them out.
    let range_of = |raw: &RawValue| {
        let start = (raw.get().as_ptr() as usize).saturating_sub(doc.as_ptr() as usize);
        start..start + raw.get().len()
    };
    let mut ranges = Vec::new();
    for value in serde_json::Deserializer::from_str(doc).into_iter::<&RawValue>() {
        let value = match value {
            Ok(value) => value,
            Err(err) => return (ranges, Some(err)),
        };
        let text = value.get();
        let records = if text.starts_with('[') {
            serde_json::from_str::<Vec<&RawValue>>(text).ok()
        } else {
            serde_json::from_str::<Page<'_>>(text)
                .ok()
                .and_then(|page| page.value)
        };
        match records {
            Some(records) => ranges.extend(records.into_iter().map(range_of)),
            // Not a list of records: the value is a record, and its parse says what is wrong.
            None => ranges.push(range_of(value)),
        }
    }
    (ranges, None)
}

/// Reads one line into `buf` without letting it grow past `limit` (plus a byte for a
/// `\r`), and returns the line's full length without its `\n` or `\r`, or `None` at the end
/// of input. An over-long line is consumed up to its newline and `buf` holds its start.
fn read_capped_line(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Option<u64>> {
    buf.clear();
    let mut length: u64 = 0;
    let mut last = None;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let newline = memchr::memchr(b'\n', available);
        let chunk = &available[..newline.unwrap_or(available.len())];
        length += chunk.len() as u64;
        if let Some(byte) = chunk.last() {
            last = Some(*byte);
        }
        let room = (limit + 1).saturating_sub(buf.len()).min(chunk.len());
        buf.extend_from_slice(&chunk[..room]);
        let used = newline.map_or(chunk.len(), |i| i + 1);
        input.consume(used);
        if newline.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if last == Some(b'\r') {
        length -= 1;
        if buf.len() as u64 > length {
            buf.truncate(length as usize);
        }
    }
    Ok(Some(length))
}

#[cfg(test)]
mod tests;
