//! One spelling per value. An indicator and an event match only when both are written
//! the same way, so feeds and events go through the same functions: host names in ASCII
//! (punycode) lower case without the root dot, URLs as a browser would resolve them, mail
//! addresses with their domain normalised, hashes in lower-case hex.

use std::net::IpAddr;

/// The ASCII, lower-case form of a host name (UTS #46; punycode for IDNs), or `None`
/// when it is not one. An IP literal (`[::1]` too) is returned in its canonical form.
pub fn domain(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches('.');
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let ascii = idna::domain_to_ascii(name).ok()?;
    if ascii.is_empty() || ascii.split('.').any(str::is_empty) {
        return None;
    }
    Some(ascii)
}

/// `host` and each name above it down to its registrable domain: `a.b.example.co.uk`,
/// `b.example.co.uk`, `example.co.uk` — never a public suffix such as `co.uk`. An
/// indicator on a domain covers every name under it.
pub fn parents(host: &str) -> impl Iterator<Item = &str> {
    let registrable_len = if host.parse::<IpAddr>().is_ok() {
        host.len()
    } else {
        psl::domain_str(host).map_or(host.len(), str::len)
    };
    let mut next = Some(host);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.split_once('.') {
            Some((_, rest)) if rest.len() >= registrable_len => Some(rest),
            _ => None,
        };
        Some(current)
    })
}

/// A URL as a browser resolves it: scheme and host lower case, IDN hosts in punycode,
/// default port, fragment and dot segments removed, percent-escapes of unreserved
/// characters decoded and the others upper-cased. A URL without a scheme is taken as
/// `http://`. `None` when it cannot be a URL.
pub fn url(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 8192 {
        return None;
    }
    let mut parsed = match url::Url::parse(text) {
        Ok(parsed) if parsed.has_host() => parsed,
        Ok(_) => return None,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            url::Url::parse(&format!("http://{text}")).ok()?
        }
        Err(_) => return None,
    };
    parsed.set_fragment(None);
    let path = unescape_unreserved(parsed.path());
    parsed.set_path(&path);
    if let Some(query) = parsed.query() {
        let query = unescape_unreserved(query);
        parsed.set_query(Some(&query));
    }
    Some(parsed.to_string())
}

/// Decodes `%XX` where XX is an unreserved character (RFC 3986 §2.3) and upper-cases the
/// hex digits of the others, so that `%7e`, `%7E` and `~` are one spelling.
fn unescape_unreserved(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let value = hex_value(bytes[i + 1]) * 16 + hex_value(bytes[i + 2]);
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                out.push(char::from(value));
            } else {
                out.push('%');
                out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
                out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        // Multi-byte characters were already percent-encoded by the URL parser; copy the
        // rest as it is.
        let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// A mail address with its domain normalised and the local part lower case (providers
/// treat it case-insensitively and attackers vary the case), or `None` without an `@`.
pub fn email(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = address.rsplit_once('@')?;
    if local.is_empty() {
        return None;
    }
    Some(format!("{}@{}", local.to_lowercase(), domain(host)?))
}

/// A hash in lower-case hex, or `None` when it is not hex of a known length (MD5, SHA-1,
/// SHA-256, SHA-512).
pub fn hash(text: &str) -> Option<String> {
    let text = text.trim();
    (matches!(text.len(), 32 | 40 | 64 | 128) && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_ascii_lower_case_without_the_root_dot() {
        assert_eq!(
            domain("Login.Example.COM.").as_deref(),
            Some("login.example.com")
        );
        assert_eq!(
            domain("bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(domain("[2001:DB8::1]").as_deref(), Some("2001:db8::1"));
        assert_eq!(domain(""), None);
        assert_eq!(domain("a..b"), None);
    }

    #[test]
    fn parents_stop_at_the_registrable_domain() {
        let all: Vec<_> = parents("a.b.example.co.uk").collect();
        assert_eq!(
            all,
            ["a.b.example.co.uk", "b.example.co.uk", "example.co.uk"]
        );
        assert_eq!(parents("example.com").collect::<Vec<_>>(), ["example.com"]);
        assert_eq!(parents("192.0.2.1").collect::<Vec<_>>(), ["192.0.2.1"]);
    }

    #[test]
    fn urls_have_one_spelling() {
        let want = Some("http://evil.example/a~b/c?x=%2F".to_string());
        assert_eq!(url("HTTP://EVIL.example:80/a%7eb/./c?x=%2f#frag"), want);
        assert_eq!(url("evil.example/a~b/c?x=%2F"), want);
        assert_eq!(
            url("https://bücher.example/").as_deref(),
            Some("https://xn--bcher-kva.example/")
        );
        assert_eq!(url("mailto:someone@example.com"), None);
        assert_eq!(url(""), None);
    }

    #[test]
    fn addresses_and_hashes() {
        assert_eq!(
            email("<Recruiter@Bücher.Example>").as_deref(),
            Some("recruiter@xn--bcher-kva.example")
        );
        assert_eq!(email("no-at-sign"), None);
        assert_eq!(
            hash(" D41D8CD98F00B204E9800998ECF8427E ").as_deref(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
        assert_eq!(hash("xyz"), None);
    }
}
