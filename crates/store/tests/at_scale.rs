//! The dashboard's and the pipeline's queries on a large generated store (not run by
//! `cargo test`; see README): sign-ins spread over 1,000 organisations and 180 days,
//! generated inside PostgreSQL, then each query timed (median of 5).
//!
//!     createdb -h 127.0.0.1 -U postgres tocsin_bench
//!     TOCSIN_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/tocsin_bench \
//!     TOCSIN_BENCH_SIGNINS=20000000 \
//!         cargo test --release -p tocsin-store --test at_scale -- --ignored --nocapture
//!
//! A database that already holds the sign-ins is reused, so the timings can be taken
//! again without generating anew.

use std::time::{Duration, Instant};

use model::{Format, OrgId, Origin, Outcome, Protocol, Sector, SignIn, Timestamp};
use sqlx::Connection;
use tocsin_store::{NewOrganisation, Store};

const ORGS: i64 = 1000;
const DAYS: i64 = 180;
const CHUNK: i64 = 1_000_000;

async fn median<T, F: std::future::Future<Output = T>>(mut f: impl FnMut() -> F) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        last = Some(f().await);
        times.push(started.elapsed());
    }
    times.sort();
    (times[2], last.expect("ran"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark on a large database: run it by hand"]
async fn dashboard_queries_on_a_large_store() {
    let Ok(url) = std::env::var("TOCSIN_BENCH_DATABASE_URL") else {
        panic!("set TOCSIN_BENCH_DATABASE_URL to an empty PostgreSQL database");
    };
    let wanted: i64 = std::env::var("TOCSIN_BENCH_SIGNINS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(Some(&url), dir.path()).await.expect("store");
    sqlx::any::install_default_drivers();
    let mut raw = sqlx::AnyConnection::connect(&url).await.expect("connect");
    let now = Timestamp::now();
    let now_us = now.as_microsecond();

    let orgs = store.organisations().await.expect("orgs").len() as i64;
    if orgs < ORGS {
        for n in orgs..ORGS {
            store
                .create_organisation(&NewOrganisation {
                    name: format!("Organisation {n}"),
                    sector: Sector::Hospital,
                    country: "IE".into(),
                    domains: vec![format!("org{n}.example")],
                    webhook_url: None,
                    language: tocsin_store::Language::En,
                })
                .await
                .expect("org");
        }
    }
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM signins")
        .fetch_one(&mut raw)
        .await
        .expect("count");
    if have == 0 {
        // One sign-in written by the store, as the template of the generated ones (its
        // format and origin are what the store writes).
        let first = store.organisations().await.expect("orgs")[0].id;
        let mut tx = store.begin_intake().await.expect("begin");
        tx.insert_signin(
            first,
            &SignIn {
                time: now,
                account: "template@org0.example".into(),
                source_ip: Some("192.0.2.1".parse().expect("ip")),
                outcome: Outcome::Failure,
                failure_kind: Some(model::FailureKind::BadPassword),
                protocol: Protocol::Imap,
                app: Some("Office 365 Exchange Online".into()),
                result_code: Some("50126".into()),
                reason: None,
                record_id: None,
                country: Some("NL".into()),
                asn: Some(64496),
                user_agent: None,
                format: Format::EntraGraph,
                origin: Origin::RequestLine {
                    request: "bench".into(),
                    line: 1,
                },
                authentication: None,
            },
        )
        .await
        .expect("template");
        tx.commit().await.expect("commit");
    }
    let mut have: i64 = sqlx::query_scalar("SELECT count(*) FROM signins")
        .fetch_one(&mut raw)
        .await
        .expect("count");
    let span_us = DAYS * 86_400_000_000;
    let generating = Instant::now();
    while have < wanted {
        let upto = (have + CHUNK).min(wanted);
        // 30 % failures; 5,000 accounts and 65,536 addresses per organisation; times
        // spread evenly over the 180 days before now.
        sqlx::query(
            "INSERT INTO signins (org_id, time_us, account, source_ip, outcome, failure_kind, \
               protocol, app, result_code, reason, record_id, country, format, origin, \
               received_at, asn, user_agent) \
             SELECT o.first + (g % $1), $2 - g * $3, \
               'user' || ((g * 7919) % 5000) || '@org' || (g % $1) || '.example', \
               '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || ((g / 65536) % 256), \
               CASE WHEN g % 10 < 3 THEN 'failure' ELSE 'success' END, \
               CASE WHEN g % 10 < 3 THEN t.failure_kind END, \
               t.protocol, t.app, t.result_code, t.reason, NULL, t.country, t.format, \
               t.origin, t.received_at, t.asn, t.user_agent \
             FROM generate_series($4::bigint, $5::bigint) AS g, \
               (SELECT * FROM signins ORDER BY id LIMIT 1) AS t, \
               (SELECT min(id) AS first FROM organisations) AS o",
        )
        .bind(ORGS)
        .bind(now_us)
        .bind(span_us / wanted)
        .bind(have)
        .bind(upto - 1)
        .execute(&mut raw)
        .await
        .expect("generate");
        have = upto;
        println!(
            "generated {have} sign-ins ({:.0} s)",
            generating.elapsed().as_secs_f64()
        );
    }
    sqlx::raw_sql("ANALYZE")
        .execute(&mut raw)
        .await
        .expect("analyze");
    let size: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('signins'))")
            .fetch_one(&mut raw)
            .await
            .expect("size");
    println!("signins: {have} rows, {size} with indexes");

    let orgs = store.organisations().await.expect("orgs");
    let org: OrgId = orgs[orgs.len() / 2].id;
    let day = jiff::SignedDuration::from_hours(24);
    let two_days_ago = now.checked_sub(day * 2).expect("time");
    let week_ago = now.checked_sub(day * 7).expect("time");
    let mut rows: Vec<(&str, Duration, String)> = Vec::new();

    let (t, hours) = median(|| store.failures_by_hour(org, two_days_ago, now)).await;
    rows.push((
        "failures per hour, one organisation, 48 h (overview chart)",
        t,
        format!("{} hours", hours.expect("query").len()),
    ));
    let (t, latest) = median(|| store.latest_failure(org)).await;
    rows.push((
        "newest failure of one organisation",
        t,
        format!("{:?}", latest.expect("query").is_some()),
    ));
    let (t, accounts) = median(|| store.most_targeted_accounts(org, week_ago, 10)).await;
    rows.push((
        "most targeted accounts, 7 days",
        t,
        format!("{} accounts", accounts.expect("query").len()),
    ));
    let (t, sources) = median(|| store.most_failing_sources(org, week_ago, 10)).await;
    rows.push((
        "most failing sources, 7 days",
        t,
        format!("{} sources", sources.expect("query").len()),
    ));
    let (t, health) = median(|| store.organisation_health()).await;
    rows.push((
        "console: every organisation's newest event and open incidents",
        t,
        format!("{} organisations", health.expect("query").len()),
    ));
    let (t, incidents) = median(|| store.incidents(org, 50)).await;
    rows.push((
        "incident list of one organisation",
        t,
        format!("{} incidents", incidents.expect("query").len()),
    ));
    let since = now.checked_sub(day).expect("time");
    let (t, page) = median(|| store.observations_since(since, None, 10_000)).await;
    rows.push((
        "replay: one page of 10,000 sign-ins of the last day (worker rebuild)",
        t,
        format!("{} sign-ins", page.expect("query").len()),
    ));
    let (t, newest) = median(|| store.latest_signin_time()).await;
    rows.push((
        "newest sign-in of all (campaign stages' clock)",
        t,
        format!("{:?}", newest.expect("query").is_some()),
    ));
    // Retention: one batch of 5,000 of the oldest (the horizon at the oldest day).
    let horizon = now_us - span_us + 86_400_000_000;
    let started = Instant::now();
    let deleted = store
        .delete_events_before(horizon, 5_000)
        .await
        .expect("retention");
    let per_batch = started.elapsed().as_secs_f64() / (deleted.sign_ins.max(1) as f64 / 5000.0);
    rows.push((
        "retention: the oldest day, in batches of 5,000",
        started.elapsed(),
        format!(
            "{} deleted, {:.0} ms per batch",
            deleted.sign_ins,
            per_batch * 1000.0
        ),
    ));

    println!("\n| query | median of 5 | result |\n|---|---|---|");
    for (what, time, result) in rows {
        println!(
            "| {what} | {:.1} ms | {result} |",
            time.as_secs_f64() * 1000.0
        );
    }
}
