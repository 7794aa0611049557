use super::*;
use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixture() {
    check_all(&[
        (
            include_str!("../../testdata/okta/session-start-failure.json"),
            "2024-05-06T10:11:12.345Z dana.lee@example.org failure bad_password unknown \
             ip=198.51.100.77 code=FAILURE reason=INVALID_CREDENTIALS \
             id=f3b1c7a0-0b9e-11ef-9a3e-2b5c1d7e8f90 country=Portugal asn=64502 \
             ua=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        ),
        (
            include_str!("../../testdata/okta/auth-via-mfa-fastpass.json"),
            "2024-05-06T10:15:02.822Z dana.lee@example.org success unknown \
             ip=198.51.100.77 code=SUCCESS id=01604420-6881-11ee-8754-050a89ee763e \
             country=Portugal asn=64502 \
             ua=OktaVerify/4.4.1.0 WPFDeviceSDK/1.7.4.17 Windows/10.0.19045.3570 \
             auth=phishing_resistant",
        ),
    ]);
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

/// A successful `event_type` event naming `factor` in `debugData`, with the
/// `AuthenticatorEnrollment` target's `detailEntry` when given.
fn factor_event(event_type: &str, result: &str, factor: &str, enrollment: &str) -> String {
    let target = if enrollment.is_empty() {
        "null".to_owned()
    } else {
        format!(
            r#"[{{"id":"00u1qw1mqitPHM8AJ0g7","type":"User","alternateId":"dana.lee@example.org","displayName":"Dana Lee","detailEntry":null}},{{"id":"pfdu7dgy1fUuaFlNA357","type":"AuthenticatorEnrollment","alternateId":"unknown","displayName":"Okta Verify","detailEntry":{enrollment}}}]"#
        )
    };
    format!(
        r#"{{"actor":{{"id":"00u1qw1mqitPHM8AJ0g7","type":"User","alternateId":"dana.lee@example.org","displayName":"Dana Lee"}},
        "client":{{"ipAddress":"198.51.100.77","device":"Computer","zone":"null"}},
        "authenticationContext":{{"authenticationProvider":"FACTOR_PROVIDER","credentialProvider":"OKTA_CREDENTIAL_PROVIDER","credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":"idxvF50v_5sT2-GOA7_K0Amyw"}},
        "displayMessage":"Authentication of user via MFA","eventType":"{event_type}",
        "outcome":{{"result":"{result}","reason":null}},"published":"2024-05-06T10:15:02.822Z",
        "debugContext":{{"debugData":{{"factor":"{factor}","factorIntent":"AUTHENTICATION","requestUri":"/idp/idx/authenticators/poll"}}}},
        "uuid":"01604420-6881-11ee-8754-050a89ee763e","version":"0","target":{target}}}"#
    )
}

/// A `user.authentication.verify` event with no factor, only `credentialType`.
fn credential_event(credential_type: &str) -> String {
    format!(
        r#"{{"actor":{{"alternateId":"dana.lee@example.org"}},"client":{{"ipAddress":"198.51.100.77"}},
        "authenticationContext":{{"authenticationProvider":"OKTA_AUTHENTICATION_PROVIDER","credentialType":"{credential_type}","authenticationStep":0}},
        "displayMessage":"Verify user identity","eventType":"user.authentication.verify",
        "outcome":{{"result":"SUCCESS"}},"published":"2024-05-06T10:15:02.822Z","debugContext":{{"debugData":{{}}}}}}"#
    )
}

const MFA: &str = "user.authentication.auth_via_mfa";
const VERIFY: &str = "user.authentication.verify";

#[test]
fn authentication_from_the_factor() {
    use crate::test_support::check_authentication;
    use model::Authentication::{MultiFactor, PhishingResistant};
    let fastpass_verified = r#"{"methodTypeUsed":"Use Okta FastPass","methodUsedVerifiedProperties":"[DEVICE_BOUND, PHISHING_RESISTANT]"}"#;
    let fastpass_unverified = r#"{"methodTypeUsed":"Use Okta FastPass","methodUsedVerifiedProperties":"[DEVICE_BOUND, USER_PRESENCE]"}"#;
    check_authentication(&[
        (
            "FastPass fixture",
            include_str!("../../testdata/okta/auth-via-mfa-fastpass.json").to_owned(),
            Some(PhishingResistant),
        ),
        (
            "the older fixture is a failed session start",
            include_str!("../../testdata/okta/session-start-failure.json").to_owned(),
            None,
        ),
        (
            "Okta Verify push",
            factor_event(MFA, "SUCCESS", "OKTA_VERIFY_PUSH", ""),
            Some(MultiFactor),
        ),
        (
            "security key or biometric",
            factor_event(MFA, "SUCCESS", "FIDO_WEBAUTHN", ""),
            Some(PhishingResistant),
        ),
        (
            "U2F security key",
            factor_event(MFA, "SUCCESS", "FIDO_U2F", ""),
            Some(PhishingResistant),
        ),
        (
            "Google Authenticator",
            factor_event(MFA, "SUCCESS", "GOOGLE_OTP", ""),
            Some(MultiFactor),
        ),
        (
            "SMS",
            factor_event(MFA, "SUCCESS", "OKTA_SMS", ""),
            Some(MultiFactor),
        ),
        (
            "voice call",
            factor_event(MFA, "SUCCESS", "OKTA_CALL", ""),
            Some(MultiFactor),
        ),
        (
            "FastPass that Okta verified phishing-resistant",
            factor_event(MFA, "SUCCESS", "SIGNED_NONCE", fastpass_verified),
            Some(PhishingResistant),
        ),
        (
            "FastPass without the phishing-resistant property",
            factor_event(MFA, "SUCCESS", "SIGNED_NONCE", fastpass_unverified),
            Some(MultiFactor),
        ),
        (
            "FastPass with no enrollment detail",
            factor_event(MFA, "SUCCESS", "SIGNED_NONCE", ""),
            Some(MultiFactor),
        ),
        (
            "verified properties as an array",
            factor_event(
                VERIFY,
                "SUCCESS",
                "SIGNED_NONCE",
                r#"{"methodUsedVerifiedProperties":["DEVICE_BOUND","PHISHING_RESISTANT"]}"#,
            ),
            Some(PhishingResistant),
        ),
        (
            "verify event naming a push",
            factor_event(VERIFY, "SUCCESS", "OKTA_VERIFY_PUSH", ""),
            Some(MultiFactor),
        ),
        // One step of a sign-in; whether a second factor followed is another event.
        (
            "password as a factor",
            factor_event(MFA, "SUCCESS", "PASSWORD_AS_FACTOR", ""),
            None,
        ),
        (
            "security question",
            factor_event(MFA, "SUCCESS", "OKTA_QUESTION", ""),
            None,
        ),
        (
            "unknown factor",
            factor_event(MFA, "SUCCESS", "SOMETHING_NEW", ""),
            None,
        ),
        (
            "failed push",
            factor_event(MFA, "FAILURE", "OKTA_VERIFY_PUSH", ""),
            None,
        ),
        (
            "FastPass declined a phishing attempt",
            factor_event(MFA, "FAILURE", "SIGNED_NONCE", fastpass_verified),
            None,
        ),
        (
            "a session start says nothing about factors",
            event("user.session.start", "SUCCESS", ""),
            None,
        ),
        // Other event types never read the factor, even when one is present.
        (
            "SSO event with a factor in its debug data",
            factor_event("user.authentication.sso", "SUCCESS", "FIDO_WEBAUTHN", ""),
            None,
        ),
        (
            "credential type SMS",
            credential_event("SMS"),
            Some(MultiFactor),
        ),
        (
            "credential type OTP",
            credential_event("OTP"),
            Some(MultiFactor),
        ),
        (
            "credential type certificate",
            credential_event("CERTIFICATE"),
            Some(PhishingResistant),
        ),
        (
            "credential type password",
            credential_event("PASSWORD"),
            None,
        ),
    ]);
}
