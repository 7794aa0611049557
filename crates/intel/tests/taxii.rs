//! The TAXII 2.1 client against a real server: OASIS medallion (installed by
//! scripts/test) serving the OASIS test data.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tocsin_intel::taxii::{self, Client, TaxiiError};

const HIGH_VALUE: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/intel/taxii")
        .join(path)
}

/// A medallion process, stopped when dropped.
struct Medallion {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts medallion with the PyPI release's configuration (its `module` backend line)
/// and the OASIS default data, the discovery resource rewritten to name this server.
fn start_medallion() -> Medallion {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let dir = std::env::temp_dir().join(format!("tocsin-taxii-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let data = std::fs::read_to_string(shared("default_data.json")).expect("default_data.json");
    let data = data.replace("http://localhost:5000/", &base);
    let data_path = dir.join("default_data.json");
    std::fs::write(&data_path, data).expect("write data");

    let config =
        std::fs::read_to_string(shared("config-pypi-medallion-3.0.0.json")).expect("config");
    let mut config: serde_json::Value = serde_json::from_str(&config).expect("config JSON");
    config["backend"]["filename"] = serde_json::Value::String(data_path.display().to_string());
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).expect("write config");

    let child = match Command::new("medallion")
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!(
            "medallion (the OASIS TAXII 2.1 server) could not be started ({e}); run scripts/test, which installs it"
        ),
    };
    let server = Medallion { child, base, dir };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "medallion did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn admin() -> Option<(String, String)> {
    Some(("admin".to_string(), "Password0".to_string()))
}

#[tokio::test]
async fn pulls_a_collection_from_medallion_and_resumes_from_the_checkpoint() {
    let server = start_medallion();

    let discovery = taxii::discover(&server.base, admin())
        .await
        .expect("discovery");
    assert_eq!(discovery.title, "Some TAXII Server");
    let root = format!("{}trustgroup1/", server.base);
    assert_eq!(discovery.default.as_deref(), Some(root.as_str()));
    assert_eq!(discovery.api_roots.len(), 3);

    let mut client = Client::new("oasis-taxii", &root, admin()).expect("client");
    let info = client.api_root().await.expect("API root");
    assert_eq!(info.title, "Malware Research Group");
    assert_eq!(info.versions, [taxii::MEDIA_TYPE]);

    let collections = client.collections().await.expect("collections");
    assert_eq!(collections.len(), 5);
    let high_value = collections
        .iter()
        .find(|c| c.id == HIGH_VALUE)
        .expect("the high value collection");
    assert_eq!(high_value.title, "High Value Indicator Collection");
    assert!(high_value.can_read);

    // Three objects a page: the five latest versions come in two pages via `next`.
    client.limits.page_size = 3;
    let pull = client.pull(HIGH_VALUE, None).await.expect("pull");
    assert!(pull.complete);
    assert_eq!((pull.pages, pull.objects), (2, 5));
    assert_eq!(
        pull.checkpoint.as_deref(),
        Some("2017-12-31T13:49:53.935000Z")
    );
    let intel = &pull.bundle.intel;
    assert_eq!(intel.problems, []);
    assert_eq!(intel.indicators.len(), 2);
    // Sorted by id.
    let hash = &intel.indicators[1];
    assert_eq!(hash.id, "indicator--cd981c25-8042-4166-8945-51178443bdac");
    assert_eq!(
        hash.pattern,
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']"
    );
    assert_eq!(hash.malware, ["Poison Ivy"]);
    assert_eq!(hash.feed, "oasis-taxii");
    assert_eq!(hash.labels, ["file-hash-watchlist"]);
    let url = &intel.indicators[0];
    assert_eq!(url.id, "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e");
    // The newest of its three versions.
    assert_eq!(url.pattern, "[url:value = 'http://x4z9arb.cn/4712']");
    assert_eq!(
        url.modified.map(|t| t.to_string()).as_deref(),
        Some("2017-01-27T13:49:53.935Z")
    );

    // From the checkpoint nothing is new, and the checkpoint stays.
    let again = client
        .pull(HIGH_VALUE, pull.checkpoint.as_deref())
        .await
        .expect("second pull");
    assert_eq!((again.pages, again.objects), (1, 0));
    assert!(again.bundle.intel.indicators.is_empty());
    assert_eq!(again.checkpoint, pull.checkpoint);

    // From an earlier checkpoint only what was added after it.
    let later = client
        .pull(HIGH_VALUE, Some("2017-01-20T00:00:00.000000Z"))
        .await
        .expect("third pull");
    assert_eq!(later.objects, 2);
    assert_eq!(later.bundle.intel.indicators.len(), 1);

    // A collection the account may not read, and a wrong password.
    match client
        .pull("64993447-4d7e-4f70-b94d-d7f33742ee63", None)
        .await
    {
        Err(TaxiiError::Status { status, .. }) => assert_eq!(status, 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let stranger = Client::new(
        "oasis-taxii",
        &root,
        Some(("admin".to_string(), "wrong".to_string())),
    )
    .expect("client");
    match stranger.pull(HIGH_VALUE, None).await {
        Err(TaxiiError::Status { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected 401, got {other:?}"),
    }
    assert!(matches!(
        client.pull("../../etc", None).await,
        Err(TaxiiError::Collection(_))
    ));
}
