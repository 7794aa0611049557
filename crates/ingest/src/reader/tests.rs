use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::*;
use crate::test_support::render;

fn opts() -> ParseOptions {
    ParseOptions::for_year(2026)
}

/// Reads `input` and renders each record as `origin: result`, one per line.
fn read_all(input: &[u8], opts: ParseOptions) -> Vec<String> {
    SourceReader::new("in", input, opts)
        .map(|record| format!("{}: {}", record.origin, render(&record.result)))
        .collect()
}

const FAILED: &str =
    "Mar  1 03:14:15 web1 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2";
const FAILED_RENDERED: &str = "2026-03-01T03:14:15Z root failure bad_password ssh \
     ip=203.0.113.9 app=sshd reason=Failed password for root from 203.0.113.9 port 22 ssh2";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn syslog_lines_with_crlf_and_noise() {
    let input = format!("{FAILED}\r\nMar  1 03:14:16 web1 cron[2]: hi\r\n\n{FAILED}");
    assert_eq!(
        read_all(input.as_bytes(), opts()),
        [
            format!("in:1: {FAILED_RENDERED}"),
            "in:2: noise".to_owned(),
            "in:3: noise".to_owned(),
            format!("in:4: {FAILED_RENDERED}"),
        ]
    );
}

#[test]
fn gzip_is_decompressed_including_several_members() {
    let mut input = gzip(format!("{FAILED}\n").as_bytes());
    input.extend(gzip(format!("{FAILED}\n").as_bytes()));
    let mut reader = SourceReader::new("in.gz", input.as_slice(), opts());
    let records: Vec<_> = reader.by_ref().collect();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| matches!(r.result, Ok(Parsed::SignIns(_))))
    );
    assert_eq!(reader.bytes_read(), input.len() as u64);
}

#[test]
fn over_long_line_is_reported_and_the_next_line_still_parsed() {
    let opts = ParseOptions {
        max_line_bytes: 100,
        ..opts()
    };
    let input = format!("{}\r\n{FAILED}\n{}", "x".repeat(250), "y".repeat(101));
    assert_eq!(
        read_all(input.as_bytes(), opts),
        [
            "in:1: error: line is 250 bytes, longer than the limit of 100".to_owned(),
            format!("in:2: {FAILED_RENDERED}"),
            "in:3: error: line is 101 bytes, longer than the limit of 100".to_owned(),
        ]
    );
}

#[test]
fn line_of_exactly_the_limit_is_accepted() {
    let opts = ParseOptions {
        max_line_bytes: FAILED.len(),
        ..opts()
    };
    let input = format!("{FAILED}\r\n");
    assert_eq!(
        read_all(input.as_bytes(), opts),
        [format!("in:1: {FAILED_RENDERED}")]
    );
}

#[test]
fn non_utf8_lines_are_errors() {
    let mut input = b"Mar  1 03:14:15 web1 sshd[1]: Failed password for r\xffot\n".to_vec();
    input.extend_from_slice(FAILED.as_bytes());
    assert_eq!(
        read_all(&input, opts()),
        [
            "in:1: error: line is not valid UTF-8: invalid byte at offset 51".to_owned(),
            format!("in:2: {FAILED_RENDERED}"),
        ]
    );
}

const FIRST: &str = "2020-03-13T19:15:41.6195833Z testaccount1@contoso.com success browser \
     ip=131.107.159.37 app=Graph explorer code=0 id=66ea54eb-6301-4ee5-be62-ff5a759b0100 \
     country=US";
const SECOND: &str = "2020-03-13T19:16:02Z testaccount2@contoso.com failure bad_password imap \
     ip=2001:db8::7 app=Office 365 Exchange Online code=50126 \
     reason=Error validating credentials due to invalid username or password. \
     id=b01b1a1b-7a3c-4d8e-9f00-5c1e2d3f4a00";

#[test]
fn json_documents() {
    let list = include_str!("../../testdata/entra/list-signins.json");
    let array = include_str!("../../testdata/entra/array.json");
    let expected = [
        format!("in record 1: {FIRST}"),
        format!("in record 2: {SECOND}"),
    ];
    assert_eq!(read_all(list.as_bytes(), opts()), expected);
    assert_eq!(read_all(array.as_bytes(), opts()), expected);
    // A BOM, gzip, and a page saved on one line too long to be an NDJSON line.
    let bom = format!("\u{feff}{list}");
    assert_eq!(read_all(&gzip(bom.as_bytes()), opts()), expected);
    let one_line = list.replace('\n', "");
    let small_lines = ParseOptions {
        max_line_bytes: 200,
        ..opts()
    };
    assert_eq!(read_all(one_line.as_bytes(), small_lines), expected);
    // A single pretty-printed signIn, as "Get signIn" returns it.
    let get = include_str!("../../testdata/entra/get-signin.json");
    assert_eq!(
        read_all(get.as_bytes(), opts()),
        [format!("in record 1: {FIRST}")]
    );
}

#[test]
fn json_document_errors_keep_the_records_before_them() {
    let input = "[\n{\"createdDateTime\":\"2026-03-01T10:00:00Z\",\"userPrincipalName\":\"a@x.org\",\"status\":{\"errorCode\":0}},\n{\"foo\":1},\n{\"x\" 1}\n]";
    assert_eq!(
        read_all(input.as_bytes(), opts()),
        ["in:4: error: invalid JSON at line 4 column 6: expected `:`".to_owned(),]
    );
    let input = "{\"createdDateTime\":\"2026-03-01T10:00:00Z\",\n\"userPrincipalName\":\"a@x.org\",\"status\":{\"errorCode\":0}}\n{\"foo\":\n1}\n{\"x\" 1}";
    assert_eq!(
        read_all(input.as_bytes(), opts()),
        [
            "in record 1: 2026-03-01T10:00:00Z a@x.org success unknown code=0".to_owned(),
            "in record 2: error: JSON record is not a recognised sign-in format: expected a \
             Microsoft Graph signIn with `createdDateTime` and `userPrincipalName`, an Azure \
             Monitor or Log Analytics sign-in, an Office 365 audit record, an Okta System Log \
             event or a Google Workspace activity"
                .to_owned(),
            "in:5: error: invalid JSON at line 5 column 6: expected `:`".to_owned(),
        ]
    );
}

#[test]
fn document_size_is_capped() {
    let opts = ParseOptions {
        max_document_bytes: 100,
        ..opts()
    };
    let input = format!("[{}]", " ".repeat(200));
    assert_eq!(
        read_all(input.as_bytes(), opts),
        ["in:1: error: JSON document is larger than the limit of 100 bytes"]
    );
}

#[test]
fn ndjson_lines_and_broken_lines() {
    let ndjson = include_str!("../../testdata/entra/signins.ndjson");
    let input = format!("{ndjson}{{\"broken\" 1}}\n\n{FAILED}\n");
    assert_eq!(
        read_all(input.as_bytes(), opts()),
        [
            format!("in:1: {FIRST}"),
            format!("in:2: {SECOND}"),
            "in:3: error: invalid JSON at column 11: expected `:`".to_owned(),
            "in:4: noise".to_owned(),
            format!("in:5: {FAILED_RENDERED}"),
        ]
    );
    // A broken first line is still NDJSON, not a document.
    let input = format!("{{\"broken\" 1}}\n{ndjson}");
    assert_eq!(read_all(input.as_bytes(), opts()).len(), 3);
}

#[test]
fn empty_input_gives_nothing() {
    assert!(read_all(b"", opts()).is_empty());
    assert_eq!(read_all(b"\n", opts()), ["in:1: noise"]);
}

struct Failing {
    data: io::Cursor<Vec<u8>>,
}

impl Read for Failing {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.data.read(out)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_errors_end_the_stream_with_a_record() {
    // Enough lines to get past sniffing, so that the error comes mid-stream.
    let data = format!("{FAILED}\n").repeat(300).into_bytes();
    let input = Failing {
        data: io::Cursor::new(data),
    };
    let records: Vec<_> = SourceReader::new("in", input, opts()).collect();
    assert_eq!(records.len(), 301);
    let last = &records[300];
    assert_eq!(
        format!("{}: {}", last.origin, render(&last.result)),
        "in:301: error: reading the input failed: disk on fire"
    );
}
