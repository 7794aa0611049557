//! The individual checks, one module each. Each takes a decoded [`model::Mail`] (and
//! the analyser's context) and returns [`crate::Finding`]s; none of them decides a verdict.

pub mod attachments;
pub mod auth;
pub mod impersonation;
pub mod links;
pub mod lure;

use model::Mailbox;

/// Longest quoted value in evidence: enough to recognise a header, short enough that a
/// hostile 100 KB header does not become a 100 KB reason.
pub(crate) const EVIDENCE_VALUE_CHARS: usize = 200;

/// The registrable domain ("eTLD+1") of a lower-case domain per the Public Suffix List,
/// e.g. `mail.who.int` → `who.int`, `a.b.nhs.uk` → `b.nhs.uk`. A name the list cannot
/// split (a bare suffix, a single label) is its own registrable domain.
pub fn registrable_domain(domain: &str) -> String {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    match psl::domain_str(&domain) {
        Some(d) => d.to_owned(),
        None => domain,
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary:
/// how much of an attacker's header or body a check looks at.
pub(crate) fn clip_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `s` cut to at most `max` characters (on a character boundary), with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// A mailbox as it would appear in its header, e.g. `"WHO" <covid19@gmail.com>`, with
/// the display name clipped and control characters made visible.
pub(crate) fn show_mailbox(mailbox: &Mailbox) -> String {
    let address = clip(&mailbox.address, EVIDENCE_VALUE_CHARS);
    match mailbox.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => {
            let name: String = clip(name, EVIDENCE_VALUE_CHARS)
                .chars()
                .flat_map(char::escape_debug)
                .collect();
            format!("\"{name}\" <{address}>")
        }
        None => format!("<{address}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        for (domain, registrable) in [
            ("who.int", "who.int"),
            ("mail.who.int", "who.int"),
            ("Bounce.Mail.Example.CO.UK.", "example.co.uk"),
            ("a.b.nhs.uk", "b.nhs.uk"),
            ("x.sante.gouv.fr", "sante.gouv.fr"),
            ("localhost", "localhost"),
            ("com", "com"),
        ] {
            assert_eq!(registrable_domain(domain), registrable, "{domain}");
        }
    }

    #[test]
    fn clip_cuts_on_char_boundaries() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("세계보건기구", 2), "세계…");
    }

    #[test]
    fn show_mailbox_quotes_the_name_and_escapes_invisible_characters() {
        let m = Mailbox {
            name: Some("WHO\u{200b} Team".into()),
            address: "a@b.example".into(),
        };
        assert_eq!(show_mailbox(&m), r#""WHO\u{200b} Team" <a@b.example>"#);
        let bare = Mailbox {
            name: None,
            address: "a@b.example".into(),
        };
        assert_eq!(show_mailbox(&bare), "<a@b.example>");
    }
}
