//! The feed readers on real published files: the OASIS STIX examples, MITRE ATT&CK
//! Enterprise, a CIRCL MISP feed (from a directory and over HTTP with conditional
//! requests), and lists in the formats their publishers use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tocsin_intel::lists::{self, Layout};
use tocsin_intel::misp::{self, FeedCache, Galaxy};
use tocsin_intel::stix::{self, IndicatorSet};
use tocsin_intel::{BenignKind, Indicator, Intel};

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/intel")
        .join(path)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_shared(path: &str) -> Vec<u8> {
    let path = shared(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn by_id<'a>(intel: &'a Intel, id: &str) -> &'a Indicator {
    intel
        .indicators
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no indicator {id}"))
}

fn stix_example(name: &str) -> stix::Bundle {
    let bytes = read_shared(&format!("stix-examples/examples/{name}"));
    stix::read("oasis", name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn oasis_apt1_report_links_indicators_to_actors_and_malware() {
    let bundle = stix_example("threat-reports/apt1.json");
    let intel = &bundle.intel;
    assert_eq!(intel.problems, []);
    assert_eq!(intel.indicators.len(), 12);
    // One intrusion set and five threat actors.
    assert_eq!(intel.actors.len(), 6);

    let apt1 = intel
        .actors
        .iter()
        .find(|a| a.id == "intrusion-set--da1065ce-972c-4605-8755-9cd1074e3b5a")
        .expect("APT1");
    assert_eq!(apt1.name, "APT1");
    assert_eq!(apt1.aliases, ["Comment Crew", "Comment Group", "Shady Rat"]);

    let hugesoft = by_id(intel, "indicator--3f3ff9f1-bb4e-4392-89e5-1991179042ba");
    assert_eq!(hugesoft.pattern, "[domain-name:value = 'hugesoft.org']");
    assert_eq!(hugesoft.feed, "oasis");
    assert_eq!(
        hugesoft.actors,
        ["threat-actor--6d179234-61fc-40c4-ae86-3d53308d8e65"]
    );
    assert_eq!(
        hugesoft.valid_from.map(|t| t.to_string()).as_deref(),
        Some("2015-05-15T09:12:16.432678Z")
    );
    assert_eq!(hugesoft.labels, ["malicious-activity"]);

    let htran = by_id(intel, "indicator--031778a4-057f-48e6-9db9-c8d72b81ccd5");
    assert_eq!(htran.pattern, "[ipv4-addr:value = '223.166.0.0/15']");
    assert_eq!(htran.malware, ["HUC Packet Transmit Tool (HTRAN)"]);
    assert_eq!(htran.actors, Vec::<String>::new());

    let certificate = by_id(intel, "indicator--b3b6b540-d838-41e2-853b-005056c00008");
    assert_eq!(
        certificate.pattern,
        "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']"
    );
}

#[test]
fn oasis_examples_load_with_their_relationships() {
    let c2 = stix_example("indicators-for-C2-with-COA.json");
    assert_eq!(c2.intel.indicators.len(), 2);
    for indicator in &c2.intel.indicators {
        assert_eq!(indicator.malware, ["Poison Ivy"]);
    }
    assert_eq!(
        by_id(&c2.intel, "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade").pattern,
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']"
    );

    let mail = stix_example("malicious-email-indicator-with-attachment.json");
    assert_eq!(mail.intel.indicators.len(), 2);
    let attachment = by_id(
        &mail.intel,
        "indicator--2e17f6fe-3a4d-438a-911a-e509ba1b9933",
    );
    // Passed through as written: the JSON `\\\\` is the pattern's escaped backslash.
    assert_eq!(
        attachment.pattern,
        r"[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']"
    );
    // Its attack pattern is a CAPEC entry, not ATT&CK: no technique id to give.
    assert_eq!(attachment.techniques, Vec::<String>::new());

    let poison_ivy = stix_example("threat-reports/poisonivy.json");
    assert_eq!(poison_ivy.intel.indicators.len(), 25);
    assert_eq!(poison_ivy.intel.problems, []);
    let first = by_id(
        &poison_ivy.intel,
        "indicator--e8094b09-7df4-4b13-b207-1e27af3c4bde",
    );
    assert_eq!(first.pattern, "[ipv4-addr:value = '219.76.208.163']");

    // A single object, not a bundle, is read too.
    let single = stix_example("interop-objectmarking-test.json");
    assert_eq!(single.intel, Intel::default());

    let c2_ip = stix_example("indicator-for-c2-ip-address.json");
    assert_eq!(c2_ip.intel.indicators.len(), 1);
    assert_eq!(
        c2_ip.intel.indicators[0].name.as_deref(),
        Some("IP Address for known C2 channel")
    );
}

#[test]
fn chains_resolve_to_the_actor_behind_malware_and_campaigns() {
    let bundle =
        stix::read("test", "stix-chain.json", &fixture("stix-chain.json")).expect("bundle");
    let intel = &bundle.intel;
    let group = "intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29";

    let host = by_id(intel, "indicator--0c8c2f3d-8f2a-4f4e-9d36-2a7a1c7f3b01");
    // The newer of two versions.
    assert_eq!(
        host.pattern,
        "[domain-name:value = 'cdn.paper-tiger.example']"
    );
    assert_eq!(host.malware, ["PaperCut Loader"]);
    // indicates malware, and the group uses that malware.
    assert_eq!(host.actors, [group]);
    assert_eq!(host.confidence, Some(85));
    assert_eq!(host.labels, ["malicious-activity", "tlp:amber"]);
    assert_eq!(
        host.valid_until.map(|t| t.to_string()).as_deref(),
        Some("2025-01-10T08:00:00Z")
    );

    let lure = by_id(intel, "indicator--77b5b6a0-5b7e-4c41-8d4b-2a0f2c6a9e02");
    assert_eq!(
        lure.pattern,
        r"[email-message:subject = 'Your parcel \'PX-1\' is waiting']"
    );
    // indicates a campaign attributed to the group.
    assert_eq!(lure.actors, [group]);
    assert_eq!(lure.techniques, ["T1566.002"]);
    assert_eq!(lure.labels, ["attribution"]);

    assert_eq!(intel.indicators.len(), 2);
    assert_eq!(
        bundle.revoked,
        ["indicator--d2a3f6a1-2222-4b1b-8c3c-0a0b0c0d0e04"]
    );
    assert_eq!(intel.problems.len(), 1);
    assert_eq!(
        intel.problems[0].object.as_deref(),
        Some("indicator--c1b1e5c4-3d51-4a4c-9b5e-95a2d0f1bb03")
    );
    assert_eq!(
        intel.problems[0].reason,
        "pattern_type `sigma` is not supported (only `stix`)"
    );

    let actor = &intel.actors[0];
    assert_eq!(actor.id, group);
    assert_eq!(actor.aliases, ["Paper Tiger"]);
    assert_eq!(actor.origin.as_deref(), Some("NZ"));
    assert_eq!(actor.techniques, ["T1566.002"]);
    assert_eq!(actor.references, ["https://reports.example/paper-tiger"]);
}

#[test]
fn mitre_attack_enterprise_bundle_gives_groups_and_their_techniques() {
    let path = shared("attack/enterprise-attack-v18.1-reassembled.json.xz");
    let output = std::process::Command::new("xz")
        .arg("-dc")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("xz could not be run ({e}); scripts/test installs xz-utils to read the ATT&CK bundle")
        });
    assert!(output.status.success(), "xz -dc {}", path.display());
    let started = std::time::Instant::now();
    let bundle = stix::read("attack", "enterprise-attack", &output.stdout).expect("bundle");
    println!("ATT&CK Enterprise read in {:?}", started.elapsed());
    let intel = &bundle.intel;
    assert_eq!(intel.problems, []);
    assert_eq!(intel.indicators.len(), 0);
    // 187 intrusion sets, 6 of them revoked.
    assert_eq!(intel.actors.len(), 181);
    assert_eq!(bundle.revoked.len(), 140);

    let apt28 = intel
        .actors
        .iter()
        .find(|a| a.name == "APT28")
        .expect("APT28");
    assert_eq!(
        apt28.id,
        "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"
    );
    for alias in ["Fancy Bear", "Sofacy", "STRONTIUM", "Forest Blizzard"] {
        assert!(apt28.aliases.iter().any(|a| a == alias), "{alias}");
    }
    assert!(!apt28.aliases.iter().any(|a| a == "APT28"));
    assert_eq!(apt28.techniques.len(), 91);
    assert!(apt28.techniques.iter().any(|t| t == "T1110.003"));
    assert_eq!(apt28.references.len(), 28);
    assert!(
        apt28
            .description
            .starts_with("[APT28](https://attack.mitre.org/groups/G0007)")
    );
}

#[test]
fn catalogue_keeps_newest_versions_across_loads() {
    let chain = stix::read("test", "stix-chain.json", &fixture("stix-chain.json")).expect("bundle");
    let mut catalogue = IndicatorSet::default();
    let first = catalogue.merge(chain.intel.indicators.clone(), chain.revoked.clone());
    assert_eq!(first.added, 2);
    let again = catalogue.merge(chain.intel.indicators, chain.revoked);
    assert_eq!((again.added, again.replaced, again.stale), (0, 0, 2));
    assert!(catalogue.is_revoked("indicator--d2a3f6a1-2222-4b1b-8c3c-0a0b0c0d0e04"));
}

fn sample_feed() -> misp::Feed {
    misp::Feed::new("circl", &shared("misp-feed-sample").display().to_string()).expect("feed")
}

const SEDNIT: &str = "5a3c2fcd-8328-42bb-a95e-4f4402de0b81";

fn assert_sample_pulled(pull: &misp::Pull) {
    // Sednit: 37 SHA-1, 19 domains, 12 addresses; Xorist: an MD5, a SHA-1, a SHA-256.
    assert_eq!(pull.counts.indicators, 71);
    assert_eq!(pull.intel.indicators.len(), 71);
    // 15 bare file names and one registry key are `to_ids` but not patterns.
    assert_eq!(pull.counts.unsupported, 17);
    assert_eq!(pull.counts.not_to_ids, 43);
    assert_eq!(pull.counts.deleted, 0);
    assert_eq!(pull.events_read, 2);
    assert_eq!(pull.intel.problems, []);

    let domain = by_id(&pull.intel, "5a3c3045-ab0c-4d38-8efe-459002de0b81");
    assert_eq!(domain.pattern, "[domain-name:value = 'movieultimate.com']");
    assert_eq!(domain.feed, "circl");
    assert_eq!(
        domain.name.as_deref(),
        Some("OSINT - Sednit update: How Fancy Bear Spent the Year")
    );
    assert_eq!(domain.modified.map(|t| t.as_second()), Some(1_513_893_957));
    assert_eq!(domain.labels.len(), 18);
    assert_eq!(domain.labels[0], "tlp:white");
    assert_eq!(
        domain.malware,
        [
            "JHUHUGIT",
            "XTunnel",
            "ADVSTORESHELL",
            "USBStealer",
            "XAgentOSX",
            "CHOPSTICK",
            "Downdelph"
        ]
    );
    assert_eq!(
        by_id(&pull.intel, "5a3ce58a-fcd8-48d5-8b4a-4fd9950d210f").pattern,
        "[ipv4-addr:value = '87.236.211.182']"
    );
    assert_eq!(
        by_id(&pull.intel, "5a3cd5b6-78a8-4e47-8333-4c62950d210f").pattern,
        "[file:hashes.'SHA-1' = '68064fc152e23d56e541714af52651cb4ba81aaf']"
    );
    assert_eq!(
        by_id(&pull.intel, "57c4448b-3fa4-4d65-9ccc-4afa950d210f").pattern,
        "[file:hashes.'SHA-256' = 'b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68']"
    );
}

#[tokio::test]
async fn misp_feed_from_a_directory() {
    let mut feed = sample_feed();
    let mut cache = FeedCache::default();
    let pull = feed.pull(&mut cache).await.expect("pull");
    assert_sample_pulled(&pull);
    let domain = by_id(&pull.intel, "5a3c3045-ab0c-4d38-8efe-459002de0b81");
    // Without the galaxy the tag alone names the actor.
    assert_eq!(domain.actors, ["misp-galaxy:threat-actor=\"Sofacy\""]);
    assert_eq!(pull.intel.actors.len(), 1);
    assert_eq!(pull.intel.actors[0].name, "Sofacy");
    assert_eq!(cache.events.get(SEDNIT), Some(&1_513_948_642));

    // Nothing changed: nothing read.
    let again = feed.pull(&mut cache).await.expect("pull");
    assert_eq!((again.events_read, again.events_unchanged), (0, 2));
    assert!(again.intel.indicators.is_empty());

    // With the galaxy, the tag resolves to its cluster.
    let galaxy = Galaxy::read(
        "threat-actor.json",
        &read_shared("misp-galaxy/threat-actor.json"),
    )
    .expect("galaxy");
    feed.galaxy = Some(Arc::new(galaxy));
    let pull = feed.pull(&mut FeedCache::default()).await.expect("pull");
    let sofacy = &pull.intel.actors[0];
    assert_eq!(sofacy.id, "5b4ee3ea-eee3-4c8e-8323-85ae32658754");
    assert_eq!(sofacy.name, "APT28");
    assert_eq!(sofacy.origin.as_deref(), Some("RU"));
    assert!(sofacy.aliases.iter().any(|a| a == "Fancy Bear"));
    assert_eq!(
        by_id(&pull.intel, "5a3c3045-ab0c-4d38-8efe-459002de0b81").actors,
        ["5b4ee3ea-eee3-4c8e-8323-85ae32658754"]
    );
    // The Xorist event names no actor.
    assert_eq!(
        by_id(&pull.intel, "57c4448b-3fa4-4d65-9ccc-4afa950d210f").actors,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn misp_pulls_are_bounded_and_resume() {
    let mut feed = sample_feed();
    feed.limits.max_events = 1;
    let mut cache = FeedCache::default();
    let first = feed.pull(&mut cache).await.expect("pull");
    assert_eq!((first.events_read, first.more), (1, true));
    // Oldest first: the Xorist event of 2016.
    assert_eq!(first.intel.indicators.len(), 3);
    let second = feed.pull(&mut cache).await.expect("pull");
    assert_eq!((second.events_read, second.more), (1, false));
    assert_eq!(second.intel.indicators.len(), 68);

    assert_eq!(cache.indicators.get(SEDNIT).map(Vec::len), Some(68));

    // An event gone from the manifest is reported and its indicators withdrawn; so is an
    // attribute gone from a new version of its event.
    let gone = "00000000-0000-4000-8000-000000000000";
    cache.events.insert(gone.to_string(), 1);
    cache
        .indicators
        .insert(gone.to_string(), vec!["gone-attribute".to_string()]);
    cache.events.insert(SEDNIT.to_string(), 0);
    if let Some(ids) = cache.indicators.get_mut(SEDNIT) {
        ids.push("dropped-attribute".to_string());
    }
    let third = feed.pull(&mut cache).await.expect("pull");
    assert_eq!(third.events_removed, [gone]);
    assert_eq!(third.events_read, 1);
    assert!(third.withdrawn.iter().any(|id| id == "gone-attribute"));
    assert!(third.withdrawn.iter().any(|id| id == "dropped-attribute"));
    // With the Sednit event's 39 attributes without to_ids, as every read of it says.
    assert_eq!(third.withdrawn.len(), 2 + 39);
}

/// What the test server was asked: path, If-None-Match, status answered.
type Log = Arc<Mutex<Vec<(String, Option<String>, u16)>>>;

/// A minimal HTTP/1.1 server for `dir`, with an ETag per file, answering 304 when
/// If-None-Match names it.
async fn serve(dir: PathBuf) -> (String, Log) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let log: Log = Arc::default();
    let served = log.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = served.clone();
            let dir = dir.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let headers: HashMap<String, String> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let if_none_match = headers.get("if-none-match").cloned();
                let name = path.trim_start_matches("/feed/");
                let file = (!name.contains('/') && !name.contains(".."))
                    .then(|| std::fs::read(dir.join(name)).ok())
                    .flatten();
                let (status, body, etag) = match file {
                    None => (404, Vec::new(), String::new()),
                    Some(body) => {
                        let etag = format!(
                            "\"{:x}-{}\"",
                            body.iter().map(|&b| u64::from(b)).sum::<u64>(),
                            body.len()
                        );
                        if if_none_match.as_deref() == Some(etag.as_str()) {
                            (304, Vec::new(), etag)
                        } else {
                            (200, body, etag)
                        }
                    }
                };
                log.lock().expect("log").push((path, if_none_match, status));
                let reason = match status {
                    200 => "OK",
                    304 => "Not Modified",
                    _ => "Not Found",
                };
                let head = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nETag: {etag}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://{address}/feed"), log)
}

#[tokio::test]
async fn misp_feed_over_http_asks_only_for_what_changed() {
    let (base, log) = serve(shared("misp-feed-sample")).await;
    let feed = misp::Feed::new("circl", &base).expect("feed");
    let mut cache = FeedCache::default();
    let pull = feed.pull(&mut cache).await.expect("pull");
    assert_sample_pulled(&pull);
    {
        let log = log.lock().expect("log");
        assert_eq!(log.len(), 3);
        assert_eq!(log[0], ("/feed/manifest.json".to_string(), None, 200));
        assert!(
            log.iter()
                .all(|(_, inm, status)| inm.is_none() && *status == 200)
        );
    }
    assert_eq!(cache.validators.len(), 3);

    // The cache survives as JSON.
    let saved = serde_json::to_string(&cache).expect("json");
    let mut cache: FeedCache = serde_json::from_str(&saved).expect("json");

    let again = feed.pull(&mut cache).await.expect("pull");
    assert!(again.manifest_unchanged);
    assert!(again.intel.indicators.is_empty());
    {
        let log = log.lock().expect("log");
        assert_eq!(log.len(), 4);
        let (path, inm, status) = &log[3];
        assert_eq!((path.as_str(), *status), ("/feed/manifest.json", 304));
        assert!(inm.is_some());
    }

    // The manifest asked afresh and one event's timestamp forgotten: that event file is
    // asked for with its ETag and not downloaded again.
    cache
        .validators
        .retain(|url, _| !url.ends_with("manifest.json"));
    cache.events.insert(SEDNIT.to_string(), 0);
    let third = feed.pull(&mut cache).await.expect("pull");
    assert_eq!((third.events_read, third.events_not_modified), (0, 1));
    let log = log.lock().expect("log");
    assert_eq!(log.len(), 6);
    assert_eq!(log[5].0, format!("/feed/{SEDNIT}.json"));
    assert_eq!(log[5].2, 304);
}

fn patterns(intel: &Intel) -> Vec<(&str, &str)> {
    intel
        .indicators
        .iter()
        .map(|i| (i.id.as_str(), i.pattern.as_str()))
        .collect()
}

#[test]
fn plain_list_with_comments_and_a_bad_line() {
    let intel = lists::read_list(
        "blocklist",
        "malicious",
        Layout::Plain,
        &fixture("blocklist.txt"),
    )
    .expect("list");
    assert_eq!(
        patterns(&intel),
        [
            ("blocklist:4", "[ipv4-addr:value = '192.0.2.15']"),
            ("blocklist:5", "[ipv4-addr:value = '203.0.113.0/24']"),
            ("blocklist:6", "[ipv6-addr:value = '2001:db8:bad::/48']"),
            (
                "blocklist:7",
                "[domain-name:value = 'login-portal.evil.example']"
            ),
            (
                "blocklist:8",
                "[url:value = 'https://evil.example/invoice.php?id=7']"
            ),
            ("blocklist:9", "[email-addr:value = 'payroll@evil.example']"),
            (
                "blocklist:10",
                "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"
            ),
            (
                "blocklist:12",
                "[file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']"
            ),
            ("blocklist:13", "[ipv4-addr:value = '198.51.100.0/24']"),
        ]
    );
    assert!(
        intel
            .indicators
            .iter()
            .all(|i| i.labels == ["malicious"] && i.feed == "blocklist")
    );
    assert_eq!(intel.problems.len(), 1);
    assert_eq!(intel.problems[0].source, "blocklist:11");
    assert!(
        intel.problems[0]
            .reason
            .starts_with("line 11: `192.0.2.256` is not an address")
    );
}

#[test]
fn tor_exit_list_and_csv_ranges() {
    let tor = lists::read_list(
        "tor",
        "tor-exit",
        Layout::TorExits,
        &fixture("tor-exit-addresses.txt"),
    )
    .expect("list");
    assert_eq!(
        patterns(&tor),
        [
            ("tor:4", "[ipv4-addr:value = '192.0.2.44']"),
            ("tor:8", "[ipv4-addr:value = '198.51.100.201']"),
            ("tor:9", "[ipv4-addr:value = '198.51.100.202']"),
        ]
    );
    assert_eq!(tor.indicators[0].labels, ["tor-exit"]);
    assert_eq!(tor.problems.len(), 1);
    assert_eq!(tor.problems[0].reason, "line 13 is not an exit list line");

    let vpn = lists::read_list(
        "vpn",
        "anonymising-vpn",
        Layout::Csv {
            column: 0,
            header: true,
        },
        &fixture("vpn-ranges.csv"),
    )
    .expect("list");
    assert_eq!(
        patterns(&vpn),
        [
            ("vpn:2", "[ipv4-addr:value = '198.51.100.0/25']"),
            ("vpn:3", "[ipv4-addr:value = '203.0.113.128/26']"),
            ("vpn:5", "[ipv6-addr:value = '2001:db8:fee::/48']"),
        ]
    );
    assert_eq!(vpn.problems.len(), 1);
    assert_eq!(vpn.problems[0].reason, "line 6: empty value");
}

#[test]
fn warning_lists_become_benign_lists() {
    let dns = lists::read_warninglist("public-dns-v4", &fixture("warninglist-public-dns-v4.json"))
        .expect("warning list");
    assert_eq!(dns.benign.len(), 1);
    let list = &dns.benign[0];
    assert_eq!(list.name, "List of known IPv4 public DNS resolvers");
    assert_eq!(list.kind, BenignKind::Cidr);
    assert_eq!(list.values.len(), 7);
    assert_eq!(list.values[1], "1.1.1.1/32");
    assert_eq!(dns.problems.len(), 1);
    assert_eq!(
        dns.problems[0].reason,
        "list[7]: `not-an-address` is not a valid cidr value"
    );

    let hosts = lists::read_warninglist("sharing", &fixture("warninglist-hostnames.json"))
        .expect("warning list");
    assert_eq!(hosts.benign[0].kind, BenignKind::Hostname);
    assert_eq!(
        hosts.benign[0].values,
        ["docs.example", "files.example", "xn--bcher-kva.example"]
    );

    assert!(
        lists::read_warninglist(
            "bad",
            b"{\"name\": \"x\", \"type\": \"glob\", \"list\": []}"
        )
        .is_err()
    );
}

#[test]
fn misp_event_galaxies_become_actors_and_techniques() {
    let event = misp::read_event(
        "cert",
        "misp-event-galaxy.json",
        &fixture("misp-event-galaxy.json"),
        None,
    )
    .expect("event");
    assert_eq!(event.uuid, "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b");
    assert_eq!(event.info, "Recruiter lures against NGO staff");
    let tiger = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8";
    assert_eq!(event.intel.actors.len(), 1);
    let actor = &event.intel.actors[0];
    assert_eq!(actor.id, tiger);
    assert_eq!(actor.name, "Paper Tiger");
    assert_eq!(actor.aliases, ["Example Group", "PT-01"]);
    assert_eq!(actor.origin.as_deref(), Some("NZ"));
    assert_eq!(actor.references, ["https://reports.example/paper-tiger"]);

    assert_eq!(
        patterns(&event.intel),
        [
            (
                "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c01",
                "[domain-name:value = 'careers-portal.example']"
            ),
            (
                "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c02",
                r"[email-message:subject = 'Your application: \'Programme Officer\' \\ next steps']"
            ),
            (
                "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c06",
                "[email-addr:value = 'talent@careers-portal.example']"
            ),
            (
                "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c07",
                "[file:name = 'Job description.pdf.lnk' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"
            ),
        ]
    );
    let domain = &event.intel.indicators[0];
    assert_eq!(domain.actors, [tiger]);
    // The cluster's external_id, then the tag's value.
    assert_eq!(domain.techniques, ["T1598", "T1566.002"]);
    // The event's tags, then the attribute's own.
    assert_eq!(
        domain.labels,
        [
            "tlp:green",
            "misp-galaxy:mitre-attack-pattern=\"Spearphishing Link - T1566.002\"",
            "kill-chain:delivery"
        ]
    );
    assert_eq!(event.intel.indicators[1].labels.len(), 2);

    assert_eq!(
        (
            event.counts.indicators,
            event.counts.deleted,
            event.counts.not_to_ids
        ),
        (4, 1, 1)
    );
    assert_eq!(
        event.withdrawn,
        [
            "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c03",
            "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c05"
        ]
    );
    assert_eq!(event.intel.problems.len(), 1);
    let problem = &event.intel.problems[0];
    assert_eq!(problem.source, "misp-event-galaxy.json");
    assert_eq!(
        problem.object.as_deref(),
        Some("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c04")
    );
    assert_eq!(
        problem.reason,
        "ip-dst attribute: `192.0.2.300` is not an IP address or network"
    );

    // Withdrawn attributes leave the catalogue without being barred.
    let mut catalogue = IndicatorSet::default();
    catalogue.merge(event.intel.indicators.clone(), []);
    assert_eq!(
        catalogue.withdraw(["7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c01".to_string()]),
        1
    );
    assert!(!catalogue.is_revoked("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c01"));
    assert_eq!(catalogue.len(), 3);
}
