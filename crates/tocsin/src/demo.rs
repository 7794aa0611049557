//! `tocsin demo`: the whole service on a temporary database, three sample organisations,
//! a generated day of sign-ins with an attack in it, replayed through the HTTP API, and
//! a local webhook receiver that checks every notification's signature, and a local SMTP
//! relay (the service's own listener) that receives the e-mails.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use crate::config::Config;
use crate::serve::Service;
use model::OrgId;
use notify::webhook::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};

/// Lines per intake request, as a log shipper would batch them.
const BATCH_LINES: usize = 500;
/// How much of the day each round of intake requests covers.
const REPLAY_SLICE: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

pub async fn run(listen: SocketAddr, once: bool, seed: u64) -> anyhow::Result<()> {
    let data_dir = tempfile::Builder::new()
        .prefix("tocsin-demo-")
        .tempdir()
        .context("cannot create a temporary data directory")?;
    let mut config = Config {
        data_dir: data_dir.path().to_owned(),
        ..Config::default()
    };
    config.http.listen = listen;
    // The demo's receiver is on loopback, which organisations are normally not allowed.
    config.notify.webhook.allow_private_targets = true;
    config.notify.webhook.initial_backoff = jiff::SignedDuration::from_secs(1);
    let mailbox = Mailbox::start().await?;
    config.notify.email.smtp_host = Some("127.0.0.1".into());
    config.notify.email.port = mailbox.port;
    config.notify.email.tls = notify::config::SmtpTls::None;
    config.notify.email.from = "tocsin demo <alerts@cert.example>".into();

    let receiver = Receiver::start().await?;
    let service = Service::start(config).await?;
    let store = service.intake.store().clone();
    let base = format!("http://{}", service.address);
    println!(
        "tocsin demo: service on {base}, data in {} (deleted on exit)",
        data_dir.path().display()
    );

    // The replayed day starts at a UTC midnight, so that the day is the same whatever the
    // hour the demo runs (the background's rhythm and the attacks' hours would otherwise
    // shift against each other), and ends (25 hours later) no later than now.
    let now = jiff::Timestamp::now();
    let day_before = now.checked_sub(jiff::SignedDuration::from_hours(25))?;
    let start = jiff::Timestamp::from_second(
        day_before.as_second() - day_before.as_second().rem_euclid(86_400),
    )?;
    let demo = scenario::demo(seed, start);

    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for org in &demo.orgs {
        let new = store::NewOrganisation {
            name: org.name.clone(),
            sector: org.sector,
            country: org.country.clone(),
            domains: org.domains.clone(),
            webhook_url: None,
            language: store::Language::En,
        };
        let (created, key) = store.create_organisation(&new).await?;
        let url = format!("{}/hooks/{}", receiver.base, created.id);
        store.set_webhook(created.id, Some(&url)).await?;
        // Each organisation's security team reads e-mail too; the vaccine maker's in French.
        if let Some(domain) = org.domains.first() {
            let language = if keys.len() == 1 {
                store::Language::Fr
            } else {
                store::Language::En
            };
            store
                .set_recipients(
                    created.id,
                    &[store::Recipient {
                        address: format!("security@{domain}"),
                        language,
                    }],
                )
                .await?;
        }
        receiver.expect(
            created.id,
            &created.name,
            notify::webhook::signing_secret(store.master_key(), created.id),
        );
        keys.push((created.id, created.name.clone(), key));
    }
    // The health ISAC the service belongs to shares what it knows, as a STIX bundle: the
    // spray's network (Forest Blizzard's, in its reporting) and the WHO lookalike (Ruby
    // Sleet's). Every sign-in and message is matched against it from now on.
    let operator = store.create_api_key(store::Principal::Operator).await?;
    let response = client
        .post(format!("{base}/api/v1/intel/feeds/health-isac/bundles"))
        .bearer_auth(&operator)
        .body(isac_bundle(start)?.to_string())
        .send()
        .await?;
    let status = response.status();
    let taken: serde_json::Value = response.json().await?;
    anyhow::ensure!(
        status.is_success(),
        "the bundle upload answered {status}: {taken}"
    );
    println!(
        "\nThe health ISAC shares a STIX 2.1 bundle (POST /api/v1/intel/feeds/health-isac/bundles): {} indicators, {} actors, {} problems.",
        taken["indicators"], taken["actors"], taken["problem_count"]
    );
    println!(
        "\nReplaying 24 hours of sign-ins ({} organisations) through POST /api/v1/signins:",
        demo.orgs.len()
    );
    // The organisations push at the same time, as shippers do: a slice of the day at a
    // time, each organisation its own lines of that slice. Only then can the service see
    // the spray hit all three in the same hours.
    let mut accepted = vec![0u64; demo.orgs.len()];
    let mut opened = vec![0u64; demo.orgs.len()];
    let mut slice_start = start;
    let end = start.checked_add(jiff::SignedDuration::from_hours(25))?;
    while slice_start < end {
        let slice_end = slice_start.checked_add(REPLAY_SLICE)?;
        for (i, (org, (_, _, key))) in demo.orgs.iter().zip(&keys).enumerate() {
            let lines: Vec<&str> = org
                .sign_ins
                .iter()
                .zip(&org.lines)
                .filter(|(s, _)| s.time >= slice_start && s.time < slice_end)
                .map(|(_, line)| line.as_str())
                .collect();
            for chunk in lines.chunks(BATCH_LINES) {
                let response = client
                    .post(format!("{base}/api/v1/signins"))
                    .bearer_auth(key)
                    .body(chunk.join("\n"))
                    .send()
                    .await?;
                let status = response.status();
                let report: serde_json::Value = response.json().await?;
                anyhow::ensure!(status.is_success(), "intake answered {status}: {report}");
                accepted[i] += report["accepted"].as_u64().unwrap_or(0);
                opened[i] += report["incidents_opened"].as_u64().unwrap_or(0);
            }
        }
        slice_start = slice_end;
    }
    for (i, (org, (_, name, _))) in demo.orgs.iter().zip(&keys).enumerate() {
        println!(
            "  {name:<24} {:>5} {} lines, {} sign-ins accepted, {} incident(s) opened",
            org.lines.len(),
            org.format.as_str(),
            accepted[i],
            opened[i],
        );
    }

    // Mail: the vaccine maker's journal delivers a few inbound messages, spear-phishing
    // of each kind the seeds describe among ordinary mail.
    if let (Some(org), Some((_, name, key))) = (demo.orgs.get(1), keys.get(1)) {
        let domain = org.domains.first().map_or("", String::as_str);
        let corpus = scenario::mail_corpus();
        let chosen: Vec<Vec<u8>> = scenario::DEMO_MAIL
            .iter()
            .filter_map(|n| corpus.iter().find(|c| c.name == *n))
            .map(|case| scenario::readdressed(&case.raw, domain))
            .collect();
        let mbox = scenario::mbox(chosen.iter().map(Vec::as_slice));
        let response = client
            .post(format!("{base}/api/v1/mail"))
            .bearer_auth(key)
            .header("Content-Type", "application/mbox")
            .body(mbox)
            .send()
            .await?;
        let status = response.status();
        let report: serde_json::Value = response.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "mail upload answered {status}: {report}"
        );
        println!(
            "\nJudging {} inbound messages for {name} through POST /api/v1/mail:",
            chosen.len()
        );
        for m in report["messages"].as_array().into_iter().flatten() {
            let strongest = m["reasons"][0]["code"].as_str().unwrap_or("-");
            println!(
                "  {:<10} {:>4}  {:<28} strongest reason: {strongest}",
                m["verdict"].as_str().unwrap_or("?"),
                m["score"].as_i64().unwrap_or(0),
                m["message_id"].as_str().unwrap_or("?"),
            );
        }
    }

    // Notifications go out as soon as they are queued; wait for the last of them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while store.outbox_counts().await?.pending > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counts = store.outbox_counts().await?;
    println!(
        "\nNotifications: {} delivered ({} webhooks whose signature the receiver verified, {} e-mails the local SMTP relay received), {} pending, {} dead; {} signatures refused.",
        counts.delivered,
        receiver.verified(),
        mailbox.received(),
        counts.pending,
        counts.dead,
        receiver.refused()
    );
    for (to, (count, subject)) in mailbox.by_recipient() {
        println!("  ✉ {to}: {count} e-mail(s), such as: {subject}");
    }

    for (org, name, key) in &keys {
        let incidents = store.incidents(*org, 100).await?;
        let noun = if incidents.len() == 1 {
            "incident"
        } else {
            "incidents"
        };
        println!("\n{name} ({} {noun}):", incidents.len());
        let mut out = Vec::new();
        crate::scan::write_table(&mut out, &incidents)?;
        print!("{}", String::from_utf8_lossy(&out));
        for incident in &incidents {
            if let Some(attribution) = incident.attribution.as_ref().filter(|a| a.actor.is_some()) {
                println!(
                    "  ↳ {}: {} — who: {}",
                    incident.id,
                    incident.kind.title(),
                    attribution.headline()
                );
            }
        }
        println!("  Try: curl -s -H 'Authorization: Bearer {key}' {base}/api/v1/incidents");
        // A person of the organisation, to look at it in the browser.
        let email = format!("admin-{}@demo.tocsin.example", org.0);
        let password = demo_password(org.0);
        store
            .create_user(&store::NewUser {
                email: email.clone(),
                name: format!("{name} administrator"),
                password_hash: store::hash_password(&password)?,
                role: store::Role::OrgAdmin,
                org: Some(*org),
            })
            .await?;
        println!("  Dashboard: {base}/login as {email}, password {password}");
        // The demo's day is recent: its week is the current one, not the last finished
        // one the scorecard shows by default.
        let week = scorecard::Week::containing(start + jiff::SignedDuration::from_hours(12));
        let organisation = store
            .organisation(*org)
            .await?
            .context("a demo organisation vanished")?;
        let card =
            scorecard::Scorecard::of(week, &store.week_counts(&organisation, week, now).await?);
        let grade = card.grade.map_or("no grade yet", |g| g.as_str());
        match card.score {
            Some(score) => println!("  Scorecard {week}: {score:.1}/100, grade {grade}"),
            None => println!("  Scorecard {week}: too little telemetry for a score"),
        }
        if let Some(action) = card.actions.first() {
            println!("    first action (+{:.1}): {}", action.gain, action.text);
        }
        println!("    {base}/dashboard/scorecard?week={week}");
    }
    if !once {
        println!("\nServing until interrupted (Ctrl-C).");
        let _ = tokio::signal::ctrl_c().await;
    }
    service.shutdown().await?;
    anyhow::ensure!(
        counts.pending == 0 && counts.dead == 0,
        "not every notification was delivered"
    );
    Ok(())
}

/// What the demo's ISAC shares: two intrusion sets, an indicator for each, and the
/// relationships that say which indicates which.
fn isac_bundle(day: jiff::Timestamp) -> anyhow::Result<serde_json::Value> {
    // Valid since long before the replayed day and the corpus messages' dates (2020).
    let _ = day;
    let since = "2020-01-01T00:00:00Z";
    let object = |kind: &str, id: &str, rest: serde_json::Value| {
        let mut object = serde_json::json!({
            "type": kind,
            "spec_version": "2.1",
            "id": format!("{kind}--{id}"),
            "created": since,
            "modified": since,
        });
        if let (Some(object), Some(rest)) = (object.as_object_mut(), rest.as_object()) {
            object.extend(rest.clone());
        }
        object
    };
    let network = model::Network::of(scenario::SPRAY_SOURCE);
    Ok(serde_json::json!({
        "type": "bundle",
        "id": "bundle--3f9b1a52-0c61-4d7e-9f3a-8a3c1e6b2d10",
        "objects": [
            object("intrusion-set", "bef4c620-0787-42a8-a96d-b7eb6e85917c", serde_json::json!({
                "name": "APT28", "aliases": ["Forest Blizzard", "STRONTIUM"],
            })),
            object("intrusion-set", "0f8a7b7e-5a3e-4a43-9b8e-2a6b9c1d4e5f", serde_json::json!({
                "name": "CERIUM", "aliases": ["Ruby Sleet"],
            })),
            object("indicator", "6f1c5b2e-8d4a-4c3b-9e7f-1a2b3c4d5e6f", serde_json::json!({
                "name": "Password-spray egress seen against health-sector tenants",
                "indicator_types": ["malicious-activity"],
                "pattern": format!("[ipv4-addr:value = '{network}']"),
                "pattern_type": "stix",
                "valid_from": since,
            })),
            object("indicator", "2d3e4f50-6a7b-4c8d-9e0f-1a2b3c4d5e70", serde_json::json!({
                "name": "WHO lookalike domain used for COVID-19 vaccine lures",
                "indicator_types": ["malicious-activity"],
                "pattern": "[domain-name:value = 'who-int.org']",
                "pattern_type": "stix",
                "valid_from": since,
            })),
            object("relationship", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", serde_json::json!({
                "relationship_type": "indicates",
                "source_ref": "indicator--6f1c5b2e-8d4a-4c3b-9e7f-1a2b3c4d5e6f",
                "target_ref": "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c",
            })),
            object("relationship", "1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516", serde_json::json!({
                "relationship_type": "indicates",
                "source_ref": "indicator--2d3e4f50-6a7b-4c8d-9e0f-1a2b3c4d5e70",
                "target_ref": "intrusion-set--0f8a7b7e-5a3e-4a43-9b8e-2a6b9c1d4e5f",
            })),
        ],
    }))
}

/// A webhook receiver as an organisation would run one: it verifies the signature and
/// prints what it was told.
struct Receiver {
    base: String,
    state: Arc<ReceiverState>,
}

#[derive(Default)]
struct ReceiverState {
    secrets: std::sync::Mutex<HashMap<i64, (String, String)>>,
    verified: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
}

impl Receiver {
    async fn start() -> anyhow::Result<Receiver> {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .route("/hooks/{org}", axum::routing::post(receive))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { base, state })
    }

    fn expect(&self, org: OrgId, name: &str, secret: String) {
        if let Ok(mut secrets) = self.state.secrets.lock() {
            secrets.insert(org.0, (name.to_owned(), secret));
        }
    }

    fn verified(&self) -> u64 {
        self.state
            .verified
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn refused(&self) -> u64 {
        self.state
            .refused
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    Path(org): Path<i64>,
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
    let Some((name, secret)) = state.secrets.lock().ok().and_then(|s| s.get(&org).cloned()) else {
        return StatusCode::NOT_FOUND;
    };
    let now = jiff::Timestamp::now().as_second();
    if let Err(error) = notify::webhook::verify(&secret, &header(SIGNATURE_HEADER), &body, now, 300)
    {
        state
            .refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        println!("  ✗ webhook for {name} refused: {error}");
        return StatusCode::UNAUTHORIZED;
    }
    state
        .verified
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let incident = &payload["incident"];
    println!(
        "  ✉ {name} notified ({}, delivery {}, signature verified): [{}] {}",
        header(EVENT_HEADER),
        header(DELIVERY_HEADER),
        incident["severity"].as_str().unwrap_or("?"),
        incident["summary"].as_str().unwrap_or("?"),
    );
    StatusCode::NO_CONTENT
}

/// The security teams' mail server: the service's own SMTP listener, keeping the subject
/// of every message it is given, per recipient.
struct Mailbox {
    port: u16,
    sink: Arc<MailboxSink>,
}

#[derive(Default)]
struct MailboxSink {
    /// Recipient → (messages, the subject of the first to arrive).
    received: std::sync::Mutex<std::collections::BTreeMap<String, (u64, String)>>,
}

impl Mailbox {
    async fn start() -> anyhow::Result<Mailbox> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let sink = Arc::new(MailboxSink::default());
        let serving = Arc::clone(&sink);
        tokio::spawn(async move {
            let config = smtp::ListenerConfig::new("mail.demo.example");
            let _ = smtp::serve(listener, config, serving, std::future::pending::<()>()).await;
        });
        Ok(Mailbox { port, sink })
    }

    fn received(&self) -> u64 {
        self.by_recipient().values().map(|(n, _)| n).sum()
    }

    fn by_recipient(&self) -> std::collections::BTreeMap<String, (u64, String)> {
        self.sink
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl smtp::JournalSink for MailboxSink {
    async fn authenticate(&self, _user: &str, _password: &str) -> Option<smtp::Route> {
        None
    }

    async fn recipient(
        &self,
        address: &str,
        _authenticated: Option<&smtp::Route>,
    ) -> Option<smtp::Route> {
        Some(smtp::Route {
            org: OrgId(0),
            name: address.to_owned(),
        })
    }

    async fn deliver(&self, envelope: smtp::Envelope, raw: Vec<u8>) -> Result<(), smtp::Rejection> {
        let subject = mail::parse::parse_message(&raw, &mail::parse::Limits::default())
            .map(|m| m.subject)
            .unwrap_or_default();
        let mut received = self
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for to in envelope.recipients {
            let entry = received
                .entry(to.address)
                .or_insert_with(|| (0, subject.clone()));
            entry.0 += 1;
        }
        Ok(())
    }
}

/// A demo administrator's password: different per organisation and per run, long enough
/// for the password rule.
fn demo_password(org: i64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("demo-{org}-{nanos:09}-tocsin")
}
