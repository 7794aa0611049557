//! File tailing against a real store and intake: lines are stored once each across
//! restarts and rotations, partial lines wait for their newline, long lines are cut.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use model::{Outcome, SignIn};
use tocsin_connect::tail::{
    FileTail, Position, TailConfig, TailError, TailedFile, checkpoint_name,
};

struct Fixture {
    dir: tempfile::TempDir,
    store: store::Store,
    intake: Arc<notify::SignInIntake>,
    org: i64,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(&dir.path().join("data"))
        .await
        .expect("store");
    let (org, _) = store
        .create_organisation(&store::NewOrganisation {
            name: "Echo Clinic".into(),
            sector: model::Sector::Clinic,
            country: "FR".into(),
            domains: vec!["echo.example".into()],
            webhook_url: None,
            language: store::Language::En,
        })
        .await
        .expect("org");
    let intake = Arc::new(
        notify::SignInIntake::new(
            store.clone(),
            detect::DetectConfig::default(),
            notify::NotifyConfig::default(),
        )
        .await
        .expect("intake"),
    );
    Fixture {
        dir,
        store,
        intake,
        org: org.id.0,
    }
}

impl Fixture {
    fn log(&self) -> PathBuf {
        self.dir.path().join("auth.log")
    }

    fn config(&self) -> TailConfig {
        TailConfig {
            files: vec![TailedFile {
                path: self.log(),
                org: self.org,
            }],
            poll_every: SignedDuration::from_millis(50),
            ..TailConfig::default()
        }
    }

    async fn start(&self, config: TailConfig) -> FileTail {
        FileTail::start(config, Arc::clone(&self.intake), self.store.clone())
            .await
            .expect("tail starts")
    }

    /// Every sign-in stored, in the order stored.
    async fn stored(&self) -> Vec<SignIn> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .store
                .signins_for_hunt(Timestamp::MIN, after, 10_000)
                .await
                .expect("read sign-ins");
            let Some((last, _)) = page.last() else {
                return all;
            };
            after = last.id.0;
            all.extend(page.into_iter().map(|(o, _)| o.sign_in));
        }
    }

    /// Waits until `n` sign-ins are stored, then a few polls more to see that no more
    /// come; returns them.
    async fn settled_at(&self, n: usize) -> Vec<SignIn> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.stored().await.len() < n {
            assert!(Instant::now() < deadline, "{n} sign-ins never stored");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        let stored = self.stored().await;
        assert_eq!(stored.len(), n, "more sign-ins than lines");
        stored
    }

    async fn position(&self) -> Position {
        let text = self
            .store
            .checkpoint(&checkpoint_name(&self.log()))
            .await
            .expect("read checkpoint")
            .expect("a checkpoint is saved");
        serde_json::from_str(&text).expect("position JSON")
    }
}

/// An sshd failure for account `u<i>`, from an address derived from `i`.
fn failure(i: usize) -> String {
    format!(
        "Mar  1 03:14:15 web1 sshd[{}]: Failed password for invalid user u{i} from 203.0.113.{} port 22 ssh2\n",
        1000 + i,
        i % 250 + 1
    )
}

fn failures(range: std::ops::Range<usize>) -> String {
    range.map(failure).collect()
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

/// The accounts stored, checked to be each there once.
fn accounts(stored: &[SignIn]) -> HashSet<String> {
    let accounts: HashSet<String> = stored.iter().map(|s| s.account.clone()).collect();
    assert_eq!(accounts.len(), stored.len(), "a line was stored twice");
    accounts
}

fn expected(range: std::ops::Range<usize>) -> HashSet<String> {
    range.map(|i| format!("u{i}")).collect()
}

#[tokio::test]
async fn appended_lines_are_stored_with_their_values_and_position() {
    let f = fixture().await;
    append(&f.log(), &failures(0..2));
    let tail = f.start(f.config()).await;
    f.settled_at(2).await;
    append(
        &f.log(),
        "Mar  1 03:15:00 web1 CRON[77]: (root) CMD (run-parts /etc/cron.hourly)\n\
         Mar  1 03:15:01 web1 sshd[9]: Accepted password for bob from 198.51.100.4 port 50000 ssh2\n",
    );
    let stored = f.settled_at(3).await;

    assert_eq!(stored[0].account, "u0");
    assert_eq!(
        stored[0].source_ip,
        Some("203.0.113.1".parse::<IpAddr>().expect("ip"))
    );
    assert_eq!(stored[0].outcome, Outcome::Failure);
    assert_eq!(stored[1].account, "u1");
    assert_eq!(
        stored[1].source_ip,
        Some("203.0.113.2".parse::<IpAddr>().expect("ip"))
    );
    assert_eq!(stored[2].account, "bob");
    assert_eq!(
        stored[2].source_ip,
        Some("198.51.100.4".parse::<IpAddr>().expect("ip"))
    );
    assert_eq!(stored[2].outcome, Outcome::Success);
    assert_eq!(
        stored[2].origin,
        model::Origin::FileLine {
            file: f.log().display().to_string(),
            line: 4
        }
    );

    let stats = tail.stop().await.expect("stop");
    assert_eq!((stats.lines, stats.sign_ins, stats.errors), (4, 3, 0));
    let position = f.position().await;
    let len = std::fs::metadata(f.log()).expect("stat").len();
    assert_eq!((position.offset, position.line), (len, 4));
}

#[tokio::test]
async fn a_restart_in_the_middle_takes_every_line_once() {
    let f = fixture().await;
    append(&f.log(), &failures(0..40));
    // Small batches: the position is saved many times on the way.
    let config = TailConfig {
        batch_lines: 7,
        ..f.config()
    };
    let tail = f.start(config.clone()).await;
    f.settled_at(40).await;
    let first = tail.stop().await.expect("stop");
    assert_eq!(first.lines, 40);

    append(&f.log(), &failures(40..100));
    let tail = f.start(config).await;
    let stored = f.settled_at(100).await;
    assert_eq!(accounts(&stored), expected(0..100));
    let second = tail.stop().await.expect("stop");
    assert_eq!(second.lines, 60, "the second run reads only the new lines");
    assert_eq!(f.position().await.line, 100);
}

#[tokio::test]
async fn a_file_replaced_while_stopped_is_read_from_its_beginning() {
    let f = fixture().await;
    append(&f.log(), &failures(0..10));
    let tail = f.start(f.config()).await;
    f.settled_at(10).await;
    tail.stop().await.expect("stop");

    // Another file at the path (another inode), longer than the saved offset.
    std::fs::remove_file(f.log()).expect("remove");
    append(&f.log(), &failures(10..30));
    let tail = f.start(f.config()).await;
    let stored = f.settled_at(30).await;
    assert_eq!(accounts(&stored), expected(0..30));
    tail.stop().await.expect("stop");
}

#[tokio::test]
async fn rotation_by_rename_loses_and_repeats_nothing() {
    let f = fixture().await;
    append(&f.log(), &failures(0..30));
    let tail = f.start(f.config()).await;
    f.settled_at(30).await;

    // The writer adds to the old file, the last line without its newline; logrotate
    // renames it; the writer reopens the path and goes on in a new file.
    let last = failure(39);
    append(
        &f.log(),
        &format!("{}{}", failures(30..39), last.trim_end()),
    );
    let rotated = f.dir.path().join("auth.log.1");
    std::fs::rename(f.log(), &rotated).expect("rename");
    append(&f.log(), &failures(40..60));

    let stored = f.settled_at(60).await;
    assert_eq!(accounts(&stored), expected(0..60));
    append(&f.log(), &failures(60..65));
    let stored = f.settled_at(65).await;
    assert_eq!(accounts(&stored), expected(0..65));

    let stats = tail.stop().await.expect("stop");
    assert_eq!((stats.lines, stats.rotations), (65, 1));
    let position = f.position().await;
    assert_eq!(position.line, 25, "the position is the new file's");
    let new = std::fs::metadata(f.log()).expect("stat");
    assert_eq!(position.offset, new.len());
}

#[tokio::test]
async fn copy_truncate_rotation_reads_the_file_again_from_its_beginning() {
    let f = fixture().await;
    append(&f.log(), &failures(0..20));
    let tail = f.start(f.config()).await;
    f.settled_at(20).await;

    std::fs::copy(f.log(), f.dir.path().join("auth.log.1")).expect("copy");
    File::options()
        .write(true)
        .open(f.log())
        .expect("open")
        .set_len(0)
        .expect("truncate");
    // Let a poll see the file empty, as it would between logrotate and the next line.
    tokio::time::sleep(Duration::from_millis(150)).await;
    append(&f.log(), &failures(20..25));

    let stored = f.settled_at(25).await;
    assert_eq!(accounts(&stored), expected(0..25));
    let stats = tail.stop().await.expect("stop");
    assert_eq!((stats.lines, stats.rotations), (25, 1));
    assert_eq!(f.position().await.line, 5);
}

#[tokio::test]
async fn a_truncated_file_rewritten_past_the_old_offset_is_read_from_its_beginning() {
    let f = fixture().await;
    append(&f.log(), &failures(0..10));
    let tail = f.start(f.config()).await;
    f.settled_at(10).await;
    // Truncated and written longer than before at once: the size alone cannot tell.
    std::fs::write(f.log(), failures(10..40)).expect("rewrite");
    let stored = f.settled_at(40).await;
    assert_eq!(accounts(&stored), expected(0..40));
    tail.stop().await.expect("stop");

    // The same while stopped: the saved fingerprint no longer matches.
    std::fs::write(f.log(), failures(40..80)).expect("rewrite");
    let tail = f.start(f.config()).await;
    let stored = f.settled_at(80).await;
    assert_eq!(accounts(&stored), expected(0..80));
    let stats = tail.stop().await.expect("stop");
    assert_eq!(stats.lines, 40);
}

#[tokio::test]
async fn a_partial_line_waits_for_its_newline() {
    let f = fixture().await;
    append(
        &f.log(),
        &format!(
            "{}Mar  1 03:14:15 web1 sshd[5]: Failed password for invalid user par",
            failure(0)
        ),
    );
    let tail = f.start(f.config()).await;
    f.settled_at(1).await;
    assert_eq!(f.position().await.line, 1);
    assert_eq!(f.position().await.offset, failure(0).len() as u64);

    append(&f.log(), "tial from 192.0.2.7 port 22 ssh2\n");
    let stored = f.settled_at(2).await;
    assert_eq!(stored[1].account, "partial");
    assert_eq!(
        stored[1].source_ip,
        Some("192.0.2.7".parse::<IpAddr>().expect("ip"))
    );
    let stats = tail.stop().await.expect("stop");
    assert_eq!((stats.lines, stats.sign_ins), (2, 2));
}

#[tokio::test]
async fn a_line_over_the_limit_is_cut_and_counted() {
    let f = fixture().await;
    let long = format!(
        "Mar  1 03:14:15 web1 sshd[3]: Failed password for invalid user {} from 192.0.2.9 port 22 ssh2\n",
        "x".repeat(10_000)
    );
    append(&f.log(), &format!("{}{long}{}", failure(0), failure(2)));
    let config = TailConfig {
        max_line_bytes: 256,
        ..f.config()
    };
    let tail = f.start(config).await;
    let stored = f.settled_at(2).await;
    assert_eq!(accounts(&stored), ["u0".to_owned(), "u2".to_owned()].into());
    let stats = tail.stop().await.expect("stop");
    assert_eq!(
        (stats.lines, stats.sign_ins, stats.errors, stats.cut_lines),
        (3, 2, 1, 1)
    );
    assert_eq!(f.position().await.line, 3);
}

#[tokio::test]
async fn start_at_end_skips_the_past_of_a_new_file_only() {
    let f = fixture().await;
    append(&f.log(), &failures(0..10));
    let config = TailConfig {
        start_at_end_for_new_files: true,
        ..f.config()
    };
    let tail = f.start(config.clone()).await;
    // Give its first poll (at once) time to settle at the end, then write.
    tokio::time::sleep(Duration::from_millis(500)).await;
    append(&f.log(), &failures(10..15));
    let stored = f.settled_at(5).await;
    assert_eq!(accounts(&stored), expected(10..15));
    tail.stop().await.expect("stop");

    // Seen before: a restart resumes, whatever the setting.
    append(&f.log(), &failures(15..18));
    let tail = f.start(config).await;
    let stored = f.settled_at(8).await;
    assert_eq!(accounts(&stored), expected(10..18));
    tail.stop().await.expect("stop");
}

#[tokio::test]
async fn parse_errors_are_counted_and_do_not_stop_the_tail() {
    let f = fixture().await;
    append(
        &f.log(),
        &format!("{}{{\"not\": \"a record\"\n{}", failure(0), failure(1)),
    );
    let tail = f.start(f.config()).await;
    let stored = f.settled_at(2).await;
    assert_eq!(accounts(&stored), expected(0..2));
    let stats = tail.stop().await.expect("stop");
    assert_eq!((stats.lines, stats.sign_ins, stats.errors), (3, 2, 1));
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let f = fixture().await;
    let unknown = TailConfig {
        files: vec![TailedFile {
            path: f.log(),
            org: f.org + 100,
        }],
        ..f.config()
    };
    let err = FileTail::start(unknown, Arc::clone(&f.intake), f.store.clone()).await;
    assert!(matches!(err, Err(TailError::UnknownOrganisation { org, .. }) if org == f.org + 100));

    let twice = TailConfig {
        files: vec![f.config().files[0].clone(), f.config().files[0].clone()],
        ..f.config()
    };
    let err = FileTail::start(twice, Arc::clone(&f.intake), f.store.clone()).await;
    assert!(matches!(err, Err(TailError::DuplicatePath { .. })));

    let zero = TailConfig {
        batch_lines: 0,
        ..f.config()
    };
    let err = FileTail::start(zero, Arc::clone(&f.intake), f.store.clone()).await;
    assert!(matches!(err, Err(TailError::Config(_))));
}

#[test]
fn config_defaults_and_unknown_fields() {
    let config: TailConfig = serde_json::from_str(
        r#"{"files": [{"path": "/var/log/auth.log", "org": 3}], "poll_every": "250ms"}"#,
    )
    .expect("config");
    assert_eq!(config.poll_every, SignedDuration::from_millis(250));
    assert_eq!(config.batch_lines, 1000);
    assert_eq!(config.max_line_bytes, 64 * 1024);
    assert!(!config.start_at_end_for_new_files);
    assert_eq!(
        config.files,
        vec![TailedFile {
            path: "/var/log/auth.log".into(),
            org: 3
        }]
    );
    assert_eq!(
        TailConfig::default().poll_every,
        SignedDuration::from_secs(1)
    );
    assert!(serde_json::from_str::<TailConfig>(r#"{"poll_evry": "1s"}"#).is_err());
    assert!(
        serde_json::from_str::<TailConfig>(r#"{"files": [{"path": "a", "org": 1, "x": 2}]}"#)
            .is_err()
    );
}

/// Throughput over 100,000 lines, measured not asserted:
/// `cargo test -p tocsin-connect --test tail -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn lines_per_second() {
    const LINES: usize = 100_000;
    let f = fixture().await;
    append(&f.log(), &failures(0..LINES));
    let started = Instant::now();
    let tail = f.start(f.config()).await;
    while tail.stats().lines < LINES as u64 {
        assert!(started.elapsed() < Duration::from_secs(600), "too slow");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let stats = tail.stop().await.expect("stop");
    assert_eq!(stats.sign_ins, LINES as u64);
    assert_eq!(f.stored().await.len(), LINES);
    println!(
        "{LINES} lines in {:.2} s: {:.0} lines/s",
        elapsed.as_secs_f64(),
        LINES as f64 / elapsed.as_secs_f64()
    );
}
