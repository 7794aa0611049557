//! Messages built to exhaust the parser are refused or cut, with the limit named, and
//! what is kept of them stays within the limits. One test function, so that the peak
//! memory it prints is this file's own.

use std::io::Cursor;
use std::time::Instant;

use tocsin_mail::mailbox::split_mbox;
use tocsin_mail::parse::{Limits, MailError, parse_message};

/// Decoded bytes a parsed message holds on to: bodies and attachment data.
fn retained(mail: &model::Mail) -> u64 {
    (mail.text.len() + mail.html.len()) as u64
        + mail
            .attachments
            .iter()
            .map(|a| a.data.len() as u64)
            .sum::<u64>()
}

fn ceiling(limits: &Limits) -> u64 {
    2 * limits.max_text_bytes + limits.max_message_bytes
}

/// A message of about `size` bytes: one base64 attachment.
fn large_message(size: usize) -> Vec<u8> {
    let mut raw = b"From: big@example.org\r\nSubject: large\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n";
    raw.extend(line.repeat(size / line.len()).bytes());
    raw.extend(b"--b--\r\n");
    raw
}

fn many_parts(parts: usize) -> Vec<u8> {
    let mut raw = b"From: parts@example.org\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n".to_vec();
    for i in 0..parts {
        raw.extend(
            format!(
                "--p\r\nContent-Type: application/octet-stream; name=f{i}.bin\r\n\r\n{}\r\n",
                "z".repeat(100)
            )
            .bytes(),
        );
    }
    raw.extend(b"--p--\r\n");
    raw
}

fn deeply_nested(levels: usize) -> Vec<u8> {
    let mut raw = b"From: deep@example.org\r\nSubject: deep\r\n".to_vec();
    for i in 0..levels {
        raw.extend(
            format!("Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n").bytes(),
        );
    }
    raw.extend(b"Content-Type: text/plain\r\n\r\ninnermost\r\n");
    raw
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn bombs_are_refused_or_cut_within_bounds() {
    let limits = Limits::default();

    // 50 MB: over the default 25 MiB, refused by size before any decoding.
    let large = large_message(50_000_000);
    assert_eq!(large.len(), 50_000_184);
    let started = Instant::now();
    match parse_message(&large, &limits) {
        Err(e @ MailError::MessageTooLarge { .. }) => {
            let text = e.to_string();
            assert!(
                text.ends_with("over the 26,214,400-byte limit (mail.limits.max_message_bytes)"),
                "{text}"
            );
            println!("50 MB message: {text} ({:?})", started.elapsed());
        }
        other => panic!("expected the size limit, got {other:?}"),
    }

    // The same message in an mbox between two small ones: an error for index 2, the
    // neighbours read, the big one never held.
    let small = b"From: a@example.org\nSubject: small\n\nok\n";
    let mut mbox = Vec::new();
    for (i, body) in [&small[..], &large, &small[..]].iter().enumerate() {
        mbox.extend(format!("From m{i} Thu Aug 22 12:36:23 2002\n").bytes());
        mbox.extend_from_slice(body);
        mbox.extend(b"\n");
    }
    let outcomes: Vec<Result<usize, String>> = split_mbox(Cursor::new(&mbox), &limits)
        .map(|m| m.map(|raw| raw.len()).map_err(|e| e.to_string()))
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0], Ok(small.len()));
    assert_eq!(
        outcomes[1],
        Err("message is 50,000,184 bytes, over the 26,214,400-byte limit (mail.limits.max_message_bytes)".to_owned())
    );
    assert_eq!(outcomes[2], Ok(small.len()));
    drop(mbox);

    // With the size limit raised, the attachment is hashed whole and kept in part.
    let roomy = Limits {
        max_message_bytes: 100 << 20,
        ..Limits::default()
    };
    let mail = parse_message(&large, &roomy).expect("within the raised size limit");
    assert_eq!(mail.attachments.len(), 1);
    assert!(
        mail.attachments[0].size >= 36_000_000,
        "{}",
        mail.attachments[0].size
    );
    assert_eq!(
        mail.attachments[0].data.len() as u64,
        roomy.max_attachment_bytes
    );
    assert!(
        mail.warnings[0].contains("mail.limits.max_attachment_bytes"),
        "{:?}",
        mail.warnings
    );
    assert!(retained(&mail) <= ceiling(&roomy));
    drop(large);

    // 10,000 parts: cut after max_parts, with a warning.
    let raw = many_parts(10_000);
    let started = Instant::now();
    let mail = parse_message(&raw, &limits).expect("cut, not refused");
    let took = started.elapsed();
    assert_eq!(
        mail.attachments.len(),
        limits.max_parts - 1,
        "the root is a part too"
    );
    assert_eq!(
        mail.attachments.last().and_then(|a| a.name.as_deref()),
        Some("f998.bin")
    );
    assert_eq!(mail.warnings.len(), 1);
    assert!(
        mail.warnings[0].starts_with("more than 1,000 MIME parts (mail.limits.max_parts)"),
        "{:?}",
        mail.warnings
    );
    assert!(retained(&mail) <= ceiling(&limits));
    println!(
        "10,000-part message ({} bytes): {} attachments kept in {took:?}; {}",
        raw.len(),
        mail.attachments.len(),
        mail.warnings[0]
    );

    // 10,000 nested multiparts: cut at max_depth.
    let raw = deeply_nested(10_000);
    let started = Instant::now();
    let mail = parse_message(&raw, &limits).expect("cut, not refused");
    let took = started.elapsed();
    assert_eq!(mail.warnings.len(), 1);
    assert!(
        mail.warnings[0]
            .starts_with("MIME parts nested deeper than 20 levels (mail.limits.max_depth)"),
        "{:?}",
        mail.warnings
    );
    assert!(!mail.text.contains("innermost"));
    println!(
        "10,000-level nesting ({} bytes): cut in {took:?}; {}",
        raw.len(),
        mail.warnings[0]
    );

    if let Some(kib) = peak_memory_kib() {
        println!("peak resident memory of this test: {} MiB", kib / 1024);
        // The 50 MB message and the mbox holding it are the test's own; the parser
        // adds at most its bounded copies.
        assert!(kib < 400 * 1024, "peak {kib} KiB");
    }
}
