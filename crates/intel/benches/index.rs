//! The index at feed scale: 1,000,000 generated single-comparison indicators (IPv4 and
//! IPv6 addresses and networks, domains, URLs, hashes, mail addresses, a few LIKE and
//! MATCHES), the load time and memory printed once, then lookups of one observed value.
//!
//! `cargo bench -p tocsin-intel --bench index -- --quick`

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use tocsin_intel::index::Index;
use tocsin_intel::{Indicator, Observed, ObservedFile};

const TOTAL: usize = 1_000_000;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next()));
        }
        out.truncate(len);
        out
    }

    fn word(&mut self) -> String {
        let len = 4 + (self.next() % 8) as usize;
        (0..len)
            .map(|_| char::from(b'a' + (self.next() % 26) as u8))
            .collect()
    }
}

fn pattern(i: usize, rng: &mut Rng) -> String {
    match i % 20 {
        0..=3 => {
            let a = rng.next();
            format!(
                "[ipv4-addr:value = '{}.{}.{}.{}']",
                (a >> 24) as u8 | 1,
                (a >> 16) as u8,
                (a >> 8) as u8,
                a as u8
            )
        }
        4..=5 => {
            let a = rng.next();
            let length = [16, 20, 24, 24, 28][(a % 5) as usize];
            format!(
                "[ipv4-addr:value = '{}.{}.{}.0/{length}']",
                (a >> 24) as u8 | 1,
                (a >> 16) as u8,
                (a >> 8) as u8
            )
        }
        6..=7 => {
            let a = rng.next();
            let length = [48, 64, 128][(a % 3) as usize];
            let address = IpAddr::from([
                0x2001,
                0x0db8,
                (a >> 48) as u16,
                (a >> 32) as u16,
                (a >> 16) as u16,
                a as u16,
                0,
                1,
            ]);
            format!("[ipv6-addr:value = '{address}/{length}']")
        }
        8..=12 => format!(
            "[domain-name:value = '{}.{}.example']",
            rng.word(),
            rng.word()
        ),
        13..=15 => format!(
            "[url:value = 'https://{}.example/{}/{}.php?id={}']",
            rng.word(),
            rng.word(),
            rng.word(),
            rng.next() % 10_000
        ),
        16 => format!("[file:hashes.MD5 = '{}']", rng.hex(32)),
        17 => format!("[file:hashes.'SHA-256' = '{}']", rng.hex(64)),
        18 => format!(
            "[email-addr:value = '{}@{}.example']",
            rng.word(),
            rng.word()
        ),
        _ => match i % 1000 {
            19 => format!("[url:value LIKE '%/{}/%.php%']", rng.word()),
            39 if i % 10_000 == 39 => {
                format!("[email-message:subject MATCHES '^{} [0-9]+$']", rng.word())
            }
            _ => format!("[file:hashes.'SHA-1' = '{}']", rng.hex(40)),
        },
    }
}

fn indicators() -> Vec<Indicator> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..TOTAL)
        .map(|i| Indicator {
            id: format!("indicator--{i:08}"),
            feed: format!("feed-{}", i % 4),
            pattern: pattern(i, &mut rng),
            name: None,
            valid_from: None,
            valid_until: None,
            modified: None,
            actors: Vec::new(),
            techniques: Vec::new(),
            malware: Vec::new(),
            confidence: None,
            labels: Vec::new(),
        })
        .collect()
}

fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn lookups(c: &mut Criterion) {
    let now: Timestamp = "2026-06-01T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let before = resident_bytes();
    let generated = indicators();
    // Values known to be in the index: the first of each kind.
    let known = |prefix: &str| -> String {
        generated
            .iter()
            .find(|i| i.pattern.starts_with(prefix))
            .map(|i| {
                let start = i.pattern.find(" = '").map_or(0, |at| at + 4);
                let end = i.pattern.rfind('\'').unwrap_or(start);
                i.pattern[start..end].to_string()
            })
            .unwrap_or_default()
    };
    let hit_ip: IpAddr = known("[ipv4-addr:value = '")
        .parse()
        .unwrap_or([192, 0, 2, 1].into());
    let hit_ipv6: IpAddr = known("[ipv6-addr:value = '")
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(hit_ip);
    let hit_domain = format!("login.{}", known("[domain-name:value"));
    let hit_url = known("[url:value = ");
    let hit_sha256 = known("[file:hashes.'SHA-256'");

    let started = Instant::now();
    let (index, problems) = Index::build(generated, &[], now);
    let load = started.elapsed();
    let after = resident_bytes();
    println!(
        "index: {} indicators loaded in {:.2?} ({} problems); memory estimate {} MiB; resident growth over the whole run {} MiB (the input indicators are consumed by the build)",
        index.len(),
        load,
        problems.len(),
        index.memory_estimate() >> 20,
        after
            .zip(before)
            .map_or(0, |(a, b)| a.saturating_sub(b) >> 20),
    );

    let ip = |ip: IpAddr| Observed {
        ips: vec![ip],
        ..Observed::default()
    };
    let host = |h: &str| Observed {
        hosts: vec![h.to_string()],
        ..Observed::default()
    };
    let url = |u: &str| Observed {
        urls: vec![u.to_string()],
        ..Observed::default()
    };
    let file = |sha256: &str| Observed {
        files: vec![ObservedFile {
            name: Some("invoice.pdf".into()),
            md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            sha1: Some("da39a3ee5e6b4b0d3255bfef95601890afd80709".into()),
            sha256: sha256.to_string(),
        }],
        ..Observed::default()
    };
    let cases = [
        ("ipv4 hit", ip(hit_ip)),
        ("ipv4 miss", ip([192, 0, 2, 77].into())),
        ("ipv6 hit (in a network)", ip(hit_ipv6)),
        (
            "ipv6 miss",
            ip("2001:db9:1:2::77".parse().unwrap_or(hit_ip)),
        ),
        ("domain hit (under an indicator)", host(&hit_domain)),
        ("domain miss (4 labels)", host("a.b.nothing-here.example")),
        ("url hit", url(&hit_url)),
        (
            "url miss",
            url("https://shop.example/catalogue/item.html?id=7"),
        ),
        ("file hit (sha256)", file(&hit_sha256)),
        ("file miss (3 hashes and a name)", file(&"0".repeat(64))),
    ];
    for (name, seen) in &cases {
        let found = index.matches(seen, now).len();
        println!("{name}: {found} match(es)");
    }
    let mut group = c.benchmark_group("index lookup");
    for (name, seen) in &cases {
        group.bench_function(*name, |b| b.iter(|| index.matches(black_box(seen), now)));
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
