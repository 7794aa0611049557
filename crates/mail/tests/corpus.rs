//! The fixture corpus: real-format messages written by `scenario::mail_corpus`, each with
//! the verdict and reasons it must get. The files are committed so that people (and other
//! tools) can read them; this test keeps them equal to the generator's output and checks
//! every verdict. `TOCSIN_WRITE_CORPUS=1 cargo test -p tocsin-mail --test corpus` rewrites
//! them after a change to the generator.

use std::path::PathBuf;

use scenario::{CORPUS_AUTHSERV_ID, CORPUS_OWN_DOMAIN, mail_corpus};
use tocsin_mail::analyse::{Analyser, MailConfig, OwnDomains};
use tocsin_mail::parse::{Limits, parse_message};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn analyser() -> Analyser {
    let config = MailConfig {
        trusted_authserv_ids: vec![CORPUS_AUTHSERV_ID.into()],
        ..MailConfig::default()
    };
    Analyser::new(&config).expect("valid configuration")
}

#[test]
fn the_committed_files_are_the_generators_output() {
    let dir = corpus_dir();
    let write = std::env::var_os("TOCSIN_WRITE_CORPUS").is_some();
    let mut expected = Vec::new();
    for (i, case) in mail_corpus().into_iter().enumerate() {
        let path = dir.join(format!("{:02}-{}.eml", i + 1, case.name));
        if write {
            std::fs::write(&path, &case.raw).expect("write corpus file");
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == case.raw,
            "{} differs from the generator; rerun with TOCSIN_WRITE_CORPUS=1",
            path.display()
        );
        expected.push(serde_json::json!({
            "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "about": case.about,
            "verdict": case.expected,
            "reasons_include": case.codes,
        }));
    }
    let listing = serde_json::Value::Array(expected);
    let listing_path = dir.join("expected.json");
    if write {
        let text = serde_json::to_string_pretty(&listing).expect("json") + "\n";
        std::fs::write(&listing_path, text).expect("write expected.json");
    }
    // Compared as JSON values: key order depends on serde_json's features in the build.
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&listing_path).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(
        on_disk, listing,
        "expected.json differs from the generator; rerun with TOCSIN_WRITE_CORPUS=1"
    );
}

#[test]
fn every_message_gets_its_verdict_and_reasons() {
    let analyser = analyser();
    let own = OwnDomains::new("Clinic", &[CORPUS_OWN_DOMAIN.into()]);
    let mut wrong = Vec::new();
    for case in mail_corpus() {
        let mail = parse_message(&case.raw, &Limits::default()).expect("corpus messages parse");
        let analysis = analyser.analyse(&mail, &own);
        let codes: Vec<&str> = analysis.reasons.iter().map(|r| r.code.as_str()).collect();
        let missing: Vec<&&str> = case.codes.iter().filter(|c| !codes.contains(c)).collect();
        println!(
            "{:<32} {:<10} {:>4}  {}",
            case.name,
            analysis.verdict.as_str(),
            analysis.score,
            codes.join(" ")
        );
        if analysis.verdict != case.expected || !missing.is_empty() {
            wrong.push(format!(
                "{}: expected {} with {:?}, got {} ({}) with {:?}",
                case.name,
                case.expected,
                case.codes,
                analysis.verdict,
                analysis.score,
                analysis.reasons
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_corpus_directory_reads_as_mail_with_origins() {
    let reader =
        tocsin_mail::mailbox::read_path(&corpus_dir(), &Limits::default()).expect("readable");
    let read: Vec<_> = reader.collect();
    assert_eq!(read.len(), mail_corpus().len());
    assert!(read.iter().all(|(_, parsed)| parsed.is_ok()));
    let first = &read[0].0;
    assert_eq!(
        serde_json::to_value(first).expect("json")["index"],
        serde_json::json!(1)
    );
}
