//! Feeds arbitrary bytes to `parse_line` (as lossy UTF-8) and to `SourceReader`; the
//! only failure is a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_ingest::{ParseOptions, SourceReader, parse_line};
use tocsin_model::Origin;

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions {
        max_line_bytes: 4096,
        max_document_bytes: 1 << 20,
        ..ParseOptions::for_year(2026)
    };
    let line = String::from_utf8_lossy(data);
    let origin = Origin::FileLine { file: "fuzz".into(), line: 1 };
    let _ = parse_line(&line, origin, &opts);
    for record in SourceReader::new("fuzz", data, opts) {
        let _ = record.result;
    }
});
