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
        (
            include_str!("../../testdata/entra_la/signinlogs-row-mfa.json"),
            "2024-05-06T09:02:07.5187325Z dana.lee@example.org success browser \
             ip=198.51.100.23 app=Office 365 Exchange Online code=0 \
             id=9d0c3a5f-7b2e-4d4c-8f30-8e6b7c5d4f01 country=DE asn=64500 \
             ua=Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 \
             auth=multi_factor",
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

#[test]
fn fixtures_carry_the_authentication_they_record() {
    use crate::test_support::check_authentication;
    use model::Authentication::MultiFactor;
    check_authentication(&[
        // Failures whose password was wrong say nothing about strength.
        (
            "row fixture, wrong password",
            include_str!("../../testdata/entra_la/signinlogs-row.json"),
            None,
        ),
        (
            "diagnostic fixture, refused source",
            include_str!("../../testdata/entra_la/diagnostic-noninteractive.json"),
            None,
        ),
        (
            "row fixture, password and push",
            include_str!("../../testdata/entra_la/signinlogs-row-mfa.json"),
            Some(MultiFactor),
        ),
    ]);
}

/// A successful `SigninLogs` row; `columns` are spliced in after the required ones.
fn row(columns: &str) -> String {
    format!(
        r#"{{"TimeGenerated":"2024-05-06T09:02:10.200Z","Category":"SignInLogs","Type":"SigninLogs","ResultType":"0","CreatedDateTime":"2024-05-06T09:02:07Z","UserPrincipalName":"dana.lee@example.org","IPAddress":"198.51.100.23","ClientAppUsed":"Browser","Status":"{{\"errorCode\":0}}"{columns}}}"#
    )
}

/// A diagnostic-settings record (`SignInLogs` category) with `properties` spliced in.
fn diagnostic(result: &str, properties: &str) -> String {
    format!(
        r#"{{"time":"2024-05-06T09:02:10.0000000Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"{result}","callerIpAddress":"198.51.100.23","properties":{{"id":"3e4f5a6b-0000-4000-8000-000000000009","createdDateTime":"2024-05-06T09:02:07Z","userPrincipalName":"dana.lee@example.org","ipAddress":"198.51.100.23","status":{{"errorCode":{result}}}{properties}}}}}"#
    )
}

/// `AuthenticationDetails` as Log Analytics holds it: the JSON array as text.
fn details_text(method: &str, succeeded: bool, result: &str) -> String {
    let array = format!(
        r#"[{{"authenticationStepDateTime":"2024-05-06T09:02:01Z","authenticationMethod":"Password","authenticationMethodDetail":"Password in the cloud","succeeded":true,"authenticationStepResultDetail":"Correct password"}},{{"authenticationStepDateTime":"2024-05-06T09:02:07Z","authenticationMethod":"{method}","succeeded":{succeeded},"authenticationStepResultDetail":"{result}"}}]"#
    );
    serde_json::Value::String(array).to_string()
}

#[test]
fn authentication_in_both_shapes() {
    use model::Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    let cases: Vec<(&str, String, Option<model::Authentication>)> = vec![
        (
            "row, password only",
            row(&format!(
                r#","AuthenticationRequirement":"singleFactorAuthentication","AuthenticationDetails":{}"#,
                serde_json::Value::String(
                    r#"[{"authenticationMethod":"Password","succeeded":true,"authenticationStepResultDetail":"Correct password"}]"#.into()
                )
            )),
            Some(SingleFactor),
        ),
        (
            "row, text message",
            row(&format!(
                r#","AuthenticationRequirement":"multiFactorAuthentication","AuthenticationDetails":{}"#,
                details_text("Text message", true, "MFA successfully completed")
            )),
            Some(MultiFactor),
        ),
        (
            "row, OATH code without the requirement column",
            row(&format!(
                r#","AuthenticationDetails":{}"#,
                details_text("OATH verification code", true, "MFA successfully completed")
            )),
            Some(MultiFactor),
        ),
        (
            "row, device-bound passkey",
            row(&format!(
                r#","AuthenticationRequirement":"multiFactorAuthentication","AuthenticationDetails":{}"#,
                details_text("Passkey (device-bound)", true, "methodSucceeded")
            )),
            Some(PhishingResistant),
        ),
        (
            "row, failed security key step",
            row(&format!(
                r#","AuthenticationRequirement":"singleFactorAuthentication","AuthenticationDetails":{}"#,
                details_text("FIDO2 security key", false, "Authentication failed")
            )),
            Some(SingleFactor),
        ),
        (
            "row, MfaDetail as an object",
            row(r#","MfaDetail":{"authMethod":"Text message","authDetail":"+X XXXXXXXX27"}"#),
            Some(MultiFactor),
        ),
        (
            "row, MfaDetail naming a security key",
            row(r#","MfaDetail":"{\"authMethod\":\"FIDO2 security key\"}""#),
            Some(PhishingResistant),
        ),
        // Text that is not JSON is ignored; the requirement still counts.
        (
            "row, broken details text",
            row(r#","AuthenticationRequirement":"singleFactorAuthentication","AuthenticationDetails":"[{broken""#),
            Some(SingleFactor),
        ),
        ("row, nothing recorded", row(""), None),
        (
            "diagnostic, Windows Hello for Business",
            diagnostic(
                "0",
                r#","authenticationRequirement":"singleFactorAuthentication","authenticationDetails":[{"authenticationStepDateTime":"2024-05-06T09:02:07Z","authenticationMethod":"Windows Hello for Business","succeeded":true,"authenticationStepResultDetail":"methodSucceeded"}]"#,
            ),
            Some(PhishingResistant),
        ),
        // The non-interactive shape: MFA carried over in the refresh token.
        (
            "diagnostic, MFA by claim, no method",
            diagnostic(
                "0",
                r#","authenticationDetails":[{"authenticationMethod":null,"authenticationMethodDetail":null,"authenticationStepDateTime":"2020-09-28T10:12:41.4104242Z","authenticationStepRequirement":"User","authenticationStepResultDetail":"MFA requirement satisfied by claim in the token","succeeded":true}]"#,
            ),
            Some(MultiFactor),
        ),
        (
            "diagnostic, X.509 certificate",
            diagnostic(
                "0",
                r#","authenticationRequirement":"multiFactorAuthentication","authenticationDetails":[{"authenticationMethod":"X.509 Certificate","succeeded":true,"authenticationStepResultDetail":"methodSucceeded"}]"#,
            ),
            Some(PhishingResistant),
        ),
        (
            "diagnostic, failed certificate",
            diagnostic(
                "50126",
                r#","authenticationRequirement":"singleFactorAuthentication","authenticationDetails":[{"authenticationMethod":"X.509 Certificate","succeeded":false,"authenticationStepResultDetail":"Other"}]"#,
            ),
            None,
        ),
        (
            "diagnostic, Conditional Access block after a push",
            diagnostic(
                "53003",
                r#","authenticationRequirement":"multiFactorAuthentication","authenticationDetails":[{"authenticationMethod":"Password","succeeded":true},{"authenticationMethod":"Mobile app notification","succeeded":true,"authenticationStepResultDetail":"MFA successfully completed"}]"#,
            ),
            Some(MultiFactor),
        ),
    ];
    crate::test_support::check_authentication(&cases);
}
