//! Who the sender pretends to be: display names that claim an identity the address
//! does not belong to, official titles on free-mail addresses, and replies or bounces
//! sent somewhere other than the From domain.
//!
//! - `DisplayNameImpersonation`: a From or Sender display name names a protected
//!   identity ([`crate::identity::BUILTIN`] and the organisation's own, [`OwnIdentity`])
//!   while the address is outside that identity's domains, or shows an e-mail address
//!   of another registrable domain (`"ceo@clinic.org" <x@evil.example>`). Names are
//!   compared after [`normalise_display_name`] (NFKC, invisible characters removed,
//!   UTS #39 confusables folded to ASCII), so Cyrillic look-alike letters still match.
//!   A free-mail address never vouches for a brand, even the brand's own free-mail
//!   domain: Microsoft's notices do not come from an outlook.com mailbox.
//! - Short acronyms (`WHO`, `CDC`, `NHS`) match only when written in capitals; `WHO`,
//!   which is also a common word, only with context (`WHO Director`, `WHO Team`) or
//!   alone, so "Who we are" and "Dr. Who" do not match.
//! - `FreemailOfficialTitle`: a recruiting title ("Senior Recruiter", "Chargée de
//!   recrutement", "채용 담당자") in the display name or the signature, or an executive
//!   title (`CEO`, "Directeur général") in the display name, on a free-mail address
//!   ([`is_freemail`]). A signature line counts only when the title starts it (after
//!   seniority words) or follows a separator, as in "Jane Roe | Talent Acquisition",
//!   so "I talked to a recruiter" in a sentence does not.
//! - `ReplyToMismatch`: a Reply-To whose registrable domain is neither the From's, the
//!   Sender's nor the List-Id's (mailing lists set Sender or List-Id, and Reply-To, to
//!   the list).
//! - `ReturnPathMismatch`: a Return-Path of another registrable domain than From (and
//!   than Sender: a mailing list bounces to itself). Bulk senders bounce to their
//!   provider's domain all the time, hence the low weight.

use model::{Mail, Mailbox};
use unicode_normalization::UnicodeNormalization;

use super::{EVIDENCE_VALUE_CHARS, clip, registrable_domain, show_mailbox};
use crate::identity::{self, BUILTIN, IdentityKind};
use crate::{Code, Finding};

/// The protected organisation's own name and domains, from configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnIdentity {
    pub name: String,
    pub domains: Vec<String>,
}

/// Longest display name looked at, in characters after normalisation.
const MAX_NAME_CHARS: usize = 512;
/// How much of the end of the text body is searched for a signature.
const SIGNATURE_TAIL_BYTES: usize = 4096;
/// Non-empty lines at the end of the body taken as the signature when it has no `-- `.
const SIGNATURE_LINES: usize = 10;
/// Longest line that can be a signature line.
const SIGNATURE_LINE_CHARS: usize = 100;

/// All checks of this module.
pub fn check(mail: &Mail, own: &[OwnIdentity]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let senders = mail
        .from
        .iter()
        .map(|m| ("From", m))
        .chain(mail.sender.iter().map(|m| ("Sender", m)));
    for (header, mailbox) in senders {
        findings.extend(claimed_identity(header, mailbox, own));
        findings.extend(address_in_name(header, mailbox));
        findings.extend(freemail_title_in_name(header, mailbox));
    }
    findings.extend(freemail_title_in_signature(mail));
    findings.extend(reply_to_mismatch(mail));
    findings.extend(return_path_mismatch(mail));
    findings.dedup();
    findings
}

/// A display name as it would be read: NFKC, invisible and direction-control
/// characters removed, non-ASCII characters whose UTS #39 skeleton is ASCII replaced by
/// it (Cyrillic `о` → `o`), `0`/`1` between letters read as `o`/`l`, and whitespace
/// collapsed. Case is kept: acronyms are recognised by their capitals.
pub fn normalise_display_name(name: &str) -> String {
    let mut folded = String::new();
    for c in name
        .nfkc()
        .filter(|c| !is_invisible(*c))
        .take(MAX_NAME_CHARS)
    {
        if c.is_ascii() {
            folded.push(c);
            continue;
        }
        let skeleton: String = unicode_security::skeleton(&c.to_string()).collect();
        if !skeleton.is_empty() && skeleton.is_ascii() {
            folded.push_str(&skeleton);
        } else {
            folded.push(c);
        }
    }
    let chars: Vec<char> = folded.chars().collect();
    let mut out = String::with_capacity(folded.len());
    for (i, &c) in chars.iter().enumerate() {
        let letter_before = i > 0 && chars[i - 1].is_alphabetic();
        let letter_after = chars.get(i + 1).is_some_and(|c| c.is_alphabetic());
        let digit_near = (i > 0 && chars[i - 1].is_ascii_digit())
            || chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let c = match c {
            '0' | '1' if (letter_before || letter_after) && !digit_near => {
                let upper_around = [
                    i.checked_sub(1).map(|j| chars[j]),
                    chars.get(i + 1).copied(),
                ]
                .into_iter()
                .flatten()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase);
                let word_start = i == 0 || !chars[i - 1].is_alphanumeric();
                match c {
                    '1' => 'l',
                    _ if upper_around || word_start => 'O',
                    _ => 'o',
                }
            }
            '_' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Zero-width, joiner, soft-hyphen and bidirectional control characters: invisible in
/// a mail client, used to break up a name so that a plain comparison misses it.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Acronyms that are also common words and so need context to count as a claim.
const WORD_ACRONYMS: &[&str] = &["who"];
/// Words that, beside such an acronym, make it the organisation's name.
const ACRONYM_CONTEXT: &[&str] = &[
    "director",
    "director-general",
    "directeur",
    "directora",
    "directorate",
    "team",
    "équipe",
    "office",
    "headquarters",
    "secretariat",
    "regional",
    "programme",
    "program",
    "representative",
    "emergencies",
    "emergency",
    "health",
    "covid",
    "covid-19",
    "coronavirus",
    "communications",
    "department",
    "support",
    "unit",
    "desk",
    "news",
    "alert",
    "alerts",
    "update",
    "updates",
    "staff",
    "officer",
    "info",
    "information",
    "official",
    "global",
    "europe",
    "mission",
    "consultant",
];

/// One name in a display name: where it is, in characters of the normalised name.
struct NameMatch {
    start: usize,
    end: usize,
}

/// Occurrences of `needle` (lower case) in `hay` (normalised, lowered char by char) on
/// word boundaries. Hangul and other scripts without spaces between words get no
/// boundary check at their edges.
fn find_word(hay: &[char], needle: &str) -> Vec<NameMatch> {
    let needle: Vec<char> = needle.chars().collect();
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    // An edge runs into a word only when both it and its neighbour are letters or
    // digits of a script that spaces its words.
    let spaced = |c: char| c.is_alphanumeric() && !is_unspaced_script(c);
    for start in 0..=hay.len() - needle.len() {
        let end = start + needle.len();
        if hay[start..end] != needle[..] {
            continue;
        }
        let left_ok = !spaced(needle[0]) || start == 0 || !hay[start - 1].is_alphanumeric();
        let right_ok =
            !spaced(needle[needle.len() - 1]) || end == hay.len() || !hay[end].is_alphanumeric();
        if left_ok && right_ok {
            out.push(NameMatch { start, end });
        }
    }
    out
}

/// Scripts written without spaces between words (or with particles glued to nouns):
/// Hangul, CJK, kana.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}' | '\u{3040}'..='\u{30FF}' | '\u{3130}'..='\u{318F}'
        | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
}

fn lower_chars(s: &str) -> Vec<char> {
    // One lower-case char per char keeps positions aligned with the original case.
    s.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// Whether `name` (lower case) is claimed by the normalised display name.
fn claims(original: &[char], lowered: &[char], name: &str) -> bool {
    let is_acronym = name.len() <= 5 && name.chars().all(|c| c.is_ascii_lowercase());
    find_word(lowered, name).iter().any(|m| {
        if !is_acronym {
            return true;
        }
        if !original[m.start..m.end].iter().all(|c| c.is_uppercase()) {
            return false;
        }
        if !WORD_ACRONYMS.contains(&name) {
            return true;
        }
        let words: Vec<String> = lowered
            .iter()
            .collect::<String>()
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        words.len() == 1 || words.iter().any(|w| ACRONYM_CONTEXT.contains(&w.as_str()))
    })
}

/// An identity as this module compares it: built-in or the organisation's own.
struct Claimable<'a> {
    label: String,
    names: Vec<String>,
    domains: Vec<&'a str>,
    brand: bool,
}

fn claimables(own: &[OwnIdentity]) -> Vec<Claimable<'_>> {
    let own_ids = own
        .iter()
        .filter(|o| !o.name.trim().is_empty())
        .map(|o| Claimable {
            label: format!("{} (your organisation)", o.name.trim()),
            names: vec![
                lower_chars(&normalise_display_name(&o.name))
                    .into_iter()
                    .collect(),
            ],
            domains: o.domains.iter().map(String::as_str).collect(),
            brand: false,
        });
    let builtin = BUILTIN.iter().map(|id| Claimable {
        label: id.name.to_owned(),
        names: id.names.iter().map(|n| (*n).to_owned()).collect(),
        domains: id.domains.to_vec(),
        brand: id.kind == IdentityKind::MailBrand,
    });
    own_ids.chain(builtin).collect()
}

fn claimed_identity(header: &str, mailbox: &Mailbox, own: &[OwnIdentity]) -> Option<Finding> {
    let name = normalise_display_name(mailbox.name.as_deref()?);
    if name.is_empty() {
        return None;
    }
    let original: Vec<char> = name.chars().collect();
    let lowered = lower_chars(&name);
    let domain = mailbox
        .domain()
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    for id in claimables(own) {
        if !id.names.iter().any(|n| claims(&original, &lowered, n)) {
            continue;
        }
        let vouched = domain.as_deref().is_some_and(|d| {
            id.domains.iter().any(|r| identity::is_within(d, r)) && !(id.brand && is_freemail(d))
        });
        if vouched {
            return None;
        }
        return Some(Finding::new(
            Code::DisplayNameImpersonation,
            format!(
                "{header}: {} names {}, which sends from {}",
                show_mailbox(mailbox),
                id.label,
                show_domains(&id.domains)
            ),
        ));
    }
    None
}

/// The first few of an identity's domains, for evidence.
fn show_domains(domains: &[&str]) -> String {
    const SHOWN: usize = 3;
    let mut shown = domains[..domains.len().min(SHOWN)].join(", ");
    if domains.len() > SHOWN {
        shown.push_str(", …");
    }
    shown
}

/// Mailing-list hosts that write `'jane@example.com' via List` as the display name.
const LIST_HOSTS: &[&str] = &["googlegroups.com", "groups.io"];

fn address_in_name(header: &str, mailbox: &Mailbox) -> Option<Finding> {
    // Not the full normalisation: `_` and digits belong in addresses.
    let name: String = mailbox
        .name
        .as_deref()?
        .nfkc()
        .filter(|c| !is_invisible(*c))
        .take(MAX_NAME_CHARS)
        .collect();
    let real = registrable_domain(mailbox.domain()?);
    if LIST_HOSTS.contains(&real.as_str()) && name.contains(" via ") {
        return None;
    }
    let shown = addresses_in(&name).into_iter().find(|a| {
        a.rsplit_once('@')
            .is_some_and(|(_, d)| registrable_domain(d) != real)
    })?;
    Some(Finding::new(
        Code::DisplayNameImpersonation,
        format!(
            "{header}: {} shows the address {} but comes from {real}",
            show_mailbox(mailbox),
            clip(&shown, EVIDENCE_VALUE_CHARS)
        ),
    ))
}

/// E-mail addresses written in a text: `local@domain.tld`.
fn addresses_in(text: &str) -> Vec<String> {
    let local = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let host = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let mut out = Vec::new();
    for (at, _) in text.match_indices('@').take(8) {
        let before = &text[..at];
        let after = &text[at + 1..];
        let l_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| local(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let d_len: usize = after
            .chars()
            .take_while(|c| host(*c))
            .map(char::len_utf8)
            .sum();
        let domain = after[..d_len].trim_matches(|c| c == '.' || c == '-');
        let local_part = before[l_start..].trim_matches('\'');
        if !local_part.is_empty() && domain.contains('.') {
            out.push(format!("{local_part}@{}", domain.to_lowercase()));
        }
    }
    out
}

/// Free-mail providers: anyone can open an address there, so an official title on one
/// is a claim nobody checked. Registrable domains.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "passport.com",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "aim.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "protonmail.ch",
    "proton.me",
    "pm.me",
    "tutanota.com",
    "tutanota.de",
    "tuta.io",
    "tuta.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "gmx.at",
    "gmx.ch",
    "gmx.fr",
    "gmx.us",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.ru",
    "inbox.ru",
    "bk.ru",
    "list.ru",
    "internet.ru",
    "yandex.ru",
    "yandex.com",
    "ya.ru",
    "rambler.ru",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "nate.com",
    "kakao.com",
    "qq.com",
    "foxmail.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "aliyun.com",
    "zoho.com",
    "zohomail.com",
    "mail.com",
    "email.com",
    "usa.com",
    "post.com",
    "laposte.net",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "rediffmail.com",
    "hushmail.com",
    "fastmail.com",
    "gawab.com",
    "inbox.com",
    "lycos.com",
    "mail2world.com",
    "seznam.cz",
    "interia.pl",
    "wp.pl",
    "o2.pl",
    "libero.it",
    "virgilio.it",
    "terra.com.br",
    "bol.com.br",
    "uol.com.br",
];

/// Providers with a domain per country (`yahoo.co.jp`, `hotmail.fr`, `live.ca`):
/// matched by the label before the public suffix.
const FREEMAIL_FAMILIES: &[&str] = &[
    "yahoo",
    "hotmail",
    "outlook",
    "live",
    "windowslive",
    "gmx",
    "yandex",
];

/// Whether a domain belongs to a free-mail provider ([`FREEMAIL`], [`FREEMAIL_FAMILIES`]).
pub fn is_freemail(domain: &str) -> bool {
    let registrable = registrable_domain(domain);
    if FREEMAIL.contains(&registrable.as_str()) {
        return true;
    }
    let suffix = psl::suffix_str(&registrable).unwrap_or_default();
    registrable
        .strip_suffix(suffix)
        .and_then(|label| label.strip_suffix('.'))
        .is_some_and(|label| FREEMAIL_FAMILIES.contains(&label))
}

/// Titles of people who recruit, in the languages of the protected organisations.
const RECRUITING_TITLES: &[&str] = &[
    // English
    "recruiter",
    "recruiting manager",
    "recruitment manager",
    "recruitment consultant",
    "recruiting coordinator",
    "recruitment specialist",
    "talent acquisition",
    "talent partner",
    "talent scout",
    "head of talent",
    "hr manager",
    "hr director",
    "hr business partner",
    "human resources manager",
    "human resources director",
    "head of hr",
    "head of human resources",
    "hiring manager",
    "headhunter",
    "head hunter",
    "staffing manager",
    "sourcer",
    "executive search",
    // French
    "recruteur",
    "recruteuse",
    "chargé de recrutement",
    "chargée de recrutement",
    "charge de recrutement",
    "chargee de recrutement",
    "responsable du recrutement",
    "responsable recrutement",
    "responsable rh",
    "responsable des ressources humaines",
    "directeur des ressources humaines",
    "directrice des ressources humaines",
    "chasseur de têtes",
    "chasseuse de têtes",
    // Spanish
    "reclutador",
    "reclutadora",
    "responsable de selección",
    "técnico de selección",
    "técnica de selección",
    "gerente de recursos humanos",
    "director de recursos humanos",
    "directora de recursos humanos",
    "cazatalentos",
    "jefe de personal",
    // German
    "recruiterin",
    "personalvermittler",
    "personalvermittlerin",
    "personalreferent",
    "personalreferentin",
    "personalleiter",
    "personalleiterin",
    "personalberater",
    "personalberaterin",
    "headhunterin",
    "talentakquise",
    "leiter personal",
    // Korean
    "채용 담당자",
    "채용담당자",
    "채용 담당",
    "인사 담당자",
    "인사담당자",
    "인사팀장",
    "인사 팀장",
    "채용 매니저",
    "헤드헌터",
];

/// Executive titles: counted in a display name only, since small firms' owners sign
/// "CEO" from free mail honestly.
const EXECUTIVE_TITLES: &[&str] = &[
    "ceo",
    "cfo",
    "chief executive officer",
    "chief financial officer",
    "managing director",
    "director general",
    "director-general",
    "pdg",
    "directeur général",
    "directrice générale",
    "director ejecutivo",
    "directora general",
    "geschäftsführer",
    "geschäftsführerin",
    "vorstandsvorsitzender",
    "대표이사",
    "최고경영자",
];

/// Words that may come before a title at the start of a signature line.
const SENIORITY: &[&str] = &[
    "senior",
    "sr",
    "sr.",
    "lead",
    "principal",
    "chief",
    "global",
    "technical",
    "corporate",
    "executive",
    "associate",
    "junior",
    "international",
    "regional",
    "it",
    "tech",
];

fn title_in(lowered: &[char], titles: &[&str]) -> Option<String> {
    titles
        .iter()
        .find(|t| !find_word(lowered, t).is_empty())
        .map(|t| (*t).to_owned())
}

fn freemail_title_in_name(header: &str, mailbox: &Mailbox) -> Option<Finding> {
    let domain = mailbox.domain()?;
    if !is_freemail(domain) {
        return None;
    }
    let lowered = lower_chars(&normalise_display_name(mailbox.name.as_deref()?));
    let title =
        title_in(&lowered, RECRUITING_TITLES).or_else(|| title_in(&lowered, EXECUTIVE_TITLES))?;
    Some(Finding::new(
        Code::FreemailOfficialTitle,
        format!(
            "{header}: {} gives the title \"{title}\" on a free-mail address",
            show_mailbox(mailbox)
        ),
    ))
}

fn freemail_title_in_signature(mail: &Mail) -> Option<Finding> {
    let from = mail.from.first()?;
    if !is_freemail(from.domain()?) {
        return None;
    }
    for line in signature_lines(&mail.text) {
        let normalised = normalise_display_name(line);
        let lowered = lower_chars(&normalised);
        let found = RECRUITING_TITLES.iter().find(|t| {
            find_word(&lowered, t)
                .iter()
                .any(|m| title_leads(&lowered[..m.start]))
        });
        if found.is_some() {
            return Some(Finding::new(
                Code::FreemailOfficialTitle,
                format!(
                    "signature line \"{}\" from free-mail address {}",
                    clip(line, EVIDENCE_VALUE_CHARS),
                    show_mailbox(from)
                ),
            ));
        }
    }
    None
}

/// Whether what comes before a title on a signature line leaves the title leading
/// it: nothing, seniority words, or a name followed by a separator.
fn title_leads(before: &[char]) -> bool {
    let before: String = before.iter().collect();
    let trimmed = before.trim_end();
    if trimmed.ends_with([',', '|', '-', '–', '—', '/', '·', ':', '(', '•']) {
        return true;
    }
    trimmed.split_whitespace().all(|w| SENIORITY.contains(&w))
}

/// The lines of a text body's signature: after the last `-- ` line if there is one,
/// else its last non-empty lines; quoted replies (after `>` lines, "On … wrote:",
/// "-----Original Message-----", a `From:` line) are cut off first.
fn signature_lines(text: &str) -> Vec<&str> {
    let mut own = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let quoted_reply = t.starts_with('>')
            || lower.starts_with("-----original message")
            || lower.starts_with("from:")
            || lower.starts_with("de :")
            || lower.starts_with("von:")
            || (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("le ") && lower.ends_with("a écrit :"))
            || (lower.starts_with("el ") && lower.ends_with("escribió:"))
            || (lower.starts_with("am ") && lower.ends_with("schrieb:"));
        if quoted_reply {
            break;
        }
        own.push(line);
    }
    let start = own
        .iter()
        .rposition(|l| l.trim_end() == "--")
        .map_or(0, |i| i + 1);
    let tail: Vec<&str> = own[start..]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    let mut budget = SIGNATURE_TAIL_BYTES;
    tail.iter()
        .rev()
        .take(SIGNATURE_LINES)
        .filter(|l| l.chars().count() <= SIGNATURE_LINE_CHARS)
        .take_while(|l| {
            budget = budget.saturating_sub(l.len());
            budget > 0
        })
        .copied()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn from_domain(mail: &Mail) -> Option<String> {
    mail.from.first()?.domain().map(registrable_domain)
}

fn reply_to_mismatch(mail: &Mail) -> Option<Finding> {
    let from = from_domain(mail)?;
    let sender = mail
        .sender
        .as_ref()
        .and_then(Mailbox::domain)
        .map(registrable_domain);
    // A mailing list sends replies to itself: its List-Id names the list's domain.
    let list = mail.list_id.as_deref().map(registrable_domain);
    let reply_to = mail.reply_to.iter().find(|r| {
        r.domain()
            .map(registrable_domain)
            .is_some_and(|d| d != from && Some(&d) != sender.as_ref() && Some(&d) != list.as_ref())
    })?;
    let domain = registrable_domain(reply_to.domain()?);
    Some(Finding::new(
        Code::ReplyToMismatch,
        format!(
            "Reply-To: {} goes to {domain}, From is {from}",
            show_mailbox(reply_to)
        ),
    ))
}

fn return_path_mismatch(mail: &Mail) -> Option<Finding> {
    let from = from_domain(mail)?;
    let path = mail.return_path.as_deref()?.trim().trim_matches(['<', '>']);
    let (_, domain) = path.rsplit_once('@')?;
    let domain = registrable_domain(domain);
    let sender = mail
        .sender
        .as_ref()
        .and_then(Mailbox::domain)
        .map(registrable_domain);
    if domain.is_empty() || domain == from || Some(&domain) == sender.as_ref() {
        return None;
    }
    Some(Finding::new(
        Code::ReturnPathMismatch,
        format!(
            "Return-Path: <{}> bounces to {domain}, From is {from}",
            clip(path, EVIDENCE_VALUE_CHARS)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_owned),
            address: address.into(),
        }
    }

    fn from(name: &str, address: &str) -> Mail {
        Mail {
            from: vec![mailbox(Some(name), address)],
            ..Mail::default()
        }
    }

    fn codes(findings: &[Finding]) -> Vec<Code> {
        findings.iter().map(|f| f.code).collect()
    }

    fn own() -> Vec<OwnIdentity> {
        vec![OwnIdentity {
            name: "Clinique Saint-Luc".into(),
            domains: vec!["saintluc.example".into()],
        }]
    }

    #[test]
    fn normalisation_folds_what_a_reader_would_not_notice() {
        for (raw, normalised) in [
            (
                "W\u{043e}rld Health Organizati\u{043e}n",
                "World Health Organization",
            ),
            ("W\u{200b}H\u{200d}O", "WHO"),
            ("\u{202e}Microsoft", "Microsoft"),
            ("\u{FF37}\u{FF28}\u{FF2F} Team", "WHO Team"),
            ("W0rld Health 0rganization", "World Health Organization"),
            ("Micr0s0ft  365", "Microsoft 365"),
            ("COVID-19 Office 365", "COVID-19 Office 365"),
            ("Santé  Canada", "Santé Canada"),
            ("세계보건기구", "세계보건기구"),
        ] {
            assert_eq!(normalise_display_name(raw), normalised, "{raw:?}");
        }
    }

    #[test]
    fn display_names_claiming_an_identity() {
        let table: &[(&str, &str, bool)] = &[
            ("World Health Organization", "covid19@gmail.com", true),
            (
                "W\u{043e}rld Health Organizati\u{043e}n",
                "info@who-int.example",
                true,
            ),
            ("WHO", "alert@evil.example", true),
            ("WHO Director", "director@evil.example", true),
            ("WHO Health Emergencies", "x@evil.example", true),
            ("Dr. Tedros (WHO Team)", "x@evil.example", true),
            ("Organisation mondiale de la Santé", "x@evil.example", true),
            ("세계보건기구 안내", "x@evil.example", true),
            ("CDC Health Alert", "x@evil.example", true),
            ("Microsoft account team", "ms-security@outlook.com", true),
            ("Google", "alerts@gmail.com", true),
            ("LinkedIn Jobs", "jobs@linkedln.example", true),
            ("Clinique Saint-Luc IT", "it@gmail.com", true),
            // Vouched for by the real domain.
            ("World Health Organization", "news@who.int", false),
            ("WHO Team", "noreply@mail.who.int", false),
            (
                "Microsoft account team",
                "account-security-noreply@accountprotection.microsoft.com",
                false,
            ),
            ("LinkedIn", "jobs-noreply@linkedin.com", false),
            ("Clinique Saint-Luc IT", "it@saintluc.example", false),
            // Common words are not claims.
            ("Who we are", "news@shop.example", false),
            ("Dr. Who", "fan@club.example", false),
            ("Dr Who fan club", "fan@club.example", false),
            ("WHO WE ARE", "news@shop.example", false),
            ("Jane Who", "jane@example.org", false),
            ("Cdc Smith", "cdc@example.org", false),
            ("Nhsanga Tembo", "n@example.org", false),
            ("Wholesale Team", "sales@example.org", false),
            ("Indeedy Doo", "x@example.org", false),
        ];
        for (name, address, flagged) in table {
            let found = check(&from(name, address), &own());
            let got = found
                .iter()
                .any(|f| f.code == Code::DisplayNameImpersonation);
            assert_eq!(got, *flagged, "{name} <{address}>: {found:?}");
        }
    }

    #[test]
    fn impersonation_evidence_quotes_the_header() {
        let found = check(&from("World Health Organization", "covid19@gmail.com"), &[]);
        assert_eq!(
            found[0].evidence,
            "From: \"World Health Organization\" <covid19@gmail.com> names World Health Organization, which sends from who.int"
        );
        let found = check(&from("Microsoft Security", "ms@outlook.com"), &[]);
        assert_eq!(
            found[0].evidence,
            "From: \"Microsoft Security\" <ms@outlook.com> names Microsoft, which sends from microsoft.com, outlook.com, office.com, …"
        );
    }

    #[test]
    fn addresses_shown_in_display_names() {
        let table: &[(&str, &str, bool)] = &[
            ("ceo@clinic.org", "x@evil.example", true),
            ("gholy_45@hotmail.com", "xx@xx.example", true),
            (
                "Jane Roe (jane.roe@saintluc.example)",
                "jane@mailer.evil.example",
                true,
            ),
            ("jane@example.org", "jane@example.org", false),
            ("jane@example.org", "jane@mail.example.org", false),
            (
                "'jane@example.org' via Friends",
                "friends@googlegroups.com",
                false,
            ),
            ("Jane @ home", "jane@example.org", false),
        ];
        for (name, address, flagged) in table {
            let found = check(&from(name, address), &[]);
            let got = found
                .iter()
                .any(|f| f.code == Code::DisplayNameImpersonation);
            assert_eq!(got, *flagged, "{name} <{address}>: {found:?}");
        }
        let found = check(&from("ceo@clinic.org", "x@evil.example"), &[]);
        assert_eq!(
            found[0].evidence,
            "From: \"ceo@clinic.org\" <x@evil.example> shows the address ceo@clinic.org but comes from evil.example"
        );
    }

    #[test]
    fn free_mail_recognised_by_domain_and_family() {
        for (domain, free) in [
            ("gmail.com", true),
            ("yahoo.co.jp", true),
            ("hotmail.fr", true),
            ("naver.com", true),
            ("mail.ru", true),
            ("163.com", true),
            ("protonmail.com", true),
            ("who.int", false),
            ("boeing.com", false),
            ("yahoo-inc.example", false),
            ("mail.example.ru", false),
        ] {
            assert_eq!(is_freemail(domain), free, "{domain}");
        }
    }

    #[test]
    fn official_titles_in_free_mail_display_names() {
        let table: &[(&str, &str, bool)] = &[
            ("Senior Recruiter at Boeing", "boeing.jobs@gmail.com", true),
            ("Jane Roe | Talent Acquisition", "jane@outlook.com", true),
            (
                "Marie Dupont - Chargée de recrutement",
                "marie@hotmail.fr",
                true,
            ),
            ("Carlos Ruiz, Reclutador", "carlos@yahoo.es", true),
            ("Personalvermittler Schmidt", "schmidt@gmx.de", true),
            ("김민수 채용 담당자", "minsu@naver.com", true),
            ("John Smith CEO", "ceo.john@gmail.com", true),
            ("Senior Recruiter at Boeing", "jane@boeing.com", false),
            ("Jane Roe", "jane@gmail.com", false),
            ("Recruitingplus", "x@gmail.com", false),
        ];
        for (name, address, flagged) in table {
            let found = check(&from(name, address), &[]);
            let got = found.iter().any(|f| f.code == Code::FreemailOfficialTitle);
            assert_eq!(got, *flagged, "{name} <{address}>: {found:?}");
        }
    }

    #[test]
    fn official_titles_in_free_mail_signatures() {
        let table: &[(&str, &str, bool)] = &[
            (
                "Hello,\nPlease find the job description attached.\n\nBest regards,\nJane Roe\nSenior Recruiter at Boeing\n+1 555 0100",
                "gmail.com",
                true,
            ),
            (
                "Bonjour,\n\n--\nMarie Dupont\nChargée de recrutement, Airbus",
                "hotmail.fr",
                true,
            ),
            (
                "Hi,\n\nThanks\nJane Roe | Talent Acquisition | Lockheed",
                "outlook.com",
                true,
            ),
            (
                "안녕하세요.\n\n채용 담당자 김민수\n삼성전자",
                "naver.com",
                true,
            ),
            (
                "I talked to the recruiter yesterday\nCheers, Bob",
                "gmail.com",
                false,
            ),
            (
                "Sounds good.\nBob\n\nOn Mon, Jane wrote:\n> Jane Roe\n> Senior Recruiter",
                "gmail.com",
                false,
            ),
            (
                "Best regards,\nJane Roe\nSenior Recruiter at Boeing",
                "boeing.com",
                false,
            ),
        ];
        for (text, domain, flagged) in table {
            let mail = Mail {
                from: vec![mailbox(Some("Jane"), &format!("jane@{domain}"))],
                text: (*text).into(),
                ..Mail::default()
            };
            let found = check(&mail, &[]);
            let got = found.iter().any(|f| f.code == Code::FreemailOfficialTitle);
            assert_eq!(got, *flagged, "{text:?} @{domain}: {found:?}");
        }
    }

    #[test]
    fn reply_to_and_return_path_elsewhere() {
        let base = |reply_to: Option<&str>, sender: Option<&str>, return_path: Option<&str>| Mail {
            from: vec![mailbox(Some("Jane"), "jane@news.clinic.example")],
            reply_to: reply_to.map(|r| mailbox(None, r)).into_iter().collect(),
            sender: sender.map(|s| mailbox(None, s)),
            return_path: return_path.map(str::to_owned),
            ..Mail::default()
        };
        let table: Vec<(&str, Mail, Vec<Code>)> = vec![
            (
                "same domain",
                base(
                    Some("jane@clinic.example"),
                    None,
                    Some("bounce@mail.clinic.example"),
                ),
                vec![],
            ),
            (
                "reply elsewhere",
                base(Some("ceo.clinic@gmail.com"), None, None),
                vec![Code::ReplyToMismatch],
            ),
            (
                "mailing list",
                base(
                    Some("list@lists.example.org"),
                    Some("list-bounces@lists.example.org"),
                    None,
                ),
                vec![],
            ),
            (
                "bounce at an ESP",
                base(None, None, Some("<bounce-123@sendgrid.net>")),
                vec![Code::ReturnPathMismatch],
            ),
            (
                "list bounces to itself",
                base(
                    None,
                    Some("list-admin@lists.example.org"),
                    Some("list-admin@lists.example.org"),
                ),
                vec![],
            ),
            ("null return path", base(None, None, Some("<>")), vec![]),
            (
                "mailing list named by List-Id",
                Mail {
                    list_id: Some("razor-users.lists.sourceforge.net".into()),
                    ..base(Some("razor-users@lists.sourceforge.net"), None, None)
                },
                vec![],
            ),
            (
                "List-Id of another domain does not excuse a Reply-To",
                Mail {
                    list_id: Some("news.clinic.example".into()),
                    ..base(Some("ceo.clinic@gmail.com"), None, None)
                },
                vec![Code::ReplyToMismatch],
            ),
            (
                "both",
                base(Some("x@evil.example"), None, Some("x@evil.example")),
                vec![Code::ReplyToMismatch, Code::ReturnPathMismatch],
            ),
        ];
        for (name, mail, expected) in table {
            assert_eq!(codes(&check(&mail, &[])), expected, "{name}");
        }
        let found = check(
            &base(Some("ceo.clinic@gmail.com"), None, Some("b@esp.example")),
            &[],
        );
        assert_eq!(
            found
                .iter()
                .map(|f| f.evidence.as_str())
                .collect::<Vec<_>>(),
            [
                "Reply-To: <ceo.clinic@gmail.com> goes to gmail.com, From is clinic.example",
                "Return-Path: <b@esp.example> bounces to esp.example, From is clinic.example",
            ]
        );
    }

    #[test]
    fn hostile_names_are_bounded_and_never_panic() {
        let long = "WHO ".repeat(100_000);
        assert!(normalise_display_name(&long).chars().count() <= MAX_NAME_CHARS);
        let _ = check(&from(&long, "x@evil.example"), &own());
        let _ = check(&from(&"@".repeat(10_000), "x@evil.example"), &own());
        let _ = check(&from("\u{202e}\u{0301}\u{200b}", "@"), &own());
    }
}
