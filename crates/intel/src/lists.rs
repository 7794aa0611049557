//! Plain lists and warning lists. A plain list (one value a line, or one column of a CSV
//! file) says "these are bad" or "these are anonymisers": each value is recognised by its
//! shape and written as the STIX pattern that says the same. A misp-warninglists
//! `list.json` says "these are benign": it becomes a [`BenignList`]. Also the pattern
//! writers the MISP reader shares.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::stix::{Problems, quote, without_bom};
use crate::{BenignKind, BenignList, Indicator, Intel, normal};

/// A list larger than this is refused: the largest public ones are a few MB.
pub const MAX_LIST_BYTES: usize = 64 << 20;
/// At most this many values are read from one list.
pub const MAX_VALUES: usize = 2_000_000;
/// A line longer than this is a problem, not a value.
pub const MAX_LINE: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{source_name}: {size} bytes is more than the {MAX_LIST_BYTES} a list may have")]
    TooLarge { source_name: String, size: usize },
    #[error("{source_name}: not a warning list: {reason}")]
    NotWarningList { source_name: String, reason: String },
}

/// The hash algorithms a list or a MISP attribute may name, as STIX writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl HashKind {
    /// The key in `file:hashes.<key>` (STIX 2.1 hash-algorithm-ov).
    pub fn stix_key(self) -> &'static str {
        match self {
            HashKind::Md5 => "MD5",
            HashKind::Sha1 => "'SHA-1'",
            HashKind::Sha256 => "'SHA-256'",
            HashKind::Sha512 => "'SHA-512'",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            HashKind::Md5 => 32,
            HashKind::Sha1 => 40,
            HashKind::Sha256 => 64,
            HashKind::Sha512 => 128,
        }
    }

    fn of_len(len: usize) -> Option<HashKind> {
        [
            HashKind::Md5,
            HashKind::Sha1,
            HashKind::Sha256,
            HashKind::Sha512,
        ]
        .into_iter()
        .find(|kind| kind.hex_len() == len)
    }
}

/// One value of a list, recognised by its shape and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListValue {
    Address(IpAddr),
    Network(IpNet),
    Domain(String),
    Url(String),
    Email(String),
    Hash(HashKind, String),
}

impl ListValue {
    /// Recognises an address, network, URL, mail address, hash or host name, in that
    /// order; the reason when it is none of them.
    pub fn sniff(text: &str) -> Result<ListValue, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty value".to_string());
        }
        if let Ok(address) = text.parse::<IpAddr>() {
            return Ok(ListValue::Address(address));
        }
        if let Ok(network) = text.parse::<IpNet>() {
            return Ok(network_value(network));
        }
        if text.contains("://") || (text.contains('/') && !text.contains('@')) {
            return normal::url(text)
                .map(ListValue::Url)
                .ok_or_else(|| format!("`{}` is not a URL", shorten(text)));
        }
        if text.contains('@') {
            return normal::email(text)
                .map(ListValue::Email)
                .ok_or_else(|| format!("`{}` is not a mail address", shorten(text)));
        }
        if let Some(hex) = normal::hash(text)
            && let Some(kind) = HashKind::of_len(hex.len())
        {
            return Ok(ListValue::Hash(kind, hex));
        }
        host(text).map(ListValue::Domain).ok_or_else(|| {
            format!(
                "`{}` is not an address, URL, mail address, hash or host name",
                shorten(text)
            )
        })
    }

    /// The STIX pattern that matches this value.
    pub fn pattern(&self) -> String {
        match self {
            ListValue::Address(address) => address_pattern(&address.to_string(), address.is_ipv4()),
            ListValue::Network(network) => {
                address_pattern(&network.to_string(), matches!(network, IpNet::V4(_)))
            }
            ListValue::Domain(host) => format!("[domain-name:value = {}]", quote(host)),
            ListValue::Url(url) => format!("[url:value = {}]", quote(url)),
            ListValue::Email(address) => format!("[email-addr:value = {}]", quote(address)),
            ListValue::Hash(kind, hex) => hash_pattern(*kind, hex),
        }
    }
}

/// A network with a single address is that address; host bits are cleared so that
/// `192.0.2.7/24` and `192.0.2.0/24` are one spelling.
fn network_value(network: IpNet) -> ListValue {
    if network.prefix_len() == network.max_prefix_len() {
        ListValue::Address(network.addr())
    } else {
        ListValue::Network(network.trunc())
    }
}

fn address_pattern(value: &str, v4: bool) -> String {
    let kind = if v4 { "ipv4-addr" } else { "ipv6-addr" };
    format!("[{kind}:value = {}]", quote(value))
}

/// `[ipv4-addr:value = '…']` or the IPv6 one for an address or CIDR network; `None`
/// when `text` is neither.
pub(crate) fn ip_pattern(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(ListValue::Address(address).pattern());
    }
    text.parse::<IpNet>()
        .ok()
        .map(|network| network_value(network).pattern())
}

/// `[file:hashes.<kind> = '…']` for hex of the right length.
pub(crate) fn hash_pattern(kind: HashKind, hex: &str) -> String {
    format!("[file:hashes.{} = {}]", kind.stix_key(), quote(hex))
}

/// The hash as lower-case hex when it has `kind`'s length.
pub(crate) fn hash_of(kind: HashKind, text: &str) -> Option<String> {
    normal::hash(text).filter(|hex| hex.len() == kind.hex_len())
}

/// A host name as [`normal::domain`] writes it, refusing what cannot be one on the
/// Internet: no dot, or characters outside letters, digits, `-`, `_` and `.`.
pub(crate) fn host(text: &str) -> Option<String> {
    let host = normal::domain(text)?;
    if host.parse::<IpAddr>().is_ok() {
        return Some(host);
    }
    // No top-level domain is all digits: `192.0.2.256` is a mistyped address.
    let numeric_tld = host
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    let plausible = host.contains('.')
        && !numeric_tld
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    plausible.then_some(host)
}

fn shorten(text: &str) -> &str {
    match text.char_indices().nth(80) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// How a list's lines are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One value a line, the first word of it (what follows is a comment: `# ...`,
    /// `; SBL123`); lines starting with `#` or `;` and blank lines are skipped.
    Plain,
    /// Comma-separated values: the value is in `column` (from 0); the first line is a
    /// header when `header` is true. `#` comment lines and blank lines are skipped.
    Csv { column: usize, header: bool },
    /// The Tor Project's exit list (`ExitAddress <address> <date>` lines among
    /// `ExitNode`, `Published` and `LastStatus` ones).
    TorExits,
}

/// Reads a list of bad (or notable) values. Each indicator has id `<name>:<line>`, feed
/// `name` and the one label `label` (e.g. `tor-exit`, `anonymising-vpn`); a line that is
/// not a value is a problem naming its line number.
pub fn read_list(
    name: &str,
    label: &str,
    layout: Layout,
    bytes: &[u8],
) -> Result<Intel, ListError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(ListError::TooLarge {
            source_name: name.to_string(),
            size: bytes.len(),
        });
    }
    let text = String::from_utf8_lossy(without_bom(bytes));
    let mut problems = Problems::new(name);
    let mut indicators = Vec::new();
    let mut header_pending = matches!(layout, Layout::Csv { header: true, .. });
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.len() > MAX_LINE {
            problems.push_at(
                format!("{name}:{number}"),
                None,
                format!("line {number} is longer than {MAX_LINE} bytes"),
            );
            continue;
        }
        let value = match layout {
            // Trailing comments: `# ...`, or `; SBL123` as Spamhaus writes them.
            Layout::Plain => Some(
                line.split([' ', '\t'])
                    .next()
                    .unwrap_or(line)
                    .trim()
                    .to_string(),
            ),
            Layout::Csv { column, .. } => {
                if header_pending {
                    header_pending = false;
                    continue;
                }
                match csv_field(line, column) {
                    Some(value) => Some(value),
                    None => {
                        problems.push_at(
                            format!("{name}:{number}"),
                            None,
                            format!("line {number} has no column {column}"),
                        );
                        continue;
                    }
                }
            }
            Layout::TorExits => {
                let mut words = line.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("ExitAddress"), Some(address)) => Some(address.to_string()),
                    (Some("ExitNode" | "Published" | "LastStatus"), _) => None,
                    _ => {
                        problems.push_at(
                            format!("{name}:{number}"),
                            None,
                            format!("line {number} is not an exit list line"),
                        );
                        continue;
                    }
                }
            }
        };
        let Some(value) = value else {
            continue;
        };
        if indicators.len() >= MAX_VALUES {
            problems.push(
                None,
                format!("more than {MAX_VALUES} values; the rest were not read"),
            );
            break;
        }
        match ListValue::sniff(&value) {
            Ok(value) => indicators.push(Indicator {
                id: format!("{name}:{number}"),
                feed: name.to_string(),
                pattern: value.pattern(),
                name: None,
                valid_from: None,
                valid_until: None,
                modified: None,
                actors: Vec::new(),
                techniques: Vec::new(),
                malware: Vec::new(),
                confidence: None,
                labels: vec![label.to_string()],
            }),
            Err(reason) => problems.push_at(
                format!("{name}:{number}"),
                None,
                format!("line {number}: {reason}"),
            ),
        }
    }
    Ok(Intel {
        indicators,
        problems: problems.finish(),
        ..Intel::default()
    })
}

/// Field `column` of one CSV line (RFC 4180 quoting, no line breaks inside fields).
fn csv_field(line: &str, column: usize) -> Option<String> {
    let mut fields = 0;
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if current.is_empty() => quoted = true,
            ',' if !quoted => {
                if fields == column {
                    return Some(current);
                }
                fields += 1;
                current.clear();
            }
            _ => current.push(ch),
        }
    }
    (fields == column).then_some(current)
}

/// A misp-warninglists `list.json`.
#[derive(Deserialize)]
struct WarningListFile {
    name: String,
    #[serde(rename = "type", default = "default_kind")]
    kind: String,
    list: Vec<serde_json::Value>,
}

/// Lists without `type` are string lists (the format's original shape had none).
fn default_kind() -> String {
    "string".to_string()
}

/// Reads a misp-warninglists `list.json` into one [`BenignList`]. Values are written as
/// the matcher compares them: networks canonical, host names normalised; a value that
/// cannot be one of its kind is a problem.
pub fn read_warninglist(source_name: &str, bytes: &[u8]) -> Result<Intel, ListError> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(ListError::TooLarge {
            source_name: source_name.to_string(),
            size: bytes.len(),
        });
    }
    let file: WarningListFile =
        serde_json::from_slice(without_bom(bytes)).map_err(|e| ListError::NotWarningList {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?;
    let kind = match file.kind.as_str() {
        "cidr" => BenignKind::Cidr,
        "string" => BenignKind::String,
        "hostname" => BenignKind::Hostname,
        "substring" => BenignKind::Substring,
        "regex" => BenignKind::Regex,
        other => {
            return Err(ListError::NotWarningList {
                source_name: source_name.to_string(),
                reason: format!("unknown type `{}`", shorten(other)),
            });
        }
    };
    let mut problems = Problems::new(source_name);
    let mut values = Vec::new();
    for (index, value) in file.list.iter().enumerate().take(MAX_VALUES) {
        let Some(text) = value.as_str().map(str::trim).filter(|t| !t.is_empty()) else {
            problems.push(None, format!("list[{index}]: not a non-empty string"));
            continue;
        };
        let written = match kind {
            BenignKind::Cidr => match text.parse::<IpAddr>() {
                Ok(address) => Some(IpNet::from(address).to_string()),
                Err(_) => text.parse::<IpNet>().ok().map(|n| n.trunc().to_string()),
            },
            BenignKind::Hostname => normal::domain(text),
            BenignKind::Regex => regex::RegexBuilder::new(text)
                .size_limit(1 << 20)
                .build()
                .ok()
                .map(|_| text.to_string()),
            BenignKind::String | BenignKind::Substring => Some(text.to_string()),
        };
        match written {
            Some(written) => values.push(written),
            None => problems.push(
                None,
                format!(
                    "list[{index}]: `{}` is not a valid {} value",
                    shorten(text),
                    file.kind
                ),
            ),
        }
    }
    if file.list.len() > MAX_VALUES {
        problems.push(
            None,
            format!("more than {MAX_VALUES} values; the rest were not read"),
        );
    }
    Ok(Intel {
        benign: vec![BenignList {
            name: file.name,
            kind,
            values,
        }],
        problems: problems.finish(),
        ..Intel::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_recognised_by_shape() {
        let cases = [
            ("192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"),
            ("2001:DB8::1", "[ipv6-addr:value = '2001:db8::1']"),
            ("198.51.100.7/24", "[ipv4-addr:value = '198.51.100.0/24']"),
            ("192.0.2.1/32", "[ipv4-addr:value = '192.0.2.1']"),
            ("Evil.Example.", "[domain-name:value = 'evil.example']"),
            (
                "HTTP://Evil.Example/a%7eb",
                "[url:value = 'http://evil.example/a~b']",
            ),
            (
                "evil.example/login",
                "[url:value = 'http://evil.example/login']",
            ),
            (
                "Recruiter@Evil.Example",
                "[email-addr:value = 'recruiter@evil.example']",
            ),
            (
                "D41D8CD98F00B204E9800998ECF8427E",
                "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            ),
            (
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
            ),
        ];
        for (text, pattern) in cases {
            assert_eq!(
                ListValue::sniff(text).map(|v| v.pattern()),
                Ok(pattern.to_string()),
                "{text}"
            );
        }
        assert!(ListValue::sniff("not a value").is_err());
        assert!(ListValue::sniff("localhost").is_err());
        assert!(ListValue::sniff("192.0.2.256").is_err());
        assert!(ListValue::sniff("evil'.example").is_err());
    }

    #[test]
    fn csv_fields_honour_quotes() {
        assert_eq!(csv_field(r#"a,"b,c",d"#, 1).as_deref(), Some("b,c"));
        assert_eq!(
            csv_field(r#""say ""hi""",x"#, 0).as_deref(),
            Some(r#"say "hi""#)
        );
        assert_eq!(csv_field("a,b", 1).as_deref(), Some("b"));
        assert_eq!(csv_field("a,b", 2), None);
    }
}
