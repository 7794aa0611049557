use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixture() {
    check_all(&[
        (
            include_str!("../../testdata/google/login-failure-activity.json"),
            "2024-05-06T11:22:33.444Z dana.lee@example.org failure bad_password browser \
             ip=2001:db8:20::9 code=login_failure_invalid_password \
             reason=login_failure_invalid_password \
             id=2024-05-06T11:22:33.444Z/-4235629102456789012 country=FR asn=64503",
        ),
        (
            include_str!("../../testdata/google/login-success-activity.json"),
            "2024-05-06T11:40:02.12Z dana.lee@example.org success browser \
             ip=2001:db8:20::9 id=2024-05-06T11:40:02.120Z/-5891370023456789013 country=FR \
             asn=64503 auth=multi_factor",
        ),
    ]);
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

/// A `login_success` activity in the API's shape with `parameters` (the API's list).
fn success(parameters: &str) -> String {
    activity(&format!(
        r#"{{"type":"login","name":"login_success","parameters":[{parameters}]}}"#
    ))
}

fn methods(list: &[&str]) -> String {
    let list: Vec<String> = list.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        r#"{{"name":"login_type","value":"google_password"}},{{"name":"login_challenge_method","multiValue":[{}]}},{{"name":"is_suspicious","boolValue":false}}"#,
        list.join(",")
    )
}

#[test]
fn authentication_from_the_challenges() {
    use crate::test_support::check_authentication;
    use model::Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    check_authentication(&[
        (
            "success fixture: password and authenticator",
            include_str!("../../testdata/google/login-success-activity.json").to_owned(),
            Some(MultiFactor),
        ),
        (
            "failure fixture",
            include_str!("../../testdata/google/login-failure-activity.json").to_owned(),
            None,
        ),
        ("password", success(&methods(&["password"])), Some(SingleFactor)),
        (
            "password and phone code",
            success(&methods(&["password", "idv_preregistered_phone"])),
            Some(MultiFactor),
        ),
        (
            "password and Google prompt",
            success(&methods(&["password", "google_prompt"])),
            Some(MultiFactor),
        ),
        (
            "password and backup code",
            success(&methods(&["password", "backup_code"])),
            Some(MultiFactor),
        ),
        (
            "internal two factor",
            success(&methods(&["password", "internal_two_factor"])),
            Some(MultiFactor),
        ),
        (
            "password and security key",
            success(&methods(&["password", "security_key"])),
            Some(PhishingResistant),
        ),
        ("passkey", success(&methods(&["passkey"])), Some(PhishingResistant)),
        (
            "passkey login type",
            success(r#"{"name":"login_type","value":"passkey"},{"name":"login_challenge_method","multiValue":["none"]}"#),
            Some(PhishingResistant),
        ),
        // An unknown extra challenge: the password is all the record proves.
        (
            "password and an unknown challenge",
            success(&methods(&["password", "something_new"])),
            Some(SingleFactor),
        ),
        // Identity checks are not factors.
        (
            "location check only",
            success(&methods(&["login_location"])),
            None,
        ),
        (
            "SAML sign-in, Google did not challenge",
            success(r#"{"name":"login_type","value":"saml"},{"name":"login_challenge_method","multiValue":["none"]}"#),
            None,
        ),
        ("no parameters", success(""), None),
        (
            "is_second_factor",
            success(&format!(
                r#"{},{{"name":"is_second_factor","boolValue":true}}"#,
                methods(&["password"])
            )),
            Some(MultiFactor),
        ),
        // The flattened export: parameters as an object, the method as one string.
        (
            "flattened export",
            r#"{"id":{"time":"2024-05-06T11:22:33Z","applicationName":"login"},"actor":{"email":"a@x.org"},"ipAddress":"203.0.113.9","name":"login_success","parameters":{"login_type":"google_password","login_challenge_method":"security_key","is_second_factor":false}}"#.to_owned(),
            Some(PhishingResistant),
        ),
        (
            "failed second factor",
            activity(r#"{"name":"login_failure","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_challenge_method","multiValue":["password","google_authenticator"]},{"name":"login_failure_type","value":"login_failure_invalid_second_factor"}]}"#),
            None,
        ),
    ]);
}
