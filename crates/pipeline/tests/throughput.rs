//! How fast the pipeline goes on this machine (not run by `cargo test`; see README):
//! events per second through JetStream and 1, 2 and 4 detector workers, against the
//! single process on the same traffic, and the latency from the publication of the
//! sign-in that completes an attack to its notification being queued.
//!
//!     TOCSIN_TEST_DATABASE_URL=postgres://… cargo test --release -p tocsin-pipeline \
//!         --test throughput -- --ignored --nocapture
//!
//! Each worker has its own connection pool, as a worker process would; all run in this
//! process, with NATS and the database on the same two cores.

mod common;

use std::time::{Duration, Instant};

use common::Deployment;
use model::Timestamp;
use store::{NewOrganisation, Store};
use tocsin_pipeline::PipelineConfig;

/// Demos (three organisations and a day each) in the traffic.
const DEMOS: u64 = 40;

fn config(stream: &str) -> PipelineConfig {
    PipelineConfig {
        nats_url: std::env::var("TOCSIN_TEST_NATS_URL")
            .unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        stream: stream.into(),
        max_stream_bytes: 1 << 30,
        lease: jiff::SignedDuration::from_secs(5),
        ..PipelineConfig::default()
    }
}

/// Incidents by kind.
async fn incidents(store: &Store) -> std::collections::BTreeMap<String, usize> {
    let mut kinds = std::collections::BTreeMap::new();
    for incident in store.all_incidents(100_000).await.expect("incidents") {
        *kinds.entry(incident.kind.as_str().to_owned()).or_default() += 1;
    }
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it in release mode by hand"]
async fn events_per_second_and_latency() {
    let (orgs, requests) = common::traffic(DEMOS, 200, common::Arrival::Hourly);
    let events: usize = requests.iter().map(|(_, r)| r.len()).sum();
    println!(
        "traffic: {events} sign-ins, {} organisations, {} requests",
        orgs.len(),
        requests.len()
    );

    // The single process, for the ratio.
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, ids) = common::open(dir.path(), &orgs).await;
    let started = Instant::now();
    common::single_process(&store, &ids, requests.clone()).await;
    let single = started.elapsed();
    let expected = incidents(&store).await;
    println!(
        "single process (role all): {:.0} events/s ({:.2} s), incidents {expected:?}",
        events as f64 / single.as_secs_f64(),
        single.as_secs_f64()
    );

    for workers_wanted in [1usize, 2, 4] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, ids) = common::open(dir.path(), &orgs).await;
        let stream = format!("B{workers_wanted}x{}", std::process::id());
        let run = Deployment::start(store.clone(), ids, &config(&stream)).await;
        let pipeline = run.pipeline.clone();
        // Ingest alone first: how fast the stream takes events.
        let started = Instant::now();
        run.publish(requests.clone()).await;
        let published = started.elapsed();
        // Then the workers drain it.
        let started = Instant::now();
        let mut workers = Vec::new();
        for n in 0..workers_wanted {
            // Its own pool, as a process would have.
            let own = Store::open_for_tests(dir.path()).await.expect("store");
            workers.push(run.worker(&own, &format!("bench-{n}")));
        }
        loop {
            let backlog = pipeline.backlog().await.expect("backlog");
            if backlog == 0
                && store
                    .pending_forwards(1)
                    .await
                    .expect("forwards")
                    .is_empty()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let drained = started.elapsed();
        // Let the campaign stages' idle advance finish before counting.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let found = incidents(&store).await;
        println!(
            "{workers_wanted} worker(s): publish {:.0} events/s; detect+commit {:.0} events/s ({:.2} s); incidents {found:?}; ratio to the single process {:.2}",
            events as f64 / published.as_secs_f64(),
            events as f64 / drained.as_secs_f64(),
            drained.as_secs_f64(),
            single.as_secs_f64() / (published + drained).as_secs_f64(),
        );

        if workers_wanted == 2 {
            // Latency: an organisation of its own takes a brute force; the clock runs
            // from the publication of the failure that crosses the threshold to the
            // notification being queued in the outbox.
            let mut samples = Vec::new();
            for round in 0..20u32 {
                let (org, _) = store
                    .create_organisation(&NewOrganisation {
                        name: format!("Latency {round}"),
                        sector: model::Sector::Hospital,
                        country: "IE".into(),
                        domains: vec![format!("latency{round}.example")],
                        webhook_url: Some(format!("https://latency{round}.example/hook")),
                        language: store::Language::En,
                    })
                    .await
                    .expect("org");
                let start = Timestamp::now();
                let attack = scenario::brute_force(&scenario::BruteForce::new(
                    &format!("victim@latency{round}.example"),
                    "198.51.100.77".parse().expect("ip"),
                    start,
                    detect::DetectConfig::default().brute_force.min_failures,
                    jiff::SignedDuration::from_secs(2),
                ));
                let clock = Instant::now();
                run.ingest.accept(org.id, attack).await.expect("publish");
                // The incident and its notification commit in one transaction.
                loop {
                    let opened = store.incidents(org.id, 10).await.expect("incidents");
                    if !opened.is_empty() {
                        break;
                    }
                    assert!(clock.elapsed() < Duration::from_secs(30), "no incident");
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                samples.push(clock.elapsed());
            }
            samples.sort();
            println!(
                "latency from publishing a brute force (10 sign-ins) to its incident and notification committed (2 workers, 20 attacks): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
                samples[10].as_secs_f64() * 1000.0,
                samples[18].as_secs_f64() * 1000.0,
                samples[19].as_secs_f64() * 1000.0,
            );
        }
        for worker in workers {
            worker.stop().await;
        }
        pipeline.delete().await.expect("delete stream");
    }
}
