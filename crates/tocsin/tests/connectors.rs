//! Telemetry that arrives by itself, through `tocsin serve` as an operator configures it:
//! a followed log file and the syslog listener feed the same intake as the HTTP API, and
//! an organisation's Microsoft Graph connector, set up through the API, pulls its
//! sign-ins and survives the service being killed in the middle of paging.

mod support;
#[path = "../../connect/tests/pull/vendors.rs"]
#[allow(dead_code)]
mod vendors;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_connector_set_up_through_the_api_pulls_a_spray_and_survives_a_crash_mid_paging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key = enrol(&data);
    // One address failing against forty accounts, Graph's newest first, 50 a page: three
    // pages. Graph goes down after two, the service is killed (SIGKILL), Graph comes back,
    // the service starts again.
    let newest = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1);
    let events: Vec<vendors::Event> = (0..150)
        .map(|i| vendors::Event {
            id: format!("spray-{i:04}"),
            time: newest - jiff::SignedDuration::from_secs(10 * (149 - i)),
            // The oldest fifty (the third page, pulled after the crash) each try an
            // account of their own.
            user: if i < 50 {
                format!("late{i:02}@echo.example")
            } else {
                format!("staff{:02}@echo.example", i % 40)
            },
            ip: "198.51.100.77".into(),
            success: false,
        })
        .collect();
    let secret = "Qf~8Q~e2e.secret";
    let (vendor, graph) = vendors::graph("echo.example", secret, events).await;
    vendor.state().down_after = Some(2);
    let config = dir.path().join("tocsin.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n\
             [connectors]\nallow_http = true\npoll_every = \"200ms\"\npage_size = 50\n\
             backoff_base = \"50ms\"\nmax_backoff = \"500ms\"\n"
        ),
    )
    .expect("config");
    let mut server = Server::start(&config).await;
    let api = Api::new(&server.base);
    let (status, body) = api
        .put_json(
            "/api/v1/org/connectors/entra",
            &key,
            serde_json::json!({
                "kind": "graph",
                "tenant_id": "echo.example",
                "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
                "login_base": graph,
                "graph_base": format!("{graph}/beta"),
                "secret": secret,
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(!body.to_string().contains(secret));
    for _ in 0..300 {
        if vendor.state().list_requests.iter().any(|r| r.status == 503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, listed) = api.get("/api/v1/org/connectors", &key).await;
    let status = &listed["connectors"][0]["status"];
    assert_eq!(status["state"], "backing_off", "{listed}");
    assert_eq!(status["events_today"], 100, "{listed}");
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{listed}"
    );
    assert!(listed["connectors"][0]["lag_seconds"].as_i64().is_some());

    server.kill().await;
    let before = vendor.state().list_requests.len();
    vendor.state().down = false;
    let server = Server::start(&config).await;
    let api = Api::new(&server.base);
    let spray = wait_for_incident(&api, &key, "password_spray").await;
    assert_eq!(spray["sources"], serde_json::json!(["198.51.100.77"]));
    let mut status = serde_json::Value::Null;
    for _ in 0..200 {
        let (_, listed) = api.get("/api/v1/org/connectors", &key).await;
        status = listed["connectors"][0]["status"].clone();
        if status["events_today"] == 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["events_today"], 150, "{status}");
    assert_eq!(status["state"], "running", "{status}");
    // The restarted service asked for the third page, not the window again.
    let resumed = vendor.state().list_requests[before].query.clone();
    assert!(resumed.contains("skiptoken=spray-0050"), "{resumed}");
    // The accounts of the page pulled after the crash joined the spray: nothing was lost.
    let mut accounts = Vec::new();
    for _ in 0..200 {
        let spray = wait_for_incident(&api, &key, "password_spray").await;
        accounts = spray["accounts"].as_array().cloned().unwrap_or_default();
        if accounts.iter().any(|a| a == "late00@echo.example") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        accounts.iter().any(|a| a == "late00@echo.example")
            && accounts.iter().any(|a| a == "late49@echo.example"),
        "{accounts:?}"
    );
}
