use super::*;
use crate::ObservedFile;
use crate::normal;

fn at(text: &str) -> Timestamp {
    text.parse().expect("a test timestamp")
}

fn now() -> Timestamp {
    at("2026-06-01T12:00:00Z")
}

fn indicator(id: &str, pattern: &str) -> Indicator {
    Indicator {
        id: id.into(),
        feed: "test-feed".into(),
        pattern: pattern.into(),
        name: None,
        valid_from: None,
        valid_until: None,
        modified: None,
        actors: vec!["apt-test".into()],
        techniques: Vec::new(),
        malware: Vec::new(),
        confidence: None,
        labels: Vec::new(),
    }
}

fn index(patterns: &[&str]) -> Index {
    let (index, problems) = Index::build(
        patterns
            .iter()
            .enumerate()
            .map(|(i, p)| indicator(&format!("indicator--{i}"), p)),
        &[],
        now(),
    );
    assert_eq!(problems, [], "every test pattern is evaluable");
    index
}

fn ips(addresses: &[&str]) -> Observed {
    Observed {
        ips: addresses
            .iter()
            .map(|a| a.parse().expect("a test address"))
            .collect(),
        ..Observed::default()
    }
}

fn hosts(names: &[&str]) -> Observed {
    Observed {
        hosts: names.iter().filter_map(|n| normal::domain(n)).collect(),
        ..Observed::default()
    }
}

/// (indicator id, observed value) of each match.
fn found(index: &Index, seen: &Observed) -> Vec<(String, String)> {
    index
        .matches(seen, now())
        .into_iter()
        .map(|m| (m.indicator, m.observed))
        .collect()
}

fn pair(id: &str, observed: &str) -> (String, String) {
    (id.to_string(), observed.to_string())
}

#[test]
fn ipv4_network_edges() {
    let index = index(&["[ipv4-addr:value = '198.51.100.0/24']"]);
    for inside in ["198.51.100.0", "198.51.100.255", "198.51.100.7"] {
        assert_eq!(
            found(&index, &ips(&[inside])),
            [pair("indicator--0", inside)]
        );
    }
    for outside in ["198.51.99.255", "198.51.101.0", "203.0.113.1"] {
        assert_eq!(found(&index, &ips(&[outside])), []);
    }
    let m = &index.matches(&ips(&["198.51.100.9"]), now())[0];
    assert_eq!(m.field, "ipv4-addr:value");
    assert_eq!(m.feed, "test-feed");
    assert_eq!(m.pattern, "[ipv4-addr:value = '198.51.100.0/24']");
    assert_eq!(m.actors, ["apt-test"]);
}

#[test]
fn issubset_and_single_addresses() {
    let index = index(&[
        "[ipv4-addr:value ISSUBSET '203.0.113.0/25']",
        "[ipv4-addr:value = '192.0.2.1']",
    ]);
    assert_eq!(
        found(&index, &ips(&["203.0.113.127"])),
        [pair("indicator--0", "203.0.113.127")]
    );
    assert_eq!(found(&index, &ips(&["203.0.113.128"])), []);
    assert_eq!(
        found(&index, &ips(&["192.0.2.1"])),
        [pair("indicator--1", "192.0.2.1")]
    );
    assert_eq!(found(&index, &ips(&["192.0.2.2"])), []);
}

#[test]
fn ipv6_networks_and_single_addresses() {
    let index = index(&[
        "[ipv6-addr:value = '2001:db8:dead:beef::/64']",
        "[ipv6-addr:value = '2001:db8::1/128']",
    ]);
    assert_eq!(
        found(&index, &ips(&["2001:db8:dead:beef:ffff:ffff:ffff:ffff"])),
        [pair(
            "indicator--0",
            "2001:db8:dead:beef:ffff:ffff:ffff:ffff"
        )]
    );
    assert_eq!(
        found(&index, &ips(&["2001:db8:dead:beef::"])),
        [pair("indicator--0", "2001:db8:dead:beef::")]
    );
    assert_eq!(found(&index, &ips(&["2001:db8:dead:bef0::"])), []);
    assert_eq!(
        found(&index, &ips(&["2001:DB8::1"])),
        [pair("indicator--1", "2001:db8::1")]
    );
    assert_eq!(found(&index, &ips(&["2001:db8::2"])), []);
}

#[test]
fn zero_length_networks_and_mapped_ipv6_are_refused() {
    let (index, problems) = Index::build(
        [
            indicator("a", "[ipv4-addr:value = '0.0.0.0/0']"),
            indicator("b", "[ipv6-addr:value = '::/0']"),
            indicator("c", "[ipv6-addr:value = '::ffff:198.51.100.7']"),
        ],
        &[],
        now(),
    );
    assert_eq!(index.len(), 0);
    let reasons: Vec<_> = problems
        .iter()
        .map(|p| {
            (
                p.object.as_deref().expect("problems name the indicator"),
                p.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [("a", "test-feed"), ("b", "test-feed"), ("c", "test-feed")]
    );
    assert!(problems[0].reason.contains("a /0 would match every event"));
    assert!(problems[2].reason.contains("IPv4-mapped"));
}

#[test]
fn ipv4_mapped_ipv6_addresses_are_ipv4() {
    let index = index(&["[ipv4-addr:value = '198.51.100.0/24']"]);
    assert_eq!(
        found(&index, &ips(&["::ffff:198.51.100.7"])),
        [pair("indicator--0", "198.51.100.7")]
    );
}

#[test]
fn domains_cover_the_names_under_them_only() {
    let index = index(&[
        "[domain-name:value = 'evil.example']",
        "[domain-name:value = 'login.other.example']",
    ]);
    assert_eq!(
        found(&index, &hosts(&["Login.Evil.Example"])),
        [pair("indicator--0", "login.evil.example")]
    );
    assert_eq!(
        found(&index, &hosts(&["evil.example"])),
        [pair("indicator--0", "evil.example")]
    );
    assert_eq!(found(&index, &hosts(&["notevil.example"])), []);
    assert_eq!(found(&index, &hosts(&["evil.example.org"])), []);
    // The parent of an indicator's name is not under it.
    assert_eq!(found(&index, &hosts(&["other.example"])), []);
    assert_eq!(
        found(&index, &hosts(&["a.login.other.example"])),
        [pair("indicator--1", "a.login.other.example")]
    );
}

#[test]
fn unicode_indicators_match_punycode_hosts() {
    let index = index(&["[domain-name:value = 'bücher.example']"]);
    assert_eq!(
        found(&index, &hosts(&["shop.xn--bcher-kva.example"])),
        [pair("indicator--0", "shop.xn--bcher-kva.example")]
    );
}

#[test]
fn urls_compare_in_one_spelling() {
    let index = index(&["[url:value = 'HTTP://Evil.Example:80/a%7eb/./c']"]);
    let seen = Observed {
        urls: vec![normal::url("http://evil.example/a~b/c").expect("a test URL")],
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &seen),
        [pair("indicator--0", "http://evil.example/a~b/c")]
    );
    let other = Observed {
        urls: vec![normal::url("http://evil.example/a~b/d").expect("a test URL")],
        ..Observed::default()
    };
    assert_eq!(found(&index, &other), []);
}

#[test]
fn like_and_matches() {
    let index = index(&[
        "[domain-name:value LIKE '%.Evil.example']",
        "[email-message:subject MATCHES '^Invoice [0-9]+$']",
        "[url:value LIKE 'https://%/wp-login.php_x']",
    ]);
    assert_eq!(
        found(&index, &hosts(&["a.evil.example"])),
        [pair("indicator--0", "a.evil.example")]
    );
    assert_eq!(found(&index, &hosts(&["evil.example"])), []);
    let subject = |s: &str| Observed {
        subject: Some(s.into()),
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &subject("Invoice 20431")),
        [pair("indicator--1", "Invoice 20431")]
    );
    assert_eq!(found(&index, &subject("Invoice 20431 overdue")), []);
    assert_eq!(found(&index, &subject("invoice 20431")), []);
    let url = Observed {
        urls: vec!["https://shop.example/wp-login.php?x".into()],
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &url),
        [pair("indicator--2", "https://shop.example/wp-login.php?x")]
    );
}

#[test]
fn in_lists_hashes_and_addresses() {
    let index = index(&[
        "[file:hashes.md5 IN ('D41D8CD98F00B204E9800998ECF8427E', '79054025255fb1a26e4bc422aef54eb4')]",
        "[email-addr:value = 'Jobs@Recruit.Evil.Example']",
        "[user-account:account_login IN ('Admin', 'root')]",
    ]);
    let file = Observed {
        files: vec![ObservedFile {
            name: Some("cv.doc".into()),
            md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            sha1: None,
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        }],
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &file),
        [pair("indicator--0", "d41d8cd98f00b204e9800998ecf8427e")]
    );
    let mail = Observed {
        email_addrs: vec!["jobs@recruit.evil.example".into()],
        accounts: vec!["admin".into()],
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &mail),
        [
            pair("indicator--1", "jobs@recruit.evil.example"),
            pair("indicator--2", "admin")
        ]
    );
}

#[test]
fn and_within_an_observation_and_across_observations() {
    let index = index(&[
        "[email-message:from_ref.value = 'ceo@evil.example' AND email-message:subject = 'Wire transfer']",
        "[domain-name:value = 'evil.example'] AND [ipv4-addr:value = '198.51.100.7']",
        "[domain-name:value = 'c2.example' AND domain-name:value != 'safe.c2.example']",
    ]);
    let message = |from: &str, subject: &str| Observed {
        from: Some(from.into()),
        subject: Some(subject.into()),
        ..Observed::default()
    };
    assert_eq!(
        found(&index, &message("ceo@evil.example", "Wire transfer")),
        [pair("indicator--0", "ceo@evil.example")]
    );
    assert_eq!(found(&index, &message("ceo@evil.example", "Lunch")), []);
    let mut both = hosts(&["www.evil.example"]);
    both.ips = vec!["198.51.100.7".parse().expect("a test address")];
    assert_eq!(
        found(&index, &both),
        [pair("indicator--1", "www.evil.example")]
    );
    assert_eq!(found(&index, &hosts(&["www.evil.example"])), []);
    assert_eq!(
        found(&index, &hosts(&["x.c2.example"])),
        [pair("indicator--2", "x.c2.example")]
    );
    assert_eq!(found(&index, &hosts(&["safe.c2.example"])), []);
}

#[test]
fn or_matches_either_and_reports_once() {
    let index =
        index(&["[domain-name:value = 'apple.cmdnetview.com' OR ipv4-addr:value = '60.10.1.120']"]);
    let mut both = hosts(&["apple.cmdnetview.com"]);
    both.ips = vec!["60.10.1.120".parse().expect("a test address")];
    assert_eq!(found(&index, &both).len(), 1);
    assert_eq!(
        found(&index, &ips(&["60.10.1.120"])),
        [pair("indicator--0", "60.10.1.120")]
    );
}

#[test]
fn validity_is_checked_at_match_time() {
    let mut expiring = indicator("expiring", "[domain-name:value = 'evil.example']");
    expiring.valid_until = Some(at("2026-06-01T13:00:00Z"));
    let mut future = indicator("future", "[domain-name:value = 'evil.example']");
    future.valid_from = Some(at("2026-06-02T00:00:00Z"));
    let mut expired = indicator("expired", "[domain-name:value = 'evil.example']");
    expired.valid_until = Some(at("2026-01-01T00:00:00Z"));
    let (index, problems) = Index::build([expiring, future, expired], &[], now());
    assert_eq!(problems, []);
    assert_eq!(index.len(), 2, "already expired indicators are left out");
    let seen = hosts(&["evil.example"]);
    let ids = |t: &str| -> Vec<String> {
        index
            .matches(&seen, at(t))
            .into_iter()
            .map(|m| m.indicator)
            .collect()
    };
    assert_eq!(ids("2026-06-01T12:30:00Z"), ["expiring"]);
    assert_eq!(ids("2026-06-01T13:00:00Z"), Vec::<String>::new());
    assert_eq!(ids("2026-06-02T00:00:00Z"), ["future"]);
}

#[test]
fn warning_lists_suppress_matches() {
    let lists = [
        BenignList {
            name: "public-dns".into(),
            kind: BenignKind::Cidr,
            values: vec!["8.8.8.0/24".into(), "not-a-network".into()],
        },
        BenignList {
            name: "cloud".into(),
            kind: BenignKind::Hostname,
            values: vec!["googleapis.com".into()],
        },
        BenignList {
            name: "words".into(),
            kind: BenignKind::Substring,
            values: vec!["unsubscribe".into()],
        },
    ];
    let (index, problems) = Index::build(
        [
            indicator("dns", "[ipv4-addr:value = '8.8.8.8']"),
            indicator("api", "[domain-name:value = 'storage.googleapis.com']"),
            indicator("c2", "[ipv4-addr:value = '198.51.100.7']"),
        ],
        &lists,
        now(),
    );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].source, "public-dns");
    assert!(problems[0].reason.contains("not-a-network"));
    let mut seen = ips(&["8.8.8.8", "198.51.100.7"]);
    seen.hosts = vec!["x.storage.googleapis.com".into()];
    let scan = index.scan(&seen, now());
    let ids: Vec<_> = scan.matches.iter().map(|m| m.indicator.as_str()).collect();
    assert_eq!(ids, ["c2"]);
    assert_eq!(scan.suppressed, 2);
    assert!(index.is_benign(Field::Domain, "googleapis.com"));
    assert!(!index.is_benign(Field::Domain, "notgoogleapis.com"));
    assert!(index.is_benign(Field::Subject, "Click to Unsubscribe"));
    assert!(index.is_benign(Field::Ipv4, "8.8.8.255"));
    assert!(!index.is_benign(Field::Ipv4, "8.8.9.0"));
}

#[test]
fn refused_patterns_become_problems_with_the_reason() {
    let (index, problems) = Index::build(
        [
            indicator("ok", "[url:value = 'http://evil.example/x']"),
            indicator("seq", "[file:name = 'a'] FOLLOWEDBY [file:name = 'b']"),
            indicator("proc", "[process:name = 'evil.exe']"),
            indicator("bad", "[file:name = ]"),
        ],
        &[],
        now(),
    );
    assert_eq!(index.len(), 1);
    let got: Vec<_> = problems
        .iter()
        .map(|p| {
            (
                p.object.clone().expect("problems name the indicator"),
                p.reason.clone(),
            )
        })
        .collect();
    assert_eq!(got[0].0, "seq");
    assert!(got[0].1.contains("FOLLOWEDBY needs an ordered sequence"));
    assert_eq!(got[1].0, "proc");
    assert!(got[1].1.contains("does not observe `process:name`"));
    assert_eq!(got[2].0, "bad");
    assert!(got[2].1.contains("offset 13"), "{}", got[2].1);
}

#[test]
fn matches_per_event_are_bounded() {
    let patterns: Vec<String> = (0..100)
        .map(|i| format!("[ipv4-addr:value = '198.51.100.0/{}']", 24 + i % 9))
        .collect();
    let (index, _) = Index::build(
        patterns
            .iter()
            .enumerate()
            .map(|(i, p)| indicator(&format!("i{i}"), p)),
        &[],
        now(),
    );
    let scan = index.scan(&ips(&["198.51.100.0"]), now());
    assert_eq!(scan.matches.len(), MAX_MATCHES);
    assert!(scan.truncated);
}

#[test]
fn the_index_is_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Index>();
}

#[test]
fn an_indicator_loaded_twice_is_one_match() {
    let (index, _) = Index::build(
        [
            indicator("twice", "[domain-name:value = 'evil.example']"),
            indicator(
                "twice",
                "[domain-name:value IN ('evil.example', 'other.example')]",
            ),
        ],
        &[],
        now(),
    );
    assert_eq!(index.len(), 2);
    assert_eq!(
        found(&index, &hosts(&["evil.example"])),
        [pair("twice", "evil.example")]
    );
}
