//! How long the service takes to store a million indicators from one pull and to load
//! them back into the live index, as it does at start and after every pull. A measurement,
//! not a test of speed: run it on purpose, in release,
//! `cargo test --release -p tocsin-notify --test intel_load -- --ignored --nocapture`.

use std::time::Instant;

use jiff::Timestamp;
use store::IndicatorRow;

#[tokio::test]
#[ignore = "a measurement: run with --ignored --release"]
async fn a_million_stored_indicators_load_into_the_live_index() {
    const COUNT: usize = 1_000_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    store
        .upsert_feed("bench", "list", "generated")
        .await
        .expect("feed");
    let rows: Vec<(IndicatorRow, Option<Timestamp>)> = (0..COUNT)
        .map(|i| {
            let pattern = match i % 4 {
                0 => format!(
                    "[ipv4-addr:value = '{}.{}.{}.0/24']",
                    10 + (i >> 16) % 200,
                    (i >> 8) % 256,
                    i % 256
                ),
                1 => format!("[domain-name:value = 'host{i}.example']"),
                2 => format!("[url:value = 'https://cdn{i}.example/login']"),
                _ => format!("[file:hashes.'SHA-256' = '{i:064x}']"),
            };
            let indicator = intel::Indicator {
                id: format!("indicator--{i:08}"),
                feed: "bench".into(),
                pattern,
                name: None,
                valid_from: None,
                valid_until: None,
                modified: None,
                actors: Vec::new(),
                techniques: Vec::new(),
                malware: Vec::new(),
                confidence: None,
                labels: vec!["bench".into()],
            };
            let body = serde_json::to_string(&indicator).expect("json");
            (
                IndicatorRow {
                    id: indicator.id,
                    body,
                },
                None,
            )
        })
        .collect();
    let started = Instant::now();
    let changed = store
        .store_feed_pull("bench", true, &rows, &[], &[], &[], "", 0)
        .await
        .expect("stored");
    let stored = started.elapsed();
    assert_eq!(changed, COUNT as u64);

    let started = Instant::now();
    let loaded = tocsin_notify::feeds::load(&store).await.expect("loaded");
    let load = started.elapsed();
    assert_eq!(loaded.indicators, COUNT);
    println!(
        "{COUNT} indicators: stored in one pull in {:.1} s; loaded from the store and compiled in {:.1} s; index about {} MiB",
        stored.as_secs_f64(),
        load.as_secs_f64(),
        loaded.index.memory_estimate() >> 20
    );
}
