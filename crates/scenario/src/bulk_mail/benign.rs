//! Ordinary mail: what most of a clinic's mailbox is. Colleagues writing to each other
//! and replying in threads, newsletters full of tracked links, suppliers' invoices,
//! meeting invitations, recruiters and job alerts, health authorities' bulletins about
//! COVID-19 and vaccines, sharing notifications, alerts from systems, partners, mailing
//! lists, auto-replies and bounces.
//!
//! Many of these are the traps a naive filter falls into, on purpose, because real
//! mailboxes are full of them: a CDC bulletin sent through GovDelivery, SharePoint's
//! notices from `sharepointonline.com`, DocuSign and Xero sending for a company with its
//! reply address elsewhere, click-tracking links whose text shows the publisher's
//! domain, a finance workbook with macros, a laboratory's password-protected results, a
//! mailing list that breaks its posters' DKIM signatures, IT's own password-expiry
//! notice, occupational health's COVID-19 booster clinic, HR's vacancy announcement.

use super::CORPUS_OWN_DOMAIN;
use super::compose::{Context, Draft, Mailbox, Rendered, Sent};
use super::files::{self, File, Invitation, PdfExtras, Picture};
use super::people::{Client, Org, PARTNERS, Person, Policy, SUPPLIERS, local_part};
use super::route::{Route, Signature as Dkim, local_day, rfc2822, selector_of, sending_host};
use super::text::{
    CLINIC_DISCLAIMER, SMALL_TALK, Signature, alnum, angle_quote, b64, chance, choose, esc, fill,
    gmail_html, hex, html_page, outlook_html, outlook_quote, pick, plain, uuid, weighted,
};

/// Internal messages a later reply can answer.
#[derive(Default)]
pub(super) struct History {
    recent: Vec<Sent>,
}

/// How many past messages replies are drawn from.
const HISTORY: usize = 300;

impl History {
    pub(super) fn delivered(&mut self, rendered: &Rendered) {
        if let Some(sent) = &rendered.sent {
            if self.recent.len() == HISTORY {
                self.recent.remove(0);
            }
            self.recent.push(sent.clone());
        }
    }
}

type Template = fn(&mut Context<'_>, &mut History) -> Draft;

/// The benign templates and how often each arrives.
const TEMPLATES: &[(Template, u32)] = &[
    (internal_note, 170),
    (internal_reply, 120),
    (newsletter, 120),
    (supplier_invoice, 60),
    (calendar_invite, 50),
    (recruiter, 30),
    (health_bulletin, 35),
    (shared_document, 45),
    (system_alert, 90),
    (partner_mail, 80),
    (mailing_list, 20),
    (auto_reply, 20),
    (bounce, 10),
    (finance_macro_workbook, 8),
    (lab_encrypted_results, 8),
    (vacancy_announcement, 8),
    (staff_vaccination_clinic, 8),
];

pub(super) fn draft(cx: &mut Context<'_>, history: &mut History) -> Draft {
    let template = *weighted(cx.rng, TEMPLATES);
    template(cx, history)
}

// --- Shared pieces ------------------------------------------------------------------

fn internal_route(cx: &mut Context<'_>, address: &str) -> Route {
    let domain = address
        .rsplit_once('@')
        .map_or(CORPUS_OWN_DOMAIN, |(_, d)| d);
    Route::own_servers(
        cx.rng,
        domain,
        address.split('@').next().unwrap_or("postmaster"),
        Client::ExchangeOnPrem,
        Policy::Quarantine,
        true,
        60,
    )
}

fn org_route(cx: &mut Context<'_>, org: &Org, local: &str) -> Route {
    Route::own_servers(
        cx.rng, org.domain, local, org.client, org.policy, org.signs, org.offset,
    )
}

/// A route for a bulk or notification sender whose envelope sender (and often a second
/// signature) is the provider's, with a signature of `from_domain` as DMARC needs.
fn provider_route(
    cx: &mut Context<'_>,
    from_domain: &str,
    mail_from: String,
    helo: &str,
    provider_dkim: Option<&str>,
    policy: Policy,
    offset: i32,
) -> Route {
    let mut signatures = vec![Dkim {
        domain: from_domain.to_owned(),
        selector: choose(cx.rng, &["s1", "k1", "scph0624", "pf2024", "selector2"]),
        result: "pass",
    }];
    if let Some(d) = provider_dkim {
        signatures.push(Dkim {
            domain: d.to_owned(),
            selector: choose(
                cx.rng,
                &["s1", "k2", "smtpapi", "224i4yxa5dv7c2xz3womw6peuasteono"],
            ),
            result: "pass",
        });
    }
    Route {
        mail_from,
        helo: helo.to_owned(),
        ip: super::route::address_for(helo),
        spf: "pass",
        signatures,
        policy,
        tls: true,
        offset,
    }
}

fn internal_signature(p: &Person) -> Signature {
    Signature {
        lines: vec![
            p.display.clone(),
            format!("{} | {}", p.title, p.department),
            "Riverside Clinic".to_owned(),
            format!("Tel: 01632 96{:04}", p.address.len() * 37 % 10_000),
        ],
    }
}

fn external_signature(first: &str, last: &str, title: &str, org: &str, domain: &str) -> Signature {
    Signature {
        lines: vec![
            format!("{first} {last}"),
            title.to_owned(),
            org.to_owned(),
            format!("www.{domain}"),
        ],
    }
}

fn greeting(cx: &mut Context<'_>, first: &str) -> String {
    let g = pick(
        cx.rng,
        &[
            "Hi {n},",
            "Dear {n},",
            "Hello {n},",
            "{n},",
            "Morning {n},",
            "Hi {n}",
        ],
    );
    g.replace("{n}", first)
}

fn sign_off(cx: &mut Context<'_>, first: &str) -> String {
    let s = pick(
        cx.rng,
        &[
            "Thanks,",
            "Best wishes,",
            "Kind regards,",
            "Many thanks,",
            "Cheers,",
            "Best,",
        ],
    );
    format!("{s}\r\n{first}")
}

fn small_talk(cx: &mut Context<'_>, n: usize) -> Vec<String> {
    let mut all: Vec<&str> = SMALL_TALK.to_vec();
    cx.rng.shuffle(&mut all);
    all.into_iter().take(n).map(str::to_owned).collect()
}

/// An inline signature logo in a third of Outlook mail.
fn maybe_logo(cx: &mut Context<'_>, draft: &mut Draft) -> std::io::Result<Option<String>> {
    if !chance(cx.rng, 30) {
        return Ok(None);
    }
    let cid = format!(
        "image001.png@01DB{}.{}",
        hex(cx.rng, 4, true),
        hex(cx.rng, 8, true)
    );
    let png = files::png(cx.rng, 160, 48, Picture::Logo)?;
    draft.inline.push((cid.clone(), png));
    Ok(Some(cid))
}

/// Sets the text and HTML bodies the client writes for `paragraphs` and `signature`.
fn set_body(
    cx: &mut Context<'_>,
    draft: &mut Draft,
    paragraphs: Vec<String>,
    signature: Signature,
    quoted: Option<String>,
) {
    let logo = match draft.client {
        Client::ExchangeOnPrem | Client::ExchangeOnline => maybe_logo(cx, draft).ok().flatten(),
        _ => None,
    };
    let disclaimer = draft.client == Client::ExchangeOnPrem;
    let mut text_parts = paragraphs.clone();
    text_parts.push(signature.text());
    if disclaimer {
        text_parts.push(CLINIC_DISCLAIMER.to_owned());
    }
    let mut text = plain(&text_parts);
    if let Some(q) = &quoted {
        text.push_str("\r\n");
        text.push_str(q);
    }
    let html = match draft.client {
        Client::ExchangeOnPrem | Client::ExchangeOnline => {
            let mut paragraphs = paragraphs;
            if disclaimer {
                paragraphs.push(CLINIC_DISCLAIMER.to_owned());
            }
            Some(outlook_html(
                &paragraphs,
                &signature,
                logo.as_deref(),
                quoted.as_deref(),
            ))
        }
        Client::Gmail => Some(gmail_html(&paragraphs, &signature, quoted.as_deref())),
        _ => None,
    };
    draft.text = Some(text);
    draft.html = html;
}

const WARDS: &[&str] = &[
    "Ward 4B",
    "Ward 2A",
    "Ward 6",
    "the Day Surgery Unit",
    "ICU",
    "the Cardiology Day Unit",
    "Outpatients",
    "the Acute Medical Unit",
    "Maternity",
    "the Endoscopy Suite",
];

const ROOMS: &[&str] = &[
    "Seminar Room 2",
    "the Boardroom",
    "Meeting Room 1.14",
    "the Education Centre",
    "Teams",
    "the Library",
];

const TIMES: &[&str] = &[
    "08:30", "09:00", "10:00", "11:30", "12:30", "14:00", "15:30", "16:00",
];

fn slots(cx: &mut Context<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("ward", (choose(cx.rng, WARDS)).to_owned()),
        ("room", (choose(cx.rng, ROOMS)).to_owned()),
        ("time", (choose(cx.rng, TIMES)).to_owned()),
        (
            "day",
            local_day(working_day(cx.delivered + 86_400 * cx.rng.i64(1..=9))),
        ),
        ("n", cx.rng.u32(2..40).to_string()),
        (
            "amount",
            format!("{},{:03}", cx.rng.u32(1..90), cx.rng.u32(..1000)),
        ),
        ("week", cx.rng.u32(45..52).to_string()),
        ("ref", format!("{}", cx.rng.u32(10_000..99_999))),
    ]
}

/// `at`, moved to the Monday after if it falls at the weekend (in the clinic's time).
fn working_day(at: i64) -> i64 {
    let weekday = ((at + super::LOCAL_OFFSET) / 86_400 + 4) % 7;
    match weekday {
        6 => at + 2 * 86_400,
        0 => at + 86_400,
        _ => at,
    }
}

fn filled(template: &str, slots: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = slots.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fill(template, &pairs)
}

// --- Internal mail --------------------------------------------------------------------

/// What colleagues write about: subject, paragraphs, and what is attached.
struct Topic {
    subject: &'static str,
    paragraphs: &'static [&'static str],
    attach: Attach,
}

#[derive(Clone, Copy)]
enum Attach {
    Nothing,
    Minutes,
    Rota,
    Budget,
    Policy,
    Export,
    Screenshot,
    Photo,
}

const TOPICS: &[Topic] = &[
    Topic {
        subject: "Rota for week {week}",
        paragraphs: &[
            "Please find attached the rota for week {week}. I have swapped the late shifts on {day} as discussed.",
            "If you need to change anything, let me know by Thursday so I can send the final version to the bank office.",
        ],
        attach: Attach::Rota,
    },
    Topic {
        subject: "Minutes: {ward} team meeting",
        paragraphs: &[
            "Attached are the minutes from this week's team meeting.",
            "Actions are at the end: the main ones are the discharge checklist and the new falls-risk assessment, both due before the next meeting on {day}.",
        ],
        attach: Attach::Minutes,
    },
    Topic {
        subject: "Q4 budget forecast - {ward}",
        paragraphs: &[
            "Here is the updated forecast for Q4. Agency spend is still above plan, mainly nights on {ward}.",
            "Could you check the consumables line? It looks high compared with last quarter (about €{amount}).",
        ],
        attach: Attach::Budget,
    },
    Topic {
        subject: "Updated infection prevention policy",
        paragraphs: &[
            "The updated infection prevention and control policy was approved at the committee on Tuesday; a copy is attached.",
            "The main changes are in section 4 (isolation of respiratory cases, including COVID-19 and influenza) and the new audit schedule.",
            "Please share it with your teams and make sure it is on the ward noticeboard.",
        ],
        attach: Attach::Policy,
    },
    Topic {
        subject: "Stock levels {ward}",
        paragraphs: &[
            "Export from the stores system attached. We are low on size 7 gloves and IV giving sets.",
            "I have raised an order but it would help if you could check the cupboard on {ward} before Friday.",
        ],
        attach: Attach::Export,
    },
    Topic {
        subject: "EHR error when printing discharge letters",
        paragraphs: &[
            "Since this morning the EHR gives an error when we print discharge letters from {ward}. Screenshot attached.",
            "It happens on all three PCs at the nurses' station. Ticket number is INC{ref}.",
        ],
        attach: Attach::Screenshot,
    },
    Topic {
        subject: "Fire drill on {day}",
        paragraphs: &[
            "There will be a planned fire drill in the east wing on {day} at {time}.",
            "Fire wardens please meet at the assembly point beforehand. Clinical areas with patients who cannot be moved will be briefed separately.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Mandatory training reminder",
        paragraphs: &[
            "A reminder that information governance and basic life support training are due for several members of the team.",
            "You can book through the learning portal at https://learning.clinic.example/courses. Sessions run in {room} every Wednesday.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Parking permits renewal",
        paragraphs: &[
            "Staff parking permits expire at the end of the month. Renewals are done through the facilities form on the intranet.",
            "From next month the multi-storey will be barrier controlled, so please make sure your permit is registered.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Leaving collection for {name}",
        paragraphs: &[
            "As many of you know, {name} is leaving us at the end of the month after eleven years.",
            "There is a card going round {ward} and a collection in the office. Drinks on {day} after work, all welcome.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Audit results - hand hygiene {ward}",
        paragraphs: &[
            "The hand hygiene audit for last month is attached. Overall compliance was {n} points above the clinic average.",
            "Bare below the elbows is still the main issue on the late shift. Could we pick this up at handover?",
        ],
        attach: Attach::Policy,
    },
    Topic {
        subject: "Patient transport delays",
        paragraphs: &[
            "We had {n} discharges delayed yesterday waiting for transport. The provider says it is a vehicle shortage until next week.",
            "Please book transport the day before wherever possible and flag anything urgent to the bed manager.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Draft protocol v3 for review",
        paragraphs: &[
            "Attached is version 3 of the study protocol with the changes from the ethics committee.",
            "The main change is the extra follow-up visit at 12 weeks. Comments by {day} please so we can submit.",
        ],
        attach: Attach::Minutes,
    },
    Topic {
        subject: "New infusion pumps arriving",
        paragraphs: &[
            "The new infusion pumps arrive on {day}. Training sessions are at {time} in {room}; each session takes about an hour.",
            "The old pumps will be collected by medical engineering once every area has switched over.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Photos from the open day",
        paragraphs: &[
            "A few photos from Saturday's open day. Thanks to everyone who came in and helped.",
            "Communications would like to use some for the website, so let me know if you would rather not appear.",
        ],
        attach: Attach::Photo,
    },
    Topic {
        subject: "Sickness cover {day}",
        paragraphs: &[
            "Two of the team are off sick on {day}. I have asked the bank office for cover but nothing confirmed yet.",
            "Could anyone swap to an early? Let me know and I will update the rota.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Invoice approval needed - cleaning contract",
        paragraphs: &[
            "The October invoice from CleanCare needs your approval in the finance system before payment can be made.",
            "The amount is €{amount}, in line with the contract. The invoice is attached for reference.",
        ],
        attach: Attach::Policy,
    },
    Topic {
        subject: "Room booking for the governance meeting",
        paragraphs: &[
            "I have booked {room} for the governance meeting on {day} at {time}.",
            "If the numbers go above twelve we will need to move to the Education Centre.",
        ],
        attach: Attach::Nothing,
    },
    Topic {
        subject: "Referral backlog figures",
        paragraphs: &[
            "Attached are this week's referral figures. The backlog is down to {n} patients waiting more than six weeks.",
            "Cardiology is still the longest wait. We will discuss at the performance meeting.",
        ],
        attach: Attach::Export,
    },
    Topic {
        subject: "Network maintenance tonight",
        paragraphs: &[
            "IT will be replacing the core switch in the east wing tonight from 22:00. Wi-Fi and phones in that area may drop for up to 20 minutes.",
            "The EHR downtime procedure applies; paper forms are in the blue folder on each ward.",
        ],
        attach: Attach::Nothing,
    },
];

const LONGER: &[&str] = &[
    "For context, the figures for last quarter were broadly similar, but the winter pressures usually start to show in the second half of November and we have fewer bank staff available this year. I have asked HR whether the recruitment for the two vacant posts can be speeded up.",
    "I spoke to the matron this morning and she is happy for us to trial the new process for four weeks, after which we will review with the team and decide whether to keep it. The main thing is that the paperwork is completed at the time and not at the end of the shift.",
    "One point from the last meeting that we did not close: the storage room on the corridor is still being used for equipment that should go back to medical engineering. Facilities have agreed to clear it if we can list what is there.",
    "The audit team will be visiting the week after next. They will want to see the training records, the cleaning schedules and the last three months of incident reports, so it would help to have these in one place.",
    "Please remember that patient-identifiable information should only be sent to addresses at the clinic or through the secure transfer service, not to personal accounts.",
];

fn internal_note(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let author = cx.world.anyone(cx.rng).clone();
    let reader = cx.world.other(cx.rng, &author).clone();
    let topic = pick(cx.rng, TOPICS);
    let mut s = slots(cx);
    s.push(("name", cx.world.anyone(cx.rng).display.clone()));
    let subject = filled(topic.subject, &s);
    let route = internal_route(cx, &author.address);
    let mut draft = Draft::new(
        "internal_note",
        Client::ExchangeOnPrem,
        author.mailbox(),
        reader.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(1..=6);
    draft.thread = true;
    if chance(cx.rng, 35) {
        let n = cx.rng.usize(1..=4);
        for _ in 0..n {
            let cc = cx.world.other(cx.rng, &author).mailbox();
            draft.cc.push(cc);
        }
    }
    let mut paragraphs = vec![greeting(cx, &reader.first)];
    paragraphs.extend(topic.paragraphs.iter().map(|p| filled(p, &s)));
    for _ in 0..cx.rng.usize(0..=2) {
        paragraphs.push((choose(cx.rng, LONGER)).to_owned());
    }
    let talk = cx.rng.usize(0..=2);
    paragraphs.extend(small_talk(cx, talk));
    paragraphs.push(sign_off(cx, &author.first));
    set_body(
        cx,
        &mut draft,
        paragraphs,
        internal_signature(&author),
        None,
    );
    if let Some(file) = internal_attachment(cx, topic.attach, &subject, &author) {
        draft.attachments.push(file);
    }
    draft
}

fn rota_rows(cx: &mut Context<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "Name".to_owned(),
        "Mon".to_owned(),
        "Tue".to_owned(),
        "Wed".to_owned(),
        "Thu".to_owned(),
        "Fri".to_owned(),
        "Sat".to_owned(),
        "Sun".to_owned(),
    ]];
    for _ in 0..cx.rng.usize(12..40) {
        let mut row = vec![cx.world.anyone(cx.rng).display.clone()];
        for _ in 0..7 {
            row.push((choose(cx.rng, &["E", "L", "N", "LD", "-", "-", "AL"])).to_owned());
        }
        rows.push(row);
    }
    rows
}

fn budget_rows(cx: &mut Context<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "Cost centre".to_owned(),
        "Line".to_owned(),
        "Budget".to_owned(),
        "Actual".to_owned(),
        "Forecast".to_owned(),
    ]];
    for line in [
        "Nursing substantive",
        "Nursing bank",
        "Nursing agency",
        "Medical staff",
        "Drugs",
        "Consumables",
        "Equipment maintenance",
        "Laundry",
        "Catering",
        "Training",
    ] {
        let budget = cx.rng.u32(10_000..400_000);
        let actual = budget / 12 * cx.rng.u32(8..14) / 10 * 10;
        rows.push(vec![
            format!("CC{}", cx.rng.u32(4100..4999)),
            line.to_owned(),
            budget.to_string(),
            actual.to_string(),
            (actual * 12 / 10).to_string(),
        ]);
    }
    rows
}

fn export_rows(cx: &mut Context<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "Item code".to_owned(),
        "Description".to_owned(),
        "Location".to_owned(),
        "On hand".to_owned(),
        "Reorder level".to_owned(),
    ]];
    const ITEMS: &[&str] = &[
        "Nitrile gloves size 7",
        "Nitrile gloves size 8",
        "IV giving set",
        "Syringe 10 ml",
        "Cannula 20G",
        "Sterile dressing 10x10",
        "Sharps bin 5 l",
        "Surgical mask type IIR",
        "FFP3 respirator",
        "Alcohol hand rub 500 ml",
        "Blood culture bottle",
        "Urinary catheter 14Ch",
    ];
    for _ in 0..cx.rng.usize(20..160) {
        rows.push(vec![
            format!(
                "{}{}",
                pick(cx.rng, &["MS", "CS", "PH"]),
                cx.rng.u32(10_000..99_999)
            ),
            (choose(cx.rng, ITEMS)).to_owned(),
            (choose(cx.rng, WARDS)).to_owned(),
            cx.rng.u32(0..500).to_string(),
            cx.rng.u32(20..100).to_string(),
        ]);
    }
    rows
}

fn document_paragraphs(cx: &mut Context<'_>, title: &str) -> Vec<String> {
    let mut out = vec![title.to_owned()];
    for _ in 0..cx.rng.usize(6..40) {
        out.push((choose(cx.rng, LONGER)).to_owned());
    }
    out
}

fn internal_attachment(
    cx: &mut Context<'_>,
    attach: Attach,
    subject: &str,
    author: &Person,
) -> Option<File> {
    let at = cx.delivered - cx.rng.i64(600..200_000);
    let stem: String = subject
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let file = match attach {
        Attach::Nothing => return None,
        Attach::Minutes => {
            let paragraphs = document_paragraphs(cx, subject);
            File::new(
                files::DOCX,
                format!("{stem}.docx"),
                files::word(&author.display, at, &paragraphs, None).ok()?,
            )
        }
        Attach::Rota => {
            let rows = rota_rows(cx);
            File::new(
                files::XLSX,
                format!("{stem}.xlsx"),
                files::workbook(&author.display, at, "Rota", &rows, None).ok()?,
            )
        }
        Attach::Budget => {
            let rows = budget_rows(cx);
            File::new(
                files::XLSX,
                format!("{stem}.xlsx"),
                files::workbook(&author.display, at, "Forecast", &rows, None).ok()?,
            )
        }
        Attach::Policy => {
            let paragraphs = document_paragraphs(cx, subject);
            let pages: Vec<Vec<String>> = paragraphs.chunks(6).map(|c| wrap_lines(c, 90)).collect();
            let image = if chance(cx.rng, 30) {
                cx.rng.usize(20_000..180_000)
            } else {
                0
            };
            File::new(
                files::PDF,
                format!("{stem}.pdf"),
                files::pdf(
                    cx.rng,
                    subject,
                    "Microsoft® Word for Microsoft 365",
                    at,
                    &pages,
                    PdfExtras {
                        image_bytes: image,
                        link: None,
                    },
                ),
            )
        }
        Attach::Export => {
            let rows = export_rows(cx);
            File::new(
                files::CSV,
                format!("{}.csv", stem.to_lowercase()),
                files::csv(&rows),
            )
        }
        Attach::Screenshot => {
            let (w, h) = (cx.rng.u32(500..1100), cx.rng.u32(300..700));
            File::new(
                files::PNG,
                "screenshot.png",
                files::png(cx.rng, w, h, Picture::Screenshot).ok()?,
            )
        }
        Attach::Photo => {
            let size = cx.rng.usize(40_000..200_000);
            File::new(
                files::JPEG,
                format!("IMG_{}.jpg", cx.rng.u32(1000..9999)),
                files::jpeg(cx.rng, size),
            )
        }
    };
    Some(file)
}

/// Paragraphs broken into lines of at most `width` characters, for PDF pages.
fn wrap_lines(paragraphs: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for p in paragraphs {
        let mut line = String::new();
        for word in p.split_whitespace() {
            if line.len() + word.len() + 1 > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        lines.push(String::new());
    }
    lines
}

const REPLIES: &[&str] = &[
    "Thanks, that's fine by me.",
    "Thanks for sending this. I have a couple of comments, mainly on the second point, which I will bring to the meeting.",
    "Looks good. Can we add the agency figures for October before it goes to the board?",
    "I can cover the late on {day} if that helps.",
    "Noted, I will let the team know at handover.",
    "Agreed. Could you also check with pharmacy whether they need to be involved?",
    "Thanks. From our side the main issue is still the delay in getting transport booked.",
    "Sorry, I missed this. I will look at it this afternoon and come back to you.",
    "Yes, please go ahead.",
    "I have updated the spreadsheet, the new version is on the shared drive under Finance > Forecast.",
];

fn internal_reply(cx: &mut Context<'_>, history: &mut History) -> Draft {
    if history.recent.is_empty() {
        return internal_note(cx, history);
    }
    let parent = history.recent[cx.rng.usize(..history.recent.len())].clone();
    let replier = cx
        .world
        .staff
        .iter()
        .find(|p| p.address == parent.to.1)
        .cloned()
        .unwrap_or_else(|| cx.world.anyone(cx.rng).clone());
    let first_of = |name: &str| {
        name.split_whitespace()
            .find(|w| !w.ends_with('.'))
            .unwrap_or(name)
            .to_owned()
    };
    let subject = if parent.subject.starts_with("Re: ") {
        parent.subject.clone()
    } else {
        format!("Re: {}", parent.subject)
    };
    let route = internal_route(cx, &replier.address);
    let mut draft = Draft::new(
        "internal_reply",
        Client::ExchangeOnPrem,
        replier.mailbox(),
        parent.from.clone(),
        subject,
        route,
    );
    draft.transit = cx.rng.i64(1..=6);
    draft.thread = true;
    draft.in_reply_to = Some(parent.message_id.clone());
    let mut references = parent.references.clone();
    references.push(parent.message_id.clone());
    if references.len() > 8 {
        references.drain(..references.len() - 8);
    }
    draft.references = references;
    let s = slots(cx);
    let mut paragraphs = vec![format!("{}", greeting(cx, &first_of(&parent.from.0)))];
    paragraphs.push(filled(choose(cx.rng, REPLIES), &s));
    if chance(cx.rng, 30) {
        paragraphs.push((choose(cx.rng, LONGER)).to_owned());
    }
    paragraphs.push(sign_off(cx, &replier.first));
    // Quote the text the parent wrote, without its own quoted history beyond 12 KB.
    let mut earlier = parent.text.clone();
    if earlier.len() > 12_000 {
        let mut cut = 12_000;
        while !earlier.is_char_boundary(cut) {
            cut -= 1;
        }
        earlier.truncate(cut);
    }
    let quoted = outlook_quote(
        &format!("{} <{}>", parent.from.0, parent.from.1),
        &parent.date,
        &format!("{} <{}>", parent.to.0, parent.to.1),
        &parent.subject,
        &earlier,
    );
    set_body(
        cx,
        &mut draft,
        paragraphs,
        internal_signature(&replier),
        Some(quoted),
    );
    draft
}

// --- Newsletters ----------------------------------------------------------------------

struct Publisher {
    name: &'static str,
    from: &'static str,
    domain: &'static str,
    /// Where the article links go through for click tracking.
    click_host: &'static str,
    provider: Provider,
    articles: &'static [&'static str],
    /// Whether the footer shows the publisher's address as text over a tracked link.
    footer_domain_link: bool,
}

#[derive(Clone, Copy)]
enum Provider {
    SendGrid,
    Mailchimp,
    HubSpot,
    OwnServer,
    /// A society that pastes bit.ly links into a plain mail.
    Shortened,
}

const PUBLISHERS: &[Publisher] = &[
    Publisher {
        name: "Healthcare IT Weekly",
        from: "newsletter@hitweekly.example",
        domain: "hitweekly.example",
        click_host: "u4123867.ct.sendgrid.net",
        provider: Provider::SendGrid,
        articles: &[
            "Hospitals move EHR hosting to sovereign clouds",
            "Ransomware recovery: what the last three incidents taught us",
            "Interoperability standards: FHIR R5 adoption in Europe",
            "Patient portals: uptake doubles after app redesign",
            "AI triage tools under new medical device rules",
            "Identity and access management for shared clinical workstations",
            "Five questions to ask your EHR vendor before renewal",
            "Cyber insurance premiums for hospitals level off",
        ],
        footer_domain_link: true,
    },
    Publisher {
        name: "Clinical Practice Journal",
        from: "editors@cpjournal.example",
        domain: "cpjournal.example",
        click_host: "cpjournal.us5.list-manage.com",
        provider: Provider::Mailchimp,
        articles: &[
            "Early warning scores and sepsis outcomes: a multicentre cohort",
            "RSV immunisation in older adults: first season results",
            "COVID-19 vaccine effectiveness against hospitalisation, autumn 2026",
            "Deprescribing in frail patients: a practical guide",
            "Antimicrobial stewardship on surgical wards",
            "Heart failure clinics led by specialist nurses",
            "Delirium screening in the emergency department",
            "Influenza season outlook for Europe",
        ],
        footer_domain_link: false,
    },
    Publisher {
        name: "European Nursing Association",
        from: "news@ena-nursing.example",
        domain: "ena-nursing.example",
        click_host: "click.ena-nursing.example",
        provider: Provider::OwnServer,
        articles: &[
            "Safe staffing levels: the association's position",
            "Registration fees for 2027 announced",
            "Conference 2027: call for abstracts now open",
            "Webinar: preventing pressure ulcers",
            "Members' survey on night shift patterns",
            "New guidance on nurse prescribing",
        ],
        footer_domain_link: true,
    },
    Publisher {
        name: "Orbis Pharma",
        from: "updates@orbis-pharma.example",
        domain: "orbis-pharma.example",
        click_host: "d2Dxx04.na1.hubspotlinks.com",
        provider: Provider::HubSpot,
        articles: &[
            "Winter supply update: antivirals and antibiotics",
            "New cold-chain service for vaccines",
            "Product recall notice: batch 24C113 (precautionary)",
            "Ordering portal maintenance on Sunday",
            "Price list 2027 now available",
        ],
        footer_domain_link: false,
    },
    Publisher {
        name: "Regional Infection Control Network",
        from: "network@ricn.example",
        domain: "ricn.example",
        click_host: "bit.ly",
        provider: Provider::Shortened,
        articles: &[
            "Norovirus season: outbreak checklist",
            "Carbapenemase-producing organisms: screening update",
            "COVID-19 and flu co-circulation: testing advice",
            "Hand hygiene week materials",
            "Ventilation in clinical areas: new estates guidance",
        ],
        footer_domain_link: false,
    },
];

fn tracked(cx: &mut Context<'_>, p: &Publisher) -> String {
    match p.provider {
        Provider::SendGrid => format!(
            "https://{}/ls/click?upn={}",
            p.click_host,
            b64(cx.rng, 180).replace(['+', '/'], "-")
        ),
        Provider::Mailchimp => format!(
            "https://{}/track/click?u={}&id={}&e={}",
            p.click_host,
            hex(cx.rng, 25, false),
            hex(cx.rng, 10, false),
            hex(cx.rng, 10, false)
        ),
        Provider::HubSpot => format!(
            "https://{}/Ctc/{}/{}/{}",
            p.click_host,
            alnum(cx.rng, 3),
            alnum(cx.rng, 20),
            b64(cx.rng, 120).replace(['+', '/'], "-")
        ),
        Provider::OwnServer => format!(
            "https://{}/c/{}/{}",
            p.click_host,
            cx.rng.u32(..1_000_000),
            alnum(cx.rng, 32)
        ),
        Provider::Shortened => format!("https://bit.ly/{}", alnum(cx.rng, 7)),
    }
}

fn newsletter(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let p = pick(cx.rng, PUBLISHERS);
    let reader = cx.world.anyone(cx.rng).clone();
    let issue = cx.rng.u32(100..400);
    let articles: Vec<&str> = {
        let n = cx.rng.usize(3..=p.articles.len());
        let mut all: Vec<&str> = p.articles.to_vec();
        cx.rng.shuffle(&mut all);
        all.truncate(n);
        all
    };
    let subject = match cx.rng.u8(..3) {
        0 => format!("{} | Issue {issue}: {}", p.name, articles[0]),
        1 => format!("{}: {}", p.name, articles[0]),
        _ => format!("This week: {} and more", articles[0]),
    };
    let (route, client) = match p.provider {
        Provider::SendGrid => {
            let mail_from = format!(
                "bounces+{}-{}-{}={}@em{}.{}",
                cx.rng.u32(..9_999_999),
                hex(cx.rng, 4, false),
                local_part(&reader.first, &reader.last),
                CORPUS_OWN_DOMAIN,
                cx.rng.u16(1000..9999),
                p.domain
            );
            (
                provider_route(
                    cx,
                    p.domain,
                    mail_from,
                    "o1.ptr4123.sendgrid.net",
                    Some("sendgrid.info"),
                    Policy::Reject,
                    0,
                ),
                Client::Bulk,
            )
        }
        Provider::Mailchimp => {
            let mail_from = format!(
                "bounce-mc.us5_{}.{}-{}={}@mail{}.atl{}.mcdlv.net",
                cx.rng.u32(..99_999_999),
                cx.rng.u32(..9_999_999),
                local_part(&reader.first, &reader.last),
                CORPUS_OWN_DOMAIN,
                cx.rng.u16(1..300),
                cx.rng.u8(1..99)
            );
            (
                provider_route(
                    cx,
                    p.domain,
                    mail_from,
                    "mail186-21.suw21.mcdlv.net",
                    Some("mcdlv.net"),
                    Policy::Monitor,
                    -300,
                ),
                Client::Bulk,
            )
        }
        Provider::HubSpot => {
            let mail_from = format!(
                "1axbt{}@bf{}.hubspotemail.net",
                alnum(cx.rng, 40).to_lowercase(),
                cx.rng.u8(1..9)
            );
            (
                provider_route(
                    cx,
                    p.domain,
                    mail_from,
                    "bf04x.hubspotemail.net",
                    Some("hubspotemail.net"),
                    Policy::Quarantine,
                    60,
                ),
                Client::Bulk,
            )
        }
        Provider::OwnServer | Provider::Shortened => (
            Route::own_servers(
                cx.rng,
                p.domain,
                "bounce",
                Client::Application,
                Policy::Monitor,
                true,
                60,
            ),
            Client::Application,
        ),
    };
    let mut draft = Draft::new(
        "newsletter",
        client,
        (p.name.to_owned(), p.from.to_owned()),
        reader.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(20..900);
    let unsubscribe = tracked(cx, p);
    draft.headers.push((
        "List-Unsubscribe",
        format!(
            "<{unsubscribe}>, <mailto:unsubscribe-{}@{}>",
            hex(cx.rng, 16, false),
            p.domain
        ),
    ));
    draft.headers.push((
        "List-Unsubscribe-Post",
        "List-Unsubscribe=One-Click".to_owned(),
    ));
    draft.headers.push((
        "List-Id",
        format!(
            "{} <{}.list-id.{}>",
            p.name,
            hex(cx.rng, 20, false),
            p.domain
        ),
    ));
    draft.headers.push(("Precedence", "bulk".to_owned()));
    draft.headers.push((
        "Feedback-ID",
        format!(
            "{}:{}:newsletter",
            cx.rng.u32(..99_999),
            cx.rng.u32(..999_999)
        ),
    ));

    let greeting = format!("Dear {},", reader.first);
    if matches!(p.provider, Provider::Shortened) {
        // A society's plain mail with bit.ly links, written by hand.
        let mut text =
            format!("{greeting}\r\n\r\nHere is this month's round-up from the network.\r\n\r\n");
        for a in &articles {
            let link = tracked(cx, p);
            text.push_str(&format!("* {a}\r\n  {link}\r\n\r\n"));
        }
        text.push_str(&format!("Best wishes,\r\nThe network team\r\n{}\r\n\r\nTo stop receiving these updates reply with UNSUBSCRIBE.\r\n", p.name));
        draft.text = Some(text);
        return draft;
    }
    let mut html = String::new();
    let mut text = format!("{}\r\nIssue {issue}\r\n\r\n{greeting}\r\n\r\n", p.name);
    let view = tracked(cx, p);
    html.push_str(&format!(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td align=\"center\">\
         <table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"background:#ffffff\">\
         <tr><td style=\"padding:8px 24px;font-size:11px;color:#888\"><a href=\"{view}\" style=\"color:#888\">View this email in your browser</a></td></tr>\
         <tr><td style=\"padding:16px 24px\"><img src=\"https://img.{}/logo.png\" width=\"180\" height=\"40\" alt=\"{}\"></td></tr>\
         <tr><td style=\"padding:0 24px;font-size:15px\"><p>{}</p></td></tr>\r\n",
        p.domain,
        esc(p.name),
        esc(&greeting)
    ));
    let blurbs = [
        "Read the full story, with comments from clinicians and managers who have been through it.",
        "Our analysis of the figures, what changed since last year and what it means for your service.",
        "A summary of the evidence and the practical points for teams on the ground.",
        "Key findings, limitations and the authors' recommendations.",
        "What you need to know this week, in five minutes.",
    ];
    for a in &articles {
        let link = tracked(cx, p);
        let image = format!("https://img.{}/{}.jpg", p.domain, hex(cx.rng, 12, false));
        let blurb = pick(cx.rng, &blurbs);
        let paragraphs = cx.rng.usize(1..=4);
        html.push_str(&format!(
            "<tr><td style=\"padding:16px 24px;border-top:1px solid #e5e5e5\">\
             <img src=\"{image}\" width=\"592\" height=\"220\" alt=\"\" style=\"display:block;width:100%;height:auto\">\
             <h2 style=\"font-size:20px;line-height:26px;margin:12px 0 6px\"><a href=\"{link}\" style=\"color:#0b3d91;text-decoration:none\">{}</a></h2>",
            esc(a)
        ));
        for _ in 0..paragraphs {
            html.push_str(&format!(
                "<p style=\"font-size:15px;line-height:22px;color:#333\">{}</p>",
                esc(blurb)
            ));
        }
        html.push_str(&format!(
            "<p><a href=\"{link}\" style=\"display:inline-block;padding:8px 16px;background:#0b3d91;color:#fff;text-decoration:none;border-radius:3px\">Read more</a></p></td></tr>\r\n"
        ));
        text.push_str(&format!("{a}\r\n{blurb}\r\nRead more: {link}\r\n\r\n"));
    }
    let preferences = tracked(cx, p);
    let home = tracked(cx, p);
    let social: Vec<String> = ["linkedin.com/company", "x.com", "facebook.com"]
        .iter()
        .map(|s| {
            format!(
                "<a href=\"https://www.{s}/{}\">{}</a>",
                p.domain.split('.').next().unwrap_or("news"),
                s.split('.').next().unwrap_or("")
            )
        })
        .collect();
    let footer_link = if p.footer_domain_link {
        format!("<a href=\"{home}\">www.{}</a>", p.domain)
    } else {
        format!("<a href=\"{home}\">Visit our website</a>")
    };
    html.push_str(&format!(
        "<tr><td style=\"padding:24px;font-size:12px;color:#777;background:#f4f4f4\">{}<br>\
         You are receiving this because you subscribed with {}.<br>{footer_link} · \
         <a href=\"{preferences}\">Update your preferences</a> · <a href=\"{unsubscribe}\">Unsubscribe</a><br>\
         {} · 14 Market Street, Riverside</td></tr></table></td></tr></table>",
        social.join(" | "),
        esc(&reader.address),
        esc(p.name)
    ));
    text.push_str(&format!(
        "You are receiving this because you subscribed with {}.\r\nUpdate your preferences: {preferences}\r\nUnsubscribe: {unsubscribe}\r\n",
        reader.address
    ));
    draft.html = Some(html_page(&subject, &html));
    draft.text = Some(text);
    draft
}

// --- Suppliers ------------------------------------------------------------------------

fn supplier_invoice(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let org = choose(cx.rng, SUPPLIERS);
    let (first, last, title) = choose(cx.rng, org.people);
    let payer = cx.world.in_department(cx.rng, "Finance").clone();
    let number = format!(
        "{}-2026-{:05}",
        pick(cx.rng, &["INV", "F", "RE", "SI"]),
        cx.rng.u32(..99_999)
    );
    let amount = format!("{},{:02}", cx.rng.u32(120..48_000), cx.rng.u32(..100));
    let reminder = chance(cx.rng, 20);
    let (subject, body): (String, Vec<String>) = match (org.language, reminder) {
        ("fr", false) => (
            format!("Votre facture n° {number}"),
            vec![
                "Bonjour,".to_owned(),
                format!("Veuillez trouver ci-joint votre facture n° {number} d'un montant de {amount} EUR, payable à 30 jours."),
                "Nous restons à votre disposition pour toute question.".to_owned(),
                "Cordialement,".to_owned(),
            ],
        ),
        ("fr", true) => (
            format!("Relance : facture n° {number} échue"),
            vec![
                "Bonjour,".to_owned(),
                format!("Sauf erreur de notre part, la facture n° {number} ({amount} EUR) reste impayée à ce jour. Merci de procéder au règlement ou de nous indiquer la date prévue."),
                "Si le paiement a été effectué entre-temps, merci de ne pas tenir compte de ce message.".to_owned(),
                "Cordialement,".to_owned(),
            ],
        ),
        ("de", false) => (
            format!("Rechnung {number}"),
            vec![
                "Sehr geehrte Damen und Herren,".to_owned(),
                format!("anbei erhalten Sie unsere Rechnung {number} über {amount} EUR. Zahlbar innerhalb von 30 Tagen ohne Abzug."),
                "Mit freundlichen Grüßen".to_owned(),
            ],
        ),
        ("de", true) => (
            format!("Zahlungserinnerung: Rechnung {number}"),
            vec![
                "Sehr geehrte Damen und Herren,".to_owned(),
                format!("sicherlich haben Sie übersehen, dass die Rechnung {number} über {amount} EUR noch offen ist. Wir bitten um Ausgleich innerhalb der nächsten sieben Tage."),
                "Sollten Sie die Zahlung bereits veranlasst haben, betrachten Sie dieses Schreiben bitte als gegenstandslos.".to_owned(),
                "Mit freundlichen Grüßen".to_owned(),
            ],
        ),
        (_, false) => (
            format!("Invoice {number} from {}", org.name),
            vec![
                format!("Dear {},", payer.first),
                format!("Please find attached invoice {number} for {amount} EUR, due within 30 days."),
                "Thank you for your business.".to_owned(),
                "Kind regards,".to_owned(),
            ],
        ),
        (_, true) => (
            format!("Payment reminder: invoice {number} overdue"),
            vec![
                format!("Dear {},", payer.first),
                format!("Our records show that invoice {number} for {amount} EUR is now past its due date. We would be grateful if you could arrange payment or let us know if there is a query."),
                "If you have already paid, please ignore this reminder.".to_owned(),
                "Kind regards,".to_owned(),
            ],
        ),
    };
    // Some suppliers invoice through Xero, which sends in their name from its own
    // domain with replies going back to the supplier.
    let through_xero = org.language == "en" && chance(cx.rng, 35);
    let local = local_part(first, last);
    let (from, route, client) = if through_xero {
        let mail_from = format!("bounces+{}@post.xero.com", alnum(cx.rng, 16).to_lowercase());
        let route = provider_route(
            cx,
            "post.xero.com",
            mail_from,
            "a7-30.smtp-out.eu-west-1.amazonses.com",
            Some("amazonses.com"),
            Policy::Reject,
            0,
        );
        (
            (
                org.name.to_owned(),
                "messaging-service@post.xero.com".to_owned(),
            ),
            route,
            Client::Bulk,
        )
    } else if org.client == Client::Application {
        let route = org_route(cx, &org, "factures");
        (
            (
                format!("{} - {}", org.name, title),
                format!("factures@{}", org.domain),
            ),
            route,
            Client::Application,
        )
    } else {
        let route = org_route(cx, &org, &local);
        (
            (format!("{first} {last}"), format!("{local}@{}", org.domain)),
            route,
            org.client,
        )
    };
    let mut draft = Draft::new(
        "supplier_invoice",
        client,
        from,
        payer.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(3..120);
    if through_xero {
        draft.reply_to = Some((
            format!("{first} {last}"),
            format!("accounts@{}", org.domain),
        ));
        draft.id_domain = "post.xero.com".to_owned();
    }
    let paragraphs = body;
    let signature = external_signature(first, last, title, org.name, org.domain);
    if client == Client::Application || client == Client::Bulk {
        let mut text = plain(&paragraphs);
        text.push_str(&signature.text());
        draft.text = Some(text);
    } else {
        set_body(cx, &mut draft, paragraphs, signature, None);
    }
    let at = cx.delivered - 300;
    let mut lines = vec![
        format!("{} - Invoice {number}", org.name),
        format!("Bill to: Riverside Clinic, Accounts Payable, 12 Weir Road, Riverside"),
        format!("Invoice date: {}", local_day(cx.delivered)),
        String::new(),
        "Qty  Description                                   Unit price     Total".to_owned(),
    ];
    for _ in 0..cx.rng.usize(3..40) {
        let qty = cx.rng.u32(1..200);
        let price = cx.rng.u32(1..900);
        lines.push(format!(
            "{qty:<4} {:<45} {price:>7}.00 {:>9}.00",
            pick(
                cx.rng,
                &[
                    "Nitrile gloves (box of 100)",
                    "Sterile drapes",
                    "Disposable aprons",
                    "Cannula 22G",
                    "Linen service",
                    "Window cleaning",
                    "Amoxicillin 500 mg",
                    "Syringe pumps service",
                    "Sharps containers"
                ]
            ),
            qty * price
        ));
    }
    lines.push(String::new());
    lines.push(format!("Total due: {amount} EUR"));
    lines.push(format!(
        "IBAN DE{:02} {:04} {:04} {:04} {:04} {:02}",
        cx.rng.u8(10..99),
        cx.rng.u16(..9999),
        cx.rng.u16(..9999),
        cx.rng.u16(..9999),
        cx.rng.u16(..9999),
        cx.rng.u8(..99)
    ));
    let pages: Vec<Vec<String>> = lines.chunks(45).map(<[String]>::to_vec).collect();
    let logo = if chance(cx.rng, 40) {
        cx.rng.usize(8_000..60_000)
    } else {
        0
    };
    let producer = choose(
        cx.rng,
        &[
            "SAP NetWeaver 7.5",
            "wkhtmltopdf 0.12.6",
            "Xero",
            "Crystal Reports",
        ],
    );
    draft.attachments.push(File::new(
        files::PDF,
        format!("{number}.pdf"),
        files::pdf(
            cx.rng,
            &format!("Invoice {number}"),
            producer,
            at,
            &pages,
            PdfExtras {
                image_bytes: logo,
                link: None,
            },
        ),
    ));
    draft
}

// --- Calendar -------------------------------------------------------------------------

const MEETINGS: &[(&str, &str)] = &[
    ("Governance committee", "Agenda and papers to follow."),
    (
        "Weekly bed meeting",
        "Standing meeting, please send a deputy if you cannot attend.",
    ),
    (
        "Project board: EHR upgrade",
        "Review of the cut-over plan and the risk log.",
    ),
    ("1:1", "Usual catch-up."),
    (
        "Research steering group",
        "Recruitment figures and the amendment to the protocol.",
    ),
    (
        "Winter planning workshop",
        "We will go through escalation plans for flu, COVID-19 and RSV.",
    ),
    (
        "Supplier review - Orbis Pharma",
        "Quarterly review of the service level agreement.",
    ),
    (
        "Teaching session: ECG interpretation",
        "Bring your own cases if you have any.",
    ),
];

fn teams_link(cx: &mut Context<'_>) -> String {
    format!(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%2c%22Oid%22%3a%22{}%22%7d",
        b64(cx.rng, 48).replace(['+', '/'], "A"),
        uuid(cx.rng),
        uuid(cx.rng)
    )
}

fn calendar_invite(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let external = chance(cx.rng, 30);
    let attendee = cx.world.anyone(cx.rng).clone();
    let (summary, description) = choose(cx.rng, MEETINGS);
    let teams = teams_link(cx);
    let meeting_id = format!(
        "{} {} {} {}",
        cx.rng.u16(100..999),
        cx.rng.u16(100..999),
        cx.rng.u16(100..999),
        cx.rng.u16(100..999)
    );
    let passcode = alnum(cx.rng, 6);
    let description = format!(
        "{description}\r\n\r\n________________________________________________________________________________\r\n\
         Microsoft Teams meeting\r\nJoin on your computer, mobile app or room device\r\nClick here to join the meeting<{teams}>\r\n\
         Meeting ID: {meeting_id}\r\nPasscode: {passcode}\r\nDownload Teams<https://www.microsoft.com/en-gb/microsoft-teams/download-app> | \
         Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>\r\n\
         ________________________________________________________________________________\r\n"
    );
    let (organiser, route, client): (Mailbox, Route, Client) = if external {
        let org = choose(cx.rng, PARTNERS);
        let (first, last, _) = choose(cx.rng, org.people);
        let local = local_part(first, last);
        let route = org_route(cx, &org, &local);
        (
            (format!("{first} {last}"), format!("{local}@{}", org.domain)),
            route,
            Client::ExchangeOnline,
        )
    } else {
        let p = cx.world.anyone(cx.rng).clone();
        let route = internal_route(cx, &p.address);
        (p.mailbox(), route, Client::ExchangeOnPrem)
    };
    let day = cx.delivered + 86_400 * cx.rng.i64(1..=14);
    let start_local = jiff::Timestamp::from_second(day + super::LOCAL_OFFSET)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%d")
        .to_string();
    let hour = cx.rng.u8(8..17);
    let minutes = choose(cx.rng, &[30i64, 45, 60, 60, 90, 120]);
    let mut attendees = vec![attendee.mailbox()];
    for _ in 0..cx.rng.usize(0..6) {
        attendees.push(cx.world.anyone(cx.rng).mailbox());
    }
    let uid = format!(
        "040000008200E00074C5B7101A82E00800000000{}",
        hex(cx.rng, 56, true)
    );
    let invitation = Invitation {
        organiser: (&organiser.0, &organiser.1),
        attendees: &attendees,
        summary,
        description: &description,
        location: "Microsoft Teams Meeting",
        start: format!("{start_local}T{hour:02}{}00", pick(cx.rng, &["00", "30"])),
        minutes,
        uid,
        stamp: cx.delivered,
    };
    let ics = files::ics(&invitation);
    let mut draft = Draft::new(
        "calendar_invite",
        client,
        organiser,
        attendee.mailbox(),
        summary.to_owned(),
        route,
    );
    draft.transit = cx.rng.i64(1..60);
    for a in attendees.iter().skip(1) {
        draft.to.push(a.clone());
    }
    draft.text = Some(description.clone());
    draft.html = Some(format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>\
         <div><p>{}</p><div style=\"width:100%\"><span style=\"white-space:nowrap;color:#5F5F5F;opacity:.36\">________________________________________________________________________________</span></div>\
         <div style=\"margin-bottom:24px;overflow:hidden\"><div style=\"margin-bottom:0px;margin-top:0px;font-size:24px\">Microsoft Teams meeting</div>\
         <div style=\"margin-bottom:20px\"><a href=\"{teams}\" target=\"_blank\" style=\"font-size:14px;font-weight:700;color:#5B5FC7\">Join the meeting now</a></div>\
         <div><span>Meeting ID: </span><span>{meeting_id}</span></div><div><span>Passcode: </span><span>{passcode}</span></div>\
         <div><a href=\"https://www.microsoft.com/en-gb/microsoft-teams/download-app\">Download Teams</a> | \
         <a href=\"https://www.microsoft.com/microsoft-teams/join-a-meeting\">Join on the web</a></div></div></div></body></html>",
        esc(description.lines().next().unwrap_or(""))
    ));
    // Exchange sends the invitation as an alternative only; partners' systems often
    // attach it as a file as well.
    if external && chance(cx.rng, 50) {
        draft.attachments.push(File::new(
            files::ICS,
            "invite.ics",
            ics.clone().into_bytes(),
        ));
    }
    draft.calendar = Some(ics);
    draft
}

// --- Recruiting -----------------------------------------------------------------------

const JOBS: &[&str] = &[
    "Senior Staff Nurse - Critical Care",
    "Clinical Nurse Specialist, Heart Failure",
    "Ward Manager (Band 7)",
    "Consultant Cardiologist",
    "Biomedical Scientist - Microbiology",
    "Lead Pharmacist, Antimicrobials",
    "Information Security Manager",
    "Clinical Trials Manager",
    "Head of Finance",
    "Radiographer - CT",
];

const EMPLOYERS: &[&str] = &[
    "St Mary's Hospital",
    "Northgate University Hospitals",
    "Westbrook Health Partnership",
    "Harbourside Private Hospital",
    "Helix Diagnostics",
    "City and County Healthcare",
];

fn recruiter(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let reader = cx.world.anyone(cx.rng).clone();
    let job = choose(cx.rng, JOBS);
    let employer = choose(cx.rng, EMPLOYERS);
    match cx.rng.u8(..4) {
        0 => {
            // A recruiter's InMail relayed by LinkedIn.
            let (first, last) = choose(
                cx.rng,
                &[
                    ("Maria", "Lopez"),
                    ("James", "Whitfield"),
                    ("Priya", "Nair"),
                    ("Tom", "Becker"),
                ],
            );
            let subject = format!("{first} sent you a new message");
            let mail_from = format!("s-{}@bounce.linkedin.com", alnum(cx.rng, 30).to_lowercase());
            let route = provider_route(
                cx,
                "linkedin.com",
                mail_from,
                "mailb-ab.linkedin.com",
                None,
                Policy::Reject,
                -480,
            );
            let mut draft = Draft::new(
                "linkedin_inmail",
                Client::Bulk,
                (
                    format!("{first} {last} via LinkedIn"),
                    "inmail-hit-reply@linkedin.com".to_owned(),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.id_domain = "linkedin.com".to_owned();
            let link = format!(
                "https://www.linkedin.com/comm/messaging/thread/2-{}?midToken=AQ{}&trk=eml-email_inmail",
                b64(cx.rng, 40).replace(['+', '/'], "_"),
                alnum(cx.rng, 16)
            );
            let message = format!(
                "Hi {}, I am recruiting for a {job} role at {employer}. Your background looks like a great fit. The salary is competitive and there is flexibility on hours. Would you be open to a short call this week to discuss the opportunity?",
                reader.first
            );
            draft.text = Some(format!(
                "{message}\r\n\r\nReply: {link}\r\n\r\nThis email was intended for {} ({}).\r\nLearn why we included this: https://www.linkedin.com/help/linkedin/answer/4788\r\nUnsubscribe: https://www.linkedin.com/comm/psettings/email-unsubscribe?lipi={}\r\n© 2026 LinkedIn Corporation, 1000 West Maude Avenue, Sunnyvale, CA 94085.\r\n",
                reader.display,
                reader.title,
                alnum(cx.rng, 24)
            ));
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<table width=\"100%\"><tr><td style=\"padding:24px\"><img src=\"https://static.licdn.com/aero-v1/sc/h/logo.png\" width=\"84\" alt=\"LinkedIn\">\
                 <p><b>{first} {last}</b>, Senior Recruiter at {employer}</p><p>{}</p>\
                 <p><a href=\"{link}\" style=\"background:#0a66c2;color:#fff;padding:10px 16px;border-radius:20px;text-decoration:none\">Reply</a></p>\
                 <p style=\"font-size:12px;color:#666\">This email was intended for {}. <a href=\"https://www.linkedin.com/help/linkedin/answer/4788\">Learn why we included this.</a></p></td></tr></table>",
                    esc(&message),
                    esc(&reader.display)
                ),
            ));
            draft.headers.push((
                "List-Unsubscribe",
                format!(
                    "<https://www.linkedin.com/comm/psettings/email-unsubscribe?lipi={}>",
                    alnum(cx.rng, 24)
                ),
            ));
            draft
        }
        1 => {
            let subject = format!("{job} at {employer} and {} more jobs", cx.rng.u8(3..12));
            let mail_from = format!("s-{}@bounce.linkedin.com", alnum(cx.rng, 30).to_lowercase());
            let route = provider_route(
                cx,
                "linkedin.com",
                mail_from,
                "mailb-ac.linkedin.com",
                None,
                Policy::Reject,
                -480,
            );
            let mut draft = Draft::new(
                "linkedin_job_alert",
                Client::Bulk,
                (
                    "LinkedIn Job Alerts".to_owned(),
                    "jobalerts-noreply@linkedin.com".to_owned(),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.id_domain = "linkedin.com".to_owned();
            let mut body = String::new();
            let mut text = String::from("Your job alert for nursing and clinical roles\r\n\r\n");
            for _ in 0..cx.rng.usize(4..10) {
                let j = pick(cx.rng, JOBS);
                let e = pick(cx.rng, EMPLOYERS);
                let link = format!(
                    "https://www.linkedin.com/comm/jobs/view/{}/?trackingId={}&refId={}&trk=eml-email_job_alert_digest_01-job_card-0-view_job",
                    cx.rng.u64(3_000_000_000..4_000_000_000),
                    b64(cx.rng, 24).replace('/', "%2F"),
                    b64(cx.rng, 24).replace('/', "%2F")
                );
                body.push_str(&format!("<tr><td style=\"padding:12px 0\"><a href=\"{link}\" style=\"font-size:16px;color:#0a66c2\">{}</a><br>{} · Riverside (hybrid)</td></tr>", esc(j), esc(e)));
                text.push_str(&format!(
                    "{j}\r\n{e} · Riverside (hybrid)\r\nView job: {link}\r\n\r\n"
                ));
            }
            draft.html = Some(html_page(
                &subject,
                &format!("<table width=\"600\">{body}</table>"),
            ));
            draft.text = Some(text);
            draft
        }
        2 => {
            let subject = format!(
                "{} new {} jobs in Riverside",
                cx.rng.u8(5..30),
                job.split(" - ").next().unwrap_or(job)
            );
            let mail_from = format!("bounce-{}@indeed.com", alnum(cx.rng, 20).to_lowercase());
            let route = provider_route(
                cx,
                "indeed.com",
                mail_from,
                "mail-n1.indeed.com",
                None,
                Policy::Reject,
                -360,
            );
            let mut draft = Draft::new(
                "indeed_job_alert",
                Client::Bulk,
                ("Indeed".to_owned(), "alert@indeed.com".to_owned()),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            let mut text = String::new();
            let mut body = String::new();
            for _ in 0..cx.rng.usize(4..12) {
                let j = pick(cx.rng, JOBS);
                let e = pick(cx.rng, EMPLOYERS);
                let link = format!(
                    "https://uk.indeed.com/rc/clk/dl?jk={}&from=ja&qd={}&rd={}&tk={}",
                    hex(cx.rng, 16, false),
                    b64(cx.rng, 40).replace(['+', '/'], "-"),
                    b64(cx.rng, 20).replace(['+', '/'], "-"),
                    alnum(cx.rng, 20)
                );
                let salary = format!(
                    "€{},000 - €{},000 a year",
                    cx.rng.u8(35..60),
                    cx.rng.u8(60..95)
                );
                body.push_str(&format!("<tr><td><a href=\"{link}\"><b>{}</b></a><br>{} - Riverside<br>{salary}</td></tr>", esc(j), esc(e)));
                text.push_str(&format!(
                    "{j}\r\n{e} - Riverside\r\n{salary}\r\n{link}\r\n\r\n"
                ));
            }
            draft.html = Some(html_page(
                &subject,
                &format!("<table width=\"600\">{body}</table>"),
            ));
            draft.text = Some(text);
            draft.headers.push((
                "List-Unsubscribe",
                format!(
                    "<https://uk.indeed.com/unsubscribe?t={}>",
                    alnum(cx.rng, 30)
                ),
            ));
            draft
        }
        _ => {
            // An agency recruiter writing from the agency's own domain.
            let org = *PARTNERS
                .iter()
                .find(|o| o.domain == "medstaff-recruitment.example")
                .unwrap_or(&PARTNERS[0]);
            let (first, last, title) = choose(cx.rng, org.people);
            let local = local_part(first, last);
            let route = org_route(cx, &org, &local);
            let subject = format!("{job} - {employer} - confidential opportunity");
            let mut draft = Draft::new(
                "agency_recruiter",
                org.client,
                (format!("{first} {last}"), format!("{local}@{}", org.domain)),
                reader.mailbox(),
                subject,
                route,
            );
            let paragraphs = vec![
                format!("Dear {},", reader.first),
                format!("I hope you don't mind me getting in touch. I am working with {employer} on a {job} position and your experience at Riverside Clinic stood out."),
                "The role is permanent, with a competitive salary and relocation support if needed. I would be happy to share the full job description and arrange an informal conversation with the hiring manager.".to_owned(),
                format!("You can see the role on our website: https://www.{}/jobs/{}", org.domain, cx.rng.u32(10_000..99_999)),
                "If now is not the right time, no problem at all; just let me know and I won't contact you again.".to_owned(),
                format!("Kind regards,\r\n{first}"),
            ];
            set_body(
                cx,
                &mut draft,
                paragraphs,
                external_signature(first, last, title, org.name, org.domain),
                None,
            );
            draft
        }
    }
}

// --- Health authorities ---------------------------------------------------------------

struct Authority {
    name: &'static str,
    from: &'static str,
    mail_from_domain: &'static str,
    helo: &'static str,
    policy: Policy,
    subjects: &'static [&'static str],
    link_host: &'static str,
    offset: i32,
}

const AUTHORITIES: &[Authority] = &[
    Authority {
        name: "World Health Organization",
        from: "newsletter@who.int",
        mail_from_domain: "who.int",
        helo: "mail2.who.int",
        policy: Policy::Reject,
        subjects: &[
            "WHO News: COVID-19 vaccines and testing guidance",
            "Disease Outbreak News: avian influenza A(H5N1)",
            "WHO updates recommendations on COVID-19 vaccine composition",
            "Weekly epidemiological update on respiratory viruses",
        ],
        link_host: "www.who.int",
        offset: 60,
    },
    Authority {
        name: "ECDC",
        from: "ecdc.newsletter@ecdc.europa.eu",
        mail_from_domain: "ecdc.europa.eu",
        helo: "smtp1.ecdc.europa.eu",
        policy: Policy::Quarantine,
        subjects: &[
            "Communicable disease threats report, week {week}",
            "ECDC: seasonal influenza and COVID-19 vaccination coverage",
            "Rapid risk assessment: measles in the EU/EEA",
        ],
        link_host: "www.ecdc.europa.eu",
        offset: 60,
    },
    Authority {
        name: "Centers for Disease Control and Prevention",
        from: "cdc@service.govdelivery.com",
        mail_from_domain: "service.govdelivery.com",
        helo: "mta-171.govdelivery.com",
        policy: Policy::Reject,
        subjects: &[
            "CDC Health Advisory: respiratory virus season and vaccination",
            "Updated COVID-19 vaccine recommendations for 2026-2027",
            "MMWR Weekly: influenza, COVID-19 and RSV activity",
        ],
        link_host: "www.cdc.gov",
        offset: -300,
    },
    Authority {
        name: "UK Health Security Agency",
        from: "ukhsa@notifications.service.gov.uk",
        mail_from_domain: "notifications.service.gov.uk",
        helo: "a8-31.smtp-out.eu-west-2.amazonses.com",
        policy: Policy::Reject,
        subjects: &[
            "UKHSA: COVID-19 autumn booster programme for health and care workers",
            "Surveillance of influenza and other seasonal respiratory viruses",
        ],
        link_host: "www.gov.uk",
        offset: 0,
    },
    Authority {
        name: "Regional Health Authority",
        from: "bulletin@regional-health.example",
        mail_from_domain: "regional-health.example",
        helo: "mail.regional-health.example",
        policy: Policy::Reject,
        subjects: &[
            "Public health bulletin: COVID-19 and flu vaccination for staff",
            "Winter pressures: vaccination uptake by provider",
            "Outbreak alert: norovirus in care homes",
        ],
        link_host: "www.regional-health.example",
        offset: 60,
    },
];

const HEALTH_PARAGRAPHS: &[&str] = &[
    "COVID-19 vaccines continue to provide strong protection against severe disease, hospitalisation and death. Health and care workers are recommended to receive the updated vaccine this autumn, ideally at the same visit as the seasonal influenza vaccine.",
    "Surveillance indicates that SARS-CoV-2, influenza and RSV are co-circulating. Infection prevention and control measures in healthcare settings remain important, including testing of symptomatic patients on admission.",
    "The updated guidance sets out eligibility, timing of doses, co-administration with other vaccines, and how to report adverse events following immunisation.",
    "Vaccination coverage among healthcare workers varied widely between countries last season. Employers are encouraged to make vaccination easy to access at the workplace.",
    "This report summarises the epidemiological situation, with data reported up to the end of last week. Figures for the most recent week may be revised as more data arrive.",
];

fn health_bulletin(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let a = pick(cx.rng, AUTHORITIES);
    let reader = cx.world.anyone(cx.rng).clone();
    let s = slots(cx);
    let subject = filled(choose(cx.rng, a.subjects), &s);
    let from_domain = a.from.rsplit_once('@').map_or("", |(_, d)| d);
    let mail_from = format!(
        "bounce-{}@{}",
        alnum(cx.rng, 12).to_lowercase(),
        a.mail_from_domain
    );
    let route = provider_route(cx, from_domain, mail_from, a.helo, None, a.policy, a.offset);
    let mut draft = Draft::new(
        "health_bulletin",
        Client::Bulk,
        (a.name.to_owned(), a.from.to_owned()),
        reader.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(30..1200);
    let path = subject
        .to_lowercase()
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join("-");
    let link = format!(
        "https://{}/news/item/{}-{}",
        a.link_host,
        cx.rng.u32(1..28),
        path.replace([':', ',', '.'], "")
    );
    let mut paragraphs: Vec<String> = Vec::new();
    for _ in 0..cx.rng.usize(2..5) {
        paragraphs.push((choose(cx.rng, HEALTH_PARAGRAPHS)).to_owned());
    }
    let unsubscribe = format!(
        "https://{}/subscriptions/manage?token={}",
        a.link_host,
        alnum(cx.rng, 32)
    );
    let mut text = format!("{}\r\n\r\n{}\r\n\r\n", a.name, subject);
    let mut html = format!(
        "<table width=\"640\" align=\"center\"><tr><td><h1 style=\"font-size:22px\">{}</h1>",
        esc(&subject)
    );
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\r\n\r\n");
        html.push_str(&format!("<p>{}</p>", esc(p)));
    }
    text.push_str(&format!(
        "Read more: {link}\r\n\r\nManage your subscription: {unsubscribe}\r\n"
    ));
    html.push_str(&format!(
        "<p><a href=\"{link}\">Read the full guidance</a></p><hr><p style=\"font-size:12px\">You are subscribed to updates from {}. \
         <a href=\"{unsubscribe}\">Manage your subscription</a></p></td></tr></table>",
        esc(a.name)
    ));
    draft.text = Some(text);
    draft.html = Some(html_page(&subject, &html));
    draft
        .headers
        .push(("List-Unsubscribe", format!("<{unsubscribe}>")));
    draft.headers.push(("Precedence", "bulk".to_owned()));
    draft
}

// --- Sharing notifications ------------------------------------------------------------

const SHARED_NAMES: &[&str] = &[
    "Q4 rota.xlsx",
    "Board papers November.pdf",
    "Ward 4B audit.docx",
    "Winter plan 2026-27.pptx",
    "Research data dictionary.xlsx",
    "Policy review tracker.xlsx",
    "Induction pack.pdf",
    "Contract variation v2.docx",
];

fn shared_document(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let reader = cx.world.anyone(cx.rng).clone();
    let name = choose(cx.rng, SHARED_NAMES);
    match cx.rng.u8(..5) {
        0 | 1 => {
            // SharePoint and OneDrive notices come from sharepointonline.com in the
            // sharer's name.
            let sharer = cx.world.other(cx.rng, &reader).clone();
            let subject = format!("{} shared \"{}\" with you", sharer.display, name);
            let mail_from = format!("bounces+SRS={}@sharepointonline.com", alnum(cx.rng, 10));
            let route = provider_route(
                cx,
                "sharepointonline.com",
                mail_from,
                "mail-db8eur05on2090.outbound.protection.outlook.com",
                None,
                Policy::Reject,
                0,
            );
            let mut draft = Draft::new(
                "sharepoint_share",
                Client::ExchangeOnline,
                (
                    sharer.display.clone(),
                    "no-reply@sharepointonline.com".to_owned(),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.id_domain = "sharepointonline.com".to_owned();
            let link = format!(
                "https://riversideclinic.sharepoint.com/:{}:/s/{}/E{}?e={}",
                pick(cx.rng, &["x", "b", "w"]),
                sharer.department.replace(' ', ""),
                b64(cx.rng, 46).replace(['+', '/'], "_"),
                alnum(cx.rng, 6)
            );
            let message = pick(
                cx.rng,
                &[
                    "Here's the document we talked about.",
                    "Latest version, please add your comments.",
                    "",
                    "FYI",
                ],
            );
            draft.text = Some(format!(
                "{} shared a file with you\r\n\r\n{message}\r\n\r\n{name}\r\n\r\nOpen: {link}\r\n\r\nThis link will work for anyone in Riverside Clinic.\r\n\r\nMicrosoft respects your privacy. To learn more, please read our Privacy Statement.\r\nMicrosoft Corporation, One Microsoft Way, Redmond, WA 98052\r\n",
                sharer.display
            ));
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<table width=\"100%\"><tr><td style=\"padding:24px\"><p style=\"font-size:21px\">{} shared a file with you</p><p>{}</p>\
                 <p><a href=\"{link}\" style=\"font-size:14px\"><img src=\"https://res-1.cdn.office.net/files/fabric-cdn-prod_20240129.001/assets/item-types/48/xlsx.png\" width=\"48\"> {}</a></p>\
                 <p><a href=\"{link}\" style=\"background:#0078d4;color:#fff;padding:8px 16px;text-decoration:none\">Open</a></p>\
                 <p style=\"font-size:12px\">This link will work for anyone in Riverside Clinic.</p>\
                 <p style=\"font-size:11px;color:#666\"><a href=\"https://go.microsoft.com/fwlink/?LinkId=521839\">Privacy Statement</a><br>Microsoft Corporation, One Microsoft Way, Redmond, WA 98052</p></td></tr></table>",
                    esc(&sharer.display),
                    esc(message),
                    esc(name)
                ),
            ));
            draft
        }
        2 => {
            let org = choose(cx.rng, PARTNERS);
            let (first, last, _) = choose(cx.rng, org.people);
            let sharer_address = format!("{}@{}", local_part(first, last), org.domain);
            let subject = format!(
                "Document shared with you: \"{}\"",
                name.rsplit_once('.').map_or(name, |(s, _)| s)
            );
            let mail_from = format!("3{}@doclist.bounces.google.com", alnum(cx.rng, 40));
            let route = provider_route(
                cx,
                "google.com",
                mail_from,
                "mail-sor-f69.google.com",
                None,
                Policy::Reject,
                0,
            );
            let mut draft = Draft::new(
                "google_drive_share",
                Client::Gmail,
                (
                    format!("{first} {last} (via Google Docs)"),
                    "drive-shares-dm-noreply@google.com".to_owned(),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.reply_to = Some((format!("{first} {last}"), sharer_address.clone()));
            draft.id_domain = "google.com".to_owned();
            let link = format!(
                "https://docs.google.com/document/d/{}/edit?usp=sharing_eil_se_dm&ts={}",
                b64(cx.rng, 44).replace(['+', '/'], "_"),
                hex(cx.rng, 8, false)
            );
            draft.text = Some(format!(
                "{first} {last} ({sharer_address}) has invited you to edit the following document:\r\n\r\n{name}\r\n{link}\r\n\r\nGoogle LLC, 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA\r\nYou have received this email because {sharer_address} shared a document with you from Google Docs.\r\n"
            ));
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<p>{} ({}) has invited you to <b>edit</b> the following document:</p><p><a href=\"{link}\">{}</a></p>\
                 <p><a href=\"{link}\" style=\"background:#1a73e8;color:#fff;padding:8px 24px;border-radius:4px;text-decoration:none\">Open</a></p>\
                 <p style=\"font-size:12px;color:#5f6368\">Google LLC, 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA</p>",
                    esc(&format!("{first} {last}")),
                    esc(&sharer_address),
                    esc(name)
                ),
            ));
            draft
        }
        3 => {
            let org = choose(cx.rng, PARTNERS);
            let (first, last, _) = choose(cx.rng, org.people);
            let subject = format!("{first} {last} shared \"{name}\" with you");
            let mail_from = format!("bounces+{}@em-s.dropbox.com", cx.rng.u32(..9_999_999));
            let route = provider_route(
                cx,
                "dropbox.com",
                mail_from,
                "mail-s.dropbox.com",
                Some("sendgrid.info"),
                Policy::Reject,
                -480,
            );
            let mut draft = Draft::new(
                "dropbox_share",
                Client::Bulk,
                ("Dropbox".to_owned(), "no-reply@dropbox.com".to_owned()),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.id_domain = "dropbox.com".to_owned();
            let link = format!(
                "https://www.dropbox.com/scl/fi/{}/{}?rlkey={}&dl=0",
                alnum(cx.rng, 20).to_lowercase(),
                name.replace(' ', "%20"),
                alnum(cx.rng, 25).to_lowercase()
            );
            draft.text = Some(format!(
                "{first} {last} shared a file with you.\r\n\r\n{name}\r\n\r\nView file: {link}\r\n\r\nEnjoy!\r\nThe Dropbox team\r\n"
            ));
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<p>{} shared a file with you.</p><p><a href=\"{link}\">View file</a></p><p>Enjoy!<br>The Dropbox team</p>",
                    esc(&format!("{first} {last}"))
                ),
            ));
            draft
        }
        _ => {
            let org = choose(cx.rng, SUPPLIERS);
            let (first, last, _) = choose(cx.rng, org.people);
            let signer = cx.world.in_department(cx.rng, "Procurement").clone();
            let subject = format!("Please DocuSign: {} - Supply Agreement 2027", org.name);
            let mail_from = "dse_na4@docusign.net".to_owned();
            let route = provider_route(
                cx,
                "docusign.net",
                mail_from,
                "mail-na4.docusign.net",
                None,
                Policy::Reject,
                -420,
            );
            let mut draft = Draft::new(
                "docusign_envelope",
                Client::Bulk,
                (
                    format!("{first} {last} via DocuSign"),
                    "dse_NA4@docusign.net".to_owned(),
                ),
                signer.mailbox(),
                subject.clone(),
                route,
            );
            draft.reply_to = Some((
                format!("{first} {last}"),
                format!("{}@{}", local_part(first, last), org.domain),
            ));
            draft.id_domain = "docusign.net".to_owned();
            let link = format!(
                "https://na4.docusign.net/Signing/EmailStart.aspx?a={}&etti=24&acct={}&er={}",
                uuid(cx.rng),
                uuid(cx.rng),
                uuid(cx.rng)
            );
            let code = hex(cx.rng, 32, true);
            draft.text = Some(format!(
                "{first} {last} sent you a document to review and sign.\r\n\r\nREVIEW DOCUMENT: {link}\r\n\r\nPlease review and sign the supply agreement for 2027.\r\n\r\n\
                 Do Not Share This Email\r\nThis email contains a secure link to DocuSign. Please do not share this email, link, or access code with others.\r\n\
                 Alternate Signing Method\r\nVisit DocuSign.com, click 'Access Documents', and enter the security code: {code}\r\n"
            ));
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<table width=\"640\"><tr><td style=\"background:#1e4ca1;color:#fff;padding:24px\">{} sent you a document to review and sign.<br><br>\
                 <a href=\"{link}\" style=\"background:#ffc820;color:#000;padding:10px 24px;text-decoration:none\">REVIEW DOCUMENT</a></td></tr>\
                 <tr><td style=\"padding:24px\">Please review and sign the supply agreement for 2027.<br><br><b>Do Not Share This Email</b><br>\
                 This email contains a secure link to DocuSign. Please do not share this email, link, or access code with others.<br>\
                 <b>Alternate Signing Method</b><br>Visit DocuSign.com, click 'Access Documents', and enter the security code: {code}</td></tr></table>",
                    esc(&format!("{first} {last}"))
                ),
            ));
            draft
        }
    }
}

// --- Systems --------------------------------------------------------------------------

fn system_alert(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let reader = cx.world.anyone(cx.rng).clone();
    match cx.rng.u8(..9) {
        0 => {
            let it = cx.world.in_department(cx.rng, "IT").clone();
            let host = pick(
                cx.rng,
                &[
                    "ehr-db01",
                    "pacs-app02",
                    "fs01",
                    "dc02",
                    "lab-if01",
                    "backup01",
                ],
            );
            let (problem, state) = choose(
                cx.rng,
                &[
                    ("Disk space is low (used > 90%)", "PROBLEM"),
                    ("Disk space is low (used > 90%)", "RESOLVED"),
                    ("High CPU utilisation for 15m", "PROBLEM"),
                    ("Service 'HL7 listener' is not running", "PROBLEM"),
                    ("Service 'HL7 listener' is not running", "RESOLVED"),
                ],
            );
            let subject = format!("{state}: {host}: {problem}");
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "zabbix",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "monitoring_alert",
                Client::Application,
                ("Zabbix".to_owned(), format!("zabbix@{CORPUS_OWN_DOMAIN}")),
                it.mailbox(),
                subject,
                route,
            );
            draft.text = Some(format!(
                "Problem started at {} on {}\r\nProblem name: {problem}\r\nHost: {host}\r\nSeverity: {}\r\nOperational data: {} %\r\nOriginal problem ID: {}\r\n",
                rfc2822(cx.delivered - 600, 60),
                local_day(cx.delivered),
                pick(cx.rng, &["Warning", "Average", "High"]),
                cx.rng.u8(85..99),
                cx.rng.u32(..9_999_999)
            ));
            draft
                .headers
                .push(("Auto-Submitted", "auto-generated".to_owned()));
            draft
        }
        1 => {
            let it = cx.world.in_department(cx.rng, "IT").clone();
            let job = pick(
                cx.rng,
                &[
                    "EHR database nightly",
                    "File servers",
                    "Exchange mailboxes",
                    "PACS archive",
                ],
            );
            let result = choose(
                cx.rng,
                &["Success", "Success", "Success", "Warning", "Failed"],
            );
            let subject = format!("[{result}] {job} (4 VMs) 0 failed, 0 warnings");
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "veeam",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "backup_report",
                Client::Application,
                (
                    "Veeam Backup & Replication".to_owned(),
                    format!("veeam@{CORPUS_OWN_DOMAIN}"),
                ),
                it.mailbox(),
                subject.clone(),
                route,
            );
            let mut rows = String::new();
            for vm in [
                "vm-ehr-db01",
                "vm-ehr-app01",
                "vm-ehr-app02",
                "vm-ehr-report",
            ] {
                rows.push_str(&format!("<tr><td>{vm}</td><td>{result}</td><td>22:{:02}</td><td>23:{:02}</td><td>{}.{} GB</td><td>{}.{} GB</td></tr>", cx.rng.u8(..60), cx.rng.u8(..60), cx.rng.u16(10..800), cx.rng.u8(..10), cx.rng.u16(1..90), cx.rng.u8(..10)));
            }
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\"><tr><th>Name</th><th>Status</th><th>Start time</th><th>End time</th><th>Size</th><th>Transferred</th></tr>{rows}</table><p>Veeam Backup &amp; Replication 12.2.0.334</p>"
                ),
            ));
            draft
                .headers
                .push(("Auto-Submitted", "auto-generated".to_owned()));
            draft
        }
        2 => {
            // IT's own notice that a password is about to expire: the words of a
            // credential lure, from the clinic itself.
            let days = cx.rng.u8(1..=14);
            let subject = format!("Your password will expire in {days} days");
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "noreply",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "password_expiry_notice",
                Client::Application,
                (
                    "IT Service Desk".to_owned(),
                    format!("noreply@{CORPUS_OWN_DOMAIN}"),
                ),
                reader.mailbox(),
                subject,
                route,
            );
            draft.text = Some(format!(
                "Dear {},\r\n\r\nThe password for your clinic account ({}) will expire in {days} days.\r\n\r\nTo change it, press Ctrl+Alt+Del on a clinic computer and choose \"Change a password\", or use the self-service portal: https://selfservice.{CORPUS_OWN_DOMAIN}/password\r\n\r\nIT will never ask you for your password by e-mail.\r\n\r\nIT Service Desk, extension 4444\r\n",
                reader.first, reader.address
            ));
            draft
                .headers
                .push(("Auto-Submitted", "auto-generated".to_owned()));
            draft
        }
        3 => {
            // Voicemail to e-mail from the clinic's phone system, with the recording.
            let caller = format!("+44 1632 96{:04}", cx.rng.u16(..10_000));
            let seconds = cx.rng.u32(4..=20);
            let subject = format!("Voice message from {caller} ({seconds} seconds)");
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "unityconnection",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "voicemail_notification",
                Client::Application,
                (
                    "Cisco Unity Connection Messaging System".to_owned(),
                    format!("unityconnection@{CORPUS_OWN_DOMAIN}"),
                ),
                reader.mailbox(),
                subject,
                route,
            );
            draft.text = Some(format!(
                "You have a new voice message from {caller}, received {}.\r\nThe recording is attached.\r\n",
                rfc2822(cx.delivered - 30, 60)
            ));
            draft.attachments.push(File::new(
                files::WAV,
                "VoiceMessage.wav",
                files::wav(cx.rng, seconds),
            ));
            draft
        }
        4 => {
            // Scan to e-mail from the copier on the corridor.
            let pages = cx.rng.usize(1..=6);
            let subject = "Scanned from a Xerox Multifunction Printer".to_owned();
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "scanner",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "scan_to_email",
                Client::Application,
                (
                    "Xerox WorkCentre".to_owned(),
                    format!("scanner@{CORPUS_OWN_DOMAIN}"),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.text = Some(format!(
                "Please open the attached document. It was scanned and sent to you using a Xerox Multifunction Printer.\r\n\r\nNumber of Images: {pages}\r\nAttachment File Type: PDF\r\nDevice Name: XRX-2F-EAST\r\nDevice Location: 2nd floor, east corridor\r\n"
            ));
            let size = cx.rng.usize(25_000..40_000) * pages;
            let content: Vec<Vec<String>> = vec![Vec::new(); pages];
            let name = format!(
                "Scan_{}.pdf",
                jiff::Timestamp::from_second(cx.delivered)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                    .strftime("%Y%m%d%H%M%S")
            );
            draft.attachments.push(File::new(
                files::PDF,
                name,
                files::pdf(
                    cx.rng,
                    "Scanned document",
                    "Xerox WorkCentre 7855",
                    cx.delivered - 20,
                    &content,
                    PdfExtras {
                        image_bytes: size.min(200_000),
                        link: None,
                    },
                ),
            ));
            draft
        }
        5 => {
            let subject = pick(
                cx.rng,
                &[
                    "Major update: Microsoft Teams meeting recap in Copilot",
                    "Planned maintenance: Exchange Online (EX913344)",
                    "Retirement of basic authentication for SMTP AUTH",
                    "Microsoft 365 service health: incident resolved",
                ],
            )
            .to_string();
            let it = cx.world.in_department(cx.rng, "IT").clone();
            let mail_from = "o365mc@microsoft.com".to_owned();
            let route = provider_route(
                cx,
                "microsoft.com",
                mail_from,
                "mail-bn8nam12on2101.outbound.protection.outlook.com",
                None,
                Policy::Reject,
                -480,
            );
            let mut draft = Draft::new(
                "microsoft_message_center",
                Client::ExchangeOnline,
                (
                    "Microsoft 365 Message center".to_owned(),
                    "o365mc@microsoft.com".to_owned(),
                ),
                it.mailbox(),
                subject.clone(),
                route,
            );
            draft.id_domain = "microsoft.com".to_owned();
            let link = format!(
                "https://admin.microsoft.com/AdminPortal/home#/MessageCenter/:/messages/MC{}",
                cx.rng.u32(800_000..999_999)
            );
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<p>Message center highlights for Riverside Clinic</p><h2>{}</h2><p>We will begin rolling this out in late November. No action is required from you, but you may want to notify your users.</p><p><a href=\"{link}\">View in Message center</a></p><p style=\"font-size:11px\">Microsoft Corporation, One Microsoft Way, Redmond, WA 98052 USA</p>",
                    esc(&subject)
                ),
            ));
            draft.text = Some(format!(
                "{subject}\r\n\r\nWe will begin rolling this out in late November. No action is required from you.\r\n\r\nView in Message center: {link}\r\n"
            ));
            draft
        }
        6 => {
            let subject = format!(
                "Cloud recording - {} is now available",
                pick(
                    cx.rng,
                    &[
                        "Research steering group",
                        "Teaching session",
                        "Weekly bed meeting"
                    ]
                )
            );
            let mail_from = format!("bounces+{}@zoom.us", cx.rng.u32(..9_999_999));
            let route = provider_route(
                cx,
                "zoom.us",
                mail_from,
                "o2.email.zoom.us",
                Some("sendgrid.info"),
                Policy::Reject,
                -480,
            );
            let mut draft = Draft::new(
                "zoom_recording",
                Client::Bulk,
                ("Zoom".to_owned(), "no-reply@zoom.us".to_owned()),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            let link = format!(
                "https://us06web.zoom.us/rec/share/{}",
                b64(cx.rng, 120).replace(['+', '/'], "_")
            );
            draft.html = Some(html_page(
                &subject,
                &format!(
                    "<p>Hi {},</p><p>Your cloud recording is now available.</p><p><a href=\"{link}\">Share recording with viewers</a></p><p>Passcode: {}</p>",
                    esc(&reader.first),
                    alnum(cx.rng, 8)
                ),
            ));
            draft.text = Some(format!(
                "Hi {},\r\n\r\nYour cloud recording is now available.\r\n{link}\r\n",
                reader.first
            ));
            draft
        }
        7 => {
            let it = cx.world.in_department(cx.rng, "IT").clone();
            let ticket = format!("INC{}", cx.rng.u32(100_000..999_999));
            let subject = format!(
                "[{ticket}] {}",
                pick(
                    cx.rng,
                    &[
                        "Ticket updated",
                        "Ticket resolved",
                        "New comment on your ticket"
                    ]
                )
            );
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "servicedesk",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "service_desk_ticket",
                Client::Application,
                (
                    "IT Service Desk".to_owned(),
                    format!("servicedesk@{CORPUS_OWN_DOMAIN}"),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            let link = format!("https://servicedesk.{CORPUS_OWN_DOMAIN}/ticket/{ticket}");
            draft.text = Some(format!(
                "Hello {},\r\n\r\n{} added a comment to {ticket}:\r\n\r\n\"{}\"\r\n\r\nView the ticket: {link}\r\n\r\nPlease do not reply to this message.\r\n",
                reader.first,
                it.display,
                pick(
                    cx.rng,
                    &[
                        "I have reset the printer queue, can you try again?",
                        "The replacement laptop is ready for collection from the IT office.",
                        "This has been escalated to the EHR vendor.",
                        "Closing as resolved; reopen if the problem comes back."
                    ]
                )
            ));
            draft
                .headers
                .push(("Auto-Submitted", "auto-generated".to_owned()));
            draft
        }
        _ => {
            let subject = pick(
                cx.rng,
                &[
                    "Discharge summary ready for sign-off",
                    "Results available: 3 new results for your patients",
                    "Reminder: 5 unsigned clinic letters",
                ],
            )
            .to_string();
            let route = Route::own_servers(
                cx.rng,
                CORPUS_OWN_DOMAIN,
                "ehr-notify",
                Client::Application,
                Policy::Quarantine,
                true,
                60,
            );
            let mut draft = Draft::new(
                "ehr_notification",
                Client::Application,
                (
                    "Medisoft EHR".to_owned(),
                    format!("ehr-notify@{CORPUS_OWN_DOMAIN}"),
                ),
                reader.mailbox(),
                subject.clone(),
                route,
            );
            draft.text = Some(format!(
                "{subject}.\r\n\r\nFor confidentiality, patient details are not included in this message. Sign in to the EHR to view them: https://ehr.{CORPUS_OWN_DOMAIN}/inbox\r\n"
            ));
            draft
                .headers
                .push(("Auto-Submitted", "auto-generated".to_owned()));
            draft
        }
    }
}

// --- Partners -------------------------------------------------------------------------

const PARTNER_TOPICS: &[(&str, &str, Attach)] = &[
    (
        "Referral: outpatient cardiology",
        "Please find attached a referral for an outpatient cardiology assessment. The patient has consented to the referral; the letter includes the recent ECG and echo results.",
        Attach::Policy,
    ),
    (
        "Data sharing agreement - draft for comment",
        "As discussed at the steering group, here is the draft data sharing agreement for the research collaboration. Our legal team has marked the clauses that still need your input.",
        Attach::Minutes,
    ),
    (
        "Bed capacity this weekend",
        "We are expecting high demand this weekend and may need to divert some elective activity. Could you let us know your likely capacity on the Saturday and Sunday?",
        Attach::Nothing,
    ),
    (
        "Joint audit results",
        "The joint audit of antimicrobial prescribing is complete. The summary report is attached; overall results are good, with two areas for improvement.",
        Attach::Policy,
    ),
    (
        "Study recruitment figures",
        "Attached are the recruitment figures by site for October. Riverside is ahead of target, well done to your team.",
        Attach::Export,
    ),
    (
        "EHR upgrade - cut-over plan",
        "Please find the updated cut-over plan attached. The downtime window is unchanged; we have added a rollback step after the data migration.",
        Attach::Minutes,
    ),
    (
        "Visit next week",
        "Just confirming our visit on {day} at {time}. We will be three people; could you let reception know?",
        Attach::Nothing,
    ),
];

fn partner_mail(cx: &mut Context<'_>, _: &mut History) -> Draft {
    // The recruitment agency writes about jobs only (`recruiter`).
    let org = choose(cx.rng, &PARTNERS[..PARTNERS.len() - 1]);
    let (first, last, title) = choose(cx.rng, org.people);
    let reader = cx.world.anyone(cx.rng).clone();
    let (subject, paragraph, attach) = choose(cx.rng, PARTNER_TOPICS);
    let s = slots(cx);
    let local = local_part(first, last);
    let route = org_route(cx, &org, &local);
    let reply = chance(cx.rng, 30);
    let subject = if reply {
        format!("RE: {subject}")
    } else {
        subject.to_owned()
    };
    let mut draft = Draft::new(
        "partner_mail",
        org.client,
        (format!("{first} {last}"), format!("{local}@{}", org.domain)),
        reader.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(2..40);
    let mut paragraphs = vec![greeting(cx, &reader.first), filled(paragraph, &s)];
    if chance(cx.rng, 50) {
        paragraphs.push((choose(cx.rng, LONGER)).to_owned());
    }
    paragraphs.push(sign_off(cx, first));
    let quoted = reply.then(|| {
        let body = format!(
            "Hi {first},\r\n\r\nThanks, could you send the details when you have them?\r\n\r\n{}",
            reader.display
        );
        match org.client {
            Client::Thunderbird | Client::Gmail => angle_quote(
                &format!(
                    "On {}, {} wrote:",
                    local_day(cx.delivered - 86_400),
                    reader.display
                ),
                &body,
            ),
            _ => outlook_quote(
                &format!("{} <{}>", reader.display, reader.address),
                &rfc2822(cx.delivered - 86_400, 60),
                &format!("{first} {last}"),
                subject.trim_start_matches("RE: "),
                &body,
            ),
        }
    });
    let signature = external_signature(first, last, title, org.name, org.domain);
    if org.client == Client::Thunderbird {
        let mut parts = paragraphs;
        parts.push(format!("-- \r\n{}", signature.text()));
        let mut text = plain(&parts);
        if let Some(q) = quoted {
            text.push_str("\r\n");
            text.push_str(&q);
        }
        draft.text = Some(text);
    } else {
        set_body(cx, &mut draft, paragraphs, signature, quoted);
    }
    let author = Person {
        first: first.to_owned(),
        last: last.to_owned(),
        display: format!("{first} {last}"),
        address: String::new(),
        department: "",
        title,
    };
    if let Some(file) = internal_attachment(cx, attach, subject.trim_start_matches("RE: "), &author)
    {
        draft.attachments.push(file);
    }
    draft
}

const LIST_TOPICS: &[(&str, &str)] = &[
    (
        "CPE screening on admission - what do others do?",
        "We are reviewing our carbapenemase-producing Enterobacterales screening policy. Do others screen all admissions from other hospitals, or only from high-prevalence areas? Any experience with the cost would be welcome.",
    ),
    (
        "COVID-19 testing of asymptomatic admissions",
        "Is anyone still testing asymptomatic admissions for COVID-19 this winter? Our committee is split and I would be interested in what others decided.",
    ),
    (
        "Job: Infection Prevention Nurse (Band 6)",
        "We are recruiting an Infection Prevention Nurse to join our team. Closing date end of the month; informal enquiries welcome by reply.",
    ),
    (
        "Norovirus ward closures - thresholds",
        "What thresholds do people use for closing a bay versus the whole ward? We had three outbreaks last winter and the decisions felt inconsistent.",
    ),
];

fn mailing_list(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let (topic, body) = choose(cx.rng, LIST_TOPICS);
    let reader = cx.world.in_department(cx.rng, "Quality and Safety").clone();
    let org = choose(cx.rng, &[PARTNERS[0], PARTNERS[1], PARTNERS[2]]);
    let (first, last, title) = choose(cx.rng, org.people);
    let poster = format!("{}@{}", local_part(first, last), org.domain);
    let subject = format!(
        "[ICF] {}{topic}",
        if chance(cx.rng, 40) { "Re: " } else { "" }
    );
    // Mailman adds its subject tag and footer, which breaks the poster's DKIM
    // signature. For posters whose domain publishes p=reject or p=quarantine it
    // rewrites From to the list; for p=none it leaves From alone, and DMARC fails.
    let munge = org.policy != Policy::Monitor;
    let list_domain = "lists.infection-control.example";
    let mut route = Route::own_servers(
        cx.rng,
        list_domain,
        "icf-bounces",
        Client::Application,
        Policy::Absent,
        true,
        0,
    );
    route.signatures = vec![
        Dkim {
            domain: org.domain.to_owned(),
            selector: selector_of(org.client),
            result: if munge { "pass" } else { "fail" },
        },
        Dkim {
            domain: list_domain.to_owned(),
            selector: "mailman",
            result: "pass",
        },
    ];
    let (from, template) = if munge {
        (
            (
                format!("{first} {last} via ICF"),
                format!("icf@{list_domain}"),
            ),
            "mailing_list",
        )
    } else {
        (
            (format!("{first} {last}"), poster.clone()),
            "mailing_list_dkim_broken",
        )
    };
    route.policy = if munge { Policy::Absent } else { org.policy };
    let mut draft = Draft::new(
        template,
        Client::Thunderbird,
        from,
        (
            "Infection Control Forum".to_owned(),
            format!("icf@{list_domain}"),
        ),
        subject,
        route,
    );
    draft.to[0] = reader.mailbox();
    draft.id_domain = org.domain.to_owned();
    draft.transit = cx.rng.i64(30..600);
    draft.reply_to = Some((
        "Infection Control Forum".to_owned(),
        format!("icf@{list_domain}"),
    ));
    draft.sender = Some(("ICF".to_owned(), format!("icf-bounces@{list_domain}")));
    draft.headers.push((
        "List-Id",
        format!("Infection Control Forum <icf.{list_domain}>"),
    ));
    draft
        .headers
        .push(("List-Post", format!("<mailto:icf@{list_domain}>")));
    draft.headers.push(("List-Unsubscribe", format!("<https://{list_domain}/mailman3/lists/icf.{list_domain}/>, <mailto:icf-leave@{list_domain}>")));
    draft.headers.push(("Precedence", "list".to_owned()));
    draft.text = Some(format!(
        "{body}\r\n\r\nThanks,\r\n{first}\r\n\r\n-- \r\n{first} {last}\r\n{title}, {}\r\n\r\n_______________________________________________\r\nICF mailing list -- icf@{list_domain}\r\nTo unsubscribe send an email to icf-leave@{list_domain}\r\n",
        org.name
    ));
    draft
}

fn auto_reply(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let org = choose(cx.rng, PARTNERS);
    let (first, last, _) = choose(cx.rng, org.people);
    let reader = cx.world.anyone(cx.rng).clone();
    let local = local_part(first, last);
    let route = org_route(cx, &org, &local);
    let original = pick(
        cx.rng,
        &[
            "Referral update",
            "Meeting papers",
            "Data sharing agreement",
            "Invoice query",
        ],
    );
    let mut draft = Draft::new(
        "auto_reply",
        org.client,
        (format!("{first} {last}"), format!("{local}@{}", org.domain)),
        reader.mailbox(),
        format!("Automatic reply: {original}"),
        route,
    );
    draft
        .headers
        .push(("Auto-Submitted", "auto-replied".to_owned()));
    draft
        .headers
        .push(("X-Auto-Response-Suppress", "All".to_owned()));
    let back = local_day(cx.delivered + 86_400 * cx.rng.i64(2..15));
    draft.text = Some(format!(
        "Thank you for your e-mail. I am out of the office until {back} with limited access to e-mail. For urgent matters please contact the main office on 01632 960000.\r\n\r\n{first}\r\n"
    ));
    draft.html = Some(format!(
        "<html><body><p>Thank you for your e-mail. I am out of the office until {back} with limited access to e-mail. For urgent matters please contact the main office on 01632 960000.</p><p>{}</p></body></html>",
        esc(first)
    ));
    draft
}

fn bounce(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let reader = cx.world.anyone(cx.rng).clone();
    let org = choose(cx.rng, PARTNERS);
    let lost = format!(
        "{}@{}",
        pick(
            cx.rng,
            &["j.smith", "admin.office", "referrals", "m.oyelaran2"]
        ),
        org.domain
    );
    let (helo, ip) = sending_host(cx.rng, org.domain, Client::Application);
    let route = Route {
        mail_from: String::new(),
        helo: helo.clone(),
        ip,
        spf: "pass",
        signatures: Vec::new(),
        policy: org.policy,
        tls: true,
        offset: org.offset,
    };
    let mut draft = Draft::new(
        "bounce",
        Client::Application,
        (
            "Mail Delivery System".to_owned(),
            format!("MAILER-DAEMON@{helo}"),
        ),
        reader.mailbox(),
        "Undelivered Mail Returned to Sender".to_owned(),
        route,
    );
    draft
        .headers
        .push(("Auto-Submitted", "auto-replied".to_owned()));
    draft.text = Some(format!(
        "This is the mail system at host {helo}.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n\
         <{lost}>: host mailstore.{} said: 550 5.1.1 <{lost}>: Recipient address rejected: User unknown in virtual mailbox table\r\n",
        org.domain
    ));
    draft.attachments.push(File::new("message/delivery-status", "details.txt", format!(
        "Reporting-MTA: dns; {helo}\r\nArrival-Date: {}\r\n\r\nFinal-Recipient: rfc822; {lost}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n",
        rfc2822(cx.delivered - 60, org.offset)
    ).into_bytes()));
    draft
}

// --- Traps ----------------------------------------------------------------------------

const FORECAST_MACRO: &str = "Attribute VB_Name = \"Module1\"\r\n\
Option Explicit\r\n\r\n\
' Rolls the forecast forward one month and refreshes the pivot tables.\r\n\
Sub RollForward()\r\n\
    Dim ws As Worksheet\r\n\
    Set ws = ThisWorkbook.Worksheets(\"Forecast\")\r\n\
    ws.Range(\"F2:F200\").Value = ws.Range(\"E2:E200\").Value\r\n\
    Dim pt As PivotTable\r\n\
    For Each pt In ThisWorkbook.Worksheets(\"Summary\").PivotTables\r\n\
        pt.RefreshTable\r\n\
    Next pt\r\n\
    MsgBox \"Forecast rolled forward.\", vbInformation\r\n\
End Sub\r\n";

/// Finance's forecast workbook really has macros.
fn finance_macro_workbook(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let author = cx.world.in_department(cx.rng, "Finance").clone();
    let reader = cx.world.other(cx.rng, &author).clone();
    let route = internal_route(cx, &author.address);
    let month = pick(cx.rng, &["October", "November"]);
    let subject = format!("Month-end forecast {month} - please update your lines");
    let mut draft = Draft::new(
        "finance_macro_workbook",
        Client::ExchangeOnPrem,
        author.mailbox(),
        reader.mailbox(),
        subject.clone(),
        route,
    );
    draft.thread = true;
    let paragraphs = vec![
        greeting(cx, &reader.first),
        "Attached is the month-end forecast workbook. Please update the lines for your cost centres in the Forecast sheet and send it back by Wednesday.".to_owned(),
        "You will need to enable macros for the Roll Forward button to work; it only copies last month's figures and refreshes the summary.".to_owned(),
        sign_off(cx, &author.first),
    ];
    set_body(
        cx,
        &mut draft,
        paragraphs,
        internal_signature(&author),
        None,
    );
    let at = cx.delivered - 3_600;
    let rows = budget_rows(cx);
    if let Ok(vba) = files::vba_project(
        at,
        &[
            ("ThisWorkbook", "Attribute VB_Name = \"ThisWorkbook\"\r\n"),
            ("Module1", FORECAST_MACRO),
        ],
    ) && let Ok(bytes) = files::workbook(&author.display, at, "Forecast", &rows, Some(&vba))
    {
        draft.attachments.push(File::new(
            files::XLSM,
            format!("Forecast_{month}_2026.xlsm"),
            bytes,
        ));
    }
    draft
}

/// A laboratory sends results in an encrypted archive, password by text message.
fn lab_encrypted_results(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let org = *PARTNERS
        .iter()
        .find(|o| o.domain == "helix-diagnostics.example")
        .unwrap_or(&PARTNERS[0]);
    let (first, last, title) = choose(cx.rng, org.people);
    let reader = cx.world.in_department(cx.rng, "Laboratory").clone();
    let local = local_part(first, last);
    let route = org_route(cx, &org, &local);
    let batch = format!("HX-{}", cx.rng.u32(10_000..99_999));
    let subject = format!("Results batch {batch} (encrypted)");
    let mut draft = Draft::new(
        "lab_encrypted_results",
        org.client,
        (format!("{first} {last}"), format!("{local}@{}", org.domain)),
        reader.mailbox(),
        subject,
        route,
    );
    let paragraphs = vec![
        greeting(cx, &reader.first),
        format!(
            "Please find attached the results for batch {batch}. As agreed, the archive is password protected; the password has been sent to your mobile by text message."
        ),
        "If you have not received it within the hour, please call the laboratory liaison line."
            .to_owned(),
        sign_off(cx, first),
    ];
    set_body(
        cx,
        &mut draft,
        paragraphs,
        external_signature(first, last, title, org.name, org.domain),
        None,
    );
    let entries = [
        (
            format!("{batch}_results.pdf"),
            cx.rng.usize(20_000..120_000),
        ),
        (format!("{batch}_results.csv"), cx.rng.usize(2_000..20_000)),
    ];
    let refs: Vec<(&str, usize)> = entries.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let at = cx.delivered - 900;
    draft.attachments.push(File::new(
        files::ZIP,
        format!("{batch}.zip"),
        files::encrypted_zip(cx.rng, &refs, at),
    ));
    draft
}

/// HR's vacancy announcement: a recruiting lure's words, from inside.
fn vacancy_announcement(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let hr = cx.world.in_department(cx.rng, "Human Resources").clone();
    let reader = cx.world.anyone(cx.rng).clone();
    let job = choose(cx.rng, JOBS);
    let route = internal_route(cx, &hr.address);
    let subject = format!("Internal vacancy: {job}");
    let mut draft = Draft::new(
        "vacancy_announcement",
        Client::ExchangeOnPrem,
        (
            "Riverside Clinic Recruitment".to_owned(),
            format!("recruitment@{CORPUS_OWN_DOMAIN}"),
        ),
        reader.mailbox(),
        subject,
        route,
    );
    draft.route.mail_from = format!("recruitment@{CORPUS_OWN_DOMAIN}");
    let paragraphs = vec![
        "Dear colleagues,".to_owned(),
        format!("We are recruiting for a {job}. This is an exciting opportunity to join a growing team. The salary is on the clinic's pay scale and the post is open to internal applicants first."),
        "The job description and person specification are on the intranet. Interviews will be held in the week of 23 November.".to_owned(),
        "To apply, send your CV and a short statement to the recruitment team by the closing date.".to_owned(),
        "Kind regards,\r\nRecruitment Team".to_owned(),
    ];
    set_body(cx, &mut draft, paragraphs, internal_signature(&hr), None);
    draft
}

/// Occupational health invites staff to the COVID-19 and flu vaccination clinic.
fn staff_vaccination_clinic(cx: &mut Context<'_>, _: &mut History) -> Draft {
    let oh = cx.world.in_department(cx.rng, "Quality and Safety").clone();
    let reader = cx.world.anyone(cx.rng).clone();
    let route = internal_route(cx, &oh.address);
    let s = slots(cx);
    let subject = filled(
        "Staff flu and COVID-19 vaccination clinic - book your slot",
        &s,
    );
    let mut draft = Draft::new(
        "staff_vaccination_clinic",
        Client::ExchangeOnPrem,
        (
            "Occupational Health".to_owned(),
            format!("occupational.health@{CORPUS_OWN_DOMAIN}"),
        ),
        reader.mailbox(),
        subject,
        route,
    );
    draft.route.mail_from = format!("occupational.health@{CORPUS_OWN_DOMAIN}");
    let paragraphs = vec![
        "Dear colleagues,".to_owned(),
        filled("This year's staff vaccination clinic opens on {day}. You can have the COVID-19 booster and the flu vaccine at the same visit.", &s),
        "Vaccination protects you, your family and our patients. Book a slot on the intranet (Occupational Health > Vaccination) or drop in to the clinic on the ground floor between 08:00 and 16:00.".to_owned(),
        "Peer vaccinators will also visit wards on night shifts.".to_owned(),
        "Occupational Health".to_owned(),
    ];
    set_body(cx, &mut draft, paragraphs, internal_signature(&oh), None);
    draft
}
