//! Throughput of the offline pipeline per input format: parsing alone, and parsing with
//! detection and correlation. Entra Graph JSON and sshd lines come from a generated day of
//! three organisations' sign-ins with the demo's attacks in it; the other formats repeat
//! the vendor-shaped fixtures of `crates/ingest/testdata/`.
//!
//! Run with `cargo bench -p tocsin --bench pipeline`; figures are sign-ins per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::collections::HashMap;
use std::hint::black_box;

use ingest::{ParseOptions, Parsed, parse_line};
use model::{EventId, Format, Observation, OrgId, Origin};

/// The demo's lines, grouped by format, repeated to about `n` lines per format.
fn corpus(n: usize) -> Vec<(Format, Vec<String>)> {
    let demo = scenario::demo(2020, "2026-03-02T00:00:00Z".parse().expect("time"));
    let mut by_format: HashMap<Format, Vec<String>> = HashMap::new();
    for org in &demo.orgs {
        by_format
            .entry(org.format)
            .or_default()
            .extend(org.lines.iter().cloned());
    }
    let mut out: Vec<(Format, Vec<String>)> = by_format
        .into_iter()
        .map(|(format, lines)| {
            let repeated = lines.iter().cycle().take(n).cloned().collect();
            (format, repeated)
        })
        .collect();
    for (name, format) in [
        ("entra_la", Format::EntraLogAnalytics),
        ("o365", Format::O365Audit),
        ("okta", Format::Okta),
        ("google", Format::GoogleWorkspace),
        ("windows", Format::WindowsSecurity),
    ] {
        let lines = fixture_lines(name);
        if !lines.is_empty() {
            out.push((format, lines.iter().cycle().take(n).cloned().collect()));
        }
    }
    out.sort_by_key(|(format, _)| format.as_str());
    out
}

/// Every record of the fixtures of one format, one compact JSON line each.
fn fixture_lines(dir: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ingest/testdata")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    let mut lines = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("ndjson") => lines.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned),
            ),
            Some("json") => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Array(records)) => {
                    lines.extend(records.iter().map(|r| r.to_string()))
                }
                Ok(record) => lines.push(record.to_string()),
                Err(_) => {}
            },
            _ => {}
        }
    }
    lines
}

fn pipeline(c: &mut Criterion) {
    let options = ParseOptions::for_year(2026);
    for (format, lines) in corpus(20_000) {
        let mut group = c.benchmark_group(format.as_str());
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.sample_size(20);
        group.bench_function("parse", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for (i, line) in lines.iter().enumerate() {
                    let origin = Origin::FileLine {
                        file: "bench".into(),
                        line: i as u64,
                    };
                    if let Ok(Parsed::SignIns(s)) = parse_line(line, origin, &options) {
                        n += s.len();
                    }
                }
                black_box(n)
            })
        });
        group.bench_function("parse+detect+correlate", |b| {
            b.iter(|| {
                let mut detectors = detect::Detectors::new(detect::DetectConfig::default());
                let mut incidents = HashMap::new();
                let mut id = 0i64;
                for (i, line) in lines.iter().enumerate() {
                    let origin = Origin::FileLine {
                        file: "bench".into(),
                        line: i as u64,
                    };
                    let Ok(Parsed::SignIns(sign_ins)) = parse_line(line, origin, &options) else {
                        continue;
                    };
                    for sign_in in sign_ins {
                        id += 1;
                        let observation = Observation {
                            id: EventId(id),
                            org: OrgId(1),
                            sign_in,
                        };
                        for detection in detectors.observe(&observation) {
                            let existing = incidents.remove(&detection.campaign_key);
                            let (incident, _) =
                                notify::correlate::absorb(existing, &detection, || id.to_string());
                            incidents.insert(detection.campaign_key.clone(), incident);
                        }
                    }
                }
                black_box(incidents.len())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
