//! `tocsin-bench intake`: the running service measured whole, as organisations reach it.
//!
//! Owns the end-to-end intake measurement: the workload (a synthetic day of ordinary
//! sign-ins over K organisations, and brute-force attacks placed evenly through it), a
//! `tocsin serve` child process in a temporary directory, the webhook receiver on
//! loopback, and the figures it prints as one JSON line: accepted sign-ins per second over
//! C connections, the time from the push that crosses the brute-force threshold to the
//! signed webhook's arrival, and the serve process's peak resident memory and CPU time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use model::{Outcome, SignIn};
use scenario::{Benign, BruteForce, benign, brute_force, render_graph, staff_accounts};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};

/// Failed sign-ins against one account within the window that make a brute force: the
/// default `[detect.brute_force] min_failures` (10 within 10 minutes), which the config
/// written here does not change.
const THRESHOLD: u32 = 10;

/// Time between an attack's attempts: ten of them span 45 s, well inside the window.
const ATTACK_SPACING: SignedDuration = SignedDuration::from_secs(5);

/// Home addresses per organisation; user `i` lives at home `i % HOMES`.
const HOMES: u8 = 64;

/// How long after the push phase a webhook may still arrive and count as notified.
const NOTIFY_DEADLINE: Duration = Duration::from_secs(60);

/// How long the service may take to announce its address, and then to answer.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// How long the service may take to exit after SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// A request that takes longer than this means the service is stuck, not slow.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(clap::Args)]
pub struct IntakeArgs {
    /// The `tocsin` binary to measure (such as `target/release/tocsin`).
    #[arg(long)]
    pub tocsin: PathBuf,
    /// Background sign-ins to push, spread over the organisations.
    #[arg(long, default_value_t = 200_000)]
    pub count: usize,
    /// Organisations to enrol (at most 256).
    #[arg(long, default_value_t = 50)]
    pub orgs: usize,
    /// Brute-force attacks whose notification latency is measured, spread evenly through
    /// the push and over the organisations.
    #[arg(long, default_value_t = 200)]
    pub attacks: usize,
    /// Concurrent connections pushing the background sign-ins.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Sign-in lines per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
}

/// Runs the measurement and prints its JSON line on standard output.
pub fn run(args: &IntakeArgs) -> anyhow::Result<()> {
    ensure!(args.count >= 1, "--count must be at least 1");
    ensure!(
        (1..=256).contains(&args.orgs),
        "--orgs must be between 1 and 256 (each organisation has its own /24 of 198.18.0.0/16)"
    );
    ensure!(args.connections >= 1, "--connections must be at least 1");
    ensure!(args.batch >= 1, "--batch must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(measure(args))
}

async fn measure(args: &IntakeArgs) -> anyhow::Result<()> {
    let began = Instant::now();
    // reqwest is built without a default TLS provider in this workspace and refuses to
    // build a client until one is installed, even for plain HTTP. Err means one already is.
    let _ = rustls::crypto::ring::default_provider().install_default();

    eprintln!(
        "intake: generating {} sign-ins over {} organisations and {} attacks",
        args.count, args.orgs, args.attacks
    );
    let workload = Workload::build(args)?;
    eprintln!(
        "intake: {} requests of up to {} lines ready ({:.1} s)",
        workload.batches.len(),
        args.batch,
        began.elapsed().as_secs_f64()
    );

    // Removed when dropped, on every path out of here; the service is stopped first.
    let dir = tempfile::Builder::new()
        .prefix("tocsin-bench-intake-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let data_dir = dir.path().join("data");
    let config = write_config(dir.path(), &data_dir)?;
    let operator = operator_key(&args.tocsin, &data_dir).await?;
    let receiver = Receiver::start().await?;
    let serve = Serve::start(&args.tocsin, &config).await?;
    eprintln!("intake: tocsin serve (pid {}) at {}", serve.pid, serve.base);

    // Interrupted, it still stops the service and removes the directory.
    let outcome = tokio::select! {
        outcome = drive(args, workload, &serve.base, &operator, receiver) => outcome,
        Ok(()) = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    // Read just before stopping, so that the figures cover the whole run.
    let usage = serve.usage();
    if let Err(error) = serve.stop().await {
        eprintln!("intake: warning: {error:#}");
    }
    let measured = outcome?;
    let usage = usage?;

    let ms = |p: Option<Duration>| p.map(|d| d.as_secs_f64() * 1000.0);
    let line = Output {
        events: measured.accepted,
        seconds: measured.seconds,
        events_per_second: measured.accepted as f64 / measured.seconds,
        attacks: args.attacks,
        notified: measured.latencies.len(),
        notify_p50_ms: ms(percentile(&measured.latencies, 50)),
        notify_p90_ms: ms(percentile(&measured.latencies, 90)),
        notify_p99_ms: ms(percentile(&measured.latencies, 99)),
        notify_max_ms: ms(measured.latencies.last().copied()),
        peak_rss_kib: usage.peak_rss_kib,
        cpu_seconds: usage.cpu_seconds,
    };
    println!(
        "{}",
        serde_json::to_string(&line).context("cannot write the result as JSON")?
    );
    dir.close()
        .context("cannot remove the temporary directory")?;
    eprintln!("intake: done in {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// The line printed on standard output; a struct so that the keys keep this order.
#[derive(Serialize)]
struct Output {
    /// Background sign-ins accepted.
    events: u64,
    /// Wall time of the background push.
    seconds: f64,
    events_per_second: f64,
    attacks: usize,
    /// Attacks whose webhook arrived within the deadline.
    notified: usize,
    notify_p50_ms: Option<f64>,
    notify_p90_ms: Option<f64>,
    notify_p99_ms: Option<f64>,
    notify_max_ms: Option<f64>,
    /// VmHWM of the serve process.
    peak_rss_kib: u64,
    /// Its user and system time.
    cpu_seconds: f64,
}

/// What the push phase and the wait for webhooks found.
struct Measured {
    /// Background sign-ins the intake reports accepted.
    accepted: u64,
    /// Wall time of the background push.
    seconds: f64,
    /// Push-to-webhook times of the attacks notified in time, sorted.
    latencies: Vec<Duration>,
}

/// Enrols the organisations, pushes the background and the attacks side by side, and
/// waits for the attacks' webhooks.
async fn drive(
    args: &IntakeArgs,
    workload: Workload,
    base: &str,
    operator: &str,
    mut receiver: Receiver,
) -> anyhow::Result<Measured> {
    let client = http_client()?;
    let mut keys = Vec::with_capacity(workload.orgs.len());
    let mut secrets = HashMap::new();
    for org in &workload.orgs {
        let webhook = format!("{}/{}", receiver.base, org.slug);
        let enrolled = enrol(&client, base, operator, org, &webhook).await?;
        keys.push(enrolled.api_key);
        secrets.insert(org.slug.clone(), enrolled.webhook_secret);
    }
    eprintln!("intake: {} organisations enrolled", keys.len());
    let keys = Arc::new(keys);

    let Workload {
        orgs,
        batches,
        attacks,
        sent,
    } = workload;
    // Which attack a webhook is about: its organisation and the attacked account.
    let targets: HashMap<(String, String), usize> = attacks
        .iter()
        .enumerate()
        .map(|(i, a)| ((orgs[a.org].slug.clone(), a.account.clone()), i))
        .collect();

    let (progress, released) = watch::channel(0usize);
    let background = tokio::spawn(push_background(
        base.to_owned(),
        Arc::clone(&keys),
        batches,
        args.connections,
        progress,
    ));
    let attacking = tokio::spawn(push_attacks(
        base.to_owned(),
        Arc::clone(&keys),
        attacks,
        released,
    ));
    let tally = background
        .await
        .context("the background push task failed")??;
    let background_end = Instant::now();
    eprintln!(
        "intake: background pushed in {:.2} s: {} accepted of {sent} sent ({:.0}/s)",
        tally.seconds,
        tally.accepted,
        tally.accepted as f64 / tally.seconds
    );
    if tally.accepted != sent as u64 {
        eprintln!(
            "intake: warning: the intake accepted {} of {sent} background sign-ins \
             ({} duplicates, {} ignored, {} rejected); first errors: {:?}",
            tally.accepted, tally.duplicates, tally.ignored, tally.rejected, tally.errors
        );
    }
    if tally.incidents_opened > 0 {
        eprintln!(
            "intake: warning: the background alone opened {} incidents (it should look benign)",
            tally.incidents_opened
        );
    }
    let pushed = attacking.await.context("the attack push task failed")??;
    let push_end = Instant::now();
    let measured_attacks = pushed.iter().filter(|p| p.is_some()).count();
    // How much of the latency is the intake request itself, and whether the attacks
    // really met the load.
    let mut answers: Vec<Duration> = pushed
        .iter()
        .flatten()
        .map(|(sent, answered)| answered.saturating_duration_since(*sent))
        .collect();
    answers.sort();
    let under_load = pushed
        .iter()
        .flatten()
        .filter(|(sent, _)| *sent < background_end)
        .count();
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    eprintln!(
        "intake: {measured_attacks} of {} attacks opened their incident, {under_load} pushed \
         during the background; their requests were answered in p50 {:.1} ms, max {:.1} ms; \
         waiting up to {} s for webhooks",
        pushed.len(),
        ms(percentile(&answers, 50)),
        ms(answers.last().copied()),
        NOTIFY_DEADLINE.as_secs()
    );

    let deadline = tokio::time::Instant::from_std(push_end + NOTIFY_DEADLINE);
    let mut arrived: Vec<Option<Instant>> = vec![None; pushed.len()];
    let mut incidents: HashMap<String, usize> = HashMap::new();
    let mut matched = 0usize;
    let mut unmatched: HashMap<String, u64> = HashMap::new();
    let mut bad_signatures = 0u64;
    while matched < measured_attacks {
        let hook = match tokio::time::timeout_at(deadline, receiver.hooks.recv()).await {
            Ok(Some(hook)) => hook,
            // The receiver's task ended (it never should) or the deadline passed.
            Ok(None) | Err(_) => break,
        };
        let Some(secret) = secrets.get(&hook.org) else {
            *unmatched
                .entry(format!("unknown path /{}", hook.org))
                .or_default() += 1;
            continue;
        };
        if !hook
            .signature
            .as_deref()
            .is_some_and(|s| signature_valid(secret, s, &hook.body))
        {
            bad_signatures += 1;
            continue;
        }
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(&hook.body) else {
            *unmatched
                .entry("a body that is not JSON".into())
                .or_default() += 1;
            continue;
        };
        let incident = &body["incident"];
        let kind = incident["kind"].as_str().unwrap_or("no incident");
        let attack = (kind == "brute_force")
            .then(|| incident["accounts"].as_array())
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(|account| account.as_str())
            .find_map(|account| targets.get(&(hook.org.clone(), account.to_owned())));
        let Some(&i) = attack else {
            *unmatched
                .entry(format!("{} {kind}", hook.event))
                .or_default() += 1;
            continue;
        };
        if arrived[i].is_some() {
            // A later notification about the same incident (an update).
            continue;
        }
        arrived[i] = Some(hook.at);
        if pushed[i].is_some() {
            matched += 1;
        }
        if let Some(id) = incident["id"].as_str()
            && let Some(other) = incidents.insert(id.to_owned(), i)
        {
            eprintln!(
                "intake: warning: attacks {other} and {i} were notified as one incident {id}"
            );
        }
    }
    if bad_signatures > 0 {
        eprintln!(
            "intake: warning: {bad_signatures} webhooks had a missing or wrong Tocsin-Signature \
             and were not counted"
        );
    }
    if !unmatched.is_empty() {
        eprintln!("intake: webhooks about no measured attack: {unmatched:?}");
    }

    let mut latencies: Vec<Duration> = pushed
        .iter()
        .zip(&arrived)
        .filter_map(|(pushed, arrived)| {
            let ((pushed, _), arrived) = ((*pushed)?, (*arrived)?);
            // Only what arrived before the deadline counts, as the loop above stops there.
            (arrived <= push_end + NOTIFY_DEADLINE)
                .then(|| arrived.saturating_duration_since(pushed))
        })
        .collect();
    latencies.sort();
    if latencies.len() < args.attacks {
        eprintln!(
            "intake: warning: {} of {} attacks were notified within {} s of the push phase's end",
            latencies.len(),
            args.attacks,
            NOTIFY_DEADLINE.as_secs()
        );
    }
    Ok(Measured {
        accepted: tally.accepted,
        seconds: tally.seconds,
        latencies,
    })
}

// ---------------------------------------------------------------------------------------
// The workload

/// One enrolled organisation.
struct Org {
    name: String,
    /// The webhook path at the receiver, which tells whose webhook arrived.
    slug: String,
    domain: String,
}

/// One intake request of background sign-ins, rendered before timing starts.
struct Batch {
    org: usize,
    lines: usize,
    body: String,
}

/// One brute force: its failures up to the one that crosses the threshold, in one request.
///
/// Not the first failures and then the crossing one in two requests: the detectors forget
/// an account once the newest event time they have seen, all organisations together,
/// is a window (10 minutes) past its last failure, and a replay pushes a day in seconds,
/// so the background moves event time on by more than that while a request waits for the
/// store (a first run lost 5 of 200 attacks so). One request is one transaction: the
/// threshold is crossed inside it, and the timed request still carries that failure.
struct Attack {
    org: usize,
    account: String,
    /// Background requests answered before this attack is pushed.
    after_batches: usize,
    lines: String,
}

struct Workload {
    orgs: Vec<Org>,
    /// In the order they are pushed: by the time of their last sign-in, so that the
    /// newest event time the service has seen moves forward steadily.
    batches: Vec<Batch>,
    attacks: Vec<Attack>,
    /// Background sign-ins in all batches.
    sent: usize,
}

impl Workload {
    fn build(args: &IntakeArgs) -> anyhow::Result<Workload> {
        // One synthetic day, yesterday: the detectors' windows run on event time, so
        // what matters is that every sign-in's time makes sense next to the others; a
        // recent day also stays clear of retention and of any check on future times.
        let now = Timestamp::now().as_second();
        let day = Timestamp::from_second((now.div_euclid(86_400) - 1) * 86_400)
            .context("cannot compute yesterday's date")?;

        let mut orgs = Vec::with_capacity(args.orgs);
        let mut timed: Vec<(Timestamp, usize, usize, Batch)> = Vec::new();
        let mut clean: Vec<Vec<String>> = Vec::with_capacity(args.orgs);
        for k in 0..args.orgs {
            let org = Org {
                name: format!("Bench Org {k}"),
                slug: format!("org{k}"),
                domain: format!("org{k}.example"),
            };
            let quota = args.count / args.orgs + usize::from(k < args.count % args.orgs);
            let events = org_day(k, &org.domain, day, quota);
            clean.push(accounts_without_failures(&events));
            for (n, chunk) in events.chunks(args.batch).enumerate() {
                let lines: Vec<String> = chunk.iter().map(render_graph).collect();
                let last = chunk.last().map_or(day, |s| s.time);
                let batch = Batch {
                    org: k,
                    lines: lines.len(),
                    body: lines.join("\n"),
                };
                timed.push((last, k, n, batch));
            }
            orgs.push(org);
        }
        // Every organisation's day advances together, as live traffic would arrive; an
        // organisation's requests stay in order, as each ends later than the one before.
        timed.sort_by_key(|(time, org, n, _)| (*time, *org, *n));
        let times: Vec<Timestamp> = timed.iter().map(|(time, ..)| *time).collect();
        let batches: Vec<Batch> = timed.into_iter().map(|(.., batch)| batch).collect();
        let sent = batches.iter().map(|b| b.lines).sum();

        let mut attacks = Vec::with_capacity(args.attacks);
        for i in 0..args.attacks {
            let k = i % args.orgs;
            let Some(account) = clean[k].get(i / args.orgs) else {
                bail!(
                    "organisation {k} has only {} accounts without failed sign-ins to attack; \
                     ask for fewer attacks per organisation",
                    clean[k].len()
                );
            };
            // Evenly through the push: attack i goes once this many requests were answered,
            // ending at the newest time of the requests then in flight: it happens now, as
            // far as the service can tell.
            let after_batches = (i + 1) * batches.len() / (args.attacks + 1);
            let front = (after_batches + args.connections).min(times.len()) - 1;
            let end = times.get(front).copied().unwrap_or(day);
            let start = end - ATTACK_SPACING * (THRESHOLD as i32 - 1);
            let mut p = BruteForce::new(account, attacker(i), start, THRESHOLD, ATTACK_SPACING);
            // Distinct record ids for every attack: the intake drops repeated ids.
            p.seed = 1_000_000 + i as u64;
            let lines: Vec<String> = brute_force(&p).iter().map(render_graph).collect();
            attacks.push(Attack {
                org: k,
                account: account.clone(),
                after_batches,
                lines: lines.join("\n"),
            });
        }
        Ok(Workload {
            orgs,
            batches,
            attacks,
            sent,
        })
    }
}

/// Organisation `k`'s address `host` in its own /24 of the benchmarking range
/// 198.18.0.0/15 (RFC 2544): the office NAT is `.1`, homes `.10` onwards.
fn org_address(k: usize, host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, (k % 256) as u8, host))
}

/// Attack `i`'s source: its own address, in its own /24 for the first 256 attacks, in the
/// other half of the benchmarking range, so attacks share no network with anyone.
fn attacker(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        198,
        19,
        (i % 256) as u8,
        (i / 256 % 254 + 1) as u8,
    ))
}

/// Exactly `quota` ordinary sign-ins of organisation `k` on `day`, in time order: the
/// scenario crate's background for as many users as it takes.
fn org_day(k: usize, domain: &str, day: Timestamp, quota: usize) -> Vec<SignIn> {
    // About 2.7 sign-ins per user per day, and two stale clients of ~64 failures each;
    // the loop corrects the estimate.
    let mut users = (quota.saturating_sub(130) as f64 / 2.7 * 1.05) as usize + 2;
    loop {
        let accounts = staff_accounts(1 + k as u64, users, Some(domain));
        let p = Benign::new(
            1 + k as u64,
            accounts.clone(),
            day,
            SignedDuration::from_hours(24),
            org_address(k, 1),
            (0..HOMES).map(|h| org_address(k, 10 + h)).collect(),
        );
        let mut events = benign(&p);
        if events.len() >= quota {
            trim(&mut events, &accounts, quota);
            return events;
        }
        users = users * 5 / 4 + 1;
    }
}

/// Cuts `events` (in time order) to `quota`, keeping whole users: the stale clients
/// first, then the others in order, and a prefix of the last one's day. A stale client
/// cut short would fail only a few times, which is what a campaign across organisations
/// looks like; an ordinary user cut short is only a shorter day.
fn trim(events: &mut Vec<SignIn>, accounts: &[String], quota: usize) {
    let index: HashMap<&str, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let mut failures: HashMap<String, usize> = HashMap::new();
    for e in events.iter().filter(|e| e.outcome == Outcome::Failure) {
        *failures.entry(e.account.clone()).or_default() += 1;
    }
    // A user with more failures than two typos a session could make has a stale client.
    let rank = |account: &str| {
        let stale = failures.get(account).copied().unwrap_or(0) > 8;
        (!stale, index.get(account).copied().unwrap_or(usize::MAX))
    };
    let mut keyed: Vec<((bool, usize), SignIn)> =
        events.drain(..).map(|e| (rank(&e.account), e)).collect();
    // Stable: each user's sign-ins stay in time order.
    keyed.sort_by_key(|(key, _)| *key);
    keyed.truncate(quota);
    events.extend(keyed.into_iter().map(|(_, e)| e));
    events.sort_by_key(|e| e.time);
}

/// The accounts with sign-ins on the day and not one failure, in first-seen order: an
/// attack on them crosses the threshold with its own tenth failure, not earlier because
/// of a typo or a stale phone in the same window.
fn accounts_without_failures(events: &[SignIn]) -> Vec<String> {
    let failed: HashSet<&str> = events
        .iter()
        .filter(|e| e.outcome == Outcome::Failure)
        .map(|e| e.account.as_str())
        .collect();
    let mut seen = HashSet::new();
    events
        .iter()
        .map(|e| e.account.as_str())
        .filter(|a| !failed.contains(a) && seen.insert(*a))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Pushing

/// The intake report of docs/output.md, the fields counted here.
#[derive(Deserialize)]
struct IntakeReport {
    accepted: u64,
    duplicates: u64,
    ignored: u64,
    rejected: u64,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    detections: u64,
    incidents_opened: u64,
}

#[derive(Default)]
struct Tally {
    accepted: u64,
    duplicates: u64,
    ignored: u64,
    rejected: u64,
    incidents_opened: u64,
    /// The first line errors any report listed.
    errors: Vec<serde_json::Value>,
    seconds: f64,
}

impl Tally {
    fn add(&mut self, report: IntakeReport) {
        self.accepted += report.accepted;
        self.duplicates += report.duplicates;
        self.ignored += report.ignored;
        self.rejected += report.rejected;
        self.incidents_opened += report.incidents_opened;
        let room = 5usize.saturating_sub(self.errors.len());
        self.errors.extend(report.errors.into_iter().take(room));
    }
}

/// Pushes every batch over `connections` connections, each taking the next batch in
/// order, and counts what the reports say; `progress` counts the answered requests.
async fn push_background(
    base: String,
    keys: Arc<Vec<String>>,
    batches: Vec<Batch>,
    connections: usize,
    progress: watch::Sender<usize>,
) -> anyhow::Result<Tally> {
    let total = batches.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(batches)));
    let progress = Arc::new(progress);
    let url = format!("{base}/api/v1/signins");
    let started = Instant::now();
    let mut workers = Vec::with_capacity(connections);
    for _ in 0..connections {
        // A client each: each keeps its own connection, so there are `connections`.
        let client = http_client()?;
        let queue = Arc::clone(&queue);
        let keys = Arc::clone(&keys);
        let progress = Arc::clone(&progress);
        let url = url.clone();
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front();
                let Some(batch) = next else { break };
                let report = post_signins(&client, &url, &keys[batch.org], batch.body)
                    .await
                    .with_context(|| {
                        format!("pushing {} background sign-ins failed", batch.lines)
                    })?;
                tally.add(report);
                let mut done = 0;
                progress.send_modify(|n| {
                    *n += 1;
                    done = *n;
                });
                if done % (total / 10).max(1) == 0 {
                    eprintln!(
                        "intake: {done}/{total} requests answered ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut tally = Tally::default();
    for worker in workers {
        let part = worker.await.context("a push connection's task failed")??;
        tally.add(IntakeReport {
            accepted: part.accepted,
            duplicates: part.duplicates,
            ignored: part.ignored,
            rejected: part.rejected,
            errors: part.errors,
            detections: 0,
            incidents_opened: part.incidents_opened,
        });
    }
    tally.seconds = started.elapsed().as_secs_f64();
    Ok(tally)
}

/// Pushes each attack once its share of the background was answered, on connections of
/// their own (one client, apart from the background's). Each attack is a task of its own:
/// under load a request waits for the store's writer about as long as a background request
/// takes, so attacks pushed one after the other would fall behind the push phase and be
/// measured without the load. For each attack, when its request was sent and answered, or
/// `None` when it did not open the incident (then its latency would mean nothing).
async fn push_attacks(
    base: String,
    keys: Arc<Vec<String>>,
    attacks: Vec<Attack>,
    mut released: watch::Receiver<usize>,
) -> anyhow::Result<Vec<Option<(Instant, Instant)>>> {
    let client = http_client()?;
    let url = format!("{base}/api/v1/signins");
    let mut tasks = Vec::with_capacity(attacks.len());
    for (i, attack) in attacks.into_iter().enumerate() {
        // An error means the background push is over: nothing to wait for any more.
        let _ = released.wait_for(|n| *n >= attack.after_batches).await;
        let client = client.clone();
        let url = url.clone();
        let key = keys[attack.org].clone();
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            let report = post_signins(&client, &url, &key, attack.lines)
                .await
                .with_context(|| format!("pushing attack {i} failed"))?;
            let answered = Instant::now();
            if report.incidents_opened == 0 {
                eprintln!(
                    "intake: warning: attack {i} on {} opened no incident \
                     ({} accepted, {} duplicates, {} detections)",
                    attack.account, report.accepted, report.duplicates, report.detections
                );
            }
            anyhow::Ok((report.incidents_opened > 0).then_some((at, answered)))
        }));
    }
    let mut pushed = Vec::with_capacity(tasks.len());
    for task in tasks {
        pushed.push(task.await.context("an attack's task failed")??);
    }
    Ok(pushed)
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build an HTTP client")
}

async fn post_signins(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: String,
) -> anyhow::Result<IntakeReport> {
    let response = client
        .post(url)
        .bearer_auth(key)
        .body(body)
        .send()
        .await
        .context("POST /api/v1/signins got no answer")?;
    let status = response.status();
    let text = response
        .bytes()
        .await
        .context("reading the answer to POST /api/v1/signins failed")?;
    ensure!(
        status == reqwest::StatusCode::OK,
        "POST /api/v1/signins answered {status}: {}",
        excerpt(&text)
    );
    serde_json::from_slice(&text).with_context(|| {
        format!(
            "the answer to POST /api/v1/signins is not an intake report: {}",
            excerpt(&text)
        )
    })
}

/// The start of an answer, for an error message.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned()
}

#[derive(Deserialize)]
struct Enrolled {
    api_key: String,
    webhook_secret: String,
}

async fn enrol(
    client: &reqwest::Client,
    base: &str,
    operator: &str,
    org: &Org,
    webhook: &str,
) -> anyhow::Result<Enrolled> {
    let response = client
        .post(format!("{base}/api/v1/orgs"))
        .bearer_auth(operator)
        .json(&serde_json::json!({
            "name": org.name,
            "sector": "hospital",
            "country": "IE",
            "domains": [org.domain],
            "webhook_url": webhook,
        }))
        .send()
        .await
        .with_context(|| format!("enrolling {} got no answer", org.name))?;
    let status = response.status();
    let text = response
        .bytes()
        .await
        .with_context(|| format!("reading the answer to enrolling {} failed", org.name))?;
    ensure!(
        status == reqwest::StatusCode::CREATED,
        "enrolling {} answered {status}: {}",
        org.name,
        excerpt(&text)
    );
    serde_json::from_slice(&text).with_context(|| {
        format!(
            "the answer to enrolling {} has no api_key and webhook_secret: {}",
            org.name,
            excerpt(&text)
        )
    })
}

// ---------------------------------------------------------------------------------------
// The webhook receiver

/// One request the receiver got, stamped on arrival; judged later, off the hot path.
struct Hook {
    org: String,
    at: Instant,
    event: String,
    signature: Option<String>,
    body: Bytes,
}

struct Receiver {
    base: String,
    hooks: mpsc::UnboundedReceiver<Hook>,
}

impl Receiver {
    async fn start() -> anyhow::Result<Receiver> {
        let (tx, hooks) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/{org}", axum::routing::post(receive))
            .with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen for webhooks on 127.0.0.1")?;
        let address = listener
            .local_addr()
            .context("cannot tell the webhook receiver's address")?;
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("intake: the webhook receiver stopped: {error}");
            }
        });
        Ok(Receiver {
            base: format!("http://{address}"),
            hooks,
        })
    }
}

async fn receive(
    State(tx): State<mpsc::UnboundedSender<Hook>>,
    UrlPath(org): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let at = Instant::now();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // Nobody listens any more once the measurement is over; the answer is the same.
    let _ = tx.send(Hook {
        org,
        at,
        event: header("tocsin-event").unwrap_or_default(),
        signature: header("tocsin-signature"),
        body,
    });
    StatusCode::NO_CONTENT
}

/// Whether `header` (`t=…,v1=…[,v1=…]`) signs `body` with `secret`, as docs/webhooks.md
/// says to check. The replay window is left out: sender and receiver share one clock.
fn signature_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    signatures.iter().any(|signature| {
        let Some(expected) = decode_hex(signature) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(t.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------
// The service

fn write_config(dir: &Path, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let data = data_dir
        .to_str()
        .filter(|s| !s.contains(['\'', '\n', '\r']))
        .with_context(|| {
            format!(
                "the temporary directory {} cannot be written in TOML as a literal string",
                data_dir.display()
            )
        })?;
    // The default store (SQLite in data_dir), no e-mail (no smtp_host), and webhooks to
    // the receiver on loopback, which tocsin refuses unless told otherwise.
    let text = format!("data_dir = '{data}'\n\n[notify.webhook]\nallow_private_targets = true\n");
    let path = dir.join("tocsin.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Variables that would point the child at another store or role than this config's.
const FOREIGN_ENV: [&str; 3] = ["TOCSIN_STORE_URL", "TOCSIN_ROLE", "TOCSIN_CONFIG"];

async fn operator_key(tocsin: &Path, data_dir: &Path) -> anyhow::Result<String> {
    let mut command = tokio::process::Command::new(tocsin);
    command.args(["operator-key", "--data-dir"]).arg(data_dir);
    for name in FOREIGN_ENV {
        command.env_remove(name);
    }
    let out = command
        .output()
        .await
        .with_context(|| format!("cannot run {} operator-key", tocsin.display()))?;
    ensure!(
        out.status.success(),
        "tocsin operator-key failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    // The key is the only thing on standard output; the advice goes to standard error.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key = stdout.trim();
    ensure!(
        !key.is_empty() && !key.contains(char::is_whitespace),
        "tocsin operator-key printed no key: {stdout:?}"
    );
    Ok(key.to_owned())
}

/// `tocsin serve` in a child process.
struct Serve {
    child: tokio::process::Child,
    pid: u32,
    base: String,
}

impl Serve {
    async fn start(tocsin: &Path, config: &Path) -> anyhow::Result<Serve> {
        let mut command = tokio::process::Command::new(tocsin);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .env("TOCSIN_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // On an early return nothing is left running in the removed directory.
            .kill_on_drop(true);
        for name in FOREIGN_ENV {
            command.env_remove(name);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {} serve", tocsin.display()))?;
        let pid = child.id().context("tocsin serve exited at once")?;
        let stdout = child
            .stdout
            .take()
            .context("tocsin serve's standard output is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        // Port 0: the service says where it listens on its first line.
        let first = match tokio::time::timeout(START_DEADLINE, lines.next_line()).await {
            Err(_) => bail!(
                "tocsin serve did not say where it listens within {} s",
                START_DEADLINE.as_secs()
            ),
            Ok(line) => line.context("reading tocsin serve's output failed")?,
        };
        let Some(first) = first else {
            let status = child
                .wait()
                .await
                .context("waiting for tocsin serve failed")?;
            bail!("tocsin serve exited ({status}) before listening; its log is above");
        };
        let base = first
            .strip_prefix("tocsin listening on ")
            .with_context(|| format!("tocsin serve's first line is not its address: {first:?}"))?
            .trim()
            .to_owned();
        // Keep reading so that the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let client = http_client()?;
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let answer = client.get(format!("{base}/healthz")).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "tocsin serve at {base} did not answer GET /healthz within {} s",
                START_DEADLINE.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Serve { child, pid, base })
    }

    /// Peak resident memory and CPU time so far, from /proc.
    fn usage(&self) -> anyhow::Result<Usage> {
        let path = format!("/proc/{}/status", self.pid);
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let peak_rss_kib = vm_hwm_kib(&status).with_context(|| format!("no VmHWM in {path}"))?;
        let path = format!("/proc/{}/stat", self.pid);
        let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let ticks = cpu_ticks(&stat).with_context(|| format!("no utime and stime in {path}"))?;
        Ok(Usage {
            peak_rss_kib,
            cpu_seconds: ticks as f64 / clock_ticks_per_second() as f64,
        })
    }

    /// SIGTERM, as an operator stops it; killed if it has not exited in time.
    async fn stop(mut self) -> anyhow::Result<()> {
        let signalled = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if signalled.is_ok_and(|s| s.success())
            && let Ok(exited) = tokio::time::timeout(STOP_DEADLINE, self.child.wait()).await
        {
            let status = exited.context("waiting for tocsin serve to exit failed")?;
            ensure!(
                status.success(),
                "tocsin serve exited with {status} after SIGTERM"
            );
            return Ok(());
        }
        self.child
            .kill()
            .await
            .context("cannot kill tocsin serve")?;
        bail!(
            "tocsin serve did not exit within {} s of SIGTERM and was killed",
            STOP_DEADLINE.as_secs()
        )
    }
}

struct Usage {
    peak_rss_kib: u64,
    cpu_seconds: f64,
}

/// `VmHWM:   123456 kB` of /proc/<pid>/status.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let value = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    value.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// utime + stime (fields 14 and 15) of /proc/<pid>/stat, in clock ticks. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// The kernel's USER_HZ as `getconf CLK_TCK` says (100 on every common Linux target,
/// which is also the fallback).
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .filter(|&hz| hz > 0)
        .unwrap_or(100)
}

/// The nearest-rank `p`th percentile of `sorted` (ascending): the smallest value with at
/// least `p` per cent of the values at or below it. `None` for no values.
fn percentile<T: Copy>(sorted: &[T], p: usize) -> Option<T> {
    let rank = (p * sorted.len())
        .div_ceil(100)
        .clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        // The textbook example: 15, 20, 35, 40, 50.
        let v = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&v, 5), Some(15));
        assert_eq!(percentile(&v, 30), Some(20));
        assert_eq!(percentile(&v, 40), Some(20));
        assert_eq!(percentile(&v, 50), Some(35));
        assert_eq!(percentile(&v, 100), Some(50));
        let ten: Vec<u32> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 99), Some(10));
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 99), Some(99));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile::<u32>(&[], 50), None);
    }

    #[test]
    fn reads_proc_figures() {
        let status =
            "Name:\ttocsin\nVmPeak:\t  200000 kB\nVmHWM:\t   54321 kB\nVmRSS:\t 50000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(54321));
        let stat = "4242 (tocsin (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9";
        assert_eq!(cpu_ticks(stat), Some(325));
    }

    #[test]
    fn checks_signatures_as_the_docs_say() {
        // The signature computed the way docs/webhooks.md describes, beside a wrong one.
        let body = b"{}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").expect("any key length");
        mac.update(b"1700000000.{}");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let header = format!("t=1700000000,v1=00,v1={hex}");
        assert!(signature_valid("whsec_test", &header, body));
        assert!(!signature_valid("whsec_other", &header, body));
        assert!(!signature_valid("whsec_test", &format!("v1={hex}"), body));
    }

    #[test]
    fn a_workload_has_exactly_the_asked_sign_ins_and_clean_targets() {
        let args = IntakeArgs {
            tocsin: PathBuf::new(),
            count: 2_003,
            orgs: 3,
            attacks: 7,
            connections: 1,
            batch: 100,
        };
        let w = Workload::build(&args).expect("workload");
        assert_eq!(w.sent, 2_003);
        assert_eq!(
            w.batches
                .iter()
                .map(|b| b.body.lines().count())
                .sum::<usize>(),
            2_003
        );
        assert_eq!(w.attacks.len(), 7);
        assert!(
            w.attacks
                .windows(2)
                .all(|a| a[0].after_batches <= a[1].after_batches)
        );
        for a in &w.attacks {
            assert_eq!(a.lines.lines().count(), THRESHOLD as usize);
            assert!(a.account.ends_with(&format!("@org{}.example", a.org)));
        }
    }
}
