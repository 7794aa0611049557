//! The way a message travelled: the sending host, its address, its envelope sender, its
//! DKIM signatures, and what the clinic's receiving host (`mx.clinic.example`, the
//! corpus's trusted authserv-id) concluded about SPF, DKIM and DMARC. The DMARC result is
//! worked out from the other two and the From domain's policy, as a receiver does, so
//! that the headers never contradict each other.

use fastrand::Rng;
use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

use super::people::{Client, Policy};
use super::text::{alnum, b64, pick};
use super::{CORPUS_AUTHSERV_ID, LOCAL_OFFSET};

/// A DKIM signature a message carries and what the receiver found of it.
#[derive(Clone, Debug)]
pub(super) struct Signature {
    pub domain: String,
    pub selector: &'static str,
    /// `pass`, `fail` (the body or headers changed), `permerror` (no key published).
    pub result: &'static str,
}

/// How a message reached the clinic's receiving host.
#[derive(Clone, Debug)]
pub(super) struct Route {
    /// The envelope sender (`Return-Path`); empty for a bounce.
    pub mail_from: String,
    /// The host that connected to the receiving host, and its address.
    pub helo: String,
    pub ip: String,
    /// `pass`, `fail`, `softfail`, `neutral`, `none`: the SPF check of `mail_from`.
    pub spf: &'static str,
    pub signatures: Vec<Signature>,
    /// The DMARC policy of the From domain.
    pub policy: Policy,
    /// Whether the connection used TLS.
    pub tls: bool,
    /// The sender's offset from UTC, in minutes, for its Date header.
    pub offset: i32,
}

impl Route {
    /// A route for mail from `domain` sent by its own servers, envelope sender at the
    /// same domain: SPF passes, and DKIM passes when the domain signs.
    pub(super) fn own_servers(
        rng: &mut Rng,
        domain: &str,
        mail_from_local: &str,
        client: Client,
        policy: Policy,
        signs: bool,
        offset: i32,
    ) -> Route {
        let (helo, ip) = sending_host(rng, domain, client);
        Route {
            mail_from: format!("{mail_from_local}@{domain}"),
            helo,
            ip,
            spf: "pass",
            signatures: if signs {
                vec![Signature {
                    domain: domain.to_owned(),
                    selector: selector_of(client),
                    result: "pass",
                }]
            } else {
                Vec::new()
            },
            policy,
            tls: true,
            offset,
        }
    }

    /// The DMARC result for a message whose From address is at `from_domain`: pass when
    /// SPF passed for an aligned envelope sender or a DKIM signature of an aligned domain
    /// passed (relaxed alignment), otherwise fail, or none without a policy.
    pub(super) fn dmarc(&self, from_domain: &str) -> &'static str {
        let from = organisational(from_domain);
        // A bounce has no envelope sender: SPF checks the HELO name instead.
        let spf_domain = match self.mail_from.rsplit_once('@') {
            Some((_, d)) => d,
            None => self.helo.as_str(),
        };
        let spf_aligned = self.spf == "pass" && organisational(spf_domain) == from;
        let dkim_aligned = self
            .signatures
            .iter()
            .any(|s| s.result == "pass" && organisational(&s.domain) == from);
        if spf_aligned || dkim_aligned {
            "pass"
        } else if self.policy == Policy::Absent {
            "none"
        } else {
            "fail"
        }
    }

    /// The `Authentication-Results` value the receiving host writes, rspamd's way.
    pub(super) fn authentication_results(&self, rng: &mut Rng, from_domain: &str) -> String {
        let mut out = format!("{CORPUS_AUTHSERV_ID};");
        if self.signatures.is_empty() {
            out.push_str("\r\n\tdkim=none;");
        }
        for s in &self.signatures {
            let why = match s.result {
                "fail" => " (body hash did not verify)",
                "permerror" => " (no key for signature)",
                _ => "",
            };
            out.push_str(&format!(
                "\r\n\tdkim={}{why} header.d={} header.s={} header.b={};",
                s.result,
                s.domain,
                s.selector,
                b64(rng, 8)
            ));
        }
        let subject = if self.mail_from.is_empty() {
            String::from("helo")
        } else {
            format!("domain of {}", self.mail_from)
        };
        let comment = match self.spf {
            "pass" => format!("{subject} designates {} as permitted sender", self.ip),
            "softfail" => format!(
                "{} does not designate {} as permitted sender",
                subject.replacen("domain of", "domain of transitioning", 1),
                self.ip
            ),
            "fail" => format!(
                "{subject} does not designate {} as permitted sender",
                self.ip
            ),
            "neutral" => format!("{} is neither permitted nor denied by {subject}", self.ip),
            _ => format!("{subject} has no SPF policy when checking {}", self.ip),
        };
        let checked = if self.mail_from.is_empty() {
            format!("smtp.helo={}", self.helo)
        } else {
            format!("smtp.mailfrom={}", self.mail_from)
        };
        out.push_str(&format!(
            "\r\n\tspf={} ({CORPUS_AUTHSERV_ID}: {comment}) {checked};",
            self.spf
        ));
        let dmarc = self.dmarc(from_domain);
        match (dmarc, self.policy) {
            ("none", _) => out.push_str(&format!("\r\n\tdmarc=none header.from={from_domain}")),
            (result, policy) => out.push_str(&format!(
                "\r\n\tdmarc={result} (policy={}) header.from={from_domain}",
                policy.as_str()
            )),
        }
        out
    }

    /// What the receiving host's spam filter (rspamd) wrote: its result with the symbols
    /// of the checks above and of the message's structure, the queue id, the action.
    /// tocsin does not read these; real deliveries have them.
    pub(super) fn rspamd_headers(
        &self,
        rng: &mut Rng,
        queue_id: &str,
        from_domain: &str,
        structure: &[(&'static str, f32, String)],
    ) -> Vec<(&'static str, String)> {
        let mut symbols: Vec<(&'static str, f32, String)> = Vec::new();
        let spf = match self.spf {
            "pass" => (
                "R_SPF_ALLOW",
                -0.2,
                format!(
                    "+ip{}:{}",
                    if self.ip.contains(':') { 6 } else { 4 },
                    self.ip
                ),
            ),
            "fail" => ("R_SPF_FAIL", 1.0, "-all".to_owned()),
            "softfail" => ("R_SPF_SOFTFAIL", 0.0, "~all".to_owned()),
            "neutral" => ("R_SPF_NEUTRAL", 0.0, "?all".to_owned()),
            _ => ("R_SPF_NA", 0.0, "no SPF record".to_owned()),
        };
        symbols.push(spf);
        if self.signatures.is_empty() {
            symbols.push(("R_DKIM_NA", 0.0, String::new()));
        }
        for s in &self.signatures {
            let (name, score) = if s.result == "pass" {
                ("R_DKIM_ALLOW", -0.2)
            } else {
                ("R_DKIM_REJECT", 1.0)
            };
            symbols.push((name, score, format!("{}:s={}", s.domain, s.selector)));
        }
        let dmarc = match (self.dmarc(from_domain), self.policy) {
            ("pass", p) => (
                "DMARC_POLICY_ALLOW",
                -0.5,
                format!("{from_domain},{}", p.as_str()),
            ),
            ("none", _) => ("DMARC_NA", 0.0, from_domain.to_owned()),
            (_, Policy::Reject) => ("DMARC_POLICY_REJECT", 2.0, format!("{from_domain},reject")),
            (_, Policy::Quarantine) => (
                "DMARC_POLICY_QUARANTINE",
                1.5,
                format!("{from_domain},quarantine"),
            ),
            (_, _) => ("DMARC_POLICY_SOFTFAIL", 0.1, format!("{from_domain},none")),
        };
        symbols.push(dmarc);
        symbols.extend(structure.iter().cloned());
        symbols.push(("ARC_NA", 0.0, String::new()));
        symbols.push((
            "ASN",
            0.0,
            format!(
                "asn:{}, ipnet:{}, country:ZZ",
                64496 + self.ip.len() % 16,
                network(&self.ip)
            ),
        ));
        symbols.push(("RCVD_TLS_LAST", 0.0, String::new()));
        symbols.sort_by(|a, b| a.0.cmp(b.0));
        let score: f32 =
            symbols.iter().map(|s| s.1).sum::<f32>() + f32::from(rng.u8(..20)) / 10.0 - 1.0;
        let listed: Vec<String> = symbols
            .iter()
            .map(|(name, weight, options)| format!("{name}({weight:.2})[{options}]"))
            .collect();
        let bar = if score < 0.0 {
            "-".repeat((-score).ceil() as usize)
        } else {
            "+".repeat(score.ceil() as usize)
        };
        vec![
            (
                "X-Spamd-Result",
                format!("default: False [{score:.2} / 15.00]; {}", listed.join("; ")),
            ),
            ("X-Rspamd-Queue-Id", queue_id.to_owned()),
            ("X-Rspamd-Server", "mx1".to_owned()),
            (
                "X-Spamd-Bar",
                if bar.is_empty() { "/".to_owned() } else { bar },
            ),
            ("X-Rspamd-Action", "no action".to_owned()),
        ]
    }

    /// The `DKIM-Signature` headers the message carries, newest first.
    pub(super) fn dkim_headers(&self, rng: &mut Rng, sent: i64) -> Vec<String> {
        self.signatures
            .iter()
            .map(|s| {
                let signature = b64(rng, 344);
                let (first, rest) = signature.split_at(70);
                let mut b = String::from(first);
                for chunk in rest.as_bytes().chunks(76) {
                    b.push_str("\r\n\t ");
                    b.push_str(&String::from_utf8_lossy(chunk));
                }
                format!(
                    "v=1; a=rsa-sha256; c=relaxed/relaxed; d={}; s={};\r\n\tt={sent}; \
                     h=from:to:subject:date:message-id:mime-version:content-type;\r\n\t\
                     bh={}=;\r\n\tb={b}",
                    s.domain,
                    s.selector,
                    b64(rng, 43)
                )
            })
            .collect()
    }

    /// The `Received` header the receiving host wrote for this connection.
    pub(super) fn received_by_mx(&self, queue_id: &str, recipient: &str, at: i64) -> String {
        let tls = if self.tls {
            "\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\
             \r\n\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\
             \r\n\t(No client certificate requested)"
        } else {
            ""
        };
        let with = if self.tls { "ESMTPS" } else { "ESMTP" };
        format!(
            "from {helo} ({helo} [{ip}]){tls}\r\n\tby {CORPUS_AUTHSERV_ID} (Postfix) with {with} id {qid}\
             \r\n\tfor <{recipient}>; {date} (CET)",
            helo = self.helo,
            ip = self.ip,
            qid = queue_id,
            date = rfc2822(at, 60),
        )
    }
}

/// The `Received` header of the mailbox server's LMTP delivery, the topmost one.
pub(super) fn received_by_lmtp(rng: &mut Rng, mail_from: &str, recipient: &str, at: i64) -> String {
    format!(
        "from {CORPUS_AUTHSERV_ID}\r\n\tby mbox1.clinic.example with LMTP\r\n\tid {}\
         \r\n\t(envelope-from <{mail_from}>)\r\n\tfor <{recipient}>; {}",
        b64(rng, 22).replace(['+', '/'], "x"),
        rfc2822(at, 60)
    )
}

/// The `Received` headers the sender's own systems wrote before handing the message
/// over (oldest last), in each mail system's words.
pub(super) fn sender_hops(rng: &mut Rng, client: Client, route: &Route, sent: i64) -> Vec<String> {
    let at = |s: i64| rfc2822(s, route.offset);
    match client {
        Client::ExchangeOnPrem => vec![format!(
            "from EXCH0{a}.clinic.local (10.20.1.1{a}) by EXCH0{b}.clinic.local\r\n\t(10.20.1.1{b}) \
             with Microsoft SMTP Server (version=TLS1_2,\r\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) \
             id 15.2.1544.14; {}",
            at(sent + 1),
            a = rng.u8(1..=2),
            b = rng.u8(1..=2),
        )],
        Client::ExchangeOnline => {
            let a = outlook_server(rng);
            let b = outlook_server(rng);
            vec![
                format!(
                    "from {b} (2001:db8:10a6:{:x}::{:x}) by {}\r\n\t(2001:db8:10a6:{:x}::{:x}) with Microsoft SMTP Server\r\n\t\
                     (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.8207.{}; {}",
                    rng.u16(..),
                    rng.u16(..),
                    route.helo,
                    rng.u16(..),
                    rng.u16(..),
                    rng.u8(10..=40),
                    at(sent + 2)
                ),
                format!(
                    "from {a} ([fe80::{:x}:{:x}:{:x}:{:x}]) by {a}\r\n\t([fe80::{:x}:{:x}:{:x}:{:x}%5]) with mapi id 15.20.8207.{}; {}",
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u16(..),
                    rng.u8(10..=40),
                    at(sent)
                ),
            ]
        }
        Client::Gmail => vec![format!(
            "by {} with SMTP id {}.{}\r\n\tfor <{}>; {}",
            route.helo,
            alnum(rng, 24).to_lowercase(),
            rng.u8(1..=9),
            route.mail_from,
            at(sent + 1)
        )],
        // The provider's submission host, which took the message over its API.
        Client::Bulk => vec![format!(
            "from api-{}.internal (unknown) by {} with HTTP id {}; {}",
            rng.u8(1..=32),
            route.helo,
            alnum(rng, 22),
            at(sent)
        )],
        Client::Kit | Client::Webmail => vec![format!(
            "from [{ip}] (unknown [{ip}])\r\n\tby {} (Postfix) with ESMTPSA id {}; {}",
            route.helo,
            postfix_queue_id(rng),
            at(sent),
            ip = kit_client_address(rng),
        )],
        Client::AppleMail | Client::Thunderbird | Client::Application => {
            if route.helo.ends_with(".google.com") || route.helo.contains(".outlook.com") {
                Vec::new()
            } else {
                vec![format!(
                    "from [10.{}.{}.{}] (unknown [10.0.{}.{}])\r\n\tby {} with ESMTPSA id {}; {}",
                    rng.u8(0..=9),
                    rng.u8(..),
                    rng.u8(1..=254),
                    rng.u8(..),
                    rng.u8(1..=254),
                    route.helo,
                    postfix_queue_id(rng),
                    at(sent)
                )]
            }
        }
    }
}

/// The host a domain's mail leaves from and its address: a documentation address that
/// depends only on the name, so that a sender keeps its address all week.
pub(super) fn sending_host(rng: &mut Rng, domain: &str, client: Client) -> (String, String) {
    match client {
        Client::ExchangeOnline => {
            let region = pick(rng, &["eur", "gbr", "deu", "fra"]);
            let n = rng.u8(10..=99);
            (
                format!(
                    "mail-{}{}{}.outbound.protection.outlook.com",
                    region,
                    pick(rng, &["02", "04", "05"]),
                    n
                ),
                format!("2001:db8:a01:{:x}::{:x}", n, rng.u16(1..0x800)),
            )
        }
        Client::Gmail => {
            let n = rng.u8(10..=99);
            let host = format!(
                "mail-{}{}-f{n}.google.com",
                pick(rng, &["wm", "wr", "ej", "ed", "lf", "yw", "qt"]),
                rng.u8(1..=2)
            );
            (host, format!("2001:db8:4864:20::{n:x}"))
        }
        Client::Bulk => {
            let host = pick(
                rng,
                &[
                    "o1.ptr4123.sendgrid.net",
                    "mail186-21.suw21.mcdlv.net",
                    "a7-30.smtp-out.eu-west-1.amazonses.com",
                    "m228-4.mailgun.net",
                    "mta-166.mkt.example-esp.net",
                ],
            );
            ((*host).to_owned(), address_for(host))
        }
        Client::ExchangeOnPrem => ("mail.clinic.example".to_owned(), "192.0.2.10".to_owned()),
        _ => {
            let host = format!("mail.{domain}");
            let ip = address_for(&host);
            (host, ip)
        }
    }
}

/// The /24 or /48 an address is in, as the spam filter's ASN symbol shows it.
fn network(ip: &str) -> String {
    if ip.contains(':') {
        let groups: Vec<&str> = ip.split(':').take(3).collect();
        format!("{}::/48", groups.join(":"))
    } else {
        let prefix = ip.rsplit_once('.').map_or(ip, |(p, _)| p);
        format!("{prefix}.0/24")
    }
}

/// A documentation address (RFC 5737) that depends only on `name`.
pub(super) fn address_for(name: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let net = ["198.51.100", "203.0.113", "192.0.2"][(h % 3) as usize];
    format!("{net}.{}", 20 + (h >> 8) % 230)
}

fn kit_client_address(rng: &mut Rng) -> String {
    format!("203.0.113.{}", rng.u8(1..=254))
}

/// The DKIM selector a client's mail is signed with.
pub(super) fn selector_of(client: Client) -> &'static str {
    match client {
        Client::ExchangeOnline => "selector1",
        Client::Gmail => "google",
        Client::Bulk => "s1",
        Client::ExchangeOnPrem => "mx2026",
        Client::Application => "mail",
        Client::Thunderbird | Client::AppleMail => "default",
        Client::Kit | Client::Webmail => "x",
    }
}

fn outlook_server(rng: &mut Rng) -> String {
    let region = pick(
        rng,
        &[
            ("AM", "eurprd"),
            ("DB", "eurprd"),
            ("PA", "eurprd"),
            ("LO", "GBRP"),
            ("FR", "DEUP"),
        ],
    );
    format!(
        "{}{}PR0{}MB{}.{}0{}.prod.outlook.com",
        region.0,
        rng.u8(1..=9),
        rng.u8(1..=9),
        rng.u16(1000..10000),
        region.1,
        rng.u8(1..=9)
    )
}

/// Postfix's long queue id: 14 characters of base 52 and digits.
pub(super) fn postfix_queue_id(rng: &mut Rng) -> String {
    format!("4{}{}", rng.u8(0..10), alnum(rng, 12))
}

/// `Mon, 2 Nov 2026 09:14:03 +0100`, at an offset of `offset` minutes.
pub(super) fn rfc2822(at: i64, offset: i32) -> String {
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let offset = Offset::from_seconds(offset * 60).unwrap_or(Offset::UTC);
    jiff::fmt::rfc2822::to_string(&ts.to_zoned(TimeZone::fixed(offset))).unwrap_or_default()
}

/// The clinic's local date and time of `at`, for text: `Monday 2 November`, `09:14`.
pub(super) fn local_day(at: i64) -> String {
    let ts = Timestamp::from_second(at + LOCAL_OFFSET).unwrap_or(Timestamp::UNIX_EPOCH);
    ts.to_zoned(TimeZone::UTC).strftime("%A %-d %B").to_string()
}

/// The registrable ("organisational") domain for DMARC alignment, for the names this
/// generator uses: the last two labels, or three under the few two-label public
/// suffixes it meets.
pub(super) fn organisational(domain: &str) -> String {
    let domain = domain.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let two_label_suffix = labels.len() >= 3
        && matches!(
            labels[labels.len() - 2..].join(".").as_str(),
            "co.uk" | "gov.uk" | "nhs.uk" | "go.kr" | "gouv.fr" | "gc.ca" | "gov.in" | "com.au"
        );
    let keep = if two_label_suffix { 3 } else { 2 };
    labels[labels.len().saturating_sub(keep)..].join(".")
}
