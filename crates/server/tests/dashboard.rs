//! The dashboard through the router: signing in with the form, the overview after a spray,
//! the incident page with a phishing message whose headers carry script, acknowledging
//! with the CSRF token, a viewer who cannot change anything, and another organisation's
//! incident answering 404.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use tocsin_server::{AppState, router};

mod common;

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    key: String,
    other_key: String,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let mut keys = Vec::new();
    for (name, domain) in [("Clinic", "clinic.example"), ("Other", "other.example")] {
        let (org, k) = store
            .create_organisation(&store::NewOrganisation {
                name: name.into(),
                sector: model::Sector::Clinic,
                country: "FR".into(),
                domains: vec![domain.into()],
                webhook_url: None,
                language: store::Language::En,
            })
            .await
            .expect("org");
        keys.push(k);
        for (who, role) in [
            ("admin", store::Role::OrgAdmin),
            ("viewer", store::Role::OrgViewer),
        ] {
            store
                .create_user(&store::NewUser {
                    email: format!("{who}@{domain}"),
                    name: who.into(),
                    password_hash: store::hash_password(PASSWORD).expect("hash"),
                    role,
                    org: Some(org.id),
                })
                .await
                .expect("user");
        }
    }
    let state = common::state(store, Default::default()).await;
    let other_key = keys.pop().expect("Other's key");
    let key = keys.pop().expect("Clinic's key");
    Fixture {
        _dir: dir,
        state,
        key,
        other_key,
    }
}

async fn send(f: &Fixture, request: Request<Body>) -> Answer {
    let response = router(f.state.clone())
        .oneshot(request)
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(f: &Fixture, path: &str, cookie: Option<&str>) -> Answer {
    let mut request = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("tocsin_session={cookie}"));
    }
    send(f, request.body(Body::empty()).expect("request")).await
}

async fn post_form(f: &Fixture, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        // As a browser submits a form.
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("tocsin_session={cookie}"));
    }
    send(
        f,
        request.body(Body::from(form.to_owned())).expect("request"),
    )
    .await
}

/// Signs in with the page's form; the session cookie and the CSRF token of the page the
/// person lands on (the overview, or the console for an operator).
async fn sign_in(f: &Fixture, email: &str) -> (String, String) {
    let answer = post_form(
        f,
        "/login",
        None,
        &format!("email={email}&password={}", PASSWORD.replace(' ', "+")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.headers["location"], "/dashboard");
    let cookie = answer.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("tocsin_session="))
        .expect("session cookie")
        .to_owned();
    let mut page = get(f, "/dashboard", Some(&cookie)).await;
    if page.status == StatusCode::SEE_OTHER && page.headers["location"] == "/console" {
        page = get(f, "/console", Some(&cookie)).await;
    }
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = page
        .text
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token in the page")
        .to_owned();
    (cookie, csrf)
}

/// An operator of the service, signed in: the cookie and the console's CSRF token.
async fn operator(f: &Fixture) -> (String, String) {
    f.state
        .intake
        .store()
        .create_user(&store::NewUser {
            email: "ops@cert.example".into(),
            name: "ops".into(),
            password_hash: store::hash_password(PASSWORD).expect("hash"),
            role: store::Role::Operator,
            org: None,
        })
        .await
        .expect("operator");
    sign_in(f, "ops@cert.example").await
}

async fn push(f: &Fixture, path: &str, content_type: &str, body: Vec<u8>) {
    push_as(f, &f.key, path, content_type, body).await;
}

async fn push_as(f: &Fixture, key: &str, path: &str, content_type: &str, body: Vec<u8>) {
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    let answer = send(f, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

/// Twelve accounts failing from one address within minutes, an hour ago: a password spray.
fn spray() -> Vec<u8> {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let mut lines = String::new();
    for n in 0..12 {
        lines.push_str(&format!(
            "{{\"id\":\"s{n}\",\"createdDateTime\":\"{}\",\"userPrincipalName\":\"staff{n}@clinic.example\",\"ipAddress\":\"203.0.113.77\",\"status\":{{\"errorCode\":50126,\"failureReason\":\"Invalid username or password.\"}},\"clientAppUsed\":\"Browser\",\"appDisplayName\":\"Office 365 Exchange Online\"}}\n",
            start + jiff::SignedDuration::from_mins(n)
        ));
    }
    lines.into_bytes()
}

/// The fake-recruiter phishing of the corpus, its subject and sender's name carrying script.
fn hostile_phishing() -> Vec<u8> {
    let raw = scenario::mail_corpus()
        .into_iter()
        .find(|c| c.name == "recruiter-zinc-docm")
        .expect("corpus case")
        .raw;
    let text = String::from_utf8(raw).expect("ascii message");
    assert!(
        text.contains("Subject: Job offer"),
        "the corpus message changed"
    );
    text.replacen(
        "Subject: Job offer",
        "Subject: <script>alert(1)</script> Job offer",
        1,
    )
    .replacen(
        "Senior Recruiter at Boeing",
        "Senior Recruiter at Boeing <img src=x onerror=alert(2)>",
        1,
    )
    .into_bytes()
}

#[tokio::test]
async fn pages_need_a_session_and_allow_no_inline_script() {
    let f = fixture().await;
    let answer = get(&f, "/dashboard", None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers["location"], "/login");
    let login = get(&f, "/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    let policy = login.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        policy.contains("default-src 'none'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert!(
        login.text.contains("<label for=\"email\">")
            && login.text.contains("<label for=\"password\">")
    );
    let failed = post_form(
        &f,
        "/login",
        None,
        "email=admin%40clinic.example&password=wrong",
    )
    .await;
    assert_eq!(failed.status, StatusCode::SEE_OTHER);
    assert_eq!(failed.headers["location"], "/login?failed=1");
    assert!(
        get(&f, "/login?failed=1", None)
            .await
            .text
            .contains("wrong password")
    );
    // An API key opens no page: pages are for people.
    let request = Request::builder()
        .uri("/dashboard")
        .header("authorization", format!("Bearer {}", f.key))
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(&f, request).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_admin_sees_the_attack_opens_it_and_acknowledges_it_and_hostile_headers_stay_text() {
    let f = fixture().await;
    let (cookie, csrf) = sign_in(&f, "admin@clinic.example").await;
    let empty = get(&f, "/dashboard", Some(&cookie)).await;
    assert!(empty.text.contains("No open incident."), "{}", empty.text);

    push(&f, "/api/v1/signins", "application/x-ndjson", spray()).await;
    push(&f, "/api/v1/mail", "message/rfc822", hostile_phishing()).await;

    let overview = get(&f, "/dashboard", Some(&cookie)).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.text.contains("2 open incidents"),
        "{}",
        overview.text
    );
    assert!(overview.text.contains("password spray"));
    // The chart has the twelve failures in one hour, and the spray marked.
    assert!(
        overview.text.contains("12 failed sign-ins"),
        "{}",
        overview.text
    );
    assert!(overview.text.contains("class=\"marker\""));
    assert!(
        overview
            .text
            .contains("<td>203.0.113.77</td><td class=\"num\">12</td>")
    );
    assert!(overview.text.contains("staff0@clinic.example"));
    assert!(!overview.text.contains("<script>"), "script reached a page");
    assert!(
        !overview.text.contains("<img src=x"),
        "markup reached a page"
    );

    // Open each incident from the overview's links.
    let ids: Vec<String> = overview
        .text
        .split("href=\"/dashboard/incidents/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    let mut phishing = None;
    let mut spray_id = None;
    for id in &ids {
        let page = get(&f, &format!("/dashboard/incidents/{id}"), Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("<script>") && !page.text.contains("<img src=x"));
        if page.text.contains("phishing") && page.text.contains("Messages (1)") {
            phishing = Some(page);
        } else {
            spray_id = Some(id.clone());
        }
    }
    let phishing = phishing.expect("the phishing incident's page");
    // askama writes `<` as `&#60;`: read both spellings alike.
    let shown = phishing
        .text
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;");
    assert!(
        shown.contains("<dd class=\"subject\">&lt;script&gt;alert(1)&lt;/script&gt; Job offer"),
        "{shown}"
    );
    assert!(shown.contains("Boeing &lt;img src=x onerror=alert(2)&gt;"));
    assert!(phishing.text.contains("attachment_macro"));

    // Acknowledge the spray: without the CSRF token refused, with it done.
    let spray_id = spray_id.expect("the spray incident");
    let path = format!("/dashboard/incidents/{spray_id}/acknowledge");
    let refused = post_form(&f, &path, Some(&cookie), "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let done = post_form(&f, &path, Some(&cookie), &format!("csrf_token={csrf}")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let page = get(
        &f,
        &format!("/dashboard/incidents/{spray_id}"),
        Some(&cookie),
    )
    .await;
    assert!(
        page.text.contains("<dd id=\"state\">acknowledged</dd>"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("id=\"acknowledge\""));
    assert!(page.text.contains("id=\"resolve\""));

    // A viewer sees the incident but no button, and cannot change it.
    let (viewer, viewer_csrf) = sign_in(&f, "viewer@clinic.example").await;
    let seen = get(
        &f,
        &format!("/dashboard/incidents/{spray_id}"),
        Some(&viewer),
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.text.contains("id=\"resolve\""));
    let tried = post_form(
        &f,
        &format!("/dashboard/incidents/{spray_id}/resolve"),
        Some(&viewer),
        &format!("csrf_token={viewer_csrf}"),
    )
    .await;
    assert_eq!(tried.status, StatusCode::FORBIDDEN);

    // Another organisation's admin: 404 on every one of these incidents.
    let (other, other_csrf) = sign_in(&f, "admin@other.example").await;
    for id in &ids {
        let theirs = get(&f, &format!("/dashboard/incidents/{id}"), Some(&other)).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert!(!theirs.text.contains("clinic.example"));
        let tried = post_form(
            &f,
            &format!("/dashboard/incidents/{id}/resolve"),
            Some(&other),
            &format!("csrf_token={other_csrf}"),
        )
        .await;
        assert_eq!(tried.status, StatusCode::NOT_FOUND);
    }
    let theirs = get(&f, "/dashboard", Some(&other)).await;
    assert!(theirs.text.contains("No open incident.") && !theirs.text.contains("203.0.113.77"));
}

#[tokio::test]
async fn settings_show_domain_proofs_channels_and_keys_and_send_a_test() {
    let f = fixture().await;
    // A domain claimed through the API waits for its TXT record.
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/org/domains")
        .header("authorization", format!("Bearer {}", f.key))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"domain": "new-clinic.example"}"#))
        .expect("request");
    let claimed = send(&f, request).await;
    assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.text);

    let (cookie, csrf) = sign_in(&f, "admin@clinic.example").await;
    let page = get(&f, "/dashboard/settings", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("<td>clinic.example</td><td>proved (operator"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<code>_tocsin.new-clinic.example</code> = <code>tocsin-verification=")
    );
    assert!(page.text.contains("<dd id=\"webhook\">none</dd>"));
    // The key the organisation was enrolled with, by its prefix only.
    let prefix = &f.key[..12];
    assert!(
        page.text.contains(&format!("<code>{prefix}…</code>")),
        "{}",
        page.text
    );
    assert!(!page.text.contains(&f.key));

    // No channel: the test says so, nothing is queued.
    let nothing = post_form(
        &f,
        "/dashboard/settings/test",
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(nothing.status, StatusCode::SEE_OTHER);
    assert_eq!(
        nothing.headers["location"],
        "/dashboard/settings?error=no-channel"
    );
    let said = get(&f, "/dashboard/settings?error=no-channel", Some(&cookie)).await;
    assert!(said.text.contains("Nothing was sent"));

    // With a webhook, one test notification is queued.
    let org = f
        .state
        .intake
        .store()
        .organisations()
        .await
        .expect("organisations")
        .into_iter()
        .find(|o| o.name == "Clinic")
        .expect("Clinic")
        .id;
    f.state
        .intake
        .store()
        .set_webhook(org, Some("https://hooks.clinic.example/tocsin"))
        .await
        .expect("webhook");
    let sent = post_form(
        &f,
        "/dashboard/settings/test",
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(sent.headers["location"], "/dashboard/settings?sent=1");
    let queued = f
        .state
        .intake
        .store()
        .due_deliveries(
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
            100,
        )
        .await
        .expect("outbox");
    assert_eq!(
        queued
            .iter()
            .filter(|d| d.event == "notification.test" && d.org == org)
            .count(),
        1
    );

    // A key is made from the page, shown once, works, and is revoked from the page.
    let made = post_form(
        &f,
        "/dashboard/settings/keys",
        Some(&cookie),
        &format!("csrf_token={csrf}&label=log+shipper"),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.headers["cache-control"], "no-store");
    let new_key = made
        .text
        .split("<code id=\"api-key\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new key")
        .to_owned();
    let uses = |key: String| {
        Request::builder()
            .uri("/api/v1/org")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(send(&f, uses(new_key.clone())).await.status, StatusCode::OK);
    let listed = get(&f, "/dashboard/settings", Some(&cookie)).await;
    assert!(listed.text.contains("<td>log shipper</td>") && !listed.text.contains(&new_key));
    let revoked = post_form(
        &f,
        &format!("/dashboard/settings/keys/{}/revoke", &new_key[..12]),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text);
    assert_eq!(
        send(&f, uses(new_key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unlabelled = post_form(
        &f,
        "/dashboard/settings/keys",
        Some(&cookie),
        &format!("csrf_token={csrf}&label="),
    )
    .await;
    assert_eq!(unlabelled.status, StatusCode::BAD_REQUEST);

    // A staff member's personal address is invited from the page.
    let invited = post_form(
        &f,
        "/dashboard/settings/personal",
        Some(&cookie),
        &format!("csrf_token={csrf}&email=ana.silva%40personal.example"),
    )
    .await;
    assert_eq!(invited.headers["location"], "/dashboard/settings?invited=1");
    let page = get(&f, "/dashboard/settings?invited=1", Some(&cookie)).await;
    assert!(
        page.text
            .contains("<td>ana.silva@personal.example</td><td>invited, waiting until"),
        "{}",
        page.text
    );
    assert!(page.text.contains("The invitation is on its way"));
    let bad = post_form(
        &f,
        "/dashboard/settings/personal",
        Some(&cookie),
        &format!("csrf_token={csrf}&email=not-an-address"),
    )
    .await;
    assert_eq!(
        bad.headers["location"],
        "/dashboard/settings?error=invitation"
    );

    // A viewer sees the settings without keys or the button, and cannot send.
    let (viewer, viewer_csrf) = sign_in(&f, "viewer@clinic.example").await;
    let seen = get(&f, "/dashboard/settings", Some(&viewer)).await;
    assert!(!seen.text.contains("id=\"send-test\"") && !seen.text.contains(prefix));
    let tried = post_form(
        &f,
        "/dashboard/settings/test",
        Some(&viewer),
        &format!("csrf_token={viewer_csrf}"),
    )
    .await;
    assert_eq!(tried.status, StatusCode::FORBIDDEN);
    let tried = post_form(
        &f,
        "/dashboard/settings/keys",
        Some(&viewer),
        &format!("csrf_token={viewer_csrf}&label=mine"),
    )
    .await;
    assert_eq!(tried.status, StatusCode::FORBIDDEN);
    assert!(!seen.text.contains("id=\"make-key\""));
}

#[tokio::test]
async fn the_operator_console_shows_every_organisations_health_and_retries_a_dead_notification() {
    let f = fixture().await;
    let store = f.state.intake.store().clone();
    push(&f, "/api/v1/signins", "application/x-ndjson", spray()).await;

    // An operator signing in lands on the console; an organisation's admin cannot open it.
    let (cookie, _) = operator(&f).await;
    let to_console = get(&f, "/dashboard", Some(&cookie)).await;
    assert_eq!(to_console.headers["location"], "/console");
    let console = get(&f, "/console", Some(&cookie)).await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.text);
    let clinic_row = console
        .text
        .split("<tr>")
        .find(|row| row.contains("<td>Clinic "))
        .expect("the Clinic's row");
    assert!(
        clinic_row.contains("arriving") && clinic_row.contains("<td class=\"num\">1</td>"),
        "{clinic_row}"
    );
    let other_row = console
        .text
        .split("<tr>")
        .find(|row| row.contains("<td>Other "))
        .expect("Other's row");
    assert!(
        other_row.contains("nothing in 24 h") && other_row.contains("none yet"),
        "{other_row}"
    );
    assert!(
        console
            .text
            .contains("None: every notification was delivered")
    );
    assert!(
        console
            .text
            .contains("No open attack is seen at more than one organisation.")
    );
    assert!(
        console.text.contains("<td>Forest Blizzard</td>"),
        "the actor catalogue is listed"
    );

    // The same network sprays the other organisation: one campaign, two victims.
    push_as(
        &f,
        &f.other_key,
        "/api/v1/signins",
        "application/x-ndjson",
        spray(),
    )
    .await;
    let console = get(&f, "/console", Some(&cookie)).await;
    let campaign = console
        .text
        .split("<tr>")
        .find(|row| row.contains("<code>password_spray:"))
        .unwrap_or_else(|| panic!("no shared campaign: {}", console.text));
    assert!(
        campaign.contains("<td>Clinic, Other</td><td class=\"num\">2</td>"),
        "{campaign}"
    );
    let (admin, _) = sign_in(&f, "admin@clinic.example").await;
    assert_eq!(
        get(&f, "/console", Some(&admin)).await.headers["location"],
        "/dashboard"
    );

    // A notification given up on shows with a Retry button that puts it back.
    let org = store.organisations().await.expect("orgs")[0].id;
    store
        .enqueue(&store::NewDelivery {
            delivery_id: "dead-1".into(),
            org,
            incident_id: None,
            channel: "webhook".into(),
            target: None,
            event: "notification.test".into(),
            payload: "{}".into(),
            not_before: jiff::Timestamp::now(),
        })
        .await
        .expect("enqueue");
    let row = store
        .due_deliveries(jiff::Timestamp::now(), 10)
        .await
        .expect("due")[0]
        .id;
    store
        .mark_failed(row, "HTTP 500 from the receiver", None)
        .await
        .expect("dead");
    let console = get(&f, "/console", Some(&cookie)).await;
    assert!(
        console.text.contains("HTTP 500 from the receiver"),
        "{}",
        console.text
    );
    let csrf = console
        .text
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf")
        .to_owned();
    let retried = post_form(
        &f,
        &format!("/console/deliveries/{row}/retry"),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.text);
    assert!(store.dead_deliveries(10).await.expect("dead").is_empty());
}

#[tokio::test]
async fn the_incident_page_filters_its_sign_ins_shows_the_timeline_and_takes_a_false_positive_with_its_reason()
 {
    let f = fixture().await;
    let (cookie, csrf) = sign_in(&f, "admin@clinic.example").await;
    push(&f, "/api/v1/signins", "application/x-ndjson", spray()).await;
    let overview = get(&f, "/dashboard", Some(&cookie)).await;
    let id = overview
        .text
        .split("href=\"/dashboard/incidents/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the spray's link")
        .to_owned();
    let path = format!("/dashboard/incidents/{id}");

    let all = get(&f, &path, Some(&cookie)).await;
    assert!(all.text.contains("Sign-ins (12)"), "{}", all.text);
    assert_eq!(all.text.matches("<td>203.0.113.77</td>").count(), 12);
    // staff1, staff10 and staff11.
    let some = get(&f, &format!("{path}?account=STAFF1&source="), Some(&cookie)).await;
    assert!(some.text.contains("Sign-ins (3 of 12)"), "{}", some.text);
    assert_eq!(some.text.matches("<td>203.0.113.77</td>").count(), 3);
    assert!(some.text.contains("value=\"STAFF1\""));
    let none = get(&f, &format!("{path}?source=198.51.100.1"), Some(&cookie)).await;
    assert!(none.text.contains("Sign-ins (0 of 12)"));
    // The checklist and the timeline (opened by tocsin).
    assert!(
        all.text
            .contains("<input type=\"checkbox\" id=\"action-1\"> <label for=\"action-1\">")
    );
    assert!(
        all.text
            .contains("<td>detection</td><td>tocsin</td><td>detection opened</td>"),
        "{}",
        all.text
    );

    // "Not an attack" needs its reason; with it, the state and the timeline say so.
    let bare = post_form(
        &f,
        &format!("{path}/false-positive"),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    let done = post_form(
        &f,
        &format!("{path}/false-positive"),
        Some(&cookie),
        &format!("csrf_token={csrf}&reason=our+own+<b>scanner</b>"),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let page = get(&f, &path, Some(&cookie)).await;
    assert!(
        page.text.contains("<dd id=\"state\">false_positive</dd>"),
        "{}",
        page.text
    );
    let shown = page.text.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
    assert!(
        shown.contains("reason: our own &lt;b&gt;scanner&lt;/b&gt;"),
        "{shown}"
    );
    assert!(
        !page.text.contains("id=\"resolve\""),
        "a closed incident has no buttons"
    );
}

#[tokio::test]
async fn the_enrolment_queue_is_decided_from_the_console_and_the_new_key_is_shown_once() {
    let f = fixture().await;
    for name in ["Delta Hospice", "Echo <Lab>"] {
        let request = Request::builder()
            .method("POST")
            .uri("/api/v1/applications")
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::json!({
                    "name": name, "sector": "hospital", "country": "FR",
                    "contacts": [{ "name": "Dana", "email": "dana@delta-hospice.example" }],
                    "domains": ["delta-hospice.example"],
                })
                .to_string(),
            ))
            .expect("request");
        let applied = send(&f, request).await;
        assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text);
    }
    let (cookie, _) = operator(&f).await;
    let console = get(&f, "/console", Some(&cookie)).await;
    assert!(console.text.contains("<td>Delta Hospice</td>"));
    let shown = console
        .text
        .replace("&#60;", "&lt;")
        .replace("&#62;", "&gt;");
    assert!(
        shown.contains("<td>Echo &lt;Lab&gt;</td>"),
        "an applicant's name is text"
    );
    let csrf = console
        .text
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf")
        .to_owned();
    let ids: Vec<String> = console
        .text
        .split("action=\"/console/applications/")
        .skip(1)
        .filter_map(|rest| rest.split('/').next().map(str::to_owned))
        .collect();
    let (delta, echo) = (&ids[0], &ids[2]);

    let approved = post_form(
        &f,
        &format!("/console/applications/{delta}/approve"),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.text);
    assert_eq!(approved.headers["cache-control"], "no-store");
    let key = approved
        .text
        .split("<code id=\"api-key\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key, once")
        .to_owned();
    assert!(
        approved
            .text
            .contains("<code>_tocsin.delta-hospice.example</code>")
    );
    // The key works for the new organisation.
    let request = Request::builder()
        .uri("/api/v1/org")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .expect("request");
    let own = send(&f, request).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(own.text.contains("Delta Hospice"));
    // Approving twice is refused; a rejection needs its reason.
    let again = post_form(
        &f,
        &format!("/console/applications/{delta}/approve"),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bare = post_form(
        &f,
        &format!("/console/applications/{echo}/reject"),
        Some(&cookie),
        &format!("csrf_token={csrf}"),
    )
    .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    let rejected = post_form(
        &f,
        &format!("/console/applications/{echo}/reject"),
        Some(&cookie),
        &format!("csrf_token={csrf}&reason=not+a+health+organisation"),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    assert!(
        get(&f, "/console", Some(&cookie))
            .await
            .text
            .contains("No application waits.")
    );
    // An organisation's admin cannot decide.
    let (admin, admin_csrf) = sign_in(&f, "admin@clinic.example").await;
    let tried = post_form(
        &f,
        &format!("/console/applications/{echo}/approve"),
        Some(&admin),
        &format!("csrf_token={admin_csrf}"),
    )
    .await;
    assert_eq!(tried.status, StatusCode::SEE_OTHER);
    assert_eq!(tried.headers["location"], "/dashboard");
}

/// Graph sign-ins of three staff in W48 2026: one with MFA, one with a security key, one
/// with a password alone.
fn staff_week() -> Vec<u8> {
    use model::Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    [
        ("a@clinic.example", MultiFactor),
        ("b@clinic.example", PhishingResistant),
        ("c@clinic.example", SingleFactor),
    ]
    .iter()
    .enumerate()
    .map(|(n, (account, strength))| {
        scenario::render_graph(&model::SignIn {
            time: format!("2026-11-24T09:0{n}:00Z").parse().expect("time"),
            account: (*account).into(),
            source_ip: Some("192.0.2.10".parse().expect("ip")),
            outcome: model::Outcome::Success,
            failure_kind: None,
            protocol: model::Protocol::Browser,
            app: None,
            result_code: None,
            reason: None,
            record_id: Some(format!("w48-{n}")),
            country: None,
            asn: None,
            user_agent: None,
            authentication: Some(*strength),
            format: model::Format::EntraGraph,
            origin: model::Origin::RequestLine {
                request: "t".into(),
                line: n as u64,
            },
        }) + "\n"
    })
    .collect::<String>()
    .into_bytes()
}

#[tokio::test]
async fn the_scorecard_page_and_the_monthly_report_show_the_week_and_hold_back_a_small_sector() {
    let f = fixture().await;
    push(&f, "/api/v1/signins", "application/json", staff_week()).await;
    let page = get(&f, "/dashboard/scorecard?week=2026-W48", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "pages need a session");
    let (cookie, _) = sign_in(&f, "admin@clinic.example").await;

    let page = get(&f, "/dashboard/scorecard?week=2026-W48", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Security scorecard, week 2026-W48"));
    assert!(
        page.text
            .contains("<a href=\"/dashboard/scorecard\">Scorecard</a>")
    );
    // (20·66.7 + 10·50 + 15·100 + 10·50 + 5·0) / 60 = 63.9, grade D.
    assert!(
        page.text.contains("class=\"points\">63.9<"),
        "{}",
        page.text
    );
    assert!(page.text.contains("aria-label=\"grade D\""));
    assert!(
        page.text
            .contains("<td>Accounts always using MFA</td><td class=\"num\">66.7 %</td>")
    );
    assert!(
        page.text
            .contains("<td>MFA that is phishing-resistant</td><td class=\"num\">50.0 %</td>")
    );
    assert!(
        page.text
            .contains("1 of 3 accounts signed in with a password alone")
    );
    assert!(page.text.contains("<svg class=\"chart trend\""));
    assert!(page.text.contains("<title>2026-W48: 63.9 (D)</title>"));
    assert!(
        page.text
            .contains("2 organisation(s) of your sector are enrolled, and no figure has five yet")
    );
    assert!(
        !page.text.contains("chart peers"),
        "no sector figures below five"
    );

    assert!(page.text.contains("/dashboard/report?month=2026-11\""));
    // 2026-W49 starts on 30 November but its Thursday is in December, as is its report.
    let w49 = get(&f, "/dashboard/scorecard?week=2026-W49", Some(&cookie)).await;
    assert!(
        w49.text.contains("/dashboard/report?month=2026-12\""),
        "{}",
        w49.text
    );

    let report = get(&f, "/dashboard/report?month=2026-11", Some(&cookie)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert!(
        report
            .text
            .contains("Security report: Clinic, November 2026")
    );
    let weeks: Vec<&str> = report
        .text
        .split("<th scope=\"col\" class=\"num\">")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .collect();
    assert_eq!(weeks, ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]);
    assert!(report.text.contains("<td class=\"num\">63.9 (D)</td>"));
    assert!(report.text.contains("66.7 %"));
    assert!(
        report.headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'none'")
    );
    let bad = get(&f, "/dashboard/report?month=November", Some(&cookie)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The other organisation's people see their own (empty) week.
    let (other, _) = sign_in(&f, "admin@other.example").await;
    let page = get(&f, "/dashboard/scorecard?week=2026-W48", Some(&other)).await;
    assert!(
        page.text
            .contains("<td>Accounts always using MFA</td><td class=\"num\">not measured</td>")
    );

    // The operator's sector view: two clinics, so no figure and no name.
    let (ops, _) = operator(&f).await;
    let sectors = get(
        &f,
        "/console/scorecards?week=2026-W48&sector=clinic",
        Some(&ops),
    )
    .await;
    assert_eq!(sectors.status, StatusCode::OK, "{}", sectors.text);
    assert!(
        sectors.text.contains(
            "<td>clinic</td><td class=\"num\">2</td><td class=\"num\">fewer than five scored</td>"
        ),
        "{}",
        sectors.text
    );
    assert!(
        sectors
            .text
            .contains("Not shown: 2 organisation(s) enrolled")
    );
    assert!(
        !sectors.text.contains("Clinic<") && !sectors.text.contains("Other<"),
        "no organisation named"
    );
    let refused = get(&f, "/console/scorecards", Some(&cookie)).await;
    assert_eq!(
        refused.status,
        StatusCode::SEE_OTHER,
        "an organisation's admin is sent home"
    );
}
