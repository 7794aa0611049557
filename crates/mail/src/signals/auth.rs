//! What the receiving mail host concluded about SPF, DKIM and DMARC, read from its
//! `Authentication-Results` (RFC 8601) and `ARC-Authentication-Results` (RFC 8617) headers.
//!
//! Anyone can write these headers: a sender can put `dmarc=pass` in its own message. Only
//! headers whose `authserv-id` is in the configured trusted list count (the receiving
//! hosts the organisation runs or rents, e.g. `mx.google.com`); every other one is
//! ignored, and with an empty list this module says nothing at all.
//!
//! Microsoft 365 writes its own `Authentication-Results` without an authserv-id
//! (`spf=pass (sender IP is …) smtp.mailfrom=…; …;compauth=pass reason=100`). Such a
//! header counts only when the trusted list holds [`UNNAMED_AUTHSERV_ID`], and then only
//! if it is the topmost `Authentication-Results` header, the one the last hop added.
//!
//! Plain `Authentication-Results` are preferred; trusted `ARC-Authentication-Results` are
//! read only when no trusted plain header is present (a journaled copy may carry only
//! the ARC set). Within the chosen headers a failure wins over a pass.

use model::{AuthHeader, Mail};

use super::impersonation::is_freemail;
use super::{EVIDENCE_VALUE_CHARS, clip, clip_bytes, registrable_domain};
use crate::{Code, Finding};

/// The trusted-list entry that stands for "the topmost header without an authserv-id",
/// which is how Microsoft 365 writes its own results.
pub const UNNAMED_AUTHSERV_ID: &str = "microsoft-365-unnamed";

/// Longest header value parsed; a real one is a few hundred bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most method results kept per header.
const MAX_RESULTS: usize = 64;
/// Most properties kept per method result.
const MAX_PROPERTIES: usize = 16;

/// One parsed `Authentication-Results` or `ARC-Authentication-Results` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthResults {
    /// Lower-cased; empty when the header has none (Microsoft 365's own).
    pub authserv_id: String,
    /// The optional version after the authserv-id (`mx.microsoft.com 1`).
    pub version: Option<u32>,
    /// The ARC instance (`i=1`), for `ARC-Authentication-Results`.
    pub arc_instance: Option<u32>,
    pub results: Vec<MethodResult>,
}

/// One `method=result` with its reason and properties, e.g.
/// `dmarc=pass (p=REJECT) header.from=who.int`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodResult {
    /// Lower-cased method name (`spf`, `dkim`, `dmarc`, `arc`, `compauth`, …), without
    /// its version.
    pub method: String,
    /// Lower-cased result (`pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`,
    /// `permerror`, `policy`, …).
    pub result: String,
    pub reason: Option<String>,
    /// `(ptype.property, value)` with lower-cased keys, in order, e.g.
    /// `("header.from", "who.int")`. Vendor extensions like Microsoft's `action=none`
    /// are kept under their bare name.
    pub properties: Vec<(String, String)>,
    /// The resinfo as written, comments included, whitespace collapsed: the evidence.
    pub raw: String,
}

impl MethodResult {
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The domain a property names: `header.i=@mail.who.int` and
    /// `smtp.mailfrom=bounce@who.int` both give the part after the `@`.
    fn property_domain(&self, key: &str) -> Option<String> {
        let value = self.property(key)?;
        let domain = value.rsplit_once('@').map_or(value, |(_, d)| d);
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        (!domain.is_empty()).then_some(domain)
    }
}

/// Parses one header value (unfolded or not). `arc` says the value belongs to an
/// `ARC-Authentication-Results` header and so starts with `i=N;`. Returns `None` when
/// nothing in it looks like authentication results. Never panics; bounded.
pub fn parse(value: &str, arc: bool) -> Option<AuthResults> {
    let value = clip_bytes(value, MAX_HEADER_BYTES);
    let mut segments = split_resinfo(value).into_iter();

    let mut arc_instance = None;
    if arc {
        let first = segments.next()?;
        let tokens = tokenize(&strip_comments(&first));
        arc_instance = match tokens.as_slice() {
            [Token::Word(i), Token::Equals, Token::Word(n)] if i.eq_ignore_ascii_case("i") => {
                n.parse().ok()
            }
            _ => None,
        };
    }

    let mut results = Vec::new();
    let mut authserv_id = String::new();
    let mut version = None;
    let mut first = true;
    for segment in segments {
        let tokens = tokenize(&strip_comments(&segment));
        if first {
            first = false;
            if !tokens.contains(&Token::Equals) {
                // authserv-id [version]
                let mut words = tokens.iter().filter_map(Token::text);
                authserv_id = words.next().unwrap_or_default().to_ascii_lowercase();
                version = words.next().and_then(|v| v.parse().ok());
                continue;
            }
            // No authserv-id: the first segment is already a result (Microsoft 365).
        }
        if results.len() < MAX_RESULTS
            && let Some(r) = method_result(&tokens, &segment)
        {
            results.push(r);
        }
    }
    if authserv_id.is_empty() && results.is_empty() {
        return None;
    }
    Some(AuthResults {
        authserv_id,
        version,
        arc_instance,
        results,
    })
}

/// Findings from the trusted receiving hosts' results about this message's From domain.
///
/// - `DmarcFail`: `dmarc=fail`.
/// - `SpfFail`: `spf=fail` or `spf=softfail`.
/// - `DkimFail`: `dkim=fail`, or signatures were checked (some dkim result other than
///   `none`) and none passed for a domain aligned with the From domain (relaxed
///   alignment: the same registrable domain).
/// - `DmarcPass` (vouches for the sender): `dmarc=pass` with `header.from` equal to the
///   From address's domain, and no `dmarc=fail` beside it. Not for free-mail domains:
///   an authenticated gmail.com address proves only that someone opened it.
pub fn check(mail: &Mail, trusted_authserv_ids: &[String]) -> Vec<Finding> {
    if trusted_authserv_ids.is_empty() {
        return Vec::new();
    }
    let trusted = trusted_results(&mail.auth_headers, trusted_authserv_ids);
    if trusted.is_empty() {
        return Vec::new();
    }
    let from_domain = mail
        .from
        .first()
        .and_then(|m| m.domain())
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase());

    let all = || {
        trusted
            .iter()
            .flat_map(|(label, r)| r.results.iter().map(move |m| (label.as_str(), m)))
    };
    let evidence = |label: &str, m: &MethodResult| {
        format!("{label}: \"{}\"", clip(&m.raw, EVIDENCE_VALUE_CHARS))
    };

    let mut findings = Vec::new();
    let dmarc_fail = all().find(|(_, m)| m.method == "dmarc" && m.result == "fail");
    if let Some((label, m)) = dmarc_fail {
        findings.push(Finding::new(Code::DmarcFail, evidence(label, m)));
    }
    if let Some((label, m)) =
        all().find(|(_, m)| m.method == "spf" && matches!(m.result.as_str(), "fail" | "softfail"))
    {
        findings.push(Finding::new(Code::SpfFail, evidence(label, m)));
    }
    if let Some((label, m)) = all().find(|(_, m)| m.method == "dkim" && m.result == "fail") {
        findings.push(Finding::new(Code::DkimFail, evidence(label, m)));
    } else if let Some(from) = &from_domain {
        let checked: Vec<_> = all()
            .filter(|(_, m)| m.method == "dkim" && m.result != "none")
            .collect();
        let aligned_pass = checked.iter().any(|(_, m)| {
            m.result == "pass" && dkim_domain(m).is_none_or(|d| relaxed_aligned(&d, from))
        });
        if let Some((label, m)) = checked.first().filter(|_| !aligned_pass) {
            findings.push(Finding::new(
                Code::DkimFail,
                format!("no DKIM pass for {from}; {}", evidence(label, m)),
            ));
        }
    }
    if dmarc_fail.is_none()
        && let Some(from) = &from_domain
        && !is_freemail(from)
        && let Some((label, m)) = all().find(|(_, m)| {
            m.method == "dmarc"
                && m.result == "pass"
                && m.property_domain("header.from").as_deref() == Some(from.as_str())
        })
    {
        findings.push(Finding::new(Code::DmarcPass, evidence(label, m)));
    }
    findings
}

/// The trusted headers' parsed results, each with the label that names it in evidence
/// (`Authentication-Results (mx.google.com)`).
fn trusted_results(headers: &[AuthHeader], trusted: &[String]) -> Vec<(String, AuthResults)> {
    let trust_unnamed = trusted.iter().any(|t| t == UNNAMED_AUTHSERV_ID);
    let is_trusted =
        |id: &str| !id.is_empty() && trusted.iter().any(|t| t.trim().eq_ignore_ascii_case(id));
    let pick = |arc: bool| {
        let mut out = Vec::new();
        let mut topmost = true;
        for h in headers.iter().filter(|h| h.arc == arc) {
            let was_topmost = std::mem::replace(&mut topmost, false);
            let Some(r) = parse(&h.value, arc) else {
                continue;
            };
            let unnamed_ok = r.authserv_id.is_empty() && trust_unnamed && was_topmost && !arc;
            if is_trusted(&r.authserv_id) || unnamed_ok {
                let name = if arc {
                    "ARC-Authentication-Results"
                } else {
                    "Authentication-Results"
                };
                let label = if r.authserv_id.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name} ({})", clip(&r.authserv_id, 100))
                };
                out.push((label, r));
            }
        }
        out
    };
    let plain = pick(false);
    if plain.is_empty() { pick(true) } else { plain }
}

/// The signing domain of a DKIM result: `header.d`, else the domain of `header.i`.
fn dkim_domain(m: &MethodResult) -> Option<String> {
    m.property_domain("header.d")
        .or_else(|| m.property_domain("header.i"))
}

/// DMARC's relaxed alignment: both domains have the same registrable domain.
fn relaxed_aligned(a: &str, b: &str) -> bool {
    registrable_domain(a) == registrable_domain(b)
}

/// Splits on `;` outside comments and quoted strings, collapsing whitespace.
fn split_resinfo(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            current.push(c);
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ';' if !quoted && depth == 0 => {
                push_segment(&mut out, &current);
                current.clear();
                continue;
            }
            _ => {}
        }
        if c.is_whitespace() {
            if !current.ends_with(' ') && !current.is_empty() {
                current.push(' ');
            }
        } else {
            current.push(c);
        }
    }
    push_segment(&mut out, &current);
    out
}

fn push_segment(out: &mut Vec<String>, segment: &str) {
    let segment = segment.trim();
    if !segment.is_empty() && out.len() <= MAX_RESULTS {
        out.push(segment.to_owned());
    }
}

/// Replaces each (possibly nested) comment by a space, leaving quoted strings alone.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => {
                depth += 1;
                out.push(' ');
            }
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
}

impl Token {
    fn text(&self) -> Option<&str> {
        match self {
            Token::Word(s) | Token::Quoted(s) => Some(s),
            Token::Equals => None,
        }
    }
}

fn tokenize(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '=' {
            chars.next();
            tokens.push(Token::Equals);
        } else if c == '"' {
            chars.next();
            let mut q = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => q.extend(chars.next()),
                    _ => q.push(c),
                }
            }
            tokens.push(Token::Quoted(q));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '=' || c == '"' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            tokens.push(Token::Word(w));
        }
    }
    tokens
}

/// `method[/version] = result [reason=value] [ptype.property=value …]`.
fn method_result(tokens: &[Token], raw: &str) -> Option<MethodResult> {
    let (method, rest) = match tokens {
        [Token::Word(m), Token::Equals, rest @ ..] => (m, rest),
        _ => return None,
    };
    let method = method
        .split('/')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (result, mut rest) = match rest {
        [Token::Word(r), rest @ ..] => (r.to_ascii_lowercase(), rest),
        _ => return None,
    };
    let mut reason = None;
    let mut properties = Vec::new();
    while let Some((key, tail)) = rest.split_first() {
        match (key, tail) {
            (Token::Word(k), [Token::Equals, v, tail @ ..]) if v.text().is_some() => {
                let key = k.trim().to_ascii_lowercase();
                let value = v.text().unwrap_or_default().to_owned();
                if key == "reason" {
                    reason = Some(value);
                } else if properties.len() < MAX_PROPERTIES {
                    properties.push((key, value));
                }
                rest = tail;
            }
            (Token::Word(k), [Token::Equals, tail @ ..]) => {
                // `key=` with an empty value.
                if properties.len() < MAX_PROPERTIES {
                    properties.push((k.trim().to_ascii_lowercase(), String::new()));
                }
                rest = tail;
            }
            _ => rest = tail,
        }
    }
    (!method.is_empty()).then(|| MethodResult {
        method,
        result,
        reason,
        properties,
        raw: raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Mailbox;

    fn r(
        method: &str,
        result: &str,
        props: &[(&str, &str)],
    ) -> (String, String, Vec<(String, String)>) {
        (
            method.into(),
            result.into(),
            props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Real header shapes: Gmail, Microsoft 365 (with and without the tenant's bare
    /// domain segments), rspamd, and the examples of RFC 8601 appendix B.
    #[test]
    fn parses_real_world_shapes() {
        type Row = (
            &'static str,
            bool,
            &'static str,
            Option<u32>,
            Vec<(String, String, Vec<(String, String)>)>,
        );
        let table: Vec<Row> = vec![
            (
                "mx.google.com;\r\n       dkim=pass header.i=@who.int header.s=sel1 header.b=AbCd+/12;\r\n       spf=pass (google.com: domain of news@who.int designates 203.0.113.7 as permitted sender) smtp.mailfrom=news@who.int;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=who.int",
                false,
                "mx.google.com",
                None,
                vec![
                    r(
                        "dkim",
                        "pass",
                        &[
                            ("header.i", "@who.int"),
                            ("header.s", "sel1"),
                            ("header.b", "AbCd+/12"),
                        ],
                    ),
                    r("spf", "pass", &[("smtp.mailfrom", "news@who.int")]),
                    r("dmarc", "pass", &[("header.from", "who.int")]),
                ],
            ),
            (
                "spf=pass (sender IP is 209.85.220.41) smtp.mailfrom=gmail.com; dkim=pass (signature was verified) header.d=gmail.com;dmarc=pass action=none header.from=gmail.com;compauth=pass reason=100",
                false,
                "",
                None,
                vec![
                    r("spf", "pass", &[("smtp.mailfrom", "gmail.com")]),
                    r("dkim", "pass", &[("header.d", "gmail.com")]),
                    r(
                        "dmarc",
                        "pass",
                        &[("action", "none"), ("header.from", "gmail.com")],
                    ),
                    r("compauth", "pass", &[]),
                ],
            ),
            (
                "spf=pass (sender IP is 123.126.97.3)\r\n smtp.mailfrom=163.com; contoso.onmicrosoft.com; dkim=pass (signature was\r\n verified) header.d=163.com;contoso.onmicrosoft.com; dmarc=pass\r\n action=none header.from=163.com;compauth=pass reason=100",
                false,
                "",
                None,
                vec![
                    r("spf", "pass", &[("smtp.mailfrom", "163.com")]),
                    r("dkim", "pass", &[("header.d", "163.com")]),
                    r(
                        "dmarc",
                        "pass",
                        &[("action", "none"), ("header.from", "163.com")],
                    ),
                    r("compauth", "pass", &[]),
                ],
            ),
            (
                "spf=softfail (sender IP is 198.51.100.7)smtp.mailfrom=gmail.com; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=who.int;compauth=fail reason=000",
                false,
                "",
                None,
                vec![
                    r("spf", "softfail", &[("smtp.mailfrom", "gmail.com")]),
                    r("dkim", "none", &[("header.d", "none")]),
                    r(
                        "dmarc",
                        "fail",
                        &[("action", "oreject"), ("header.from", "who.int")],
                    ),
                    r("compauth", "fail", &[]),
                ],
            ),
            (
                "i=1; mx.microsoft.com 1; spf=pass (sender ip is 40.107.1.2) smtp.rcpttodomain=clinic.example smtp.mailfrom=who.int; dmarc=pass (p=reject sp=reject pct=100) action=none header.from=who.int; dkim=pass (signature was verified) header.d=who.int; arc=none",
                true,
                "mx.microsoft.com",
                Some(1),
                vec![
                    r(
                        "spf",
                        "pass",
                        &[
                            ("smtp.rcpttodomain", "clinic.example"),
                            ("smtp.mailfrom", "who.int"),
                        ],
                    ),
                    r(
                        "dmarc",
                        "pass",
                        &[("action", "none"), ("header.from", "who.int")],
                    ),
                    r("dkim", "pass", &[("header.d", "who.int")]),
                    r("arc", "none", &[]),
                ],
            ),
            (
                "mail.example.org;\n\tdkim=pass header.d=shop.example header.s=sel1 header.b=AbCd1234;\n\tdmarc=pass (policy=none) header.from=shop.example;\n\tspf=pass (mail.example.org: domain of news@shop.example designates 203.0.113.9 as permitted sender) smtp.mailfrom=news@shop.example",
                false,
                "mail.example.org",
                None,
                vec![
                    r(
                        "dkim",
                        "pass",
                        &[
                            ("header.d", "shop.example"),
                            ("header.s", "sel1"),
                            ("header.b", "AbCd1234"),
                        ],
                    ),
                    r("dmarc", "pass", &[("header.from", "shop.example")]),
                    r("spf", "pass", &[("smtp.mailfrom", "news@shop.example")]),
                ],
            ),
            // RFC 8601 B.2: nothing was done.
            ("example.org 1; none", false, "example.org", Some(1), vec![]),
            // RFC 8601 B.3: a comment after the authserv-id.
            (
                "example.com; spf=pass smtp.mailfrom=example.net",
                false,
                "example.com",
                None,
                vec![r("spf", "pass", &[("smtp.mailfrom", "example.net")])],
            ),
            // RFC 8601 B.4: SMTP AUTH and SPF.
            (
                "example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n          spf=pass smtp.mailfrom=example.net",
                false,
                "example.com",
                None,
                vec![
                    r("auth", "pass", &[("smtp.auth", "sender@example.net")]),
                    r("spf", "pass", &[("smtp.mailfrom", "example.net")]),
                ],
            ),
            // RFC 8601 B.5: comments everywhere, a method version and a quoted value.
            (
                "example.com (this is a comment);\r\n  sender-id=hardfail header.from=example.com;\r\n  dkim/1=pass (good signature) header.d=\"mail-router.example.net\"",
                false,
                "example.com",
                None,
                vec![
                    r("sender-id", "hardfail", &[("header.from", "example.com")]),
                    r("dkim", "pass", &[("header.d", "mail-router.example.net")]),
                ],
            ),
            // Quoted authserv-id and a reason containing a semicolon.
            (
                "\"mx.example.org\"; dkim=fail reason=\"bad; sig\" header.d=example.com",
                false,
                "mx.example.org",
                None,
                vec![r("dkim", "fail", &[("header.d", "example.com")])],
            ),
        ];
        for (value, arc, id, version, expected) in table {
            let parsed = parse(value, arc).expect(value);
            assert_eq!(parsed.authserv_id, id, "{value}");
            assert_eq!(parsed.version, version, "{value}");
            let got: Vec<_> = parsed
                .results
                .iter()
                .map(|m| (m.method.clone(), m.result.clone(), m.properties.clone()))
                .collect();
            assert_eq!(got, expected, "{value}");
        }
    }

    #[test]
    fn keeps_reasons_and_arc_instances() {
        let p = parse(
            "i=3; mx.google.com; dkim=fail reason=\"signature; mismatch\" header.i=@x.example",
            true,
        )
        .expect("parses");
        assert_eq!(p.arc_instance, Some(3));
        assert_eq!(p.results[0].reason.as_deref(), Some("signature; mismatch"));
        // Comments may hold semicolons (rspamd, Postfix with OpenDKIM).
        let p = parse(
            "mail.example.org; dkim=pass (2048-bit key; unprotected) header.d=who.int header.i=@who.int",
            false,
        )
        .expect("parses");
        assert_eq!(p.results.len(), 1);
        assert_eq!(p.results[0].property("header.d"), Some("who.int"));
        assert_eq!(
            p.results[0].raw,
            "dkim=pass (2048-bit key; unprotected) header.d=who.int header.i=@who.int"
        );
        let p = parse("mx.example; compauth=pass reason=100", false).expect("parses");
        assert_eq!(p.results[0].reason.as_deref(), Some("100"));
    }

    #[test]
    fn garbage_never_panics_and_yields_nothing_useful() {
        for value in [
            "",
            ";;;",
            "(((",
            "\"unterminated",
            "=;=;=",
            "a=\\",
            "((a)) b; c=(d)",
            ")x=y; z",
        ] {
            let _ = parse(value, false);
            let _ = parse(value, true);
        }
        let long = "a".repeat(100_000) + "; spf=pass";
        assert!(parse(&long, false).is_some_and(|p| p.authserv_id.len() <= MAX_HEADER_BYTES));
        let many = format!("mx.example;{}", "dkim=fail;".repeat(10_000));
        assert!(parse(&many, false).is_some_and(|p| p.results.len() <= MAX_RESULTS));
    }

    fn mail(from: &str, headers: &[(&str, bool)]) -> Mail {
        Mail {
            from: vec![Mailbox {
                name: None,
                address: from.into(),
            }],
            auth_headers: headers
                .iter()
                .map(|(v, arc)| AuthHeader {
                    arc: *arc,
                    value: (*v).into(),
                })
                .collect(),
            ..Mail::default()
        }
    }

    fn codes(findings: &[Finding]) -> Vec<Code> {
        findings.iter().map(|f| f.code).collect()
    }

    const GMAIL_PASS: &str = "mx.google.com; dkim=pass header.i=@who.int header.s=s1 header.b=Ab12; spf=pass (google.com: domain of news@mail.who.int designates 203.0.113.7 as permitted sender) smtp.mailfrom=news@mail.who.int; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=who.int";
    const GMAIL_SPOOF: &str = "mx.google.com; spf=softfail (google.com: domain of transitioning x@who.int does not designate 198.51.100.7 as permitted sender) smtp.mailfrom=x@who.int; dkim=pass header.i=@evil.example; dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=who.int";
    const M365_SPOOF: &str = "spf=fail (sender IP is 198.51.100.7) smtp.mailfrom=who.int; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=who.int;compauth=fail reason=000";

    #[test]
    fn checks_only_trusted_hosts() {
        let google = vec!["mx.google.com".to_owned()];
        let m365 = vec![UNNAMED_AUTHSERV_ID.to_owned()];
        let nobody: Vec<String> = Vec::new();
        let google_cased = vec!["MX.Google.com".to_owned()];
        let table: Vec<(&str, Mail, &Vec<String>, Vec<Code>)> = vec![
            (
                "aligned pass vouches",
                mail("news@who.int", &[(GMAIL_PASS, false)]),
                &google,
                vec![Code::DmarcPass],
            ),
            (
                "nobody trusted, nothing said",
                mail("news@who.int", &[(GMAIL_SPOOF, false)]),
                &nobody,
                vec![],
            ),
            (
                "spoof from gmail's view",
                mail("x@who.int", &[(GMAIL_SPOOF, false)]),
                &google,
                vec![Code::DmarcFail, Code::SpfFail, Code::DkimFail],
            ),
            (
                "attacker's own header below the trusted one is ignored",
                mail(
                    "x@who.int",
                    &[
                        (GMAIL_SPOOF, false),
                        ("mx.evil.example; dmarc=pass header.from=who.int", false),
                    ],
                ),
                &google,
                vec![Code::DmarcFail, Code::SpfFail, Code::DkimFail],
            ),
            (
                "attacker writes a pass under the trusted id's name but the real host failed",
                mail(
                    "x@who.int",
                    &[
                        (GMAIL_SPOOF, false),
                        ("mx.google.com; dmarc=pass header.from=who.int", false),
                    ],
                ),
                &google,
                vec![Code::DmarcFail, Code::SpfFail, Code::DkimFail],
            ),
            (
                "untrusted id only",
                mail(
                    "x@who.int",
                    &[("mx.evil.example; dmarc=pass header.from=who.int", false)],
                ),
                &google,
                vec![],
            ),
            (
                "microsoft 365 unnamed, trusted",
                mail("x@who.int", &[(M365_SPOOF, false)]),
                &m365,
                vec![Code::DmarcFail, Code::SpfFail],
            ),
            (
                "microsoft 365 unnamed, not trusted",
                mail("x@who.int", &[(M365_SPOOF, false)]),
                &google,
                vec![],
            ),
            (
                "unnamed header that is not topmost is attacker-written",
                mail(
                    "x@who.int",
                    &[
                        ("mx.google.com; spf=pass smtp.mailfrom=who.int", false),
                        (M365_SPOOF, false),
                    ],
                ),
                &m365,
                vec![],
            ),
            (
                "pass for another domain does not vouch",
                mail(
                    "x@who.int",
                    &[(
                        "mx.google.com; dkim=pass header.i=@evil.example; dmarc=pass header.from=evil.example",
                        false,
                    )],
                ),
                &google,
                vec![Code::DkimFail],
            ),
            (
                "free mail passing DMARC vouches for nobody",
                mail(
                    "who.director@gmail.com",
                    &[(
                        "mx.google.com; dkim=pass header.i=@gmail.com; dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com",
                        false,
                    )],
                ),
                &google,
                vec![],
            ),
            (
                "subdomain signature is aligned",
                mail(
                    "x@who.int",
                    &[("mx.google.com; dkim=pass header.d=mail.who.int", false)],
                ),
                &google,
                vec![],
            ),
            (
                "unsigned mail is not a DKIM failure",
                mail(
                    "x@who.int",
                    &[(
                        "mx.google.com; dkim=none; spf=neutral smtp.mailfrom=who.int",
                        false,
                    )],
                ),
                &google,
                vec![],
            ),
            (
                "trusted ARC results used when no plain header is trusted",
                mail(
                    "x@who.int",
                    &[("i=1; mx.google.com; dmarc=fail header.from=who.int", true)],
                ),
                &google,
                vec![Code::DmarcFail],
            ),
            (
                "plain header preferred over ARC",
                mail(
                    "news@who.int",
                    &[
                        (GMAIL_PASS, false),
                        ("i=1; mx.google.com; dmarc=fail header.from=who.int", true),
                    ],
                ),
                &google,
                vec![Code::DmarcPass],
            ),
            (
                "trusted id matches case-insensitively",
                mail("news@who.int", &[(GMAIL_PASS, false)]),
                &google_cased,
                vec![Code::DmarcPass],
            ),
        ];
        for (name, mail, trusted, expected) in table {
            assert_eq!(codes(&check(&mail, trusted)), expected, "{name}");
        }
    }

    #[test]
    fn evidence_names_the_host_and_quotes_the_result() {
        let found = check(
            &mail("x@who.int", &[(GMAIL_SPOOF, false)]),
            &["mx.google.com".to_owned()],
        );
        let dmarc = found
            .iter()
            .find(|f| f.code == Code::DmarcFail)
            .expect("dmarc finding");
        assert_eq!(
            dmarc.evidence,
            "Authentication-Results (mx.google.com): \"dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=who.int\""
        );
        let dkim = found
            .iter()
            .find(|f| f.code == Code::DkimFail)
            .expect("dkim finding");
        assert_eq!(
            dkim.evidence,
            "no DKIM pass for who.int; Authentication-Results (mx.google.com): \"dkim=pass header.i=@evil.example\""
        );
    }
}
