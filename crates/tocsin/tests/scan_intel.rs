//! `tocsin scan --intel`: old logs and mail matched against threat intelligence read from
//! files, as the service matches what it receives against its feeds.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::BIN;

const SPRAY_NETWORK: &str = "indicator--7f3a9c2e-4b1d-4e8a-9f6b-2c5d8e1a0b31";
const PHISHING_DOMAIN: &str = "indicator--2d8e6b4f-1c3a-4f5e-8b7d-9a0c1e2f3a42";
const REVOKED: &str = "indicator--5c1b7a9d-3e2f-4a6b-8c0d-1e4f7a2b9c53";
const EXPIRED: &str = "indicator--9e4d2c1b-6a5f-4b3e-8d2c-7f1a0b9e8d64";
const SCANNER: &str = "indicator--8a9b0c1d-2e3f-4a4b-8c5d-6e7f8a9b0cdb";
const PROCESS: &str = "indicator--6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8ab9";
const FOLLOWED_BY: &str = "indicator--7f8a9b0c-1d2e-4f3a-9b4c-5d6e7f8a9bca";

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/intel")
        .join(name)
        .display()
        .to_string()
}

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/intel")
        .join(name)
}

fn tocsin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("TOCSIN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tocsin");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf8")
}

fn incidents(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect()
}

/// `count` sshd lines from `ip` against `account`, a second apart from `start` (seconds
/// after 03:00:00 on 4 May), failed or accepted.
fn sshd(account: &str, ip: &str, start: u32, count: u32, accepted: bool) -> String {
    (start..start + count)
        .map(|s| {
            let what = if accepted {
                "Accepted password"
            } else {
                "Failed password"
            };
            format!(
                "May  4 03:{:02}:{:02} gw sshd[{}]: {what} for {account} from {ip} port 22 ssh2\n",
                s / 60,
                s % 60,
                100 + s
            )
        })
        .collect()
}

/// A brute force from the bundle's spraying network (whose indicator expired after the
/// log, before the scan), a failure from its revoked network, and a brute force from its
/// expired network (expired before the log).
fn log() -> String {
    sshd("root", "203.0.113.5", 0, 11, false)
        + &sshd("backup", "198.51.100.9", 20, 1, false)
        + &sshd("admin", "192.0.2.44", 30, 11, false)
}

fn by_kind<'a>(incidents: &'a [Value], kind: &str, account: &str) -> &'a Value {
    incidents
        .iter()
        .find(|i| i["kind"] == kind && i["accounts"][0] == account)
        .unwrap_or_else(|| panic!("no {kind} incident against {account}: {incidents:?}"))
}

#[test]
fn a_sign_in_from_a_bundle_network_is_a_known_indicator_attributed_to_its_actor() {
    let bundle = data("forest-blizzard.json");
    let output = tocsin(
        &["scan", "--json", "--year", "2026", "--intel", &bundle, "-"],
        &log(),
    );
    let found = incidents(&output);
    assert_eq!(found.len(), 3, "{found:?}");

    let known = by_kind(&found, "known_indicator", "root");
    assert_eq!(known["id"], "scan-0001");
    assert_eq!(
        known["severity"], "high",
        "linked to an actor, not a success"
    );
    assert_eq!(known["sources"], serde_json::json!(["203.0.113.5"]));
    assert_eq!(known["evidence_count"], 11);
    let hit = &known["indicators"][0];
    assert_eq!(known["indicators"].as_array().map(Vec::len), Some(1));
    assert_eq!(hit["indicator"], SPRAY_NETWORK);
    assert_eq!(hit["feed"], "forest-blizzard");
    assert_eq!(hit["field"], "ipv4-addr:value");
    assert_eq!(hit["observed"], "203.0.113.5");
    assert_eq!(hit["pattern"], "[ipv4-addr:value = '203.0.113.0/24']");
    assert_eq!(
        hit["actors"],
        serde_json::json!(["intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"])
    );
    assert_eq!(hit["labels"], serde_json::json!(["malicious-activity"]));
    let reason = known["reasons"][0].as_str().expect("reason");
    assert!(
        reason.contains(&format!(
            "indicator {SPRAY_NETWORK} of feed forest-blizzard"
        )),
        "{reason}"
    );
    let attribution = &known["attribution"];
    assert_eq!(attribution["actor"]["id"], "apt28", "{attribution}");
    assert_eq!(attribution["words"], "very likely");
    assert_eq!(attribution["confidence"], "high");

    // The brute force from the same address inherits its hit, and so its attribution.
    let brute = by_kind(&found, "brute_force", "root");
    assert_eq!(brute["indicators"][0]["indicator"], SPRAY_NETWORK);
    assert_eq!(brute["attribution"]["actor"]["id"], "apt28");

    // The revoked network opens nothing; the expired one matches nothing, so its brute
    // force is only a brute force, and says why nobody is named.
    let text = stdout(&output);
    assert!(!text.contains(REVOKED), "{text}");
    assert!(!text.contains(EXPIRED), "{text}");
    assert!(!found.iter().any(|i| i["sources"][0] == "198.51.100.9"));
    let old = by_kind(&found, "brute_force", "admin");
    assert_eq!(old["sources"], serde_json::json!(["192.0.2.44"]));
    assert_eq!(old["indicators"], serde_json::json!([]));
    assert_eq!(old["attribution"]["actor"], Value::Null);
    assert_eq!(old["attribution"]["words"], "unattributed");
    assert!(
        !old["attribution"]["evidence"]
            .as_array()
            .expect("evidence")
            .is_empty(),
        "an unattributed incident says why: {old}"
    );

    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "Intelligence {bundle}: stix, 3 indicators, 1 actor, 0 benign values, 0 problems; 1 revoked."
        )),
        "{err}"
    );
    assert!(
        err.contains("Matching against 3 indicators and "),
        "the expired indicator is compiled, judged at each event's time: {err}"
    );
}

#[test]
fn the_table_names_the_indicator_and_the_attribution_under_each_incident() {
    let bundle = data("forest-blizzard.json");
    let output = tocsin(&["scan", "--year", "2026", "--intel", &bundle, "-"], &log());
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("scan_intel_table", stdout(&output));
}

#[test]
fn without_intel_incidents_are_still_weighed_against_the_built_in_catalogue() {
    let output = tocsin(&["scan", "--json", "--year", "2026", "-"], &log());
    let found = incidents(&output);
    assert_eq!(found.len(), 2, "two brute forces, no indicators: {found:?}");
    for incident in &found {
        assert_eq!(incident["kind"], "brute_force");
        assert_eq!(incident["indicators"], serde_json::json!([]));
        assert_eq!(incident["attribution"]["words"], "unattributed");
    }
    assert!(
        !stderr(&output).contains("Intelligence"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_plain_list_of_tor_exits_matches_the_same_way() {
    let list = data("tor-exits.txt");
    let output = tocsin(
        &["scan", "--json", "--year", "2026", "--intel", &list, "-"],
        &sshd("ana", "185.220.101.5", 0, 1, true),
    );
    let found = incidents(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    let known = &found[0];
    assert_eq!(known["kind"], "known_indicator");
    assert_eq!(known["severity"], "critical", "the sign-in succeeded");
    assert_eq!(known["compromised_accounts"], serde_json::json!(["ana"]));
    assert_eq!(known["indicators"][0]["indicator"], "tor-exits:3");
    assert_eq!(known["indicators"][0]["feed"], "tor-exits");
    assert_eq!(
        known["indicators"][0]["labels"],
        serde_json::json!(["tor-exits"])
    );
    // A list links no actor: only behaviour is weighed (the technique, Tor egress), which
    // never says more than an even chance at low confidence.
    let attribution = &known["attribution"];
    assert_eq!(attribution["words"], "roughly even chance", "{attribution}");
    assert_eq!(attribution["confidence"], "low");
    let evidence = attribution["evidence"].to_string();
    assert!(
        evidence.contains("on a tor-exits list")
            && evidence.contains("Indicator tor-exits:3 (tor-exits) matched")
            && evidence.contains("links it to no actor"),
        "{evidence}"
    );
    assert!(
        stderr(&output).contains(&format!(
            "Intelligence {list}: list, 2 indicators, 0 actors, 0 benign values, 0 problems."
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_message_from_an_indicator_domain_is_phishing_with_the_known_indicator_reason() {
    let bundle = data("forest-blizzard.json");
    let eml = data("mfa-reset.eml");
    let with = tocsin(&["scan", "--json", "--intel", &bundle, &eml], "");
    assert!(with.status.success(), "{}", stderr(&with));
    let line: Value = serde_json::from_str(stdout(&with).trim()).expect("one message");
    assert_eq!(line["verdict"], "phishing", "{line}");
    let reason = line["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r["code"] == "known_indicator")
        .unwrap_or_else(|| panic!("no known_indicator reason: {line}"));
    assert_eq!(reason["weight"], 60);
    let evidence = reason["evidence"].as_str().expect("evidence");
    assert!(
        evidence.contains(PHISHING_DOMAIN)
            && evidence.contains("feed forest-blizzard")
            && evidence.contains("mfa-verify-portal.example"),
        "{evidence}"
    );

    let without = tocsin(&["scan", "--json", &eml], "");
    let line: Value = serde_json::from_str(stdout(&without).trim()).expect("one message");
    assert_ne!(line["verdict"], "phishing", "{line}");
    assert!(!stdout(&without).contains("known_indicator"));

    let table = tocsin(&["scan", "--intel", &bundle, &eml], "");
    let text = stdout(&table);
    assert!(text.starts_with("PHISHING"), "{text}");
    assert!(text.contains("+60 known_indicator"), "{text}");
}

#[test]
fn the_misp_feed_sample_loads_and_matches_its_addresses() {
    let feed = shared("misp-feed-sample");
    assert!(
        feed.join("manifest.json").is_file(),
        "{} is missing: the repository must be checked out beside shared/",
        feed.display()
    );
    let feed = feed.display().to_string();
    let output = tocsin(
        &["scan", "--json", "--year", "2026", "--intel", &feed, "-"],
        &sshd("root", "95.215.45.43", 0, 1, false),
    );
    let found = incidents(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "known_indicator");
    let hit = &found[0]["indicators"][0];
    assert_eq!(hit["indicator"], "5a3ce5f8-99b4-41a2-915a-4bf8950d210f");
    assert_eq!(hit["feed"], "misp-feed-sample");
    assert_eq!(hit["pattern"], "[ipv4-addr:value = '95.215.45.43']");
    // The Sednit event's `threat-actor="Sofacy"` galaxy cluster is the catalogue's APT28.
    assert_eq!(found[0]["attribution"]["actor"]["id"], "apt28");
    assert_eq!(found[0]["attribution"]["words"], "very likely");
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "Intelligence {feed}: misp, 71 indicators, 1 actor, 0 benign values, 0 problems."
        )),
        "{err}"
    );
}

#[test]
fn refused_patterns_are_reported_by_id_and_reason_and_the_rest_still_matches() {
    let bundle = data("forest-blizzard.json");
    let refused = data("refused-patterns.json");
    let output = tocsin(
        &[
            "scan", "--json", "--year", "2026", "--intel", &bundle, "--intel", &refused, "-",
        ],
        &sshd("root", "203.0.113.9", 0, 1, false),
    );
    let found = incidents(&output);
    let matched: Vec<&str> = found
        .iter()
        .flat_map(|i| i["indicators"].as_array().into_iter().flatten())
        .filter_map(|m| m["indicator"].as_str())
        .collect();
    assert!(matched.contains(&SCANNER), "{matched:?}");
    assert!(matched.contains(&SPRAY_NETWORK), "{matched:?}");
    assert!(!matched.contains(&FOLLOWED_BY), "{matched:?}");

    let err = stderr(&output);
    assert!(
        err.contains("Matching against 4 indicators and ") && err.contains("; 2 problems."),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "  refused-patterns: {PROCESS}: pattern not evaluated: tocsin does not observe `process:name`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "  refused-patterns: {FOLLOWED_BY}: pattern not evaluated: FOLLOWEDBY needs an ordered sequence of events"
        )),
        "{err}"
    );
}

#[test]
fn an_unreadable_intel_path_stops_the_scan_with_the_reason() {
    let output = tocsin(
        &["scan", "--intel", "/nonexistent/feed.json", "-"],
        &sshd("root", "203.0.113.9", 0, 1, false),
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("cannot read the intelligence in /nonexistent/feed.json"),
        "{err}"
    );
}

/// One indicator in a bundle of its own: `modified` says which version is newer.
fn one_indicator_bundle(modified: &str, network: &str) -> String {
    versioned_bundle(modified, network, false)
}

fn versioned_bundle(modified: &str, network: &str, revoked: bool) -> String {
    serde_json::json!({
        "type": "bundle",
        "id": "bundle--9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e",
        "objects": [{
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": modified,
            "pattern": format!("[ipv4-addr:value = '{network}']"),
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "revoked": revoked
        }]
    })
    .to_string()
}

#[test]
fn across_files_the_newest_version_of_an_indicator_counts_whatever_the_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let older = dir.path().join("older.json");
    let newer = dir.path().join("newer.json");
    std::fs::write(
        &older,
        one_indicator_bundle("2026-01-01T00:00:00.000Z", "203.0.113.0/24"),
    )
    .expect("write");
    std::fs::write(
        &newer,
        one_indicator_bundle("2026-02-01T00:00:00.000Z", "198.51.100.0/24"),
    )
    .expect("write");
    let log = sshd("root", "203.0.113.5", 0, 1, false) + &sshd("ana", "198.51.100.7", 5, 1, false);
    for (first, second) in [(&newer, &older), (&older, &newer)] {
        let output = tocsin(
            &[
                "scan",
                "--json",
                "--year",
                "2026",
                "--intel",
                first.to_str().expect("path"),
                "--intel",
                second.to_str().expect("path"),
                "-",
            ],
            &log,
        );
        let found = incidents(&output);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["sources"], serde_json::json!(["198.51.100.7"]));
        assert_eq!(
            found[0]["indicators"][0]["pattern"],
            "[ipv4-addr:value = '198.51.100.0/24']"
        );
        assert!(
            stderr(&output).contains("Matching against 1 indicator and "),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn an_indicator_revoked_in_one_file_matches_in_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let held = dir.path().join("held.json");
    let revoking = dir.path().join("revoking.json");
    std::fs::write(
        &held,
        versioned_bundle("2026-01-01T00:00:00.000Z", "203.0.113.0/24", false),
    )
    .expect("write");
    std::fs::write(
        &revoking,
        versioned_bundle("2026-02-01T00:00:00.000Z", "203.0.113.0/24", true),
    )
    .expect("write");
    for (first, second) in [(&held, &revoking), (&revoking, &held)] {
        let output = tocsin(
            &[
                "scan",
                "--json",
                "--year",
                "2026",
                "--intel",
                first.to_str().expect("path"),
                "--intel",
                second.to_str().expect("path"),
                "-",
            ],
            &sshd("root", "203.0.113.5", 0, 1, false),
        );
        assert_eq!(incidents(&output), Vec::<Value>::new());
        let err = stderr(&output);
        assert!(
            err.contains("revoking.json: stix, 0 indicators, 0 actors, 0 benign values, 0 problems; 1 revoked.")
                && err.contains("Matching against 0 indicators and "),
            "{err}"
        );
    }
}

#[test]
fn a_warning_listed_address_never_alerts_while_its_neighbours_do() {
    let bundle = data("forest-blizzard.json");
    let warninglist = data("office-egress.json");
    let output = tocsin(
        &[
            "scan",
            "--json",
            "--year",
            "2026",
            "--intel",
            &bundle,
            "--intel",
            &warninglist,
            "-",
        ],
        &(sshd("ana", "203.0.113.200", 0, 1, true) + &sshd("bo", "203.0.113.201", 5, 1, false)),
    );
    let found = incidents(&output);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["sources"], serde_json::json!(["203.0.113.201"]));
    assert!(
        stderr(&output).contains(&format!(
            "Intelligence {warninglist}: warninglist, 0 indicators, 0 actors, 1 benign value, 0 problems."
        )),
        "{}",
        stderr(&output)
    );
}
