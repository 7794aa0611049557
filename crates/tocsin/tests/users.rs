//! `tocsin user add` as an operator runs it, then signing in to `tocsin serve` with the
//! account it made.

mod support;

use std::process::Command;

use support::{BIN, Server, write_config};

#[tokio::test]
async fn a_user_added_on_the_command_line_signs_in_to_the_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let data = dir.path().join("data");
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
        .arg(&data)
        .env("TOCSIN_LOG", "warn")
        .output()
        .expect("org create");
    assert!(created.status.success(), "{created:?}");

    let add = |email: &str, role: &str, org: Option<&str>, password: &str| {
        let mut command = Command::new(BIN);
        command
            .args([
                "user",
                "add",
                "--email",
                email,
                "--role",
                role,
                "--data-dir",
            ])
            .arg(&data)
            .env("TOCSIN_PASSWORD", password)
            .env("TOCSIN_LOG", "warn");
        if let Some(org) = org {
            command.args(["--org", org]);
        }
        command.output().expect("user add")
    };
    let short = add("ana@echo.example", "org-admin", Some("1"), "short");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("at least 12"),
        "{short:?}"
    );
    let no_org = add(
        "ana@echo.example",
        "org-admin",
        None,
        "a long enough password",
    );
    assert!(
        !no_org.status.success(),
        "an org admin needs an organisation"
    );
    let ok = add(
        "Ana@Echo.example",
        "org-admin",
        Some("1"),
        "a long enough password",
    );
    assert!(ok.status.success(), "{ok:?}");
    let user: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("user JSON");
    assert_eq!(user["email"], "ana@echo.example");
    assert_eq!(user["role"], "org_admin");
    let again = add(
        "ana@echo.example",
        "org-viewer",
        Some("1"),
        "a long enough password",
    );
    assert!(!again.status.success(), "the address is taken");

    let mut server = Server::start(&config).await;
    notify::webhook::install_crypto_provider();
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/login", server.base))
        .header("content-type", "application/json")
        .body(r#"{"email":"ana@echo.example","password":"a long enough password"}"#)
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 200);
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned();
    let org = client
        .get(format!("{}/api/v1/org", server.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("org");
    assert_eq!(org.status().as_u16(), 200);
    let org: serde_json::Value = org.json().await.expect("json");
    assert_eq!(org["name"], "Echo Clinic");
    server.kill().await;
}
