//! The listener driven by real mail clients: Python's smtplib (`clients/smtplib_client.py`)
//! and swaks. Each test starts `serve` on a free loopback port with a sink that collects
//! what it is given, runs one client scenario, and checks both what the client was told and
//! what reached the sink.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use model::OrgId;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tocsin_smtp::{Envelope, JournalSink, ListenerConfig, Rejection, Route};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const ACME: OrgId = OrgId(7);
const GLOBEX: OrgId = OrgId(8);
const USER: &str = "acme-journal";
const PASSWORD: &str = "correct horse battery staple";

/// The test's sink: two organisations, one journaling account, and a list of what arrived.
#[derive(Default)]
struct Collector {
    messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
}

impl Collector {
    fn taken(&self) -> Vec<(Envelope, Vec<u8>)> {
        std::mem::take(&mut *self.messages.lock().expect("collector lock"))
    }
}

impl JournalSink for Collector {
    async fn authenticate(&self, user: &str, password: &str) -> Option<Route> {
        (user == USER && password == PASSWORD).then(|| Route {
            org: ACME,
            name: user.to_owned(),
        })
    }

    async fn recipient(&self, address: &str, _authenticated: Option<&Route>) -> Option<Route> {
        let slug = address
            .strip_prefix("journal+")?
            .strip_suffix("@tocsin.example")?;
        let org = if slug.starts_with("acme") {
            ACME
        } else if slug == "globex" {
            GLOBEX
        } else {
            return None;
        };
        Some(Route {
            org,
            name: address.to_owned(),
        })
    }

    async fn deliver(&self, envelope: Envelope, raw: Vec<u8>) -> Result<(), Rejection> {
        if raw.windows(25).any(|w| w == b"X-Test-Reject: temporary\r") {
            return Err(Rejection::Temporary("journal store\r\nbusy".to_owned()));
        }
        self.messages
            .lock()
            .expect("collector lock")
            .push((envelope, raw));
        Ok(())
    }
}

struct Server {
    port: u16,
    sink: Arc<Collector>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(config: ListenerConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let sink = Arc::new(Collector::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(tocsin_smtp::serve(
            listener,
            config,
            sink.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            port,
            sink,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("serve ends after shutdown")
            .expect("serve task")
            .expect("serve result");
    }
}

fn config() -> ListenerConfig {
    let mut config = ListenerConfig::new("journal.tocsin.example");
    config.idle_timeout = Duration::from_secs(10);
    config
}

/// A self-signed certificate for 127.0.0.1, written where the Python client can trust it.
fn tls(dir: &Path) -> (Arc<rustls::ServerConfig>, PathBuf) {
    let (config, cert_file, _) = tls_with_der(dir);
    (config, cert_file)
}

fn tls_with_der(dir: &Path) -> (Arc<rustls::ServerConfig>, PathBuf, CertificateDer<'static>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("generate a certificate");
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let cert_file = dir.join("cert.pem");
    std::fs::write(&cert_file, &cert_pem).expect("write the certificate");
    let config =
        tocsin_smtp::tls_config(cert_pem.as_bytes(), key_pem.as_bytes()).expect("tls config");
    (config, cert_file, certified.cert.der().clone())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tocsin-smtp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

fn tool_present(tool: &str) -> bool {
    let present = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !present {
        // scripts/test installs it and sets this: there a missing tool is a failure.
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed what this test needs"
        );
        println!("SKIPPED: `{tool}` is not installed");
    }
    present
}

/// Runs one smtplib scenario against `port`; `None` (test skipped) when python3 is absent.
async fn smtplib(scenario: &str, port: u16, cert: Option<&Path>) -> Option<Value> {
    if !tool_present("python3") {
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/smtplib_client.py");
    let mut command = tokio::process::Command::new("python3");
    command.arg(script).arg(scenario).arg(port.to_string());
    if let Some(cert) = cert {
        command.arg(cert);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("client finishes")
        .expect("run python3");
    assert!(
        output.status.success(),
        "scenario {scenario} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("client prints JSON"))
}

fn sent(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value["sent"].as_str().expect("sent bytes"))
        .expect("base64 from the client")
}

fn code(reply: &Value) -> u64 {
    reply[0].as_u64().unwrap_or(0)
}

fn text(reply: &Value) -> &str {
    reply[1].as_str().unwrap_or("")
}

#[tokio::test]
async fn smtplib_delivers_a_multipart_message_byte_for_byte() {
    let server = Server::start(config()).await;
    let Some(out) = smtplib("plain_delivery", server.port, None).await else {
        return;
    };
    let features: Vec<&str> = out["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        features,
        ["8bitmime", "enhancedstatuscodes", "pipelining", "size"],
        "no STARTTLS without TLS, no AUTH in clear"
    );
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    let (envelope, raw) = &messages[0];
    assert_eq!(raw, &sent(&out));
    assert!(
        raw.windows(9).any(|w| w == b"multipart"),
        "a multipart message"
    );
    assert_eq!(envelope.helo, "client.contoso.example");
    assert_eq!(envelope.mail_from, "journal-report@contoso.example");
    assert_eq!(envelope.recipients.len(), 1);
    assert_eq!(
        envelope.recipients[0].address,
        "journal+acme@tocsin.example"
    );
    assert_eq!(envelope.recipients[0].route.org, ACME);
    assert!(!envelope.tls);
    assert_eq!(envelope.authenticated_as, None);
    assert_eq!(
        envelope.peer.ip(),
        SocketAddr::from(([127, 0, 0, 1], 0)).ip()
    );
    assert_eq!(envelope.id, format!("{}.1", envelope.session));
    server.stop().await;
}

#[tokio::test]
async fn lmtp_answers_once_per_recipient() {
    let mut config = config();
    config.lmtp = true;
    let server = Server::start(config).await;
    let Some(out) = smtplib("lmtp_two_recipients", server.port, None).await else {
        return;
    };
    assert_eq!(code(&out["hello"]), 250);
    assert_eq!(code(&out["rcpts"][0]), 250);
    assert_eq!(code(&out["rcpts"][1]), 250);
    assert_eq!(code(&out["data"][0]), 250);
    assert_eq!(code(&out["data"][1]), 250);
    assert_eq!(code(&out["helo"]), 500, "LMTP knows only LHLO");
    assert_eq!(code(&out["quit"]), 221, "replies stay in step");
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1, "one message for both recipients");
    let (envelope, raw) = &messages[0];
    assert_eq!(raw, &sent(&out));
    let orgs: Vec<OrgId> = envelope.recipients.iter().map(|r| r.route.org).collect();
    assert_eq!(orgs, [ACME, GLOBEX]);
    server.stop().await;
}

#[tokio::test]
async fn starttls_then_auth_plain() {
    let dir = temp_dir("starttls");
    let (tls, cert) = tls(&dir);
    let mut config = config();
    config.tls = Some(tls);
    let server = Server::start(config).await;
    let Some(out) = smtplib("starttls_plain_auth", server.port, Some(&cert)).await else {
        return;
    };
    let before = out["before"].as_array().expect("features before TLS");
    let after = out["after"].as_array().expect("features after TLS");
    assert!(before.contains(&Value::from("starttls")));
    assert!(!before.contains(&Value::from("auth")));
    assert_eq!(code(&out["auth_in_clear"]), 538);
    assert_eq!(code(&out["starttls"]), 220);
    assert!(!after.contains(&Value::from("starttls")));
    assert!(after.contains(&Value::from("auth")));
    assert_eq!(code(&out["login"]), 235);
    assert!(
        out["cipher"]
            .as_str()
            .is_some_and(|c| c.starts_with("TLS_")),
        "TLS 1.3 cipher, got {}",
        out["cipher"]
    );
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    let (envelope, raw) = &messages[0];
    assert_eq!(raw, &sent(&out));
    assert!(envelope.tls);
    assert_eq!(envelope.authenticated_as.as_deref(), Some(USER));
    server.stop().await;
}

#[tokio::test]
async fn auth_required_wrong_password_then_login() {
    let dir = temp_dir("auth");
    let (tls, cert) = tls(&dir);
    let mut config = config();
    config.tls = Some(tls);
    config.require_auth = true;
    let server = Server::start(config).await;
    let Some(out) = smtplib("auth_required", server.port, Some(&cert)).await else {
        return;
    };
    assert_eq!(code(&out["mail_unauthenticated"]), 530);
    assert_eq!(code(&out["wrong"]), 535);
    assert!(text(&out["wrong"]).starts_with("5.7.8"), "{}", out["wrong"]);
    assert_eq!(code(&out["login"]), 235, "AUTH LOGIN with challenges");
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1, sent(&out));
    assert_eq!(messages[0].0.authenticated_as.as_deref(), Some(USER));
    server.stop().await;
}

#[tokio::test]
async fn unknown_recipient_is_refused_and_the_rest_delivered() {
    let server = Server::start(config()).await;
    let Some(out) = smtplib("unknown_recipient", server.port, None).await else {
        return;
    };
    assert_eq!(code(&out["mail"]), 250);
    assert_eq!(code(&out["unknown"]), 550);
    assert!(text(&out["unknown"]).starts_with("5.1.1"));
    assert_eq!(code(&out["data_without"]), 554);
    assert_eq!(code(&out["known"]), 250);
    assert_eq!(code(&out["data"]), 250);
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    let addresses: Vec<&str> = messages[0]
        .0
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(addresses, ["journal+acme@tocsin.example"]);
    server.stop().await;
}

#[tokio::test]
async fn oversize_message_is_refused_and_the_session_goes_on() {
    let mut config = config();
    config.max_message_bytes = 10_000;
    let server = Server::start(config).await;
    let Some(out) = smtplib("oversize", server.port, None).await else {
        return;
    };
    assert_eq!(out["advertised"], "10000");
    assert_eq!(code(&out["size_param"]), 552, "SIZE= checked at MAIL FROM");
    assert_eq!(code(&out["rset"]), 250);
    assert_eq!(code(&out["sendmail_big"]), 552, "smtplib's own SIZE=");
    assert_eq!(code(&out["data_big"]), 552, "DATA over the limit");
    assert!(text(&out["data_big"]).starts_with("5.3.4"));
    assert_eq!(code(&out["noop"]), 250);
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1, "only the small message");
    assert_eq!(messages[0].1, sent(&out));
    server.stop().await;
}

#[tokio::test]
async fn recipients_beyond_the_limit_get_452() {
    let mut config = config();
    config.max_recipients = 3;
    let server = Server::start(config).await;
    let Some(out) = smtplib("too_many_recipients", server.port, None).await else {
        return;
    };
    assert_eq!(out["rcpts"], serde_json::json!([250, 250, 250, 452, 452]));
    assert_eq!(code(&out["data"]), 250);
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.recipients.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn a_line_too_long_is_refused_and_the_session_goes_on() {
    let mut config = config();
    config.max_line_bytes = 512;
    let server = Server::start(config).await;
    let Some(out) = smtplib("line_too_long", server.port, None).await else {
        return;
    };
    assert_eq!(code(&out["at_limit"]), 250);
    assert_eq!(code(&out["too_long"]), 500);
    assert!(text(&out["too_long"]).starts_with("5.5.6"));
    assert_eq!(code(&out["after"]), 250);
    server.stop().await;
}

#[tokio::test]
async fn lines_starting_with_a_dot_survive_exactly() {
    let server = Server::start(config()).await;
    let Some(out) = smtplib("dot_stuffing", server.port, None).await else {
        return;
    };
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    let raw = &messages[0].1;
    assert_eq!(
        String::from_utf8_lossy(raw),
        String::from_utf8_lossy(&sent(&out))
    );
    assert!(raw.windows(16).any(|w| w == b"\r\n.leading dot\r\n"));
    assert!(raw.windows(5).any(|w| w == b"\r\n.\r\n"));
    server.stop().await;
}

#[tokio::test]
async fn protocol_table() {
    let server = Server::start(config()).await;
    let Some(out) = smtplib("protocol", server.port, None).await else {
        return;
    };
    let expected = [
        ("early_mail", 503, "5.5.1"),
        ("helo", 250, "journal.tocsin.example"),
        ("lhlo", 500, "5.5.1"),
        ("rcpt_first", 503, "5.5.1"),
        ("vrfy", 252, "2.5.0"),
        ("unknown", 500, "5.5.1"),
        ("bad_syntax", 501, "5.5.4"),
        ("starttls", 502, "5.5.1"),
        ("nested", 503, "5.5.1"),
        ("rset", 250, "2.0.0"),
        ("null_sender", 250, "2.1.0"),
        ("temporary", 451, "4.3.0 journal store  busy"),
        ("noop", 250, "2.0.0"),
    ];
    for (step, want_code, want_text) in expected {
        assert_eq!(code(&out[step]), want_code, "{step}: {}", out[step]);
        assert!(
            text(&out[step]).starts_with(want_text),
            "{step}: {}",
            out[step]
        );
    }
    assert!(
        server.sink.taken().is_empty(),
        "the refused message was not kept"
    );
    server.stop().await;
}

#[tokio::test]
async fn ten_bad_commands_end_the_session() {
    let server = Server::start(config()).await;
    let Some(out) = smtplib("too_many_errors", server.port, None).await else {
        return;
    };
    assert_eq!(out["codes"], serde_json::json!(vec![500; 10]));
    assert_eq!(out["last"][0], 421);
    server.stop().await;
}

#[tokio::test]
async fn a_full_listener_answers_421() {
    let mut config = config();
    config.max_sessions = 1;
    let server = Server::start(config).await;
    let Some(out) = smtplib("sessions_full", server.port, None).await else {
        return;
    };
    assert_eq!(code(&out["second"]), 421);
    assert_eq!(code(&out["still"]), 250);
    assert_eq!(code(&out["third"]), 250);
    server.stop().await;
}

#[tokio::test]
async fn an_idle_session_is_closed_with_421() {
    let mut config = config();
    config.idle_timeout = Duration::from_secs(1);
    let server = Server::start(config).await;
    let Some(out) = smtplib("idle_timeout", server.port, None).await else {
        return;
    };
    assert_eq!(out["late"][0], 421);
    assert!(text(&out["late"]).starts_with("4.4.2"));
    server.stop().await;
}

#[tokio::test]
async fn swaks_starttls_auth_login_with_an_attachment() {
    if !tool_present("swaks") {
        return;
    }
    let dir = temp_dir("swaks");
    let (tls, cert) = tls(&dir);
    let attachment = dir.join("invoice.pdf");
    std::fs::write(&attachment, b"%PDF-1.4\n% tocsin swaks test\n").expect("write attachment");
    let mut config = config();
    config.tls = Some(tls);
    config.require_tls = true;
    config.require_auth = true;
    let server = Server::start(config).await;
    let output = tokio::process::Command::new("swaks")
        .args(["--server", "127.0.0.1", "--port", &server.port.to_string()])
        .args(["--ehlo", "swaks.contoso.example"])
        .args(["--from", "journal-report@contoso.example"])
        .args(["--to", "journal+globex@tocsin.example"])
        .args(["--header", "Subject: swaks journal copy"])
        .args(["--body", ".a line that starts with a dot\n"])
        .arg("--attach")
        .arg(&attachment)
        .args(["--tls", "--tls-verify", "--tls-ca-path"])
        .arg(&cert)
        .args([
            "--auth",
            "LOGIN",
            "--auth-user",
            USER,
            "--auth-password",
            PASSWORD,
        ])
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("swaks finishes")
        .expect("run swaks");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "swaks failed:\n{transcript}");
    assert!(transcript.contains("<~  235 2.7.0"), "{transcript}");
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    let (envelope, raw) = &messages[0];
    assert!(envelope.tls);
    assert_eq!(envelope.helo, "swaks.contoso.example");
    assert_eq!(envelope.recipients[0].route.org, GLOBEX);
    let raw = String::from_utf8_lossy(raw);
    assert!(raw.contains("Subject: swaks journal copy\r\n"), "{raw}");
    assert!(
        raw.contains("\r\n.a line that starts with a dot\r\n"),
        "{raw}"
    );
    assert!(raw.contains("invoice.pdf"), "{raw}");
    server.stop().await;
}

/// Shutdown reaches a session waiting for its client, and `serve` returns.
#[tokio::test]
async fn shutdown_closes_open_sessions_with_421() {
    let server = Server::start(config()).await;
    let stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("greeting");
    assert!(
        line.starts_with("220 journal.tocsin.example ESMTP"),
        "{line}"
    );
    reader
        .get_mut()
        .write_all(b"EHLO raw.example\r\n")
        .await
        .expect("send EHLO");
    let mut ehlo = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("EHLO reply");
        ehlo.push(line.trim_end().to_owned());
        if line.starts_with("250 ") {
            break;
        }
    }
    assert_eq!(
        ehlo,
        [
            "250-journal.tocsin.example",
            "250-PIPELINING",
            "250-SIZE 52428800",
            "250-8BITMIME",
            "250 ENHANCEDSTATUSCODES"
        ]
    );
    server.stop().await;
    line.clear();
    reader.read_line(&mut line).await.expect("farewell");
    assert!(line.starts_with("421 4.3.0"), "{line}");
}

/// Pipelined commands get their replies in order, in one go.
#[tokio::test]
async fn pipelined_transaction() {
    let server = Server::start(config()).await;
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    stream
        .write_all(
            b"EHLO pipe.example\r\nMAIL FROM:<a@contoso.example>\r\n\
              RCPT TO:<journal+acme@tocsin.example>\r\nRCPT TO:<nobody@tocsin.example>\r\nDATA\r\n",
        )
        .await
        .expect("send commands");
    let mut reader = BufReader::new(stream);
    let mut codes = Vec::new();
    let mut line = String::new();
    while !line.starts_with("354") {
        line.clear();
        reader.read_line(&mut line).await.expect("reply");
        if line.as_bytes().get(3) == Some(&b' ') {
            codes.push(line.get(..3).unwrap_or_default().to_owned());
        }
    }
    assert_eq!(codes, ["220", "250", "250", "250", "550", "354"]);
    reader
        .get_mut()
        .write_all(b"Subject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        .await
        .expect("send message");
    let mut rest = String::new();
    while !rest.contains("221 ") {
        let before = rest.len();
        reader.read_line(&mut rest).await.expect("reply");
        assert!(rest.len() > before, "server closed early: {rest}");
    }
    assert!(rest.starts_with("250 2.0.0 OK queued as "), "{rest}");
    let messages = server.sink.taken();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1, b"Subject: piped\r\n\r\nbody\r\n");
    server.stop().await;
}

/// Commands pipelined after STARTTLS were sent in clear: they are dropped, not run as if
/// they had come over TLS, and the session starts afresh (RFC 3207 4.2).
#[tokio::test]
async fn starttls_drops_pipelined_plaintext_and_resets_the_session() {
    let dir = temp_dir("injection");
    let (tls, _, cert) = tls_with_der(&dir);
    let mut config = config();
    config.tls = Some(tls);
    let server = Server::start(config).await;
    let stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("greeting");
    reader
        .get_mut()
        .write_all(b"EHLO clear.example\r\n")
        .await
        .expect("send EHLO");
    while !line.starts_with("250 ") {
        line.clear();
        reader.read_line(&mut line).await.expect("EHLO reply");
    }
    reader
        .get_mut()
        .write_all(b"STARTTLS\r\nRSET\r\n")
        .await
        .expect("send STARTTLS and an injected command");
    line.clear();
    reader.read_line(&mut line).await.expect("STARTTLS reply");
    assert!(line.starts_with("220 2.0.0"), "{line}");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("trust the test certificate");
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let stream = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, reader.into_inner())
        .await
        .expect("TLS handshake");
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(b"MAIL FROM:<a@contoso.example>\r\nEHLO tls.example\r\n")
        .await
        .expect("send over TLS");
    line.clear();
    reader
        .read_line(&mut line)
        .await
        .expect("first reply over TLS");
    assert!(
        line.starts_with("503 5.5.1"),
        "the EHLO before TLS is forgotten and RSET was not run: {line}"
    );
    let mut ehlo = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("EHLO reply");
        ehlo.push(line.trim_end().to_owned());
        if !line.starts_with("250-") {
            break;
        }
    }
    assert_eq!(
        ehlo.first().map(String::as_str),
        Some("250-journal.tocsin.example")
    );
    assert!(!ehlo.iter().any(|l| l.contains("STARTTLS")), "{ehlo:?}");
    server.stop().await;
}

/// Arbitrary bytes (binary, NULs, bare CRs, huge lines) neither crash the listener nor
/// leave it unable to serve the next client.
#[tokio::test]
async fn garbage_does_not_harm_the_listener() {
    let mut config = config();
    config.max_line_bytes = 256;
    config.idle_timeout = Duration::from_secs(2);
    let server = Server::start(config).await;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64: reproducible bytes without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..20 {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port))
            .await
            .expect("connect");
        let len = 1 + (next() % 4096) as usize;
        // One line of anything but LF, so the server reads up to QUIT and closes cleanly
        // (closing on unread input would reset the connection under the client's read).
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| next() as u8)
            .filter(|&b| b != b'\n')
            .collect();
        if round % 2 == 0 {
            // Half the rounds look like commands, to get past the first word.
            bytes.splice(0..0, b"MAIL FROM:<".iter().copied());
        }
        bytes.extend_from_slice(b"\r\nQUIT\r\n");
        let _ = stream.write_all(&bytes).await;
        let mut answer = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer),
        )
        .await
        .expect("the server ends the session")
        .expect("read the replies");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("220 "), "round {round}: {answer}");
        assert!(
            answer.ends_with("221 2.0.0 Bye\r\n"),
            "round {round}: {answer}"
        );
    }
    let stream = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("greeting");
    reader
        .get_mut()
        .write_all(b"HELO after.example\r\n")
        .await
        .expect("send HELO");
    line.clear();
    reader.read_line(&mut line).await.expect("HELO reply");
    assert_eq!(line, "250 journal.tocsin.example\r\n");
    server.stop().await;
}
