//! `tocsin-bench gen mbox`: the mbox it writes splits into exactly the messages its truth
//! file names, in order, each readable by tocsin's mailbox reader; the same seed writes
//! the same bytes; and tocsin's mail analyser, configured by `bench/scan.toml` as
//! `tocsin scan -c bench/scan.toml` is, finds what it finds. The last test records
//! tocsin's recall per phishing kind and its false positives on the benign mail of a
//! 500-message mbox: the figures are measured, not targets, and the data is not shaped
//! to them. A change to the analyser that moves them shows here.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use mail::analyse::{Analyser, MailConfig, OwnDomains};
use mail::mailbox::read_path;
use mail::parse::Limits;
use model::Verdict;
use scenario::{BULK_OWN_DOMAINS, MailKind};

const COUNT: u64 = 500;

/// Runs the binary; returns the mbox's path and the parsed truth.
fn generate(seed: u64, name: &str) -> (PathBuf, serde_json::Value) {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_tocsin-bench"))
        .args(["gen", "mbox", "--count", &COUNT.to_string()])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .output()
        .expect("run tocsin-bench");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut truth_path = out.clone().into_os_string();
    truth_path.push(".truth.json");
    let truth = std::fs::read_to_string(&truth_path).expect("truth file");
    (out, serde_json::from_str(&truth).expect("truth is JSON"))
}

fn kind_of(name: &str) -> MailKind {
    *MailKind::ALL
        .iter()
        .find(|k| k.as_str() == name)
        .unwrap_or_else(|| panic!("unknown kind {name}"))
}

#[test]
fn the_mbox_splits_into_the_messages_the_truth_names_in_order() {
    let (mbox, truth) = generate(1, "order.mbox");
    assert_eq!(truth["dataset"], "mbox");
    assert_eq!(truth["records"], COUNT);
    assert_eq!(truth["seed"], 1);
    assert_eq!(truth["own_domains"], serde_json::json!(BULK_OWN_DOMAINS));
    let listed = truth["messages"].as_array().expect("messages");
    assert_eq!(listed.len() as u64, COUNT);

    let reader = read_path(&mbox, &Limits::default()).expect("open the mbox");
    let mut read = 0u64;
    let mut ids = HashSet::new();
    let mut kinds = HashSet::new();
    for ((origin, parsed), entry) in reader.zip(listed) {
        read += 1;
        let mail = parsed.unwrap_or_else(|e| panic!("{origin}: {e}"));
        let listed_id = entry["message_id"].as_str().expect("message_id");
        assert!(
            listed_id.starts_with('<') && listed_id.ends_with('>'),
            "{listed_id}"
        );
        assert_eq!(
            mail.message_id.as_deref(),
            Some(&listed_id[1..listed_id.len() - 1]),
            "{origin}"
        );
        assert!(ids.insert(listed_id.to_owned()), "{listed_id} twice");
        let kind = kind_of(entry["kind"].as_str().expect("kind"));
        assert_eq!(entry["phishing"], kind.is_phishing(), "{origin}");
        assert!(mail.warnings.is_empty(), "{origin}: {:?}", mail.warnings);
        kinds.insert(kind);
    }
    assert_eq!(read, COUNT, "the reader found another number of messages");
    for kind in MailKind::ALL {
        assert!(kinds.contains(&kind), "no {kind} message");
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_other_bytes() {
    let (a, truth_a) = generate(1, "same-a.mbox");
    let (b, truth_b) = generate(1, "same-b.mbox");
    let (c, _) = generate(2, "other.mbox");
    let read = |p: &Path| std::fs::read(p).expect("read mbox");
    assert!(read(&a) == read(&b), "seed 1 twice gave different bytes");
    assert_eq!(truth_a, truth_b);
    assert!(read(&a) != read(&c), "seeds 1 and 2 gave the same bytes");
}

/// The analyser and own domains `tocsin scan -c bench/scan.toml` uses.
fn scan_configuration() -> (Analyser, OwnDomains) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scan.toml");
    let text = std::fs::read_to_string(&path).expect("bench/scan.toml");
    let document: toml::Table = toml::from_str(&text).expect("bench/scan.toml is TOML");
    let config: MailConfig = document
        .get("mail")
        .cloned()
        .expect("a [mail] section")
        .try_into()
        .expect("a valid [mail] section");
    let mut protected = config.protected_domains.clone();
    protected.sort();
    let mut own: Vec<String> = BULK_OWN_DOMAINS.iter().map(|d| (*d).to_owned()).collect();
    own.sort();
    assert_eq!(protected, own, "scan.toml protects the mbox's own domains");
    assert_eq!(config.trusted_authserv_ids, [scenario::CORPUS_AUTHSERV_ID]);
    let analyser = Analyser::new(&config).expect("valid configuration");
    // As scan_mail.rs builds it.
    let own = OwnDomains::new("protected organisation", &config.protected_domains);
    (analyser, own)
}

/// Verdicts per kind: (phishing, suspicious, clean).
type Tally = BTreeMap<MailKind, (u32, u32, u32)>;

#[test]
fn tocsin_recall_per_phishing_kind_and_benign_false_positives() {
    let (mbox, truth) = generate(1, "recall.mbox");
    let (analyser, own) = scan_configuration();
    let listed = truth["messages"].as_array().expect("messages");
    let mut tally = Tally::new();
    let mut templates: BTreeMap<(MailKind, &'static str), (u32, u32, u32)> = BTreeMap::new();
    // The library gives each message's template, which the truth file does not carry.
    let generated = scenario::bulk_mail(1);
    let reader = read_path(&mbox, &Limits::default()).expect("open the mbox");
    for (((_, parsed), entry), message) in reader.zip(listed).zip(generated) {
        let mail = parsed.expect("every message parses");
        let message = message.expect("generation");
        let kind = kind_of(entry["kind"].as_str().expect("kind"));
        assert_eq!(message.kind, kind);
        let verdict = analyser.analyse(&mail, &own).verdict;
        for row in [
            tally.entry(kind).or_default(),
            templates.entry((kind, message.template)).or_default(),
        ] {
            match verdict {
                Verdict::Phishing => row.0 += 1,
                Verdict::Suspicious => row.1 += 1,
                Verdict::Clean => row.2 += 1,
            }
        }
    }
    println!(
        "{:<22} {:>5} {:>9} {:>10} {:>6}  recall (phishing / any flag)",
        "kind", "n", "phishing", "suspicious", "clean"
    );
    for (kind, (p, s, c)) in &tally {
        let n = p + s + c;
        println!(
            "{:<22} {n:>5} {p:>9} {s:>10} {c:>6}  {:.0} % / {:.0} %",
            kind.as_str(),
            100.0 * f64::from(*p) / f64::from(n),
            100.0 * f64::from(p + s) / f64::from(n)
        );
    }
    println!("\nby template: (phishing, suspicious, clean)");
    for ((kind, template), row) in &templates {
        println!("{:<22} {template:<28} {row:?}", kind.as_str());
    }

    // Measured with tocsin's default weights and thresholds on seed 1, 500 messages.
    // What it misses, and why (the mail is written as the campaigns are, not to suit it):
    // - bec_display_name: an executive's name on a free-mail address asking for a payment,
    //   with no link and no attachment; tocsin does not know the executives' names, and
    //   only a title in the display name ("CEO") or a Reply-To elsewhere counts.
    // - malicious_attachment: a PDF whose only content is a link to the download (links
    //   in PDFs are not read); macro documents, HTML smuggling pages and encrypted
    //   archives from compromised businesses, whose mail passes DMARC (-20).
    // - lookalike_domain: look-alikes of partners' domains (a supplier changing its bank
    //   details): only the clinic's own domains and the built-in identities are protected.
    // - credential_phish: sign-in pages on free hosting (pages.dev, r2.dev, ipfs.io) or on
    //   DocuSign look-alikes (not a built-in identity), sent from compromised accounts.
    // - benign: SharePoint's notices from sharepointonline.com (Microsoft's name in a
    //   domain outside its list), the CDC's bulletins through GovDelivery (display name),
    //   a mailing list that breaks a p=none poster's DKIM signature (dmarc_fail).
    let expected: Tally = [
        (MailKind::Benign, (1, 17, 382)),
        (MailKind::FakeRecruiter, (12, 0, 0)),
        (MailKind::WhoCovid, (12, 0, 0)),
        (MailKind::LookalikeDomain, (3, 9, 2)),
        (MailKind::CredentialPhish, (8, 6, 3)),
        (MailKind::MaliciousAttachment, (0, 7, 9)),
        (MailKind::BecDisplayName, (0, 0, 17)),
        (MailKind::OwnDomainSpoof, (1, 11, 0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        tally, expected,
        "tocsin's verdicts on the benchmark mbox changed: (phishing, suspicious, clean) per kind"
    );
}
