//! The connector endpoints through the router: an organisation sets up its own pull
//! connectors, never sees another's, and never gets a credential back; credentials are
//! sealed at rest.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use tocsin_server::{AppState, router};

mod common;

struct Fixture {
    dir: tempfile::TempDir,
    state: AppState,
    echo: String,
    other: String,
    operator: String,
    echo_id: i64,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store::Store::open_for_tests(dir.path())
        .await
        .expect("store");
    let mut keys = Vec::new();
    for name in ["Echo Clinic", "Foxtrot Vaccines"] {
        let (org, key) = store
            .create_organisation(&store::NewOrganisation {
                name: name.into(),
                sector: model::Sector::Clinic,
                country: "FR".into(),
                domains: Vec::new(),
                webhook_url: None,
                language: store::Language::En,
            })
            .await
            .expect("org");
        keys.push((org.id.0, key));
    }
    let operator = store
        .create_api_key(store::Principal::Operator)
        .await
        .expect("operator key");
    let mut state = common::state(store, Default::default()).await;
    state.connectors.allow_http = false;
    let (echo_id, echo) = keys.remove(0);
    let (_, other) = keys.remove(0);
    Fixture {
        dir,
        state,
        echo,
        other,
        operator,
        echo_id,
    }
}

async fn send(
    f: &Fixture,
    method: &str,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        }))
        .expect("request");
    let response = router(f.state.clone())
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
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

const SECRET: &str = "Qf~8Q~client.secret-value_0123456789";

fn graph() -> Value {
    json!({
        "kind": "graph",
        "tenant_id": "9b1c3f6e-2f4d-4c8a-9e7b-0a1b2c3d4e5f",
        "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "secret": SECRET,
    })
}

#[tokio::test]
async fn an_organisation_sets_up_reads_and_deletes_its_own_connectors_and_never_gets_the_secret_back()
 {
    let f = fixture().await;
    let (status, created) = send(&f, "PUT", "/api/v1/org/connectors/entra", &f.echo, graph()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "entra");
    assert_eq!(created["kind"], "graph");
    assert_eq!(
        created["settings"]["tenant_id"],
        "9b1c3f6e-2f4d-4c8a-9e7b-0a1b2c3d4e5f"
    );
    assert_eq!(created["settings"]["non_interactive"], true);
    assert_eq!(created["status"]["state"], "starting");
    assert_eq!(created["status"]["events_today"], 0);
    assert!(created["status"]["last_error"].is_null());

    // Changing a setting without the secret keeps the secret.
    let mut changed = graph();
    changed.as_object_mut().expect("object").remove("secret");
    changed["non_interactive"] = json!(false);
    let (status, updated) = send(&f, "PUT", "/api/v1/org/connectors/entra", &f.echo, changed).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["settings"]["non_interactive"], false);
    let org = store::OrgId(f.echo_id);
    let secret = f
        .state
        .intake
        .store()
        .connector_secret(org, "entra", &f.state.connectors.key)
        .await
        .expect("read secret");
    assert_eq!(secret.as_deref(), Some(SECRET));

    let (status, list) = send(&f, "GET", "/api/v1/org/connectors", &f.echo, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["connectors"].as_array().map(Vec::len), Some(1));
    let (status, one) = send(
        &f,
        "GET",
        "/api/v1/org/connectors/entra",
        &f.echo,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for answer in [&created, &updated, &list, &one] {
        assert!(
            !answer.to_string().contains(SECRET),
            "the secret came back: {answer}"
        );
        assert!(!answer.to_string().contains("secret\""), "{answer}");
    }

    // Another organisation sees nothing of it, and cannot touch it.
    let (status, theirs) = send(&f, "GET", "/api/v1/org/connectors", &f.other, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["connectors"], json!([]));
    let (status, _) = send(
        &f,
        "GET",
        "/api/v1/org/connectors/entra",
        &f.other,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &f,
        "DELETE",
        "/api/v1/org/connectors/entra",
        &f.other,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The operator reads any organisation's connector status; an organisation cannot.
    let path = format!("/api/v1/orgs/{}/connectors", f.echo_id);
    let (status, seen) = send(&f, "GET", &path, &f.operator, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["connectors"][0]["name"], "entra");
    let (status, _) = send(&f, "GET", &path, &f.other, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Sealed at rest: the secret appears in no file of the data directory.
    for entry in std::fs::read_dir(f.dir.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "{} holds the secret in clear",
                path.display()
            );
        }
    }

    let (status, _) = send(
        &f,
        "DELETE",
        "/api/v1/org/connectors/entra",
        &f.echo,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = send(&f, "GET", "/api/v1/org/connectors", &f.echo, Value::Null).await;
    assert_eq!(list["connectors"], json!([]));
}

#[tokio::test]
async fn bad_connector_settings_are_refused_with_the_reason() {
    let f = fixture().await;
    let cases = [
        (
            json!({ "kind": "graph", "tenant_id": "a b", "client_id": "x", "secret": "s" }),
            "tenant_id",
        ),
        (
            json!({ "kind": "graph", "tenant_id": "t", "client_id": "c" }),
            "secret",
        ),
        (
            json!({ "kind": "graph", "tenant_id": "t", "client_id": "c", "secret": "s", "graph_base": "http://graph.example/beta" }),
            "https://",
        ),
        (
            json!({ "kind": "okta", "org_url": "https://echo.okta.com/api/v1/logs", "secret": "t" }),
            "Okta domain alone",
        ),
        (
            json!({ "kind": "okta", "org_url": "https://echo.okta.com", "secret": "has space" }),
            "without spaces",
        ),
        (
            json!({ "kind": "google", "delegated_admin": "not-an-address", "secret": "{}" }),
            "delegated_admin",
        ),
        (
            json!({ "kind": "google", "delegated_admin": "admin@echo.example", "secret": { "type": "service_account", "client_email": "a@b", "private_key": "nope" } }),
            "PEM",
        ),
        (
            json!({ "kind": "splunk", "secret": "s" }),
            "unknown variant",
        ),
        (
            json!({ "kind": "okta", "org_url": "https://echo.okta.com", "secret": 5 }),
            "secret must be",
        ),
        (
            json!({ "kind": "okta", "org_url": "https://echo.okta.com", "orgurl": "typo", "secret": "t" }),
            "unknown field",
        ),
    ];
    for (body, reason) in cases {
        let (status, answer) = send(
            &f,
            "PUT",
            "/api/v1/org/connectors/c1",
            &f.echo,
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert!(
            answer.to_string().contains(reason),
            "{body}: {answer} does not say {reason:?}"
        );
    }
    let (status, _) = send(
        &f,
        "PUT",
        "/api/v1/org/connectors/bad%20name",
        &f.echo,
        graph(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = send(&f, "GET", "/api/v1/org/connectors", &f.echo, Value::Null).await;
    assert_eq!(list["connectors"], json!([]), "nothing refused was stored");
}
