//! The syslog listener over real sockets on the loopback: what a host sends ends up stored
//! for its organisation, nothing from an unmapped host does, and a burst over TCP arrives
//! whole.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{DetectionKind, Observation, OrgId, Outcome, Timestamp};
use tocsin_connect::syslog::{Stats, SyslogConfig, SyslogListener, SyslogSource};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

struct Fixture {
    _dir: tempfile::TempDir,
    intake: Arc<notify::SignInIntake>,
    org: OrgId,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let (organisation, _) = store
        .create_organisation(&store::NewOrganisation {
            name: "Clinique du Lac".into(),
            sector: model::Sector::Clinic,
            country: "FR".into(),
            domains: vec!["clinique-du-lac.fr".into()],
            webhook_url: None,
            language: store::Language::Fr,
        })
        .await
        .expect("organisation");
    let intake = Arc::new(
        notify::SignInIntake::new(
            store,
            detect::DetectConfig::default(),
            notify::NotifyConfig::default(),
        )
        .await
        .expect("intake"),
    );
    Fixture {
        _dir: dir,
        intake,
        org: organisation.id,
    }
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

fn config(org: OrgId, source: &str) -> SyslogConfig {
    let json = format!(
        r#"{{"udp": "127.0.0.1:0", "tcp": "127.0.0.1:0",
            "sources": [{{"address": "{source}", "org": {}}}],
            "flush_after": "100ms"}}"#,
        org.0
    );
    serde_json::from_str(&json).expect("config")
}

async fn start(fixture: &Fixture, config: SyslogConfig) -> SyslogListener {
    SyslogListener::start(config, Arc::clone(&fixture.intake))
        .await
        .expect("listener")
}

/// Waits until `done` holds for the listener's counters, or fails after `limit`.
async fn until(listener: &SyslogListener, limit: Duration, done: impl Fn(&Stats) -> bool) {
    let started = Instant::now();
    while !done(&listener.stats()) {
        assert!(
            started.elapsed() < limit,
            "gave up waiting; counters are {:?}",
            listener.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored(fixture: &Fixture) -> Vec<Observation> {
    let mut all = Vec::new();
    let mut last: Option<Observation> = None;
    loop {
        let page = fixture
            .intake
            .store()
            .observations_since(Timestamp::MIN, last.as_ref(), 10_000)
            .await
            .expect("stored sign-ins");
        let Some(tail) = page.last().cloned() else {
            return all;
        };
        all.extend(page);
        last = Some(tail);
    }
}

fn failed_password(second: u32, account: &str, port: u32) -> String {
    format!(
        "<38>Mar  1 03:14:{:02} web1 sshd[{port}]: Failed password for {account} from 203.0.113.9 port {port} ssh2",
        second % 60
    )
}

#[tokio::test]
async fn sshd_lines_over_udp_are_stored_for_the_mapped_organisation() {
    let fixture = fixture().await;
    let listener = start(&fixture, config(fixture.org, "127.0.0.1")).await;
    let target = listener.udp_address().expect("udp bound");
    let client = UdpSocket::bind(loopback()).await.expect("client");
    for (i, account) in ["alice", "bob", "carol"].iter().enumerate() {
        let line = failed_password(i as u32, account, 40_000 + i as u32);
        client.send_to(line.as_bytes(), target).await.expect("send");
    }
    // Not a sign-in: read and counted as received, stored nowhere.
    client
        .send_to(
            b"<30>Mar  1 03:14:20 web1 cron[9]: (root) CMD (run-parts)",
            target,
        )
        .await
        .expect("send");
    until(&listener, Duration::from_secs(10), |s| {
        s.accepted_sign_ins == 3
    })
    .await;
    let stats = listener.stop().await;
    assert_eq!(stats.received, 4);
    assert_eq!(stats.unmapped, 0);
    assert_eq!(stats.parse_errors, 0);
    let mut stored = stored(&fixture).await;
    stored.sort_by(|a, b| a.sign_in.account.cmp(&b.sign_in.account));
    let accounts: Vec<&str> = stored.iter().map(|o| o.sign_in.account.as_str()).collect();
    assert_eq!(accounts, ["alice", "bob", "carol"]);
    for observation in &stored {
        assert_eq!(observation.org, fixture.org);
        assert_eq!(observation.sign_in.outcome, Outcome::Failure);
        assert_eq!(
            observation.sign_in.source_ip,
            Some("203.0.113.9".parse().expect("ip"))
        );
        assert_eq!(observation.sign_in.app.as_deref(), Some("sshd"));
    }
    assert_eq!(
        stored[0].sign_in.origin,
        model::Origin::RequestLine {
            request: "syslog:127.0.0.1".into(),
            line: 1
        }
    );
}

#[tokio::test]
async fn tcp_streams_are_read_with_octet_counting_and_with_line_ends() {
    let fixture = fixture().await;
    let listener = start(&fixture, config(fixture.org, "127.0.0.0/8")).await;
    let target = listener.tcp_address().expect("tcp bound");
    let mut counted = TcpStream::connect(target).await.expect("connect");
    let mut stream = Vec::new();
    for (i, account) in ["dave", "erin"].iter().enumerate() {
        let line = failed_password(i as u32, account, 41_000 + i as u32);
        stream.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
    }
    counted.write_all(&stream).await.expect("write");
    let mut lines = TcpStream::connect(target).await.expect("connect");
    let text = format!(
        "{}\n{}\0{}\r\n",
        failed_password(3, "frank", 42_000),
        failed_password(4, "grace", 42_001),
        // RFC 5424, which sshd sends through rsyslog's RSYSLOG_SyslogProtocol23Format.
        "<38>1 2026-03-01T03:14:05Z web1 sshd 4242 - - Failed password for heidi from 198.51.100.4 port 42002 ssh2"
    );
    lines.write_all(text.as_bytes()).await.expect("write");
    until(&listener, Duration::from_secs(10), |s| {
        s.accepted_sign_ins == 5
    })
    .await;
    drop((counted, lines));
    let stats = listener.stop().await;
    assert_eq!(stats.received, 5);
    assert_eq!(stats.bad_frames, 0);
    let mut accounts: Vec<String> = stored(&fixture)
        .await
        .into_iter()
        .map(|o| o.sign_in.account)
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["dave", "erin", "frank", "grace", "heidi"]);
}

#[tokio::test]
async fn a_bad_frame_closes_only_its_connection() {
    let fixture = fixture().await;
    let listener = start(&fixture, config(fixture.org, "127.0.0.1")).await;
    let target = listener.tcp_address().expect("tcp bound");
    let mut broken = TcpStream::connect(target).await.expect("connect");
    broken.write_all(b"12x not a frame\n").await.expect("write");
    until(&listener, Duration::from_secs(10), |s| s.bad_frames == 1).await;
    let mut good = TcpStream::connect(target).await.expect("connect");
    let line = failed_password(1, "ivan", 43_000);
    good.write_all(format!("{line}\n").as_bytes())
        .await
        .expect("write");
    until(&listener, Duration::from_secs(10), |s| {
        s.accepted_sign_ins == 1
    })
    .await;
    listener.stop().await;
}

#[tokio::test]
async fn messages_from_an_unmapped_host_are_counted_and_not_stored() {
    let fixture = fixture().await;
    // Only 192.0.2.0/24 may send; the test's loopback client may not.
    let listener = start(&fixture, config(fixture.org, "192.0.2.0/24")).await;
    let client = UdpSocket::bind(loopback()).await.expect("client");
    let line = failed_password(1, "judy", 44_000);
    for _ in 0..3 {
        client
            .send_to(line.as_bytes(), listener.udp_address().expect("udp"))
            .await
            .expect("send");
    }
    let mut tcp = TcpStream::connect(listener.tcp_address().expect("tcp"))
        .await
        .expect("connect");
    tcp.write_all(format!("{line}\n").as_bytes())
        .await
        .expect("write");
    until(&listener, Duration::from_secs(10), |s| s.unmapped == 4).await;
    let stats = listener.stop().await;
    assert_eq!(stats.received, 4);
    assert_eq!(stats.accepted_sign_ins, 0);
    assert_eq!(stats.batches, 0);
    assert!(stored(&fixture).await.is_empty());
}

#[tokio::test]
async fn an_over_long_message_is_cut_counted_and_still_read() {
    let fixture = fixture().await;
    let mut config = config(fixture.org, "127.0.0.1");
    config.max_message_bytes = 200;
    let listener = start(&fixture, config).await;
    // The sign-in is in the first 200 bytes; the padding after it is cut off.
    let line = format!(
        "<38>Mar  1 03:14:15 web1 sshd[7]: Failed password for karl from 203.0.113.9 port 45000 ssh2 {}",
        "x".repeat(500)
    );
    let client = UdpSocket::bind(loopback()).await.expect("client");
    client
        .send_to(line.as_bytes(), listener.udp_address().expect("udp"))
        .await
        .expect("send");
    let mut tcp = TcpStream::connect(listener.tcp_address().expect("tcp"))
        .await
        .expect("connect");
    let counted = line.replace("karl", "kate");
    tcp.write_all(format!("{} {counted}", counted.len()).as_bytes())
        .await
        .expect("write");
    until(&listener, Duration::from_secs(10), |s| {
        s.truncated == 2 && s.accepted_sign_ins == 2
    })
    .await;
    let stats = listener.stop().await;
    assert_eq!(stats.parse_errors, 0);
    let mut accounts: Vec<String> = stored(&fixture)
        .await
        .into_iter()
        .map(|o| o.sign_in.account)
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["karl", "kate"]);
}

#[tokio::test]
async fn a_brute_force_over_syslog_opens_an_incident() {
    let fixture = fixture().await;
    let listener = start(&fixture, config(fixture.org, "127.0.0.1")).await;
    let client = UdpSocket::bind(loopback()).await.expect("client");
    let target = listener.udp_address().expect("udp");
    for i in 0..20u32 {
        let line = failed_password(i * 2, "root", 46_000 + i);
        client.send_to(line.as_bytes(), target).await.expect("send");
    }
    until(&listener, Duration::from_secs(10), |s| {
        s.accepted_sign_ins == 20
    })
    .await;
    listener.stop().await;
    let incidents = fixture
        .intake
        .store()
        .incidents(fixture.org, 10)
        .await
        .expect("incidents");
    let brute: Vec<_> = incidents
        .iter()
        .filter(|i| i.kind == DetectionKind::BruteForce)
        .collect();
    assert_eq!(brute.len(), 1, "incidents: {incidents:?}");
    assert_eq!(brute[0].accounts, ["root"]);
    assert_eq!(brute[0].sources, ["203.0.113.9"]);
}

#[tokio::test]
async fn stopping_commits_what_is_buffered() {
    let fixture = fixture().await;
    let mut config = config(fixture.org, "127.0.0.1");
    // Never due by time during the test: only the stop can commit it.
    config.flush_after = jiff::SignedDuration::from_hours(1);
    let listener = start(&fixture, config).await;
    let client = UdpSocket::bind(loopback()).await.expect("client");
    let line = failed_password(1, "lena", 47_000);
    client
        .send_to(line.as_bytes(), listener.udp_address().expect("udp"))
        .await
        .expect("send");
    until(&listener, Duration::from_secs(10), |s| s.received == 1).await;
    // Received is counted before the committer takes it; give it a moment to parse.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(listener.stats().batches, 0);
    let stats = listener.stop().await;
    assert_eq!(stats.batches, 1);
    assert_eq!(stats.accepted_sign_ins, 1);
    assert_eq!(stored(&fixture).await.len(), 1);
}

#[tokio::test]
async fn a_burst_of_100_000_messages_over_tcp_arrives_whole() {
    const CONNECTIONS: u32 = 4;
    const PER_CONNECTION: u32 = 25_000;
    let fixture = fixture().await;
    let listener = start(&fixture, config(fixture.org, "127.0.0.1")).await;
    let target = listener.tcp_address().expect("tcp");
    let started = Instant::now();
    let mut senders = Vec::new();
    for connection in 0..CONNECTIONS {
        senders.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(target).await.expect("connect");
            let mut chunk = String::new();
            for i in 0..PER_CONNECTION {
                let account = format!("user{connection}-{i}");
                let line = failed_password(i, &account, i % 60_000 + 1);
                // Alternate the two framings within one stream.
                if i % 2 == 0 {
                    chunk.push_str(&format!("{} {line}", line.len()));
                } else {
                    chunk.push_str(&line);
                    chunk.push('\n');
                }
                if chunk.len() > 64 * 1024 {
                    stream.write_all(chunk.as_bytes()).await.expect("write");
                    chunk.clear();
                }
            }
            stream.write_all(chunk.as_bytes()).await.expect("write");
            stream.shutdown().await.expect("shutdown");
        }));
    }
    for sender in senders {
        sender.await.expect("sender");
    }
    let total = u64::from(CONNECTIONS * PER_CONNECTION);
    until(&listener, Duration::from_secs(50), |s| {
        s.accepted_sign_ins == total
    })
    .await;
    let elapsed = started.elapsed();
    let stats = listener.stop().await;
    println!(
        "100k burst over TCP: {total} messages in {:.2} s, {:.0} messages/s, {} batches",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        stats.batches
    );
    assert_eq!(stats.received, total);
    assert_eq!(stats.parse_errors, 0);
    assert_eq!(stats.failed_sign_ins, 0);
    assert_eq!(stored(&fixture).await.len() as u64, total);
}

#[test]
fn the_configuration_has_its_documented_defaults_and_refuses_unknown_fields() {
    let config: SyslogConfig = serde_json::from_str(
        r#"{"udp": "0.0.0.0:514", "sources": [{"address": "10.1.2.3", "org": 7}]}"#,
    )
    .expect("config");
    assert_eq!(config.tcp, None);
    assert_eq!(config.max_message_bytes, 8192);
    assert_eq!(config.max_connections, 256);
    assert_eq!(config.batch_lines, 1000);
    assert_eq!(config.flush_after, jiff::SignedDuration::from_secs(1));
    assert_eq!(config.max_hosts, 1024);
    assert_eq!(
        config.sources,
        [SyslogSource {
            address: "10.1.2.3/32".parse().expect("net"),
            org: 7
        }]
    );
    let error = serde_json::from_str::<SyslogConfig>(r#"{"udp": "0.0.0.0:514", "port": 1}"#)
        .expect_err("unknown field");
    assert!(
        error.to_string().contains("unknown field `port`"),
        "{error}"
    );
    let error =
        serde_json::from_str::<SyslogConfig>(r#"{"sources": [{"address": "web1", "org": 1}]}"#)
            .expect_err("bad address");
    assert!(
        error
            .to_string()
            .contains("\"web1\" is neither an IP address nor a CIDR network"),
        "{error}"
    );
}

async fn send(socket: &UdpSocket, target: SocketAddr, account: &str, second: u32) {
    let line = failed_password(second, account, 48_000 + second);
    socket.send_to(line.as_bytes(), target).await.expect("send");
}

#[tokio::test]
async fn each_host_has_its_own_parser_and_the_least_recent_is_forgotten() {
    let fixture = fixture().await;
    let mut config = config(fixture.org, "127.0.0.0/8");
    config.max_hosts = 1;
    let listener = start(&fixture, config).await;
    let target = listener.udp_address().expect("udp");
    let first = UdpSocket::bind(loopback()).await.expect("client");
    let second = UdpSocket::bind("127.0.0.2:0".parse::<SocketAddr>().expect("address"))
        .await
        .expect("second loopback address");
    send(&first, target, "mallory", 1).await;
    until(&listener, Duration::from_secs(10), |s| s.received == 1).await;
    send(&first, target, "niaj", 2).await;
    until(&listener, Duration::from_secs(10), |s| s.received == 2).await;
    send(&second, target, "olivia", 3).await;
    until(&listener, Duration::from_secs(10), |s| s.received == 3).await;
    // 127.0.0.2 pushed 127.0.0.1's parser out: it starts again at line 1.
    send(&first, target, "peggy", 4).await;
    until(&listener, Duration::from_secs(10), |s| {
        s.accepted_sign_ins == 4
    })
    .await;
    listener.stop().await;
    let mut origins: Vec<(String, String)> = stored(&fixture)
        .await
        .into_iter()
        .map(|o| (o.sign_in.account, o.sign_in.origin.to_string()))
        .collect();
    origins.sort();
    assert_eq!(
        origins,
        [
            ("mallory".into(), "request syslog:127.0.0.1 line 1".into()),
            ("niaj".into(), "request syslog:127.0.0.1 line 2".into()),
            ("olivia".into(), "request syslog:127.0.0.2 line 1".into()),
            ("peggy".into(), "request syslog:127.0.0.1 line 1".into()),
        ]
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_counted() {
    let fixture = fixture().await;
    let mut config = config(fixture.org, "127.0.0.1");
    config.max_connections = 1;
    let listener = start(&fixture, config).await;
    let target = listener.tcp_address().expect("tcp");
    let mut kept = TcpStream::connect(target).await.expect("connect");
    let line = failed_password(1, "quentin", 49_000);
    kept.write_all(format!("{line}\n").as_bytes())
        .await
        .expect("write");
    until(&listener, Duration::from_secs(10), |s| s.received == 1).await;
    let mut refused = TcpStream::connect(target).await.expect("connect");
    until(&listener, Duration::from_secs(10), |s| {
        s.refused_connections == 1
    })
    .await;
    // The refused connection was closed by the listener: reading it ends at once.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut refused, &mut byte),
    )
    .await
    .expect("closed, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let stats = listener.stop().await;
    assert_eq!(stats.accepted_sign_ins, 1);
}
