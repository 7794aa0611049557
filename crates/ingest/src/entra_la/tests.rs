use crate::test_support::check_all;

#[test]
fn vendor_shaped_fixtures() {
    check_all(&[
        (
            include_str!("../../testdata/entra_la/signinlogs-row.json"),
            "2024-05-06T08:12:41.5187325Z dana.lee@example.org failure bad_password imap \
             ip=198.51.100.23 app=Office 365 Exchange Online code=50126 \
             reason=Error validating credentials due to invalid username or password. \
             id=8c9b2f4e-6a1d-4c3b-9e2f-7d5a6b4c3e00 country=DE asn=64500 \
             ua=python-requests/2.31.0",
        ),
        (
            include_str!("../../testdata/entra_la/diagnostic-noninteractive.json"),
            "2024-05-06T08:19:58.1234567Z dana.lee@example.org failure blocked_source \
             modern_client ip=203.0.113.66 app=Microsoft Authentication Broker code=50053 \
             reason=Sign-in was blocked because it came from an IP address with malicious \
             activity id=3e4f5a6b-0000-4000-8000-000000000002 country=NL asn=64501 \
             ua=Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        ),
    ]);
}

#[test]
fn awkward_records() {
    check_all(&[
        // The table shape with only the time it was generated and a bare result word.
        (
            r#"{"TimeGenerated":"2024-05-06T08:00:00Z","UserPrincipalName":"A@x.org","ResultType":"Failure"}"#,
            "2024-05-06T08:00:00Z a@x.org failure other unknown",
        ),
        // 50074: the password was right; Status as an object, Location code only.
        (
            r#"{"TimeGenerated":"2024-05-06T08:00:00Z","UserPrincipalName":"a@x.org","ResultType":"50074","Status":{"errorCode":50074},"Location":"us"}"#,
            "2024-05-06T08:00:00Z a@x.org failure mfa_required unknown code=50074 country=US",
        ),
        // Service principals are not user sign-ins.
        (
            r#"{"TimeGenerated":"2024-05-06T08:00:00Z","Type":"AADServicePrincipalSignInLogs","ResultType":"0","ServicePrincipalName":"app"}"#,
            "other entra_log_analytics AADServicePrincipalSignInLogs",
        ),
        (
            r#"{"time":"2025-01-15 14:20:35.456","category":"AuditLogs","operationName":"Add user","properties":{}}"#,
            "other entra_log_analytics AuditLogs",
        ),
        // Lower-cased keys, as some pipelines write them; time from the record.
        (
            r#"{"time":"2023-07-26 23:00:20.889","category":"SignInLogs","resulttype":"0","calleripaddress":"::ffff:192.0.2.1","properties":{"userprincipalname":"b@x.org"}}"#,
            "2023-07-26T23:00:20.889Z b@x.org success unknown ip=192.0.2.1 code=0",
        ),
    ]);
}

#[test]
fn errors_name_the_field() {
    check_all(&[
        (
            r#"{"time":"2025-01-15T00:00:00Z","category":"SignInLogs","properties":{"createdDateTime":"2025-01-15T00:00:00Z"}}"#,
            "error: field `properties.userPrincipalName`: missing",
        ),
        (
            r#"{"time":"2025-01-15T00:00:00Z","category":"SignInLogs","properties":{"userPrincipalName":"a@x.org"}}"#,
            "error: field `properties.status.errorCode`: missing, and no `resultType` either",
        ),
        (
            r#"{"TimeGenerated":"soon","UserPrincipalName":"a@x.org","ResultType":"0"}"#,
            "error: field `TimeGenerated`: \"soon\" is not a time (expected RFC 3339 or \
             `YYYY-MM-DD hh:mm:ss` in UTC)",
        ),
        (
            r#"{"TimeGenerated":"2025-01-15T00:00:00Z","UserPrincipalName":"a@x.org","ResultType":"0","IPAddress":"300.1.1.1"}"#,
            "error: field `ipAddress`: \"300.1.1.1\" is not an IP address",
        ),
    ]);
}
