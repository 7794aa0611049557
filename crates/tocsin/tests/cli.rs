//! The offline commands as a user runs them: `tocsin scan`, `tocsin parse`, `tocsin demo`.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use jiff::Timestamp;
use support::BIN;

fn tocsin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("TOCSIN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tocsin");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf8")
}

/// The demo's three logs written to files, with the scenario's ground truth.
fn demo_files(dir: &Path) -> (scenario::Demo, Vec<PathBuf>) {
    let start: Timestamp = "2026-03-02T00:00:00Z".parse().expect("start");
    let demo = scenario::demo(7, start);
    let files = demo
        .orgs
        .iter()
        .map(|org| {
            let path = dir.join(&org.file_name);
            std::fs::write(&path, org.lines.join("\n") + "\n").expect("write log");
            path
        })
        .collect();
    (demo, files)
}

#[test]
fn scan_finds_exactly_the_attacks_the_scenario_contains_and_nothing_in_the_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (demo, files) = demo_files(dir.path());
    for (org, file) in demo.orgs.iter().zip(&files) {
        let output = tocsin(
            &[
                "scan",
                "--json",
                "--year",
                "2026",
                file.to_str().expect("path"),
            ],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let incidents: Vec<serde_json::Value> = stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
            .collect();
        // One organisation's file alone cannot show a campaign across organisations.
        let expected: Vec<&scenario::ExpectedDetection> = demo
            .expected
            .iter()
            .filter(|e| e.org == org.name && e.kind != model::DetectionKind::CrossOrgCampaign)
            .collect();
        assert_eq!(
            incidents.len(),
            expected.len(),
            "{}: {incidents:?}",
            org.name
        );
        for want in expected {
            let got = incidents
                .iter()
                .find(|i| i["kind"] == want.kind.as_str())
                .unwrap_or_else(|| panic!("{}: no {} incident", org.name, want.kind));
            assert_eq!(got["severity"], want.severity.as_str(), "{}", org.name);
            assert_eq!(got["technique"], want.kind.technique().id());
            assert_eq!(
                got["accounts"],
                serde_json::json!(want.accounts),
                "{}",
                org.name
            );
            let sources: Vec<String> = want.sources.iter().map(|ip| ip.to_string()).collect();
            assert_eq!(got["sources"], serde_json::json!(sources), "{}", org.name);
            assert_eq!(
                got["compromised_accounts"],
                serde_json::json!(want.compromised),
                "{}",
                org.name
            );
            for field in ["id", "first_seen", "last_seen", "evidence_count", "summary"] {
                assert!(!got[field].is_null(), "{field} missing in {got}");
            }
        }
        assert!(
            stderr(&output).contains("could not read 0 records"),
            "{}",
            stderr(&output)
        );
    }
}

/// A small log with one brute force, used for the snapshots.
fn small_log() -> String {
    let mut attack = scenario::BruteForce::new(
        "root",
        "198.51.100.23".parse().expect("ip"),
        "2026-05-04T03:00:00Z".parse().expect("time"),
        11,
        jiff::SignedDuration::from_secs(3),
    );
    attack.format = model::Format::Sshd;
    attack.protocol = model::Protocol::Ssh;
    attack.failure_kind = model::FailureKind::BadPassword;
    attack.then_success = true;
    let mut lines: Vec<String> = scenario::brute_force(&attack)
        .iter()
        .map(|s| scenario::render_sshd(s, "gw"))
        .collect();
    lines.insert(
        2,
        "May  4 03:00:04 gw CRON[2211]: pam_unix(cron:session): session opened for user root"
            .into(),
    );
    lines.insert(
        4,
        "May  4 03:00:07 gw sshd[991]: Failed password for".into(),
    );
    lines.insert(
        6,
        "{\"createdDateTime\": \"yesterday\", \"userPrincipalName\": \"a@b.example\"}".into(),
    );
    lines.join("\n") + "\n"
}

#[test]
fn scan_prints_a_table_and_json_and_reads_gzip_and_stdin_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("auth.log");
    std::fs::write(&plain, small_log()).expect("write");
    let gz = dir.path().join("auth.log.1.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::fast(),
    );
    encoder.write_all(small_log().as_bytes()).expect("gzip");
    encoder.finish().expect("finish");

    let table = tocsin(
        &["scan", "--year", "2026", plain.to_str().expect("path")],
        None,
    );
    assert!(table.status.success());
    insta::assert_snapshot!("scan_table", stdout(&table));
    let summary = stderr(&table).replace(plain.to_str().expect("path"), "auth.log");
    insta::assert_snapshot!("scan_summary", summary);

    let json = tocsin(
        &[
            "scan",
            "--json",
            "--year",
            "2026",
            plain.to_str().expect("path"),
        ],
        None,
    );
    insta::assert_snapshot!("scan_json", stdout(&json));
    let from_gzip = tocsin(
        &[
            "scan",
            "--json",
            "--year",
            "2026",
            gz.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(stdout(&from_gzip), stdout(&json));
    let from_stdin = tocsin(
        &["scan", "--json", "--year", "2026", "-"],
        Some(small_log().as_bytes()),
    );
    assert_eq!(stdout(&from_stdin), stdout(&json));
}

#[test]
fn parse_shows_every_sign_in_and_every_unreadable_line_with_its_origin() {
    let output = tocsin(
        &["parse", "--year", "2026", "-"],
        Some(small_log().as_bytes()),
    );
    assert!(output.status.success());
    let records: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    // 11 failures + 1 success, and two unreadable lines; the cron line is not printed.
    assert_eq!(records.len(), 14);
    let errors: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r.get("error").is_some())
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0]["origin"],
        serde_json::json!({"file": "-", "line": 5})
    );
    assert_eq!(
        errors[1]["origin"],
        serde_json::json!({"file": "-", "line": 7})
    );
    assert!(
        errors[1]["error"]
            .as_str()
            .expect("reason")
            .contains("createdDateTime"),
        "{}",
        errors[1]
    );
    let first = &records[0];
    assert_eq!(first["time"], "2026-05-04T03:00:00Z");
    assert_eq!(first["account"], "root");
    assert_eq!(first["source_ip"], "198.51.100.23");
    assert_eq!(first["source_network"], "198.51.100.0/24");
    assert_eq!(first["outcome"], "failure");
    assert_eq!(first["failure_kind"], "bad_password");
    assert_eq!(first["protocol"], "ssh");
    assert_eq!(first["origin"], serde_json::json!({"file": "-", "line": 1}));
    assert!(
        stderr(&output).contains(
            "Read 12 sign-ins, ignored 1 line of other events, could not read 2 records."
        ),
        "{}",
        stderr(&output)
    );

    let all = tocsin(
        &["parse", "--all", "--year", "2026", "-"],
        Some(small_log().as_bytes()),
    );
    let ignored: Vec<serde_json::Value> = stdout(&all)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .filter(|r: &serde_json::Value| r.get("ignored").is_some())
        .collect();
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["origin"]["line"], 3);
}

#[test]
fn a_missing_file_is_reported_and_the_others_are_still_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("auth.log");
    std::fs::write(&plain, small_log()).expect("write");
    let output = tocsin(
        &[
            "scan",
            "--json",
            "--year",
            "2026",
            "/nonexistent/auth.log",
            plain.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output).lines().count(),
        1,
        "the readable file's incident is still printed"
    );
    assert!(
        stderr(&output)
            .contains("error: cannot read /nonexistent/auth.log: No such file or directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_demo_delivers_every_notification_by_webhook_with_a_valid_signature_and_by_e_mail() {
    let output = tocsin(&["demo", "--listen", "127.0.0.1:0", "--once"], None);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    // Seven sign-in incidents, three known-indicator incidents (the ISAC's bundle names
    // the spray's network) and four phishing incidents open; the replayed day starts at a
    // UTC midnight whatever the hour, so no spray incident is escalated by the brute
    // force's account takeover (it falls outside the compromise window).
    let opened = out.matches("(incident.opened,").count();
    let escalated = out.matches("(incident.escalated,").count();
    assert_eq!(opened, 14, "{out}");
    assert_eq!(escalated, 0, "{out}");
    let sent = opened + escalated;
    // Each notification goes to the organisation's webhook and to its security team's
    // mailbox (the service's own SMTP listener stands in for their mail server).
    assert!(
        out.contains(&format!(
            "Notifications: {} delivered ({sent} webhooks whose signature the receiver verified, {sent} e-mails the local SMTP relay received), 0 pending, 0 dead; 0 signatures refused.",
            2 * sent
        )),
        "{out}"
    );
    // The vaccine maker reads French: four phishing, two spray and one indicator notices.
    let northwind = out
        .lines()
        .find(|l| {
            l.contains("✉ security@northwind-vaccines.example: 7 e-mail(s), such as: [tocsin] ")
        })
        .unwrap_or_else(|| panic!("the vaccine maker's mailbox: {out}"));
    assert!(northwind.ends_with(" de Northwind Vaccines"), "{northwind}");
    assert!(
        out.contains("✉ security@stbrigids-hospital.example: 4 e-mail(s)"),
        "{out}"
    );
    assert!(
        out.contains("✉ security@openwitness.example: 3 e-mail(s)"),
        "{out}"
    );
    assert!(out.contains("St. Brigid's Hospital (4 incidents)"), "{out}");
    assert!(out.contains("Northwind Vaccines (7 incidents)"), "{out}");
    assert!(
        out.contains("Judging 7 inbound messages for Northwind Vaccines"),
        "{out}"
    );
    assert_eq!(
        out.matches("Spear-phishing against ana.silva@northwind-vaccines.example")
            .count(),
        4 + 4,
        "four notifications and four incident summaries: {out}"
    );
    assert!(out.contains("Open Witness (3 incidents)"), "{out}");
    // The ISAC's bundle attributes the spray (its known-indicator, spray and campaign
    // incidents at each organisation) and the WHO lookalike.
    assert!(
        out.contains("The health ISAC shares a STIX 2.1 bundle (POST /api/v1/intel/feeds/health-isac/bundles): 2 indicators, 2 actors, 0 problems."),
        "{out}"
    );
    assert_eq!(
        out.matches("who: Forest Blizzard (STRONTIUM, APT28): very likely, high confidence")
            .count(),
        9,
        "{out}"
    );
    assert!(
        out.contains("Spear-phishing — who: Ruby Sleet (CERIUM): very likely, high confidence"),
        "{out}"
    );
    assert_eq!(
        out.matches("treat it as compromised").count(),
        2 + 2 * escalated,
        "the brute force's (and an escalated spray's) notification and table line: {out}"
    );
}

#[test]
fn config_prints_the_documented_defaults() {
    let output = tocsin(&["config"], None);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("min_failures = 10"), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
}

/// Issue 11: with `[enrich]` databases, `parse` and `scan` add country and ASN; a wrong
/// path stops them with the path in the message.
#[test]
fn parse_and_scan_enrich_with_the_configured_databases() {
    let test_data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ipdb/maxmind-test-data/test-data");
    let city = test_data.join("GeoLite2-City-Test.mmdb");
    assert!(
        city.is_file(),
        "{} is missing: the repository must be checked out beside shared/",
        city.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("tocsin.toml");
    std::fs::write(
        &config,
        format!(
            "[enrich]\ncountry_db = {:?}\nasn_db = {:?}\n",
            city.display().to_string(),
            test_data
                .join("GeoLite2-ASN-Test.mmdb")
                .display()
                .to_string()
        ),
    )
    .expect("write config");
    let log = "\
May  4 03:00:00 gw sshd[9]: Failed password for root from 81.2.69.144 port 22 ssh2
May  4 03:00:01 gw sshd[9]: Failed password for root from 67.43.156.13 port 22 ssh2
";
    let output = tocsin(
        &[
            "parse",
            "--config",
            config.to_str().expect("path"),
            "--year",
            "2026",
            "-",
        ],
        Some(log.as_bytes()),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let records: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(records.len(), 2, "{}", stdout(&output));
    assert_eq!(records[0]["country"], "GB");
    assert_eq!(records[0].get("asn"), None, "not in the ASN test database");
    assert_eq!(records[1]["country"], "BT");
    assert_eq!(records[1]["asn"], 35908);

    let scan = tocsin(
        &[
            "scan",
            "--config",
            config.to_str().expect("path"),
            "--year",
            "2026",
            "-",
        ],
        Some(log.as_bytes()),
    );
    assert!(scan.status.success(), "{}", stderr(&scan));

    std::fs::write(
        &config,
        "[enrich]\ncountry_db = \"/nonexistent/City.mmdb\"\n",
    )
    .expect("write config");
    let missing = tocsin(
        &["parse", "--config", config.to_str().expect("path"), "-"],
        Some(log.as_bytes()),
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains(
            "cannot read the country database /nonexistent/City.mmdb: No such file or directory"
        ),
        "{}",
        stderr(&missing)
    );
}
