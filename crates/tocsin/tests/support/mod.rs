//! What the behavioural tests share: the `tocsin` binary run as a user runs it, and a
//! real HTTP webhook receiver on loopback.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_tocsin");

/// A config for tests: loopback webhooks allowed, quick retries.
pub fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("tocsin.toml");
    let text = format!(
        "data_dir = {:?}\n[notify.webhook]\nallow_private_targets = true\ninitial_backoff = \"300ms\"\nmax_backoff = \"1s\"\ntimeout = \"5s\"\n",
        dir.join("data")
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// `tocsin serve` in a child process.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(config: &Path) -> Server {
        let (child, first) = spawn_serve(config, &[]).await;
        let base = first
            .strip_prefix("tocsin listening on ")
            .expect("announcement")
            .to_owned();
        Server { child, base }
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
    }
}

/// `tocsin serve --listen 127.0.0.1:0 --config CONFIG ARGS…` in a child process, and the
/// first line it prints (where it listens); the rest of its output is drained.
pub async fn spawn_serve(config: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .args(args)
        .env("TOCSIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tocsin serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the service announces itself within a minute")
        .expect("read stdout")
        .expect("a line");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, first)
}

pub fn operator_key(config_dir: &Path) -> String {
    let out = std::process::Command::new(BIN)
        .args(["operator-key", "--data-dir"])
        .arg(config_dir.join("data"))
        .output()
        .expect("run operator-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub delivery_id: String,
    pub event: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A webhook receiver that records every request and fails the first `fail_first` ones
/// with 500.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicU32>,
}

impl Receiver {
    pub async fn start(fail_first: u32) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicU32::new(fail_first));
        let state = (Arc::clone(&received), Arc::clone(&fail));
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            base,
            received,
            fail_first: fail,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until `n` requests were answered 2xx, or fails the test after `secs`.
    pub async fn wait_for_delivered(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let ok: Vec<Received> = self
                .all()
                .into_iter()
                .filter(|r| r.answered < 300)
                .collect();
            if ok.len() >= n {
                return ok;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} deliveries arrived: {:?}",
                ok.len(),
                self.all()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

type ReceiverState = (Arc<Mutex<Vec<Received>>>, Arc<AtomicU32>);

async fn receive(
    axum::extract::State((received, fail)): axum::extract::State<ReceiverState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let failing = fail
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    received.lock().expect("lock").push(Received {
        path: uri.path().to_owned(),
        delivery_id: header("tocsin-delivery"),
        event: header("tocsin-event"),
        signature: header("tocsin-signature"),
        body: body.to_vec(),
        answered: status.as_u16(),
    });
    status
}

/// Minimal API client.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        notify::webhook::install_crypto_provider();
        Api {
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn post_json(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    pub async fn post_text(&self, path: &str, key: &str, body: String) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    pub async fn put_json(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }

    /// Enrols an organisation; returns (id, api key, webhook secret).
    pub async fn enrol(&self, operator: &str, name: &str, webhook: &str) -> (i64, String, String) {
        let (status, body) = self
            .post_json(
                "/api/v1/orgs",
                operator,
                serde_json::json!({
                    "name": name, "sector": "hospital", "country": "IE",
                    "domains": [format!("{}.example", name.to_lowercase())], "webhook_url": webhook,
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["organisation"]["id"].as_i64().expect("id"),
            body["api_key"].as_str().expect("key").to_owned(),
            body["webhook_secret"].as_str().expect("secret").to_owned(),
        )
    }
}

/// A service with an operator key and a webhook receiver: what every end-to-end test
/// starts from. Kept in a temporary directory that lives as long as the harness.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub operator: String,
    pub receiver: Receiver,
    pub server: Server,
    pub api: Api,
}

impl Harness {
    /// Starts it all; the receiver answers 500 to its first `receiver_fails_first` requests.
    pub async fn start(receiver_fails_first: u32) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = write_config(dir.path());
        let operator = operator_key(dir.path());
        let receiver = Receiver::start(receiver_fails_first).await;
        let server = Server::start(&config).await;
        let api = Api::new(&server.base);
        Harness {
            dir,
            config,
            operator,
            receiver,
            server,
            api,
        }
    }

    /// Enrols an organisation whose webhook goes to the receiver at `/<path>`.
    pub async fn enrol(&self, name: &str, path: &str) -> (i64, String, String) {
        let url = format!("{}/{path}", self.receiver.base);
        self.api.enrol(&self.operator, name, &url).await
    }

    /// Crashes the service (SIGKILL) and starts it again on the same data directory.
    pub async fn crash_and_restart(&mut self) {
        self.server.kill().await;
        self.server = Server::start(&self.config).await;
        self.api = Api::new(&self.server.base);
    }
}
