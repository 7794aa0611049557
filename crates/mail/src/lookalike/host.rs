//! A host name as the look-alike checks see it: lower-case, in ASCII (punycode) and in
//! Unicode, split by the Public Suffix List into subdomain labels, the registrable
//! label and the public suffix.

/// Longest host name DNS allows; anything longer is not a host and is not checked.
const MAX_HOST_LEN: usize = 253;

pub struct Host {
    /// Lower-case, punycode form, no trailing dot.
    pub ascii: String,
    /// How a reader sees it (`xn--` labels decoded); equal to `ascii` for ASCII hosts.
    pub unicode: String,
    /// Labels of `ascii`, left to right.
    pub labels: Vec<String>,
    /// How many trailing labels form the public suffix.
    pub suffix_labels: usize,
}

impl Host {
    /// `None` for what cannot be a registrable host name: empty, too long, an IP
    /// literal, or a bare public suffix.
    pub fn parse(host: &str) -> Option<Host> {
        let trimmed = host.trim().trim_end_matches('.');
        if trimmed.is_empty() || trimmed.len() > MAX_HOST_LEN * 4 {
            return None;
        }
        let lower = trimmed.to_lowercase();
        let (ascii, unicode) = if lower.is_ascii() && !lower.contains("xn--") {
            (lower.clone(), lower)
        } else {
            let ascii = idna::domain_to_ascii(&lower).unwrap_or_else(|_| lower.clone());
            let (unicode, _errors) = idna::domain_to_unicode(&ascii);
            (ascii, unicode)
        };
        if ascii.len() > MAX_HOST_LEN || ascii.contains(':') || ascii.split('.').any(str::is_empty)
        {
            return None;
        }
        let labels: Vec<String> = ascii.split('.').map(str::to_owned).collect();
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let suffix = psl::suffix(ascii.as_bytes())?;
        let suffix_labels = suffix.as_bytes().split(|&b| b == b'.').count();
        if suffix_labels >= labels.len() {
            return None;
        }
        Some(Host {
            ascii,
            unicode,
            labels,
            suffix_labels,
        })
    }

    /// Registrable label and suffix, as in `who.int`.
    pub fn registrable(&self) -> String {
        self.labels[self.labels.len() - self.suffix_labels - 1..].join(".")
    }

    pub fn suffix(&self) -> String {
        self.labels[self.labels.len() - self.suffix_labels..].join(".")
    }

    /// Labels left of the registrable one.
    pub fn subdomain(&self) -> &[String] {
        &self.labels[..self.labels.len() - self.suffix_labels - 1]
    }

    /// The Unicode form of an ASCII label (itself unless it is `xn--`).
    pub fn unicode_label(label: &str) -> String {
        if label.starts_with("xn--") {
            idna::domain_to_unicode(label).0
        } else {
            label.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Host;

    #[test]
    fn splits_by_the_public_suffix_list() {
        let cases = [
            ("News.WHO.int.", "who", "int", 1),
            ("who.int.secure-login.com", "secure-login", "com", 2),
            ("sante.gouv.fr", "sante", "gouv.fr", 0),
            ("who.uk.com", "who", "uk.com", 0),
            ("xn--micrsoft-qbh.com", "xn--micrsoft-qbh", "com", 0),
            ("micrоsoft.com", "xn--micrsoft-qbh", "com", 0),
        ];
        for (input, label, suffix, sub) in cases {
            let host = Host::parse(input).expect(input);
            assert_eq!(host.labels[host.subdomain().len()], label, "{input}");
            assert_eq!(host.suffix(), suffix, "{input}");
            assert_eq!(host.subdomain().len(), sub, "{input}");
        }
        assert_eq!(
            Host::parse("micrоsoft.com").map(|h| h.unicode),
            Some("micrоsoft.com".into())
        );
    }

    #[test]
    fn what_is_not_a_registrable_host_is_refused() {
        for input in [
            "",
            ".",
            "com",
            "gov.uk",
            "192.0.2.1",
            "[2001:db8::1]",
            "a..b.com",
            &"a".repeat(300),
        ] {
            assert!(Host::parse(input).is_none(), "{input:?}");
        }
    }
}
