use super::*;

fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

fn parse(text: &str) -> Mail {
    parse_message(&crlf(text), &Limits::default()).expect("a well-formed message parses")
}

/// Outlook-style journaled copy: mixed( alternative(text qp, html base64), pdf with an
/// RFC 2231 filename ), encoded-word headers, folded Authentication-Results.
const RECRUITER: &str = "Return-Path: <Bounce+xyz@Mailer.Example.NET>
Delivered-To: ana@clinic.example
X-Original-To: <Ana.Lee@Clinic.Example>
Authentication-Results: mx.clinic.example;
\tspf=pass (sender IP is 192.0.2.7) smtp.mailfrom=mailer.example.net;
\tdkim=none;
  dmarc=fail action=none header.from=linkedln.com
ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass
 smtp.mailfrom=mailer.example.net; dkim=none
From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <Recruiting@LinkedLn.com>
Reply-To: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee.hr@gmail.com>
To: \"Lee, Ana\" <Ana.Lee@Clinic.Example>, bo@clinic.example
Cc: undisclosed-recipients:;
Subject: =?UTF-8?Q?Offre_d=E2=80=99emploi_=E2=80=93_?=
 =?UTF-8?Q?salaire_85_000_=E2=82=AC?=
Date: Tue, 14 Apr 2020 09:30:00 +0200
Message-ID: <job-42@linkedln.com>
List-Id: Jobs digest <Jobs.Lists.LinkedLn.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"outer==\"

This is a multi-part message in MIME format.

--outer==
Content-Type: multipart/alternative; boundary=\"inner\"

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bonjour Ana, voici l=E2=80=99offre d=E2=80=99emploi. Cliquez ici =
pour postuler.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGEgaHJlZj0iaHR0cDovLzE5OC41MS4xMDAuOS9sb2dpbiI+T2ZmcmU8L2E+
--inner--

--outer==
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*=UTF-8''Offre%20d%E2%80%99emploi.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCg==
--outer==--
";

#[test]
fn decodes_a_real_format_multipart_message() {
    let mail = parse(RECRUITER);
    assert_eq!(mail.message_id.as_deref(), Some("job-42@linkedln.com"));
    assert_eq!(
        mail.date.map(|d| d.to_string()).as_deref(),
        Some("2020-04-14T07:30:00Z")
    );
    assert_eq!(mail.subject, "Offre d’emploi – salaire 85 000 €");
    assert_eq!(
        mail.from,
        [Mailbox {
            name: Some("Jürgen Müller".into()),
            address: "recruiting@linkedln.com".into()
        }]
    );
    assert_eq!(
        mail.reply_to,
        [Mailbox {
            name: Some("Renée Dupré".into()),
            address: "renee.hr@gmail.com".into()
        }]
    );
    assert_eq!(
        mail.to
            .iter()
            .map(|m| m.address.as_str())
            .collect::<Vec<_>>(),
        ["ana.lee@clinic.example", "bo@clinic.example"]
    );
    assert_eq!(mail.to[0].name.as_deref(), Some("Lee, Ana"));
    assert!(mail.cc.is_empty(), "{:?}", mail.cc);
    assert_eq!(mail.sender, None);
    assert_eq!(mail.list_id.as_deref(), Some("jobs.lists.linkedln.com"));
    assert_eq!(
        mail.return_path.as_deref(),
        Some("bounce+xyz@mailer.example.net")
    );
    assert_eq!(
        mail.envelope_recipients,
        ["ana@clinic.example", "ana.lee@clinic.example"]
    );
    assert_eq!(
        mail.auth_headers,
        [
            AuthHeader {
                arc: false,
                value: "mx.clinic.example; spf=pass (sender IP is 192.0.2.7) \
                        smtp.mailfrom=mailer.example.net; dkim=none; \
                        dmarc=fail action=none header.from=linkedln.com"
                    .into()
            },
            AuthHeader {
                arc: true,
                value:
                    "i=1; mx.microsoft.com 1; spf=pass smtp.mailfrom=mailer.example.net; dkim=none"
                        .into()
            },
        ]
    );
    assert_eq!(
        mail.text,
        "Bonjour Ana, voici l’offre d’emploi. Cliquez ici pour postuler."
    );
    assert_eq!(mail.html, "<a href=\"http://198.51.100.9/login\">Offre</a>");
    assert_eq!(mail.attachments.len(), 1);
    let pdf = &mail.attachments[0];
    assert_eq!(pdf.name.as_deref(), Some("Offre d’emploi.pdf"));
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.data, b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n");
    assert_eq!(pdf.size, 19);
    assert_eq!(pdf.sha256, hex::encode(Sha256::digest(&pdf.data)));
    assert_eq!(mail.size, crlf(RECRUITER).len() as u64);
    assert!(mail.warnings.is_empty(), "{:?}", mail.warnings);
}

#[test]
fn latin1_headers_and_body_are_decoded() {
    let mail = parse(
        "From: =?iso-8859-1?q?Organisation_mondiale_de_la_Sant=E9?= <info@who-int.org>
Sender: <bulk@mailer.example>
Subject: =?ISO-8859-1?B?Q09WSUQtMTkgOiBtaXNlIOAgam91cg==?=
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Mise =E0 jour des consignes sanitaires.
",
    );
    assert_eq!(
        mail.from[0].name.as_deref(),
        Some("Organisation mondiale de la Santé")
    );
    assert_eq!(mail.from[0].domain(), Some("who-int.org"));
    assert_eq!(
        mail.sender.map(|s| s.address).as_deref(),
        Some("bulk@mailer.example")
    );
    assert_eq!(mail.subject, "COVID-19 : mise à jour");
    assert_eq!(mail.text, "Mise à jour des consignes sanitaires.\r\n");
    assert_eq!(mail.date, None);
    assert!(mail.attachments.is_empty());
}

#[test]
fn attachments_are_named_typed_and_hashed() {
    let mail = parse(
        "From: a@example.org
Subject: files
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see attached
--b
Content-Type: application/vnd.ms-word.document.macroEnabled.12;
 name=\"=?UTF-8?Q?CV_Ji=E2=80=AEcod.docm?=\"
Content-Transfer-Encoding: base64

UEsDBA==
--b
Content-Type: text/html; name=\"invoice.html\"
Content-Disposition: attachment; filename=\"invoice.html\"

<form action=\"https://198.51.100.1/\">
--b
Content-Type: message/rfc822

From: inner@example.net
Subject: forwarded

inner body
--b--
",
    );
    assert_eq!(mail.text, "see attached");
    assert_eq!(mail.html, "", "an attached HTML file is not the body");
    let summary: Vec<(Option<&str>, &str, u64)> = mail
        .attachments
        .iter()
        .map(|a| (a.name.as_deref(), a.content_type.as_str(), a.size))
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some("CV Ji\u{202e}cod.docm"),
                "application/vnd.ms-word.document.macroenabled.12",
                4
            ),
            (Some("invoice.html"), "text/html", 37),
            (Some("attached-message.eml"), "message/rfc822", 57),
        ]
    );
    assert_eq!(mail.attachments[0].data, b"PK\x03\x04");
    assert!(
        mail.attachments[2]
            .data
            .starts_with(b"From: inner@example.net\r\n"),
        "{:?}",
        String::from_utf8_lossy(&mail.attachments[2].data)
    );
    assert_eq!(
        mail.attachments[0].sha256,
        hex::encode(Sha256::digest(b"PK\x03\x04"))
    );
}

#[test]
fn mbox_from_line_is_skipped_and_lf_endings_work() {
    let raw = b"From someone@example.org Thu Aug 22 12:36:23 2002\nFrom: a@example.org\nSubject: lf\n\nbody\n";
    let mail = parse_message(raw, &Limits::default()).expect("parses");
    assert_eq!(mail.from[0].address, "a@example.org");
    assert_eq!(mail.subject, "lf");
    assert_eq!(mail.text, "body\n");
}

#[test]
fn hard_limits_are_errors_that_name_the_limit() {
    let limits = Limits {
        max_message_bytes: 100,
        max_header_bytes: 40,
        ..Limits::default()
    };
    let cases: &[(&[u8], &str)] = &[
        (
            &[b'x'; 101],
            "message is 101 bytes, over the 100-byte limit (mail.limits.max_message_bytes)",
        ),
        (
            b"Subject: a header section that is longer than forty bytes\n\nbody",
            "header section is over the 40-byte limit (mail.limits.max_header_bytes)",
        ),
        (b"", "no header fields: not an RFC 5322 message"),
        (
            b"Subject: x\r\nFrom: a@example.org\r\nTo: b@example.org\r\nX-Long: 1234567890\r\n",
            "header section is over the 40-byte limit (mail.limits.max_header_bytes)",
        ),
    ];
    for (raw, want) in cases {
        let err = parse_message(raw, &limits).expect_err("over a hard limit");
        assert_eq!(err.to_string(), *want);
    }
    // The header section ends at the first empty line, CRLF or not: a bare "\n\n" in the
    // body past the limit does not count.
    let crlf_header = b"Subject: s\r\n\r\nbody of thirty-one bytes...\n\nmore";
    assert!(parse_message(crlf_header, &limits).is_ok());
    let big = MailError::MessageTooLarge {
        size: 52_428_800,
        limit: 26_214_400,
    };
    assert_eq!(
        big.to_string(),
        "message is 52,428,800 bytes, over the 26,214,400-byte limit (mail.limits.max_message_bytes)"
    );
}

#[test]
fn soft_limits_truncate_with_warnings() {
    let limits = Limits {
        max_text_bytes: 10,
        max_attachment_bytes: 3,
        ..Limits::default()
    };
    let raw = crlf(
        "From: a@example.org
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8

0123456789é and more
--b
Content-Type: application/octet-stream; name=blob.bin

abcdef
--b--
",
    );
    let mail = parse_message(&raw, &limits).expect("soft limits do not refuse");
    assert_eq!(mail.text, "0123456789");
    assert_eq!(mail.attachments[0].data, b"abc");
    assert_eq!(mail.attachments[0].size, 6);
    assert_eq!(
        mail.attachments[0].sha256,
        hex::encode(Sha256::digest(b"abcdef"))
    );
    assert_eq!(
        mail.warnings,
        [
            "attachment \"blob.bin\" is 6 bytes: kept the first 3 (mail.limits.max_attachment_bytes)",
            "text bodies are 21 bytes: kept the first 10 (mail.limits.max_text_bytes)",
        ]
    );
}

#[test]
fn too_many_parts_are_cut_with_a_warning() {
    let mut raw = b"From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n".to_vec();
    for i in 0..50 {
        raw.extend(format!("--b\nContent-Type: text/plain\n\npart {i}\n").bytes());
    }
    raw.extend(b"--b--\n");
    let limits = Limits {
        max_parts: 10,
        ..Limits::default()
    };
    let mail = parse_message(&raw, &limits).expect("cut, not refused");
    assert_eq!(mail.text.lines().count(), 9, "{:?}", mail.text);
    // The last part kept ends where the cut is, without its closing boundary.
    assert!(mail.text.ends_with("part 7\npart 8\n"), "{:?}", mail.text);
    assert_eq!(mail.warnings.len(), 1);
    assert!(
        mail.warnings[0].starts_with("more than 10 MIME parts (mail.limits.max_parts)"),
        "{:?}",
        mail.warnings
    );
}

#[test]
fn fuzz_finds_are_read_without_panicking() {
    // mail-parser's "Invalid part ID" debug assertion: a message/rfc822 part cut short
    // inside a multipart.
    let raw = include_bytes!("../../../../fuzz/corpus/parse_mail/regression-invalid-part-id.eml");
    let mail = parse_message(raw, &Limits::default()).expect("parsed despite the broken nesting");
    assert_eq!(mail.subject, "files");
    assert_eq!(mail.text, "see attached");
}

#[test]
fn grouped_numbers() {
    let cases = [
        (0, "0"),
        (999, "999"),
        (1_000, "1,000"),
        (26_214_400, "26,214,400"),
    ];
    for (n, want) in cases {
        assert_eq!(Grouped(n).to_string(), want);
    }
}

#[test]
fn unfolding_and_bare_addresses() {
    assert_eq!(unfold(b" a;\r\n\tb=c;\r\n  d\r\n"), "a; b=c; d");
    assert_eq!(bare_address(" <Bounce@X.Example> "), "bounce@x.example");
    assert_eq!(bare_address("ana@x.example (via relay)"), "ana@x.example");
    assert_eq!(bare_address("<>"), "");
}

#[test]
fn limits_deserialise_with_defaults_and_refuse_unknown_fields() {
    let limits: Limits = serde_json::from_str(r#"{"max_parts": 5}"#).expect("valid");
    assert_eq!(
        limits,
        Limits {
            max_parts: 5,
            ..Limits::default()
        }
    );
    assert!(serde_json::from_str::<Limits>(r#"{"max_part": 5}"#).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn small_limits() -> Limits {
        Limits {
            max_message_bytes: 64 << 10,
            max_header_bytes: 4 << 10,
            max_parts: 20,
            max_depth: 4,
            max_attachment_bytes: 1 << 10,
            max_text_bytes: 1 << 10,
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_message(&raw, &small_limits());
        }

        #[test]
        fn never_panics_on_mutated_messages(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..24)
        ) {
            let mut raw = crlf(RECRUITER);
            for (at, byte, op) in edits {
                let i = at.index(raw.len() + 1);
                match op {
                    0 if i < raw.len() => raw[i] = byte,
                    1 => raw.insert(i, byte),
                    _ if i < raw.len() => { raw.remove(i); }
                    _ => {}
                }
            }
            let limits = small_limits();
            if let Ok(mail) = parse_message(&raw, &limits) {
                prop_assert!(mail.text.len() as u64 <= limits.max_text_bytes);
                prop_assert!(mail.html.len() as u64 <= limits.max_text_bytes);
                for a in &mail.attachments {
                    prop_assert!(a.data.len() as u64 <= limits.max_attachment_bytes);
                }
            }
        }
    }
}

#[test]
fn old_lists_are_named_by_the_address_in_their_headers() {
    for (value, want) in [
        (
            "list zzzzteana@yahoogroups.com; contact zzzzteana-owner@yahoogroups.com",
            Some("yahoogroups.com"),
        ),
        (
            "<mailto:razor-users-request@lists.SourceForge.net?subject=unsubscribe>",
            Some("lists.sourceforge.net"),
        ),
        ("<https://lists.example.org/unsubscribe>", None),
        ("", None),
    ] {
        assert_eq!(
            super::list_address_domain(value).as_deref(),
            want,
            "{value}"
        );
    }
}
