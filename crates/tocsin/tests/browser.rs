//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver) against `tocsin serve`. An administrator signs in, sees incidents
//! appear after sign-ins are pushed (without reloading: live.js), opens one and
//! acknowledges it; a phishing message
//! whose subject and sender's name carry script is shown as text and runs nothing;
//! another organisation's administrator gets "no such incident" on its URL; the settings
//! page sends a test notification. Screenshots
//! of the pages go to `target/screenshots/` and are checked for content.

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use support::Harness;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "correct horse battery staple";

/// chromedriver on a free loopback port, killed with the test.
struct Driver {
    _child: tokio::process::Child,
    url: String,
}

async fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("TOCSIN_REQUIRE_TEST_DATA").is_none(),
            "scripts/test should have installed chromium and chromium-driver"
        );
        println!(
            "SKIPPED: chromium and chromium-driver are not installed (scripts/test installs them)"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Driver {
                _child: child,
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen within 10 s");
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100"],
        }),
    );
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Where screenshots go: `target/screenshots/`, kept by CI.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// Saves a screenshot and checks it shows something: many colours, and enough of the
/// page that is not background.
async fn screenshot(client: &Client, name: &str) {
    let bytes = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), &bytes).expect("write screenshot");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    let total = (info.width * info.height) as usize;
    for pixel in pixels[..info.buffer_size()].chunks(channels) {
        let rgb = (pixel[0], pixel[1], pixel[2]);
        colours.insert(rgb);
        if rgb != (255, 255, 255) {
            inked += 1;
        }
    }
    assert!(
        colours.len() > 20,
        "{name}: only {} colours: blank?",
        colours.len()
    );
    assert!(
        inked * 200 > total,
        "{name}: {inked} of {total} pixels not white: blank?"
    );
}

async fn sign_in(client: &Client, base: &str, email: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");
    client
        .find(Locator::Id("email"))
        .await
        .expect("email field")
        .send_keys(email)
        .await
        .expect("type email");
    client
        .find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(PASSWORD)
        .await
        .expect("type password");
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("submit");
    client
        .wait()
        .for_element(Locator::Id("headline"))
        .await
        .expect("the overview after signing in");
}

async fn make_admin(harness: &Harness, org: i64, email: &str) {
    let (status, body) = harness
        .api
        .post_json(
            "/api/v1/users",
            &harness.operator,
            json!({ "email": email, "password": PASSWORD, "role": "org_admin", "org_id": org }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Twelve accounts failing from one address within minutes, an hour ago: a password spray.
fn spray() -> String {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    (0..12)
        .map(|n| {
            format!(
                "{{\"id\":\"b{n}\",\"createdDateTime\":\"{}\",\"userPrincipalName\":\"staff{n}@clinic.example\",\"ipAddress\":\"203.0.113.77\",\"status\":{{\"errorCode\":50126,\"failureReason\":\"Invalid username or password.\"}},\"clientAppUsed\":\"Browser\",\"appDisplayName\":\"Office 365 Exchange Online\"}}\n",
            start + jiff::SignedDuration::from_mins(n)
            )
        })
        .collect()
}

/// The corpus's fake recruiter, with script in the subject and the sender's name.
fn hostile_phishing() -> String {
    let raw = scenario::mail_corpus()
        .into_iter()
        .find(|c| c.name == "recruiter-zinc-docm")
        .expect("corpus case")
        .raw;
    String::from_utf8(raw)
        .expect("ascii")
        .replacen(
            "Subject: Job offer",
            "Subject: <script>alert(1)</script> Job offer",
            1,
        )
        .replacen(
            "Senior Recruiter at Boeing",
            "Senior Recruiter at Boeing <img src=x onerror=alert(2)>",
            1,
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_sees_the_attack_opens_and_acknowledges_it_in_chromium() {
    let Some(driver) = driver().await else {
        return;
    };
    let harness = Harness::start(0).await;
    let base = harness.server.base.clone();
    let (clinic, key, _) = harness.enrol("Clinic", "clinic").await;
    let (other, _, _) = harness.enrol("Other", "other").await;
    make_admin(&harness, clinic, "admin@clinic.example").await;
    make_admin(&harness, other, "admin@other.example").await;

    let client = browser(&driver).await;
    client
        .goto(&format!("{base}/dashboard"))
        .await
        .expect("goto");
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/login")
    );
    screenshot(&client, "login").await;
    sign_in(&client, &base, "admin@clinic.example").await;
    client
        .goto(&format!("{base}/dashboard?refresh=1"))
        .await
        .expect("the overview, refreshing every second");
    let headline = client
        .find(Locator::Id("headline"))
        .await
        .expect("headline");
    assert_eq!(headline.text().await.expect("text"), "No open incident.");

    let (status, report) = harness
        .api
        .post_text("/api/v1/signins", &key, spray())
        .await;
    assert_eq!(status, 200, "{report}");
    let (status, report) = harness
        .api
        .post_text("/api/v1/mail", &key, hostile_phishing())
        .await;
    assert_eq!(status, 200, "{report}");

    // The page is not reloaded: live.js brings the incidents in (every second here).
    let mut headline = String::new();
    for _ in 0..100 {
        headline = client
            .find(Locator::Id("headline"))
            .await
            .expect("headline")
            .text()
            .await
            .expect("text");
        if headline.starts_with("2 open incidents") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        headline.starts_with("2 open incidents"),
        "never updated: {headline}"
    );
    let bars = client
        .find_all(Locator::Css("svg.chart rect.bar"))
        .await
        .expect("chart bars");
    assert!(!bars.is_empty(), "the chart draws the failures");
    screenshot(&client, "overview").await;

    // The phishing incident: hostile headers are text, and nothing ran.
    let links = client
        .find_all(Locator::Css("table.incidents a"))
        .await
        .expect("incident links");
    let mut hrefs = Vec::new();
    for link in &links {
        hrefs.push(link.attr("href").await.expect("href").expect("a link"));
    }
    assert_eq!(hrefs.len(), 2);
    let mut spray_url = None;
    for href in &hrefs {
        client
            .goto(&format!("{base}{href}"))
            .await
            .expect("incident page");
        let title = client
            .find(Locator::Css("h1"))
            .await
            .expect("h1")
            .text()
            .await
            .expect("text");
        if title.contains("phishing") {
            let subject = client
                .find(Locator::Css("dd.subject"))
                .await
                .expect("subject")
                .text()
                .await
                .expect("text");
            assert!(
                subject.starts_with("<script>alert(1)</script> Job offer"),
                "{subject}"
            );
            let from = client
                .find(Locator::Css("dd.from"))
                .await
                .expect("from")
                .text()
                .await
                .expect("text");
            assert!(from.contains("<img src=x onerror=alert(2)>"), "{from}");
            assert!(
                client.get_alert_text().await.is_err(),
                "a script ran: an alert is open"
            );
            screenshot(&client, "incident-phishing").await;
        } else {
            spray_url = Some(format!("{base}{href}"));
        }
    }
    let spray_url = spray_url.expect("the spray's page");

    // Acknowledge the spray with the button.
    client.goto(&spray_url).await.expect("spray page");
    assert_eq!(
        client
            .find(Locator::Id("state"))
            .await
            .expect("state")
            .text()
            .await
            .expect("text"),
        "notified"
    );
    client
        .find(Locator::Id("acknowledge"))
        .await
        .expect("acknowledge button")
        .click()
        .await
        .expect("click");
    let mut state = String::new();
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Id("state")).await {
            state = element.text().await.unwrap_or_default();
            if state == "acknowledged" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "acknowledged");
    screenshot(&client, "incident-spray").await;

    // The settings: the enrolled domain is proved, and the test notification is queued
    // on the webhook (the harness's receiver).
    client
        .goto(&format!("{base}/dashboard/settings"))
        .await
        .expect("settings");
    client
        .find(Locator::Id("send-test"))
        .await
        .expect("send-a-test button")
        .click()
        .await
        .expect("click");
    let notice = client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .expect("what the test did")
        .text()
        .await
        .expect("text");
    assert!(
        notice.starts_with("A test notification was queued on 1 channel"),
        "{notice}"
    );
    screenshot(&client, "settings").await;

    // Another organisation's administrator: no such incident.
    client
        .find(Locator::Css("form.signout button"))
        .await
        .expect("sign-out button")
        .click()
        .await
        .expect("sign out");
    client
        .wait()
        .for_element(Locator::Id("email"))
        .await
        .expect("back to the sign-in page");
    sign_in(&client, &base, "admin@other.example").await;
    client.goto(&spray_url).await.expect("goto");
    let body = client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text");
    assert!(body.contains("No such incident"), "{body}");
    assert!(!body.contains("203.0.113.77") && !body.contains("clinic.example"));
    client.close().await.expect("close");
}

/// Successful Graph sign-ins in W48 2026 of `staff` accounts at `domain`, the first
/// `with_mfa` of them with a second factor and the rest with a password alone.
fn week_of_sign_ins(domain: &str, staff: usize, with_mfa: usize) -> String {
    (0..staff)
        .map(|n| {
            let strength = if n < with_mfa {
                model::Authentication::MultiFactor
            } else {
                model::Authentication::SingleFactor
            };
            scenario::render_graph(&model::SignIn {
                time: format!("2026-11-25T08:{:02}:00Z", n % 60)
                    .parse()
                    .expect("time"),
                account: format!("staff{n}@{domain}"),
                source_ip: Some("192.0.2.44".parse().expect("ip")),
                outcome: model::Outcome::Success,
                failure_kind: None,
                protocol: model::Protocol::Browser,
                app: None,
                result_code: None,
                reason: None,
                record_id: Some(format!("{domain}-{n}")),
                country: None,
                asn: None,
                user_agent: None,
                authentication: Some(strength),
                format: model::Format::EntraGraph,
                origin: model::Origin::RequestLine {
                    request: "t".into(),
                    line: n as u64,
                },
            }) + "\n"
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scorecard_and_the_monthly_report_render_in_chromium() {
    let Some(driver) = driver().await else {
        return;
    };
    let harness = Harness::start(0).await;
    let base = harness.server.base.clone();
    // Five hospitals: enough for the sector comparison to be drawn.
    let mut first = None;
    for (n, name) in ["Clinic", "Alder", "Birch", "Cedar", "Dogwood"]
        .iter()
        .enumerate()
    {
        let (org, key, _) = harness.enrol(name, &name.to_lowercase()).await;
        let domain = format!("{}.example", name.to_lowercase());
        let (status, report) = harness
            .api
            .post_text(
                "/api/v1/signins",
                &key,
                week_of_sign_ins(&domain, 10, 2 * n + 1),
            )
            .await;
        assert_eq!(status, 200, "{report}");
        first.get_or_insert(org);
    }
    make_admin(&harness, first.expect("Clinic"), "admin@clinic.example").await;

    let client = browser(&driver).await;
    sign_in(&client, &base, "admin@clinic.example").await;
    client
        .goto(&format!("{base}/dashboard/scorecard?week=2026-W48"))
        .await
        .expect("scorecard");
    let grade = client
        .find(Locator::Css(".score .grade"))
        .await
        .expect("grade")
        .text()
        .await
        .expect("text");
    // One of ten accounts with MFA: a poor grade, and MFA the first action.
    assert_eq!(grade, "F");
    let first_action = client
        .find(Locator::Css("#actions-heading + ol li"))
        .await
        .expect("an action")
        .text()
        .await
        .expect("text");
    assert!(
        first_action.starts_with("Require multi-factor authentication for every account: 9 of 10"),
        "{first_action}"
    );
    client
        .find(Locator::Css("svg.chart.peers circle.own"))
        .await
        .expect("the sector chart with this organisation's dot");
    screenshot(&client, "scorecard").await;

    client
        .goto(&format!("{base}/dashboard/report?month=2026-11"))
        .await
        .expect("report");
    let title = client
        .find(Locator::Css("h1"))
        .await
        .expect("title")
        .text()
        .await
        .expect("text");
    assert_eq!(title, "Security report: Clinic, November 2026");
    client
        .find(Locator::Css("svg.chart.trend"))
        .await
        .expect("the trend chart");
    screenshot(&client, "monthly-report").await;
    client.close().await.expect("close");
}
