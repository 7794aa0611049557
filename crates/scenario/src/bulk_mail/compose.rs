//! From a template's draft to the delivered bytes: the header block in the order mail
//! systems write it (delivery and transit headers on top, the author's below), the
//! Message-ID and boundaries each client writes, and the MIME tree (alternative text and
//! HTML, related inline images, a calendar part, mixed attachments). Boundaries are
//! chosen here rather than by the MIME writer, which would name them after the clock.

use std::io;

use fastrand::Rng;
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

use super::files::File;
use super::people::{Client, World};
use super::route::{Route, postfix_queue_id, received_by_lmtp, rfc2822, sender_hops};
use super::text::{alnum, b64, choose, hex, pick, uuid};

/// What every template needs: the random stream, the clinic, the delivery time and
/// the message's unique number.
pub(super) struct Context<'a> {
    pub rng: &'a mut Rng,
    pub world: &'a World,
    /// Seconds since the epoch when the receiving host delivered the message.
    pub delivered: i64,
    pub unique: u64,
}

pub(super) type Mailbox = (String, String);

/// A message as a template describes it.
pub(super) struct Draft {
    pub template: &'static str,
    pub client: Client,
    pub from: Mailbox,
    /// The first is the recipient it was delivered to.
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub sender: Option<Mailbox>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// `(content id, PNG)` shown by the HTML.
    pub inline: Vec<(String, Vec<u8>)>,
    /// A `text/calendar; method=REQUEST` alternative.
    pub calendar: Option<String>,
    pub attachments: Vec<File>,
    /// Further headers (List-Unsubscribe, Auto-Submitted, …), below the author's.
    pub headers: Vec<(&'static str, String)>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub route: Route,
    /// Seconds from the Date header to delivery.
    pub transit: i64,
    /// The host part of the Message-ID when the client names the sender's domain.
    pub id_domain: String,
    /// Keep the message for replies later in the stream (internal threads).
    pub thread: bool,
}

impl Draft {
    pub(super) fn new(
        template: &'static str,
        client: Client,
        from: Mailbox,
        to: Mailbox,
        subject: String,
        route: Route,
    ) -> Draft {
        let id_domain = from
            .1
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d)
            .to_owned();
        Draft {
            template,
            client,
            from,
            to: vec![to],
            cc: Vec::new(),
            reply_to: None,
            sender: None,
            subject,
            text: None,
            html: None,
            inline: Vec::new(),
            calendar: None,
            attachments: Vec::new(),
            headers: Vec::new(),
            in_reply_to: None,
            references: Vec::new(),
            route,
            transit: 3,
            id_domain,
            thread: false,
        }
    }
}

/// A message a later reply can quote.
#[derive(Clone, Debug)]
pub(super) struct Sent {
    pub message_id: String,
    pub references: Vec<String>,
    pub from: Mailbox,
    pub to: Mailbox,
    pub subject: String,
    pub date: String,
    pub text: String,
}

pub(super) struct Rendered {
    pub message_id: String,
    pub template: &'static str,
    pub envelope_sender: String,
    pub raw: Vec<u8>,
    pub sent: Option<Sent>,
}

/// A header value on one line: the MIME writer folds long values itself, at whitespace
/// past 76 columns, and a fold written here as well would leave an empty line, which
/// ends the header block.
fn one_line(value: String) -> Raw<'static> {
    let mut out = String::with_capacity(value.len());
    let mut pending_space = false;
    for part in value.split("\r\n") {
        let part = if pending_space {
            part.trim_start()
        } else {
            part
        };
        if pending_space && !part.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
        pending_space = true;
    }
    Raw::new(out)
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The Message-ID a client writes, with the message's unique number in it so that no
/// two messages share one. Angle brackets included.
fn message_id(rng: &mut Rng, client: Client, unique: u64, domain: &str, sent: i64) -> String {
    let u = format!("{unique:016x}");
    let upper = u.to_uppercase();
    match client {
        Client::ExchangeOnPrem => format!(
            "<{upper}{}@EXCH0{}.clinic.local>",
            hex(rng, 16, true),
            rng.u8(1..=2)
        ),
        Client::ExchangeOnline => {
            let server = format!(
                "{}{}PR0{}MB{}",
                pick(rng, &["AM", "DB", "PA", "VI", "GV", "AS"]),
                rng.u8(1..=9),
                rng.u8(1..=9),
                rng.u16(1000..10000)
            );
            let region = pick(
                rng,
                &["eurprd02", "eurprd04", "eurprd05", "GBRP265", "DEUP281"],
            );
            format!(
                "<{server}{upper}{}@{server}.{region}.prod.outlook.com>",
                hex(rng, 24, true)
            )
        }
        Client::Gmail => format!(
            "<CA{}{}{}@mail.gmail.com>",
            alnum(rng, 4),
            u,
            b64(rng, 28).replace('/', "_")
        ),
        Client::AppleMail => format!(
            "<{}-{}-{}-{}@{domain}>",
            &upper[..8],
            &upper[8..12],
            &upper[12..],
            hex(rng, 12, true)
        ),
        Client::Thunderbird => format!("<{}-{u}@{domain}>", hex(rng, 8, false)),
        Client::Bulk => format!(
            "<0102019a{}-{}-{u}-000000@eu-west-1.amazonses.com>",
            hex(rng, 8, false),
            hex(rng, 8, false)
        ),
        Client::Application => {
            let when = jiff::Timestamp::from_second(sent)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .strftime("%Y%m%d%H%M%S");
            format!("<{when}.{u}@{domain}>")
        }
        Client::Kit => format!("<{u}{}@{domain}>", hex(rng, 16, false)),
        Client::Webmail => format!("<{}{u}@{domain}>", hex(rng, 16, false)),
    }
}

/// A boundary as the client writes them; `level` keeps nested ones apart.
fn boundary(rng: &mut Rng, client: Client, level: u8) -> String {
    match client {
        Client::ExchangeOnPrem | Client::ExchangeOnline => {
            format!("_00{level}_{}_", hex(rng, 40, true))
        }
        Client::Gmail => format!("000000000000{}{level}", hex(rng, 11, false)),
        Client::AppleMail => format!("Apple-Mail={}", uuid(rng).to_uppercase()),
        Client::Thunderbird => format!("------------{}{level}", alnum(rng, 23)),
        Client::Kit => format!("b{level}_{}", alnum(rng, 43)),
        Client::Bulk | Client::Application | Client::Webmail => format!(
            "----=_Part_{}_{}.{}",
            rng.u32(100_000..999_999),
            rng.u32(100_000_000..999_999_999),
            rng.u64(1_700_000_000_000..1_800_000_000_000)
        ),
    }
}

fn multipart<'x>(
    rng: &mut Rng,
    client: Client,
    kind: &'static str,
    level: u8,
    parts: Vec<MimePart<'x>>,
) -> MimePart<'x> {
    let b = boundary(rng, client, level);
    MimePart::new(ContentType::new(kind).attribute("boundary", b), parts)
}

/// The client's own headers (Outlook's thread index, Apple's X-Mailer, a kit's
/// PHPMailer banner).
fn client_headers(
    rng: &mut Rng,
    client: Client,
    subject: &str,
    has_attachment: bool,
) -> Vec<(&'static str, String)> {
    let mut h = Vec::new();
    match client {
        Client::ExchangeOnPrem | Client::ExchangeOnline => {
            h.push((
                "Thread-Topic",
                subject.trim_start_matches("Re: ").to_owned(),
            ));
            h.push(("Thread-Index", format!("AQH{}", b64(rng, 29))));
            h.push(("Accept-Language", "en-GB, en-US".to_owned()));
            h.push(("Content-Language", "en-GB".to_owned()));
            h.push((
                "X-MS-Has-Attach",
                if has_attachment { "yes" } else { "" }.to_owned(),
            ));
            h.push(("X-MS-TNEF-Correlator", String::new()));
            if client == Client::ExchangeOnPrem {
                h.push((
                    "X-Originating-IP",
                    format!("[10.20.{}.{}]", rng.u8(30..=90), rng.u8(1..=254)),
                ));
            }
        }
        Client::Gmail => h.push(("X-Google-Smtp-Source", format!("AGHT+I{}", b64(rng, 80)))),
        Client::AppleMail => h.push(("X-Mailer", "iPhone Mail (22B91)".to_owned())),
        Client::Thunderbird => {
            h.push(("User-Agent", "Mozilla Thunderbird".to_owned()));
            h.push(("Content-Language", "en-GB".to_owned()));
        }
        Client::Kit => h.push((
            "X-Mailer",
            (choose(
                rng,
                &[
                    "PHPMailer 6.9.1 (https://github.com/PHPMailer/PHPMailer)",
                    "PHPMailer 6.8.0 (https://github.com/PHPMailer/PHPMailer)",
                    "Microsoft Outlook 16.0",
                ],
            ))
            .to_owned(),
        )),
        Client::Webmail => h.push(("User-Agent", "Roundcube Webmail/1.6.6".to_owned())),
        Client::Bulk | Client::Application => {}
    }
    h
}

fn address_list(mailboxes: &[Mailbox]) -> mail_builder::headers::address::Address<'static> {
    mailboxes
        .iter()
        .map(|(name, address)| {
            if name.is_empty() {
                mail_builder::headers::address::Address::from(address.clone())
            } else {
                mail_builder::headers::address::Address::from((name.clone(), address.clone()))
            }
        })
        .collect::<Vec<_>>()
        .into()
}

/// The spam filter's symbols for the message's structure (not its verdict on content).
fn structure_symbols(draft: &Draft, from_domain: &str) -> Vec<(&'static str, f32, String)> {
    let mut out = Vec::new();
    let mime = match (&draft.text, &draft.html) {
        (Some(_), Some(_)) => "multipart/alternative,text/plain",
        (None, Some(_)) => "text/html",
        _ => "text/plain",
    };
    out.push(("MIME_GOOD", -0.1, mime.to_owned()));
    if !draft.from.0.is_empty() {
        out.push(("FROM_HAS_DN", 0.0, String::new()));
    }
    out.push(("RCPT_COUNT_ONE", 0.0, "1".to_owned()));
    if draft.reply_to.is_some() {
        out.push((
            "HAS_REPLYTO",
            0.0,
            draft
                .reply_to
                .as_ref()
                .map(|r| r.1.clone())
                .unwrap_or_default(),
        ));
    }
    if !draft.attachments.is_empty() {
        out.push(("HAS_ATTACHMENT", 0.0, String::new()));
    }
    let envelope = draft
        .route
        .mail_from
        .rsplit_once('@')
        .map_or("", |(_, d)| d);
    if envelope.eq_ignore_ascii_case(from_domain) {
        out.push(("FROM_EQ_ENVFROM", 0.0, String::new()));
    } else {
        out.push((
            "FROM_NEQ_ENVFROM",
            0.0,
            format!("{},{}", draft.from.1, draft.route.mail_from),
        ));
    }
    out.push(("TO_DN_ALL", 0.0, String::new()));
    out
}

/// The delivered message.
pub(super) fn render(cx: &mut Context<'_>, draft: Draft) -> io::Result<Rendered> {
    let rng = &mut *cx.rng;
    let sent = cx.delivered - draft.transit.max(1);
    let message_id = message_id(rng, draft.client, cx.unique, &draft.id_domain, sent);
    let recipient = draft.to.first().map(|m| m.1.clone()).unwrap_or_default();
    let from_domain = domain_of(&draft.from.1).to_ascii_lowercase();
    let date = rfc2822(sent, draft.route.offset);

    let queue_id = postfix_queue_id(rng);
    let structure = structure_symbols(&draft, &from_domain);

    let mut m = MessageBuilder::new();
    m = m.header(
        "Return-Path",
        one_line(format!("<{}>", draft.route.mail_from)),
    );
    m = m.header("Delivered-To", one_line(recipient.clone()));
    m = m.header(
        "Received",
        one_line(received_by_lmtp(
            rng,
            &draft.route.mail_from,
            &recipient,
            cx.delivered,
        )),
    );
    for (name, value) in draft
        .route
        .rspamd_headers(rng, &queue_id, &from_domain, &structure)
    {
        m = m.header(name, one_line(value));
    }
    m = m.header(
        "Authentication-Results",
        one_line(draft.route.authentication_results(rng, &from_domain)),
    );
    m = m.header(
        "Received",
        one_line(
            draft
                .route
                .received_by_mx(&queue_id, &recipient, cx.delivered - 1),
        ),
    );
    for dkim in draft.route.dkim_headers(rng, sent) {
        m = m.header("DKIM-Signature", one_line(dkim));
    }
    for hop in sender_hops(rng, draft.client, &draft.route, sent) {
        m = m.header("Received", one_line(hop));
    }
    m = m.from(address_list(std::slice::from_ref(&draft.from)));
    m = m.to(address_list(&draft.to));
    if !draft.cc.is_empty() {
        m = m.cc(address_list(&draft.cc));
    }
    if let Some(reply_to) = &draft.reply_to {
        m = m.reply_to(address_list(std::slice::from_ref(reply_to)));
    }
    if let Some(sender) = &draft.sender {
        m = m.sender(address_list(std::slice::from_ref(sender)));
    }
    m = m.subject(draft.subject.clone());
    m = m.header("Date", one_line(date.clone()));
    m = m.message_id(
        message_id
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned(),
    );
    if let Some(parent) = &draft.in_reply_to {
        m = m.header("In-Reply-To", one_line(parent.clone()));
    }
    if !draft.references.is_empty() {
        m = m.header("References", one_line(draft.references.join(" ")));
    }
    let has_attachment = !draft.attachments.is_empty();
    for (name, value) in client_headers(rng, draft.client, &draft.subject, has_attachment)
        .into_iter()
        .chain(draft.headers.iter().cloned())
    {
        m = m.header(name, one_line(value));
    }
    m = m.header("MIME-Version", Raw::new("1.0"));

    let sent_record = draft.thread.then(|| Sent {
        message_id: message_id.clone(),
        references: draft.references.clone(),
        from: draft.from.clone(),
        to: draft.to.first().cloned().unwrap_or_default(),
        subject: draft.subject.clone(),
        date,
        text: draft.text.clone().unwrap_or_default(),
    });
    let envelope_sender = draft.route.mail_from.clone();
    let (client, template) = (draft.client, draft.template);

    // The body: alternatives (text, HTML with its inline images, a calendar), then the
    // attachments beside them.
    let mut alternatives: Vec<MimePart<'static>> = Vec::new();
    if let Some(text) = draft.text {
        alternatives.push(MimePart::new("text/plain", text));
    }
    if let Some(html) = draft.html {
        let html_part = MimePart::new("text/html", html);
        if draft.inline.is_empty() {
            alternatives.push(html_part);
        } else {
            let mut related = vec![html_part];
            for (cid, png) in draft.inline {
                let name = cid.split('@').next().unwrap_or("image001.png").to_owned();
                related.push(
                    MimePart::new(
                        ContentType::new("image/png").attribute("name", name.clone()),
                        png,
                    )
                    .header("Content-Description", Raw::new(name))
                    .inline()
                    .cid(cid),
                );
            }
            alternatives.push(multipart(rng, client, "multipart/related", 2, related));
        }
    }
    if let Some(calendar) = draft.calendar {
        alternatives.push(MimePart::new(
            ContentType::new("text/calendar")
                .attribute("charset", "utf-8")
                .attribute("method", "REQUEST"),
            calendar,
        ));
    }
    let core = if alternatives.len() == 1 {
        alternatives
            .pop()
            .unwrap_or_else(|| MimePart::new("text/plain", "\r\n"))
    } else if alternatives.is_empty() {
        MimePart::new("text/plain", "\r\n")
    } else {
        multipart(rng, client, "multipart/alternative", 1, alternatives)
    };
    let body = if draft.attachments.is_empty() {
        core
    } else {
        let mut parts = vec![core];
        for file in draft.attachments {
            parts.push(
                MimePart::new(
                    ContentType::new(file.content_type).attribute("name", file.name.clone()),
                    file.bytes,
                )
                .attachment(file.name),
            );
        }
        multipart(rng, client, "multipart/mixed", 4, parts)
    };
    m = m.body(body);
    let raw = m.write_to_vec()?;
    Ok(Rendered {
        message_id,
        template,
        envelope_sender,
        raw,
        sent: sent_record,
    })
}
