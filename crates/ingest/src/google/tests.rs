use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixture() {
    check_all(&[(
        include_str!("../../testdata/google/login-failure-activity.json"),
        "2024-05-06T11:22:33.444Z dana.lee@example.org failure bad_password browser \
         ip=2001:db8:20::9 code=login_failure_invalid_password \
         reason=login_failure_invalid_password \
         id=2024-05-06T11:22:33.444Z/-4235629102456789012 country=FR asn=64503",
    )]);
}

fn activity(events: &str) -> String {
    format!(
        r#"{{"kind":"admin#reports#activity","id":{{"time":"2024-05-06T11:22:33Z","uniqueQualifier":"7","applicationName":"login"}},"actor":{{"email":"a@x.org"}},"ipAddress":"203.0.113.9","events":[{events}]}}"#
    )
}

#[test]
fn login_events() {
    let success =
        r#"{"name":"login_success","parameters":[{"name":"login_type","value":"exchange"}]}"#;
    let challenge_failed = r#"{"name":"login_challenge","parameters":[{"name":"login_challenge_method","multiValue":["google_authenticator"]},{"name":"login_challenge_status","value":"Challenge Failed."}]}"#;
    let challenge_passed = r#"{"name":"login_challenge","parameters":[{"name":"login_challenge_method","multiValue":["google_authenticator"]},{"name":"login_challenge_status","value":"Challenge Passed."}]}"#;
    let suspicious = r#"{"name":"suspicious_login","parameters":[{"name":"affected_email_address","value":"a@x.org"}]}"#;
    let warning = r#"{"name":"gov_attack_warning"}"#;
    let second_factor = r#"{"name":"login_failure","parameters":[{"name":"login_failure_type","value":"login_failure_invalid_second_factor"}]}"#;
    let id = "id=2024-05-06T11:22:33Z/7";
    check_all(&[
        (
            &activity(success),
            &format!(
                "2024-05-06T11:22:33Z a@x.org success exchange_active_sync ip=203.0.113.9 {id}"
            ),
        ),
        (
            &activity(challenge_failed),
            &format!(
                "2024-05-06T11:22:33Z a@x.org failure mfa_failed unknown ip=203.0.113.9 code=Challenge Failed. reason=Challenge Failed. {id}"
            ),
        ),
        (
            &activity(second_factor),
            &format!(
                "2024-05-06T11:22:33Z a@x.org failure mfa_failed unknown ip=203.0.113.9 code=login_failure_invalid_second_factor reason=login_failure_invalid_second_factor {id}"
            ),
        ),
        // A sign-in and a signal in one activity: the sign-in is returned.
        (
            &activity(&format!("{suspicious},{success}")),
            &format!(
                "2024-05-06T11:22:33Z a@x.org success exchange_active_sync ip=203.0.113.9 {id}"
            ),
        ),
        (
            &activity(challenge_passed),
            "other google_workspace login.login_challenge",
        ),
        (
            &activity(suspicious),
            "other google_workspace login.suspicious_login",
        ),
        (
            &activity(warning),
            "other google_workspace login.gov_attack_warning",
        ),
        (
            &activity(""),
            "error: field `events`: no event names; expected `events[].name` or a top-level `name`",
        ),
        (
            r#"{"kind":"admin#reports#activity","id":{"time":"2024-05-06T11:22:33Z","applicationName":"drive"},"events":[{"name":"download"}]}"#,
            "other google_workspace drive.download",
        ),
    ]);
}
