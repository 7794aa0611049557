use std::io::Write;

use super::*;

fn split(input: &[u8], max_message_bytes: u64) -> Vec<Result<String, String>> {
    let limits = Limits {
        max_message_bytes,
        ..Limits::default()
    };
    split_mbox(input, &limits)
        .map(|m| {
            m.map(|raw| String::from_utf8_lossy(&raw).into_owned())
                .map_err(|e| e.to_string())
        })
        .collect()
}

const MBOX: &str = "From ana@example.org Thu Aug 22 12:36:23 2002
Subject: one

From the desk of Ana: hello
>From here on, escaped
>>From twice
From 10 to 12 people
--
Ana

From MAILER-DAEMON Fri Jul  8 12:08:34 2011
Subject: two

body two

From 1624733849186279375@xxx Sat Feb 20 10:24:38 +0000 2021
Subject: three

body three
";

#[test]
fn splits_mboxrd_and_keeps_body_from_lines() {
    assert_eq!(
        split(MBOX.as_bytes(), 1 << 20),
        [
            Ok("Subject: one\n\nFrom the desk of Ana: hello\nFrom here on, escaped\n>From twice\nFrom 10 to 12 people\n--\nAna\n".to_owned()),
            Ok("Subject: two\n\nbody two\n".to_owned()),
            Ok("Subject: three\n\nbody three\n".to_owned()),
        ]
    );
}

#[test]
fn separator_lines() {
    let cases: &[(&str, bool)] = &[
        ("From ana@example.org Thu Aug 22 12:36:23 2002\n", true),
        ("From - Thu Aug 22 12:36:23 2002\r\n", true),
        ("From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n", true),
        (
            "From 1624733849186279375@xxx Sat Feb 20 10:24:38 +0000 2021\n",
            true,
        ),
        ("From the desk of Ana\n", false),
        ("From 10:30 to noon\n", false),
        ("From: ana@example.org\n", false),
        (">From a Thu Aug 22 12:36:23 2002\n", false),
    ];
    for (line, want) in cases {
        assert_eq!(is_separator(line.as_bytes()), *want, "{line:?}");
    }
}

#[test]
fn an_oversized_message_is_an_error_for_its_index_and_the_rest_is_read() {
    let big = "x".repeat(500);
    let mbox = format!(
        "From a Thu Aug 22 12:36:23 2002\nSubject: small\n\nok\n\n\
         From b Thu Aug 22 12:36:23 2002\nSubject: big\n\n{big}\n\n\
         From c Thu Aug 22 12:36:23 2002\nSubject: after\n\nok\n"
    );
    assert_eq!(
        split(mbox.as_bytes(), 100),
        [
            Ok("Subject: small\n\nok\n".to_owned()),
            Err(
                "message is 515 bytes, over the 100-byte limit (mail.limits.max_message_bytes)"
                    .to_owned()
            ),
            Ok("Subject: after\n\nok\n".to_owned()),
        ]
    );
}

#[test]
fn input_without_a_from_line_is_one_message() {
    let eml = "Subject: one\r\n\r\nbody\r\n\r\nFrom ana@example.org Thu Aug 22 12:36:23 2002\r\n>From kept\r\n";
    assert_eq!(split(eml.as_bytes(), 1 << 20), [Ok(eml.to_owned())]);
    assert_eq!(split(b"", 1 << 20), [Ok(String::new())]);
}

#[test]
fn crlf_mbox_drops_the_blank_line_before_a_separator() {
    let mbox = "From a Thu Aug 22 12:36:23 2002\r\nSubject: a\r\n\r\nx\r\n\r\nFrom b Thu Aug 22 12:36:23 2002\r\nSubject: b\r\n\r\ny\r\n";
    assert_eq!(
        split(mbox.as_bytes(), 1 << 20),
        [
            Ok("Subject: a\r\n\r\nx\r\n".to_owned()),
            Ok("Subject: b\r\n\r\ny\r\n".to_owned()),
        ]
    );
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create test directory");
    }
    std::fs::write(path, bytes).expect("write test file");
}

fn message(subject: &str) -> Vec<u8> {
    format!("From: a@example.org\nSubject: {subject}\n\nbody\n").into_bytes()
}

/// (file name relative to the root, index, subject or error)
fn read_all(root: &Path, limits: &Limits) -> Vec<(String, u64, Result<String, String>)> {
    read_path(root, limits)
        .expect("readable path")
        .map(|(origin, mail)| {
            let MailOrigin::File { file, index } = origin else {
                panic!("file origin expected, got {origin:?}");
            };
            let file = Path::new(&file)
                .strip_prefix(root)
                .map(|p| p.display().to_string())
                .unwrap_or(file);
            (
                file,
                index,
                mail.map(|m| m.subject).map_err(|e| e.to_string()),
            )
        })
        .collect()
}

#[test]
fn directory_trees_maildirs_and_gzip_are_read_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(&root.join("b.eml"), &message("b"));
    write(&root.join("a.eml"), &message("a"));
    write(&root.join("notes.txt"), b"not mail");
    // Corpora and MH folders: names say nothing, the first line does.
    write(&root.join("corpus/00001.txt"), &message("corpus"));
    write(
        &root.join("mh/17"),
        b"Return-Path: <a@example.org>\nSubject: mh\n\nbody\n",
    );
    write(&root.join(".hidden.eml"), &message("hidden"));
    write(
        &root.join("Maildir/new/1700000002.M1.host"),
        &message("new"),
    );
    write(
        &root.join("Maildir/cur/1700000001.M1.host:2,S"),
        &message("cur"),
    );
    write(
        &root.join("Maildir/tmp/1700000003.M1.host"),
        &message("tmp"),
    );
    let mut mbox = b"From x Thu Aug 22 12:36:23 2002\n".to_vec();
    mbox.extend(message("m1"));
    mbox.extend(b"\nFrom y Thu Aug 22 12:36:23 2002\n");
    mbox.extend(message("m2"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&mbox).expect("gzip in memory");
    write(
        &root.join("sub/archive.mbox.gz"),
        &gz.finish().expect("gzip"),
    );
    write(&root.join("sub/broken.eml"), b"");

    let ok = |s: &str| Ok(s.to_owned());
    assert_eq!(
        read_all(root, &Limits::default()),
        [
            (
                "Maildir/cur/1700000001.M1.host:2,S".to_owned(),
                1,
                ok("cur")
            ),
            ("Maildir/new/1700000002.M1.host".to_owned(), 1, ok("new")),
            ("a.eml".to_owned(), 1, ok("a")),
            ("b.eml".to_owned(), 1, ok("b")),
            ("corpus/00001.txt".to_owned(), 1, ok("corpus")),
            ("mh/17".to_owned(), 1, ok("mh")),
            ("sub/archive.mbox.gz".to_owned(), 1, ok("m1")),
            ("sub/archive.mbox.gz".to_owned(), 2, ok("m2")),
            (
                "sub/broken.eml".to_owned(),
                1,
                Err("no header fields: not an RFC 5322 message".to_owned())
            ),
        ]
    );
}

#[test]
fn a_single_file_and_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let eml = dir.path().join("one.eml");
    write(&eml, &message("single"));
    let got: Vec<_> = read_path(&eml, &Limits::default())
        .expect("readable")
        .map(|(o, m)| (o, m.map(|m| m.subject).map_err(|e| e.to_string())))
        .collect();
    assert_eq!(
        got,
        [(
            MailOrigin::File {
                file: eml.display().to_string(),
                index: 1
            },
            Ok("single".to_owned())
        )]
    );
    let tiny = Limits {
        max_message_bytes: 10,
        ..Limits::default()
    };
    let got: Vec<_> = read_path(&eml, &tiny)
        .expect("readable")
        .map(|(_, m)| m.map(|m| m.subject).map_err(|e| e.to_string()))
        .collect();
    assert_eq!(
        got,
        [Err(
            "message is 42 bytes, over the 10-byte limit (mail.limits.max_message_bytes)"
                .to_owned()
        )]
    );
    assert!(matches!(
        read_path(&dir.path().join("missing"), &Limits::default()),
        Err(SourceError::Io { .. })
    ));
}

#[test]
fn mail_is_told_from_logs_and_documents_by_its_first_lines() {
    let table: &[(&[u8], bool)] = &[
        (b"From ana@example.org Thu Aug 22 12:36:23 2002\n", true),
        (b"Return-Path: <a@b.example>\nReceived: x\n", true),
        (b"Received: from mx.example\n", true),
        // Headers of any name may come first (SpamAssassin's corpus), folded or not.
        (
            b"X-Status: \nX-Keywords: \n\tfolded\nReturn-Path: <a@b.example>\n",
            true,
        ),
        (b"X-Status: \nX-Keywords: \n\nbody\n", false),
        (
            b"Nov 23 10:00:00 host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2\n",
            false,
        ),
        (b"2026-11-23T10:00:00Z host sshd[1]: x\n", false),
        (b"{\"createdDateTime\": \"2020-01-01T00:00:00Z\"}\n", false),
        (b"<34>1 2003-10-11T22:14:15.003Z host su - - - x\n", false),
        (b"Meeting notes: bring the minutes\n", false),
        (b"", false),
    ];
    for (head, mail) in table {
        assert_eq!(
            super::looks_like_mail(head),
            *mail,
            "{}",
            String::from_utf8_lossy(head)
        );
    }
}
