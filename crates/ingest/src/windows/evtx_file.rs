//! Windows `.evtx` files, read with the `evtx` crate: each event is rendered to the JSON
//! shape `evtx_dump` prints and handed to [`super::parse_value`].
//!
//! This module owns only the file: the `ElfFile\0` magic, the record order and what a
//! damaged chunk becomes (one [`RecordError::Evtx`] naming the chunk, after which the
//! remaining chunks are still read). It is behind the `evtx` Cargo feature.

use std::collections::VecDeque;

use evtx::{EvtxParser, ParserSettings};
use model::Origin;

use crate::{ParseOptions, Record, RecordError};

/// The first eight bytes of every EVTX file.
pub const MAGIC: &[u8; 8] = b"ElfFile\0";

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 64 * 1024;

/// Parses a whole EVTX file into records, one per event, each with origin
/// `FileRecord { file, record: EventRecordID }`.
///
/// The `evtx` crate needs the whole file; the caller bounds its size.
pub fn read(name: &str, bytes: Vec<u8>, opts: &ParseOptions) -> VecDeque<Record> {
    let origin = |record: u64| Origin::FileRecord {
        file: name.to_owned(),
        record,
    };
    // Windows writes whole 64 KiB chunks after a 4 KiB header; anything else was cut short
    // (a copy of a live log, an interrupted transfer), and the `evtx` crate skips the
    // partial chunk without a word.
    let partial = bytes.len().saturating_sub(FILE_HEADER) % CHUNK;
    let chunks = bytes.len().saturating_sub(FILE_HEADER) / CHUNK;
    let mut parser = match EvtxParser::from_buffer(bytes) {
        Ok(parser) => parser,
        Err(err) => {
            return VecDeque::from([Record {
                origin: origin(0),
                result: Err(RecordError::Evtx {
                    message: chain(&err),
                }),
            }]);
        }
    };
    // One thread: intake already runs files in parallel, and rayon would start a pool.
    let settings = ParserSettings::new().num_threads(1);
    parser = parser.with_configuration(settings);
    let mut queue = VecDeque::new();
    let mut last_id = 0;
    for event in parser.records_json_value() {
        match event {
            Ok(event) => {
                last_id = event.event_record_id;
                let origin = origin(event.event_record_id);
                let result = super::parse_value(&event.data, &origin, opts);
                queue.push_back(Record { origin, result });
            }
            // A damaged record or chunk has no trustworthy id; the error is placed after the
            // last good record, and its message names the chunk or record.
            Err(err) => queue.push_back(Record {
                origin: origin(last_id),
                result: Err(RecordError::Evtx {
                    message: chain(&err),
                }),
            }),
        }
    }
    if partial != 0 {
        queue.push_back(Record {
            origin: origin(last_id),
            result: Err(RecordError::Evtx {
                message: format!(
                    "the file ends {partial} bytes into chunk number {chunks}, whose events \
                     are lost: the file is truncated"
                ),
            }),
        });
    }
    queue
}

/// An error and its causes in one sentence: the `evtx` crate's outer errors say where
/// ("Failed to parse chunk number 1"), the inner ones say what.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}
