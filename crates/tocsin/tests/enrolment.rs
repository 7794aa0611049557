//! Enrolment through the real binary: `[enrolment]` read from the configuration file, an
//! application over HTTP, the operator's review with `tocsin applications`, and the new
//! organisation's key working against the running service.

mod support;

use std::path::Path;

use support::{Api, BIN, Server, operator_key, write_config};

fn cli(args: &[&str], data_dir: &Path) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("applications")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run tocsin applications")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_is_reviewed_from_the_command_line_while_the_service_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str("[enrolment]\ncountries = [\"FR\", \"BE\"]\nmax_pending = 5\n");
    std::fs::write(&config, text).expect("config");
    let operator = operator_key(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(&config).await;
    let api = Api::new(&server.base);

    let form = |country: &str| {
        serde_json::json!({
            "name": "Clinique Alpha",
            "sector": "clinic",
            "country": country,
            "contacts": [{"name": "Ana Lima", "email": "ana@alpha.example"}],
            "domains": ["alpha.example"],
        })
    };
    let (status, body) = api.post_json("/api/v1/applications", "", form("DE")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"],
        "country DE is not served by this tocsin; it serves: FR, BE"
    );
    let (status, body) = api.post_json("/api/v1/applications", "", form("fr")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id").to_string();

    let listed = cli(&["list", "--state", "pending"], &data);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let line = String::from_utf8(listed.stdout).expect("utf8");
    let application: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert_eq!(application["name"], "Clinique Alpha");

    let approved = cli(&["approve", &id], &data);
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    let out = String::from_utf8(approved.stdout).expect("utf8");
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("api_key="))
        .expect("api_key line")
        .to_owned();
    assert!(
        out.contains("_tocsin.alpha.example. TXT \"tocsin-verification="),
        "{out}"
    );
    let (status, own) = api.get("/api/v1/org", &key).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["name"], "Clinique Alpha");

    let again = cli(&["reject", &id, "--reason", "second thoughts"], &data);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already approved"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let (status, audit) = api.get("/api/v1/audit", &operator).await;
    assert_eq!(status, 200, "{audit}");
    let approval = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "application.approved")
        .cloned()
        .expect("approval audited");
    assert_eq!(approval["actor"], "operator");
}
