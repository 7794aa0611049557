//! People, sessions, keys and personal addresses, through HTTP against the service on a
//! real socket: what a browser and a machine see.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

use tocsin_server::HttpConfig;

mod common;

const PASSWORD: &str = "correct horse battery staple";

struct Service {
    dir: tempfile::TempDir,
    base: String,
    client: reqwest::Client,
    /// Organisation A (Echo Clinic) and B (Foxtrot Lab), with a key each.
    org_a: model::OrgId,
    key_a: String,
    org_b: model::OrgId,
    key_b: String,
    operator_key: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn org(store: &store::Store, name: &str, domain: &str) -> (model::OrgId, String) {
    let (org, key) = store
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
    (org.id, key)
}

async fn user(store: &store::Store, email: &str, role: store::Role, org: Option<model::OrgId>) {
    store
        .create_user(&store::NewUser {
            email: email.into(),
            name: String::new(),
            password_hash: store::hash_password(PASSWORD).expect("hash"),
            role,
            org,
        })
        .await
        .expect("user");
}

async fn service(http: HttpConfig) -> Service {
    notify::webhook::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open(dir.path()).await.expect("store");
    let (org_a, key_a) = org(&store, "Echo Clinic", "echo.example").await;
    let (org_b, key_b) = org(&store, "Foxtrot Lab", "foxtrot.example").await;
    let operator_key = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator key");
    user(&store, "root@cert.example", store::Role::Operator, None).await;
    user(
        &store,
        "ana@echo.example",
        store::Role::OrgAdmin,
        Some(org_a),
    )
    .await;
    user(
        &store,
        "vic@echo.example",
        store::Role::OrgViewer,
        Some(org_a),
    )
    .await;
    user(
        &store,
        "bo@foxtrot.example",
        store::Role::OrgAdmin,
        Some(org_b),
    )
    .await;
    let mut state = common::state(store.clone(), Default::default()).await;
    state.http = http;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(tocsin_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Service {
        dir,
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        org_a,
        key_a,
        org_b,
        key_b,
        operator_key,
        _stop: stop,
    }
}

/// A signed-in browser: the cookie and the CSRF token its pages know.
struct Browser {
    cookie: String,
    csrf: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Service {
    async fn send(&self, method: &str, path: &str, auth: Auth<'_>, body: Option<Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Key(key) => request = request.bearer_auth(key),
            Auth::Browser(browser) => {
                request = request
                    .header("cookie", format!("tocsin_session={}", browser.cookie))
                    .header("x-csrf-token", &browser.csrf);
            }
            Auth::CookieOnly(browser) => {
                request = request.header("cookie", format!("tocsin_session={}", browser.cookie));
            }
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        answer(request.send().await.expect("send")).await
    }

    async fn form(&self, path: &str, cookie: Option<&str>, body: &str) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("tocsin_session={cookie}"));
        }
        answer(request.send().await.expect("send")).await
    }

    async fn login(&self, email: &str) -> Browser {
        let answer = self
            .send(
                "POST",
                "/login",
                Auth::None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        Browser {
            cookie: session_cookie(&answer.headers).expect("session cookie"),
            csrf: answer.body["csrf_token"]
                .as_str()
                .expect("csrf token")
                .to_owned(),
        }
    }

    /// The service's database, read as an auditor would.
    async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!(
            "sqlite:{}",
            self.dir.path().join(store::Store::DATABASE_FILE).display()
        ))
        .await
        .expect("db")
    }

    async fn sql_count(&self, sql: &str, org: model::OrgId) -> i64 {
        let pool = self.db().await;
        let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(org.0)
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        count
    }
}

enum Auth<'a> {
    None,
    Key(&'a str),
    Browser(&'a Browser),
    CookieOnly(&'a Browser),
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

fn set_cookie(headers: &HeaderMap) -> String {
    headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned()
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let header = headers.get(SET_COOKIE)?.to_str().ok()?;
    let value = header.strip_prefix("tocsin_session=")?.split(';').next()?;
    Some(value.to_owned())
}

#[tokio::test]
async fn a_password_signs_in_with_a_strict_http_only_cookie_and_a_wrong_one_does_not() {
    let s = service(HttpConfig::default()).await;
    let good = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "Ana@Echo.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    let cookie = set_cookie(&good.headers);
    assert!(cookie.starts_with("tocsin_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not mark Secure: {cookie}"
    );
    assert_eq!(good.body["role"], "org_admin");
    assert_eq!(good.body["actor"], "user:ana@echo.example");

    let browser = Browser {
        cookie: session_cookie(&good.headers).expect("cookie"),
        csrf: good.body["csrf_token"].as_str().expect("csrf").to_owned(),
    };
    let me = s
        .send("GET", "/api/v1/session", Auth::CookieOnly(&browser), None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["org"], s.org_a.0);
    assert_eq!(me.body["csrf_token"], browser.csrf.as_str());
    // The session reads the organisation's data as its key does.
    let org = s
        .send("GET", "/api/v1/org", Auth::CookieOnly(&browser), None)
        .await;
    assert_eq!(org.status, StatusCode::OK, "{}", org.text);
    assert_eq!(org.body["name"], "Echo Clinic");

    let wrong = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "ana@echo.example", "password": "not the password"})),
        )
        .await;
    let unknown = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "nobody@echo.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.text, unknown.text,
        "an unknown address must look like a wrong password"
    );
    assert!(wrong.headers.get(SET_COOKIE).is_none());

    // A form sign-in works as the JSON one.
    let form = s
        .form(
            "/login",
            None,
            "email=vic%40echo.example&password=correct+horse+battery+staple",
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert_eq!(form.body["role"], "org_viewer");

    // Logging out ends the session on the server, not only in the browser.
    let out = s
        .send("POST", "/logout", Auth::Browser(&browser), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert!(set_cookie(&out.headers).contains("Max-Age=0"));
    let after = s
        .send("GET", "/api/v1/session", Auth::CookieOnly(&browser), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookies_are_secure_when_the_service_is_reached_over_tls() {
    let s = service(HttpConfig {
        public_url: "https://tocsin.cert.example".into(),
        ..HttpConfig::default()
    })
    .await;
    let good = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "ana@echo.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK);
    assert!(
        set_cookie(&good.headers).contains("; Secure"),
        "{}",
        set_cookie(&good.headers)
    );
}

#[tokio::test]
async fn a_change_by_cookie_needs_the_csrf_token_and_a_change_by_key_does_not() {
    let s = service(HttpConfig::default()).await;
    let browser = s.login("ana@echo.example").await;
    let body = json!({"label": "syslog forwarder"});

    let missing = s
        .send(
            "POST",
            "/api/v1/org/keys",
            Auth::CookieOnly(&browser),
            Some(body.clone()),
        )
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", missing.text);
    let forged = Browser {
        cookie: browser.cookie.clone(),
        csrf: "0".repeat(64),
    };
    let wrong = s
        .send(
            "POST",
            "/api/v1/org/keys",
            Auth::Browser(&forged),
            Some(body.clone()),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);

    let with_token = s
        .send(
            "POST",
            "/api/v1/org/keys",
            Auth::Browser(&browser),
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        with_token.status,
        StatusCode::CREATED,
        "{}",
        with_token.text
    );
    assert_eq!(with_token.body["created_by"], "user:ana@echo.example");

    let by_key = s
        .send("POST", "/api/v1/org/keys", Auth::Key(&s.key_a), Some(body))
        .await;
    assert_eq!(by_key.status, StatusCode::CREATED, "{}", by_key.text);

    // An HTML form may carry the token as a field instead of the header.
    let form_without = s
        .form("/logout", Some(&browser.cookie), "nothing=here")
        .await;
    assert_eq!(
        form_without.status,
        StatusCode::FORBIDDEN,
        "{}",
        form_without.text
    );
    let form_with = s
        .form(
            "/logout",
            Some(&browser.cookie),
            &format!("csrf_token={}", browser.csrf),
        )
        .await;
    assert_eq!(
        form_with.status,
        StatusCode::NO_CONTENT,
        "{}",
        form_with.text
    );
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_change() {
    let s = service(HttpConfig::default()).await;
    let viewer = s.login("vic@echo.example").await;
    let read = s
        .send("GET", "/api/v1/org/users", Auth::Browser(&viewer), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.body.as_array().map(Vec::len), Some(2), "{}", read.text);
    let incidents = s
        .send("GET", "/api/v1/incidents", Auth::Browser(&viewer), None)
        .await;
    assert_eq!(incidents.status, StatusCode::OK, "{}", incidents.text);

    let add = s
        .send(
            "POST",
            "/api/v1/org/users",
            Auth::Browser(&viewer),
            Some(json!({"email": "eve@echo.example", "password": PASSWORD, "role": "org_admin"})),
        )
        .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN, "{}", add.text);
    let key = s
        .send(
            "POST",
            "/api/v1/org/keys",
            Auth::Browser(&viewer),
            Some(json!({"label": "mine"})),
        )
        .await;
    assert_eq!(key.status, StatusCode::FORBIDDEN, "{}", key.text);
    let webhook = s
        .send(
            "PUT",
            "/api/v1/org/webhook",
            Auth::Browser(&viewer),
            Some(json!({"url": null})),
        )
        .await;
    assert_eq!(webhook.status, StatusCode::FORBIDDEN, "{}", webhook.text);
    let keys = s
        .send("GET", "/api/v1/org/keys", Auth::Browser(&viewer), None)
        .await;
    assert_eq!(keys.status, StatusCode::FORBIDDEN, "{}", keys.text);
    // The webhook secret forges notifications: an admin's, never a viewer's.
    let secret = s
        .send(
            "GET",
            "/api/v1/org/webhook/secret",
            Auth::Browser(&viewer),
            None,
        )
        .await;
    assert_eq!(secret.status, StatusCode::FORBIDDEN, "{}", secret.text);
    let recipients = s
        .send(
            "GET",
            "/api/v1/org/recipients",
            Auth::Browser(&viewer),
            None,
        )
        .await;
    assert_eq!(recipients.status, StatusCode::OK, "{}", recipients.text);
    let timeline = s
        .send("GET", "/api/v1/org/settings", Auth::Browser(&viewer), None)
        .await;
    assert_eq!(timeline.status, StatusCode::OK, "{}", timeline.text);
}

#[tokio::test]
async fn an_admin_manages_users_of_its_own_organisation_only() {
    let s = service(HttpConfig::default()).await;
    let ana = s.login("ana@echo.example").await;
    let bo = s.login("bo@foxtrot.example").await;

    let created = s
        .send(
            "POST",
            "/api/v1/org/users",
            Auth::Browser(&ana),
            Some(json!({"email": "Cy@Echo.example", "name": "Cy", "password": PASSWORD, "role": "org_viewer"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["email"], "cy@echo.example");
    assert_eq!(created.body["org"], s.org_a.0);
    let id = created.body["id"].as_i64().expect("id");

    // The password is kept as an argon2id hash, never as itself.
    let pool = s.db().await;
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("hash");
    pool.close().await;
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains(PASSWORD));

    let short = s
        .send(
            "POST",
            "/api/v1/org/users",
            Auth::Browser(&ana),
            Some(
                json!({"email": "dee@echo.example", "password": "too short", "role": "org_viewer"}),
            ),
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text);
    let operator = s
        .send(
            "POST",
            "/api/v1/org/users",
            Auth::Browser(&ana),
            Some(json!({"email": "dee@echo.example", "password": PASSWORD, "role": "operator"})),
        )
        .await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN, "{}", operator.text);

    // Organisation B sees none of A's users and cannot disable them.
    let listed = s
        .send("GET", "/api/v1/org/users", Auth::Browser(&bo), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let emails: Vec<&str> = listed
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, ["bo@foxtrot.example"]);
    let foreign = s
        .send(
            "DELETE",
            &format!("/api/v1/org/users/{id}"),
            Auth::Browser(&bo),
            None,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    let foreign_key = s
        .send(
            "DELETE",
            &format!("/api/v1/org/users/{id}"),
            Auth::Key(&s.key_b),
            None,
        )
        .await;
    assert_eq!(
        foreign_key.status,
        StatusCode::NOT_FOUND,
        "{}",
        foreign_key.text
    );

    // A disabled user cannot sign in, and the sessions it had end.
    let cy = s.login("cy@echo.example").await;
    let disabled = s
        .send(
            "DELETE",
            &format!("/api/v1/org/users/{id}"),
            Auth::Browser(&ana),
            None,
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert!(disabled.body["disabled_at"].is_string());
    let gone = s
        .send("GET", "/api/v1/session", Auth::Browser(&cy), None)
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    let again = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "cy@echo.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // Only an operator lists everyone; an organisation's admin may not.
    let root = s.login("root@cert.example").await;
    let all = s
        .send("GET", "/api/v1/users", Auth::Browser(&root), None)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.body.as_array().map(Vec::len), Some(5));
    let not_operator = s
        .send("GET", "/api/v1/users", Auth::Browser(&ana), None)
        .await;
    assert_eq!(not_operator.status, StatusCode::FORBIDDEN);
    let by_operator_key = s
        .send(
            "POST",
            "/api/v1/users",
            Auth::Key(&s.operator_key),
            Some(json!({"email": "dan@foxtrot.example", "password": PASSWORD, "role": "org_viewer", "org_id": s.org_b.0})),
        )
        .await;
    assert_eq!(
        by_operator_key.status,
        StatusCode::CREATED,
        "{}",
        by_operator_key.text
    );
    // An operator acts for no organisation through the organisation API.
    let operator_org = s
        .send("GET", "/api/v1/org/users", Auth::Browser(&root), None)
        .await;
    assert_eq!(operator_org.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn keys_are_listed_with_last_use_revoked_and_kept_to_their_organisation() {
    let s = service(HttpConfig::default()).await;
    let ana = s.login("ana@echo.example").await;
    let created = s
        .send(
            "POST",
            "/api/v1/org/keys",
            Auth::Browser(&ana),
            Some(json!({"label": "postfix journal"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.body["api_key"].as_str().expect("token").to_owned();
    let prefix = created.body["prefix"].as_str().expect("prefix").to_owned();
    assert!(token.starts_with(&prefix));
    assert!(created.body["last_used_at"].is_null());

    let used = s.send("GET", "/api/v1/org", Auth::Key(&token), None).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text);
    let listed = s
        .send("GET", "/api/v1/org/keys", Auth::Browser(&ana), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let entry = listed
        .body
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["prefix"] == prefix.as_str())
        .expect("new key listed")
        .clone();
    assert_eq!(entry["label"], "postfix journal");
    assert!(entry["last_used_at"].is_string(), "{entry}");
    assert!(entry.get("api_key").is_none() && entry.get("hash").is_none());
    assert!(!listed.text.contains(&token), "a token is shown only once");

    // Organisation B neither sees nor revokes A's keys.
    let b_list = s
        .send("GET", "/api/v1/org/keys", Auth::Key(&s.key_b), None)
        .await;
    assert_eq!(b_list.status, StatusCode::OK);
    assert!(!b_list.text.contains(&prefix), "{}", b_list.text);
    let b_revoke = s
        .send(
            "DELETE",
            &format!("/api/v1/org/keys/{prefix}"),
            Auth::Key(&s.key_b),
            None,
        )
        .await;
    assert_eq!(b_revoke.status, StatusCode::NOT_FOUND, "{}", b_revoke.text);
    let still = s.send("GET", "/api/v1/org", Auth::Key(&token), None).await;
    assert_eq!(still.status, StatusCode::OK);

    let revoke = s
        .send(
            "DELETE",
            &format!("/api/v1/org/keys/{prefix}"),
            Auth::Browser(&ana),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.text);
    let refused = s.send("GET", "/api/v1/org", Auth::Key(&token), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // A's first key still works.
    let first = s
        .send("GET", "/api/v1/org", Auth::Key(&s.key_a), None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_are_refused_with_retry_after() {
    let s = service(HttpConfig::default()).await;
    for _ in 0..5 {
        let wrong = s
            .send(
                "POST",
                "/login",
                Auth::None,
                Some(json!({"email": "ana@echo.example", "password": "guess guess guess"})),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused for this account, for the window.
    let locked = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "ana@echo.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    let retry: u64 = locked
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after seconds");
    assert!((800..=900).contains(&retry), "{retry}");
    // The client address is locked out too, whatever account it tries next.
    let other = s
        .send(
            "POST",
            "/login",
            Auth::None,
            Some(json!({"email": "bo@foxtrot.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(other.status, StatusCode::TOO_MANY_REQUESTS);
}

/// The confirmation link queued for `email`, read from its outbox row.
async fn queued_link(s: &Service, email: &str) -> String {
    let pool = s.db().await;
    let (target, channel, incident, payload): (String, String, Option<String>, String) =
        sqlx::query_as(
            "SELECT target, channel, incident_id, payload FROM outbox WHERE target = ? \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(email)
        .fetch_one(&pool)
        .await
        .expect("outbox row");
    pool.close().await;
    assert_eq!(target, email);
    assert_eq!(channel, "email");
    assert_eq!(incident, None);
    let notice: notify::notice::EmailNotice =
        serde_json::from_str(&payload).expect("an e-mail notice");
    assert!(notice.message_id.starts_with('<') && notice.message_id.ends_with('>'));
    let start = notice
        .text
        .find("http://127.0.0.1:8080/personal/confirm?token=")
        .expect("link in the text");
    let link: String = notice.text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(notice.html.contains(&link.replace('&', "&amp;")));
    link
}

fn token_of(link: &str) -> String {
    link.split_once("token=").expect("token").1.to_owned()
}

const PHISH_TO: &str = "From: \"IT desk\" <it@echo-example.top>\r\nTo: {to}\r\nSubject: Password expires today\r\nMessage-ID: <{id}@echo-example.top>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\n\r\nYour password expires today. Verify your account now at http://echo-example.top/login\r\n";

async fn push_mail(s: &Service, key: &str, to: &str, id: &str) -> Value {
    let raw = PHISH_TO.replace("{to}", to).replace("{id}", id);
    let response = s
        .client
        .post(format!("{}/api/v1/mail", s.base))
        .bearer_auth(key)
        .body(raw)
        .send()
        .await
        .expect("send");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_personal_address_is_watched_only_after_its_owner_confirms_by_post() {
    let s = service(HttpConfig::default()).await;
    let ana = s.login("ana@echo.example").await;
    let invited = s
        .send(
            "POST",
            "/api/v1/org/personal-invite",
            Auth::Browser(&ana),
            Some(json!({"email": "Ana.Perso@Mail.example"})),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let link = queued_link(&s, "ana.perso@mail.example").await;
    let token = token_of(&link);
    // Inviting again at once would only flood the address with messages.
    let twice = s
        .send(
            "POST",
            "/api/v1/org/personal-invite",
            Auth::Browser(&ana),
            Some(json!({"email": "ana.perso@mail.example"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.text);
    let viewer = s.login("vic@echo.example").await;
    let by_viewer = s
        .send(
            "POST",
            "/api/v1/org/personal-invite",
            Auth::Browser(&viewer),
            Some(json!({"email": "vic.perso@mail.example"})),
        )
        .await;
    assert_eq!(
        by_viewer.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_viewer.text
    );

    let listed = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_a), None)
        .await;
    assert_eq!(listed.body["pending"][0]["email"], "ana.perso@mail.example");
    assert_eq!(listed.body["confirmed"], json!([]));
    let other_org = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_b), None)
        .await;
    assert_eq!(other_org.body["pending"], json!([]), "{}", other_org.text);

    // Mail to it is not the organisation's business yet.
    let before = push_mail(&s, &s.key_a, "ana.perso@mail.example", "m0").await;
    assert_eq!(
        before["messages"][0]["disposition"], "not_enrolled",
        "{before}"
    );

    // Opening the link (as a mail scanner does) confirms nothing.
    let page = s
        .send(
            "GET",
            &format!("/personal/confirm?token={token}"),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("<form method=\"post\""), "{}", page.text);
    assert!(page.text.contains("Echo Clinic"));
    let policy = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let still = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_a), None)
        .await;
    assert_eq!(still.body["confirmed"], json!([]));

    let confirmed = s
        .form("/personal/confirm", None, &format!("token={token}"))
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert!(
        confirmed.text.contains("/personal/opt-out?token="),
        "{}",
        confirmed.text
    );
    let listed = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_a), None)
        .await;
    assert_eq!(
        listed.body["confirmed"][0]["email"],
        "ana.perso@mail.example"
    );
    assert_eq!(listed.body["pending"], json!([]));
    // A token confirms once.
    let reused = s
        .form("/personal/confirm", None, &format!("token={token}"))
        .await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND);
    let unknown = s
        .send("GET", "/personal/confirm?token=abc", Auth::None, None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Now mail to it is kept for the organisation, and for it only.
    let after = push_mail(&s, &s.key_a, "ana.perso@mail.example", "m1").await;
    assert_eq!(after["messages"][0]["disposition"], "stored", "{after}");
    let elsewhere = push_mail(&s, &s.key_b, "ana.perso@mail.example", "m2").await;
    assert_eq!(
        elsewhere["messages"][0]["disposition"], "not_enrolled",
        "{elsewhere}"
    );
}

#[tokio::test]
async fn an_expired_confirmation_link_is_gone() {
    let mut http = HttpConfig::default();
    http.accounts.personal_confirm_ttl = jiff::SignedDuration::from_millis(300);
    let s = service(http).await;
    let invited = s
        .send(
            "POST",
            "/api/v1/org/personal-invite",
            Auth::Key(&s.key_a),
            Some(json!({"email": "late@mail.example"})),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let token = token_of(&queued_link(&s, "late@mail.example").await);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let page = s
        .send(
            "GET",
            &format!("/personal/confirm?token={token}"),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.text);
    let post = s
        .form("/personal/confirm", None, &format!("token={token}"))
        .await;
    assert_eq!(post.status, StatusCode::GONE, "{}", post.text);
    let listed = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_a), None)
        .await;
    assert_eq!(listed.body["confirmed"], json!([]));
}

#[tokio::test]
async fn opting_out_deletes_the_address_and_its_events_and_nothing_else() {
    let s = service(HttpConfig::default()).await;
    let mut tokens = Vec::new();
    for email in ["pia@mail.example", "raj@mail.example"] {
        let invited = s
            .send(
                "POST",
                "/api/v1/org/personal-invite",
                Auth::Key(&s.key_a),
                Some(json!({"email": email})),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
        let token = token_of(&queued_link(&s, email).await);
        let confirmed = s
            .form("/personal/confirm", None, &format!("token={token}"))
            .await;
        assert_eq!(confirmed.status, StatusCode::OK);
        let start = confirmed
            .text
            .find("/personal/opt-out?token=")
            .expect("opt-out link");
        let opt_out: String = confirmed.text[start..]
            .chars()
            .take_while(|c| *c != '"' && *c != '<')
            .collect();
        tokens.push(token_of(&opt_out));
    }
    // Sign-ins of both addresses at A, and of pia's address at B.
    let line = |user: &str, id: &str| {
        format!(
            r#"{{"id":"{id}","createdDateTime":"2026-11-20T09:00:00Z","userPrincipalName":"{user}","ipAddress":"198.51.100.9","status":{{"errorCode":50126}},"clientAppUsed":"IMAP4"}}"#
        )
    };
    for (key, body) in [
        (
            &s.key_a,
            format!(
                "{}\n{}\n",
                line("Pia@mail.example", "a1"),
                line("raj@mail.example", "a2")
            ),
        ),
        (&s.key_b, line("pia@mail.example", "b1")),
    ] {
        let response = s
            .client
            .post(format!("{}/api/v1/signins", s.base))
            .bearer_auth(key)
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::OK);
    }
    push_mail(&s, &s.key_a, "pia@mail.example", "p1").await;
    push_mail(&s, &s.key_a, "raj@mail.example", "r1").await;
    push_mail(&s, &s.key_a, "pia@mail.example, raj@mail.example", "pr").await;
    let signins_a = "SELECT count(*) FROM signins WHERE org_id = ?";
    let mails_a = "SELECT count(*) FROM mails WHERE org_id = ?";
    assert_eq!(s.sql_count(signins_a, s.org_a).await, 2);
    assert_eq!(s.sql_count(mails_a, s.org_a).await, 3);
    let naming_pia = "SELECT count(*) FROM incidents WHERE org_id = ? AND accounts LIKE '%pia@%'";
    assert!(
        s.sql_count(naming_pia, s.org_a).await > 0,
        "the phishing incident names pia"
    );

    // The opt-out page only asks; the POST deletes.
    let page = s
        .send(
            "GET",
            &format!("/personal/opt-out?token={}", tokens[0]),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(s.sql_count(signins_a, s.org_a).await, 2);
    let done = s
        .form("/personal/opt-out", None, &format!("token={}", tokens[0]))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);

    assert_eq!(
        s.sql_count(signins_a, s.org_a).await,
        1,
        "raj's sign-in stays"
    );
    assert_eq!(
        s.sql_count(
            "SELECT count(*) FROM signins WHERE org_id = ? AND account = 'raj@mail.example'",
            s.org_a
        )
        .await,
        1
    );
    assert_eq!(
        s.sql_count(signins_a, s.org_b).await,
        1,
        "B's events are B's"
    );
    assert_eq!(
        s.sql_count(mails_a, s.org_a).await,
        2,
        "pia's own message is gone"
    );
    assert_eq!(
        s.sql_count(
            "SELECT count(*) FROM mails WHERE org_id = ? AND recipients LIKE '%pia@%'",
            s.org_a
        )
        .await,
        0,
        "the shared message keeps raj only"
    );
    let listed = s
        .send("GET", "/api/v1/org/personal", Auth::Key(&s.key_a), None)
        .await;
    let confirmed: Vec<&str> = listed.body["confirmed"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["email"].as_str())
        .collect();
    assert_eq!(confirmed, ["raj@mail.example"]);
    // The token works once.
    let again = s
        .form("/personal/opt-out", None, &format!("token={}", tokens[0]))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
