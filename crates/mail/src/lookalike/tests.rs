use super::*;
use LookalikeKind::*;

fn index() -> LookalikeIndex {
    LookalikeIndex::builtin()
}

#[test]
fn each_family_is_recognised_with_its_kind() {
    let index = index();
    let table: &[(&str, &str, LookalikeKind)] = &[
        ("rnicrosoft.com", "microsoft.com", Homoglyph),
        ("micr0soft.com", "microsoft.com", Homoglyph),
        ("vvho.int", "who.int", Homoglyph),
        ("linkedln.com", "linkedin.com", Homoglyph),
        ("microsofta.com", "microsoft.com", Addition),
        ("whoa.int", "who.int", Addition),
        ("micosoft.com", "microsoft.com", Omission),
        ("linkdin.com", "linkedin.com", Omission),
        ("microosoft.com", "microsoft.com", Repetition),
        ("whho.int", "who.int", Repetition),
        ("micrpsoft.com", "microsoft.com", Replacement),
        ("wjo.int", "who.int", Replacement),
        ("micorsoft.com", "microsoft.com", Transposition),
        ("hwo.int", "who.int", Transposition),
        ("microsdoft.com", "microsoft.com", Insertion),
        ("micro-soft.com", "microsoft.com", Hyphenation),
        ("w-ho.int", "who.int", Hyphenation),
        ("eicrosoft.com", "microsoft.com", Bitsquatting),
        ("wxo.int", "who.int", Bitsquatting),
        ("micrasoft.com", "microsoft.com", VowelSwap),
        ("wha.int", "who.int", VowelSwap),
        ("linkedins.com", "linkedin.com", Addition),
        ("micsrosoft.com", "microsoft.com", Plural),
        ("m.icrosoft.com", "microsoft.com", Subdomain),
        ("w.ho.int", "who.int", Subdomain),
        ("who.int.secure-login.com", "who.int", Subdomain),
        (
            "login.microsoft.com.account-check.net",
            "microsoft.com",
            Subdomain,
        ),
        ("microsoft.evil.example", "microsoft.com", Subdomain),
        ("who-int.evil.example", "who.int", Subdomain),
        ("who.com", "who.int", TldSwap),
        ("who.co.uk", "who.int", TldSwap),
        ("who.uk.com", "who.int", TldSwap),
        ("linkedin.cn", "linkedin.com", TldSwap),
        ("microsoft.xyz", "microsoft.com", TldSwap),
        ("microsoft.com.br", "microsoft.com", TldSwap),
        ("cdc.com", "cdc.gov", TldSwap),
        ("microsoft-login.com", "microsoft.com", Dictionary),
        ("securelinkedin.com", "linkedin.com", Dictionary),
        ("who-covid19.com", "who.int", Dictionary),
        ("whologin.int", "who.int", Dictionary),
        ("microsoft365-billing.xyz", "microsoft.com", Dictionary),
        ("whoint.int", "who.int", Various),
        ("who-int.com", "who.int", Various),
        ("whoint.com", "who.int", Various),
        ("linkedincom.com", "linkedin.com", Various),
        ("gov-uk.com", "gov.uk", Various),
        ("govuk.org", "gov.uk", Various),
        ("ecdc-europa-eu.com", "ecdc.europa.eu", Various),
        ("micrоsoft.com", "microsoft.com", Confusable),
        ("xn--micrsoft-qbh.com", "microsoft.com", Confusable),
        ("мicrosoft.com", "microsoft.com", IdnHomograph),
        ("mícrosoft.com", "microsoft.com", IdnHomograph),
        ("xn--lnkedin-zya.com", "linkedin.com", IdnHomograph),
        ("ԝһо.int", "who.int", Confusable),
        ("microsoft.соm", "microsoft.com", IdnHomograph),
        ("ecdd.europa.eu", "ecdc.europa.eu", Replacement),
        ("g0v.uk", "gov.uk", Homoglyph),
    ];
    let mut wrong = Vec::new();
    for &(host, protected, kind) in table {
        let got = index.check(host);
        let seen = got.as_ref().map(|l| (l.protected.as_str(), l.kind));
        if seen != Some((protected, kind)) {
            wrong.push(format!("{host}: expected {protected} {kind}, got {seen:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let kinds: HashSet<LookalikeKind> = table.iter().map(|(_, _, k)| *k).collect();
    assert_eq!(
        kinds.len(),
        LookalikeKind::ALL.len(),
        "every kind has an example"
    );
}

#[test]
fn protected_domains_and_their_subdomains_are_never_lookalikes() {
    let index = index();
    let mut flagged = Vec::new();
    for p in builtin_domains() {
        for host in [
            p.domain.clone(),
            format!("news.{}", p.domain),
            format!("a.b.{}", p.domain),
        ] {
            if let Some(l) = index.check(&host) {
                flagged.push(l.to_string());
            }
        }
    }
    for host in [
        "WHO.INT.",
        "sante.gouv.fr",
        "mohfw.gov.in",
        "www.gov.uk",
        "login.microsoftonline.com",
    ] {
        if let Some(l) = index.check(host) {
            flagged.push(l.to_string());
        }
    }
    assert!(flagged.is_empty(), "{}", flagged.join("\n"));
}

#[test]
fn unrelated_and_near_but_benign_hosts_are_not_flagged() {
    let index = index();
    let benign = [
        "whoa.com",  // a different word under another suffix
        "whois.com", // ditto
        "wmo.int",   // World Meteorological Organization: one letter from who.int
        "wto.int",   // World Trade Organization
        "ilo.int",
        "cdc.de.example.org",
        "example.com",
        "hotmail.fr", // Microsoft's own national mailbox domain
        "live.ca",
        "google.de",
        "google.com.br", // the national suffix com.br, not a subdomain of google.com
        "hotmail.com.ar",
        "mail.com", // known neighbours: other people's big domains one slip away
        "ymail.com",
        "neh.gov",
        "outlook.co.uk",
        "gov.br",
        "nic.fr",
        "go.com",
        "canadapost.ca",
        "192.0.2.1",
        "",
        "com",
        "localhost",
        "mail.example.co.uk",
        "news.bbc.co.uk",
        "who.is.example.com",
    ];
    let flagged: Vec<String> = benign
        .iter()
        .filter_map(|h| index.check(h))
        .map(|l| l.to_string())
        .collect();
    assert!(flagged.is_empty(), "{}", flagged.join("\n"));
}

#[test]
fn an_organisations_own_domain_is_protected_too() {
    let index = LookalikeIndex::new(builtin_domains().into_iter().chain([ProtectedDomain {
        domain: "Acme-Research.org".into(),
        owner: "Acme Research".into(),
    }]));
    let found = index
        .check("acme-reseach.org")
        .map(|l| (l.protected, l.owner, l.kind));
    assert_eq!(
        found,
        Some(("acme-research.org".into(), "Acme Research".into(), Omission))
    );
    assert_eq!(index.check("mail.acme-research.org"), None);
}

#[test]
fn the_reason_names_host_protected_domain_and_family() {
    let found = index()
        .check("xn--micrsoft-qbh.com")
        .expect("a homograph of microsoft.com");
    assert_eq!(
        found.to_string(),
        "xn--micrsoft-qbh.com (shown as micrоsoft.com) imitates microsoft.com (Microsoft): \
         Unicode characters confusable with the name (UTS #39 skeleton)"
    );
    assert_eq!(found.registrable, "xn--micrsoft-qbh.com");
}

#[test]
fn kinds_have_distinct_snake_case_names() {
    let names: HashSet<&str> = LookalikeKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), LookalikeKind::ALL.len());
    assert!(
        names
            .iter()
            .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    );
}

#[test]
fn the_builtin_index_stays_small() {
    let stats = index().stats();
    println!("{stats:?}");
    assert!(stats.protected >= 30, "{stats:?}");
    assert!(stats.approx_bytes < 8 << 20, "{stats:?}");
}

#[test]
fn the_index_is_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<LookalikeIndex>();
}

#[test]
fn odd_input_is_answered_without_panicking() {
    let index = index();
    let pieces = [
        "xn--",
        "xn--zz",
        "-",
        ".",
        "..",
        "who",
        "int",
        "com",
        "ß",
        "İ",
        "💩",
        "\u{202e}",
        "\u{0}",
        "м",
        "rn",
        "0",
        "a-",
        "-a",
        "microsoft",
        "linkedin",
        "co.uk",
        ":",
        "[",
        "@",
        " ",
    ];
    let mut checked = 0;
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let _ = index.check(&format!("{a}{b}.{c}"));
                let _ = index.check(&format!("{a}.{b}{c}.com"));
                checked += 2;
            }
        }
    }
    let _ = index.check(&"a.".repeat(200));
    let _ = index.check(&format!("{}.com", "x".repeat(70)));
    assert_eq!(checked, 2 * pieces.len().pow(3));
}
