//! Telemetry that arrives by itself, through `tocsin serve` as an operator configures it:
//! a followed log file and the syslog listener feed the same intake as the HTTP API.

mod support;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use support::{Api, BIN, Server};

/// Enrols one organisation on the command line; its API key.
fn enrol(data: &std::path::Path) -> String {
    let created = Command::new(BIN)
        .args([
            "org",
            "create",
            "--name",
            "Echo Clinic",
            "--sector",
            "clinic",
        ])
        .args(["--country", "FR", "--domain", "echo.example", "--data-dir"])
        .arg(data)
        .env("TOCSIN_LOG", "warn")
        .output()
        .expect("org create");
    assert!(created.status.success(), "{created:?}");
    String::from_utf8(created.stdout)
        .expect("utf8")
        .lines()
        .find_map(|l| l.strip_prefix("api_key=").map(str::to_owned))
        .expect("api_key line")
}

/// sshd's line for a failed password, in RFC 3164 syslog.
fn failed(n: u32, account: &str, ip: &str) -> String {
    format!(
        "Nov 20 09:{:02}:{:02} gw sshd[{}]: Failed password for {account} from {ip} port {} ssh2",
        n / 60,
        n % 60,
        4000 + n,
        40000 + n
    )
}

async fn incidents(api: &Api, key: &str) -> Vec<serde_json::Value> {
    let (status, body) = api.get("/api/v1/incidents", key).await;
    assert_eq!(status, 200, "{body}");
    body["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no incidents list: {body}"))
}

async fn wait_for_incident(api: &Api, key: &str, kind: &str) -> serde_json::Value {
    for _ in 0..200 {
        if let Some(found) = incidents(api, key)
            .await
            .into_iter()
            .find(|i| i["kind"] == kind)
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} incident within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_file_and_syslog_over_tcp_feed_the_intake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key = enrol(&data);
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "").expect("log file");
    // A free port for the syslog listener: bound, read and released.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let config = dir.path().join("tocsin.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n\
             [tail]\npoll_every = \"100ms\"\nfiles = [{{ path = {log:?}, org = 1 }}]\n\
             [syslog]\ntcp = \"{tcp}\"\nflush_after = \"100ms\"\n\
             sources = [{{ address = \"127.0.0.1\", org = 1 }}]\n"
        ),
    )
    .expect("config");
    let server = Server::start(&config).await;
    let api = Api::new(&server.base);

    // Twelve bad passwords for one account written to the followed file: a brute force.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open log");
    for n in 0..12 {
        writeln!(file, "{}", failed(n, "root", "203.0.113.9")).expect("append");
    }
    drop(file);
    let brute = wait_for_incident(&api, &key, "brute_force").await;
    assert_eq!(brute["accounts"], serde_json::json!(["root"]));
    assert_eq!(brute["sources"], serde_json::json!(["203.0.113.9"]));

    // One address failing against twelve accounts, sent over TCP syslog with line ends:
    // a password spray.
    let mut stream = tokio::net::TcpStream::connect(tcp).await.expect("connect");
    let mut text = String::new();
    for n in 0..12 {
        text.push_str(&failed(100 + n, &format!("user{n}"), "198.51.100.77"));
        text.push('\n');
    }
    tokio::io::AsyncWriteExt::write_all(&mut stream, text.as_bytes())
        .await
        .expect("send");
    drop(stream);
    let spray = wait_for_incident(&api, &key, "password_spray").await;
    assert_eq!(spray["sources"], serde_json::json!(["198.51.100.77"]));
    assert_eq!(
        spray["accounts"].as_array().map(Vec::len),
        Some(12),
        "{spray}"
    );
}
