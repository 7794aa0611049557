//! A large, realistic mailbox for benchmarks: the inbound and internal mail of one
//! organisation (Riverside Clinic, `clinic.example` and two sister domains) as its
//! receiving host delivered it, with the kind of every message as ground truth.
//!
//! This module owns the bulk mailbox: which messages arrive in what order and when
//! ([`BulkMail`], an endless stream), what each one is ([`MailKind`]), and writing them as
//! an mboxrd file ([`MboxWriter`]). About four messages in five are ordinary mail, many
//! of them the benign look-alikes a naive filter flags (a real WHO bulletin, a LinkedIn
//! recruiter, click-tracked newsletters, SharePoint notices from `sharepointonline.com`,
//! a finance workbook with macros); one in five is phishing of one of seven kinds, sent
//! in campaigns the way they arrive in real mailboxes. The submodules own the parts:
//! `people` (who writes), `route` (the transit headers the receiving host adds),
//! `compose` (the MIME structure), `files` (attachments in their real formats), `text`
//! (the words), `benign` and `phishing` (the templates).
//!
//! Like the rest of the crate it reads no clock: the same seed gives the same bytes. The
//! stream does not depend on how much of it is taken, so a shorter mailbox is a prefix
//! of a longer one with the same seed. Phishing uses real brands' and authorities' names
//! and look-alikes of their domains, as the corpus in `mail.rs` does; none of it is sent.

mod benign;
mod compose;
mod files;
mod people;
mod phishing;
mod route;
mod text;

use std::io::{self, Write};

use fastrand::Rng;
use jiff::Timestamp;

use crate::mail::{CORPUS_AUTHSERV_ID, CORPUS_OWN_DOMAIN};

/// The organisation whose mail the bulk mailbox holds.
pub const BULK_ORGANISATION: &str = "Riverside Clinic";

/// The organisation's own domains: the clinic, its research institute and its
/// foundation. `tocsin scan` protects them (`[mail] protected_domains`).
pub const BULK_OWN_DOMAINS: [&str; 3] = [
    CORPUS_OWN_DOMAIN,
    "clinic-research.example",
    "clinicfoundation.example",
];

/// 2026-11-02T06:00:00+01:00, a Monday morning at the clinic: the first delivery is
/// shortly after.
const START: i64 = 1_793_595_600;

/// The clinic's offset from UTC in November (CET), in seconds.
const LOCAL_OFFSET: i64 = 3_600;

/// Messages per block of the schedule, and how many of them are phishing: every block
/// holds each phishing kind at least once, so any mailbox of a block or more has them all.
const BLOCK: usize = 50;
const PHISHING_PER_BLOCK: usize = 10;

/// What a message is, in the ground truth's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailKind {
    Benign,
    /// A job offer from a free-mail or look-alike recruiting address, often with a
    /// weaponised document (the Zinc lures).
    FakeRecruiter,
    /// WHO, COVID-19 or vaccine impersonation (the Cerium lures).
    WhoCovid,
    /// A sender domain imitating the clinic's or a partner's: homoglyph, punycode,
    /// hyphenation, another suffix.
    LookalikeDomain,
    /// A link to a fake Microsoft 365, DocuSign or file-sharing sign-in page.
    CredentialPhish,
    /// An attachment that runs code or smuggles a download: macros, HTML, ISO and LNK,
    /// an encrypted archive.
    MaliciousAttachment,
    /// An executive's name on a free-mail address asking for money, replies diverted.
    BecDisplayName,
    /// From the clinic's own domain, sent from elsewhere: DMARC fails.
    OwnDomainSpoof,
}

impl MailKind {
    pub const ALL: [MailKind; 8] = [
        MailKind::Benign,
        MailKind::FakeRecruiter,
        MailKind::WhoCovid,
        MailKind::LookalikeDomain,
        MailKind::CredentialPhish,
        MailKind::MaliciousAttachment,
        MailKind::BecDisplayName,
        MailKind::OwnDomainSpoof,
    ];

    pub const PHISHING: [MailKind; 7] = [
        MailKind::FakeRecruiter,
        MailKind::WhoCovid,
        MailKind::LookalikeDomain,
        MailKind::CredentialPhish,
        MailKind::MaliciousAttachment,
        MailKind::BecDisplayName,
        MailKind::OwnDomainSpoof,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Benign => "benign",
            MailKind::FakeRecruiter => "fake_recruiter",
            MailKind::WhoCovid => "who_covid",
            MailKind::LookalikeDomain => "lookalike_domain",
            MailKind::CredentialPhish => "credential_phish",
            MailKind::MaliciousAttachment => "malicious_attachment",
            MailKind::BecDisplayName => "bec_display_name",
            MailKind::OwnDomainSpoof => "own_domain_spoof",
        }
    }

    pub fn is_phishing(self) -> bool {
        self != MailKind::Benign
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generated message as the receiving host delivered it.
#[derive(Clone, Debug)]
pub struct BulkMessage {
    /// The `Message-ID` header's value with its angle brackets: `<…@…>`. Unique in the
    /// stream.
    pub message_id: String,
    pub kind: MailKind,
    /// The template that wrote it (`newsletter`, `sharepoint_share`, `docm_job_offer`,
    /// …), for measuring per template; several templates share a kind.
    pub template: &'static str,
    /// The envelope sender (`Return-Path`), empty for a bounce; the mbox `From ` line
    /// names it.
    pub envelope_sender: String,
    /// When the receiving host delivered it.
    pub delivered: Timestamp,
    /// The message, CRLF line endings, as delivered.
    pub raw: Vec<u8>,
}

/// The bulk mailbox as an endless stream of messages in delivery order; take as many as
/// needed. See the module documentation.
pub struct BulkMail {
    rng: Rng,
    seed: u64,
    index: u64,
    /// Seconds since the Unix epoch of the last delivery.
    clock: i64,
    /// The rest of the current block of the schedule, last first.
    block: Vec<MailKind>,
    world: people::World,
    campaigns: phishing::Campaigns,
    history: benign::History,
}

/// The bulk mailbox of `seed`.
pub fn bulk_mail(seed: u64) -> BulkMail {
    let mut rng = Rng::with_seed(seed);
    let world = people::World::new(&mut rng);
    BulkMail {
        rng,
        seed,
        index: 0,
        clock: START,
        block: Vec::new(),
        world,
        campaigns: phishing::Campaigns::default(),
        history: benign::History::default(),
    }
}

impl BulkMail {
    fn next_kind(&mut self) -> MailKind {
        if self.block.is_empty() {
            let mut block: Vec<MailKind> = MailKind::PHISHING.to_vec();
            // The rest of the block's phishing follows how often each kind reaches
            // mailboxes: credential phishing most, then malicious attachments.
            const EXTRA: [(MailKind, u32); 7] = [
                (MailKind::CredentialPhish, 5),
                (MailKind::MaliciousAttachment, 4),
                (MailKind::BecDisplayName, 2),
                (MailKind::LookalikeDomain, 2),
                (MailKind::OwnDomainSpoof, 2),
                (MailKind::FakeRecruiter, 1),
                (MailKind::WhoCovid, 1),
            ];
            while block.len() < PHISHING_PER_BLOCK {
                block.push(*text::weighted(&mut self.rng, &EXTRA));
            }
            block.resize(BLOCK, MailKind::Benign);
            self.rng.shuffle(&mut block);
            block.reverse();
            self.block = block;
        }
        self.block.pop().unwrap_or(MailKind::Benign)
    }

    /// Moves the clock to the next delivery: busy in working hours, quiet at night and
    /// at the weekend. Integer steps only, so that every platform gives the same times.
    fn tick(&mut self) -> i64 {
        let local = self.clock + LOCAL_OFFSET;
        let hour = (local % 86_400) / 3_600;
        // 1970-01-01 was a Thursday: day 0 is weekday 4 (0 = Sunday).
        let weekday = (local / 86_400 + 4) % 7;
        let weekend = weekday == 0 || weekday == 6;
        let max_gap = match (weekend, hour) {
            (false, 7..=17) => 24,
            (false, 18..=21) | (false, 6) => 120,
            (true, 8..=20) => 240,
            (false, _) => 600,
            (true, _) => 900,
        };
        self.clock += 1 + self.rng.i64(0..=max_gap);
        self.clock
    }

    /// A 64-bit value different for every message of this seed: the unique part of the
    /// Message-ID, whatever else the random choices give.
    fn unique(&self) -> u64 {
        splitmix(self.index ^ splitmix(self.seed))
    }
}

impl Iterator for BulkMail {
    type Item = io::Result<BulkMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        let kind = self.next_kind();
        let delivered = self.tick();
        let unique = self.unique();
        self.index += 1;
        let mut cx = compose::Context {
            rng: &mut self.rng,
            world: &self.world,
            delivered,
            unique,
        };
        let draft = match kind {
            MailKind::Benign => benign::draft(&mut cx, &mut self.history),
            phishing => self.campaigns.draft(&mut cx, phishing),
        };
        let message = compose::render(&mut cx, draft).map(|rendered| {
            if kind == MailKind::Benign {
                self.history.delivered(&rendered);
            }
            BulkMessage {
                message_id: rendered.message_id,
                kind,
                template: rendered.template,
                envelope_sender: rendered.envelope_sender,
                delivered: Timestamp::from_second(delivered).unwrap_or(Timestamp::UNIX_EPOCH),
                raw: rendered.raw,
            }
        });
        Some(message)
    }
}

/// SplitMix64's finaliser: a bijection on `u64`, so distinct inputs stay distinct.
fn splitmix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes messages to an mbox in the mboxrd convention, as a Unix delivery agent keeps
/// one: a `From <envelope sender> <asctime>` line before each message, lines ending in
/// LF, body lines starting with `From ` (after any number of `>`) quoted with one more
/// `>`, and an empty line after each message.
pub struct MboxWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> MboxWriter<W> {
    pub fn new(out: W) -> Self {
        MboxWriter { out, written: 0 }
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    pub fn write_message(&mut self, message: &BulkMessage) -> io::Result<()> {
        let sender = if message.envelope_sender.is_empty() {
            "MAILER-DAEMON"
        } else {
            message.envelope_sender.as_str()
        };
        let when = message
            .delivered
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%a %b %e %H:%M:%S %Y");
        let separator = format!("From {sender} {when}\n");
        self.put(separator.as_bytes())?;
        let raw = &message.raw;
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if line[quotes..].starts_with(b"From ") {
                self.put(b">")?;
            }
            match line.strip_suffix(b"\r\n") {
                Some(content) => {
                    self.put(content)?;
                    self.put(b"\n")?;
                }
                None => self.put(line)?,
            }
        }
        if !raw.ends_with(b"\n") {
            self.put(b"\n")?;
        }
        self.put(b"\n")
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.written += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests;
