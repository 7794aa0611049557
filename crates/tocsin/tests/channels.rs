//! Notification channels end to end: `tocsin serve` as a child process delivering e-mail
//! to a real SMTP server (aiosmtpd, scripts/smtp-sink.py) and webhooks to a real HTTP
//! receiver; a relay that refuses or hangs; SIGKILL during delivery; secret rotation.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mail_parser::MimeHeaders;
use scenario::{BruteForce, brute_force, render_graph};
use support::{Api, Receiver, Server, operator_key};
use tokio::io::{AsyncBufReadExt, BufReader};

/// scripts/smtp-sink.py running on a free port, writing what it accepts to `dir`.
struct SmtpSink {
    /// Killed when the test ends (kill_on_drop).
    _child: tokio::process::Child,
    port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    async fn start(dir: &Path, extra: &[&str]) -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/smtp-sink.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .args(["--port", "0", "--dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the sink starts")
            .expect("read")
            .expect("a line (is aiosmtpd installed? scripts/test installs it)");
        let port = first
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("listening on 127.0.0.1:<port>");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        SmtpSink {
            _child: child,
            port,
            dir: dir.to_owned(),
        }
    }

    /// "accept", "451" or "550" from now on.
    fn set_mode(&self, mode: &str) {
        std::fs::write(self.dir.join("mode"), mode).expect("write mode");
    }

    fn messages(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read(p).expect("read eml"))
            .collect()
    }

    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} e-mails arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A config with e-mail through `smtp_port` (no TLS: a loopback test server), quick
/// retries and a short timeout.
fn write_config(dir: &Path, smtp_port: u16, max_attempts: u32, email_timeout: &str) -> PathBuf {
    let path = dir.join("tocsin.toml");
    let text = format!(
        "data_dir = {:?}\n\
         [notify.webhook]\nallow_private_targets = true\ninitial_backoff = \"300ms\"\n\
         max_backoff = \"1s\"\ntimeout = \"5s\"\nmax_attempts = {max_attempts}\n\
         [notify.email]\nsmtp_host = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
         from = \"tocsin alerts <alerts@cert.example>\"\ntimeout = \"{email_timeout}\"\n",
        dir.join("data")
    );
    std::fs::write(&path, text).expect("write config");
    path
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    operator: String,
    receiver: Receiver,
    server: Server,
    api: Api,
}

async fn setup(smtp_port: u16, max_attempts: u32) -> Setup {
    setup_with_timeout(smtp_port, max_attempts, "1s").await
}

async fn setup_with_timeout(smtp_port: u16, max_attempts: u32, email_timeout: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), smtp_port, max_attempts, email_timeout);
    let operator = operator_key(dir.path());
    let receiver = Receiver::start(0).await;
    let server = Server::start(&config).await;
    let api = Api::new(&server.base);
    Setup {
        _dir: dir,
        config,
        operator,
        receiver,
        server,
        api,
    }
}

async fn put_json(
    api: &Api,
    path: &str,
    key: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = api
        .http
        .put(format!("{}{path}", api.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

fn brute_force_lines(account: &str, failures: u32) -> Vec<String> {
    let mut attack = BruteForce::new(
        account,
        "198.51.100.23".parse().expect("ip"),
        "2026-11-20T09:00:00Z".parse::<Timestamp>().expect("time"),
        failures,
        SignedDuration::from_secs(5),
    );
    attack.then_success = true;
    brute_force(&attack).iter().map(render_graph).collect()
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parsable message")
}

fn header(message: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    message
        .header_raw(name)
        .map(|value| value.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_is_e_mailed_to_each_recipient_in_their_language_with_transactional_headers() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let mut s = setup(sink.port, 12).await;
    let (_, a_key, _) = s
        .api
        .enrol(&s.operator, "Alpha", &format!("{}/alpha", s.receiver.base))
        .await;
    let (_, b_key, _) = s
        .api
        .enrol(&s.operator, "Bravo", &format!("{}/bravo", s.receiver.base))
        .await;
    let (status, body) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &a_key,
        serde_json::json!({"recipients": [
            {"address": "soc@alpha.example", "language": "en"},
            {"address": "rssi@alpha.example", "language": "fr"},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &b_key,
        serde_json::json!({"recipients": [{"address": "soc@bravo.example", "language": "en"}]}),
    )
    .await;
    assert_eq!(status, 200);
    // Bravo's list is Bravo's: Alpha's key reads only its own.
    let (_, listed) = s.api.get("/api/v1/org/recipients", &a_key).await;
    assert_eq!(
        listed["recipients"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    assert!(!listed.to_string().contains("bravo"), "{listed}");
    let (_, listed) = s.api.get("/api/v1/org/recipients", &b_key).await;
    assert_eq!(
        listed["recipients"],
        serde_json::json!([{"address": "soc@bravo.example", "language": "en"}])
    );
    // Bounded, checked and never another organisation's by address.
    let many: Vec<serde_json::Value> = (0..51)
        .map(|n| serde_json::json!({"address": format!("p{n}@bravo.example"), "language": "en"}))
        .collect();
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &b_key,
        serde_json::json!({"recipients": many}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &b_key,
        serde_json::json!({"recipients": [{"address": "x@y.example>\r\nBcc: z@evil.example", "language": "en"}]}),
    )
    .await;
    assert_eq!(status, 400);

    let lines = brute_force_lines("nurse.kelly@alpha.example", 12);
    let (status, report) = s
        .api
        .post_text("/api/v1/signins", &a_key, lines.join("\n"))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["incidents_opened"], 1, "{report}");

    let mails = sink.wait_for(2, 30).await;
    s.receiver.wait_for_delivered(1, 30).await;
    // Nothing more arrives: Bravo had no incident.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 2);
    let mut seen = Vec::new();
    for raw in &mails {
        let m = parse(raw);
        let to = header(&m, "X-Sink-Envelope-To").expect("envelope");
        seen.push(to.clone());
        let subject = m.subject().expect("subject").to_owned();
        let text = m.body_text(0).expect("a text part").into_owned();
        let html = m.body_html(0).expect("an HTML part").into_owned();
        assert!(
            m.content_type()
                .is_some_and(|c| c.c_subtype.as_deref() == Some("alternative"))
        );
        let message_id = m.message_id().expect("Message-ID");
        assert!(
            message_id.ends_with(".mail1@cert.example")
                || message_id.ends_with(".mail2@cert.example"),
            "{message_id}"
        );
        assert_eq!(
            header(&m, "Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        assert_eq!(
            header(&m, "X-Auto-Response-Suppress").as_deref(),
            Some("All")
        );
        assert!(header(&m, "List-Unsubscribe").is_none());
        assert!(m.date().is_some());
        assert!(header(&m, "From").is_some_and(|f| f.contains("alerts@cert.example")));
        if to == "soc@alpha.example" {
            assert!(subject.starts_with("[tocsin] Critical"), "{subject}");
            // The playbooks, account compromise first, in English.
            assert!(text.contains("Playbook: "), "{text}");
            let compromise = text
                .find("(account_compromise, v")
                .expect("compromise playbook");
            let brute_force = text.find("(brute_force, v").expect("brute-force playbook");
            assert!(compromise < brute_force, "{text}");
            assert!(html.contains("(account_compromise, v"));
        } else {
            assert_eq!(to, "rssi@alpha.example");
            assert!(subject.starts_with("[tocsin] Critique"), "{subject}");
            // The same playbooks from their French text, not the English one.
            assert!(text.contains("Procédure"), "{text}");
            assert!(text.contains("(brute_force, v"), "{text}");
            assert!(!text.contains("rédigée qu'en anglais"), "{text}");
            assert!(html.contains("(account_compromise, v"));
        }
        assert!(text.contains("198[.]51[.]100[.]23"), "{text}");
    }
    seen.sort();
    assert_eq!(seen, ["rssi@alpha.example", "soc@alpha.example"]);

    // The incident lists its deliveries: two e-mails and a webhook, each delivered once.
    let (_, list) = s.api.get("/api/v1/incidents", &a_key).await;
    let id = list["incidents"][0]["id"].as_str().expect("id").to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let deliveries = loop {
        let (_, one) = s.api.get(&format!("/api/v1/incidents/{id}"), &a_key).await;
        let deliveries = one["deliveries"].as_array().cloned().unwrap_or_default();
        if deliveries.len() == 3 && deliveries.iter().all(|d| d["state"] == "delivered") {
            break deliveries;
        }
        assert!(tokio::time::Instant::now() < deadline, "{one}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        deliveries.iter().all(|d| d["attempts"] == 1),
        "{deliveries:?}"
    );
    let (status, _) = s.api.get(&format!("/api/v1/incidents/{id}"), &b_key).await;
    assert_eq!(status, 404, "another organisation's incident is not found");

    // A test notification goes to every channel and says it is a test.
    let (status, queued) = s
        .api
        .post_json(
            "/api/v1/org/notifications/test",
            &b_key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(
        queued["queued"].as_array().map(Vec::len),
        Some(2),
        "{queued}"
    );
    let mails = sink.wait_for(3, 30).await;
    let test = parse(&mails[2]);
    assert_eq!(test.subject(), Some("[tocsin] Test notification for Bravo"));
    assert_eq!(
        header(&test, "X-Sink-Envelope-To").as_deref(),
        Some("soc@bravo.example")
    );
    let hooks = s.receiver.wait_for_delivered(2, 30).await;
    let hook = hooks
        .iter()
        .find(|r| r.path == "/bravo")
        .expect("Bravo's test webhook");
    assert_eq!(hook.event, "notification.test");
    assert_eq!(hook.json()["test"], true);
    assert_eq!(
        s.receiver
            .all()
            .iter()
            .filter(|r| r.path == "/alpha")
            .count(),
        1,
        "Bravo's test reached only Bravo's channels"
    );

    // No channel, no test: 409.
    let (_, c_key, _) = s
        .api
        .enrol(&s.operator, "Charlie", "http://127.0.0.1:9/x")
        .await;
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/webhook",
        &c_key,
        serde_json::json!({"url": null}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .api
        .post_json(
            "/api/v1/org/notifications/test",
            &c_key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    s.server.kill().await;
}

#[tokio::test]
async fn an_approved_applicant_is_welcomed_by_e_mail_in_its_language_and_told_its_records() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let s = setup(sink.port, 12).await;
    let (status, application) = s
        .api
        .post_json(
            "/api/v1/applications",
            "",
            serde_json::json!({
                "name": "Hôpital <Sud>",
                "sector": "hospital",
                "country": "FR",
                "language": "fr",
                "contacts": [
                    {"name": "Inès", "email": "ines@sud.example"},
                    {"name": "Marc", "email": "marc@sud.example"}
                ],
                "domains": ["sud.example"]
            }),
        )
        .await;
    assert_eq!(status, 201, "{application}");
    // Nothing is sent before the operator decides.
    assert!(sink.messages().is_empty());
    let id = application["id"].as_i64().expect("id");
    let (status, approved) = s
        .api
        .post_json(
            &format!("/api/v1/applications/{id}/approve"),
            &s.operator,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 201, "{approved}");
    let key = approved["api_key"].as_str().expect("key").to_owned();
    let record = approved["records"][0]["value"]
        .as_str()
        .expect("record")
        .to_owned();

    // The contacts are the organisation's first recipients, in the application's language.
    let (_, listed) = s.api.get("/api/v1/org/recipients", &key).await;
    assert_eq!(
        listed["recipients"],
        serde_json::json!([
            {"address": "ines@sud.example", "language": "fr"},
            {"address": "marc@sud.example", "language": "fr"}
        ]),
        "{listed}"
    );

    let arrived = sink.wait_for(2, 20).await;
    let mut to: Vec<String> = Vec::new();
    for raw in &arrived {
        let m = parse(raw);
        let subject = m.subject().unwrap_or_default().to_owned();
        let text = m.body_text(0).unwrap_or_default().into_owned();
        let html = m.body_html(0).unwrap_or_default().into_owned();
        assert_eq!(subject, "[tocsin] Hôpital <Sud> est inscrite", "{subject}");
        assert!(text.contains("_tocsin.sud.example TXT"), "{text}");
        assert!(text.contains(&record), "{text}");
        // The key is for the operator to hand over, never for a mailbox.
        assert!(!text.contains(&key) && !html.contains(&key));
        assert!(html.contains("Hôpital &lt;Sud&gt;"), "{html}");
        assert!(!html.contains("<Sud>"), "{html}");
        to.push(header(&m, "To").unwrap_or_default());
    }
    to.sort();
    assert_eq!(to.len(), 2, "{to:?}");
    assert!(
        to[0].contains("ines@sud.example") && to[1].contains("marc@sud.example"),
        "{to:?}"
    );
}

#[tokio::test]
async fn a_personal_address_is_confirmed_through_the_link_the_relay_received() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let s = setup(sink.port, 12).await;
    let (_, key, _) = s
        .api
        .enrol(&s.operator, "Alpha", &format!("{}/alpha", s.receiver.base))
        .await;
    let (status, invited) = s
        .api
        .post_json(
            "/api/v1/org/personal-invite",
            &key,
            serde_json::json!({"email": "volunteer@mailbox.example"}),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    let arrived = sink.wait_for(1, 20).await;
    let m = parse(&arrived[0]);
    assert!(
        header(&m, "To").is_some_and(|to| to.contains("volunteer@mailbox.example")),
        "{:?}",
        header(&m, "To")
    );
    let text = m.body_text(0).unwrap_or_default().into_owned();
    // With no public URL configured, the link names the address the service listens on.
    assert!(
        text.contains(&format!("{}/personal/confirm?token=", s.api.base)),
        "{text}"
    );
    let token = text
        .split("/personal/confirm?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a confirmation link in the e-mail")
        .to_owned();
    // Opening the link (as a mail scanner would) confirms nothing.
    let page = s
        .api
        .http
        .get(format!("{}/personal/confirm?token={token}", s.api.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let (_, listed) = s.api.get("/api/v1/org/personal", &key).await;
    assert_eq!(listed["confirmed"], serde_json::json!([]), "{listed}");
    // Pressing Confirm does.
    let confirmed = s
        .api
        .http
        .post(format!("{}/personal/confirm", s.api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirmed.status().as_u16(), 200);
    let (_, listed) = s.api.get("/api/v1/org/personal", &key).await;
    assert_eq!(
        listed["confirmed"][0]["email"], "volunteer@mailbox.example",
        "{listed}"
    );
}

/// A private relay that requires STARTTLS, with a certificate from the CERT's own
/// authority: trusted through `notify.email.ca_file`, and only with it.
#[tokio::test]
async fn a_private_relay_is_reached_over_starttls_with_its_authority_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let relay_key = rcgen::KeyPair::generate().expect("key");
    let relay = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&relay_key, &ca)
        .expect("relay certificate");
    let (ca_pem, cert_pem, key_pem) = (
        dir.path().join("ca.pem"),
        dir.path().join("relay.pem"),
        dir.path().join("relay.key"),
    );
    std::fs::write(&ca_pem, ca.pem()).expect("write");
    std::fs::write(&cert_pem, relay.pem()).expect("write");
    std::fs::write(&key_pem, relay_key.serialize_pem()).expect("write");

    let sink_dir = tempfile::tempdir().expect("tempdir");
    let tls_args = [
        "--starttls",
        cert_pem.to_str().expect("path"),
        key_pem.to_str().expect("path"),
    ];
    let sink = SmtpSink::start(sink_dir.path(), &tls_args).await;
    for (trusted, expect_delivery) in [(true, true), (false, false)] {
        let data = tempfile::tempdir().expect("tempdir");
        let config = write_config(data.path(), sink.port, 2, "3s");
        let mut text = std::fs::read_to_string(&config).expect("config");
        text = text.replace("tls = \"none\"", "tls = \"starttls\"");
        if trusted {
            text = text.replace(
                "[notify.email]\n",
                &format!("[notify.email]\nca_file = {ca_pem:?}\n"),
            );
        }
        std::fs::write(&config, text).expect("config");
        let operator = operator_key(data.path());
        let receiver = Receiver::start(0).await;
        let server = Server::start(&config).await;
        let api = Api::new(&server.base);
        let (_, key, _) = api
            .enrol(&operator, "Alpha", &format!("{}/alpha", receiver.base))
            .await;
        let address = if trusted {
            "soc@alpha.example"
        } else {
            "untrusting@alpha.example"
        };
        let (status, body) = put_json(
            &api,
            "/api/v1/org/recipients",
            &key,
            serde_json::json!({"recipients": [{"address": address, "language": "en"}]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = api
            .post_json(
                "/api/v1/org/notifications/test",
                &key,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        if expect_delivery {
            let arrived = sink.wait_for(1, 20).await;
            let m = parse(&arrived[0]);
            assert!(header(&m, "To").is_some_and(|to| to.contains(address)));
        } else {
            // The relay's certificate is from an authority nobody said to trust: nothing
            // is sent in the clear instead, and the dead letter says why.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let dead = loop {
                let (_, dead) = api.get("/api/v1/deliveries?state=dead", &operator).await;
                let text = dead.to_string();
                if text.contains("untrusting@alpha.example") || std::time::Instant::now() > deadline
                {
                    break text;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert!(dead.contains("untrusting@alpha.example"), "{dead}");
            assert!(dead.contains("UnknownIssuer"), "{dead}");
            assert_eq!(sink.messages().len(), 1, "only the trusted run's message");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_relay_is_retried_a_550_is_dead_until_an_operator_retries_it() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    // The first recipient is refused with 451, then the sink accepts.
    let sink = SmtpSink::start(sink_dir.path(), &["--fail-first", "1"]).await;
    let mut s = setup(sink.port, 12).await;
    let (_, key, _) = s
        .api
        .enrol(&s.operator, "Delta", &format!("{}/delta", s.receiver.base))
        .await;
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &key,
        serde_json::json!({"recipients": [{"address": "soc@delta.example", "language": "en"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, report) = s
        .api
        .post_text(
            "/api/v1/signins",
            &key,
            brute_force_lines("ops@delta.example", 12).join("\n"),
        )
        .await;
    assert_eq!(report["incidents_opened"], 1, "{report}");
    sink.wait_for(1, 30).await;
    let (_, list) = s.api.get("/api/v1/incidents", &key).await;
    let id = list["incidents"][0]["id"].as_str().expect("id").to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, one) = s.api.get(&format!("/api/v1/incidents/{id}"), &key).await;
        let email = one["deliveries"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["channel"] == "email").cloned());
        if let Some(email) = email.filter(|e| e["state"] == "delivered") {
            assert_eq!(email["attempts"], 2, "a 451 then a success: {email}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{one}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The incident's timeline tells the same story, attempt by attempt, for both rows the
    // notification made.
    let (_, timeline) = s
        .api
        .get(&format!("/api/v1/incidents/{id}/timeline"), &key)
        .await;
    let notified = timeline["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["kind"] == "notification"))
        .cloned()
        .unwrap_or_else(|| panic!("a notification on the timeline: {timeline}"));
    let rows = notified["detail"]["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        rows.len(),
        2,
        "the webhook's row and the e-mail's: {notified}"
    );
    let email = rows
        .iter()
        .find(|d| d["channel"] == "email")
        .unwrap_or_else(|| panic!("{notified}"));
    assert_eq!(email["target"], "soc@delta.example");
    let outcomes: Vec<&str> = email["attempt_log"]
        .as_array()
        .map(|log| log.iter().filter_map(|a| a["outcome"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(outcomes, ["retry", "delivered"], "{email}");

    // 550: dead at once, visible to the operator and not to organisations.
    sink.set_mode("550");
    let (status, _) = s
        .api
        .post_json(
            "/api/v1/org/notifications/test",
            &key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let (status, dead) = s
            .api
            .get("/api/v1/deliveries?state=dead", &s.operator)
            .await;
        assert_eq!(status, 200, "{dead}");
        if let Some(d) = dead["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
        {
            break d;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(dead["channel"], "email");
    assert_eq!(dead["attempts"], 1, "550 is not retried: {dead}");
    assert!(
        dead["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("550")),
        "{dead}"
    );
    let (status, _) = s.api.get("/api/v1/deliveries?state=dead", &key).await;
    assert_eq!(
        status, 403,
        "an organisation's key does not list dead letters"
    );
    let row = dead["id"].as_i64().expect("row id");
    let (status, _) = s
        .api
        .post_json(
            &format!("/api/v1/deliveries/{row}/retry"),
            &key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 403, "nor retries them");

    // The relay is fixed; the operator retries; it arrives.
    sink.set_mode("accept");
    let (status, body) = s
        .api
        .post_json(
            &format!("/api/v1/deliveries/{row}/retry"),
            &s.operator,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let mails = sink.wait_for(2, 30).await;
    assert_eq!(
        parse(&mails[1]).subject(),
        Some("[tocsin] Test notification for Delta")
    );
    let (status, _) = s
        .api
        .post_json(
            &format!("/api/v1/deliveries/{row}/retry"),
            &s.operator,
            serde_json::json!({}),
        )
        .await;
    assert!(
        status == 409 || status == 202,
        "a retried row is no longer dead"
    );
    let (_, dead) = s
        .api
        .get("/api/v1/deliveries?state=dead", &s.operator)
        .await;
    assert_eq!(
        dead["deliveries"].as_array().map(Vec::len),
        Some(0),
        "{dead}"
    );
    s.server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_relay_times_out_and_is_retried_without_holding_webhooks_back() {
    // A relay that accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut s = setup_with_timeout(port, 2, "3s").await;
    let (_, key, _) = s
        .api
        .enrol(&s.operator, "Echo", &format!("{}/echo", s.receiver.base))
        .await;
    let (status, _) = put_json(
        &s.api,
        "/api/v1/org/recipients",
        &key,
        serde_json::json!({"recipients": [{"address": "soc@echo.example", "language": "fr"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    let (status, _) = s
        .api
        .post_json(
            "/api/v1/org/notifications/test",
            &key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    // The webhook (queued after the e-mail) arrives while the e-mail waits on the silent
    // relay, whose attempt takes the 3 s timeout before it is abandoned.
    s.receiver.wait_for_delivered(1, 10).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "webhook held back: {:?}",
        started.elapsed()
    );
    // Two attempts (max_attempts = 2), each timing out, then dead.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let dead = loop {
        let (_, dead) = s
            .api
            .get("/api/v1/deliveries?state=dead", &s.operator)
            .await;
        if let Some(d) = dead["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
        {
            break d;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the e-mail never gave up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(dead["attempts"], 2, "{dead}");
    assert!(
        dead["last_error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("time")),
        "{dead}"
    );
    s.server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_delivery_loses_no_notification() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let mut s = setup(sink.port, 12).await;
    let orgs = 12;
    let mut keys = Vec::new();
    for n in 0..orgs {
        let name = format!("Org{n}");
        let (_, key, _) = s
            .api
            .enrol(&s.operator, &name, &format!("{}/org{n}", s.receiver.base))
            .await;
        let (status, _) = put_json(
            &s.api,
            "/api/v1/org/recipients",
            &key,
            serde_json::json!({"recipients": [{"address": format!("soc@org{n}.example"), "language": "en"}]}),
        )
        .await;
        assert_eq!(status, 200);
        keys.push(key);
    }
    for (n, key) in keys.iter().enumerate() {
        let (_, report) = s
            .api
            .post_text(
                "/api/v1/signins",
                key,
                brute_force_lines(&format!("user@org{n}.example"), 12).join("\n"),
            )
            .await;
        assert_eq!(report["incidents_opened"], 1, "{report}");
    }
    // Killed while the outbox is draining: some delivered, some not yet.
    s.server.kill().await;
    let before = (sink.messages().len(), s.receiver.all().len());
    s.server = Server::start(&s.config).await;
    // At least once: a message sent just before the kill may come twice, with the same
    // Message-ID; what matters is that every one arrives.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut ids: Vec<String> = sink
            .messages()
            .iter()
            .map(|raw| parse(raw).message_id().expect("Message-ID").to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        let mut paths: Vec<String> = s
            .receiver
            .all()
            .into_iter()
            .filter(|r| r.answered < 300)
            .map(|r| r.path)
            .collect();
        paths.sort();
        paths.dedup();
        if ids.len() == orgs && paths.len() == orgs {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after the restart {} of {orgs} e-mails and {} of {orgs} webhooks arrived \
             (before the kill: {before:?})",
            ids.len(),
            paths.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_signs_alongside_the_old_one_during_the_overlap() {
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let mut s = setup(sink.port, 12).await;
    let (_, key, old) = s
        .api
        .enrol(&s.operator, "Foxtrot", &format!("{}/fox", s.receiver.base))
        .await;
    let (_, other_key, other_secret) = s
        .api
        .enrol(&s.operator, "Golf", &format!("{}/golf", s.receiver.base))
        .await;
    let (status, current) = s.api.get("/api/v1/org/webhook/secret", &key).await;
    assert_eq!(status, 200);
    assert_eq!(current["webhook_secret"], old.as_str());
    let (status, rotated) = s
        .api
        .post_json("/api/v1/org/webhook/rotate", &key, serde_json::json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["webhook_secret"]
        .as_str()
        .expect("new secret")
        .to_owned();
    assert_ne!(new, old);
    let (_, current) = s.api.get("/api/v1/org/webhook/secret", &key).await;
    assert_eq!(current["webhook_secret"], new.as_str());
    // Another organisation's secret did not move, and is not Foxtrot's.
    let (_, golf) = s.api.get("/api/v1/org/webhook/secret", &other_key).await;
    assert_eq!(golf["webhook_secret"], other_secret.as_str());

    let (status, _) = s
        .api
        .post_json(
            "/api/v1/org/notifications/test",
            &key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let hooks = s.receiver.wait_for_delivered(1, 30).await;
    let hook = &hooks[0];
    let now = Timestamp::now().as_second();
    assert_eq!(
        hook.signature.matches("v1=").count(),
        2,
        "{}",
        hook.signature
    );
    for secret in [&old, &new] {
        assert_eq!(
            notify::webhook::verify(secret, &hook.signature, &hook.body, now, 300),
            Ok(()),
            "{secret}"
        );
        assert!(python_verifier_from_the_docs(
            secret,
            &hook.signature,
            &hook.body
        ));
    }
    assert!(notify::webhook::verify(&other_secret, &hook.signature, &hook.body, now, 300).is_err());
    s.server.kill().await;
}

/// The Python verifier printed in docs/webhooks.md.
fn python_verifier_from_the_docs(secret: &str, header: &str, body: &[u8]) -> bool {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/webhooks.md"
    ))
    .expect("docs");
    let start = docs.find("```python\n").expect("a python block") + "```python\n".len();
    let code = &docs[start..start + docs[start..].find("```").expect("block end")];
    let program = format!(
        "{code}\nimport sys\nbody = sys.stdin.buffer.read()\nsys.exit(0 if verify(sys.argv[1], sys.argv[2], body) else 1)\n"
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &program, secret, header])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), body).expect("write body");
    child.wait().expect("python3 runs").success()
}

/// Acceptance figures: time from the push that crosses a threshold to the webhook's
/// arrival on loopback and to the e-mail's arrival at the local SMTP server, over
/// `TOCSIN_LATENCY_ORGS` (default 1,000) organisations, one incident each (separate
/// organisations, since one organisation's brute forces of one source correlate into one
/// incident). Run with
/// `cargo test --release -p tocsin --test channels latency -- --ignored --nocapture`
/// (`TOCSIN_LATENCY_PACE_MS=20` pauses between organisations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check; run by hand"]
async fn latency_from_push_to_webhook_and_e_mail() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::SystemTime;

    let orgs: usize = std::env::var("TOCSIN_LATENCY_ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    // A pause between organisations' pushes, to measure latency without the local SMTP
    // server's own queue (aiosmtpd is one Python thread).
    let pace = Duration::from_millis(
        std::env::var("TOCSIN_LATENCY_PACE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let sink_dir = tempfile::tempdir().expect("tempdir");
    let sink = SmtpSink::start(sink_dir.path(), &[]).await;
    let mut s = setup(sink.port, 12).await;

    // A receiver that notes when each organisation's webhook arrived.
    let arrivals: Arc<Mutex<HashMap<String, SystemTime>>> = Arc::default();
    let noted = Arc::clone(&arrivals);
    let app = axum::Router::new().route(
        "/{org}",
        axum::routing::post(
            move |axum::extract::Path(org): axum::extract::Path<String>| {
                let noted = Arc::clone(&noted);
                async move {
                    noted
                        .lock()
                        .expect("lock")
                        .entry(org)
                        .or_insert_with(SystemTime::now);
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut keys = Vec::with_capacity(orgs);
    for n in 0..orgs {
        let (_, key, _) = s
            .api
            .enrol(
                &s.operator,
                &format!("Lat{n}"),
                &format!("{hook_base}/lat{n}"),
            )
            .await;
        let (status, _) = put_json(
            &s.api,
            "/api/v1/org/recipients",
            &key,
            serde_json::json!({"recipients": [{"address": format!("soc@lat{n}.example"), "language": "en"}]}),
        )
        .await;
        assert_eq!(status, 200);
        keys.push(key);
    }
    eprintln!("{orgs} organisations enrolled; pushing one brute force each");

    // Ten failures reach the brute-force threshold: nine are pushed first, then the tenth
    // (with the success that follows it) is the timed push that opens the incident.
    let mut pushed: HashMap<String, SystemTime> = HashMap::new();
    for (n, key) in keys.iter().enumerate() {
        let lines = brute_force_lines(&format!("user@lat{n}.example"), 10);
        let (before, last) = lines.split_at(lines.len() - 2);
        let (_, report) = s
            .api
            .post_text("/api/v1/signins", key, before.join("\n"))
            .await;
        assert_eq!(report["incidents_opened"], 0, "{report}");
        let at = SystemTime::now();
        let (_, report) = s
            .api
            .post_text("/api/v1/signins", key, last.join("\n"))
            .await;
        assert_eq!(report["incidents_opened"], 1, "{report}");
        pushed.insert(format!("lat{n}"), at);
        if !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mails = loop {
        let mut mails: HashMap<String, SystemTime> = HashMap::new();
        for entry in std::fs::read_dir(&sink.dir).expect("sink dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(org) = name
                .strip_suffix(".example.eml")
                .and_then(|rest| rest.rsplit_once("soc@"))
                .map(|(_, org)| org.to_owned())
            else {
                continue;
            };
            let at = entry.metadata().and_then(|m| m.modified()).expect("mtime");
            let earliest = mails.entry(org).or_insert(at);
            *earliest = (*earliest).min(at);
        }
        let hooks = arrivals.lock().expect("lock").len();
        if mails.len() >= orgs && hooks >= orgs {
            break mails;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} e-mails and {hooks} webhooks of {orgs}",
            mails.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let hooks = arrivals.lock().expect("lock").clone();
    let report = |what: &str, arrived: &HashMap<String, SystemTime>| {
        let mut ms: Vec<f64> = pushed
            .iter()
            .map(|(org, at)| {
                arrived[org]
                    .duration_since(*at)
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let pick = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
        eprintln!(
            "{what}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
            ms.len(),
            pick(0.50),
            pick(0.99),
            ms[ms.len() - 1]
        );
    };
    report("push -> webhook", &hooks);
    report("push -> e-mail", &mails);
    s.server.kill().await;
}
