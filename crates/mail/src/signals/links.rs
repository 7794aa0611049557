//! Links in a message: finding them, and what about them is a sign of phishing.
//!
//! [`extract`] collects what a reader can click (HTML anchors, image-map areas, form
//! actions, meta refreshes, and bare URLs in plain-text bodies) with the anchor text the
//! reader sees. [`check`] looks at each: IP-literal and punycode hosts, URL shorteners,
//! sign-in paths and user-info tricks, `data:` URIs, HTML forms, and anchor text that shows
//! one domain while the link goes to another. Look-alike hosts are another module's
//! business; [`hosts`] hands them over.
//!
//! Attacker HTML is malformed on purpose, so it goes through a WHATWG tokenizer
//! (html5gum: decodes `&#x68;ttp` in attributes, lower-cases tag and attribute names,
//! takes unquoted attributes, recovers from every error) rather than patterns.

use std::collections::HashSet;

use html5gum::{DefaultEmitter, HtmlString, Token, Tokenizer};
use model::Mail;
use url::{Host, Url};

use super::clip_bytes;
use crate::{Code, Finding};

/// Links kept per message. A message with more is reported with a warning; its first
/// links are still checked.
pub const MAX_LINKS: usize = 1_000;
/// Findings kept per code. One finding per distinct (code, host) already folds a
/// newsletter's 40 links into one; this bounds a message built to list thousands.
pub const MAX_FINDINGS_PER_CODE: usize = 10;
/// Characters of evidence kept, so one crafted URL cannot bloat a report.
pub const MAX_EVIDENCE_CHARS: usize = 200;
/// Characters of anchor text kept per link.
const MAX_TEXT_CHARS: usize = 500;
/// Bytes of an `href` kept (a `data:` URI can be megabytes; only its start tells anything).
const MAX_HREF_BYTES: usize = 8 * 1024;

/// Where a link was found; a form action and a meta refresh are links a reader follows
/// without reading an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Anchor,
    Area,
    /// `<form action>`; `password` when the form (or the message) has a password input.
    Form {
        password: bool,
    },
    MetaRefresh,
    /// A bare URL in a plain-text body.
    Text,
}

/// One clickable destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// As written, character references decoded, surrounding whitespace trimmed, cut at
    /// 8 KiB. Empty for a form without an action.
    pub href: String,
    /// ASCII host, lower-case, as a browser would resolve it: punycode for IDNs, a dotted
    /// quad for `http://3232235777/`, `[::1]` for IPv6. `None` for `data:` and the like.
    pub host: Option<String>,
    /// The host as a reader sees it (punycode decoded), when it differs from `host`.
    pub host_unicode: Option<String>,
    /// The URL-rewriting service the link was wrapped in (Microsoft Safe Links,
    /// Proofpoint URL Defense, Google's redirector), when `href` and `host` are the
    /// destination unwrapped from it. Every link of a Safe Links mailbox is wrapped; judged
    /// as written, each would point to outlook.com.
    pub wrapped_by: Option<&'static str>,
    /// Anchor text, tags stripped and whitespace collapsed; `None` when empty.
    pub text: Option<String>,
    pub in_html: bool,
    pub source: Source,
}

/// The links of one message and what stopped extraction early.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    pub links: Vec<Link>,
    /// E.g. the link cap was reached; to be reported with the message.
    pub warnings: Vec<String>,
}

/// Every clickable link of `mail`, HTML first, at most [`MAX_LINKS`].
pub fn extract(mail: &Mail) -> Extracted {
    let mut out = Collector::default();
    from_html(&mail.html, &mut out);
    from_text(&mail.text, &mut out);
    let mut warnings = Vec::new();
    if out.capped {
        warnings.push(format!(
            "links: more than {MAX_LINKS} links in the message; only the first {MAX_LINKS} were checked"
        ));
    }
    Extracted {
        links: out.links,
        warnings,
    }
}

/// Distinct ASCII hosts of `links`, in order of first appearance.
pub fn hosts(links: &[Link]) -> Vec<String> {
    let mut seen = HashSet::new();
    links
        .iter()
        .filter_map(|l| l.host.clone())
        .filter(|h| seen.insert(h.clone()))
        .collect()
}

#[derive(Default)]
struct Collector {
    links: Vec<Link>,
    capped: bool,
}

impl Collector {
    /// Adds a link; returns `false` once the cap is reached.
    fn push(&mut self, href: &str, text: Option<String>, in_html: bool, source: Source) -> bool {
        if self.links.len() >= MAX_LINKS {
            self.capped = true;
            return false;
        }
        let href = href.trim();
        let mut url = parse(href);
        let mut unwrapped: Option<String> = None;
        let mut wrapped_by = None;
        // Wrappers may nest (a Safe Links URL around a URL Defense one); a few levels.
        for _ in 0..3 {
            let Some((inner, wrapper)) = url.as_ref().and_then(unwrap) else {
                break;
            };
            url = parse(&inner);
            unwrapped = Some(inner);
            wrapped_by = Some(wrapper);
        }
        let href = unwrapped.as_deref().unwrap_or(href);
        if url.is_none() && !matches!(source, Source::Form { .. }) && !is_data(href) {
            // Relative links, fragments, mailto: and cid: lead nowhere an attacker chose.
            return true;
        }
        if let Some(u) = &url
            && !matches!(u.scheme(), "http" | "https" | "ftp" | "data")
            && !matches!(source, Source::Form { .. })
        {
            return true;
        }
        let host = url.as_ref().and_then(|u| u.host_str()).map(str::to_owned);
        let host_unicode = host.as_deref().and_then(|h| {
            let (unicode, result) = idna::domain_to_unicode(h);
            (result.is_ok() && unicode != h).then_some(unicode)
        });
        self.links.push(Link {
            href: clip_bytes(href, MAX_HREF_BYTES).to_owned(),
            host,
            host_unicode,
            wrapped_by,
            text: text.filter(|t| !t.is_empty()),
            in_html,
            source,
        });
        true
    }
}

/// The destination inside a link-rewriting service's URL, and the service's name.
fn unwrap(url: &Url) -> Option<(String, &'static str)> {
    let host = url.host_str()?.to_ascii_lowercase();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    if host.ends_with(".safelinks.protection.outlook.com") {
        return param("url").map(|u| (u, "Microsoft Safe Links"));
    }
    if host == "urldefense.proofpoint.com" && url.path().starts_with("/v2/url") {
        // v2 writes `%` as `-` and `/` as `_` inside `u`.
        let encoded = param("u")?.replace('-', "%").replace('_', "/");
        let decoded = url::form_urlencoded::parse(format!("u={encoded}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())?;
        return Some((decoded, "Proofpoint URL Defense"));
    }
    if host == "urldefense.com" {
        // v3: `https://urldefense.com/v3/__<url>__;<base64>!!…`; characters it replaced
        // with `*` stay `*`, which leaves the host readable.
        let path = url.as_str().split_once("/v3/__")?.1;
        let inner = path.split_once("__;").map_or(path, |(u, _)| u);
        return (!inner.is_empty()).then(|| (inner.to_owned(), "Proofpoint URL Defense"));
    }
    if matches!(host.as_str(), "www.google.com" | "google.com") && url.path() == "/url" {
        return param("q")
            .or_else(|| param("url"))
            .map(|u| (u, "Google redirect"));
    }
    None
}

/// Parses an href the way a mail client would follow it: absolute URLs as they are,
/// protocol-relative ones as https, and `www.` without a scheme as http.
fn parse(href: &str) -> Option<Url> {
    if is_data(href) {
        return None;
    }
    if let Ok(u) = Url::parse(href) {
        return Some(u);
    }
    if let Some(rest) = href.strip_prefix("//") {
        return Url::parse(&format!("https://{rest}")).ok();
    }
    if href.len() > 4
        && href
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("www."))
    {
        return Url::parse(&format!("http://{href}")).ok();
    }
    None
}

fn is_data(href: &str) -> bool {
    href.trim_start()
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
}

fn attr(tag: &html5gum::StartTag<()>, name: &str) -> Option<String> {
    tag.attributes
        .iter()
        .find(|(k, _)| k.as_slice() == name.as_bytes())
        .map(|(_, v)| lossy(&v.value))
        .map(|s| s.into_owned())
}

fn lossy(s: &HtmlString) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(s.as_slice())
}

/// An anchor whose text is still being read.
struct OpenAnchor {
    href: String,
    source: Source,
    text: String,
}

fn from_html(html: &str, out: &mut Collector) {
    if html.is_empty() {
        return;
    }
    let mut emitter = DefaultEmitter::default();
    // Without a tree builder, only this keeps `<script>` and `<style>` contents from
    // being read as tags.
    emitter.naively_switch_states(true);
    let mut anchor: Option<OpenAnchor> = None;
    let mut open_form: Option<usize> = None;
    let mut password_seen = false;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) => match tag.name.as_slice() {
                b"a" => {
                    // A new anchor ends an unclosed one, as browsers do.
                    if let Some(a) = anchor.take() {
                        finish_anchor(a, out);
                    }
                    if let Some(href) = attr(&tag, "href") {
                        anchor = Some(OpenAnchor {
                            href,
                            source: Source::Anchor,
                            text: String::new(),
                        });
                    }
                }
                b"area" => {
                    if let Some(href) = attr(&tag, "href") {
                        let alt = attr(&tag, "alt").map(|t| collapse(&t));
                        if !out.push(&href, alt, true, Source::Area) {
                            break;
                        }
                    }
                }
                b"form" => {
                    let action = attr(&tag, "action").unwrap_or_default();
                    let before = out.links.len();
                    if !out.push(&action, None, true, Source::Form { password: false }) {
                        break;
                    }
                    open_form = (out.links.len() > before).then_some(before);
                }
                b"input" => {
                    let password = attr(&tag, "type")
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("password"));
                    if password {
                        password_seen = true;
                        // An input outside any form still belongs to the last one when a
                        // script submits it; mark that one.
                        let form = open_form.or_else(|| {
                            out.links
                                .iter()
                                .rposition(|l| matches!(l.source, Source::Form { .. }))
                        });
                        if let Some(l) = form.and_then(|i| out.links.get_mut(i)) {
                            l.source = Source::Form { password: true };
                        }
                    }
                }
                b"meta" => {
                    let refresh = attr(&tag, "http-equiv")
                        .is_some_and(|h| h.trim().eq_ignore_ascii_case("refresh"));
                    if refresh
                        && let Some(target) = attr(&tag, "content").and_then(|c| refresh_url(&c))
                        && !out.push(&target, None, true, Source::MetaRefresh)
                    {
                        break;
                    }
                }
                _ => {}
            },
            Token::EndTag(tag) => match tag.name.as_slice() {
                b"a" => {
                    if let Some(a) = anchor.take()
                        && !finish_anchor(a, out)
                    {
                        break;
                    }
                }
                b"form" => open_form = None,
                _ => {}
            },
            Token::String(s) => {
                if let Some(a) = &mut anchor
                    && a.text.len() < MAX_TEXT_CHARS * 4
                {
                    a.text.push_str(&lossy(&s.value));
                }
            }
            Token::Comment(_) | Token::Doctype(_) | Token::Error(_) => {}
        }
    }
    if let Some(a) = anchor.take() {
        finish_anchor(a, out);
    }
    // A password input with no form around it at all is still a credential prompt.
    if password_seen
        && !out
            .links
            .iter()
            .any(|l| matches!(l.source, Source::Form { .. }))
    {
        out.push("", None, true, Source::Form { password: true });
    }
}

fn finish_anchor(a: OpenAnchor, out: &mut Collector) -> bool {
    let text = collapse(&a.text);
    out.push(&a.href, Some(text), true, a.source)
}

/// Whitespace runs to one space, trimmed, at most [`MAX_TEXT_CHARS`].
fn collapse(s: &str) -> String {
    let mut out = String::new();
    for word in s.split_whitespace() {
        if out.chars().count() >= MAX_TEXT_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(MAX_TEXT_CHARS) {
        Some((i, _)) => out[..i].to_owned(),
        None => out,
    }
}

/// The target of `content="5; url='https://…'"`.
fn refresh_url(content: &str) -> Option<String> {
    let (_, rest) = content.split_once([';', ','])?;
    let rest = rest.trim_start();
    let rest = if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("url")) {
        rest[3..].trim_start().strip_prefix('=')?.trim_start()
    } else {
        rest
    };
    let target = rest.trim_matches(|c: char| c == '\'' || c == '"' || c.is_whitespace());
    (!target.is_empty()).then(|| target.to_owned())
}

/// Bare `http://`, `https://` and `www.` URLs in plain text, as mail clients link them.
fn from_text(text: &str, out: &mut Collector) {
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while at < lower.len() {
        let next = ["http://", "https://", "www."]
            .iter()
            .filter_map(|p| lower[at..].find(p).map(|i| at + i))
            .min();
        let Some(start) = next else { break };
        // `www.` in the middle of a word (`awww.`) or of a URL already taken is not a start.
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.');
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '|'))
            .map_or(text.len(), |i| start + i);
        let url =
            text[start..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'']);
        if !glued && url.len() > "www.".len() && !out.push(url, None, false, Source::Text) {
            return;
        }
        at = end.max(start + 1);
        while !text.is_char_boundary(at) {
            at += 1;
        }
    }
}

/// `https://evil.example/login` as `hxxps://evil[.]example/login`: readable by a person,
/// not clickable in a report or a chat client.
pub fn defang(href: &str) -> String {
    let href = href.trim();
    let (scheme, rest) = match href.split_once("://") {
        Some((s, r)) if !s.contains(['/', '?', '#']) => (Some(s), r),
        _ => (None, href),
    };
    let scheme = scheme.map(|s| match s.to_ascii_lowercase().as_str() {
        "http" => "hxxp".to_owned(),
        "https" => "hxxps".to_owned(),
        "ftp" => "fxp".to_owned(),
        _ => s.to_owned(),
    });
    if scheme.is_none() && is_data(href) {
        return href.to_owned();
    }
    let split = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let mut out = String::with_capacity(href.len() + 8);
    if let Some(s) = scheme {
        out.push_str(&s);
        out.push_str("://");
    }
    out.push_str(&authority.replace('.', "[.]"));
    out.push_str(tail);
    out
}

/// `s` made safe to show: control and bidirectional-override characters written as
/// `[U+202E]`, cut to `max` characters (on a character boundary) with `…` when cut.
pub(crate) fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for c in s.chars() {
        if chars >= max {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) {
            let shown = format!("[U+{:04X}]", u32::from(c));
            chars += shown.len();
            out.push_str(&shown);
        } else {
            chars += 1;
            out.push(c);
        }
    }
    out
}

/// Characters that reorder how text is displayed: embeddings, overrides and isolates.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn evidence(s: &str) -> String {
    printable(s, MAX_EVIDENCE_CHARS)
}

/// URL shorteners: the destination is hidden until clicked. Bounded and built in; a
/// list to keep short, since a miss only loses a weak signal.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "j.mp",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "v.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "rb.gy",
    "s.id",
    "bl.ink",
    "lnkd.in",
    "t.ly",
    "shorte.st",
    "adf.ly",
    "tr.im",
    "qrco.de",
    "short.io",
    "bit.do",
    "clck.ru",
    "soo.gd",
    "u.to",
    "x.co",
    "po.st",
    "mcaf.ee",
    "db.tt",
    "1url.com",
    "t2m.io",
    "urlz.fr",
    "me2.kr",
    "han.gl",
    "vo.la",
    "tny.im",
    "shorturl.asia",
    "surl.li",
    "gg.gg",
    "linktr.ee",
    "tiny.one",
    "2u.pw",
    "qr.net",
    "kutt.it",
    "tinu.be",
];

/// Path segments (extension and case ignored) that name a sign-in or credential page.
const CREDENTIAL_SEGMENTS: &[&str] = &[
    "login",
    "log-in",
    "logon",
    "log_in",
    "signin",
    "sign-in",
    "sign_in",
    "wp-login",
    "verify",
    "verification",
    "validate",
    "password",
    "passwd",
    "reset-password",
    "resetpassword",
    "password-reset",
    "owa",
    "webmail",
    "account-update",
    "update-account",
    "accountupdate",
    "secure-login",
    "securelogin",
    "auth-login",
    "sso-login",
    "signon",
    "unlock-account",
    "reactivate",
];

/// Pairs of consecutive segments that together name a credential page, e.g. `/account/update`.
const CREDENTIAL_PAIRS: &[(&str, &str)] = &[
    ("account", "update"),
    ("account", "verify"),
    ("account", "confirm"),
    ("account", "suspended"),
    ("mailbox", "upgrade"),
    ("mailbox", "quota"),
];

/// The findings for `links`: at most one per distinct (code, host), at most
/// [`MAX_FINDINGS_PER_CODE`] per code.
pub fn check(links: &[Link]) -> Vec<Finding> {
    let mut out = Findings::default();
    for link in links {
        if let Source::Form { password } = link.source {
            let target = if link.href.is_empty() {
                "a form without an action".to_owned()
            } else {
                format!("a form posting to {}", defang(&link.href))
            };
            let pw = if password {
                " with a password field"
            } else {
                ""
            };
            // A search box in a newsletter is a form too; one that asks for a password
            // is how a message harvests credentials without a link.
            let code = if password {
                Code::HtmlPasswordForm
            } else {
                Code::HtmlForm
            };
            out.add(
                code,
                link.host.as_deref().unwrap_or(&link.href),
                format!("{target}{pw}"),
            );
        }
        if is_data(&link.href) {
            let media = link.href.trim()[5..]
                .split([',', ';'])
                .next()
                .unwrap_or_default();
            let media = if media.is_empty() {
                "text/plain"
            } else {
                media
            };
            out.add(
                Code::LinkDataUri,
                &media.to_ascii_lowercase(),
                format!("{} ({media})", link.href),
            );
            continue;
        }
        let Some(url) = parse(&link.href) else {
            continue;
        };
        let Some(host) = link.host.as_deref() else {
            continue;
        };
        let shown = match link.wrapped_by {
            Some(wrapper) => format!("{} (unwrapped from {wrapper})", defang(&link.href)),
            None => defang(&link.href),
        };
        match url.host() {
            Some(Host::Ipv4(ip)) => {
                let written = url_host_as_written(&link.href);
                let note = if written.is_some_and(|w| w != ip.to_string()) {
                    format!(
                        " (host is the IPv4 address {})",
                        defang_host(&ip.to_string())
                    )
                } else {
                    String::new()
                };
                out.add(Code::LinkIpLiteral, host, format!("{shown}{note}"));
            }
            Some(Host::Ipv6(_)) => out.add(Code::LinkIpLiteral, host, shown.clone()),
            _ => {}
        }
        if host.split('.').any(|label| label.starts_with("xn--")) {
            let note = link
                .host_unicode
                .as_deref()
                .map(|u| format!(" (displays as {u})"))
                .unwrap_or_default();
            out.add(Code::LinkPunycode, host, format!("{shown}{note}"));
        }
        let bare = host.strip_prefix("www.").unwrap_or(host);
        if SHORTENERS.contains(&bare) {
            out.add(Code::LinkShortener, host, shown.clone());
        }
        if !url.username().is_empty() || url.password().is_some() {
            out.add(
                Code::LinkCredentialPath,
                host,
                format!(
                    "{shown} (\"{}\" before the @ hides the real host {})",
                    url.username(),
                    defang_host(host)
                ),
            );
        } else if credential_path(&url) && !is_protected_identity(host) {
            out.add(Code::LinkCredentialPath, host, shown.clone());
        }
        if let Some(text) = link.text.as_deref()
            && matches!(link.source, Source::Anchor | Source::Area)
            && let Some(shown_host) = shown_domain(text)
        {
            let shown_reg = registrable(&shown_host);
            let real_reg = registrable(host);
            if shown_reg != real_reg {
                out.add(
                    Code::LinkTextMismatch,
                    host,
                    format!("text \"{}\" links to {shown}", printable(text, 80)),
                );
            }
        }
    }
    out.list
}

#[derive(Default)]
struct Findings {
    seen: HashSet<(Code, String)>,
    list: Vec<Finding>,
}

impl Findings {
    fn add(&mut self, code: Code, key: &str, text: String) {
        if self.list.iter().filter(|f| f.code == code).count() >= MAX_FINDINGS_PER_CODE {
            return;
        }
        if self.seen.insert((code, key.to_owned())) {
            self.list.push(Finding::new(code, evidence(&text)));
        }
    }
}

fn defang_host(host: &str) -> String {
    host.replace('.', "[.]")
}

/// The host part of an absolute href as written, before the URL parser normalised it.
fn url_host_as_written(href: &str) -> Option<&str> {
    let rest = href.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.rsplit_once(':').map_or(host, |(h, _)| h))
}

fn credential_path(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.split('.').next().unwrap_or(s))
        .collect();
    if segments.iter().any(|s| CREDENTIAL_SEGMENTS.contains(s)) {
        return true;
    }
    if segments
        .windows(2)
        .any(|w| CREDENTIAL_PAIRS.contains(&(w[0], w[1])))
    {
        return true;
    }
    // `?page=login`, `?action=signin`: the page is picked by the query.
    url.query_pairs()
        .take(50)
        .any(|(_, v)| CREDENTIAL_SEGMENTS.contains(&v.to_ascii_lowercase().as_str()))
}

/// A sign-in link to the real Microsoft or Google is how their own mail looks; the
/// look-alike check covers hosts that only resemble them.
fn is_protected_identity(host: &str) -> bool {
    let Some(reg) = registrable(host) else {
        return false;
    };
    crate::identity::BUILTIN
        .iter()
        .any(|i| i.domains.contains(&reg.as_str()))
}

/// The registrable domain (`who.int` for `www.who.int`), or the host itself for an IP
/// address or a name under no known suffix.
fn registrable(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.');
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(host.to_owned());
    }
    psl::domain_str(host).map(str::to_owned)
}

/// Top-level domains that are also common file extensions: anchor text `report.zip` is a
/// file name far more often than a domain.
const FILE_LIKE_TLDS: &[&str] = &["zip", "mov", "sh", "py", "pl", "rs", "md", "cc", "so", "ps"];

/// The host that anchor text shows, when the text is a URL (`https://www.who.int/news`)
/// or a bare domain (`who.int`, `www.who.int/covid`). `None` for ordinary words.
fn shown_domain(text: &str) -> Option<String> {
    let tokens: Vec<&str> = text.split_whitespace().take(64).collect();
    let candidate = if tokens.len() == 1 {
        tokens[0]
    } else {
        tokens.iter().copied().find(|t| {
            let l = t.to_ascii_lowercase();
            l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www.")
        })?
    };
    let candidate = candidate.trim_matches(|c: char| {
        matches!(
            c,
            '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\'' | ',' | ';' | '.' | ':'
        )
    });
    let lower = candidate.to_ascii_lowercase();
    let explicit = lower.starts_with("http://") || lower.starts_with("https://");
    let url = if explicit {
        Url::parse(candidate).ok()?
    } else {
        // A bare word with a dot: a domain only when the browser would take it as one.
        if !candidate.contains('.') || candidate.contains('@') {
            return None;
        }
        Url::parse(&format!("http://{candidate}")).ok()?
    };
    let host = url.host_str()?.trim_end_matches('.').to_owned();
    if matches!(url.host(), Some(Host::Ipv4(_) | Host::Ipv6(_))) {
        return Some(host);
    }
    let domain = psl::domain(host.as_bytes())?;
    if !domain.suffix().is_known() {
        return None;
    }
    if !explicit && !lower.starts_with("www.") {
        let tld = host.rsplit('.').next().unwrap_or_default();
        if FILE_LIKE_TLDS.contains(&tld) {
            return None;
        }
    }
    Some(host)
}

#[cfg(test)]
mod tests;
