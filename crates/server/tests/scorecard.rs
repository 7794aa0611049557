//! The governance scorecard through the router: sign-ins pushed in Entra's Graph shape
//! with known authentication strengths give exactly the expected metrics, score, grade
//! and actions; mail-domain posture is read from a real DNS server; the export carries
//! the same values; one organisation never reads another's; and a sector view appears
//! only once five organisations contribute.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use model::{Authentication, Format, Origin, Outcome, Protocol, SignIn};
use scorecard::Week;
use serde_json::{Value, json};
use tower::ServiceExt;

use tocsin_server::{AppState, EnrolmentConfig, router};

mod common;
#[path = "common/dns.rs"]
mod dns;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    operator: String,
    dns: dns::Dns,
}

async fn fixture() -> Fixture {
    let dns = dns::Dns::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let operator = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator key");
    let mut state = common::state(store, Default::default()).await;
    state.enrolment = EnrolmentConfig {
        nameservers: vec![dns.address],
        dns_timeout: jiff::SignedDuration::from_secs(2),
        ..EnrolmentConfig::default()
    };
    Fixture {
        _dir: dir,
        state,
        operator,
        dns,
    }
}

impl Fixture {
    async fn send(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::from(body))
            .expect("request");
        let response = router(self.state.clone())
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json, text)
    }

    /// Enrols an organisation by the operator: its id and key.
    async fn enrol(&self, name: &str, sector: &str, country: &str, domain: &str) -> (i64, String) {
        let body = json!({"name": name, "sector": sector, "country": country, "domains": [domain]});
        let (status, body, _) = self
            .send(
                "POST",
                "/api/v1/orgs",
                &self.operator,
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["organisation"]["id"].as_i64().expect("id"),
            body["api_key"].as_str().expect("key").to_owned(),
        )
    }

    /// Pushes successful Graph sign-ins of W48 2026, one per (account, strength).
    async fn push(&self, key: &str, sign_ins: &[(&str, Authentication)]) {
        let lines: Vec<String> = sign_ins
            .iter()
            .enumerate()
            .map(|(n, (account, strength))| scenario::render_graph(&success(n, account, *strength)))
            .collect();
        let (status, report, _) = self
            .send(
                "POST",
                "/api/v1/signins",
                key,
                lines.join("\n").into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["accepted"], sign_ins.len(), "{report}");
    }
}

fn success(n: usize, account: &str, strength: Authentication) -> SignIn {
    SignIn {
        time: format!("2026-11-24T09:{:02}:00Z", n % 60)
            .parse()
            .expect("time"),
        account: account.into(),
        source_ip: Some("192.0.2.10".parse().expect("ip")),
        outcome: Outcome::Success,
        failure_kind: None,
        protocol: Protocol::Browser,
        app: None,
        result_code: None,
        reason: None,
        record_id: Some(format!("00000000-0000-4000-8000-{n:012}-{account}")),
        country: None,
        asn: None,
        user_agent: None,
        authentication: Some(strength),
        format: Format::EntraGraph,
        origin: Origin::RequestLine {
            request: "t".into(),
            line: n as u64,
        },
    }
}

fn metric<'a>(card: &'a Value, id: &str) -> &'a Value {
    card["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["metric"] == id)
        .map(|m| &m["value"])
        .unwrap_or_else(|| panic!("metric {id} in {card}"))
}

#[tokio::test]
async fn pushed_sign_ins_and_dns_give_the_expected_scorecard_for_that_organisation_only() {
    use Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    let f = fixture().await;
    let (alpha, alpha_key) = f.enrol("Alpha", "hospital", "FR", "alpha.example").await;
    let (_, bravo_key) = f.enrol("Bravo", "hospital", "FR", "bravo.example").await;
    f.dns
        .publish_txt("alpha.example", "v=spf1 include:_spf.example -all")
        .await;
    f.dns
        .publish_txt("alpha.example", "google-site-verification=x")
        .await;
    f.dns
        .publish_txt(
            "_dmarc.alpha.example",
            "v=DMARC1; p=quarantine; pct=50; rua=mailto:d@alpha.example",
        )
        .await;
    f.dns
        .publish_txt(
            "selector1._domainkey.alpha.example",
            "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
        )
        .await;

    let (status, checked, _) = f
        .send("POST", "/api/v1/org/scorecard/posture", &alpha_key, vec![])
        .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    let domain = &checked[0];
    assert_eq!(domain["domain"], "alpha.example");
    assert_eq!(domain["spf"]["all"], "fail");
    assert_eq!(
        (
            domain["dmarc"]["policy"].as_str(),
            domain["dmarc"]["percent"].as_u64()
        ),
        (Some("quarantine"), Some(50))
    );
    assert_eq!(domain["dkim"][0]["selector"], "selector1");
    // DMARC 30 + 45·0.5 = 52.5 → 26.25, SPF 25, DKIM 25.
    assert_eq!(domain["points"], 76.25);

    f.push(
        &alpha_key,
        &[
            ("u1@alpha.example", MultiFactor),
            ("u2@alpha.example", PhishingResistant),
            ("u3@alpha.example", SingleFactor),
            ("u3@alpha.example", MultiFactor),
            ("u4@alpha.example", MultiFactor),
        ],
    )
    .await;

    let (status, card, _) = f
        .send(
            "GET",
            "/api/v1/org/scorecard?week=2026-W48",
            &alpha_key,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["organisation"]["id"], alpha);
    assert_eq!(card["week"], "2026-W48");
    assert_eq!(
        metric(&card, "mfa_sign_ins"),
        80.0,
        "4 of 5 successes with MFA"
    );
    assert_eq!(
        metric(&card, "mfa_accounts"),
        75.0,
        "u3 signed in once with a password alone"
    );
    assert_eq!(metric(&card, "phishing_resistant"), 25.0);
    assert_eq!(metric(&card, "legacy_protocols"), 0.0);
    assert_eq!(metric(&card, "mail_authentication"), 76.3);
    assert_eq!(
        metric(&card, "telemetry_coverage"),
        50.0,
        "sign-ins but no mail"
    );
    assert_eq!(metric(&card, "staff_opt_in"), 0.0);
    assert_eq!(
        metric(&card, "attack_success"),
        &Value::Null,
        "no attack to measure"
    );
    // (20·75 + 10·25 + 15·100 + 15·76.3 + 10·50 + 5·0) / 75 = 65.26
    assert_eq!(card["measured_weight"], 75);
    assert_eq!(card["score"], 65.3);
    assert_eq!(card["grade"], "D");
    let actions: Vec<&str> = card["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["metric"].as_str().expect("id"))
        .collect();
    assert_eq!(
        actions,
        ["phishing_resistant", "mfa_accounts", "telemetry_coverage"]
    );
    assert_eq!(card["trend"].as_array().map(Vec::len), Some(12));
    assert_eq!(card["trend"][11]["score"], 65.3);
    assert_eq!(
        card["trend"][10]["score"],
        Value::Null,
        "nothing the week before"
    );
    assert_eq!(card["sector"]["organisations"], 2);
    assert_eq!(
        card["sector"]["distributions"],
        json!([]),
        "two hospitals: below the threshold"
    );

    // The export carries the same week.
    let weeks_back = Week::containing(jiff::Timestamp::now())
        .previous()
        .trailing(104)
        .iter()
        .rev()
        .position(|w| w.label() == "2026-W48")
        .map(|i| i + 1);
    if let Some(weeks) = weeks_back {
        let (status, _, csv) = f
            .send(
                "GET",
                &format!("/api/v1/org/scorecard/export?format=csv&weeks={weeks}"),
                &alpha_key,
                vec![],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        assert_eq!(header[..4], ["week", "score", "grade", "mfa_sign_ins"]);
        let row: Vec<&str> = lines
            .find(|l| l.starts_with("2026-W48,"))
            .expect("W48 row")
            .split(',')
            .collect();
        let column = |id: &str| row[header.iter().position(|h| *h == id).expect("column")];
        assert_eq!(
            (column("score"), column("grade"), column("mfa_accounts")),
            ("65.3", "D", "75")
        );
        assert_eq!(column("attack_success"), "", "unmeasured is empty");
        let (_, json, _) = f
            .send(
                "GET",
                &format!("/api/v1/org/scorecard/export?format=json&weeks={weeks}"),
                &alpha_key,
                vec![],
            )
            .await;
        let w48 = json
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["week"] == "2026-W48")
            .expect("W48");
        assert_eq!(w48["metrics"]["phishing_resistant"], 25.0);
    }
    let (status, _, _) = f
        .send(
            "GET",
            "/api/v1/org/scorecard/export?format=xml",
            &alpha_key,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body, _) = f
        .send("GET", "/api/v1/org/scorecard?week=48", &alpha_key, vec![])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("ISO week"), "{body}");

    // Bravo sees nothing of Alpha's, and may not ask for it.
    let (_, bravo_card, _) = f
        .send(
            "GET",
            "/api/v1/org/scorecard?week=2026-W48",
            &bravo_key,
            vec![],
        )
        .await;
    assert_eq!(metric(&bravo_card, "mfa_sign_ins"), &Value::Null);
    assert_eq!(bravo_card["posture"], json!([]));
    let (status, _, _) = f
        .send(
            "GET",
            &format!("/api/v1/orgs/{alpha}/scorecard?week=2026-W48"),
            &bravo_key,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, operator_card, _) = f
        .send(
            "GET",
            &format!("/api/v1/orgs/{alpha}/scorecard?week=2026-W48"),
            &f.operator,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(operator_card["score"], 65.3);
}

#[tokio::test]
async fn a_sector_is_compared_only_from_five_organisations() {
    use Authentication::{MultiFactor, SingleFactor};
    let f = fixture().await;
    let mut keys = Vec::new();
    // Lab n: n of its four accounts use MFA.
    for n in 0..4usize {
        let (_, key) = f
            .enrol(&format!("Lab {n}"), "lab", "FR", &format!("lab{n}.example"))
            .await;
        let accounts: Vec<(String, Authentication)> = (0..4)
            .map(|a| {
                (
                    format!("u{a}@lab{n}.example"),
                    if a < n { MultiFactor } else { SingleFactor },
                )
            })
            .collect();
        let refs: Vec<(&str, Authentication)> =
            accounts.iter().map(|(a, s)| (a.as_str(), *s)).collect();
        f.push(&key, &refs).await;
        keys.push(key);
    }
    let (_, card, _) = f
        .send(
            "GET",
            "/api/v1/org/scorecard?week=2026-W48",
            &keys[3],
            vec![],
        )
        .await;
    assert_eq!(card["sector"]["organisations"], 4);
    assert_eq!(
        card["sector"]["distributions"],
        json!([]),
        "four labs: nothing shown"
    );
    assert_eq!(card["sector_country"], Value::Null);
    let (status, view, _) = f
        .send(
            "GET",
            "/api/v1/sectors/lab/scorecard?week=2026-W48",
            &f.operator,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["distributions"], json!([]));
    let (status, _, _) = f
        .send(
            "GET",
            "/api/v1/sectors/lab/scorecard?week=2026-W48",
            &keys[0],
            vec![],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "sector views are the operator's"
    );

    // A fifth lab, in another country: the sector view opens, the French one stays shut.
    let (_, key) = f.enrol("Lab 4", "lab", "DE", "lab4.example").await;
    f.push(
        &key,
        &[
            ("u0@lab4.example", MultiFactor),
            ("u1@lab4.example", MultiFactor),
            ("u2@lab4.example", MultiFactor),
            ("u3@lab4.example", MultiFactor),
        ],
    )
    .await;
    let (_, card, _) = f
        .send(
            "GET",
            "/api/v1/org/scorecard?week=2026-W48",
            &keys[3],
            vec![],
        )
        .await;
    assert_eq!(card["sector"]["organisations"], 5);
    assert_eq!(card["sector_country"], Value::Null, "four labs in FR");
    let mfa = card["sector"]["distributions"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|d| d["metric"] == "mfa_accounts")
        .expect("MFA accounts compared")
        .clone();
    // Values 0, 25, 50, 75, 100.
    assert_eq!(
        (
            mfa["contributors"].as_u64(),
            mfa["p25"].as_f64(),
            mfa["median"].as_f64(),
            mfa["p75"].as_f64()
        ),
        (Some(5), Some(25.0), Some(50.0), Some(75.0))
    );
    assert_eq!(mfa["own"], 75.0);
    assert_eq!(mfa["rank"], 70.0, "better than three, tied with itself");
    let (_, view, _) = f
        .send(
            "GET",
            "/api/v1/sectors/lab/scorecard?week=2026-W48",
            &f.operator,
            vec![],
        )
        .await;
    let mfa = view["distributions"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|d| d["metric"] == "mfa_accounts")
        .expect("mfa")
        .clone();
    assert_eq!(mfa["own"], Value::Null, "the operator's view names no one");
    let (_, fr, _) = f
        .send(
            "GET",
            "/api/v1/sectors/lab/scorecard?week=2026-W48&country=fr",
            &f.operator,
            vec![],
        )
        .await;
    assert_eq!(
        (fr["scope"].as_str(), fr["organisations"].as_u64()),
        (Some("lab in FR"), Some(4))
    );
    assert_eq!(fr["distributions"], json!([]));
}

#[tokio::test]
async fn the_daily_task_keeps_the_newest_settled_week_as_it_was_counted() {
    use Authentication::{MultiFactor, SingleFactor};
    let f = fixture().await;
    let (_, key) = f.enrol("Alpha", "hospital", "FR", "alpha.example").await;
    f.push(&key, &[("u1@alpha.example", MultiFactor)]).await;
    // Wednesday after W48: W48 has settled (48 h after its end), W49 has not.
    let wednesday: jiff::Timestamp = "2026-12-02T00:00:00Z".parse().expect("time");
    let store = f.state.intake.store();
    assert_eq!(
        tocsin_server::scorecard::settle_weeks(store, wednesday)
            .await
            .expect("settle"),
        1
    );
    // A sign-in of W48 arriving later does not change the kept week.
    f.push(&key, &[("u9@alpha.example", SingleFactor)]).await;
    let (_, card, _) = f
        .send("GET", "/api/v1/org/scorecard?week=2026-W48", &key, vec![])
        .await;
    assert_eq!(
        metric(&card, "mfa_accounts"),
        100.0,
        "kept as counted on Wednesday"
    );
    let week = Week::parse("2026-W48").expect("week");
    let alpha = store
        .organisation(model::OrgId(
            card["organisation"]["id"].as_i64().expect("id"),
        ))
        .await
        .expect("read")
        .expect("Alpha");
    let recount = store
        .week_counts(
            &alpha,
            week,
            wednesday - jiff::SignedDuration::from_hours(1),
        )
        .await
        .expect("recount");
    assert_eq!(
        recount.active_accounts, 2,
        "before settling, the week is counted afresh"
    );
}

/// What a scorecard costs in a large sector: `TOCSIN_BENCH_ORGS` hospitals (100) with
/// `TOCSIN_BENCH_SIGNINS` sign-ins each (2,000) in one week. Prints the time of the
/// scorecard request while the week is still counted afresh for every peer, and once the
/// daily task has kept it. Not a pass/fail timing: run it with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn a_large_sector_costs() {
    use std::time::Instant;
    let orgs: usize = std::env::var("TOCSIN_BENCH_ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let per_org: usize = std::env::var("TOCSIN_BENCH_SIGNINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let f = fixture().await;
    let store = f.state.intake.store().clone();
    let mut first_key = None;
    let started = Instant::now();
    for o in 0..orgs {
        let (org, key) = f
            .enrol(
                &format!("Hospital {o}"),
                "hospital",
                "FR",
                &format!("h{o}.example"),
            )
            .await;
        first_key.get_or_insert(key);
        let mut tx = store.begin_intake().await.expect("begin");
        for n in 0..per_org {
            let strength = match n % 10 {
                0 => Authentication::SingleFactor,
                1 => Authentication::PhishingResistant,
                _ => Authentication::MultiFactor,
            };
            let mut s = success(n, &format!("u{}@h{o}.example", n % 200), strength);
            s.time = jiff::Timestamp::from_second(1_795_392_000 + (n as i64 * 211) % 600_000)
                .expect("time");
            s.record_id = Some(format!("h{o}-{n}"));
            tx.insert_signin(model::OrgId(org), &s)
                .await
                .expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    println!(
        "loaded {orgs} organisations × {per_org} sign-ins in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let key = first_key.expect("an organisation");
    let week = Week::containing(jiff::Timestamp::from_second(1_795_392_000).expect("time"));
    let path = format!("/api/v1/org/scorecard?week={week}");
    let started = Instant::now();
    let (status, card, _) = f.send("GET", &path, &key, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(card["sector"]["organisations"], orgs);
    println!(
        "scorecard with {orgs} peers, week counted afresh: {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    let (_, again, _) = f.send("GET", &path, &key, vec![]).await;
    println!(
        "the same week, kept (second request): {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(again["score"], card["score"]);
}
