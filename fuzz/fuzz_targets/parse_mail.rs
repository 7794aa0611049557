//! Feeds arbitrary bytes to `parse_message` as one message and to `split_mbox` as an
//! mbox, with small limits so that every limit is reached often; the only failure is a
//! panic (or a kept body or attachment larger than its limit).
//!
//! Run it as `cargo fuzz run -O -s none parse_mail`: without `-O`, cargo-fuzz turns on
//! debug assertions in every crate, one of mail-parser's fires on broken nesting it then
//! handles (corpus file `regression-invalid-part-id.eml`), and libfuzzer-sys aborts on
//! any panic, even one `parse_message` catches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_mail::mailbox::split_mbox;
use tocsin_model as model;
use tocsin_mail::parse::{Limits, parse_message};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_bytes: 64 << 10,
        max_header_bytes: 8 << 10,
        max_parts: 32,
        max_depth: 6,
        max_attachment_bytes: 4 << 10,
        max_text_bytes: 4 << 10,
    };
    let check = |mail: &model::Mail| {
        assert!(mail.text.len() as u64 <= limits.max_text_bytes);
        assert!(mail.html.len() as u64 <= limits.max_text_bytes);
        assert!(mail.attachments.len() <= limits.max_parts);
        for a in &mail.attachments {
            assert!(a.data.len() as u64 <= limits.max_attachment_bytes);
        }
    };
    if let Ok(mail) = parse_message(data, &limits) {
        check(&mail);
    }
    for raw in split_mbox(data, &limits).flatten() {
        assert!(raw.len() as u64 <= limits.max_message_bytes);
        if let Ok(mail) = parse_message(&raw, &limits) {
            check(&mail);
        }
    }
});
