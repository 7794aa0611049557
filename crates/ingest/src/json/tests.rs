use crate::test_support::check_all;

#[test]
fn shapes_are_told_apart_by_their_fields() {
    check_all(&[
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{"errorCode":0}}"#,
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        (
            r#"{"eventType":"user.lifecycle.create"}"#,
            "other okta user.lifecycle.create",
        ),
        (
            r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"Send","Workload":"Exchange"}"#,
            "other o365_audit Send",
        ),
        (
            r#"{"id":{"applicationName":"token"},"name":"authorize"}"#,
            "other google_workspace token.authorize",
        ),
        (
            r#"{"category":"AuditLogs","properties":{}}"#,
            "other entra_log_analytics AuditLogs",
        ),
        (
            r#"{"a":1}"#,
            "error: JSON record is not a recognised sign-in format: expected a Microsoft Graph signIn with `createdDateTime` and `userPrincipalName`, an Azure Monitor or Log Analytics sign-in, an Office 365 audit record, an Okta System Log event or a Google Workspace activity",
        ),
    ]);
}

#[test]
fn times_and_addresses() {
    use super::{ip, time};
    assert_eq!(
        time("t", Some("2022-03-22 14:21:53.225")).map(|t| t.to_string()),
        Ok("2022-03-22T14:21:53.225Z".to_owned())
    );
    assert_eq!(
        time("t", Some("2022-12-12T15:57:57")).map(|t| t.to_string()),
        Ok("2022-12-12T15:57:57Z".to_owned())
    );
    assert_eq!(
        time("t", Some("2024-01-01T10:00:00+02:00")).map(|t| t.to_string()),
        Ok("2024-01-01T08:00:00Z".to_owned())
    );
    for (text, expected) in [
        ("203.0.113.9", "203.0.113.9"),
        ("203.0.113.9:443", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ] {
        assert_eq!(
            ip("f", Some(text)).map(|ip| ip.map(|i| i.to_string())),
            Ok(Some(expected.to_owned())),
            "{text}"
        );
    }
}
