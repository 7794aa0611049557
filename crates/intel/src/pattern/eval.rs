//! Which parsed patterns tocsin can decide for one event, compiled into [`Evaluable`]s,
//! and the reason for every one it cannot ([`Refusal`]). A pattern is refused rather than
//! half-evaluated: a refused indicator never matches, an evaluable one never matches
//! wrongly.
//!
//! Semantics (STIX 2.1 §9): one event is one observation. Comparisons joined by AND inside
//! `[...]` must hold on the same cyber-observable object (the same address, host, file,
//! account or message), as the OASIS reference matcher also decides; joined by OR, on
//! any. An AND of comparisons on different object types can never hold and is refused.
//! Observation expressions joined by OR need either; joined by AND, both — here both in
//! the same event. The reference matcher wants two distinct observations for `[A] AND
//! [B]`; tocsin, seeing one event at a time, reads it as "both seen in this event" and
//! leaves correlating several events to the incident, as it does FOLLOWEDBY and the
//! qualifiers, which are refused.
//!
//! tocsin's own readings, where the reference matcher compares plain strings: an address
//! value may be a network (`=` and ISSUBSET both mean "inside"); a `domain-name` equality
//! also covers every name under it down to the registrable domain; the hash algorithm
//! is read in any case and spelling (`MD5`, `md5`, `SHA-256`, `SHA256`); URLs, mail
//! addresses, host names, accounts and hashes are compared in their [`crate::normal`]
//! spelling, and LIKE and MATCHES on those fields ignore case (their values are
//! case-insensitive); observed IPv4-mapped IPv6 addresses (`::ffff:198.51.100.7`) are
//! IPv4 addresses, and an `ipv6-addr` indicator inside `::ffff:0:0/96` is refused with
//! that advice; a /0 network is refused (it would match every event).
//!
//! A comparison on a property the event lacks is false, negated or not (STIX: `!=` holds
//! only when the property is present). A pattern that could hold with no positive
//! comparison holding (`!=`, NOT alone, in any alternative) is refused: the index finds
//! candidates through positive comparisons only.

use std::borrow::Cow;
use std::cell::Cell;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};

use super::{Comparison, ComparisonExpr, Constant, ObservationExpr, Operator, PathStep, Pattern};
use crate::normal;
use crate::observed::{Observed, ObservedFile};

/// Compiled regular expressions (MATCHES, warning lists) stay below this many bytes each.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why tocsin does not evaluate a pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    pub reason: String,
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        reason: reason.into(),
    })
}

/// The object paths tocsin observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    EmailAddr,
    From,
    Sender,
    Subject,
    FileName,
    Md5,
    Sha1,
    Sha256,
    AccountLogin,
    UserId,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Ipv4,
        Field::Ipv6,
        Field::Domain,
        Field::Url,
        Field::EmailAddr,
        Field::From,
        Field::Sender,
        Field::Subject,
        Field::FileName,
        Field::Md5,
        Field::Sha1,
        Field::Sha256,
        Field::AccountLogin,
        Field::UserId,
    ];

    /// The object path as STIX writes it, for [`crate::Match::field`].
    pub fn path(self) -> &'static str {
        match self {
            Field::Ipv4 => "ipv4-addr:value",
            Field::Ipv6 => "ipv6-addr:value",
            Field::Domain => "domain-name:value",
            Field::Url => "url:value",
            Field::EmailAddr => "email-addr:value",
            Field::From => "email-message:from_ref.value",
            Field::Sender => "email-message:sender_ref.value",
            Field::Subject => "email-message:subject",
            Field::FileName => "file:name",
            Field::Md5 => "file:hashes.MD5",
            Field::Sha1 => "file:hashes.'SHA-1'",
            Field::Sha256 => "file:hashes.'SHA-256'",
            Field::AccountLogin => "user-account:account_login",
            Field::UserId => "user-account:user_id",
        }
    }

    /// The field of a STIX object path, if tocsin observes it.
    pub fn from_path(path: &super::ObjectPath) -> Option<Field> {
        let keys: Option<Vec<&str>> = path
            .steps
            .iter()
            .map(|step| match step {
                PathStep::Key(key) => Some(key.as_str()),
                _ => None,
            })
            .collect();
        let keys = keys?;
        let field = match (path.object_type.as_str(), keys.as_slice()) {
            ("ipv4-addr", ["value"]) => Field::Ipv4,
            ("ipv6-addr", ["value"]) => Field::Ipv6,
            ("domain-name", ["value"]) => Field::Domain,
            ("url", ["value"]) => Field::Url,
            ("email-addr", ["value"]) => Field::EmailAddr,
            ("email-message", ["from_ref", "value"]) => Field::From,
            ("email-message", ["sender_ref", "value"]) => Field::Sender,
            ("email-message", ["subject"]) => Field::Subject,
            ("file", ["name"]) => Field::FileName,
            ("file", ["hashes", algorithm]) => {
                match algorithm.to_ascii_uppercase().replace('-', "").as_str() {
                    "MD5" => Field::Md5,
                    "SHA1" => Field::Sha1,
                    "SHA256" => Field::Sha256,
                    _ => return None,
                }
            }
            ("user-account", ["account_login"]) => Field::AccountLogin,
            ("user-account", ["user_id"]) => Field::UserId,
            _ => return None,
        };
        Some(field)
    }

    /// The STIX object type the field belongs to: comparisons joined by AND must hold on
    /// one object of one type.
    pub fn object_type(self) -> &'static str {
        match self {
            Field::Ipv4 => "ipv4-addr",
            Field::Ipv6 => "ipv6-addr",
            Field::Domain => "domain-name",
            Field::Url => "url",
            Field::EmailAddr => "email-addr",
            Field::From | Field::Sender | Field::Subject => "email-message",
            Field::FileName | Field::Md5 | Field::Sha1 | Field::Sha256 => "file",
            Field::AccountLogin | Field::UserId => "user-account",
        }
    }

    /// Whether observed values of this field are already lower case (normalised), so
    /// LIKE and MATCHES compare without case.
    pub fn case_insensitive(self) -> bool {
        matches!(
            self,
            Field::Ipv6
                | Field::Domain
                | Field::EmailAddr
                | Field::From
                | Field::Sender
                | Field::Md5
                | Field::Sha1
                | Field::Sha256
                | Field::AccountLogin
                | Field::UserId
        )
    }

    /// Whether observed values are ASCII only (punycode hosts, percent-escaped URLs).
    pub fn is_ascii_only(self) -> bool {
        // Mail addresses keep a Unicode local part; only their domain is punycode.
        matches!(self, Field::Domain | Field::Url)
    }

    pub fn is_address(self) -> bool {
        matches!(self, Field::Ipv4 | Field::Ipv6)
    }

    /// The event's values of this field as text: what LIKE, MATCHES and equality see.
    pub fn values<'a>(self, seen: &'a Observed) -> Vec<Cow<'a, str>> {
        let mut out: Vec<Cow<'a, str>> = Vec::new();
        match self {
            Field::Ipv4 | Field::Ipv6 => {
                for ip in seen.ips.iter().map(|ip| ip.to_canonical()) {
                    if ip.is_ipv4() == (self == Field::Ipv4) {
                        out.push(Cow::Owned(ip.to_string()));
                    }
                }
            }
            Field::Domain => out.extend(seen.hosts.iter().map(|h| Cow::Borrowed(h.as_str()))),
            Field::Url => out.extend(seen.urls.iter().map(|u| Cow::Borrowed(u.as_str()))),
            Field::EmailAddr => {
                out.extend(seen.email_addrs.iter().map(|e| Cow::Borrowed(e.as_str())));
            }
            Field::From => out.extend(seen.from.as_deref().map(Cow::Borrowed)),
            Field::Sender => out.extend(seen.sender.as_deref().map(Cow::Borrowed)),
            Field::Subject => out.extend(seen.subject.as_deref().map(Cow::Borrowed)),
            Field::FileName => {
                out.extend(
                    seen.files
                        .iter()
                        .filter_map(|f| f.name.as_deref().map(Cow::Borrowed)),
                );
            }
            Field::Md5 => {
                out.extend(
                    seen.files
                        .iter()
                        .filter_map(|f| f.md5.as_deref().map(Cow::Borrowed)),
                );
            }
            Field::Sha1 => {
                out.extend(
                    seen.files
                        .iter()
                        .filter_map(|f| f.sha1.as_deref().map(Cow::Borrowed)),
                );
            }
            Field::Sha256 => out.extend(
                seen.files
                    .iter()
                    .filter(|f| !f.sha256.is_empty())
                    .map(|f| Cow::Borrowed(f.sha256.as_str())),
            ),
            Field::AccountLogin | Field::UserId => {
                out.extend(seen.accounts.iter().map(|a| Cow::Borrowed(a.as_str())));
            }
        }
        out
    }
}

/// One comparison as tocsin evaluates it.
#[derive(Clone, Debug)]
pub struct Atom {
    pub field: Field,
    /// True for `!=`, `NOT =`, `NOT LIKE`, ...: holds when the property is present and the
    /// test fails.
    pub negated: bool,
    pub test: Test,
}

#[derive(Clone, Debug)]
pub enum Test {
    /// Inside one of these networks (`=`, `IN`, `ISSUBSET` on addresses).
    Networks(Vec<IpNet>),
    /// One of these normalised values, sorted; for [`Field::Domain`] also a name under one.
    Values(Vec<String>),
    Like(Like),
    Matches(Regex),
}

/// An SQL LIKE pattern: `%` any run of characters, `_` one character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Like {
    pattern: Vec<char>,
    /// The longest run of literal characters: a value can only match if it contains it.
    pub fragment: String,
}

impl Like {
    pub fn new(pattern: &str) -> Like {
        let fragment = pattern
            .split(['%', '_'])
            .max_by_key(|run| run.len())
            .unwrap_or("")
            .to_string();
        Like {
            pattern: pattern.chars().collect(),
            fragment,
        }
    }

    /// Greedy matching with one back-tracking point (the last `%`): linear in practice,
    /// at worst pattern × value, both bounded.
    pub fn is_match(&self, value: &str) -> bool {
        let text: Vec<char> = value.chars().collect();
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.pattern.get(p) {
                Some('%') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some('_') => {
                    p += 1;
                    t += 1;
                }
                Some(&c) if c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.pattern[p.min(self.pattern.len())..]
            .iter()
            .all(|&c| c == '%')
    }
}

/// What in the event made a pattern match: the field and its observed value (the host,
/// not the parent domain the indicator named).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    pub field: Field,
    pub observed: String,
}

#[derive(Clone, Debug)]
enum Obs {
    One(Cond),
    And(Vec<Obs>),
    Or(Vec<Obs>),
}

#[derive(Clone, Debug)]
enum Cond {
    Atom(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// A pattern tocsin can decide for one event.
#[derive(Clone, Debug)]
pub struct Evaluable {
    root: Obs,
    atoms: Vec<Atom>,
}

/// Decides whether tocsin can evaluate `pattern`, and compiles it if so.
pub fn compile(pattern: &Pattern) -> Result<Evaluable, Refusal> {
    let mut atoms = Vec::new();
    let root = compile_obs(&pattern.root, &mut atoms)?;
    let compiled = Evaluable { root, atoms };
    if !compiled.obs_anchored(&compiled.root) {
        return refuse(
            "no positive comparison: a pattern (or one alternative of it) made only of `!=` or NOT comparisons would match almost every event",
        );
    }
    Ok(compiled)
}

fn compile_obs(expr: &ObservationExpr, atoms: &mut Vec<Atom>) -> Result<Obs, Refusal> {
    match expr {
        ObservationExpr::Observation(cond) => {
            let cond = compile_cond(cond, atoms)?;
            let types = object_types(&cond, atoms);
            if types.is_empty() {
                let mut named: Vec<&str> = atoms_of(&cond)
                    .iter()
                    .map(|&i| atoms[i].field.object_type())
                    .collect();
                named.sort_unstable();
                named.dedup();
                return refuse(format!(
                    "comparisons joined by AND are on different objects ({}); STIX 2.1 requires them to hold on one object, which cannot happen",
                    named.join(", ")
                ));
            }
            Ok(Obs::One(cond))
        }
        ObservationExpr::And(operands) => Ok(Obs::And(
            operands
                .iter()
                .map(|o| compile_obs(o, atoms))
                .collect::<Result<_, _>>()?,
        )),
        ObservationExpr::Or(operands) => Ok(Obs::Or(
            operands
                .iter()
                .map(|o| compile_obs(o, atoms))
                .collect::<Result<_, _>>()?,
        )),
        ObservationExpr::FollowedBy(..) => refuse(
            "FOLLOWEDBY needs an ordered sequence of events; tocsin evaluates one event at a time",
        ),
        ObservationExpr::Qualified(_, qualifier) => refuse(match qualifier {
            super::Qualifier::Within(_) => {
                "WITHIN n SECONDS relates several events in time; tocsin evaluates one event at a time"
            }
            super::Qualifier::Repeats(_) => {
                "REPEATS n TIMES counts events; tocsin evaluates one event at a time"
            }
            super::Qualifier::StartStop(..) => {
                "START/STOP bounds when observations were made; tocsin evaluates one event at a time (the indicator's valid_from/valid_until bound it instead)"
            }
        }),
    }
}

fn compile_cond(expr: &ComparisonExpr, atoms: &mut Vec<Atom>) -> Result<Cond, Refusal> {
    match expr {
        ComparisonExpr::And(operands) => Ok(Cond::And(
            operands
                .iter()
                .map(|c| compile_cond(c, atoms))
                .collect::<Result<_, _>>()?,
        )),
        ComparisonExpr::Or(operands) => Ok(Cond::Or(
            operands
                .iter()
                .map(|c| compile_cond(c, atoms))
                .collect::<Result<_, _>>()?,
        )),
        ComparisonExpr::Exists { path, .. } => refuse(format!(
            "EXISTS {path} only tests that a property is present; tocsin does not evaluate it"
        )),
        ComparisonExpr::Comparison(comparison) => {
            let atom = compile_atom(comparison)?;
            atoms.push(atom);
            Ok(Cond::Atom(atoms.len() - 1))
        }
    }
}

fn compile_atom(comparison: &Comparison) -> Result<Atom, Refusal> {
    let path = &comparison.path;
    let Some(field) = Field::from_path(path) else {
        return refuse(format!("tocsin does not observe `{path}`"));
    };
    let operator = comparison.operator;
    let negated = comparison.negated != (operator == Operator::Ne);
    if matches!(operator, Operator::Like | Operator::Matches)
        && field.is_ascii_only()
        && let Constant::String(text) = &comparison.value
        && !text.is_ascii()
    {
        return refuse(format!(
            "{operator} '{}' has non-ASCII text, but `{path}` is compared in its ASCII form (punycode, percent-escapes), where it can never match",
            short(text)
        ));
    }
    let test = match operator {
        Operator::Eq | Operator::Ne => {
            Test::Values(vec![text_of(field, &comparison.value)?.into()])
        }
        Operator::In => {
            let Constant::Set(members) = &comparison.value else {
                return refuse("IN needs a list");
            };
            if members.is_empty() {
                return refuse("IN () lists no value");
            }
            let mut values = Vec::with_capacity(members.len());
            for member in members {
                values.push(text_of(field, member)?.to_string());
            }
            Test::Values(values)
        }
        Operator::IsSubset => {
            if !field.is_address() {
                return refuse(format!(
                    "ISSUBSET compares networks; `{path}` is not an address"
                ));
            }
            Test::Values(vec![text_of(field, &comparison.value)?.into()])
        }
        Operator::Like => {
            let Constant::String(like) = &comparison.value else {
                return refuse("LIKE needs a string");
            };
            let like = if field.case_insensitive() {
                like.to_lowercase()
            } else {
                like.clone()
            };
            let compiled = Like::new(&like);
            if compiled.fragment.is_empty() {
                return refuse(format!(
                    "LIKE '{like}' has no literal text, so it would match almost any value"
                ));
            }
            Test::Like(compiled)
        }
        Operator::Matches => {
            let Constant::String(expression) = &comparison.value else {
                return refuse("MATCHES needs a string");
            };
            let regex = RegexBuilder::new(expression)
                .case_insensitive(field.case_insensitive())
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .or_else(|e| {
                    let why = e.to_string();
                    let why = why.lines().last().unwrap_or("").trim();
                    refuse(format!(
                        "MATCHES '{}' cannot be compiled here (no look-around or back-references): {why}",
                        short(expression)
                    ))
                })?;
            if regex.is_match("") {
                return refuse(format!(
                    "MATCHES '{}' matches an empty value, so it would match every event",
                    short(expression)
                ));
            }
            Test::Matches(regex)
        }
        Operator::Lt | Operator::Gt | Operator::Le | Operator::Ge => {
            return refuse(format!(
                "ordering ({operator}) on `{path}` is not evaluated"
            ));
        }
        Operator::IsSuperset => {
            return refuse(
                "ISSUPERSET asks whether the observed network contains the constant; tocsin observes single addresses",
            );
        }
    };
    let test = match test {
        Test::Values(values) => normalise(field, values)?,
        other => other,
    };
    Ok(Atom {
        field,
        negated,
        test,
    })
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn text_of(field: Field, constant: &Constant) -> Result<&str, Refusal> {
    match constant {
        Constant::String(s) => Ok(s),
        other => refuse(format!(
            "`{}` holds text; {other} is not a string",
            field.path()
        )),
    }
}

/// The indicator's values in the spelling the event's values have.
fn normalise(field: Field, values: Vec<String>) -> Result<Test, Refusal> {
    if field.is_address() {
        let mut networks = Vec::with_capacity(values.len());
        for value in values {
            networks.push(network(field, &value)?);
        }
        return Ok(Test::Networks(networks));
    }
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        let normal = match field {
            Field::Domain => {
                if value.contains(char::is_whitespace) {
                    None
                } else {
                    normal::domain(&value)
                }
            }
            .ok_or_else(|| format!("'{}' is not a domain name", short(&value))),
            Field::Url => {
                normal::url(&value).ok_or_else(|| format!("'{}' is not a URL", short(&value)))
            }
            Field::EmailAddr | Field::From | Field::Sender => normal::email(&value)
                .ok_or_else(|| format!("'{}' is not a mail address", short(&value))),
            Field::Md5 | Field::Sha1 | Field::Sha256 => {
                let (name, len) = match field {
                    Field::Md5 => ("MD5", 32),
                    Field::Sha1 => ("SHA-1", 40),
                    _ => ("SHA-256", 64),
                };
                normal::hash(&value)
                    .filter(|h| h.len() == len)
                    .ok_or_else(|| format!("'{}' is not a valid {name} hash", short(&value)))
            }
            Field::AccountLogin | Field::UserId => Ok(value.to_lowercase()),
            _ => Ok(value),
        };
        out.push(normal.or_else(refuse)?);
    }
    out.sort_unstable();
    out.dedup();
    Ok(Test::Values(out))
}

/// An address or network of the field's family; a single address is a /32 or /128.
pub fn network(field: Field, value: &str) -> Result<IpNet, Refusal> {
    let value = value.trim();
    let net = match value.parse::<IpNet>() {
        Ok(net) => net.trunc(),
        Err(_) => match value.parse::<IpAddr>() {
            Ok(ip) => IpNet::from(ip),
            Err(_) => {
                return refuse(format!("'{}' is not an address or network", short(value)));
            }
        },
    };
    match (field, net) {
        (Field::Ipv4, IpNet::V4(_)) => {}
        (Field::Ipv6, IpNet::V6(v6)) => {
            if v6.prefix_len() >= 96 && v6.network().to_ipv4_mapped().is_some() {
                return refuse(format!(
                    "'{value}' is an IPv4-mapped IPv6 address; tocsin reads those as IPv4, so write it as ipv4-addr"
                ));
            }
        }
        _ => {
            return refuse(format!(
                "'{}' is not an {} address or network",
                short(value),
                if field == Field::Ipv4 { "IPv4" } else { "IPv6" }
            ));
        }
    }
    if net.prefix_len() == 0 {
        return refuse(format!(
            "'{value}' covers every address; a /0 would match every event"
        ));
    }
    Ok(net)
}

fn atoms_of(cond: &Cond) -> Vec<usize> {
    match cond {
        Cond::Atom(i) => vec![*i],
        Cond::And(operands) | Cond::Or(operands) => operands.iter().flat_map(atoms_of).collect(),
    }
}

/// The object types one object could have and satisfy `cond`: OR is a union, AND an
/// intersection (STIX 2.1: comparisons joined by AND hold on the same object).
fn object_types(cond: &Cond, atoms: &[Atom]) -> Vec<&'static str> {
    match cond {
        Cond::Atom(i) => atoms
            .get(*i)
            .map(|a| a.field.object_type())
            .into_iter()
            .collect(),
        Cond::Or(operands) => {
            let mut out = Vec::new();
            for t in operands.iter().flat_map(|o| object_types(o, atoms)) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
            out
        }
        Cond::And(operands) => {
            let mut out = match operands.first() {
                Some(first) => object_types(first, atoms),
                None => Vec::new(),
            };
            for operand in operands.iter().skip(1) {
                let other = object_types(operand, atoms);
                out.retain(|t| other.contains(t));
            }
            out
        }
    }
}

/// One object of the event, as STIX would describe it.
#[derive(Clone, Copy)]
enum Object<'a> {
    Ip(IpAddr),
    Text(&'static str, &'a str),
    Message,
    File(&'a ObservedFile),
}

enum Property<'a> {
    Ip(IpAddr),
    Text(&'a str),
}

fn objects<'a>(object_type: &'static str, seen: &'a Observed, out: &mut Vec<Object<'a>>) {
    match object_type {
        "ipv4-addr" | "ipv6-addr" => {
            for ip in seen.ips.iter().map(|ip| ip.to_canonical()) {
                if ip.is_ipv4() == (object_type == "ipv4-addr") {
                    out.push(Object::Ip(ip));
                }
            }
        }
        "domain-name" => out.extend(seen.hosts.iter().map(|h| Object::Text(object_type, h))),
        "url" => out.extend(seen.urls.iter().map(|u| Object::Text(object_type, u))),
        "email-addr" => out.extend(
            seen.email_addrs
                .iter()
                .map(|e| Object::Text(object_type, e)),
        ),
        "email-message"
            if seen.from.is_some() || seen.sender.is_some() || seen.subject.is_some() =>
        {
            out.push(Object::Message);
        }
        "file" => out.extend(seen.files.iter().map(Object::File)),
        "user-account" => out.extend(seen.accounts.iter().map(|a| Object::Text(object_type, a))),
        _ => {}
    }
}

fn property<'a>(field: Field, object: Object<'a>, seen: &'a Observed) -> Option<Property<'a>> {
    if field.object_type() != object_type_of(object) {
        return None;
    }
    match (field, object) {
        (_, Object::Ip(ip)) => Some(Property::Ip(ip)),
        (_, Object::Text(_, text)) => Some(Property::Text(text)),
        (Field::From, Object::Message) => seen.from.as_deref().map(Property::Text),
        (Field::Sender, Object::Message) => seen.sender.as_deref().map(Property::Text),
        (Field::Subject, Object::Message) => seen.subject.as_deref().map(Property::Text),
        (Field::FileName, Object::File(f)) => f.name.as_deref().map(Property::Text),
        (Field::Md5, Object::File(f)) => f.md5.as_deref().map(Property::Text),
        (Field::Sha1, Object::File(f)) => f.sha1.as_deref().map(Property::Text),
        (Field::Sha256, Object::File(f)) => {
            (!f.sha256.is_empty()).then_some(Property::Text(f.sha256.as_str()))
        }
        _ => None,
    }
}

fn object_type_of(object: Object<'_>) -> &'static str {
    match object {
        Object::Ip(IpAddr::V4(_)) => "ipv4-addr",
        Object::Ip(IpAddr::V6(_)) => "ipv6-addr",
        Object::Text(t, _) => t,
        Object::Message => "email-message",
        Object::File(_) => "file",
    }
}

impl Atom {
    /// Whether the test (before negation) holds for one value of the field.
    pub fn test_text(&self, value: &str) -> bool {
        match &self.test {
            Test::Networks(networks) => value
                .parse::<IpAddr>()
                .is_ok_and(|ip| networks.iter().any(|n| n.contains(&ip.to_canonical()))),
            Test::Values(values) => {
                if self.field == Field::Domain {
                    normal::parents(value)
                        .any(|name| values.binary_search_by(|v| v.as_str().cmp(name)).is_ok())
                } else {
                    values.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
                }
            }
            Test::Like(like) => like.is_match(value),
            Test::Matches(regex) => regex.is_match(value),
        }
    }

    fn test_property(&self, property: &Property<'_>) -> bool {
        match (property, &self.test) {
            (Property::Ip(ip), Test::Networks(networks)) => networks.iter().any(|n| n.contains(ip)),
            (Property::Ip(ip), _) => self.test_text(&ip.to_string()),
            (Property::Text(text), _) => self.test_text(text),
        }
    }
}

fn observed_text(property: &Property<'_>) -> String {
    match property {
        Property::Ip(ip) => ip.to_string(),
        Property::Text(text) => (*text).to_string(),
    }
}

impl Evaluable {
    /// Every comparison, in pattern order; the index registers the positive ones.
    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    /// One observation whose comparisons are positive equalities (or networks) joined by
    /// OR: any one found in the event is a match, with no further evaluation.
    pub fn is_simple(&self) -> bool {
        fn simple(cond: &Cond, atoms: &[Atom]) -> bool {
            match cond {
                Cond::Atom(i) => atoms.get(*i).is_some_and(|a| {
                    !a.negated && matches!(a.test, Test::Values(_) | Test::Networks(_))
                }),
                Cond::Or(operands) => operands.iter().all(|o| simple(o, atoms)),
                Cond::And(..) => false,
            }
        }
        matches!(&self.root, Obs::One(cond) if simple(cond, &self.atoms))
    }

    /// Whether the pattern can only hold when one of its positive comparisons holds, so
    /// that looking up positive comparisons finds every event it matches.
    fn obs_anchored(&self, obs: &Obs) -> bool {
        match obs {
            Obs::One(cond) => self.cond_anchored(cond),
            Obs::And(operands) => operands.iter().any(|o| self.obs_anchored(o)),
            Obs::Or(operands) => operands.iter().all(|o| self.obs_anchored(o)),
        }
    }

    fn cond_anchored(&self, cond: &Cond) -> bool {
        match cond {
            Cond::Atom(i) => self.atoms.get(*i).is_some_and(|a| !a.negated),
            Cond::And(operands) => operands.iter().any(|c| self.cond_anchored(c)),
            Cond::Or(operands) => operands.iter().all(|c| self.cond_anchored(c)),
        }
    }

    /// Whether the event matches, and what in it did.
    pub fn evaluate(&self, seen: &Observed) -> Option<Witness> {
        self.evaluate_within(seen, &Cell::new(usize::MAX))
    }

    /// [`Evaluable::evaluate`] spending at most `budget` comparisons, shared by the
    /// patterns of one event so that no feed can make one event's work unbounded. When
    /// the budget runs out the answer is "no match" and `budget` is left at 0.
    pub fn evaluate_within(&self, seen: &Observed, budget: &Cell<usize>) -> Option<Witness> {
        self.eval_obs(&self.root, seen, budget)?
    }

    /// `Some(witness)` when the observation expression holds; the witness is `None` when
    /// only negated comparisons held on that side.
    fn eval_obs(
        &self,
        obs: &Obs,
        seen: &Observed,
        budget: &Cell<usize>,
    ) -> Option<Option<Witness>> {
        match obs {
            Obs::One(cond) => {
                let mut all = Vec::new();
                for object_type in object_types(cond, &self.atoms) {
                    objects(object_type, seen, &mut all);
                }
                all.into_iter()
                    .find_map(|object| self.eval_cond(cond, object, seen, budget))
            }
            Obs::And(operands) => {
                let mut witness = None;
                for operand in operands {
                    let found = self.eval_obs(operand, seen, budget)?;
                    witness = witness.or(found);
                }
                Some(witness)
            }
            Obs::Or(operands) => operands.iter().find_map(|o| self.eval_obs(o, seen, budget)),
        }
    }

    fn eval_cond(
        &self,
        cond: &Cond,
        object: Object<'_>,
        seen: &Observed,
        budget: &Cell<usize>,
    ) -> Option<Option<Witness>> {
        match cond {
            Cond::Atom(i) => {
                let left = budget.get().checked_sub(1)?;
                budget.set(left);
                let atom = self.atoms.get(*i)?;
                // An absent property makes every comparison on it false, negated or not.
                let property = property(atom.field, object, seen)?;
                let holds = atom.test_property(&property);
                match (holds, atom.negated) {
                    (true, false) => Some(Some(Witness {
                        field: atom.field,
                        observed: observed_text(&property),
                    })),
                    (false, true) => Some(None),
                    _ => None,
                }
            }
            Cond::And(operands) => {
                let mut witness = None;
                for operand in operands {
                    let found = self.eval_cond(operand, object, seen, budget)?;
                    witness = witness.or(found);
                }
                Some(witness)
            }
            Cond::Or(operands) => operands
                .iter()
                .find_map(|c| self.eval_cond(c, object, seen, budget)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse;

    fn evaluable(text: &str) -> Evaluable {
        compile(&parse(text).expect("the test input is valid")).expect("the test input is valid")
    }

    fn refusal(text: &str) -> String {
        compile(&parse(text).expect("the test input is valid"))
            .expect_err("the test input is refused")
            .reason
    }

    #[test]
    fn like_handles_percent_and_underscore() {
        let like = Like::new("%.evil.exam_le");
        assert_eq!(like.fragment, ".evil.exam");
        assert!(like.is_match("a.evil.example"));
        assert!(like.is_match("x.y.evil.examXle"));
        assert!(!like.is_match("evil.example"));
        assert!(!like.is_match("a.evil.example.org"));
        assert!(Like::new("a%b%c").is_match("aXXbYYbc"));
        assert!(!Like::new("a%b%c").is_match("aXXbYY"));
    }

    #[test]
    fn and_inside_an_observation_needs_one_file() {
        let pattern = evaluable(
            "[file:name = 'cv.doc' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
        );
        let file = |name: &str, sha256: &str| ObservedFile {
            name: Some(name.into()),
            md5: None,
            sha1: None,
            sha256: sha256.into(),
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let split = Observed {
            files: vec![file("cv.doc", &"0".repeat(64)), file("other.doc", empty)],
            ..Observed::default()
        };
        assert_eq!(pattern.evaluate(&split), None);
        let same = Observed {
            files: vec![file("cv.doc", empty)],
            ..Observed::default()
        };
        assert_eq!(
            pattern.evaluate(&same),
            Some(Witness {
                field: Field::FileName,
                observed: "cv.doc".into()
            })
        );
    }

    #[test]
    fn evaluation_stops_when_the_budget_is_spent() {
        let pattern = evaluable(
            "[domain-name:value = 'evil.example' AND domain-name:value LIKE '%.example' AND domain-name:value != 'good.example']",
        );
        let seen = Observed {
            hosts: vec!["a.example".into(), "www.evil.example".into()],
            ..Observed::default()
        };
        let budget = Cell::new(2);
        assert_eq!(pattern.evaluate_within(&seen, &budget), None);
        assert_eq!(budget.get(), 0);
        let budget = Cell::new(100);
        assert_eq!(
            pattern.evaluate_within(&seen, &budget),
            Some(Witness {
                field: Field::Domain,
                observed: "www.evil.example".into()
            })
        );
        // One comparison for a.example (the first fails), three for www.evil.example.
        assert_eq!(budget.get(), 96);
    }

    #[test]
    fn refusals_say_why() {
        assert!(refusal("[process:name = 'x']").contains("does not observe `process:name`"));
        assert!(
            refusal("[domain-name:value != 'x.example']").starts_with("no positive comparison")
        );
        assert!(refusal("[ipv4-addr:value = '0.0.0.0/0']").contains("/0"));
        assert!(refusal("[ipv6-addr:value = '::ffff:198.51.100.7']").contains("IPv4-mapped"));
        assert!(refusal("[ipv4-addr:value = '2001:db8::1']").contains("not an IPv4"));
        assert!(refusal("[url:value MATCHES '(?<=a)b']").contains("cannot be compiled"));
        assert!(refusal("[url:value MATCHES 'a*']").contains("empty value"));
        assert!(
            refusal("[domain-name:value = 'a.example' AND ipv4-addr:value = '198.51.100.1']")
                .contains("different objects")
        );
        assert!(refusal("[file:hashes.'SHA-256' = 'f00']").contains("not a valid SHA-256"));
    }
}
