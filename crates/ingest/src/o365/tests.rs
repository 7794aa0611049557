use super::*;
use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixture() {
    check_all(&[(
        include_str!("../../testdata/o365/userloginfailed.json"),
        "2024-05-06T09:01:02Z dana.lee@example.org failure bad_password other_client \
         ip=2001:db8:10::5 app=00000002-0000-0ff1-ce00-000000000000 code=50126 \
         reason=InvalidUserNameOrPassword id=d1c0a9b8-7f6e-4d5c-8b4a-3f2e1d0c9b8a ua=BAV2ROPC",
    )]);
}

#[test]
fn awkward_records() {
    check_all(&[
        // A port on an IPv4 client address; no ErrorNumber, so the LogonError name.
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoginFailed","RecordType":15,"UserId":"a@x.org","ClientIP":"203.0.113.9:10736","LogonError":"UserStrongAuthClientAuthNRequiredInterrupt","ExtendedProperties":[{"Name":"RequestType","Value":"Login:login"}]}"#,
            "2024-05-06T09:01:02Z a@x.org failure mfa_required browser ip=203.0.113.9 \
             reason=UserStrongAuthClientAuthNRequiredInterrupt",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoginFailed","RecordType":15,"UserId":"a@x.org","ClientIP":"::ffff:203.0.113.9","LogonError":"IdsLocked"}"#,
            "2024-05-06T09:01:02Z a@x.org failure locked unknown ip=203.0.113.9 reason=IdsLocked",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoggedIn","RecordType":15,"UserId":"a@x.org","ClientIP":"2001:db8::1","ErrorNumber":"0","ExtendedProperties":[{"Name":"RequestType","Value":"OAuth2:Token"}]}"#,
            "2024-05-06T09:01:02Z a@x.org success modern_client ip=2001:db8::1 code=0",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"MailItemsAccessed","RecordType":50,"Workload":"Exchange","UserId":"a@x.org"}"#,
            "other o365_audit MailItemsAccessed",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoggedIn","RecordType":15,"UserId":"a@x.org","ClientIP":"somewhere"}"#,
            "error: field `ClientIP`: \"somewhere\" is not an IP address",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoggedIn","RecordType":15}"#,
            "error: field `UserId`: missing",
        ),
    ]);
}

#[test]
fn logon_errors_map_to_failure_kinds() {
    let cases = [
        ("InvalidUserNameOrPassword", "bad_password"),
        ("UserAccountNotFound", "unknown_account"),
        ("IdsLocked", "locked"),
        ("UserDisabled", "disabled"),
        ("InvalidPasswordExpiredPassword", "expired_password"),
        ("UserStrongAuthClientAuthNRequired", "mfa_required"),
        ("UserStrongAuthEnrollmentRequiredInterrupt", "mfa_required"),
        ("BlockedByConditionalAccess", "blocked_by_policy"),
        ("SomethingNew", "other"),
    ];
    for (name, expected) in cases {
        assert_eq!(logon_error_kind(Some(name)).as_str(), expected, "{name}");
    }
}

#[test]
fn authentication_is_never_claimed() {
    use crate::test_support::check_authentication;
    check_authentication(&[
        (
            "fixture",
            include_str!("../../testdata/o365/userloginfailed.json").to_owned(),
            None,
        ),
        // UserAuthenticationMethod is an undocumented number: not a reading.
        (
            "successful sign-in with UserAuthenticationMethod",
            r#"{"CreationTime":"2024-05-06T09:01:02","Id":"77bf08c6-5bb9-41d1-a394-03f181d7250a","Operation":"UserLoggedIn","RecordType":15,"ResultStatus":"Succeeded","UserId":"a@x.org","ClientIP":"203.0.113.9","Workload":"AzureActiveDirectory","ExtendedProperties":[{"Name":"UserAgent","Value":"Mozilla/5.0"},{"Name":"UserAuthenticationMethod","Value":"65"},{"Name":"RequestType","Value":"WsFederation:wsfederation"},{"Name":"ResultStatusDetail","Value":"Success"}]}"#.to_owned(),
            None,
        ),
    ]);
}
