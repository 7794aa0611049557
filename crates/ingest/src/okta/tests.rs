use super::*;
use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixture() {
    check_all(&[(
        include_str!("../../testdata/okta/session-start-failure.json"),
        "2024-05-06T10:11:12.345Z dana.lee@example.org failure bad_password unknown \
         ip=198.51.100.77 code=FAILURE reason=INVALID_CREDENTIALS \
         id=f3b1c7a0-0b9e-11ef-9a3e-2b5c1d7e8f90 country=Portugal asn=64502 \
         ua=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    )]);
}

fn event(event_type: &str, result: &str, reason: &str) -> String {
    format!(
        r#"{{"eventType":"{event_type}","published":"2022-03-22 14:21:53.225","actor":{{"alternateId":"A@x.org"}},"client":{{"ipAddress":"203.0.113.9"}},"outcome":{{"result":"{result}","reason":"{reason}"}}}}"#
    )
}

#[test]
fn event_types_and_outcomes() {
    let cases = [
        (event("user.session.start", "SUCCESS", ""), "success"),
        (
            event("user.session.start", "FAILURE", "INVALID_CREDENTIALS"),
            "failure bad_password",
        ),
        (
            event("user.session.start", "FAILURE", "VERIFICATION_ERROR"),
            "failure mfa_failed",
        ),
        (
            event("user.session.start", "FAILURE", "LOCKED_OUT"),
            "failure locked",
        ),
        (
            event("user.session.start", "FAILURE", "User not found"),
            "failure unknown_account",
        ),
        (
            event("user.session.start", "FAILURE", "UNKNOWN_USER"),
            "failure unknown_account",
        ),
        (
            event(
                "user.authentication.verify",
                "FAILURE",
                "INVALID_CREDENTIALS",
            ),
            "failure bad_password",
        ),
        (
            event(
                "user.authentication.auth_via_mfa",
                "FAILURE",
                "INVALID_CREDENTIALS",
            ),
            "failure mfa_failed",
        ),
        (
            event("user.mfa.okta_verify.deny_push", "FAILURE", ""),
            "failure mfa_failed",
        ),
        (
            event(
                "policy.evaluate_sign_on",
                "CHALLENGE",
                "Sign-on policy evaluation resulted in CHALLENGE",
            ),
            "failure mfa_required",
        ),
        (
            event(
                "policy.evaluate_sign_on",
                "DENY",
                "Sign-on policy evaluation resulted in DENY",
            ),
            "failure blocked_by_policy",
        ),
        (
            event("user.session.start", "DENY", "Network Zone Blacklist"),
            "failure blocked_source",
        ),
        (
            event("user.account.lock", "FAILURE", "LOCKED_OUT"),
            "failure locked",
        ),
    ];
    for (input, expected) in cases {
        let rendered = crate::test_support::parse_rendered(&input);
        let head = format!("2022-03-22T14:21:53.225Z a@x.org {expected} unknown ip=203.0.113.9");
        assert!(
            rendered.starts_with(&head),
            "{input}\n  got {rendered}\n  want {head}…"
        );
    }
    check_all(&[
        (
            &event("policy.evaluate_sign_on", "ALLOW", ""),
            "other okta policy.evaluate_sign_on",
        ),
        (
            &event("user.mfa.factor.activate", "SUCCESS", ""),
            "other okta user.mfa.factor.activate",
        ),
        (
            &event("user.account.reset_password", "SUCCESS", ""),
            "other okta user.account.reset_password",
        ),
        (
            &event("user.session.start", "SKIPPED", ""),
            "error: field `outcome.result`: \"SKIPPED\" is not SUCCESS, ALLOW, FAILURE, DENY or CHALLENGE",
        ),
    ]);
}

#[test]
fn reasons_map_to_failure_kinds() {
    assert_eq!(
        failure_kind(Some("INVALID_CREDENTIALS")),
        FailureKind::BadPassword
    );
    assert_eq!(failure_kind(Some("something else")), FailureKind::Other);
    assert_eq!(failure_kind(None), FailureKind::Other);
}
