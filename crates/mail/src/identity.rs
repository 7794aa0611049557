//! Who attackers pretend to be: the built-in protected identities.
//!
//! Each [`Identity`] is an organisation or brand whose name in a display name, or whose
//! domain in a look-alike spelling, is a sign of impersonation when the mail does not come
//! from one of its real domains. The organisation's own domains are added at run time
//! (`analyse::Context`); these are the ones every protected organisation shares: health
//! authorities (the Cerium lures), recruiting sites (the Zinc lures) and the mail and
//! identity brands whose sign-in pages get copied.

/// Why an identity is worth impersonating; lets reasons say "health authority" rather
/// than a bare domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind {
    HealthAuthority,
    Recruiting,
    MailBrand,
    /// The protected organisation itself (its own domains, added from configuration).
    Own,
}

/// A name people recognise and the domains that legitimately send as it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: &'static str,
    /// Names and abbreviations that, in a display name, claim this identity. Matched
    /// case-insensitively on word boundaries.
    pub names: &'static [&'static str],
    /// Registrable domains that are really this identity. Subdomains count.
    pub domains: &'static [&'static str],
    pub kind: IdentityKind,
}

use IdentityKind::*;

pub const BUILTIN: &[Identity] = &[
    Identity {
        name: "World Health Organization",
        names: &[
            "world health organization",
            "world health organisation",
            "who",
            "oms",
            "organisation mondiale de la santé",
            "organización mundial de la salud",
            "weltgesundheitsorganisation",
            "세계보건기구",
        ],
        domains: &["who.int"],
        kind: HealthAuthority,
    },
    Identity {
        name: "Centers for Disease Control and Prevention",
        names: &["centers for disease control", "cdc"],
        domains: &["cdc.gov"],
        kind: HealthAuthority,
    },
    Identity {
        name: "National Institutes of Health",
        names: &["national institutes of health", "nih"],
        domains: &["nih.gov"],
        kind: HealthAuthority,
    },
    Identity {
        name: "European Centre for Disease Prevention and Control",
        names: &["european centre for disease prevention", "ecdc"],
        domains: &["ecdc.europa.eu"],
        kind: HealthAuthority,
    },
    Identity {
        name: "NHS",
        names: &["nhs", "national health service"],
        domains: &["nhs.uk", "nhs.net"],
        kind: HealthAuthority,
    },
    Identity {
        name: "UK Government",
        names: &["gov.uk", "uk health security agency", "ukhsa"],
        domains: &["gov.uk"],
        kind: HealthAuthority,
    },
    Identity {
        name: "Public Health Agency of Canada",
        names: &[
            "public health agency of canada",
            "health canada",
            "santé canada",
            "agence de la santé publique du canada",
        ],
        domains: &["canada.ca", "gc.ca"],
        kind: HealthAuthority,
    },
    Identity {
        name: "French Ministry of Health",
        names: &[
            "ministère de la santé",
            "ministere de la sante",
            "santé publique france",
            "sante publique france",
        ],
        domains: &["sante.gouv.fr", "santepubliquefrance.fr", "gouv.fr"],
        kind: HealthAuthority,
    },
    Identity {
        name: "India Ministry of Health and Family Welfare",
        names: &["ministry of health and family welfare", "mohfw"],
        domains: &["mohfw.gov.in", "gov.in", "nic.in"],
        kind: HealthAuthority,
    },
    Identity {
        name: "Korea Disease Control and Prevention Agency",
        names: &["korea disease control", "kdca", "질병관리청", "보건복지부"],
        domains: &["kdca.go.kr", "mohw.go.kr", "go.kr"],
        kind: HealthAuthority,
    },
    Identity {
        name: "U.S. Department of Health and Human Services",
        names: &[
            "department of health and human services",
            "hhs",
            "food and drug administration",
            "fda",
        ],
        domains: &["hhs.gov", "fda.gov"],
        kind: HealthAuthority,
    },
    Identity {
        name: "LinkedIn",
        names: &["linkedin"],
        domains: &["linkedin.com", "licdn.com"],
        kind: Recruiting,
    },
    Identity {
        name: "Indeed",
        names: &["indeed"],
        domains: &["indeed.com"],
        kind: Recruiting,
    },
    Identity {
        name: "Glassdoor",
        names: &["glassdoor"],
        domains: &["glassdoor.com"],
        kind: Recruiting,
    },
    Identity {
        name: "Microsoft",
        names: &[
            "microsoft",
            "office 365",
            "microsoft 365",
            "outlook",
            "onedrive",
            "sharepoint",
            "microsoft account team",
        ],
        domains: &[
            "microsoft.com",
            "outlook.com",
            "office.com",
            "office365.com",
            "live.com",
            "microsoftonline.com",
            "sharepoint.com",
            "onmicrosoft.com",
            "hotmail.com",
        ],
        kind: MailBrand,
    },
    Identity {
        name: "Google",
        names: &["google", "gmail", "google workspace", "google drive"],
        domains: &["google.com", "gmail.com", "googlemail.com"],
        kind: MailBrand,
    },
];

/// Whether `domain` (lower-case, no trailing dot) is `registrable` or one of its
/// subdomains.
pub fn is_within(domain: &str, registrable: &str) -> bool {
    domain == registrable
        || domain
            .strip_suffix(registrable)
            .is_some_and(|rest| rest.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_means_equal_or_subdomain_never_suffix_of_a_label() {
        assert!(is_within("who.int", "who.int"));
        assert!(is_within("news.who.int", "who.int"));
        assert!(!is_within("fakewho.int", "who.int"));
        assert!(!is_within("who.int.evil.example", "who.int"));
    }

    #[test]
    fn names_are_lower_case_so_matching_can_lower_the_input_only() {
        for id in BUILTIN {
            for n in id.names {
                assert_eq!(*n, n.to_lowercase(), "{}", id.name);
            }
        }
    }
}
