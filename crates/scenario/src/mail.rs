//! A corpus of inbound messages with the verdict each must get: the spear-phishing the
//! seeds describe (Cerium's WHO and COVID-19 lures, Zinc's fake recruiters, lookalike
//! and homograph domains, weaponised attachments) and the benign look-alikes that must
//! stay clean (a real WHO newsletter, a real LinkedIn job alert, a colleague's `.docx`).
//!
//! Messages are built with a MIME writer (multipart, HTML, base64 and quoted-printable
//! parts, encoded-word headers, real attachment formats) and made deterministic by
//! renaming the writer's time-based boundaries. The protected organisation is
//! `clinic.example`, whose receiving host `mx.clinic.example` writes the trusted
//! `Authentication-Results`. Lookalike domains of real authorities are necessary for the
//! corpus to mean anything; none of these messages is ever sent.

use std::io::{Cursor, Write};

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use model::Verdict;

/// The protected organisation's own domain in the corpus.
pub const CORPUS_OWN_DOMAIN: &str = "clinic.example";
/// The receiving host whose authentication results the corpus's analyser trusts.
pub const CORPUS_AUTHSERV_ID: &str = "mx.clinic.example";

/// One message and what the analyser must conclude.
pub struct MailCase {
    /// File-name stem: `who-lookalike-covid`.
    pub name: &'static str,
    /// What the message is, for people reading the corpus.
    pub about: &'static str,
    pub expected: Verdict,
    /// Reason codes that must be among the reasons (others may be too).
    pub codes: &'static [&'static str],
    pub raw: Vec<u8>,
}

/// 2020-04-02T09:15:00Z, in the Cerium campaigns' season.
const DATE: i64 = 1_585_818_900;

fn base(
    from: (&'static str, &'static str),
    subject: &'static str,
    n: i64,
) -> MessageBuilder<'static> {
    let host = from
        .1
        .rsplit_once('@')
        .map_or("unknown.example", |(_, d)| d);
    MessageBuilder::new()
        .header("Return-Path", Raw::new(format!("<{}>", from.1)))
        .header(
            "Received",
            Raw::new(format!(
                "from mail.{host} (mail.{host} [192.0.2.{}])\r\n\tby mx.clinic.example with ESMTPS id corpus{n}\r\n\tfor <ana.silva@clinic.example>; {}",
                10 + n,
                "Thu, 2 Apr 2020 09:15:00 +0000"
            )),
        )
        .from(from)
        .to(("Ana Silva", "ana.silva@clinic.example"))
        .subject(subject)
        .date(DATE + n * 3_600)
        .message_id(format!("corpus-{n}@generator.example"))
        .header("Delivered-To", Raw::new("ana.silva@clinic.example"))
}

fn write(message: MessageBuilder<'_>) -> Vec<u8> {
    let raw = message.write_to_vec().unwrap_or_default();
    deterministic_boundaries(raw, "tocsin-corpus-boundary")
}

/// The MIME writer names boundaries after the clock; rename them in order of first use.
/// `prefix` keeps an envelope's boundaries apart from those of a message it carries.
fn deterministic_boundaries(raw: Vec<u8>, prefix: &str) -> Vec<u8> {
    let mut text = String::from_utf8(raw).unwrap_or_default();
    let mut n = 0;
    let mut search_from = 0;
    while let Some(at) = text[search_from..].find("boundary=\"") {
        let start = search_from + at + "boundary=\"".len();
        let Some(len) = text[start..].find('"') else {
            break;
        };
        let old = text[start..start + len].to_owned();
        // Boundaries already renamed belong to a message carried inside this one.
        if old.starts_with("tocsin-") {
            search_from = start + len;
            continue;
        }
        n += 1;
        let new = format!("{prefix}-{n}");
        text = text.replace(&old, &new);
        search_from = start + new.len();
    }
    text.into_bytes()
}

/// A `.docx`/`.docm` (OOXML zip); with `macro_project` it carries `word/vbaProject.bin`.
fn ooxml(macro_project: bool) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut add = |name: &str, body: &[u8]| {
            let _ = zip.start_file(name, options);
            let _ = zip.write_all(body);
        };
        add(
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#,
        );
        add(
            "word/document.xml",
            br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Minutes of the ward meeting</w:t></w:r></w:p></w:body></w:document>"#,
        );
        if macro_project {
            add("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Attribute VB_Name = \"ThisDocument\"\r\nSub AutoOpen()\r\nEnd Sub");
        }
        let _ = zip.finish();
    }
    buf.into_inner()
}

/// A zip holding `entries`, optionally with the encryption flag set on each entry, as a
/// password-protected archive has.
fn archive(entries: &[(&str, &[u8])], encrypted: bool) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, body) in entries {
            let _ = zip.start_file(*name, options);
            let _ = zip.write_all(body);
        }
        let _ = zip.finish();
    }
    let mut bytes = buf.into_inner();
    if encrypted {
        // General-purpose flag bit 0 in every local (PK\3\4, offset 6) and central
        // (PK\1\2, offset 8) header: what a ZipCrypto writer sets.
        let mut i = 0;
        while i + 10 < bytes.len() {
            if bytes[i..].starts_with(b"PK\x03\x04") {
                bytes[i + 6] |= 1;
            } else if bytes[i..].starts_with(b"PK\x01\x02") {
                bytes[i + 8] |= 1;
            }
            i += 1;
        }
    }
    bytes
}

/// A Windows shortcut header (MS-SHLLINK): header size and the LinkCLSID.
fn lnk() -> Vec<u8> {
    let mut b = vec![
        0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46,
    ];
    b.resize(76, 0);
    b.extend_from_slice(b"C:\\Windows\\System32\\cmd.exe /c powershell -enc ...");
    b
}

/// An ISO 9660 image: the primary volume descriptor's `CD001` at 0x8001.
fn iso() -> Vec<u8> {
    let mut b = vec![0u8; 0x8800];
    b[0x8000] = 1;
    b[0x8001..0x8006].copy_from_slice(b"CD001");
    b
}

const WHO_NEWS_HTML: &str = "<html><body><h1>WHO News</h1>\
<p>COVID-19 vaccines: updated guidance for health workers on vaccination and testing.</p>\
<p><a href=\"https://www.who.int/news/item/02-04-2020-covid-19-guidance\">Read the guidance on www.who.int</a></p>\
<p><a href=\"https://www.who.int/about/communications/newsletters/unsubscribe\">Unsubscribe</a></p></body></html>";

/// The corpus, in a stable order.
pub fn mail_corpus() -> Vec<MailCase> {
    let trusted_pass = |domain: &'static str| -> String {
        format!(
            "mx.clinic.example; spf=pass (sender IP is 192.0.2.25) smtp.mailfrom={domain}; \
             dkim=pass (signature was verified) header.d={domain}; dmarc=pass action=none header.from={domain}"
        )
    };
    vec![

    // --- Phishing -------------------------------------------------------------------
    MailCase {
        name: "who-lookalike-covid",
        about: "Cerium-style lure: 'World Health Organization' from who-int.org, a hyphenated lookalike of who.int, with a COVID-19 vaccine lure and a link to the lookalike",
        expected: Verdict::Phishing,
        codes: &["lookalike_sender", "lure_health", "lookalike_link"],
        raw: write(
            base(("World Health Organization", "covid19@who-int.org"), "COVID-19 vaccine: urgent guidance for health workers", 1)
                .text_body("Dear colleague,\r\n\r\nPlease read the updated COVID-19 vaccination guidance before your next shift:\r\nhttps://who-int.org/covid19/guidance/login\r\n\r\nWorld Health Organization\r\n")
                .html_body("<p>Dear colleague,</p><p>Please read the updated <b>COVID-19 vaccination</b> guidance before your next shift:</p><p><a href=\"https://who-int.org/covid19/guidance/login\">https://www.who.int/covid19/guidance</a></p>"),
        ),
    },
    MailCase {
        name: "who-director-freemail",
        about: "A 'WHO Director' display name from a free-mail address, replies diverted to another provider, asking about COVID-19 donations",
        expected: Verdict::Phishing,
        codes: &["display_name_impersonation", "reply_to_mismatch", "lure_health"],
        raw: write(
            base(("WHO Director-General Office", "who.director.office@gmail.com"), "Urgent: coronavirus pandemic response funding", 2)
                .reply_to(("WHO Office", "who-office@outlook.com"))
                .text_body("Dear Partner,\r\n\r\nThe World Health Organization is coordinating the COVID-19 pandemic response and needs your urgent support with vaccine logistics. Kindly reply with your availability.\r\n\r\nRegards,\r\nWHO Director-General Office\r\n"),
        ),
    },
    MailCase {
        name: "recruiter-zinc-docm",
        about: "Zinc-style fake recruiter: a 'Senior Recruiter' at a defence firm writing from Gmail with a job description as a macro-enabled Word document",
        expected: Verdict::Phishing,
        codes: &["freemail_official_title", "lure_recruiting", "attachment_macro"],
        raw: write(
            base(("Sarah Miller, Senior Recruiter at Boeing", "sarah.miller.talent@gmail.com"), "Job offer: Senior Biomedical Engineer - salary and interview", 3)
                .text_body("Hello Ana,\r\n\r\nI came across your profile and would like to discuss a job offer for a Senior Biomedical Engineer position. The salary range and the job description are in the attached document; please enable editing to view it. Are you available for an interview this week?\r\n\r\nBest regards,\r\nSarah Miller\r\nSenior Recruiter\r\n")
                .attachment("application/vnd.ms-word.document.macroEnabled.12", "Boeing_Job_Description.docm", ooxml(true)),
        ),
    },
    MailCase {
        name: "linkedin-homoglyph",
        about: "A job alert from linkedln.com (ln for in) whose link text shows www.linkedin.com but goes to the lookalike",
        expected: Verdict::Phishing,
        codes: &["lookalike_sender", "lookalike_link", "link_text_mismatch"],
        raw: write(
            base(("LinkedIn Jobs", "jobs-noreply@linkedln.com"), "A recruiter viewed your profile: new job opportunity", 4)
                .html_body("<p>Hi Ana, a recruiter from <b>Pfizer</b> viewed your profile and has a new position for you.</p>\
<p><a href=\"https://linkedln.com/jobs/view/3377?trk=eml\">https://www.linkedin.com/jobs/view/3377</a></p>"),
        ),
    },
    MailCase {
        name: "microsoft-password-form",
        about: "Password-expiry lure from rnicrosoft.com (rn for m) with a password form inside the message",
        expected: Verdict::Phishing,
        codes: &["lookalike_sender", "lure_credentials", "html_password_form"],
        raw: write(
            base(("Microsoft 365", "no-reply@rnicrosoft.com"), "Your password expires today", 5)
                .html_body("<p>Your password expires today. Verify your account to keep your mailbox.</p>\
<form action=\"https://rnicrosoft.com/owa/auth.php\" method=\"post\"><input name=\"login\"><input type=\"password\" name=\"passwd\"><button>Keep my password</button></form>"),
        ),
    },
    MailCase {
        name: "microsoft-idn-homograph",
        about: "Shared-document lure from a homograph of microsoft.com with a Cyrillic 'і', written in punycode",
        expected: Verdict::Phishing,
        codes: &["lookalike_sender", "lure_credentials"],
        raw: write(
            base(("Microsoft OneDrive", "share@xn--mcrosoft-thh.com"), "Ana, a document has been shared with you", 6)
                .text_body("A document has been shared with you: Q2 budget.xlsx\r\nSign in to view the document.\r\n"),
        ),
    },
    MailCase {
        name: "invoice-iso-double-extension",
        about: "French invoice lure (encoded-word subject) with a disk image named like a PDF",
        expected: Verdict::Phishing,
        codes: &["attachment_double_extension", "attachment_disk_image", "lure_invoice"],
        raw: write(
            base(("Service comptabilité", "compta@fournisseur-medical.example"), "Facture impayée n° 2020-113 — rappel", 7)
                .text_body("Bonjour,\r\n\r\nVeuillez trouver ci-joint la facture impayée. Merci de procéder au paiement.\r\n")
                .attachment("application/octet-stream", "facture_2020-113.pdf.iso", iso()),
        ),
    },
    MailCase {
        name: "rtlo-salary-review",
        about: "An executable whose name uses a right-to-left override so that it reads as a PDF",
        expected: Verdict::Phishing,
        codes: &["attachment_rtlo"],
        raw: write(
            base(
                ("HR Department", "hr@payroll-update.example"),
                "Salary review 2020",
                8,
            )
            .text_body("Please find your salary review attached.\r\n")
            .attachment(
                "application/pdf",
                "Salary_review_\u{202e}fdp.exe",
                b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
            ),
        ),
    },
    MailCase {
        name: "kdca-korean-lnk-zip",
        about: "Korean COVID-19 vaccination notice claiming to be the KDCA (질병관리청) from a free-mail address, with a shortcut inside a zip",
        expected: Verdict::Phishing,
        codes: &["display_name_impersonation", "lure_health", "attachment_shortcut"],
        raw: write(
            base(("질병관리청", "kdca.notice@naver.com"), "코로나19 백신 접종 안내", 9)
                .text_body("코로나19 백신 접종 일정을 첨부 파일에서 확인하십시오.\r\n")
                .attachment("application/zip", "백신_접종_안내.zip", archive(&[("접종일정.pdf.lnk", &lnk())], false)),
        ),
    },
    MailCase {
        name: "spanish-ip-literal-login",
        about: "Spanish shared-document lure linking to a sign-in page on a bare IP address",
        expected: Verdict::Phishing,
        codes: &["link_ip_literal", "link_credential_path", "lure_credentials"],
        raw: write(
            base(("Soporte", "soporte@servicio-correo.example"), "Se ha compartido un documento contigo", 10)
                .html_body("<p>Se ha compartido un documento contigo. Verifique su cuenta para acceder.</p><p><a href=\"http://203.0.113.7/login.php?u=ana\">Abrir documento</a></p>"),
        ),
    },
    MailCase {
        name: "own-domain-spoof-dmarc-fail",
        about: "The clinic's own director spoofed: DMARC fails at the clinic's receiving host and replies go to Gmail",
        expected: Verdict::Phishing,
        codes: &["dmarc_fail", "reply_to_mismatch"],
        raw: write(
            base(("Dr. Paul Martin", "paul.martin@clinic.example"), "Urgent wire transfer before noon", 11)
                .reply_to(("Paul Martin", "paul.martin.director@gmail.com"))
                .header("Authentication-Results", Raw::new("mx.clinic.example; spf=fail (sender IP is 198.51.100.66) smtp.mailfrom=clinic.example; dkim=none (message not signed) header.d=none; dmarc=fail action=quarantine header.from=clinic.example"))
                .text_body("Ana, I need you to process a payment before noon. Reply to me here, I am in meetings all day.\r\n"),
        ),
    },
    MailCase {
        name: "german-invoice-encrypted-zip",
        about: "German invoice lure with a password-protected archive and the password in the body",
        expected: Verdict::Suspicious,
        codes: &["attachment_encrypted_archive", "lure_invoice"],
        raw: write(
            base(
                ("Buchhaltung", "rechnung@lieferant-gmbh.example"),
                "Rechnung Nr. 4471 – Zahlungserinnerung",
                12,
            )
            .text_body(
                "Sehr geehrte Damen und Herren,\r\n\r\nanbei die Rechnung. Passwort: 4471\r\n",
            )
            .attachment(
                "application/zip",
                "Rechnung_4471.zip",
                archive(&[("Rechnung_4471.pdf", b"%PDF-1.4 ...")], true),
            ),
        ),
    },

    // --- Benign look-alikes: must stay clean ---------------------------------------------
    MailCase {
        name: "who-newsletter-dkim",
        about: "A real WHO newsletter about COVID-19 vaccines, from who.int with DKIM and DMARC passing at the clinic's receiving host",
        expected: Verdict::Clean,
        codes: &["dmarc_pass"],
        raw: write(
            base(("World Health Organization", "newsletter@who.int"), "WHO News: COVID-19 vaccines and testing guidance", 13)
                .header("Authentication-Results", Raw::new(trusted_pass("who.int")))
                .text_body("WHO News\r\n\r\nCOVID-19 vaccines: updated guidance for health workers on vaccination and testing.\r\nhttps://www.who.int/news/item/02-04-2020-covid-19-guidance\r\n")
                .html_body(WHO_NEWS_HTML),
        ),
    },
    MailCase {
        name: "linkedin-job-alert",
        about: "A real LinkedIn job alert from linkedin.com, DMARC passing",
        expected: Verdict::Clean,
        codes: &["dmarc_pass"],
        raw: write(
            base(("LinkedIn Job Alerts", "jobalerts-noreply@linkedin.com"), "Senior Nurse position at St Mary's Hospital and 5 more jobs", 14)
                .header("Authentication-Results", Raw::new(trusted_pass("linkedin.com")))
                .html_body("<p>New jobs match your preferences: <b>Senior Nurse</b>, St Mary's Hospital. Salary: competitive.</p>\
<p><a href=\"https://www.linkedin.com/comm/jobs/view/3377?trk=eml-jobalert\">View job</a></p>"),
        ),
    },
    MailCase {
        name: "colleague-docx",
        about: "A colleague at the clinic sends meeting minutes as a .docx (no macros)",
        expected: Verdict::Clean,
        codes: &[],
        raw: write(
            base(("Bo Chen", "bo.chen@clinic.example"), "Minutes of Tuesday's ward meeting", 15)
                .header("Authentication-Results", Raw::new(trusted_pass("clinic.example")))
                .text_body("Hi Ana,\r\n\r\nthe minutes are attached; the vaccination rota for next week is on page 2.\r\n\r\nBo\r\n")
                .attachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "ward-minutes.docx", ooxml(false)),
        ),
    },
    MailCase {
        name: "microsoft-security-notice",
        about: "A real Microsoft account security notice from accountprotection.microsoft.com",
        expected: Verdict::Clean,
        codes: &["dmarc_pass"],
        raw: write(
            base(("Microsoft account team", "account-security-noreply@accountprotection.microsoft.com"), "Microsoft account security info was added", 16)
                .header("Authentication-Results", Raw::new(trusted_pass("accountprotection.microsoft.com")))
                .text_body("The following security info was recently added to the Microsoft account an***@clinic.example. If you added this, you can ignore this message.\r\nhttps://account.live.com/proofs/Manage\r\n"),
        ),
    },
    MailCase {
        name: "french-supplier-invoice",
        about: "A supplier's ordinary invoice in French with a PDF attachment",
        expected: Verdict::Clean,
        codes: &[],
        raw: write(
            base(("Fournitures Médicales SA", "factures@fournitures-medicales.example"), "Votre facture n° F-2020-0412", 17)
                .text_body("Bonjour,\r\n\r\nVeuillez trouver ci-joint votre facture du mois de mars.\r\n\r\nCordialement\r\n")
                .attachment("application/pdf", "F-2020-0412.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n".to_vec()),
        ),
    },
    MailCase {
        name: "conference-multipart",
        about: "A conference announcement in multipart/alternative with quoted-printable HTML and several links to one site",
        expected: Verdict::Clean,
        codes: &[],
        raw: write(
            base(("ECCMID Conference", "info@eccmid-congress.example"), "Call for abstracts: infection control 2020", 18).body(
                MimePart::new(
                    "multipart/alternative",
                    vec![
                        MimePart::new("text/plain", "Call for abstracts is open until 30 April.\r\nhttps://eccmid-congress.example/abstracts\r\n"),
                        MimePart::new("text/html", "<p>Call for abstracts is open until 30 April.</p><p><a href=\"https://eccmid-congress.example/abstracts\">Submit an abstract</a> · <a href=\"https://eccmid-congress.example/programme\">Programme</a></p>").transfer_encoding("quoted-printable"),
                    ],
                ),
            ),
        ),
    },
    ]
}

/// `raw` with the corpus organisation's domain replaced by `domain`, so that the same
/// messages can be sent to another organisation (the demo's). The domain appears only in
/// headers and text, never inside encoded attachments.
pub fn readdressed(raw: &[u8], domain: &str) -> Vec<u8> {
    String::from_utf8_lossy(raw)
        .replace(CORPUS_OWN_DOMAIN, domain)
        .into_bytes()
}

/// `original` wrapped the way Microsoft 365 journaling delivers it: an envelope journal
/// report from the journaling agent, marked `X-MS-Journal-Report`, whose text names the
/// sender, subject, message id and envelope recipients one a line (`To:`, `Cc:`, `Bcc:`
/// or `Recipient:`, with `, Expanded: <group>` for a group member), and which carries the
/// original unaltered as a `message/rfc822` attachment.
pub fn journal_report(
    original: &[u8],
    sender: &str,
    subject: &str,
    message_id: &str,
    recipients: &[&str],
) -> Vec<u8> {
    let mut envelope =
        format!("Sender: {sender}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n");
    for (i, r) in recipients.iter().enumerate() {
        if i == 0 {
            envelope.push_str(&format!("To: {r}\r\n"));
        } else {
            envelope.push_str(&format!(
                "Bcc: {r}, Expanded: staff@{CORPUS_OWN_DOMAIN}\r\n"
            ));
        }
    }
    let report = MessageBuilder::new()
        .from((
            "Microsoft Outlook",
            "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@clinic.onmicrosoft.com",
        ))
        .to(("Journal", "journal@tocsin.example"))
        .subject(subject.to_owned())
        .date(DATE)
        .message_id("journal-report-1@clinic.onmicrosoft.com")
        .header("X-MS-Journal-Report", Raw::new(""))
        .body(MimePart::new(
            "multipart/mixed",
            vec![
                MimePart::new("text/plain", envelope),
                // Unaltered, as RFC 2046 requires of message/rfc822 (7bit or 8bit, never
                // base64 or quoted-printable).
                MimePart::new(
                    "message/rfc822",
                    String::from_utf8_lossy(original).into_owned(),
                )
                .transfer_encoding("7bit")
                .attachment("original.eml"),
            ],
        ));
    deterministic_boundaries(
        report.write_to_vec().unwrap_or_default(),
        "tocsin-journal-boundary",
    )
}

/// `messages` as one mbox (mboxrd): a `From ` line before each, body lines starting
/// with `From ` (or already quoted) quoted once more, and an empty line after each.
pub fn mbox<'a>(messages: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for raw in messages {
        out.extend_from_slice(b"From corpus@generator.example Thu Apr  2 09:15:00 2020\n");
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let unquoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
            if line[unquoted..].starts_with(b"From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line);
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// The corpus cases the demo sends to its vaccine maker: four spear-phishing kinds, one
/// suspicious and two benign messages.
pub const DEMO_MAIL: &[&str] = &[
    "who-lookalike-covid",
    "recruiter-zinc-docm",
    "linkedin-homoglyph",
    "kdca-korean-lnk-zip",
    "german-invoice-encrypted-zip",
    "who-newsletter-dkim",
    "colleague-docx",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_the_same_every_time() {
        let a: Vec<Vec<u8>> = mail_corpus().into_iter().map(|c| c.raw).collect();
        let b: Vec<Vec<u8>> = mail_corpus().into_iter().map(|c| c.raw).collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|raw| raw.len() > 200));
    }

    #[test]
    fn mbox_quotes_from_lines_and_separates_every_message() {
        let a: &[u8] = b"Subject: a\r\n\r\nFrom here on\r\n>From there";
        let b: &[u8] = b"Subject: b\n\nbody\n";
        let mbox = String::from_utf8(mbox([a, b])).expect("utf8");
        assert_eq!(
            mbox,
            "From corpus@generator.example Thu Apr  2 09:15:00 2020\n\
             Subject: a\r\n\r\n>From here on\r\n>>From there\n\n\
             From corpus@generator.example Thu Apr  2 09:15:00 2020\n\
             Subject: b\n\nbody\n\n"
        );
    }

    #[test]
    fn names_are_unique_and_every_verdict_is_represented() {
        let corpus = mail_corpus();
        let mut names: Vec<&str> = corpus.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), corpus.len());
        for v in [Verdict::Clean, Verdict::Suspicious, Verdict::Phishing] {
            assert!(corpus.iter().any(|c| c.expected == v), "{v}");
        }
    }
}
