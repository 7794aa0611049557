//! Every permutation dnstwist generates for who.int, linkedin.com and microsoft.com must
//! be recognised as imitating that domain.
//!
//! dnstwist (PyPI `dnstwist`) is run through its Python API, which generates the
//! permutations with their fuzzer names and touches no network. Its `dictionary` and
//! `tld-swap` fuzzers only produce what they are given: they get the index's own lure
//! words and the suffix list below. Skips with a message when dnstwist is not installed.

use std::collections::BTreeMap;
use std::process::Command;

use tocsin_mail::lookalike::{LURE_WORDS, LookalikeIndex, builtin_domains};

const DOMAINS: [&str; 3] = ["who.int", "linkedin.com", "microsoft.com"];

/// Suffixes for the `tld-swap` fuzzer: the common generic and country-code ones, the
/// new generic TLDs phishers favour, and the private "fake TLDs" (`uk.com`).
const SUFFIXES: &[&str] = &[
    "com", "net", "org", "info", "biz", "int", "gov", "edu", "mil", "io", "co", "me", "app", "dev",
    "xyz", "top", "online", "site", "live", "shop", "club", "work", "support", "email", "cloud",
    "link", "click", "tk", "ml", "ga", "cf", "gq", "cc", "ws", "ru", "su", "cn", "de", "fr", "uk",
    "co.uk", "org.uk", "ca", "in", "co.in", "kr", "co.kr", "jp", "co.jp", "br", "com.br", "au",
    "com.au", "es", "it", "nl", "ch", "be", "pl", "eu", "us", "mx", "ar", "za", "ng", "ir", "tr",
    "ua", "kz", "vn", "id", "ph", "pk", "uk.com", "us.com", "eu.com", "de.com", "cn.com", "ru.com",
    "uk.net", "us.org",
];

/// Permutations that are not look-alikes, and why.
const EXCEPTIONS: &[(&str, &str)] = &[(
    "microsoftonline.com",
    "dictionary microsoft + online: Microsoft's own sign-in domain, protected itself",
)];

const GENERATE: &str = r#"
import json, sys
import dnstwist
request = json.load(sys.stdin)
for domain in request["domains"]:
    fuzzer = dnstwist.Fuzzer(domain, dictionary=request["words"], tld_dictionary=request["suffixes"])
    fuzzer.generate()
    for p in fuzzer.domains:
        print(domain, p["fuzzer"], p["domain"], sep="\t")
"#;

fn dnstwist_permutations() -> Option<Vec<(String, String, String)>> {
    let request = format!(
        r#"{{"domains": {:?}, "words": {:?}, "suffixes": {:?}}}"#,
        DOMAINS, LURE_WORDS, SUFFIXES
    );
    let child = Command::new("python3")
        .args(["-c", GENERATE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    let mut child = child;
    child.stdin.take()?.write_all(request.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(
        text.lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                ))
            })
            .collect(),
    )
}

#[test]
fn every_dnstwist_permutation_is_recognised() {
    let Some(permutations) = dnstwist_permutations() else {
        // scripts/test installs it and sets this: there a missing tool is a failure.
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed what this test needs"
        );
        println!("SKIPPED: dnstwist is not installed (pip install dnstwist)");
        return;
    };
    let index = LookalikeIndex::builtin();
    // fuzzer -> (generated, recognised, same kind as dnstwist's)
    let mut per_fuzzer: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut siblings = Vec::new();
    let owners = builtin_domains();
    let owner_of = |domain: &str| {
        owners
            .iter()
            .find(|p| p.domain == domain)
            .map(|p| p.owner.clone())
    };
    for (original, fuzzer, host) in &permutations {
        if fuzzer == "*original" {
            continue;
        }
        let row = per_fuzzer.entry(fuzzer.clone()).or_default();
        row.0 += 1;
        if EXCEPTIONS.iter().any(|(h, _)| h == host) {
            row.1 += 1;
            continue;
        }
        match index.check(host) {
            Some(found) if found.protected == *original => {
                row.1 += 1;
                let kind = found.kind.as_str();
                let agrees = kind == fuzzer.replace('-', "_")
                    || (matches!(fuzzer.as_str(), "homoglyph" | "cyrillic")
                        && matches!(kind, "homoglyph" | "confusable" | "idn_homograph"));
                if agrees {
                    row.2 += 1;
                }
            }
            // Another domain of the same owner is the nearer one
            // (`microsoft-online.com` is one hyphen from `microsoftonline.com`).
            Some(found) if owner_of(&found.protected) == owner_of(original) => {
                row.1 += 1;
                siblings.push(format!("{host} -> {} {}", found.protected, found.kind));
            }
            other => misses.push(format!("{original} {fuzzer} {host}: {other:?}")),
        }
    }
    println!(
        "{:<14} {:>9} {:>10} {:>9}",
        "fuzzer", "generated", "recognised", "same kind"
    );
    for (fuzzer, (generated, recognised, same)) in &per_fuzzer {
        println!("{fuzzer:<14} {generated:>9} {recognised:>10} {same:>9}");
    }
    for (host, why) in EXCEPTIONS {
        println!("EXCEPTION {host}: {why}");
    }
    for s in &siblings {
        println!("SAME OWNER {s}");
    }
    for m in &misses {
        println!("MISS {m}");
    }
    let fuzzers = [
        "addition",
        "bitsquatting",
        "cyrillic",
        "dictionary",
        "homoglyph",
        "hyphenation",
        "insertion",
        "omission",
        "plural",
        "repetition",
        "replacement",
        "subdomain",
        "tld-swap",
        "transposition",
        "various",
        "vowel-swap",
    ];
    for f in fuzzers {
        assert!(
            per_fuzzer.get(f).is_some_and(|r| r.0 > 0),
            "dnstwist generated no {f}"
        );
    }
    assert!(
        misses.is_empty(),
        "{} of {} permutations missed",
        misses.len(),
        permutations.len()
    );
}
